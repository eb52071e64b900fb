"""Serf's Lamport clock: Time, Increment and Witness (hashicorp/serf serf/lamport.go)."""

from __future__ import annotations

import pytest

from pytest_consul_events.model.lamport import LamportClock


def test_clock_starts_at_zero_by_default() -> None:
    assert LamportClock().time() == 0


def test_clock_starts_at_given_time() -> None:
    assert LamportClock(5).time() == 5


def test_clock_rejects_negative_start() -> None:
    with pytest.raises(ValueError, match=r"^a Lamport time is never negative$"):
        LamportClock(-1)


def test_increment_adds_one_and_returns_new_time() -> None:
    clock = LamportClock(3)
    assert clock.increment() == 4
    assert clock.time() == 4


def test_time_does_not_advance_the_clock() -> None:
    clock = LamportClock(3)
    clock.time()
    assert clock.time() == 3


def test_witness_of_later_time_moves_clock_past_it() -> None:
    clock = LamportClock(3)
    clock.witness(10)
    assert clock.time() == 11


def test_witness_of_current_time_moves_clock_one_past_it() -> None:
    clock = LamportClock(3)
    clock.witness(3)
    assert clock.time() == 4


def test_witness_of_earlier_time_leaves_clock_unchanged() -> None:
    clock = LamportClock(10)
    clock.witness(9)
    assert clock.time() == 10


def test_witness_handles_times_beyond_64_bits_of_events() -> None:
    clock = LamportClock()
    clock.witness(2**64 - 2)
    assert clock.time() == 2**64 - 1
