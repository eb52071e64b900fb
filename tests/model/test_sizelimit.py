"""Serf's 512-byte user event limit, to the byte (consul-events.md section 4)."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_consul_events import messages
from pytest_consul_events.errors import ConsulError, EventTooLargeError
from pytest_consul_events.model.sizelimit import (
    USER_EVENT_SIZE_LIMIT,
    check_size,
    inner_blob_size,
    serf_message_size,
)

BEFORE = messages.BROADCAST_ERROR.format(
    error=messages.SIZE_BEFORE_ENCODING.format(limit=USER_EVENT_SIZE_LIMIT)
)
AFTER = messages.BROADCAST_ERROR.format(
    error=messages.SIZE_AFTER_ENCODING.format(limit=USER_EVENT_SIZE_LIMIT)
)
# The literal texts of consul-events.md sections 1 (#15) and 4.3, to catch a wrong constant.
BEFORE_LITERAL = (
    "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
)
AFTER_LITERAL = (
    "error broadcasting event: encoded user event exceeds configured limit of 512 bytes after "
    "encoding"
)

EVENT_ID = "cb9a81ad-fff6-52ac-92a7-5f70687805ec"


def _error_of(
    name: str = "deploy",
    size: int = 0,
    *,
    payload: bytes | None = None,
    node: str = "",
    service: str = "",
    tag: str = "",
    ltime: int = 0,
) -> str | None:
    """The error text ``check_size`` raises, or None when the event fits.

    The payload is ``size`` bytes (none for 0) unless ``payload`` is given.
    """
    if payload is None and size:
        payload = b"x" * size
    try:
        check_size(name, payload or None, node, service, tag, ltime)
    except EventTooLargeError as exc:
        return exc.message
    return None


# -- the constants and the message texts ----------------------------------------------------------


def test_limit_is_serfs_default_512() -> None:
    assert USER_EVENT_SIZE_LIMIT == 512


def test_before_encoding_message_is_consuls_text() -> None:
    assert BEFORE == BEFORE_LITERAL


def test_after_encoding_message_is_consuls_text() -> None:
    assert AFTER == AFTER_LITERAL


def test_too_large_error_is_a_consul_error_carrying_the_text() -> None:
    with pytest.raises(EventTooLargeError) as info:
        check_size("deploy", b"x" * 435, "", "", "", 0)
    assert isinstance(info.value, ConsulError)
    assert str(info.value) == info.value.message == BEFORE_LITERAL


# -- section 4.3: name "deploy", no filters, fresh clock -------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 255, 256, 404])
def test_deploy_body_fits(size: int) -> None:
    assert _error_of(size=size) is None


@pytest.mark.parametrize("size", [405, 406, 420, 433, 434])
def test_deploy_body_405_to_434_fails_after_encoding(size: int) -> None:
    assert _error_of(size=size) == AFTER


@pytest.mark.parametrize("size", [435, 436, 512, 1000, 9216, 70000])
def test_deploy_body_from_435_fails_before_encoding(size: int) -> None:
    assert _error_of(size=size) == BEFORE


def test_empty_body_is_same_as_no_body() -> None:
    assert inner_blob_size(b"deploy", b"", b"", b"", b"") == inner_blob_size(
        b"deploy", None, b"", b"", b""
    )


def test_inner_blob_of_deploy_without_body_is_54_bytes() -> None:
    assert inner_blob_size(b"deploy", None, b"", b"", b"") == 54


@pytest.mark.parametrize("size", [1, 100, 255])
def test_inner_blob_with_bin8_body_is_58_plus_body(size: int) -> None:
    assert inner_blob_size(b"deploy", b"x" * size, b"", b"", b"") == 58 + size


@pytest.mark.parametrize("size", [256, 404, 65535])
def test_inner_blob_with_bin16_body_is_59_plus_body(size: int) -> None:
    assert inner_blob_size(b"deploy", b"x" * size, b"", b"", b"") == 59 + size


def test_serf_message_of_deploy_without_body_is_103_bytes() -> None:
    assert serf_message_size(19, 54, 0) == 103


def test_serf_message_of_deploy_with_404_byte_body_is_exactly_512() -> None:
    assert serf_message_size(19, 59 + 404, 0) == 512


# -- the clock at fire time -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ltime", "max_body"),
    [
        (0, 404),
        (127, 404),
        (128, 403),
        (255, 403),
        (256, 402),
        (65535, 402),
        (65536, 400),
        (2**32 - 1, 400),
        (2**32, 396),
        (2**64 - 1, 396),
    ],
)
def test_largest_deploy_body_depends_on_the_clock(ltime: int, max_body: int) -> None:
    assert _error_of(size=max_body, ltime=ltime) is None
    assert _error_of(size=max_body + 1, ltime=ltime) == AFTER


def test_clock_does_not_change_the_before_encoding_check() -> None:
    # 434 passes the pre-encoding check whatever the clock; only the encoded size grows.
    assert _error_of(size=434, ltime=2**64 - 1) == AFTER
    assert _error_of(size=435, ltime=0) == BEFORE


# -- section 4.3: the closed form and its examples -------------------------------------------------


@pytest.mark.parametrize(
    ("length", "max_body"), [(1, 414), (6, 404), (18, 380), (19, 376), (32, 349), (100, 214)]
)
def test_largest_body_for_name_length(length: int, max_body: int) -> None:
    name = "e" * length
    assert _error_of(name, max_body) is None
    assert _error_of(name, max_body + 1) == AFTER


def test_node_filter_node1_leaves_395_bytes_for_deploy() -> None:
    assert _error_of(size=395, node="node1") is None
    assert _error_of(size=396, node="node1") == AFTER


def test_service_web_and_tag_v1_leave_391_bytes_for_deploy() -> None:
    assert _error_of(size=391, service="web", tag="v1") is None
    assert _error_of(size=392, service="web", tag="v1") == AFTER


def test_each_filter_adds_three_plus_header_plus_length_to_inner_blob() -> None:
    base = inner_blob_size(b"deploy", None, b"", b"", b"")
    assert inner_blob_size(b"deploy", None, b"node1", b"", b"") == base + 3 + 1 + 5
    assert inner_blob_size(b"deploy", None, b"", b"s" * 40, b"") == base + 3 + 2 + 40
    with_service_and_tag = base + (3 + 1 + 3) + (3 + 3 + 300)
    assert inner_blob_size(b"deploy", None, b"", b"web", b"t" * 300) == with_service_and_tag


@pytest.mark.parametrize(
    ("length", "error"),
    [(210, AFTER), (211, AFTER), (225, AFTER), (226, BEFORE), (250, BEFORE), (1000, BEFORE)],
)
def test_names_of_210_bytes_or_more_cannot_be_fired(length: int, error: str) -> None:
    # Even without a body: 13 + L + (49 + L) > 512 before encoding from L = 226 on.
    assert _error_of("n" * length, 0) == error


def test_300_byte_name_fails_before_encoding() -> None:
    assert _error_of("n" * 300, 0) == BEFORE


@pytest.mark.parametrize("length", [207, 208, 209])
def test_names_of_207_to_209_bytes_fit_only_without_body(length: int) -> None:
    assert _error_of("n" * length, 0) is None
    assert _error_of("n" * length, 1) == AFTER


# -- UTF-8 byte lengths ----------------------------------------------------------------------------


def test_name_length_is_counted_in_utf8_bytes() -> None:
    # "ééé" is 3 characters but 6 bytes: the same room as "deploy", not as a 3-byte name.
    assert _error_of("ééé", 404) is None
    assert _error_of("ééé", 405) == AFTER


def test_four_byte_characters_count_four_bytes() -> None:
    # U+1F680 is 4 bytes in UTF-8: a 1-character name that needs the room of a 4-byte name.
    assert _error_of("\U0001f680", 408) is None
    assert _error_of("\U0001f680", 409) == AFTER


def test_filter_length_is_counted_in_utf8_bytes() -> None:
    # "nöde1" is 6 bytes, one more than "node1".
    assert _error_of(size=394, node="nöde1") is None
    assert _error_of(size=395, node="nöde1") == AFTER


def test_undecodable_path_bytes_keep_their_length() -> None:
    # A request path byte that is not UTF-8 arrives as a lone surrogate and counts as one byte.
    assert _error_of("\udcff" * 6, 404) is None
    assert _error_of("\udcff" * 6, 405) == AFTER


# -- another limit ---------------------------------------------------------------------------------


def test_configured_limit_appears_in_the_message() -> None:
    with pytest.raises(EventTooLargeError) as info:
        check_size("deploy", None, "", "", "", 0, limit=100)
    assert info.value.message == (
        "error broadcasting event: encoded user event exceeds configured limit of 100 bytes "
        "after encoding"
    )


def test_larger_limit_accepts_larger_body() -> None:
    check_size("deploy", b"x" * 916, "", "", "", 0, limit=1024)
    with pytest.raises(EventTooLargeError):
        check_size("deploy", b"x" * 917, "", "", "", 0, limit=1024)


# -- cross-check against real msgpack encodings ----------------------------------------------------
#
# The oracle: Consul encodes its UserEvent with go-msgpack's handle {RawToString, WriteExt: true},
# which has str8 and bin types; msgpack-python's use_bin_type=True has the same header rules.
# Serf encodes its message with the default handle (WriteExt false): strings *and* byte slices are
# raw strings, fixstr below 32 bytes and str16 above, never str8 nor bin; msgpack-python's
# use_bin_type=False behaves the same. Unsigned integers use the smallest form in both. The first
# tests pin these claims on small values, so the property below compares against the right thing.


@pytest.mark.parametrize(
    ("value", "header"),
    [
        ("a" * 31, "bf"),  # fixstr
        ("a" * 32, "d920"),  # str8
        (b"x", "c401"),  # bin8
        (b"x" * 255, "c4ff"),  # bin8
        (b"x" * 256, "c50100"),  # bin16
    ],
)
def test_msgpack_oracle_with_bin_type_has_str8_and_bin(value: str | bytes, header: str) -> None:
    assert msgpack.packb(value, use_bin_type=True).hex().startswith(header)


@pytest.mark.parametrize(
    ("value", "header"),
    [
        ("a" * 31, "bf"),  # fixstr
        ("a" * 32, "da0020"),  # str16, no str8
        ("a" * 255, "da00ff"),  # str16, no str8
        (b"x", "a1"),  # bytes as fixstr, no bin
        (b"x" * 32, "da0020"),  # bytes as str16, no bin
    ],
)
def test_msgpack_oracle_without_bin_type_has_only_fixstr_and_str16(
    value: str | bytes, header: str
) -> None:
    assert msgpack.packb(value, use_bin_type=False).hex().startswith(header)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(127, "7f"), (128, "cc80"), (256, "cd0100"), (65536, "ce00010000"), (2**32, "cf")],
)
def test_msgpack_oracle_packs_unsigned_in_smallest_form(value: int, encoded: str) -> None:
    assert msgpack.packb(value).hex().startswith(encoded)


def _inner_blob(
    event_id: str, name: str, payload: bytes, node: str, service: str, tag: str
) -> bytes:
    fields: dict[str, object] = {"ID": event_id, "n": name, "v": 1}
    # omitempty: empty fields are not encoded; LTime is never encoded (codec:"-").
    for key, value in (("p", payload), ("nf", node), ("sf", service), ("tf", tag)):
        if value:
            fields[key] = value
    return msgpack.packb(fields, use_bin_type=True)


def _serf_message(serf_name: str, inner: bytes, ltime: int) -> bytes:
    body = msgpack.packb(
        {"LTime": ltime, "Name": serf_name, "Payload": inner, "CC": False}, use_bin_type=False
    )
    return b"\x03" + body  # messageUserEventType


_texts = st.text(max_size=40) | st.text(alphabet="ab", min_size=200, max_size=300)
_payloads = st.binary(max_size=300) | st.integers(0, 70000).map(lambda n: b"\0" * n)


@settings(max_examples=100, deadline=None)
@given(
    raw_id=st.binary(min_size=16, max_size=16),
    name=_texts,
    payload=_payloads,
    node=_texts,
    service=_texts,
    tag=_texts,
    ltime=st.integers(0, 2**64 - 1),
)
def test_sizes_match_real_msgpack_encodings(
    raw_id: bytes, name: str, payload: bytes, node: str, service: str, tag: str, ltime: int
) -> None:
    h = raw_id.hex()
    event_id = f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    inner = _inner_blob(event_id, name, payload, node, service, tag)
    assert inner_blob_size(
        name.encode(), payload or None, node.encode(), service.encode(), tag.encode()
    ) == len(inner)
    serf_name = messages.SERF_USER_EVENT_PREFIX + name
    outer = _serf_message(serf_name, inner, ltime)
    assert serf_message_size(len(serf_name.encode()), len(inner), ltime) == len(outer)


@settings(max_examples=60, deadline=None)
@given(name=_texts, payload=_payloads, node=_texts, ltime=st.integers(0, 2**64 - 1))
def test_check_size_decides_like_serf_on_real_encodings(
    name: str, payload: bytes, node: str, ltime: int
) -> None:
    serf_name = messages.SERF_USER_EVENT_PREFIX + name
    inner = _inner_blob(EVENT_ID, name, payload, node, "", "")
    if len(serf_name.encode()) + len(inner) > 512:
        expected: str | None = BEFORE_LITERAL
    elif len(_serf_message(serf_name, inner, ltime)) > 512:
        expected = AFTER_LITERAL
    else:
        expected = None
    assert _error_of(name, 0, payload=payload, node=node, ltime=ltime) == expected
