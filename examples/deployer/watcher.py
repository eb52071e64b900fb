"""Watch Consul user events and hand each new one to a handler exactly once.

``GET /v1/event/list`` is a blocking query unlike any other in Consul, and each of its quirks
shapes this module:

* **The index is not a counter.** ``X-Consul-Index`` is a hash of the newest listed event's
  UUID, so it goes down as often as up. Indexes are only passed back to Consul, never compared.
* **Every answer is the whole buffer.** A blocking query returns as soon as the index differs
  from the one asked for, with every stored event. The new events are those listed after the
  last one seen, found by ID, as Consul's own Go ``watch`` package does.
* **The first answer is history.** The agent keeps up to 256 old events and the first list
  returns them all ("watch fires on start"); ``replay_history`` decides whether they are handled.
* **Old events fall out.** If the last event seen is no longer listed, every listed event is
  new and some may have been missed: the watcher says so through ``on_missed``.
* **Events can come twice** (another agent answering behind the same address, a restarted
  agent): a bounded memory of handled IDs drops repeats.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import consul  # type: ignore[import-untyped, unused-ignore]  # py-consul has no type hints

from deployer.trigger import DEPLOY_EVENT

log = logging.getLogger(__name__)

AGENT_BUFFER_SIZE = 256
"""How many events a Consul agent keeps; the memory of handled IDs must be at least this big."""


@dataclasses.dataclass(frozen=True)
class Event:
    """A user event as listed by the agent; ``payload`` is ``None`` when fired without one."""

    id: str
    name: str
    payload: bytes | None
    ltime: int

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Event:
        """Build from one entry of py-consul's ``event.list`` (``Payload`` already decoded)."""
        return cls(id=raw["ID"], name=raw["Name"], payload=raw["Payload"], ltime=raw["LTime"])


@dataclasses.dataclass(frozen=True)
class MissedEvents:
    """The last event seen is no longer listed: events fired after it may have been missed.

    ``oldest_listed_id`` is the oldest event the agent still lists; everything between
    ``last_seen_id`` and it was pushed out of the agent's buffer before the watcher looked.
    """

    last_seen_id: str
    oldest_listed_id: str


Handler = Callable[[Event], object]


def events_after(events: Sequence[Event], last_id: str) -> list[Event] | None:
    """The events listed after the one with ID ``last_id``, or ``None`` if it is not listed.

    The search starts from the newest event: if an ID were listed twice, the later copy is the
    one the watcher saw last.
    """
    for position in range(len(events) - 1, -1, -1):
        if events[position].id == last_id:
            return list(events[position + 1 :])
    return None


