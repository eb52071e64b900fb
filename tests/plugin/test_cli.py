"""The standalone server: ``python -m pytest_consul_events`` (the rest of its tests are in
``tests/standalone``)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_consul_events", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(r"Fake Consul agent (\S+) \((\S+)\) serving on (http://\S+)\n", line)
    assert match, line
    return process, match.group(3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serves_events_and_exits_cleanly_on_signal(sig: signal.Signals) -> None:
    process, url = _start("--node", "web-1", "--datacenter", "dc7")
    try:
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(f"{url}/v1/event/fire/deploy", data=b"v1", method="PUT")
        with urllib.request.urlopen(request, timeout=5) as response:
            fired = json.loads(response.read())
        with urllib.request.urlopen(f"{url}/v1/event/list", timeout=5) as response:
            listed = json.loads(response.read())
        with urllib.request.urlopen(f"{url}/v1/agent/self", timeout=5) as response:
            config = json.loads(response.read())["Config"]
    finally:
        process.send_signal(sig)
        out, err = process.communicate(timeout=10)
    assert [e["ID"] for e in listed] == [fired["ID"]]
    assert (config["NodeName"], config["Datacenter"]) == ("web-1", "dc7")
    assert process.returncode == 0, err
    assert out == ""  # the address line was read above; messages go to stderr
    assert err.endswith("pytest-consul-events: stopped\n")


def test_busy_port_exits_with_status_1_and_a_message() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pytest_consul_events", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=10,
        )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"pytest-consul-events: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_the_console_script_and_the_module_are_the_same_command() -> None:
    from pytest_consul_events import cli
    from pytest_consul_events.standalone import run

    assert cli.main is run.main
    version = subprocess.run(
        [sys.executable, "-m", "pytest_consul_events", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (version.returncode, version.stdout) == (0, "pytest-consul-events 0.1.0\n")
