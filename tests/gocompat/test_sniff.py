"""Go's ``DetectContentType`` for the texts Consul leaves to it (net/http/sniff.go textSig)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_consul_events.gocompat.sniff import SNIFF_LEN, detect_text_content_type

TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
BINARY_BYTES = [*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)]


@pytest.mark.parametrize("byte", BINARY_BYTES)
def test_each_byte_textsig_refuses_makes_the_body_binary(byte: int) -> None:
    assert detect_text_content_type(b"Invalid node filter: `" + bytes([byte]) + b"`") == BINARY


@pytest.mark.parametrize("byte", sorted(set(range(256)) - set(BINARY_BYTES)))
def test_every_other_byte_is_text(byte: int) -> None:
    # Tab, newline, form feed, carriage return, escape (0x1B), DEL and every byte >= 0x80.
    assert detect_text_content_type(b"Missing name " + bytes([byte])) == TEXT


def test_only_the_first_512_bytes_count() -> None:
    assert detect_text_content_type(b"a" * (SNIFF_LEN - 1) + b"\x01") == BINARY
    assert detect_text_content_type(b"a" * SNIFF_LEN + b"\x01") == TEXT


def test_utf8_text_is_text() -> None:
    assert detect_text_content_type("Permission denied: «dé»".encode()) == TEXT


@given(st.binary(max_size=600))
def test_the_answer_is_binary_exactly_when_a_refused_byte_is_in_the_first_512(data: bytes) -> None:
    body = b"x" + data
    refused = any(b in BINARY_BYTES for b in body[:SNIFF_LEN])
    assert detect_text_content_type(body) == (BINARY if refused else TEXT)
