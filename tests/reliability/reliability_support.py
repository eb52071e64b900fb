"""Helpers for the reliability suite: raw exchanges, a strict response parser, counters.

Not a test module (no ``test_`` prefix); the tests import it by name, which works because pytest
puts this directory (it has no ``__init__.py``) on ``sys.path``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterable

CONSUL_STATUSES = frozenset({200, 301, 400, 401, 403, 404, 405, 431, 500, 501, 505})
"""Every status Consul (or Go's server in front of it) gives to what a client can send.

401 is Consul's ``ACL support disabled`` on the ACL endpoints of an agent without ACLs.
"""

_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5][0-9]{2}) [^\r\n]*")
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ \t]*[^\r\n]*")


@dataclasses.dataclass
class Response:
    """One response parsed off the wire."""

    status_line: bytes
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split(b" ", 2)[1])

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class MalformedResponse(AssertionError):
    """What the server wrote is not a well-formed HTTP/1.x response stream."""


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


def send_slowly(sock: socket.socket, data: bytes, pause: float = 0.001) -> None:
    """Send ``data`` a byte at a time, waiting ``pause`` on the socket between bytes.

    The pause is a ``select`` on the socket, not a sleep: it also proves the server has not
    answered (or closed) before the request is complete.

    Raises:
        AssertionError: the server wrote or closed before the last byte was sent.
    """
    for i in range(len(data)):
        sock.sendall(data[i : i + 1])
        if i < len(data) - 1:
            readable, _, _ = select.select([sock], [], [], pause)
            assert not readable, f"the server answered after {i + 1} of {len(data)} bytes"


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server writes until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def list_request(target: str = "/v1/event/list") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()


def assert_still_serving(host: str, port: int) -> None:
    """A normal list on a new connection is answered 200 with a JSON array."""
    got = exchange(host, port, list_request(), close_write=False)
    [response] = parse_responses(got.data)
    assert response.status == 200, response
    assert response.body.startswith(b"["), response.body[:200]


def open_fds() -> dict[int, str]:
    """The process's open file descriptors and what each points to."""
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the descriptor listdir itself used, now closed
    return fds


def sockets_open() -> int:
    return sum(1 for target in open_fds().values() if target.startswith("socket:"))


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


class ThreadErrors:
    """Exceptions that escaped any thread while installed (server connection threads above all)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, BaseException | None]] = []
        self._lock = threading.Lock()

    def __call__(self, args: threading.ExceptHookArgs) -> None:
        with self._lock:
            name = args.thread.name if args.thread is not None else "?"
            self.seen.append((name, args.exc_value))

    def take(self) -> list[tuple[str, BaseException | None]]:
        with self._lock:
            seen, self.seen = self.seen, []
        return seen


def uuid_to_uint64(event_id: str) -> int:
    """Consul's ``uuidToUint64``, written out independently of the fake."""
    lower = int(event_id[0:8] + event_id[9:13] + event_id[14:18], 16)
    upper = int(event_id[19:23] + event_id[24:36], 16)
    return lower ^ upper
