"""A threaded HTTP/1.1 server for the fake agent's WSGI app: keep-alive, Go's framing, limits.

werkzeug's development server closes every connection and polls for shutdown every 0.5 s; a
fixture used by thousands of tests cannot pay either. This server:

* binds in the caller's thread (a busy port raises at once) on 127.0.0.1 and an ephemeral port
  by default, and listens only from :meth:`HTTPServer.start` on, so a client of a server never
  started is refused at once rather than left waiting;
* accepts from one daemon thread woken by a socket pair, so :meth:`HTTPServer.stop` takes
  milliseconds, and applies Consul's per-client connection limit there (below);
* serves each admitted connection from its own daemon thread with keep-alive and ``TCP_NODELAY``;
* frames requests as Go's ``net/http`` does, answering what it cannot read exactly as Go's
  ``conn.serve`` does (``400``, ``431``, ``501``, ``505``, ``417``, with ``Connection: close``),
  with memory bounded per connection and work linear in the bytes received, whatever arrives;
* on stop, closes every connection and keeps waking blocked handlers until their threads end.

Framing, as read in Go's source (``src/net/http/server.go``, ``request.go``, ``transfer.go``,
``internal/chunked.go`` and ``src/net/textproto/reader.go``):

* The request line and headers may take ``MaxHeaderBytes`` + 4096 bytes (1 MiB + 4 KiB), past
  which the answer is ``431``. Folded (obs-fold) header lines are joined with one space, as
  ``readContinuedLineSlice`` does; a header block starting with white space, a line without a
  colon, a name that is not a token (spaces aside) and a value byte outside VCHAR, SP, HTAB
  and obs-text are textproto errors: a bare ``400``. A name with a space passes textproto and
  fails the server's check: ``400 Bad Request: invalid header name``. Two ``Host`` headers are
  refused by ``readRequest`` with a plain error: a bare ``400``.
* Control bytes in the request target fail ``url.ParseRequestURI``: a bare ``400``.
* Order of checks: request line, method, version syntax, target, headers, ``Host`` count,
  ``Content-Length`` (validated even beside ``chunked``), ``Transfer-Encoding`` (``501``), then
  the version (``505``), then a missing or malformed ``Host`` and the header names.
* HTTP/1.0 ignores ``Transfer-Encoding`` altogether (``parseTransferEncoding``, Go issue 12785):
  a 1.0 request with ``chunked`` has the body its ``Content-Length`` says, or none.
* A chunk-size line ends in CRLF (no other CR, no bare LF) within 4096 bytes, holds 1 to 16 hex
  digits after trailing white space and any extension are cut (``parseHexUint``: ``-1``,
  ``0x5``, ``0_5`` and 17 digits are errors); chunk-line bytes beyond 16 a chunk plus twice
  its data may add up to 16 KiB, no more; the trailer must end within 4096 bytes. A body Go
  cannot frame only closes the connection after the handler's answer
  (``chunkWriter.writeHeader``'s discard, up to ``maxPostHandlerReadBytes``).

The connection limit is hashicorp/go-connlimit's, as Consul installs it (``agent/agent.go``):
a connection is counted against its client IP when accepted and until it closes; one that
would pass the limit (read from ``conn_limit`` as it arrives; 0 is none) gets the 429 bytes
with a 10 ms write deadline from the accepting thread, and is closed without a thread of its
own. A connection whose answer is out and whose client has hung up stops counting at once.

Closing after an answer, the server sends FIN and waits up to 0.5 s (Go's
``rstAvoidanceDelay``) for the client to hang up, reading at most 1 MiB meanwhile, so that a
client still sending does not get a reset before it reads the answer.

Why not h11, which frames HTTP/1.1 well: tried (0.16.0) against the cases above, it accepts
chunk sizes of 17 to 20 hex digits and chunk-extension lines of any length, honours
``Transfer-Encoding: chunked`` on HTTP/1.0 (and answers 501 to ``gzip`` there, which Go
ignores), accepts control bytes in header values, accepts HTTP/2.0 request lines (Go answers
505), and reports every framing error as one exception type with free text (``illegal header
line``), so Go's distinct answers (a bare 400 for ``X(: y`` but ``400 Bad Request: invalid
header name`` for ``Bad Name: y``) could only be told apart by parsing its messages. Hence
this module's own parser, which follows Go's code path by path.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import re
import select
import selectors
import socket
import string as _string
import sys
import threading
import time
from collections.abc import Callable, Iterable
from operator import itemgetter
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_consul_events import messages
from pytest_consul_events.gocompat.query import QueryError, unescape_path
from pytest_consul_events.gocompat.sniff import detect_text_content_type

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

MAX_HEADER_BYTES = 1 << 20
"""Go's ``http.DefaultMaxHeaderBytes``; Go allows 4096 bytes of slack on top."""
HEAD_LIMIT = MAX_HEADER_BYTES + 4096
"""Go's ``initialReadLimitSize``: the request line and headers may not take more."""
MAX_POST_HANDLER_READ = 256 << 10
"""Go's ``maxPostHandlerReadBytes``: unread body beyond this closes the connection."""
CHUNK_LINE_LIMIT = 4096
"""Go's ``maxLineLength`` and ``bufio.Reader`` size: a chunk-size line and a trailer fit in it."""
CHUNK_EXCESS_LIMIT = 16 * 1024
"""Go's chunkedReader: overhead tolerated beyond 16 bytes per chunk plus twice the data."""
LIMIT_WRITE_DEADLINE = 0.010
"""Consul installs go-connlimit's 429 handler with a 10 ms write deadline (agent/agent.go)."""
LINGER_SECONDS = 0.5
"""Go's ``rstAvoidanceDelay``: how long a closing connection waits for the client to hang up
(Go waits after a 431 or an oversized body; this server after every answer that closes)."""
LINGER_BYTES = 1 << 20
"""How much a closing connection reads (and discards) while it waits, at most."""
_RECV_SIZE = 65536


