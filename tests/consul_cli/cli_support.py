"""Helpers for the ``consul`` command tests: a scripted agent and scripted events.

:class:`ScriptedAgent` is a tiny HTTP endpoint whose ``GET /v1/event/list`` answers come, one
per request, from a script of (``X-Consul-Index``, events) pairs, so that a test decides every
index the watch sees: unchanged, going down, pointing at an evicted event, or an error. Once
the script is used up, list requests wait (like a blocking query on an idle agent) until the
test adds answers or closes the agent.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WAIT = 10.0
"""Seconds a test waits for something that should happen at once."""


def event(number: int, payload: bytes | None = None, name: str = "deploy") -> dict[str, Any]:
    """A user event as an agent lists it, with a fixed ID made from ``number``."""
    return {
        "ID": f"{number:08x}-0000-4000-8000-{number:012x}",
        "Name": name,
        "Payload": None if payload is None else base64.b64encode(payload).decode("ascii"),
        "NodeFilter": "",
        "ServiceFilter": "",
        "TagFilter": "",
        "Version": 1,
        "LTime": number + 1,
    }


def index_of(item: dict[str, Any]) -> int:
    """``IDToIndex`` of an event: the XOR of its ID's halves (as the agent computes it)."""
    hex_digits = item["ID"].replace("-", "")
    return int(hex_digits[:16], 16) ^ int(hex_digits[16:], 16)


def go_line(events: Sequence[dict[str, Any]] | None) -> bytes:
    """What Go's ``json.NewEncoder(w).Encode(events)`` writes for these (plain ASCII) events."""
    return json.dumps(events, separators=(",", ":")).encode() + b"\n"


@dataclass
class Answer:
    """One scripted list answer: status, ``X-Consul-Index`` (``None``: no header) and body."""

    index: int | None
    events: Sequence[dict[str, Any]] | None = ()
    status: int = 200
    body: bytes | None = None

    def encoded(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(None if self.events is None else list(self.events)).encode()


@dataclass
class ScriptedAgent:
    """The scripted endpoint; a context manager. ``address`` is ``127.0.0.1:PORT``."""

    script: list[Answer] = field(default_factory=list)
    agent_self: bytes = b'{"Config":{"NodeName":"scripted"}}'
    queries: list[dict[str, str]] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._closed = False
        agent = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/v1/event/list":
                    answer = agent._next(dict(parse_qsl(url.query)), self.headers)
                    if answer is None:
                        self.close_connection = True
                        return
                    status, headers, body = (
                        answer.status,
                        {} if answer.index is None else {"X-Consul-Index": str(answer.index)},
                        answer.encoded(),
                    )
                elif url.path == "/v1/status/leader":
                    status, headers, body = 200, {}, b'"127.0.0.1:8300"'
                elif url.path == "/v1/agent/self":
                    status, headers, body = 200, {}, agent.agent_self
                else:
                    status, headers, body = 404, {}, b"not scripted"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def _next(self, query: dict[str, str], headers: Any) -> Answer | None:
        with self._changed:
            self.queries.append(query)
            self.tokens.append(headers.get("X-Consul-Token"))
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.script or self._closed)
            if self._closed and not self.script:
                return None
            return self.script.pop(0)

    def add(self, *answers: Answer) -> None:
        """Append answers to the script (a waiting request takes the first)."""
        with self._changed:
            self.script.extend(answers)
            self._changed.notify_all()

    def wait_for_queries(self, count: int, timeout: float = WAIT) -> list[dict[str, str]]:
        """Wait until ``count`` list requests arrived; returns their query parameters."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.queries) >= count, timeout):
                raise TimeoutError(f"{len(self.queries)} list requests, not {count}")
            return list(self.queries)

    def close(self) -> None:
        """Answer waiting requests by closing them, stop serving, join the threads."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(WAIT)

    def __enter__(self) -> ScriptedAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
