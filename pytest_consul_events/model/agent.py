"""One Consul agent's user-event behaviour: fire, receive, store, list and block.

Mirrors agent/user_event.go (validation, ingest filters, the ring buffer), the agent side of
agent/event_endpoint.go (the list index and blocking), and, for the firing path, the server's
``Internal.EventFire`` (datacenter, ACL ``event:write``, serf size limit).
"""

from __future__ import annotations

import bisect
import dataclasses
import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    ConsulError,
    MissingNameError,
    NoPathToDatacenterError,
    PermissionDeniedError,
    ServiceError,
)
from pytest_consul_events.gocompat.strconv import go_quote
from pytest_consul_events.messages import GLOBAL_MANAGEMENT_POLICY_ID
from pytest_consul_events.model.acl import ACLStore, ResolvedACL, Token, parse_rules
from pytest_consul_events.model.clock import REAL_CLOCK, Clock
from pytest_consul_events.model.event import (
    REMOTE_EXEC_NAME,
    USER_EVENT_VERSION,
    UserEvent,
    id_to_index,
    new_event_id,
)
from pytest_consul_events.model.filters import compile_filters, received_filters
from pytest_consul_events.model.ringbuffer import DEFAULT_EVENT_BUFFER_SIZE, RingBuffer
from pytest_consul_events.model.serf import Receipt, SerfEvents, SerfUserEvent
from pytest_consul_events.model.services import Service, coerce_service, coerce_services

MAX_QUERY_TIME = 600.0
"""``maxQueryTime`` in agent/agent.go: the default and the cap of a blocking list, in seconds."""

EMPTY_LIST_INDEX = 1
"""The index of an empty list, so that watchers never see 0 (agent/event_endpoint.go)."""

DEFAULT_NODE_NAME = "node1"
DEFAULT_DATACENTER = "dc1"

DEFAULT_HTTP_MAX_CONNS_PER_CLIENT = 200
"""Consul's ``limits { http_max_conns_per_client }`` default (agent/config/default.go)."""

DEFAULT_HISTORY_LIMIT = 10_000
"""How many fired events (and logged requests) an agent keeps by default; older ones are dropped."""


@dataclasses.dataclass(frozen=True)
class AgentConfig:
    """How an agent is set up; every field can be given to the ``consul_agent`` marker.

    ``seed`` fixes the event IDs (and so the list indexes) an agent produces; ``None`` draws one.
    ``dev_mode`` pretty-prints every JSON answer, as ``consul agent -dev`` does. ``server``
    says whether the agent is a server; a client agent forwards fires to a server and reports
    the server's errors prefixed with ``rpc error making call:``, as Consul's clients do.

    ACLs are off unless ``acl`` is ``"allow"`` or ``"deny"``: then they are enforced with that
    default policy. ``management_token`` is a secret with every permission (Consul's
    ``acl.tokens.initial_management``); ``tokens`` maps secrets to the rules (HCL or JSON) of
    a token made for each; ``default_token`` is used by requests that carry none.

    ``http_max_conns_per_client`` is Consul's limit on concurrent HTTP connections from one
    client IP (0: no limit); the connection over it is answered 429 and closed.
    ``history_limit`` caps :attr:`Agent.fired` and the request log: past it the oldest records
    are dropped, and counted.
    """

    node_name: str = DEFAULT_NODE_NAME
    datacenter: str = DEFAULT_DATACENTER
    services: tuple[Service, ...] = ()
    buffer_size: int = DEFAULT_EVENT_BUFFER_SIZE
    seed: int | None = None
    dev_mode: bool = False
    server: bool = True
    acl: str | None = None
    management_token: str | None = None
    default_token: str = ""
    tokens: Mapping[str, str] = dataclasses.field(default_factory=dict)
    http_max_conns_per_client: int = DEFAULT_HTTP_MAX_CONNS_PER_CLIENT
    history_limit: int = DEFAULT_HISTORY_LIMIT

    @classmethod
    def build(cls, **options: Any) -> AgentConfig:
        """Validate keyword options eagerly and return a config.

        Raises:
            TypeError: an unknown option, or a value of the wrong type.
            ValueError: a value out of range (an empty node name, a buffer of no slots, a
                negative connection limit, a history limit below 1).
        """
        if not options:
            return _DEFAULT_CONFIG
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(
                f"unknown agent option(s): {', '.join(unknown)}; known: {sorted(known)}"
            )
        if "services" in options:
            options["services"] = tuple(coerce_services(options["services"]))
        config = cls(**options)
        for name in ("node_name", "datacenter"):
            value = getattr(config, name)
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, not {value!r}")
            if not value:
                raise ValueError(f"{name} must not be empty")
        if not _is_int(config.buffer_size):
            raise TypeError(f"buffer_size must be an integer, not {config.buffer_size!r}")
        if config.buffer_size < 1:
            raise ValueError(f"buffer_size must be at least 1, not {config.buffer_size}")
        if config.seed is not None and not _is_int(config.seed):
            raise TypeError(f"seed must be an integer or None, not {config.seed!r}")
        for flag in ("dev_mode", "server"):
            if not isinstance(getattr(config, flag), bool):
                raise TypeError(f"{flag} must be True or False, not {getattr(config, flag)!r}")
        if config.acl not in (None, "allow", "deny"):
            raise ValueError(f"acl must be None, 'allow' or 'deny', not {config.acl!r}")
        if config.management_token is not None and (
            not isinstance(config.management_token, str) or not config.management_token
        ):
            raise ValueError("management_token must be a non-empty string or None")
        if not isinstance(config.default_token, str):
            raise TypeError(f"default_token must be a string, not {config.default_token!r}")
        if not isinstance(config.tokens, Mapping) or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in config.tokens.items()
        ):
            raise TypeError("tokens must map non-empty secrets to rules (strings)")
        for rules in config.tokens.values():
            parse_rules(rules)  # invalid rules are refused before anything is reset
        for name, least in (("http_max_conns_per_client", 0), ("history_limit", 1)):
            value = getattr(config, name)
            if not _is_int(value):
                raise TypeError(f"{name} must be an integer, not {value!r}")
            if value < least:
                raise ValueError(f"{name} must be at least {least}, not {value}")
        return config


