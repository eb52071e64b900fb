"""Hypothesis strategies for testing code that fires or watches Consul user events.

Every strategy generates values a real Consul agent (and so the fake) accepts, unless its name
says otherwise (:func:`invalid_go_regexps`)::

    from hypothesis import given
    from pytest_consul_events import strategies as ces

    @given(name=ces.event_names(), payload=ces.payloads())
    def test_fire_round_trips(consul_agent, name, payload):
        consul_agent.fire(name, payload)

With the package installed, ``st.from_type(UserEvent)`` and ``st.from_type(Service)`` work
too: Hypothesis registers :func:`user_events` and :func:`services` through the package's
``hypothesis`` entry point (:mod:`pytest_consul_events._hypothesis_hook`).

This module needs Hypothesis, which the package installs only with its ``hypothesis`` extra
(``pip install "pytest-consul-events[hypothesis]"``); without it, importing this module raises
``ImportError`` saying so. The pytest plugin never imports it; import it from your tests.
"""

from __future__ import annotations

import functools
import random
import string
from typing import TYPE_CHECKING, Any, TypedDict

# Defined before Hypothesis is imported: an install whose entry point metadata predates the
# hook module names ``strategies:_hypothesis_setup_hook``, and Hypothesis may load it while
# this module is still half-initialised (when this module is what imports Hypothesis first).
from pytest_consul_events._hypothesis_hook import _hypothesis_setup_hook  # noqa: F401

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.errors import InvalidArgument
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "pytest_consul_events.strategies needs Hypothesis, which is not installed: "
        'install the package with its hypothesis extra, pip install "pytest-consul-events'
        '[hypothesis]" (or pip install hypothesis)',
        name=exc.name,
    ) from exc

from pytest_consul_events.errors import EventTooLargeError, InvalidFilterError
from pytest_consul_events.model.event import REMOTE_EXEC_NAME, UserEvent, new_event_id
from pytest_consul_events.model.services import Service
from pytest_consul_events.model.sizelimit import USER_EVENT_SIZE_LIMIT, check_size

if TYPE_CHECKING:
    from pytest_consul_events.gocompat.regexp import GoRegexp

# Hypothesis imports this module whenever it is imported itself (through the entry point), so
# the Go regexp port, which is slow to import, is loaded only when a strategy first needs it.

__all__ = [
    "FRESH_AGENT_LTIME",
    "MAX_FIREABLE_NAME_BYTES",
    "AgentIdentity",
    "DeliverySchedule",
    "agent_identities",
    "delivery_schedules",
    "event_names",
    "go_regexps",
    "invalid_go_regexps",
    "max_payload_size",
    "payloads",
    "services",
    "user_events",
]

FRESH_AGENT_LTIME = 2
"""The Lamport clock of a fresh agent when its first user event is fired."""

MAX_FIREABLE_NAME_BYTES = 209
"""The longest event name (UTF-8 bytes) a fresh agent can fire, with no payload and no filters.

A 210-byte name fails serf's size limit after encoding whatever the payload (consul-events.md
section 4.3); the bound shrinks by a byte or more once the agent's clock passes 127.
"""


class AgentIdentity(TypedDict):
    """Options for ``FakeConsulAgent(**identity)`` or ``@pytest.mark.consul_agent(**identity)``."""

    node_name: str
    datacenter: str
    services: list[Service]


class DeliverySchedule(TypedDict):
    """Options for ``FakeConsulCluster(**schedule)`` or ``@pytest.mark.consul_cluster``."""

    unordered: bool
    delay: tuple[float, float]
    loss: float
    duplicate: float
    seed: int


# -- event names -------------------------------------------------------------------------------


@functools.cache
def _go_printable() -> GoRegexp:
    # Go's unicode.IsPrint, with Go's own Unicode 15.0 tables: letters, marks, numbers,
    # punctuation, symbols and the ASCII space.
    from pytest_consul_events.gocompat import regexp

    return regexp.compile(r"\A[\pL\pM\pN\pP\pS ]\z")