def _go_error(status: str, body: str | None = None) -> bytes:
    """Go's raw answer: ``HTTP/1.1 <status>``, plain text, ``Connection: close``, the body."""
    text = status if body is None else body
    return f"HTTP/1.1 {status}{messages.GO_ERROR_HEADERS}{text}".encode()


class _Refused(Exception):
    """A request Go's server answers itself, before any handler, then closes the connection;
    ``answer`` is what goes on the wire."""

    def __init__(self, answer: bytes) -> None:
        super().__init__(answer[:60])
        self.answer = answer


def _bad_request() -> _Refused:
    """Go's bare ``400 Bad Request`` (a parse error that is not a ``statusError``)."""
    return _Refused(_go_error(messages.GO_BAD_REQUEST))


def _explained(reason: str) -> _Refused:
    """Go's ``badRequestError``: ``400 Bad Request: <reason>`` in the status line and body."""
    return _Refused(_go_error(f"{messages.GO_BAD_REQUEST}: {reason}"))


def _too_large() -> _Refused:
    return _Refused(_go_error(messages.GO_HEADERS_TOO_LARGE))


class _BodyError(Exception):
    """The request body cannot be framed (a bad chunk, a cut, a trailer too long)."""


class _HeadersTooLarge(Exception):
    """A header block ran past its byte budget."""


class _Malformed(Exception):
    """A header block textproto refuses."""


# -- reading --------------------------------------------------------------------------------------


class _Input:
    """A connection's read side: a small buffer over ``recv`` with exact peeks and bounded lines.

    Unlike ``io.BufferedReader``, :meth:`peek` waits for as many bytes as asked, as Go's
    ``bufio.Reader.Peek`` does, and every read is bounded by the caller. The buffer never holds
    more than one ``recv`` beyond the longest line asked for.
    """

    __slots__ = ("_buf", "_sock", "eof")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()
        self.eof = False

    def _fill(self) -> bool:
        """Receive more; ``False`` once the client has closed its side."""
        if self.eof:
            return False
        data = self._sock.recv(_RECV_SIZE)
        if not data:
            self.eof = True
            return False
        self._buf += data
        return True

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes without consuming them (fewer only at end of stream)."""
        while len(self._buf) < size and self._fill():
            pass
        return bytes(self._buf[:size])

    def skip(self, size: int) -> None:
        """Consume ``size`` bytes already peeked."""
        del self._buf[:size]

    def readline(self, limit: int) -> bytes:
        """A line with its ``\\n``, or at most ``limit`` bytes without it (the limit was reached,
        or the stream ended)."""
        buf = self._buf
        start = 0
        while True:
            end = buf.find(b"\n", start, limit)
            if end >= 0:
                line = bytes(buf[: end + 1])
                del buf[: end + 1]
                return line
            if len(buf) >= limit:
                line = bytes(buf[:limit])
                del buf[:limit]
                return line
            start = len(buf)
            if not self._fill():
                buf = self._buf
                line = bytes(buf)
                buf.clear()
                return line
            buf = self._buf

    def take_folded(self, limit: int) -> bytes:
        """The complete lines starting with a space or tab at the front of what is already here
        (at most ``limit`` bytes), consumed; ``b""`` if there is none. Never waits."""
        if not self._buf or self._buf[0] not in _SPACE_TAB:
            return b""
        match = _FOLDED_RUN.match(self._buf, 0, limit)
        if match is None:
            return b""
        run = bytes(self._buf[: match.end()])
        del self._buf[: match.end()]
        return run

    def find_within(self, marker: bytes, limit: int) -> bool:
        """Whether ``marker`` ends within the next ``limit`` bytes, receiving only as much as it
        takes to know (Go's ``seeUpcomingDoubleCRLF``)."""
        start = 0
        while True:
            if self._buf.find(marker, start, limit) >= 0:
                return True
            if len(self._buf) >= limit or not self._fill():
                return False
            start = max(0, len(self._buf) - len(marker))

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (at least one unless the stream ended)."""
        if self._buf:
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data
        if self.eof or size <= 0:
            return b""
        data = self._sock.recv(min(size, _RECV_SIZE))
        if not data:
            self.eof = True
        return data

    def read_exact(self, size: int) -> bytes:
        """Exactly ``size`` bytes, or fewer at end of stream."""
        data = self.peek(size)
        self.skip(len(data))
        return data

    def release(self) -> None:
        """Drop the buffer's memory while the connection waits for its next request."""
        if not self._buf:
            self._buf = bytearray()


_SPACE_TAB = b" \t"
_FOLDED_RUN = re.compile(rb"(?:[ \t][^\n]*\n)+")
"""Consecutive folded (obs-fold) lines, each complete."""
_FOLD = re.compile(rb"[ \t]*\r?\n[ \t]*")
"""A line break with the white space around it: one space once lines are joined."""
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z ]+")
"""textproto's ``canonicalMIMEHeaderKey``: token bytes, and spaces (accepted, not canonical)."""
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
"""Bytes textproto's ``validHeaderValueByte`` refuses (HTAB, SP, VCHAR and obs-text pass)."""


