"""A tiny deployment tool built on Consul user events.

``trigger`` fires a ``deploy`` event asking the nodes that run a service to roll it out at a
version; ``watcher`` runs on those nodes and hands each new ``deploy`` event to a handler
exactly once. The tests next to this package run both against the fake agent of
``pytest-consul-events``.
"""

from deployer.trigger import DEPLOY_EVENT, Deploy, DeployError, fire_deploy
from deployer.watcher import Event, EventWatcher, MissedEvents, events_after

__all__ = [
    "DEPLOY_EVENT",
    "Deploy",
    "DeployError",
    "Event",
    "EventWatcher",
    "MissedEvents",
    "events_after",
    "fire_deploy",
]
