"""The event watcher against the fake agent: news only, once each, whatever the index does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from deployer import Deploy, Event, EventWatcher, MissedEvents, events_after, fire_deploy
from recording import WAIT_TIMEOUT, Recorder

from pytest_consul_events import FakeConsulAgent
from pytest_consul_events.model.serf import SerfUserEvent

MakeWatcher = Callable[..., EventWatcher]

pytestmark = pytest.mark.consul_agent(node_name="web-1", services=["web"])


def fire_from_another_thread(client: Any, versions: list[str]) -> list[str]:
    """Fire one deploy of ``web`` per version from a new thread; return the event IDs."""
    ids: list[str] = []
    thread = threading.Thread(
        target=lambda: ids.extend(fire_deploy("web", v, client=client) for v in versions)
    )
    thread.start()
    thread.join(WAIT_TIMEOUT)
    return ids


def test_watcher_hands_over_events_fired_from_another_thread(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    make_watcher(recorder).start()

    ids = fire_from_another_thread(consul_client, ["1.0", "1.1", "1.2"])

    events = recorder.wait_for(3)
    assert [e.id for e in events] == ids == [e.id for e in consul_agent.events]
    assert [Deploy.from_payload(e.payload) for e in events] == [
        Deploy("web", "1.0"),
        Deploy("web", "1.1"),
        Deploy("web", "1.2"),
    ]
    assert [e.ltime for e in events] == [2, 3, 4]


def test_watcher_ignores_other_event_names(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    make_watcher(recorder).start()

    consul_agent.fire("restart", b"web")
    event_id = fire_deploy("web", "2.0", client=consul_client)

    assert [e.id for e in recorder.wait_for(1)] == [event_id]
    assert [e.name for e in consul_agent.events] == ["restart", "deploy"]


def test_history_is_skipped_by_default(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    fire_deploy("web", "0.9", client=consul_client)
    watcher = make_watcher(recorder).start()
    old_id = consul_agent.events[0].id

    assert recorder.events == []
    assert watcher.last_event_id == old_id
    new_id = fire_deploy("web", "1.0", client=consul_client)
    assert [e.id for e in recorder.wait_for(1)] == [new_id]


def test_history_is_replayed_on_request(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    old_ids = [fire_deploy("web", v, client=consul_client) for v in ("0.8", "0.9")]

    make_watcher(recorder, replay_history=True).start()

    assert recorder.ids == old_ids  # replayed by start() itself, before it returns
    new_id = fire_deploy("web", "1.0", client=consul_client)
    assert recorder.wait_for(3)[2].id == new_id


@pytest.mark.consul_agent(seed=7)  # merged with the module marker
def test_index_going_down_loses_nothing(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    make_watcher(recorder).start()
    indexes: list[int] = []
    fired: list[str] = []

    # One event per poll, until the list index (a hash of the newest ID) goes down at least
    # once: a watcher that treated the index as a counter would drop that event. With seed 7
    # the second event already does it; the loop keeps the test honest if the IDs change.
    while len(indexes) < 2 or indexes[-1] > indexes[-2]:
        assert len(fired) < 20, f"the index never went down: {indexes}"
        fired.append(fire_deploy("web", f"1.{len(fired)}", client=consul_client))
        recorder.wait_for(len(fired))
        indexes.append(consul_agent.events[-1].index)
    fired.append(fire_deploy("web", "2.0", client=consul_client))

    assert indexes[-1] < indexes[-2]
    assert [e.id for e in recorder.wait_for(len(fired))] == fired
    assert recorder.ids == [e.id for e in consul_agent.events]


def test_repeated_events_are_handed_over_once(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    missed: list[MissedEvents] = []
    watcher = make_watcher(recorder, on_missed=missed.append)
    watcher.poll()  # driven by hand: each step below is one list request
    e1, e2, e3 = (fire_deploy("web", v, client=consul_client) for v in ("1", "2", "3"))
    assert [e.id for e in watcher.poll()] == [e1, e2, e3]

    # The same address now answers as a sibling agent that got e1 and e2 by gossip, not e3 yet.
    sibling_view = consul_agent.fired[:2]
    consul_agent.reset()
    for event in sibling_view:
        consul_agent.deliver(SerfUserEvent(event.ltime, event))
    assert watcher.poll() == []  # e3 is not listed, so both look new, but both were handled
    assert missed == [MissedEvents(last_seen_id=e3, oldest_listed_id=e1)]

    e4 = fire_deploy("web", "4", client=consul_client)
    assert [e.id for e in watcher.poll()] == [e4]
    assert recorder.ids == [e1, e2, e3, e4]


@pytest.mark.consul_agent(buffer_size=4)
def test_overflow_hands_over_what_is_left_and_reports_missed_events(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    missed: list[MissedEvents] = []
    release = threading.Event()

    def slow_handler(event: Event) -> None:
        recorder(event)
        release.wait(WAIT_TIMEOUT)  # hold the watcher while the buffer overflows

    make_watcher(slow_handler, on_missed=missed.append).start()
    first = fire_deploy("web", "1.0", client=consul_client)
    recorder.wait_for(1)
    later = [fire_deploy("web", f"1.{n}", client=consul_client) for n in range(1, 7)]
    release.set()

    assert [e.id for e in consul_agent.events] == later[2:]  # only 4 slots
    recorder.wait_for(5)
    assert recorder.ids == [first, *later[2:]]
    assert missed == [MissedEvents(last_seen_id=first, oldest_listed_id=later[2])]


def test_handler_error_is_reported_and_watching_goes_on(
    consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    errors: list[BaseException] = []

    def picky_handler(event: Event) -> None:
        recorder(event)
        Deploy.from_payload(event.payload)

    make_watcher(picky_handler, on_error=errors.append).start()
    consul_client.event.fire("deploy", "not json", service="^web$")
    good = fire_deploy("web", "1.0", client=consul_client)

    bad, handled = recorder.wait_for(2)
    assert (bad.payload, handled.id) == (b"not json", good)
    assert [type(e).__name__ for e in errors] == ["JSONDecodeError"]


def test_stop_returns_without_waiting_for_the_long_poll(
    consul_agent: FakeConsulAgent, consul_client: Any, make_watcher: MakeWatcher, recorder: Recorder
) -> None:
    watcher = make_watcher(recorder, wait="10s").start()
    consul_agent.wait_for_blocked(1, timeout=WAIT_TIMEOUT)

    started = time.monotonic()
    watcher.stop()
    elapsed = time.monotonic() - started
    fire_deploy("web", "1.0", client=consul_client)  # answers the abandoned poll

    assert elapsed < 5.0  # well before the poll's 10 s wait: stop() does not wait for it
    assert watcher.join(WAIT_TIMEOUT)
    assert recorder.events == []
    assert consul_agent.blocked_queries == 0


def test_watcher_built_from_the_environment(
    consul_env: dict[str, str], consul_client: Any, recorder: Recorder
) -> None:
    with EventWatcher(recorder, wait="1s") as watcher:  # consul.Consul() from CONSUL_HTTP_ADDR
        event_id = fire_deploy("web", "1.0")
        assert [e.id for e in recorder.wait_for(1)] == [event_id]
    fire_deploy("web", "1.1", client=consul_client)  # answers the poll the watcher left behind
    assert watcher.join(WAIT_TIMEOUT)
    assert recorder.ids == [event_id]


def test_events_after_finds_the_last_seen_id_not_an_index() -> None:
    a, b, c = (
        Event(id=f"{n}" * 8 + "-0000-0000-0000-000000000000", name="deploy", payload=None, ltime=n)
        for n in (1, 2, 3)
    )

    assert events_after([a, b, c], a.id) == [b, c]
    assert events_after([a, b, c], c.id) == []
    assert events_after([b, c], a.id) is None