def _chop(line: bytes) -> bytes:
    """A line without its ``\\n`` and a ``\\r`` just before it (``bufio.Reader.ReadLine``)."""
    if line.endswith(b"\n"):
        line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
    return line


def _read_header_block(inp: _Input, budget: int) -> tuple[list[tuple[bytes, bytes]], int]:
    """Header lines up to the blank line, as textproto's ``readMIMEHeader`` reads them.

    Returns the ``(name, value)`` pairs in order (values with folded lines joined by one space,
    leading white space dropped) and the bytes consumed. Linear in the bytes read: a folded
    value grows in place, and nothing is scanned twice.

    Raises:
        _HeadersTooLarge: ``budget`` bytes passed without the block ending.
        _Malformed: a line textproto refuses; the stream ended before the blank line.
    """
    used = 0
    pairs: list[tuple[bytes, bytes]] = []
    current: bytearray | None = None  # the header being read, folded lines appended in place

    def finish(kv: bytearray) -> None:
        name, colon, value = bytes(kv).partition(b":")
        if not colon or _FIELD_NAME.fullmatch(name) is None:
            raise _Malformed()
        if _BAD_VALUE_BYTE.search(value) is not None:
            raise _Malformed()
        pairs.append((name, value.lstrip(_SPACE_TAB)))

    while True:
        if used >= budget:
            raise _HeadersTooLarge()
        if current is not None:
            run = inp.take_folded(budget - used)
            if run:
                # Many folded lines at once, at C speed: each becomes one space and its text
                # trimmed of spaces and tabs, exactly as line by line below.
                used += len(run)
                current += _FOLD.sub(b" ", b"\n" + run)[:-1]
                continue
        raw = inp.readline(budget - used)
        used += len(raw)
        if not raw.endswith(b"\n"):
            if used >= budget:
                raise _HeadersTooLarge()
            raise _Malformed()  # the stream ended inside the header block
        line = _chop(raw)
        if not line:
            if current is not None:
                finish(current)
            return pairs, used
        if line[0] in _SPACE_TAB:
            if current is None:
                raise _Malformed()  # textproto: "malformed MIME header initial line"
            current += b" "
            current += line.strip(_SPACE_TAB)
            continue
        if current is not None:
            finish(current)
        if b":" not in line:
            raise _Malformed()  # textproto: "missing colon"
        current = bytearray(line.strip(_SPACE_TAB))


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An RFC 7230 token: what a method may be made of."""
_CTL = re.compile(r"[\x00-\x1f\x7f]")
"""Bytes ``url.ParseRequestURI`` refuses anywhere in the target."""
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_HOST_CHARS = frozenset(
    _string.ascii_letters + _string.digits + "!$&'()*+,;=:[]%@-._~"
)  # httpguts.ValidHostHeader: the bytes a Host header may contain
_MAX_CONTENT_LENGTH = (1 << 63) - 1


def _values_contain_token(values: Iterable[str], token: str) -> bool:
    """httpguts ``HeaderValuesContainsToken``: ``token`` is one of the comma-separated
    elements of one of ``values`` (white space trimmed, ASCII case ignored)."""
    for value in values:
        for element in value.split(","):
            element = element.strip(" \t")
            if element.isascii() and element.lower() == token:
                return True
    return False


_TOKEN_SEARCH = {
    token: re.compile(rf"(?:^|[ ,\t]){re.escape(token)}(?=$|[ ,\t])", re.IGNORECASE | re.ASCII)
    for token in ("close", "keep-alive", "100-continue")
}


def _has_token(value: str, token: str) -> bool:
    """Go's ``hasToken``: ``token`` appears in ``value`` between spaces, commas or tabs (or the
    ends), ASCII case ignored."""
    return _TOKEN_SEARCH[token].search(value) is not None


def _parse_version(version: str) -> tuple[int, int] | None:
    """Go's ``ParseHTTPVersion``: ``HTTP/X.Y`` with one digit each; ``None`` if malformed."""
    if (
        len(version) != 8
        or not version.startswith("HTTP/")
        or version[6] != "."
        or version[5] not in _string.digits
        or version[7] not in _string.digits
    ):
        return None
    return int(version[5]), int(version[7])


class _Head:
    """A request line and headers as Go's server accepted them, with their framing."""

    __slots__ = (
        "close",
        "content_length",
        "expect",
        "headers",
        "major",
        "method",
        "minor",
        "path",
        "query",
        "target",
    )

    def __init__(self) -> None:
        self.method = ""
        self.target = ""
        self.major = 1
        self.minor = 1
        self.path = ""
        self.query = ""
        self.headers: list[tuple[str, str]] = []
        self.content_length = 0
        """0: no body; above 0: that many bytes; -1: chunked."""
        self.close = False
        self.expect = ""

    @property
    def at_least_11(self) -> bool:
        return (self.major, self.minor) >= (1, 1)

    @property
    def version(self) -> str:
        """The version Go answers in: ``HTTP/1.1`` from 1.1 up, else ``HTTP/1.0``."""
        return "HTTP/1.1" if self.at_least_11 else "HTTP/1.0"

    def values(self, name: str) -> list[str]:
        """Every value of a header (``name`` in lower case)."""
        return [value for key, value in self.headers if key.lower() == name]

    def environ(self, server: HTTPServer, address: Any, body: _Body) -> dict[str, Any]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path,
            "QUERY_STRING": self.query,
            "REQUEST_URI": self.target,
            "RAW_URI": self.target,
            "SERVER_NAME": server.host,
            "SERVER_PORT": str(server.port),
            "SERVER_PROTOCOL": f"HTTP/{self.major}.{self.minor}",
            "REMOTE_ADDR": address[0] if isinstance(address, tuple) else "",
            "REMOTE_PORT": str(address[1]) if isinstance(address, tuple) else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }
        if self.content_length > 0:
            environ["CONTENT_LENGTH"] = str(self.content_length)
        for name, value in self.headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue  # Go takes both out of the header once it has framed the body
            if key != "CONTENT_TYPE":
                key = "HTTP_" + key
            environ.setdefault(key, value)
        return environ


