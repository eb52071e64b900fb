"""The HTTP/1.1 server under the fake: framing as Go's net/http does it, lifecycle, threads.

Raw sockets throughout, so every byte on the wire is the test's own. Exact error answers
come from Go's ``conn.serve``: ``"HTTP/1.1 " + publicErr + errorHeaders + publicErr``, where
``publicErr`` carries a reason only for ``badRequestError``/``statusError`` values.
"""

from __future__ import annotations

import email.utils
import errno
import json
import socket
import threading
import time

import pytest
from http_support import (
    RawConnection,
    Transport,
    new_threads,
    raw_exchange,
    uuid_to_uint64,
    wait_until,
)

from pytest_consul_events.fake import FakeConsulAgent

ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"


def go_error(public: bytes) -> bytes:
    return b"HTTP/1.1 " + public + ERROR_HEADERS + public


BAD_REQUEST = go_error(b"400 Bad Request")


def request(
    method: str, target: str, *headers: str, body: bytes = b"", version: str = "1.1"
) -> bytes:
    lines = [f"{method} {target} HTTP/{version}", *headers]
    if body and not any(
        h.lower().startswith(("content-length", "transfer-encoding")) for h in headers
    ):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get_list(host: str = "Host: x") -> bytes:
    return request("GET", "/v1/event/list", host)


def assert_still_serving(agent: FakeConsulAgent) -> None:
    with RawConnection(agent.host, agent.port) as conn:
        conn.send(get_list())
        assert conn.read_response().status == 200


# -- keep-alive and versions ------------------------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(
    consul_agent: FakeConsulAgent,
) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(request("PUT", "/v1/event/fire/deploy", "Host: x", body=b"hello"))
        fired = conn.read_response()
        assert fired.status_line == b"HTTP/1.1 200 OK"
        assert fired.header("Connection") is None
        conn.send(get_list())
        listed = conn.read_response()
        assert listed.status == 200
        assert json.loads(listed.body)[0]["Payload"] == "aGVsbG8="
        conn.send(request("OPTIONS", "/v1/event/list", "Host: x"))
        assert conn.read_response().header("Allow") == "OPTIONS,GET"
    assert_still_serving(consul_agent)


def test_pipelined_requests_are_answered_in_order(consul_agent: FakeConsulAgent) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request("PUT", "/v1/event/fire/one", "Host: x")
            + request("PUT", "/v1/event/fire/two", "Host: x", body=b"2")
            + get_list()
        )
        one, two, listed = (conn.read_response() for _ in range(3))
    assert [json.loads(one.body)["Name"], json.loads(two.body)["Name"]] == ["one", "two"]
    assert [e["Name"] for e in json.loads(listed.body)] == ["one", "two"]


def test_every_answer_has_a_date_header(consul_agent: FakeConsulAgent) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(get_list())
        date = conn.read_response().header("Date")
    assert date is not None
    assert date.endswith(" GMT")
    assert email.utils.parsedate_to_datetime(date) is not None


def test_connection_close_from_the_client_closes_after_the_answer(
    consul_agent: FakeConsulAgent,
) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(request("GET", "/v1/event/list", "Host: x", "Connection: close"))
        reply = conn.read_response()
        assert (reply.status, reply.header("Connection")) == (200, "close")
        assert conn.at_eof()


def test_http10_without_keep_alive_is_answered_in_http10_and_closed(
    consul_agent: FakeConsulAgent,
) -> None:
    # HTTP/1.0 needs no Host. Go answers with its version and, as 1.0 closes by default,
    # without a Connection header.
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(request("GET", "/v1/event/list", version="1.0"))
        reply = conn.read_response()
        assert (reply.status_line, reply.body) == (b"HTTP/1.0 200 OK", b"[]")
        assert reply.header("Connection") is None
        assert reply.header("X-Consul-Index") == "1"
        assert conn.at_eof()


def test_http10_keep_alive_keeps_the_connection(consul_agent: FakeConsulAgent) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(request("PUT", "/v1/event/fire/x", "Connection: keep-alive", version="1.0"))
        first = conn.read_response()
        assert (first.status_line, first.header("Connection")) == (b"HTTP/1.0 200 OK", "keep-alive")
        conn.send(request("GET", "/v1/event/list", "Connection: keep-alive", version="1.0"))
        second = conn.read_response()
        assert [e["Name"] for e in json.loads(second.body)] == ["x"]


# -- the order of the headers: chunkWriter.writeHeader --------------------------------------------


def names_in_order(agent: FakeConsulAgent, data: bytes) -> list[str]:
    with RawConnection(agent.host, agent.port) as conn:
        conn.send(data)
        return [name for name, _ in conn.read_response().headers]


