"""Checks of the arguments given to the package's Python API, all with one message format.

Every public entry point (the markers' options, :class:`~pytest_consul_events.FakeConsulAgent`,
:class:`~pytest_consul_events.cluster.FakeConsulCluster`, their methods, the clock and the
assertions) checks its arguments where they come in, with these helpers, before it changes any
state. A mistake is then reported where it is made, in one format::

    <parameter> must be <what is accepted>, not <value> (<type>)

for instance ``payload must be bytes, str or None, not {'version': '1.2'} (dict)``. A value of
the wrong type raises :class:`TypeError`; a value of the right type that is out of range (an
empty name, a negative wait, ``nan``) raises :class:`ValueError`. ``bool`` is never taken for
an ``int`` nor a truthy string for a ``bool``, and a string is never taken for a list of strings.

The checks are hand-written rather than done by pydantic or typeguard: the rules are the
package's own (finite numbers only, ``bool`` apart from ``int``, a ``str`` refused where a list
of them is expected, Consul's limits), the messages must name the parameter as the caller wrote
it (``services[1]['tags']``) in the format above, and this module must import nothing heavy,
since the pytest plugin may use it in every run.

The module imports nothing from the package, so every layer can use it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

SHOWN_CHARS = 60
"""How much of a value's ``repr`` a message shows before cutting it with ``...``."""

_SHOWN_NAMES = 20  # known names listed by an unknown-name error before "and N more"


def plain(value: object) -> str:
    """``repr(value)`` cut to :data:`SHOWN_CHARS` (with ``...``), never raising: a value whose
    ``repr`` fails (an ``int`` too long to print, a broken ``__repr__``) is described instead."""
    try:
        text = repr(value)
    except Exception:
        if isinstance(value, int):
            text = f"<an int of {value.bit_length()} bits>"
        else:
            text = f"<{type(value).__name__} object>"
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 3] + "..."
    return text


def shown(value: object) -> str:
    """:func:`plain` and the value's type: ``{'a': 1} (dict)``; never raises."""
    return f"{plain(value)} ({type(value).__name__})"


def must_be(name: str, accepted: str, value: object) -> str:
    """The message of every check: ``{name} must be {accepted}, not {shown(value)}``."""
    return f"{name} must be {accepted}, not {shown(value)}"


def quoted(names: Iterable[object]) -> str:
    """``'a', 'b', 'c'``: names as :func:`plain` shows them, in the order given."""
    return ", ".join(plain(name) for name in names)


# -- scalars ---------------------------------------------------------------------------------------


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def is_int(value: object) -> bool:
    """Whether ``value`` is an ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """Whether ``value`` is an ``int`` or a ``float``, and not a ``bool``."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is ``True`` or ``False``.

    Raises:
        TypeError: anything else, truthy strings and ``0``/``1`` included.
    """
    if not isinstance(value, bool):
        raise TypeError(must_be(name, "True or False", value))
    return value


def check_optional_bool(value: object, name: str) -> bool | None:
    """``value`` if it is ``True``, ``False`` or ``None`` (for options that may be left unset).

    Raises:
        TypeError: anything else.
    """
    if value is not None and not isinstance(value, bool):
        raise TypeError(must_be(name, "True, False or None", value))
    return value


def _int(
    value: object, name: str, minimum: int | None, maximum: int | None, optional: bool
) -> int | None:
    accepted = "an int" + _range_text(minimum, maximum) + (" or None" if optional else "")
    if value is None and optional:
        return None
    if not is_int(value):
        raise TypeError(must_be(name, accepted, value))
    assert isinstance(value, int)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(must_be(name, accepted, value))
    return int(value)


def check_int(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` if it is one (not a ``bool``, not a ``str``) within the bounds.

    Raises:
        TypeError: not an ``int``.
        ValueError: below ``minimum`` or above ``maximum``.
    """
    result = _int(value, name, minimum, maximum, optional=False)
    assert result is not None
    return result


