"""``cluster_scale`` and ``cluster_hostile``: gossiping events through a 100-agent datacenter.

Fake: a :class:`~pytest_consul_events.model.gossip.Gossip` (seed 1) joining 100 model agents
(:class:`~pytest_consul_events.model.agent.Agent`, no HTTP): ``node0`` is the server, the rest
are clients. 1,000 events are fired round-robin from every agent (a client's fire is routed to
the server, which stamps it, stores it and gossips it to the 99 others), so every agent receives
every event: 100,000 deliveries. Measured in CPU seconds (``time.process_time``, every thread of
the process) around the fires only; building the agents is not counted.

Baseline, alternating round by round: the same number of deliveries as plain appends of
prebuilt events to 100 ``collections.deque(maxlen=256)``, each under its own
``threading.Lock``: the least 100 thread-safe 256-event buffers can do.

``cluster_scale`` (in-order immediate delivery, the default) has a target: well under a second
of CPU (< 1.0 s). A growth grid measures agents x events in {10, 50, 100} x {250, 500, 1000}
(median of 5 rounds per cell, 1 with ``--quick``; cells visited in alternating order), fits
``cpu = a + b * agents * events`` by least squares, and reports ``b`` (the cost of one
delivery) and the fit's R² in a row of its own with a soft check: ``linear`` when R² > 0.98,
otherwise ``NOT linear`` and ``FLAG`` (which does not fail the run).

``cluster_hostile`` repeats the run with ``GossipSettings(unordered=True)`` followed by
``settle()``, and with ``GossipSettings(loss=0.1, duplicate=0.1)``; reported, no target. The
notes split the CPU between the fires and ``settle()``, and count what the trace recorded
(stored, too old, duplicate, lost; deliveries made by the background thread).
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence

from benchmarks.harness import (
    Report,
    Row,
    Settings,
    Table,
    alternate,
    below,
    fmt,
    linear_fit,
    log,
    median,
    median_se,
)
from pytest_consul_events.model.agent import Agent, AgentConfig
from pytest_consul_events.model.event import UserEvent
from pytest_consul_events.model.gossip import Gossip, GossipSettings
from pytest_consul_events.model.ringbuffer import DEFAULT_EVENT_BUFFER_SIZE

AGENTS = 100
EVENTS = 1000
TARGET_S = 1.0
GRID_AGENTS = (10, 50, 100)
GRID_EVENTS = (250, 500, 1000)
LINEAR_R2 = 0.98
EVENT_NAME = "deploy"
PAYLOAD = b'{"service": "web", "version": "1.4.2"}'
HOSTILE: dict[str, GossipSettings] = {
    "unordered": GossipSettings(unordered=True),
    "loss=0.1,duplicate=0.1": GossipSettings(loss=0.1, duplicate=0.1),
}


@dataclasses.dataclass(frozen=True)
class ClusterRun:
    """One fake run: CPU and wall seconds in all, the part spent in ``settle()``, and tallies
    from the trace (``(kind, outcome)`` -> count; only when asked for)."""

    cpu: float
    wall: float
    settle_cpu: float
    settled: int
    outcomes: dict[tuple[str, str], int]


def build_cluster(
    agents: int, settings: GossipSettings | None = None
) -> tuple[Gossip, list[Agent]]:
    """A datacenter of ``agents`` model agents, ``node0`` the server, joined by one gossip."""
    gossip = Gossip(seed=1, settings=settings)
    members: list[Agent] = []
    for number in range(agents):
        agent = Agent(
            AgentConfig.build(node_name=f"node{number}", server=(number == 0), seed=number)
        )
        gossip.join(agent)
        members.append(agent)
    return gossip, members


def run_cluster(
    agents: int,
    events: int,
    settings: GossipSettings | None = None,
    *,
    settle: bool = False,
    tally: bool = False,
) -> ClusterRun:
    """Fire ``events`` events round-robin through a fresh cluster (then ``settle()``); timed.

    In-order runs are checked: every agent must hold the last ``buffer_size`` events, ending
    with the same one.

    Raises:
        RuntimeError: an in-order run lost events, or deliveries were left in flight.
    """
    gossip, members = build_cluster(agents, settings)
    try:
        fires = [agent.fire for agent in members]
        count = len(fires)
        gc.collect()
        wall_start = time.perf_counter()
        start = time.process_time()
        for number in range(events):
            fires[number % count](EVENT_NAME, PAYLOAD)
        fired = time.process_time()
        settled = gossip.settle() if settle else 0
        end = time.process_time()
        wall = time.perf_counter() - wall_start
        if gossip.in_flight:
            raise RuntimeError(f"{gossip.in_flight} deliveries still in flight after the run")
        if settings is None:
            _check_in_order(members, events)
        outcomes = Counter((step.kind, step.outcome) for step in gossip.trace) if tally else {}
    finally:
        gossip.close()
    return ClusterRun(end - start, wall, end - fired, settled, dict(outcomes))


def _check_in_order(members: Sequence[Agent], events: int) -> None:
    expected = min(events, DEFAULT_EVENT_BUFFER_SIZE)
    lasts = set()
    for agent in members:
        held = agent.events
        if len(held) != expected:
            raise RuntimeError(f"{agent.node_name} holds {len(held)} events, not {expected}")
        lasts.add(held[-1].id)
    if len(lasts) != 1:
        raise RuntimeError(f"the agents' newest events differ: {len(lasts)} distinct")


def sample_events(events: int) -> list[UserEvent]:
    """Events for the baseline to append, made by a real fire (stamped, as agents store them)."""
    agent = Agent(seed=0)
    return [agent.fire(EVENT_NAME, PAYLOAD) for _ in range(events)]


def deque_appends(agents: int, events: Sequence[UserEvent]) -> float:
    """CPU seconds to append every event to ``agents`` locked ``deque(maxlen=256)``."""
    buffers = [
        (threading.Lock(), deque[UserEvent](maxlen=DEFAULT_EVENT_BUFFER_SIZE).append)
        for _ in range(agents)
    ]
    gc.collect()
    start = time.process_time()
    for event in events:
        for lock, append in buffers:
            with lock:
                append(event)
    return time.process_time() - start


def _fake_and_baseline(
    rounds: int,
    agents: int,
    events: Sequence[UserEvent],
    settings: GossipSettings | None = None,
    *,
    settle: bool = False,
) -> tuple[list[ClusterRun], list[float]]:
    """Alternating rounds of the fake and the baseline, after one warm-up of each."""
    runs: list[ClusterRun] = []

    def fake() -> float:
        run = run_cluster(agents, len(events), settings, settle=settle, tally=True)
        runs.append(run)
        return run.cpu

    def baseline() -> float:
        return deque_appends(agents, events)

    _, baselines = alternate(rounds, fake, baseline)
    return runs[1:], baselines  # the first run was the warm-up


def _grid(rounds: int, events: Sequence[UserEvent]) -> dict[tuple[int, int], tuple[float, float]]:
    """``(agents, events)`` -> median CPU seconds (fake, baseline) over ``rounds`` rounds."""
    cells = [(a, e) for a in GRID_AGENTS for e in GRID_EVENTS]
    fakes: dict[tuple[int, int], list[float]] = {cell: [] for cell in cells}
    baselines: dict[tuple[int, int], list[float]] = {cell: [] for cell in cells}
    run_cluster(GRID_AGENTS[0], GRID_EVENTS[0])  # warm-up
    for index in range(rounds):
        for agents, count in cells if index % 2 == 0 else reversed(cells):
            fakes[(agents, count)].append(run_cluster(agents, count).cpu)
            baselines[(agents, count)].append(deque_appends(agents, events[:count]))
        log(f"  growth round {index + 1}/{rounds} done")
    return {cell: (median(fakes[cell]), median(baselines[cell])) for cell in cells}


def _growth(report: Report, grid: dict[tuple[int, int], tuple[float, float]], rounds: int) -> None:
    xs = [float(agents * count) for agents, count in grid]
    a, b, r2 = linear_fit(xs, [fake for fake, _ in grid.values()])
    base_a, base_b, base_r2 = linear_fit(xs, [base for _, base in grid.values()])
    linear = r2 > LINEAR_R2
    verdict = "linear" if linear else "NOT linear"
    body = []
    for agents in GRID_AGENTS:
        line = [str(agents)]
        for count in GRID_EVENTS:
            fake, base = grid[(agents, count)]
            per = fake / (agents * count) * 1e6
            line.append(f"{fake * 1000:.1f} ms ({per:.2f} us/d; base {base * 1000:.2f} ms)")
        body.append(tuple(line))
    report.tables.append(
        Table(
            title=(
                f"cluster_scale growth: CPU of the fires, median of {rounds} "
                f"round{'s' if rounds != 1 else ''} per cell "
                "(us/d = per delivery; base = the locked-deque baseline)"
            ),
            headers=("agents", *(f"{count:,} events" for count in GRID_EVENTS)),
            rows=tuple(body),
            footer=(
                f"Least-squares fit in agents x events: CPU = {a * 1000:+.1f} ms + "
                f"{b * 1e6:.2f} us x deliveries, R² = {r2:.4f}: {verdict} (R² > {LINEAR_R2}). "
                f"Baseline: {base_b * 1e6:.3f} us per append, R² = {base_r2:.4f}."
            ),
        )
    )
    report.rows.append(
        Row(
            name="cluster_scale (growth)",
            fake=b * 1e6,
            baseline=base_b * 1e6,
            unit="us/delivery",
            target=f"linear: R² > {LINEAR_R2}",
            measured=f"R² {r2:.4f}: {verdict}",
            passed=linear,
            soft=True,
        )
    )
    report.notes.append(
        f"cluster_scale (growth): fitted intercept {a * 1000:+.1f} ms (baseline "
        f"{base_a * 1000:+.2f} ms); per-cell costs per delivery are in the growth table"
    )


def _tally(runs: Sequence[ClusterRun], key: tuple[str, str]) -> float:
    return median([float(run.outcomes.get(key, 0)) for run in runs])


def run_scale(settings: Settings) -> Report:
    """100 agents x 1,000 events in order vs locked deque appends; the growth grid. Two rows."""
    rounds = settings.pick(7, 3)
    grid_rounds = settings.pick(5, 1)
    events = sample_events(EVENTS)
    runs, baselines = _fake_and_baseline(rounds, AGENTS, events)
    log(f"  {rounds} rounds of {AGENTS} agents x {EVENTS} events done")
    cpus = [run.cpu for run in runs]
    fake, noise = median(cpus), median_se(cpus)
    passed, unsure = below(fake, TARGET_S, noise)
    deliveries = AGENTS * EVENTS
    report = Report()
    report.rows.append(
        Row(
            name="cluster_scale",
            fake=fake,
            baseline=median(baselines),
            unit="s CPU",
            target=f"< {TARGET_S:g} s CPU",
            measured=f"{fake:.3f} ± {noise:.3f} s",
            passed=passed,
            unsure=unsure,
        )
    )
    gossiped = _tally(runs, ("deliver", "stored"))
    report.notes.append(
        f"cluster_scale: {AGENTS} agents x {EVENTS} events fired round-robin = {deliveries:,} "
        f"deliveries ({gossiped:,.0f} gossiped and stored, plus the server's own copy of each "
        f"event) x {rounds} rounds; "
        f"{fake / deliveries * 1e6:.2f} us CPU per delivery vs "
        f"{median(baselines) / deliveries * 1e6:.3f} us per locked deque append; wall "
        f"{fmt(median([run.wall for run in runs]), 's')}; CPU min {min(cpus):.3f} s, "
        f"max {max(cpus):.3f} s"
    )
    _growth(report, _grid(grid_rounds, events), grid_rounds)
    return report


def run_hostile(settings: Settings) -> Report:
    """The 100 x 1,000 run with unordered and with lossy, duplicating gossip; one row each."""
    rounds = settings.pick(5, 2)
    events = sample_events(EVENTS)
    report = Report()
    for label, gossip_settings in HOSTILE.items():
        runs, baselines = _fake_and_baseline(rounds, AGENTS, events, gossip_settings, settle=True)
        log(f"  {label}: {rounds} rounds done")
        cpus = [run.cpu for run in runs]
        fake = median(cpus)
        report.rows.append(
            Row(
                name=f"cluster_hostile[{label}]",
                fake=fake,
                baseline=median(baselines),
                unit="s CPU",
                measured=f"{fake:.3f} ± {median_se(cpus):.3f} s",
            )
        )
        made = median(
            [
                float(sum(n for (kind, _), n in run.outcomes.items() if kind == "deliver"))
                for run in runs
            ]
        )
        settled = median([float(run.settled) for run in runs])
        rest = "the background thread" if gossip_settings.unordered else "the fires themselves"
        report.notes.append(
            f"cluster_hostile[{label}]: {AGENTS} x {EVENTS}, {rounds} rounds; CPU in the fires "
            f"{median([run.cpu - run.settle_cpu for run in runs]):.3f} s, in settle() "
            f"{median([run.settle_cpu for run in runs]):.3f} s; wall "
            f"{fmt(median([run.wall for run in runs]), 's')}; gossip deliveries "
            f"{made:,.0f} (settle() made {settled:,.0f}, {rest} the rest): stored "
            f"{_tally(runs, ('deliver', 'stored')):,.0f}, too old "
            f"{_tally(runs, ('deliver', 'too old')):,.0f}, duplicate "
            f"{_tally(runs, ('deliver', 'duplicate')):,.0f}; lost "
            f"{_tally(runs, ('drop', 'lost')):,.0f} (medians per run)"
        )
    report.notes.append(
        "cluster_hostile: baseline = the same 100,000 locked deque appends as cluster_scale; "
        "no target"
    )
    return report
