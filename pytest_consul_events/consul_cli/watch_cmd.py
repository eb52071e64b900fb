"""``consul watch``: run the event watch plan (``command/watch/watch.go`` @cf84c59).

In Consul's order: parse the flags; require ``-type``; load the token (``api.NewClient`` on the
merged configuration, whose error is printed as it is); gather the watch parameters; parse them
as ``api/watch.Parse`` does (``Unsupported watch type: x``, ``Invalid parameters: [stale]``,
``Must specify a single key to watch``...); refuse ``connect_*`` and ``agent_*`` types
(``Type connect_leaf is not supported in the CLI tool``); check the agent answers
(``GET /v1/status/leader``); then run the plan (:mod:`.plan`) until it stops.

Without a handler the first result is printed (``json.MarshalIndent``, 4 spaces) and the watch
exits 0. With one, each result runs it (:mod:`.handler`); a handler that cannot start or fails
stops the watch with exit status 1. ``SIGINT``/``SIGTERM`` end the watch with status 0 (after
forwarding the signal to a running handler).

Only ``-type=event`` runs: the other types Consul's plan knows (key, keyprefix, services,
nodes, service, checks) are validated as Consul validates them, then refused with a message
naming them, since the fake agent serves no KV store, catalog or health endpoints.

Two settings that Consul does not have serve tests and are read from the environment (and
removed from it before any handler runs): ``PYTEST_CONSUL_EVENTS_WATCH_RESET`` (``equal``, the
newest Consul's rule and the default, or ``decrease``, Consul 1.4-1.6's; see :mod:`.plan`) and
``PYTEST_CONSUL_EVENTS_WATCH_RETRY`` (the back-off base in seconds instead of Consul's 5).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.consul_cli import goflag, plan
from pytest_consul_events.consul_cli.errors import NotImplementedByFake
from pytest_consul_events.consul_cli.events import encode, encode_indent
from pytest_consul_events.consul_cli.handler import (
    HandlerRunner,
    Recorder,
    install_signal_forwarding,
)
from pytest_consul_events.consul_cli.httpapi import (
    APIError,
    Client,
    HTTPFlags,
    default_config,
    new_client,
    require_ok,
)
from pytest_consul_events.consul_cli.ui import UI

RESET_ENV = "PYTEST_CONSUL_EVENTS_WATCH_RESET"
RETRY_ENV = "PYTEST_CONSUL_EVENTS_WATCH_RETRY"

# api/watch/funcs.go: the parameters each watch type's factory takes, and its own checks.
_TYPE_PARAMS: dict[str, frozenset[str]] = {
    "key": frozenset({"stale", "key"}),
    "keyprefix": frozenset({"stale", "prefix"}),
    "services": frozenset({"stale"}),
    "nodes": frozenset({"stale"}),
    "service": frozenset({"stale", "service", "tag", "passingonly"}),
    "checks": frozenset({"stale", "service", "state", "tag"}),
    "event": frozenset({"name"}),
    "connect_roots": frozenset(),
    "connect_leaf": frozenset({"service"}),
    "agent_service": frozenset({"service_id"}),
}


def parse_watch(params: dict[str, Any]) -> str:
    """``api/watch.Parse`` for the parameters the command line can give; returns the type.

    Raises:
        ValueError: with Consul's message, as ``Parse`` returns it.
    """
    params = dict(params)
    params.pop("datacenter", None)
    params.pop("token", None)
    watch_type = str(params.pop("type", ""))
    if not watch_type:
        raise ValueError(messages.WATCH_TYPE_MUST_BE_SPECIFIED)
    consumed = _TYPE_PARAMS.get(watch_type)
    if consumed is None:
        raise ValueError(messages.WATCH_UNSUPPORTED_TYPE.format(type=watch_type))
    if watch_type == "key" and not params.get("key"):
        raise ValueError(messages.WATCH_MUST_SPECIFY_KEY)
    if watch_type == "keyprefix" and not params.get("prefix"):
        raise ValueError(messages.WATCH_MUST_SPECIFY_PREFIX)
    if watch_type == "service" and not params.get("service"):
        raise ValueError(messages.WATCH_MUST_SPECIFY_SERVICE)
    if watch_type == "checks" and params.get("service") and params.get("state"):
        raise ValueError(messages.WATCH_SERVICE_AND_STATE)
    # Go lists the leftovers in map order, which varies; they are listed here as given.
    bad = [key for key in params if key not in consumed]
    if bad:
        raise ValueError(messages.WATCH_INVALID_PARAMETERS.format(params=f"[{' '.join(bad)}]"))
    return watch_type


class WatchCommand:
    """The ``watch`` command: its flags, help and ``run``."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        flags = self.flags = goflag.FlagSet(lambda: ui.stderr)
        self.watch_type = flags.var(goflag.GoString(), "type", messages.CLI_WATCH_TYPE_USAGE)
        self.key = flags.var(goflag.GoString(), "key", messages.CLI_WATCH_KEY_USAGE)
        self.prefix = flags.var(goflag.GoString(), "prefix", messages.CLI_WATCH_PREFIX_USAGE)
        self.service = flags.var(goflag.GoString(), "service", messages.CLI_WATCH_SERVICE_USAGE)
        self.tag = flags.var(goflag.AppendSlice(), "tag", messages.CLI_WATCH_TAG_USAGE)
        self.passing_only = flags.var(
            goflag.GoString(), "passingonly", messages.CLI_WATCH_PASSINGONLY_USAGE
        )
        self.shell = flags.var(goflag.GoBool(True), "shell", messages.CLI_WATCH_SHELL_USAGE)
        self.state = flags.var(goflag.GoString(), "state", messages.CLI_WATCH_STATE_USAGE)
        self.name = flags.var(goflag.GoString(), "name", messages.CLI_WATCH_NAME_USAGE)
        self.filter = flags.var(goflag.GoString(), "filter", messages.CLI_WATCH_FILTER_USAGE)
        self.http = HTTPFlags()
        flags.merge(self.http.client_flags())
        flags.merge(self.http.server_flags())

    def help(self) -> str:
        """``Help()``: the usage text with the flags, as ``flags.Usage`` renders it."""
        return goflag.consul_usage(messages.CLI_WATCH_HELP, self.flags, HTTPFlags.NAMES)

    def _params(self, token: str) -> dict[str, Any]:
        params: dict[str, Any] = {"type": self.watch_type.string()}
        datacenter = self.http.datacenter.string()
        if datacenter:
            params["datacenter"] = datacenter
        if token:
            params["token"] = token
        for key, value in (
            ("key", self.key.string()),
            ("prefix", self.prefix.string()),
            ("service", self.service.string()),
            ("filter", self.filter.string()),
        ):
            if value:
                params[key] = value
        if self.tag.values:
            params["tag"] = list(self.tag.values)
        if self.http.stale.value:
            params["stale"] = True
        for key, value in (("state", self.state.string()), ("name", self.name.string())):
            if value:
                params[key] = value
        return params

    def run(self, args: list[str], env: Mapping[str, str] | None = None) -> int:
        """Run with ``args`` (after ``consul watch``); returns the exit code.

        Raises:
            events.GoPanic: where the Go program would panic.
        """
        env = os.environ if env is None else env
        # Consul's shutdown channel is registered before Run: SIGINT/SIGTERM end a watch with 0.
        install_signal_forwarding(None, _exit_on_signal)
        try:
            handler_args = self.flags.parse(args)
        except goflag.FlagParseError:
            return 1
        if not self.watch_type.string():
            self.ui.error(messages.CLI_WATCH_TYPE_REQUIRED)
            self.ui.error("")
            self.ui.error(self.help())
            return 1
        warn = self.ui.raw_error
        try:
            token = self._load_token(env, warn)
        except APIError as exc:
            self.ui.error(str(exc))
            return 1
        params = self._params(token)
        passing_only = self.passing_only.string()
        if passing_only:
            try:
                params["passingonly"] = goflag.parse_bool(passing_only)
            except ValueError as exc:
                self.ui.error(messages.CLI_WATCH_PASSINGONLY_PARSE.format(error=exc))
                return 1
        try:
            watch_type = parse_watch(params)
        except ValueError as exc:
            self.ui.error(str(exc))
            return 1
        if watch_type.startswith(("connect_", "agent_")):
            self.ui.error(messages.CLI_WATCH_TYPE_NOT_IN_CLI.format(type=watch_type))
            return 1
        if watch_type != "event":
            raise NotImplementedByFake(
                f"consul watch -type={watch_type} is not implemented (only -type=event is): "
                "the fake agent serves no KV store, catalog or health checks"
            )
        rule, retry = _test_settings(env)

        # Test that the API answers before starting the blocking loop (Status().Leader()).
        client = self.http.checked_client(
            env, self.ui, lambda checked: require_ok(checked.do("GET", "/v1/status/leader"))
        )
        if client is None:
            return 1
        client.close()

        # (*Plan).RunWithConfig(c.http.Addr(), nil)
        config = default_config(env, warn, messages.WATCH_LOGGER_NAME)
        config.address = self.http.addr()
        config.datacenter = params.get("datacenter", "")
        config.token = params.get("token", "")
        try:
            plan_client = new_client(config, env, warn)
        except APIError as exc:
            self.ui.error(
                messages.CLI_ERROR_QUERYING.format(
                    error=messages.WATCH_FAILED_TO_CONNECT.format(error=exc)
                )
            )
            return 1
        return self._run_plan(plan_client, handler_args, rule, retry)

    def _load_token(self, env: Mapping[str, str], warn: Callable[[str], None]) -> str:
        config = default_config(env, warn, messages.API_LOGGER_NAME)
        self.http.merge_onto_config(config)
        # HTTPS and TLS settings are refused below, by the client that talks to the agent.
        with contextlib.suppress(NotImplementedByFake):
            new_client(config, env, warn)
        return config.token

    def _run_plan(self, client: Client, handler_args: list[str], rule: str, retry: float) -> int:
        recorder = Recorder.from_environment()
        exit_code = [0]
        watcher = plan.event_watcher(
            client,
            self.name.string(),
            on_request=None
            if recorder is None
            else lambda index: recorder.write({"event": "request", "index": index}),
        )
        if recorder is not None:
            watcher = _recording(watcher, recorder)
        the_plan: plan.Plan

        if not handler_args:

            def handler(index: int, result: plan.EventList) -> None:
                self.ui.output(encode_indent(result).decode("utf-8", "surrogateescape"))
                the_plan.stop()

            runner = None
        else:
            runner = HandlerRunner(handler_args, shell=self.shell.value, recorder=recorder)

            def handler(index: int, result: plan.EventList) -> None:
                assert runner is not None
                failure = runner.run(index, encode(result))
                if failure is not None:
                    self.ui.error(failure)
                    the_plan.stop()
                    exit_code[0] = 1

        the_plan = plan.Plan(
            watcher, handler, log=self.ui.raw_error, rule=rule, retry_interval=retry
        )
        install_signal_forwarding(runner, _exit_on_signal)
        try:
            the_plan.run()
        finally:
            client.close()
        return exit_code[0]


