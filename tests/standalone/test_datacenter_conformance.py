"""The HTTP conformance tests and py-consul, run against each agent of a standalone datacenter.

One datacenter is started as a child process (``node1`` and ``node2``, servers of ``dc1``, and
``node3`` in ``west``); the conformance modules of ``tests/http`` then run once per agent in a
pytest child process whose ``consul_agent`` fixture is that agent, driven only through the
control API (see ``remote_plugin.py``). The agents are servers because the conformance tests
check a server's error texts: a client agent prefixes them with ``rpc error making call:``, as
Consul's clients do (checked below with py-consul).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import consul
import pytest
from standalone_support import ROOT, Standalone, environment

CONFORMANCE = [
    "tests/http/test_fire_endpoint.py",
    "tests/http/test_list_endpoint.py",
    "tests/http/test_wrapper.py",
    "tests/http/test_blocking.py",
    "tests/http/test_agent_endpoints.py",
    "tests/http/test_acl_endpoints.py",
    "tests/http/test_acl_events.py",
    "tests/http/test_clients_sync.py",
    "tests/http/test_clients_aio.py",
]
AGENTS = ("node1", "node2", "node3")
HERE = Path(__file__).parent


DATACENTER = (
    "--port",
    "0",
    "--agent",
    "node1,server",
    "--agent",
    "node2,server",
    "--agent",
    "node3:west",
)


@pytest.fixture
def datacenter() -> Iterator[Standalone]:
    with Standalone(*DATACENTER) as dc:
        yield dc


def _run_against_each_agent() -> dict[str, subprocess.CompletedProcess[str]]:
    """The conformance suite against every agent, the three runs side by side. Each run has
    a datacenter of its own: a test starts the whole datacenter over before it begins."""
    with contextlib.ExitStack() as stack:
        processes: dict[str, subprocess.Popen[str]] = {}
        for node in AGENTS:
            datacenter = stack.enter_context(Standalone(*DATACENTER))
            env = environment()
            env["PYTHONPATH"] = f"{HERE}{os.pathsep}{env['PYTHONPATH']}"
            env["CONSUL_EVENTS_REMOTE"] = datacenter.url(node)
            processes[node] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-p",
                    "no:consul_events",
                    "-p",
                    "remote_plugin",
                    "-p",
                    "no:xdist",
                    "-q",
                    "-rfEs",
                    *CONFORMANCE,
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            stack.callback(_kill, processes[node])
        results = {}
        for node, process in processes.items():
            out, _ = process.communicate(timeout=600)
            results[node] = subprocess.CompletedProcess(process.args, process.returncode, out)
        return results


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_the_conformance_suite_passes_against_each_agent() -> None:
    for node, result in _run_against_each_agent().items():
        summary = result.stdout.strip().splitlines()[-1]
        assert result.returncode == 0, f"{node}:\n{result.stdout[-6000:]}"
        passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
        assert passed >= 500, (node, summary)
        assert "failed" not in summary, (node, summary)
        assert "error" not in summary, (node, summary)
        skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
        assert all(
            "not for an agent of a datacenter" in line or "in-process only" in line
            for line in skipped
        ), (node, skipped)


@pytest.mark.parametrize("node", AGENTS)
def test_py_consul_fires_and_lists_on_every_agent(datacenter: Standalone, node: str) -> None:
    datacenter.control("POST", "cluster/reset")
    host, port = datacenter.url(node).removeprefix("http://").rsplit(":", 1)
    client = consul.Consul(host=host, port=int(port), scheme="http")
    try:
        event = client.event.fire("deploy", "v1")
        index, events = client.event.list(name="deploy")
        assert [(e["ID"], e["Payload"]) for e in events] == [(event["ID"], b"v1")]
        assert index == str(
            int(datacenter.control("GET", "events", node=node).json()["events"][0]["Index"])
        )
        peers = [n for n in AGENTS if n != node and (n == "node3") == (node == "node3")]
        for peer in peers:  # gossiped to the rest of its datacenter, in order
            held = datacenter.control("GET", "events", node=peer).json()["events"]
            assert [e["ID"] for e in held] == [event["ID"]]
    finally:
        client.http.session.close()


def test_a_client_agent_forwards_to_its_server_and_prefixes_its_errors() -> None:
    with Standalone(
        "--port", "0", "--agent", "srv", "--agent", "cli,client", "--acl", "deny"
    ) as dc:
        host, port = dc.url("cli").removeprefix("http://").rsplit(":", 1)
        client = consul.Consul(host=host, port=int(port), scheme="http")
        try:
            with pytest.raises(consul.ACLPermissionDenied):
                client.event.fire("deploy")
            with pytest.raises(consul.ConsulException) as excinfo:
                client.event.fire("deploy", dc="elsewhere")
            assert str(excinfo.value) == "500 rpc error making call: No path to datacenter"
        finally:
            client.http.session.close()
        dc.control("POST", "cluster/configure", {"acl": None})
        fired = dc.control("POST", "fire", {"name": "deploy"}, node="cli").json()["event"]
        assert [e["ID"] for e in dc.control("GET", "events", node="srv").json()["events"]] == [
            fired["ID"]
        ]
