"""``GET /v1/event/list`` without blocking (consul-events.md §1 rows 17-25, §5)."""

from __future__ import annotations

import base64

import pytest
from http_support import (
    EVENT_KEYS,
    JSON,
    NEVER_SENT,
    Reply,
    Transport,
    assert_headers,
    assert_text,
    event_dict,
    fired_id,
    go_json,
    list_index,
    uuid_to_uint64,
)

from pytest_consul_events.fake import FakeConsulAgent


def expect_list(reply: Reply, events: list[dict[str, object]]) -> None:
    """A 200 list answer with exactly these events and the index of the last one."""
    assert reply.status == 200
    assert reply.body == go_json(events)
    index = uuid_to_uint64(str(events[-1]["ID"])) if events else 1
    assert_headers(reply, JSON, ("X-Consul-Index", str(index or 1)))


def test_uuid_to_uint64_matches_consuls_test_vector() -> None:
    # agent/event_endpoint_test.go @3b5f910
    assert uuid_to_uint64("cb9a81ad-fff6-52ac-92a7-5f70687805ec") == 6430540886266763072


def test_list_empty_is_an_empty_array_with_index_1(api: Transport) -> None:
    reply = api.get("/v1/event/list")
    assert (reply.status, reply.body) == (200, b"[]")
    assert_headers(reply, JSON, ("X-Consul-Index", "1"))
    for name in NEVER_SENT:
        assert reply.header(name) is None


def test_list_returns_fired_events_oldest_first_with_lamport_times(api: Transport) -> None:
    # LTime 2 for the first event: UNCONFIRMED empirically (§1 row 30); the fake's choice.
    first = fired_id(api.put("/v1/event/fire/deploy", body=b"v1"))
    second = fired_id(api.put("/v1/event/fire/restart"))
    third = fired_id(api.put("/v1/event/fire/grp/deploy", body=b"\x00\xff"))
    expect_list(
        api.get("/v1/event/list"),
        [
            event_dict(first, "deploy", "djE=", ltime=2),
            event_dict(second, "restart", None, ltime=3),
            event_dict(third, "grp/deploy", base64.b64encode(b"\x00\xff").decode(), ltime=4),
        ],
    )


def test_list_entries_keep_go_field_order(api: Transport) -> None:
    api.put("/v1/event/fire/deploy?node=node1")
    (entry,) = api.get("/v1/event/list").json_pairs()
    assert [key for key, _ in entry] == EVENT_KEYS
    assert dict(entry)["NodeFilter"] == "node1"


def test_list_index_is_the_hash_of_the_last_event_id(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    for _ in range(10):
        api.put("/v1/event/fire/deploy")
        last = consul_agent.events[-1].id
        assert list_index(api.get("/v1/event/list")) == (uuid_to_uint64(last) or 1)


def test_list_shows_events_fired_through_the_model(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    event = consul_agent.fire("deploy", b"payload", node="node1")
    expect_list(
        api.get("/v1/event/list"),
        [event_dict(event.id, "deploy", "cGF5bG9hZA==", node="node1", ltime=2)],
    )


# -- ?name= -----------------------------------------------------------------------------------


def test_list_name_filter_is_exact_and_case_sensitive(api: Transport) -> None:
    ids = {}
    for name in ["deploy", "Deploy", "deploy-x", "deploy", "xdeploy"]:
        ids.setdefault(name, []).append(fired_id(api.put(f"/v1/event/fire/{name}")))
    expect_list(
        api.get("/v1/event/list?name=deploy"),
        [
            event_dict(ids["deploy"][0], "deploy", ltime=2),
            event_dict(ids["deploy"][1], "deploy", ltime=5),
        ],
    )
    expect_list(
        api.get("/v1/event/list?name=Deploy"), [event_dict(ids["Deploy"][0], "Deploy", ltime=3)]
    )


def test_list_name_filter_with_no_match_is_empty_with_index_1(api: Transport) -> None:
    api.put("/v1/event/fire/deploy")
    expect_list(api.get("/v1/event/list?name=nothing"), [])


def test_list_empty_name_means_no_filter(api: Transport) -> None:
    api.put("/v1/event/fire/a")
    api.put("/v1/event/fire/b")
    assert len(api.get("/v1/event/list?name=").json()) == 2


@pytest.mark.parametrize(
    ("fired", "query"),
    [
        ("grp/deploy", "grp/deploy"),
        ("grp/deploy", "grp%2Fdeploy"),
        ("hello%20world", "hello+world"),
        ("hello%20world", "hello%20world"),
        ("a+b", "a%2Bb"),
        ("d%C3%A9ploy", "d%C3%A9ploy"),
        ("what%3F", "what%3F"),
    ],
)
def test_list_name_filter_is_query_decoded(api: Transport, fired: str, query: str) -> None:
    event_id = fired_id(api.put(f"/v1/event/fire/{fired}"))
    api.put("/v1/event/fire/other")
    reply = api.get(f"/v1/event/list?name={query}")
    assert [e["ID"] for e in reply.json()] == [event_id]
    assert list_index(reply) == uuid_to_uint64(event_id)


def test_list_name_filter_uses_the_first_value(api: Transport) -> None:
    a = fired_id(api.put("/v1/event/fire/a"))
    api.put("/v1/event/fire/b")
    assert [e["ID"] for e in api.get("/v1/event/list?name=a&name=b").json()] == [a]


# -- parameters that do nothing (§5.3) --------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "node=nomatch",
        "service=nomatch",
        "tag=nomatch",
        "tag=(",
        "node=(",
        "dc=dc2",
        "dc=nowhere",
        "stale",
        "consistent",
        "cached",
        "near=_agent",
        "filter=Name+%3D%3D+%22x%22",
        "token=whatever",
        "index=",
        "wait=",
    ],
)
def test_list_ignores_parameters_it_does_not_read(api: Transport, query: str) -> None:
    api.put("/v1/event/fire/deploy")
    api.put("/v1/event/fire/restart?node=node1")
    plain = api.get("/v1/event/list")
    reply = api.get(f"/v1/event/list?{query}")
    assert (reply.status, reply.body) == (200, plain.body)
    assert sorted(reply.headers) == sorted(plain.headers)


