"""The standalone command: every flag, its errors (exit 2, one line), a taken port (exit 1),
signals (exit 0), ``--version``, the address lines and the ``--json`` line."""

from __future__ import annotations

import json
import re
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from standalone_support import ROOT, Standalone, free_ports, request, run

from pytest_consul_events import __version__
from pytest_consul_events.standalone import flags
from pytest_consul_events.standalone import run as runner
from pytest_consul_events.standalone.plan import Plan

PREFIX = "pytest-consul-events: "


def plan_of(*argv: str) -> Plan:
    launch, _ = runner.load(flags.parse_args(argv))
    return launch


# -- flags to options, in process ------------------------------------------------------------------


def test_defaults() -> None:
    assert plan_of() == Plan("127.0.0.1", 8500, {})


def test_every_agent_flag() -> None:
    launch = plan_of(
        "--host", "127.0.0.2", "--port", "0", "--node", "web-1", "--datacenter", "eu",
        "--service", "web,id=web-a,tag=v1,tag=blue,port=80,address=10.0.0.5,meta=version=2",
        "--service", '{"name": "db", "Tags": ["primary"]}',
        "--no-server", "--buffer-size", "16", "--seed", "42", "--dev", "--acl", "deny",
        "--management-token", "root", "--token", 'deployer=event "deploy" { policy = "write" }',
        "--default-token", "deployer", "--clock", "manual", "--strict",
        "--http-max-conns-per-client", "0", "--history-limit", "100",
    )  # fmt: skip
    assert launch == Plan(
        "127.0.0.2",
        0,
        {
            "node_name": "web-1",
            "datacenter": "eu",
            "server": False,
            "services": [
                {
                    "name": "web",
                    "id": "web-a",
                    "tags": ["v1", "blue"],
                    "port": 80,
                    "address": "10.0.0.5",
                    "meta": {"version": "2"},
                },
                {"name": "db", "tags": ["primary"]},
            ],
            "seed": 42,
            "buffer_size": 16,
            "history_limit": 100,
            "dev_mode": True,
            "clock": "manual",
            "strict": True,
            "http_max_conns_per_client": 0,
            "acl": "deny",
            "management_token": "root",
            "default_token": "deployer",
            "tokens": {"deployer": 'event "deploy" { policy = "write" }'},
        },
    )


def test_node_name_is_also_spelled_node_name() -> None:
    assert plan_of("--node-name", "x").agent_options == {"node_name": "x"}


def test_acl_allow_and_off(tmp_path: Path) -> None:
    assert plan_of("--acl", "allow").agent_options == {"acl": "allow"}
    assert plan_of("--acl", "off").agent_options == {}
    file = tmp_path / "acl.hcl"
    file.write_text('acl { enabled = true, default_policy = "deny" }')
    assert plan_of("--config-file", str(file)).agent_options == {"acl": "deny"}
    assert plan_of("--config-file", str(file), "--acl", "off").agent_options == {}


def test_every_datacenter_flag() -> None:
    launch = plan_of(
        "--port", "9000", "--agent", "a", "--agent", "b:west,server,port=9100",
        "--agent", "c,client,service=web,service=db",
        "--agent", '{"node_name": "d", "buffer_size": 4}',
        "--datacenter", "east", "--buffer-size", "8", "--unordered", "--delay", "0,0.05",
        "--loss", "0.1", "--duplicate", "0.2", "--manual", "--flush-after", "0.5", "--seed", "7",
        "--clock", "manual", "--acl", "allow", "--dev", "--strict",
    )  # fmt: skip
    assert launch.agents == [
        {"datacenter": "east", "buffer_size": 8, "strict": True, "node_name": "a", "port": 9000},
        {
            "datacenter": "west",
            "buffer_size": 8,
            "strict": True,
            "node_name": "b",
            "server": True,
            "port": 9100,
        },
        {
            "datacenter": "east",
            "buffer_size": 8,
            "strict": True,
            "node_name": "c",
            "server": False,
            "services": [{"name": "web"}, {"name": "db"}],
            "port": 9002,
        },
        {"datacenter": "east", "buffer_size": 4, "strict": True, "node_name": "d", "port": 9003},
    ]
    assert launch.cluster_options == {
        "acl": "allow",
        "unordered": True,
        "delay": (0.0, 0.05),
        "loss": 0.1,
        "duplicate": 0.2,
        "manual": True,
        "flush_after": 0.5,
        "seed": 7,
        "dev_mode": True,
        "clock": "manual",
    }