def _printable_char(char: str) -> bool:
    """Whether both Go (go-cleanhttp's path check) and Python (the fake's) call it printable."""
    return char.isprintable() and _go_printable().search(char)


def _clean_path_name(name: str) -> bool:
    """Whether ``/v1/event/fire/<name>`` is a clean path that Go's ServeMux does not redirect.

    No empty segment (``//`` or a leading ``/``) and no ``.`` or ``..`` segment; a single
    trailing ``/`` is kept by Go's cleaning and is allowed.
    """
    segments = name.split("/")
    if segments[-1] == "":
        segments.pop()
    return bool(segments) and all(s not in ("", ".", "..") for s in segments)


def _fit_utf8(text: str, max_bytes: int) -> str:
    """Drop characters from the end of ``text`` until its UTF-8 form fits in ``max_bytes``."""
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    return text


def event_names(
    alphabet: str | st.SearchStrategy[str] | None = None,
    *,
    max_size: int = MAX_FIREABLE_NAME_BYTES,
    include_rexec: bool = False,
) -> st.SearchStrategy[str]:
    """Event names a Consul agent accepts over HTTP: ``PUT /v1/event/fire/<name>`` answers 200.

    Names are non-empty, at most ``max_size`` UTF-8 bytes, and made of characters both Go and
    Python call printable (letters, marks, numbers, punctuation, symbols, the ASCII space); they
    may contain ``/``, but never in a way Go's router would redirect (no leading ``/``, no
    ``//``, no ``.`` or ``..`` segment). Send them percent-encoded, with or without ``/`` kept:
    ``urllib.parse.quote(name, safe="/")`` or ``quote(name, safe="")``.

    ``alphabet`` (a string of characters, or a strategy drawing one character at a time)
    narrows the characters; those Go or Python would not call printable are dropped from it.
    The default ``max_size`` (209 bytes, :data:`MAX_FIREABLE_NAME_BYTES`) leaves out names
    that cannot be fired at all by a fresh agent; a larger one lets them in. ``_rexec``
    (``consul exec``'s event, never listed) is left out unless ``include_rexec``.

    Raises:
        InvalidArgument: ``max_size`` is below 1, or ``alphabet`` has no printable character.
    """
    if max_size < 1:
        raise InvalidArgument(f"max_size must be at least 1, not {max_size}")
    chars: st.SearchStrategy[str]
    if alphabet is None:
        # Printable by Python's tables here; each name is then checked against Go's as well (a
        # filter on every character would slow generation down for nothing).
        chars = st.characters(categories=("L", "M", "N", "P", "S"), include_characters=" ")
    elif isinstance(alphabet, str):
        kept = sorted({c for c in alphabet if _printable_char(c)})
        if not kept:
            raise InvalidArgument(f"alphabet {alphabet!r} has no printable character")
        chars = st.sampled_from(kept)
    else:
        chars = alphabet.filter(_printable_char)

    def fit(text: str) -> str:
        return _fit_utf8(text, max_size)

    anywhere = st.text(chars, min_size=1, max_size=max_size).map(fit)
    # Names near the byte limit, where the size limit bites hardest.
    near_limit = st.text(chars, min_size=max(1, max_size - 8), max_size=max_size).map(fit)
    names = st.one_of(anywhere, anywhere, near_limit)
    return names.filter(
        lambda name: (
            _clean_path_name(name)
            and (include_rexec or name != REMOTE_EXEC_NAME)
            and all(map(_printable_char, name))
        )
    )


# -- payloads ----------------------------------------------------------------------------------


def _fits(name: str, size: int, node: str, service: str, tag: str, ltime: int) -> bool:
    try:
        check_size(name, bytes(size) or None, node, service, tag, ltime)
    except EventTooLargeError:
        return False
    return True


