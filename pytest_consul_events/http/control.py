"""The control API: the fake's own HTTP routes under ``/_fake/``, for tests in any language.

Each route is a thin translation onto a Python method of
:class:`~pytest_consul_events.fake.FakeConsulAgent` or
:class:`~pytest_consul_events.cluster.FakeConsulCluster` (the README lists them side by side):
JSON in and out, errors as ``{"error": "..."}`` with a 4xx status naming the problem, the
message being that of the ``TypeError``/``ValueError`` the Python method raises. Nothing here
is recorded in the agent's request log, so strict mode never counts it.

Consul has no behaviour to reproduce here, so this is written the ordinary way with werkzeug's
routing, request and response wrappers and HTTP exceptions (only Consul's own endpoints need
the Go-exact pipeline of :mod:`pytest_consul_events.http.app`). The module is imported on the
first control request, never by the plugin.

Agent routes act on the agent whose port received the request, or on the agent named by
``?node=`` in its cluster; cluster routes (``/_fake/cluster/...``) act on the whole cluster and
answer 404 on an agent that runs alone.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn

from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pytest_consul_events.assertions import ANY, EventMatcher
from pytest_consul_events.errors import ConsulError, MissingNameError, PermissionDeniedError
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.http.responses import event_fields
from pytest_consul_events.model.clock import ManualClock
from pytest_consul_events.validation import UnknownAgentError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.http.app import ConsulApp
    from pytest_consul_events.http.requestlog import RequestRecord
    from pytest_consul_events.model.event import UserEvent
    from pytest_consul_events.model.services import Service

MAX_BODY = 1 << 20
"""The largest control request body read (1 MiB); larger ones answer 413."""
MAX_WAIT = 600.0
"""The longest wait a request may ask for, in seconds (Consul's own cap on blocking queries)."""
DEFAULT_WAIT = 5.0
"""The wait of ``/_fake/wait`` and ``/_fake/blocked/wait`` when no ``timeout`` is given."""
WAIT_SLICE = 0.1
"""How often a waiting request checks that its agent is still serving, in seconds."""
CONTENT_TYPE = "application/json"

Handler = Callable[["Context"], tuple[int, Any]]


# -- errors ----------------------------------------------------------------------------------------


class ControlError(HTTPException):
    """An error answered as ``{"error": "..."}`` with its status (and ``Allow`` for 405)."""

    def __init__(self, code: int, message: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code: int = code
        self.status = code
        self.message = message
        self.extra = dict(extra or {})
        self.allow: list[str] = []

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        """The JSON answer of this error."""
        response = _json_response(self.status, {"error": self.message, **self.extra})
        if self.allow:
            response.headers["Allow"] = ", ".join(self.allow)
        return response


def _fail(code: int, message: str, **extra: Any) -> NoReturn:
    raise ControlError(code, message, extra)


def _from_werkzeug(exc: HTTPException, request: Request) -> ControlError:
    """A werkzeug routing error (404, 405, 413...) as a control error naming the path."""
    path = request.path
    code = exc.code or 500
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(set(exc.valid_methods or ()) - {"HEAD", "OPTIONS"})
        error = ControlError(
            405, f"method {request.method} not allowed on {path} (allowed: {', '.join(allowed)})"
        )
        error.allow = allowed
        return error
    if isinstance(exc, NotFound):
        return ControlError(404, f"no control route {path} (GET /_fake/ lists them)")
    return ControlError(code, f"{exc.name}: {path}")


# -- the routes ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """One control request: the app that received it, its agent, the target and the body."""

    app: ConsulApp
    receiver: FakeConsulAgent
    request: Request
    args: dict[str, str]

    @property
    def cluster(self) -> FakeConsulCluster:
        """The receiving agent's cluster; answers 404 when it runs alone."""
        cluster = self.receiver.cluster
        if cluster is None:
            _fail(
                404,
                f"agent {self.receiver.node_name!r} runs alone: {self.request.path} needs a "
                "datacenter of several agents",
            )
        return cluster

    @property
    def agent(self) -> FakeConsulAgent:
        """The agent acted on: ``?node=`` in the cluster, or the receiving agent."""
        node = self.request.args.get("node")
        if node is None or node == self.receiver.node_name:
            return self.receiver
        cluster = self.receiver.cluster
        agent = None if cluster is None else cluster.agents.get(node)
        if agent is None:
            _fail(404, f"no agent named {node!r}")
        return agent

    def body(self, *allowed: str) -> dict[str, Any]:
        """The JSON object of the body (``{}`` when empty), with only ``allowed`` fields.

        Answers 400 for a body that is not a JSON object or has another field.
        """
        data = self.request.get_data(cache=True)
        if not data.strip():
            return {}
        try:
            value = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            _fail(400, f"the body is not JSON: {exc}")
        if not isinstance(value, dict):
            _fail(400, f"the body must be a JSON object, not {_json_type(value)}")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            known = ", ".join(allowed) if allowed else "none"
            _fail(400, f"unknown field(s): {', '.join(unknown)} (known: {known})")
        return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


_ROUTES: list[tuple[str, str, str]] = []
_HANDLERS: dict[str, Handler] = {}


def route(path: str, *methods: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``path`` (werkzeug's rule syntax) and ``methods``."""

    def register(handler: Handler) -> Handler:
        name = f"{handler.__name__}:{path}"
        _ROUTES.append((path, name, ",".join(methods)))
        _HANDLERS[name] = handler
        return handler

    return register


# -- agent: identity and starting over -------------------------------------------------------------


@route("/_fake/", "GET")
def index(ctx: Context) -> tuple[int, Any]:
    """Every route, with its methods."""
    routes = [
        {"methods": methods.split(","), "path": path}
        for path, _, methods in sorted(_ROUTES, key=lambda r: r[0])
    ]
    return 200, {"routes": routes}


@route("/_fake/agent", "GET")
def describe_agent(ctx: Context) -> tuple[int, Any]:
    """The agent's identity, address, seed, clock and settings (never its token secrets)."""
    return 200, agent_json(ctx.agent)


@route("/_fake/reset", "POST")
def reset(ctx: Context) -> tuple[int, Any]:
    """``agent.restore()``: back to the configuration it was started with."""
    agent = ctx.agent
    ctx.body()
    _call(agent.restore)
    return 200, agent_json(agent)


@route("/_fake/configure", "POST")
def configure(ctx: Context) -> tuple[int, Any]:
    """``agent.restore(**options)``: start over with the marker's options over the start-up
    configuration."""
    agent = ctx.agent
    options = ctx.body(*AGENT_OPTIONS)
    _call(agent.restore, **options)
    return 200, agent_json(agent)


AGENT_OPTIONS = (
    "node_name",
    "datacenter",
    "services",
    "buffer_size",
    "seed",
    "dev_mode",
    "server",
    "acl",
    "management_token",
    "tokens",
    "default_token",
    "http_max_conns_per_client",
    "history_limit",
    "clock",
    "strict",
)
"""What ``/_fake/configure`` takes: the ``consul_agent`` marker's options."""


# -- agent: events ---------------------------------------------------------------------------------


@route("/_fake/events", "GET")
def events(ctx: Context) -> tuple[int, Any]:
    """``agent.events``: what the agent holds, oldest first (``?name=`` keeps one name)."""
    held = ctx.agent.events
    name = ctx.request.args.get("name")
    if name is not None:
        held = [event for event in held if event.name == name]
    return 200, {"events": [event_json(event) for event in held]}


@route("/_fake/fired", "GET")
def fired(ctx: Context) -> tuple[int, Any]:
    """``agent.fired``: every event fired through the agent, in Lamport order."""
    fired_events = ctx.agent.fired
    name = ctx.request.args.get("name")
    if name is not None:
        fired_events = [event for event in fired_events if event.name == name]
    return 200, {"fired": [event_json(event) for event in fired_events]}


@route("/_fake/fire", "POST")
def fire(ctx: Context) -> tuple[int, Any]:
    """``agent.fire(name, payload, node=, service=, tag=, dc=, token=)``, with Consul's
    status and text for its errors."""
    agent = ctx.agent
    body = ctx.body("name", "payload", "payload_base64", "node", "service", "tag", "dc", "token")
    if "name" not in body:
        _fail(400, "name is required")
    payload = _payload(body)
    fields = {key: _optional_str(body, key) for key in ("node", "service", "tag", "dc", "token")}
    try:
        event = agent.fire(_str(body, "name"), None if payload is ANY else payload, **fields)
    except MissingNameError as exc:
        _fail(400, exc.message, consul_error=type(exc).__name__)
    except PermissionDeniedError as exc:
        _fail(403, exc.message, consul_error=type(exc).__name__)
    except ConsulError as exc:
        _fail(getattr(exc, "status", 500), exc.message, consul_error=type(exc).__name__)
    return 200, {"event": event_json(event)}


_MATCH_FIELDS = ("name", "payload", "payload_base64", "json", "node", "service", "tag")


@route("/_fake/wait", "POST")
def wait(ctx: Context) -> tuple[int, Any]:
    """``agent.wait_for_event(name, timeout=, source=, payload=, json=, node=, service=,
    tag=)``: 200 with the event, 408 when nothing matched in time."""
    agent = ctx.agent
    body = ctx.body(*_MATCH_FIELDS, "timeout", "source")
    timeout = _timeout(body)
    source = body.get("source", "events")
    matcher = _matcher_options(body)
    deadline = time.monotonic() + timeout
    while True:
        remaining = max(0.0, deadline - time.monotonic())
        step = min(remaining, WAIT_SLICE)
        try:
            event = _call(agent.wait_for_event, timeout=step, source=source, **matcher)
        except AssertionError as exc:
            if agent.released:
                _fail(503, f"the wait ended: agent {agent.node_name!r} is stopping")
            if remaining <= WAIT_SLICE:
                _fail(408, _restate_wait(str(exc), step, timeout))
            continue
        return 200, {"event": event_json(event)}


def _restate_wait(message: str, step: float, timeout: float) -> str:
    """The failure of the last slice of a wait, saying how long the whole wait was."""
    first, newline, rest = message.partition("\n")
    old = f" within {step:g}s"
    if first.endswith(old):
        first = first[: -len(old)] + f" within {timeout:g}s"
    return first + newline + rest


@route("/_fake/assert/fired", "POST")
def assert_fired(ctx: Context) -> tuple[int, Any]:
    """``agent.assert_fired(name, ..., count=, source=)``: 200 with the match(es), 409 with
    the assertion's message."""
    agent = ctx.agent
    body = ctx.body(*_MATCH_FIELDS, "count", "source")
    if "name" not in body:
        _fail(400, "name is required")
    matcher = _matcher_options(body)
    source = body.get("source", "fired")
    count = body.get("count")
    try:
        if count is None:
            event = _call(agent.assert_fired, source=source, **matcher)
            return 200, {"event": event_json(event)}
        matched = _call(agent.assert_fired, source=source, count=count, **matcher)
    except AssertionError as exc:
        _fail(409, str(exc))
    return 200, {"events": [event_json(event) for event in matched]}


@route("/_fake/assert/not-fired", "POST")
def assert_not_fired(ctx: Context) -> tuple[int, Any]:
    """``agent.assert_not_fired(name=None, ..., source=)``: 200, or 409 with the message."""
    agent = ctx.agent
    body = ctx.body(*_MATCH_FIELDS, "source")
    matcher = _matcher_options(body, name_required=False)
    try:
        _call(agent.assert_not_fired, source=body.get("source", "fired"), **matcher)
    except AssertionError as exc:
        _fail(409, str(exc))
    return 200, {}


@route("/_fake/assert/fired-in-order", "POST")
def assert_fired_in_order(ctx: Context) -> tuple[int, Any]:
    """``agent.assert_fired_in_order([...], source=)``; ``events`` lists names or objects
    with the matching fields. 200 with the matches, 409 with the message."""
    agent = ctx.agent
    body = ctx.body("events", "source")
    items = body.get("events")
    if not isinstance(items, list):
        _fail(400, f"events must be an array of names or objects, not {_json_type(items)}")
    matchers: list[str | EventMatcher] = []
    for item in items:
        if isinstance(item, dict):
            unknown = sorted(set(item) - set(_MATCH_FIELDS))
            if unknown:
                _fail(400, f"unknown field(s) in events: {', '.join(unknown)}")
            matchers.append(_call(EventMatcher, **_matcher_options(item)))
        elif isinstance(item, str):
            matchers.append(item)
        else:
            _fail(400, f"events must be an array of names or objects, not {_json_type(item)}")
    try:
        matched = _call(agent.assert_fired_in_order, matchers, source=body.get("source", "fired"))
    except AssertionError as exc:
        _fail(409, str(exc))
    return 200, {"events": [event_json(event) for event in matched]}


# -- agent: services, requests, blocked queries, clock, strict mode --------------------------------


@route("/_fake/services", "GET")
def services(ctx: Context) -> tuple[int, Any]:
    """``agent.services``: the local services, by ID order of registration."""
    return 200, {"services": [service_json(s) for s in ctx.agent.services.values()]}


@route("/_fake/services", "PUT", "POST")
def register_service(ctx: Context) -> tuple[int, Any]:
    """``agent.register_service(name, service_id=, tags=, port=, address=, meta=)``."""
    agent = ctx.agent
    body = ctx.body("name", "id", "tags", "port", "address", "meta")
    if "name" not in body:
        _fail(400, "name is required")
    options = {"service_id" if key == "id" else key: value for key, value in body.items()}
    name = options.pop("name")
    if not isinstance(name, str):
        _fail(400, f"name must be a string, not {_json_type(name)}")
    try:
        service = _call(agent.register_service, name, **options)
    except ConsulError as exc:
        _fail(getattr(exc, "status", 400), exc.message)
    return 200, {"service": service_json(service)}


@route("/_fake/services/<path:service_id>", "DELETE")
def deregister_service(ctx: Context) -> tuple[int, Any]:
    """``agent.deregister_service(id)``: 404 with Consul's text for an unknown ID."""
    agent = ctx.agent
    try:
        agent.deregister_service(ctx.args["service_id"])
    except ConsulError as exc:
        _fail(getattr(exc, "status", 404), exc.message)
    return 200, {}


@route("/_fake/requests", "GET")
def requests(ctx: Context) -> tuple[int, Any]:
    """``agent.requests``: Consul API requests served since the last reset, oldest first
    (``?implemented=false`` keeps those for endpoints the fake does not serve)."""
    log = ctx.agent.requests
    records = list(log)
    implemented = ctx.request.args.get("implemented")
    if implemented is not None:
        if implemented not in ("true", "false"):
            _fail(400, f"implemented must be true or false, not {implemented!r}")
        records = [r for r in records if r.implemented == (implemented == "true")]
    return 200, {
        "requests": [request_json(record) for record in records],
        "dropped": _dropped(log),
    }


@route("/_fake/requests", "DELETE")
def clear_requests(ctx: Context) -> tuple[int, Any]:
    """``agent.requests.clear()``."""
    ctx.agent.requests.clear()
    return 200, {}


@route("/_fake/verify", "GET", "POST")
def verify(ctx: Context) -> tuple[int, Any]:
    """``agent.verify()``: in strict mode, 409 when an endpoint the fake lacks was called."""
    agent = ctx.agent
    try:
        agent.verify()
    except AssertionError as exc:
        missing = agent.requests.unimplemented
        _fail(409, str(exc), unimplemented=[request_json(record) for record in missing])
    return 200, {"strict": agent.strict}


@route("/_fake/blocked", "GET")
def blocked(ctx: Context) -> tuple[int, Any]:
    """``agent.blocked_queries``."""
    return 200, {"blocked_queries": ctx.agent.blocked_queries}


@route("/_fake/blocked/wait", "POST")
def wait_for_blocked(ctx: Context) -> tuple[int, Any]:
    """``agent.wait_for_blocked(count, timeout=)``: 200 once that many list queries block,
    408 otherwise."""
    agent = ctx.agent
    body = ctx.body("count", "timeout")
    timeout = _timeout(body)
    try:
        _call(agent.wait_for_blocked, body.get("count", 1), timeout=timeout)
    except TimeoutError as exc:
        _fail(408, str(exc))
    return 200, {"blocked_queries": agent.blocked_queries}


@route("/_fake/blocked/wake", "POST")
def wake(ctx: Context) -> tuple[int, Any]:
    """``agent.wake_all()``: answer every blocked list query now, with the current state."""
    ctx.agent.wake_all()
    return 200, {}


@route("/_fake/blocked/release", "POST")
def release_blocked(ctx: Context) -> tuple[int, Any]:
    """``agent.release_blocked()``: answer blocked list queries now, and every later one at
    once, until the next reset (what the pytest fixture does after each test)."""
    ctx.agent.release_blocked()
    return 200, {}


@route("/_fake/clock/advance", "POST")
def advance(ctx: Context) -> tuple[int, Any]:
    """``agent.advance(seconds)``, or ``cluster.advance(seconds)`` for an agent of a cluster
    (its clock is the cluster's); 400 on real time."""
    agent = ctx.agent
    body = ctx.body("seconds")
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        _fail(400, f"seconds must be a number, not {_json_type(seconds)}")
    if agent.cluster is not None:
        delivered = _call(agent.cluster.advance, seconds)
        return 200, {"now": agent.cluster.clock.now(), "delivered": delivered}
    return 200, {"now": _call(agent.advance, seconds), "delivered": 0}


@route("/_fake/report", "GET")
def report(ctx: Context) -> tuple[int, Any]:
    """``agent.failure_report()``: what a failing pytest test would show about this agent."""
    title, text = ctx.agent.failure_report()
    return 200, {"title": title, "text": text}


# -- cluster ---------------------------------------------------------------------------------------


@route("/_fake/cluster", "GET")
def describe_cluster(ctx: Context) -> tuple[int, Any]:
    """The seed, the gossip settings, what is in flight or held, and every agent."""
    return 200, cluster_json(ctx.cluster)


@route("/_fake/cluster/reset", "POST")
def reset_cluster(ctx: Context) -> tuple[int, Any]:
    """``cluster.reset()``: every agent and the gossip back to the start-up configuration."""
    cluster = ctx.cluster
    ctx.body()
    _call(cluster.reset)
    return 200, cluster_json(cluster)


CLUSTER_OPTIONS = (
    "seed",
    "clock",
    "unordered",
    "delay",
    "loss",
    "duplicate",
    "manual",
    "flush_after",
    "acl",
    "management_token",
    "tokens",
    "default_token",
    "dev_mode",
)
"""What ``/_fake/cluster/configure`` takes: the ``consul_cluster`` marker's cluster-wide options."""


@route("/_fake/cluster/configure", "POST")
def configure_cluster(ctx: Context) -> tuple[int, Any]:
    """``cluster.configure(**options)``: start over with these options over the start-up ones."""
    cluster = ctx.cluster
    options = ctx.body(*CLUSTER_OPTIONS)
    _call(cluster.configure, **options)
    return 200, cluster_json(cluster)


@route("/_fake/cluster/settle", "POST")
def settle(ctx: Context) -> tuple[int, Any]:
    """``cluster.settle(timeout=)``: deliver everything in flight now."""
    cluster = ctx.cluster
    body = ctx.body("timeout")
    try:
        delivered = _call(cluster.settle, _timeout(body))
    except TimeoutError as exc:
        _fail(408, str(exc))
    return 200, {"delivered": delivered}


@route("/_fake/cluster/release", "POST")
def release(ctx: Context) -> tuple[int, Any]:
    """``cluster.release(count=None, to=None)``: deliver what manual mode holds."""
    cluster = ctx.cluster
    body = ctx.body("count", "to")
    delivered = _call(cluster.release, body.get("count"), to=body.get("to"))
    return 200, {"delivered": delivered}


@route("/_fake/cluster/partition", "POST")
def partition(ctx: Context) -> tuple[int, Any]:
    """``cluster.partition(*groups)``: ``groups`` is an array of arrays of node names."""
    cluster = ctx.cluster
    body = ctx.body("groups")
    groups = body.get("groups")
    if not isinstance(groups, list) or not all(
        isinstance(group, list) and all(isinstance(name, str) for name in group) for group in groups
    ):
        _fail(400, "groups must be an array of arrays of node names")
    _call(cluster.partition, *groups)
    return 200, {}


@route("/_fake/cluster/heal", "POST")
def heal(ctx: Context) -> tuple[int, Any]:
    """``cluster.heal()``: end the partition; what it held arrives now."""
    cluster = ctx.cluster
    ctx.body()
    return 200, {"delivered": cluster.heal()}


@route("/_fake/cluster/agents/<node>/stop", "POST")
def stop_agent(ctx: Context) -> tuple[int, Any]:
    """``cluster.stop(node)``. Stopping the agent that receives the request takes effect in
    gossip at once and on its port just after the answer is sent."""
    cluster = ctx.cluster
    node = ctx.args["node"]
    target = _member(cluster, node)
    if target is ctx.receiver:
        # Its server cannot stop while this very request keeps one of its threads busy.
        cluster.gossip.set_running(node, False)
        threading.Thread(
            target=cluster.stop, args=(node,), name="consul-fake-stop", daemon=True
        ).start()
    else:
        cluster.stop(node)
    return 200, {"node_name": node, "running": False}


@route("/_fake/cluster/agents/<node>/start", "POST")
def start_agent(ctx: Context) -> tuple[int, Any]:
    """``cluster.start_agent(node)``: back on the same address, with an empty buffer."""
    cluster = ctx.cluster
    node = ctx.args["node"]
    if _member(cluster, node) is ctx.receiver:
        _fail(409, f"agent {node!r} is running: it is answering this request")
    try:
        agent = _call(cluster.start_agent, node)
    except RuntimeError as exc:  # the agent is serving: the Python API's refusal
        _fail(409, str(exc))
    return 200, agent_json(agent)


@route("/_fake/cluster/trace", "GET")
def trace(ctx: Context) -> tuple[int, Any]:
    """``cluster.trace``: every gossip step so far, and the seed that replays it."""
    cluster = ctx.cluster
    return 200, {
        "seed": cluster.seed,
        "trace": [dataclasses.asdict(entry) for entry in cluster.trace],
    }


@route("/_fake/cluster/report", "GET")
def cluster_report(ctx: Context) -> tuple[int, Any]:
    """``cluster.report()``: the seed, each agent's events and the timeline."""
    return 200, {"text": ctx.cluster.report()}


def _member(cluster: FakeConsulCluster, node: str) -> FakeConsulAgent:
    agent = cluster.agents.get(node)
    if agent is None:
        _fail(404, f"no agent named {node!r}")
    return agent


# -- JSON shapes -----------------------------------------------------------------------------------


def event_json(event: UserEvent) -> dict[str, Any]:
    """An event as Consul's ``/v1/event/list`` shows it, plus ``Index``: the ``X-Consul-Index``
    of a list ending with it, as a decimal string like the header (it can exceed the integers
    JavaScript's JSON keeps exactly)."""
    return {**event_fields(event), "Index": str(event.index)}


def service_json(service: Service) -> dict[str, Any]:
    """A service with the marker's field names."""
    return {
        "id": service.id,
        "name": service.name,
        "tags": list(service.tags),
        "port": service.port,
        "address": service.address,
        "meta": dict(service.meta),
    }


def request_json(record: RequestRecord) -> dict[str, Any]:
    """A logged request; the body as UTF-8 text (invalid bytes replaced), tokens redacted."""
    return {
        "method": record.method,
        "path": record.path,
        "query": record.query,
        "body": record.body.decode("utf-8", "replace"),
        "status": record.status,
        "duration": record.duration,
        "token": record.token,
        "implemented": record.implemented,
    }


def agent_json(agent: FakeConsulAgent) -> dict[str, Any]:
    """What ``GET /_fake/agent`` shows of an agent (no token secrets)."""
    config = agent.config
    cluster = agent.cluster
    running = True if cluster is None else cluster.gossip.is_running(agent.node_name)
    return {
        "node_name": agent.node_name,
        "datacenter": agent.datacenter,
        "server": config.server,
        "node_id": agent.node_id,
        "address": agent.http_addr,
        "url": agent.url,
        "running": running,
        "seed": agent.seed,
        "clock": "manual" if isinstance(agent.clock, ManualClock) else "real",
        "strict": agent.strict,
        "acl": config.acl,
        "buffer_size": config.buffer_size,
        "dev_mode": config.dev_mode,
        "http_max_conns_per_client": config.http_max_conns_per_client,
        "history_limit": config.history_limit,
        "services": [service_json(service) for service in agent.services.values()],
        "blocked_queries": agent.blocked_queries,
    }


def cluster_json(cluster: FakeConsulCluster) -> dict[str, Any]:
    """What ``GET /_fake/cluster`` shows."""
    settings = dataclasses.asdict(cluster.gossip.settings)
    settings["delay"] = list(settings["delay"])
    return {
        "seed": cluster.seed,
        "clock": "manual" if isinstance(cluster.clock, ManualClock) else "real",
        "gossip": settings,
        "in_flight": cluster.gossip.in_flight,
        "held": cluster.gossip.held,
        "datacenters": cluster.gossip.datacenters,
        "agents": [agent_json(agent) for agent in cluster],
    }


def _dropped(log: object) -> int:
    """How many requests the log dropped past ``history_limit`` (0 where it keeps them all)."""
    value = getattr(log, "dropped", 0)
    return value if isinstance(value, int) else 0


def _json_response(status: int, value: Any) -> Response:
    body = json.dumps(value, ensure_ascii=False, allow_nan=False) + "\n"
    # The status line as the Consul endpoints write it (werkzeug would upper-case the phrase).
    line = f"{status} {HTTPStatus(status).phrase}"
    return Response(body, status=line, content_type=CONTENT_TYPE)


# -- argument helpers ------------------------------------------------------------------------------


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the Python API; its ``TypeError``/``ValueError`` answer 400, ``KeyError`` (an
    unknown node name) 404."""
    try:
        return function(*args, **kwargs)
    except UnknownAgentError as exc:  # a ValueError too: an unknown node is not found, though
        _fail(404, str(exc))
    except (TypeError, ValueError) as exc:
        _fail(400, str(exc))
    except KeyError as exc:
        _fail(404, f"no agent named {exc.args[0]!r}" if exc.args else "not found")


def _str(body: Mapping[str, Any], key: str) -> str:
    value = body[key]
    if not isinstance(value, str):
        _fail(400, f"{key} must be a string, not {_json_type(value)}")
    return value


def _optional_str(body: Mapping[str, Any], key: str) -> str | None:
    return None if body.get(key) is None else _str(body, key)


def _timeout(body: Mapping[str, Any]) -> float:
    timeout = body.get("timeout", DEFAULT_WAIT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        _fail(400, f"timeout must be a number of seconds, not {_json_type(timeout)}")
    if not math.isfinite(timeout) or not 0 <= timeout <= MAX_WAIT:
        _fail(400, f"timeout must be between 0 and {MAX_WAIT:g} seconds, not {timeout!r}")
    return float(timeout)


def _payload(body: Mapping[str, Any]) -> Any:
    """``payload`` (text, sent as UTF-8, or null), ``payload_base64`` (bytes), or ANY."""
    if "payload" in body and "payload_base64" in body:
        _fail(400, "give payload or payload_base64, not both")
    if "payload_base64" in body:
        encoded = body["payload_base64"]
        if not isinstance(encoded, str):
            _fail(400, f"payload_base64 must be a string, not {_json_type(encoded)}")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            _fail(400, f"payload_base64 is not base64: {exc}")
    if "payload" in body:
        payload = body["payload"]
        if payload is not None and not isinstance(payload, str):
            _fail(400, f"payload must be a string or null, not {_json_type(payload)}")
        return payload
    return ANY


def _matcher_options(body: Mapping[str, Any], *, name_required: bool = True) -> dict[str, Any]:
    """The keywords of an event description (see :mod:`pytest_consul_events.assertions`):
    a field left out matches any value."""
    options: dict[str, Any] = {}
    if "name" in body:
        options["name"] = body["name"]
    elif name_required:
        _fail(400, "name is required")
    payload = _payload(body)
    if payload is not ANY:
        options["payload"] = payload
    if "json" in body:
        options["json"] = body["json"]
    for key in ("node", "service", "tag"):
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, str):
                _fail(400, f"{key} must be a string or null, not {_json_type(value)}")
            options[key] = value
    return options


# -- dispatch --------------------------------------------------------------------------------------

_SLASHES = re.compile("/{2,}")
_MAP = Map(
    [Rule(path, endpoint=name, methods=methods.split(",")) for path, name, methods in _ROUTES],
    strict_slashes=False,
    merge_slashes=False,
)


def serve(
    app: ConsulApp, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """Answer one control request for ``app``'s agent (a WSGI call)."""
    request = Request(environ)
    request.max_content_length = MAX_BODY
    try:
        response = _dispatch(app, request)
    except ControlError as exc:
        response = exc.get_response()
    except HTTPException as exc:
        response = _from_werkzeug(exc, request).get_response()
    except Exception as exc:  # a bug: one line, never a traceback
        text = " ".join(str(exc).split())
        response = ControlError(
            InternalServerError.code, f"internal error: {type(exc).__name__}: {text}"
        ).get_response()
    return response(environ, start_response)


def _dispatch(app: ConsulApp, request: Request) -> Response:
    agent = app.agent
    if not isinstance(agent, FakeConsulAgent):
        _fail(404, "the control API is served by FakeConsulAgent only")
    adapter = _MAP.bind_to_environ(request.environ)
    # "$CONTROL/reset" with the JSON line's "control" (which ends with a slash) works too.
    path = _SLASHES.sub("/", request.path)
    if request.method == "OPTIONS":
        # What werkzeug would route to the handler itself: answer with the methods instead.
        allowed = sorted(set(adapter.allowed_methods(path)) - {"HEAD", "OPTIONS"})
        if not allowed:
            adapter.match(path, method="GET")  # raises NotFound
        return Response(status="200 OK", headers=[("Allow", ", ".join(allowed))])
    endpoint, args = adapter.match(path, method=request.method)
    if request.content_length is not None and request.content_length > MAX_BODY:
        _fail(413, f"the body is larger than {MAX_BODY} bytes")
    ctx = Context(app, agent, request, dict(args))
    status, value = _HANDLERS[endpoint](ctx)
    return _json_response(status, value)


__all__ = [
    "AGENT_OPTIONS",
    "CLUSTER_OPTIONS",
    "ControlError",
    "agent_json",
    "cluster_json",
    "event_json",
    "request_json",
    "serve",
    "service_json",
]