_DEFAULT_CONFIG = AgentConfig()


def _ltime_of(event: UserEvent) -> int:
    return event.ltime


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class EventListing:
    """The answer to a list: the events, the ``X-Consul-Index`` and whether ACLs hid some."""

    events: list[UserEvent]
    index: int
    filtered_by_acls: bool = False


class Network(Protocol):
    """How agents reach each other: routing fires to a server, gossiping events."""

    def route(self, origin: Agent, datacenter: str) -> Agent:
        """A server of ``datacenter`` for ``origin``'s fire.

        Raises:
            NoPathToDatacenterError: no such datacenter.
        """
        ...

    def broadcast(self, origin: Agent, message: SerfUserEvent) -> None:
        """Gossip an event fired by ``origin`` to the other agents of its datacenter."""
        ...


class Agent:
    """A Consul agent and its user events; alone it is a single server, like ``-dev``.

    Thread-safe: HTTP handler threads and the test call it concurrently. Every stored event
    wakes the blocked list queries, which then look again. ``clock`` times blocking queries
    (a :class:`~pytest_consul_events.model.clock.ManualClock` makes them time out on demand);
    ``network`` joins it to other agents; ``acl_store`` shares one ACL system between them.
    """

    def __init__(
        self,
        config: AgentConfig | None = None,
        *,
        clock: Clock | None = None,
        network: Network | None = None,
        acl_store: ACLStore | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise TypeError("pass either a config or keyword options, not both")
        self.clock: Clock = REAL_CLOCK if clock is None else clock
        self.network = network
        self._shared_acl = acl_store
        lock = threading.RLock()
        self._cond = threading.Condition(lock)
        self._blocked_changed = threading.Condition(lock)
        self._generation = 0
        self._blocked: dict[int, int] = {}
        self._releasing = False
        self._configure(config if config is not None else AgentConfig.build(**options))

    # -- configuration -------------------------------------------------------------------------

    def _configure(self, config: AgentConfig) -> None:
        self.config = config
        self.seed = config.seed if config.seed is not None else random.getrandbits(32)
        self._rng = random.Random(self.seed)
        self.node_id = new_event_id(self._rng)
        self._buffer: RingBuffer[UserEvent] = RingBuffer(config.buffer_size)
        self._serf = SerfEvents()
        self._services: dict[str, Service] = {s.id: s for s in config.services}
        self._fired: list[UserEvent] = []
        self._fired_dropped = 0
        self._policy_counter = 0
        self._acl = self._shared_acl
        if config.acl is not None or config.tokens or config.management_token:
            self._ensure_acl()  # made now, so that ACLs hold from the first request
            for number, (secret, rules) in enumerate(config.tokens.items(), start=1):
                self.create_token(rules, secret=secret, description=f"token {number}")

    @property
    def acl(self) -> ACLStore:
        """The agent's ACL system (shared by a cluster), made on first use.

        It is off unless the ``acl`` option switched it on; tokens and policies can be made
        either way.
        """
        return self._ensure_acl()

    @property
    def acl_enabled(self) -> bool:
        """Whether ACLs are enforced (without making the ACL store)."""
        return self._acl is not None and self._acl.enabled

    def _ensure_acl(self) -> ACLStore:
        with self._cond:
            if self._acl is None:
                config = self.config
                self._acl = ACLStore(
                    enabled=config.acl is not None,
                    default_policy="deny" if config.acl == "deny" else "allow",
                    initial_management=config.management_token,
                    rng=self._rng,
                )
            return self._acl

    def reset(self, config: AgentConfig | None = None) -> None:
        """Forget every event, service and fire, restart the clock, and apply ``config``.

        Blocked list queries are answered at once with the emptied state.
        """
        with self._cond:
            self._configure(config if config is not None else self.config)
            self._releasing = False
            self._generation += 1
            self._cond.notify_all()

    def wake_all(self) -> None:
        """Answer every blocked list query now, with the current state (used on shutdown)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def release_blocked(self) -> None:
        """Answer blocked list queries now, and every later one at once, until the next reset.

        The ``consul_agent`` fixture calls this after each test, so a long poll the test left
        behind (even one still on its way to the server) ends instead of outliving the test.
        """
        with self._cond:
            self._releasing = True
            self._generation += 1
            self._cond.notify_all()

    def wait_for_blocked(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` list queries are blocked on this agent.

        Raises:
            TimeoutError: fewer were blocked when ``timeout`` seconds had passed.
        """
        with self._blocked_changed:
            if not self._blocked_changed.wait_for(
                lambda: self._blocked.get(self._generation, 0) >= count, timeout
            ):
                raise TimeoutError(
                    f"{self._blocked.get(self._generation, 0)} list queries blocked after "
                    f"{timeout}s, expected {count}"
                )

    @property
    def node_name(self) -> str:
        """The agent's node name, which node filters are matched against."""
        return self.config.node_name

    @property
    def datacenter(self) -> str:
        """The agent's datacenter."""
        return self.config.datacenter

    @property
    def default_acl_policy(self) -> str:
        """The value of ``X-Consul-Default-ACL-Policy``: ``allow`` unless ACLs say otherwise."""
        if self._acl is None:
            return "deny" if self.config.acl == "deny" else "allow"
        return self._acl.default_policy

    # -- ACLs ----------------------------------------------------------------------------------

    def create_token(
        self,
        rules: str | None = None,
        *,
        secret: str | None = None,
        policies: Iterable[str] = (),
        management: bool = False,
        description: str = "",
    ) -> Token:
        """Make an ACL token; its ``secret_id`` is what a request sends.

        ``rules`` (Consul's HCL or JSON, e.g. ``'event "deploy" { policy = "write" }'``) become
        a policy of the token's own; ``policies`` link existing ones by name or ID;
        ``management`` grants everything. ``secret`` may be any string (a UUID is made
        otherwise). Works whether or not ACLs are enforced.

        Raises:
            RulesParseError, InvalidPolicyError: the rules are not valid, with Consul's text.
            ACLStoreError: the secret is in use or a policy is unknown.
        """
        store = self.acl
        links = list(policies)
        own_policy = None
        if rules is not None:
            with self._cond:
                while True:
                    self._policy_counter += 1
                    name = f"token-policy-{self._policy_counter}"
                    if store.find_policy(name) is None:
                        break
                own_policy = store.create_policy(name, rules)
            links.append(own_policy.id)
        if management:
            links.append(GLOBAL_MANAGEMENT_POLICY_ID)
        try:
            if secret is not None:
                return store.configure_token(secret, policies=links, description=description)
            return store.create_token(policies=links, description=description)
        except ConsulError:
            if own_policy is not None:
                store.delete_policy(own_policy.id)
            raise

    def _resolve(self, token: str) -> ResolvedACL | None:
        """The authorizer of a token (already defaulted), ``None`` when ACLs are off.

        Raises:
            ACLNotFoundError: the token is unknown.
            RootACLError: the token is ``allow``, ``deny`` or ``manage``.
        """
        if self._acl is None or not self._acl.enabled:
            return None
        return self._acl.resolve(token)

    @property
    def blocked_queries(self) -> int:
        """How many list queries are blocked right now."""
        with self._cond:
            return self._blocked.get(self._generation, 0)

    # -- services ------------------------------------------------------------------------------

    @property
    def services(self) -> dict[str, Service]:
        """The local services by ID."""
        with self._cond:
            return dict(self._services)

    def register_service(
        self,
        name: str,
        *,
        service_id: str | None = None,
        tags: Iterable[str] = (),
        port: int = 0,
        address: str = "",
        meta: Mapping[str, str] | None = None,
    ) -> Service:
        """Add a local service, or replace the one with the same ID; the ID defaults to the name.

        Raises:
            ServiceError: the name is empty (``Missing service name``).
        """
        if not name:
            raise ServiceError(messages.MISSING_SERVICE_NAME, 400)
        service = coerce_service(
            Service(
                name=name,
                id=service_id or "",
                tags=tuple(tags),
                port=port,
                address=address,
                meta=dict(meta or {}),
            )
        )
        return self.add_service(service)

    def add_service(self, service: Service) -> Service:
        """Store ``service`` under its ID, replacing any earlier one."""
        with self._cond:
            self._services[service.id] = service
        return service

    def deregister_service(self, service_id: str) -> None:
        """Remove a local service by ID.

        Raises:
            ServiceError: no service has this ID (Consul answers 404).
        """
        with self._cond:
            if service_id not in self._services:
                raise ServiceError(
                    messages.UNKNOWN_SERVICE_ID.format(service_id=go_quote(service_id)), 404
                )
            del self._services[service_id]

    # -- firing --------------------------------------------------------------------------------

    def fire(
        self,
        name: str,
        payload: bytes | str | None = None,
        *,
        node: str | None = None,
        service: str | None = None,
        tag: str | None = None,
        dc: str | None = None,
        token: str | None = None,
    ) -> UserEvent:
        """Fire a user event as ``PUT /v1/event/fire/<name>`` does, with the same checks in order.

        Returns the event as Consul answers it (``ltime`` 0). An empty payload is the same as
        none, as over HTTP. The event reaches this agent's own buffer only if its filters admit
        this agent; the fire succeeds either way.

        Raises:
            MissingNameError: ``name`` is empty.
            InvalidFilterError: a filter is rejected (tag without service, bad Go regexp).
            NoPathToDatacenterError: ``dc`` names a datacenter this agent does not know.
            ACLNotFoundError: ACLs are on and the token is unknown (Consul answers 500 here).
            RootACLError: the token is ``allow``, ``deny`` or ``manage``.
            PermissionDeniedError: the token may not write this event.
            EventTooLargeError: serf's size limit refused the event.
        """
        if not name:
            raise MissingNameError()
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        compile_filters(node or "", service or "", tag or "")
        with self._cond:
            event = UserEvent(
                id=new_event_id(self._rng),
                name=name,
                payload=payload or None,
                node_filter=node or "",
                service_filter=service or "",
                tag_filter=tag or "",
                version=USER_EVENT_VERSION,
            )
        token = token or self.config.default_token
        datacenter = dc or self.config.datacenter
        try:
            if self.network is not None:
                server = self.network.route(self, datacenter)
            elif datacenter != self.config.datacenter:
                raise NoPathToDatacenterError()
            else:
                server = self
            message = server.serve_event_fire(event, token)
        except PermissionDeniedError as exc:
            if not self.config.server:
                # The HTTP body stays "Permission denied"; only the long form is wrapped.
                exc.detail = messages.RPC_ERROR_PREFIX + exc.detail
            raise
        except ConsulError as exc:
            if not self.config.server:
                # agent/pool/pool.go: a client agent reports what the server said, prefixed.
                exc.message = messages.RPC_ERROR_PREFIX + exc.message
                exc.args = (exc.message,)
            raise
        with self._cond:
            # Concurrent fires may come back in any order: keep `fired` in Lamport order.
            bisect.insort(self._fired, message.stamped, key=_ltime_of)
            if len(self._fired) > self.config.history_limit:
                del self._fired[0]  # the oldest; counted, so assertions know
                self._fired_dropped += 1
            self._cond.notify_all()
        return event

    def serve_event_fire(self, event: UserEvent, token: str) -> SerfUserEvent:
        """Be the server of a fire (``Internal.EventFire``): ACL check, serf, local delivery.

        The event is stamped with this server's Lamport time, stored here if its filters admit
        this agent, then gossiped to the rest of the datacenter. Returns the serf message.

        Raises:
            ACLNotFoundError, RootACLError, PermissionDeniedError: the token may not fire.
            EventTooLargeError: serf's size limit refused the event.
        """
        with self._cond:
            authz = self._resolve(token)
            if authz is not None:
                authz.require_event_write(event.name)
            message = self._serf.prepare(event)
            self.deliver(message)
        if self.network is not None:
            self.network.broadcast(self, message)
        return message

    # -- receiving -----------------------------------------------------------------------------

    @property
    def event_time(self) -> int:
        """This agent's serf event clock (the Lamport time its next fire would get)."""
        with self._cond:
            return self._serf.clock.time()

    def join_with_ignore_old(self, peer_event_time: int) -> None:
        """What serf does when Consul (re)joins with ``ignoreOld``: witness the peers' event
        clock and ignore every event older than it (serf ``MergeRemoteState``)."""
        with self._cond:
            self._serf.min_time = max(self._serf.min_time, peer_event_time)
            self._serf.clock.witness(peer_event_time)

    def deliver(self, message: SerfUserEvent) -> Receipt | None:
        """Hand a gossiped event to this agent, as serf and then Consul's agent process it.

        Returns serf's verdict, or ``None`` when serf accepted the event but this agent's
        filters (or the ``_rexec`` rule) kept it out of the buffer.
        """
        with self._cond:
            receipt = self._serf.receive(message)
            if receipt is not Receipt.ACCEPTED:
                return receipt
            event = message.stamped
            filters = received_filters(event.node_filter, event.service_filter, event.tag_filter)
            if filters is None or not filters.admits(
                self.config.node_name, self._services.values()
            ):
                return None
            if event.name == REMOTE_EXEC_NAME:
                return None
            self._buffer.append(event)
            self._cond.notify_all()
            return receipt

    # -- listing -------------------------------------------------------------------------------

    @property
    def events(self) -> list[UserEvent]:
        """The events this agent holds, oldest first (at most ``buffer_size``)."""
        with self._cond:
            return self._buffer.snapshot()

    @property
    def fired(self) -> list[UserEvent]:
        """Every event fired through this agent, in order, with the Lamport time serf gave it.

        Unlike :attr:`events`, this includes events whose filters kept them out of this
        agent's own buffer, and is not limited to the buffer size. It holds at most
        ``history_limit`` events: older ones are dropped and counted in :attr:`fired_dropped`.
        """
        with self._cond:
            return list(self._fired)

    @property
    def fired_dropped(self) -> int:
        """How many of the oldest fired events :attr:`fired` dropped since the last reset."""
        with self._cond:
            return self._fired_dropped

    def list_events(
        self,
        name: str = "",
        *,
        token: str = "",
        index: int = 0,
        wait: float = 0.0,
    ) -> EventListing:
        """List events as ``GET /v1/event/list`` does, blocking like Consul when asked to.

        With ``index`` 0 the answer is immediate. Otherwise, while the list's index equals
        ``index`` exactly, the call waits for a new event, up to ``wait`` seconds (0 means the
        10-minute default, more is capped at 10 minutes, a negative wait has no limit). Any other
        index, larger or smaller, answers at once: the index is not monotonic.

        Raises:
            ACLNotFoundError: ACLs are on and the token is unknown.
            RootACLError: the token is one of the reserved root names.
        """
        token = token or self.config.default_token
        authz = self._resolve(token)
        deadline: float | None = None
        if index:
            if wait == 0 or wait > MAX_QUERY_TIME:
                wait = MAX_QUERY_TIME
            if wait > 0:
                deadline = self.clock.now() + wait
        with self._cond:
            generation = self._generation
            while True:
                listing = self._listing(name, token, authz)
                if (
                    not index
                    or listing.index != index
                    or self._generation != generation
                    or self._releasing
                ):
                    return listing
                if deadline is not None and self.clock.now() >= deadline:
                    return listing
                # Counted under the generation it waits in: a query released by reset() or
                # release_blocked() no longer counts, even before its thread runs again.
                self._blocked[generation] = self._blocked.get(generation, 0) + 1
                self._blocked_changed.notify_all()
                try:
                    self.clock.wait(self._cond, deadline)
                finally:
                    left = self._blocked[generation] - 1
                    if left:
                        self._blocked[generation] = left
                    else:
                        del self._blocked[generation]

    def _listing(self, name: str, token: str, authz: ResolvedACL | None) -> EventListing:
        events = self._buffer.snapshot()
        if name:
            events = [event for event in events if event.name == name]
        removed = False
        if authz is not None:
            kept = [event for event in events if authz.event_read(event.name)]
            removed = len(kept) != len(events)
            events = kept
        index = id_to_index(events[-1].id) if events else EMPTY_LIST_INDEX
        return EventListing(events, index or EMPTY_LIST_INDEX, removed and bool(token))


__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "DEFAULT_HTTP_MAX_CONNS_PER_CLIENT",
    "MAX_QUERY_TIME",
    "Agent",
    "AgentConfig",
    "EventListing",
]
