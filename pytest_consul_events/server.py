"""A threaded HTTP/1.1 server for the fake agent's WSGI app: keep-alive, fast start and stop.

werkzeug's development server closes every connection and polls for shutdown every 0.5 s; a
fixture used by thousands of tests cannot pay either. This server:

* binds in the caller's thread (a busy port raises at once) on 127.0.0.1 and an ephemeral port
  by default, and accepts from one daemon thread woken by a socket pair, so :meth:`stop` takes
  milliseconds;
* serves each connection from its own daemon thread with keep-alive and ``TCP_NODELAY``;
* frames requests as Go's ``net/http`` does where clients can tell: ``Content-Length`` and
  chunked bodies, ``Expect: 100-continue``, the ``Host`` header HTTP/1.1 requires, and Go's
  plain ``400 Bad Request`` answers (with ``Connection: close``) for requests it cannot parse;
* on stop, closes every connection and keeps waking blocked handlers until their threads end.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import re
import selectors
import socket
import string as _string
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_consul_events.gocompat.query import QueryError, unescape_path

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

MAX_HEADER_BYTES = 1 << 20
"""Go's ``http.DefaultMaxHeaderBytes``; Go allows 4096 bytes of slack on top."""
MAX_POST_HANDLER_READ = 256 << 10
"""Go's ``maxPostHandlerReadBytes``: unread body beyond this closes the connection."""
_BAD_REQUEST_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"


