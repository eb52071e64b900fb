"""Go's ``time.ParseDuration`` and ``strconv.ParseUint(s, 10, 64)``, value for value.

Consul's blocking-query handler (``parseWait``) reads ``?wait=`` with
``time.ParseDuration`` and ``?index=`` with ``strconv.ParseUint(s, 10, 64)``,
and turns any error into "Invalid wait time" / "Invalid index".  What matters
for a faithful fake is therefore which strings Go accepts and the exact value it
returns, not the wording of Go's errors.  The two functions here reproduce
both, including Go's uint64 overflow rules and its float64 arithmetic for
fractional units.

Go works on the bytes of a string, these functions on the characters of a
``str``.  The two agree: every byte Go compares against (ASCII digits, ``.``,
``+``, ``-`` and the unit names) is ASCII or, for ``µs``/``μs``, a whole
UTF-8 sequence, and no byte of a multi-byte UTF-8 sequence is ASCII.  A caller
holding raw bytes that may not be valid UTF-8 should decode them with
``errors="surrogateescape"``; such characters can only ever be rejected, as
Go rejects the bytes.
"""

from __future__ import annotations

import math

__all__ = ["parse_duration", "parse_uint64"]

_DIGITS = frozenset("0123456789")  # ASCII only: str.isdigit() would admit other scripts.

_TWO_TO_63 = 1 << 63
_UINT64_MAX = (1 << 64) - 1
_MAX_INT64 = _TWO_TO_63 - 1
# Go stops accumulating a fraction once another digit could overflow int64.
_FRACTION_LIMIT = _MAX_INT64 // 10

_NANOSECONDS_PER_UNIT: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # MICRO SIGN
    "\u03bcs": 1_000,  # GREEK SMALL LETTER MU
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _digits_end(text: str, start: int) -> int:
    """Index just past the run of ASCII digits beginning at ``start``."""
    end = start
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return end


def _unit_end(text: str, start: int) -> int:
    """Index of the next ASCII digit or ``.`` at or after ``start`` (or the end)."""
    end = start
    while end < len(text) and text[end] != "." and text[end] not in _DIGITS:
        end += 1
    return end


def _whole_number(digits: str) -> int | None:
    """Value of the digits before a unit's decimal point, ``None`` past 2**63.

    Go accumulates them into a uint64 and fails as soon as the running value
    exceeds 2**63; as the running value never decreases, that is the same as the
    final value exceeding 2**63.  Leading zeros are stripped first so that a long
    run of them (which Go accepts) never reaches Python's int-from-str limit.
    """
    significant = digits.lstrip("0")
    if len(significant) > len(str(_TWO_TO_63)):
        return None
    value = int(significant) if significant else 0
    return None if value > _TWO_TO_63 else value


def _fraction(digits: str) -> tuple[int, float]:
    """The digits after a decimal point as Go keeps them: ``(numerator, scale)``.

    The fraction's value is ``numerator / scale``.  Digits are taken while the
    numerator stays representable; every later digit is consumed but ignored.
    ``scale`` is a float multiplied by ten per digit taken, exactly as Go does,
    so after very many leading zeros it rounds and finally becomes infinite.
    """
    numerator = 0
    scale = 1.0
    for char in digits:
        if numerator > _FRACTION_LIMIT:
            break
        candidate = numerator * 10 + (ord(char) - ord("0"))
        if candidate > _TWO_TO_63:
            break
        numerator = candidate
        scale *= 10.0
        if math.isinf(scale):
            # From here on the fraction is worth exactly 0 ns whatever digits
            # follow (anything finite times unit/inf is 0.0), so stop looking.
            return 0, scale
    return numerator, scale


