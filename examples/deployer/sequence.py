"""Track a service's current version from ``set-version`` user events.

A release tool fires ``set-version`` with the new version as payload; every node keeps the
version it runs in step. Two trackers do it here:

* :class:`NaiveVersionTracker` is **wrong on purpose**. It applies the listed events in the
  agent's order and takes the last one as current, as if Consul delivered every event once and
  in the order it was fired. Against one agent (``consul -dev``) that holds, so its tests pass.
* :class:`VersionTracker` is what Consul's guarantees allow. In a datacenter each agent lists
  events in the order gossip brought them, which is not the order they were fired (serf's
  Lamport time, ``LTime``, is), and the same event is listed by every agent, so a tracker that
  fails over to another agent sees events it already applied. It remembers the IDs it has
  seen and only moves to a version whose event has a higher ``LTime`` than the current one.

``LTime`` orders events stamped by the servers of one datacenter; two events with the same
``LTime`` (fired at once through two servers) are ordered by ID, which is arbitrary but the
same on every node.
"""

from __future__ import annotations

from typing import Any

from deployer.watcher import Event, RecentIds, events_after

SET_VERSION_EVENT = "set-version"
"""The name of the user event that announces a new version."""


def fire_set_version(client: Any, version: str) -> str:
    """Fire ``set-version`` with ``version`` as payload through a ``consul.Consul``; return its ID.

    Raises:
        consul.ConsulException: Consul refused the event.
    """
    answer = client.event.fire(SET_VERSION_EVENT, version)
    return str(answer["ID"])


def _version(event: Event) -> str:
    if event.payload is None:
        raise ValueError(f"set-version event {event.id} has no payload")
    return event.payload.decode("utf-8")


def _list(client: Any) -> list[Event]:
    _, raw = client.event.list(name=SET_VERSION_EVENT)
    return [Event.from_api(item) for item in raw]


class NaiveVersionTracker:
    """Applies every new listed event in list order; the last one applied is current.

    Do not copy this: it assumes ordered, exactly-once delivery, which Consul does not give.
    """

    def __init__(self) -> None:
        self.current: str | None = None
        self.applied: list[str] = []  # every version rolled out, in the order it was
        self._last_id: str | None = None

    def poll(self, client: Any) -> list[str]:
        """List the agent behind ``client`` and apply what is new; return the versions applied."""
        events = _list(client)
        fresh = events if self._last_id is None else events_after(events, self._last_id)
        if fresh is None:
            fresh = events
        if events:
            self._last_id = events[-1].id
        for event in fresh:
            self.current = _version(event)
            self.applied.append(self.current)
        return [_version(event) for event in fresh]


class VersionTracker:
    """Moves to the version of the newest event by Lamport time, each event considered once.

    Any agent of the datacenter may be polled, and a different one each time: every listed
    event is looked at, those already seen are skipped, and an event older than the current
    version's changes nothing.
    """

    def __init__(self, *, remember: int = 1024) -> None:
        self.current: str | None = None
        self.applied: list[str] = []  # every version rolled out, in the order it was
        self._newest: tuple[int, str] | None = None  # (LTime, ID) of the current version
        self._seen = RecentIds(remember)

    def poll(self, client: Any) -> list[str]:
        """List the agent behind ``client``; roll out a newer version if one is listed.

        Returns the versions applied (at most one per poll: only the newest counts).
        """
        newest: Event | None = None
        for event in _list(client):
            if not self._seen.add(event.id):
                continue  # listed before, here or by another agent
            key = (event.ltime, event.id)
            if (self._newest is None or key > self._newest) and (
                newest is None or key > (newest.ltime, newest.id)
            ):
                newest = event
        if newest is None:
            return []
        self._newest = (newest.ltime, newest.id)
        self.current = _version(newest)
        self.applied.append(self.current)
        return [self.current]