def check_optional_int(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """Like :func:`check_int`, ``None`` accepted too."""
    return _int(value, name, minimum, maximum, optional=True)


def check_number(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    what: str = "a finite number",
) -> float:
    """``value`` as a ``float`` if it is a finite ``int`` or ``float`` within the bounds.

    ``what`` names the kind of number in the message (``a finite number of seconds``).

    Raises:
        TypeError: not an ``int`` or ``float`` (a ``bool`` or a ``str`` such as ``"5"``).
        ValueError: ``nan``, an infinity, an ``int`` too large for a ``float``, or out of bounds.
    """
    accepted = what + _range_text(minimum, maximum)
    if not is_number(value):
        raise TypeError(must_be(name, accepted, value))
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        raise ValueError(must_be(name, accepted, value)) from None
    if (
        not math.isfinite(number)
        or (minimum is not None and number < minimum)
        or (maximum is not None and number > maximum)
    ):
        raise ValueError(must_be(name, accepted, value))
    return number


def check_timeout(value: object, name: str = "timeout") -> float:
    """A time-out in seconds: a finite number >= 0.

    Raises:
        TypeError, ValueError: as :func:`check_number`.
    """
    return check_number(value, name, minimum=0, what="a finite number of seconds")


def check_str(value: object, name: str, *, empty: bool = True) -> str:
    """``value`` if it is a ``str`` (and, unless ``empty``, not ``""``).

    Raises:
        TypeError: not a ``str`` (``bytes`` included).
        ValueError: ``""`` where it is not accepted.
    """
    accepted = "a str" if empty else "a non-empty str"
    if not isinstance(value, str):
        raise TypeError(must_be(name, accepted, value))
    if not value and not empty:
        raise ValueError(must_be(name, accepted, value))
    return value


def check_optional_str(value: object, name: str, *, empty: bool = True) -> str | None:
    """Like :func:`check_str`, ``None`` accepted too.

    Raises:
        TypeError: neither a ``str`` nor ``None``.
        ValueError: ``""`` where it is not accepted.
    """
    accepted = ("a str" if empty else "a non-empty str") + " or None"
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(must_be(name, accepted, value))
    if not value and not empty:
        raise ValueError(must_be(name, accepted, value))
    return value


def check_choice(value: object, name: str, choices: Sequence[object]) -> Any:
    """``value`` if it is one of ``choices`` (compared by type and value, so ``True`` is not
    ``1``).

    Raises:
        TypeError: ``value`` is of no choice's type.
        ValueError: of such a type, but none of the choices.
    """
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return value
    accepted = " or ".join(
        part for part in (", ".join(repr(c) for c in choices[:-1]), repr(choices[-1])) if part
    )
    if any(isinstance(value, type(choice)) for choice in choices):
        raise ValueError(must_be(name, accepted, value))
    raise TypeError(must_be(name, accepted, value))


def check_payload(value: object, name: str = "payload") -> bytes | None:
    """An event payload: ``bytes`` as they are, a ``str`` as its UTF-8 bytes, or ``None``.

    An empty payload is returned as ``b""``; the caller decides whether that means none.

    Raises:
        TypeError: anything else (a ``dict``, a number, a ``bytearray``).
        ValueError: a ``str`` that UTF-8 cannot encode (a lone surrogate).
    """
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                must_be(name, "bytes, a str UTF-8 can encode, or None", value)
            ) from None
    raise TypeError(must_be(name, "bytes, str or None", value))


# -- collections -----------------------------------------------------------------------------------

_NOT_A_LIST = (str, bytes, bytearray, memoryview, Mapping)


