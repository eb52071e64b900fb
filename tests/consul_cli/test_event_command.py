"""``consul event``: what it sends, prints and exits with, run as a command (``consul_cli``)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_consul_events.consul_cli.event_cmd import EventCommand
from pytest_consul_events.consul_cli.ui import UI
from pytest_consul_events.fake import FakeConsulAgent

HELP = EventCommand(UI()).help()


def test_success_prints_the_event_id_and_nothing_else(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    result = consul_cli.run("event", "-name=deploy", "v1.4.2")

    [stored] = consul_agent.events
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"Event ID: {stored.id}\n", "")
    assert (stored.name, stored.payload) == ("deploy", b"v1.4.2")


def test_it_asks_the_agent_for_itself_then_fires(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    consul_cli.run("event", "-name=deploy", "-node=^web", "-service=api", "-tag=v2", "x")

    requests = list(consul_agent.requests)
    assert [(r.method, r.path) for r in requests] == [
        ("GET", "/v1/agent/self"),
        ("PUT", "/v1/event/fire/deploy"),
    ]
    assert requests[1].query == "node=%5Eweb&service=api&tag=v2"  # url.Values.Encode: sorted
    assert requests[1].body == b"x"


def test_no_payload_and_an_empty_payload_both_give_null(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    assert consul_cli.run("event", "-name=a").exit_code == 0
    assert consul_cli.run("event", "-name=b", "").exit_code == 0

    assert [e.payload for e in consul_agent.events] == [None, None]


def test_payload_bytes_reach_the_agent_unchanged(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    payload = b'{"v": "1.0"} \xff\xfe'
    completed = subprocess.run(
        [consul_cli.path, b"event", b"-name=raw", payload], capture_output=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert consul_agent.events[0].payload == payload


def test_names_are_escaped_in_the_path_as_go_does(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    assert consul_cli.run("event", "-name=ops/deploy now?").exit_code == 0

    assert consul_agent.events[0].name == "ops/deploy now?"
    assert consul_agent.requests[1].path == "/v1/event/fire/ops/deploy now?"


@pytest.mark.consul_agent(node_name="web-1", services=["web"])
def test_filters_are_sent_and_applied_by_the_agent(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    assert consul_cli.run("event", "-name=a", "-node=^db").exit_code == 0
    assert consul_cli.run("event", "-name=b", "-service=^web$", "-tag=").exit_code == 0

    assert [e.name for e in consul_agent.events] == ["b"]
    assert [e.node_filter for e in consul_agent.fired] == ["^db", ""]


def test_a_name_is_required(consul_cli: Any, consul_agent: FakeConsulAgent) -> None:
    result = consul_cli.run("event", "payload")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Event name must be specified\n\n{HELP}\n"
    assert list(consul_agent.requests) == []


def test_a_tag_needs_a_service(consul_cli: Any, consul_agent: FakeConsulAgent) -> None:
    result = consul_cli.run("event", "-name=deploy", "-tag=v2")

    assert (result.exit_code, result.stderr) == (
        1,
        "Cannot provide tag filter without service filter.\n",
    )
    assert list(consul_agent.requests) == []


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            "-node=(",
            "Failed to compile node filter regexp: error parsing regexp: missing closing ): `(`",
        ),
        (
            "-service=a**",
            "Failed to compile service filter regexp: "
            "error parsing regexp: invalid nested repetition operator: `**`",
        ),
        (
            "-tag=[z-a]",
            "Failed to compile tag filter regexp: "
            "error parsing regexp: invalid character class range: `z-a`",
        ),
        (
            "-node=\\C",
            "Failed to compile node filter regexp: error parsing regexp: "
            "invalid escape sequence: `\\C`",
        ),
    ],
)
def test_filters_are_compiled_with_gos_regexp_first(
    consul_cli: Any, consul_agent: FakeConsulAgent, flag: str, message: str
) -> None:
    result = consul_cli.run("event", "-name=deploy", flag, "-tag=(" if "tag" not in flag else "")

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert list(consul_agent.requests) == []


def test_one_payload_at_most(consul_cli: Any) -> None:
    result = consul_cli.run("event", "-name=deploy", "a", "b")

    assert result.exit_code == 1
    assert result.stderr == f"Too many command line arguments.\n\n{HELP}\n"


def test_flags_after_the_payload_are_payload_arguments(consul_cli: Any) -> None:
    result = consul_cli.run("event", "-name=deploy", "a", "-node=x")

    assert result.stderr.startswith("Too many command line arguments.\n")


def test_an_undefined_flag_prints_gos_message_and_usage(consul_cli: Any) -> None:
    result = consul_cli.run("event", "-name=deploy", "-datacenter=dc2")

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:4] == [
        "flag provided but not defined: -datacenter",
        "Usage:",
        "  -ca-file value",
        "    \tPath to a CA file to use for TLS when communicating with Consul. This can also "
        "be specified via the CONSUL_CACERT environment variable.",
    ]
    assert [line for line in lines if line.startswith("  -")] == [
        "  -ca-file value",
        "  -ca-path value",
        "  -client-cert value",
        "  -client-key value",
        "  -http-addr address",
        "  -name string",
        "  -node string",
        "  -service string",
        "  -tag string",
        "  -tls-server-name value",
        "  -token value",
        "  -token-file value",
    ]


def test_help_goes_to_standard_output(consul_cli: Any) -> None:
    for args in (("event", "-h"), ("event", "-name=x", "--help"), ("-help", "event")):
        result = consul_cli.run(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (0, HELP + "\n", "")


def test_the_help_text(consul_cli: Any) -> None:
    text = consul_cli.run("event", "-h").stdout

    assert text.startswith(
        "Usage: consul event [options] [payload]\n\n"
        "  Dispatches a custom user event across a datacenter. An event must provide\n"
        "  a name, but a payload is optional. Events support filtering using\n"
        "  regular expressions on node name, service, and tag definitions.\n\n"
        "HTTP API Options\n\n"
        "  -ca-file=<value>\n"
        "     Path to a CA file to use for TLS when communicating with Consul.\n"
        "     This can also be specified via the CONSUL_CACERT environment\n"
        "     variable.\n\n"
    )
    assert (
        "  -http-addr=<address>\n"
        "     The `address` and port of the Consul HTTP agent. The value can be\n"
        "     an IP address or DNS address, but it must also include the port.\n"
        "     This can also be specified via the CONSUL_HTTP_ADDR environment\n"
        "     variable. The default value is http://127.0.0.1:8500. The scheme\n"
        "     can also be set to HTTPS by setting the environment variable\n"
        "     CONSUL_HTTP_SSL=true.\n\n"
    ) in text
    assert text.endswith(
        "Command Options\n\n"
        "  -name=<string>\n     Name of the event.\n\n"
        "  -node=<string>\n     Regular expression to filter on node names.\n\n"
        "  -service=<string>\n     Regular expression to filter on service instances.\n\n"
        "  -tag=<string>\n"
        "     Regular expression to filter on service tags. Must be used with\n"
        "     -service.\n"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_agent(consul_cli: Any) -> None:
    port = _free_port()
    result = consul_cli.run("event", "-name=deploy", f"-http-addr=127.0.0.1:{port}")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f'Error querying Consul agent: Get "http://127.0.0.1:{port}/v1/agent/self": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused\n"
    )


def test_the_address_may_carry_http_and_a_path_prefix(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    result = consul_cli.run("event", "-name=a", env={"CONSUL_HTTP_ADDR": consul_agent.url})
    assert result.exit_code == 0, result.stderr

    prefixed = consul_cli.run("event", "-name=b", f"-http-addr={consul_agent.url}/proxy")
    assert prefixed.stderr == (
        "Error querying Consul agent: Unexpected response code: 404 "
        "(Invalid URL path: not a recognized HTTP API endpoint)\n"
    )
    assert consul_agent.requests[-1].path == "/proxy/v1/agent/self"


def test_an_unknown_scheme(consul_cli: Any) -> None:
    result = consul_cli.run("event", "-name=a", "-http-addr=ftp://127.0.0.1:21")

    assert (result.exit_code, result.stderr) == (
        1,
        "Error connecting to Consul agent: Unknown protocol scheme: ftp\n",
    )


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["-http-addr=https://127.0.0.1:8501"], {}, "HTTPS"),
        ([], {"CONSUL_HTTP_SSL": "true"}, "HTTPS"),
        (["-ca-file=/etc/ca.pem"], {}, "-ca-file"),
        ([], {"CONSUL_CLIENT_CERT": "/etc/cert.pem"}, "CONSUL_CLIENT_CERT"),
        (["-http-addr=unix:///var/run/consul.sock"], {}, "Unix socket"),
    ],
)
def test_tls_and_sockets_are_refused_by_name(
    consul_cli: Any, args: list[str], env: dict[str, str], named: str
) -> None:
    result = consul_cli.run("event", "-name=a", *args, env=env)

    assert result.exit_code == 1
    assert result.stderr.startswith("consul (pytest-consul-events): ")
    assert named in result.stderr
    assert "not implemented" in result.stderr


def test_a_bad_consul_http_ssl_is_warned_about_as_go_does(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    result = consul_cli.run("event", "-name=a", env={"CONSUL_HTTP_SSL": "maybe"})

    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    # api.DefaultConfig runs twice (APIClient, then inside NewClient): two warnings.
    assert len(lines) == 2
    for line in lines:
        assert line.endswith(
            "[WARN]  consul-api: could not parse CONSUL_HTTP_SSL: "
            'error="strconv.ParseBool: parsing \\"maybe\\": invalid syntax"'
        )


AGENT_READ = 'agent_prefix "" { policy = "read" }\n'


@pytest.mark.consul_agent(
    acl="deny",
    management_token="root",
    tokens={
        "deployer": AGENT_READ + 'event "deploy" { policy = "write" }',
        "reader": AGENT_READ + 'event "" { policy = "read" }',
        "events-only": 'event "deploy" { policy = "write" }',
    },
)
class TestTokens:
    def test_acl_denied(self, consul_cli: Any) -> None:
        result = consul_cli.run("event", "-name=deploy", "-token=reader")

        assert (result.exit_code, result.stdout, result.stderr) == (
            1,
            "",
            "Error firing event: Unexpected response code: 403 (Permission denied)\n",
        )

    def test_a_token_without_agent_read_stops_at_agent_self(
        self, consul_cli: Any, consul_agent: FakeConsulAgent
    ) -> None:
        # command/event/event.go asks Agent().NodeName() before firing; AgentSelf requires
        # agent:read on the node name and answers the long permission text.
        [token] = [t for t in consul_agent.acl.tokens() if t.secret_id == "events-only"]
        accessor = token.accessor_id

        result = consul_cli.run("event", "-name=deploy", "-token=events-only")

        assert (result.exit_code, result.stdout, result.stderr) == (
            1,
            "",
            "Error querying Consul agent: Unexpected response code: 403 (Permission denied: "
            f"token with AccessorID '{accessor}' lacks permission 'agent:read' on \"node1\")\n",
        )
        assert [r.path for r in consul_agent.requests] == ["/v1/agent/self"]
        assert consul_agent.events == []

    def test_unknown_token(self, consul_cli: Any) -> None:
        result = consul_cli.run("event", "-name=deploy", env={"CONSUL_HTTP_TOKEN": "nobody"})

        # AgentSelf resolves the token first: an unknown one is handleErr's 403.
        assert result.stderr == (
            "Error querying Consul agent: Unexpected response code: 403 (ACL not found)\n"
        )

    def test_token_flag(self, consul_cli: Any, consul_agent: FakeConsulAgent) -> None:
        result = consul_cli.run("event", "-name=deploy", "-token=deployer")

        assert result.exit_code == 0, result.stderr
        assert [r.token for r in consul_agent.requests] == [True, True]

    def test_token_file_wins_over_token(self, consul_cli: Any, tmp_path: Path) -> None:
        token_file = tmp_path / "token"
        token_file.write_text("  deployer\n")

        by_flag = consul_cli.run(
            "event", "-name=deploy", "-token=reader", f"-token-file={token_file}"
        )
        by_env = consul_cli.run(
            "event",
            "-name=deploy",
            env={"CONSUL_HTTP_TOKEN": "reader", "CONSUL_HTTP_TOKEN_FILE": str(token_file)},
        )
        flag_over_env_file = consul_cli.run(
            "event",
            "-name=deploy",
            "-token=reader",
            env={"CONSUL_HTTP_TOKEN_FILE": str(token_file)},
        )

        assert (by_flag.exit_code, by_env.exit_code) == (0, 0)
        assert flag_over_env_file.stderr.endswith("(Permission denied)\n")

    def test_missing_token_file(self, consul_cli: Any, tmp_path: Path) -> None:
        missing = tmp_path / "nope"
        result = consul_cli.run("event", "-name=deploy", f"-token-file={missing}")

        assert result.stderr == (
            f"Error connecting to Consul agent: Error loading token file {missing} : "
            f"open {missing}: no such file or directory\n"
        )


def test_a_payload_over_serfs_limit(consul_cli: Any) -> None:
    result = consul_cli.run("event", "-name=deploy", "x" * 600)

    assert result.exit_code == 1
    assert result.stderr == (
        "Error firing event: Unexpected response code: 500 (error broadcasting event: "
        "user event exceeds configured limit of 512 bytes before encoding)\n"
    )


def test_basic_auth_from_the_environment(consul_cli: Any, consul_agent: FakeConsulAgent) -> None:
    result = consul_cli.run("event", "-name=a", env={"CONSUL_HTTP_AUTH": "user:secret"})

    assert result.exit_code == 0


def test_it_talks_to_the_agent_it_was_pointed_at(consul_cli: Any, consul_cluster: Any) -> None:
    consul_cli.use(consul_cluster["node2"])

    result = consul_cli.run("event", "-name=deploy", "v2")
    consul_cluster.settle()

    assert result.exit_code == 0
    assert consul_cluster["node2"].requests[0].path == "/v1/agent/self"
    for agent in consul_cluster:
        assert [e.payload for e in agent.events] == [b"v2"]
