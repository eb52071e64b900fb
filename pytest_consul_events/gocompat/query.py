"""Go's ``net/url`` query parsing (``url.ParseQuery``) and path unescaping.

Consul parses every query string with ``url.ParseQuery`` before anything else and answers 500
with an empty body when it fails (agent/http.go). Go rejects a ``;`` anywhere in a pair
(Go >= 1.17) and any malformed ``%`` escape; ``+`` means a space in queries but not in paths.
"""

from __future__ import annotations

_HEX = "0123456789abcdefABCDEF"


class QueryError(ValueError):
    """The query string is one Go's ``url.ParseQuery`` rejects."""


def _unescape(text: str, *, plus_is_space: bool) -> str:
    """Percent-decode ``text`` the way Go does, keeping undecodable bytes as surrogates.

    Raises:
        QueryError: a ``%`` not followed by two hex digits.
    """
    if "%" not in text and not (plus_is_space and "+" in text):
        return text
    out = bytearray()
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                raise QueryError(f"invalid URL escape {text[i : i + 3]!r}")
            out.append(int(pair, 16))
            i += 3
        elif c == "+" and plus_is_space:
            out.append(0x20)
            i += 1
        else:
            out += c.encode("utf-8", "surrogateescape")
            i += 1
    return out.decode("utf-8", "surrogateescape")


def parse_query(raw: str) -> dict[str, list[str]]:
    """Parse a raw query string into its values in order, as Go's ``url.ParseQuery``.

    Pairs are separated by ``&``; empty pairs are skipped; a pair without ``=`` has the value
    ``""``. Keys and values are unescaped with ``+`` as a space.

    Raises:
        QueryError: Go would report an error (a ``;`` in a pair, a malformed escape).
    """
    values: dict[str, list[str]] = {}
    if not raw:
        return values
    for pair in raw.split("&"):
        if ";" in pair:
            raise QueryError("invalid semicolon separator in query")
        if not pair:
            continue
        key, _, value = pair.partition("=")
        values.setdefault(_unescape(key, plus_is_space=True), []).append(
            _unescape(value, plus_is_space=True)
        )
    return values


def unescape_query_component(raw: str) -> str:
    """Decode one key or value of a query as Go's ``url.QueryUnescape`` (``+`` is a space).

    Raises:
        QueryError: a malformed escape.
    """
    return _unescape(raw, plus_is_space=True)


def unescape_path(raw: str) -> str:
    """Percent-decode a URL path as Go's ``url.PathUnescape`` (``+`` stays ``+``).

    Raises:
        QueryError: a malformed escape.
    """
    return _unescape(raw, plus_is_space=False)


_PATH_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+,/:;=@"
)
_ENCODED_PATH_OK = _PATH_SAFE | frozenset("!'()*[]%")


def escape_path(path: str) -> str:
    """Percent-encode a decoded path as Go's ``url.URL{Path: p}.String()`` does.

    Unreserved characters and ``$&+,/:;=@`` stay; everything else, ``%`` and ``?`` included,
    becomes ``%XX`` of its UTF-8 bytes (undecodable bytes, kept as surrogates, as themselves).
    """
    if all(ch in _PATH_SAFE for ch in path):
        return path
    out = []
    for byte in path.encode("utf-8", "surrogateescape"):
        ch = chr(byte)
        out.append(ch if ch in _PATH_SAFE else f"%{byte:02X}")
    return "".join(out)


def escaped_path(raw_path: str, decoded: str) -> str:
    """Go's ``URL.EscapedPath``: the path as sent when that is a valid encoding of it, else
    :func:`escape_path` of the decoded path."""
    if raw_path == decoded and "%" not in raw_path and all(ch in _PATH_SAFE for ch in raw_path):
        return raw_path  # nothing escaped and nothing to escape: the common case
    if all(ch in _ENCODED_PATH_OK for ch in raw_path):
        try:
            if unescape_path(raw_path) == decoded:
                return raw_path
        except QueryError:
            pass
    return escape_path(decoded)
