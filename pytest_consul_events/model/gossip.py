"""Serf's LAN gossip between simulated agents: who receives an event, when, and in what order.

A real datacenter gives no promise about delivery: each agent sees events in its own order,
late, twice, or never. :class:`Gossip` makes each of those a setting, draws every random
choice (delays, order, loss, duplication) from one seed, and records each step in a trace.

* **in order** (the default): every other agent of the datacenter receives the event before
  the fire returns, in fire order.
* **unordered**: deliveries wait, then reach each agent in its own random order, once no
  event has been fired for ``flush_after`` seconds, or at :meth:`Gossip.settle`.
* **delayed**: each delivery takes a latency drawn from ``delay``, on the network's clock
  (real time, or a :class:`~pytest_consul_events.model.clock.ManualClock` moved by the test).
* **lossy, duplicating**: a delivery is lost, or arrives twice, with the given probability
  (a second copy is dropped by serf's dedupe when it arrives within its window).
* **manual**: every delivery waits until :meth:`Gossip.release`.
* **partitions**: deliveries between groups wait until :meth:`Gossip.heal`, then arrive
  (subject to serf's too-old rule); a stopped agent misses what is delivered while it is down.

For a replay to be identical, fire the same events in the same order between
:meth:`Gossip.settle` calls (or on a test clock): the seed fixes every random draw, while with
real time the moments at which the background thread delivers depend on the machine.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import random
import threading
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    NoKnownServersError,
    NoPathToDatacenterError,
    NoServerError,
)
from pytest_consul_events.model.clock import REAL_CLOCK, Clock, make_clock
from pytest_consul_events.model.limits import DEFAULT_HISTORY_LIMIT
from pytest_consul_events.model.serf import Receipt, SerfUserEvent
from pytest_consul_events.validation import (
    check_agent_name,
    check_bool,
    check_int,
    check_number,
    check_optional_int,
    check_optional_str,
    check_strings,
    check_timeout,
    must_be,
    plain,
)

if TYPE_CHECKING:
    from pytest_consul_events.model.agent import Agent


DELAY_ACCEPTED = "a (low, high) pair of finite seconds with 0 <= low <= high, such as (0.0, 0.5)"
"""What ``delay`` accepts, as its messages say."""

GOSSIP_OPTIONS = ("unordered", "delay", "loss", "duplicate", "manual", "flush_after")
"""The fields of :class:`GossipSettings`: the gossip options of a cluster."""


def check_delay(value: object, name: str = "delay") -> tuple[float, float]:
    """``value`` as a ``(low, high)`` pair of floats, if it is a list or tuple of two finite
    numbers with ``0 <= low <= high``; a bare number is refused, the message showing the form.

    Raises:
        TypeError: not a pair of numbers (a bare number included).
        ValueError: a bound negative or not finite, or ``low > high``.
    """
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise TypeError(must_be(name, DELAY_ACCEPTED, value))
    low, high = (
        check_number(bound, f"{name}[{position}]", minimum=0, what="a finite number of seconds")
        for position, bound in enumerate(value)
    )
    if low > high:
        raise ValueError(must_be(name, DELAY_ACCEPTED, value))
    return (low, high)


@dataclasses.dataclass(frozen=True)
class GossipSettings:
    """How hostile delivery is. Probabilities are per delivery, delays in seconds."""

    unordered: bool = False
    delay: tuple[float, float] = (0.0, 0.0)
    loss: float = 0.0
    duplicate: float = 0.0
    manual: bool = False
    flush_after: float = 0.02

    def __post_init__(self) -> None:
        """Check every field.

        Raises:
            TypeError, ValueError: naming the field: ``unordered`` and ``manual`` are ``True``
                or ``False``; ``delay`` a ``(low, high)`` pair of finite seconds with
                ``0 <= low <= high``; ``loss`` and ``duplicate`` finite numbers from 0 to 1;
                ``flush_after`` finite seconds >= 0.
        """
        update = functools.partial(object.__setattr__, self)
        check_bool(self.unordered, "unordered")
        check_bool(self.manual, "manual")
        update("delay", check_delay(self.delay))
        for name in ("loss", "duplicate"):
            update(name, check_number(getattr(self, name), name, minimum=0, maximum=1))
        update("flush_after", check_timeout(self.flush_after, "flush_after"))

    @property
    def immediate(self) -> bool:
        """Whether every delivery happens before the fire returns."""
        return not (self.unordered or self.manual or self.delay[1] > 0)


@dataclasses.dataclass(frozen=True)
class TraceEntry:
    """One step of the delivery trace.

    ``kind`` is ``fire`` (a server stamped and gossiped the event), ``deliver`` (an agent
    received it: ``outcome`` says what it did with it), ``drop`` (it never will: lost, or the
    agent was down) or ``hold`` (it waits for a release or a heal).
    """

    seq: int
    at: float
    kind: str
    source: str
    target: str
    event_id: str
    name: str
    ltime: int
    outcome: str


_OUTCOMES = {
    Receipt.ACCEPTED: "stored",
    Receipt.DUPLICATE: "duplicate",
    Receipt.TOO_OLD: "too old",
    Receipt.BEFORE_MIN_TIME: "before minimum event time",
}


class _Pending(NamedTuple):
    """A delivery waiting to be made. Tuples compare in C: by due time, random order, then
    ``seq``, which is unique, so the later fields are never compared."""

    due: float
    order: float
    seq: int
    source: str
    target: str
    message: SerfUserEvent


class Gossip:
    """The LAN gossip of every datacenter of a simulated cluster, and the routing between them.

    Thread-safe. Deliveries that must wait are made by one background thread, started when
    first needed and ended by :meth:`close`. The trace keeps the latest ``trace_limit`` steps
    (10,000 by default, 0 for all); older ones are dropped and counted in :attr:`trace_dropped`.
    """

    def __init__(
        self,
        *,
        seed: int,
        clock: Clock = REAL_CLOCK,
        settings: GossipSettings | None = None,
        trace_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        """Raises ``TypeError`` or ``ValueError`` for a ``seed`` that is not an ``int`` >= 0,
        a ``clock`` :func:`~pytest_consul_events.model.clock.make_clock` does not take, or
        ``settings`` that are not :class:`GossipSettings`."""
        self.seed = check_int(seed, "seed", minimum=0)
        clock = make_clock(clock)
        self.clock = clock
        if settings is not None and not isinstance(settings, GossipSettings):
            raise TypeError(must_be("settings", "GossipSettings or None", settings))
        self.settings = settings or GossipSettings()
        self._rng = random.Random(seed)
        self._agents: dict[str, Agent] = {}
        self._stopped: set[str] = set()
        self._groups: list[frozenset[str]] = []
        self._lock = threading.Condition(threading.RLock())
        self._deliver_lock = threading.RLock()
        self._pending: list[_Pending] = []
        self._held: list[_Pending] = []
        self._seq = 0
        self._flush_at: float | None = None
        limit = check_int(trace_limit, "trace_limit", minimum=0)
        self._trace: deque[tuple[float, str, str, str, SerfUserEvent, str]] = deque(
            maxlen=limit or None
        )
        self._traced = 0  # steps ever recorded: those beyond the deque's length were dropped
        self._start = clock.now()
        self._thread: threading.Thread | None = None
        self._closed = False
        clock.watch(self._lock)

    # -- membership ----------------------------------------------------------------------------

    def join(self, agent: Agent) -> None:
        """Add an agent; it gossips with the agents of its datacenter.

        Raises:
            TypeError: ``agent`` is not an ``Agent``.
            ValueError: another agent has the same node name.
        """
        from pytest_consul_events.model.agent import Agent  # agent.py imports this module

        if not isinstance(agent, Agent):
            raise TypeError(must_be("agent", "an Agent", agent))
        with self._lock:
            if agent.node_name in self._agents:
                raise ValueError(f"there is already an agent named {agent.node_name!r}")
            self._agents[agent.node_name] = agent
            agent.network = self

    @property
    def datacenters(self) -> dict[str, list[str]]:
        """Node names by datacenter, in the order they joined."""
        with self._lock:
            result: dict[str, list[str]] = {}
            for name, agent in self._agents.items():
                result.setdefault(agent.datacenter, []).append(name)
            return result

    def set_running(self, name: str, running: bool) -> None:
        """Mark an agent up or down; deliveries to a down agent are dropped.

        Raises:
            TypeError: ``running`` is not a ``bool``, or ``name`` not a ``str``.
            UnknownAgentError: no agent has this name (a ``KeyError`` and a ``ValueError``).
        """
        check_bool(running, "running")
        with self._lock:
            self._check_agent(name, "name")
            if running:
                self._stopped.discard(name)
            else:
                self._stopped.add(name)

    def is_running(self, name: str) -> bool:
        """Whether the agent is up.

        Raises:
            TypeError, UnknownAgentError: ``name`` is not the name of an agent.
        """
        with self._lock:
            self._check_agent(name, "name")
            return name not in self._stopped

    def _check_agent(self, value: object, name: str) -> str:
        """``value`` if it names an agent (the caller holds ``_lock``)."""
        return check_agent_name(value, name, self._agents)

    # -- routing -------------------------------------------------------------------------------

    def route(self, origin: Agent, datacenter: str) -> Agent:
        """The server that takes ``origin``'s fire, as Consul's RPC path finds it.

        A server takes its own fires; a client sends them to a running server of its own
        datacenter that it can reach (a partition cuts RPC as well as gossip). For another
        datacenter, that server forwards to a running server there.

        The errors are Consul's: a client that reaches no server of its own datacenter fails
        in its own RPC layer; the others are what the server's ``forwardDC`` (agent/consul/rpc.go)
        answers, so a client reports them as an RPC error.

        Raises:
            NoKnownServersError: ``No known Consul servers``: ``origin`` is a client and reaches
                no running server of its datacenter (raised before any call, so never prefixed).
            NoServerError: ``Remote DC has no server currently reachable`` (``ErrDCNotAvailable``:
                the datacenter exists but none of its servers is running and reachable).
            NoPathToDatacenterError: no agent is in ``datacenter`` (``ErrNoDCPath``).
        """
        with self._lock:
            local = (
                origin
                if origin.config.server
                else self._reachable_server(origin.node_name, origin.datacenter)
            )
            if local is None:
                # UNCONFIRMED: until serf declares the server failed (a few seconds on a real
                # LAN), a real client's RPC fails on the connection instead.
                raise NoKnownServersError()
            if datacenter == origin.datacenter:
                return local
            if not any(a.datacenter == datacenter for a in self._agents.values()):
                raise NoPathToDatacenterError()
            remote = self._reachable_server(local.node_name, datacenter)
            if remote is None:
                raise NoServerError(messages.REMOTE_DC_UNREACHABLE)
            return remote

    def _reachable_server(self, source: str, datacenter: str) -> Agent | None:
        for agent in self._agents.values():
            if (
                agent.datacenter == datacenter
                and agent.config.server
                and agent.node_name not in self._stopped
                and not self._partitioned(source, agent.node_name)
            ):
                return agent
        return None

    def peer_event_time(self, name: str) -> int:
        """The highest event clock among the running agents of ``name``'s datacenter that it
        can reach: what serf's push-pull tells an agent when it (re)joins.

        Raises:
            TypeError, UnknownAgentError: ``name`` is not the name of an agent.
        """
        with self._lock:
            agent = self._agents[self._check_agent(name, "name")]
            return max(
                (
                    peer.event_time
                    for peer in self._agents.values()
                    if peer is not agent
                    and peer.datacenter == agent.datacenter
                    and peer.node_name not in self._stopped
                    and not self._partitioned(name, peer.node_name)
                ),
                default=0,
            )

    # -- gossip --------------------------------------------------------------------------------

    def broadcast(self, origin: Agent, message: SerfUserEvent) -> None:
        """Send an event stamped by ``origin`` to every other agent of its datacenter."""
        settings = self.settings
        if settings.immediate and not (settings.loss or settings.duplicate):
            self._broadcast_now(origin, message)
            return
        with self._lock:
            now = self.clock.now()
            self._record("fire", origin.node_name, "", message, "gossiped")
            for target in self._agents.values():
                if target is origin or target.datacenter != origin.datacenter:
                    continue
                if settings.loss and self._rng.random() < settings.loss:
                    self._record("drop", origin.node_name, target.node_name, message, "lost")
                    continue
                copies = 2 if settings.duplicate and self._rng.random() < settings.duplicate else 1
                for _ in range(copies):
                    self._schedule(now, origin.node_name, target.node_name, message)
            if settings.unordered:
                self._flush_at = now + settings.flush_after
            self._lock.notify_all()
        self._pump()

    def _broadcast_now(self, origin: Agent, message: SerfUserEvent) -> None:
        """In-order immediate gossip: deliver to each agent in turn before returning.

        Deliveries still in flight (scheduled under other settings) go first, so that no agent
        sees this event before an earlier one. The trace lists the agents in joining order.
        """
        with self._deliver_lock:
            if self._pending:
                self._pump(flush=True)
            source = origin.node_name
            # One step per agent, in order: a target to deliver to, or a finished trace entry.
            steps: list[Agent | tuple[float, str, str, str, SerfUserEvent, str]] = []
            with self._lock:
                now = self.clock.now()
                self._trace.append((now, "fire", source, "", message, "gossiped"))
                self._traced += 1
                for target in self._agents.values():
                    if target is origin or target.datacenter != origin.datacenter:
                        continue
                    name = target.node_name
                    if self._groups and self._partitioned(source, name):
                        self._seq += 1
                        self._held.append(_Pending(now, 0.0, self._seq, source, name, message))
                        steps.append((now, "hold", source, name, message, "partitioned"))
                    elif name in self._stopped:
                        steps.append((now, "drop", source, name, message, "agent down"))
                    else:
                        steps.append(target)
            entries = []
            for step in steps:
                if isinstance(step, tuple):
                    entries.append(step)
                    continue
                receipt = step.deliver(message)
                outcome = "filtered" if receipt is None else _OUTCOMES[receipt]
                entries.append(
                    (self.clock.now(), "deliver", source, step.node_name, message, outcome)
                )
            with self._lock:
                self._trace.extend(entries)
                self._traced += len(entries)

    def _schedule(self, now: float, source: str, target: str, message: SerfUserEvent) -> None:
        settings = self.settings
        low, high = settings.delay
        order = self._rng.random() if settings.unordered else 0.0
        # Unordered without delay: the random order alone decides, not the time of the fire.
        undelayed = 0.0 if settings.unordered else now
        due = now + self._rng.uniform(low, high) if high > 0 else undelayed
        self._seq += 1
        item = _Pending(due, order, self._seq, source, target, message)
        if settings.manual:
            self._held.append(item)
            self._record("hold", source, target, message, "waiting for release")
        elif self._partitioned(source, target):
            self._held.append(item)
            self._record("hold", source, target, message, "partitioned")
        else:
            heapq.heappush(self._pending, item)

    def _partitioned(self, source: str, target: str) -> bool:
        return any((source in group) != (target in group) for group in self._groups)

    def _next_due(self, now: float, flush: bool) -> _Pending | None:
        """Pop the next delivery that may happen now (the caller holds ``_lock``)."""
        if not self._pending:
            return None
        if (
            self.settings.unordered
            and not flush
            and (self._flush_at is None or now < self._flush_at)
        ):
            return None
        head = self._pending[0]
        if not flush and head.due > now:
            return None
        return heapq.heappop(self._pending)

    def _pump(self, *, flush: bool = False) -> int:
        """Deliver what is due (everything in flight with ``flush``); returns how many."""
        delivered = 0
        with self._deliver_lock:
            while True:
                with self._lock:
                    item = self._next_due(self.clock.now(), flush)
                    if item is None:
                        if self._pending:
                            self._ensure_thread()
                        return delivered
                    target = self._agents.get(item.target)
                    down = item.target in self._stopped or target is None
                    if down:
                        self._record("drop", item.source, item.target, item.message, "agent down")
                        continue
                assert target is not None
                receipt = target.deliver(item.message)
                outcome = "filtered" if receipt is None else _OUTCOMES[receipt]
                with self._lock:
                    self._record("deliver", item.source, item.target, item.message, outcome)
                delivered += 1

    # -- control -------------------------------------------------------------------------------

    def pump(self) -> int:
        """Make the deliveries that are due on the clock now; returns how many."""
        return self._pump()

    def settle(self, timeout: float = 5.0) -> int:
        """Deliver at once everything in flight, in the order it would have arrived.

        Deliveries held for :meth:`release` or :meth:`heal` stay held. Returns how many
        deliveries were made here (the background thread may have made some just before).

        Raises:
            TypeError, ValueError: ``timeout`` is not a finite number >= 0.
            TimeoutError: deliveries under way (an agent slow to take one) did not finish
                within ``timeout`` seconds.
        """
        seconds = min(check_timeout(timeout), threading.TIMEOUT_MAX)
        if not self._deliver_lock.acquire(timeout=seconds):
            raise TimeoutError(f"gossip deliveries still under way after {plain(timeout)}s")
        try:
            return self._pump(flush=True)
        finally:
            self._deliver_lock.release()

    def release(self, count: int | None = None, *, to: str | None = None) -> int:
        """Deliver deliveries held by manual mode: all, the first ``count``, or those to ``to``.

        Deliveries held by a partition stay held. Returns how many were delivered.

        Raises:
            TypeError, ValueError: ``count`` is not an ``int`` >= 0 or ``None``.
            TypeError, UnknownAgentError: ``to`` is not the name of an agent or ``None``.
        """
        count = check_optional_int(count, "count", minimum=0)
        to = check_optional_str(to, "to")
        with self._lock:
            if to is not None:
                self._check_agent(to, "to")
            chosen: list[_Pending] = []
            kept: list[_Pending] = []
            for item in sorted(self._held):
                wanted = to is None or item.target == to
                if (
                    wanted
                    and (count is None or len(chosen) < count)
                    and not self._partitioned(item.source, item.target)
                ):
                    chosen.append(item)
                else:
                    kept.append(item)
            self._held = kept
            now = self.clock.now()
            for item in chosen:
                heapq.heappush(self._pending, item._replace(due=now))
        return self._pump(flush=True) if chosen else 0

    def partition(self, *groups: Iterable[str]) -> None:
        """Split agents into groups that cannot reach each other, until :meth:`heal`.

        Agents named in no group form one more group together. Each group is a list, tuple or
        set of node names: ``partition(["node1"], ["node2", "node3"])``.

        Raises:
            TypeError: a group is not such a collection (a single name included).
            UnknownAgentError: a name is not an agent (a ``KeyError`` and a ``ValueError``).
            ValueError: a name is in two groups.
        """
        with self._lock:
            checked = [
                check_strings(group, f"groups[{number}]", sets=True)
                for number, group in enumerate(groups)
            ]
            seen: dict[str, int] = {}
            for number, group in enumerate(checked):
                for name in group:
                    self._check_agent(name, f"a name in groups[{number}]")
                    earlier = seen.setdefault(name, number)
                    if earlier != number:
                        raise ValueError(
                            must_be(
                                f"groups[{number}]",
                                f"a group of names not in groups[{earlier}]",
                                name,
                            )
                        )
            sets = [frozenset(group) for group in checked]
            rest = frozenset(self._agents) - seen.keys()
            self._groups = [g for g in [*sets, rest] if g]

    def heal(self) -> int:
        """End every partition: deliveries held by it arrive now. Returns how many were made."""
        with self._lock:
            self._groups = []
            now = self.clock.now()
            waiting = [item for item in self._held if not self.settings.manual]
            self._held = [item for item in self._held if self.settings.manual]
            for item in sorted(waiting):
                heapq.heappush(self._pending, item._replace(due=now))
        return self._pump(flush=True)

    @property
    def in_flight(self) -> int:
        """Deliveries scheduled and not yet made (held ones excluded)."""
        with self._lock:
            return len(self._pending)

    @property
    def held(self) -> int:
        """Deliveries waiting for :meth:`release` or :meth:`heal`."""
        with self._lock:
            return len(self._held)

    @property
    def trace_dropped(self) -> int:
        """How many of the oldest steps the trace dropped."""
        with self._lock:
            return self._traced - len(self._trace)

    @property
    def trace(self) -> list[TraceEntry]:
        """The latest steps, in order; ``seq`` keeps counting across the dropped ones."""
        with self._lock:
            raw = list(self._trace)
            first = self._traced - len(raw) + 1
        return [
            TraceEntry(
                seq=number,
                at=round(at - self._start, 6),
                kind=kind,
                source=source,
                target=target,
                event_id=message.event.id,
                name=message.event.name,
                ltime=message.ltime,
                outcome=outcome,
            )
            for number, (at, kind, source, target, message, outcome) in enumerate(raw, start=first)
        ]

    def _record(
        self, kind: str, source: str, target: str, message: SerfUserEvent, outcome: str
    ) -> None:
        self._trace.append((self.clock.now(), kind, source, target, message, outcome))
        self._traced += 1

    # -- the delivery thread -------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._run, name="consul-fake-gossip", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                wake = self._wake_time()
                if wake is None or self.clock.now() < wake:
                    self.clock.wait(self._lock, wake)
                    continue
            self._pump()

    def _wake_time(self) -> float | None:
        if not self._pending:
            return None
        due = self._pending[0].due
        if self.settings.unordered:
            flush_at = self._flush_at if self._flush_at is not None else due
            return max(flush_at, due)  # the heap's head has the earliest due time
        return due

    def close(self) -> None:
        """Stop the delivery thread; what is still in flight is never delivered."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(5)
