"""Go ``encoding/json`` output, byte for byte, for the values the fake answers with.

Go escapes ``<``, ``>``, ``&`` (``\\u003c``, ``\\u003e``, ``\\u0026``) and U+2028/U+2029, writes
other non-ASCII characters as raw UTF-8, replaces invalid UTF-8 with U+FFFD, and encodes
``[]byte`` as padded standard base64. ``MarshalIndent(v, "", "    ")`` is Consul's pretty form.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_INDENT_ENCODER = json.JSONEncoder(ensure_ascii=False, indent=4, separators=(",", ": "))
_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def marshal(value: Any) -> bytes:
    """Encode as Go's ``json.Marshal`` does (compact, HTML-safe escapes, raw UTF-8)."""
    return _encode(_ENCODER, value)


def marshal_indent(value: Any) -> bytes:
    """Encode as Go's ``json.MarshalIndent(value, "", "    ")`` does, without a trailing newline.

    Empty arrays and objects stay ``[]`` and ``{}``, as in Go.
    """
    return _encode(_INDENT_ENCODER, value)


def _encode(encoder: json.JSONEncoder, value: Any) -> bytes:
    text = encoder.encode(value).translate(_ESCAPES)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates stand for bytes that were not valid UTF-8: Go writes U+FFFD for them.
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode("utf-8")