def check_strings(
    value: object, name: str, *, sets: bool = False, empty_items: bool = True
) -> tuple[str, ...]:
    """``value`` as a tuple, if it is a list or tuple of ``str`` (with ``sets``, a set too).

    A single ``str`` is refused rather than taken as its characters.

    Raises:
        TypeError: not such a collection, or an item is not a ``str``.
        ValueError: an empty item where ``empty_items`` is false.
    """
    kinds = "a list, tuple or set" if sets else "a list or tuple"
    item_text = "str" if empty_items else "non-empty str"
    accepted = f"{kinds} of {item_text}"
    allowed: tuple[type, ...] = (Sequence, AbstractSet) if sets else (Sequence,)
    if isinstance(value, _NOT_A_LIST) or not isinstance(value, allowed):
        raise TypeError(must_be(name, accepted, value))
    assert isinstance(value, Collection)
    items = tuple(value)
    ordered = isinstance(value, Sequence)
    for position, item in enumerate(items):
        check_str(
            item, f"{name}[{position}]" if ordered else f"an item of {name}", empty=empty_items
        )
    return items


def check_str_mapping(value: object, name: str, *, empty_keys: bool = True) -> dict[str, str]:
    """``value`` as a ``dict``, if it is a mapping of ``str`` to ``str``.

    Raises:
        TypeError: not a mapping, a key or a value that is not a ``str``.
        ValueError: an empty key where ``empty_keys`` is false.
    """
    if not isinstance(value, Mapping):
        raise TypeError(must_be(name, "a dict of str to str", value))
    result: dict[str, str] = {}
    for key, item in value.items():
        check_str(key, f"{name} keys", empty=empty_keys)
        result[key] = check_str(item, f"{name}[{key!r}]")
    return result


def check_options(
    given: Iterable[object],
    accepted: Iterable[str],
    *,
    what: str = "option",
    where: str = "",
    note: str = "",
) -> None:
    """Refuse names (keyword options, mapping keys) outside ``accepted``, listing all of them.

    The message reads ``unknown agent option 'nodename'; accepted options: acl, buffer_size,
    ...`` (``what="agent option"``), with ``where`` after the names (`` in services[0]``) and
    ``note`` at the end.

    Raises:
        TypeError: some name is not accepted.
    """
    allowed = set(accepted)
    unknown = sorted({name for name in given if name not in allowed}, key=plain)
    if not unknown:
        return
    plural = "s" if len(unknown) > 1 else ""
    noun = what.rsplit(" ", 1)[-1]
    raise TypeError(
        f"unknown {what}{plural} {quoted(unknown)}{where}; accepted {noun}s: "
        f"{', '.join(sorted(allowed))}{note}"
    )


# -- names of agents -------------------------------------------------------------------------------


class UnknownAgentError(KeyError, ValueError):
    """A node name that is no agent of the cluster; both a ``KeyError`` (a cluster is a mapping
    of agents) and a ``ValueError`` (a bad argument). ``str()`` is the plain message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def known_names_text(known: Collection[str]) -> str:
    """``one of 'a', 'b', 'c'``, cut after 20 names."""
    names = list(known)
    listed = quoted(names[:_SHOWN_NAMES])
    if len(names) > _SHOWN_NAMES:
        listed += f" and {len(names) - _SHOWN_NAMES} more"
    return f"one of {listed}" if names else "the name of an agent (there are none)"


def check_agent_name(value: object, name: str, known: Collection[str]) -> str:
    """``value`` if it names one of the ``known`` agents.

    Raises:
        TypeError: not a ``str``.
        UnknownAgentError: a ``str`` that names no agent; the message lists the known ones.
    """
    accepted = f"the node name of an agent of the cluster, {known_names_text(known)}"
    if not isinstance(value, str):
        raise TypeError(must_be(name, accepted, value))
    if value not in known:
        raise UnknownAgentError(must_be(name, accepted, value))
    return value


__all__ = [
    "SHOWN_CHARS",
    "UnknownAgentError",
    "check_agent_name",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_optional_bool",
    "check_optional_int",
    "check_optional_str",
    "check_options",
    "check_payload",
    "check_str",
    "check_str_mapping",
    "check_strings",
    "check_timeout",
    "is_int",
    "is_number",
    "must_be",
    "plain",
    "quoted",
    "shown",
]
