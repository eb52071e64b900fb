"""``PUT /v1/event/fire/<name>`` (consul-events.md §1 rows 1-3, 7-16; §3; §4)."""

from __future__ import annotations

import base64

import pytest
from http_support import (
    ACL_POLICY,
    EVENT_KEYS,
    JSON,
    TEXT,
    VARY,
    Reply,
    Transport,
    assert_headers,
    assert_text,
    event_dict,
    fired_id,
    go_json,
)

from pytest_consul_events.fake import FakeConsulAgent

BEFORE = (
    "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
)
AFTER = (
    "error broadcasting event: encoded user event exceeds configured limit of 512 bytes after "
    "encoding"
)


def expect_fired(reply: Reply, name: str, payload: str | None = None, **filters: str) -> str:
    """A 200 fire answer: exact bytes (keys in Go field order, ``LTime`` 0), exact headers."""
    event_id = fired_id(reply)
    assert reply.body == go_json(event_dict(event_id, name, payload, **filters))
    assert_headers(reply, JSON)
    return event_id


# -- success ----------------------------------------------------------------------------------


def test_fire_without_body_answers_the_event_with_null_payload(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    reply = api.put("/v1/event/fire/deploy")
    event_id = expect_fired(reply, "deploy")
    assert [key for key, _ in reply.json_pairs()] == EVENT_KEYS
    assert reply.header("X-Consul-Index") is None
    assert [e.id for e in consul_agent.events] == [event_id]


def test_fire_response_ltime_is_always_zero(api: Transport) -> None:
    for _ in range(3):
        assert api.put("/v1/event/fire/deploy").json()["LTime"] == 0


def test_fire_ids_are_go_uuid_shaped_and_distinct(api: Transport) -> None:
    ids = {fired_id(api.put("/v1/event/fire/deploy")) for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize(
    "body",
    [b"hello", b"\x00\xff\xfe binary \r\n", bytes(range(256)), b"x" * 404],
    ids=["text", "binary", "all-bytes", "404-bytes"],
)
def test_fire_payload_is_standard_base64(api: Transport, body: bytes) -> None:
    reply = api.put("/v1/event/fire/deploy", body=body)
    expect_fired(reply, "deploy", base64.b64encode(body).decode())


def test_fire_with_content_length_zero_has_null_payload(api: Transport) -> None:
    expect_fired(api.put("/v1/event/fire/deploy", body=b""), "deploy")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"a=1&b=2"),
        ("application/x-www-form-urlencoded; charset=utf-8", b"null"),  # consulate, no payload
        ("application/json", b'{"x": 1}'),
        ("application/json; charset=utf-8", b"not json at all"),  # node-consul
        ("text/plain; charset=utf-8", b"plain"),  # aiohttp
        ("application/octet-stream", b"\x01\x02"),  # Go api client
        ("multipart/form-data; boundary=xyz", b"--xyz--\r\n"),
    ],
)
def test_fire_keeps_the_body_raw_whatever_its_content_type(
    api: Transport, content_type: str, body: bytes
) -> None:
    reply = api.put("/v1/event/fire/deploy", headers=[("Content-Type", content_type)], body=body)
    expect_fired(reply, "deploy", base64.b64encode(body).decode())


def test_fire_with_a_content_type_but_no_body_has_null_payload(api: Transport) -> None:
    # aiohttp sends text/plain even for an empty body (consul-events.md §14 item 4).
    reply = api.put(
        "/v1/event/fire/deploy", headers=[("Content-Type", "text/plain; charset=utf-8")], body=b""
    )
    expect_fired(reply, "deploy")


