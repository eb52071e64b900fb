"""The agent's event ring buffer: arrival order, eviction of the oldest, size (agent/agent.go)."""

from __future__ import annotations

import pytest

from pytest_consul_events.model.ringbuffer import DEFAULT_EVENT_BUFFER_SIZE, RingBuffer


def test_default_size_is_consuls_256() -> None:
    assert DEFAULT_EVENT_BUFFER_SIZE == 256
    assert RingBuffer().size == 256


def test_snapshot_is_oldest_first() -> None:
    buffer: RingBuffer[int] = RingBuffer(4)
    for item in (3, 1, 2):
        buffer.append(item)
    assert buffer.snapshot() == [3, 1, 2]


def test_256_items_fit_in_default_buffer() -> None:
    buffer: RingBuffer[int] = RingBuffer()
    for item in range(256):
        buffer.append(item)
    assert buffer.snapshot() == list(range(256))


def test_257th_item_evicts_the_oldest() -> None:
    buffer: RingBuffer[int] = RingBuffer()
    for item in range(257):
        buffer.append(item)
    assert len(buffer) == 256
    assert buffer.snapshot() == list(range(1, 257))


def test_wrapping_keeps_arrival_order() -> None:
    buffer: RingBuffer[int] = RingBuffer(3)
    for item in range(10):
        buffer.append(item)
    assert buffer.snapshot() == [7, 8, 9]


def test_custom_size_limits_items() -> None:
    buffer: RingBuffer[str] = RingBuffer(2)
    for item in ("a", "b", "c"):
        buffer.append(item)
    assert buffer.size == 2
    assert buffer.snapshot() == ["b", "c"]


@pytest.mark.parametrize("size", [0, -1])
def test_size_below_one_is_rejected(size: int) -> None:
    with pytest.raises(
        ValueError, match=rf"^the event buffer needs at least one slot, not {size}$"
    ):
        RingBuffer(size)


def test_last_is_newest_item() -> None:
    buffer: RingBuffer[int] = RingBuffer(2)
    for item in (1, 2, 3):
        buffer.append(item)
    assert buffer.last() == 3


def test_last_of_empty_buffer_is_none() -> None:
    assert RingBuffer().last() is None


def test_clear_forgets_every_item() -> None:
    buffer: RingBuffer[int] = RingBuffer(2)
    buffer.append(1)
    buffer.clear()
    assert (len(buffer), buffer.snapshot(), buffer.last()) == (0, [], None)


def test_snapshot_is_a_copy() -> None:
    buffer: RingBuffer[int] = RingBuffer(2)
    buffer.append(1)
    snapshot = buffer.snapshot()
    snapshot.append(99)
    assert buffer.snapshot() == [1]


def test_iteration_is_oldest_first_and_safe_against_appends() -> None:
    buffer: RingBuffer[int] = RingBuffer(3)
    for item in (1, 2):
        buffer.append(item)
    seen = []
    for item in buffer:
        seen.append(item)
        buffer.append(item + 10)
    assert seen == [1, 2]
    assert buffer.snapshot() == [2, 11, 12]