def test_headers_the_handler_set_come_sorted_then_date_and_length(
    consul_agent: FakeConsulAgent,
) -> None:
    # Header.WriteSubset sorts the handler's map; extraHeader.Write adds Date, Content-Length.
    assert names_in_order(consul_agent, get_list()) == [
        "Content-Type",
        "Vary",
        "X-Consul-Default-Acl-Policy",
        "X-Consul-Index",
        "Date",
        "Content-Length",
    ]


def test_a_sniffed_content_type_comes_after_the_length(consul_agent: FakeConsulAgent) -> None:
    sent = request("PUT", "/v1/event/list", "Host: x", "Content-Length: 0")
    assert names_in_order(consul_agent, sent) == [
        "Allow",
        "Vary",
        "X-Consul-Default-Acl-Policy",
        "Date",
        "Content-Length",
        "Content-Type",
    ]


def test_go_adds_connection_last(consul_agent: FakeConsulAgent) -> None:
    sent = request("GET", "/", "Connection: keep-alive", version="1.0")
    assert names_in_order(consul_agent, sent) == [
        "Date",
        "Content-Length",
        "Content-Type",
        "Connection",
    ]


def test_a_gzipped_body_has_its_type_in_the_map(consul_agent: FakeConsulAgent) -> None:
    # gziphandler sets Content-Type (and Content-Encoding) before Go writes the header.
    for _ in range(20):
        consul_agent.fire("deploy", b"x" * 100)
    sent = request("GET", "/v1/event/list", "Host: x", "Accept-Encoding: gzip")
    assert names_in_order(consul_agent, sent) == [
        "Content-Encoding",
        "Content-Type",
        "Vary",
        "X-Consul-Default-Acl-Policy",
        "X-Consul-Index",
        "Date",
        "Content-Length",
    ]


def test_an_error_text_with_a_control_byte_is_sniffed_as_binary(
    consul_agent: FakeConsulAgent,
) -> None:
    # The regexp error quotes the pattern raw: DetectContentType sees 0x01 (textSig refuses it).
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(request("PUT", "/v1/event/fire/x?node=%01(", "Host: x", "Content-Length: 0"))
        refused = conn.read_response()
    assert refused.body == b"Invalid node filter: error parsing regexp: missing closing ): `\x01(`"
    assert refused.header("Content-Type") == "application/octet-stream"


# -- bodies -----------------------------------------------------------------------------------


def test_chunked_body_gives_a_null_payload_and_is_consumed(consul_agent: FakeConsulAgent) -> None:
    # Consul reads the body only when ContentLength > 0; chunked is -1 (§3.1).
    chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request("PUT", "/v1/event/fire/deploy", "Host: x", "Transfer-Encoding: chunked")
            + chunked
        )
        fired = conn.read_response()
        assert fired.status == 200
        assert json.loads(fired.body)["Payload"] is None
        assert fired.header("Connection") is None
        conn.send(get_list())  # the chunks did not leak into the next request
        assert [e["Payload"] for e in json.loads(conn.read_response().body)] == [None]


def test_chunked_body_gives_a_null_payload_in_process_too(api: Transport) -> None:
    reply = api.put(
        "/v1/event/fire/deploy",
        headers=[("Transfer-Encoding", "chunked")],
        body=b"5\r\nhello\r\n0\r\n\r\n",
    )
    assert reply.status == 200
    assert reply.json()["Payload"] is None


def chunks(data: bytes, size: int = 7) -> bytes:
    """``data`` in chunks of ``size`` bytes, then the last chunk."""
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def test_chunked_body_registers_a_service(consul_agent: FakeConsulAgent) -> None:
    # decodeBody reads req.Body whatever its framing (lib.DecodeJSON), unlike the fire endpoint.
    document = json.dumps({"Name": "web", "Port": 8080}).encode()
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request("PUT", "/v1/agent/service/register", "Host: x", "Transfer-Encoding: chunked")
            + chunks(document)
        )
        registered = conn.read_response()
        assert (registered.status, registered.body) == (200, b"")
        conn.send(request("GET", "/v1/agent/services", "Host: x"))
        assert json.loads(conn.read_response().body)["web"]["Port"] == 8080


def test_empty_chunked_body_to_register_is_decode_failed_eof(consul_agent: FakeConsulAgent) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request("PUT", "/v1/agent/service/register", "Host: x", "Transfer-Encoding: chunked")
            + b"0\r\n\r\n"
        )
        refused = conn.read_response()
        assert (refused.status, refused.body) == (400, b"Request decode failed: EOF")


