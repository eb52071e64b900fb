"""Go's ``flag`` package semantics, as Consul's commands parse their arguments."""

from __future__ import annotations

import io

import pytest

from pytest_consul_events.consul_cli import goflag


def _flags() -> tuple[goflag.FlagSet, io.StringIO, dict[str, goflag.Value]]:
    out = io.StringIO()
    flags = goflag.FlagSet(lambda: out)
    values: dict[str, goflag.Value] = {
        "name": flags.var(goflag.GoString(), "name", "Name of the event."),
        "shell": flags.var(goflag.GoBool(True), "shell", "Use a shell."),
        "stale": flags.var(goflag.ConsulBool(), "stale", "Permit stale reads."),
        "token": flags.var(goflag.ConsulString(), "token", "ACL token."),
        "tag": flags.var(goflag.AppendSlice(), "tag", "A tag, again and again."),
    }
    return flags, out, values


@pytest.mark.parametrize(
    ("args", "name", "rest"),
    [
        (["-name=deploy"], "deploy", []),
        (["-name", "deploy"], "deploy", []),
        (["--name=deploy"], "deploy", []),
        (["--name", "deploy"], "deploy", []),
        (["-name=a=b"], "a=b", []),
        (["-name="], "", []),
        (["-name", "-x"], "-x", []),  # a string flag takes the next argument, whatever it is
        (["-name=a", "payload", "-name=b"], "a", ["payload", "-name=b"]),  # stops at a non-flag
        (["-name=a", "-", "-name=b"], "a", ["-", "-name=b"]),  # "-" is a non-flag
        (["-name=a", "--", "-name=b"], "a", ["-name=b"]),  # "--" ends the flags
        (["-name=a", "-name=b"], "b", []),  # the last one wins
        ([], "", []),
    ],
)
def test_string_flags(args: list[str], name: str, rest: list[str]) -> None:
    flags, out, values = _flags()

    assert flags.parse(args) == rest
    assert values["name"].string() == name
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("args", "shell", "rest"),
    [
        (["-shell"], "true", []),
        (["-shell=false"], "false", []),
        (["-shell=0"], "false", []),
        (["-shell=F"], "false", []),
        (["-shell=TRUE"], "true", []),
        (["-shell", "false"], "true", ["false"]),  # a boolean never takes the next argument
        (["--shell=f"], "false", []),
    ],
)
def test_boolean_flags(args: list[str], shell: str, rest: list[str]) -> None:
    flags, _, values = _flags()

    assert flags.parse(args) == rest
    assert values["shell"].string() == shell


def test_a_repeated_slice_flag_appends() -> None:
    flags, _, values = _flags()

    flags.parse(["-tag=a", "-tag", "b"])

    assert values["tag"].string() == "a,b"


def _usage(flags: goflag.FlagSet) -> str:
    return "Usage:\n" + flags.defaults()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-nope"], "flag provided but not defined: -nope"),
        (["--nope=1"], "flag provided but not defined: -nope"),
        (["-datacenter=dc2"], "flag provided but not defined: -datacenter"),
        (["---name"], "bad flag syntax: ---name"),
        (["-=x"], "bad flag syntax: -=x"),
        (["-name"], "flag needs an argument: -name"),
        (["-shell=maybe"], 'invalid boolean value "maybe" for -shell: parse error'),
        (
            ["-stale=maybe"],
            'invalid boolean value "maybe" for -stale: '
            'strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
    ],
)
def test_errors_print_gos_message_and_the_usage(args: list[str], message: str) -> None:
    flags, out, _ = _flags()

    with pytest.raises(goflag.FlagParseError) as raised:
        flags.parse(args)

    assert str(raised.value) == message
    assert out.getvalue() == message + "\n" + _usage(flags)


@pytest.mark.parametrize("flag", ["-h", "-help", "--help", "-h=1"])
def test_help_flags_print_the_usage_and_request_help(flag: str) -> None:
    flags, out, _ = _flags()

    with pytest.raises(goflag.HelpRequested) as raised:
        flags.parse([flag])

    assert str(raised.value) == "flag: help requested"
    assert out.getvalue() == _usage(flags)


def test_print_defaults_has_gos_layout() -> None:
    flags, _, _ = _flags()
    flags.var(goflag.GoBool(), "x", "One letter.")
    flags.var(goflag.GoString("a"), "mode", "The `mode` to use.\nSecond line.")

    assert flags.defaults() == (
        "  -mode mode\n"
        "    \tThe mode to use.\n"
        '    \tSecond line. (default "a")\n'
        "  -name string\n"
        "    \tName of the event.\n"
        "  -shell\n"
        "    \tUse a shell. (default true)\n"
        "  -stale\n"
        "    \tPermit stale reads.\n"
        "  -tag value\n"
        "    \tA tag, again and again.\n"
        "  -token value\n"
        "    \tACL token.\n"
        "  -x\tOne letter.\n"
    )


def test_parse_bool_accepts_exactly_gos_spellings() -> None:
    for text in ("1", "t", "T", "TRUE", "true", "True"):
        assert goflag.parse_bool(text) is True
    for text in ("0", "f", "F", "FALSE", "false", "False"):
        assert goflag.parse_bool(text) is False
    for text in ("yes", "tRUE", "", " true"):
        with pytest.raises(ValueError) as raised:
            goflag.parse_bool(text)
        assert str(raised.value) == f'strconv.ParseBool: parsing "{text}": invalid syntax'


def test_wrap_minimises_raggedness_rather_than_filling_greedily() -> None:
    # kr/text: "aaa bb" / "cc" / "ddddd" (greedy) costs 0 + 16 + 1; this costs 9 + 1 + 1.
    assert goflag.wrap("aaa bb cc ddddd", 6) == "aaa\nbb cc\nddddd"
    assert goflag.wrap("  short line  ", 20) == "short line"
    assert goflag.wrap("a verylongwordindeed b", 5) == "a\nverylongwordindeed\nb"
    assert goflag.wrap("one\ntwo", 20) == "one two"


def test_consul_usage_lists_http_options_then_the_commands_own() -> None:
    out = io.StringIO()
    flags = goflag.FlagSet(lambda: out)
    flags.var(goflag.GoString(), "name", "Name of the event.")
    flags.var(goflag.GoBool(True), "shell", "Use a shell.")
    flags.var(goflag.ConsulString(), "http-addr", "The `address` of the agent.")

    text = goflag.consul_usage(
        "\nUsage: consul thing\n\n  Does things.\n", flags, frozenset({"http-addr"})
    )

    assert text == (
        "Usage: consul thing\n\n  Does things.\n\n"
        "HTTP API Options\n\n"
        "  -http-addr=<address>\n     The `address` of the agent.\n\n"
        "Command Options\n\n"
        "  -name=<string>\n     Name of the event.\n\n"
        "  -shell\n     Use a shell."
    )
