"""The control API under ``/_fake/``: every route and every error, over real HTTP, against
agents and clusters made in this process (the standalone command serves the same app)."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from standalone_support import ROOT, Reply, environment, request

from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.fake import STRICT_FAILURE, FakeConsulAgent
from pytest_consul_events.http import control


def call(agent: FakeConsulAgent, method: str, path: str, body: Any = None, **kw: Any) -> Reply:
    return request(f"{agent.url}/_fake/{path}", method, body, **kw)


def ok(reply: Reply) -> Any:
    assert reply.status == 200, reply
    assert reply.headers["content-type"] == "application/json"
    return reply.json()


def error(reply: Reply, status: int, message: str) -> dict[str, Any]:
    assert (reply.status, reply.headers["content-type"]) == (status, "application/json"), reply
    body: dict[str, Any] = reply.json()
    assert body["error"] == message
    return body


@pytest.fixture
def agent() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent(node_name="web-1", services=["web"], seed=7) as agent:
        yield agent


@pytest.fixture
def cluster() -> Iterator[FakeConsulCluster]:
    with FakeConsulCluster(["a", "b", {"node_name": "c", "datacenter": "west"}], seed=5) as c:
        yield c


# -- the route table and the generic errors --------------------------------------------------------


def test_the_index_lists_every_route(agent: FakeConsulAgent) -> None:
    routes = ok(call(agent, "GET", ""))["routes"]
    assert {(tuple(r["methods"]), r["path"]) for r in routes} == {
        (tuple(methods.split(",")), path) for path, _, methods in control._ROUTES
    }
    assert len(routes) == 34


def test_the_readme_documents_every_route() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `((?:GET|POST|PUT|DELETE) /_fake/\S*)` \|", readme, re.M))
    table = set()
    for path, _, methods in control._ROUTES:
        for method in methods.split(","):
            table.add(f"{method} {path}".replace("<path:service_id>", "<id>"))
    assert documented == table


def test_a_doubled_slash_after_the_control_base_is_the_same_route(agent: FakeConsulAgent) -> None:
    assert ok(request(f"{agent.url}/_fake//agent"))["node_name"] == "web-1"


def test_an_unknown_route_is_404(agent: FakeConsulAgent) -> None:
    error(call(agent, "GET", "nope"), 404, "no control route /_fake/nope (GET /_fake/ lists them)")


def test_a_wrong_method_is_405_with_allow(agent: FakeConsulAgent) -> None:
    reply = call(agent, "GET", "reset")
    error(reply, 405, "method GET not allowed on /_fake/reset (allowed: POST)")
    assert reply.headers["allow"] == "POST"


def test_options_lists_the_methods_and_does_nothing(agent: FakeConsulAgent) -> None:
    agent.fire("kept")
    reply = call(agent, "OPTIONS", "reset")
    assert (reply.status, reply.headers["allow"], reply.body) == (200, "POST", b"")
    assert call(agent, "OPTIONS", "services").headers["allow"] == "GET, POST, PUT"
    assert [e.name for e in agent.events] == ["kept"]
    error(
        call(agent, "OPTIONS", "nope"), 404, "no control route /_fake/nope (GET /_fake/ lists them)"
    )


def test_a_body_that_is_not_json_is_400(agent: FakeConsulAgent) -> None:
    reply = call(agent, "POST", "configure", raw=b"{nope")
    error(
        reply,
        400,
        "the body is not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    )
    error(
        call(agent, "POST", "configure", [1]), 400, "the body must be a JSON object, not an array"
    )


def test_an_unknown_field_is_400(agent: FakeConsulAgent) -> None:
    error(
        call(agent, "POST", "reset", {"now": True}),
        400,
        "unknown field(s): now (known: none)",
    )


def test_a_body_over_1_mib_is_413(agent: FakeConsulAgent) -> None:
    # Only the head is sent: the answer comes before the body is read (a client still
    # sending a large body may see the connection reset instead of the answer).
    with socket.create_connection((agent.host, agent.port), timeout=10) as sock:
        sock.sendall(
            f"POST /_fake/fire HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {control.MAX_BODY + 1}\r\nConnection: close\r\n\r\n".encode()
        )
        with sock.makefile("rb") as stream:
            status = stream.readline()
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
    assert status == b"HTTP/1.1 413 Request Entity Too Large\r\n"
    assert json.loads(body) == {"error": f"the body is larger than {control.MAX_BODY} bytes"}


def test_a_bug_is_a_one_line_500(agent: FakeConsulAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: control.Context) -> tuple[int, Any]:
        raise RuntimeError("boom")

    monkeypatch.setitem(control._HANDLERS, "report:/_fake/report", broken)
    error(call(agent, "GET", "report"), 500, "internal error: RuntimeError: boom")

    def multiline(ctx: control.Context) -> tuple[int, Any]:
        raise RuntimeError("line one\nline two")

    monkeypatch.setitem(control._HANDLERS, "report:/_fake/report", multiline)
    error(call(agent, "GET", "report"), 500, "internal error: RuntimeError: line one line two")


def test_control_requests_are_not_logged_and_never_strict_failures() -> None:
    with FakeConsulAgent(strict=True) as agent:
        call(agent, "GET", "agent")
        call(agent, "GET", "nope")
        request(f"{agent.url}/v1/event/list")
        assert [(r.method, r.path) for r in agent.requests] == [("GET", "/v1/event/list")]
        agent.verify()


def test_the_control_api_loads_werkzeug_routing_only_when_first_called() -> None:
    script = """
