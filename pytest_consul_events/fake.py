"""The fake agent served over HTTP: the model, the WSGI app and the server, as one object."""

from __future__ import annotations

import dataclasses
import warnings
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_consul_events import assertions
from pytest_consul_events.http.app import ConsulApp
from pytest_consul_events.http.requestlog import RequestLog
from pytest_consul_events.model.agent import AGENT_OPTIONS, Agent, AgentConfig, Network
from pytest_consul_events.model.clock import Clock, ManualClock, make_clock
from pytest_consul_events.report import describe_error, printable
from pytest_consul_events.server import HTTPServer
from pytest_consul_events.validation import (
    check_bool,
    check_int,
    check_optional_str,
    check_options,
    check_str,
)

if TYPE_CHECKING:
    import consul

    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.model.acl import ACLStore


REPORTED_REQUESTS = 30
"""How many of the latest requests a failure report lists."""

CONFIGURE_OPTIONS: tuple[str, ...] = (*AGENT_OPTIONS, "clock")
"""The options :meth:`FakeConsulAgent.configure` takes: the agent options and ``clock``."""

CONSTRUCTOR_OPTIONS: tuple[str, ...] = (
    *CONFIGURE_OPTIONS,
    "host",
    "port",
    "network",
    "acl_store",
    "strict",
)
"""The options ``FakeConsulAgent(...)`` takes."""

_NEW, _SERVING, _STOPPED = "new", "serving", "stopped"

STRICT_FAILURE = (
    "the code under test called endpoints the fake Consul agent does not implement (strict mode):"
)
"""The first line of :meth:`FakeConsulAgent.verify`'s failure (the plugin's strict mode says the
same)."""

CLUSTER_WIDE_OPTIONS = frozenset({"acl", "management_token", "tokens", "default_token", "dev_mode"})
"""Options an agent of a :class:`~pytest_consul_events.cluster.FakeConsulCluster` takes from the
cluster, so :meth:`FakeConsulAgent.restore` refuses them there."""

IDENTITY_OPTIONS = frozenset({"node_name", "datacenter", "server"})
"""What names an agent in its cluster's gossip: fixed once the agent has joined."""


def _without_cycles(client: Any) -> None:
    """Point a py-consul client's endpoint objects at it through a weak proxy.

    Each endpoint (``client.event``, ``client.agent.service``...) keeps its client in
    ``.agent``: a reference cycle, so that every client, once dropped, would wait for Python's
    cyclic garbage collector, whose passes then cost each later test of a session tens of µs.
    Through a weak proxy the client goes as soon as its last reference does, and the endpoints
    with it; an endpoint kept alone after that raises ``ReferenceError`` when used. Where the
    back-references are is found once per client class (:func:`_back_references`).
    """
    paths = _BACK_REFERENCES.get(type(client))
    if paths is None:
        paths = _BACK_REFERENCES[type(client)] = _back_references(client)
    proxy = weakref.proxy(client)
    for path in paths:
        holder = client
        for name in path[:-1]:
            holder = vars(holder)[name]
        fields = vars(holder)
        if fields.get(path[-1]) is client:
            fields[path[-1]] = proxy


_BACK_REFERENCES: dict[type, tuple[tuple[str, ...], ...]] = {}
"""Per py-consul client class: the attribute paths, from the client, that lead back to it."""


def _back_references(client: Any) -> tuple[tuple[str, ...], ...]:
    """The attribute paths from ``client`` through py-consul's own objects back to it."""
    found: list[tuple[str, ...]] = []
    pending: list[tuple[Any, tuple[str, ...]]] = [(client, ())]
    seen = {id(client)}
    while pending:
        holder, path = pending.pop()
        for name, value in vars(holder).items():
            if value is client:
                found.append((*path, name))
            elif (
                id(value) not in seen
                and type(value).__module__.startswith("consul.")
                and hasattr(value, "__dict__")
            ):
                seen.add(id(value))
                pending.append((value, (*path, name)))
    return tuple(found)


