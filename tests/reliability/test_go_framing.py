"""Request framing answered exactly as Go's net/http answers it, shape by shape.

What is expected comes from Go's source: ``internal/chunked.go`` (``readChunkLine``,
``parseHexUint``, the 16 KiB overhead budget), ``transfer.go`` (``parseTransferEncoding``,
``fixLength``, ``readTrailer``), ``request.go`` (``readRequest``), ``textproto/reader.go``
(``readMIMEHeader``, ``readContinuedLineSlice``) and ``server.go`` (``conn.serve``,
``readRequest``, ``chunkWriter.writeHeader``). A body Go cannot frame does not change the
handler's answer: it only adds ``Connection: close`` and ends the connection, so a request
pipelined behind it is never answered.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from reliability_support import exchange, parse_responses, read_until_closed
from wire import Response, go_error

from pytest_consul_events.fake import FakeConsulAgent

BAD_REQUEST = go_error(b"400 Bad Request")
NEXT = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
"""A request pipelined behind the one under test: answered only if the connection survives."""
CHUNKED_FIRE = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def answers(agent: FakeConsulAgent, data: bytes) -> list[Response]:
    return parse_responses(exchange(agent.host, agent.port, data).data)


def assert_fired_then_closed(responses: list[Response]) -> None:
    """The handler's answer, with ``Connection: close``, and nothing for the next request."""
    [fired] = responses
    assert (fired.status, fired.header("Connection")) == (200, "close")
    assert json.loads(fired.body)["Payload"] is None


def assert_fired_then_next(responses: list[Response]) -> None:
    """The handler's answer on a kept connection, then the pipelined list."""
    fired, listed = responses
    assert (fired.status, fired.header("Connection")) == (200, None)
    assert (listed.status, listed.header("Connection")) == (200, "close")


# -- chunk sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [b"5", b"05", b"0000000000000005", b"5 ", b"5\t", b"5;ext", b'5;a="b;c"', b"5;ext ", b"a"],
    ids=["5", "05", "16-digits", "space", "tab", "extension", "quoted", "ext-then-space", "hex"],
)
def test_chunk_sizes_go_accepts(consul_agent: FakeConsulAgent, size: bytes) -> None:
    data = b"hello" + (b"world" if size == b"a" else b"")
    body = size + b"\r\n" + data + b"\r\n0\r\n\r\n"
    assert_fired_then_next(answers(consul_agent, CHUNKED_FIRE + body + NEXT))


@pytest.mark.parametrize(
    "size",
    [
        b"-1",
        b"0x5",
        b"0_5",
        b"+5",
        b" 5",
        b"00000000000000005",  # 17 digits: "http chunk length too large", even zeros
        b"11111111111111111",
        b"",
        b"5\t;ext",  # white space is trimmed before the extension is cut, not after
        b"5 ;ext",
        b"5 ;",
        b"five",
    ],
    ids=[
        "minus-one",
        "0x-prefix",
        "underscore",
        "plus",
        "leading-space",
        "17-zero-padded-digits",
        "17-digits",
        "empty",
        "tab-before-extension",
        "space-before-extension",
        "space-before-semicolon",
        "word",
    ],
)
def test_chunk_sizes_go_refuses_close_the_connection(
    consul_agent: FakeConsulAgent, size: bytes
) -> None:
    body = size + b"\r\nhello\r\n0\r\n\r\n"
    assert_fired_then_closed(answers(consul_agent, CHUNKED_FIRE + body + NEXT))
    assert [e.payload for e in consul_agent.events] == [None]


@pytest.mark.parametrize(
    "body",
    [
        b"5\nhello\r\n0\r\n\r\n",  # readChunkLine: "chunked line ends with bare LF"
        b"5\r\r\nhello\r\n0\r\n\r\n",  # "invalid CR in chunked line"
        b"5\r\nhelloXX0\r\n\r\n",  # "malformed chunked encoding": no CRLF after the data
        b"5\r\nhello\r\n0\r\nX-T: 1\r\n",  # the trailer never ends (we close our side)
        b"5\r\nhello\r\n0\r\nX(: 1\r\n\r\n",  # a trailer textproto refuses
        b"5;" + b"e" * 4093 + b"\r\nhello\r\n0\r\n\r\n",  # a 4097-byte chunk line
        b"0\r\n" + b"X-T: " + b"v" * 5000 + b"\r\n\r\n",  # trailer past the 4096-byte buffer
    ],
    ids=[
        "bare-lf",
        "stray-cr",
        "no-crlf-after-data",
        "unended-trailer",
        "bad-trailer-name",
        "chunk-line-too-long",
        "trailer-too-long",
    ],
)
def test_chunked_bodies_go_cannot_frame_close_the_connection(
    consul_agent: FakeConsulAgent, body: bytes
) -> None:
    assert_fired_then_closed(answers(consul_agent, CHUNKED_FIRE + body + NEXT))