import sys, urllib.request
from pytest_consul_events.fake import FakeConsulAgent
with FakeConsulAgent() as agent:
    urllib.request.urlopen(agent.url + "/v1/event/list").read()
    before = "werkzeug.routing" in sys.modules
    urllib.request.urlopen(agent.url + "/_fake/agent").read()
    print(before, "werkzeug.routing" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment()
    )
    assert out.stdout == "False True\n", out.stderr


# -- the agent -------------------------------------------------------------------------------------


def test_agent_describes_itself_without_secrets() -> None:
    with FakeConsulAgent(acl="deny", management_token="root-secret", default_token="dflt") as a:
        info = ok(call(a, "GET", "agent"))
        assert info == {
            "node_name": "node1",
            "datacenter": "dc1",
            "server": True,
            "node_id": a.node_id,
            "address": a.http_addr,
            "url": a.url,
            "running": True,
            "seed": a.seed,
            "clock": "real",
            "strict": False,
            "acl": "deny",
            "buffer_size": 256,
            "dev_mode": False,
            "http_max_conns_per_client": 200,
            "history_limit": 10000,
            "services": [],
            "blocked_queries": 0,
        }
        assert b"root-secret" not in call(a, "GET", "agent").body
        assert b"dflt" not in call(a, "GET", "agent").body


def test_reset_starts_over_from_the_start_up_configuration(agent: FakeConsulAgent) -> None:
    agent.fire("deploy")
    agent.register_service("db")
    info = ok(call(agent, "POST", "reset"))
    assert (agent.events, [s["id"] for s in info["services"]]) == ([], ["web"])
    assert info["node_name"] == "web-1"