def max_payload_size(
    name: str = "deploy",
    *,
    node: str = "",
    service: str = "",
    tag: str = "",
    ltime: int = FRESH_AGENT_LTIME,
) -> int | None:
    """The largest payload (bytes) serf accepts for this name, these filters and this clock.

    ``ltime`` is the firing agent's event clock at the time of the fire (2 for the first
    event of a fresh agent, one more after each accepted fire). ``0`` means only an empty
    payload fits; ``None`` means the event cannot be fired at all.
    """
    if not _fits(name, 0, node, service, tag, ltime):
        return None
    low, high = 0, USER_EVENT_SIZE_LIMIT  # every accepted size is below the limit
    while low < high:  # accepted sizes form a range 0..max: the encoding grows with the size
        middle = (low + high + 1) // 2
        if _fits(name, middle, node, service, tag, ltime):
            low = middle
        else:
            high = middle - 1
    return low


def payloads(
    name: str = "deploy",
    *,
    node: str = "",
    service: str = "",
    tag: str = "",
    ltime: int = FRESH_AGENT_LTIME,
) -> st.SearchStrategy[bytes | None]:
    """Payloads that fit serf's 512-byte limit exactly, for this name, these filters and clock.

    Generates ``None`` (no body: the event's ``Payload`` is ``null``) or 1 to ``max`` arbitrary
    bytes, where ``max`` is :func:`max_payload_size` of the same arguments; ``max`` itself
    (and the sizes just below it) is drawn often, since it is where a fire is most likely to be
    refused. Each one fires successfully from an agent whose clock is ``ltime``, with these
    filters; one byte more than ``max`` does not.

    Raises:
        InvalidArgument: the name is empty, the filters are invalid (a tag filter without a
            service filter, a pattern Go rejects), or the event cannot be fired at all.
    """
    if not name:
        raise InvalidArgument("an event name cannot be empty")
    if ltime < 0:
        raise InvalidArgument(f"ltime must not be negative, not {ltime}")
    from pytest_consul_events.model.filters import compile_filters

    try:
        compile_filters(node, service, tag)
    except InvalidFilterError as exc:
        raise InvalidArgument(f"these filters cannot be fired: {exc.message}") from None
    largest = max_payload_size(name, node=node, service=service, tag=tag, ltime=ltime)
    if largest is None:
        raise InvalidArgument(
            f"an event named {name!r} with these filters cannot be fired at LTime {ltime}"
        )
    if largest == 0:
        return st.none()
    options: list[st.SearchStrategy[bytes | None]] = [
        st.none(),
        st.binary(min_size=1, max_size=largest),
        st.binary(min_size=largest, max_size=largest),
        st.binary(min_size=max(1, largest - 3), max_size=largest),
    ]
    if largest >= 256:  # msgpack's bin8 / bin16 header boundary
        options.append(st.binary(min_size=255, max_size=256))
    return st.one_of(options)


# -- Go regular expressions --------------------------------------------------------------------

_LITERALS = string.ascii_letters + string.digits + "-_ ,:=@/~%"
_ESCAPED = [f"\\{c}" for c in ".+*?()|[]{}^$\\-/"]
_CLASSES = [
    ".", r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", r"\pL", r"\PN", r"\p{Greek}", r"\p{Lu}",
    "[a-z]", "[^0-9]", "[abc]", "[a-z0-9-]", "[[:alpha:]]", "[[:^digit:]_]", r"[\d.]", "[-.]",
    r"\x41", r"\x{263a}", r"\t", r"\Q.*\E",
]  # fmt: skip
_ANCHORS = ["^", "$", r"\A", r"\z", r"\b", r"\B", "(?i)", "(?s)", "(?m)", "(?U)"]
_QUANTIFIERS = ["*", "+", "?", "*?", "+?", "??", "{2}", "{0,3}", "{1,}", "{3,5}?"]
_GROUPS = ["(", "(?:", "(?i:", "(?P<name>", "(?<word>", "(?s-i:"]


