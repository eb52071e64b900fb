"""The requests the fake agent served, for tests to query and for failure reports.

The log keeps the latest ``history_limit`` requests (10,000 by default): a long-running server
stays the same size however many requests it answers. What it dropped is counted, and every
query of it says so (:attr:`Requests.dropped`), so that a test can tell "not sent" from "no
longer kept".
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from pytest_consul_events.gocompat.query import QueryError, unescape_query_component
from pytest_consul_events.model.limits import DEFAULT_HISTORY_LIMIT

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


@dataclasses.dataclass(frozen=True, slots=True)
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


class Requests(list[RequestRecord]):
    """Requests picked from the log: a list, plus how many requests the log had dropped.

    ``dropped`` is how many of the oldest requests the log no longer holds when this was read
    (for :attr:`RequestLog.unimplemented`, how many of those were unimplemented): when it is
    not 0, a request missing from the list may still have been made.
    """

    def __init__(self, records: Iterable[RequestRecord] = (), dropped: int = 0) -> None:
        super().__init__(records)
        self.dropped = dropped


class RequestLog:
    """The latest requests an agent served, oldest first; thread-safe.

    ``limit`` is how many it keeps (an integer, or a function read at each request, such as the
    agent's current ``history_limit``; 0 keeps them all); one more drops the oldest and counts
    it in :attr:`dropped`.
    """

    def __init__(self, limit: int | Callable[[], int] = DEFAULT_HISTORY_LIMIT) -> None:
        self._records: deque[RequestRecord] = deque()
        self._limit: Callable[[], int] = limit if callable(limit) else (lambda: limit)
        self._dropped = 0
        self._dropped_unimplemented = 0
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        """Record one request, dropping the oldest past the limit."""
        limit = self._limit()
        with self._lock:
            records = self._records
            records.append(record)
            while limit and len(records) > limit:
                oldest = records.popleft()
                self._dropped += 1
                self._dropped_unimplemented += not oldest.implemented

    def clear(self) -> None:
        """Forget every request, and the count of those dropped."""
        with self._lock:
            self._records.clear()
            self._dropped = 0
            self._dropped_unimplemented = 0

    @property
    def dropped(self) -> int:
        """How many of the oldest requests were dropped since the last :meth:`clear`."""
        with self._lock:
            return self._dropped

    def _snapshot(self) -> tuple[list[RequestRecord], int, int]:
        with self._lock:
            return list(self._records), self._dropped, self._dropped_unimplemented

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._snapshot()[0])

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
    ) -> Requests:
        """The requests with this method, path (or path prefix ending in ``/``) and status.

        The result's ``dropped`` is how many requests the log had dropped: any of them may
        have matched.
        """
        records, dropped, _ = self._snapshot()
        return Requests(
            (
                record
                for record in records
                if (method is None or record.method == method)
                and (
                    path is None
                    or record.path == path
                    or (path.endswith("/") and record.path.startswith(path))
                )
                and (status is None or record.status == status)
            ),
            dropped,
        )

    @property
    def unimplemented(self) -> Requests:
        """Requests for paths the fake does not serve; ``dropped`` counts such requests the
        log dropped."""
        records, _, dropped = self._snapshot()
        return Requests((record for record in records if not record.implemented), dropped)
