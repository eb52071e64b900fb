"""Consul's ``api.UserEvent`` as the Go client decodes it from an agent and encodes it again.

``consul watch`` decodes ``GET /v1/event/list`` into ``[]*api.UserEvent`` and hands the handler
``json.NewEncoder(...).Encode(events)``: the eight fields of the struct, in its order, whatever
the agent sent (unknown keys dropped, missing ones zero, ``Payload`` base64 or ``null``), with
Go's escaping, and a newline. :func:`encode` reproduces those bytes; ``consul watch`` without a
handler prints :func:`encode_indent` (``json.MarshalIndent(events, "", "    ")``).

Decoding follows ``encoding/json`` into that struct: keys match field names exactly, else
case-insensitively; ``null`` leaves a field at its zero value; a value of the wrong JSON type is
an ``UnmarshalTypeError``, reported once the whole document was read; ``Payload`` must be
padded standard base64 (``\\r`` and ``\\n`` ignored).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from pytest_consul_events import messages
from pytest_consul_events.consul_cli.errors import GoPanic
from pytest_consul_events.gocompat import jsonenc
from pytest_consul_events.gocompat.jsondecode import (
    GoJSONError,
    decode_first_value,
    json_type_name,
)

FIELDS = ("ID", "Name", "Payload", "NodeFilter", "ServiceFilter", "TagFilter", "Version", "LTime")
_STRING_FIELDS = frozenset({"ID", "Name", "NodeFilter", "ServiceFilter", "TagFilter"})
_LOWER = {name.lower(): name for name in FIELDS}
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


class Event(NamedTuple):
    """One ``api.UserEvent`` as Go holds it after decoding (``payload`` ``None`` is ``nil``)."""

    id: str = ""
    name: str = ""
    payload: bytes | None = None
    node_filter: str = ""
    service_filter: str = ""
    tag_filter: str = ""
    version: int = 0
    ltime: int = 0

    def as_go_json(self) -> dict[str, Any]:
        """The fields in Go's order, ready for :mod:`~pytest_consul_events.gocompat.jsonenc`."""
        payload = None if self.payload is None else base64.b64encode(self.payload).decode("ascii")
        return {
            "ID": self.id,
            "Name": self.name,
            "Payload": payload,
            "NodeFilter": self.node_filter,
            "ServiceFilter": self.service_filter,
            "TagFilter": self.tag_filter,
            "Version": self.version,
            "LTime": self.ltime,
        }


class _Number(str):
    """A JSON number kept as its literal, as Go's decoder sees it."""


_DECODER = json.JSONDecoder(parse_int=_Number, parse_float=_Number, parse_constant=_Number)


def _type_name(value: Any) -> str:
    return "number" if isinstance(value, _Number) else json_type_name(value)


def _field_error(value: Any, field: str, go_type: str) -> str:
    shown = f"number {value}" if isinstance(value, _Number) else _type_name(value)
    return messages.GO_JSON_FIELD_TYPE.format(value=shown, field=f"UserEvent.{field}", type=go_type)


def _decode_event(item: dict[str, Any], errors: list[str]) -> Event:
    values: dict[str, Any] = {}
    for key, value in item.items():
        field = key if key in FIELDS else _LOWER.get(key.lower())
        if field is None or value is None:
            continue
        if field in _STRING_FIELDS:
            if isinstance(value, str) and not isinstance(value, _Number):
                values[field] = value
            else:
                errors.append(_field_error(value, field, "string"))
        elif field == "Payload":
            if isinstance(value, str) and not isinstance(value, _Number):
                try:
                    values[field] = _decode_base64(value)
                except ValueError as exc:
                    errors.append(str(exc))
            else:
                errors.append(_field_error(value, field, "[]uint8"))
        else:
            go_type = "int" if field == "Version" else "uint64"
            low, high = (-(2**63), _INT64_MAX) if field == "Version" else (0, _UINT64_MAX)
            number = _parse_int(value) if isinstance(value, _Number) else None
            if number is None or not low <= number <= high:
                errors.append(_field_error(value, field, go_type))
            else:
                values[field] = number
    return Event(
        id=values.get("ID", ""),
        name=values.get("Name", ""),
        payload=values.get("Payload"),
        node_filter=values.get("NodeFilter", ""),
        service_filter=values.get("ServiceFilter", ""),
        tag_filter=values.get("TagFilter", ""),
        version=values.get("Version", 0),
        ltime=values.get("LTime", 0),
    )