def test_configure_takes_the_marker_options_over_the_start_up_ones(agent: FakeConsulAgent) -> None:
    info = ok(
        call(
            agent,
            "POST",
            "configure",
            {
                "services": ["db", {"name": "api", "id": "api-1", "tags": ["v2"]}],
                "buffer_size": 3,
                "seed": 9,
                "dev_mode": True,
                "acl": "deny",
                "management_token": "root",
                "tokens": {"deployer": 'event "deploy" { policy = "write" }'},
                "default_token": "deployer",
                "http_max_conns_per_client": 5,
                "history_limit": 50,
                "clock": "manual",
                "strict": True,
            },
        )
    )
    assert {k: info[k] for k in ("node_name", "buffer_size", "seed", "dev_mode", "acl")} == {
        "node_name": "web-1",
        "buffer_size": 3,
        "seed": 9,
        "dev_mode": True,
        "acl": "deny",
    }
    assert [s["id"] for s in info["services"]] == ["db", "api-1"]
    assert (info["clock"], info["strict"], info["http_max_conns_per_client"]) == ("manual", True, 5)
    assert info["history_limit"] == 50
    assert agent.fire("deploy").name == "deploy"  # the default token may write it
    ok(call(agent, "POST", "reset"))
    assert (agent.config.buffer_size, agent.config.acl, agent.strict) == (256, None, False)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"buffer_size": 0}, "buffer_size must be an int from 1 to 1000000000, not 0 (int)"),
        (
            {"clock": "sundial"},
            "clock must be 'real', 'manual', a ManualClock or None, not 'sundial' (str)",
        ),
        ({"acl": "maybe"}, "acl must be None, 'allow' or 'deny', not 'maybe' (str)"),
        ({"strict": 1}, "strict must be True or False, not 1 (int)"),
        (
            {"services": "web"},
            "services must be a list or tuple of services (names, dicts of service fields or "
            "Services), not 'web' (str)",
        ),
    ],
)
def test_configure_answers_the_python_api_s_error(
    agent: FakeConsulAgent, body: dict[str, Any], message: str
) -> None:
    agent.fire("kept")
    error(call(agent, "POST", "configure", body), 400, message)
    assert [e.name for e in agent.events] == ["kept"]


def test_configure_names_an_unknown_option(agent: FakeConsulAgent) -> None:
    known = ", ".join(control.AGENT_OPTIONS)
    error(
        call(agent, "POST", "configure", {"colour": "red"}),
        400,
        f"unknown field(s): colour (known: {known})",
    )


# -- events ----------------------------------------------------------------------------------------


def event_dict(agent: FakeConsulAgent, index: int = -1) -> dict[str, Any]:
    event = agent.events[index]
    return {
        "ID": event.id,
        "Name": event.name,
        "Payload": None if event.payload is None else base64.b64encode(event.payload).decode(),
        "NodeFilter": event.node_filter,
        "ServiceFilter": event.service_filter,
        "TagFilter": event.tag_filter,
        "Version": 1,
        "LTime": event.ltime,
        "Index": str(event.index),
    }


def test_fire_takes_text_base64_or_no_payload(agent: FakeConsulAgent) -> None:
    first = ok(call(agent, "POST", "fire", {"name": "deploy", "payload": "v1", "service": "web"}))
    assert first["event"]["Payload"] == "djE="
    assert first["event"]["LTime"] == 0
    ok(call(agent, "POST", "fire", {"name": "raw", "payload_base64": "AP8="}))
    ok(call(agent, "POST", "fire", {"name": "empty", "payload": None}))
    assert [(e.name, e.payload) for e in agent.events] == [
        ("deploy", b"v1"),
        ("raw", b"\x00\xff"),
        ("empty", None),
    ]
    assert agent.requests.filter(method="PUT") == []


@pytest.mark.parametrize(
    ("body", "status", "message", "consul_error"),
    [
        ({"name": ""}, 400, "Missing name", "MissingNameError"),
        ({"name": "x", "dc": "dc9"}, 500, "No path to datacenter", "NoPathToDatacenterError"),
        (
            {"name": "x", "tag": "v1"},
            500,
            "Cannot provide tag filter without service filter",
            "InvalidFilterError",
        ),
    ],
)
def test_fire_answers_consul_s_status_and_text(
    agent: FakeConsulAgent, body: dict[str, Any], status: int, message: str, consul_error: str
) -> None:
    assert error(call(agent, "POST", "fire", body), status, message)["consul_error"] == consul_error


def test_fire_without_permission_is_403() -> None:
    with FakeConsulAgent(acl="deny") as agent:
        reply = call(agent, "POST", "fire", {"name": "x", "token": "anonymous"})
        assert error(reply, 403, "Permission denied")["consul_error"] == "PermissionDeniedError"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": 3}, "name must be a string, not a number"),
        (
            {"name": "x", "payload": "a", "payload_base64": "YQ=="},
            "give payload or payload_base64, not both",
        ),
        (
            {"name": "x", "payload_base64": "***"},
            "payload_base64 is not base64: Only base64 data is allowed",
        ),
        ({"name": "x", "payload": 5}, "payload must be a string or null, not a number"),
        ({"name": "x", "node": True}, "node must be a string, not a boolean"),
    ],
)
def test_fire_checks_its_fields(agent: FakeConsulAgent, body: dict[str, Any], message: str) -> None:
    error(call(agent, "POST", "fire", body), 400, message)