def test_list_ignores_the_token_header(api: Transport) -> None:
    api.put("/v1/event/fire/deploy")
    reply = api.get("/v1/event/list", headers=[("X-Consul-Token", "unknown")])
    assert len(reply.json()) == 1
    assert reply.header("X-Consul-Results-Filtered-By-Acls") is None


# -- wait and index parsing (§5.1, §5.2) ------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "wait=10",
        "wait=abc",
        "wait=1d",
        "wait=00",
        "wait=1e3s",
        "wait=s",
        "wait=.s",
        "wait=+1s",  # raw + is a space: " 1s"
        "wait=+0",
        "wait=%201s",
        "wait=1s%20",
        "wait=1%20s",
        "wait=10&index=1",
        "wait=10&index=abc",  # wait is checked first
        "index=1&wait=1",
        "wait=9223372036854775808ns",
        "wait=2562048h",
    ],
)
def test_list_bad_wait_is_400_even_without_index(api: Transport, query: str) -> None:
    assert_text(api.get(f"/v1/event/list?{query}"), 400, "Invalid wait time")


@pytest.mark.parametrize(
    "query",
    [
        "index=abc",
        "index=-1",
        "index=1.5",
        "index=18446744073709551616",
        "index=99999999999999999999999",
        "index=+5",  # raw + is a space
        "index=%2B5",
        "index=%205",
        "index=0x10",
        "index=1_000",
        "index=1e3",
        "wait=1s&index=abc",
    ],
)
def test_list_bad_index_is_400(api: Transport, query: str) -> None:
    assert_text(api.get(f"/v1/event/list?{query}"), 400, "Invalid index")


@pytest.mark.parametrize(
    "query",
    [
        "wait=%2B1s",  # +1s
        "wait=-5s",
        "wait=0",
        "wait=%2B0",
        "wait=0s",
        "wait=1m30s",
        "wait=1.5h",
        "wait=.5s",
        "wait=1.s",
        "wait=1%C2%B5s",  # µs (U+00B5)
        "wait=1%CE%BCs",  # μs (U+03BC)
        "wait=10s",
        "wait=700s",
        "index=0",
        "index=0&wait=10s",
        "index=007",
        "index=18446744073709551615",
        "index=2&wait=10ms",
    ],
)
def test_list_good_wait_and_index_answer_at_once(api: Transport, query: str) -> None:
    expect_list(api.get(f"/v1/event/list?{query}"), [])


def test_list_wait_and_index_errors_carry_no_index_header(api: Transport) -> None:
    assert api.get("/v1/event/list?index=x").header("X-Consul-Index") is None


# -- the buffer -------------------------------------------------------------------------------


def test_list_keeps_the_last_256_events(api: Transport, consul_agent: FakeConsulAgent) -> None:
    fired = [consul_agent.fire(f"e{i}") for i in range(260)]
    reply = api.get("/v1/event/list")
    listed = reply.json()
    assert [e["ID"] for e in listed] == [e.id for e in fired[4:]]
    assert [e["LTime"] for e in listed] == list(range(6, 262))
    assert list_index(reply) == uuid_to_uint64(fired[-1].id)


def test_list_never_shows_rexec(api: Transport) -> None:
    api.put("/v1/event/fire/_rexec")
    kept = fired_id(api.put("/v1/event/fire/_other"))
    assert [e["ID"] for e in api.get("/v1/event/list").json()] == [kept]
    assert api.get("/v1/event/list?name=_rexec").body == b"[]"


def test_list_ltime_skips_the_rexec_tick(api: Transport) -> None:
    # _rexec goes through serf (using LTime 2) but is never stored.
    api.put("/v1/event/fire/_rexec")
    api.put("/v1/event/fire/deploy")
    assert [e["LTime"] for e in api.get("/v1/event/list").json()] == [3]
