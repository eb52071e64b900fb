"""The watch plan's index logic, step by step, against a scripted agent.

Each test scripts the ``X-Consul-Index`` and event list of every answer, runs the plan (the
port of ``api/watch``) in a thread, and checks the exact queries it sent and the exact handler
calls it made. The expected values follow Consul's ``api/watch/plan.go`` and ``funcs.go``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cli_support import WAIT, Answer, ScriptedAgent, event, go_line, index_of

from pytest_consul_events.consul_cli import plan
from pytest_consul_events.consul_cli.errors import GoPanic
from pytest_consul_events.consul_cli.events import Event, encode
from pytest_consul_events.consul_cli.httpapi import Client, Config

E1, E2, E3, E4 = (event(n, f"v{n}".encode()) for n in (1, 2, 3, 4))


class Run:
    """A plan running against a scripted agent, with its handler calls, sleeps and log."""

    def __init__(self, agent: ScriptedAgent, rule: str = plan.RESET_ON_EQUAL) -> None:
        self.agent = agent
        self.calls: list[tuple[int, bytes]] = []
        self.sleeps: list[float] = []
        self.log: list[str] = []
        config = Config()
        config.address = agent.address
        self.client = Client(config, {})
        self.plan = plan.Plan(
            plan.event_watcher(self.client, "deploy"),
            lambda index, result: self.calls.append((index, encode(result))),
            log=self.log.append,
            rule=rule,
            sleep=self._sleep,
        )
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.plan.run()
        except BaseException as exc:
            self.error = exc

    def _sleep(self, seconds: float) -> bool:
        self.sleeps.append(seconds)
        return self.plan.stopped

    def queries(self, count: int) -> list[dict[str, str]]:
        """The query parameters of the first ``count`` list requests, once all arrived."""
        return self.agent.wait_for_queries(count)[:count]

    def stop(self) -> None:
        self.plan.stop()
        self.agent.close()
        self.thread.join(WAIT)
        self.client.close()
        assert not self.thread.is_alive()


@pytest.fixture
def agent() -> Iterator[ScriptedAgent]:
    with ScriptedAgent() as scripted:
        yield scripted


@pytest.fixture
def run(agent: ScriptedAgent) -> Iterator[Any]:
    runs: list[Run] = []

    def start(*answers: Answer, rule: str = plan.RESET_ON_EQUAL) -> Run:
        agent.add(*answers)
        runs.append(Run(agent, rule))
        return runs[-1]

    yield start
    for started in runs:
        started.stop()


def test_first_query_has_no_index_and_the_handler_gets_the_whole_buffer(run: Any) -> None:
    r = run(Answer(index_of(E2), [E1, E2]))

    assert r.queries(2) == [{"name": "deploy"}, {"index": str(index_of(E2)), "name": "deploy"}]
    assert r.calls == [(index_of(E2), go_line([E1, E2]))]


def test_an_empty_buffer_gives_the_handler_an_empty_list_at_start(run: Any) -> None:
    r = run(Answer(1, []))

    assert r.queries(2)[1] == {"index": "1", "name": "deploy"}
    assert r.calls == [(1, b"[]\n")]


def test_answers_are_pruned_to_the_events_after_the_indexed_one(run: Any) -> None:
    r = run(Answer(index_of(E2), [E1, E2]), Answer(index_of(E3), [E1, E2, E3]))

    r.queries(3)
    assert r.calls == [
        (index_of(E2), go_line([E1, E2])),
        (index_of(E3), go_line([E3])),
    ]


def test_an_evicted_indexed_event_hands_over_the_whole_list_again(run: Any) -> None:
    r = run(Answer(index_of(E2), [E1, E2]), Answer(index_of(E4), [E3, E4]))

    r.queries(3)
    assert r.calls[1] == (index_of(E4), go_line([E3, E4]))


def test_an_unchanged_index_does_not_call_the_handler(run: Any) -> None:
    r = run(
        Answer(index_of(E2), [E1, E2]),
        Answer(index_of(E2), [E1, E2]),
        Answer(index_of(E3), [E1, E2, E3]),
    )

    queries = r.queries(4)
    assert [q.get("index") for q in queries] == [
        None,
        str(index_of(E2)),
        str(index_of(E2)),  # unchanged: the plan blocks on it again, no reset
        str(index_of(E3)),
    ]
    assert r.calls == [(index_of(E2), go_line([E1, E2])), (index_of(E3), go_line([E3]))]


def test_a_result_equal_to_the_last_one_is_skipped_but_its_index_kept(run: Any) -> None:
    r = run(Answer(1, []), Answer(7, []), Answer(index_of(E1), [E1]))

    queries = r.queries(4)
    assert [q.get("index") for q in queries] == [None, "1", "7", str(index_of(E1))]
    assert r.calls == [(1, b"[]\n"), (index_of(E1), go_line([E1]))]


def _falling_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two events whose list index goes down when the second arrives."""
    high, low = sorted((E1, E2, E3, E4), key=index_of, reverse=True)[:2]
    assert index_of(high) > index_of(low)
    return high, low


