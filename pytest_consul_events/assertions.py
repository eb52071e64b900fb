"""One-line assertions on the events an agent fired or holds, and a wait for one to arrive.

Every helper takes the agent first (a :class:`~pytest_consul_events.fake.FakeConsulAgent` or a
plain :class:`~pytest_consul_events.model.agent.Agent`) and describes the event it looks for
with the same keywords:

* ``name``: the event name, compared exactly;
* ``payload``: ``bytes``, ``str`` (compared as UTF-8), ``None`` (fired without a body; an empty
  payload counts as none, as in Consul) or a predicate called with the payload (``bytes`` or
  ``None``) that returns whether it is acceptable;
* ``json``: a value the payload must equal once decoded as JSON (``True`` and ``1`` differ), or
  a predicate called with the decoded value; not together with ``payload``;
* ``node``, ``service``, ``tag``: the event's filters, a string (``""`` or ``None`` for no
  filter) or a predicate called with the filter string.

A keyword left at :data:`ANY` (or ``unittest.mock.ANY``) accepts every value. Predicates may be
called more than once per event; one that raises counts as not matching.

A failing assertion raises a plain :class:`AssertionError` whose message sets what was expected
above what the agent has, closest candidates first and the differing fields marked::

    expected a fired event 'deploy' with payload=b'v2', service='web'
    agent node1 fired 2 events; closest first:
      deploy  ltime=2  payload=b'v1' (differs)  service='web'
      deploy-canary (differs)  ltime=3  payload=b'v2'  service='web'

The fired history is capped (``history_limit``, 10,000 by default): once older events were
dropped, an answer that depends on them fails instead of passing on a partial history, and says
how many were dropped: ``assert_not_fired`` and ``assert_fired(count=...)`` then always fail,
``assert_fired`` and ``assert_fired_in_order`` when they find nothing.

Misusing a helper (an unknown ``source``, ``payload`` and ``json`` together, a negative
``count`` or ``timeout``) raises :class:`TypeError` or :class:`ValueError` instead.

This module imports nothing from the package at run time but its argument checks
(``validation``), so the agent classes can import it.
"""

from __future__ import annotations

import dataclasses
import difflib
import json as _json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypeVar, overload

from pytest_consul_events.validation import check_timeout, must_be, plain

if TYPE_CHECKING:
    from pytest_consul_events.model.agent import Agent
    from pytest_consul_events.model.event import UserEvent


class _AnyValue:
    """The type of :data:`ANY`: a keyword left at it accepts every value."""

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _AnyValue()
"""The default of every matching keyword: any value of that field is accepted."""

Source: TypeAlias = Literal["fired", "events"]
"""Where a helper looks: ``"fired"`` (:attr:`Agent.fired`) or ``"events"`` (the buffer)."""

PayloadMatch: TypeAlias = bytes | str | Callable[[bytes | None], object] | _AnyValue | None
"""What ``payload=`` accepts."""

TextMatch: TypeAlias = str | Callable[[str], object] | _AnyValue | None
"""What ``node=``, ``service=`` and ``tag=`` accept."""

_SHOWN_CANDIDATES = 10  # candidates listed by assert_fired and wait_for_event
_SHOWN_IN_ORDER = 30  # events listed by assert_fired_in_order and assert_not_fired
_PAYLOAD_CHARS = 40  # bytes (or characters) of a payload shown before it is cut
_JSON_CHARS = 60  # characters of a JSON rendering shown before it is cut
_ERROR_CHARS = 80  # characters of the error a predicate raised shown before it is cut


def _is_any(value: object) -> bool:
    if value is ANY:
        return True
    mock = sys.modules.get("unittest.mock")  # not imported here: it costs more than this module
    return mock is not None and value is getattr(mock, "ANY", ANY)


# -- rendering -------------------------------------------------------------------------------------