def test_events_and_fired_list_held_and_fired_events(agent: FakeConsulAgent) -> None:
    agent.fire("deploy", b"v1")
    agent.fire("elsewhere", node="^db$")  # filtered out of this agent's buffer
    agent.fire("deploy", b"v2")
    held = ok(call(agent, "GET", "events"))["events"]
    assert held == [event_dict(agent, 0), event_dict(agent, 1)]
    assert [e["Name"] for e in ok(call(agent, "GET", "fired"))["fired"]] == [
        "deploy",
        "elsewhere",
        "deploy",
    ]
    assert len(ok(call(agent, "GET", "events?name=deploy"))["events"]) == 2
    assert [e["Name"] for e in ok(call(agent, "GET", "fired?name=elsewhere"))["fired"]] == [
        "elsewhere"
    ]


def test_wait_answers_at_once_when_the_event_is_there(agent: FakeConsulAgent) -> None:
    agent.fire("deploy", b"v1")
    assert ok(call(agent, "POST", "wait", {"name": "deploy"}))["event"] == event_dict(agent)


def test_wait_answers_when_the_event_arrives(agent: FakeConsulAgent) -> None:
    result: list[Reply] = []
    thread = threading.Thread(
        target=lambda: result.append(
            call(agent, "POST", "wait", {"name": "deploy", "json": {"v": 2}, "timeout": 10})
        )
    )
    thread.start()
    try:
        agent.fire("deploy", b'{"v": 1}')
        agent.fire("deploy", b'{"v": 2}')
    finally:
        thread.join(10)
    assert ok(result[0])["event"]["Payload"] == base64.b64encode(b'{"v": 2}').decode()


def test_wait_times_out_with_408_and_the_assertion_s_message(agent: FakeConsulAgent) -> None:
    agent.fire("deploy", b"v1")
    reply = call(agent, "POST", "wait", {"name": "deploy", "payload": "v2", "timeout": 0.3})
    with pytest.raises(AssertionError) as excinfo:
        agent.wait_for_event("deploy", payload="v2", timeout=0.3)
    error(reply, 408, str(excinfo.value))
    assert "within 0.3s" in str(excinfo.value)


def test_wait_on_fired_events(agent: FakeConsulAgent) -> None:
    agent.fire("elsewhere", node="^db$")
    reply = call(agent, "POST", "wait", {"name": "elsewhere", "source": "fired", "timeout": 1})
    assert ok(reply)["event"]["Name"] == "elsewhere"
    reply = call(agent, "POST", "wait", {"name": "elsewhere", "timeout": 0})
    assert reply.status == 408


def test_a_wait_ends_with_503_when_the_agent_releases_its_waits(agent: FakeConsulAgent) -> None:
    result: list[Reply] = []
    thread = threading.Thread(
        target=lambda: result.append(call(agent, "POST", "wait", {"name": "x", "timeout": 30}))
    )
    thread.start()
    try:
        agent.wait_for_blocked(0)
        # The wait re-checks every control.WAIT_SLICE seconds; release it from here.
        threading.Timer(0.2, agent.release_blocked).start()
    finally:
        thread.join(10)
    error(result[0], 503, "the wait ended: agent 'web-1' is stopping")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "timeout": -1}, "timeout must be between 0 and 600 seconds, not -1"),
        ({"name": "x", "timeout": 601}, "timeout must be between 0 and 600 seconds, not 601"),
        ({"name": "x", "timeout": "5s"}, "timeout must be a number of seconds, not a string"),
        (
            {"name": "x", "source": "buffer"},
            "source must be 'fired' or 'events', not 'buffer' (str)",
        ),
        ({"timeout": 1}, "name is required"),
        ({"name": "x", "json": 1, "payload": "1"}, "give payload= or json=, not both"),
    ],
)
def test_wait_checks_its_fields(agent: FakeConsulAgent, body: dict[str, Any], message: str) -> None:
    error(call(agent, "POST", "wait", body), 400, message)


