"""Go's time.ParseDuration and strconv.ParseUint(s, 10, 64), reproduced exactly.

The first tables are ports of Go's own test tables (src/time/time_test.go:
parseDurationTests and parseDurationErrorTests; src/strconv/atoi_test.go:
parseUint64Tests).  The "beyond Go's tables" vectors pin behaviour that follows
from Go's source -- float64 rounding of fractions, uint64 wrap-around when two
groups of exactly 2**63 ns are summed -- and were checked against a Go 1.19
toolchain when they were written.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_consul_events.gocompat.duration import parse_duration, parse_uint64

NANOSECOND = 1
MICROSECOND = 1_000 * NANOSECOND
MILLISECOND = 1_000 * MICROSECOND
SECOND = 1_000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

MIN_INT64 = -(1 << 63)
MAX_INT64 = (1 << 63) - 1
MAX_UINT64 = (1 << 64) - 1

UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,
    "\u03bcs": MICROSECOND,
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

# src/time/time_test.go: parseDurationTests
GO_PARSE_DURATION_TESTS = [
    # simple
    ("0", 0),
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    # sign
    ("-5s", -5 * SECOND),
    ("+5s", 5 * SECOND),
    ("-0", 0),
    ("+0", 0),
    # decimal
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600 * MILLISECOND),
    ("5.s", 5 * SECOND),
    (".5s", 500 * MILLISECOND),
    ("1.0s", 1 * SECOND),
    ("1.00s", 1 * SECOND),
    ("1.004s", 1 * SECOND + 4 * MILLISECOND),
    ("1.0040s", 1 * SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + 1 * MILLISECOND),
    # different units
    ("10ns", 10 * NANOSECOND),
    ("11us", 11 * MICROSECOND),
    ("12\u00b5s", 12 * MICROSECOND),  # U+00B5
    ("12\u03bcs", 12 * MICROSECOND),  # U+03BC
    ("13ms", 13 * MILLISECOND),
    ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    # composite durations
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
    (
        "1h2m3s4ms5us6ns",
        1 * HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6 * NANOSECOND,
    ),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    # large value
    ("52763797000ns", 52763797000 * NANOSECOND),
    # more than 9 digits after decimal point, see https://golang.org/issue/6617
    ("0.3333333333333333333h", 20 * MINUTE),
    # 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
    ("9007199254740993ns", ((1 << 53) + 1) * NANOSECOND),
    # largest duration that can be represented by int64 in nanoseconds
    ("9223372036854775807ns", MAX_INT64),
    ("9223372036854775.807us", MAX_INT64),
    ("9223372036s854ms775us807ns", MAX_INT64),
    ("-9223372036854775808ns", MIN_INT64),
    ("-9223372036854775.808us", MIN_INT64),
    ("-9223372036s854ms775us808ns", MIN_INT64),
    # largest negative value
    ("-9223372036854775808ns", MIN_INT64),
    # largest negative round trip value, see https://golang.org/issue/48629
    ("-2562047h47m16.854775808s", MIN_INT64),
    # huge string; issue 15011.
    ("0.100000000000000000000h", 6 * MINUTE),
    # This value tests the first overflow check in leadingFraction.
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827 * NANOSECOND),
]

# src/time/time_test.go: parseDurationErrorTests.  Go's byte strings that are not
# valid UTF-8 are written the way Python's surrogateescape decoding hands them over.
GO_PARSE_DURATION_ERRORS = [
    # invalid
    "",
    "3",
    "-",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "\udc85\udc85",  # b"\x85\x85"
    "\udcffff",  # b"\xffff"
    "hello \udcffff world",  # b"hello \xffff world"
    "\ufffd",  # utf8.RuneError
    "\ufffd hello \ufffd world",
    # overflow
    "9223372036854775810ns",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854776us",
    "3000000h",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
]

# Beyond Go's tables: consequences of Go's algorithm (checked against Go 1.19).
MORE_DURATIONS = [
    ("2562047h47m16.854775807s", MAX_INT64),  # Duration(MaxInt64).String()
    ("-2562047h47m16.854775808s", MIN_INT64),
    ("0.999999999ns", 0),  # fractions of a unit are truncated ...
    ("1.9ns", 1),
    ("0.000000000001h", 3),  # ... 3.6 ns -> 3
    ("0.99999999999999999ns", 1),  # ... after float64 rounding, which can round up
    ("0.9999999999999999999ns", 1),
    ("1.9999999999999999999h", 2 * HOUR),
    ("1." + "9" * 30 + "h", 2 * HOUR),  # digits past int64 precision are ignored
    ("0." + "0" * 20 + "1h", 0),
    ("0." + "0" * 400 + "1h", 0),  # the float64 scale becomes +Inf
    ("5." + "0" * 5000 + "1s", 5 * SECOND),
    ("0" * 5000 + "1s", SECOND),  # leading zeros never overflow
    ("2562047.7880152155h", 9223372036854775800),
    ("9223372036854775807.9ns", MAX_INT64),
    ("-9223372036854775807.9ns", -MAX_INT64),
    ("-0.5ns", 0),
    ("+5.5m", 5 * MINUTE + 30 * SECOND),
    ("1h1h", 2 * HOUR),  # units may repeat and come in any order
    ("1ns1h", HOUR + 1),
    # Go sums groups in a uint64: 2**63 + 2**63 wraps to 0 and passes its checks.
    ("9223372036854775808ns9223372036854775808ns", 0),
    ("-9223372036854775808ns9223372036854775808ns", 0),
    ("9223372036854775808ns9223372036854775808ns5s", 5 * SECOND),
    ("4611686018427387904ns4611686018427387904ns", None),  # 2**63: error when positive
    ("-4611686018427387904ns4611686018427387904ns", MIN_INT64),
]

MORE_DURATION_ERRORS = [
    "00",  # only a lone "0" may omit its unit
    "0.",
    ".0",
    "+",
    "--1s",
    "+-1s",
    "-+1s",
    "1h-1m",
    "1h 1m",
    " 1s",
    "1s ",
    "1e3s",
    "0x10s",
    "1_000s",
    "1.1.1s",
    "1s.",
    "1ns0",
    "1H",
    "1S",
    "1sec",
    "1d",
    "1\u00b5",
    "1\u03bc",
    "1\u00b5S",
    "\u0661s",  # ARABIC-INDIC DIGIT ONE is not an ASCII digit
    "\uff11s",  # FULLWIDTH DIGIT ONE
    "9223372036854775807.99999999999999999999ns",
    "9223372036854775808.5ns",
    "2562048h",
    "-2562048h",
    "1" + "0" * 30 + "ns",
]

# src/strconv/atoi_test.go: parseUint64Tests (None where Go returns an error).
GO_PARSE_UINT64_TESTS: list[tuple[str, int | None]] = [
    ("", None),
    ("0", 0),
    ("1", 1),
    ("12345", 12345),
    ("012345", 12345),
    ("12345x", None),
    ("98765432100", 98765432100),
    ("18446744073709551615", MAX_UINT64),
    ("18446744073709551616", None),
    ("18446744073709551620", None),
    ("1_2_3_4_5", None),  # base=10 so no underscores allowed
    ("_12345", None),
    ("1__2345", None),
    ("12345_", None),
    ("-0", None),
    ("-1", None),
    ("+1", None),
]

# Beyond Go's table: what base 0 would accept but base 10 does not, and more.
MORE_UINT64_TESTS: list[tuple[str, int | None]] = [
    ("00", 0),
    ("0" * 5000 + "7", 7),
    ("0" * 5000, 0),
    ("007", 7),
    ("9223372036854775808", 1 << 63),
    ("99999999999999999999", None),
    ("184467440737095516150", None),
    ("1" + "0" * 5000, None),
    ("0x12345", None),
    ("0X12345", None),
    ("0b101", None),
    ("0o17", None),
    ("1_000", None),
    ("+0", None),
    (" 1", None),
    ("1 ", None),
    ("1\n", None),
    ("1.0", None),
    ("1e3", None),
    ("\u0661", None),  # ARABIC-INDIC DIGIT ONE
    ("\uff11", None),  # FULLWIDTH DIGIT ONE
    ("\u00b2", None),  # SUPERSCRIPT TWO
]


def _id(value: object) -> str:
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."


@pytest.mark.parametrize(("text", "want"), GO_PARSE_DURATION_TESTS, ids=_id)
def test_parse_duration_go_table(text: str, want: int) -> None:
    assert parse_duration(text) == want


@pytest.mark.parametrize("text", GO_PARSE_DURATION_ERRORS, ids=_id)
def test_parse_duration_go_error_table(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "want"), MORE_DURATIONS, ids=_id)
def test_parse_duration_more(text: str, want: int | None) -> None:
    if want is None:
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)
    else:
        assert parse_duration(text) == want


@pytest.mark.parametrize("text", MORE_DURATION_ERRORS, ids=_id)
def test_parse_duration_more_errors(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "want"), GO_PARSE_UINT64_TESTS + MORE_UINT64_TESTS, ids=_id)
def test_parse_uint64(text: str, want: int | None) -> None:
    if want is None:
        with pytest.raises(ValueError, match="ParseUint"):
            parse_uint64(text)
    else:
        assert parse_uint64(text) == want


def test_results_are_plain_ints() -> None:
    assert type(parse_duration("1.5s")) is int
    assert type(parse_uint64("42")) is int


@given(st.integers(min_value=MIN_INT64, max_value=MAX_INT64), st.sampled_from(["", "+"]))
def test_int64_nanoseconds_round_trip(n: int, plus: str) -> None:
    text = f"{n}ns" if n < 0 else f"{plus}{n}ns"
    assert parse_duration(text) == n


@given(
    st.one_of(
        st.integers(min_value=MAX_INT64 + 1, max_value=10**40),
        st.integers(min_value=-(10**40), max_value=MIN_INT64 - 1),
    )
)
def test_nanoseconds_outside_int64_are_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(f"{n}ns")


@given(
    sign=st.sampled_from(["", "+", "-"]),
    groups=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1 << 64),
            st.sampled_from(sorted(UNITS)),
            st.integers(min_value=0, max_value=3),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_whole_groups_sum_exactly(sign: str, groups: list[tuple[int, str, int]]) -> None:
    """Integer groups add up exactly; the result must fit int64, as Go checks it."""
    # Exactly 2**63 ns in one group is the only way Go's uint64 sum can wrap
    # around (covered by the tables above); keep it out of the model.
    assume(all(count * UNITS[unit] != 1 << 63 for count, unit, _ in groups))
    text = sign + "".join(f"{'0' * zeros}{count}{unit}" for count, unit, zeros in groups)
    total = sum(count * UNITS[unit] for count, unit, _ in groups)
    limit = 1 << 63 if sign == "-" else MAX_INT64
    if total > limit:
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)
    else:
        assert parse_duration(text) == (-total if sign == "-" else total)


@st.composite
def _exact_fractions(draw: st.DrawFn) -> tuple[str, int]:
    """A ``<whole>.<digits><unit>`` whose value is a whole number of nanoseconds."""
    unit = draw(st.sampled_from(sorted(UNITS)))
    size = UNITS[unit]
    places = draw(st.integers(min_value=0, max_value=len(str(size)) - 1))
    assume(size % 10**places == 0)
    whole = draw(st.integers(min_value=0, max_value=(1 << 63) // size + 2))
    fraction = draw(st.integers(min_value=0, max_value=10**places - 1))
    digits = f"{fraction:0{places}d}" if places else ""
    text = f"{whole}.{digits}{unit}" if places or draw(st.booleans()) else f"{whole}{unit}"
    return text, whole * size + fraction * (size // 10**places)


@given(sign=st.sampled_from(["", "+", "-"]), case=_exact_fractions())
def test_fractions_worth_whole_nanoseconds_are_exact(sign: str, case: tuple[str, int]) -> None:
    """Where float64 is exact (fraction digits <= the unit's trailing zeros), so is Go."""
    text, total = case
    limit = 1 << 63 if sign == "-" else MAX_INT64
    if total > limit:
        with pytest.raises(ValueError, match="duration"):
            parse_duration(sign + text)
    else:
        assert parse_duration(sign + text) == (-total if sign == "-" else total)


@given(st.integers(min_value=0, max_value=MAX_UINT64), st.integers(min_value=0, max_value=3))
def test_uint64_round_trip(n: int, zeros: int) -> None:
    assert parse_uint64("0" * zeros + str(n)) == n


@given(st.integers(min_value=MAX_UINT64 + 1, max_value=10**40))
def test_uint64_overflow_is_rejected(n: int) -> None:
    with pytest.raises(ValueError, match="ParseUint"):
        parse_uint64(str(n))


@given(st.text(min_size=1))
def test_uint64_accepts_ascii_digits_only(text: str) -> None:
    only_digits = all(char in "0123456789" for char in text)
    if only_digits and int(text) <= MAX_UINT64:
        assert parse_uint64(text) == int(text)
    else:
        with pytest.raises(ValueError, match="ParseUint"):
            parse_uint64(text)
