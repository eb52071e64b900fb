"""``consul event``: fire a user event (``command/event/event.go`` @38bfb24).

In Consul's order: parse the flags (``-name``, ``-node``, ``-service``, ``-tag`` and the client
HTTP options; ``consul event`` has no ``-datacenter``); require a name; compile each filter with
Go's ``regexp`` (``Failed to compile node filter regexp: error parsing regexp: ...``); refuse a
tag without a service; take at most one payload argument; reach the agent
(``GET /v1/agent/self``); fire (``PUT /v1/event/fire/<name>``) and print ``Event ID: <id>``.
Every failure prints Consul's message on standard error and exits 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pytest_consul_events import messages
from pytest_consul_events.consul_cli import goflag
from pytest_consul_events.consul_cli.errors import GoPanic
from pytest_consul_events.consul_cli.events import decode_fire_id
from pytest_consul_events.consul_cli.httpapi import (
    APIError,
    Client,
    HTTPFlags,
    require_ok,
)
from pytest_consul_events.consul_cli.ui import UI
from pytest_consul_events.gocompat.jsondecode import (
    GoJSONError,
    decode_first_value,
    json_type_name,
)


class EventCommand:
    """The ``event`` command: its flags, help and ``run``."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.flags = goflag.FlagSet(lambda: ui.stderr)
        self.name = self.flags.var(goflag.GoString(), "name", messages.CLI_EVENT_NAME_USAGE)
        self.node = self.flags.var(goflag.GoString(), "node", messages.CLI_EVENT_NODE_USAGE)
        self.service = self.flags.var(
            goflag.GoString(), "service", messages.CLI_EVENT_SERVICE_USAGE
        )
        self.tag = self.flags.var(goflag.GoString(), "tag", messages.CLI_EVENT_TAG_USAGE)
        self.http = HTTPFlags()
        self.flags.merge(self.http.client_flags())

    def help(self) -> str:
        """``Help()``: the usage text with the flags, as ``flags.Usage`` renders it."""
        return goflag.consul_usage(messages.CLI_EVENT_HELP, self.flags, HTTPFlags.NAMES)

    def _usage_error(self, message: str) -> int:
        self.ui.error(message)
        self.ui.error("")
        self.ui.error(self.help())
        return 1

    def run(self, args: list[str], env: Mapping[str, str] | None = None) -> int:
        """Run with ``args`` (after ``consul event``); returns the exit code."""
        env = os.environ if env is None else env
        try:
            rest = self.flags.parse(args)
        except goflag.FlagParseError:
            return 1
        name = self.name.string()
        node, service, tag = (v.string() for v in (self.node, self.service, self.tag))
        if not name:
            return self._usage_error(messages.CLI_EVENT_NAME_REQUIRED)
        for pattern, template in (
            (node, messages.CLI_EVENT_NODE_REGEXP),
            (service, messages.CLI_EVENT_SERVICE_REGEXP),
            (tag, messages.CLI_EVENT_TAG_REGEXP),
        ):
            if pattern:
                from pytest_consul_events.gocompat.regexp import GoRegexpError, check_syntax

                try:
                    check_syntax(pattern)
                except GoRegexpError as exc:
                    self.ui.error(template.format(error=exc))
                    return 1
        if tag and not service:
            self.ui.error(messages.CLI_EVENT_TAG_WITHOUT_SERVICE)
            return 1
        if len(rest) > 1:
            return self._usage_error(messages.CLI_EVENT_TOO_MANY_ARGUMENTS)
        payload = os.fsencode(rest[0]) if rest else None

        client = self.http.checked_client(env, self.ui, node_name)
        if client is None:
            return 1
        params = [
            (key, value)
            for key, value in (("node", node), ("service", service), ("tag", tag))
            if value
        ]
        try:
            response = client.do(
                "PUT",
                "/v1/event/fire/" + name,
                params,
                body=payload,
                headers=[("Content-Type", messages.API_EVENT_CONTENT_TYPE)],
            )
            require_ok(response)
            event_id = decode_fire_id(response.body)
        except (APIError, GoJSONError) as exc:
            self.ui.error(messages.CLI_EVENT_FIRE_FAILED.format(error=exc))
            return 1
        finally:
            client.close()
        self.ui.output(messages.CLI_EVENT_ID.format(id=event_id))
        return 0


def node_name(client: Client) -> str:
    """``Agent().NodeName()``: ``GET /v1/agent/self`` and its ``Config.NodeName``.

    Raises:
        APIError: the request failed or the body is not the map Go decodes it into.
        GoPanic: ``Config.NodeName`` is missing or not a string (Go's type assertion panics).
    """
    response = client.do("GET", "/v1/agent/self")
    require_ok(response)
    try:
        info = decode_first_value(response.body)
    except GoJSONError as exc:
        raise APIError(str(exc)) from None
    if info is None:
        info = {}
    agent_type = "map[string]map[string]interface {}"
    if not isinstance(info, dict):
        shown = json_type_name(info)
        raise APIError(messages.GO_JSON_VALUE_TYPE.format(value=shown, type=agent_type))
    config = info.get("Config")
    if config is not None and not isinstance(config, dict):
        shown = json_type_name(config)
        raise APIError(
            messages.GO_JSON_VALUE_TYPE.format(value=shown, type="map[string]interface {}")
        )
    value = (config or {}).get("NodeName")
    if not isinstance(value, str):
        # The Go type the JSON value decoded to in an interface{}.
        shown = (
            "nil"
            if value is None
            else "bool"
            if isinstance(value, bool)
            else "float64"
            if isinstance(value, (int, float))
            else "map[string]interface {}"
            if isinstance(value, dict)
            else "[]interface {}"
        )
        raise GoPanic(messages.GO_INTERFACE_CONVERSION.format(got=shown))
    return value


def main(args: list[str]) -> int:
    """Run ``consul event`` on the process's streams."""
    return EventCommand(UI(sys.stdout, sys.stderr)).run(args)