# -- assertions ------------------------------------------------------------------------------------


def test_assert_fired_answers_the_match_or_409_with_the_message(agent: FakeConsulAgent) -> None:
    agent.fire("deploy", b'{"v": 1}', service="web")
    agent.fire("deploy", b'{"v": 2}', service="web")
    reply = call(agent, "POST", "assert/fired", {"name": "deploy", "json": {"v": 2}})
    assert ok(reply)["event"]["Payload"] == base64.b64encode(b'{"v": 2}').decode()
    matched = ok(call(agent, "POST", "assert/fired", {"name": "deploy", "count": 2}))["events"]
    assert len(matched) == 2
    with pytest.raises(AssertionError) as excinfo:
        agent.assert_fired("deploy", service="db")
    error(
        call(agent, "POST", "assert/fired", {"name": "deploy", "service": "db"}),
        409,
        str(excinfo.value),
    )
    with pytest.raises(AssertionError) as excinfo:
        agent.assert_fired("deploy", count=3, source="events")
    reply = call(agent, "POST", "assert/fired", {"name": "deploy", "count": 3, "source": "events"})
    error(reply, 409, str(excinfo.value))
    error(
        call(agent, "POST", "assert/fired", {"name": "d", "count": -1}),
        400,
        "count must be an int >= 0 or None, not -1 (int)",
    )


def test_assert_not_fired(agent: FakeConsulAgent) -> None:
    ok(call(agent, "POST", "assert/not-fired", {}))
    agent.fire("rollback")
    ok(call(agent, "POST", "assert/not-fired", {"name": "deploy"}))
    with pytest.raises(AssertionError) as excinfo:
        agent.assert_not_fired()
    error(call(agent, "POST", "assert/not-fired", {}), 409, str(excinfo.value))


def test_assert_fired_in_order(agent: FakeConsulAgent) -> None:
    for name, payload in [("a", b"1"), ("b", b"2"), ("c", b"3")]:
        agent.fire(name, payload)
    body = {"events": ["a", {"name": "c", "payload": "3"}]}
    assert [
        e["Name"] for e in ok(call(agent, "POST", "assert/fired-in-order", body))["events"]
    ] == [
        "a",
        "c",
    ]
    with pytest.raises(AssertionError) as excinfo:
        agent.assert_fired_in_order(["c", "a"])
    error(
        call(agent, "POST", "assert/fired-in-order", {"events": ["c", "a"]}),
        409,
        str(excinfo.value),
    )
    error(
        call(agent, "POST", "assert/fired-in-order", {"events": "a"}),
        400,
        "events must be an array of names or objects, not a string",
    )
    error(
        call(agent, "POST", "assert/fired-in-order", {"events": [{"name": "a", "colour": 1}]}),
        400,
        "unknown field(s) in events: colour",
    )


# -- services, requests, strict mode, blocked queries, clock, report ------------------------------


def test_services_register_list_and_deregister(agent: FakeConsulAgent) -> None:
    body = {
        "name": "api",
        "id": "api-1",
        "tags": ["v2"],
        "port": 80,
        "address": "10.0.0.5",
        "meta": {"k": "v"},
    }
    service = ok(call(agent, "PUT", "services", body))["service"]
    assert service == {
        "id": "api-1",
        "name": "api",
        "tags": ["v2"],
        "port": 80,
        "address": "10.0.0.5",
        "meta": {"k": "v"},
    }
    assert [s["id"] for s in ok(call(agent, "GET", "services"))["services"]] == ["web", "api-1"]
    ok(call(agent, "DELETE", "services/api-1"))
    assert list(agent.services) == ["web"]
    error(
        call(agent, "DELETE", "services/api-1"),
        404,
        'Unknown service ID "api-1". Ensure that the service ID is passed, not the service name.',
    )
    error(call(agent, "PUT", "services", {}), 400, "name is required")
    error(call(agent, "POST", "services", {"name": ""}), 400, "Missing service name")


