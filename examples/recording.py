"""Helpers for tests that wait on the watcher's thread: a recording handler and a poll."""

from __future__ import annotations

import threading

from deployer import Event

WAIT_TIMEOUT = 2.0
"""How long a test waits for the watcher's thread to hand an event over."""


class Recorder:
    """A watcher handler that keeps the events it gets and lets a test wait for them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._events: list[Event] = []

    def __call__(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    @property
    def events(self) -> list[Event]:
        """The events handled so far, in order."""
        with self._cond:
            return list(self._events)

    @property
    def ids(self) -> list[str]:
        """The IDs of the events handled so far, in order."""
        return [event.id for event in self.events]

    def wait_for(self, count: int, timeout: float = WAIT_TIMEOUT) -> list[Event]:
        """Wait until ``count`` events were handled; return them all.

        Raises:
            AssertionError: fewer arrived within ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._events) >= count, timeout):
                raise AssertionError(f"expected {count} events, got {self._events!r}")
            return list(self._events)
