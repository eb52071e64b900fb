"""Helpers for the distribution tests: running Python against an installed wheel."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout."""


@dataclasses.dataclass(frozen=True)
class Built:
    """The wheel and sdist built from the checkout."""

    wheel: Path
    sdist: Path


def run_python(
    site: Path,
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` with ``site`` (an installed wheel) first on the path.

    Raises ``AssertionError`` with the output if ``check`` and the exit status is not 0.

    ``PYTHONPATH`` holds only ``site``, so the package and its entry points come from there;
    the working directory (first on the path of ``python -c``) is ``site`` unless given.
    """
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "HYPOTHESIS_NO_PLUGINS", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")
    }
    environment.update(env or {})
    environment["PYTHONPATH"] = str(site)
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=site if cwd is None else cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"python {' '.join(args)[:200]} exited {completed.returncode}:\n"
            f"{completed.stdout[-2000:]}{completed.stderr[-4000:]}"
        )
    return completed