def test_requests_lists_consul_calls_with_tokens_redacted(agent: FakeConsulAgent) -> None:
    request(f"{agent.url}/v1/event/fire/deploy?token=secret", "PUT", raw=b"v1")
    request(f"{agent.url}/v1/kv/x")
    records = ok(call(agent, "GET", "requests"))
    assert records["dropped"] == 0
    first, second = records["requests"]
    assert {
        k: first[k] for k in ("method", "path", "query", "body", "status", "token", "implemented")
    } == {
        "method": "PUT",
        "path": "/v1/event/fire/deploy",
        "query": "token=<redacted>",
        "body": "v1",
        "status": 200,
        "token": True,
        "implemented": True,
    }
    assert (second["path"], second["implemented"]) == ("/v1/kv/x", False)
    unimplemented = ok(call(agent, "GET", "requests?implemented=false"))["requests"]
    assert [r["path"] for r in unimplemented] == ["/v1/kv/x"]
    error(
        call(agent, "GET", "requests?implemented=no"),
        400,
        "implemented must be true or false, not 'no'",
    )
    ok(call(agent, "DELETE", "requests"))
    assert list(agent.requests) == []


def test_verify_is_409_in_strict_mode_after_an_unimplemented_call() -> None:
    with FakeConsulAgent() as agent:
        request(f"{agent.url}/v1/kv/x")
        assert ok(call(agent, "GET", "verify")) == {"strict": False}
        ok(call(agent, "POST", "configure", {"strict": True}))
        assert ok(call(agent, "POST", "verify")) == {"strict": True}
        request(f"{agent.url}/v1/kv/x")
        [record] = agent.requests
        body = error(call(agent, "GET", "verify"), 409, f"{STRICT_FAILURE}\n  {record}")
        assert [r["path"] for r in body["unimplemented"]] == ["/v1/kv/x"]


def test_blocked_queries_can_be_counted_awaited_woken_and_released(agent: FakeConsulAgent) -> None:
    index = agent.list_events().index
    assert ok(call(agent, "GET", "blocked")) == {"blocked_queries": 0}
    error(
        call(agent, "POST", "blocked/wait", {"count": 1, "timeout": 0.1}),
        408,
        "0 list queries blocked after 0.1s, expected 1",
    )
    answers: list[Reply] = []

    def block() -> None:
        answers.append(request(f"{agent.url}/v1/event/list?index={index}&wait=30s"))

    thread = threading.Thread(target=block)
    thread.start()
    try:
        assert ok(call(agent, "POST", "blocked/wait", {"count": 1, "timeout": 5})) == {
            "blocked_queries": 1
        }
        ok(call(agent, "POST", "blocked/wake"))
        thread.join(5)
        assert answers[0].status == 200
        ok(call(agent, "POST", "blocked/release"))
        assert request(f"{agent.url}/v1/event/list?index={index}&wait=30s").status == 200
        assert agent.released
    finally:
        agent.release_blocked()
        thread.join(5)


def test_clock_advance_moves_a_manual_clock(agent: FakeConsulAgent) -> None:
    error(
        call(agent, "POST", "clock/advance", {"seconds": 1}),
        400,
        "advance() needs an agent made with clock='manual'",
    )
    ok(call(agent, "POST", "configure", {"clock": "manual"}))
    assert ok(call(agent, "POST", "clock/advance", {"seconds": 2.5})) == {
        "now": 2.5,
        "delivered": 0,
    }
    error(
        call(agent, "POST", "clock/advance", {"seconds": -1}),
        400,
        "seconds must be a finite number >= 0, not -1 (int)",
    )
    error(call(agent, "POST", "clock/advance", {}), 400, "seconds must be a number, not null")


