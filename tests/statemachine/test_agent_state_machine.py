"""One fake agent driven over HTTP by a Hypothesis state machine, checked against a tiny model.

The model below is written from the reference (consul-events.md sections 1, 3, 4 and 5), not
from the fake's code: a list of stored events with a Lamport clock starting at 2, a ring buffer
of ``buffer_size`` (256 by default), ``?name=`` filtering, filters restricted to literal and
anchored patterns that Python's ``re`` matches exactly as Go does, serf's size limit computed by
encoding with ``msgpack``, the status codes and texts of the refused fires, and the list index
(the XOR fold of the last event's ID, or 1).

Run it longer with ``CONSUL_EVENTS_STATEFUL_EXAMPLES=500 CONSUL_EVENTS_STATEFUL_STEPS=60``.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import time
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import msgpack
import pytest
import requests
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pytest_consul_events.fake import FakeConsulAgent

EXAMPLES = int(os.environ.get("CONSUL_EVENTS_STATEFUL_EXAMPLES", "20"))
STEPS = int(os.environ.get("CONSUL_EVENTS_STATEFUL_STEPS", "20"))

# -- the reference's constants and texts -------------------------------------------------------

FIRST_LTIME = 2  # section 1 #30: the first user event of a fresh dev agent
DEFAULT_BUFFER = 256  # section 5.6
LIMIT = 512  # section 4.1
MISSING_NAME = "Missing name"
TAG_WITHOUT_SERVICE = "Cannot provide tag filter without service filter"
BEFORE = (
    "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
)
AFTER = (
    "error broadcasting event: encoded user event exceeds configured limit of 512 bytes after "
    "encoding"
)
UNKNOWN_SERVICE = (
    'Unknown service ID "{id}". Ensure that the service ID is passed, not the service name.'
)
# The keys of an event in Go's field order (section 3.3).
EVENT_KEYS = ["ID", "Name", "Payload", "NodeFilter", "ServiceFilter", "TagFilter"]
EVENT_KEYS += ["Version", "LTime"]
ID_FORM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Patterns Go rejects, with Go's error (section 3.4); the rest are literals with anchors.
GO_ERRORS = {
    "(": "missing closing ): `(`",
    "[": "missing closing ]: `[`",
    "*": "missing argument to repetition operator: `*`",
    "a**": "invalid nested repetition operator: `**`",
    "(?=x)": "invalid or unsupported Perl syntax: `(?=`",
    "\\1": "invalid escape sequence: `\\1`",
}
NODE_NAMES = ["node1", "web-1", "db-02"]
NAMES = ["deploy", "tick", "restart", "a", "ops/cache-flush", "x" * 120, "n" * 205, "_rexec"]
NODE_FILTERS = ["node", "^node1$", "1$", "^web", "web-1", "db", "zzz", "(", "*", "a**", "(?=x)"]
SERVICE_FILTERS = ["web", "^web$", "^db", "api-2$", "cache", "-", "[", "\\1"]
TAG_FILTERS = ["v1", "^v", "2$", "primary", "(", "*"]
SERVICE_IDS = ["web", "web-1", "db", "api-2", "cache"]
TAGS = ["v1", "v2", "primary", "canary"]
BLOCK_WAIT = 0.02  # a blocking list that is not woken returns after this
STALE_WAIT = 1.0  # a stale index must answer long before this


# -- the model ---------------------------------------------------------------------------------


def size_error(name: str, size: int, node: str, service: str, tag: str, ltime: int) -> str | None:
    """Serf's verdict on an event, by encoding it as Consul and serf do (section 4.2)."""
    inner: dict[str, Any] = {"ID": "0" * 36, "n": name, "v": 1}
    if size:
        inner["p"] = bytes(size)
    for key, value in (("nf", node), ("sf", service), ("tf", tag)):
        if value:
            inner[key] = value
    blob = msgpack.packb(inner, use_bin_type=True)  # Consul: str8 and bin exist
    serf_name = ("consul:event:" + name).encode()
    if len(serf_name) + len(blob) > LIMIT:
        return BEFORE
    message = {"LTime": ltime, "Name": serf_name, "Payload": blob, "CC": False}
    raw = b"\x03" + msgpack.packb(message, use_bin_type=False)  # serf: no str8, no bin
    if len(raw) > LIMIT:
        return AFTER
    return None


