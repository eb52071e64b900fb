"""The watch plan of Consul's ``api/watch`` package, for the ``event`` watch type.

A port of ``(*Plan).RunWithClientAndHclog`` (``api/watch/plan.go`` @6a193e3),
``eventWatch`` and ``makeQueryOptionsWithContext`` (``api/watch/funcs.go`` @61ab6b2) and
``WaitIndexVal`` (``api/watch/watch.go`` @0be39e3). One loop:

1. List the events (``GET /v1/event/list?name=...``), with ``index=<last>`` once there is a
   last index other than 0, so the agent blocks until the list changes. The first call has no
   index: it answers at once with everything buffered (or ``[]``), and the handler gets it.
2. Prune the answer to the events after the first one whose ID hashes (``IDToIndex``) to the
   last index; when no event does (it was evicted from the 256-event buffer, or there is no last
   index yet) the whole list is kept.
3. On an error, forget the last index, log ``Watch errored`` and wait ``5s x failures²`` (at
   most 180 s) before trying again, without an index: the next answer goes to the handler
   whole.
4. If the new index equals the last one, do nothing. Otherwise remember
   ``WaitIndexVal(new).Next(last)``; skip the handler if the (pruned) result deep-equals the
   previous one, else call it with the new index and the result.

``Next`` is where Consul versions differ. The newest Consul read (``api/watch/watch.go``
@0be39e3, with ``Plan.Logger``) resets to 0 only when the new index *equals* the previous one
(:data:`RESET_ON_EQUAL`); since step 4 already skips an equal index, the reset never happens in
a successful loop. Consul 1.4 to about 1.6 reset to 0 when the index went *down*
(:data:`RESET_ON_DECREASE`, ``prevIdx > idx``); the event index is a hash of a random UUID, so
that happened on about half of all new events, and the next (non-blocking) query handed the
handler the whole buffer again. Consul 0.8.4 to 1.3 did the same in ``watch/plan.go``
(``if p.lastIndex < oldIndex``). The change to the equality test came with
hashicorp/consul#5265 (UNCONFIRMED: the first release that shipped it, around 1.7).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.consul_cli.errors import GoPanic
from pytest_consul_events.consul_cli.events import Event, decode_list, id_to_index
from pytest_consul_events.consul_cli.httpapi import APIError, Client, require_ok
from pytest_consul_events.consul_cli.logs import go_duration, log_line
from pytest_consul_events.gocompat.jsondecode import GoJSONError

RESET_ON_EQUAL = "equal"
"""The newest Consul: ``WaitIndexVal.Next`` resets to 0 when the index is unchanged."""
RESET_ON_DECREASE = "decrease"
"""Consul 1.4-1.6 (and 0.8.4-1.3 in effect): reset to 0 when the index went down."""
RESET_RULES = (RESET_ON_EQUAL, RESET_ON_DECREASE)

RETRY_INTERVAL = 5.0
"""``retryInterval``: the base of the back-off after a failed query, in seconds."""
MAX_BACKOFF = 180.0
"""``maxBackoffTime``: the longest wait between failed queries, in seconds."""

EventList = list[Event | None] | None
Watcher = Callable[[int | None], tuple[int, EventList]]
Handler = Callable[[int, EventList], None]


class WatchError(Exception):
    """The watch function failed; ``str()`` is Go's error text, logged by the plan."""


def next_index(new: int, previous: int | None, rule: str = RESET_ON_EQUAL) -> int:
    """``WaitIndexVal(new).Next(previous)``: the index the next query blocks on (0: none)."""
    if previous is None:
        return new
    if rule == RESET_ON_EQUAL and previous == new:
        return 0
    if rule == RESET_ON_DECREASE and previous > new:
        return 0
    return new


def prune(events: EventList, last: int | None) -> EventList:
    """``eventWatch``'s pruning: keep the events after the first whose ID hashes to ``last``.

    Every ID up to the match is hashed, as in Go, even when ``last`` is ``None``.

    Raises:
        GoPanic: an element is ``null`` or an ID cannot be hashed (Go panics).
    """
    if not events:
        return events
    for position, event in enumerate(events):
        if event is None:
            raise GoPanic(messages.GO_NIL_DEREFERENCE)
        if id_to_index(event.id) == last:
            return events[position + 1 :]
    return events


