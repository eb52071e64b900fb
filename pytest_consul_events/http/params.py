"""Request parameters read the way agent/http.go reads them: token, datacenter, wait and index."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from pytest_consul_events import messages
from pytest_consul_events.gocompat.duration import parse_duration, parse_uint64

Query = Mapping[str, list[str]]


def first(query: Query, key: str) -> str:
    """The first value of ``key``, or ``""`` (Go's ``url.Values.Get``)."""
    values = query.get(key)
    return values[0] if values else ""


def parse_token(query: Query, token_header: str | None, authorization: str | None) -> str:
    """The request's token in Consul's precedence: ``?token=``, ``X-Consul-Token``, then Bearer.

    An ``Authorization`` header counts only with the scheme ``Bearer`` (any case) followed by a
    space; the token is the first word after it. Returns ``""`` when none is given.
    """
    token = first(query, "token")
    if token:
        return token
    if token_header:
        return token_header
    if authorization:
        parts = authorization.split(" ")
        if len(parts) > 1 and parts[0].lower() == "bearer":
            value = " ".join(parts[1:]).strip()
            return value.split(" ")[0].strip()
    return ""


class InvalidParameterError(ValueError):
    """A blocking-query parameter Consul rejects with 400; ``str()`` is Consul's body."""


@dataclasses.dataclass(frozen=True)
class Wait:
    """A blocking query's parameters: the index to wait on (0: none) and the wait in seconds."""

    index: int = 0
    seconds: float = 0.0


def parse_wait(query: Query) -> Wait:
    """Read ``wait`` then ``index`` as ``parseWait`` does; each is checked even without the other.

    ``wait`` is a Go duration (``10s``, ``1m30s``, ``-5s``); ``index`` an unsigned 64-bit decimal.

    Raises:
        InvalidParameterError: ``Invalid wait time`` or ``Invalid index``.
    """
    seconds = 0.0
    wait = first(query, "wait")
    if wait:
        try:
            seconds = parse_duration(wait) / 1e9
        except ValueError:
            raise InvalidParameterError(messages.INVALID_WAIT_TIME) from None
    index = 0
    raw_index = first(query, "index")
    if raw_index:
        try:
            index = parse_uint64(raw_index)
        except ValueError:
            raise InvalidParameterError(messages.INVALID_INDEX) from None
    return Wait(index, seconds)