def _cut(value: bytes | str) -> str:
    """``repr(value)``, cut after :data:`_PAYLOAD_CHARS` with the full length noted."""
    if len(value) <= _PAYLOAD_CHARS:
        return repr(value)
    unit = "bytes" if isinstance(value, bytes) else "chars"
    return f"{value[:_PAYLOAD_CHARS]!r}... ({len(value)} {unit})"


def _render_json(value: object) -> str:
    try:
        text = _json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        try:
            text = repr(value)
        except ValueError:  # an int too long to print
            text = plain(value)
    return text if len(text) <= _JSON_CHARS else text[:_JSON_CHARS] + "..."


def _callable_name(function: object) -> str:
    name = getattr(function, "__name__", None) or type(function).__name__
    return name if name.startswith("<") else f"<{name}>"


_NOT_JSON: Final = object()
_T = TypeVar("_T")


def _decode_json(payload: bytes | None) -> object:
    """The payload decoded as JSON, or ``_NOT_JSON``."""
    if payload is None:
        return _NOT_JSON
    try:
        return _json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _NOT_JSON


def _render_payload(payload: bytes) -> str:
    """``payload=...`` as it is, or ``json=...`` when it is a JSON object or array."""
    value = _decode_json(payload)
    if isinstance(value, dict | list):
        return f"json={_render_json(value)}"
    return f"payload={_cut(payload)}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# -- matching --------------------------------------------------------------------------------------