class FakeConsulAgent(Agent):
    """A fake Consul agent listening on ``host:port`` (127.0.0.1 and a free port by default).

    Everything :class:`~pytest_consul_events.model.agent.Agent` offers (``fire``, ``events``,
    ``register_service``, ``list_events``...) is here, plus the address. Use it as a context
    manager, or call :meth:`start` and :meth:`stop`::

        with FakeConsulAgent(node_name="web-1") as agent:
            requests.put(f"{agent.url}/v1/event/fire/deploy")

    The port is bound when the object is made, so a busy port raises ``OSError`` at once; it
    listens from :meth:`start` on, so a client of an agent never started is refused at once.
    Keyword options are those of :class:`~pytest_consul_events.model.agent.AgentConfig`, and
    ``clock`` (``"real"``, ``"manual"`` or a
    :class:`~pytest_consul_events.model.clock.ManualClock`).

    An agent serves between :meth:`start` and :meth:`stop`, once; :meth:`restart` serves a
    stopped agent again on the same address.

    Raises:
        TypeError, ValueError: an unknown option (the message lists the accepted ones) or an
            invalid value, naming it; checked before the port is bound.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        network: Network | None = None,
        acl_store: ACLStore | None = None,
        strict: bool = False,
        **options: Any,
    ) -> None:
        check_options(options, CONSTRUCTOR_OPTIONS, what="agent option")
        host = check_str(host, "host", empty=False)
        port = check_int(port, "port", minimum=0, maximum=65535)
        super().__init__(
            AgentConfig.build(**options), clock=clock, network=network, acl_store=acl_store
        )
        check_bool(strict, "strict")
        self.initial_config = self.config
        """The configuration the agent was made with, which :meth:`restore` goes back to."""
        self._initial_clock = self.clock
        self._initial_strict = strict
        self.strict = strict
        """Whether :meth:`verify` fails on requests for endpoints the fake does not serve."""
        self.cluster: FakeConsulCluster | None = None
        """The cluster this agent belongs to (set by the cluster), or ``None``."""
        self.app = ConsulApp(self)
        self.app.log = RequestLog(limit=self._history_limit)
        self.server = self._new_server(host, port)
        self._clients: list[Any] = []
        self._closed_clients: list[Any] = []
        self._state = _NEW
        self.restart_hint = "call restart() to serve it again on the same address"
        """What a message about a stopped agent tells the user to do (a cluster says
        ``cluster.start_agent(...)``)."""
        self.replay_option = "--consul-seed"
        """The option that replays a seed, as the failure report names it (pytest's; the
        standalone server's is ``--seed``)."""

    def _new_server(self, host: str, port: int) -> HTTPServer:
        """An HTTP server for this agent, bound (not yet listening) to ``host:port``."""
        return HTTPServer(
            self.app, host, port, on_stop=self.release_blocked, conn_limit=self._conn_limit
        )

    def _conn_limit(self) -> int:
        # Read at every new connection: the fixture reconfigures the agent for each test.
        return self.config.http_max_conns_per_client

    def _history_limit(self) -> int:
        return self.config.history_limit

    @property
    def host(self) -> str:
        """The address the server is bound to."""
        return self.server.host

    @property
    def port(self) -> int:
        """The port the server is bound to."""
        return self.server.port

    @property
    def http_addr(self) -> str:
        """``host:port``, the form of ``CONSUL_HTTP_ADDR``."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port``, the base of every endpoint."""
        return self.server.url

    @property
    def serving(self) -> bool:
        """Whether the agent was started and not stopped since."""
        return self._state == _SERVING

    def start(self) -> FakeConsulAgent:
        """Start serving; returns the agent.

        Raises:
            RuntimeError: it is serving already, or was stopped (see :meth:`restart`).
        """
        if self._state == _SERVING:
            raise RuntimeError(f"{self!r} is serving already: start() was called before")
        if self._state == _STOPPED:
            raise RuntimeError(f"{self!r} was stopped and cannot start again: {self.restart_hint}")
        self.server.start()
        self._state = _SERVING
        return self

    def stop(self) -> None:
        """Stop serving: blocked list queries are answered, connections closed, threads ended.

        Safe to call more than once, and on an agent never started.
        """
        self._state = _STOPPED
        self.server.stop()
        self.close_clients()

    def _require_serving(self, what: str) -> None:
        if self._state == _NEW:
            raise RuntimeError(
                f"{what} needs a serving agent, but start() was not called on {self!r}: use "
                "`with FakeConsulAgent(...) as agent:` or call agent.start() first"
            )
        if self._state == _STOPPED:
            raise RuntimeError(
                f"{what} needs a serving agent, but {self!r} was stopped: {self.restart_hint}"
            )

    def restart(self) -> FakeConsulAgent:
        """Serve again on the same address after :meth:`stop`, as a restarted agent would:
        with an empty event buffer and a fresh serf state (services and ACLs are kept).

        Raises:
            OSError: the port was taken in the meantime.
        """
        self.stop()
        services = list(self.services.values())
        self.reset(dataclasses.replace(self.config, seed=self._rng.getrandbits(32)))
        for service in services:
            self.add_service(service)
        self.server = self._new_server(self.host, self.port)
        self._state = _NEW
        return self.start()

    def configure(self, **options: Any) -> None:
        """Reset the agent to a fresh state with these options (the marker's keywords but
        ``strict``), and forget the requests it logged.

        ``clock`` is ``"real"`` (the default, also when left out), ``"manual"`` (a new
        :class:`~pytest_consul_events.model.clock.ManualClock`) or a ``ManualClock``. Every
        option is checked before anything changes: an invalid one leaves the agent as it was.

        Raises:
            TypeError, ValueError: an option is unknown (the message lists the accepted ones)
                or invalid, naming it.
        """
        check_options(options, CONFIGURE_OPTIONS, what="agent option")
        clock = make_clock(options.pop("clock", None))
        config = AgentConfig.build(**options)
        self.clock = clock
        self.reset(config)
        self.app.log.clear()

    def restore(self, **options: Any) -> None:
        """Start over from the configuration the agent was made with, with ``options`` (the
        marker's keywords, plus ``clock`` and ``strict``) applied over it: events, fires,
        services registered since, tokens and logged requests are forgotten and the Lamport
        clock restarts, as for a new test. Without a ``seed`` in either, a new one is drawn.

        ``clock`` is ``"real"``, ``"manual"`` (a new
        :class:`~pytest_consul_events.model.clock.ManualClock`) or a clock; left out, the agent
        goes back to the clock it was made with. An agent of a cluster keeps its node name,
        datacenter, role and clock, and takes ACL options from the cluster
        (:meth:`pytest_consul_events.cluster.FakeConsulCluster.configure`).

        Raises:
            TypeError, ValueError: an option is unknown or invalid, or may not change here;
                nothing is changed then.
        """
        clock = options.pop("clock", None)
        strict = check_bool(options.pop("strict", self._initial_strict), "strict")
        if self.cluster is not None:
            fixed = sorted(
                name
                for name in set(options) & IDENTITY_OPTIONS
                if options[name] != getattr(self.initial_config, name)
            )
            if fixed:
                raise ValueError(
                    f"{', '.join(fixed)} cannot change on an agent of a cluster "
                    f"(agent {self.node_name!r})"
                )
            shared = sorted(set(options) & CLUSTER_WIDE_OPTIONS)
            if clock is not None:
                shared.append("clock")
            if shared:
                verb = "applies" if len(shared) == 1 else "apply"
                raise ValueError(
                    f"{', '.join(shared)} {verb} to the whole cluster: configure the cluster"
                )
            new_clock = self.clock
        else:
            new_clock = self._initial_clock if clock is None else make_clock(clock)
        base = {field.name: getattr(self.initial_config, field.name) for field in _FIELDS}
        config = AgentConfig.build(**{**base, **options})
        self.clock = new_clock
        self.strict = strict
        self.reset(config)
        self.app.log.clear()

    def advance(self, seconds: float) -> float:
        """Move the agent's :class:`~pytest_consul_events.model.clock.ManualClock` forward,
        ending the blocking queries whose wait is over; returns the clock's new time.

        Raises:
            TypeError: the agent runs on real time.
            ValueError: ``seconds`` is negative.
        """
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs an agent made with clock='manual'")
        return self.clock.advance(seconds)

    @property
    def released(self) -> bool:
        """Whether :meth:`release_blocked` (or :meth:`stop`) ended the long polls, so that
        waits should end too; a reset clears it."""
        with self._cond:
            return self._releasing

    def verify(self) -> None:
        """In strict mode, fail if a request since the last reset was for an endpoint the fake
        does not serve (Consul's ``Invalid URL path`` 404), including one the request log has
        dropped past ``history_limit``; otherwise do nothing.

        Raises:
            AssertionError: :data:`STRICT_FAILURE` and the requests, one per line.
        """
        if not self.strict:
            return
        missing = self.requests.unimplemented
        lines = [f"  {record}" for record in missing]
        if missing.dropped:  # past history_limit: their paths are no longer known
            lines.append(f"  ... and {missing.dropped} earlier ones no longer kept")
        if lines:
            raise AssertionError("\n".join([STRICT_FAILURE, *lines]))

    def use_acl_store(self, store: ACLStore) -> None:
        """Share ``store`` (a cluster's ACL system) from the next reset on."""
        self._shared_acl = store

    @property
    def requests(self) -> RequestLog:
        """The HTTP requests served since the last reset (tokens redacted), oldest first: the
        latest ``history_limit`` of them, with a count of those dropped."""
        return self.app.log

    def client(self, *, token: str | None = None, dc: str | None = None) -> consul.Consul:
        """A py-consul ``consul.Consul`` bound to this agent over plain HTTP.

        Unlike ``consul.Consul()`` alone, the environment cannot redirect it: ``CONSUL_HTTP_SSL``
        and ``CONSUL_HTTP_TOKEN`` are ignored, and ``token`` is the only token it sends. It is
        closed by :meth:`close_clients` (after each test, under the ``consul_agent`` fixture).

        Raises:
            TypeError: ``token`` or ``dc`` is neither a ``str`` nor ``None``.
            RuntimeError: the agent is not serving (never started, or stopped), instead of a
                client that would wait for a time-out.
        """
        token = check_optional_str(token, "token")
        dc = check_optional_str(dc, "dc")
        self._require_serving("client()")
        import consul

        client = consul.Consul(host=self.host, port=self.port, scheme="http", verify=True, dc=dc)
        client.token = token
        _without_cycles(client)
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close the connections of every client :meth:`client` made (the ``consul_agent``
        fixture does it after each test, so tests need not).

        A closed client still works (a request opens a new connection). The agent keeps the
        clients of the last call until the next one, so that a thread a test left behind with
        one of their endpoints (``client.event``...) outlives it by one test at least (see
        :func:`_without_cycles`).
        """
        clients, self._clients = self._clients, []
        for client in clients:
            client.http.session.close()
        self._closed_clients = clients

    def aio_client(self, *, token: str | None = None, dc: str | None = None) -> Any:
        """A py-consul ``consul.aio.Consul``; create it inside a running event loop.

        Like :meth:`client`, it ignores ``CONSUL_HTTP_SSL`` and ``CONSUL_HTTP_TOKEN``.

        Raises:
            TypeError: ``token`` or ``dc`` is neither a ``str`` nor ``None``.
            RuntimeError: the agent is not serving (never started, or stopped).
        """
        token = check_optional_str(token, "token")
        dc = check_optional_str(dc, "dc")
        self._require_serving("aio_client()")
        import consul.aio

        with warnings.catch_warnings():
            # py-consul hands aiohttp arguments that recent aiohttp versions deprecate.
            warnings.simplefilter("ignore", DeprecationWarning)
            client = consul.aio.Consul(
                host=self.host, port=self.port, scheme="http", verify=True, dc=dc
            )
        client.token = token
        return client

    def __enter__(self) -> FakeConsulAgent:
        """Start serving unless serving already; returns the agent.

        Raises:
            RuntimeError: the agent was stopped (an earlier ``with`` block ended): entering
                again does not silently give a stopped agent, nor an emptied restarted one.
        """
        if self._state == _STOPPED:
            raise RuntimeError(
                f"{self!r} was stopped (by stop() or the end of a with block) and cannot be "
                f"entered again: {self.restart_hint}, or make a new FakeConsulAgent"
            )
        if self._state == _NEW:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    assert_fired = assertions.assert_fired
    assert_not_fired = assertions.assert_not_fired
    assert_fired_in_order = assertions.assert_fired_in_order
    wait_for_event = assertions.wait_for_event

    def failure_report(self) -> tuple[str, str]:
        """The title and text of the report section shown when a test using this agent fails.

        Never raises, whatever state the agent is in: a part that cannot be rendered says so.
        """
        lines: list[str] = []
        parts = (
            ("agent", self._report_head),
            ("events", self._report_events),
            ("requests", self._report_requests),
        )
        for label, part in parts:
            try:
                lines.extend(part())
            except Exception as exc:
                lines.append(f"({label} unavailable: {describe_error(exc)})")
        return "consul agent", printable("\n".join(lines))

    def _report_head(self) -> list[str]:
        where = f"{self.node_name} [{self.datacenter}] at {self.url}"
        cluster = self.cluster
        if cluster is not None:  # the cluster's seed replays its agents' seeds
            seed = (
                f"cluster seed {cluster.seed} (replay with {cluster.replay_option}={cluster.seed})"
            )
        else:
            seed = f"seed {self.seed} (replay with {self.replay_option}={self.seed})"
        return [f"{where}, {seed}"]

    def _report_events(self) -> list[str]:
        events = self.events
        lines = [f"events held ({len(events)}):"]
        for event in events:
            payload = "null" if event.payload is None else repr(event.payload[:60])
            lines.append(f"  {event.ltime:>4}  {event.name}  id={event.id}  payload={payload}")
        fired = self.fired
        if len(fired) != len(events):
            lines.append(f"fired through it: {', '.join(e.name for e in fired) or '(none)'}")
        return lines

    def _report_requests(self) -> list[str]:
        requests = list(self.requests)
        lines = [f"requests served ({len(requests)}):"]
        shown = requests[-REPORTED_REQUESTS:]
        earlier = len(requests) - len(shown) + self.requests.dropped
        if earlier:
            lines.append(f"  ... {earlier} earlier requests")
        lines.extend(
            f"  {record}" + ("" if record.implemented else "  (not served by the fake)")
            for record in shown
        )
        return lines

    def __repr__(self) -> str:
        try:
            return (
                f"<FakeConsulAgent {self.node_name!r} dc={self.datacenter!r} at {self.http_addr}>"
            )
        except Exception:
            return f"<FakeConsulAgent at {id(self):#x}>"


_FIELDS = dataclasses.fields(AgentConfig)
