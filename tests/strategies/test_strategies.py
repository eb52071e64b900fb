"""Each strategy of ``pytest_consul_events.strategies`` keeps its promise.

Sizes are checked against an encoder written here from the reference (consul-events.md
section 4: Consul's msgpack blob, then serf's message), not against the fake's arithmetic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import textwrap
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import msgpack
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from pytest_consul_events import strategies as ces
from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.errors import EventTooLargeError, InvalidFilterError
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.gocompat.regexp import GoRegexpError, check_syntax, compile
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.event import UserEvent, id_to_index
from pytest_consul_events.model.filters import compile_filters
from pytest_consul_events.model.gossip import GossipSettings
from pytest_consul_events.model.serf import SerfUserEvent
from pytest_consul_events.model.services import Service

BEFORE = (
    "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
)
AFTER = (
    "error broadcasting event: encoded user event exceeds configured limit of 512 bytes after "
    "encoding"
)
ID_FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CLOCKS = [2, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**40]
FILTERS = [
    {},
    {"node": "node1"},
    {"service": "web", "tag": "v1"},
    {"node": "^n", "service": "^api-[0-9]+$"},
    {"node": "x" * 40, "service": "y" * 300, "tag": "z" * 20},
]
QUICK = settings(max_examples=60, deadline=None)
HTTP = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def size_error(
    name: str, size: int, *, node: str = "", service: str = "", tag: str = "", ltime: int = 2
) -> str | None:
    """What serf says of this event (section 4.2), found by encoding it."""
    inner: dict[str, Any] = {"ID": "0" * 36, "n": name, "v": 1}
    if size:
        inner["p"] = bytes(size)
    for key, value in (("nf", node), ("sf", service), ("tf", tag)):
        if value:
            inner[key] = value
    blob = msgpack.packb(inner, use_bin_type=True)
    serf_name = ("consul:event:" + name).encode()
    if len(serf_name) + len(blob) > 512:
        return BEFORE
    message = {"LTime": ltime, "Name": serf_name, "Payload": blob, "CC": False}
    if len(b"\x03" + msgpack.packb(message, use_bin_type=False)) > 512:
        return AFTER
    return None


class _Found(Exception):
    """Ends a search once an example was found."""


def first_example(
    strategy: st.SearchStrategy[Any], condition: Any = lambda _: True, tries: int = 300
) -> Any:
    """The first of at most ``tries`` generated examples that meets ``condition``.

    Unlike ``hypothesis.find`` it does not shrink what it found, which takes long.
    """
    found: list[Any] = []

    @settings(max_examples=tries, database=None, phases=[Phase.generate], deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        if condition(value):
            found.append(value)
            raise _Found

    with contextlib.suppress(_Found):
        collect()
    assert found, f"no example out of {tries} met the condition"
    return found[0]


def agent_at(ltime: int) -> Agent:
    """A fresh single agent whose event clock reads ``ltime`` (at least 2)."""
    agent = Agent(seed=1)
    if ltime > 2:  # serf witnesses a gossiped time: the clock moves just past it
        tick = UserEvent(id="00000000-0000-0000-0000-000000000000", name="tick")
        agent.deliver(SerfUserEvent(ltime - 1, tick))
    return agent


@pytest.fixture(scope="module")
def served() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent() as agent:
        yield agent


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def fire_over_http(
    session: requests.Session,
    agent: FakeConsulAgent,
    name: str,
    payload: bytes | None = None,
    *,
    safe: str = "/",
    **filters: str,
) -> requests.Response:
    return session.put(
        f"{agent.url}/v1/event/fire/{quote(name, safe=safe)}", params=filters, data=payload
    )


# -- event_names ---------------------------------------------------------------------------------


@HTTP
@given(name=ces.event_names(), safe=st.sampled_from(["/", ""]))
def test_every_name_fires_over_http_and_is_listed_under_it(
    served: FakeConsulAgent, http: requests.Session, name: str, safe: str
) -> None:
    served.reset()
    assert name
    assert len(name.encode()) <= ces.MAX_FIREABLE_NAME_BYTES
    assert name.isprintable()
    assert name != "_rexec"
    response = fire_over_http(http, served, name, safe=safe)
    assert response.status_code == 200, response.text
    assert response.json()["Name"] == name
    listed = http.get(f"{served.url}/v1/event/list", params={"name": name}).json()
    assert [event["Name"] for event in listed] == [name]


# Section 2: the path is refused (400, empty body) when Go's unicode.IsPrint is false for a rune,
# with Go 1.23's Unicode 15.0 tables. U+1F6DC (WIRELESS) is new in 15.0, hence printable for Go;
# U+2FFC is new in 15.1, hence unassigned and not printable for Go. event_names() avoids both.
WIRELESS = "\U0001f6dc"
IDS_REVERSED = "\u2ffc"


def test_a_name_go_calls_printable_fires_over_http(
    served: FakeConsulAgent, http: requests.Session
) -> None:
    response = fire_over_http(http, served, f"deploy{WIRELESS}")
    assert response.status_code == 200, response.text


def test_a_name_go_calls_unprintable_is_refused_over_http(
    served: FakeConsulAgent, http: requests.Session
) -> None:
    response = fire_over_http(http, served, f"deploy{IDS_REVERSED}")
    assert (response.status_code, response.text) == (400, "")


def test_the_name_limit_is_the_reference_one() -> None:
    # Section 4.3: 209 bytes fit with an empty body on a fresh agent, 210 never do.
    assert size_error("n" * 209, 0) is None
    assert size_error("n" * 210, 0) == AFTER
    assert ces.MAX_FIREABLE_NAME_BYTES == 209
    Agent().fire("n" * 209)
    with pytest.raises(EventTooLargeError) as info:
        Agent().fire("n" * 210)
    assert info.value.message == AFTER


def test_names_reach_the_byte_limit_and_use_slashes() -> None:
    long = first_example(
        ces.event_names(), lambda n: len(n.encode()) >= ces.MAX_FIREABLE_NAME_BYTES - 4
    )
    assert len(long.encode()) <= ces.MAX_FIREABLE_NAME_BYTES
    first_example(ces.event_names(), lambda n: "/" in n)
    first_example(ces.event_names(), lambda n: not n.isascii())


@QUICK
@given(ces.event_names("ab/. %?"))
def test_an_alphabet_narrows_the_names(name: str) -> None:
    assert set(name) <= set("ab/. %?")
    segments = name.split("/")
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()  # one trailing slash is a clean path
    assert all(segment not in ("", ".", "..") for segment in segments)
    Agent().fire(name)


@QUICK
@given(ces.event_names("\x00\x01ab\n", max_size=5))
def test_non_printable_characters_are_dropped_from_an_alphabet(name: str) -> None:
    assert set(name) <= {"a", "b"}
    assert len(name) <= 5


@QUICK
@given(ces.event_names(max_size=300).filter(lambda n: len(n.encode()) > 209))
def test_a_larger_max_size_lets_in_names_that_cannot_be_fired(name: str) -> None:
    with pytest.raises(EventTooLargeError):
        Agent().fire(name)


def test_event_names_reject_bad_arguments() -> None:
    with pytest.raises(InvalidArgument):
        ces.event_names("\x00\n")
    with pytest.raises(InvalidArgument):
        ces.event_names(max_size=0)


# -- payloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "ltime", "expected"),
    [
        # Sections 1 (#16) and 4.3: the maxima the reference states for `deploy`.
        ({}, 2, 404),
        ({}, 127, 404),
        ({}, 128, 403),
        ({}, 256, 402),
        ({}, 65536, 400),
        ({}, 2**32, 396),
        ({"node": "node1"}, 2, 395),
        ({"service": "web", "tag": "v1"}, 2, 391),
    ],
)
def test_max_payload_size_matches_the_reference(
    filters: dict[str, str], ltime: int, expected: int
) -> None:
    assert ces.max_payload_size("deploy", ltime=ltime, **filters) == expected


@pytest.mark.parametrize("ltime", CLOCKS)
@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("name", ["deploy", "e", "x" * 31, "x" * 32, "ü" * 60, "n" * 205])
def test_the_maximum_fits_and_one_more_byte_fails_with_the_exact_error(
    name: str, filters: dict[str, str], ltime: int
) -> None:
    largest = ces.max_payload_size(name, ltime=ltime, **filters)
    if largest is None:
        assert size_error(name, 0, ltime=ltime, **filters) is not None
        return
    assert size_error(name, largest, ltime=ltime, **filters) is None
    error = size_error(name, largest + 1, ltime=ltime, **filters)
    assert error is not None
    agent = agent_at(ltime)
    agent.fire(name, bytes(largest) or None, **filters)
    assert agent.fired[-1].ltime == ltime
    with pytest.raises(EventTooLargeError) as info:
        agent_at(ltime).fire(name, bytes(largest + 1), **filters)
    assert info.value.message == error


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_payload_fires_at_its_clock(data: st.DataObject) -> None:
    name = data.draw(ces.event_names(max_size=60), label="name")
    filters = data.draw(st.sampled_from(FILTERS[:4]), label="filters")
    ltime = data.draw(st.sampled_from(CLOCKS), label="ltime")
    payload = data.draw(ces.payloads(name, ltime=ltime, **filters), label="payload")
    assert payload is None or len(payload) >= 1
    assert size_error(name, len(payload or b""), ltime=ltime, **filters) is None
    agent = agent_at(ltime)
    event = agent.fire(name, payload, **filters)
    assert event.payload == payload
    assert agent.fired[-1].ltime == ltime


@HTTP
@given(payload=ces.payloads())
def test_every_default_payload_fires_over_http_on_a_fresh_agent(
    served: FakeConsulAgent, http: requests.Session, payload: bytes | None
) -> None:
    served.reset()
    response = fire_over_http(http, served, "deploy", payload)
    assert response.status_code == 200, response.text
    assert served.events[-1].payload == payload


@pytest.mark.parametrize(
    ("size", "expected"),
    [(404, (200, None)), (405, (500, AFTER)), (434, (500, AFTER)), (435, (500, BEFORE))],
)
def test_one_byte_past_the_maximum_fails_over_http(
    served: FakeConsulAgent, http: requests.Session, size: int, expected: tuple[int, str | None]
) -> None:
    # Section 4.3's table for `deploy` on a fresh agent.
    served.reset()
    assert ces.max_payload_size() == 404
    response = fire_over_http(http, served, "deploy", bytes(size))
    status, text = expected
    assert response.status_code == status
    if text is not None:
        assert response.text == text


def test_payloads_hit_the_boundary() -> None:
    first_example(ces.payloads(), lambda p: p is not None and len(p) == 404)
    first_example(ces.payloads(), lambda p: p is None)
    largest = ces.max_payload_size("n" * 205)
    assert largest is not None
    assert size_error("n" * 205, largest) is None
    assert size_error("n" * 205, largest + 1) is not None
    first_example(ces.payloads("n" * 205), lambda p: p is not None and len(p) == largest)


def test_payloads_of_a_name_that_fits_only_empty_are_none() -> None:
    assert ces.max_payload_size("n" * 209) == 0
    assert first_example(ces.payloads("n" * 209), lambda p: True) is None


@pytest.mark.parametrize(
    ("name", "filters"),
    [
        ("", {}),
        ("deploy", {"tag": "v1"}),
        ("deploy", {"node": "("}),
        ("deploy", {"service": "web", "tag": "*"}),
        ("n" * 210, {}),
        ("deploy", {"service": "s" * 500}),
    ],
)
def test_payloads_refuse_events_that_cannot_be_fired(name: str, filters: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument):
        ces.payloads(name, **filters)


# -- Go regular expressions -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(ces.go_regexps())
def test_go_regexps_are_accepted_by_go(pattern: str) -> None:
    assert pattern
    check_syntax(pattern)
    compile(pattern).search("node1 web-1 αβγ")
    Agent().fire("deploy", node=pattern, service=pattern, tag=pattern)


@settings(max_examples=300, deadline=None)
@given(ces.invalid_go_regexps())
def test_invalid_go_regexps_are_rejected_by_go(pattern: str) -> None:
    with pytest.raises(GoRegexpError) as info:
        check_syntax(pattern)
    with pytest.raises(InvalidFilterError) as refused:
        Agent().fire("deploy", node=pattern)
    assert refused.value.message == f"Invalid node filter: {info.value}"


@pytest.mark.parametrize(
    "wanted",
    [
        lambda p: p.startswith("*"),  # nothing to repeat
        lambda p: "(?=" in p or "(?<!" in p,  # look-arounds
        lambda p: re.search(r"(?<!\\)\\[1-9]", p) is not None,  # backreferences
        lambda p: p.startswith("(") and p.count("(") > p.count(")"),  # unclosed group
        lambda p: p.endswith(")") and p.count(")") > p.count("("),  # unopened group
    ],
)
def test_invalid_go_regexps_cover_the_usual_mistakes(wanted: Any) -> None:
    first_example(ces.invalid_go_regexps(), wanted, tries=1000)


@HTTP
@given(pattern=ces.invalid_go_regexps())
def test_invalid_filters_are_refused_over_http_with_go_s_error(
    served: FakeConsulAgent, http: requests.Session, pattern: str
) -> None:
    with pytest.raises(GoRegexpError) as info:
        check_syntax(pattern)
    response = fire_over_http(http, served, "deploy", service=pattern)
    assert (response.status_code, response.text) == (500, f"Invalid service filter: {info.value}")


# -- services and identities ----------------------------------------------------------------------


@HTTP
@given(service=ces.services())
def test_services_register_over_http_and_receive_their_events(
    served: FakeConsulAgent, http: requests.Session, service: Service
) -> None:
    served.reset()
    assert service.name
    assert service.address != "0.0.0.0"
    document = {
        "Name": service.name,
        "ID": service.id,
        "Tags": list(service.tags),
        "Port": service.port,
        "Address": service.address,
        "Meta": dict(service.meta),
        "EnableTagOverride": service.enable_tag_override,
    }
    response = http.put(f"{served.url}/v1/agent/service/register", json=document)
    assert (response.status_code, response.text) == (200, "")
    assert served.services == {service.id: service}
    listed = http.get(f"{served.url}/v1/agent/services").json()
    assert listed[service.id]["Service"] == service.name
    assert listed[service.id]["Tags"] == list(service.tags)
    tag = f"^{re.escape(service.tags[0])}$" if service.tags else ""
    fire_over_http(http, served, "deploy", service=f"^{service.id}$", tag=tag)
    fire_over_http(http, served, "other", service=f"^{service.id}x$")
    assert [event.name for event in served.events] == ["deploy"]


@QUICK
@given(ces.agent_identities())
def test_identities_configure_agents(identity: ces.AgentIdentity) -> None:
    ids = [service.id for service in identity["services"]]
    assert len(ids) == len(set(ids))
    agent = Agent(**identity)
    assert (agent.node_name, agent.datacenter) == (identity["node_name"], identity["datacenter"])
    assert agent.services == {service.id: service for service in identity["services"]}
    agent.fire("deploy", node=f"^{identity['node_name']}$")
    assert len(agent.events) == 1


@settings(max_examples=8, deadline=None)
@given(ces.agent_identities())
def test_identities_build_served_agents(identity: ces.AgentIdentity) -> None:
    with FakeConsulAgent(**identity) as agent, agent.client() as client:
        assert client.agent.self()["Config"]["NodeName"] == identity["node_name"]
        assert client.agent.self()["Config"]["Datacenter"] == identity["datacenter"]
        assert set(client.agent.services()) == {s.id for s in identity["services"]}


def test_an_identity_and_a_schedule_work_as_markers(pytester: pytest.Pytester) -> None:
    identity = first_example(ces.agent_identities(), lambda i: len(i["services"]) >= 2)
    schedule = first_example(
        ces.delivery_schedules(), lambda s: s["loss"] == 0 and s["delay"][1] > 0
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        textwrap.dedent(
            f"""
            import pytest
            from pytest_consul_events.model.services import Service

            IDENTITY = {identity!r}
            SCHEDULE = {schedule!r}

            @pytest.mark.consul_agent(**IDENTITY)
            def test_agent(consul_agent):
                assert consul_agent.node_name == IDENTITY["node_name"]
                assert consul_agent.datacenter == IDENTITY["datacenter"]
                assert list(consul_agent.services.values()) == IDENTITY["services"]

            @pytest.mark.consul_cluster(**SCHEDULE)
            def test_cluster(consul_cluster):
                assert consul_cluster.seed == SCHEDULE["seed"]
                consul_cluster["node1"].fire("deploy")
                consul_cluster.settle()
                assert all(len(agent.events) == 1 for agent in consul_cluster)
            """
        )
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


# -- user events ----------------------------------------------------------------------------------


def check_user_event(event: UserEvent) -> None:
    assert isinstance(event, UserEvent)
    assert ID_FORM.fullmatch(event.id)
    assert event.index == id_to_index(event.id)
    assert event.name
    assert len(event.name.encode()) <= 64
    assert event.version == 1
    assert event.ltime >= 1
    assert event.payload is None or len(event.payload) >= 1
    assert not event.tag_filter or event.service_filter
    compile_filters(event.node_filter, event.service_filter, event.tag_filter)
    size = len(event.payload or b"")
    filters = {"node": event.node_filter, "service": event.service_filter, "tag": event.tag_filter}
    assert size_error(event.name, size, ltime=event.ltime, **filters) is None


@QUICK
@given(ces.user_events())
def test_user_events_are_events_an_agent_could_hold(event: UserEvent) -> None:
    check_user_event(event)
    # Fired again at its own clock, with its filters, it is accepted.
    agent = agent_at(max(event.ltime, 2))
    fields = {"node": event.node_filter, "service": event.service_filter, "tag": event.tag_filter}
    agent.fire(event.name, event.payload, **fields)


@QUICK
@given(st.from_type(UserEvent), st.from_type(Service))
def test_from_type_uses_the_registered_strategies(event: UserEvent, service: Service) -> None:
    check_user_event(event)
    assert re.fullmatch(r"[a-z][a-z0-9-]*", service.name)


# -- delivery schedules ---------------------------------------------------------------------------


@QUICK
@given(ces.delivery_schedules())
def test_schedules_are_gossip_settings_and_a_seed(schedule: ces.DeliverySchedule) -> None:
    gossip = GossipSettings(
        unordered=schedule["unordered"],
        delay=schedule["delay"],
        loss=schedule["loss"],
        duplicate=schedule["duplicate"],
    )
    assert set(schedule) == {"seed", "unordered", "delay", "loss", "duplicate"}
    assert dataclasses.asdict(gossip)["delay"] == schedule["delay"]
    low, high = schedule["delay"]
    assert 0 <= low <= high <= 0.05
    assert 0 <= schedule["seed"] < 2**32


@settings(max_examples=10, deadline=None)
@given(ces.delivery_schedules())
def test_schedules_build_clusters(schedule: ces.DeliverySchedule) -> None:
    with FakeConsulCluster(**schedule) as cluster:
        assert cluster.seed == schedule["seed"]
        cluster["node1"].fire("deploy")
        cluster.settle()
        assert len(cluster["node1"].events) == 1
        for agent in cluster:
            assert len(agent.events) <= 1
            if schedule["loss"] == 0:
                assert len(agent.events) == 1