def _go_accepts(pattern: str) -> bool:
    from pytest_consul_events.gocompat import regexp

    try:
        regexp.check_syntax(pattern)
    except regexp.GoRegexpError:
        return False
    return True


def _atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(st.sampled_from(_LITERALS), min_size=1, max_size=6),
        st.sampled_from(_ESCAPED),
        st.sampled_from(_CLASSES),
    )


def _regexp_trees(max_leaves: int) -> st.SearchStrategy[str]:
    quantified = st.tuples(_atoms(), st.sampled_from(_QUANTIFIERS)).map(
        lambda pair: f"(?:{pair[0]}){pair[1]}" if len(pair[0]) > 1 else "".join(pair)
    )
    leaves = st.one_of(_atoms(), _atoms(), quantified, st.sampled_from(_ANCHORS))

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(children, min_size=2, max_size=4).map("".join),
            st.lists(children, min_size=2, max_size=3).map("|".join),
            st.tuples(st.sampled_from(_GROUPS), children).map(lambda p: f"{p[0]}{p[1]})"),
            st.tuples(children, st.sampled_from(_QUANTIFIERS)).map(lambda p: f"(?:{p[0]}){p[1]}"),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def go_regexps(*, max_leaves: int = 8) -> st.SearchStrategy[str]:
    """Non-empty patterns Go's ``regexp.Compile`` accepts, hence valid event filters.

    Built from a small grammar: literals and escaped metacharacters, character classes
    (``.``, ``[a-z]``, ``[^0-9]``, ``\\d``, ``\\pL``, ``[[:alpha:]]``, ``\\Q...\\E``), anchors
    and flags (``^``, ``$``, ``\\A``, ``\\z``, ``\\b``, ``(?i)``), groups (capturing, named,
    non-capturing, with flags), alternation and repetition (``*``, ``+?``, ``{0,3}``...).
    Every pattern passes :func:`pytest_consul_events.gocompat.regexp.check_syntax`.
    ``max_leaves`` bounds the number of grammar leaves in a pattern.
    """
    if max_leaves < 1:
        raise InvalidArgument(f"max_leaves must be at least 1, not {max_leaves}")
    return _regexp_trees(max_leaves).filter(_go_accepts)


_BAD_STARTS = ["*", "+", "?", "{2}", "*?", "{1,3}"]
_BAD_MIDDLES = [
    "(?=x)", "(?!x)", "(?<=x)", "(?<!x)", "(?>x)", r"\1", r"\9", r"\k<n>", r"\C", r"\Z",
    r"\e", r"\g1", "[z-a]", "[[:foo:]]", r"\p{Klingon}", r"\pX", r"\x{110000}", "(?z)",
    "(?P<a-b>x)", "(?P<>x)", "(?P=name)", "(?#comment)", "x**", "x+*", "x*+", "x??*",
    "x{1001}", "x{3,2}", "(?i", "[a", "[]",
]  # fmt: skip


def _go_rejects(pattern: str) -> bool:
    return not _go_accepts(pattern)


def invalid_go_regexps() -> st.SearchStrategy[str]:
    """Patterns Go's ``regexp.Compile`` rejects, so an event with them as a filter is refused.

    Made by putting a fragment Go refuses into otherwise valid patterns: unbalanced ``(`` and
    ``)``, an unclosed ``[``, a repetition with nothing to repeat (``*`` at the start),
    nested repetition (``x**``), look-arounds (``(?=x)``, ``(?<!x)``), atomic groups,
    backreferences (``\\1``), escapes Go lacks (``\\Z``, ``\\C``), bad ranges, unknown classes,
    repeat counts above 1000, a trailing backslash. Every pattern makes
    :func:`pytest_consul_events.gocompat.regexp.check_syntax` raise ``GoRegexpError``.
    """
    valid = go_regexps(max_leaves=3)
    context = st.one_of(st.just(""), valid)
    patterns = st.one_of(
        st.tuples(st.sampled_from(_BAD_STARTS), context).map("".join),
        st.tuples(context, st.sampled_from(_BAD_MIDDLES), context).map("".join),
        st.tuples(st.just("("), context).map("".join),
        st.tuples(context, st.just(")")).map("".join),
        st.tuples(context, st.just("\\")).map("".join),
        st.tuples(st.just("["), st.text(st.sampled_from(_LITERALS), max_size=4)).map("".join),
    )
    return patterns.filter(_go_rejects)


