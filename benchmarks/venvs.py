"""Clean virtual environments for benchmarks that must see what a user's install sees.

:func:`build_wheel` builds the package's wheel from this checkout; :func:`create` makes a venv
with ``python -m venv`` (no system site-packages) and installs requirements into it with its own
pip, from the package indexes pip is configured with.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import log

ROOT = Path(__file__).resolve().parents[1]
"""The checkout the wheel is built from."""

_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".venv",
)


class SetupError(RuntimeError):
    """A venv could not be made or a package could not be built or installed."""


ISOLATING = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "VIRTUAL_ENV",
)
"""Variables that would change how Python or pytest runs in a venv (a ``PYTHONPATH`` pointing at
the checkout would put the package in the baseline venv too)."""


def clean_environment(**extra: str) -> dict[str, str]:
    """The parent's environment without :data:`ISOLATING`, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in ISOLATING}
    env.update(extra)
    return env


def _run(command: Sequence[str], *, cwd: Path | None = None) -> str:
    completed = subprocess.run(
        list(command),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=clean_environment(),
    )
    if completed.returncode != 0:
        raise SetupError(
            f"{' '.join(command)} failed (exit {completed.returncode}):\n"
            f"{(completed.stdout + completed.stderr)[-3000:]}"
        )
    return completed.stdout


def copy_checkout(directory: Path) -> Path:
    """Copy the checkout, without caches and build output, to ``directory / "source"``.

    Building from a copy leaves the checkout without ``build/`` or ``*.egg-info``, and lets
    several builds run at once.
    """
    source = directory / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_COPIED)
    return source


def build_wheel(directory: Path) -> Path:
    """Build the package's wheel from a copy of the checkout into ``directory``; its path.

    Without build isolation when setuptools and wheel are importable here (no network needed),
    with it otherwise. Raises :class:`SetupError` if the build fails.
    """
    source = copy_checkout(directory)
    out = directory / "wheel"
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out)]
    if importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel"):
        command.append("--no-build-isolation")
    _run([*command, str(source)])
    [wheel] = out.glob("*.whl")
    return wheel


@dataclasses.dataclass(frozen=True)
class Venv:
    """A virtual environment made by :func:`create`."""

    path: Path

    @property
    def python(self) -> Path:
        """Its interpreter."""
        return self.path / "bin" / "python"

    def pip(self, *args: str) -> str:
        """Run its pip; returns the output. Raises :class:`SetupError` on failure."""
        return _run([str(self.python), "-m", "pip", "--disable-pip-version-check", *args])

    def site_packages(self) -> Path:
        """Its ``purelib`` directory."""
        code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        return Path(_run([str(self.python), "-c", code]).strip())

    def freeze(self) -> list[str]:
        """``pip freeze``: every installed distribution as ``name==version``."""
        return [line for line in self.pip("freeze", "--all").splitlines() if line]

    def pytest_plugins(self) -> list[str]:
        """The ``pytest11`` entry points installed in it: ``name = value`` (the plugins that
        load in every pytest run)."""
        code = (
            "import importlib.metadata as m, json; print(json.dumps(sorted("
            "f'{e.name} = {e.value}' for e in m.entry_points(group='pytest11'))))"
        )
        # From the venv's own directory: a checkout in the working directory would be listed.
        listed: list[str] = json.loads(_run([str(self.python), "-c", code], cwd=self.path))
        return listed


def create(path: Path, *requirements: str, constraints: Path | None = None) -> Venv:
    """Make a clean venv at ``path`` and ``pip install`` ``requirements`` into it.

    ``constraints`` (a ``pip freeze`` file) pins the versions pip may pick. Raises
    :class:`SetupError` if the venv cannot be made or the install fails (no index reachable).
    """
    log(f"  creating {path.name}: {' '.join(Path(r).name for r in requirements)}")
    _run([sys.executable, "-m", "venv", str(path)])
    venv = Venv(path)
    args = ["install", "-q"]
    if constraints is not None:
        args += ["-c", str(constraints)]
    venv.pip(*args, *requirements)
    return venv


def remove_bytecode(directory: Path) -> int:
    """Delete every ``__pycache__`` directory under ``directory``; how many there were."""
    caches = [p for p in directory.rglob("__pycache__") if p.is_dir()]
    for cache in caches:
        shutil.rmtree(cache)
    return len(caches)
