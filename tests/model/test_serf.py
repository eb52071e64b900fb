"""Serf's user event handling: the event clock on fire, witness, dedupe and age on receipt."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_consul_events import messages
from pytest_consul_events.errors import EventTooLargeError
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.event import UserEvent
from pytest_consul_events.model.serf import (
    EVENT_BUFFER_SIZE,
    FIRST_USER_EVENT_LTIME,
    Receipt,
    SerfEvents,
    SerfUserEvent,
)

AFTER_LITERAL = (
    "error broadcasting event: encoded user event exceeds configured limit of 512 bytes after "
    "encoding"
)


def _event(n: int = 0, name: str = "deploy", payload: bytes | None = None) -> UserEvent:
    return UserEvent(id=f"00000000-0000-0000-0000-{n:012x}", name=name, payload=payload)


def _at(ltime: int, n: int = 0) -> SerfUserEvent:
    return SerfUserEvent(ltime, _event(n))


def _serf_with_clock(now: int) -> SerfEvents:
    serf = SerfEvents()
    serf.clock.witness(now - 1)
    assert serf.clock.time() == now
    return serf


# -- constants -------------------------------------------------------------------------------------


def test_dedupe_window_is_serfs_512() -> None:
    assert EVENT_BUFFER_SIZE == 512


def test_first_user_event_ltime_is_two() -> None:
    assert FIRST_USER_EVENT_LTIME == 2
    assert SerfEvents().clock.time() == 2


# -- fire ------------------------------------------------------------------------------------------


def test_prepare_stamps_current_time_then_increments() -> None:
    serf = SerfEvents()
    message = serf.prepare(_event())
    assert message == SerfUserEvent(2, _event())
    assert serf.clock.time() == 3


def test_successive_prepares_get_successive_times() -> None:
    serf = SerfEvents()
    assert [serf.prepare(_event(n)).ltime for n in range(3)] == [2, 3, 4]


def test_prepare_does_not_receive_the_event() -> None:
    serf = SerfEvents()
    message = serf.prepare(_event())
    assert serf.receive(message) is Receipt.ACCEPTED


def test_prepare_rejects_an_oversized_event_with_serfs_text() -> None:
    with pytest.raises(EventTooLargeError) as info:
        SerfEvents().prepare(_event(payload=b"x" * 405))
    assert info.value.message == AFTER_LITERAL


def test_rejected_for_size_prepare_does_not_advance_the_clock() -> None:
    serf = SerfEvents()
    with pytest.raises(EventTooLargeError):
        serf.prepare(_event(payload=b"x" * 405))
    assert serf.clock.time() == 2
    assert serf.prepare(_event()).ltime == 2


def test_size_limit_is_checked_against_the_clock_at_fire_time() -> None:
    serf = _serf_with_clock(128)
    with pytest.raises(EventTooLargeError):
        serf.prepare(_event(payload=b"x" * 404))
    assert serf.prepare(_event(payload=b"x" * 403)).ltime == 128


def test_prepare_uses_the_given_limit() -> None:
    with pytest.raises(EventTooLargeError) as info:
        SerfEvents().prepare(_event(), limit=100)
    assert info.value.message == messages.BROADCAST_ERROR.format(
        error=messages.SIZE_AFTER_ENCODING.format(limit=100)
    )


# -- receive ---------------------------------------------------------------------------------------


def test_receive_accepts_a_new_event() -> None:
    assert SerfEvents().receive(_at(5)) is Receipt.ACCEPTED


def test_receive_witnesses_a_later_time() -> None:
    serf = SerfEvents()
    serf.receive(_at(100))
    assert serf.clock.time() == 101


def test_receive_of_an_earlier_time_keeps_the_clock() -> None:
    serf = _serf_with_clock(50)
    serf.receive(_at(10))
    assert serf.clock.time() == 50


def test_fire_after_receipt_uses_the_witnessed_clock() -> None:
    serf = SerfEvents()
    serf.receive(_at(100))
    assert serf.prepare(_event(1)).ltime == 101


def test_duplicate_is_dropped() -> None:
    serf = SerfEvents()
    serf.receive(_at(7))
    assert serf.receive(_at(7)) is Receipt.DUPLICATE


def test_duplicate_is_detected_whatever_the_ltime_field_of_the_record() -> None:
    serf = SerfEvents()
    serf.receive(SerfUserEvent(7, _event()))
    stamped = dataclasses.replace(_event(), ltime=7)
    assert serf.receive(SerfUserEvent(7, stamped)) is Receipt.DUPLICATE


def test_same_time_different_event_is_accepted() -> None:
    serf = SerfEvents()
    serf.receive(_at(7, n=1))
    assert serf.receive(_at(7, n=2)) is Receipt.ACCEPTED
    assert serf.receive(_at(7, n=2)) is Receipt.DUPLICATE


def test_same_event_at_another_time_is_accepted() -> None:
    serf = SerfEvents()
    serf.receive(_at(7))
    assert serf.receive(_at(8)) is Receipt.ACCEPTED


def test_same_event_one_window_later_is_accepted() -> None:
    # Both land in slot 7 % 512; the later time replaces the slot instead of matching it.
    serf = SerfEvents()
    serf.receive(_at(7))
    assert serf.receive(_at(7 + 512)) is Receipt.ACCEPTED


def test_too_old_event_is_dropped_when_clock_is_past_the_window() -> None:
    serf = _serf_with_clock(1000)
    assert serf.receive(_at(487)) is Receipt.TOO_OLD


def test_event_exactly_one_window_old_is_accepted() -> None:
    serf = _serf_with_clock(1000)
    assert serf.receive(_at(488)) is Receipt.ACCEPTED


def test_nothing_is_too_old_while_clock_is_at_most_512() -> None:
    serf = _serf_with_clock(512)
    assert serf.receive(_at(0)) is Receipt.ACCEPTED


def test_too_old_check_uses_clock_after_witness() -> None:
    # The clock is 512 (not past the window) until it witnesses 512 and becomes 513.
    serf = _serf_with_clock(512)
    assert serf.receive(_at(512, n=1)) is Receipt.ACCEPTED
    assert serf.receive(_at(0, n=2)) is Receipt.TOO_OLD


def test_too_old_event_is_still_witnessed_before_being_dropped() -> None:
    serf = _serf_with_clock(1000)
    serf.receive(_at(10))
    assert serf.clock.time() == 1000


def test_event_before_min_time_is_dropped() -> None:
    serf = SerfEvents()
    serf.min_time = 50
    assert serf.receive(_at(49)) is Receipt.BEFORE_MIN_TIME
    assert serf.receive(_at(50)) is Receipt.ACCEPTED


# -- through the agent -----------------------------------------------------------------------------


def test_agent_stores_a_gossiped_event_with_its_ltime() -> None:
    agent = Agent(seed=1)
    assert agent.deliver(_at(40)) is Receipt.ACCEPTED
    assert agent.events == [UserEvent(id=_event().id, name="deploy", ltime=40)]


def test_agent_does_not_store_a_duplicate_twice() -> None:
    agent = Agent(seed=1)
    agent.deliver(_at(40))
    assert agent.deliver(_at(40)) is Receipt.DUPLICATE
    assert len(agent.events) == 1


def test_agent_drops_its_own_fire_echoed_back_by_gossip() -> None:
    agent = Agent(seed=1)
    event = agent.fire("deploy")
    assert agent.deliver(SerfUserEvent(2, event)) is Receipt.DUPLICATE
    assert len(agent.events) == 1


def test_agent_drops_a_fired_record_delivered_again_at_its_ltime() -> None:
    agent = Agent(seed=1)
    agent.fire("deploy")
    record = agent.fired[0]
    assert agent.deliver(SerfUserEvent(record.ltime, record)) is Receipt.DUPLICATE
    assert len(agent.events) == 1


def test_agent_stores_an_event_of_a_newer_version() -> None:
    # Version > 1 only logs a warning in Consul; the event is still processed.
    agent = Agent(seed=1)
    event = dataclasses.replace(_event(), version=2)
    agent.deliver(SerfUserEvent(40, event))
    assert agent.events == [dataclasses.replace(event, ltime=40)]


def test_agent_does_not_store_a_too_old_event() -> None:
    agent = Agent(seed=1)
    agent.deliver(_at(999, n=1))
    assert agent.deliver(_at(487, n=2)) is Receipt.TOO_OLD
    assert [event.ltime for event in agent.events] == [999]


def test_agent_stores_gossiped_events_in_arrival_order_not_ltime_order() -> None:
    agent = Agent(seed=1)
    agent.deliver(_at(50, n=1))
    agent.deliver(_at(30, n=2))
    assert [event.ltime for event in agent.events] == [50, 30]


def test_agent_fire_after_gossip_uses_the_witnessed_clock() -> None:
    agent = Agent(seed=1)
    agent.deliver(_at(40))
    agent.fire("deploy")
    assert agent.events[-1].ltime == 41


def test_agent_rejected_for_size_fire_does_not_advance_the_clock() -> None:
    agent = Agent(seed=1)
    with pytest.raises(EventTooLargeError):
        agent.fire("deploy", b"x" * 405)
    agent.fire("deploy")
    assert [event.ltime for event in agent.events] == [2]


def test_agent_size_limit_shrinks_once_the_clock_passes_127() -> None:
    agent = Agent(seed=1)
    agent.deliver(_at(125))  # clock 126
    agent.fire("deploy", b"x" * 404)  # LTime 126
    agent.fire("deploy", b"x" * 404)  # LTime 127
    with pytest.raises(EventTooLargeError) as info:
        agent.fire("deploy", b"x" * 404)  # would be LTime 128
    assert info.value.message == AFTER_LITERAL
    agent.fire("deploy", b"x" * 403)
    assert [event.ltime for event in agent.events] == [125, 126, 127, 128]
