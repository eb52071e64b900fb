"""pytest-consul-events: a faithful in-memory fake Consul agent for testing user events.

Importing this package is cheap: the fake agent, its HTTP server and the py-consul client are
loaded only when first used (``from pytest_consul_events import FakeConsulAgent``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs each `consul` command

__version__ = "0.1.0"

__all__ = [
    "ConsulError",
    "FakeConsulAgent",
    "FakeConsulCluster",
    "ManualClock",
    "Service",
    "UserEvent",
    "__version__",
]

if TYPE_CHECKING:
    from typing import Any

    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.errors import ConsulError
    from pytest_consul_events.fake import FakeConsulAgent
    from pytest_consul_events.model.clock import ManualClock
    from pytest_consul_events.model.event import UserEvent
    from pytest_consul_events.model.services import Service

_LAZY = {
    "ConsulError": "pytest_consul_events.errors",
    "FakeConsulAgent": "pytest_consul_events.fake",
    "FakeConsulCluster": "pytest_consul_events.cluster",
    "ManualClock": "pytest_consul_events.model.clock",
    "UserEvent": "pytest_consul_events.model.event",
    "Service": "pytest_consul_events.model.services",
}


def __getattr__(name: str) -> Any:
    """Load the public classes on first access, keeping ``import pytest_consul_events`` cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_consul_events' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