class _BadRequest(Exception):
    """A request Go's server refuses before any handler runs.

    Go writes these raw: ``HTTP/1.1 <status>``, a plain-text content type, ``Connection: close``
    and a body repeating the status, or ``<status>: <reason>`` for the errors Go explains.
    """

    def __init__(self, status: str = "400 Bad Request", body: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = status if body is None else body

    def response(self) -> bytes:
        return b"HTTP/1.1 " + self.status.encode() + _BAD_REQUEST_HEADERS + self.body.encode()


class _Body(io.RawIOBase):
    """The request body as ``wsgi.input``: bounded by ``Content-Length`` or by chunked framing."""

    def __init__(
        self, rfile: Any, length: int | None, chunked: bool, on_first_read: Callable[[], None]
    ) -> None:
        super().__init__()
        self._rfile = rfile
        self._remaining = length or 0
        self._chunked = chunked
        self._chunk_left = 0
        self._done = not chunked and not length
        self._on_first_read: Callable[[], None] | None = on_first_read
        self.touched = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self._done:
            return b""
        if self._on_first_read is not None:
            self._on_first_read()
            self._on_first_read = None
        self.touched = True
        if size is None or size < 0:
            size = sys.maxsize
        if not self._chunked:
            data = self._rfile.read(min(size, self._remaining))
            self._remaining -= len(data)
            if not data or self._remaining == 0:
                self._done = True
            return bytes(data)
        out = bytearray()
        while len(out) < size and not self._done:
            if self._chunk_left == 0:
                line = self._rfile.readline(4096)
                try:
                    self._chunk_left = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._done = True
                    raise _BadRequest() from None
                if self._chunk_left == 0:
                    while self._rfile.readline(4096) not in (b"\r\n", b"\n", b""):
                        pass
                    self._done = True
                    break
            data = self._rfile.read(min(size - len(out), self._chunk_left))
            if not data:
                self._done = True
                break
            out += data
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._rfile.readline(4096)
        return bytes(out)

    def drain(self, limit: int) -> bool:
        """Discard what the handler left unread; ``False`` if more than ``limit`` bytes remain."""
        seen = 0
        while not self._done:
            if not self._chunked and self._remaining > limit - seen:
                return False
            chunk = self.read(65536)
            seen += len(chunk)
            if seen > limit:
                return False
        return True


class _Connection:
    __slots__ = ("busy", "served", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.busy = False
        self.served = False  # Go's StateNew until the first request: not idle yet


class HTTPServer:
    """Serves a WSGI app on ``host:port`` from daemon threads; a context manager.

    The socket is bound when the server is created, so ``OSError`` (address in use) is raised
    in the caller's thread. ``on_stop`` is called (repeatedly, until handler threads end) when
    stopping, to wake handlers blocked inside the app.
    """

    def __init__(
        self,
        app: WSGIApplication,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family, backlog=128)
        bound = self._listener.getsockname()
        self.host: str = bound[0]
        self.port: int = bound[1]
        self._on_stop = on_stop
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._connections: dict[_Connection, threading.Thread] = {}
        self._stopping = False
        self._accept_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port``, with IPv6 hosts in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> HTTPServer:
        """Start accepting connections; returns the server. Starting twice is an error.

        Raises:
            RuntimeError: the server was already started or stopped.
        """
        if self._accept_thread is not None or self._stopping:
            raise RuntimeError("the server was already started")
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

        Connections that have not sent a first request yet are left alone, as Go does.
        """
        with self._lock:
            idle = [c for c in self._connections if c.served and not c.busy]
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
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping:
                        return
                    try:
                        sock, address = self._listener.accept()
                    except OSError:
                        continue
                    self._spawn(sock, address)

    def _spawn(self, sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = _Connection(sock)
        thread = threading.Thread(
            target=self._serve, args=(connection, address), name="consul-fake-conn", daemon=True
        )
        with self._lock:
            if self._stopping:
                sock.close()
                return
            self._connections[connection] = thread
        thread.start()

    # -- serving -------------------------------------------------------------------------------

    def _serve(self, connection: _Connection, address: Any) -> None:
        sock = connection.sock
        rfile = sock.makefile("rb", buffering=65536)
        try:
            while not self._stopping:
                if not self._serve_one(connection, rfile, address):
                    break
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._connections.pop(connection, None)
            with contextlib.suppress(OSError):
                rfile.close()
            _shutdown(sock)
            sock.close()

    def _serve_one(self, connection: _Connection, rfile: Any, address: Any) -> bool:
        """Read and answer one request; ``False`` when the connection must close."""
        sock = connection.sock
        line = rfile.readline(MAX_HEADER_BYTES + 4096 + 1)
        if not line:
            return False
        connection.busy = True
        try:
            try:
                request = _read_head(line, rfile)
            except _BadRequest as exc:
                sock.sendall(exc.response())
                return False
            return self._respond(sock, rfile, request, address)
        finally:
            connection.busy = False
            connection.served = True

    def _respond(self, sock: socket.socket, rfile: Any, request: _Head, address: Any) -> bool:
        expect_continue = request.headers.get("expect", "").lower() == "100-continue"

        def send_continue() -> None:
            if expect_continue and request.version == "HTTP/1.1":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        body = _Body(rfile, request.content_length, request.chunked, send_continue)
        environ = request.environ(self, address, body)
        status_line = ""
        response_headers: list[tuple[str, str]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            nonlocal status_line, response_headers
            status_line, response_headers = status, headers
            return _no_write

        try:
            chunks: Iterable[bytes] = self.app(environ, start_response)
            payload = b"".join(chunks)
        except _BadRequest as exc:
            sock.sendall(
                b"HTTP/1.1 " + exc.status.encode() + _BAD_REQUEST_HEADERS + exc.status.encode()
            )
            return False
        keep_alive = request.keep_alive and not self._stopping
        if keep_alive and (
            not body.touched and expect_continue and (request.content_length or request.chunked)
        ):
            keep_alive = False
        if keep_alive:
            try:
                keep_alive = body.drain(MAX_POST_HANDLER_READ)
            except _BadRequest:
                keep_alive = False  # a body Go could not frame either: answer, then close
        head = [f"{request.version} {status_line}\r\n"]
        head.extend(f"{name}: {value}\r\n" for name, value in response_headers)
        head.append(f"Date: {_http_date()}\r\n")
        if request.version == "HTTP/1.0":
            if keep_alive:
                head.append("Connection: keep-alive\r\n")
        elif not keep_alive:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        out = "".join(head).encode("latin-1")
        sock.sendall(out if request.method == "HEAD" else out + payload)
        return keep_alive


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


class _Head:
    """A parsed request line and headers."""

    __slots__ = (
        "chunked",
        "content_length",
        "headers",
        "method",
        "path",
        "query",
        "raw_headers",
        "target",
        "version",
    )

    def __init__(self) -> None:
        self.method = ""
        self.target = ""
        self.version = ""
        self.path = ""
        self.query = ""
        self.headers: dict[str, str] = {}
        self.raw_headers: list[tuple[str, str]] = []
        self.content_length: int | None = None
        self.chunked = False

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection

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
            "SERVER_PROTOCOL": self.version,
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
        for name, value in self.raw_headers:
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if key == "CONTENT_LENGTH" and self.chunked:
                    continue
                environ.setdefault(key, value)
            else:
                environ.setdefault("HTTP_" + key, value)
        return environ


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An RFC 7230 token: what a method and a header name may be made of."""
_FRAMING_HEADERS = frozenset(("host", "transfer-encoding", "content-length"))
_MAX_CONTENT_LENGTH = (1 << 63) - 1
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Bytes httpguts.ValidHeaderFieldValue refuses in a header value (tab is allowed)."""


def _explained(reason: str, code: str = "400 Bad Request") -> _BadRequest:
    """One of the errors Go reports with its reason in the status line and the body."""
    return _BadRequest(f"{code}: {reason}")


_HOST_CHARS = frozenset(
    _string.ascii_letters + _string.digits + "!$&'()*+,;=:[]%@-._~"
)  # httpguts.ValidHostHeader: the bytes a Host header may contain


def _parse_version(version: str) -> tuple[int, int]:
    """Go's ``ParseHTTPVersion``: ``HTTP/X.Y`` with one digit each.

    Raises:
        _BadRequest: malformed, or a major version other than 1 (505).
    """
    if (
        len(version) != 8
        or not version.startswith("HTTP/")
        or version[6] != "."
        or not (version[5].isdigit() and version[7].isdigit() and version[5:8:2].isascii())
    ):
        raise _BadRequest()
    major, minor = int(version[5]), int(version[7])
    if major != 1:
        raise _explained("unsupported protocol version", "505 HTTP Version Not Supported")
    return major, minor


def _read_head(line: bytes, rfile: Any) -> _Head:
    """Parse a request line and its headers as Go's ``http.ReadRequest`` accepts them.

    Raises:
        _BadRequest: with the exact answer Go's server gives for the malformed request.
    """
    total = len(line)
    if total > MAX_HEADER_BYTES + 4096:
        raise _BadRequest("431 Request Header Fields Too Large")
    head = _Head()
    text = line.decode("latin-1").rstrip("\r\n")
    method, sep1, rest = text.partition(" ")
    target, sep2, version = rest.partition(" ")
    if not (sep1 and sep2) or _TOKEN.fullmatch(method) is None:
        raise _BadRequest()
    _, minor = _parse_version(version)
    head.method, head.target = method, target
    head.version = "HTTP/1.0" if minor == 0 else "HTTP/1.1"

    framing: dict[str, list[str]] = {}
    while True:
        raw = rfile.readline(MAX_HEADER_BYTES + 4096 + 1)
        total += len(raw)
        if total > MAX_HEADER_BYTES + 4096:
            raise _BadRequest("431 Request Header Fields Too Large")
        if raw in (b"\r\n", b"\n"):
            break
        if not raw:
            raise _BadRequest()
        if raw[:1] in (b" ", b"\t"):
            if not head.raw_headers:
                raise _BadRequest()  # Go refuses leading white space before the first header
            # obs-fold: Go's textproto joins a continuation line to the previous value.
            name, value = head.raw_headers.pop()
            value = f"{value} {raw.decode('latin-1').strip()}".strip()
            if _BAD_VALUE.search(value):
                raise _explained("invalid header value")
            head.raw_headers.append((name, value))
            lowered = name.lower()
            if (
                head.headers.get(lowered) is not None
                and len([n for n, _ in head.raw_headers if n.lower() == lowered]) == 1
            ):
                head.headers[lowered] = value  # the first value of this header was folded
            if lowered in framing:
                framing[lowered][-1] = value
            continue
        header = raw.decode("latin-1").rstrip("\r\n")
        name, colon, value = header.partition(":")
        if not colon:
            raise _BadRequest()
        if _TOKEN.fullmatch(name) is None:
            raise _explained("invalid header name")
        value = value.strip(" \t")
        if _BAD_VALUE.search(value):
            raise _explained("invalid header value")
        lowered = name.lower()
        head.raw_headers.append((name, value))
        head.headers.setdefault(lowered, value)
        if lowered in _FRAMING_HEADERS:
            framing.setdefault(lowered, []).append(value)

    hosts = framing.get("host", [])
    if len(hosts) > 1:
        raise _explained("too many Host headers")
    if head.version == "HTTP/1.1" and not hosts:
        raise _explained("missing required Host header")
    if hosts and not set(hosts[0]) <= _HOST_CHARS:
        raise _explained("malformed Host header")
    _frame_body(head, framing.get("transfer-encoding"), framing.get("content-length"))
    _split_target(head)
    return head


def _frame_body(head: _Head, encodings: list[str] | None, lengths: list[str] | None) -> None:
    if encodings:
        if len(encodings) > 1 or encodings[0].lower() != "chunked":
            raise _BadRequest("501 Not Implemented", "Unsupported transfer encoding")
        head.chunked = True
        return
    if lengths:
        value = lengths[0]
        if len(set(lengths)) > 1 or not value.isdigit() or not value.isascii():
            raise _BadRequest()
        digits = value.lstrip("0") or "0"
        if len(digits) > 19 or int(digits) > _MAX_CONTENT_LENGTH:
            raise _BadRequest()  # Go parses it with strconv.ParseUint(cl, 10, 63)
        head.content_length = int(value)


def _split_target(head: _Head) -> None:
    target = head.target
    if target == "*":
        head.path = "*"
        return
    if "://" in target and not target.startswith("/"):
        after_scheme = target.split("://", 1)[1]
        slash = after_scheme.find("/")
        target = after_scheme[slash:] if slash >= 0 else "/"
    if not target.startswith("/"):
        raise _BadRequest()
    raw_path, _, head.query = target.partition("?")
    try:
        # The request line was read as latin-1: back to its bytes, which may be raw UTF-8.
        decoded = unescape_path(raw_path.encode("latin-1").decode("utf-8", "surrogateescape"))
    except QueryError:
        raise _BadRequest() from None
    head.path = decoded.encode("utf-8", "surrogateescape").decode("latin-1")
