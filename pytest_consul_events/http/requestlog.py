"""Every request the fake agent served, for tests to query and for failure reports."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterator

from pytest_consul_events.gocompat.query import QueryError, unescape_query_component

MAX_BODY = 1024
"""Bodies are recorded up to this many bytes."""
REDACTED = "<redacted>"
_PAIR_SEPARATORS = re.compile(r"([&;])")


def redact_query(raw_query: str) -> str:
    """The query string with the value of every ``token`` parameter replaced.

    A key is compared as Go decodes it (``%74oken`` is ``token``), and ``;`` separates pairs
    here too: whatever the fake made of the query, no secret a client sent is kept.
    """
    if "%" not in raw_query and "token" not in raw_query:
        return raw_query  # no key can spell "token": the common case
    parts = _PAIR_SEPARATORS.split(raw_query)
    for position in range(0, len(parts), 2):
        key, equals, _ = parts[position].partition("=")
        try:
            decoded = unescape_query_component(key)
        except QueryError:
            decoded = key
        if equals and decoded == "token":
            parts[position] = f"{key}={REDACTED}"
    return "".join(parts)


_SECRET_BODIES = ("/v1/acl/", "/v1/agent/service/register")
"""Endpoints whose bodies may carry a token secret (ACL tokens, a service's ``Token``)."""


def redact_body(path: str, body: bytes) -> bytes:
    """What the log keeps of a body: at most :data:`MAX_BODY` bytes, and nothing of a body
    that may carry a token secret."""
    if body and path.startswith(_SECRET_BODIES):
        return REDACTED.encode()
    return body[:MAX_BODY]


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One request and its answer. Tokens never appear: ``token`` only says one was sent.

    ``implemented`` is ``False`` when the path is not an endpoint of the fake (Consul's 404
    ``Invalid URL path``): real Consul may serve it, the fake does not.
    """

    method: str
    path: str
    query: str
    body: bytes
    status: int
    duration: float
    token: bool
    implemented: bool

    def __str__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        body = f" body={self.body[:60]!r}" if self.body else ""
        return (
            f"{self.method} {self.path}{query} -> {self.status} "
            f"({self.duration * 1000:.1f} ms){body}"
        )


class RequestLog:
    """The requests an agent served, oldest first; thread-safe."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        """Record one request."""
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._records.clear()

    def __iter__(self) -> Iterator[RequestRecord]:
        with self._lock:
            return iter(list(self._records))

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._records[index]

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> list[RequestRecord]:
        """The requests with this method, path (or path prefix ending in ``/``) and status."""
        return [
            record
            for record in self
            if (method is None or record.method == method)
            and (
                path is None
                or record.path == path
                or (path.endswith("/") and record.path.startswith(path))
            )
            and (status is None or record.status == status)
        ]

    @property
    def unimplemented(self) -> list[RequestRecord]:
        """Requests for paths the fake does not serve."""
        return [record for record in self if not record.implemented]
