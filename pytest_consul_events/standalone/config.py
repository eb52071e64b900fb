"""Consul's agent configuration files for the standalone agent: ``--config-file``, ``--hcl``.

A source is read as Consul's ``FileSource.Parse`` reads it (agent/config/config.go): JSON with
``encoding/json``, HCL with hashicorp/hcl v1's ``hcl.Decode`` into ``map[string]interface{}``
(blocks become lists of maps, repeated blocks append), then decoded by mapstructure with the
``HookWeakDecodeFromSlice`` hook (a list of one element stands for that element) and keys
matched exactly or, failing that, case-insensitively. What Consul spells is spelled as Consul
does (:data:`TOP`); what only the fake has lives in the ``fake`` block (:data:`FAKE`).

Every source becomes a *settings tree*: plain dicts keyed by Consul's names, values checked and
normalised, services as lists of dicts, the agents of a datacenter as the option mappings
:class:`~pytest_consul_events.cluster.FakeConsulCluster` takes. Trees are merged in order with
Consul's rule (agent/config/merge.go): later scalars win, lists are concatenated, maps
overlaid. :mod:`pytest_consul_events.standalone.plan` turns the merged tree into agents.

Errors are one line, naming the source and the key: Consul's ``failed to parse <source>:
invalid config key <key>`` for an unknown key, mapstructure's ``'<key>' expected type ...``
for a value of the wrong type, and ``<key> = <value>: <why>`` for a value the fake refuses.
Keys Consul knows that change nothing for events (``data_dir``, ``log_level``...) are accepted
with a warning (:data:`IGNORED`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pytest_consul_events import messages
from pytest_consul_events.errors import ConsulError
from pytest_consul_events.gocompat import hcl
from pytest_consul_events.gocompat.jsondecode import GoJSONError, decode_first_value
from pytest_consul_events.model.acl import parse_rules
from pytest_consul_events.model.agent import AgentConfig
from pytest_consul_events.model.gossip import GossipSettings

Tree = dict[str, Any]

IGNORED_KEY_WARNING = "{source}: ignoring {key}, a Consul setting the fake does not use"
"""The warning for a key of :data:`IGNORED` (the fake's own text)."""


class ConfigError(Exception):
    """A configuration the fake cannot start from; ``str()`` is the one-line message."""


@dataclasses.dataclass
class Source:
    """One configuration source: a file's path (or ``flags-N.hcl``), its format and text."""

    name: str
    format: str
    data: str


# -- reading sources -------------------------------------------------------------------------------


def format_from_extension(path: str) -> str:
    """``formatFromFileExtension``: ``json``, ``hcl`` or ``""``."""
    if path.endswith(".json"):
        return "json"
    if path.endswith(".hcl"):
        return "hcl"
    return ""


def sources_from_path(path: str, config_format: str = "") -> tuple[list[Source], list[str]]:
    """The sources of ``--config-file PATH`` as Consul's ``sourcesFromPath`` reads them: a
    file, or every ``.hcl``/``.json`` file of a directory (not its subdirectories) in name
    order. Returns the sources and warnings (files of a directory that were skipped).

    Raises:
        ConfigError: the path cannot be read, or a file has another extension and no
            ``--config-format`` is given.
    """
    try:
        is_dir = os.path.isdir(path)
        if not is_dir:
            with open(path, "rb"):
                pass
    except OSError as exc:
        message = messages.CONFIG_OPEN_FAILED.format(path=path, error=_os_error(exc))
        raise ConfigError(message) from None
    if not is_dir:
        if not config_format and not format_from_extension(path):
            raise ConfigError(messages.CONFIG_UNKNOWN_EXTENSION.format(path=path))
        return [_read(path, config_format)], []
    sources: list[Source] = []
    warnings: list[str] = []
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        message = messages.CONFIG_READDIR_FAILED.format(path=path, error=_os_error(exc))
        raise ConfigError(message) from None
    for name in names:
        file_path = os.path.join(path, name)
        if os.path.isdir(file_path):
            continue
        if not config_format and not format_from_extension(file_path):
            warnings.append(messages.CONFIG_SKIPPING_FILE.format(path=file_path))
            continue
        sources.append(_read(file_path, config_format))
    return sources, warnings


def _os_error(exc: OSError) -> str:
    """Go's ``*PathError`` text for the common cases (``open x: no such file or directory``)."""
    reason = (exc.strerror or str(exc)).lower()
    return f"open {exc.filename}: {reason}" if exc.filename else reason


def _read(path: str, config_format: str) -> Source:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as file:
            data = file.read()
    except OSError as exc:
        message = messages.CONFIG_READ_FAILED.format(path=path, error=_os_error(exc))
        raise ConfigError(message) from None
    return Source(path, config_format or format_from_extension(path), data)


def hcl_sources(fragments: Iterable[str]) -> list[Source]:
    """``-hcl`` fragments, named ``flags-0.hcl``, ``flags-1.hcl``... as Consul names them."""
    return [Source(f"flags-{i}.hcl", "hcl", text) for i, text in enumerate(fragments)]


# -- raw decoding: JSON, and HCL v1 into map[string]interface{} ------------------------------------


class Blocks(list[Any]):
    """``[]map[string]interface{}``: the maps of HCL blocks (``acl { ... }``), one per block."""


def _raw(source: Source) -> dict[str, Any]:
    """``json.Unmarshal`` or ``hcl.Decode`` of the source into ``map[string]interface{}``.

    Raises:
        ConfigError: the text does not parse, with the parser's (Go) message.
    """
    if source.format == "json":
        raw = source.data.encode("utf-8", "surrogateescape")
        try:
            value = decode_first_value(raw)
        except GoJSONError as exc:
            raise _source_error(source, str(exc)) from None
        text = raw.decode("utf-8", "replace")
        start = len(text) - len(text.lstrip(" \t\r\n"))
        _, consumed = json.JSONDecoder().raw_decode(text, start)
        rest = text[consumed:].lstrip(" \t\r\n")
        if rest:
            # encoding/json's Unmarshal refuses anything after the value (Decoder would not).
            raise _source_error(source, f"invalid character '{rest[0]}' after top-level value")
        if value is None:
            return {}
        if not isinstance(value, dict):
            kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
            message = (
                f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            )
            raise _source_error(source, message)
        return value
    if source.format == "hcl":
        try:
            root = hcl.decode(source.data)
            return _hcl_map(root.items)
        except hcl.HCLError as exc:
            raise _source_error(source, exc.message) from None
    raise _source_error(source, messages.CONFIG_INVALID_FORMAT.format(format=source.format))


def _source_error(source: Source, message: str) -> ConfigError:
    return ConfigError(messages.CONFIG_PARSE_FAILED.format(source=source.name, error=message))


def _hcl_map(items: list[hcl.ObjectItem]) -> dict[str, Any]:
    """hcl's ``decodeMap`` into ``map[string]interface{}``: a key's blocks append, its other
    values are replaced by the last one."""
    out: dict[str, Any] = {}
    done: set[str] = set()
    for item in items:
        if item.val is None:
            continue
        if not item.keys:
            raise hcl.HCLError("map must have string keys")
        key = hcl.token_value(item.keys[0].token)
        if key in done:
            continue
        node: Any = item.val
        if len(item.keys) > 1:
            # A labelled block (``agent "web" { }``): every item of that key, labels shifted.
            node = hcl.ObjectList(
                [
                    hcl.ObjectItem(keys=other.keys[1:], val=other.val)
                    for other in items
                    if other.keys and _fold_equal(hcl.token_value(other.keys[0].token), key)
                ]
            )
            done.add(key)
        out[key] = _hcl_value(node, out.get(key), in_list=False)
    return out


def _fold_equal(a: str, b: str) -> bool:
    return a == b or a.lower() == b.lower()


def _hcl_value(node: Any, old: Any, *, in_list: bool) -> Any:
    """hcl's ``decodeInterface``: objects are maps inside a list, lists of maps elsewhere."""
    if isinstance(node, hcl.ObjectType | hcl.ObjectList):
        items = node.list.items if isinstance(node, hcl.ObjectType) else node.items
        if in_list:
            return _hcl_map(items)
        # A key seen before holding a list: hcl's decodeSlice appends to it.
        blocks = old if isinstance(old, list) else Blocks()
        if isinstance(node, hcl.ObjectType):
            blocks.append(_hcl_map(items))
        else:
            blocks.extend(_hcl_map([item]) for item in items)
        return blocks
    if isinstance(node, hcl.ListType):
        values = old if isinstance(old, list) else []
        values.extend(_hcl_value(element, None, in_list=True) for element in node.elems)
        return values
    if isinstance(node, hcl.LiteralType):
        return _hcl_literal(node.token)
    raise hcl.HCLError(f"cannot decode into interface: {type(node).__name__}")


def _hcl_literal(token: hcl.Token) -> Any:
    text = token.text
    if token.type == "BOOL":
        return text == "true"
    if token.type == "NUMBER":
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        if digits[:2].lower() == "0x":
            return int(sign + digits[2:], 16)
        if len(digits) > 1 and digits.startswith("0"):
            return int(sign + digits[1:], 8)
        return int(text)
    if token.type == "FLOAT":
        return float(text)
    return hcl.token_value(token)


# -- the schema ------------------------------------------------------------------------------------

Check = Callable[[Any], None]


@dataclasses.dataclass(frozen=True)
class Field:
    """One key: its kind, its nested schema, and a check raising TypeError/ValueError."""

    kind: str  # "string" | "int" | "bool" | "number" | "numbers" | "strings" | "strmap" |
    # "struct" | "structs"
    schema: Schema | None = None
    check: Check | None = None
    item_check: Check | None = None  # for a "strmap": each value, named key[name]


@dataclasses.dataclass(frozen=True)
class Schema:
    """The keys of one struct, those accepted and ignored, and those deprecated."""

    fields: Mapping[str, Field]
    ignored: frozenset[str] = frozenset()


def _option_check(option: str) -> Check:
    """Validate a value as the agent option ``option`` would be (the Python API's message)."""

    # The token options mean something only with ACLs on (AgentConfig refuses them otherwise):
    # a value is checked as it would be with ACLs on; whether they are is known once merged.
    context = {"acl": "allow"} if option in ("management_token", "default_token") else {}

    def check(value: Any) -> None:
        AgentConfig.build(**{option: value, **context})

    return check


def _gossip_check(option: str) -> Check:
    def check(value: Any) -> None:
        GossipSettings(**{option: value})

    return check


def _choice(*choices: str) -> Check:
    def check(value: Any) -> None:
        if value not in choices:
            quoted = " or ".join(repr(choice) for choice in choices)
            raise ValueError(f"must be {quoted}")

    return check


def _rules_check(rules: Any) -> None:
    """ACL rules as a token of the ``tokens`` option gets them (Consul's parse errors)."""
    parse_rules(rules)


def _port_check(value: Any) -> None:
    if not 0 <= value <= 65535:
        raise ValueError("a port is between 0 (any free port) and 65535")


def _probability(option: str) -> Check:
    return _gossip_check(option)


def _non_negative(value: Any) -> None:
    if value < 0:
        raise ValueError("must not be negative")


def _delay_check(value: Any) -> None:
    if len(value) != 2:
        raise ValueError("delay is [low, high], in seconds")
    GossipSettings(delay=(value[0], value[1]))


SERVICE = Schema(
    {
        "id": Field("string"),
        "name": Field("string", check=_option_check("node_name")),
        "tags": Field("strings"),
        "port": Field("int"),
        "address": Field("string"),
        "meta": Field("strmap"),
    },
    ignored=frozenset(
        {
            "kind",
            "tagged_addresses",
            "socket_path",
            "check",
            "checks",
            "token",
            "weights",
            "enable_tag_override",
            "proxy",
            "connect",
            "namespace",
            "partition",
            "locality",
        }
    ),
)
"""A service definition (``service``/``services``): Consul's ``ServiceDefinition`` keys; the
fake keeps what event filters use and ignores the rest."""

TOKENS = Schema(
    {
        "initial_management": Field("string", check=_option_check("management_token")),
        "default": Field("string"),
        "master": Field("string", check=_option_check("management_token")),
    },
    ignored=frozenset(
        {
            "agent",
            "agent_recovery",
            "agent_master",
            "replication",
            "config_file_service_registration",
        }
    ),
)
ACL = Schema(
    {
        "enabled": Field("bool"),
        "default_policy": Field("string", check=_choice("allow", "deny")),
        "tokens": Field("struct", TOKENS),
    },
    ignored=frozenset(
        {
            "down_policy",
            "enable_token_persistence",
            "enable_token_replication",
            "enable_key_list_policy",
            "token_ttl",
            "policy_ttl",
            "role_ttl",
        }
    ),
)
LIMITS = Schema(
    {"http_max_conns_per_client": Field("int", check=_option_check("http_max_conns_per_client"))},
    ignored=frozenset(
        {
            "https_handshake_timeout",
            "request_limits",
            "rpc_client_timeout",
            "rpc_handshake_timeout",
            "rpc_max_burst",
            "rpc_max_conns_per_client",
            "rpc_rate",
            "kv_max_value_size",
            "txn_max_req_len",
        }
    ),
)
PORTS = Schema(
    {"http": Field("int", check=_port_check)},
    ignored=frozenset(
        {
            "dns",
            "https",
            "grpc",
            "grpc_tls",
            "serf_lan",
            "serf_wan",
            "server",
            "sidecar_min_port",
            "sidecar_max_port",
            "expose_min_port",
            "expose_max_port",
        }
    ),
)
ADDRESSES = Schema(
    {"http": Field("string")}, ignored=frozenset({"dns", "https", "grpc", "grpc_tls"})
)
GOSSIP = Schema(
    {
        "unordered": Field("bool"),
        "delay": Field("numbers", check=_delay_check),
        "loss": Field("number", check=_probability("loss")),
        "duplicate": Field("number", check=_probability("duplicate")),
        "manual": Field("bool"),
        "flush_after": Field("number", check=_gossip_check("flush_after")),
    }
)
"""``fake { gossip { ... } }``: the ``consul_cluster`` marker's delivery options."""

AGENT = Schema(
    {
        "node_name": Field("string", check=_option_check("node_name")),
        "datacenter": Field("string", check=_option_check("datacenter")),
        "server": Field("bool"),
        "service": Field("struct", SERVICE),
        "services": Field("structs", SERVICE),
        "ports": Field("struct", PORTS),
        "limits": Field("struct", LIMITS),
        "buffer_size": Field("int", check=_option_check("buffer_size")),
        "history_limit": Field("int", check=_option_check("history_limit")),
        "strict": Field("bool"),
    }
)
"""One agent of ``fake { agents = [...] }``: the Consul keys that differ between agents, and
the fake's own per-agent settings."""

FAKE = Schema(
    {
        "seed": Field("int", check=_option_check("seed")),
        "buffer_size": Field("int", check=_option_check("buffer_size")),
        "history_limit": Field("int", check=_option_check("history_limit")),
        "dev_mode": Field("bool"),
        "clock": Field("string", check=_choice("real", "manual")),
        "strict": Field("bool"),
        "tokens": Field("strmap", item_check=_rules_check),
        "gossip": Field("struct", GOSSIP),
        "agents": Field("structs", AGENT),
    }
)
"""The ``fake`` block: what only the fake has."""

TOP = Schema(
    {
        "node_name": Field("string", check=_option_check("node_name")),
        "datacenter": Field("string", check=_option_check("datacenter")),
        "server": Field("bool"),
        "service": Field("struct", SERVICE),
        "services": Field("structs", SERVICE),
        "acl": Field("struct", ACL),
        "limits": Field("struct", LIMITS),
        "ports": Field("struct", PORTS),
        "addresses": Field("struct", ADDRESSES),
        "client_addr": Field("string"),
        # deprecated spellings Consul still reads (agent/config/deprecated.go)
        "acl_master_token": Field("string", check=_option_check("management_token")),
        "acl_token": Field("string"),
        "acl_default_policy": Field("string", check=_choice("allow", "deny")),
        "fake": Field("struct", FAKE),
    },
    ignored=frozenset(
        {
            "data_dir",
            "log_level",
            "log_json",
            "log_file",
            "bind_addr",
            "advertise_addr",
            "bootstrap",
            "bootstrap_expect",
            "retry_join",
            "ui",
            "ui_config",
            "enable_debug",
            "disable_update_check",
            "leave_on_terminate",
            "skip_leave_on_interrupt",
            "encrypt",
            "primary_datacenter",
            "node_meta",
            "enable_script_checks",
            "enable_local_script_checks",
            "disable_remote_exec",
            "connect",
            "telemetry",
            "performance",
            "domain",
            "recursors",
        }
    ),
)
"""The top level of an agent configuration file."""

DEPRECATED = {
    # old key -> (new key path), with Consul's warning (agent/config/deprecated.go)
    ("acl", "tokens", "master"): ("acl", "tokens", "initial_management"),
    ("acl_master_token",): ("acl", "tokens", "initial_management"),
    ("acl_token",): ("acl", "tokens", "default"),
    ("acl_default_policy",): ("acl", "default_policy"),
}


def _schema_keys(schema: Schema) -> set[str]:
    return set(schema.fields) | set(schema.ignored)


def _all_ignored(schema: Schema, prefix: str = "") -> list[str]:
    """Every ignored key path of a schema, for the README and tests."""
    keys = [prefix + name for name in sorted(schema.ignored)]
    for name, field in schema.fields.items():
        if field.schema is not None and field.kind == "struct":
            keys.extend(_all_ignored(field.schema, f"{prefix}{name}."))
    return keys


IGNORED = tuple(_all_ignored(TOP))
"""Consul keys accepted and ignored (with a warning): they change nothing for events."""


# -- decoding with mapstructure's rules ------------------------------------------------------------


@dataclasses.dataclass
class _Context:
    source: Source
    unknown: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def type_error(self, path: str, expected: str, value: Any) -> ConfigError:
        message = messages.MAPSTRUCTURE_UNCONVERTIBLE.format(
            name=path, expected=expected, got=self.go_type(value), value=_go_v(value)
        )
        return _source_error(self.source, message)

    def go_type(self, value: Any) -> str:
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "float64" if self.source.format == "json" else "int"
        if isinstance(value, float):
            return "float64"
        if isinstance(value, str):
            return "string"
        if isinstance(value, Blocks):
            return "[]map[string]interface {}"
        if isinstance(value, list):
            return "[]interface {}"
        return "map[string]interface {}"

    def value_error(self, path: str, value: Any, exc: Exception) -> ConfigError:
        return _source_error(self.source, f"{path} = {_render(value)}: {exc}")


def _render(value: Any) -> str:
    """A value as the error shows it (JSON, which is valid HCL for scalars)."""
    return json.dumps(value)


def _go_v(value: Any) -> str:
    """Go's ``%v`` of a decoded value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_v(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _unslice(value: Any) -> Any:
    """``HookWeakDecodeFromSlice``: a list of one element stands for that element."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _kind_name(value: Any) -> str:
    """reflect's ``Kind`` name of a decoded value (mapstructure's ``got '%s'``)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "slice"
    return "map"


def _match_keys(raw: Mapping[str, Any], names: Iterable[str]) -> dict[str, str]:
    """Which raw key feeds each name: the exact key, else a case-insensitive one
    (mapstructure's ``strings.EqualFold`` fallback)."""
    matched: dict[str, str] = {}
    used: set[str] = set()
    names = list(names)
    for name in names:
        if name in raw:
            matched[name] = name
            used.add(name)
    for name in names:
        if name in matched:
            continue
        for key in raw:
            if key not in used and key.lower() == name:
                matched[name] = key
                used.add(key)
                break
    return matched


def _decode_struct(value: Any, schema: Schema, path: str, ctx: _Context) -> Tree:
    value = _unslice(value)
    if value is None:
        return {}
    if not isinstance(value, dict):
        message = messages.MAPSTRUCTURE_EXPECTED_MAP.format(name=path, got=_kind_name(value))
        raise _source_error(ctx.source, message)
    names = {key: name for name, key in _match_keys(value, _schema_keys(schema)).items()}
    out: Tree = {}
    for key, item in value.items():  # in the source's order
        name = names.get(key)
        if name is None:
            ctx.unknown.append(f"{path}.{key}" if path else key)
            continue
        child = f"{path}.{name}" if path else name
        if name in schema.fields:
            out[name] = _decode(item, schema.fields[name], child, ctx)
        else:
            ctx.warnings.append(IGNORED_KEY_WARNING.format(source=ctx.source.name, key=child))
    return out


def _decode(value: Any, field: Field, path: str, ctx: _Context) -> Any:
    kind = field.kind
    if kind == "struct":
        assert field.schema is not None
        result: Any = _decode_struct(value, field.schema, path, ctx)
    elif kind == "structs":
        assert field.schema is not None
        items = _list(value, path, ctx)
        result = [
            _decode_struct(item, field.schema, f"{path}[{i}]", ctx) for i, item in enumerate(items)
        ]
    elif kind == "strings":
        items = _list(value, path, ctx)
        result = [_scalar(item, "string", f"{path}[{i}]", ctx) for i, item in enumerate(items)]
    elif kind == "numbers":
        items = _list(value, path, ctx)
        result = tuple(_scalar(item, "number", f"{path}[{i}]", ctx) for i, item in enumerate(items))
    elif kind == "strmap":
        mapping = _unslice(value)
        if not isinstance(mapping, dict):
            message = messages.MAPSTRUCTURE_EXPECTED_MAP.format(name=path, got=_kind_name(mapping))
            raise _source_error(ctx.source, message)
        result = {}
        for key, item in mapping.items():
            value = _scalar(item, "string", f"{path}[{key}]", ctx)
            if field.item_check is not None:
                _run_check(field.item_check, value, f"{path}[{key}]", ctx)
            result[key] = value
    else:
        result = _scalar(value, kind, path, ctx)
    if field.check is not None:
        _run_check(field.check, result, path, ctx)
    return result


def _run_check(check: Check, value: Any, path: str, ctx: _Context) -> None:
    try:
        check(value)
    except (TypeError, ValueError, ConsulError) as exc:
        shown = list(value) if isinstance(value, tuple) else value
        raise ctx.value_error(path, shown, exc) from None


def _list(value: Any, path: str, ctx: _Context) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        message = messages.MAPSTRUCTURE_EXPECTED_SLICE.format(name=path, got=_kind_name(value))
        raise _source_error(ctx.source, message)
    return list(value)


def _scalar(value: Any, kind: str, path: str, ctx: _Context) -> Any:
    value = _unslice(value)
    if kind == "string":
        if isinstance(value, str):
            return value
        raise ctx.type_error(path, "string", value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ctx.type_error(path, "bool", value)
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ctx.type_error(path, "int", value)
    # a number: int or float
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ctx.type_error(path, "float64", value)


# -- from a source to a settings tree --------------------------------------------------------------


def parse(source: Source) -> tuple[Tree, list[str]]:
    """One source as a settings tree, and its warnings (ignored and deprecated keys).

    ``service`` is appended to ``services``, as Consul's builder does per source; the
    deprecated spellings fill their new keys unless those are set in the same source.

    Raises:
        ConfigError: a syntax error, an unknown key, or a bad value, naming the source.
    """
    ctx = _Context(source)
    tree = _decode_struct(_raw(source), TOP, "", ctx)
    if ctx.unknown:
        errors = "; ".join(messages.CONFIG_INVALID_KEY.format(key=key) for key in ctx.unknown)
        raise _source_error(source, errors)
    _apply_deprecated(tree, ctx.warnings)
    _check_services(tree, "", ctx)
    _collect_services(tree)
    fake = tree.get("fake")
    if fake and "agents" in fake:
        fake["agents"] = [_agent_spec(agent, i, ctx) for i, agent in enumerate(fake["agents"])]
    return tree, ctx.warnings


def _apply_deprecated(tree: Tree, warnings: list[str]) -> None:
    for old, new in DEPRECATED.items():
        value = _get(tree, old)
        if value is None:
            continue
        _delete(tree, old)
        if _get(tree, new) is None:
            _set(tree, new, value)
        warnings.append(
            messages.CONFIG_DEPRECATED_FIELD.format(old=".".join(old), new=".".join(new))
        )


def _get(tree: Tree, path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _set(tree: Tree, path: tuple[str, ...], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _delete(tree: Tree, path: tuple[str, ...]) -> None:
    node = _get(tree, path[:-1]) if len(path) > 1 else tree
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _check_services(tree: Tree, prefix: str, ctx: _Context) -> None:
    """Every service has a name (``coerce_service``'s rule), said with the key of the one
    that has none."""
    located = [("service", tree["service"])] if "service" in tree else []
    located += [(f"services[{i}]", s) for i, s in enumerate(tree.get("services", []))]
    for key, service in located:
        if not service.get("name"):
            raise _source_error(ctx.source, f"{prefix}{key}: a service needs a name")


def _collect_services(tree: Tree) -> None:
    if "service" in tree:
        tree["services"] = [*tree.get("services", []), tree.pop("service")]


def _agent_spec(agent: Tree, index: int, ctx: _Context) -> dict[str, Any]:
    """An entry of ``fake.agents`` as the option mapping ``FakeConsulCluster`` takes."""
    if "node_name" not in agent:
        where = f"fake.agents[{index}]: " if ctx.source.name.endswith((".hcl", ".json")) else ""
        raise _source_error(ctx.source, f"{where}an agent needs a node_name")
    where = f"fake.agents[{index}]." if ctx.source.name.endswith((".hcl", ".json")) else ""
    _check_services(agent, where, ctx)
    _collect_services(agent)
    spec: dict[str, Any] = {"node_name": agent["node_name"]}
    for key in ("datacenter", "server", "services", "buffer_size", "history_limit", "strict"):
        if key in agent:
            spec[key] = agent[key]
    if "http" in agent.get("ports", {}):
        spec["port"] = agent["ports"]["http"]
    limit = agent.get("limits", {}).get("http_max_conns_per_client")
    if limit is not None:
        spec["http_max_conns_per_client"] = limit
    return spec


def merge(*trees: Tree) -> Tree:
    """Merge settings trees in order as Consul's ``Merge``: later scalars win, lists are
    concatenated, maps overlaid key by key (tuples, such as ``gossip.delay``, are scalars)."""
    result: Tree = {}
    for tree in trees:
        _merge_into(result, tree)
    return result


def _merge_into(target: Tree, tree: Mapping[str, Any]) -> None:
    for key, value in tree.items():
        old = target.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            _merge_into(old, value)
        elif isinstance(value, dict):
            target[key] = {}
            _merge_into(target[key], value)
        elif isinstance(value, list) and isinstance(old, list):
            target[key] = [*old, *value]
        elif isinstance(value, list):
            target[key] = list(value)
        else:
            target[key] = value


def parse_fragment(text: str, name: str, schema: Schema) -> Tree:
    """A JSON object given on the command line (``--service {...}``, ``--agent {...}``),
    decoded with ``schema`` as a config file's entry would be.

    Raises:
        ConfigError: ``<name>: <problem>`` for bad JSON, an unknown key or a bad value.
    """
    ctx = _Context(Source(name, "json", text))
    tree = _decode_struct(_raw(ctx.source), schema, "", ctx)
    if ctx.unknown:
        errors = "; ".join(messages.CONFIG_INVALID_KEY.format(key=key) for key in ctx.unknown)
        raise _source_error(ctx.source, errors)
    if schema is AGENT:
        return _agent_spec(tree, 0, ctx)
    if schema is SERVICE and not tree.get("name"):
        raise _source_error(ctx.source, "a service needs a name")
    return tree


def check_value(path: str, value: Any) -> Any:
    """Check a command-line value as the config key ``path`` (``fake.buffer_size``...).

    Raises:
        TypeError, ValueError, ConsulError: the value is refused, with the check's message.
    """
    schema = TOP
    parts = path.split(".")
    for part in parts[:-1]:
        field = schema.fields[part]
        assert field.schema is not None
        schema = field.schema
    field = schema.fields[parts[-1]]
    if field.check is not None:
        field.check(list(value) if isinstance(value, tuple) else value)
    if field.item_check is not None:
        for item in value.values():
            field.item_check(item)
    return value


__all__ = [
    "AGENT",
    "IGNORED",
    "SERVICE",
    "ConfigError",
    "Source",
    "check_value",
    "hcl_sources",
    "merge",
    "parse",
    "parse_fragment",
    "sources_from_path",
]
