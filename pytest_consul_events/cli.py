"""``python -m pytest_consul_events`` and the ``pytest-consul-events`` command: fake Consul
agents for clients outside Python tests (a Node service, a Go binary, a shell script).

The command lives in :mod:`pytest_consul_events.standalone` (flags, config files, the plan,
running); this module is its entry point.
"""

from __future__ import annotations

from pytest_consul_events.standalone.flags import build_parser
from pytest_consul_events.standalone.run import main

__all__ = ["build_parser", "main"]
