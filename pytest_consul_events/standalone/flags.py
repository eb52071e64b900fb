"""The standalone agent's command line, turned into settings trees like a config file's.

Every option of the ``consul_agent`` marker has a flag, spelled after Consul's own flag where
Consul has one (``--node``, ``--datacenter``, ``--dev``, ``--config-file``, ``--hcl``,
``--config-format``). The flags form two trees, placed as Consul places its flags
(agent/config/builder.go ``newBuilder``): the lists (``--service``, ``--agent``) before the
config files, so that the files' entries follow them; the other values after the files, so
that flags win; ``--hcl`` fragments come last and win over both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pytest_consul_events import __version__
from pytest_consul_events.errors import ConsulError
from pytest_consul_events.standalone import config
from pytest_consul_events.standalone.config import ConfigError, Tree

PROG = "pytest-consul-events"


class UsageError(Exception):
    """A command line the agent cannot start from; ``str()`` is the one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors raised as one-line :class:`UsageError` instead of printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _checked(path: str, convert: Callable[[str], Any], kind: str) -> Callable[[str], Any]:
    """An argparse type: ``convert`` the text, then check it as the config key ``path``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind} value: {text!r}") from None
        try:
            config.check_value(path, value)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    parse.__name__ = kind
    return parse


def _delay(text: str) -> tuple[float, float]:
    low, comma, high = text.partition(",")
    if not comma:
        raise ValueError(text)
    return float(low), float(high)


def _token(text: str) -> tuple[str, str]:
    secret, equals, rules = text.partition("=")
    if not equals or not secret:
        raise argparse.ArgumentTypeError(f"expected SECRET=RULES, not {text!r}")
    try:
        config.check_value("fake.tokens", {secret: rules})
    except (TypeError, ValueError, ConsulError) as exc:
        raise argparse.ArgumentTypeError(f"{secret}: {exc}") from None
    return secret, rules


def parse_service(text: str) -> dict[str, Any]:
    """``--service``: a JSON service definition, or ``NAME[,id=ID][,tag=TAG]...[,port=PORT]
    [,address=ADDR][,meta=KEY=VALUE]...``.

    Raises:
        argparse.ArgumentTypeError: the text is neither, with the reason.
    """
    if text.lstrip().startswith("{"):
        try:
            return config.parse_fragment(text, "--service", config.SERVICE)
        except ConfigError as exc:
            message = str(exc).removeprefix("failed to parse --service: ")
            raise argparse.ArgumentTypeError(message) from None
    name, *items = text.split(",")
    if not name:
        raise argparse.ArgumentTypeError("a service needs a name")
    service: dict[str, Any] = {"name": name}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals:
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE after the name, not {item!r}")
        if key == "id":
            service["id"] = value
        elif key == "tag":
            service.setdefault("tags", []).append(value)
        elif key == "address":
            service["address"] = value
        elif key == "port":
            try:
                service["port"] = int(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"invalid port: {value!r}") from None
        elif key == "meta":
            meta_key, meta_equals, meta_value = value.partition("=")
            if not meta_equals:
                raise argparse.ArgumentTypeError(f"expected meta=KEY=VALUE, not {item!r}")
            service.setdefault("meta", {})[meta_key] = meta_value
        else:
            known = "id, tag, port, address, meta"
            raise argparse.ArgumentTypeError(f"unknown service field {key!r} (known: {known})")
    return service


def parse_agent(text: str) -> dict[str, Any]:
    """``--agent``: a JSON agent entry (the keys of ``fake { agents = [...] }``), or
    ``NAME[:DC][,server|,client][,port=PORT][,service=NAME]...``.

    Raises:
        argparse.ArgumentTypeError: the text is neither, with the reason.
    """
    if text.lstrip().startswith("{"):
        try:
            return config.parse_fragment(text, "--agent", config.AGENT)
        except ConfigError as exc:
            message = str(exc).removeprefix("failed to parse --agent: ")
            raise argparse.ArgumentTypeError(message) from None
    head, *items = text.split(",")
    name, colon, datacenter = head.partition(":")
    if not name or (colon and not datacenter):
        raise argparse.ArgumentTypeError(f"expected NAME[:DC], not {head!r}")
    spec: dict[str, Any] = {"node_name": name}
    if datacenter:
        spec["datacenter"] = datacenter
    for item in items:
        key, equals, value = item.partition("=")
        if not equals and key in ("server", "client"):
            spec["server"] = key == "server"
        elif key == "port" and equals:
            try:
                spec["port"] = int(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"invalid port: {value!r}") from None
        elif key == "service" and equals and value:
            spec.setdefault("services", []).append({"name": value})
        else:
            known = "server, client, port=PORT, service=NAME"
            raise argparse.ArgumentTypeError(f"unknown agent item {item!r} (known: {known})")
    try:
        for key in ("node_name", "datacenter"):
            if key in spec:
                config.check_value(key, spec[key])
        if "port" in spec:
            config.check_value("ports.http", spec["port"])
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return spec


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the README's "Standalone agent" section)."""
    parser = _Parser(
        prog=PROG,
        description="Serve fake Consul agents (user events) over HTTP, with a control API "
        "under /_fake/ for tests in any language.",
        allow_abbrev=False,
    )
    add = parser.add_argument
    where = parser.add_argument_group("address")
    where.add_argument(
        "--host", metavar="HOST", help="address to bind (default 127.0.0.1; config: addresses.http)"
    )
    where.add_argument(
        "--port",
        metavar="PORT",
        type=_checked("ports.http", int, "int"),
        help="HTTP port, 0 for a free one (default 8500; config: ports.http). With several "
        "agents, the first agent's; the next ones take the following ports, in order",
    )
    agent = parser.add_argument_group("agent (the consul_agent marker's options)")
    agent.add_argument("--node", "--node-name", dest="node", metavar="NAME", help="node name")
    agent.add_argument("--datacenter", metavar="DC", help="datacenter (default dc1)")
    agent.add_argument(
        "--service",
        metavar="SPEC",
        action="append",
        type=parse_service,
        help="a local service, repeatable: NAME[,id=ID][,tag=TAG]...[,port=PORT]"
        "[,address=ADDR][,meta=KEY=VALUE]... or a JSON service definition",
    )
    agent.add_argument(
        "--server",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the agent is a server (default: yes)",
    )
    agent.add_argument(
        "--buffer-size",
        metavar="N",
        type=_checked("fake.buffer_size", int, "int"),
        help="events kept by each agent (default 256)",
    )
    agent.add_argument(
        "--seed",
        metavar="N",
        type=_checked("fake.seed", int, "int"),
        help="fixes event IDs and every gossip choice (default: random, shown with --json)",
    )
    agent.add_argument(
        "--dev",
        action="store_const",
        const=True,
        default=None,
        help="pretty-print JSON as `consul agent -dev` does",
    )
    agent.add_argument(
        "--acl",
        choices=("allow", "deny", "off"),
        help="enforce ACLs with this default policy, or not (off, the default)",
    )
    agent.add_argument(
        "--management-token",
        metavar="SECRET",
        type=_checked("acl.tokens.initial_management", str, "str"),
        help="a secret with every permission (config: acl.tokens.initial_management)",
    )
    agent.add_argument(
        "--token",
        metavar="SECRET=RULES",
        action="append",
        type=_token,
        help="a token with these ACL rules (HCL or JSON), repeatable",
    )
    agent.add_argument(
        "--default-token",
        metavar="SECRET",
        help="the token of requests that carry none (config: acl.tokens.default)",
    )
    agent.add_argument(
        "--clock",
        choices=("real", "manual"),
        help="real time, or a test clock moved by POST /_fake/clock/advance",
    )
    agent.add_argument(
        "--strict",
        action="store_const",
        const=True,
        default=None,
        help="GET /_fake/verify fails (409) after calls to endpoints the fake lacks",
    )
    agent.add_argument(
        "--http-max-conns-per-client",
        metavar="N",
        type=_checked("limits.http_max_conns_per_client", int, "int"),
        help="connections one client address may hold open, 0 for no limit (default 200; "
        "config: limits.http_max_conns_per_client)",
    )
    agent.add_argument(
        "--history-limit",
        metavar="N",
        type=_checked("fake.history_limit", int, "int"),
        help="requests and fires remembered per agent (default 10000)",
    )
    cluster = parser.add_argument_group("datacenter (the consul_cluster marker's options)")
    cluster.add_argument(
        "--agent",
        metavar="SPEC",
        action="append",
        type=parse_agent,
        help="an agent of the datacenter, repeatable: NAME[:DC][,server|,client][,port=PORT]"
        "[,service=NAME]... or a JSON agent entry",
    )
    cluster.add_argument(
        "--unordered",
        action="store_const",
        const=True,
        default=None,
        help="each agent receives events in its own order",
    )
    cluster.add_argument(
        "--delay",
        metavar="LOW,HIGH",
        type=_checked("fake.gossip.delay", _delay, "LOW,HIGH"),
        help="latency of each delivery, in seconds",
    )
    cluster.add_argument(
        "--loss",
        metavar="P",
        type=_checked("fake.gossip.loss", float, "float"),
        help="probability that a delivery is lost",
    )
    cluster.add_argument(
        "--duplicate",
        metavar="P",
        type=_checked("fake.gossip.duplicate", float, "float"),
        help="probability that a delivery arrives twice",
    )
    cluster.add_argument(
        "--manual",
        action="store_const",
        const=True,
        default=None,
        help="deliveries wait for POST /_fake/cluster/release",
    )
    cluster.add_argument(
        "--flush-after",
        metavar="S",
        type=_checked("fake.gossip.flush_after", float, "float"),
        help="unordered: deliver once no event was fired for this long (default 0.02)",
    )
    files = parser.add_argument_group("configuration files (Consul's agent format)")
    files.add_argument(
        "--config-file",
        metavar="PATH",
        action="append",
        default=[],
        help="an .hcl or .json file, or a directory of them; repeatable, merged in order",
    )
    files.add_argument(
        "--config-format",
        choices=("hcl", "json"),
        help="read every config file in this format whatever its extension",
    )
    files.add_argument(
        "--hcl",
        metavar="TEXT",
        action="append",
        default=[],
        help="configuration text in HCL, repeatable; it wins over flags and files",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--json",
        action="store_true",
        help="print one line of JSON describing every agent instead of the address lines",
    )
    add("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line.

    Raises:
        UsageError: an unknown flag or a bad value, in argparse's words.
    """
    return build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))


def flag_trees(args: argparse.Namespace) -> tuple[Tree, Tree]:
    """The lists the flags give (placed before the config files) and their other values
    (placed after)."""
    lists: Tree = {}
    if args.service:
        lists["services"] = list(args.service)
    if args.agent:
        lists["fake"] = {"agents": list(args.agent)}
    values: Tree = {}

    def put(path: str, value: Any) -> None:
        if value is None:
            return
        node = values
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value

    put("addresses.http", args.host)
    put("ports.http", args.port)
    put("node_name", args.node)
    put("datacenter", args.datacenter)
    put("server", args.server)
    put("fake.buffer_size", args.buffer_size)
    put("fake.seed", args.seed)
    put("fake.dev_mode", args.dev)
    if args.acl is not None:
        put("acl.enabled", args.acl != "off")
        if args.acl != "off":
            put("acl.default_policy", args.acl)
    put("acl.tokens.initial_management", args.management_token)
    put("acl.tokens.default", args.default_token)
    if args.token:
        put("fake.tokens", dict(args.token))
    put("fake.clock", args.clock)
    put("fake.strict", args.strict)
    put("limits.http_max_conns_per_client", args.http_max_conns_per_client)
    put("fake.history_limit", args.history_limit)
    put("fake.gossip.unordered", args.unordered)
    put("fake.gossip.delay", args.delay)
    put("fake.gossip.loss", args.loss)
    put("fake.gossip.duplicate", args.duplicate)
    put("fake.gossip.manual", args.manual)
    put("fake.gossip.flush_after", args.flush_after)
    return lists, values