def _parse_int(literal: str) -> int | None:
    if not literal or any(ch in literal for ch in ".eE") or literal in ("NaN", "Infinity"):
        return None
    try:
        return int(literal)
    except ValueError:
        return None


def _decode_base64(text: str) -> bytes:
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return _base64_error(cleaned)


def _base64_error(text: str) -> bytes:
    # Go reports the offset of the first byte it cannot take (base64.CorruptInputError).
    alphabet = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    data = text.encode("utf-8", "surrogateescape")
    position = next(
        (offset for offset, byte in enumerate(data) if chr(byte) not in alphabet), len(data)
    )
    raise ValueError(messages.GO_BASE64_CORRUPT.format(offset=position))


def decode_list(body: bytes) -> list[Event | None] | None:
    """Decode an event list body as ``decodeBody(resp, &[]*api.UserEvent)`` does.

    Returns ``None`` for a JSON ``null`` (a nil slice) and ``None`` items for ``null`` elements.

    Raises:
        GoJSONError: the body is not JSON, not an array of objects, or a field has the wrong
            type, with Go's error text.
    """
    text = body.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except (json.JSONDecodeError, ValueError):
        decode_first_value(body)  # raises Go's syntax error text
        raise GoJSONError("unexpected EOF") from None
    if value is None:
        return None
    if not isinstance(value, list):
        raise GoJSONError(
            messages.GO_JSON_VALUE_TYPE.format(value=_type_name(value), type="[]*api.UserEvent")
        )
    errors: list[str] = []
    events: list[Event | None] = []
    for item in value:
        if item is None:
            events.append(None)
        elif isinstance(item, dict):
            events.append(_decode_event(item, errors))
        else:
            errors.append(
                messages.GO_JSON_VALUE_TYPE.format(value=_type_name(item), type="api.UserEvent")
            )
            events.append(Event())
    if errors:
        raise GoJSONError(errors[0])
    return events


def decode_fire_id(body: bytes) -> str:
    """The ``ID`` of a fire answer, as ``decodeBody(resp, &api.UserEvent{})`` reads it.

    Raises:
        GoJSONError: the body is not a JSON object of the right shape, with Go's text.
    """
    text = body.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except (json.JSONDecodeError, ValueError):
        decode_first_value(body)
        raise GoJSONError("unexpected EOF") from None
    if value is None:
        return ""
    if not isinstance(value, dict):
        raise GoJSONError(
            messages.GO_JSON_VALUE_TYPE.format(value=_type_name(value), type="api.UserEvent")
        )
    errors: list[str] = []
    event = _decode_event(value, errors)
    if errors:
        raise GoJSONError(errors[0])
    return event.id


def id_to_index(uuid: str) -> int:
    """``(*api.Event).IDToIndex``: the XOR of the two 64-bit halves of an event ID.

    Raises:
        GoPanic: the ID is too short or not hexadecimal where Go parses it (Go panics).
    """
    data = uuid.encode("utf-8", "surrogateescape")
    if len(data) < 36:
        # Go slices [0:8], [9:13], [14:18], [19:23], [24:36] in turn; the first high bound past
        # the end panics.
        needed = next(high for high in (8, 13, 18, 23, 36) if high > len(data))
        raise GoPanic(messages.GO_SLICE_OUT_OF_RANGE.format(high=needed, length=len(data)))
    lower = data[0:8] + data[9:13] + data[14:18]
    upper = data[19:23] + data[24:36]
    values = []
    for part in (lower, upper):
        text = part.decode("latin-1")
        if not all(ch in "0123456789abcdefABCDEF" for ch in text):
            raise GoPanic(messages.WATCH_ID_TO_INDEX_PANIC.format(part=text))
        values.append(int(text, 16))
    return values[0] ^ values[1]


def encode(events: Sequence[Event | None] | None) -> bytes:
    """``json.NewEncoder(w).Encode(events)``: compact, Go's escaping, a trailing newline."""
    return jsonenc.marshal(_go_value(events)) + b"\n"


def encode_indent(events: Sequence[Event | None] | None) -> bytes:
    """``json.MarshalIndent(events, "", "    ")`` (no trailing newline)."""
    return jsonenc.marshal_indent(_go_value(events))


def _go_value(events: Sequence[Event | None] | None) -> Any:
    if events is None:
        return None
    return [None if event is None else event.as_go_json() for event in events]