def _read_head(line: bytes, inp: _Input) -> _Head:
    """Parse a request line (``\\n`` included) and its headers as Go's server reads them.

    Raises:
        _Refused: the exact answer Go's ``conn.serve`` writes for this request.
    """
    used = len(line)
    if not line.endswith(b"\n") and used >= HEAD_LIMIT:
        raise _too_large()
    text = _chop(line).decode("latin-1")
    method, sep1, rest = text.partition(" ")
    target, sep2, version = rest.partition(" ")
    if not (sep1 and sep2) or _TOKEN.fullmatch(method) is None:
        raise _bad_request()
    parsed = _parse_version(version)
    if parsed is None:
        raise _bad_request()
    head = _Head()
    head.method, head.target = method, target
    head.major, head.minor = parsed
    _split_target(head)
    try:
        pairs, _ = _read_header_block(inp, HEAD_LIMIT - used)
    except _HeadersTooLarge:
        raise _too_large() from None
    except _Malformed:
        raise _bad_request() from None

    bad_name = False
    headers: list[tuple[str, str]] = []
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1")
        bad_name = bad_name or " " in name
        headers.append((name, raw_value.decode("latin-1")))
    head.headers = headers
    hosts = head.values("host")
    if len(hosts) > 1:
        raise _bad_request()  # request.go readRequest: fmt.Errorf("too many Host headers")
    _frame_body(head)
    h2_preface = (head.major, head.minor) == (2, 0) and method == "PRI" and target == "*"
    if head.major != 1 and not h2_preface:
        raise _Refused(
            _go_error(f"{messages.GO_VERSION_NOT_SUPPORTED}: {messages.GO_UNSUPPORTED_VERSION}")
        )
    if head.at_least_11 and not hosts and not h2_preface:
        raise _explained(messages.GO_MISSING_HOST)
    if hosts and not set(hosts[0]) <= _HOST_CHARS:
        raise _explained(messages.GO_MALFORMED_HOST)
    if bad_name:
        raise _explained(messages.GO_INVALID_HEADER_NAME)
    # transfer.go shouldClose, then Request.wantsClose.
    connection = head.values("connection")
    if head.major < 1 or h2_preface:
        head.close = True
    elif not head.at_least_11:
        head.close = _values_contain_token(connection, "close") or not _values_contain_token(
            connection, "keep-alive"
        )
    else:
        head.close = _values_contain_token(connection, "close")
    head.close = head.close or bool(connection and _has_token(connection[0], "close"))
    expect = head.values("expect")
    head.expect = expect[0] if expect else ""
    return head


def _frame_body(head: _Head) -> None:
    """Go's ``readTransfer`` for a request: ``Transfer-Encoding``, ``Content-Length``, trailers.

    Raises:
        _Refused: 501 for a transfer encoding other than one ``chunked``; a bare 400 for a bad
            or conflicting ``Content-Length`` or a forbidden trailer name.
    """
    encodings = head.values("transfer-encoding")
    chunked = False
    if encodings and head.at_least_11:  # HTTP/1.0 ignores Transfer-Encoding entirely
        if len(encodings) != 1 or not encodings[0].isascii() or encodings[0].lower() != "chunked":
            raise _Refused(_go_error(messages.GO_NOT_IMPLEMENTED, messages.GO_UNSUPPORTED_TE))
        chunked = True
    lengths = head.values("content-length")
    length = 0
    if lengths:
        first = lengths[0].strip(" \t")
        if any(value.strip(" \t") != first for value in lengths[1:]):
            raise _bad_request()  # "message cannot contain multiple Content-Length headers"
        if not first.isdigit() or not first.isascii():
            raise _bad_request()  # strconv.ParseUint(cl, 10, 63); empty is refused too
        digits = first.lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > _MAX_CONTENT_LENGTH:
            raise _bad_request()
        length = int(digits)
    if chunked:
        for value in head.values("trailer"):
            for key in value.split(","):
                if key.strip(" \t").lower() in ("transfer-encoding", "trailer", "content-length"):
                    raise _bad_request()  # fixTrailer: "bad trailer key"
        length = -1
    head.content_length = length


def _split_target(head: _Head) -> None:
    """``url.ParseRequestURI`` as far as the fake needs: the path and the raw query.

    Raises:
        _Refused: a bare 400 for a control byte, a target that is not a path (nor ``*``, nor
            an absolute URL), or a bad escape in the path.
    """
    target = head.target
    if _CTL.search(target) is not None:
        raise _bad_request()  # net/url: invalid control character in URL
    if target == "*":
        head.path = "*"
        return
    if "://" in target and not target.startswith("/"):
        after_scheme = target.split("://", 1)[1]
        slash = after_scheme.find("/")
        target = after_scheme[slash:] if slash >= 0 else "/"
    if not target.startswith("/"):
        raise _bad_request()
    raw_path, _, head.query = target.partition("?")
    try:
        # The request line was read as latin-1: back to its bytes, which may be raw UTF-8.
        decoded = unescape_path(raw_path.encode("latin-1").decode("utf-8", "surrogateescape"))
    except QueryError:
        raise _bad_request() from None
    head.path = decoded.encode("utf-8", "surrogateescape").decode("latin-1")


