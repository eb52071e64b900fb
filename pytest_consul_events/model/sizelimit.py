"""Serf's user event size limit, computed to the byte.

Consul msgpack-encodes its ``UserEvent`` (the *inner blob*) and hands it to serf as the payload of
the serf event ``consul:event:<name>``. Serf then checks, in this order
(hashicorp/serf serf/serf.go @v0.10.1, ``UserEvent``):

1. ``len(serf name) + len(inner blob) > limit``: "... before encoding";
2. the size of the encoded serf message ``> limit``: "... after encoding".

Only the sizes matter, so they are computed from msgpack's header rules rather than by encoding.
The inner blob is encoded by Consul's go-msgpack handle with ``WriteExt: true`` (str8 and bin
types exist); the serf message by serf's default handle (no str8, no bin: strings and byte slices
are fixstr below 32 bytes, else str16). See ``consul-events.md`` section 4 for the derivation.
"""

from __future__ import annotations

from pytest_consul_events import messages
from pytest_consul_events.errors import EventTooLargeError

USER_EVENT_SIZE_LIMIT = 512
"""serf ``DefaultConfig().UserEventSizeLimit``; Consul does not change it."""

_ID_LENGTH = 36


def _str_header(n: int) -> int:
    """Header bytes of a msgpack string with str8 available (fixstr, str8, str16, str32)."""
    if n < 32:
        return 1
    if n < 256:
        return 2
    if n < 65536:
        return 3
    return 5


def _bin_header(n: int) -> int:
    """Header bytes of msgpack bin8/bin16/bin32."""
    if n < 256:
        return 2
    if n < 65536:
        return 3
    return 5


def _raw_header(n: int) -> int:
    """Header bytes of a string or byte slice under serf's handle (fixstr, then str16, str32)."""
    if n < 32:
        return 1
    if n < 65536:
        return 3
    return 5


def _uint_size(v: int) -> int:
    """Bytes of a msgpack unsigned integer in its smallest form."""
    if v <= 127:
        return 1
    if v <= 0xFF:
        return 2
    if v <= 0xFFFF:
        return 3
    if v <= 0xFFFFFFFF:
        return 5
    return 9


def _map_header(entries: int) -> int:
    return 1 if entries < 16 else 3


def _str_entry(key_len: int, value_len: int) -> int:
    return 1 + key_len + _str_header(value_len) + value_len


def inner_blob_size(
    name: bytes, payload: bytes | None, node: bytes, service: bytes, tag: bytes
) -> int:
    """Size of Consul's msgpack encoding of its ``UserEvent`` (keys ``ID n p nf sf tf v``).

    Empty ``omitempty`` fields (``p``, ``nf``, ``sf``, ``tf``) are left out, and ``LTime`` is
    never encoded.
    """
    entries = 3  # ID, n, v
    size = _str_entry(2, _ID_LENGTH) + _str_entry(1, len(name)) + (1 + 1 + 1)
    if payload:
        entries += 1
        size += 1 + 1 + _bin_header(len(payload)) + len(payload)
    for key_len, value in ((2, node), (2, service), (2, tag)):
        if value:
            entries += 1
            size += _str_entry(key_len, len(value))
    return _map_header(entries) + size


def serf_message_size(serf_name_len: int, inner_len: int, ltime: int) -> int:
    """Size of serf's encoded ``messageUserEvent{LTime, Name, Payload, CC}`` with its type byte."""
    return (
        1  # message type byte
        + 1  # fixmap with 4 entries
        + (1 + 5)
        + _uint_size(ltime)  # "LTime"
        + (1 + 4)
        + _raw_header(serf_name_len)
        + serf_name_len  # "Name"
        + (1 + 7)
        + _raw_header(inner_len)
        + inner_len  # "Payload"
        + (1 + 2)
        + 1  # "CC": false
    )


def check_size(
    name: str,
    payload: bytes | None,
    node: str,
    service: str,
    tag: str,
    ltime: int,
    limit: int = USER_EVENT_SIZE_LIMIT,
) -> None:
    """Raise what Consul answers when serf refuses this event for its size.

    ``ltime`` is the firing server's event clock at the time of the fire: a larger clock needs
    more bytes to encode, so the largest accepted payload shrinks as the clock grows.

    Raises:
        EventTooLargeError: with ``error broadcasting event: ...`` and serf's text for whichever
            check fails first.
    """
    serf_name_len = len(messages.SERF_USER_EVENT_PREFIX) + len(_utf8(name))
    inner = inner_blob_size(_utf8(name), payload, _utf8(node), _utf8(service), _utf8(tag))
    if serf_name_len + inner > limit:
        error = messages.SIZE_BEFORE_ENCODING.format(limit=limit)
    elif serf_message_size(serf_name_len, inner, ltime) > limit:
        error = messages.SIZE_AFTER_ENCODING.format(limit=limit)
    else:
        return
    raise EventTooLargeError(messages.BROADCAST_ERROR.format(error=error))


def _utf8(text: str) -> bytes:
    # surrogateescape keeps undecodable bytes of a request path at their original length.
    return text.encode("utf-8", "surrogateescape")