def test_an_index_going_down_is_blocked_on_as_it_is_by_the_newest_consul(run: Any) -> None:
    high, low = _falling_pair()
    r = run(Answer(index_of(high), [high]), Answer(index_of(low), [high, low]))

    queries = r.queries(3)
    assert queries[2] == {"index": str(index_of(low)), "name": "deploy"}
    assert r.calls == [(index_of(high), go_line([high])), (index_of(low), go_line([low]))]


def test_an_index_going_down_resets_and_redelivers_under_the_older_rule(run: Any) -> None:
    high, low = _falling_pair()
    r = run(
        Answer(index_of(high), [high]),
        Answer(index_of(low), [high, low]),
        Answer(index_of(low), [high, low]),  # the answer to the query without an index
        rule=plan.RESET_ON_DECREASE,
    )

    queries = r.queries(4)
    assert [q.get("index") for q in queries] == [
        None,
        str(index_of(high)),
        None,  # Consul 1.4-1.6: the index went down, so it was reset to 0
        str(index_of(low)),
    ]
    assert r.calls == [
        (index_of(high), go_line([high])),
        (index_of(low), go_line([low])),
        (index_of(low), go_line([high, low])),  # the whole buffer, again
    ]


def test_errors_back_off_then_the_whole_list_is_handed_over_again(run: Any) -> None:
    r = run(
        Answer(index_of(E2), [E1, E2]),
        Answer(None, status=500, body=b"boom\n"),
        Answer(None, status=500, body=b"boom\n"),
        Answer(index_of(E2), [E1, E2]),
    )

    queries = r.queries(5)
    assert [q.get("index") for q in queries] == [
        None,
        str(index_of(E2)),
        None,
        None,
        str(index_of(E2)),
    ]
    assert r.sleeps == [5.0, 20.0]
    # After an error the plan has no index: the same buffer goes to the handler once more.
    assert r.calls == [(index_of(E2), go_line([E1, E2]))] * 2
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4}) "
    text = (
        '[ERROR] watch.watch: Watch errored: type=event error="Unexpected response code: 500 '
        '(boom)"'
    )
    assert len(r.log) == 2
    for line, retry in zip(r.log, ["5s", "20s"], strict=True):
        assert re.fullmatch(stamp + re.escape(f"{text} retry={retry}\n"), line), line


def test_back_off_grows_with_the_square_of_failures_up_to_three_minutes(run: Any) -> None:
    r = run(*[Answer(None, status=503, body=b"down")] * 7, Answer(1, []))

    r.queries(8)
    assert r.sleeps == [5.0, 20.0, 45.0, 80.0, 125.0, 180.0, 180.0]
    assert [line.split("retry=")[1] for line in r.log] == [
        "5s\n",
        "20s\n",
        "45s\n",
        "1m20s\n",
        "2m5s\n",
        "3m0s\n",
        "3m0s\n",
    ]