def test_bad_chunk_in_a_register_body_is_gos_400(consul_agent: FakeConsulAgent) -> None:
    sent = (
        request("PUT", "/v1/agent/service/register", "Host: x", "Transfer-Encoding: chunked")
        + b"0x5\r\n{}\r\n"
    )
    assert raw_exchange(consul_agent.host, consul_agent.port, sent) == BAD_REQUEST
    assert consul_agent.services == {}
    assert_still_serving(consul_agent)


@pytest.mark.consul_agent(acl="deny", management_token="root")
def test_chunked_body_creates_an_acl_policy(consul_agent: FakeConsulAgent) -> None:
    document = json.dumps({"Name": "p1", "Rules": 'event "" { policy = "write" }'}).encode()
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request(
                "PUT",
                "/v1/acl/policy",
                "Host: x",
                "X-Consul-Token: root",
                "Transfer-Encoding: chunked",
            )
            + chunks(document)
        )
        created = conn.read_response()
    assert created.status == 200
    assert json.loads(created.body)["Name"] == "p1"


def test_unread_body_is_drained_for_the_next_request(consul_agent: FakeConsulAgent) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(request("GET", "/v1/event/list", "Host: x", body=b"ignored body"))
        assert conn.read_response().status == 200
        conn.send(request("PUT", "/v1/event/fire/", "Host: x", body=b"also ignored"))
        assert conn.read_response().body == b"Missing name"
        conn.send(get_list())
        assert conn.read_response().body == b"[]"


def test_expect_100_continue_is_answered_before_the_body(consul_agent: FakeConsulAgent) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request(
                "PUT",
                "/v1/event/fire/deploy",
                "Host: x",
                "Content-Length: 5",
                "Expect: 100-continue",
            )
        )
        interim = conn.read_response(head_only=True)
        assert (interim.status_line, interim.headers) == (b"HTTP/1.1 100 Continue", [])
        conn.send(b"hello")
        final = conn.read_response()
        assert final.status == 200
        assert json.loads(final.body)["Payload"] == "aGVsbG8="
        assert final.header("Connection") is None


def test_expect_100_continue_without_a_read_answers_and_closes(
    consul_agent: FakeConsulAgent,
) -> None:
    # The handler never reads the body (empty name), so no 100 is sent; the client never
    # sends its body, and Go closes the connection after the answer.
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(
            request(
                "PUT", "/v1/event/fire/", "Host: x", "Content-Length: 5", "Expect: 100-continue"
            )
        )
        reply = conn.read_response()
        assert (reply.status_line, reply.body) == (b"HTTP/1.1 400 Bad Request", b"Missing name")
        assert reply.header("Connection") == "close"
        assert conn.at_eof()
    assert consul_agent.fired == []


# -- requests Go refuses before any handler ---------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /v1/event/list\r\n\r\n",
        b"GET /v1/event/list HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET /v1/event/list HTTX/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/event/list HTTP/1\r\nHost: x\r\n\r\n",
        b"G(T /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/event/fire/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
        # request.go readRequest refuses a second Host with fmt.Errorf (no reason shown);
        # server.go's badRequestError("too many Host headers") is never reached.
        b"GET /v1/event/list HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    ],
    ids=[
        "one-word",
        "no-version",
        "three-spaces",
        "bad-protocol",
        "no-minor",
        "bad-method",
        "bad-path-escape",
        "relative-target",
        "header-without-colon",
        "bad-content-length",
        "two-content-lengths",
        "two-hosts",
    ],
)
def test_malformed_request_gets_gos_bare_400_and_close(
    consul_agent: FakeConsulAgent, data: bytes
) -> None:
    assert raw_exchange(consul_agent.host, consul_agent.port, data) == BAD_REQUEST
    assert_still_serving(consul_agent)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET /v1/event/list HTTP/1.1\r\nX-Other: 1\r\n\r\n", b"missing required Host header"),
        (b"GET /v1/event/list HTTP/1.1\r\nHost: a b\r\n\r\n", b"malformed Host header"),
        (b"GET /v1/event/list HTTP/1.1\r\nHost: a<b\r\n\r\n", b"malformed Host header"),
    ],
    ids=["missing-host", "host-with-space", "host-with-angle"],
)
def test_host_problems_are_400_with_gos_reason(
    consul_agent: FakeConsulAgent, data: bytes, reason: bytes
) -> None:
    answer = raw_exchange(consul_agent.host, consul_agent.port, data)
    assert answer == go_error(b"400 Bad Request: " + reason)
    assert_still_serving(consul_agent)


