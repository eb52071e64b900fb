"""Test setup for the examples: make ``deployer`` importable and provide watcher fixtures.

The ``consul_agent``, ``consul_client`` and ``consul_env`` fixtures come from the
pytest-consul-events plugin, which pytest loads by itself once the package is installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = str(Path(__file__).resolve().parent)
if EXAMPLES not in sys.path:
    # Whatever the import mode, ``import deployer`` finds examples/deployer.
    sys.path.insert(0, EXAMPLES)

from deployer import Event, EventWatcher  # noqa: E402
from recording import WAIT_TIMEOUT, Recorder  # noqa: E402

from pytest_consul_events import FakeConsulAgent  # noqa: E402


@pytest.fixture
def recorder() -> Recorder:
    """A fresh :class:`Recorder` to pass as a watcher's handler."""
    return Recorder()


@pytest.fixture
def make_watcher(consul_agent: FakeConsulAgent) -> Iterator[Callable[..., EventWatcher]]:
    """A factory of :class:`EventWatcher` bound to ``consul_agent``, each with its own client.

    Polls wait ``1s`` at most unless told otherwise. At teardown every watcher is stopped and
    its thread ended: the agent answers the abandoned long polls at once, so no thread
    outlives the test and the test does not wait for ``wait`` to run out.
    """
    made: list[tuple[EventWatcher, Any]] = []

    def make(handler: Callable[[Event], object], **options: Any) -> EventWatcher:
        client = consul_agent.client()
        options.setdefault("wait", "1s")
        watcher = EventWatcher(handler, client=client, **options)
        made.append((watcher, client))
        return watcher

    yield make
    for watcher, _ in made:
        watcher.stop()
    for watcher, client in made:
        end_thread(consul_agent, watcher)
        client.http.session.close()


def end_thread(agent: FakeConsulAgent, watcher: EventWatcher) -> None:
    """Wait for a stopped watcher's thread, answering its abandoned long poll at once.

    ``release_blocked`` answers the polls already blocked and any still on their way.
    """
    agent.release_blocked()
    assert watcher.join(WAIT_TIMEOUT), "the watcher thread did not end"