class _Body(io.RawIOBase):
    """The request body as ``wsgi.input``: ``Content-Length`` bytes, or Go's chunked framing.

    Reads never hold more than asked for. A chunked body Go would refuse raises
    :class:`_BodyError`; a ``Content-Length`` body cut short simply ends (and is remembered).
    """

    def __init__(self, inp: _Input, length: int, on_first_read: Callable[[], None]) -> None:
        super().__init__()
        self._inp = inp
        self._chunked = length < 0
        self.remaining = max(length, 0)
        self.saw_eof = length == 0
        self.failed = False
        self._chunk_left = 0
        self._check_end = False
        self._excess = 0
        self._on_first_read: Callable[[], None] | None = on_first_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self.failed:
            if self._chunked:
                raise _BodyError()
            return b""
        if self.saw_eof:
            return b""
        if self._on_first_read is not None:
            self._on_first_read()
            self._on_first_read = None
        if size is None or size < 0:
            size = sys.maxsize
        if not self._chunked:
            data = self._inp.read(min(size, self.remaining, _RECV_SIZE))
            if not data:
                self.failed = True  # Go: io.ErrUnexpectedEOF
                return b""
            self.remaining -= len(data)
            self.saw_eof = self.remaining == 0
            return data
        try:
            return self._read_chunked(size)
        except _BodyError:
            self.failed = True
            raise

    def _read_chunked(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            if self._check_end:
                if self._inp.read_exact(2) != b"\r\n":
                    raise _BodyError("malformed chunked encoding")
                self._check_end = False
            if self._chunk_left == 0:
                self._begin_chunk()
                if self.saw_eof:
                    break
                continue
            data = self._inp.read(min(size - len(out), self._chunk_left, _RECV_SIZE))
            if not data:
                raise _BodyError("unexpected EOF")
            out += data
            self._chunk_left -= len(data)
            self._check_end = self._chunk_left == 0
        return bytes(out)

    def _begin_chunk(self) -> None:
        """Go's ``chunkedReader.beginChunk`` and ``readChunkLine``, then the trailer at the end.

        Raises:
            _BodyError: every error Go's chunked reader reports.
        """
        line = self._inp.readline(CHUNK_LINE_LIMIT)
        if not line.endswith(b"\n"):
            raise _BodyError("header line too long" if line else "unexpected EOF")
        cr = line.find(b"\r")
        if cr < 0:
            raise _BodyError("chunked line ends with bare LF")
        if cr != len(line) - 2:
            raise _BodyError("invalid CR in chunked line")
        self._excess += len(line)
        digits = line[:-2].rstrip(_SPACE_TAB).partition(b";")[0]
        if _HEX.fullmatch(digits) is None:
            raise _BodyError("invalid byte in chunk length, or more than 16 digits")
        size = int(digits, 16)
        self._excess = max(0, self._excess - 16 - 2 * size)
        if self._excess > CHUNK_EXCESS_LIMIT:
            raise _BodyError("chunked encoding contains too much non-data")
        if size == 0:
            self._read_trailer()
            self.saw_eof = True
        self._chunk_left = size

    def _read_trailer(self) -> None:
        """Go's ``body.readTrailer``: a CRLF, or header lines ending within 4096 bytes."""
        inp = self._inp
        if inp.peek(2) == b"\r\n":
            inp.skip(2)
            return
        if len(inp.peek(2)) < 2:
            raise _BodyError("unexpected EOF reading trailer")
        if not inp.find_within(b"\r\n\r\n", CHUNK_LINE_LIMIT):
            raise _BodyError("suspiciously long trailer after chunked body")
        try:
            _read_header_block(inp, CHUNK_LINE_LIMIT)
        except (_Malformed, _HeadersTooLarge):
            raise _BodyError("malformed trailer") from None

    def discard(self, limit: int) -> str:
        """Read and drop what the handler left, as Go does after it (``io.CopyN`` of
        ``limit + 1`` bytes): ``"eof"`` when the body ended, ``"more"`` when more than ``limit``
        bytes remain, ``"error"`` when it cannot be framed or was cut short."""
        if not self._chunked and self.remaining >= limit:
            return "more"  # Go: unreadDataSizeLocked() >= maxPostHandlerReadBytes
        seen = 0
        try:
            while not self.saw_eof:
                if self.failed:
                    return "error"
                chunk = self.read(min(_RECV_SIZE, limit + 1 - seen))
                if not chunk and not self.saw_eof:
                    return "error"
                seen += len(chunk)
                if seen > limit:
                    return "more"
        except _BodyError:
            return "error"
        return "eof"


# -- connections ---------------------------------------------------------------------------------


class _Connection:
    __slots__ = ("answered", "busy", "counted", "ip", "served", "sock")

    def __init__(self, sock: socket.socket, ip: str) -> None:
        self.sock = sock
        self.ip = ip
        self.busy = False
        self.answered = False  # the answer of the current request is going out: nothing follows
        self.served = False  # Go's StateNew until the first request: not idle yet
        self.counted = True  # held against the client's connection limit


def _listener_backlog() -> int:
    """The listen backlog Go uses: the kernel's ``somaxconn`` (``net.maxListenerBacklog``)."""
    try:
        with open("/proc/sys/net/core/somaxconn", encoding="ascii") as value:
            return max(1, min(int(value.read().strip()), 65535))
    except (OSError, ValueError):
        return socket.SOMAXCONN


class HTTPServer:
    """Serves a WSGI app on ``host:port`` from daemon threads; a context manager.

    The socket is bound when the server is created, so ``OSError`` (address in use) is raised
    in the caller's thread; it listens from :meth:`start` on. ``on_stop`` is called
    (repeatedly, until handler threads end) when stopping, to wake handlers blocked inside the
    app. ``conn_limit``, read as each connection arrives, is the number of concurrent
    connections one client IP may hold (0 or ``None``: no limit), as Consul's
    ``http_max_conns_per_client``.
    """

    def __init__(
        self,
        app: WSGIApplication,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_stop: Callable[[], None] | None = None,
        conn_limit: Callable[[], int] | None = None,
    ) -> None:
        self.app = app
        self._listener = _bind(host, port)
        bound = self._listener.getsockname()
        self.host: str = bound[0]
        self.port: int = bound[1]
        self._on_stop = on_stop
        self._conn_limit = conn_limit
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._connections: dict[_Connection, threading.Thread] = {}
        self._by_ip: dict[str, set[_Connection]] = {}
        self._stopping = False
        self._accept_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port``, with IPv6 hosts in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> HTTPServer:
        """Listen and start accepting connections; returns the server. Starting twice is an
        error.

        Raises:
            RuntimeError: the server was already started or stopped.
        """
        if self._accept_thread is not None or self._stopping:
            raise RuntimeError("the server was already started")
        self._listener.listen(_listener_backlog())
        self._listener.setblocking(False)
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"consul-fake-accept:{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self, timeout: float = 5.0, *, grace: float = 0.2) -> None:
        """Stop accepting, answer what is in flight, close every connection, end the threads.

        Blocked handlers are woken through ``on_stop`` and their answers sent; idle
        connections are closed at once, busy ones after ``grace`` seconds. Returns once every
        connection thread has ended, or after ``timeout``. Safe to call more than once.
        """
        if self._stopping:
            return
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        self._listener.close()
        now = time.monotonic()
        deadline, grace_end = now + timeout, now + grace
        while True:
            if self._on_stop is not None:
                self._on_stop()
            with self._lock:
                pending = list(self._connections.items())
            if not pending:
                break
            now = time.monotonic()
            for connection, _ in pending:
                if not connection.busy or now >= grace_end:
                    _shutdown(connection.sock)
            if now >= deadline:
                break
            pending[0][1].join(min(deadline - now, 0.01))
        self._wake_r.close()
        self._wake_w.close()

    def close_idle_connections(self) -> int:
        """Close keep-alive connections waiting for their next request; returns how many.

        Connections that have not sent a first request yet are left alone, as Go does. The
        closed ones stop counting against the client's connection limit at once.
        """
        with self._lock:
            idle = [c for c in self._connections if c.served and not c.busy]
            for connection in idle:
                self._uncount(connection)
        for connection in idle:
            _shutdown(connection.sock)
        return len(idle)

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called."""
        return self._accept_thread is not None

    @property
    def connection_count(self) -> int:
        """How many client connections are open."""
        with self._lock:
            return len(self._connections)

    def connections_from(self, ip: str) -> int:
        """How many connections from ``ip`` count against its connection limit."""
        with self._lock:
            return len(self._by_ip.get(ip, ()))

    def __enter__(self) -> HTTPServer:
        if not self.started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- accepting -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        wake_only = select.poll()  # for the pauses: a poll object holds no descriptor
        wake_only.register(self._wake_r, select.POLLIN)
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            pause = 0.0  # Go's accept backoff after a temporary error: 5 ms doubling to 1 s
            while not self._stopping:
                if pause:
                    if wake_only.poll(pause * 1000):
                        return
                elif any(key.fileobj is self._wake_r for key, _ in selector.select()):
                    return
                while not self._stopping:  # take every connection waiting
                    try:
                        sock, address = self._listener.accept()
                    except (BlockingIOError, ConnectionAbortedError):
                        pause = 0.0
                        break  # none left, or one that died in the queue
                    except OSError:  # out of descriptors or memory: wait, then try again
                        pause = min(max(pause * 2, 0.005), 1.0)
                        break
                    pause = 0.0
                    self._admit(sock, address)

    def _admit(self, sock: socket.socket, address: Any) -> None:
        """Count a new connection against its client's limit and serve it, or refuse it.

        As go-connlimit's ``Limiter.Accept`` in Go's ``StateNew`` hook: a client IP holding
        ``limit`` connections already gets the 429 answer on the new one, which is closed.
        """
        sock.setblocking(True)
        ip = address[0] if isinstance(address, tuple) else ""
        limit = self._conn_limit() if self._conn_limit is not None else 0
        with self._lock:
            if self._stopping:
                sock.close()
                return
            held = self._by_ip.setdefault(ip, set())
            if limit > 0 and len(held) >= limit:
                self._forget_hung_up(held, limit)
                held = self._by_ip.setdefault(ip, set())
            if limit > 0 and len(held) >= limit:
                refused = True
            else:
                refused = False
                connection = _Connection(sock, ip)
                held.add(connection)
                thread = threading.Thread(
                    target=self._serve,
                    args=(connection, address),
                    name="consul-fake-conn",
                    daemon=True,
                )
                self._connections[connection] = thread
        if refused:
            _refuse(sock)
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread.start()
        except (OSError, RuntimeError):  # the client left already, or no thread can be had
            with self._lock:
                self._uncount(connection)
                self._connections.pop(connection, None)
            sock.close()

    def _forget_hung_up(self, held: set[_Connection], limit: int) -> None:
        """Stop counting connections whose client already hung up but whose thread has not
        noticed yet, until ``held`` is under ``limit`` (the caller holds the lock).

        Go frees such a connection as soon as its goroutine reads the end of stream; a thread
        may take a moment longer, and a client that closes its connections and opens a new one
        at once must not be refused for connections it no longer has.
        """
        waiting = [c for c in held if not c.busy or c.answered]
        if not waiting:
            return
        poller = select.poll()
        by_fd = {}
        for connection in waiting:
            fd = connection.sock.fileno()
            if fd < 0:  # closed, about to be uncounted by its thread
                self._uncount(connection)
                continue
            poller.register(fd, select.POLLIN)
            by_fd[fd] = connection
        if len(held) < limit:
            return
        for fd, _ in poller.poll(0):
            connection = by_fd[fd]
            try:
                peeked = connection.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                peeked = b""
            if not peeked:
                self._uncount(connection)
                if len(held) < limit:
                    return

    def _uncount(self, connection: _Connection) -> None:
        """Stop counting ``connection`` against its client's limit (the caller holds the lock)."""
        if not connection.counted:
            return
        connection.counted = False
        held = self._by_ip.get(connection.ip)
        if held is not None:
            held.discard(connection)
            if not held:
                del self._by_ip[connection.ip]

    # -- serving -------------------------------------------------------------------------------

    def _serve(self, connection: _Connection, address: Any) -> None:
        sock = connection.sock
        inp = _Input(sock)
        linger = False
        try:
            first = True
            last_method = ""
            while not self._stopping:
                outcome = self._serve_one(connection, inp, address, first, last_method)
                if isinstance(outcome, bool):
                    linger = outcome
                    break
                first, last_method = False, outcome
                inp.release()
        except (OSError, ValueError):
            pass
        finally:
            connection.busy = False
            if linger and not inp.eof and not self._stopping:
                _linger(sock)
            with self._lock:
                self._uncount(connection)  # before the socket goes: see _forget_hung_up
            _shutdown(sock)
            sock.close()
            with self._lock:
                self._connections.pop(connection, None)

    def _serve_one(
        self, connection: _Connection, inp: _Input, address: Any, first: bool, last_method: str
    ) -> str | bool:
        """Read and answer one request. Returns its method when the connection stays open for
        the next; otherwise whether to wait for the client to hang up (``_linger``) before
        closing, which a client that sent nothing more does not need."""
        if not first and len(inp.peek(4)) < 4:
            return False  # Go waits for 4 bytes of the next request, or hangs up silently
        if last_method == "POST":  # Go tolerates a CRLF or two after a POST body
            ahead = inp.peek(4)
            inp.skip(len(ahead) - len(ahead.lstrip(b"\r\n")))
        line = inp.readline(HEAD_LIMIT)
        if not line:
            return False  # the client hung up between requests: no answer
        connection.busy, connection.answered = True, False
        try:
            try:
                request = _read_head(line, inp)
            except _Refused as refusal:
                _answer(connection, refusal.answer)
                return True
            return self._respond(connection, inp, request, address)
        finally:
            connection.busy = False
            connection.served = True

    def _respond(
        self, connection: _Connection, inp: _Input, request: _Head, address: Any
    ) -> str | bool:
        """Run the app and write its answer with Go's connection handling
        (``chunkWriter.writeHeader``); returns as :meth:`_serve_one` does."""
        sock = connection.sock
        expects_continue = _has_token(request.expect, "100-continue")
        if request.expect and not expects_continue:
            # server.go sendExpectationFailed, before any handler.
            _answer(
                connection,
                f"{request.version} {messages.GO_EXPECTATION_FAILED}\r\nConnection: close\r\n"
                f"Date: {_http_date()}\r\nContent-Length: 0\r\n\r\n".encode("latin-1"),
            )
            return True
        continued = expects_continue and request.at_least_11 and request.content_length != 0

        def send_continue() -> None:
            if continued:
                sock.sendall(messages.GO_CONTINUE.encode())

        body = _Body(inp, request.content_length, send_continue)
        too_large = False  # Go's requestTooLarge: say "close", then wait for the client
        try:
            if request.target == "*":
                status_line, headers, payload, too_large = _asterisk(request, body)
            else:
                status_line, headers, payload = self._call_app(request, body, address)
        except _BodyError:
            _answer(connection, _go_error(messages.GO_BAD_REQUEST))
            return True

        handler_connection = next((v for k, v in headers if k.lower() == "connection"), "")
        close = too_large or handler_connection == "close"
        connection_header = ""  # Go's setHeader.connection
        tokens = request.values("connection")
        if (
            (request.major, request.minor) == (1, 0)
            and tokens
            and _has_token(tokens[0], "keep-alive")
        ):
            if not handler_connection:  # the answer always has a Content-Length
                connection_header = "keep-alive"
        elif not request.at_least_11 or request.close:
            close = True
        if continued and not body.saw_eof:
            close = True  # the client may still be deciding whether to send the body
        if request.content_length != 0 and not close:
            outcome = body.discard(MAX_POST_HANDLER_READ)
            if outcome == "more":  # Go's requestTooLarge
                close = True
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                handler_connection = ""
                connection_header = "close"
            elif outcome == "error":
                close = True
        if self._stopping:
            close = True
        if close and not _has_token(handler_connection, "close"):
            headers = [(k, v) for k, v in headers if k.lower() != "connection"]
            if request.at_least_11:
                connection_header = "close"
        out = _response_head(request, status_line, headers, payload, connection_header)
        _answer(connection, out if request.method == "HEAD" else out + payload)
        return True if close else request.method

    def _call_app(
        self, request: _Head, body: _Body, address: Any
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """The app's status line, headers and body for ``request``.

        Raises:
            _BodyError: the app read a body Go could not frame.
        """
        status_line = ""
        response_headers: list[tuple[str, str]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            nonlocal status_line, response_headers
            status_line, response_headers = status, headers
            return _no_write

        chunks: Iterable[bytes] = self.app(request.environ(self, address, body), start_response)
        payload = b"".join(chunks)
        return status_line, response_headers, payload


def _response_head(
    request: _Head,
    status_line: str,
    headers: list[tuple[str, str]],
    payload: bytes,
    connection: str,
) -> bytes:
    """The status line and headers as ``chunkWriter.writeHeader`` writes them.

    The handler's header map comes first, sorted by name (``Header.WriteSubset``), then what Go
    adds itself, in ``extraHeader.Write``'s order: ``Date`` and :func:`go_added_headers`, then
    ``Connection`` (``close``, or ``keep-alive`` for an HTTP/1.0 client that asked for it).
    """
    head = [f"{request.version} {status_line}\r\n"]
    head.extend(f"{name}: {value}\r\n" for name, value in sorted(headers, key=itemgetter(0)))
    if not any(name.lower() == "date" for name, _ in headers):
        head.append(f"Date: {_http_date()}\r\n")
    head.extend(
        f"{name}: {value}\r\n" for name, value in go_added_headers(request.method, headers, payload)
    )
    if connection:
        head.append(f"Connection: {connection}\r\n")
    head.append("\r\n")
    return "".join(head).encode("latin-1")


def go_added_headers(
    method: str, headers: list[tuple[str, str]], payload: bytes
) -> list[tuple[str, str]]:
    """What Go's server adds to a finished handler's headers, besides ``Date`` and
    ``Connection``: ``Content-Length`` (the whole body is known), and the ``Content-Type`` it
    sniffs from a non-empty body that has neither a type nor an encoding.

    The answers of this server all allow a body (none is 1xx, 204 or 304), so the headers Go
    drops for those never arise.
    """
    names = {name.lower() for name, _ in headers}
    added: list[tuple[str, str]] = []
    if "content-length" not in names and (method != "HEAD" or payload):
        added.append(("Content-Length", str(len(payload))))
    if payload and not names & {"content-type", "content-encoding"}:
        added.append(("Content-Type", detect_text_content_type(payload)))
    return added


def _asterisk(request: _Head, body: _Body) -> tuple[str, list[tuple[str, str]], bytes, bool]:
    """Go's answers to the target ``*``, which no Consul route sees: ``OPTIONS *`` is
    ``globalOptionsHandler`` (server.go), anything else ``ServeMux``'s 400 with
    ``Connection: close``. Returns the status line, headers, body, and whether the body was too
    large (``OPTIONS`` reads at most 4 KiB of it, through ``MaxBytesReader``).

    Raises:
        _BodyError: the body cannot be framed.
    """
    if request.method != "OPTIONS":
        # UNCONFIRMED: that Consul's handler chain (go-cleanhttp's printable-path check, then
        # its ServeMux) lets "*" reach the mux; ServeMux.ServeHTTP answers it before routing.
        headers = [("Connection", "close")] if request.at_least_11 else []
        return "400 Bad Request", headers, b"", False
    seen = 0
    while seen <= _OPTIONS_BODY_LIMIT and not body.saw_eof and not body.failed:
        chunk = body.read(_OPTIONS_BODY_LIMIT + 1 - seen)
        if not chunk:
            break
        seen += len(chunk)
    if seen > _OPTIONS_BODY_LIMIT:
        return "200 OK", [("Connection", "close"), ("Content-Length", "0")], b"", True
    return "200 OK", [("Content-Length", "0")], b"", False


_OPTIONS_BODY_LIMIT = 4 << 10


def _answer(connection: _Connection, data: bytes) -> None:
    """Send the last bytes of a request's answer; from here on, a client that hangs up leaves
    nothing unfinished (see ``HTTPServer._forget_hung_up``)."""
    connection.answered = True
    connection.sock.sendall(data)


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` as ``socket.create_server`` binds it, not listening.

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _refuse(sock: socket.socket) -> None:
    """go-connlimit's 429 answer with Consul's 10 ms write deadline, then close.

    What the client already sent is read (without waiting) before closing, so that the close
    is a FIN rather than a reset that could destroy the answer before the client reads it.
    """
    try:
        sock.settimeout(LIMIT_WRITE_DEADLINE)
        sock.sendall(messages.TOO_MANY_REQUESTS_RESPONSE.encode())
        sock.shutdown(socket.SHUT_WR)
        sock.setblocking(False)  # read only what is already here: never wait in this thread
        for _ in range(16):
            if not sock.recv(65536):
                break
    except OSError:
        pass
    finally:
        sock.close()


def _linger(sock: socket.socket) -> None:
    """Go's ``closeWriteAndWait``: send FIN, then give the client up to 0.5 s to read the answer
    and hang up, reading (and dropping) at most :data:`LINGER_BYTES` of what it still sends."""
    deadline = time.monotonic() + LINGER_SECONDS
    drained = 0
    try:
        sock.shutdown(socket.SHUT_WR)
        while drained < LINGER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            data = sock.recv(_RECV_SIZE)
            if not data:
                break
            drained += len(data)
    except OSError:
        pass


def _no_write(data: bytes) -> object:
    raise RuntimeError("this server does not support the WSGI write() callable")


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]