# -- the name ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("a/b", "a/b"),
        ("grp/deploy/x", "grp/deploy/x"),
        ("grp%2Fdeploy", "grp/deploy"),
        ("hello%20world", "hello world"),
        ("what%3F", "what?"),
        ("a+b", "a+b"),  # + is a space only in queries
        ("a%2Bb", "a+b"),
        ("d%C3%A9ploy", "d\u00e9ploy"),
        ("%E2%9C%93", "\u2713"),
        ("_private", "_private"),
        ("a%26b", "a&b"),
        ("%3Cb%3E", "<b>"),
        ("Deploy.V2-x_y~z", "Deploy.V2-x_y~z"),
        ("a;b", "a;b"),
        # Go >= 1.22 cleans the escaped path: escaped slashes are no separators, so dot
        # segments between them are not cleaned away (Go stdlib, UNCONFIRMED in the reference).
        ("a%2F..%2Fb", "a/../b"),
        ("%2E%2E", ".."),
    ],
)
def test_fire_name_is_the_decoded_rest_of_the_path(api: Transport, path: str, name: str) -> None:
    reply = api.put(f"/v1/event/fire/{path}")
    expect_fired(reply, name)


def test_fire_name_utf8_is_raw_in_the_json(api: Transport) -> None:
    reply = api.put("/v1/event/fire/d%C3%A9ploy")
    assert b'"Name":"d\xc3\xa9ploy"' in reply.body


def test_fire_name_html_characters_are_escaped_like_go(api: Transport) -> None:
    # Go encoding/json escapes <, > and & (UNCONFIRMED from source, see §2).
    reply = api.put("/v1/event/fire/%3Ca%26b%3E")
    assert b'"Name":"\\u003ca\\u0026b\\u003e"' in reply.body


def test_fire_name_with_invalid_utf8_is_encoded_as_replacement_character(api: Transport) -> None:
    # %FF passes the printable-path check (Go sees U+FFFD); encoding/json writes U+FFFD.
    reply = api.put("/v1/event/fire/a%FFb")
    assert reply.status == 200
    assert b'"Name":"a\xef\xbf\xbdb"' in reply.body


