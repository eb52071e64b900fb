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

from pytest_consul_events.fake import FakeConsulAgent, make_clock
from pytest_consul_events.model.acl import ACLStore
from pytest_consul_events.model.agent import AgentConfig
from pytest_consul_events.model.clock import REAL_CLOCK, Clock, ManualClock
from pytest_consul_events.model.gossip import Gossip, GossipSettings, TraceEntry
from pytest_consul_events.report import format_trace

if TYPE_CHECKING:
    import consul

AgentSpec = str | Mapping[str, Any]
DEFAULT_AGENTS: tuple[str, ...] = ("node1", "node2", "node3")
_CLUSTER_OPTIONS = frozenset(
    {"acl", "management_token", "default_token", "tokens", "dev_mode"}
)  # agent options that apply to every agent of the cluster
_GOSSIP_OPTIONS = frozenset(f.name for f in GossipSettings.__dataclass_fields__.values())


def _check_options(options: Mapping[str, Any], extra: Sequence[str] = ()) -> None:
    unknown = sorted(set(options) - _CLUSTER_OPTIONS - _GOSSIP_OPTIONS - set(extra))
    if unknown:
        raise TypeError(f"unknown cluster option(s): {', '.join(unknown)}")


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
    ``default_token``) apply to the whole cluster.

    Raises:
        TypeError, ValueError: an unknown option or an invalid value, naming it.
        AgentBindError: an agent's port is taken (an ``OSError`` naming the agent and port).
    """

    def __init__(
        self,
        agents: Sequence[AgentSpec] = DEFAULT_AGENTS,
        *,
        seed: int | None = None,
        host: str = "127.0.0.1",
        clock: Clock | None = None,
        **options: Any,
    ) -> None:
        _check_options(options)
        if isinstance(agents, str) or not agents:
            raise TypeError("agents is a non-empty list of node names or option mappings")
        self.clock = REAL_CLOCK if clock is None else clock
        self._initial_seed = seed
        self._initial_clock = self.clock
        self._initial_options = dict(options)
        self._options = dict(options)
        self.seed, self.gossip, self.acl, seeds = self._shared_state(seed, options)
        shared = {k: v for k, v in options.items() if k in _CLUSTER_OPTIONS}
        specs = [self._spec(agent) for agent in agents]
        self._mark_servers(specs)
        self.agents: dict[str, FakeConsulAgent] = {}
        self._created: dict[str, AgentConfig] = {}
        try:
            for spec in specs:
                options_for_agent = {**shared, **spec, "seed": seeds.getrandbits(32)}
                options_for_agent.pop("tokens", None)
                options_for_agent.pop("acl", None)
                options_for_agent.pop("management_token", None)
                port = options_for_agent.get("port", 0)
                try:
                    agent = FakeConsulAgent(
                        host=host, clock=self.clock, acl_store=self.acl, **options_for_agent
                    )
                except OSError as exc:
                    raise AgentBindError(spec["node_name"], host, port, exc) from exc
                agent.cluster = self
                self.gossip.join(agent)
                self.agents[agent.node_name] = agent
                self._created[agent.node_name] = agent.initial_config
            self._create_tokens()
        except BaseException:
            self.close()
            raise

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
        gossip_options = {k: v for k, v in options.items() if k in _GOSSIP_OPTIONS}
        if "delay" in gossip_options:
            gossip_options["delay"] = tuple(gossip_options["delay"])
        settings = GossipSettings(**gossip_options)
        shared = {k: v for k, v in options.items() if k in _CLUSTER_OPTIONS}
        acl_config = AgentConfig.build(**{k: v for k, v in shared.items() if k != "dev_mode"})
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
        _check_options(options, extra=("seed", "clock"))
        seed = options.pop("seed", self._initial_seed)
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
    def _spec(agent: AgentSpec) -> dict[str, Any]:
        if isinstance(agent, str):
            return {"node_name": agent}
        if isinstance(agent, Mapping):
            spec = dict(agent)
            if "node_name" not in spec:
                raise ValueError(f"an agent needs a node_name: {agent!r}")
            return spec
        raise TypeError(f"an agent is a node name or a mapping of options, not {agent!r}")

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
        """Serve every agent; returns the cluster.

        Raises:
            AgentBindError: an agent could not listen on its address.
        """
        for name, agent in self.agents.items():
            try:
                agent.start()
            except OSError as exc:
                raise AgentBindError(name, agent.host, agent.port, exc) from exc
        return self

    def close(self) -> None:
        """Stop every agent and the gossip thread, and close the clients made by :meth:`client`."""
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

    def __getitem__(self, node_name: str) -> FakeConsulAgent:
        return self.agents[node_name]

    def __iter__(self) -> Iterator[FakeConsulAgent]:
        return iter(self.agents.values())

    def __len__(self) -> int:
        return len(self.agents)

    def client(self, node_name: str, *, token: str | None = None) -> consul.Consul:
        """A py-consul client bound to one agent, closed with the cluster."""
        return self.agents[node_name].client(token=token)

    def stop(self, node_name: str) -> None:
        """Take an agent down: it refuses connections and misses what is gossiped meanwhile."""
        self.gossip.set_running(node_name, False)
        self.agents[node_name].stop()

    def start_agent(self, node_name: str) -> FakeConsulAgent:
        """Bring a stopped agent back on the same address, with an empty event buffer.

        As Consul rejoins with ``ignoreOld``, it takes the cluster's event clock and ignores
        events older than it, such as those still in flight from before it stopped.
        """
        agent = self.agents[node_name].restart()
        agent.join_with_ignore_old(self.gossip.peer_event_time(node_name))
        self.gossip.set_running(node_name, True)
        return agent

    # -- gossip --------------------------------------------------------------------------------

    def advance(self, seconds: float) -> int:
        """Move the cluster's :class:`~pytest_consul_events.model.clock.ManualClock` forward
        and make the deliveries now due; returns how many.

        Raises:
            TypeError: the cluster runs on real time.
        """
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a cluster made with clock='manual'")
        self.clock.advance(seconds)
        return self.gossip.pump()

    def settle(self, timeout: float = 5.0) -> int:
        """Deliver at once everything in flight (not what is held); returns how many.

        Raises:
            TimeoutError: deliveries under way did not finish within ``timeout`` seconds.
        """
        return self.gossip.settle(timeout)

    def release(self, count: int | None = None, *, to: str | None = None) -> int:
        """Deliver what manual mode holds: all, the first ``count``, or those to ``to``.

        Raises:
            TypeError, ValueError: ``count`` is not ``None`` or an integer of at least 0.
            KeyError: ``to`` names no agent.
        """
        if count is not None:
            if not isinstance(count, int) or isinstance(count, bool):
                raise TypeError(f"count must be an integer or None, not {count!r}")
            if count < 0:
                raise ValueError(f"count must not be negative, not {count}")
        if to is not None and to not in self.agents:
            raise KeyError(to)
        return self.gossip.release(count, to=to)

    def partition(self, *groups: Sequence[str]) -> None:
        """Split the agents into groups that cannot reach each other until :meth:`heal`."""
        self.gossip.partition(*groups)

    def heal(self) -> int:
        """End the partition; what it held arrives now. Returns how many deliveries."""
        return self.gossip.heal()

    @property
    def trace(self) -> list[TraceEntry]:
        """Every gossip step so far."""
        return self.gossip.trace

    def failure_report(self) -> tuple[str, str]:
        """The title and text of the report section shown when a test using it fails."""
        return "consul cluster", self.report()

    def report(self) -> str:
        """The seed, each agent's events, and the delivery trace as a timeline."""
        lines = [f"seed: {self.seed} (replay with --consul-seed={self.seed})"]
        for agent in self.agents.values():
            names = ", ".join(f"{e.name}@{e.ltime}" for e in agent.events) or "(none)"
            role = "server" if agent.config.server else "client"
            lines.append(f"{agent.node_name} [{agent.datacenter}, {role}, {agent.url}]: {names}")
        lines.append("")
        lines.append(format_trace(self.trace, list(self.agents)))
        return "\n".join(lines)