def test_port_zero_gives_every_agent_a_free_port() -> None:
    launch = plan_of("--port", "0", "--agent", "a", "--agent", "b")
    assert [spec["port"] for spec in launch.agents or []] == [0, 0]


# -- refused command lines: exit 2, one line on stderr ---------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "x"], "invalid int value: 'x'"),
        (["--port", "70000"], "a port is between 0 (any free port) and 65535"),
        (["--buffer-size", "0"], "buffer_size must be an int from 1 to 1000000000, not 0 (int)"),
        (["--history-limit", "-1"], "history_limit must be an int >= 0, not -1 (int)"),
        (
            ["--http-max-conns-per-client", "-5"],
            "http_max_conns_per_client must be an int >= 0, not -5 (int)",
        ),
        (["--acl", "maybe"], "invalid choice: 'maybe' (choose from 'allow', 'deny', 'off')"),
        (["--clock", "sundial"], "invalid choice: 'sundial' (choose from 'real', 'manual')"),
        (["--token", "nope"], "expected SECRET=RULES, not 'nope'"),
        (
            ["--token", 't=event "x" { policy = "fly" }'],
            't: Invalid event policy: &acl.EventRule{Event:"x", Policy:"fly"}',
        ),
        (["--loss", "2"], "loss must be a finite number from 0 to 1, not 2.0 (float)"),
        (["--delay", "1"], "invalid LOW,HIGH value: '1'"),
        (
            ["--delay", "2,1"],
            "delay must be a (low, high) pair of finite seconds with 0 <= low <= high, such as "
            "(0.0, 0.5), not (2.0, 1.0) (tuple)",
        ),
        (
            ["--service", "web,colour=red"],
            "unknown service field 'colour' (known: id, tag, port, address, meta)",
        ),
        (["--service", '{"name": "web", "colour": 1}'], "invalid config key colour"),
        (["--service", '{"tags": ["x"]}'], "a service needs a name"),
        (["--agent", ":dc"], "expected NAME[:DC], not ':dc'"),
        (
            ["--agent", "a,leader"],
            "unknown agent item 'leader' (known: server, client, port=PORT, service=NAME)",
        ),
        (["--agent", '{"datacenter": "x"}'], "an agent needs a node_name"),
    ],
)
def test_a_refused_flag_exits_2_with_one_line(
    refused: Callable[..., str], argv: list[str], message: str
) -> None:
    assert refused(*argv) == f"argument {argv[0]}: {message} (see --help)"


def test_an_unknown_flag_exits_2(refused: Callable[..., str]) -> None:
    assert refused("--bogus") == "unrecognized arguments: --bogus (see --help)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--unordered"],
            "fake.gossip.unordered: gossip settings need a datacenter of agents "
            "(--agent, or fake { agents = [...] })",
        ),
        (
            ["--agent", "a", "--node", "b"],
            "node_name: set per agent when several agents are listed "
            "(--agent NAME,..., or fake { agents = [{ node_name = ... }] })",
        ),
        (["--agent", "a", "--agent", "a"], "two agents are named 'a'"),
        (
            ["--agent", "a", "--agent", "b,port=8500"],
            "agents 'a' and 'b' would both listen on port 8500",
        ),
        (
            ["--port", "65535", "--agent", "a", "--agent", "b"],
            "agent 'b' would listen on port 65536: above 65535",
        ),
        (["--host", "127.0.0.1 ::1"], "the fake listens on one address, not '127.0.0.1 ::1'"),
    ],
)
def test_settings_that_contradict_each_other_exit_2(
    refused: Callable[..., str], argv: list[str], message: str
) -> None:
    assert refused(*argv) == message


