"""The agent's event buffer: the last N events in arrival order (agent/user_event.go)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_EVENT_BUFFER_SIZE = 256
"""``eventBuf: make([]*UserEvent, 256)`` in agent/agent.go."""


class RingBuffer(Generic[T]):
    """Keeps the most recent ``size`` items, oldest first; one more evicts the oldest.

    This is Consul's fixed array with a moving write index, expressed as a bounded deque: the
    order it yields (``[eventIndex:]`` then ``[:eventIndex]`` once full) is the same.
    """

    __slots__ = ("_items", "size")

    def __init__(self, size: int = DEFAULT_EVENT_BUFFER_SIZE) -> None:
        if size < 1:
            raise ValueError(f"the event buffer needs at least one slot, not {size}")
        self.size = size
        self._items: deque[T] = deque(maxlen=size)

    def append(self, item: T) -> None:
        """Store ``item`` as the newest, evicting the oldest when full."""
        self._items.append(item)

    def clear(self) -> None:
        """Forget every item."""
        self._items.clear()

    def snapshot(self) -> list[T]:
        """A copy of the items, oldest first."""
        return list(self._items)

    def last(self) -> T | None:
        """The newest item, or ``None`` when empty."""
        return self._items[-1] if self._items else None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())
