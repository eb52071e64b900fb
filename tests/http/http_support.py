"""Helpers for the HTTP conformance tests: two transports, exact expectations, raw sockets.

The raw-socket helpers live in ``tests/wire.py`` and are re-exported here.

Not a test module (no ``test_`` prefix); the conftest and the tests import it by name, which
works because pytest puts this directory (it has no ``__init__.py``) on ``sys.path``.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

from werkzeug.test import Client
from wire import (  # noqa: F401 (re-exported: the raw-socket helpers, shared with the reliability suite)
    RawConnection,
    new_threads,
    raw_exchange,
    uuid_to_uint64,
    wait_until,
)

from pytest_consul_events.http.app import ConsulApp
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.server import go_added_headers

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
ACL_POLICY = ("X-Consul-Default-Acl-Policy", "allow")
VARY = ("Vary", "Accept-Encoding")
WRAPPER_HEADERS = (ACL_POLICY, VARY)
"""What Consul's ``wrap`` layer and gziphandler add to every answer of a registered endpoint."""

EVENT_KEYS = [
    "ID",
    "Name",
    "Payload",
    "NodeFilter",
    "ServiceFilter",
    "TagFilter",
    "Version",
    "LTime",
]
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
NEVER_SENT = (
    "X-Consul-KnownLeader",
    "X-Consul-LastContact",
    "X-Consul-Effective-Consistency",
    "X-Consul-Query-Backend",
    "X-Cache",
    "X-Consul-Results-Filtered-By-Acls",
)
"""Headers the event endpoints never send (ACLs are disabled on the fake, so never filtered)."""

Headers = Sequence[tuple[str, str]]


@dataclasses.dataclass
class Reply:
    """One HTTP answer, normalised across transports.

    ``headers`` keeps the received names and order but leaves out ``Date`` and ``Connection``,
    which only the socket transport adds; ``connection`` holds the latter.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    connection: str | None = None
    version: int = 11

    def header(self, name: str) -> str | None:
        """The first value of ``name`` (case-insensitive), or ``None``."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def values(self, name: str) -> list[str]:
        """Every value of ``name`` (case-insensitive)."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json_pairs(self) -> Any:
        """The body parsed with objects as lists of pairs, so key order is visible."""
        return json.loads(self.body, object_pairs_hook=list)

    def json(self) -> Any:
        return json.loads(self.body)


class WsgiTransport:
    """Calls ``ConsulApp(agent)`` in-process through ``werkzeug.test.Client``.

    The environ gets the path percent-decoded as a WSGI server gives it and the query string
    byte for byte, so both transports see exactly the same request.
    """

    name = "wsgi"

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.app = ConsulApp(agent)

    def request(
        self, method: str, target: str, *, headers: Headers = (), body: bytes | None = None
    ) -> Reply:
        path, _, query = target.partition("?")
        overrides = {
            "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": target,
            "RAW_URI": target,
            "SERVER_NAME": "127.0.0.1",
        }
        client = Client(self.app)  # one per call: blocking tests call from several threads
        response = client.open(
            "/",
            method=method,
            headers=list(headers),
            data=body,
            environ_overrides=overrides,
        )
        try:
            data = response.get_data()
            headers = list(response.headers.to_wsgi_list())
            # What Go's server (server.py) adds to Consul's headers; Date is not compared.
            headers += go_added_headers(method, headers, data)
            return Reply(response.status_code, headers, data)
        finally:
            response.close()

    def get(self, target: str, **kwargs: Any) -> Reply:
        return self.request("GET", target, **kwargs)

    def put(self, target: str, **kwargs: Any) -> Reply:
        return self.request("PUT", target, **kwargs)


class SocketTransport:
    """Sends each request on a fresh ``http.client`` connection: the target goes out verbatim."""

    name = "socket"

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def request(
        self, method: str, target: str, *, headers: Headers = (), body: bytes | None = None
    ) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            names = {name.lower() for name, _ in headers}
            for name, value in headers:
                conn.putheader(name, value)
            if body is not None and not names & {"content-length", "transfer-encoding"}:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            kept = [
                (k, v) for k, v in response.getheaders() if k.lower() not in ("date", "connection")
            ]
            return Reply(
                response.status, kept, data, response.getheader("Connection"), response.version
            )
        finally:
            conn.close()

    def get(self, target: str, **kwargs: Any) -> Reply:
        return self.request("GET", target, **kwargs)

    def put(self, target: str, **kwargs: Any) -> Reply:
        return self.request("PUT", target, **kwargs)


Transport = WsgiTransport | SocketTransport


# -- expectations -----------------------------------------------------------------------------


def assert_headers(
    reply: Reply,
    content_type: str | None,
    *extra: tuple[str, str],
    wrapped: bool = True,
    content_length: int | None = None,
) -> None:
    """The answer's headers are exactly these (order aside), plus ``Content-Length``."""
    expected = list(extra)
    if content_type is not None:
        expected.append(("Content-Type", content_type))
    length = len(reply.body) if content_length is None else content_length
    expected.append(("Content-Length", str(length)))
    if wrapped:
        expected.extend(WRAPPER_HEADERS)
    assert sorted(reply.headers) == sorted(expected)


def assert_text(reply: Reply, status: int, body: str, *extra: tuple[str, str]) -> None:
    """A plain-text error from behind Consul's wrapper: exact status, body and headers."""
    assert (reply.status, reply.body) == (status, body.encode())
    assert_headers(reply, TEXT, *extra)


def assert_empty(reply: Reply, status: int, *extra: tuple[str, str], wrapped: bool = True) -> None:
    """No body and so no ``Content-Type``."""
    assert (reply.status, reply.body) == (status, b"")
    assert_headers(reply, None, *extra, wrapped=wrapped)


def go_json(value: Any) -> bytes:
    """``json.Marshal`` bytes for plain values: compact, raw UTF-8, ``<>&`` escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode("utf-8")
    )


def go_json_pretty(value: Any) -> bytes:
    """``json.MarshalIndent(value, "", "    ")`` plus the newline Consul appends."""
    text = json.dumps(value, ensure_ascii=False, indent=4, separators=(",", ": "))
    return text.encode("utf-8") + b"\n"


def event_dict(
    event_id: str,
    name: str,
    payload: str | None = None,
    *,
    node: str = "",
    service: str = "",
    tag: str = "",
    ltime: int = 0,
) -> dict[str, Any]:
    """An event as Consul encodes it, keys in ``agent.UserEvent`` field order."""
    return {
        "ID": event_id,
        "Name": name,
        "Payload": payload,
        "NodeFilter": node,
        "ServiceFilter": service,
        "TagFilter": tag,
        "Version": 1,
        "LTime": ltime,
    }


def fired_id(reply: Reply) -> str:
    """The ID in a successful fire answer, checked for go-uuid's shape."""
    assert reply.status == 200, reply.body
    event_id = reply.json()["ID"]
    assert UUID_RE.match(event_id), event_id
    return event_id


def list_index(reply: Reply) -> int:
    """``X-Consul-Index`` as a number; it must be there exactly once."""
    values = reply.values("X-Consul-Index")
    assert len(values) == 1, reply.headers
    return int(values[0])