def event_watcher(
    client: Client, name: str, on_request: Callable[[int | None], None] | None = None
) -> Watcher:
    """``eventWatch``: a function listing the events named ``name`` (all when empty), blocking
    on the last index, and pruning the answer.

    The function raises :class:`WatchError` for a failed query (transport, status, body) and
    :class:`GoPanic` where Go would panic. ``on_request`` is told each query's index first.
    """

    def watch(last: int | None) -> tuple[int, EventList]:
        params: list[tuple[str, str]] = []
        if last:  # makeQueryOptionsWithContext: WaitIndex, sent only when not 0
            params.append(("index", str(last)))
        if name:
            params.append(("name", name))
        if on_request is not None:
            on_request(last)
        try:
            response = client.do("GET", "/v1/event/list", params)
            require_ok(response)
            events = decode_list(response.body)
        except (APIError, GoJSONError) as exc:
            raise WatchError(str(exc)) from None
        index = _parse_index(response.headers.get("x-consul-index", ""))
        return index, prune(events, last)

    return watch


def _parse_index(text: str) -> int:
    # parseQueryMeta: strconv.ParseUint(s, 10, 64); its error is ignored by Event.List, which
    # then sees LastIndex 0. A missing header is 0 too.
    if text and text.isdigit() and text.isascii() and int(text) < 2**64:
        return int(text)
    return 0


class Plan:
    """The loop of ``(*Plan).RunWithClientAndHclog`` around a watcher and a handler.

    ``log`` receives each hclog line the plan writes (standard error in the command).
    ``retry_interval`` and ``max_backoff`` are Consul's (5 s and 180 s) unless given; ``rule``
    picks the ``Next`` behaviour (:data:`RESET_RULES`). ``sleep(seconds)`` waits out a back-off
    and returns whether the plan was stopped meanwhile (by default it waits on :meth:`stop`).
    """

    def __init__(
        self,
        watcher: Watcher,
        handler: Handler,
        *,
        log: Callable[[str], None],
        rule: str = RESET_ON_EQUAL,
        retry_interval: float = RETRY_INTERVAL,
        max_backoff: float = MAX_BACKOFF,
        watch_type: str = "event",
        logger: str = f"{messages.WATCH_LOGGER_NAME}.{messages.WATCH_LOGGER_NAME}",
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        if rule not in RESET_RULES:
            raise ValueError(f"rule must be one of {RESET_RULES}, not {rule!r}")
        self.watcher = watcher
        self.handler = handler
        self.log = log
        self.rule = rule
        self.retry_interval = retry_interval
        self.max_backoff = max_backoff
        self.watch_type = watch_type
        self.logger = logger
        self.last_index: int | None = None
        self.last_result: Any = _UNSET
        self._stop = threading.Event()
        self.sleep = sleep if sleep is not None else self._stop.wait

    def stop(self) -> None:
        """``(*Plan).Stop``: end the loop after the current step (a wait ends at once)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stop.is_set()

    def run(self) -> None:
        """Run until stopped.

        Raises:
            GoPanic: the watcher panicked, as the Go program would (it then exits 2).
        """
        failures = 0
        while not self._stop.is_set():
            try:
                index, result = self.watcher(self.last_index)
                error: WatchError | None = None
            except WatchError as exc:
                error = exc
            if self._stop.is_set():
                break
            if error is not None:
                failures += 1
                self.last_index = None  # eventWatch returns no index with its errors
                retry = min(self.retry_interval * failures * failures, self.max_backoff)
                pairs = [
                    ("type", self.watch_type),
                    ("error", str(error)),
                    ("retry", go_duration(retry)),
                ]
                self.log(log_line(messages.HCLOG_ERROR, self.logger, messages.WATCH_ERRORED, pairs))
                if self.sleep(retry):
                    return
                continue
            failures = 0
            if self.last_index is not None and self.last_index == index:
                continue
            previous = self.last_index
            self.last_index = next_index(index, previous, self.rule)
            if previous is not None and self.last_result == result:
                continue
            self.last_result = result
            self.handler(index, result)


class _Unset:
    """Go's nil ``interface{}``: the plan's last result before the first call."""

    def __eq__(self, other: object) -> bool:
        return other is self

    __hash__ = object.__hash__


_UNSET = _Unset()