def test_fire_with_empty_name_is_400_missing_name(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    assert_text(api.put("/v1/event/fire/"), 400, "Missing name")
    assert consul_agent.fired == []


def test_fire_empty_name_beats_filter_errors(api: Transport) -> None:
    assert_text(api.put("/v1/event/fire/?tag=x&node=("), 400, "Missing name")


# -- filters ----------------------------------------------------------------------------------


def test_fire_echoes_the_filters(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy?node=web-.*&service=api&tag=v1")
    expect_fired(reply, "deploy", node="web-.*", service="api", tag="v1")


def test_fire_filters_are_query_decoded_and_first_value_wins(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy?node=a+b&node=zzz&service=x%2Ay")
    expect_fired(reply, "deploy", node="a b", service="x*y")


@pytest.mark.parametrize(
    "query",
    ["tag=v1", "tag=v1&service=", "service=&tag=v1&node=web", "tag=(&node=("],
)
def test_fire_tag_without_service_is_500(
    api: Transport, consul_agent: FakeConsulAgent, query: str
) -> None:
    reply = api.put(f"/v1/event/fire/deploy?{query}")
    assert_text(reply, 500, "Cannot provide tag filter without service filter")
    assert consul_agent.fired == []


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("node=(", "Invalid node filter: error parsing regexp: missing closing ): `(`"),
        ("service=[", "Invalid service filter: error parsing regexp: missing closing ]: `[`"),
        (
            "service=web&tag=*",
            "Invalid tag filter: error parsing regexp: missing argument to repetition operator: "
            "`*`",
        ),
        (
            "node=%28%3F%3Da%29",  # (?=a)
            "Invalid node filter: error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
        ),
        (
            "service=%28a%29%5C1",  # (a)\1
            "Invalid service filter: error parsing regexp: invalid escape sequence: `\\1`",
        ),
        # The node filter is compiled first, then service, then tag.
        (
            "node=(&service=[&tag=*",
            "Invalid node filter: error parsing regexp: missing closing ): `(`",
        ),
        (
            "service=[&tag=*",
            "Invalid service filter: error parsing regexp: missing closing ]: `[`",
        ),
    ],
)
def test_fire_invalid_filter_regex_is_500_with_go_error(
    api: Transport, consul_agent: FakeConsulAgent, query: str, body: str
) -> None:
    assert_text(api.put(f"/v1/event/fire/deploy?{query}"), 500, body)
    assert consul_agent.fired == []


@pytest.mark.parametrize(
    "node",
    ["%5Cz", "%5B%5B%3Aalpha%3A%5D%5D", "%5CpL", "%5E(web%7Capi)-%5Cd%2B%24"],
    ids=["\\z", "[[:alpha:]]", "\\pL", "^(web|api)-\\d+$"],
)
def test_fire_accepts_go_only_regex_syntax(api: Transport, node: str) -> None:
    assert api.put(f"/v1/event/fire/deploy?node={node}").status == 200


# -- datacenter -------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["dc=dc1", "dc=", "dc=dc1&dc=dc2"])
def test_fire_in_the_local_datacenter(api: Transport, query: str) -> None:
    expect_fired(api.put(f"/v1/event/fire/deploy?{query}"), "deploy")


@pytest.mark.parametrize("dc", ["dc2", "DC1", "dc1 "])
def test_fire_to_an_unknown_datacenter_is_500(
    api: Transport, consul_agent: FakeConsulAgent, dc: str
) -> None:
    # DC1: Consul does not lowercase ?dc= (§3.1, UNCONFIRMED); asserted as the fake does it.
    reply = api.put(f"/v1/event/fire/deploy?dc={dc.replace(' ', '%20')}")
    assert_text(reply, 500, "No path to datacenter")
    assert consul_agent.fired == []


def test_fire_validation_beats_unknown_datacenter(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy?dc=dc2&tag=x")
    assert_text(reply, 500, "Cannot provide tag filter without service filter")


def test_fire_unknown_datacenter_beats_size(api: Transport) -> None:
    assert_text(
        api.put("/v1/event/fire/deploy?dc=dc2", body=b"x" * 600), 500, "No path to datacenter"
    )


@pytest.mark.consul_agent(datacenter="east")
def test_fire_uses_the_configured_datacenter(api: Transport) -> None:
    assert api.put("/v1/event/fire/deploy?dc=east").status == 200
    assert_text(api.put("/v1/event/fire/deploy?dc=dc1"), 500, "No path to datacenter")


# -- tokens (ACLs disabled: any token is accepted) --------------------------------------------


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?token=anything", []),
        ("", [("X-Consul-Token", "anything")]),
        ("", [("Authorization", "Bearer anything")]),
        ("", [("Authorization", "Basic dXNlcjpwdw==")]),
    ],
)
def test_fire_ignores_tokens_with_acls_disabled(
    api: Transport, query: str, headers: list[tuple[str, str]]
) -> None:
    expect_fired(api.put(f"/v1/event/fire/deploy{query}", headers=headers), "deploy")


# -- size limit (§4.3) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "error"),
    [(0, None), (404, None), (405, AFTER), (434, AFTER), (435, BEFORE), (4096, BEFORE)],
)
def test_fire_size_limit_for_deploy_on_a_fresh_clock(
    api: Transport, consul_agent: FakeConsulAgent, size: int, error: str | None
) -> None:
    reply = api.put("/v1/event/fire/deploy", body=b"p" * size)
    if error is None:
        assert reply.status == 200
        assert len(consul_agent.events) == 1
    else:
        assert_text(reply, 500, error)
        assert consul_agent.fired == []


def test_fire_size_limit_with_a_node_filter(api: Transport) -> None:
    # Each filter adds 3 + h(len) + len bytes to the inner blob: ?node=node1 => max 395.
    assert api.put("/v1/event/fire/deploy?node=node1", body=b"p" * 395).status == 200
    assert_text(api.put("/v1/event/fire/deploy?node=node1", body=b"p" * 396), 500, AFTER)


def test_fire_size_limit_with_service_and_tag_filters(api: Transport) -> None:
    assert api.put("/v1/event/fire/deploy?service=web&tag=v1", body=b"p" * 391).status == 200
    reply = api.put("/v1/event/fire/deploy?service=web&tag=v1", body=b"p" * 392)
    assert_text(reply, 500, AFTER)


