"""The baseline HTTP server: keep-alive HTTP/1.1 on raw sockets, one canned answer per method.

About as little as a server can do and still serve py-consul correctly: one thread per
connection, ``TCP_NODELAY``, requests framed by their head and ``Content-Length``, and a
prebuilt response (with ``Content-Length`` and, for lists, ``X-Consul-Index``) sent whole.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping
from types import TracebackType

_HEAD_END = b"\r\n\r\n"
_NOT_ALLOWED = b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"


def build_response(
    body: bytes, headers: Mapping[str, str] | None = None, status: str = "200 OK"
) -> bytes:
    """A complete HTTP/1.1 response: status line, headers, ``Content-Length``, body."""
    lines = [f"HTTP/1.1 {status}"]
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


class CannedServer:
    """Answers every request with the response prebuilt for its method (``GET``, ``PUT``...).

    Binds ``127.0.0.1`` on a free port when created; :meth:`stop` closes every connection and
    joins every thread. Usable as a context manager.
    """

    def __init__(self, responses: Mapping[str, bytes]) -> None:
        self._responses = {method.encode("ascii"): data for method, data in responses.items()}
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._stopping = False
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="canned-accept", daemon=True
        )

    def start(self) -> CannedServer:
        """Start accepting; returns the server."""
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection, join every thread. Idempotent."""
        if self._stopping:
            return
        self._stopping = True
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
            pass  # wakes accept()
        self._accept_thread.join(5)
        self._listener.close()
        with self._lock:
            pending = list(self._connections.items())
        for sock, _ in pending:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in pending:
            thread.join(5)

    def __enter__(self) -> CannedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping:
                sock.close()
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve, args=(sock,), name="canned-conn")
            with self._lock:
                self._connections[sock] = thread
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while _HEAD_END not in buffer:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(_HEAD_END)
                length = _content_length(head)
                while len(buffer) < length:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                buffer = buffer[length:]
                method = head.split(b" ", 1)[0]
                sock.sendall(self._responses.get(method, _NOT_ALLOWED))
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.pop(sock, None)
            sock.close()