def test_a_null_list_reaches_the_handler_as_null(run: Any) -> None:
    r = run(Answer(1, None))

    r.queries(2)
    assert r.calls == [(1, b"null\n")]


def test_a_missing_or_bad_index_header_counts_as_zero(run: Any) -> None:
    r = run(Answer(None, [E1]), Answer(None, [E1, E2]))

    queries = r.queries(3)
    # Index 0 is never sent: every query is a non-blocking one, as in Go.
    assert [q.get("index") for q in queries] == [None, None, None]
    # 0 equals 0: the second answer is "unchanged" and skipped.
    assert r.calls == [(0, go_line([E1]))]


def test_a_malformed_event_id_panics_as_go_does(run: Any) -> None:
    bad = {**E1, "ID": "not-a-uuid-but-thirty-six-characters"}
    r = run(Answer(1, [bad]))

    r.thread.join(WAIT)
    assert isinstance(r.error, GoPanic)
    # IDToIndex joins ID[0:8], ID[9:13] and ID[14:18], then parses them as hexadecimal.
    assert str(r.error) == "Failed to convert not-a-uud-bu-thi"
    assert r.calls == []


def test_a_body_that_is_not_an_event_list_is_an_error(run: Any) -> None:
    r = run(Answer(1, body=b'{"not": "a list"}'), Answer(1, []))

    r.queries(3)
    assert "json: cannot unmarshal object into Go value of type []*api.UserEvent" in r.log[0]
    assert r.calls == [(1, b"[]\n")]


def test_a_refused_connection_is_logged_with_gos_text(agent: ScriptedAgent) -> None:
    address = agent.address
    agent.close()
    config = Config()
    config.address = address
    log: list[str] = []
    the_plan = plan.Plan(
        plan.event_watcher(Client(config, {}), ""),
        lambda index, result: None,
        log=log.append,
        sleep=lambda seconds: True,  # stop at the first back-off
    )

    the_plan.run()

    assert len(log) == 1
    assert (
        f'error="Get \\"http://{address}/v1/event/list\\": dial tcp {address}: connect: '
        'connection refused" retry=5s\n'
    ) in log[0]


@pytest.mark.parametrize(
    ("new", "previous", "rule", "expected"),
    [
        (5, None, plan.RESET_ON_EQUAL, 5),
        (5, 5, plan.RESET_ON_EQUAL, 0),
        (5, 9, plan.RESET_ON_EQUAL, 5),
        (9, 5, plan.RESET_ON_EQUAL, 9),
        (5, None, plan.RESET_ON_DECREASE, 5),
        (5, 5, plan.RESET_ON_DECREASE, 5),
        (5, 9, plan.RESET_ON_DECREASE, 0),
        (9, 5, plan.RESET_ON_DECREASE, 9),
    ],
)
def test_next_index(new: int, previous: int | None, rule: str, expected: int) -> None:
    assert plan.next_index(new, previous, rule) == expected


def test_prune_hashes_ids_and_keeps_what_follows_the_first_match() -> None:
    events = [Event(id=item["ID"]) for item in (E1, E2, E3)]

    assert plan.prune(events, index_of(E1)) == events[1:]
    assert plan.prune(events, index_of(E3)) == []
    assert plan.prune(events, 12345) == events
    assert plan.prune(events, None) == events
    assert plan.prune([], 1) == []
    assert plan.prune(None, 1) is None
    with pytest.raises(GoPanic) as raised:
        plan.prune([None], 1)
    assert str(raised.value) == ("runtime error: invalid memory address or nil pointer dereference")


def test_the_plan_rejects_an_unknown_rule() -> None:
    with pytest.raises(ValueError) as raised:
        plan.Plan(lambda index: (0, []), lambda index, result: None, log=print, rule="up")
    assert str(raised.value) == "rule must be one of ('equal', 'decrease'), not 'up'"