def test_report_is_the_failure_report(agent: FakeConsulAgent) -> None:
    agent.fire("deploy")
    title, text = agent.failure_report()
    assert ok(call(agent, "GET", "report")) == {"title": title, "text": text}


# -- the cluster -----------------------------------------------------------------------------------


def test_cluster_routes_are_404_on_an_agent_alone(agent: FakeConsulAgent) -> None:
    error(
        call(agent, "POST", "cluster/settle"),
        404,
        "agent 'web-1' runs alone: /_fake/cluster/settle needs a datacenter of several agents",
    )
    error(call(agent, "GET", "events?node=other"), 404, "no agent named 'other'")
    assert ok(call(agent, "GET", "events?node=web-1")) == {"events": []}


def test_cluster_describes_itself_on_every_agent(cluster: FakeConsulCluster) -> None:
    described = [ok(call(a, "GET", "cluster")) for a in cluster]
    assert described[0] == described[1] == described[2]
    info = described[0]
    assert info["seed"] == 5
    assert info["clock"] == "real"
    assert info["gossip"] == {
        "unordered": False,
        "delay": [0.0, 0.0],
        "loss": 0.0,
        "duplicate": 0.0,
        "manual": False,
        "flush_after": 0.02,
    }
    assert info["datacenters"] == {"dc1": ["a", "b"], "west": ["c"]}
    assert [(x["node_name"], x["server"]) for x in info["agents"]] == [
        ("a", True),
        ("b", False),
        ("c", True),
    ]


def test_agent_routes_take_a_node_name(cluster: FakeConsulCluster) -> None:
    ok(call(cluster["a"], "POST", "fire", {"name": "deploy"}))
    assert [e["Name"] for e in ok(call(cluster["a"], "GET", "events?node=b"))["events"]] == [
        "deploy"
    ]
    ok(call(cluster["a"], "POST", "configure?node=b", {"services": ["web"]}))
    assert list(cluster["b"].services) == ["web"]
    error(
        call(cluster["a"], "POST", "configure?node=b", {"node_name": "z"}),
        400,
        "node_name cannot change on an agent of a cluster (agent 'b')",
    )
    error(
        call(cluster["a"], "POST", "configure", {"acl": "deny"}),
        400,
        "acl applies to the whole cluster: configure the cluster",
    )


def test_cluster_configure_reset_and_release(cluster: FakeConsulCluster) -> None:
    info = ok(call(cluster["b"], "POST", "cluster/configure", {"manual": True, "seed": 8}))
    assert (info["seed"], info["gossip"]["manual"]) == (8, True)
    cluster["a"].fire("one")
    cluster["a"].fire("two")
    assert ok(call(cluster["b"], "GET", "cluster"))["held"] == 2
    assert ok(call(cluster["b"], "POST", "cluster/release", {"count": 1})) == {"delivered": 1}
    assert ok(call(cluster["b"], "POST", "cluster/release", {"to": "b"})) == {"delivered": 1}
    assert [e.name for e in cluster["b"].events] == ["one", "two"]
    error(
        call(cluster["b"], "POST", "cluster/release", {"count": -2}),
        400,
        "count must be an int >= 0 or None, not -2 (int)",
    )
    error(
        call(cluster["b"], "POST", "cluster/release", {"to": "zz"}),
        404,
        "to must be the node name of an agent of the cluster, one of 'a', 'b', 'c', not 'zz' (str)",
    )
    info = ok(call(cluster["c"], "POST", "cluster/reset"))
    assert (info["seed"], info["gossip"]["manual"], info["held"]) == (5, False, 0)
    error(
        call(cluster["c"], "POST", "cluster/configure", {"buffer_size": 2}),
        400,
        f"unknown field(s): buffer_size (known: {', '.join(control.CLUSTER_OPTIONS)})",
    )
    error(
        call(cluster["c"], "POST", "cluster/configure", {"delay": [2, 1]}),
        400,
        "delay must be a (low, high) pair of finite seconds with 0 <= low <= high, such as "
        "(0.0, 0.5), not [2, 1] (list)",
    )


