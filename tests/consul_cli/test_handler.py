"""How ``consul watch`` runs a handler: command, standard input, environment, failures."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path
from typing import Any

import pytest

from pytest_consul_events.consul_cli.events import Event, encode
from pytest_consul_events.consul_cli.handler import (
    HandlerRunner,
    Recorder,
    command_for,
    wait_status_text,
)


def test_the_input_is_gos_encoding_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "stdin"
    event = Event(
        id="01234567-89ab-cdef-0123-456789abcdef",
        name="a<b>&c",
        payload=b"\x00\xff",
        node_filter="\u00e9",
        service_filter="\u2028",
        tag_filter='\n\t"',
        version=1,
        ltime=7,
    )

    assert HandlerRunner([f"cat > {out}"], shell=True).run(42, encode([event])) is None

    assert out.read_bytes() == (
        b'[{"ID":"01234567-89ab-cdef-0123-456789abcdef","Name":"a\\u003cb\\u003e\\u0026c",'
        b'"Payload":"AP8=","NodeFilter":"\xc3\xa9","ServiceFilter":"\\u2028",'
        b'"TagFilter":"\\n\\t\\"","Version":1,"LTime":7}]\n'
    )


def test_the_environment_is_the_watchs_plus_consul_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "env"
    monkeypatch.setenv("DEPLOY_TARGET", "blue")
    monkeypatch.setenv("CONSUL_INDEX", "stale")

    runner = HandlerRunner(["sh", "-c", f"env -0 > {out}"], shell=False)
    assert runner.run(18446744073709551615, b"[]\n") is None

    seen = dict(item.split("=", 1) for item in out.read_bytes().decode().split("\0") if item)
    assert seen == {**os.environ, "CONSUL_INDEX": "18446744073709551615"}


def test_the_shell_is_shell_or_bin_sh() -> None:
    assert command_for(["./on-deploy.sh", "--fast"], True, {}) == [
        "/bin/sh",
        "-c",
        "./on-deploy.sh --fast",
    ]
    assert command_for(["a b", "c"], True, {"SHELL": "/bin/bash"}) == ["/bin/bash", "-c", "a b c"]
    assert command_for(["a b", "c"], True, {"SHELL": ""}) == ["/bin/sh", "-c", "a b c"]
    assert command_for(["a b", "c"], False, {"SHELL": "/bin/bash"}) == ["a b", "c"]


def test_arguments_are_joined_by_spaces_for_the_shell(capfd: pytest.CaptureFixture[str]) -> None:
    assert HandlerRunner(["echo", "a   b", "c"], shell=True).run(1, b"[]\n") is None
    assert HandlerRunner(["printf", "%s|", "a   b", "c"], shell=False).run(1, b"[]\n") is None

    assert capfd.readouterr().out == "a b c\na   b|c|"


def _script(path: Path, body: str, mode: int = 0o755) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("exit 3\n", "Error executing handler: exit status 3"),
        ("kill -KILL $$\n", "Error executing handler: signal: killed"),
        ("kill -TERM $$\n", "Error executing handler: signal: terminated"),
        ("exit 0\n", None),
    ],
)
def test_how_a_handler_ends(tmp_path: Path, body: str, error: str | None) -> None:
    handler = _script(tmp_path / "handler.sh", body)

    assert HandlerRunner([str(handler)], shell=False).run(1, b"[]\n") == error


def test_a_handler_that_cannot_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _script(tmp_path / "not-executable.sh", "exit 0\n", mode=0o644)

    def error(args: list[str], shell: bool = False) -> str | None:
        return HandlerRunner(args, shell=shell).run(1, b"[]\n")

    assert error(["no-such-handler"]) == (
        'Error starting handler: exec: "no-such-handler": executable file not found in $PATH'
    )
    assert error(["./missing.sh"]) == (
        "Error starting handler: fork/exec ./missing.sh: no such file or directory"
    )
    assert error(["./not-executable.sh"]) == (
        "Error starting handler: fork/exec ./not-executable.sh: permission denied"
    )
    monkeypatch.setenv("SHELL", "no-such-shell")
    assert error(["true"], shell=True) == (
        'Error starting handler: exec: "no-such-shell": executable file not found in $PATH'
    )


def test_a_program_found_only_relative_to_the_current_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _script(tmp_path / "local-handler", "exit 0\n")
    monkeypatch.setenv("PATH", f"{os.environ['PATH']}:.")

    assert HandlerRunner(["local-handler"], shell=False).run(1, b"[]\n") == (
        'Error starting handler: exec: "local-handler": cannot run executable found '
        "relative to current directory"
    )


def test_a_handler_may_ignore_a_large_input(tmp_path: Path) -> None:
    events = [
        Event(id=f"{n:08x}-0000-0000-0000-000000000000", payload=b"x" * 400) for n in range(256)
    ]
    data = encode(events)
    assert len(data) > 150_000  # more than a pipe holds

    assert HandlerRunner(["true"], shell=False).run(1, data) is None


def test_signal_texts_follow_gos_table() -> None:
    assert wait_status_text(2) == "exit status 2"
    assert wait_status_text(-15) == "signal: terminated"
    assert wait_status_text(-2) == "signal: interrupt"
    assert wait_status_text(-11) == "signal: segmentation fault"
    assert wait_status_text(-64) == "signal: signal 64"


def test_recording_reports_each_run_and_passes_its_output_on(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    read_fd, write_fd = os.pipe()
    recorder = Recorder(write_fd)
    runner = HandlerRunner(["cat; echo to-stderr >&2; exit 4"], shell=True, recorder=recorder)

    assert runner.run(9, b"[]\n") == "Error executing handler: exit status 4"

    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as stream:
        start, end = (json.loads(line) for line in stream)
    assert start["event"] == "start"
    assert (start["number"], start["index"], start["argv"][1:]) == (
        1,
        9,
        ["-c", "cat; echo to-stderr >&2; exit 4"],
    )
    assert start["env"]["CONSUL_INDEX"] == "9"
    assert start["stdin"] == "W10K"  # base64 of "[]\n"
    assert (end["event"], end["returncode"], end["error"]) == ("end", 4, "exit status 4")
    assert (end["stdout"], end["stderr"]) == ("W10K", "dG8tc3RkZXJyCg==")
    assert capfd.readouterr() == ("[]\n", "to-stderr\n")


def test_the_record_variable_is_taken_out_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_fd, write_fd = os.pipe()
    monkeypatch.setenv("PYTEST_CONSUL_EVENTS_RECORD_FD", str(write_fd))
    try:
        recorder = Recorder.from_environment()
        assert recorder is not None
        assert recorder.fd == write_fd
        assert "PYTEST_CONSUL_EVENTS_RECORD_FD" not in os.environ
        assert not os.get_inheritable(write_fd)
        assert stat.S_ISFIFO(os.fstat(write_fd).st_mode)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert Recorder.from_environment() is None


def test_a_signal_during_the_start_of_a_handler_reaches_it_once_it_runs(tmp_path: Path) -> None:
    # The handler's process can run (and a test see it run) before Popen returns: a SIGTERM
    # that arrives in between is held until the process is known, then forwarded, and only
    # then does the watch stop.
    trapped, ready = tmp_path / "trapped", tmp_path / "ready"
    os.mkfifo(ready)
    handler = f"trap 'echo TERM > {trapped}; exit 0' TERM; echo set > {ready}; sleep 30 & wait"
    runner = HandlerRunner([handler], shell=True)
    start = runner._start
    stopped: list[bool] = []

    def start_then_signal(argv: list[str], env: dict[str, str]) -> Any:
        process = start(argv, env)
        assert ready.read_text() == "set\n"  # the handler runs, its trap is set
        runner.forward(signal.SIGTERM, lambda: stopped.append(runner.current is process))
        assert stopped == []  # held: the runner does not know the process yet
        return process

    runner._start = start_then_signal  # type: ignore[method-assign]
    assert runner.run(1, b"[]\n") is None
    assert stopped == [True]
    assert trapped.read_text() == "TERM\n"
