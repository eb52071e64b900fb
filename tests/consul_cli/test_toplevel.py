"""``consul`` itself: subcommands, help, and what is not implemented (mitchellh/cli's rules)."""

from __future__ import annotations

from typing import Any

import pytest
from cli_support import Answer, ScriptedAgent, event

from pytest_consul_events.consul_cli.event_cmd import EventCommand
from pytest_consul_events.consul_cli.ui import UI

COMMANDS = (
    "Usage: consul [--version] [--help] <command> [<args>]\n\n"
    "Available commands are:\n"
    "    event    Fire a new event\n"
    "    watch    Watch for changes in Consul\n\n"
)


@pytest.mark.parametrize("args", [(), ("bogus",), ("--", "event"), ("-name=x",)])
def test_no_or_an_unknown_command_lists_the_commands_and_exits_127(
    consul_cli: Any, args: tuple[str, ...]
) -> None:
    result = consul_cli.run(*args)

    assert (result.exit_code, result.stdout, result.stderr) == (127, "", COMMANDS)


@pytest.mark.parametrize("flag", ["-h", "-help", "--help"])
def test_help_lists_the_commands_on_standard_output(consul_cli: Any, flag: str) -> None:
    result = consul_cli.run(flag)

    assert (result.exit_code, result.stdout, result.stderr) == (0, COMMANDS, "")


@pytest.mark.parametrize("command", ["kv", "members", "exec", "lock", "catalog"])
def test_consuls_other_commands_are_refused_by_name(consul_cli: Any, command: str) -> None:
    result = consul_cli.run(command, "anything")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"consul (pytest-consul-events): consul {command} is not implemented "
        "(only consul event and consul watch -type=event are)\n"
    )


@pytest.mark.parametrize("flag", ["-v", "-version", "--version"])
def test_version_is_refused(consul_cli: Any, flag: str) -> None:
    result = consul_cli.run(flag)

    assert (result.exit_code, result.stderr) == (
        1,
        "consul (pytest-consul-events): consul version is not implemented\n",
    )


def test_flags_before_the_subcommand(consul_cli: Any) -> None:
    result = consul_cli.run("-name=deploy", "event")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Invalid flags before the subcommand. If these flags are for\n"
        "the subcommand, please put them after the subcommand.\n\n"
        f"{EventCommand(UI()).help()}\n"
    )


def test_where_go_panics_the_command_exits_2(consul_cli: Any) -> None:
    bad_id = {**event(1), "ID": "0123456789abcdef-not-hexadecimal-at-all"}
    with ScriptedAgent(agent_self=b'{"Config":{}}') as agent:
        agent.add(Answer(1, [bad_id]))
        consul_cli.use(agent.address)
        no_node_name = consul_cli.run("event", "-name=x")
        bad_event_id = consul_cli.run("watch", "-type=event")

    assert (no_node_name.exit_code, no_node_name.stderr) == (
        2,
        "panic: interface conversion: interface {} is nil, not string\n\ngoroutine 1 [running]:\n",
    )
    assert (bad_event_id.exit_code, bad_event_id.stderr) == (
        2,
        # ID[0:8] + ID[9:13] + ID[14:18]: "01234567" + "9abc" + "ef-n"
        "panic: Failed to convert 012345679abcef-n\n\ngoroutine 1 [running]:\n",
    )
