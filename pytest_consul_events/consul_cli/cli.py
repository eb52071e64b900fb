"""The top level of ``consul``: pick the subcommand as ``mitchellh/cli`` does for Consul.

From ``mitchellh/cli`` ``cli.go`` and Consul's ``main.go`` (help on standard output, errors on
standard error):

* ``-h``, ``-help`` or ``--help`` anywhere before ``--`` prints the help: the list of commands
  (no subcommand) or the subcommand's help, on standard output, exit 0;
* ``-v``, ``-version`` or ``--version`` before the subcommand means ``consul version``;
* no subcommand, or one Consul does not have, prints the list of commands on standard error
  and exits 127;
* flags before the subcommand print ``Invalid flags before the subcommand...`` and the
  subcommand's help on standard error, exit 1.

Only ``event`` and ``watch`` are implemented; the help lists those two. Every other command of
Consul's (``kv``, ``members``, ``version``...) answers with a message naming it and exit 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from pytest_consul_events import messages
from pytest_consul_events.consul_cli.errors import GoPanic, NotImplementedByFake
from pytest_consul_events.consul_cli.ui import UI

NOT_IMPLEMENTED_PREFIX = "consul (pytest-consul-events): "
"""How every message about something this implementation lacks begins."""

CONSUL_COMMANDS = frozenset(
    {
        "acl",
        "agent",
        "catalog",
        "config",
        "connect",
        "debug",
        "event",
        "exec",
        "force-leave",
        "info",
        "intention",
        "join",
        "keygen",
        "keyring",
        "kv",
        "leave",
        "lock",
        "login",
        "logout",
        "maint",
        "members",
        "monitor",
        "operator",
        "peering",
        "reload",
        "resource",
        "rtt",
        "services",
        "snapshot",
        "tls",
        "troubleshoot",
        "validate",
        "version",
        "watch",
    }
)
"""Consul's top-level commands (``command/registry.go``)."""


class Command(Protocol):
    def help(self) -> str: ...

    def run(self, args: list[str]) -> int: ...


SYNOPSES = {"event": messages.CLI_EVENT_SYNOPSIS, "watch": messages.CLI_WATCH_SYNOPSIS}
"""The implemented commands and their synopses."""


def _command(name: str) -> Callable[[UI], Command]:
    # Each command's module is imported only when it runs: the program starts for every call.
    if name == "event":
        from pytest_consul_events.consul_cli.event_cmd import EventCommand

        return EventCommand
    from pytest_consul_events.consul_cli.watch_cmd import WatchCommand

    return WatchCommand


def _command_list() -> str:
    """``mitchellh/cli.BasicHelpFunc("consul")`` over the implemented commands."""
    width = max(len(name) for name in SYNOPSES)
    lines = [messages.CLI_APP_USAGE.format(app="consul"), messages.CLI_AVAILABLE_COMMANDS]
    for name in sorted(SYNOPSES):
        lines.append(f"    {name.ljust(width)}    {SYNOPSES[name]}\n")
    return "".join(lines)


def not_implemented(ui: UI, what: str) -> int:
    """Say that ``what`` is not implemented; returns the exit code, 1."""
    ui.error(NOT_IMPLEMENTED_PREFIX + what)
    return 1


def _split(args: Sequence[str]) -> tuple[bool, bool, list[str], str, list[str], bool]:
    """``processArgs``: help, version, flags before the subcommand, subcommand, its arguments,
    and whether an autocomplete flag was given."""
    is_help = is_version = autocomplete = False
    top_flags: list[str] = []
    subcommand = ""
    sub_args: list[str] = []
    for position, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("-h", "-help", "--help"):
            is_help = True
            continue
        if arg in (
            "-autocomplete-install",
            "--autocomplete-install",
            "-autocomplete-uninstall",
            "--autocomplete-uninstall",
        ):
            autocomplete = True
            continue
        if not subcommand:
            if arg in ("-v", "-version", "--version"):
                is_version = True
                continue
            if arg.startswith("-"):
                top_flags.append(arg)
        if not subcommand and arg and not arg.startswith("-"):
            subcommand = arg
            sub_args = list(args[position + 1 :])
    return is_help, is_version, top_flags, subcommand, sub_args, autocomplete


def run(args: Sequence[str], ui: UI | None = None) -> int:
    """Run ``consul`` with ``args`` (without the program name); returns the exit code."""
    ui = ui or UI(sys.stdout, sys.stderr)
    is_help, is_version, top_flags, subcommand, sub_args, autocomplete = _split(args)
    if is_version:
        return not_implemented(ui, "consul version is not implemented")
    if is_help and not subcommand:
        ui.raw_output(_command_list() + "\n")
        return 0
    if autocomplete:
        return not_implemented(ui, "installing shell autocompletion is not implemented")
    if subcommand not in SYNOPSES:
        if subcommand in CONSUL_COMMANDS:
            return not_implemented(
                ui,
                f"consul {subcommand} is not implemented (only consul event and "
                "consul watch -type=event are)",
            )
        ui.raw_error(_command_list() + "\n")
        return messages.CLI_UNKNOWN_COMMAND_EXIT
    command = _command(subcommand)(ui)
    if is_help:
        ui.raw_output(command.help() + "\n")
        return 0
    if top_flags:
        ui.raw_error(messages.CLI_INVALID_TOP_FLAGS + command.help() + "\n")
        return 1
    try:
        return command.run(sub_args)
    except NotImplementedByFake as exc:
        return not_implemented(ui, str(exc))
    except GoPanic as exc:
        ui.raw_error(messages.GO_PANIC.format(message=exc))
        return messages.GO_PANIC_EXIT


def main(argv: Sequence[str] | None = None) -> int:
    """The ``consul`` program: run with ``argv`` (default: the process's arguments)."""
    return run(sys.argv[1:] if argv is None else argv)


def launch() -> None:
    """Entry point of the launcher the ``consul_cli`` fixture writes.

    The launcher passes, first, whether ``LC_CTYPE`` was set before Python started (``set`` or
    empty): Python sets it itself when it coerces the C locale (PEP 538), and a handler must see
    the environment ``consul`` was given, not Python's.
    """
    was_set, *args = sys.argv[1:] or [""]
    if was_set != "set":
        os.environ.pop("LC_CTYPE", None)
    sys.exit(run(args))
