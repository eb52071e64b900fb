"""The user event record, go-uuid style event IDs and the list index folded from an ID."""

from __future__ import annotations

import random
import re

import pytest

from pytest_consul_events.model.event import (
    REMOTE_EXEC_NAME,
    USER_EVENT_VERSION,
    UserEvent,
    id_to_index,
    new_event_id,
)

GO_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# agent/event_endpoint_test.go @3b5f910 (TestUUIDToUint64)
CONSUL_TEST_VECTOR_ID = "cb9a81ad-fff6-52ac-92a7-5f70687805ec"
CONSUL_TEST_VECTOR_INDEX = 6430540886266763072


def test_id_to_index_matches_consul_test_vector() -> None:
    assert id_to_index(CONSUL_TEST_VECTOR_ID) == CONSUL_TEST_VECTOR_INDEX


def test_id_to_index_xors_first_sixteen_hex_digits_with_last_sixteen() -> None:
    # lower = "00000000" "0000" "0001" = 1, upper = "0000" "000000000003" = 3
    assert id_to_index("00000000-0000-0001-0000-000000000003") == 1 ^ 3


def test_id_to_index_is_an_unsigned_64_bit_value() -> None:
    assert id_to_index("ffffffff-ffff-ffff-0000-000000000000") == 2**64 - 1


def test_id_to_index_of_identical_halves_is_zero() -> None:
    assert id_to_index("01234567-89ab-cdef-0123-456789abcdef") == 0


def test_id_to_index_accepts_uppercase_hex() -> None:
    assert id_to_index(CONSUL_TEST_VECTOR_ID.upper()) == CONSUL_TEST_VECTOR_INDEX


@pytest.mark.parametrize("bad", ["", "cb9a81ad", CONSUL_TEST_VECTOR_ID + "0"])
def test_id_to_index_rejects_wrong_length(bad: str) -> None:
    with pytest.raises(ValueError, match="not an event ID"):
        id_to_index(bad)


@pytest.mark.parametrize(
    "text",
    [
        "zb9a81ad-fff6-52ac-92a7-5f70687805ec",
        "0" * 36,
        "+b9a81ad-fff6-52ac-92a7-5f70687805ec",
        "cb9a81adfff6-52ac-92a7-5f70687805ec-",
    ],
)
def test_id_to_index_rejects_what_is_not_an_event_id(text: str) -> None:
    with pytest.raises(ValueError) as info:
        id_to_index(text)
    assert str(info.value) == f"not an event ID: {text!r}"


def test_event_index_property_is_id_to_index_of_its_id() -> None:
    event = UserEvent(id=CONSUL_TEST_VECTOR_ID, name="deploy")
    assert event.index == CONSUL_TEST_VECTOR_INDEX


def test_user_event_defaults_are_consul_fire_defaults() -> None:
    event = UserEvent(id=CONSUL_TEST_VECTOR_ID, name="deploy")
    assert (
        event.payload,
        event.node_filter,
        event.service_filter,
        event.tag_filter,
        event.version,
        event.ltime,
    ) == (None, "", "", "", 1, 0)


def test_user_event_version_is_one() -> None:
    assert USER_EVENT_VERSION == 1


def test_remote_exec_name_is_rexec() -> None:
    assert REMOTE_EXEC_NAME == "_rexec"


def test_user_event_is_immutable() -> None:
    event = UserEvent(id=CONSUL_TEST_VECTOR_ID, name="deploy")
    with pytest.raises(AttributeError):
        event.name = "other"  # type: ignore[misc]


def test_new_event_id_is_8_4_4_4_12_lowercase_hex() -> None:
    rng = random.Random(1)
    for _ in range(200):
        event_id = new_event_id(rng)
        assert len(event_id) == 36
        assert GO_UUID.fullmatch(event_id), event_id


def test_new_event_id_is_reproducible_from_a_seeded_rng() -> None:
    rng_a, rng_b = random.Random(42), random.Random(42)
    ids_a = [new_event_id(rng_a) for _ in range(20)]
    ids_b = [new_event_id(rng_b) for _ in range(20)]
    assert ids_a == ids_b
    assert len(set(ids_a)) == 20


def test_new_event_id_differs_between_seeds() -> None:
    assert new_event_id(random.Random(1)) != new_event_id(random.Random(2))


def test_new_event_id_has_no_fixed_version_nibble() -> None:
    # go-uuid sets no RFC 4122 version bits: the 13th hex digit (string index 14) is random,
    # unlike uuid.uuid4() where it is always "4".
    rng = random.Random(7)
    version_digits = {new_event_id(rng)[14] for _ in range(1000)}
    assert version_digits == set("0123456789abcdef")


def test_new_event_id_has_no_fixed_variant_bits() -> None:
    # uuid4 restricts the 17th hex digit (string index 19) to 8, 9, a, b; go-uuid does not.
    rng = random.Random(7)
    variant_digits = {new_event_id(rng)[19] for _ in range(1000)}
    assert variant_digits == set("0123456789abcdef")
