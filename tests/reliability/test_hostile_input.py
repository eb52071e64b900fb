"""Hostile input over a raw socket: whatever arrives, the server answers well or closes cleanly.

Hypothesis builds requests from hostile parts (paths with escapes, non-printables, ``..`` and
sheer size; garbage and lower-case methods; query strings with ``;``, ``%zz``, ``+`` and
thousands of parameters; duplicate, huge, non-ASCII, folded and missing headers; binary,
chunked and truncated bodies; lying ``Content-Length`` values) and checks that:

* every answer is a well-formed HTTP/1.x response with a status Consul or Go's server gives;
* no Python traceback leaks into a body, and no server thread dies of an exception;
* a request the server received whole is answered (one it never received whole may instead
  be closed);
* after it, a normal ``GET /v1/event/list`` on a new connection is answered 200.

``CONSUL_EVENTS_HOSTILE_EXAMPLES`` sets the number of examples (50 by default).
Exact answers for particular hostile requests follow, then memory and slow-client checks.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import (
    CONSUL_STATUSES,
    ThreadErrors,
    assert_still_serving,
    exchange,
    parse_responses,
    read_until_closed,
    send_slowly,
)

from pytest_consul_events.fake import FakeConsulAgent

EXAMPLES = int(os.environ.get("CONSUL_EVENTS_HOSTILE_EXAMPLES", "50"))
HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
GO_ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module")
def agent() -> Iterator[FakeConsulAgent]:
    """One agent for every example, so that damage one request does shows in the next."""
    with FakeConsulAgent(services=["web"]) as agent:
        yield agent


# -- building hostile requests ------------------------------------------------------------------


class Hostile:
    """A request as bytes, and what may be expected of the answer.

    ``truncated``: the request stops before its declared end, so the server may close without
    answering.
    """

    def __init__(self, data: bytes, method: bytes, truncated: bool, expects_continue: bool):
        self.data = data
        self.method = method
        self.truncated = truncated
        self.expects_continue = expects_continue

    def __repr__(self) -> str:
        shown = self.data if len(self.data) < 600 else self.data[:600] + b"..."
        return f"Hostile({shown!r}, truncated={self.truncated})"


ascii_printable = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
any_byte = st.integers(0, 255).map(lambda b: bytes([b]))

path_piece = st.one_of(
    st.text(ascii_printable, max_size=12).map(str.encode),
    st.sampled_from([b"..", b".", b"//", b"/../", b"/./", b"%2F", b"%2e%2E", b"?", b"#", b"+"]),
    st.integers(0, 255).map(lambda b: b"%%%02X" % b),  # valid escapes of every byte
    st.sampled_from([b"%", b"%z", b"%zz", b"%4", b"%g0", b"%%"]),  # broken escapes
    st.integers(0, 31).map(lambda b: bytes([b])).filter(lambda b: b not in (b"\r", b"\n")),
    st.sampled_from([b"\x7f", b"\x80", b"\xff", "\u2713".encode(), "\u00e9".encode("latin-1")]),
    st.text(max_size=4).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
path_prefix = st.sampled_from(
    [
        b"/v1/event/fire/",
        b"/v1/event/list",
        b"/v1/event/fire",
        b"/v1/agent/self",
        b"/v1/agent/service/register",
        b"/v1/agent/service/deregister/",
        b"/v1/acl/token/",
        b"/v1/status/leader",
        b"/v1/kv/",
        b"/",
        b"",
        b"*",
        b"http://x/v1/event/list",
    ]
)


@st.composite
def paths(draw: st.DrawFn) -> bytes:
    path = draw(path_prefix) + b"".join(draw(st.lists(path_piece, max_size=8)))
    if draw(st.integers(0, 9)) == 0:  # sometimes huge
        path += draw(path_piece) * draw(st.integers(1_000, 30_000))
    return path.replace(b" ", b"%20")


query_value = st.one_of(
    st.text(ascii_printable, max_size=10).map(str.encode),
    st.sampled_from([b";", b"%zz", b"%", b"+", b"%2B", b"a;b", b"", b"\xff", b"%00", b"-5s"]),
    st.sampled_from([b"1", b"0", b"18446744073709551615", b"18446744073709551616", b"-1"]),
    st.sampled_from([b"10ms", b"1h", b"5m", b"-1s", b"1.5s", b"x", b"9999999999h"]),
    st.sampled_from([b"(", b"[a-", b"^web$", b".*", b"\\"]),
)
query_key = st.one_of(
    st.sampled_from(
        [b"name", b"index", b"wait", b"token", b"dc", b"node", b"service", b"tag", b"pretty"]
    ),
    st.text(ascii_printable, max_size=6).map(str.encode),
)


@st.composite
def queries(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return b""
    if kind == 1:  # thousands of parameters
        count = draw(st.integers(1_000, 5_000))
        return b"?" + b"&".join(b"p%d=%d" % (i, i) for i in range(count))
    pairs = draw(st.lists(st.tuples(query_key, query_value, st.booleans()), max_size=6))
    separator = draw(st.sampled_from([b"&", b"&", b";", b"&&"]))
    return b"?" + separator.join(k + (b"=" + v if eq else b"") for k, v, eq in pairs)


method = st.one_of(
    st.sampled_from([b"GET", b"PUT", b"POST", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH"]),
    st.sampled_from([b"get", b"put", b"Get", b"TRACE", b"CONNECT", b"PRI", b"G\xc9T", b"G(T"]),
    st.text(st.characters(codec="ascii", exclude_characters=" \r\n"), min_size=1, max_size=10).map(
        str.encode
    ),
)
version = st.sampled_from(
    [b"HTTP/1.1"] * 6
    + [b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.2", b"HTTP/0.9", b"http/1.1", b"HTTP/1", b"HTTP/11", b""]
)
header_name = st.one_of(
    st.sampled_from(
        [
            b"Host",
            b"X-Consul-Token",
            b"Authorization",
            b"Content-Type",
            b"Accept-Encoding",
            b"Connection",
            b"User-Agent",
        ]
    ),
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=8).map(
        str.encode
    ),
    st.sampled_from([b"Bad Name", b"\xc3\xa9t\xc3\xa9", b"", b"X(", b"X-\x00"]),
)
header_value = st.one_of(
    st.text(ascii_printable, max_size=20).map(str.encode),
    st.text(max_size=10).map(lambda s: s.encode("utf-8", "surrogatepass")),  # non-ASCII
    st.binary(max_size=10).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from([b"gzip", b"close", b"keep-alive", b"Bearer x", b"", b" padded "]),
)


@st.composite
def headers(draw: st.DrawFn) -> tuple[list[bytes], bool]:
    lines = []
    host = draw(st.sampled_from(["one", "one", "one", "none", "two", "odd"]))
    if host != "none":
        lines.append(b"Host: x")
    if host == "two":
        lines.append(b"Host: y")
    if host == "odd":
        lines.append(b"Host: " + draw(st.sampled_from([b"a b", b"a<b", b"\xff", b""])))
    for name, value in draw(st.lists(st.tuples(header_name, header_value), max_size=6)):
        lines.append(name + b": " + value)
    if draw(st.integers(0, 9)) == 0:  # a huge header
        lines.append(b"X-Huge: " + b"v" * draw(st.integers(10_000, 60_000)))
    if draw(st.integers(0, 9)) == 0:  # a folded (obs-fold) continuation line
        lines.insert(draw(st.integers(0, len(lines))), b" folded")
    expects_continue = draw(st.integers(0, 14)) == 0
    if expects_continue:
        lines.append(b"Expect: 100-continue")
    draw(st.randoms()).shuffle(lines)
    return lines, expects_continue


def chunked(body: bytes, sizes: list[int]) -> bytes:
    """``body`` in chunks of these sizes (the rest in one more), then the last chunk."""
    out, position = b"", 0
    for size in [*sizes, len(body)]:
        piece = body[position : position + size]
        if piece:
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
            position += len(piece)
    return out + b"0\r\n\r\n"


@st.composite
def hostile_requests(draw: st.DrawFn) -> Hostile:
    verb = draw(method)
    target = draw(paths()) + draw(queries())
    lines, expects_continue = draw(headers())
    body = draw(st.binary(max_size=4096))
    framing = draw(
        st.sampled_from(
            [
                "none",
                "exact",
                "exact",
                "larger",
                "smaller",
                "negative",
                "word",
                "huge",
                "overflow",
                "twice",
                "chunked",
                "chunked-truncated",
                "chunked-garbled",
                "chunked-and-length",
            ]
        )
    )
    truncated = False
    if framing == "exact":
        lines.append(b"Content-Length: %d" % len(body))
    elif framing == "larger":
        lines.append(b"Content-Length: %d" % (len(body) + draw(st.integers(1, 100_000))))
        truncated = True
    elif framing == "smaller" and body:
        lines.append(b"Content-Length: %d" % draw(st.integers(0, len(body) - 1)))
    elif framing == "negative":
        lines.append(b"Content-Length: -%d" % len(body))
    elif framing == "word":
        lines.append(b"Content-Length: " + draw(st.sampled_from([b"abc", b"1e3", b"0x10", b"+5"])))
    elif framing == "huge":
        lines.append(b"Content-Length: %d" % 10**18)
        truncated = True
    elif framing == "overflow":
        lines.append(b"Content-Length: %d" % 10**19)
        truncated = True
    elif framing == "twice":
        lines.append(b"Content-Length: %d" % len(body))
        lines.append(b"Content-Length: %d" % draw(st.integers(0, 10)))
    elif framing.startswith("chunked"):
        lines.append(b"Transfer-Encoding: chunked")
        if framing == "chunked-and-length":
            lines.append(b"Content-Length: 3")
        sizes = draw(st.lists(st.integers(1, 2048), max_size=4))
        encoded = chunked(body, sizes)
        if framing == "chunked-truncated":
            encoded = encoded[: draw(st.integers(0, len(encoded) - 1))]  # cut anywhere
            truncated = True
        elif framing == "chunked-garbled":
            # A size line that is not hex, a missing CRLF, or a size larger than the data.
            encoded = draw(
                st.sampled_from(
                    [
                        b"zz\r\n" + encoded,
                        b"-1\r\n" + encoded,
                        encoded.replace(b"\r\n", b"", 1),
                        b"ffffffffffffffffffff\r\n" + encoded,
                        b"5;ext=1\r\nhello\r\n" + encoded,
                    ]
                )
            )
        body = encoded
    head = b"\r\n".join([verb + b" " + target + b" " + draw(version), *lines])
    return Hostile(head + b"\r\n\r\n" + body, verb, truncated, expects_continue)


# -- the property -------------------------------------------------------------------------------


def check_answer(agent: FakeConsulAgent, request: Hostile, thread_errors: ThreadErrors) -> None:
    got = exchange(agent.host, agent.port, request.data)
    assert b"Traceback" not in got.data
    responses = parse_responses(got.data, first_is_head=request.method == b"HEAD")
    allowed = CONSUL_STATUSES | ({100} if request.expects_continue else set())
    assert [r.status for r in responses if r.status not in allowed] == []
    if not request.truncated:
        assert responses, f"no answer (reset={got.reset})"
    assert thread_errors.take() == []
    assert_still_serving(agent.host, agent.port)


@HOSTILE
@given(request=hostile_requests())
def test_hostile_requests_get_well_formed_consul_answers(
    agent: FakeConsulAgent, thread_errors: ThreadErrors, request: Hostile
) -> None:
    check_answer(agent, request, thread_errors)


@HOSTILE
@given(data=st.binary(max_size=2048))
def test_random_bytes_get_well_formed_answers(
    agent: FakeConsulAgent, thread_errors: ThreadErrors, data: bytes
) -> None:
    # Pure noise: the server answers 400 (or nothing, for a lone blank line or no bytes).
    got = exchange(agent.host, agent.port, data)
    responses = parse_responses(got.data)
    assert [r.status for r in responses if r.status not in CONSUL_STATUSES] == []
    assert b"Traceback" not in got.data
    assert thread_errors.take() == []
    assert_still_serving(agent.host, agent.port)


# -- exact answers to particular hostile requests ---------------------------------------------


def go_error(public: bytes) -> bytes:
    return b"HTTP/1.1 " + public + GO_ERROR_HEADERS + public


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        (b"get /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"GET /v1/event/list HTTP/1.1\r\n\r\n", 400),
        (b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400),
        (b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        (b"GET /v1/event/list?a=1;b=2 HTTP/1.1\r\nHost: x\r\n\r\n", 500),
        (b"GET /v1/event/list?a=%zz HTTP/1.1\r\nHost: x\r\n\r\n", 500),
        (b"GET /v1/event/../event/list HTTP/1.1\r\nHost: x\r\n\r\n", 301),
        (b"GET /v1/event/list%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", 400),
        (b"GET /" + b"a" * (2 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
        (b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX: " + b"v" * (2 << 20) + b"\r\n\r\n", 431),
    ],
    ids=[
        "lower-case-method",
        "missing-host",
        "duplicate-host",
        "folded-first-header",
        "semicolon-query",
        "bad-query-escape",
        "dot-dot",
        "escaped-nul",
        "negative-length",
        "word-length",
        "megabyte-path",
        "megabyte-header",
    ],
)
def test_particular_hostile_requests_get_consuls_status(
    agent: FakeConsulAgent, thread_errors: ThreadErrors, data: bytes, answer: int
) -> None:
    got = exchange(agent.host, agent.port, data)
    [response] = parse_responses(got.data)
    assert response.status == answer
    assert thread_errors.take() == []
    assert_still_serving(agent.host, agent.port)


def test_thousands_of_query_parameters_are_parsed(agent: FakeConsulAgent) -> None:
    query = "&".join(f"p{i}=v{i}" for i in range(5_000)) + "&name=deploy"
    agent.fire("deploy")
    got = exchange(agent.host, agent.port, f"GET /v1/event/list?{query} HTTP/1.1\r\n".encode())
    assert parse_responses(got.data)[0].status == 400  # no Host, and no blank line
    data = f"GET /v1/event/list?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    [response] = parse_responses(exchange(agent.host, agent.port, data).data)
    assert response.status == 200
    assert [e["Name"] for e in json.loads(response.body)][-1:] == ["deploy"]


def test_content_length_smaller_than_the_body_leaves_the_rest_as_a_bad_request(
    consul_agent: FakeConsulAgent,
) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabcdef"
    first, second = parse_responses(exchange(consul_agent.host, consul_agent.port, data).data)
    assert first.status == 200
    assert json.loads(first.body)["Payload"] == "YWI="  # base64 of the two bytes declared
    assert (second.status_line, second.body) == (b"HTTP/1.1 400 Bad Request", b"400 Bad Request")
    assert [e.payload for e in consul_agent.events] == [b"ab"]


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhello\r\n"],
    ids=["bad-chunk-size", "cut-at-a-chunk-boundary"],
)
def test_malformed_chunked_body_is_answered(
    consul_agent: FakeConsulAgent, thread_errors: ThreadErrors, body: bytes
) -> None:
    # Go's server discards an unread body after the handler; an error there (corrupt chunked
    # encoding, a cut) only sets closeAfterReply: the handler's answer goes out with
    # "Connection: close" (net/http server.go, chunkWriter.writeHeader).
    head = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    got = exchange(consul_agent.host, consul_agent.port, head + body)
    assert thread_errors.take() == []
    [response] = parse_responses(got.data)
    assert (response.status, response.body) == (200, b"[]")


@pytest.mark.parametrize("length", [10, 10**18], ids=["ten", "ten-to-the-18"])
def test_body_shorter_than_its_content_length_fires_nothing(
    consul_agent: FakeConsulAgent, length: int
) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nabc" % length
    got = exchange(consul_agent.host, consul_agent.port, data)  # then we close our side
    assert consul_agent.fired == []
    [response] = parse_responses(got.data)
    assert (response.status, response.body) == (500, b"unexpected EOF")


def test_content_length_beyond_int63_is_a_bad_request(consul_agent: FakeConsulAgent) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nabc" % 10**19
    got = exchange(consul_agent.host, consul_agent.port, data)
    assert got.data == go_error(b"400 Bad Request")
    assert consul_agent.fired == []


@pytest.mark.parametrize("value", [b"a\x00b", b"a\x01b", b"a\x7fb"], ids=["nul", "soh", "del"])
def test_header_value_with_a_control_character_is_a_bad_request(
    consul_agent: FakeConsulAgent, value: bytes
) -> None:
    # net/textproto readMIMEHeader refuses the byte (validHeaderValueByte) with a
    # ProtocolError: Go's bare 400, not the server's "invalid header value", which no request
    # reaches since textproto checks values first.
    data = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX-Consul-Token: " + value + b"\r\n\r\n"
    got = exchange(consul_agent.host, consul_agent.port, data)
    assert got.data == go_error(b"400 Bad Request")


def test_control_character_in_a_folded_header_is_a_bad_request(
    consul_agent: FakeConsulAgent,
) -> None:
    data = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX-Note: one\r\n t\x01wo\r\n\r\n"
    got = exchange(consul_agent.host, consul_agent.port, data)
    assert got.data == go_error(b"400 Bad Request")


def test_zero_padded_content_length_is_its_value(consul_agent: FakeConsulAgent) -> None:
    data = (
        b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 00000000000000000005\r\n\r\nhello"
    )
    [response] = parse_responses(exchange(consul_agent.host, consul_agent.port, data).data)
    assert response.status == 200
    assert [e.payload for e in consul_agent.events] == [b"hello"]


def test_folded_header_line_is_joined_as_go_does(consul_agent: FakeConsulAgent) -> None:
    data = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX-Note: one\r\n two\r\n\r\n"
    [response] = parse_responses(exchange(consul_agent.host, consul_agent.port, data).data)
    assert (response.status, response.body) == (200, b"[]")


def test_raw_utf8_path_fires_the_event_it_names(consul_agent: FakeConsulAgent) -> None:
    data = "PUT /v1/event/fire/\u2713 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    [response] = parse_responses(exchange(consul_agent.host, consul_agent.port, data).data)
    assert response.status == 200
    assert [e.name for e in consul_agent.events] == ["\u2713"]


def test_raw_utf8_query_value_matches_the_event_name(consul_agent: FakeConsulAgent) -> None:
    consul_agent.fire("\u2713")
    data = "GET /v1/event/list?name=\u2713 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    [response] = parse_responses(exchange(consul_agent.host, consul_agent.port, data).data)
    assert [e["Name"] for e in json.loads(response.body)] == ["\u2713"]


# -- memory ---------------------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024
BLOCK = b"x" * 65536  # allocated once, before tracing starts


def _chunked_blocks() -> Iterator[bytes]:
    for _ in range(FIVE_MB // len(BLOCK)):
        yield b"10000\r\n"
        yield BLOCK
        yield b"\r\n"


FIRE_GIGABYTE = b"PUT /v1/event/fire/big HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
LIST_GIGABYTE = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
FIRE_CHUNKED = b"PUT /v1/event/fire/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
ENDLESS_HEADER = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX-Long: "


@pytest.mark.parametrize(
    ("head", "body", "status", "payloads"),
    [
        pytest.param(FIRE_GIGABYTE, "raw", 500, [], id="fire-with-a-gigabyte-length"),
        pytest.param(LIST_GIGABYTE, "raw", 200, [], id="list-with-a-gigabyte-length"),
        pytest.param(FIRE_CHUNKED, "chunked", 200, [None], id="chunked-fire"),
        pytest.param(ENDLESS_HEADER, "raw", 431, [], id="endless-header"),
        # A chunk size of -1 once made the server read the whole stream into memory.
        pytest.param(FIRE_CHUNKED + b"-1\r\n", "raw", 200, [None], id="chunk-size-minus-one"),
        pytest.param(FIRE_CHUNKED + b"0\r\nX-T: ", "raw", 200, [None], id="endless-trailer"),
        pytest.param(FIRE_CHUNKED + b"5;", "raw", 200, [None], id="endless-chunk-extension"),
    ],
)
def test_memory_stays_bounded_for_a_huge_body(
    consul_agent: FakeConsulAgent,
    head: bytes,
    body: str,
    status: int,
    payloads: list[bytes | None],
) -> None:
    # 5 MB go out after the head; the server reads what it needs (64 KiB for a fire, 256 KiB
    # of a body it drains, 1 MiB of header), answers and hangs up, holding none of it.
    blocks = (
        _chunked_blocks() if body == "chunked" else (BLOCK for _ in range(FIVE_MB // len(BLOCK)))
    )
    sock = socket.create_connection((consul_agent.host, consul_agent.port), timeout=10)
    received: list[bytes] = []
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()

        def send() -> None:
            try:
                sock.sendall(head)
                for block in blocks:
                    sock.sendall(block)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server answered and hung up before the end, as Go does

        sender = threading.Thread(target=send)
        sender.start()
        try:
            while chunk := sock.recv(65536):
                received.append(chunk)
        except ConnectionResetError:
            pass
        sender.join(timeout=10)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
        sock.close()
    assert peak < 4 * 1024 * 1024, f"traced memory grew by {peak / 1e6:.1f} MB"
    [response] = parse_responses(b"".join(received))
    assert response.status == status
    assert [event.payload for event in consul_agent.events] == payloads
    assert_still_serving(consul_agent.host, consul_agent.port)


# -- slow clients ---------------------------------------------------------------------------------


def test_request_sent_byte_by_byte_is_answered_once_complete(consul_agent: FakeConsulAgent) -> None:
    data = b"PUT /v1/event/fire/slow?pretty HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=5) as sock:
        send_slowly(sock, data)
        sock.shutdown(socket.SHUT_WR)
        [response] = parse_responses(read_until_closed(sock))
    assert response.status == 200
    assert json.loads(response.body)["Name"] == "slow"
    assert [e.payload for e in consul_agent.events] == [b"hello"]


def test_slow_client_does_not_hold_up_other_clients(consul_agent: FakeConsulAgent) -> None:
    # While one client trickles its request a byte at a time, others are served at once.
    data = b"PUT /v1/event/fire/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=5) as sock:
        for i in range(len(data)):
            sock.sendall(data[i : i + 1])
            if i % 10 == 0:
                assert_still_serving(consul_agent.host, consul_agent.port)
            readable, _, _ = select.select([sock], [], [], 0.001)
            assert not readable or i == len(data) - 1
        sock.shutdown(socket.SHUT_WR)
        [response] = parse_responses(read_until_closed(sock))
    assert response.status == 200
    assert [e.name for e in consul_agent.events] == ["slow"]


def test_pipelined_requests_sent_byte_by_byte_are_answered_in_order(
    consul_agent: FakeConsulAgent,
) -> None:
    data = (
        b"PUT /v1/event/fire/one HTTP/1.1\r\nHost: x\r\n\r\n"
        b"PUT /v1/event/fire/two HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n2"
        b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=5) as sock:
        for i in range(len(data)):
            sock.sendall(data[i : i + 1])
            select.select([sock], [], [], 0.0005)
        one, two, listed = parse_responses(read_until_closed(sock))
    assert [json.loads(one.body)["Name"], json.loads(two.body)["Name"]] == ["one", "two"]
    assert [(e["Name"], e["Payload"]) for e in json.loads(listed.body)] == [
        ("one", None),
        ("two", "Mg=="),
    ]
    assert listed.header("Connection") == "close"
