"""Go ``encoding/json`` decoding errors, for request bodies Consul decodes into structs.

Consul's ``lib.DecodeJSON`` reads the first JSON value of the body with a ``json.Decoder``
(trailing data is ignored) and reports Go's error text. The syntax errors are mapped from
Python's parser to Go's wording; the positions at which both parsers notice an error agree for
the common cases (truncation, a wrong character where a value, a key or a delimiter belongs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

_DECODER = json.JSONDecoder()


class GoJSONError(ValueError):
    """The body is not JSON Go would accept; ``str()`` is Go's error text."""


def _go_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == "\n":
        return "'\\n'"
    if ch == "\t":
        return "'\\t'"
    if ch == "\r":
        return "'\\r'"
    return f"'{ch}'"


def _context(text: str, pos: int) -> str:
    """Whether the innermost open container before ``pos`` is an object or an array."""
    depth: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth.append(ch)
        elif ch in "]}" and depth:
            depth.pop()
    return depth[-1] if depth else ""


def decode_first_value(raw: bytes) -> Any:
    """Decode the first JSON value of ``raw`` as Go's ``json.Decoder.Decode`` would.

    Raises:
        GoJSONError: with Go's text: ``EOF`` for an empty body, ``unexpected EOF`` for a
            truncated one, ``invalid character 'x' looking for beginning of value`` and the like.
    """
    text = raw.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise GoJSONError("EOF")
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        pos = exc.pos
        if pos >= len(text) or exc.msg.startswith("Unterminated string"):
            raise GoJSONError("unexpected EOF") from None
        ch = text[pos]
        if exc.msg.startswith("Invalid control character"):
            raise GoJSONError(f"invalid character {_go_char(ch)} in string literal") from None
        if exc.msg.startswith("Expecting property name"):
            where = "looking for beginning of object key string"
        elif exc.msg.startswith("Expecting ':'"):
            where = "after object key"
        elif exc.msg.startswith("Expecting ','"):
            where = (
                "after object key:value pair"
                if _context(text, pos) == "{"
                else ("after array element")
            )
        else:
            where = "looking for beginning of value"
        raise GoJSONError(f"invalid character {_go_char(ch)} {where}") from None
    return value


def json_type_name(value: Any) -> str:
    """How Go names a JSON value's kind in an ``UnmarshalTypeError``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def decode_object(raw: bytes, fields: Iterable[str], go_type: str) -> dict[str, Any]:
    """Decode a JSON object into a Go struct's fields, as ``lib.DecodeJSON`` does.

    Keys match the field names case-insensitively (Go's rule) and come back under the field's
    own name; a key matching no field is an error (``DisallowUnknownFields``). ``null``
    decodes to no fields. ``go_type`` is how Go prints the struct's type in its errors.

    Raises:
        GoJSONError: a syntax error, a value that is not an object, or an unknown field.
    """
    value = decode_first_value(raw)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GoJSONError(
            f"json: cannot unmarshal {json_type_name(value)} into Go value of type {go_type}"
        )
    by_lower = {name.lower(): name for name in fields}
    document: dict[str, Any] = {}
    for key, item in value.items():
        canonical = by_lower.get(key.lower())
        if canonical is None:
            raise GoJSONError(f'json: unknown field "{key}"')
        document[canonical] = item
    return document