def parse_duration(s: str) -> int:
    """Parse ``s`` exactly as Go's ``time.ParseDuration`` and return nanoseconds.

    Accepts an optional ``+``/``-`` followed by one or more ``<number><unit>``
    groups, where the number is ASCII digits with an optional ``.`` and
    fraction (at least one digit on either side) and the unit is one of
    ``ns``, ``us``, ``µs`` (U+00B5), ``μs`` (U+03BC), ``ms``, ``s``, ``m``,
    ``h``.  The bare strings ``0``, ``+0`` and ``-0`` are zero.

    The result is the value Go returns, bit for bit: fractions are converted
    through float64 and truncated toward zero per group, the groups are summed
    in a uint64 (wrapping as Go's does), and the result lies in
    ``[-2**63, 2**63 - 1]``, ``-9223372036854775808ns`` included.

    Raises:
        ValueError: whenever Go returns an error -- empty input, a group with
            no digits or no unit, an unknown unit, or a magnitude past 2**63 ns
            (past 2**63 - 1 ns for a positive duration).
    """
    rest = s
    negative = False
    if rest[:1] in ("+", "-"):
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f"time: invalid duration {s!r}")

    total = 0  # a uint64 in Go, kept in [0, 2**64) here
    pos = 0
    while pos < len(rest):
        if rest[pos] != "." and rest[pos] not in _DIGITS:
            raise ValueError(f"time: invalid duration {s!r}")

        whole_end = _digits_end(rest, pos)
        whole = _whole_number(rest[pos:whole_end])
        if whole is None:
            raise ValueError(f"time: invalid duration {s!r}")
        has_whole_digits = whole_end > pos
        pos = whole_end

        numerator, scale = 0, 1.0
        has_fraction_digits = False
        if pos < len(rest) and rest[pos] == ".":
            fraction_end = _digits_end(rest, pos + 1)
            numerator, scale = _fraction(rest[pos + 1 : fraction_end])
            has_fraction_digits = fraction_end > pos + 1
            pos = fraction_end
        if not has_whole_digits and not has_fraction_digits:
            raise ValueError(f"time: invalid duration {s!r}")

        unit_end = _unit_end(rest, pos)
        if unit_end == pos:
            raise ValueError(f"time: missing unit in duration {s!r}")
        unit_name = rest[pos:unit_end]
        pos = unit_end
        unit = _NANOSECONDS_PER_UNIT.get(unit_name)
        if unit is None:
            raise ValueError(f"time: unknown unit {unit_name!r} in duration {s!r}")

        if whole > _TWO_TO_63 // unit:
            raise ValueError(f"time: invalid duration {s!r}")
        group = whole * unit
        if numerator > 0:
            # Same float64 operations, in the same order, as Go; int() truncates
            # toward zero like Go's float64 -> uint64 conversion.
            group += int(float(numerator) * (float(unit) / scale))
            if group > _TWO_TO_63:
                raise ValueError(f"time: invalid duration {s!r}")
        total = (total + group) & _UINT64_MAX
        if total > _TWO_TO_63:
            raise ValueError(f"time: invalid duration {s!r}")

    if negative:
        # Go negates the int64 reinterpretation; 2**63 becomes -2**63 either way.
        return -total
    if total > _MAX_INT64:
        raise ValueError(f"time: invalid duration {s!r}")
    return total


def parse_uint64(s: str) -> int:
    """Parse ``s`` exactly as Go's ``strconv.ParseUint(s, 10, 64)``.

    Accepts one or more ASCII digits and nothing else: no sign, no whitespace,
    no underscores (Go allows those only for base 0), no base prefix.  Leading
    zeros are fine.  Returns the value, an int in ``[0, 2**64 - 1]``.

    Raises:
        ValueError: whenever Go returns an error -- ``s`` is empty, holds any
            character other than ``0``-``9``, or names a value above
            18446744073709551615.
    """
    if not s or any(char not in _DIGITS for char in s):
        raise ValueError(f"strconv.ParseUint: parsing {s!r}: invalid syntax")
    significant = s.lstrip("0")
    if not significant:
        return 0
    if len(significant) > len(str(_UINT64_MAX)) or int(significant) > _UINT64_MAX:
        raise ValueError(f"strconv.ParseUint: parsing {s!r}: value out of range")
    return int(significant)
