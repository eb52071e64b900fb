"""Time for the fake: the real monotonic clock, or a test clock that moves only when told.

Everything that waits (blocking list queries, delayed gossip deliveries) asks its clock for the
time and waits through it, so a test on a :class:`ManualClock` can make a ``wait=5m`` query
time out, or a delayed delivery arrive, by calling :meth:`ManualClock.advance`.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Protocol


class Clock(Protocol):
    """What the fake needs of time."""

    def now(self) -> float:
        """Seconds on this clock (only differences mean anything)."""
        ...

    def wait(self, condition: threading.Condition, deadline: float | None) -> None:
        """Wait on ``condition`` (held by the caller) until notified or ``deadline`` passes.

        May return early (spuriously): callers re-check their state and the time.
        """
        ...

    def watch(self, condition: threading.Condition) -> None:
        """Have ``condition`` notified whenever this clock jumps (a no-op for real time)."""
        ...


class RealClock:
    """The monotonic clock of the machine."""

    def now(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def wait(self, condition: threading.Condition, deadline: float | None) -> None:
        """Wait until notified or until the real ``deadline``."""
        condition.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def watch(self, condition: threading.Condition) -> None:
        """Nothing to do: real time needs no notification."""


REAL_CLOCK = RealClock()


class ManualClock:
    """A clock that stands still until :meth:`advance` moves it; for tests of time-outs.

    Waits on it end only when notified or when :meth:`advance` reaches their deadline, however
    long that takes in real time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._watched: weakref.WeakSet[threading.Condition] = weakref.WeakSet()

    def now(self) -> float:
        """The time the clock was last moved to."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and wake everything waiting on it; returns the new time.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"a clock only moves forward, not by {seconds}")
        with self._lock:
            self._now += seconds
            now = self._now
            watched = list(self._watched)
        for condition in watched:
            with condition:
                condition.notify_all()
        return now

    def wait(self, condition: threading.Condition, deadline: float | None) -> None:
        """Wait until notified; :meth:`advance` notifies, and the caller re-checks the time."""
        self.watch(condition)
        condition.wait()

    def watch(self, condition: threading.Condition) -> None:
        """Have :meth:`advance` notify ``condition``."""
        with self._lock:
            self._watched.add(condition)
