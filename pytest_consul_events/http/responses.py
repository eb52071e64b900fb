"""Building Consul's responses: JSON and plain-text bodies, the event JSON, gzip."""

from __future__ import annotations

import base64
import dataclasses
import functools
import gzip
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.errors import ConsulError
from pytest_consul_events.gocompat import jsonenc
from pytest_consul_events.gocompat.sniff import detect_text_content_type
from pytest_consul_events.model.event import UserEvent

GZIP_MIN_SIZE = 1400
"""nytimes/gziphandler ``DefaultMinSize``: smaller bodies are sent uncompressed."""


@dataclasses.dataclass
class Reply:
    """One response: status, body, and the headers the handler set.

    ``content_type`` is the ``Content-Type`` the handler set; ``None`` leaves it to Go's
    server, which sniffs a non-empty body (:mod:`pytest_consul_events.gocompat.sniff`).
    """

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def text(status: int, body: str) -> Reply:
    """A plain-text error as Consul writes it with ``fmt.Fprint``: no ``Content-Type``, so Go
    sniffs one (``text/plain; charset=utf-8``)."""
    return Reply(status, body.encode("utf-8", "surrogateescape"))


def handle_error(exc: ConsulError) -> Reply:
    """Consul's ``handleErr`` for an error a handler returned: 403 for the permission and
    not-found texts (the long permission text when there is one), 500 otherwise."""
    body = getattr(exc, "detail", exc.message)
    forbidden = messages.PERMISSION_DENIED in body or messages.ACL_NOT_FOUND in body
    return text(403 if forbidden else 500, body)


def empty(status: int = 200) -> Reply:
    """A response with no body and so, as from Go, no ``Content-Type``."""
    return Reply(status)


def json_reply(value: Any, *, pretty: bool, status: int = 200) -> Reply:
    """``value`` as Consul's wrapper encodes it: compact, or 4-space indented with a newline."""
    body = jsonenc.marshal_indent(value) + b"\n" if pretty else jsonenc.marshal(value)
    return Reply(status, body, messages.CONTENT_TYPE_JSON)


def event_fields(event: UserEvent) -> dict[str, Any]:
    """The JSON object of an event, keys in Go's field order, ``Payload`` base64 or ``null``."""
    return {
        "ID": event.id,
        "Name": event.name,
        "Payload": None if event.payload is None else base64.b64encode(event.payload).decode(),
        "NodeFilter": event.node_filter,
        "ServiceFilter": event.service_filter,
        "TagFilter": event.tag_filter,
        "Version": event.version,
        "LTime": event.ltime,
    }


@functools.lru_cache(maxsize=4096)
def event_json(event: UserEvent) -> bytes:
    """The compact JSON of one event; cached, as a listed event is encoded again and again."""
    return jsonenc.marshal(event_fields(event))


def events_reply(events: list[UserEvent], *, pretty: bool) -> Reply:
    """A JSON array of events; ``[]`` when empty, never ``null``."""
    if pretty:
        return json_reply([event_fields(event) for event in events], pretty=True)
    body = b"[" + b",".join(event_json(event) for event in events) + b"]"
    return Reply(200, body, messages.CONTENT_TYPE_JSON)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value admits gzip with a non-zero quality (gziphandler)."""
    if not accept_encoding:
        return False
    for part in accept_encoding.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() != "gzip":
            continue
        params = params.strip()
        if not params:
            return True
        name, _, value = params.partition("=")
        if name.strip().lower() != "q":
            return True
        try:
            return float(value.strip()) > 0
        except ValueError:
            return False
    return False


def maybe_gzip(reply: Reply, accept_encoding: str | None) -> Reply:
    """Compress a body of at least 1400 bytes when the client accepts gzip, as Consul does.

    gziphandler sets the ``Content-Type`` it sniffs from the plain body when the handler set
    none, since Go cannot sniff compressed bytes.
    """
    if len(reply.body) >= GZIP_MIN_SIZE and accepts_gzip(accept_encoding):
        if reply.content_type is None:
            reply.content_type = detect_text_content_type(reply.body)
        reply.body = gzip.compress(reply.body, compresslevel=6, mtime=0)
        reply.headers.append(("Content-Encoding", "gzip"))
    return reply
