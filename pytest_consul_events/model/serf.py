"""The part of serf that carries user events: the event clock, size checks, dedupe and age.

Follows hashicorp/serf serf/serf.go @v0.10.1: ``UserEvent`` (fire) and ``handleUserEvent``
(receipt). Consul's user event travels as the serf event ``consul:event:<name>`` whose payload
is Consul's msgpack blob; here the blob is the :class:`UserEvent` itself, whose equality is the
blob's equality (same ID, name, payload and filters).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from dataclasses import replace

from pytest_consul_events.model.event import UserEvent
from pytest_consul_events.model.lamport import LamportClock
from pytest_consul_events.model.sizelimit import USER_EVENT_SIZE_LIMIT, check_size

EVENT_BUFFER_SIZE = 512
"""serf ``Config.EventBuffer`` default: the dedupe window, and the age past which events are old."""

FIRST_USER_EVENT_LTIME = 2
"""The event clock of a fresh single-server agent when the first user event is fired.

serf starts the clock at 1; Consul's leader then fires ``consul:new-leader`` at LTime 1 (not a
user event, so it never shows in the list), which leaves the clock at 2.
"""


@dataclasses.dataclass(frozen=True)
class SerfUserEvent:
    """A user event on the wire: its Lamport time and Consul's event."""

    ltime: int
    event: UserEvent

    @functools.cached_property
    def stamped(self) -> UserEvent:
        """The event as receiving agents store it, with this Lamport time; made once and
        shared by every receiver (events are immutable)."""
        return replace(self.event, ltime=self.ltime)


class Receipt(enum.Enum):
    """What serf did with an event it received."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    TOO_OLD = "too old"
    BEFORE_MIN_TIME = "before minimum event time"


class SerfEvents:
    """One serf member's user-event state. The caller holds a lock around every method."""

    def __init__(
        self, start: int = FIRST_USER_EVENT_LTIME, *, window: int = EVENT_BUFFER_SIZE
    ) -> None:
        self.clock = LamportClock(start)
        self.min_time = 0
        self._window = window
        self._seen: dict[int, tuple[int, list[UserEvent]]] = {}

    def prepare(self, event: UserEvent, limit: int = USER_EVENT_SIZE_LIMIT) -> SerfUserEvent:
        """Stamp an event about to be fired from this member, as serf's ``UserEvent`` does.

        The size is checked against the clock's current time, and only an accepted event
        advances the clock.

        Raises:
            EventTooLargeError: serf refused the event for its size; the clock is unchanged.
        """
        ltime = self.clock.time()
        check_size(
            event.name,
            event.payload,
            event.node_filter,
            event.service_filter,
            event.tag_filter,
            ltime,
            limit,
        )
        self.clock.increment()
        return SerfUserEvent(ltime, event)

    def receive(self, message: SerfUserEvent) -> Receipt:
        """Witness the event's time, then decide whether it is new, in serf's order of checks."""
        self.clock.witness(message.ltime)
        if message.ltime < self.min_time:
            return Receipt.BEFORE_MIN_TIME
        now = self.clock.time()
        if now > self._window and message.ltime < now - self._window:
            return Receipt.TOO_OLD
        # Serf compares the encoded event, which never carries the LTime.
        event = message.event if not message.event.ltime else replace(message.event, ltime=0)
        slot = message.ltime % self._window
        seen = self._seen.get(slot)
        if seen is not None and seen[0] == message.ltime:
            if event in seen[1]:
                return Receipt.DUPLICATE
            seen[1].append(event)
        else:
            self._seen[slot] = (message.ltime, [event])
        return Receipt.ACCEPTED