def test_help_and_version_exit_0() -> None:
    version = run("--version")
    assert (version.returncode, version.stdout, version.stderr) == (
        0,
        f"pytest-consul-events {__version__}\n",
        "",
    )
    usage = run("--help")
    assert usage.returncode == 0
    assert usage.stdout.startswith("usage: pytest-consul-events")
    for flag in ("--config-file", "--hcl", "--agent", "--http-max-conns-per-client", "--json"):
        assert flag in usage.stdout


def test_a_usage_error_exits_2_in_a_process() -> None:
    result = run("--buffer-size", "0")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"{PREFIX}argument --buffer-size: buffer_size must be an int from 1 to 1000000000, "
        "not 0 (int) (see --help)\n"
    )
    # The README's exit-code table quotes this very line.
    readme = (ROOT / "README.md").read_text()
    assert f"`{result.stderr.removeprefix(PREFIX).strip()}`" in readme


# -- running ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly_with_status_0(sig: signal.Signals) -> None:
    agent = Standalone("--port", "0", "--seed", "3", json_line=False)
    with agent:
        line = agent.lines[0]
        match = re.fullmatch(
            r"Fake Consul agent node1 \(dc1\) serving on (http://127\.0\.0\.1:\d+)\n", line
        )
        assert match, line
        assert request(f"{match.group(1)}/v1/event/list").status == 200
        assert agent.stop(sig) == 0
    assert agent.stderr == (
        f"{PREFIX}control API at {match.group(1)}/_fake/ (seed 3); SIGINT or SIGTERM stops\n"
        f"{PREFIX}stopped\n"
    )
    assert agent.rest == ""


def test_the_json_line_describes_every_agent() -> None:
    with Standalone("--port", "0", "--seed", "9", "--agent", "a", "--agent", "b:west") as dc:
        info = dc.info
        assert dc.lines[0].endswith("\n")
        assert dc.lines[0].count("\n") == 1
        assert set(info) == {"agents", "seed", "control", "cluster", "version", "pid"}
        assert (info["seed"], info["cluster"], info["version"]) == (9, True, __version__)
        assert dc.process is not None
        assert info["pid"] == dc.process.pid
        first = info["agents"][0]
        assert info["control"] == first["control"] == first["url"] + "/_fake/"
        for agent, (name, dc_name, server) in zip(
            info["agents"], [("a", "dc1", True), ("b", "west", True)], strict=True
        ):
            assert (agent["node_name"], agent["datacenter"], agent["server"]) == (
                name,
                dc_name,
                server,
            )
            assert agent["url"] == f"http://{agent['address']}"
            assert request(f"{agent['url']}/v1/agent/self").json()["Config"]["NodeName"] == name


def test_address_lines_for_a_datacenter_with_fixed_ports() -> None:
    base = free_ports(3)[0]
    with Standalone(
        "--port", str(base), "--agent", "a", "--agent", "b", "--agent", "c", json_line=False
    ) as dc:
        lines = [dc.lines[0], dc.read_line(), dc.read_line()]
    assert lines == [
        f"Fake Consul agent {name} (dc1) serving on http://127.0.0.1:{base + i}\n"
        for i, name in enumerate("abc")
    ]
    assert dc.returncode == 0


