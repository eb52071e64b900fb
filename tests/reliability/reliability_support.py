"""Helpers for the reliability suite: raw exchanges, a strict response parser, counters.

Not a test module (no ``test_`` prefix); the tests import it by name, which works because pytest
puts this directory (it has no ``__init__.py``) on ``sys.path``.
"""

from __future__ import annotations

import os
import select
import socket
import threading

from wire import (  # noqa: F401 (re-exported: the raw-socket helpers, shared with the http conformance tests)
    Exchange,
    MalformedResponse,
    Response,
    exchange,
    new_threads,
    parse_responses,
    read_until_closed,
    uuid_to_uint64,
    wait_until,
)

CONSUL_STATUSES = frozenset({200, 301, 400, 401, 403, 404, 405, 417, 429, 431, 500, 501, 505})
"""Every status Consul (or Go's server in front of it) gives to what a client can send.

401 is Consul's ``ACL support disabled`` on the ACL endpoints of an agent without ACLs; 417 is
Go's answer to an ``Expect`` other than ``100-continue``; 429 is go-connlimit's, past
``http_max_conns_per_client``.
"""


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
