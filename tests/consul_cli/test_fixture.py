"""The ``consul_cli`` fixture: the launcher on PATH, the environment, watches and their end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_consul_events.consul_cli.fixture import launcher_directory, launcher_script
from pytest_consul_events.fake import FakeConsulAgent


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_consul_is_first_on_path(consul_cli: Any, request: pytest.FixtureRequest) -> None:
    assert shutil.which("consul") == str(consul_cli.path)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(consul_cli.directory)
    assert os.access(consul_cli.path, os.X_OK)
    factory = request.getfixturevalue("tmp_path_factory")
    assert launcher_directory(request.config, factory) == consul_cli.directory  # per session


def test_the_launcher_runs_this_package_with_this_python() -> None:
    script = launcher_script("/opt/py thon/bin/python3", "/src/project")

    assert script.splitlines() == [
        "#!/bin/sh",
        "# consul: the `consul event` and `consul watch -type=event` of pytest-consul-events.",
        "exec '/opt/py thon/bin/python3' -E -S -c 'import sys; sys.path.insert(0, "
        "'\"'\"'/src/project'\"'\"'); from pytest_consul_events.consul_cli.cli import launch; "
        'launch()\' "${LC_CTYPE+set}" "$@"',
    ]


def test_it_points_at_consul_agent_and_can_be_pointed_elsewhere(
    consul_cli: Any, consul_agent: FakeConsulAgent, consul_cluster: Any
) -> None:
    assert consul_cli.http_addr == os.environ["CONSUL_HTTP_ADDR"] == consul_agent.http_addr
    assert consul_cli.agent is consul_agent

    assert consul_cli.use(consul_cluster["node2"]) is consul_cli
    assert consul_cli.run("event", "-name=moved").exit_code == 0
    assert [r.path for r in consul_cluster["node2"].requests][-1] == "/v1/event/fire/moved"
    assert list(consul_agent.requests) == []

    consul_cli.use(consul_agent.http_addr)
    assert consul_cli.agent is None
    assert consul_cli.run("event", "-name=back").exit_code == 0
    assert [e.name for e in consul_agent.events] == ["back"]


def test_run_returns_the_arguments_exit_code_and_output(consul_cli: Any) -> None:
    result = consul_cli.run("event", "-name=x", env={"CONSUL_HTTP_ADDR": "127.0.0.1:1"})

    assert result.args == ("event", "-name=x")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith('Error querying Consul agent: Get "http://127.0.0.1:1/')


def test_watch_adds_the_event_type_unless_given(consul_cli: Any) -> None:
    assert consul_cli.watch("-name=a").args == ("-type=event", "-name=a")
    assert consul_cli.watch("-type", "event").args == ("-type", "event")
    with pytest.raises(ValueError) as raised:
        consul_cli.watch(index_reset="sometimes")
    assert str(raised.value) == (
        "index_reset must be one of ('equal', 'decrease'), not 'sometimes'"
    )
    with pytest.raises(ValueError):
        consul_cli.watch(retry_interval=0)


def test_stopping_a_watch_ends_it_its_handler_and_what_the_handler_started(
    consul_cli: Any, tmp_path: Path
) -> None:
    ready, gate = tmp_path / "ready", tmp_path / "gate"
    os.mkfifo(ready)
    os.mkfifo(gate)
    handler = f"trap '' TERM; sleep 300 & echo $! > {ready}; read line < {gate}"  # ignores SIGTERM
    watch = consul_cli.watch("-name=deploy", handler)
    orphan = int(ready.read_text())
    watch.wait_for_started(1)
    [handler_pid] = watch.running

    assert watch.stop(timeout=1.0) == 0

    assert _gone(watch.pid)
    assert _gone(handler_pid)  # it ignored SIGTERM: it was killed after the timeout
    assert _gone(orphan)
    assert watch.returncode == 0
    assert watch.stdout == ""


def test_waiting_too_long_says_what_the_watch_did(consul_cli: Any) -> None:
    watch = consul_cli.watch("-name=deploy", "cat >/dev/null")
    watch.wait_for_invocations(1)

    with pytest.raises(TimeoutError) as raised:
        watch.wait_for_invocations(2, timeout=0.2)

    message = str(raised.value)
    assert message.startswith("the handler invocations awaited did not come: consul watch ")
    assert "1 handler invocation(s), queries [None" in message


def test_a_watch_that_exits_ends_the_wait(consul_cli: Any) -> None:
    watch = consul_cli.watch("-name=deploy", "exit 1")

    with pytest.raises(TimeoutError):
        watch.wait_for_invocations(2, timeout=30)  # returns as soon as the watch exits
    assert watch.wait() == 1


def test_python_locale_coercion_does_not_reach_handlers(
    consul_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LC_ALL", "LC_CTYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C")  # Python would set LC_CTYPE=C.UTF-8 in its environment

    watch = consul_cli.watch("-shell=false", "-name=x", "env", "-0")
    [invocation] = watch.wait_for_invocations(1)

    assert b"\0LC_CTYPE=" not in b"\0" + invocation.stdout
    assert "LC_CTYPE" not in invocation.env
    assert invocation.env["LANG"] == "C"


def test_the_module_runs_as_a_program(consul_agent: FakeConsulAgent) -> None:
    env = {**os.environ, "CONSUL_HTTP_ADDR": consul_agent.http_addr}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_consul_events.consul_cli", "event", "-name=m"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert completed.stdout == f"Event ID: {consul_agent.events[0].id}\n"