# -- services and agents -----------------------------------------------------------------------

_LOWER = string.ascii_lowercase
_LOWER_DIGITS = string.ascii_lowercase + string.digits


def _words(first: str, rest: str, max_rest: int, strip: str = "") -> st.SearchStrategy[str]:
    """A character of ``first`` then up to ``max_rest`` of ``rest``, ``strip`` taken off the end.

    Cheaper to generate and to shrink than the equivalent ``st.from_regex``.
    """
    return st.tuples(st.sampled_from(first), st.text(st.sampled_from(rest), max_size=max_rest)).map(
        lambda pair: (pair[0] + pair[1]).rstrip(strip)
    )


def _dns_labels() -> st.SearchStrategy[str]:
    return _words(_LOWER, _LOWER_DIGITS + "-", 14, strip="-")


def services() -> st.SearchStrategy[Service]:
    """Local services as ``/v1/agent/service/register`` accepts them, as :class:`Service`.

    Names are DNS labels (``web``, ``db-2``); the ID is the name (the default) or the name with
    a suffix (``web-a1``); up to four distinct tags (``v1``, ``primary``...); a port; an
    address that is empty, an IPv4 address or a host name (never ``0.0.0.0``); up to three
    ``Meta`` entries with keys Consul allows. Each can be passed to the ``services`` option
    of the ``consul_agent`` marker or registered with ``agent.add_service(service)``.
    """
    tags = st.lists(_words(_LOWER_DIGITS, _LOWER_DIGITS + ".=_-", 10), max_size=4, unique=True)
    addresses = st.one_of(
        st.just(""),
        st.ip_addresses(v=4).map(str).filter(lambda address: address != "0.0.0.0"),
        _dns_labels().map(lambda label: f"{label}.example.com"),
    )
    meta = st.dictionaries(
        _words(string.ascii_letters, string.ascii_letters + string.digits + "_-", 15).filter(
            lambda key: not key.lower().startswith("consul-")
        ),
        st.text(st.characters(codec="ascii", categories=("L", "N", "P")), max_size=16),
        max_size=3,
    )

    @st.composite
    def build(draw: st.DrawFn) -> Service:
        name = draw(_dns_labels())
        suffix = draw(st.one_of(st.just(""), st.text(st.sampled_from(_LOWER_DIGITS), max_size=4)))
        return Service(
            name=name,
            id=f"{name}-{suffix}" if suffix else "",
            tags=tuple(draw(tags)),
            port=draw(st.integers(min_value=0, max_value=65535)),
            address=draw(addresses),
            meta=draw(meta),
            enable_tag_override=draw(st.booleans()),
        )

    return build()


def agent_identities(*, max_services: int = 4) -> st.SearchStrategy[AgentIdentity]:
    """Identities of agents: ``{"node_name", "datacenter", "services"}``.

    The node name is a DNS label (``node1``, ``web-3``), the datacenter a lowercase Consul
    datacenter name (``dc1``, ``eu_west-2``), and the services (from :func:`services`, at most
    ``max_services``) have distinct IDs. Use as ``FakeConsulAgent(**identity)``,
    ``agent.configure(**identity)`` or ``@pytest.mark.consul_agent(**identity)``.
    """

    @st.composite
    def build(draw: st.DrawFn) -> AgentIdentity:
        return AgentIdentity(
            node_name=draw(_dns_labels()),
            datacenter=draw(_words(_LOWER_DIGITS, _LOWER_DIGITS + "_-", 11)),
            services=draw(
                st.lists(services(), max_size=max_services, unique_by=lambda service: service.id)
            ),
        )

    return build()


