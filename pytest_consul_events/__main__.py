"""Run the standalone fake agent: ``python -m pytest_consul_events --port 8500``."""

from __future__ import annotations

import sys

from pytest_consul_events.cli import main

if __name__ == "__main__":
    sys.exit(main())