@pytest.mark.parametrize(
    "body",
    [
        b"5;" + b"e" * 4092 + b"\r\nhello\r\n0\r\n\r\n",  # a 4096-byte chunk line: the most
        b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n",
        b"0\r\n" + b"X-T: " + b"v" * 4000 + b"\r\n\r\n",
    ],
    ids=["4096-byte-chunk-line", "trailers", "long-trailer-within-4096"],
)
def test_chunked_bodies_go_frames_keep_the_connection(
    consul_agent: FakeConsulAgent, body: bytes
) -> None:
    assert_fired_then_next(answers(consul_agent, CHUNKED_FIRE + body + NEXT))


def chunks_with_extensions(count: int) -> bytes:
    """``count`` one-byte chunks, each line carrying a 3000-byte extension."""
    return b"1;" + b"e" * 3000 + b"\r\nx\r\n"


@pytest.mark.parametrize(("count", "kept"), [(5, True), (6, False)])
def test_chunk_overhead_past_16_kib_closes_the_connection(
    consul_agent: FakeConsulAgent, count: int, kept: bool
) -> None:
    # Each chunk line adds its length + 2 to Go's excess and takes 16 + 2 x size back:
    # 3004 - 18 = 2986 per chunk, so the sixth chunk passes 16 KiB: "chunked encoding contains
    # too much non-data".
    body = chunks_with_extensions(1) * count + b"0\r\n\r\n"
    responses = answers(consul_agent, CHUNKED_FIRE + body + NEXT)
    if kept:
        assert_fired_then_next(responses)
    else:
        assert_fired_then_closed(responses)


def test_a_minus_one_chunk_size_before_64_mib_is_answered_without_reading_it(
    consul_agent: FakeConsulAgent,
) -> None:
    block = b"x" * (1 << 20)
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=10) as sock:
        sock.sendall(CHUNKED_FIRE + b"-1\r\n")
        sent = 0
        try:
            for _ in range(64):
                sock.sendall(block)
                sent += 1
        except OSError:
            pass  # the server answered and hung up long before the end, as Go does
        assert sent < 64
        try:
            answer = read_until_closed(sock)
        except ConnectionResetError:  # pragma: no cover - the answer was read before
            answer = b""
    if answer:  # the answer arrives before the server resets the connection it stopped reading
        assert_fired_then_closed(parse_responses(answer))
    assert [e.payload for e in consul_agent.events] == [None]


# -- Content-Length and Transfer-Encoding ---------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        b"Transfer-Encoding: chunked\r\nContent-Length: abc\r\n",  # validated beside chunked
        b"Transfer-Encoding: chunked\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
        b"Content-Length: 0x5\r\n",
        b"Content-Length: \r\n",  # "invalid empty Content-Length"
        b"Content-Length: 5, 5\r\n",
        b"Transfer-Encoding: chunked\r\nTrailer: Content-Length\r\n",  # "bad trailer key"
    ],
    ids=["abc-with-chunked", "two-with-chunked", "hex", "empty", "list", "bad-trailer-key"],
)
def test_bad_lengths_and_trailer_keys_are_a_bare_400(
    consul_agent: FakeConsulAgent, headers: bytes
) -> None:
    data = (
        b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    assert exchange(consul_agent.host, consul_agent.port, data).data == BAD_REQUEST
    assert consul_agent.fired == []


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Length: 5\r\nContent-Length: 5\r\n",
        b"Content-Length:    5   \r\n",
        b"Content-Length: 000005\r\n",
    ],
    ids=["repeated", "padded", "zeros"],
)
def test_content_lengths_go_accepts(consul_agent: FakeConsulAgent, headers: bytes) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\nhello" + NEXT
    fired, listed = answers(consul_agent, data)
    assert (fired.status, listed.status) == (200, 200)
    assert [e.payload for e in consul_agent.events] == [b"hello"]