def largest(fits: Any) -> int | None:
    """The largest size in 0..LIMIT for which ``fits(size)`` holds (a prefix of sizes)."""
    if not fits(0):
        return None
    low, high = 0, LIMIT
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def fold(event_id: str) -> int:
    """``uuidToUint64`` (section 5.1), and the 0 -> 1 of ``setIndex``."""
    digits = event_id.replace("-", "")
    return (int(digits[:16], 16) ^ int(digits[16:], 16)) or 1


@dataclasses.dataclass(frozen=True)
class Stored:
    id: str
    name: str
    payload: bytes | None
    node: str
    service: str
    tag: str
    ltime: int

    def as_json(self) -> dict[str, Any]:
        payload = None if self.payload is None else base64.b64encode(self.payload).decode()
        return {
            "ID": self.id,
            "Name": self.name,
            "Payload": payload,
            "NodeFilter": self.node,
            "ServiceFilter": self.service,
            "TagFilter": self.tag,
            "Version": 1,
            "LTime": self.ltime,
        }


@dataclasses.dataclass
class Model:
    node_name: str
    buffer_size: int
    clock: int = FIRST_LTIME
    accepted: int = 0
    events: deque[Stored] = dataclasses.field(default_factory=deque)
    services: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    seen_indexes: list[int] = dataclasses.field(default_factory=list)

    def listed(self, name: str) -> list[Stored]:
        return [e for e in self.events if not name or e.name == name]

    def index(self, name: str) -> int:
        events = self.listed(name)
        return fold(events[-1].id) if events else 1

    def refusal(self, name: str, node: str, service: str, tag: str, size: int) -> tuple[int, str]:
        """The status and body of a refused fire, or ``(200, "")``: sections 3.2 and 3.4."""
        if not name:
            return 400, MISSING_NAME
        if tag and not service:
            return 500, TAG_WITHOUT_SERVICE
        for kind, pattern in (("node", node), ("service", service), ("tag", tag)):
            if pattern in GO_ERRORS:
                return 500, f"Invalid {kind} filter: error parsing regexp: {GO_ERRORS[pattern]}"
        error = size_error(name, size, node, service, tag, self.clock)
        if error is not None:
            return 500, error
        return 200, ""

    def admits(self, name: str, node: str, service: str, tag: str) -> bool:
        """Section 6: unanchored node, service-ID and tag matches; ``_rexec`` never stored."""
        if name == "_rexec":
            return False
        if node and not re.search(node, self.node_name):
            return False
        if not service:
            return True
        return any(
            re.search(service, service_id) and (not tag or any(re.search(tag, t) for t in tags))
            for service_id, tags in self.services.items()
        )

    def accept(self, event: Stored) -> None:
        self.clock += 1
        self.accepted += 1
        if self.admits(event.name, event.node, event.service, event.tag):
            self.events.append(event)
            while len(self.events) > self.buffer_size:
                self.events.popleft()


# -- the machine -------------------------------------------------------------------------------

filters = st.one_of(st.just(""), st.sampled_from(NODE_FILTERS))
size_specs = st.one_of(
    st.just(("none", 0)),
    st.tuples(st.just("abs"), st.integers(min_value=1, max_value=LIMIT + 8)),
    st.tuples(st.just("max"), st.integers(min_value=-2, max_value=2)),  # the encoded limit
    st.tuples(st.just("pre"), st.integers(min_value=-1, max_value=1)),  # the pre-encoding one
)
list_names = st.one_of(st.none(), st.just(""), st.sampled_from([*NAMES, "never-fired"]))