def test_a_taken_port_exits_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        single = run("--port", str(port))
        several = run("--port", "0", "--agent", "a", "--agent", f"b,port={port}")
    assert (single.returncode, single.stdout) == (1, "")
    assert single.stderr == f"{PREFIX}cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert (several.returncode, several.stdout) == (1, "")
    assert several.stderr == (
        f"{PREFIX}agent 'b' cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_every_flag_reaches_the_agent() -> None:
    argv = [
        "--port", "0", "--node", "web-1", "--datacenter", "eu", "--service", "web,id=web-a,tag=v1",
        "--no-server", "--buffer-size", "2", "--seed", "42", "--dev", "--acl", "deny",
        "--management-token", "root", "--token", 'deployer=event "deploy" { policy = "write" }',
        "--default-token", "deployer", "--clock", "manual", "--strict",
        "--http-max-conns-per-client", "3", "--history-limit", "100",
    ]  # fmt: skip
    with Standalone(*argv) as agent:
        info = agent.control("GET", "agent").json()
        assert {k: info[k] for k in info if k not in ("node_id", "address", "url")} == {
            "node_name": "web-1",
            "datacenter": "eu",
            "server": False,
            "running": True,
            "seed": 42,
            "clock": "manual",
            "strict": True,
            "acl": "deny",
            "buffer_size": 2,
            "dev_mode": True,
            "http_max_conns_per_client": 3,
            "history_limit": 100,
            "services": [
                {"id": "web-a", "name": "web", "tags": ["v1"], "port": 0, "address": "", "meta": {}}
            ],
            "blocked_queries": 0,
        }
        url = agent.url()
        # the default token may fire deploy, nothing else; the management token anything
        assert request(f"{url}/v1/event/fire/deploy", "PUT").status == 200
        assert request(f"{url}/v1/event/fire/other", "PUT").status == 403
        assert request(f"{url}/v1/event/fire/other?token=root", "PUT").status == 200
        # dev mode pretty-prints
        assert request(f"{url}/v1/event/list?token=root").body.startswith(b"[\n    {")


def _agent_options(info: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(info[k] for k in ("node_name", "datacenter", "server", "buffer_size"))


def test_a_datacenter_serves_the_same_control_api_on_every_agent() -> None:
    with Standalone(
        "--port", "0", "--seed", "1", "--agent", "a", "--agent", "b", "--agent", "c:west"
    ) as dc:
        described = [dc.control("GET", "cluster", node=name).json() for name in "abc"]
        assert described[0] == described[1] == described[2]
        assert [_agent_options(a) for a in described[0]["agents"]] == [
            ("a", "dc1", True, 256),
            ("b", "dc1", False, 256),
            ("c", "west", True, 256),
        ]
        fired = dc.control("POST", "fire", {"name": "deploy"}, node="b").json()["event"]
        listed = json.loads(request(f"{dc.url('a')}/v1/event/list").body)
        assert [e["ID"] for e in listed] == [fired["ID"]]
        assert request(f"{dc.url('c')}/v1/event/list").body == b"[]"


def test_strict_applies_to_every_agent_of_a_datacenter() -> None:
    with Standalone("--port", "0", "--agent", "a", "--agent", "b", "--strict") as dc:
        for node in ("a", "b"):
            assert request(f"{dc.url(node)}/v1/kv/key").status == 404
            refused = dc.control("GET", "verify", node=node)
            assert refused.status == 409
            assert [r["path"] for r in refused.json()["unimplemented"]] == ["/v1/kv/key"]


def test_reports_name_the_commands_own_seed_option() -> None:
    with Standalone("--port", "0", "--seed", "5", "--agent", "a", "--agent", "b") as dc:
        agent_report = dc.control("GET", "report", node="b").json()["text"]
        assert agent_report.splitlines()[0].endswith(", cluster seed 5 (replay with --seed=5)")
        cluster_report = dc.control("GET", "cluster/report").json()["text"]
        assert cluster_report.startswith("seed: 5 (replay with --seed=5)")


def test_starting_a_serving_agent_is_a_conflict() -> None:
    with Standalone("--port", "0", "--agent", "a", "--agent", "b") as dc:
        refused = dc.control("POST", "cluster/agents/b/start", node="a")
        assert refused.status == 409
        assert refused.json()["error"].startswith("start_agent('b') needs a stopped agent")


def test_a_reader_that_went_away_does_not_change_the_exit_status() -> None:
    agent = Standalone("--port", "0")
    with agent:
        assert agent.process is not None
        assert agent.process.stderr is not None
        agent.process.stderr.close()  # whoever read the messages is gone
        assert request(f"{agent.url()}/_fake/agent").status == 200
        assert agent.stop() == 0