def _exit_on_signal() -> None:
    """The watch's shutdown: stop at once with status 0 (Go's ``os.Exit(0)``).

    It runs in a signal handler: a write the signal interrupted may hold a stream's buffer, and
    flushing it then raises (a reentrant call), which must not keep the watch from exiting.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _test_settings(env: Mapping[str, str]) -> tuple[str, float]:
    """The reset rule and back-off base of the test settings, taken out of the environment.

    Raises:
        NotImplementedByFake: a value this implementation does not know.
    """
    rule = env.get(RESET_ENV) or plan.RESET_ON_EQUAL
    retry_text = env.get(RETRY_ENV) or ""
    for name in (RESET_ENV, RETRY_ENV):
        os.environ.pop(name, None)  # handlers must not see them
    if rule not in plan.RESET_RULES:
        raise NotImplementedByFake(
            f"{RESET_ENV}={rule} is not a rule this implementation knows "
            f"(one of: {', '.join(plan.RESET_RULES)})"
        )
    try:
        retry = float(retry_text) if retry_text else plan.RETRY_INTERVAL
    except ValueError:
        retry = -1.0
    if not retry > 0:
        raise NotImplementedByFake(f"{RETRY_ENV}={retry_text} is not a positive number of seconds")
    return rule, retry


def _recording(watcher: plan.Watcher, recorder: Recorder) -> plan.Watcher:
    def watch(last: int | None) -> tuple[int, plan.EventList]:
        try:
            index, result = watcher(last)
        except plan.WatchError as exc:
            recorder.write({"event": "error", "error": str(exc)})
            raise
        count = None if result is None else len(result)
        recorder.write({"event": "response", "index": index, "count": count})
        return index, result

    return watch


def main(args: list[str]) -> int:
    """Run ``consul watch`` on the process's streams."""
    return WatchCommand(UI(sys.stdout, sys.stderr)).run(args)