class AgentMachine(RuleBasedStateMachine):
    """Fires, lists, long polls and (de)registers services on one agent over HTTP."""

    def __init__(self, agent: FakeConsulAgent, session: requests.Session) -> None:
        super().__init__()
        self.agent = agent
        self.http = session
        self.model = Model(node_name="node1", buffer_size=DEFAULT_BUFFER)

    def url(self, path: str) -> str:
        return self.agent.url + path

    @initialize(
        node_name=st.sampled_from(NODE_NAMES),
        buffer_size=st.sampled_from([DEFAULT_BUFFER, DEFAULT_BUFFER, 3]),
        seed=st.integers(min_value=0, max_value=2**32 - 1),
        warm_up=st.sampled_from([0, 0, 0, 0, 125, 126]),
    )
    def start(self, node_name: str, buffer_size: int, seed: int, warm_up: int) -> None:
        """A fresh agent; sometimes its clock is first moved to the 127/128 boundary, where
        the Lamport time starts taking two bytes and the largest payload shrinks by one."""
        self.agent.configure(node_name=node_name, buffer_size=buffer_size, seed=seed)
        self.model = Model(node_name=node_name, buffer_size=buffer_size)
        for _ in range(warm_up):
            response = self.http.put(self.url("/v1/event/fire/tick"))
            assert response.status_code == 200, response.text
            tick = Stored(response.json()["ID"], "tick", None, "", "", "", self.model.clock)
            self.model.accept(tick)

    # -- fire ----------------------------------------------------------------------------------

    def payload_size(self, spec: tuple[str, int], name: str, node: str, svc: str, tag: str) -> int:
        kind, amount = spec
        if kind in ("none", "abs"):
            return amount
        clock = self.model.clock
        if kind == "max":
            edge = largest(lambda n: size_error(name, n, node, svc, tag, clock) is None)
        else:
            edge = largest(lambda n: size_error(name, n, node, svc, tag, clock) != BEFORE)
        return max(0, (edge or 0) + amount)

    @rule(
        name=st.sampled_from([*NAMES, ""]),
        node=filters,
        service=st.one_of(st.just(""), st.sampled_from(SERVICE_FILTERS)),
        tag=st.one_of(st.just(""), st.just(""), st.sampled_from(TAG_FILTERS)),
        spec=size_specs,
        empty_params=st.booleans(),
        empty_body=st.booleans(),
    )
    def fire(
        self,
        name: str,
        node: str,
        service: str,
        tag: str,
        spec: tuple[str, int],
        empty_params: bool,
        empty_body: bool,
    ) -> None:
        size = self.payload_size(spec, name, node, service, tag)
        payload = bytes((i * 31 + size) % 256 for i in range(size))
        params = {k: v for k, v in (("node", node), ("service", service), ("tag", tag))}
        if not empty_params:
            params = {k: v for k, v in params.items() if v}
        body = payload if size else (b"" if empty_body else None)
        response = self.http.put(
            self.url("/v1/event/fire/" + quote(name, safe="/")), params=params, data=body
        )
        status, text = self.model.refusal(name, node, service, tag, size)
        event(f"fire: {status} {text.split(': ')[-1][:50]}")
        if status != 200:
            assert (response.status_code, response.text) == (status, text)
            assert response.headers["Content-Type"].startswith("text/plain")
            return  # the invariants then show that nothing changed
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        answer = response.json()
        assert list(answer) == EVENT_KEYS
        assert ID_FORM.fullmatch(answer["ID"])
        assert answer["ID"] not in {e.id for e in self.model.events}
        fired = Stored(answer["ID"], name, payload or None, node, service, tag, self.model.clock)
        assert answer == {**fired.as_json(), "LTime": 0}
        admitted = self.model.admits(name, node, service, tag)
        outcome = "stored" if admitted else "accepted, not stored"
        event(f"fire: {outcome}, service filter {bool(service)}")
        self.model.accept(fired)

    # -- list ----------------------------------------------------------------------------------

    def check_listing(self, response: requests.Response, name: str) -> None:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == [e.as_json() for e in self.model.listed(name)]
        index = int(response.headers["X-Consul-Index"])
        assert index == self.model.index(name)
        self.model.seen_indexes.append(index)

    @rule(name=list_names)
    def list_events(self, name: str | None) -> None:
        params = {} if name is None else {"name": name}
        response = self.http.get(self.url("/v1/event/list"), params=params)
        self.check_listing(response, name or "")

    @rule(
        name=list_names,
        choice=st.sampled_from(["current", "zero", "one", "seen", "plus-one", "random"]),
        random_index=st.integers(min_value=2, max_value=2**64 - 1),
        seen=st.integers(min_value=0),
    )
    def blocking_list(self, name: str | None, choice: str, random_index: int, seen: int) -> None:
        current = self.model.index(name or "")
        index = {
            "current": current,
            "zero": 0,
            "one": 1,
            "seen": self.model.seen_indexes[seen % len(self.model.seen_indexes)]
            if self.model.seen_indexes
            else 1,
            "plus-one": (current + 1) % 2**64,
            "random": random_index,
        }[choice]
        blocks = index != 0 and index == current  # section 5.1 steps 4 and 9
        event(f"blocking list: {'blocks' if blocks else 'answers at once'}")
        wait = BLOCK_WAIT if blocks else STALE_WAIT
        params = {"index": str(index), "wait": f"{round(wait * 1000)}ms"}
        if name is not None:
            params["name"] = name
        started = time.perf_counter()
        response = self.http.get(self.url("/v1/event/list"), params=params)
        elapsed = time.perf_counter() - started
        self.check_listing(response, name or "")
        if blocks:
            assert elapsed >= BLOCK_WAIT - 0.001, f"answered after {elapsed:.4f}s, not blocked"
        else:
            assert elapsed < STALE_WAIT / 2, f"index {index} != {current} blocked {elapsed:.3f}s"

    # -- services ------------------------------------------------------------------------------

    @rule(
        service_id=st.sampled_from(SERVICE_IDS),
        tags=st.lists(st.sampled_from(TAGS), max_size=3, unique=True),
        named_as_id=st.booleans(),
    )
    def register(self, service_id: str, tags: list[str], named_as_id: bool) -> None:
        document: dict[str, Any] = {"Name": service_id if named_as_id else "svc", "Tags": tags}
        if not named_as_id:
            document["ID"] = service_id
        response = self.http.put(self.url("/v1/agent/service/register"), json=document)
        assert (response.status_code, response.text) == (200, "")
        self.model.services[service_id] = tuple(tags)

    @rule(service_id=st.sampled_from(SERVICE_IDS))
    def deregister(self, service_id: str) -> None:
        response = self.http.put(self.url(f"/v1/agent/service/deregister/{service_id}"))
        if service_id in self.model.services:
            assert (response.status_code, response.text) == (200, "")
            del self.model.services[service_id]
        else:
            expected = UNKNOWN_SERVICE.format(id=service_id)
            assert (response.status_code, response.text) == (404, expected)

    @precondition(lambda self: bool(self.model.services))
    @rule(tag=st.sampled_from(TAGS))
    def fire_to_a_registered_service(self, tag: str) -> None:
        """A fire whose service filter names a registered ID exactly, with a tag filter."""
        service_id = sorted(self.model.services)[0]
        self.fire("deploy", "", f"^{service_id}$", tag, ("none", 0), False, False)

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def list_matches_the_model(self) -> None:
        response = self.http.get(self.url("/v1/event/list"))
        self.check_listing(response, "")
        ltimes = [event["LTime"] for event in response.json()]
        assert ltimes == sorted(set(ltimes)), "LTimes strictly increase in list order"
        assert self.model.clock == FIRST_LTIME + self.model.accepted
        assert len(ltimes) <= self.model.buffer_size

    @invariant()
    def services_match_the_model(self) -> None:
        response = self.http.get(self.url("/v1/agent/services"))
        assert response.status_code == 200
        listed = {sid: tuple(s["Tags"]) for sid, s in response.json().items()}
        assert listed == self.model.services


# -- the test ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agent() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent() as served:
        yield served


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def test_agent_follows_the_model(agent: FakeConsulAgent, session: requests.Session) -> None:
    run_state_machine_as_test(
        lambda: AgentMachine(agent, session),
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None),
    )