# -- events ------------------------------------------------------------------------------------

_SIMPLE_FILTERS = st.tuples(
    st.sampled_from(["", "^"]),
    st.text(st.sampled_from(_LOWER_DIGITS + "-"), min_size=1, max_size=10),
    st.sampled_from(["", "$"]),
).map("".join)


@st.composite
def _user_events(draw: st.DrawFn) -> UserEvent:
    name = draw(event_names(max_size=64))
    node = draw(st.one_of(st.just(""), _SIMPLE_FILTERS))
    service = draw(st.one_of(st.just(""), _SIMPLE_FILTERS))
    tag = draw(st.one_of(st.just(""), _SIMPLE_FILTERS)) if service else ""
    ltime = draw(
        st.one_of(
            st.integers(min_value=FRESH_AGENT_LTIME, max_value=1000),
            st.integers(min_value=1, max_value=2**64 - 1),
        )
    )
    largest = max_payload_size(name, node=node, service=service, tag=tag, ltime=ltime)
    assume(largest is not None)
    payload = draw(payloads(name, node=node, service=service, tag=tag, ltime=ltime))
    seed = draw(st.integers(min_value=0, max_value=2**64 - 1))
    return UserEvent(
        id=new_event_id(random.Random(seed)),
        name=name,
        payload=payload,
        node_filter=node,
        service_filter=service,
        tag_filter=tag,
        ltime=ltime,
    )


def user_events() -> st.SearchStrategy[UserEvent]:
    """Events as an agent holds them (what ``agent.events`` and ``/v1/event/list`` show).

    Each has an ID in Consul's form (16 random bytes as 8-4-4-4-12 hex, from
    :func:`~pytest_consul_events.model.event.new_event_id`), a name from :func:`event_names`
    of at most 64 bytes, simple valid node, service and tag filters (a tag filter only with a
    service filter), version 1, a Lamport time of at least 1 (mostly small), and a payload
    that fit serf's size limit when the event was fired at that Lamport time.
    """
    return _user_events()


def delivery_schedules(*, max_delay: float = 0.05) -> st.SearchStrategy[DeliverySchedule]:
    """Gossip hostility for a simulated cluster, with a seed that fixes every random choice.

    Dicts of :class:`~pytest_consul_events.model.gossip.GossipSettings` options
    (``unordered``, ``delay`` as ``(low, high)`` seconds with ``0 <= low <= high <=
    max_delay``, ``loss`` and ``duplicate`` probabilities, often 0) plus ``seed``, for
    ``FakeConsulCluster(**schedule)`` or ``@pytest.mark.consul_cluster(**schedule)``.
    """
    if max_delay < 0:
        raise InvalidArgument(f"max_delay must not be negative, not {max_delay}")
    probabilities = st.one_of(
        st.just(0.0),
        st.sampled_from([0.1, 0.5, 1.0]),
        st.floats(min_value=0.0, max_value=1.0),
    )
    delays = st.one_of(
        st.just((0.0, 0.0)),
        st.lists(st.floats(min_value=0.0, max_value=max_delay), min_size=2, max_size=2).map(
            lambda pair: (min(pair), max(pair))
        ),
    )
    return st.fixed_dictionaries(
        {
            "unordered": st.booleans(),
            "delay": delays,
            "loss": probabilities,
            "duplicate": probabilities,
            "seed": st.integers(min_value=0, max_value=2**32 - 1),
        }
    ).map(_schedule)


def _schedule(d: dict[str, Any]) -> DeliverySchedule:
    return DeliverySchedule(
        unordered=d["unordered"],
        delay=d["delay"],
        loss=d["loss"],
        duplicate=d["duplicate"],
        seed=d["seed"],
    )
