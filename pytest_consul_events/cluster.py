"""A simulated Consul cluster: several fake agents, each served over HTTP, joined by gossip.

Each agent has its own node name, services, event buffer, Lamport clock and address. Fires
go to a server of the datacenter (``?dc=`` picks another datacenter), which gossips the event
to the others through :class:`~pytest_consul_events.model.gossip.Gossip`, whose delivery the
test controls: order, delay, loss, duplication, manual release, partitions, stopped agents.
"""

from __future__ import annotations

import dataclasses
import os
import random
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.acl import ACLStore
from pytest_consul_events.model.agent import AGENT_OPTIONS, MAX_SEED, AgentConfig
from pytest_consul_events.model.clock import Clock, ManualClock, make_clock
from pytest_consul_events.model.gossip import GOSSIP_OPTIONS, Gossip, GossipSettings, TraceEntry
from pytest_consul_events.report import describe_error, format_trace, printable
from pytest_consul_events.validation import (
    check_agent_name,
    check_bool,
    check_int,
    check_optional_int,
    check_options,
    check_str,
    must_be,
    shown,
)

if TYPE_CHECKING:
    import consul

AgentSpec = str | Mapping[str, Any]
DEFAULT_AGENTS: tuple[str, ...] = ("node1", "node2", "node3")
SHARED_OPTIONS = ("acl", "management_token", "default_token", "tokens", "dev_mode")
"""Agent options given to the cluster, which apply to every agent of it."""

CLUSTER_OPTIONS: tuple[str, ...] = (
    "agents",
    "seed",
    "host",
    "clock",
    *SHARED_OPTIONS,
    *GOSSIP_OPTIONS,
)
"""Every option ``FakeConsulCluster(...)`` (and the ``consul_cluster`` marker) takes."""

_CLUSTER_WIDE = frozenset({"acl", "management_token", "tokens", "seed"})
AGENT_SPEC_OPTIONS: tuple[str, ...] = (
    *(name for name in AGENT_OPTIONS if name not in _CLUSTER_WIDE),
    "port",
    "strict",
)
"""The options one agent of a cluster may have in its mapping (``acl``, ``management_token``,
``tokens`` and ``seed`` are the whole cluster's); ``strict`` is the agent's strict mode
(:meth:`FakeConsulAgent.verify`)."""

_AGENT_SPEC_NOTE = " (acl, management_token, tokens and seed apply to the whole cluster)"
_AGENT_ACCEPTED = "a node name (a non-empty str) or a dict of agent options with a node_name"


def _gossip_settings(options: Mapping[str, Any]) -> GossipSettings:
    """The gossip settings among ``options`` (checked by :class:`GossipSettings`)."""
    return GossipSettings(**{k: v for k, v in options.items() if k in GOSSIP_OPTIONS})


class AgentBindError(OSError):
    """An agent of the cluster could not listen on its address (``errno`` and ``strerror``
    are those of the socket's error)."""

    def __init__(self, node_name: str, host: str, port: int, cause: OSError) -> None:
        # socket.create_server appends the address to strerror: keep the system's text only.
        super().__init__(cause.errno, os.strerror(cause.errno) if cause.errno else cause.strerror)
        self.node_name = node_name
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return f"agent {self.node_name!r} cannot listen on {self.host}:{self.port}: {self.strerror}"


