"""``python -m pytest_consul_events.consul_cli event -name=deploy``: the ``consul`` program."""

from __future__ import annotations

import sys

from pytest_consul_events.consul_cli.cli import main

if __name__ == "__main__":
    sys.exit(main())
