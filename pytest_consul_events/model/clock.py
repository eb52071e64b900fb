"""Time for the fake: the real monotonic clock, or a test clock that moves only when told.

Everything that waits (blocking list queries, delayed gossip deliveries) asks its clock for the
time and waits through it, so a test on a :class:`ManualClock` can make a ``wait=5m`` query
time out, or a delayed delivery arrive, by calling :meth:`ManualClock.advance`.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from typing import Protocol

from pytest_consul_events.validation import check_number, must_be


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
        """Wait until notified or until the real ``deadline`` (or the longest wait the platform
        allows, after which the caller looks again)."""
        if deadline is None:
            condition.wait()
        else:
            condition.wait(min(max(0.0, deadline - time.monotonic()), threading.TIMEOUT_MAX))

    def watch(self, condition: threading.Condition) -> None:
        """Nothing to do: real time needs no notification."""


REAL_CLOCK = RealClock()


class ManualClock:
    """A clock that stands still until :meth:`advance` moves it; for tests of time-outs.

    Waits on it end only when notified or when :meth:`advance` reaches their deadline, however
    long that takes in real time.

    The thread that makes the clock is its :attr:`owner`: the one expected to advance it (the
    test's thread, under the fixtures). A list query that would block on this clock in that
    thread could never end, so the agent refuses it (see ``Agent.list_events``).

    Raises:
        TypeError, ValueError: ``start`` is not a finite number.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = check_number(start, "start")
        self._lock = threading.Lock()
        self._watched: weakref.WeakSet[threading.Condition] = weakref.WeakSet()
        self.owner: threading.Thread = threading.current_thread()
        """The thread that made the clock, taken to be the one that advances it."""

    def owned_by_current_thread(self) -> bool:
        """Whether the calling thread is the :attr:`owner`."""
        return threading.current_thread() is self.owner

    def now(self) -> float:
        """The time the clock was last moved to."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and wake everything waiting on it; returns the new time.

        Raises:
            TypeError: ``seconds`` is not a number.
            ValueError: ``seconds`` is negative, ``nan`` or infinite, or would take the clock
                past the largest ``float``. The clock is unchanged.
        """
        step = check_number(seconds, "seconds", minimum=0)
        with self._lock:
            now = self._now + step
            if not math.isfinite(now):
                raise ValueError(
                    must_be(
                        "seconds",
                        f"small enough to keep the clock finite (it reads {self._now!r})",
                        seconds,
                    )
                )
            self._now = now
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


CLOCK_CHOICES = "'real', 'manual', a ManualClock or None"
"""What :func:`make_clock` accepts, as its messages say."""


def make_clock(value: object = None, name: str = "clock") -> Clock:
    """The clock an option names: ``None`` or ``"real"`` give the real clock, ``"manual"`` a new
    :class:`ManualClock` owned by the calling thread; a :class:`ManualClock` (or the real
    clock) is used as it is.

    Raises:
        TypeError: ``value`` is none of these types.
        ValueError: a string other than ``"real"`` and ``"manual"``.
    """
    if value is None:
        return REAL_CLOCK
    if isinstance(value, str):
        if value == "real":
            return REAL_CLOCK
        if value == "manual":
            return ManualClock()
        raise ValueError(must_be(name, CLOCK_CHOICES, value))
    if isinstance(value, ManualClock | RealClock):
        return value
    raise TypeError(must_be(name, CLOCK_CHOICES, value))