@pytest.mark.parametrize(
    "encoding",
    [
        b"Transfer-Encoding: gzip\r\n",
        b"Transfer-Encoding: chunked, gzip\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    ],
    ids=["gzip", "list", "twice"],
)
def test_transfer_encodings_other_than_one_chunked_are_501(
    consul_agent: FakeConsulAgent, encoding: bytes
) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\n" + encoding + b"\r\n"
    assert exchange(consul_agent.host, consul_agent.port, data).data == go_error(
        b"501 Not Implemented", b"Unsupported transfer encoding"
    )


def test_transfer_encoding_is_case_insensitive(consul_agent: FakeConsulAgent) -> None:
    data = CHUNKED_FIRE.replace(b"chunked", b"CHUNKED") + b"5\r\nhello\r\n0\r\n\r\n" + NEXT
    assert_fired_then_next(answers(consul_agent, data))


def test_http10_ignores_transfer_encoding_so_the_chunks_are_the_next_request(
    consul_agent: FakeConsulAgent,
) -> None:
    # Go issue 12785: on HTTP/1.0 Transfer-Encoding is dropped. The request has no body; kept
    # alive, the chunk bytes are read as the next request, whose line "5" is malformed.
    data = (
        b"PUT /v1/event/fire/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    fired, refused = answers(consul_agent, data)
    assert (fired.status_line, fired.header("Connection")) == (b"HTTP/1.0 200 OK", "keep-alive")
    assert json.loads(fired.body)["Payload"] is None
    assert (refused.status_line, refused.body) == (b"HTTP/1.1 400 Bad Request", b"400 Bad Request")


def test_http10_with_transfer_encoding_takes_its_content_length(
    consul_agent: FakeConsulAgent,
) -> None:
    data = (
        b"PUT /v1/event/fire/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 5\r\n\r\nhello"
    )
    [fired] = answers(consul_agent, data)
    assert fired.status_line == b"HTTP/1.0 200 OK"
    assert json.loads(fired.body)["Payload"] == "aGVsbG8="


def test_http10_ignores_even_an_unknown_transfer_encoding(consul_agent: FakeConsulAgent) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n"
    [fired] = answers(consul_agent, data)
    assert fired.status_line == b"HTTP/1.0 200 OK"


@pytest.mark.parametrize(("length", "kept"), [((256 << 10) - 1, True), (256 << 10, False)])
def test_an_unread_body_of_256_kib_or_more_closes_the_connection(
    consul_agent: FakeConsulAgent, length: int, kept: bool
) -> None:
    # chunkWriter.writeHeader: unreadDataSizeLocked() >= maxPostHandlerReadBytes is "too big".
    data = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % length
    responses = answers(consul_agent, data + b"x" * length + NEXT)
    assert responses[0].status == 200
    if kept:
        assert [r.header("Connection") for r in responses] == [None, "close"]
    else:
        assert [r.header("Connection") for r in responses] == ["close"]


# -- the order of Go's checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        (  # Transfer-Encoding is read before the version is judged: 501, not 505
            b"GET / HTTP/2.0\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            go_error(b"501 Not Implemented", b"Unsupported transfer encoding"),
        ),
        (  # a header textproto refuses comes first: 400, not 505
            b"GET / HTTP/2.0\r\nHost: x\r\nX(: y\r\n\r\n",
            BAD_REQUEST,
        ),
        (  # the version before a missing Host
            b"GET / HTTP/2.0\r\n\r\n",
            go_error(b"505 HTTP Version Not Supported: unsupported protocol version"),
        ),
        (
            b"GET / HTTP/0.9\r\n\r\n",
            go_error(b"505 HTTP Version Not Supported: unsupported protocol version"),
        ),
        (  # a name with a space passes textproto, then fails the server's check
            b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",
            go_error(b"400 Bad Request: invalid header name"),
        ),
        (  # "Host " is not Host: the missing Host is reported before the bad name
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            go_error(b"400 Bad Request: missing required Host header"),
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX(: y\r\n\r\n", BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost: x\r\n: y\r\n\r\n", BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", BAD_REQUEST),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: \xff\xfe\r\n\r\n", None),  # obs-text is fine
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", BAD_REQUEST),
    ],
    ids=[
        "501-before-505",
        "header-before-505",
        "505-before-host",
        "http-0.9",
        "name-with-space",
        "host-with-space-before-colon",
        "name-not-a-token",
        "empty-name",
        "cr-in-value",
        "obs-text",
        "two-equal-hosts",
    ],
)
def test_gos_checks_come_in_gos_order(
    consul_agent: FakeConsulAgent, data: bytes, answer: bytes | None
) -> None:
    got = exchange(consul_agent.host, consul_agent.port, data).data
    if answer is None:
        assert got.startswith(b"HTTP/1.1 200 OK\r\n")
    else:
        assert got == answer


