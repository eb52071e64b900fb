"""Running the standalone agent: load the settings, start, print the addresses, stop on a
signal.

Exit status: 0 after a clean stop on SIGINT or SIGTERM (and for ``--help``/``--version``); 2
for a usage or configuration error; 1 when a port cannot be bound. Messages go to stderr as
one line each, prefixed ``pytest-consul-events:``; stdout carries only the address lines (one
per agent) or, with ``--json``, one line of JSON, flushed at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from pytest_consul_events import __version__
from pytest_consul_events.standalone import config, flags, plan
from pytest_consul_events.standalone.config import ConfigError

if TYPE_CHECKING:
    import argparse

    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.fake import FakeConsulAgent

PROG = flags.PROG
EXIT_OK = 0
EXIT_BIND = 1
EXIT_USAGE = 2
CONTROL_PATH = "/_fake/"
REPLAY_OPTION = "--seed"
"""What replays a seed here: the failure reports name it instead of pytest's ``--consul-seed``."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def load(args: argparse.Namespace) -> tuple[plan.Plan, list[str]]:
    """The plan for a parsed command line, and the warnings met on the way.

    Sources are merged in Consul's order: the flags' lists, the config files in the order
    given (a directory's files by name), the flags' other values, the ``--hcl`` fragments.

    Raises:
        ConfigError: a file cannot be read or parsed, or the settings contradict each other.
    """
    warnings: list[str] = []
    sources: list[config.Source] = []
    for path in args.config_file:
        found, skipped = config.sources_from_path(path, args.config_format or "")
        sources.extend(found)
        warnings.extend(skipped)
    sources.extend(config.hcl_sources(args.hcl))
    lists, values = flags.flag_trees(args)
    trees = [lists]
    hcl_trees: list[config.Tree] = []
    for source in sources:
        tree, source_warnings = config.parse(source)
        warnings.extend(source_warnings)
        (hcl_trees if source.name.startswith("flags-") else trees).append(tree)
    merged = config.merge(*trees, values, *hcl_trees)
    return plan.build(merged), warnings


def make(launch: plan.Plan) -> FakeConsulAgent | FakeConsulCluster:
    """The agent or cluster of a plan, bound to its ports (not started).

    Raises:
        OSError: a port is taken (``AgentBindError`` names the agent of a cluster).
        TypeError, ValueError: an option the Python API refuses.
    """
    from pytest_consul_events.fake import FakeConsulAgent
    from pytest_consul_events.model.clock import make_clock

    if launch.agents is None:
        options = dict(launch.agent_options)
        clock = make_clock(options.pop("clock", None))
        strict = options.pop("strict", False)
        agent = FakeConsulAgent(
            host=launch.host, port=launch.port, clock=clock, strict=strict, **options
        )
        agent.replay_option = REPLAY_OPTION
        return agent
    from pytest_consul_events.cluster import FakeConsulCluster

    options = dict(launch.cluster_options)
    clock = make_clock(options.pop("clock", None))
    cluster = FakeConsulCluster(launch.agents, host=launch.host, clock=clock, **options)
    cluster.replay_option = REPLAY_OPTION
    return cluster


def agents_of(target: FakeConsulAgent | FakeConsulCluster) -> list[FakeConsulAgent]:
    """The agents started, in the order given."""
    from pytest_consul_events.fake import FakeConsulAgent

    return [target] if isinstance(target, FakeConsulAgent) else list(target)


def address_line(agent: FakeConsulAgent) -> str:
    """``Fake Consul agent <node> (<dc>) serving on <url>``."""
    return f"Fake Consul agent {agent.node_name} ({agent.datacenter}) serving on {agent.url}"


def json_line(target: FakeConsulAgent | FakeConsulCluster) -> str:
    """The ``--json`` line: every agent, the seed, the control API base, the version."""
    agents = agents_of(target)
    described = [
        {
            "node_name": agent.node_name,
            "datacenter": agent.datacenter,
            "server": agent.config.server,
            "address": agent.http_addr,
            "url": agent.url,
            "control": agent.url + CONTROL_PATH,
        }
        for agent in agents
    ]
    return json.dumps(
        {
            "agents": described,
            "seed": target.seed,
            "control": agents[0].url + CONTROL_PATH,
            "cluster": len(agents) > 1 or agents[0].cluster is not None,
            "version": __version__,
            "pid": os.getpid(),
        },
        separators=(",", ":"),
    )


def _say(message: str, stream: TextIO | None = None) -> None:
    _print(f"{PROG}: {message}", stream or sys.stderr)


def _print(line: str, stream: TextIO) -> None:
    """Write a line, flushed; a reader that went away (a closed pipe) does not stop us."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=stream, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status (see the module docstring)."""
    try:
        args = flags.parse_args(argv)
    except flags.UsageError as exc:
        _say(f"{exc} (see --help)")
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version, printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        launch, warnings = load(args)
    except ConfigError as exc:
        _say(str(exc))
        return EXIT_USAGE
    for warning in warnings:
        _say(f"warning: {warning}")
    with _StopSignals() as stop:
        return _serve(launch, stop, json_output=args.json)


class _StopSignals:
    """SIGINT and SIGTERM, caught for :meth:`wait`.

    The handler does nothing itself: Python's C-level handler writes the signal's number to a
    socket (``signal.set_wakeup_fd``), which :meth:`wait` reads. A handler that set a
    ``threading.Event`` could deadlock: it runs in the main thread, which may hold that
    event's lock at that very moment (inside ``Event.wait()``).
    """

    def __enter__(self) -> _StopSignals:
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {sig: signal.signal(sig, _no_op) for sig in STOP_SIGNALS}
        return self

    def wait(self) -> None:
        """Return once SIGINT or SIGTERM has arrived (at once if one came before)."""
        wanted = {int(sig) for sig in STOP_SIGNALS}
        while not wanted.intersection(self._reader.recv(64)):
            pass

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()


def _no_op(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler of the stop signals: the wake-up socket carries them."""


def _serve(launch: plan.Plan, stop: _StopSignals, *, json_output: bool) -> int:
    try:
        target = make(launch)
    except OSError as exc:
        _say(_bind_message(exc, launch))
        return EXIT_BIND
    except (TypeError, ValueError) as exc:
        _say(str(exc))
        return EXIT_USAGE
    try:
        try:
            target.start()  # where a server that binds when it starts would fail
        except OSError as exc:
            _say(_bind_message(exc, launch))
            return EXIT_BIND
        agents = agents_of(target)
        if json_output:
            _print(json_line(target), sys.stdout)
        else:
            for agent in agents:
                _print(address_line(agent), sys.stdout)
        _say(
            f"control API at {agents[0].url}{CONTROL_PATH} (seed {target.seed}); "
            "SIGINT or SIGTERM stops"
        )
        stop.wait()
    finally:
        shutdown(target)
    _say("stopped")
    return EXIT_OK


def _bind_message(exc: OSError, launch: plan.Plan) -> str:
    """``cannot listen on HOST:PORT: why`` (an agent of a datacenter names itself)."""
    from pytest_consul_events.cluster import AgentBindError

    if isinstance(exc, AgentBindError):
        return str(exc)
    return f"cannot listen on {launch.host}:{launch.port}: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    """The system's text for a socket error, without the address Python appends."""
    return os.strerror(exc.errno) if exc.errno else str(exc)


def shutdown(target: FakeConsulAgent | FakeConsulCluster) -> None:
    """Stop serving: blocked queries answered, connections closed, threads ended."""
    from pytest_consul_events.fake import FakeConsulAgent

    if isinstance(target, FakeConsulAgent):
        target.stop()
    else:
        target.close()
