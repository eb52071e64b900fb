"""The distribution as a user gets it: a wheel and an sdist built from this checkout.

Both are built once per session (per xdist worker) from a copy of the checkout, without build
isolation (the ``test`` extra installs setuptools and wheel), so no network is needed and the
checkout gets no ``build/`` or ``*.egg-info`` directory. ``installed_wheel`` is the wheel
installed with ``pip install --no-deps --target``: a directory that, first on ``PYTHONPATH``,
shadows any other install of the package, its code and its entry points alike (Python's
``importlib.metadata`` keeps the first distribution of each name on the path).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from distribution_support import Built

from benchmarks.venvs import copy_checkout


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Build the wheel and the sdist from a copy of the checkout."""
    base = tmp_path_factory.mktemp("dist")
    source = copy_checkout(base)
    out = base / "out"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"),
            *("--no-index", "-w", str(out), str(source)),
        ],
        check=True,
        capture_output=True,
    )
    code = f"from setuptools import build_meta; build_meta.build_sdist({str(out)!r})"
    subprocess.run([sys.executable, "-c", code], cwd=source, check=True, capture_output=True)
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return Built(wheel, sdist)


@pytest.fixture(scope="session")
def installed_wheel(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed (without dependencies) into a directory of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"),
            *("--target", str(target), str(built.wheel)),
        ],
        check=True,
        capture_output=True,
    )
    return target