def test_fire_size_limit_shrinks_once_the_clock_passes_127(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    for _ in range(126):  # the clock starts at 2: 126 fires bring it to 128
        consul_agent.fire("tick")
    assert_text(api.put("/v1/event/fire/deploy", body=b"p" * 404), 500, AFTER)
    assert api.put("/v1/event/fire/deploy", body=b"p" * 403).status == 200


@pytest.mark.parametrize(
    ("name_length", "ok"),
    [(209, True), (210, False)],
)
def test_fire_long_names_fit_only_up_to_209_bytes(
    api: Transport, name_length: int, ok: bool
) -> None:
    reply = api.put("/v1/event/fire/" + "n" * name_length)
    if ok:
        expect_fired(reply, "n" * name_length)
    else:
        assert_text(reply, 500, AFTER)


def test_fire_rejected_for_size_does_not_use_a_lamport_tick(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    assert api.put("/v1/event/fire/deploy", body=b"p" * 500).status == 500
    assert api.put("/v1/event/fire/deploy").status == 200
    assert [e.ltime for e in consul_agent.events] == [2]


# -- what gets stored -------------------------------------------------------------------------


def test_fire_stores_the_event_with_lamport_times_from_2(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    # First stored LTime 2 on a fresh dev agent is UNCONFIRMED empirically (§1 row 30, §7).
    ids = [fired_id(api.put("/v1/event/fire/deploy")) for _ in range(3)]
    assert [(e.id, e.ltime) for e in consul_agent.events] == list(zip(ids, [2, 3, 4], strict=True))


@pytest.mark.parametrize(
    "query",
    ["node=%5Eother%24", "service=.%2A", "node=node1&service=web"],
    ids=["other-node", "service-without-services", "node-ok-service-missing"],
)
def test_fire_succeeds_even_when_its_filters_exclude_this_agent(
    api: Transport, consul_agent: FakeConsulAgent, query: str
) -> None:
    reply = api.put(f"/v1/event/fire/deploy?{query}")
    assert reply.status == 200
    assert consul_agent.events == []
    assert len(consul_agent.fired) == 1


def test_fire_node_filter_is_an_unanchored_search(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    api.put("/v1/event/fire/a?node=ode")
    api.put("/v1/event/fire/b?node=%5Enode1%24")
    api.put("/v1/event/fire/c?node=%5Eode")
    assert [e.name for e in consul_agent.events] == ["a", "b"]


@pytest.mark.consul_agent(services=[{"name": "web", "id": "web-1", "tags": ("v1", "blue")}])
def test_fire_service_filter_matches_the_service_id_and_tag_filter_its_tags(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    api.put("/v1/event/fire/by-id?service=%5Eweb-1%24")
    api.put("/v1/event/fire/by-name?service=%5Eweb%24")
    api.put("/v1/event/fire/tag?service=web&tag=%5Eblue%24")
    api.put("/v1/event/fire/no-tag?service=web&tag=green")
    assert [e.name for e in consul_agent.events] == ["by-id", "tag"]


def test_fire_rexec_answers_200_but_is_never_listed(
    api: Transport, consul_agent: FakeConsulAgent
) -> None:
    expect_fired(api.put("/v1/event/fire/_rexec", body=b"{}"), "_rexec", "e30=")
    assert consul_agent.events == []
    assert api.put("/v1/event/fire/_rexecx").status == 200
    assert [e.name for e in consul_agent.events] == ["_rexecx"]


def test_fire_answer_carries_the_wrapper_headers(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy")
    assert reply.values("X-Consul-Default-Acl-Policy") == [ACL_POLICY[1]]
    assert reply.values("Vary") == [VARY[1]]
    assert reply.values("Content-Type") == [JSON]


def test_fire_errors_are_plain_text(api: Transport) -> None:
    reply = api.put("/v1/event/fire/deploy?dc=nowhere")
    assert reply.values("Content-Type") == [TEXT]