# -- header folding -------------------------------------------------------------------------------


@pytest.fixture
def token_agent() -> Iterator[FakeConsulAgent]:
    """An agent whose tokens decide whether a fire passes: the secret's exact text shows how a
    folded ``X-Consul-Token`` was joined."""
    with FakeConsulAgent(acl="deny") as agent:
        yield agent


def fire_with_token_lines(agent: FakeConsulAgent, lines: bytes) -> int:
    data = b"PUT /v1/event/fire/deploy HTTP/1.1\r\nHost: x\r\nX-Consul-Token: " + lines
    got = exchange(agent.host, agent.port, data + b"\r\nConnection: close\r\n\r\n")
    [response] = parse_responses(got.data)
    return response.status


def test_folded_lines_are_trimmed_and_joined_with_one_space(token_agent: FakeConsulAgent) -> None:
    # readContinuedLineSlice: each continuation's leading and trailing spaces and tabs go, and
    # one space joins it to what came before.
    token_agent.create_token('event "deploy" { policy = "write" }', secret="t b c")
    assert fire_with_token_lines(token_agent, b"t  \t\r\n  b\t \r\n\t\tc ") == 200
    assert fire_with_token_lines(token_agent, b"t\r\n b\r\n c") == 200
    assert fire_with_token_lines(token_agent, b"t\r\n b\r\n cc") == 500  # ACL not found


