"""Hypothesis against a model of Go's framing: chunk sizes, folding, control bytes, versions.

The models below are written from Go's source, independently of the server:

* :func:`go_answers` predicts the statuses a stream of two pipelined requests gets (the
  request under test, then a list with ``Connection: close``) from ``request.go``
  ``readRequest`` and ``parseRequestLine``, ``ParseHTTPVersion``, ``url.ParseRequestURI``'s
  control-byte check, textproto's header rules, ``transfer.go`` (HTTP/1.0 ignores
  ``Transfer-Encoding``), ``server.go``'s checks and keep-alive rules and ``internal/chunked.go``
  ``parseHexUint``.
* :func:`go_read_mime_header` is textproto's ``readMIMEHeader`` and ``readContinuedLineSlice``
  line by line; the server's header reader must agree with it however the bytes are split
  into reads.
"""

from __future__ import annotations

import dataclasses
import itertools
import os

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reliability_support import exchange, parse_responses

from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.server import HEAD_LIMIT, _HeadersTooLarge, _Input, _Malformed
from pytest_consul_events.server import _read_header_block as server_read_header_block

EXAMPLES = int(os.environ.get("CONSUL_EVENTS_HOSTILE_EXAMPLES", "50"))
MODEL = settings(
    max_examples=EXAMPLES * 2,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NEXT = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
CONTROL = [bytes([b]) for b in [*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F]]


# -- the model of a request ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Shape:
    """A request built from the parts Go's framing cares about."""

    version: bytes
    target_extra: bytes  # appended to /v1/event/fire/e: nothing, a raw control byte, an escape
    host: bool
    connection: bytes | None
    fold: tuple[bytes, ...] | None  # continuation lines of X-Note; ("first",) folds at the start
    framing: str  # "none", "length" or "chunked"
    size_line: bytes  # the chunk-size line, for "chunked"

    def encode(self) -> bytes:
        lines = [b"PUT /v1/event/fire/e" + self.target_extra + b" " + self.version]
        if self.fold == (b"first",):
            lines.append(b" folded")
        if self.host:
            lines.append(b"Host: x")
        if self.connection is not None:
            lines.append(b"Connection: " + self.connection)
        if self.fold is not None and self.fold != (b"first",):
            lines.append(b"X-Note: a")
            lines.extend(self.fold)
        body = b""
        if self.framing == "length":
            lines.append(b"Content-Length: 5")
            body = b"hello"
        elif self.framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
            body = self.size_line + b"\r\nhello\r\n0\r\n\r\n"
        return b"\r\n".join(lines) + b"\r\n\r\n" + body + NEXT


def go_parse_hex(line: bytes) -> int | None:
    """internal/chunked.go: trimTrailingWhitespace, removeChunkExtension, parseHexUint."""
    while line and line[-1:] in (b" ", b"\t"):
        line = line[:-1]
    line = line.split(b";", 1)[0]
    if not line:
        return None  # "empty hex number for chunk length"
    value = 0
    for index, byte in enumerate(line):
        char = chr(byte)
        if char not in "0123456789abcdefABCDEF":
            return None  # "invalid byte in chunk length"
        if index == 16:
            return None  # "http chunk length too large"
        value = value * 16 + int(char, 16)
    return value


def go_version(version: bytes) -> tuple[int, int] | None:
    """ParseHTTPVersion."""
    text = version.decode("latin-1")
    if text == "HTTP/1.1":
        return 1, 1
    if text == "HTTP/1.0":
        return 1, 0
    if not text.startswith("HTTP/") or len(text) != 8 or text[6] != ".":
        return None
    if not (text[5].isdigit() and text[7].isdigit()):
        return None
    return int(text[5]), int(text[7])


def go_answers(shape: Shape) -> tuple[list[int], str | None]:
    """The statuses Go answers, and the ``Connection`` header of the first answer."""
    version = go_version(shape.version)
    if version is None:
        return [400], "close"  # malformed HTTP version
    if any(byte in shape.target_extra for byte in b"".join(CONTROL)):
        return [400], "close"  # net/url: invalid control character in URL
    if shape.fold == (b"first",):
        return [400], "close"  # malformed MIME header initial line
    if shape.fold is not None and any(b"\x01" in line for line in shape.fold):
        return [400], "close"  # malformed MIME header line: a byte textproto refuses
    at_least_11 = version >= (1, 1)
    chunked = shape.framing == "chunked" and at_least_11  # HTTP/1.0 ignores the header
    if version[0] != 1:
        return [505], "close"  # unsupported protocol version
    if at_least_11 and not shape.host:
        return [400], "close"  # missing required Host header
    status = 400 if shape.target_extra == b"%01" else 200  # go-cleanhttp's printable check
    if version == (1, 0):
        kept = shape.connection == b"keep-alive"
        header = "keep-alive" if kept else None
    else:
        kept = shape.connection != b"close"
        if chunked and go_parse_hex(shape.size_line) is None:
            kept = False  # the discard after the handler meets a body it cannot frame
        header = None if kept else "close"
    if not kept:
        return [status], header
    if shape.framing == "chunked" and not chunked:
        return [status, 400], header  # the ignored chunks are read as the next request
    return [status, 200], header


size_lines = st.one_of(
    st.integers(1, 20).map(lambda width: b"%0*x" % (width, 5)),
    st.sampled_from([b"5", b"5 ", b"5\t", b"5;x", b"5;a=b", b"0x5", b"-1", b"+5", b"0_5", b" 5"]),
    st.text(alphabet="0123456789abcdefABCDEFxX_-+ \t;=g", max_size=20).map(str.encode),
)
continuations = st.lists(
    st.tuples(
        st.sampled_from([b" ", b"\t", b"  \t"]),
        st.sampled_from([b"b", b"", b"b c", b"\x01"]),
        st.sampled_from([b"", b" ", b"\t "]),
    ).map(lambda parts: b"".join(parts)),
    min_size=1,
    max_size=5,
).map(tuple)


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    framing = draw(st.sampled_from(["none", "length", "chunked", "chunked"]))
    size_line = draw(size_lines) if framing == "chunked" else b""
    value = go_parse_hex(size_line)
    assume(framing != "chunked" or value in (None, 5))  # a valid size frames "hello" exactly
    return Shape(
        version=draw(
            st.sampled_from(
                [b"HTTP/1.1"] * 4
                + [b"HTTP/1.0"] * 3
                + [b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1", b"HTTP/1.1x", b"HTTX/1.1"]
            )
        ),
        target_extra=draw(st.sampled_from([b"", b"", b"", b"%01", b"%41", *CONTROL])),
        host=draw(st.booleans()),
        connection=draw(st.sampled_from([None, None, b"keep-alive", b"close"])),
        fold=draw(st.one_of(st.none(), st.just((b"first",)), continuations)),
        framing=framing,
        size_line=size_line,
    )


@MODEL
@given(shape=shapes())
def test_the_server_answers_what_go_answers(shape: Shape) -> None:
    with FakeConsulAgent() as agent:
        responses = parse_responses(exchange(agent.host, agent.port, shape.encode()).data)
    statuses, connection = go_answers(shape)
    assert [r.status for r in responses] == statuses, shape
    assert responses[0].header("Connection") == connection, shape


# -- the model of a header block ------------------------------------------------------------------


class _GoBufio:
    """Just enough of bufio.Reader over bytes: ReadLine (dropping "\\n" or "\\r\\n"),
    ReadByte and UnreadByte."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read_line(self) -> bytes | None:
        if self.pos >= len(self.data):
            return None  # io.EOF
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            line, self.pos = self.data[self.pos :], len(self.data)
            return line
        line, self.pos = self.data[self.pos : end], end + 1
        return line[:-1] if line.endswith(b"\r") else line

    def peek_byte(self) -> bytes:
        return self.data[self.pos : self.pos + 1]

    def skip_space(self) -> int:
        count = 0
        while self.peek_byte() in (b" ", b"\t"):
            self.pos += 1
            count += 1
        return count


_TOKEN = set(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _trim(line: bytes) -> bytes:
    return line.strip(b" \t")


def go_read_mime_header(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """textproto readMIMEHeader; ``None`` for its errors (and for EOF before the blank line)."""
    reader = _GoBufio(data)
    if reader.peek_byte() in (b" ", b"\t"):
        return None  # malformed MIME header initial line
    pairs = []
    while True:
        line = reader.read_line()
        if line is None:
            return None
        if not line:
            return pairs
        if b":" not in line:
            return None  # missing colon (mustHaveFieldNameColon)
        buffer = _trim(line)
        while reader.skip_space() > 0:
            buffer += b" "
            more = reader.read_line()
            if more is None:
                break
            buffer += _trim(more)
        key, _, value = buffer.partition(b":")
        if not key or any(byte not in _TOKEN and byte != 0x20 for byte in key):
            return None  # canonicalMIMEHeaderKey: not ok
        if any((byte < 0x20 and byte != 0x09) or byte == 0x7F for byte in value):
            return None  # validHeaderValueByte
        pairs.append((key, value.lstrip(b" \t")))


class _Pieces:
    """A socket whose ``recv`` returns ``data`` cut at the given points."""

    def __init__(self, data: bytes, cuts: list[int]) -> None:
        points = sorted({0, len(data), *(c for c in cuts if 0 < c < len(data))})
        self.pieces = [data[a:b] for a, b in itertools.pairwise(points)]

    def recv(self, size: int) -> bytes:
        if not self.pieces:
            return b""
        piece = self.pieces.pop(0)
        if len(piece) > size:
            self.pieces.insert(0, piece[size:])
            piece = piece[:size]
        return piece


def server_read(data: bytes, cuts: list[int]) -> list[tuple[bytes, bytes]] | None:
    try:
        pairs, _ = server_read_header_block(_Input(_Pieces(data, cuts)), HEAD_LIMIT)
    except (_Malformed, _HeadersTooLarge):
        return None
    return pairs


header_line = st.one_of(
    st.tuples(
        st.sampled_from([b"Host", b"X-Note", b"x", b"Bad Name", b"X(", b"", b"A B "]),
        st.sampled_from([b":", b": ", b":\t", b":  "]),
        st.sampled_from([b"v", b"", b"a b", b"\xff", b"a\x01", b"a\r", b"v  ", b"\t"]),
    ).map(b"".join),
    st.tuples(
        st.sampled_from([b" ", b"\t", b" \t "]),
        st.sampled_from([b"more", b"", b"m o", b"\x7f", b"  "]),
    ).map(b"".join),  # a continuation
    st.sampled_from([b"no colon", b"\r", b":"]),
)


@st.composite
def header_blocks(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(header_line, max_size=8))
    endings = draw(st.lists(st.sampled_from([b"\r\n", b"\r\n", b"\n"]), min_size=len(lines) + 1))
    block = b"".join(line + ending for line, ending in zip(lines, endings, strict=False))
    end = draw(st.sampled_from([b"\r\n", b"\n", b"", b"\r\n" + b"trailing"]))
    if draw(st.integers(0, 9)) == 0:  # a long run of folded lines
        block += b"X-Long: a\r\n" + b" b\r\n\tc \r\n" * draw(st.integers(1, 3000))
    return block + end


@MODEL
@given(block=header_blocks(), cuts=st.lists(st.integers(0, 40_000), max_size=12))
def test_the_header_reader_is_textprotos_however_the_bytes_arrive(
    block: bytes, cuts: list[int]
) -> None:
    assert server_read(block, cuts) == go_read_mime_header(block), block[:300]