class FakeConsulCluster:
    """Agents by node name, their gossip, and the controls over it; a context manager.

    ``agents`` lists names or mappings of agent options (``node_name``, ``datacenter``,
    ``services``, ``server``, ``buffer_size``..., and ``port``: a fixed port on ``host``
    instead of a free one). In each datacenter the first agent is a server unless some agent
    there says ``server=True``. ``seed`` fixes every random choice
    (event IDs, delivery order, delays, loss, duplicates); ``None`` draws one, shown by
    :attr:`seed`. Gossip options (``unordered``, ``delay``, ``loss``, ``duplicate``,
    ``manual``, ``flush_after``) and ACL options (``acl``, ``management_token``, ``tokens``,
    ``default_token``) apply to the whole cluster. ``clock`` is ``"real"``, ``"manual"`` or a
    :class:`~pytest_consul_events.model.clock.ManualClock`.

    Every option is checked before any agent is made or any port bound.

    Raises:
        TypeError, ValueError: an unknown option (the message lists the accepted ones) or an
            invalid value, naming it (``agents[1]: buffer_size must be ...`` for an agent's).
        AgentBindError: an agent's port is taken (an ``OSError`` naming the agent and port).
    """

    def __init__(
        self,
        agents: Sequence[AgentSpec] = DEFAULT_AGENTS,
        *,
        seed: int | None = None,
        host: str = "127.0.0.1",
        clock: Clock | str | None = None,
        **options: Any,
    ) -> None:
        self.agents: dict[str, FakeConsulAgent] = {}
        self._closed = False
        self.replay_option = "--consul-seed"
        """The option that replays the seed, as :meth:`report` names it (pytest's; the
        standalone server's is ``--seed``)."""
        seed, host, self.clock, specs = self._checked(agents, seed, host, clock, options)
        self._mark_servers(specs)
        self._initial_seed = seed
        self._initial_clock = self.clock
        self._initial_options = dict(options)
        self._options = dict(options)
        self.seed, self.gossip, self.acl, seeds = self._shared_state(seed, options)
        self._created: dict[str, AgentConfig] = {}
        try:
            for spec in specs:
                try:
                    agent = FakeConsulAgent(
                        host=host,
                        clock=self.clock,
                        acl_store=self.acl,
                        **spec,
                        seed=seeds.getrandbits(32),
                    )
                except OSError as exc:
                    raise AgentBindError(spec["node_name"], host, spec.get("port", 0), exc) from exc
                agent.cluster = self
                agent.restart_hint = (
                    f"call cluster.start_agent({agent.node_name!r}) to serve it again"
                )
                self.gossip.join(agent)
                self.agents[agent.node_name] = agent
                self._created[agent.node_name] = agent.initial_config
            self._create_tokens()
        except BaseException:
            self.close()
            raise

    @classmethod
    def check_options(
        cls,
        agents: Sequence[AgentSpec] = DEFAULT_AGENTS,
        *,
        seed: int | None = None,
        host: str = "127.0.0.1",
        clock: Clock | str | None = None,
        **options: Any,
    ) -> None:
        """Check options exactly as the constructor does, without making an agent.

        Raises:
            TypeError, ValueError: as the constructor would.
        """
        cls._checked(agents, seed, host, clock, options)

    @classmethod
    def _checked(
        cls,
        agents: object,
        seed: object,
        host: object,
        clock: object,
        options: dict[str, Any],
    ) -> tuple[int | None, str, Clock, list[dict[str, Any]]]:
        """Every option checked, before anything is made: the seed, the host, the clock and
        each agent's options."""
        check_options(options, CLUSTER_OPTIONS, what="cluster option")
        checked_seed = check_optional_int(seed, "seed", minimum=0, maximum=MAX_SEED)
        checked_host = check_str(host, "host", empty=False)
        checked_clock = make_clock(clock)
        _gossip_settings(options)
        shared = {k: v for k, v in options.items() if k in SHARED_OPTIONS}
        AgentConfig.build(**shared)
        specs = cls._specs(agents, shared)
        return checked_seed, checked_host, checked_clock, specs

    def _shared_state(
        self, seed: int | None, options: Mapping[str, Any]
    ) -> tuple[int, Gossip, ACLStore, random.Random]:
        """The seed, gossip and ACL system for these options, and the source of the agents'
        seeds (drawn in the agents' order, so that a seed replays the same agents).

        Raises:
            TypeError, ValueError: an option value is invalid.
        """
        if seed is None:
            seed = random.SystemRandom().getrandbits(32)
        settings = _gossip_settings(options)
        acl_config = AgentConfig.build(
            **{k: v for k, v in options.items() if k in SHARED_OPTIONS and k != "dev_mode"}
        )
        seeds = random.Random(seed)
        acl = ACLStore(
            enabled=acl_config.acl is not None,
            default_policy="deny" if acl_config.acl == "deny" else "allow",
            initial_management=acl_config.management_token,
            rng=random.Random(seeds.getrandbits(32)),
        )
        gossip = Gossip(seed=seed, clock=self.clock, settings=settings)
        return seed, gossip, acl, seeds

    def _create_tokens(self) -> None:
        tokens = self._options.get("tokens") or {}
        first = next(iter(self.agents.values()))
        for number, (secret, rules) in enumerate(tokens.items(), start=1):
            first.create_token(rules, secret=secret, description=f"token {number}")

    # -- starting over -------------------------------------------------------------------------

    def configure(self, **options: Any) -> None:
        """Start the whole cluster over with these options over those it was made with.

        Takes ``seed``, ``clock`` (``"real"``, ``"manual"`` or a clock), the gossip options and
        the ACL options. Every agent goes back to the configuration it was made with (a stopped
        agent is started again on its address), with its seed drawn again from the cluster's;
        deliveries in flight or held, partitions, the trace and the logged requests are
        dropped. Without a ``seed`` here or at creation, a new one is drawn, as for a new
        test. The agents themselves (names, datacenters, roles, addresses) stay.

        Raises:
            TypeError, ValueError: an unknown option or an invalid value; nothing is changed.
        """
        check_options(
            options, (*SHARED_OPTIONS, *GOSSIP_OPTIONS, "seed", "clock"), what="cluster option"
        )
        seed = check_optional_int(
            options.pop("seed", self._initial_seed), "seed", minimum=0, maximum=MAX_SEED
        )
        clock = make_clock(options.pop("clock")) if "clock" in options else self._initial_clock
        merged = {**self._initial_options, **options}
        dev_mode = merged.get("dev_mode", False)
        AgentConfig.build(dev_mode=dev_mode)  # validated before anything changes
        previous_clock = self.clock
        self.clock = clock
        try:
            new_seed, gossip, acl, seeds = self._shared_state(seed, merged)
        except BaseException:
            self.clock = previous_clock
            raise
        stopped = [
            agent
            for agent in self.agents.values()
            if agent.server.started and not self.gossip.is_running(agent.node_name)
        ]
        self.gossip.close()
        self.seed, self.gossip, self.acl, self._options = new_seed, gossip, acl, merged
        for agent in stopped:
            agent.restart()
        default_token = merged.get("default_token", "")
        for name, agent in self.agents.items():
            agent.initial_config = dataclasses.replace(
                self._created[name],
                seed=seeds.getrandbits(32),
                dev_mode=dev_mode,
                acl=merged.get("acl"),
                default_token=default_token,
            )
            agent.clock = clock
            agent.use_acl_store(acl)
            agent.restore()
            gossip.join(agent)
        self._create_tokens()

    def reset(self) -> None:
        """Start the whole cluster over with the options it was made with (see
        :meth:`configure`)."""
        self.configure()

    @staticmethod
    def _specs(agents: object, shared: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Each agent's options (the shared ones but tokens and the management token, then its
        own), checked: the names, the values, and no node name twice."""
        if not isinstance(agents, list | tuple):
            raise TypeError(
                must_be(
                    "agents",
                    f"a non-empty list or tuple of agents (each {_AGENT_ACCEPTED})",
                    agents,
                )
            )
        if not agents:
            raise ValueError(must_be("agents", "a non-empty list or tuple of agents", agents))
        common = {k: v for k, v in shared.items() if k not in ("tokens", "management_token")}
        specs: list[dict[str, Any]] = []
        first_with: dict[str, int] = {}
        for position, agent in enumerate(agents):
            label = f"agents[{position}]"
            if isinstance(agent, str):
                check_str(agent, label, empty=False)
                own: dict[str, Any] = {"node_name": agent}
            elif isinstance(agent, Mapping):
                check_options(
                    agent, AGENT_SPEC_OPTIONS, what="option", where=f" in {label}",
                    note=_AGENT_SPEC_NOTE,
                )  # fmt: skip
                if "node_name" not in agent:
                    raise ValueError(must_be(label, f"{_AGENT_ACCEPTED} (none given)", agent))
                own = dict(agent)
            else:
                raise TypeError(must_be(label, _AGENT_ACCEPTED, agent))
            spec = {**common, **own}
            try:
                check_int(spec.get("port", 0), "port", minimum=0, maximum=65535)
                check_bool(spec.get("strict", False), "strict")
                AgentConfig.build(**{k: v for k, v in spec.items() if k not in ("port", "strict")})
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{label}: {exc}") from None
            name = spec["node_name"]
            earlier = first_with.setdefault(name, position)
            if earlier != position:
                raise ValueError(
                    f"{label} must have a node name that agents[{earlier}] does not have, "
                    f"not {shown(name)}"
                )
            specs.append(spec)
        return specs

    @staticmethod
    def _mark_servers(specs: list[dict[str, Any]]) -> None:
        by_dc: dict[str, list[dict[str, Any]]] = {}
        for spec in specs:
            by_dc.setdefault(spec.get("datacenter", "dc1"), []).append(spec)
        for members in by_dc.values():
            if not any(spec.get("server") for spec in members):
                members[0]["server"] = True
            for spec in members:
                spec.setdefault("server", False)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeConsulCluster:
        """Serve every agent not serving yet (agents taken down by :meth:`stop` stay down
        until :meth:`start_agent`); returns the cluster.

        Raises:
            RuntimeError: the cluster was closed.
            AgentBindError: an agent could not listen on its address.
        """
        if self._closed:
            raise RuntimeError(
                "this FakeConsulCluster was closed (by close() or the end of a with block) and "
                "cannot serve again; make a new one"
            )
        for name, agent in self.agents.items():
            if not agent.serving and self.gossip.is_running(name):
                try:
                    agent.start()
                except OSError as exc:
                    raise AgentBindError(name, agent.host, agent.port, exc) from exc
        return self

    def close(self) -> None:
        """Stop every agent and the gossip thread, and close the clients made by :meth:`client`.

        Safe to call more than once.
        """
        self._closed = True
        self.gossip.close()
        for agent in self.agents.values():
            agent.stop()

    def __enter__(self) -> FakeConsulCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- agents --------------------------------------------------------------------------------

    def _agent(self, node_name: object, name: str = "node_name") -> FakeConsulAgent:
        return self.agents[check_agent_name(node_name, name, self.agents)]

    def __getitem__(self, node_name: str) -> FakeConsulAgent:
        """The agent with this node name.

        Raises:
            TypeError: ``node_name`` is not a ``str``.
            UnknownAgentError: no agent has it (a ``KeyError``); the message lists the agents.
        """
        return self._agent(node_name)

    def __iter__(self) -> Iterator[FakeConsulAgent]:
        return iter(self.agents.values())

    def __len__(self) -> int:
        return len(self.agents)

    def client(self, node_name: str, *, token: str | None = None) -> consul.Consul:
        """A py-consul client bound to one agent, closed with the cluster.

        Raises:
            TypeError, UnknownAgentError: ``node_name`` is not the name of an agent.
            RuntimeError: the agent is not serving (the cluster was not started, or the agent
                was stopped).
        """
        return self._agent(node_name).client(token=token)

    def stop(self, node_name: str) -> None:
        """Take an agent down: it refuses connections and misses what is gossiped meanwhile.

        Stopping a stopped agent does nothing.

        Raises:
            TypeError, UnknownAgentError: ``node_name`` is not the name of an agent.
        """
        agent = self._agent(node_name)
        self.gossip.set_running(node_name, False)
        agent.stop()

    def start_agent(self, node_name: str) -> FakeConsulAgent:
        """Bring a stopped agent back on the same address, with an empty event buffer.

        As Consul rejoins with ``ignoreOld``, it takes the cluster's event clock and ignores
        events older than it, such as those still in flight from before it stopped.

        Raises:
            TypeError, UnknownAgentError: ``node_name`` is not the name of an agent.
            RuntimeError: the agent is serving: starting it again would empty its buffer.
        """
        agent = self._agent(node_name)
        if agent.serving:
            raise RuntimeError(
                f"start_agent({node_name!r}) needs a stopped agent, but {node_name!r} is "
                f"serving; take it down first with cluster.stop({node_name!r}) (a restart "
                "empties its event buffer)"
            )
        agent.restart()
        agent.join_with_ignore_old(self.gossip.peer_event_time(node_name))
        self.gossip.set_running(node_name, True)
        return agent

    # -- gossip --------------------------------------------------------------------------------

    def advance(self, seconds: float) -> int:
        """Move the cluster's :class:`~pytest_consul_events.model.clock.ManualClock` forward
        and make the deliveries now due; returns how many.

        Raises:
            TypeError: the cluster runs on real time, or ``seconds`` is not a number.
            ValueError: ``seconds`` is negative or not finite.
        """
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a cluster made with clock='manual'")
        self.clock.advance(seconds)
        return self.gossip.pump()

    def settle(self, timeout: float = 5.0) -> int:
        """Deliver at once everything in flight (not what is held); returns how many.

        Raises:
            TypeError, ValueError: ``timeout`` is not a finite number >= 0.
            TimeoutError: deliveries under way did not finish within ``timeout`` seconds.
        """
        return self.gossip.settle(timeout)

    def release(self, count: int | None = None, *, to: str | None = None) -> int:
        """Deliver what manual mode holds: all, the first ``count``, or those to ``to``.

        Raises:
            TypeError, ValueError: ``count`` is not an ``int`` >= 0 or ``None``.
            TypeError, UnknownAgentError: ``to`` is not the name of an agent or ``None``.
        """
        return self.gossip.release(count, to=to)

    def partition(self, *groups: Sequence[str]) -> None:
        """Split the agents into groups that cannot reach each other until :meth:`heal`:
        ``partition(["node1"], ["node2", "node3"])``.

        Raises:
            TypeError: a group is not a list, tuple or set of names (a bare name included).
            UnknownAgentError: a name is not an agent.
            ValueError: a name is in two groups.
        """
        self.gossip.partition(*groups)

    def heal(self) -> int:
        """End the partition; what it held arrives now. Returns how many deliveries."""
        return self.gossip.heal()

    @property
    def trace(self) -> list[TraceEntry]:
        """Every gossip step so far."""
        return self.gossip.trace

    def verify(self) -> None:
        """:meth:`FakeConsulAgent.verify` on every agent: those made with ``strict`` fail if a
        request since the last reset was for an endpoint the fake does not implement.

        Raises:
            AssertionError: one or more strict agents were called so; each is named, with its
                calls.
        """
        failures: list[str] = []
        for name, agent in self.agents.items():
            try:
                agent.verify()
            except AssertionError as exc:
                failures.append(f"{name}: {exc}")
        if failures:
            raise AssertionError("\n".join(failures))

    def failure_report(self) -> tuple[str, str]:
        """The title and text of the report section shown when a test using it fails.

        Never raises, whatever state the cluster is in: a part that cannot be rendered says so.
        """
        try:
            text = self.report()
        except Exception as exc:
            text = f"(cluster report unavailable: {describe_error(exc)})"
        return "consul cluster", printable(text)

    def report(self) -> str:
        """The seed, each agent's events, and the delivery trace as a timeline."""
        lines = [f"seed: {self.seed} (replay with {self.replay_option}={self.seed})"]
        for name, agent in self.agents.items():
            try:
                names = ", ".join(f"{e.name}@{e.ltime}" for e in agent.events) or "(none)"
                role = "server" if agent.config.server else "client"
                state = "" if agent.serving else ", stopped"
                lines.append(
                    f"{agent.node_name} [{agent.datacenter}, {role}{state}, {agent.url}]: {names}"
                )
            except Exception as exc:
                lines.append(f"{name}: (unavailable: {describe_error(exc)})")
        lines.append("")
        try:
            lines.append(format_trace(self.trace, list(self.agents)))
        except Exception as exc:
            lines.append(f"gossip trace: (unavailable: {describe_error(exc)})")
        return "\n".join(lines)