@pytest.mark.parametrize("count", [20_000, 250_000])
def test_many_folded_lines_are_joined_in_one_pass(token_agent: FakeConsulAgent, count: int) -> None:
    # 250,000 continuation lines still fit in Go's 1 MiB + 4 KiB; the value is read in time
    # linear in them (it once took minutes).
    token_agent.create_token('event "deploy" { policy = "write" }', secret="t" + " b" * count)
    lines = b"t" + b"\r\n b\r\n\tb" * (count // 2)
    assert fire_with_token_lines(token_agent, lines) == 200


def test_a_blank_continuation_line_adds_a_space(token_agent: FakeConsulAgent) -> None:
    token_agent.create_token('event "deploy" { policy = "write" }', secret="t ")
    assert fire_with_token_lines(token_agent, b"t\r\n   ") == 200


def test_a_folded_first_header_is_a_bare_400(consul_agent: FakeConsulAgent) -> None:
    data = b"GET /v1/event/list HTTP/1.1\r\n folded\r\nHost: x\r\n\r\n"
    assert exchange(consul_agent.host, consul_agent.port, data).data == BAD_REQUEST


def test_bare_lf_line_endings_are_accepted_in_the_head(consul_agent: FakeConsulAgent) -> None:
    data = b"GET /v1/event/list HTTP/1.1\nHost: x\nX-A: a\n b\nConnection: close\n\n"
    [response] = answers(consul_agent, data)
    assert (response.status, response.body) == (200, b"[]")


# -- the request target ---------------------------------------------------------------------------

CONTROL_BYTES = [bytes([b]) for b in [*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F]]


@pytest.mark.parametrize("byte", CONTROL_BYTES, ids=[f"0x{b[0]:02x}" for b in CONTROL_BYTES])
def test_a_control_byte_in_the_target_is_gos_bare_400_and_closes(
    consul_agent: FakeConsulAgent, byte: bytes
) -> None:
    # url.ParseRequestURI: "net/url: invalid control character in URL"; not a statusError.
    data = b"GET /v1/event/li" + byte + b"st HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT
    assert exchange(consul_agent.host, consul_agent.port, data).data == BAD_REQUEST


def test_an_escaped_control_byte_reaches_consul_which_answers_an_empty_400(
    consul_agent: FakeConsulAgent,
) -> None:
    # Escaped, it passes Go's URL parser; go-cleanhttp's printable-path check then answers 400
    # with no body, and the connection stays open.
    data = b"GET /v1/event/li%01st HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT
    refused, listed = answers(consul_agent, data)
    assert (refused.status, refused.body, refused.header("Connection")) == (400, b"", None)
    assert listed.status == 200


def test_options_asterisk_is_gos_global_options_answer(consul_agent: FakeConsulAgent) -> None:
    data = b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT
    options, listed = answers(consul_agent, data)
    assert (options.status_line, options.headers[0], options.body) == (
        b"HTTP/1.1 200 OK",
        ("Content-Length", "0"),
        b"",
    )
    assert [name for name, _ in options.headers] == ["Content-Length", "Date"]
    assert listed.status == 200


def test_other_methods_on_asterisk_get_servemuxs_400_and_close(
    consul_agent: FakeConsulAgent,
) -> None:
    data = b"GET * HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT
    [refused] = answers(consul_agent, data)
    assert refused.status_line == b"HTTP/1.1 400 Bad Request"
    assert [name for name, _ in refused.headers] == ["Connection", "Date", "Content-Length"]
    assert (refused.header("Connection"), refused.header("Content-Length")) == ("close", "0")


# -- connection handling --------------------------------------------------------------------------


def test_an_unknown_expectation_is_417_and_closes(consul_agent: FakeConsulAgent) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n" + NEXT
    [failed] = answers(consul_agent, data)
    assert failed.status_line == b"HTTP/1.1 417 Expectation Failed"
    assert [name for name, _ in failed.headers] == ["Connection", "Date", "Content-Length"]
    assert (failed.header("Connection"), failed.header("Content-Length")) == ("close", "0")
    assert consul_agent.fired == []
    assert list(consul_agent.requests) == []  # no handler ran


def test_continue_is_not_sent_to_http10(consul_agent: FakeConsulAgent) -> None:
    data = (
        b"PUT /v1/event/fire/x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"
    )
    [fired] = answers(consul_agent, data)
    assert fired.status_line == b"HTTP/1.0 200 OK"


def test_continue_for_a_body_the_handler_did_not_finish_closes(
    consul_agent: FakeConsulAgent,
) -> None:
    # The fire handler reads 64 KiB + 1 of this body: no EOF seen through the
    # expectContinueReader, so Go closes after the answer.
    length = 100_000
    head = (
        b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )
    with socket.create_connection((consul_agent.host, consul_agent.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"x" * length + NEXT)
        responses = parse_responses(read_until_closed(sock))
    assert [(r.status, r.header("Connection")) for r in responses] == [(500, "close")]


@pytest.mark.parametrize(
    ("connection", "kept"),
    [(b"closed", True), (b"keep-close", True), (b"foo, close", False), (b"CLOSE", False)],
)
def test_connection_close_is_a_token_not_a_substring(
    consul_agent: FakeConsulAgent, connection: bytes, kept: bool
) -> None:
    data = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nConnection: " + connection + b"\r\n\r\n"
    responses = answers(consul_agent, data + NEXT)
    assert len(responses) == (2 if kept else 1)


def test_crlf_after_a_post_body_is_skipped(consul_agent: FakeConsulAgent) -> None:
    # server.go readRequest: after a POST, up to four leading CR/LF bytes are discarded.
    data = b"POST /v1/event/list HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\n" + NEXT
    posted, listed = answers(consul_agent, data)
    assert (posted.status, listed.status) == (405, 200)


def test_crlf_after_a_put_body_is_a_bad_request(consul_agent: FakeConsulAgent) -> None:
    data = b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\n" + NEXT
    fired, refused = answers(consul_agent, data)
    assert (fired.status, refused.status, refused.body) == (200, 400, b"400 Bad Request")


def test_fewer_than_four_bytes_after_a_request_get_no_answer(
    consul_agent: FakeConsulAgent,
) -> None:
    # conn.serve waits for four bytes of the next request (bufr.Peek(4)) and hangs up silently
    # when the client ends first.
    data = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\nGET"
    [listed] = answers(consul_agent, data)
    assert listed.status == 200
