"""Raw HTTP/1.x for the tests: exact bytes out, responses parsed strictly off the socket.

Shared by ``tests/http`` and ``tests/reliability`` (through ``http_support`` and
``reliability_support``). Not a test module; pytest puts ``tests/`` on ``sys.path`` for
``tests/conftest.py``, so it imports as ``wire``.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable

GO_ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"


def go_error(public: bytes, body: bytes | None = None) -> bytes:
    """What Go's ``conn.serve`` writes for a request it cannot read: the status, Go's error
    headers, and the status again (or ``body``) as the body."""
    return b"HTTP/1.1 " + public + GO_ERROR_HEADERS + (public if body is None else body)


@dataclasses.dataclass
class Response:
    """One response read off the wire: status line, headers in order, body bytes."""

    status_line: bytes
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split(b" ", 2)[1])

    def header(self, name: str) -> str | None:
        """The first value of ``name`` (case-insensitive), or ``None``."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class MalformedResponse(AssertionError):
    """What the server wrote is not a well-formed HTTP/1.x response stream."""


_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5][0-9]{2}) [^\r\n]*")
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ \t]*[^\r\n]*")


def parse_responses(data: bytes, *, first_is_head: bool = False) -> list[Response]:
    """Split a response stream into responses, checking each is well formed.

    A response with ``Content-Length`` has exactly that many body bytes; one without it runs to
    the end of the stream (Go's bare error answers), so it must be the last. 1xx responses
    have no body, nor has the first one when ``first_is_head`` (unless it is one of Go's bare
    errors, written before the method is known).

    Raises:
        MalformedResponse: a status line, header line or framing that is not HTTP/1.x.
    """
    responses: list[Response] = []
    rest = data
    while rest:
        head, sep, after = rest.partition(b"\r\n\r\n")
        if not sep:
            raise MalformedResponse(f"no end of head in {rest[:200]!r}")
        lines = head.split(b"\r\n")
        if _STATUS_LINE.fullmatch(lines[0]) is None:
            raise MalformedResponse(f"bad status line {lines[0][:200]!r}")
        headers = []
        for line in lines[1:]:
            if _HEADER_LINE.fullmatch(line) is None:
                raise MalformedResponse(f"bad header line {line[:200]!r}")
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip(" \t")))
        response = Response(lines[0], headers, b"")
        length = response.header("Content-Length")
        no_body = response.status < 200 or (first_is_head and not responses and length is not None)
        if no_body:
            rest = after
        elif length is not None:
            if not length.isdigit():
                raise MalformedResponse(f"bad Content-Length {length!r}")
            if len(after) < int(length):
                raise MalformedResponse(f"body cut short: {len(after)} of {length} bytes")
            response.body, rest = after[: int(length)], after[int(length) :]
        else:
            response.body, rest = after, b""
        responses.append(response)
    return responses


@dataclasses.dataclass
class Exchange:
    """What came back for raw bytes sent on one connection."""

    data: bytes
    reset: bool
    """The connection was reset (rather than closed with a FIN) at some point."""


def exchange(
    host: str,
    port: int,
    data: bytes,
    *,
    timeout: float = 10.0,
    close_write: bool = True,
) -> Exchange:
    """Send ``data`` on a new connection, close our write side, read until the server closes.

    Closing the write side tells the server that nothing more is coming, as a client that
    gives up half-way does; it then has to answer or close.
    """
    reset = False
    chunks: list[bytes] = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # reset, broken pipe, or not connected any more: the server hung up
            reset = True
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            reset = True
    return Exchange(b"".join(chunks), reset)


def raw_exchange(host: str, port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` and return everything the server writes until it closes the connection."""
    return exchange(host, port, data, timeout=timeout, close_write=False).data


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server writes until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


class RawConnection:
    """A client socket that writes exact bytes and reads responses one by one."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_response(self, *, head_only: bool = False) -> Response:
        """Read a status line, headers and a ``Content-Length`` (or to-EOF) body."""
        status_line = self.file.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection without answering")
        headers = []
        while True:
            line = self.file.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            headers.append((name, value.strip()))
        response = Response(status_line.rstrip(b"\r\n"), headers, b"")
        if head_only or response.status in (100, 204, 304):
            return response
        length = response.header("Content-Length")
        response.body = self.file.read(int(length)) if length is not None else self.file.read()
        return response

    def at_eof(self) -> bool:
        """Whether the server has closed its side (waits up to the socket timeout)."""
        try:
            return self.file.read(1) == b""
        except (TimeoutError, ConnectionResetError):
            return False

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_threads(before: Iterable[threading.Thread]) -> list[threading.Thread]:
    """Live threads that were not in ``before``."""
    known = set(before)
    return [t for t in threading.enumerate() if t not in known and t.is_alive()]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.002)


def uuid_to_uint64(event_id: str) -> int:
    """Consul's ``uuidToUint64``, written out independently of the fake."""
    lower = int(event_id[0:8] + event_id[9:13] + event_id[14:18], 16)
    upper = int(event_id[19:23] + event_id[24:36], 16)
    return lower ^ upper
