"""The node, service and tag filters of an event: validation before a fire, matching on receipt.

Both follow agent/user_event.go: ``validateUserEventParams`` checks, in this order, the
tag-without-service rule and the node, service and tag regular expressions (Go syntax, Go's error
texts); ``shouldProcessUserEvent`` matches them, unanchored, against the receiving agent's node
name, its local service IDs, and the tags of the services whose ID matched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pytest_consul_events import messages
from pytest_consul_events.errors import InvalidFilterError

if TYPE_CHECKING:
    # The Go regexp port (with Go's Unicode tables) loads on the first filter: most events
    # have none.
    from pytest_consul_events.gocompat import regexp
    from pytest_consul_events.model.services import Service


@dataclasses.dataclass(frozen=True)
class EventFilters:
    """The compiled filters of one event; an empty pattern means "no filter"."""

    node: regexp.GoRegexp | None = None
    service: regexp.GoRegexp | None = None
    tag: regexp.GoRegexp | None = None

    def admits(self, node_name: str, services: Iterable[Service]) -> bool:
        """Whether an agent with this node name and these local services stores the event.

        The node filter must match the node name; the service filter must match the ID of at
        least one service, and, with a tag filter, one tag of such a service must match too. An
        agent with no services never stores an event that has a service filter.
        """
        if self.node is not None and not self.node.search(node_name):
            return False
        if self.service is None:
            return True
        for service in services:
            if not self.service.search(service.id):
                continue
            if self.tag is None or any(self.tag.search(tag) for tag in service.tags):
                return True
        return False


NO_FILTERS = EventFilters()


def compile_filters(node: str = "", service: str = "", tag: str = "") -> EventFilters:
    """Validate and compile an event's filters in Consul's order.

    Raises:
        InvalidFilterError: ``Cannot provide tag filter without service filter``, or
            ``Invalid node filter: <Go regexp error>`` (likewise service, tag) for the first
            pattern Go's ``regexp.Compile`` rejects.
    """
    if not (node or service or tag):
        return NO_FILTERS
    if tag and not service:
        raise InvalidFilterError(messages.TAG_WITHOUT_SERVICE)
    return EventFilters(
        node=_compile(node, messages.INVALID_NODE_FILTER),
        service=_compile(service, messages.INVALID_SERVICE_FILTER),
        tag=_compile(tag, messages.INVALID_TAG_FILTER),
    )


def received_filters(node: str, service: str, tag: str) -> EventFilters | None:
    """The filters of an event received through gossip, as ``shouldProcessUserEvent`` reads them.

    A tag filter without a service filter is ignored; a pattern that does not compile means
    the event is dropped, which this signals by returning ``None`` (Consul logs it).
    """
    if not service:
        tag = ""
    try:
        return compile_filters(node, service, tag)
    except InvalidFilterError:
        return None


def _compile(pattern: str, template: str) -> regexp.GoRegexp | None:
    if not pattern:
        return None
    from pytest_consul_events.gocompat import regexp

    try:
        return regexp.compile(pattern)
    except regexp.GoRegexpError as exc:
        raise InvalidFilterError(template.format(error=exc)) from None
