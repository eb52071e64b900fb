"""Go ``encoding/json`` decoding errors, for request bodies Consul decodes into structs.

Consul's ``lib.DecodeJSON`` reads the first JSON value of the body with a ``json.Decoder``
(trailing data is ignored) and reports Go's error text. The syntax errors are mapped from
Python's parser to Go's wording; the positions at which both parsers notice an error agree for
the common cases (truncation, a wrong character where a value, a key or a delimiter belongs).
"""

from __future__ import annotations

import json
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
