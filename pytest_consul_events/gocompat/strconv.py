"""Go's ``strconv.Quote`` (the ``%q`` verb) for the strings Consul quotes in its messages.

A Go string is a sequence of bytes that need not be UTF-8. This package holds one as a ``str``
whose bytes that are not valid UTF-8 are kept as the surrogates U+DC80-U+DCFF (Python's
``surrogateescape``); :func:`go_bytes` and :func:`from_go_bytes` convert between the two.
"""

from __future__ import annotations

from typing import Final

_SHORT_ESCAPES: Final = {
    0x07: "\\a",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
}


def go_bytes(text: str) -> bytes:
    """The bytes of a Go string held as ``text`` (undecodable bytes kept as surrogates).

    A string holding other surrogates (which no Go string can contain) is encoded with
    ``surrogatepass``: each such surrogate becomes 3 bytes that are not valid UTF-8.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def from_go_bytes(data: bytes) -> str:
    """The ``str`` holding the Go string ``data`` (inverse of :func:`go_bytes`)."""
    return data.decode("utf-8", "surrogateescape")


def go_quote(text: str) -> str:
    """Quote ``text`` as Go's ``strconv.Quote``: printable runes kept, others escaped.

    Quoting works on the string's bytes (:func:`go_bytes`), as Go does: each byte that does not
    start a valid UTF-8 sequence becomes ``\\xNN``, so escaped bytes that together form a valid
    sequence print as its character and a surrogate prints as the three bytes encoding it.
    """
    data = go_bytes(text)
    out = ['"']
    i = 0
    while i < len(data):
        lead = data[i]
        width = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        try:
            char = data[i : i + width].decode("utf-8")
        except UnicodeDecodeError:
            out.append(f"\\x{lead:02x}")
            i += 1
            continue
        i += width
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == " " or char.isprintable():
            out.append(char)
        elif code in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[code])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