def test_cluster_settle_delivers_what_is_in_flight() -> None:
    with FakeConsulCluster(seed=2, unordered=True, flush_after=30) as cluster:
        cluster["node1"].fire("deploy")
        assert ok(call(cluster["node2"], "POST", "cluster/settle", {"timeout": 5})) == {
            "delivered": 2
        }
        assert [e.name for e in cluster["node3"].events] == ["deploy"]
        error(
            call(cluster["node2"], "POST", "cluster/settle", {"timeout": "x"}),
            400,
            "timeout must be a number of seconds, not a string",
        )


def test_cluster_partition_and_heal(cluster: FakeConsulCluster) -> None:
    ok(call(cluster["a"], "POST", "cluster/partition", {"groups": [["a"], ["b"]]}))
    cluster["a"].fire("deploy")
    assert cluster["b"].events == []
    assert ok(call(cluster["a"], "POST", "cluster/heal")) == {"delivered": 1}
    assert [e.name for e in cluster["b"].events] == ["deploy"]
    error(
        call(cluster["a"], "POST", "cluster/partition", {"groups": [["a"], ["zz"]]}),
        404,
        "a name in groups[1] must be the node name of an agent of the cluster, one of 'a', 'b', "
        "'c', not 'zz' (str)",
    )
    error(
        call(cluster["a"], "POST", "cluster/partition", {"groups": [["a"], ["a"]]}),
        400,
        "groups[1] must be a group of names not in groups[0], not 'a' (str)",
    )
    error(
        call(cluster["a"], "POST", "cluster/partition", {"groups": "a"}),
        400,
        "groups must be an array of arrays of node names",
    )


def test_cluster_stop_and_start_agents(cluster: FakeConsulCluster) -> None:
    assert ok(call(cluster["a"], "POST", "cluster/agents/b/stop")) == {
        "node_name": "b",
        "running": False,
    }
    with pytest.raises(OSError):
        request(f"{cluster['b'].url}/_fake/agent", timeout=2)
    assert ok(call(cluster["a"], "GET", "agent?node=b"))["running"] is False
    info = ok(call(cluster["a"], "POST", "cluster/agents/b/start"))
    assert (info["node_name"], info["running"]) == ("b", True)
    assert ok(call(cluster["b"], "GET", "agent"))["running"] is True
    error(call(cluster["a"], "POST", "cluster/agents/zz/stop"), 404, "no agent named 'zz'")
    error(
        call(cluster["a"], "POST", "cluster/agents/a/start"),
        409,
        "agent 'a' is running: it is answering this request",
    )


def test_an_agent_can_stop_itself(cluster: FakeConsulCluster) -> None:
    assert ok(call(cluster["b"], "POST", "cluster/agents/b/stop"))["running"] is False
    assert not cluster.gossip.is_running("b")
    cluster["a"].fire("deploy")
    assert cluster["b"].events == []


def test_cluster_trace_and_report(cluster: FakeConsulCluster) -> None:
    cluster["a"].fire("deploy")
    trace = ok(call(cluster["c"], "GET", "cluster/trace"))
    assert trace["seed"] == 5
    assert [(s["kind"], s["source"], s["target"], s["outcome"]) for s in trace["trace"]] == [
        ("fire", "a", "", "gossiped"),
        ("deliver", "a", "b", "stored"),
    ]
    assert ok(call(cluster["c"], "GET", "cluster/report")) == {"text": cluster.report()}


def test_clock_advance_on_a_cluster_delivers_what_is_due() -> None:
    with FakeConsulCluster(seed=4, clock=None, delay=(1.0, 1.0)) as cluster:
        ok(call(cluster["node1"], "POST", "cluster/configure", {"clock": "manual"}))
        cluster["node1"].fire("deploy")
        assert ok(call(cluster["node2"], "POST", "clock/advance", {"seconds": 1})) == {
            "now": 1.0,
            "delivered": 2,
        }


def test_json_output_is_one_document_per_answer(agent: FakeConsulAgent) -> None:
    body = call(agent, "GET", "agent").body
    assert body.endswith(b"\n")
    assert body.count(b"\n") == 1
    json.loads(body)
