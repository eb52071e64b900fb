"""One HTTP request as the handlers see it: decoded path, Go-parsed query, token, body."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pytest_consul_events import messages
from pytest_consul_events.http.params import Query, parse_token

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

BODY_KEY = "consul_fake.body"
"""Where the body a handler read is left in the environ, for the request log."""

MAX_BODY_READ = 64 * 1024
"""Bodies are read at most this far: anything larger fails serf's 512-byte limit anyway."""


class ShortBodyError(Exception):
    """The body ended before its ``Content-Length``: Go's ``io.Copy`` reports this text."""

    def __str__(self) -> str:
        return "unexpected EOF"


@dataclasses.dataclass
class Call:
    """A request routed to a handler. ``path`` is percent-decoded, as Go's ``URL.Path``."""

    environ: WSGIEnvironment
    method: str
    path: str
    query: Query
    pretty: bool

    def header(self, name: str) -> str | None:
        """The first value of a request header (case-insensitive), or ``None``."""
        key = "HTTP_" + name.upper().replace("-", "_")
        if key == "HTTP_CONTENT_TYPE":
            key = "CONTENT_TYPE"
        return self.environ.get(key)

    @property
    def token(self) -> str:
        """The request's ACL token by Consul's precedence, or ``""``."""
        return parse_token(
            self.query, self.header(messages.HEADER_TOKEN), self.header("Authorization")
        )

    @property
    def content_length(self) -> int | None:
        """The declared body length; ``None`` for a chunked body or none declared."""
        if "chunked" in (self.environ.get("HTTP_TRANSFER_ENCODING") or "").lower():
            return None
        raw = self.environ.get("CONTENT_LENGTH")
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            return None
        return value if value >= 0 else None

    def read_body(self, *, any_framing: bool = False) -> bytes | None:
        """The body when ``Content-Length`` is above 0, else ``None``.

        The event endpoint reads no other body (``if req.ContentLength > 0``: a chunked one has
        length -1). With ``any_framing`` a chunked body is read too, as the endpoints that decode
        JSON read ``req.Body`` whatever its framing (``lib.DecodeJSON``): the server gives such a
        body already de-chunked, up to its end (``wsgi.input_terminated``).

        At most :data:`MAX_BODY_READ` + 1 bytes are read; the server discards the rest.

        Raises:
            ShortBodyError: the client ended the body before its ``Content-Length``.
        """
        length = self.content_length
        to_end = length is None and any_framing and bool(self.environ.get("wsgi.input_terminated"))
        if not length and not to_end:
            return None
        stream = self.environ["wsgi.input"]
        wanted = MAX_BODY_READ + 1 if to_end else min(length or 0, MAX_BODY_READ + 1)
        chunks: list[bytes] = []
        got = 0
        while got < wanted:
            chunk = bytes(stream.read(wanted - got))
            if not chunk:
                if to_end:
                    break
                raise ShortBodyError()
            chunks.append(chunk)
            got += len(chunk)
        body = b"".join(chunks)
        if not body:
            return None
        self.environ[BODY_KEY] = body
        return body
