"""``python -m pytest_consul_events``: serve a fake agent for clients outside Python tests."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from pytest_consul_events.model.agent import DEFAULT_DATACENTER, DEFAULT_NODE_NAME

DEFAULT_PORT = 8500


def build_parser() -> argparse.ArgumentParser:
    """The command line: address, node name and datacenter of the fake agent."""
    parser = argparse.ArgumentParser(
        prog="pytest-consul-events",
        description="Serve an in-memory fake Consul agent (user events) over HTTP.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port to bind, 0 for any (default: %(default)s)",
    )
    parser.add_argument(
        "--node", default=DEFAULT_NODE_NAME, help="node name (default: %(default)s)"
    )
    parser.add_argument(
        "--datacenter", default=DEFAULT_DATACENTER, help="datacenter (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for event IDs")
    parser.add_argument(
        "--dev", action="store_true", help="pretty-print JSON as `consul agent -dev` does"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; returns the exit status (0, or 1 if the port is taken).

    Prints ``Fake Consul agent <node> (<dc>) serving on http://host:port`` once listening.
    """
    args = build_parser().parse_args(argv)
    from pytest_consul_events.fake import FakeConsulAgent

    try:
        agent = FakeConsulAgent(
            host=args.host,
            port=args.port,
            node_name=args.node,
            datacenter=args.datacenter,
            seed=args.seed,
            dev_mode=args.dev,
        )
    except OSError as exc:
        print(
            f"pytest-consul-events: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    except (TypeError, ValueError) as exc:
        print(f"pytest-consul-events: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    agent.start()
    print(
        f"Fake Consul agent {agent.node_name} ({agent.datacenter}) serving on {agent.url}",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        agent.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Stopped.", flush=True)
    return 0
