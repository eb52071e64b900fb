"""``PUT /v1/event/fire/<name>`` and ``GET /v1/event/list`` (agent/event_endpoint.go)."""

from __future__ import annotations

from pytest_consul_events import messages
from pytest_consul_events.errors import (
    ConsulError,
    MissingNameError,
    PermissionDeniedError,
)
from pytest_consul_events.http import responses
from pytest_consul_events.http.call import Call, ShortBodyError
from pytest_consul_events.http.params import InvalidParameterError, first, parse_wait
from pytest_consul_events.http.responses import Reply
from pytest_consul_events.model.agent import Agent

FIRE_PREFIX = "/v1/event/fire/"


def fire(call: Call, agent: Agent) -> Reply:
    """Fire an event named by the rest of the path, with Consul's checks and answers.

    Status codes follow ``EventFire``: 400 for a missing name, 403 ``Permission denied`` when the
    token may not write, and 500 with the error text for everything else, including an unknown
    token, since the handler writes its 500 before the wrapper could turn it into a 403.
    """
    name = call.path[len(FIRE_PREFIX) :]
    if not name:
        return responses.text(400, messages.MISSING_NAME)
    try:
        body = call.read_body()
    except ShortBodyError as exc:
        return responses.text(500, str(exc))  # io.Copy's error, through the wrapper
    try:
        event = agent.fire(
            name,
            body,
            node=first(call.query, "node"),
            service=first(call.query, "service"),
            tag=first(call.query, "tag"),
            dc=first(call.query, "dc"),
            token=call.token,
        )
    except MissingNameError:
        return responses.text(400, messages.MISSING_NAME)
    except PermissionDeniedError:
        return responses.text(403, messages.PERMISSION_DENIED)
    except ConsulError as exc:
        return responses.text(500, exc.message)
    return responses.json_reply(responses.event_fields(event), pretty=call.pretty)


def list_events(call: Call, agent: Agent) -> Reply:
    """List the agent's events, filtered by ``?name=`` and the token, blocking on ``?index=``.

    Every answer carries ``X-Consul-Index`` (1 when empty); ``X-Consul-Results-Filtered-By-ACLs``
    only when the token is not empty and ACLs hid an event. An unknown token is 403 here.
    """
    try:
        wait = parse_wait(call.query)
    except InvalidParameterError as exc:
        return responses.text(400, str(exc))
    try:
        listing = agent.serve_list_events(
            first(call.query, "name"), token=call.token, index=wait.index, wait=wait.seconds
        )
    except ConsulError as exc:  # an unknown token (403) or a root name (500): handleErr
        return responses.handle_error(exc)
    reply = responses.events_reply(listing.events, pretty=call.pretty)
    if listing.filtered_by_acls:
        reply.headers.append((messages.HEADER_FILTERED_BY_ACLS, "true"))
    reply.headers.append((messages.HEADER_INDEX, str(listing.index)))
    return reply
