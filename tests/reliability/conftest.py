"""Setup for the reliability suite: the ``slow`` marker and a watch on server threads.

Slow tests (more than a few seconds each) are left out unless a ``-m`` expression is given:
``pytest tests/reliability -m slow`` runs them, ``-m "slow or not slow"`` runs everything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import ThreadErrors


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes more than a few seconds; run with -m slow (left out by default)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave this directory's slow tests out of a run that names no marker expression."""
    if config.getoption("markexpr", ""):
        return
    here = Path(__file__).parent
    slow = [
        item
        for item in items
        if item.get_closest_marker("slow") is not None and here in item.path.parents
    ]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]


@pytest.fixture
def thread_errors() -> Iterator[ThreadErrors]:
    """Catch exceptions that end threads, so a test can assert none did (and say which).

    Replaces ``threading.excepthook`` for the test; pytest's own hook is put back afterwards.
    """
    errors = ThreadErrors()
    previous = threading.excepthook
    threading.excepthook = errors
    try:
        yield errors
    finally:
        threading.excepthook = previous
