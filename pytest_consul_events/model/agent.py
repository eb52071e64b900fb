"""One Consul agent's user-event behaviour: fire, receive, store, list and block.

Mirrors agent/user_event.go (validation, ingest filters, the ring buffer), the agent side of
agent/event_endpoint.go (the list index and blocking), and, for the firing path, the server's
``Internal.EventFire`` (datacenter, ACL ``event:write``, serf size limit).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import random
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    ConsulError,
    MissingNameError,
    NoKnownServersError,
    NoPathToDatacenterError,
    PermissionDeniedError,
    ServiceError,
)
from pytest_consul_events.gocompat.strconv import go_quote
from pytest_consul_events.messages import ANONYMOUS_TOKEN_SECRET, GLOBAL_MANAGEMENT_POLICY_ID
from pytest_consul_events.model.clock import Clock, ManualClock, make_clock
from pytest_consul_events.model.event import (
    REMOTE_EXEC_NAME,
    USER_EVENT_VERSION,
    UserEvent,
    id_to_index,
    new_event_id,
)
from pytest_consul_events.model.filters import compile_filters, received_filters
from pytest_consul_events.model.limits import (
    DEFAULT_HISTORY_LIMIT,
    DEFAULT_HTTP_MAX_CONNS_PER_CLIENT,
)
from pytest_consul_events.model.ringbuffer import DEFAULT_EVENT_BUFFER_SIZE, RingBuffer
from pytest_consul_events.model.serf import Receipt, SerfEvents, SerfUserEvent
from pytest_consul_events.model.services import MAX_PORT, Service, coerce_services
from pytest_consul_events.validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_optional_int,
    check_optional_str,
    check_options,
    check_payload,
    check_str,
    check_str_mapping,
    check_strings,
    check_timeout,
    must_be,
    plain,
)

if TYPE_CHECKING:
    # The ACL model is loaded when an agent first needs it: most tests never do.
    from pytest_consul_events.model.acl import ACLStore, ResolvedACL, Token

MAX_QUERY_TIME = 600.0
"""``maxQueryTime`` in agent/agent.go: the default and the cap of a blocking list, in seconds."""

EMPTY_LIST_INDEX = 1
"""The index of an empty list, so that watchers never see 0 (agent/event_endpoint.go)."""

DEFAULT_NODE_NAME = "node1"
DEFAULT_DATACENTER = "dc1"

MAX_BUFFER_SIZE = 1_000_000_000
"""The largest ``buffer_size`` accepted (Consul's is fixed at 256)."""

MAX_SEED = 2**64 - 1
"""The largest ``seed`` accepted: seeds are unsigned 64-bit numbers."""

MAX_INDEX = 2**64 - 1
"""The largest list ``index``: Consul parses it as an unsigned 64-bit number."""


@dataclasses.dataclass(frozen=True)
class AgentConfig:
    """How an agent is set up; every field can be given to the ``consul_agent`` marker.

    ``seed`` fixes the event IDs (and so the list indexes) an agent produces; ``None`` draws one.
    ``dev_mode`` pretty-prints every JSON answer, as ``consul agent -dev`` does. ``server``
    says whether the agent is a server; a client agent forwards fires to a server and reports
    the server's errors prefixed with ``rpc error making call:``, as Consul's clients do (not
    ``No known Consul servers``, which a client with no reachable server produces itself).

    ACLs are off unless ``acl`` is ``"allow"`` or ``"deny"``: then they are enforced with that
    default policy. ``management_token`` is a secret with every permission (Consul's
    ``acl.tokens.initial_management``); ``tokens`` maps secrets to the rules (HCL or JSON) of
    a token made for each; ``default_token`` is used by requests that carry none.

    ``http_max_conns_per_client`` is Consul's limit on concurrent HTTP connections from one
    client IP (0: no limit); the connection over it is answered 429 and closed.
    ``history_limit`` caps :attr:`Agent.fired` and the request log (0: no cap): past it the
    oldest records are dropped, and counted.
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

    def __post_init__(self) -> None:
        """Check every field, so that no invalid config exists however it was made.

        Raises:
            TypeError, ValueError: a field has a value of the wrong type or out of range,
                naming the field (see :meth:`build`).
        """
        update = functools.partial(object.__setattr__, self)
        update("node_name", check_str(self.node_name, "node_name", empty=False))
        update("datacenter", check_str(self.datacenter, "datacenter", empty=False))
        update("services", tuple(coerce_services(self.services)))
        update(
            "buffer_size",
            check_int(self.buffer_size, "buffer_size", minimum=1, maximum=MAX_BUFFER_SIZE),
        )
        update("seed", check_optional_int(self.seed, "seed", minimum=0, maximum=MAX_SEED))
        check_bool(self.dev_mode, "dev_mode")
        check_bool(self.server, "server")
        check_choice(self.acl, "acl", (None, "allow", "deny"))
        check_optional_str(self.management_token, "management_token", empty=False)
        check_str(self.default_token, "default_token")
        update("tokens", check_str_mapping(self.tokens, "tokens", empty_keys=False))
        check_int(self.http_max_conns_per_client, "http_max_conns_per_client", minimum=0)
        check_int(self.history_limit, "history_limit", minimum=0)
        self._check_acl_options()

    def _check_acl_options(self) -> None:
        if self.acl is None:
            given = {
                "tokens": self.tokens,
                "management_token": self.management_token,
                "default_token": self.default_token,
            }
            for name, value in given.items():
                if value:
                    raise ValueError(
                        must_be(name, "given with acl='allow' or acl='deny' (ACLs are off)", value)
                    )
        if self.management_token == ANONYMOUS_TOKEN_SECRET:
            raise ValueError(
                must_be(
                    "management_token",
                    f"a secret other than {ANONYMOUS_TOKEN_SECRET!r} (the anonymous token's)",
                    self.management_token,
                )
            )
        for secret, rules in self.tokens.items():
            if secret in (ANONYMOUS_TOKEN_SECRET, self.management_token):
                raise ValueError(
                    must_be(
                        "tokens keys",
                        f"secrets other than {ANONYMOUS_TOKEN_SECRET!r} (the anonymous "
                        "token's) and management_token",
                        secret,
                    )
                )
            from pytest_consul_events.model.acl import parse_rules

            try:
                parse_rules(rules)
            except ConsulError as exc:
                raise ValueError(
                    f"{must_be(f'tokens[{secret!r}]', 'ACL rules in HCL or JSON', rules)}: "
                    f"{exc.message}"
                ) from exc

    @classmethod
    def build(cls, **options: Any) -> AgentConfig:
        """Validate keyword options eagerly and return a config.

        Every rule: ``node_name`` and ``datacenter`` are non-empty ``str``; ``services`` a list
        or tuple of names, dicts of service fields (``name``, ``id``, ``tags``, ``port``,
        ``address``, ``meta``, ``enable_tag_override``, each of its own type) or
        :class:`~pytest_consul_events.model.services.Service`, with distinct IDs;
        ``buffer_size`` an ``int`` from 1 to :data:`MAX_BUFFER_SIZE`; ``seed`` an ``int`` from 0
        to 2**64-1 or ``None``; ``dev_mode`` and ``server`` ``True`` or ``False``; ``acl``
        ``None``, ``"allow"`` or ``"deny"``; ``management_token`` a non-empty ``str`` or
        ``None``; ``default_token`` a ``str``; ``tokens`` a dict of non-empty secrets to ACL
        rules that parse. ``tokens``, ``management_token`` and ``default_token`` need ACLs on.

        Raises:
            TypeError: an unknown option (the message lists the accepted ones), or a value of
                the wrong type (``bool`` is not an ``int``, a ``str`` is not a ``bool``).
            ValueError: a value out of range (an empty node name, a buffer of no slots,
                tokens while ACLs are off, rules that do not parse).
        """
        if not options:
            return _DEFAULT_CONFIG
        check_options(options, AGENT_OPTIONS, what="agent option")
        return cls(**options)


AGENT_OPTIONS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(AgentConfig))
"""The options of :class:`AgentConfig` (those of the ``consul_agent`` marker but ``clock`` and
``strict``)."""

_DEFAULT_CONFIG = AgentConfig()


def _seeded(seed: int) -> tuple[random.Random, str]:
    """A random source for ``seed`` and the node ID it draws first."""
    rng = random.Random(seed)
    return rng, new_event_id(rng)


def _ltime_of(event: UserEvent) -> int:
    return event.ltime


class EventListing(NamedTuple):
    """The answer to a list: the events, the ``X-Consul-Index`` and whether ACLs hid some.

    A named tuple: ``events, index, filtered = agent.list_events()`` unpacks it, and
    ``listing.events``, ``listing.index``, ``listing.filtered_by_acls`` read it. The ``index``
    field hides ``tuple.index()``, which a listing has no use for.
    """

    events: list[UserEvent]
    index: int  # type: ignore[assignment]  # the X-Consul-Index, in place of tuple.index()
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
        clock: Clock | str | None = None,
        network: Network | None = None,
        acl_store: ACLStore | None = None,
        **options: Any,
    ) -> None:
        if config is not None:
            if not isinstance(config, AgentConfig):
                raise TypeError(must_be("config", "an AgentConfig or None", config))
            if options:
                raise TypeError("pass either a config or keyword options, not both")
        else:
            check_options(
                options, (*AGENT_OPTIONS, "config", "clock", "network", "acl_store"),
                what="agent option",
            )  # fmt: skip
        self.clock = make_clock(clock)
        self.network = _check_network(network)
        if acl_store is not None:
            from pytest_consul_events.model.acl import ACLStore

            if not isinstance(acl_store, ACLStore):
                raise TypeError(must_be("acl_store", "an ACLStore or None", acl_store))
        self._shared_acl = acl_store
        lock = threading.RLock()
        self._cond = threading.Condition(lock)
        self._blocked_changed = threading.Condition(lock)
        self._generation = 0
        self._blocked: dict[int, int] = {}
        self._releasing = False
        self._configure(config if config is not None else AgentConfig.build(**options))

    @property
    def clock(self) -> Clock:
        """The clock blocking list queries wait on: the real one, or a
        :class:`~pytest_consul_events.model.clock.ManualClock`.

        It may be set to anything :func:`~pytest_consul_events.model.clock.make_clock` takes
        (``"real"``, ``"manual"``, a ``ManualClock``).
        """
        return self._clock

    @clock.setter
    def clock(self, value: Clock | str | None) -> None:
        self._clock = make_clock(value)

    # -- configuration -------------------------------------------------------------------------

    def _configure(self, config: AgentConfig) -> None:
        """Replace the whole state with a fresh one for ``config``; all or nothing.

        The new state (and its ACL tokens) is built first and only then put in place, so a
        failure leaves the agent as it was.
        """
        seed = config.seed if config.seed is not None else random.getrandbits(32)
        # Seeding a Random costs more than the rest of a reset, and most tests never draw
        # from it: it is made on first use (see _rng), unless the ACL store needs it now.
        rng: random.Random | None = None
        node_id = ""
        buffer: RingBuffer[UserEvent] = RingBuffer(config.buffer_size)
        acl = self._shared_acl
        counter = 0
        if acl is None and config.acl is not None:
            # Made now, so that ACLs hold from the first request.
            rng, node_id = _seeded(seed)
            acl = _new_acl_store(config, rng)
        if acl is not None:
            for number, (secret, rules) in enumerate(config.tokens.items(), start=1):
                _, counter = _make_token(
                    acl, counter, rules, secret=secret, description=f"token {number}"
                )
        self.config = config
        self.seed = seed
        self._seeded_rng = rng
        self._node_id = node_id
        self._buffer = buffer
        self._serf = SerfEvents()
        self._services: dict[str, Service] = {s.id: s for s in config.services}
        self._fired: list[UserEvent] = []
        self._fired_dropped = 0
        self._policy_counter = counter
        self._acl = acl

    def _random(self) -> random.Random:
        """The agent's random source, seeded with :attr:`seed` and made on first use: its
        first draw is the node ID, the next ones the event IDs (so a seed replays both)."""
        rng = self._seeded_rng
        if rng is None:
            with self._cond:
                rng = self._seeded_rng
                if rng is None:
                    rng, self._node_id = _seeded(self.seed)
                    self._seeded_rng = rng
        return rng

    _rng = property(_random)

    @property
    def node_id(self) -> str:
        """The agent's node ID, drawn from its seed."""
        self._random()
        return self._node_id

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
                self._acl = _new_acl_store(self.config, self._rng)
            return self._acl

    def reset(self, config: AgentConfig | None = None) -> None:
        """Forget every event, service and fire, restart the clock, and apply ``config``.

        Blocked list queries are answered at once with the emptied state.

        Raises:
            TypeError: ``config`` is not an :class:`AgentConfig` (nothing is reset then).
        """
        if config is not None and not isinstance(config, AgentConfig):
            raise TypeError(must_be("config", "an AgentConfig or None", config))
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

        ``timeout`` is in real seconds, whatever the agent's clock.

        Raises:
            TypeError, ValueError: ``count`` is not an ``int`` >= 0, or ``timeout`` not a
                finite number >= 0.
            TimeoutError: fewer were blocked when ``timeout`` seconds had passed.
        """
        count = check_int(count, "count", minimum=0)
        seconds = check_timeout(timeout)
        with self._blocked_changed:
            if not self._blocked_changed.wait_for(
                lambda: self._blocked.get(self._generation, 0) >= count,
                min(seconds, threading.TIMEOUT_MAX),
            ):
                raise TimeoutError(
                    f"{self._blocked.get(self._generation, 0)} list queries blocked after "
                    f"{plain(timeout)}s, expected {plain(count)}"
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
            TypeError, ValueError: an argument has the wrong type (``policies`` a single
                ``str``), or ``secret`` is empty.
            RulesParseError, InvalidPolicyError: the rules are not valid, with Consul's text.
            ACLStoreError: the secret is in use or a policy is unknown.
        """
        rules = check_optional_str(rules, "rules")
        secret = check_optional_str(secret, "secret", empty=False)
        links = check_strings(policies, "policies")
        management = check_bool(management, "management")
        description = check_str(description, "description")
        store = self.acl
        with self._cond:
            token, self._policy_counter = _make_token(
                store,
                self._policy_counter,
                rules,
                secret=secret,
                policies=links,
                management=management,
                description=description,
            )
        return token

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
            TypeError: an argument has the wrong type: ``name``, ``service_id`` and ``address``
                are ``str`` (``service_id`` may be ``None``), ``tags`` a list or tuple of
                ``str`` (not a single ``str``), ``port`` an ``int``, ``meta`` a dict of ``str``
                to ``str`` or ``None``.
            ValueError: ``port`` is not from 0 to 65535 (over HTTP, Consul takes any int).
            ServiceError: the name is empty (``Missing service name``, as Consul answers).
        """
        name = check_str(name, "name")
        service_id = check_optional_str(service_id, "service_id")
        checked_tags = check_strings(tags, "tags")
        port = check_int(port, "port", minimum=0, maximum=MAX_PORT)
        address = check_str(address, "address")
        checked_meta = {} if meta is None else check_str_mapping(meta, "meta")
        if not name:
            raise ServiceError(messages.MISSING_SERVICE_NAME, 400)
        service = Service(
            name=name,
            id=service_id or "",
            tags=checked_tags,
            port=port,
            address=address,
            meta=checked_meta,
        )
        return self.add_service(service)

    def add_service(self, service: Service) -> Service:
        """Store ``service`` under its ID, replacing any earlier one.

        Raises:
            TypeError: ``service`` is not a :class:`Service`.
        """
        if not isinstance(service, Service):
            raise TypeError(must_be("service", "a Service", service))
        with self._cond:
            self._services[service.id] = service
        return service

    def deregister_service(self, service_id: str) -> None:
        """Remove a local service by ID.

        Raises:
            TypeError: ``service_id`` is not a ``str``.
            ServiceError: no service has this ID (Consul answers 404).
        """
        check_str(service_id, "service_id")
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
            TypeError: an argument has the wrong type: ``name`` is a ``str``, ``payload``
                ``bytes``, ``str`` or ``None``, the filters, ``dc`` and ``token`` ``str`` or
                ``None``.
            ValueError: a ``str`` payload UTF-8 cannot encode.
            MissingNameError: ``name`` is empty.
            InvalidFilterError: a filter is rejected (tag without service, bad Go regexp).
            NoPathToDatacenterError: ``dc`` names a datacenter this agent does not know.
            NoServerError: in a cluster, no running server is reachable (see ``Gossip.route``).
            ACLNotFoundError: ACLs are on and the token is unknown (Consul answers 500 here).
            RootACLError: the token is ``allow``, ``deny`` or ``manage``.
            PermissionDeniedError: the token may not write this event.
            EventTooLargeError: serf's size limit refused the event.
        """
        check_str(name, "name")
        payload = check_payload(payload)
        node = check_optional_str(node, "node")
        service = check_optional_str(service, "service")
        tag = check_optional_str(tag, "tag")
        dc = check_optional_str(dc, "dc")
        token = check_optional_str(token, "token")
        if not name:
            raise MissingNameError()
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
        except NoKnownServersError:
            raise  # the client's own RPC layer found no server: nothing to prefix
        except ConsulError as exc:
            if not self.config.server:
                # agent/pool/pool.go: a client agent reports what the server said, prefixed.
                exc.message = messages.RPC_ERROR_PREFIX + exc.message
                exc.args = (exc.message,)
            raise
        with self._cond:
            # Concurrent fires may come back in any order: keep `fired` in Lamport order.
            bisect.insort(self._fired, message.stamped, key=_ltime_of)
            limit = self.config.history_limit
            if limit and len(self._fired) > limit:
                del self._fired[0]  # the oldest; counted, so assertions know
                self._fired_dropped += 1
            self._cond.notify_all()
        return event

    def serve_event_fire(self, event: UserEvent, token: str) -> SerfUserEvent:
        """Be the server of a fire (``Internal.EventFire``): ACL check, serf, local delivery.

        The event is stamped with this server's Lamport time, stored here if its filters admit
        this agent, then gossiped to the rest of the datacenter. Returns the serf message.

        Raises:
            TypeError: ``event`` is not a :class:`UserEvent` or ``token`` not a ``str``.
            ACLNotFoundError, RootACLError, PermissionDeniedError: the token may not fire.
            EventTooLargeError: serf's size limit refused the event.
        """
        if not isinstance(event, UserEvent):
            raise TypeError(must_be("event", "a UserEvent", event))
        check_str(token, "token")
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
        clock and ignore every event older than it (serf ``MergeRemoteState``).

        Raises:
            TypeError, ValueError: ``peer_event_time`` is not an ``int`` >= 0.
        """
        check_int(peer_event_time, "peer_event_time", minimum=0)
        with self._cond:
            self._serf.min_time = max(self._serf.min_time, peer_event_time)
            self._serf.clock.witness(peer_event_time)

    def deliver(self, message: SerfUserEvent) -> Receipt | None:
        """Hand a gossiped event to this agent, as serf and then Consul's agent process it.

        Returns serf's verdict, or ``None`` when serf accepted the event but this agent's
        filters (or the ``_rexec`` rule) kept it out of the buffer.

        Raises:
            TypeError: ``message`` is not a :class:`SerfUserEvent`.
        """
        if not isinstance(message, SerfUserEvent):
            raise TypeError(must_be("message", "a SerfUserEvent", message))
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
        ``history_limit`` events (all with 0): older ones are dropped and counted in
        :attr:`fired_dropped`.
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
        name: str | None = "",
        *,
        token: str | None = "",
        index: int = 0,
        wait: float = 0.0,
    ) -> EventListing:
        """List events as ``GET /v1/event/list`` does, blocking like Consul when asked to.

        With ``index`` 0 the answer is immediate. Otherwise, while the list's index equals
        ``index`` exactly, the call waits for a new event, up to ``wait`` seconds on the agent's
        clock (0 means the 10-minute default, more is capped at 10 minutes). Any other index,
        larger or smaller, answers at once: the index is not monotonic. ``name`` ``""`` or
        ``None`` lists every name; ``token`` ``""`` or ``None`` uses the default token.

        Unlike over HTTP, where a negative wait has no limit, ``wait`` must be >= 0 here. On a
        :class:`~pytest_consul_events.model.clock.ManualClock`, a query that would block in the
        thread that made the clock (the test's thread, under the fixtures) could never end,
        since that thread is the one that advances the clock: it raises instead. From another
        thread it blocks until an event or :meth:`ManualClock.advance` ends it.

        Raises:
            TypeError, ValueError: ``name`` or ``token`` is not a ``str`` (or ``None``),
                ``index`` not an ``int`` from 0 to 2**64-1, or ``wait`` not a finite number
                >= 0.
            RuntimeError: the query would block for ever on a manual clock (above).
            ACLNotFoundError: ACLs are on and the token is unknown.
            RootACLError: the token is one of the reserved root names.
        """
        name = check_optional_str(name, "name")
        token = check_optional_str(token, "token")
        index = check_int(index, "index", minimum=0, maximum=MAX_INDEX)
        seconds = check_number(wait, "wait", minimum=0, what="a finite number of seconds")
        return self._list(name or "", token or "", index, seconds, from_python=True)

    def authorize_agent_read(self, token: str | None = "") -> None:
        """The ``agent:read`` check ``/v1/agent/self`` makes on this agent's node name, with
        the request's token (or the agent's default token); nothing when ACLs are off.

        Raises:
            PermissionDeniedError: the token may not read this agent (Consul's long text in
                ``detail``).
            ACLNotFoundError: ACLs are on and the token is unknown.
            RootACLError: the token is one of the reserved root names.
        """
        token = check_optional_str(token, "token")
        authz = self._resolve(token or self.config.default_token)
        if authz is not None:
            authz.require_agent_read(self.node_name)

    def serve_list_events(
        self, name: str | None = "", *, token: str | None = "", index: int = 0, wait: float = 0.0
    ) -> EventListing:
        """:meth:`list_events` with the rules of the HTTP API, for the HTTP layer.

        A negative ``wait`` has no limit, as in Consul, and no query is refused for the thread
        it runs in (an HTTP handler thread never advances a clock).

        Raises:
            TypeError, ValueError: as :meth:`list_events`, but for a negative ``wait``.
            ACLNotFoundError: ACLs are on and the token is unknown.
            RootACLError: the token is one of the reserved root names.
        """
        name = check_optional_str(name, "name")
        token = check_optional_str(token, "token")
        index = check_int(index, "index", minimum=0, maximum=MAX_INDEX)
        seconds = check_number(wait, "wait", what="a finite number of seconds")
        return self._list(name or "", token or "", index, seconds, from_python=False)

    def _list(
        self, name: str, token: str, index: int, wait: float, *, from_python: bool
    ) -> EventListing:
        token = token or self.config.default_token
        authz = self._resolve(token)
        clock = self._clock
        deadline: float | None = None
        requested = wait
        if index:
            if wait == 0 or wait > MAX_QUERY_TIME:
                wait = MAX_QUERY_TIME
            if wait > 0:
                deadline = clock.now() + wait
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
                if deadline is not None and clock.now() >= deadline:
                    return listing
                if (
                    from_python
                    and isinstance(clock, ManualClock)
                    and clock.owned_by_current_thread()
                ):
                    raise RuntimeError(
                        f"list_events(index={index}, wait={requested:g}) would wait for ever: "
                        f"index {index} is the current index, so the query waits for a new "
                        "event or for the agent's ManualClock to reach its deadline, and this "
                        "thread, which made the clock, cannot advance it while it waits; list "
                        "from another thread, or wait with wait_for_event()"
                    )
                # Counted under the generation it waits in: a query released by reset() or
                # release_blocked() no longer counts, even before its thread runs again.
                self._blocked[generation] = self._blocked.get(generation, 0) + 1
                self._blocked_changed.notify_all()
                try:
                    clock.wait(self._cond, deadline)
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


def _check_network(network: object) -> Network | None:
    if network is None:
        return None
    if not (
        callable(getattr(network, "route", None)) and callable(getattr(network, "broadcast", None))
    ):
        raise TypeError(
            must_be("network", "a Network (with route() and broadcast()) or None", network)
        )
    return network  # type: ignore[return-value]


def _new_acl_store(config: AgentConfig, rng: random.Random) -> ACLStore:
    """The ACL system of a lone agent: enforced when ``config.acl`` says so."""
    from pytest_consul_events.model.acl import ACLStore

    return ACLStore(
        enabled=config.acl is not None,
        default_policy="deny" if config.acl == "deny" else "allow",
        initial_management=config.management_token,
        rng=rng,
    )


def _make_token(
    store: ACLStore,
    counter: int,
    rules: str | None,
    *,
    secret: str | None = None,
    policies: Iterable[str] = (),
    management: bool = False,
    description: str = "",
) -> tuple[Token, int]:
    """Make a token in ``store`` as :meth:`Agent.create_token` describes; returns it and the
    number of the last ``token-policy-N`` name tried (the next call starts after it)."""
    links = list(policies)
    own_policy = None
    if rules is not None:
        while True:
            counter += 1
            name = f"token-policy-{counter}"
            if store.find_policy(name) is None:
                break
        own_policy = store.create_policy(name, rules)
        links.append(own_policy.id)
    if management:
        links.append(GLOBAL_MANAGEMENT_POLICY_ID)
    try:
        if secret is not None:
            token = store.configure_token(secret, policies=links, description=description)
        else:
            token = store.create_token(policies=links, description=description)
    except ConsulError:
        if own_policy is not None:
            store.delete_policy(own_policy.id)
        raise
    return token, counter


__all__ = [
    "AGENT_OPTIONS",
    "DEFAULT_HISTORY_LIMIT",
    "DEFAULT_HTTP_MAX_CONNS_PER_CLIENT",
    "MAX_QUERY_TIME",
    "Agent",
    "AgentConfig",
    "EventListing",
]