def _json_equal(actual: object, expected: object) -> bool:
    """JSON equality: ``True`` is not ``1``, a tuple compares as an array."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, dict):
        return (
            isinstance(expected, dict)
            and actual.keys() == expected.keys()
            and all(_json_equal(actual[key], expected[key]) for key in actual)
        )
    if isinstance(actual, list):
        return (
            isinstance(expected, list | tuple)
            and len(actual) == len(expected)
            and all(_json_equal(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict | list | tuple):
        return False
    return bool(actual == expected)


def _call(predicate: Callable[[_T], object], value: _T) -> tuple[bool, str]:
    """Whether ``predicate(value)`` holds, and why not when it raised."""
    try:
        return bool(predicate(value)), ""
    except Exception as exc:  # a predicate that cannot judge this event rejects it
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if len(detail) > _ERROR_CHARS:
            detail = detail[:_ERROR_CHARS] + "..."
        return False, f"{_callable_name(predicate)} raised {detail}"


@dataclasses.dataclass(frozen=True)
class _Field:
    """One field of a candidate as a failure message shows it."""

    text: str
    matched: bool = True
    note: str = ""

    def render(self) -> str:
        if self.matched:
            return self.text
        return f"{self.text} (differs: {self.note})" if self.note else f"{self.text} (differs)"


@dataclasses.dataclass(frozen=True, repr=False)
class EventMatcher:
    """The description of an event, with the keywords of the module docstring.

    ``EventMatcher("deploy", payload=b"v2")`` matches every event named ``deploy`` whose payload
    is ``b"v2"``, whatever its filters; :func:`assert_fired_in_order` takes these beside names.

    Raises:
        TypeError: a keyword has a value of the wrong type, or ``payload`` and ``json`` are
            both given.
        ValueError: ``name`` is empty (Consul refuses to fire such an event).
    """

    name: str | _AnyValue = ANY
    payload: PayloadMatch = ANY
    json: object = ANY
    node: TextMatch = ANY
    service: TextMatch = ANY
    tag: TextMatch = ANY

    def __post_init__(self) -> None:
        if not _is_any(self.name):
            accepted = "a non-empty str (Consul fires no unnamed events) or ANY"
            if not isinstance(self.name, str):
                raise TypeError(must_be("name", accepted, self.name))
            if not self.name:
                raise ValueError(must_be("name", accepted, self.name))
        payload = self.payload
        if not (_is_any(payload) or payload is None or callable(payload)) and not isinstance(
            payload, bytes | str
        ):
            raise TypeError(must_be("payload", "bytes, str, None, a predicate or ANY", payload))
        if isinstance(payload, str):
            try:
                payload.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    must_be(
                        "payload",
                        "bytes, a str UTF-8 can encode, None, a predicate or ANY",
                        payload,
                    )
                ) from None
        if not _is_any(payload) and not _is_any(self.json):
            raise TypeError("give payload= or json=, not both")
        for label in ("node", "service", "tag"):
            value = getattr(self, label)
            if not (_is_any(value) or value is None or callable(value)) and not isinstance(
                value, str
            ):
                raise TypeError(must_be(label, "a str, None, a predicate or ANY", value))

    # Each check answers (matched, note); the note says why a predicate or decoding failed.

    def _payload_check(self, payload: bytes | None) -> tuple[bool, str]:
        expected = self.payload
        if _is_any(expected):
            return True, ""
        if isinstance(expected, str):
            return payload == (expected.encode("utf-8") or None), ""
        if isinstance(expected, bytes) or expected is None:
            return payload == (expected or None), ""
        assert callable(expected)
        return _call(expected, payload)

    def _json_check(self, payload: bytes | None) -> tuple[bool, str]:
        if _is_any(self.json):
            return True, ""
        value = _decode_json(payload)
        if value is _NOT_JSON:
            return False, "no payload" if payload is None else "not JSON"
        if callable(self.json):
            return _call(self.json, value)
        return _json_equal(value, self.json), ""

    def _text_check(self, label: str, actual: str) -> tuple[bool, str]:
        expected: TextMatch = getattr(self, label)
        if _is_any(expected):
            return True, ""
        if isinstance(expected, str) or expected is None:
            return actual == (expected or ""), ""
        assert callable(expected)
        return _call(expected, actual)

    def _constrained(self) -> list[str]:
        """The constrained fields among payload, json, node, service and tag, in that order."""
        return [
            label
            for label in ("payload", "json", "node", "service", "tag")
            if not _is_any(getattr(self, label))
        ]

    def matches(self, event: UserEvent) -> bool:
        """Whether ``event`` has every field this matcher constrains."""
        return self._name_matches(event) and all(
            self._check(label, event)[0] for label in self._constrained()
        )

    def _name_matches(self, event: UserEvent) -> bool:
        return _is_any(self.name) or event.name == self.name

    def _check(self, label: str, event: UserEvent) -> tuple[bool, str]:
        if label == "payload":
            return self._payload_check(event.payload)
        if label == "json":
            return self._json_check(event.payload)
        return self._text_check(label, _filter_of(event, label))

    def describe(self) -> str:
        """``'deploy' with payload=b'v2', service='web'``; empty when nothing is constrained."""
        parts = [f"{label}={self._expected_text(label)}" for label in self._constrained()]
        head = "" if _is_any(self.name) else repr(self.name)
        tail = f"with {', '.join(parts)}" if parts else ""
        return " ".join(part for part in (head, tail) if part)

    def _expected_text(self, label: str) -> str:
        value = getattr(self, label)
        if callable(value):
            return _callable_name(value)
        if label == "json":
            return _render_json(value)
        if value is None:
            return "None" if label == "payload" else "''"
        assert isinstance(value, bytes | str)
        return _cut(value)

    def explain(self, event: UserEvent) -> tuple[tuple[bool, int, float], str]:
        """How close ``event`` comes, as a sort key (higher is closer), and its rendering.

        The key is (same name, number of constrained fields that match, name similarity).
        """
        same_name = self._name_matches(event)
        name_text = event.name if same_name else f"{event.name} (differs)"
        fields = [_Field(name_text), _Field(f"ltime={event.ltime}")]
        matched = 0
        constrained = self._constrained()
        for label in ("payload", "node", "service", "tag"):
            if label == "payload" and "json" in constrained:
                fields.append(self._json_field(event))
                matched += fields[-1].matched
            elif label in constrained:
                ok, note = self._check(label, event)
                fields.append(_Field(self._actual_text(label, event), ok, note))
                matched += ok
            elif label == "payload" and event.payload is not None:
                fields.append(_Field(_render_payload(event.payload)))
            elif label != "payload" and _filter_of(event, label):
                fields.append(_Field(f"{label}={_filter_of(event, label)!r}"))
        if _is_any(self.name):
            ratio = 1.0
        else:
            assert isinstance(self.name, str)
            ratio = difflib.SequenceMatcher(None, self.name, event.name).ratio()
        return (same_name, matched, ratio), "  ".join(field.render() for field in fields)

    def _json_field(self, event: UserEvent) -> _Field:
        ok, note = self._json_check(event.payload)
        value = _decode_json(event.payload)
        if value is _NOT_JSON:
            text = "payload=None" if event.payload is None else f"payload={_cut(event.payload)}"
            return _Field(text, False, note)
        return _Field(f"json={_render_json(value)}", ok, note)

    def _actual_text(self, label: str, event: UserEvent) -> str:
        if label == "payload":
            if event.payload is None:
                return "payload=None"
            if isinstance(self.payload, str):
                try:
                    return f"payload={_cut(event.payload.decode('utf-8'))}"
                except UnicodeDecodeError:
                    pass
            return f"payload={_cut(event.payload)}"
        return f"{label}={_filter_of(event, label)!r}"

    def __repr__(self) -> str:
        return f"EventMatcher({self.describe() or 'any event'})"


def _filter_of(event: UserEvent, label: str) -> str:
    if label == "node":
        return event.node_filter
    if label == "service":
        return event.service_filter
    return event.tag_filter


# -- shared plumbing -------------------------------------------------------------------------------


def _check_source(source: str) -> None:
    if not isinstance(source, str):
        raise TypeError(must_be("source", "'fired' or 'events'", source))
    if source not in ("fired", "events"):
        raise ValueError(must_be("source", "'fired' or 'events'", source))


def _check_agent(agent: object) -> None:
    from pytest_consul_events.model.agent import Agent  # imported here: see the module doc

    if not isinstance(agent, Agent):
        raise TypeError(must_be("agent", "an Agent or a FakeConsulAgent", agent))


def _read(agent: Agent, source: str) -> list[UserEvent]:
    return agent.fired if source == "fired" else agent.events


def _dropped(agent: Agent, source: str) -> int:
    """How many fired events ``agent`` dropped from its history (0 for its buffer)."""
    return agent.fired_dropped if source == "fired" else 0


def _truncation_note(agent: Agent, source: str) -> list[str]:
    """The line saying the answer cannot be trusted, when the fired history was cut."""
    dropped = _dropped(agent, source)
    if not dropped:
        return []
    earlier = _plural(dropped, "earlier fired event")
    return [
        f"history truncated: agent {agent.node_name} dropped {earlier} "
        f"(history_limit={agent.config.history_limit}), so this answer cannot be trusted"
    ]


def _adjective(source: str) -> str:
    return "fired" if source == "fired" else "buffered"


def _inventory(agent: Agent, source: str, count: int) -> str:
    """``agent node1 fired 3 events`` / ``agent node1 holds no events``."""
    verb = "fired" if source == "fired" else "holds"
    amount = "no events" if count == 0 else _plural(count, "event")
    return f"agent {agent.node_name} {verb} {amount}"


def _cap(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"  ... and {len(lines) - limit} more"]


def _candidates(matcher: EventMatcher, events: Sequence[UserEvent]) -> list[str]:
    """Every event rendered against ``matcher``, closest first (ties keep their order)."""
    explained = [matcher.explain(event) for event in events]
    ranked = sorted(explained, key=lambda item: item[0], reverse=True)
    return [f"  {text}" for _, text in ranked]


def _source_note(agent: Agent, matcher: EventMatcher, source: str, found: int) -> list[str]:
    """A hint when the other source has matching events and this one has none."""
    if found:
        return []
    other = "events" if source == "fired" else "fired"
    count = sum(1 for event in _read(agent, other) if matcher.matches(event))
    if not count:
        return []
    if source == "fired":
        return [
            f"note: agent {agent.node_name} holds {_plural(count, 'matching event')} it did not "
            "fire (received by gossip); source='events' checks held events"
        ]
    return [
        f"note: agent {agent.node_name} fired {_plural(count, 'matching event')} that its "
        "buffer does not hold (filtered out or evicted); source='fired' checks fired events"
    ]


def _missing_message(
    agent: Agent,
    matcher: EventMatcher,
    source: str,
    events: Sequence[UserEvent],
    *,
    count: int | None = None,
    found: int = 0,
    waited: float | None = None,
) -> str:
    description = matcher.describe()
    adjective = _adjective(source)
    if count is None:
        expected = f"expected a {adjective} event"
    else:
        expected = f"expected exactly {plain(count)} {adjective} event{'' if count == 1 else 's'}"
    if description:
        expected += f" {description}"
    if waited is not None:
        expected += f" within {waited:g}s"
    if count is not None:
        expected += f", found {found}"
    lines = [expected]
    inventory = _inventory(agent, source, len(events))
    if len(events) > 1:
        lines.append(f"{inventory}; closest first:")
    else:
        lines.append(f"{inventory}:" if events else inventory)
    lines.extend(_cap(_candidates(matcher, events), _SHOWN_CANDIDATES))
    lines.extend(_source_note(agent, matcher, source, found))
    lines.extend(_truncation_note(agent, source))
    return "\n".join(lines)


def _validate_count(count: int | None) -> None:
    if count is None:
        return
    if not isinstance(count, int) or isinstance(count, bool):
        raise TypeError(must_be("count", "an int >= 0 or None", count))
    if count < 0:
        raise ValueError(must_be("count", "an int >= 0 or None", count))


# -- the helpers -----------------------------------------------------------------------------------


@overload
def assert_fired(
    agent: Agent,
    name: str,
    *,
    payload: PayloadMatch = ...,
    json: object = ...,
    node: TextMatch = ...,
    service: TextMatch = ...,
    tag: TextMatch = ...,
    count: None = None,
    source: Source = "fired",
) -> UserEvent: ...


@overload
def assert_fired(
    agent: Agent,
    name: str,
    *,
    payload: PayloadMatch = ...,
    json: object = ...,
    node: TextMatch = ...,
    service: TextMatch = ...,
    tag: TextMatch = ...,
    count: int,
    source: Source = "fired",
) -> list[UserEvent]: ...


def assert_fired(
    agent: Agent,
    name: str,
    *,
    payload: PayloadMatch = ANY,
    json: object = ANY,
    node: TextMatch = ANY,
    service: TextMatch = ANY,
    tag: TextMatch = ANY,
    count: int | None = None,
    source: Source = "fired",
) -> UserEvent | list[UserEvent]:
    """Assert that ``agent`` fired an event named ``name`` with the given fields.

    Without ``count``, passes when at least one fired event matches and returns the first
    (oldest) of them. With ``count=N``, passes only when exactly N match and returns them,
    oldest first, and never once the fired history dropped events (any might have matched).
    ``source="events"`` looks at the events the agent holds (its buffer, where ``ltime`` is
    the time it received them) instead of those fired through it.

    Raises:
        AssertionError: no event (or not exactly ``count``) matches; the message lists what
            the agent has, closest first, with the differing fields marked.
        TypeError, ValueError: the arguments are invalid (see the module docstring).
    """
    __tracebackhide__ = True
    _check_agent(agent)
    matcher = EventMatcher(name, payload=payload, json=json, node=node, service=service, tag=tag)
    _check_source(source)
    _validate_count(count)
    events = _read(agent, source)
    matches = [event for event in events if matcher.matches(event)]
    if count is None:
        if matches:
            return matches[0]
    elif len(matches) == count and not _dropped(agent, source):
        return matches
    raise AssertionError(
        _missing_message(agent, matcher, source, events, count=count, found=len(matches))
    )


def assert_not_fired(
    agent: Agent,
    name: str | None = None,
    *,
    payload: PayloadMatch = ANY,
    json: object = ANY,
    node: TextMatch = ANY,
    service: TextMatch = ANY,
    tag: TextMatch = ANY,
    source: Source = "fired",
) -> None:
    """Assert that ``agent`` fired no event matching ``name`` and the given fields.

    ``name=None`` matches every name, so ``assert_not_fired(agent)`` asserts that nothing was
    fired at all. ``source="events"`` looks at the agent's buffer instead.

    Raises:
        AssertionError: some event matches; the message lists the matching ones. Also when
            the fired history dropped events, which might have matched.
        TypeError, ValueError: the arguments are invalid (see the module docstring).
    """
    __tracebackhide__ = True
    _check_agent(agent)
    matcher = EventMatcher(
        ANY if name is None else name,
        payload=payload,
        json=json,
        node=node,
        service=service,
        tag=tag,
    )
    _check_source(source)
    events = _read(agent, source)
    matches = [event for event in events if matcher.matches(event)]
    truncation = _truncation_note(agent, source)
    if not matches and not truncation:
        return
    description = matcher.describe()
    adjective = _adjective(source)
    if description:
        expected = f"expected no {adjective} event {description}"
    else:
        expected = f"expected no {adjective} events"
    inventory = _inventory(agent, source, len(events))
    if description:
        inventory += f", {len(matches)} matching"
    if matches:
        inventory += ":"
    lines = [expected, inventory]
    lines.extend(_cap([f"  {matcher.explain(event)[1]}" for event in matches], _SHOWN_IN_ORDER))
    lines.extend(truncation)
    raise AssertionError("\n".join(lines))


def _as_matcher(item: str | EventMatcher, position: int) -> EventMatcher:
    if isinstance(item, EventMatcher):
        return item
    accepted = "an event name (a non-empty str) or an EventMatcher"
    if isinstance(item, str):
        if not item:
            raise ValueError(must_be(f"names_or_matchers[{position}]", accepted, item))
        return EventMatcher(item)
    raise TypeError(must_be(f"names_or_matchers[{position}]", accepted, item))


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def assert_fired_in_order(
    agent: Agent,
    names_or_matchers: Iterable[str | EventMatcher],
    *,
    source: Source = "fired",
) -> list[UserEvent]:
    """Assert that events matching ``names_or_matchers`` were fired in this relative order.

    Other events may come before, between and after them (a subsequence, not a slice). Each
    item is an event name or an :class:`EventMatcher`. Returns the events that matched, one per
    item, taking the earliest match each time. An empty sequence always passes.
    ``source="events"`` checks the order of the agent's buffer instead.

    Raises:
        AssertionError: no such subsequence; the message says which item was not found after
            the ones that were, and lists the events in order with the matched ones numbered.
        TypeError, ValueError: an item is neither a name nor a matcher, a name is empty, or
            ``source`` is unknown.
    """
    __tracebackhide__ = True
    _check_agent(agent)
    if isinstance(
        names_or_matchers, str | bytes | bytearray | EventMatcher | Mapping | AbstractSet
    ) or not isinstance(names_or_matchers, Iterable):
        raise TypeError(
            must_be(
                "names_or_matchers",
                "a list or tuple of event names and EventMatchers",
                names_or_matchers,
            )
        )
    matchers = [_as_matcher(item, position) for position, item in enumerate(names_or_matchers)]
    _check_source(source)
    events = _read(agent, source)
    positions: list[int] = []
    start = 0
    for matcher in matchers:
        position = next((i for i in range(start, len(events)) if matcher.matches(events[i])), None)
        if position is None:
            raise AssertionError(_order_message(agent, source, matchers, events, positions))
        positions.append(position)
        start = position + 1
    return [events[i] for i in positions]


def _order_message(
    agent: Agent,
    source: str,
    matchers: Sequence[EventMatcher],
    events: Sequence[UserEvent],
    positions: Sequence[int],
) -> str:
    adjective = _adjective(source)
    missing = matchers[len(positions)]
    wanted = ", ".join(matcher.describe() or "any event" for matcher in matchers)
    lines = [f"expected {adjective} events in this order: {wanted}"]
    missing_text = missing.describe() or "event"
    if positions:
        found = [
            f"{matchers[k].describe() or 'an event'} (#{k + 1})" for k in range(len(positions))
        ]
        after = "it" if len(positions) == 1 else "them"
        lines.append(f"found {_join(found)}, but no {missing_text} after {after}")
        earlier = [i for i in range(positions[-1]) if missing.matches(events[i])]
        if earlier:
            ltimes = ", ".join(str(events[i].ltime) for i in earlier)
            lines.append(
                f"note: {missing_text} occurred before #{len(positions)}, "
                f"at ltime{'s' if len(earlier) > 1 else ''} {ltimes}"
            )
    else:
        lines.append(f"found no {missing_text}")
    numbers = {position: k for k, position in enumerate(positions)}
    listing: list[str] = []
    for i, event in enumerate(events):
        if i in numbers:
            text = matchers[numbers[i]].explain(event)[1]
            listing.append(f"  {'#' + str(numbers[i] + 1):<4}{text}")
        elif missing._name_matches(event):
            listing.append(f"  {'':<4}{missing.explain(event)[1]}")
        else:
            listing.append(f"  {'':<4}{EventMatcher().explain(event)[1]}")
    inventory = _inventory(agent, source, len(events))
    lines.append(f"{inventory}, in order:" if events else inventory)
    lines.extend(_cap(listing, _SHOWN_IN_ORDER))
    lines.extend(_truncation_note(agent, source))
    return "\n".join(lines)


def wait_for_event(
    agent: Agent,
    name: str,
    *,
    timeout: float = 5.0,
    source: Source = "events",
    payload: PayloadMatch = ANY,
    json: object = ANY,
    node: TextMatch = ANY,
    service: TextMatch = ANY,
    tag: TextMatch = ANY,
) -> UserEvent:
    """Wait until ``agent`` holds (or, with ``source="fired"``, fired) a matching event.

    Returns the first (oldest) matching event, at once if one is already there. Meant for code
    under test that fires from another thread or process: the wait sleeps on the agent's
    condition and wakes when an event is stored, never busy-polling. ``timeout`` is in real
    seconds, whatever clock the agent runs on; 0 checks once. Predicates run while the agent's
    lock is held, so they must not wait for other threads that use the agent.

    Raises:
        AssertionError: nothing matched within ``timeout``; the message is that of
            :func:`assert_fired`, saying how long it waited.
        TypeError, ValueError: the arguments are invalid, or ``timeout`` is negative or not
            finite.
    """
    __tracebackhide__ = True
    _check_agent(agent)
    matcher = EventMatcher(name, payload=payload, json=json, node=node, service=service, tag=tag)
    _check_source(source)
    check_timeout(timeout)
    deadline = time.monotonic() + timeout
    condition = agent._cond
    with condition:
        while True:
            events = _read(agent, source)
            for event in events:
                if matcher.matches(event):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            condition.wait(min(remaining, threading.TIMEOUT_MAX))
    raise AssertionError(_missing_message(agent, matcher, source, events, waited=timeout))


__all__ = [
    "ANY",
    "EventMatcher",
    "PayloadMatch",
    "Source",
    "TextMatch",
    "assert_fired",
    "assert_fired_in_order",
    "assert_not_fired",
    "wait_for_event",
]
