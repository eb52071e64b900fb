"""Consul agent configuration files (``--config-file``, ``--hcl``): every key in HCL and JSON,
Consul's merge order, unknown keys and bad values refused with one line (exit 2)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from standalone_support import ROOT, Standalone, request

from pytest_consul_events.standalone import config, flags
from pytest_consul_events.standalone import run as runner
from pytest_consul_events.standalone.plan import Plan

EVERY_KEY_HCL = r"""
node_name  = "web-1"
datacenter = "eu"
server     = false
client_addr = "127.0.0.3"
addresses { http = "127.0.0.2" }
ports { http = 0 }
service {
  name = "web"
  id   = "web-a"
  tags = ["v1", "blue"]
  port = 80
  address = "10.0.0.5"
  meta { version = "2" }
}
services {
  name = "db"
}
acl {
  enabled        = true
  default_policy = "deny"
  tokens {
    initial_management = "root"
    default            = "deployer"
  }
}
limits { http_max_conns_per_client = 0 }
fake {
  seed          = 42
  buffer_size   = 16
  history_limit = 100
  dev_mode      = true
  clock         = "manual"
  strict        = true
  tokens {
    deployer = "event \"deploy\" { policy = \"write\" }"
  }
}
"""

EVERY_KEY_JSON = {
    "node_name": "web-1",
    "datacenter": "eu",
    "server": False,
    "client_addr": "127.0.0.3",
    "addresses": {"http": "127.0.0.2"},
    "ports": {"http": 0},
    "service": {
        "name": "web",
        "id": "web-a",
        "tags": ["v1", "blue"],
        "port": 80,
        "address": "10.0.0.5",
        "meta": {"version": "2"},
    },
    "services": [{"name": "db"}],
    "acl": {
        "enabled": True,
        "default_policy": "deny",
        "tokens": {"initial_management": "root", "default": "deployer"},
    },
    "limits": {"http_max_conns_per_client": 0},
    "fake": {
        "seed": 42,
        "buffer_size": 16,
        "history_limit": 100,
        "dev_mode": True,
        "clock": "manual",
        "strict": True,
        "tokens": {"deployer": 'event "deploy" { policy = "write" }'},
    },
}

EVERY_KEY_PLAN = Plan(
    "127.0.0.2",
    0,
    {
        "node_name": "web-1",
        "datacenter": "eu",
        "server": False,
        # Consul appends the single `service` after `services`, per file
        "services": [
            {"name": "db"},
            {
                "name": "web",
                "id": "web-a",
                "tags": ["v1", "blue"],
                "port": 80,
                "address": "10.0.0.5",
                "meta": {"version": "2"},
            },
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

DATACENTER_HCL = """
datacenter = "east"
ports { http = 0 }
acl { enabled = true }
fake {
  seed = 7
  buffer_size = 8
  gossip {
    unordered   = true
    delay       = [0, 0.05]
    loss        = 0.1
    duplicate   = 0.2
    manual      = false
    flush_after = 0.5
  }
  agents = [
    { node_name = "a" },
    { node_name = "b", server = true, ports { http = 9100 },
      limits { http_max_conns_per_client = 5 } },
  ]
  agents {
    node_name  = "c"
    datacenter = "west"
    buffer_size = 4
    history_limit = 9
    strict = true
    service { name = "web" }
    services { name = "db" }
  }
}
"""


def load(*argv: str) -> tuple[Plan, list[str]]:
    return runner.load(flags.parse_args(argv))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- every key -------------------------------------------------------------------------------------


def test_every_key_in_hcl(tmp_path: Path) -> None:
    assert load("--config-file", write(tmp_path, "agent.hcl", EVERY_KEY_HCL)) == (
        EVERY_KEY_PLAN,
        [],
    )


def test_every_key_in_json(tmp_path: Path) -> None:
    path = write(tmp_path, "agent.json", json.dumps(EVERY_KEY_JSON))
    assert load("--config-file", path) == (EVERY_KEY_PLAN, [])


def test_every_datacenter_key(tmp_path: Path) -> None:
    launch, _ = load("--config-file", write(tmp_path, "dc.hcl", DATACENTER_HCL))
    assert launch.agents == [
        {"datacenter": "east", "buffer_size": 8, "node_name": "a", "port": 0},
        {
            "datacenter": "east",
            "buffer_size": 8,
            "node_name": "b",
            "server": True,
            "port": 9100,
            "http_max_conns_per_client": 5,
        },
        {
            "datacenter": "west",
            "buffer_size": 4,
            "node_name": "c",
            "history_limit": 9,
            "strict": True,
            "services": [{"name": "db"}, {"name": "web"}],
            "port": 0,
        },
    ]
    assert launch.cluster_options == {
        "acl": "allow",
        "unordered": True,
        "delay": (0, 0.05),
        "loss": 0.1,
        "duplicate": 0.2,
        "manual": False,
        "flush_after": 0.5,
        "seed": 7,
    }


def test_keys_match_case_insensitively_as_mapstructure_does(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.json", '{"Node_Name": "x", "services": [{"Name": "web", "ID": "w1"}]}'
    )
    launch, _ = load("--config-file", path)
    assert launch.agent_options == {"node_name": "x", "services": [{"name": "web", "id": "w1"}]}


def test_a_list_of_one_stands_for_its_element(tmp_path: Path) -> None:
    launch, _ = load("--config-file", write(tmp_path, "a.json", '{"node_name": ["x"]}'))
    assert launch.agent_options == {"node_name": "x"}


def test_deprecated_spellings_work_with_consul_s_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "old.hcl",
        'acl_master_token = "root"\nacl_token = "t"\nacl_default_policy = "deny"\n'
        "acl { enabled = true }",
    )
    launch, warnings = load("--config-file", path)
    assert launch.agent_options == {"acl": "deny", "management_token": "root", "default_token": "t"}
    assert warnings == [
        "The 'acl_master_token' field is deprecated. Use the 'acl.tokens.initial_management' "
        "field instead.",
        "The 'acl_token' field is deprecated. Use the 'acl.tokens.default' field instead.",
        "The 'acl_default_policy' field is deprecated. Use the 'acl.default_policy' field instead.",
    ]
    newer = write(
        tmp_path,
        "n.hcl",
        'acl {\n enabled = true\n tokens { master = "old", initial_management = "new" } }',
    )
    launch, warnings = load("--config-file", newer)
    assert launch.agent_options == {"acl": "allow", "management_token": "new"}
    assert warnings == [
        "The 'acl.tokens.master' field is deprecated. Use the 'acl.tokens.initial_management' "
        "field instead."
    ]


def test_consul_keys_without_effect_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "real.hcl",
        'data_dir = "/tmp/consul"\nlog_level = "INFO"\nports { dns = 8600 }\n'
        'acl { down_policy = "extend-cache" }\nservice { name = "web" check { ttl = "10s" } }',
    )
    launch, warnings = load("--config-file", path)
    assert launch.agent_options == {"services": [{"name": "web"}]}
    assert warnings == [
        f"{path}: ignoring {key}, a Consul setting the fake does not use"
        for key in ("data_dir", "log_level", "ports.dns", "acl.down_policy", "service.check")
    ]
    assert "data_dir" in config.IGNORED
    assert "limits.rpc_rate" in config.IGNORED


# -- merging ---------------------------------------------------------------------------------------


def test_files_merge_in_order_flags_win_and_hcl_wins_over_flags(tmp_path: Path) -> None:
    first = write(
        tmp_path, "1.hcl", 'node_name = "one"\ndatacenter = "dc-a"\nservice { name = "a" }'
    )
    second = write(
        tmp_path,
        "2.json",
        '{"node_name": "two", "services": [{"name": "b"}], "fake": {"tokens": {"x": ""}}}',
    )
    launch, _ = load(
        "--config-file", first, "--config-file", second, "--service", "flagged",
        "--datacenter", "dc-flag", "--buffer-size", "5", "--hcl", "fake { buffer_size = 6 }",
        "--token", 'y=event "" { policy = "read" }',
    )  # fmt: skip
    assert launch.agent_options == {
        "node_name": "two",
        "datacenter": "dc-flag",
        "services": [{"name": "flagged"}, {"name": "a"}, {"name": "b"}],
        "buffer_size": 6,
        "tokens": {"x": "", "y": 'event "" { policy = "read" }'},
    }


def test_a_directory_is_read_in_name_order_skipping_other_files(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    write(tmp_path, "conf/b.json", '{"node_name": "from-b"}')
    write(tmp_path, "conf/a.hcl", 'node_name = "from-a"\nfake { seed = 1 }')
    write(tmp_path, "conf/readme.txt", "not config")
    (tmp_path / "conf" / "sub").mkdir()
    launch, warnings = load("--config-file", str(tmp_path / "conf"))
    assert launch.agent_options == {"node_name": "from-b", "seed": 1}
    assert warnings == [
        f"skipping file {tmp_path / 'conf' / 'readme.txt'}, extension must be .hcl or .json, "
        "or config format must be set"
    ]


def test_config_format_reads_any_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "agent.conf", 'node_name = "x"')
    assert load("--config-format", "hcl", "--config-file", path)[0].agent_options == {
        "node_name": "x"
    }


# -- refused files: exit 2, one line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.hcl", "nodename = 1", "invalid config key nodename"),
        ("a.hcl", "fake { colour = 1 }", "invalid config key fake.colour"),
        ("a.hcl", 'services { name = "w" colour = 1 }', "invalid config key services[0].colour"),
        (
            "a.json",
            '{"acl": {"tokens": {"initial_management": "r", "bogus": 1}}, "x": 2}',
            "invalid config key acl.tokens.bogus; invalid config key x",
        ),
        (
            "a.hcl",
            "node_name = 5",
            "'node_name' expected type 'string', got unconvertible type 'int', value: '5'",
        ),
        (
            "a.json",
            '{"server": "yes"}',
            "'server' expected type 'bool', got unconvertible type 'string', value: 'yes'",
        ),
        (
            "a.json",
            '{"ports": {"http": 80.5}}',
            "'ports.http' expected type 'int', got unconvertible type 'float64', value: '80.5'",
        ),
        ("a.hcl", "acl = [1, 2]", "'acl' expected a map, got 'slice'"),
        ("a.hcl", "services = 3", "'services': source data must be an array or slice, got int"),
        (
            "a.hcl",
            "fake { buffer_size = 0 }",
            "fake.buffer_size = 0: buffer_size must be an int from 1 to 1000000000, not 0 (int)",
        ),
        (
            "a.hcl",
            'acl { default_policy = "maybe" }',
            "acl.default_policy = \"maybe\": must be 'allow' or 'deny'",
        ),
        (
            "a.hcl",
            'fake { clock = "sundial" }',
            "fake.clock = \"sundial\": must be 'real' or 'manual'",
        ),
        (
            "a.hcl",
            "ports { http = 70000 }",
            "ports.http = 70000: a port is between 0 (any free port) and 65535",
        ),
        (
            "a.hcl",
            "fake { gossip { loss = 1.5 } }",
            "fake.gossip.loss = 1.5: loss must be a finite number from 0 to 1, not 1.5 (float)",
        ),
        (
            "a.hcl",
            "fake { gossip { delay = [1] } }",
            "fake.gossip.delay = [1]: delay is [low, high], in seconds",
        ),
        (
            "a.hcl",
            "limits { http_max_conns_per_client = -1 }",
            "limits.http_max_conns_per_client = -1: "
            "http_max_conns_per_client must be an int >= 0, not -1 (int)",
        ),
        (
            "a.hcl",
            'fake { tokens { t = "event \\"x\\" { policy = \\"fly\\" }" } }',
            'fake.tokens[t] = "event \\"x\\" { policy = \\"fly\\" }": '
            'Invalid event policy: &acl.EventRule{Event:"x", Policy:"fly"}',
        ),
        ("a.hcl", 'services { id = "x" }', "services[0]: a service needs a name"),
        (
            "a.hcl",
            'fake { agents = [{ datacenter = "x" }] }',
            "fake.agents[0]: an agent needs a node_name",
        ),
        ("a.hcl", "x = [1,", "At 1:8: unexpected token while parsing list: EOF"),
        ("a.json", '{"node_name": ', "unexpected EOF"),
        (
            "a.json",
            "[1]",
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
        ("a.json", '{"a": 1} x', "invalid character 'x' after top-level value"),
    ],
)
def test_a_refused_file_names_itself_and_the_key(
    refused: Callable[..., str], tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    assert refused("--config-file", path) == f"failed to parse {path}: {message}"


def test_an_hcl_fragment_is_named_like_consul_names_it(refused: Callable[..., str]) -> None:
    assert refused("--hcl", 'node_name = "a"', "--hcl", "x = 1") == (
        "failed to parse flags-1.hcl: invalid config key x"
    )


def test_unreadable_and_unknown_files(refused: Callable[..., str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.hcl"
    assert refused("--config-file", str(missing)) == (
        f"config: Open failed on {missing}. open {missing}: no such file or directory"
    )
    other = write(tmp_path, "agent.yaml", "node_name: x")
    assert refused("--config-file", other) == (
        f"file {other} has unknown extension; must be .hcl or .json, or config format must be set"
    )


def test_settings_that_contradict_each_other(refused: Callable[..., str], tmp_path: Path) -> None:
    path = write(tmp_path, "a.hcl", 'node_name = "x"\nfake { agents = [{ node_name = "a" }] }')
    assert refused("--config-file", path) == (
        "node_name: set per agent when several agents are listed "
        "(--agent NAME,..., or fake { agents = [{ node_name = ... }] })"
    )
    gossip = write(tmp_path, "g.hcl", "fake { gossip { manual = true } }")
    assert refused("--config-file", gossip) == (
        "fake.gossip.manual: gossip settings need a datacenter of agents "
        "(--agent, or fake { agents = [...] })"
    )


# -- started from files, seen over HTTP ------------------------------------------------------------


def test_an_agent_started_from_an_hcl_file(tmp_path: Path) -> None:
    path = write(tmp_path, "agent.hcl", EVERY_KEY_HCL.replace("127.0.0.2", "127.0.0.1"))
    with Standalone("--config-file", path) as agent:
        info = agent.control("GET", "agent").json()
        assert (info["node_name"], info["datacenter"], info["seed"], info["clock"]) == (
            "web-1",
            "eu",
            42,
            "manual",
        )
        url = agent.url()
        assert request(f"{url}/v1/event/fire/deploy?service=web-a", "PUT").status == 200
        assert request(f"{url}/v1/event/fire/other", "PUT").status == 403
        services = request(f"{url}/v1/agent/services?token=root").json()
        assert sorted(services) == ["db", "web-a"]
        assert services["web-a"]["Tags"] == ["v1", "blue"]


def test_a_datacenter_started_from_a_json_file(tmp_path: Path) -> None:
    document = {
        "ports": {"http": 0},
        "fake": {
            "seed": 3,
            "gossip": {"manual": True},
            "agents": [
                {"node_name": "a"},
                {"node_name": "b", "services": [{"name": "web"}]},
                {"node_name": "c", "datacenter": "west"},
            ],
        },
    }
    path = write(tmp_path, "dc.json", json.dumps(document))
    with Standalone("--config-file", path) as dc:
        assert [a["node_name"] for a in dc.agents] == ["a", "b", "c"]
        assert request(f"{dc.url('a')}/v1/event/fire/deploy?service=web", "PUT").status == 200
        assert dc.control("GET", "cluster", node="c").json()["held"] == 1
        assert dc.control("POST", "cluster/release", {"to": "b"}).json() == {"delivered": 1}
        assert [e["Name"] for e in request(f"{dc.url('b')}/v1/event/list").json()] == ["deploy"]


def test_the_readme_s_config_examples_load(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Config files") : readme.index("### A datacenter")]
    [hcl] = re.findall(r"```hcl\n(.*?)```", section, re.S)
    [document] = re.findall(r"```json\n(.*?)```", section, re.S)
    single, warnings = load("--config-file", write(tmp_path, "a.hcl", hcl))
    assert warnings == []
    assert single.agent_options["services"] == [
        {"name": "web", "id": "web-a", "tags": ["v2"], "port": 8080, "meta": {"version": "2"}}
    ]
    assert (single.host, single.port, single.agent_options["acl"]) == ("127.0.0.1", 8500, "deny")
    datacenter, warnings = load("--config-file", write(tmp_path, "dc.json", document))
    assert warnings == []
    assert [a["node_name"] for a in datacenter.agents or []] == ["web-1", "web-2", "db-1"]
    assert datacenter.cluster_options["duplicate"] == 0.1
    # And the datacenter can be made as planned (on free ports: 8600 may be taken here).
    for spec in datacenter.agents or []:
        spec["port"] = 0
    cluster = runner.make(datacenter)
    try:
        assert [(a.node_name, a.strict) for a in runner.agents_of(cluster)] == [
            ("web-1", False),
            ("web-2", False),
            ("db-1", True),
        ]
    finally:
        cluster.close()
