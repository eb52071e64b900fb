"""Serf's Lamport clock (hashicorp/serf serf/lamport.go)."""

from __future__ import annotations


class LamportClock:
    """A Lamport clock with serf's three operations.

    Not thread-safe on its own: the agent holds its lock around every use, as the reads and the
    increment of a fire must happen together.
    """

    __slots__ = ("_time",)

    def __init__(self, start: int = 0) -> None:
        if start < 0:
            raise ValueError("a Lamport time is never negative")
        self._time = start

    def time(self) -> int:
        """The current time."""
        return self._time

    def increment(self) -> int:
        """Advance by one and return the new time."""
        self._time += 1
        return self._time

    def witness(self, seen: int) -> None:
        """Move past a time seen elsewhere: the clock becomes ``seen + 1`` unless it is ahead."""
        if seen >= self._time:
            self._time = seen + 1