def test_http10_needs_no_host(consul_agent: FakeConsulAgent) -> None:
    answer = raw_exchange(
        consul_agent.host, consul_agent.port, b"GET /v1/event/list HTTP/1.0\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.0 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\n[]")


def test_unsupported_http_version_is_505(consul_agent: FakeConsulAgent) -> None:
    data = b"GET /v1/event/list HTTP/2.0\r\nHost: x\r\n\r\n"
    answer = raw_exchange(consul_agent.host, consul_agent.port, data)
    assert answer == go_error(b"505 HTTP Version Not Supported: unsupported protocol version")


def test_unsupported_transfer_encoding_is_501(consul_agent: FakeConsulAgent) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    answer = raw_exchange(consul_agent.host, consul_agent.port, data)
    assert (
        answer == b"HTTP/1.1 501 Not Implemented" + ERROR_HEADERS + b"Unsupported transfer encoding"
    )
    assert consul_agent.fired == []


def test_bad_request_after_a_good_one_on_the_same_connection(
    consul_agent: FakeConsulAgent,
) -> None:
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(get_list())
        assert conn.read_response().status == 200
        conn.send(b"NOT A REQUEST\r\n\r\n")
        reply = conn.read_response()
        assert (reply.status_line, reply.body) == (b"HTTP/1.1 400 Bad Request", b"400 Bad Request")
        assert conn.at_eof()
    assert_still_serving(consul_agent)


@pytest.mark.parametrize(
    "data",
    [b"", b"GET /v1/event/li", b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n", b"\r\n"],
    ids=["nothing", "half-a-line", "half-the-headers", "empty-line"],
)
def test_client_hanging_up_mid_request_leaves_the_server_serving(
    consul_agent: FakeConsulAgent, data: bytes
) -> None:
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=5) as sock:
        sock.sendall(data)
    assert_still_serving(consul_agent)
    wait_until(lambda: consul_agent.server.connection_count == 0, what="connections to close")


def test_client_hanging_up_on_a_blocked_query_leaves_the_server_serving(
    consul_agent: FakeConsulAgent,
) -> None:
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=5) as sock:
        sock.sendall(request("GET", "/v1/event/list?index=1&wait=5s", "Host: x"))
        wait_until(lambda: consul_agent.blocked_queries == 1, what="the blocked query")
    assert_still_serving(consul_agent)
    consul_agent.fire("deploy")  # the orphaned handler answers into a closed socket
    wait_until(lambda: consul_agent.blocked_queries == 0, what="the orphan to return")
    assert_still_serving(consul_agent)


def test_redirect_to_a_non_latin1_path_is_still_answered(consul_agent: FakeConsulAgent) -> None:
    data = request("PUT", "/v1/event//fire/%E2%9C%93", "Host: x")
    with RawConnection(consul_agent.host, consul_agent.port) as conn:
        conn.send(data)
        reply = conn.read_response()
    assert reply.status == 301
    # Go escapes the Location (once before Go 1.22, twice since; see test_wrapper.py).
    assert reply.header("Location") in (
        "/v1/event/fire/%E2%9C%93",
        "/v1/event/fire/%25E2%259C%2593",
    )


# -- lifecycle ----------------------------------------------------------------------------------


def test_binds_127_0_0_1_and_an_ephemeral_port_by_default() -> None:
    agent = FakeConsulAgent()
    try:
        assert agent.host == "127.0.0.1"
        assert 0 < agent.port < 65536
        assert agent.url == f"http://127.0.0.1:{agent.port}"
        assert agent.http_addr == f"127.0.0.1:{agent.port}"
    finally:
        agent.stop()


def test_plugin_agent_serves_on_loopback(consul_agent: FakeConsulAgent) -> None:
    assert consul_agent.host == "127.0.0.1"
    with RawConnection("127.0.0.1", consul_agent.port) as conn:
        conn.send(get_list())
        assert conn.read_response().status == 200


def test_a_busy_port_raises_at_construction(consul_agent: FakeConsulAgent) -> None:
    with pytest.raises(OSError, match=r"[Aa]ddress already in use") as excinfo:
        FakeConsulAgent(port=consul_agent.port)
    assert excinfo.value.errno == errno.EADDRINUSE


def test_start_twice_is_an_error_and_stop_is_idempotent() -> None:
    agent = FakeConsulAgent().start()
    with pytest.raises(RuntimeError):
        agent.start()
    agent.stop()
    agent.stop()
    with pytest.raises(RuntimeError):
        agent.start()


