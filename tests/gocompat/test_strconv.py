"""Go's ``strconv.Quote`` on Go strings held as ``str`` (bytes that are not UTF-8 as surrogates).

Expected values follow Go's rules: runes that ``unicode.IsPrint`` accepts are kept, ``\\a``...
``\\v`` use their short escapes, other runes below U+0020 and U+007F are ``\\xNN``, other
runes ``\\uNNNN``/``\\UNNNNNNNN``, and every byte that does not start a valid UTF-8 sequence
is ``\\xNN`` (so a surrogate, which Go cannot hold as a rune, shows as the bytes encoding it).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_consul_events.gocompat import hcl
from pytest_consul_events.gocompat.strconv import from_go_bytes, go_bytes, go_quote


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("", '""'),
        ("deploy", '"deploy"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'),
        # C1 controls, no-break space, soft hyphen, zero-width space, line separator, BOM,
        # private use: not printable, so \u escapes; a non-printable astral rune: \U.
        ("\x80\x9f", '"\\u0080\\u009f"'),
        ("\xa0\xad\u200b\u2028\ufeff\ue000", '"\\u00a0\\u00ad\\u200b\\u2028\\ufeff\\ue000"'),
        ("\U000e0001", '"\\U000e0001"'),
        # printable: letters, combining marks, symbols, U+FFFD itself, ideographs
        ("é e\u0301 😀 \ufffd 日本", '"é e\u0301 😀 \ufffd 日本"'),
    ],
)
def test_quote_runes(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


@pytest.mark.parametrize(
    ("data", "quoted"),
    [
        (b"\xff", '"\\xff"'),
        (b"a\xe2\x82b", '"a\\xe2\\x82b"'),  # a truncated sequence: each byte escaped
        (b"\xc0\xaf", '"\\xc0\\xaf"'),  # an overlong encoding
        (b"\xed\xa0\x80", '"\\xed\\xa0\\x80"'),  # the encoding of a surrogate
        (b"caf\xc3\xa9 \xff", '"café \\xff"'),
    ],
)
def test_quote_bytes_that_are_not_utf8(data: bytes, quoted: str) -> None:
    assert go_quote(from_go_bytes(data)) == quoted


def test_escaped_bytes_that_form_valid_utf8_print_as_the_character() -> None:
    # The Go string is the bytes C3 A9, which is "é", however the str came to hold them.
    assert go_quote("\udcc3\udca9") == '"é"'


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("\ud800", '"\\xed\\xa0\\x80"'),
        ("\udfff", '"\\xed\\xbf\\xbf"'),
        ("\udc7f", '"\\xed\\xb1\\xbf"'),  # below the range that surrogateescape uses
    ],
)
def test_lone_surrogates_show_as_the_bytes_encoding_them(text: str, quoted: str) -> None:
    # No Go string holds a surrogate rune: its UTF-8 encoding is three invalid bytes.
    assert go_quote(text) == quoted


@pytest.mark.parametrize("data", [b"", b"\xff", b"caf\xc3\xa9", b"\xed\xa0\x80", b"\x00"])
def test_go_bytes_round_trips(data: bytes) -> None:
    assert go_bytes(from_go_bytes(data)) == data


@given(st.binary(max_size=24))
def test_unquote_of_quote_gives_back_the_bytes(data: bytes) -> None:
    # Go guarantees strconv.Unquote(strconv.Quote(s)) == s; JSON strings in hcl go through a
    # port of Go's strconv.Unquote.
    quoted = go_quote(from_go_bytes(data))
    assert quoted.isascii() or quoted.isprintable()
    token = hcl.Token("STRING", hcl.Pos(), quoted, json=True)
    assert go_bytes(hcl.token_value(token)) == data
