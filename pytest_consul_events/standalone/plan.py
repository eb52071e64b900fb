"""From the merged settings tree to what the standalone command starts.

One agent (a :class:`~pytest_consul_events.fake.FakeConsulAgent`) unless ``fake.agents``
lists several (then a :class:`~pytest_consul_events.cluster.FakeConsulCluster`). Consul's keys
and the ``fake`` block map onto the marker's options:

============================================  =================================================
settings                                      option
============================================  =================================================
``node_name``, ``datacenter``, ``server``     ``node_name``, ``datacenter``, ``server``
``services`` (and ``service``)                ``services``
``acl.enabled`` + ``acl.default_policy``      ``acl`` (``None`` unless enabled; policy ``allow``
                                              by default, as in Consul)
``acl.tokens.initial_management``             ``management_token``
``acl.tokens.default``                        ``default_token``
``limits.http_max_conns_per_client``          ``http_max_conns_per_client``
``addresses.http`` (else ``client_addr``)     the address to bind (default ``127.0.0.1``)
``ports.http``                                the port (default 8500, 0 for a free one)
``fake.seed``, ``fake.buffer_size``,          the options of the same names
``fake.history_limit``, ``fake.dev_mode``,
``fake.tokens``, ``fake.clock``,
``fake.strict``
``fake.gossip.*``                             the cluster's gossip options
``fake.agents``                               the cluster's agents
============================================  =================================================
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pytest_consul_events.standalone.config import ConfigError, Tree

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8500
_PER_AGENT = ("buffer_size", "history_limit", "strict")
_SINGLE_ONLY = ("node_name", "services", "server")


@dataclasses.dataclass
class Plan:
    """What to start: ``agents`` is ``None`` for one agent (``agent_options``), else the
    cluster's agent specs (ports included) and ``cluster_options``."""

    host: str
    port: int
    agent_options: dict[str, Any]
    agents: list[dict[str, Any]] | None = None
    cluster_options: dict[str, Any] = dataclasses.field(default_factory=dict)


def _acl_options(tree: Tree) -> dict[str, Any]:
    acl = tree.get("acl", {})
    options: dict[str, Any] = {}
    if acl.get("enabled"):
        options["acl"] = acl.get("default_policy", "allow")
        # Consul reads acl.tokens only when ACLs are enabled; a disabled ACL system ignores them.
        tokens = acl.get("tokens", {})
        if "initial_management" in tokens:
            options["management_token"] = tokens["initial_management"]
        if "default" in tokens:
            options["default_token"] = tokens["default"]
    fake_tokens = tree.get("fake", {}).get("tokens")
    if fake_tokens:
        options["tokens"] = dict(fake_tokens)
    return options


def _host(tree: Tree) -> str:
    host = tree.get("addresses", {}).get("http") or tree.get("client_addr") or DEFAULT_HOST
    if not host or " " in host.strip():
        raise ConfigError(f"the fake listens on one address, not {host!r}")
    return str(host.strip())


def build(tree: Tree) -> Plan:
    """The plan for a merged settings tree.

    Raises:
        ConfigError: settings that contradict each other (a node name beside a list of
            agents, gossip settings for a single agent, two agents on one port...).
    """
    fake = tree.get("fake", {})
    host = _host(tree)
    port = tree.get("ports", {}).get("http", DEFAULT_PORT)
    agents = fake.get("agents")
    gossip = dict(fake.get("gossip", {}))
    limits = tree.get("limits", {})
    if not agents:
        if gossip:
            names = ", ".join(f"fake.gossip.{key}" for key in gossip)
            raise ConfigError(
                f"{names}: gossip settings need a datacenter of agents "
                "(--agent, or fake { agents = [...] })"
            )
        options: dict[str, Any] = {
            key: tree[key] for key in ("node_name", "datacenter", "server") if key in tree
        }
        if tree.get("services"):
            options["services"] = list(tree["services"])
        for key in ("seed", "buffer_size", "history_limit", "dev_mode", "clock", "strict"):
            if key in fake:
                options[key] = fake[key]
        if "http_max_conns_per_client" in limits:
            options["http_max_conns_per_client"] = limits["http_max_conns_per_client"]
        options.update(_acl_options(tree))
        return Plan(host, port, options)

    clashing = [key for key in _SINGLE_ONLY if tree.get(key) not in (None, [])]
    if clashing:
        raise ConfigError(
            f"{', '.join(clashing)}: set per agent when several agents are listed "
            "(--agent NAME,..., or fake { agents = [{ node_name = ... }] })"
        )
    defaults: dict[str, Any] = {key: fake[key] for key in _PER_AGENT if key in fake}
    if "datacenter" in tree:
        defaults["datacenter"] = tree["datacenter"]
    if "http_max_conns_per_client" in limits:
        defaults["http_max_conns_per_client"] = limits["http_max_conns_per_client"]
    specs = [{**defaults, **agent} for agent in agents]
    node_names = [spec["node_name"] for spec in specs]
    duplicates = sorted({name for name in node_names if node_names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"two agents are named {duplicates[0]!r}")
    _number_ports(specs, port)
    cluster_options: dict[str, Any] = {**_acl_options(tree), **gossip}
    for key in ("seed", "dev_mode", "clock"):
        if key in fake:
            cluster_options[key] = fake[key]
    return Plan(host, port, {}, specs, cluster_options)


def _number_ports(specs: list[dict[str, Any]], base: int) -> None:
    """Give each agent its port: its own ``port``, else ``base`` + its position (``base`` 0:
    every agent a free port)."""
    taken: dict[int, str] = {}
    for position, spec in enumerate(specs):
        if "port" not in spec:
            spec["port"] = 0 if base == 0 else base + position
        port = spec["port"]
        if port > 65535:
            raise ConfigError(
                f"agent {spec['node_name']!r} would listen on port {port}: above 65535"
            )
        if port and port in taken:
            raise ConfigError(
                f"agents {taken[port]!r} and {spec['node_name']!r} would both listen on port {port}"
            )
        if port:
            taken[port] = spec["node_name"]