def test_context_manager_starts_and_stops() -> None:
    with FakeConsulAgent() as agent:
        assert_still_serving(agent)
        port = agent.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_stop_is_fast_and_leaves_no_thread() -> None:
    before = list(threading.enumerate())
    agent = FakeConsulAgent().start()
    idle = [RawConnection(agent.host, agent.port) for _ in range(3)]
    try:
        for conn in idle:  # keep-alive connections waiting for their next request
            conn.send(get_list())
            assert conn.read_response().status == 200
        assert new_threads(before)
        started = time.monotonic()
        agent.stop()
        assert time.monotonic() - started < 0.5
        assert all(conn.at_eof() for conn in idle)
    finally:
        for conn in idle:
            conn.close()
    wait_until(lambda: not new_threads(before), timeout=1.0, what="the server threads to end")


def test_stop_answers_blocked_queries() -> None:
    # fake.py: "Stop serving: blocked list queries are answered, connections closed,
    # threads ended."
    before = list(threading.enumerate())
    agent = FakeConsulAgent().start()
    event = agent.fire("deploy")
    index = uuid_to_uint64(event.id)
    try:
        with RawConnection(agent.host, agent.port) as conn:
            conn.send(request("GET", f"/v1/event/list?index={index}&wait=30s", "Host: x"))
            wait_until(lambda: agent.blocked_queries == 1, what="the blocked query")
            started = time.monotonic()
            agent.stop()
            assert time.monotonic() - started < 0.5
            reply = conn.read_response()
            assert reply.status == 200
            assert reply.header("X-Consul-Index") == str(index)
            assert [e["ID"] for e in json.loads(reply.body)] == [event.id]
    finally:
        agent.stop()
    wait_until(lambda: not new_threads(before), timeout=1.0, what="the server threads to end")


def test_stop_does_not_wait_for_blocked_queries() -> None:
    before = list(threading.enumerate())
    agent = FakeConsulAgent().start()
    conns = [RawConnection(agent.host, agent.port) for _ in range(3)]
    try:
        for conn in conns:
            conn.send(request("GET", "/v1/event/list?index=1&wait=30s", "Host: x"))
        wait_until(lambda: agent.blocked_queries == 3, what="three blocked queries")
        started = time.monotonic()
        agent.stop()
        assert time.monotonic() - started < 0.5
        assert agent.blocked_queries == 0
    finally:
        for conn in conns:
            conn.close()
        agent.stop()
    wait_until(lambda: not new_threads(before), timeout=1.0, what="the server threads to end")


def test_an_agent_never_started_refuses_connections_at_once() -> None:
    # The port is bound at construction (a busy one raises there) but listened on only from
    # start(): a client is refused at once instead of waiting in the backlog for a read
    # timeout.
    agent = FakeConsulAgent()
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((agent.host, agent.port), timeout=5).close()
        agent.start()
        assert_still_serving(agent)
    finally:
        agent.stop()


def test_a_stopped_agent_refuses_connections_and_its_port_can_be_bound_again() -> None:
    agent = FakeConsulAgent().start()
    port = agent.port
    agent.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    again = FakeConsulAgent(port=port)
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        again.stop()


class _FailingAccepts:
    """A listening socket whose first ``failures`` accepts fail as when descriptors run out."""

    def __init__(self, sock: socket.socket, failures: int) -> None:
        self._sock = sock
        self.failures = failures

    def accept(self) -> tuple[socket.socket, object]:
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return self._sock.accept()

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


def test_accept_errors_pause_the_accept_loop_and_it_serves_again() -> None:
    # Go's Serve backs off (5 ms, doubling) on temporary accept errors; the loop neither spins
    # nor dies.
    agent = FakeConsulAgent()
    flaky = _FailingAccepts(agent.server._listener, failures=4)
    agent.server._listener = flaky  # type: ignore[assignment]
    try:
        agent.start()
        assert_still_serving(agent)
        assert flaky.failures == 0
        assert agent.server._accept_thread is not None
        assert agent.server._accept_thread.is_alive()
    finally:
        agent.stop()


def test_a_connection_that_gets_no_thread_is_closed_and_not_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = threading.Thread.start
    refused: list[str] = []

    def start_or_fail(thread: threading.Thread) -> None:
        if thread.name == "consul-fake-conn" and not refused:
            refused.append(thread.name)
            raise RuntimeError("can't start new thread")
        start(thread)

    with FakeConsulAgent() as agent:
        monkeypatch.setattr(threading.Thread, "start", start_or_fail)
        with socket.create_connection((agent.host, agent.port), timeout=5) as sock:
            assert sock.recv(1) == b""  # closed at once
        assert refused == ["consul-fake-conn"]
        assert agent.server.connections_from("127.0.0.1") == 0
        assert_still_serving(agent)