class RecentIds:
    """The IDs of the last ``capacity`` events handled, forgetting the oldest first."""

    def __init__(self, capacity: int) -> None:
        if capacity < AGENT_BUFFER_SIZE:
            # Smaller, and a whole re-listed buffer could hold IDs already forgotten.
            raise ValueError(f"remember at least {AGENT_BUFFER_SIZE} IDs, not {capacity}")
        self._capacity = capacity
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()

    def add(self, event_id: str) -> bool:
        """Remember ``event_id``; return whether it is new."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


def _log_missed(report: MissedEvents) -> None:
    log.warning(
        "some events may have been missed between %s and %s",
        report.last_seen_id,
        report.oldest_listed_id,
    )


def _log_error(exc: BaseException) -> None:
    log.error("event watcher error", exc_info=exc)


class EventWatcher:
    """Long-polls ``/v1/event/list?name=<name>`` and hands each new event to ``handler`` once.

    Use :meth:`start` and :meth:`stop` (or ``with``) to watch from a background thread, or call
    :meth:`poll` yourself. ``client`` is a ``consul.Consul`` for this watcher alone (its HTTP
    session is used from the watcher's thread); without one, a client is built from the
    environment and closed when the watcher ends.

    ``wait`` is the longest a poll is held by the agent (a Go duration such as ``"30s"``).
    ``replay_history`` hands the events already stored at start to the handler too.
    ``on_missed`` hears when events may have been lost; ``on_error`` gets errors from Consul and
    from the handler (the watcher keeps going, retrying Consul after ``retry_delay`` seconds).
    Both default to logging. ``remember`` is how many handled IDs are kept to drop repeats.

    For example, on every node that runs ``web``::

        def roll_out(event: Event) -> None:
            deploy = Deploy.from_payload(event.payload)
            ...  # pull deploy.version and restart

        with EventWatcher(roll_out):  # CONSUL_HTTP_ADDR names the local agent
            wait_for_shutdown()
    """

    def __init__(
        self,
        handler: Handler,
        *,
        name: str = DEPLOY_EVENT,
        client: Any = None,
        wait: str = "30s",
        replay_history: bool = False,
        on_missed: Callable[[MissedEvents], object] = _log_missed,
        on_error: Callable[[BaseException], object] = _log_error,
        remember: int = 4 * AGENT_BUFFER_SIZE,
        retry_delay: float = 1.0,
    ) -> None:
        self._handler = handler
        self._name = name
        self._owns_client = client is None
        self._client: Any = consul.Consul() if client is None else client
        self._wait = wait
        self._replay = replay_history
        self._on_missed = on_missed
        self._on_error = on_error
        self._retry_delay = retry_delay
        self._seen = RecentIds(remember)
        self._index: str | None = None  # opaque: sent back to Consul, never compared
        self._last_id: str | None = None
        self._primed = False
        self._lock = threading.RLock()  # held while state changes and the handler runs
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def last_event_id(self) -> str | None:
        """The ID of the newest event listed by the last poll (``None`` before, or if none)."""
        with self._lock:
            return self._last_id

    # -- one poll ------------------------------------------------------------------------------

    def poll(self) -> list[Event]:
        """List once and hand the new events to the handler; return the events handed over.

        The first poll answers at once; later ones block up to ``wait`` until the list changes.

        Raises:
            consul.ConsulException: Consul answered with an error.
            OSError: Consul could not be reached (requests' errors are ``OSError``).
        """
        index, raw = self._client.event.list(name=self._name, index=self._index, wait=self._wait)
        events = [Event.from_api(item) for item in raw]
        with self._lock:
            if self._stopping.is_set():
                return []  # the answer to an abandoned poll
            self._index = index
            fresh = self._select_new(events)
            self._last_id = events[-1].id if events else None
            return self._hand_over(fresh)

    def _select_new(self, events: list[Event]) -> list[Event]:
        """The listed events the watcher has not looked at yet, in the agent's order."""
        if not self._primed:
            self._primed = True
            if not self._replay:
                # The first answer is the agent's whole buffer: history, not news.
                for event in events:
                    self._seen.add(event.id)
                return []
            return events
        if self._last_id is None:
            return events  # nothing was listed last time, so everything is new
        after = events_after(events, self._last_id)
        if after is not None:
            return after
        if events:
            # Pushed out of the agent's ring buffer (or another agent): all listed are newer.
            self._on_missed(MissedEvents(self._last_id, events[0].id))
        return events

    def _hand_over(self, events: list[Event]) -> list[Event]:
        handed: list[Event] = []
        for event in events:
            if self._stopping.is_set():
                break
            if not self._seen.add(event.id):
                continue  # seen before: a repeat from gossip or from another agent
            try:
                self._handler(event)
            except Exception as exc:
                self._on_error(exc)  # handled means "offered once": no retry
            handed.append(event)
        return handed

    # -- the background thread ----------------------------------------------------------------

    def start(self) -> EventWatcher:
        """Poll once now, then keep polling in a daemon thread; return the watcher.

        The first poll runs in the caller's thread, so it raises if Consul is unreachable, any
        history replayed is handled before ``start`` returns, and every event fired after
        ``start`` returns is news.

        Raises:
            RuntimeError: the watcher was started before.
            consul.ConsulException, OSError: the first poll failed.
        """
        if self._thread is not None or self._stopping.is_set():
            raise RuntimeError("an EventWatcher can be started once")
        self.poll()
        self._thread = threading.Thread(
            target=self._run, name=f"event-watcher-{self._name}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self.poll()
                except Exception as exc:  # a watcher outlives Consul's hiccups
                    if self._stopping.is_set():
                        break
                    self._on_error(exc)
                    self._stopping.wait(self._retry_delay)
        finally:
            self._close_client()

    def stop(self) -> None:
        """Stop watching, without waiting for the poll in flight.

        Once ``stop`` returns the handler is never called again: a handler call already running
        is waited for (unless ``stop`` is called by the handler itself). The poll in flight is
        abandoned: its answer is dropped, and the thread ends when the agent answers, at most
        ``wait`` later; :meth:`join` waits for that.
        """
        self._stopping.set()
        with self._lock:
            pass  # wait for a handler call in progress
        if self._thread is None:
            self._close_client()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end after :meth:`stop`; return whether it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _close_client(self) -> None:
        if self._owns_client:
            self._client.http.session.close()

    def __enter__(self) -> EventWatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
