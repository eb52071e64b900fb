"""Where the fixtures' settings come from, and which wins.

For every option of the ``consul_agent`` and ``consul_cluster`` markers, the first of these that
sets it wins:

1. the marker on the test function, then on its class, then on its module (closest first);
2. the command line (``--consul-seed``, ``--consul-strict``);
3. the suite's defaults fixture (``consul_agent_defaults`` / ``consul_cluster_defaults``),
   which any ``conftest.py`` may override for the tests below it;
4. the ini option ``consul_<option>`` (simple values only: strings, numbers, booleans);
5. the built-in default.

Where the session agent listens is the ``consul_listen_address`` fixture; its built-in version
takes ``--consul-host``/``--consul-port``, then ``PYTEST_CONSUL_EVENTS_HOST``/``_PORT``, then the
``consul_host``/``consul_port`` ini options, then 127.0.0.1 and a free port.

The plugin module registers the options and hands their raw values here; this module, loaded
when a fixture is first used (or when some option is set), parses and validates them. Bad
command-line, environment or ini values are :class:`pytest.UsageError`\\ s naming the option;
bad marker or defaults-fixture values are :class:`OptionError`\\ s naming where they came from.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_consul_events.errors import ConsulError
from pytest_consul_events.model.clock import make_clock
from pytest_consul_events.plugin import CLUSTER_MARKER, HOST_ENV, PORT_ENV, STRICT_MARKER
from pytest_consul_events.plugin import MARKER as AGENT_MARKER

if TYPE_CHECKING:
    from pytest_consul_events.fake import FakeConsulAgent
    from pytest_consul_events.model.agent import AgentConfig
    from pytest_consul_events.model.clock import ManualClock

AGENT_DEFAULTS_FIXTURE = "consul_agent_defaults"
ACL_ONLY_OPTIONS = ("tokens", "management_token", "default_token")
"""Options that mean something only with ACLs on."""
CLUSTER_DEFAULTS_FIXTURE = "consul_cluster_defaults"

DEFAULT_HOST = "127.0.0.1"

_TRUE = frozenset(("y", "yes", "t", "true", "on", "1"))
_FALSE = frozenset(("n", "no", "f", "false", "off", "0"))
"""The spellings pytest accepts for a boolean ini value."""


class OptionError(Exception):
    """A marker or defaults fixture gave an option a value the fake refuses.

    ``str()`` is one line naming where the value came from, the option and the value.
    """


# -- parsing ini and environment values ---------------------------------------------------------


def _as_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"must be true or false, not {text!r}")


def _as_int(text: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise ValueError(f"must be an integer, not {text!r}") from None


def _as_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {text!r}")
    return value


def _as_pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"must be two numbers LOW,HIGH (seconds), not {text!r}")
    low, high = (_as_float(part) for part in parts)
    return low, high


def _as_str(text: str) -> str:
    return text.strip()


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, not {text!r}")
        return value

    return parse


AGENT = frozenset(("agent",))
CLUSTER = frozenset(("cluster",))
BOTH = AGENT | CLUSTER


@dataclasses.dataclass(frozen=True)
class IniOption:
    """An ini option ``consul_<option>``: the default of the marker option ``<option>`` (its
    help text is the plugin's, which registers it)."""

    option: str
    parse: Callable[[str], Any]
    fixtures: frozenset[str]

    @property
    def name(self) -> str:
        """The ini name."""
        return f"consul_{self.option}"


INI_OPTIONS: tuple[IniOption, ...] = (
    IniOption("seed", _as_int, BOTH),
    IniOption("strict", _as_bool, AGENT),
    IniOption("clock", _choice("real", "manual"), BOTH),
    IniOption("node_name", _as_str, AGENT),
    IniOption("datacenter", _as_str, AGENT),
    IniOption("server", _as_bool, AGENT),
    IniOption("buffer_size", _as_int, AGENT),
    IniOption("dev_mode", _as_bool, BOTH),
    IniOption("acl", _choice("allow", "deny"), BOTH),
    IniOption("management_token", _as_str, BOTH),
    IniOption("default_token", _as_str, BOTH),
    IniOption("http_max_conns_per_client", _as_int, AGENT),
    IniOption("history_limit", _as_int, AGENT),
    IniOption("unordered", _as_bool, CLUSTER),
    IniOption("delay", _as_pair, CLUSTER),
    IniOption("loss", _as_float, CLUSTER),
    IniOption("duplicate", _as_float, CLUSTER),
    IniOption("manual", _as_bool, CLUSTER),
    IniOption("flush_after", _as_float, CLUSTER),
)


def _parse_port(text: str) -> int:
    port = _as_int(text)
    if not 0 <= port <= 65535:
        raise ValueError(f"must be a port number from 0 to 65535, not {text!r}")
    return port


def _usage(source: str, problem: str) -> pytest.UsageError:
    return pytest.UsageError(f"{source} {problem}")


def listen_address(config: pytest.Config) -> tuple[str, int]:
    """The session agent's host and port: command line, then environment, then ini, then
    127.0.0.1 and a free port (0).

    Raises:
        pytest.UsageError: a value is not a host or a port, naming where it came from.
    """
    layers = (  # lowest precedence first
        ("ini option consul_host", config.getini("consul_host"),
         "ini option consul_port", config.getini("consul_port")),
        (f"environment variable {HOST_ENV}", os.environ.get(HOST_ENV),
         f"environment variable {PORT_ENV}", os.environ.get(PORT_ENV)),
        ("command-line option --consul-host", config.getoption("consul_host", None),
         "command-line option --consul-port", config.getoption("consul_port", None)),
    )  # fmt: skip
    host, port = DEFAULT_HOST, 0
    for host_source, raw_host, port_source, raw_port in layers:
        if raw_host:
            host = str(raw_host).strip()
            if not host:
                raise _usage(host_source, "must not be empty")
        if raw_port not in (None, ""):
            try:
                port = _parse_port(str(raw_port))
            except ValueError as exc:
                raise _usage(port_source, str(exc)) from None
    return host, port


def check_listen_address_for_xdist(config: pytest.Config, port: int) -> None:
    """Refuse a fixed port when tests run in several xdist workers.

    Raises:
        pytest.UsageError: the port is fixed and ``-n`` asks for workers.
    """
    workers = getattr(config.option, "numprocesses", None)
    if port and (workers not in (None, 0) or hasattr(config, "workerinput")):
        raise pytest.UsageError(xdist_fixed_port_message(port))


def xdist_fixed_port_message(port: int) -> str:
    """Why a fixed port cannot be used under pytest-xdist."""
    return (
        f"the fake Consul agent cannot listen on the fixed port {port} under pytest-xdist: "
        "each worker serves its own agent and only one can have the port. Use port 0 (a free "
        "port per worker, the default) or run without -n."
    )


@dataclasses.dataclass
class Settings:
    """The suite-wide settings: command line and ini, parsed and checked once per session."""

    cli_seed: int | None = None
    cli_strict: bool | None = None
    ini: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        """Read and check every option of the plugin.

        Raises:
            pytest.UsageError: an ini value is malformed or out of range, naming the option.
        """
        settings = cls(
            cli_seed=config.getoption("consul_seed", None),
            cli_strict=config.getoption("consul_strict", None) or None,
        )
        for option in INI_OPTIONS:
            raw = config.getini(option.name)
            if raw is None or raw == "" or raw == []:
                continue
            try:
                settings.ini[option.option] = option.parse(str(raw))
            except ValueError as exc:
                raise _usage(f"ini option {option.name}", str(exc)) from None
        if settings.ini:
            settings._check_ini()
        return settings

    def _check_ini(self) -> None:
        """Check the ini values as the fixtures will use them, to refuse at once what the fake
        would refuse later (a buffer of no slots, a probability above 1, tokens without ACLs).

        Raises:
            pytest.UsageError: naming the ini option (or options) refused.
        """
        for fixture in ("agent", "cluster"):
            values = self.ini_for(fixture)
            try:
                _check_options(fixture, values)
            except (TypeError, ValueError, ConsulError) as exc:
                alone = [name for name in values if not _accepted(fixture, {name: values[name]})]
                names = ", ".join(f"consul_{name}" for name in alone or values)
                raise _usage(f"ini option {names}", f"is refused: {exc}") from None

    def ini_for(self, fixture: str) -> dict[str, Any]:
        """The ini defaults that apply to ``fixture`` (``"agent"`` or ``"cluster"``)."""
        return {
            option.option: self.ini[option.option]
            for option in INI_OPTIONS
            if option.option in self.ini and fixture in option.fixtures
        }


def _check_options(fixture: str, options: dict[str, Any]) -> None:
    """Validate options as the fixture would, without serving anything.

    Raises:
        TypeError, ValueError: as the fake refuses them.
    """
    from pytest_consul_events.validation import check_bool

    options = dict(options)
    strict = options.pop("strict", None)
    if strict is not None:
        check_bool(strict, "strict")
    if fixture == "agent":
        from pytest_consul_events.model.agent import AgentConfig

        make_clock(options.pop("clock", None))
        AgentConfig.build(**options)
    else:
        from pytest_consul_events.cluster import FakeConsulCluster

        FakeConsulCluster.check_options(**options)


def _default_agent_config() -> AgentConfig:
    from pytest_consul_events.model.agent import AgentConfig

    return AgentConfig()


def _accepted(fixture: str, options: dict[str, Any]) -> bool:
    try:
        _check_options(fixture, options)
    except (TypeError, ValueError, ConsulError):
        return False
    return True


# -- per test -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AgentSetup:
    """What ``consul_agent`` applies before a test: a checked config, the clock and strictness."""

    config: AgentConfig
    clock: str | ManualClock | None
    strict: bool
    source: str
    """Where the options came from, for errors found later (the closest marker, or the
    defaults fixture)."""


def _marker_layers(item: pytest.Item, name: str) -> list[Any]:
    """The ``name`` markers of the item, furthest first (module, class, function)."""
    marks = list(item.iter_markers(name))
    marks.reverse()
    return marks


def agent_marker_options() -> frozenset[str]:
    """Every option ``@pytest.mark.consul_agent`` accepts."""
    from pytest_consul_events.model.agent import AGENT_OPTIONS

    return frozenset((*AGENT_OPTIONS, "clock", "strict"))


def _describe(mark: Any) -> str:
    args = [repr(value) for value in mark.args]
    args.extend(f"{key}={value!r}" for key, value in mark.kwargs.items())
    return f"@pytest.mark.{mark.name}({', '.join(args)})"


class Resolver:
    """Merges the layers for each test, caching the checked result per combination of layers
    (the markers of a module or a parametrized function are shared by many tests)."""

    _CACHE_SIZE = 512

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._agent_ini = settings.ini_for("agent")
        self._cluster_ini = settings.ini_for("cluster")
        self._agent_cache: dict[tuple[int, ...], tuple[AgentSetup, tuple[Any, ...]]] = {}

    def _base(self, ini: dict[str, Any], defaults: object, fixture_name: str) -> dict[str, Any]:
        options = dict(ini)
        if defaults is not None:
            if not isinstance(defaults, Mapping):
                raise OptionError(
                    f"{fixture_name} must return a mapping of options (a dict), not {defaults!r}"
                )
            options.update(defaults)
        if self.settings.cli_seed is not None:
            options["seed"] = self.settings.cli_seed
        return options

    def agent_setup(self, item: pytest.Item, defaults: object) -> AgentSetup:
        """The checked setup of ``consul_agent`` for ``item``.

        Raises:
            OptionError: a marker, the defaults fixture or a combination of them is refused.
        """
        marks: list[Any] = []
        strict_marked = False
        for _, mark in item.iter_markers_with_node():  # one walk up the tree for both markers
            name = mark.name
            if name == AGENT_MARKER:
                marks.append(mark)
            elif name == STRICT_MARKER:
                strict_marked = True
        marks.reverse()  # furthest first: the closest is applied last and wins
        key = (id(defaults), strict_marked, *map(id, marks))
        cached = self._agent_cache.get(key)
        if cached is not None:
            return cached[0]
        setup = self._build_agent_setup(marks, defaults, strict_marked)
        if len(self._agent_cache) >= self._CACHE_SIZE:
            self._agent_cache.clear()
        self._agent_cache[key] = (setup, (defaults, *marks))  # keeps the ids in the key alive
        return setup

    def prepare_agent(
        self, agent: FakeConsulAgent, item: pytest.Item, defaults: object
    ) -> str | None:
        """Clear and configure the session agent for ``item``: its options checked (cached),
        idle connections closed, state and request log reset, clock and strictness set.

        Returns ``None``, or the one-line problem of the options, after which the agent is left
        reset to the defaults.
        """
        try:
            setup = self.agent_setup(item, defaults)
        except OptionError as exc:
            return str(exc)
        agent.server.close_idle_connections()
        try:
            agent.reset(setup.config)
        except Exception as exc:  # tokens the ACL system refuses (a secret used twice...)
            agent.reset(_default_agent_config())
            return f"{setup.source}: {exc}"
        agent.requests.clear()
        agent.clock = make_clock(setup.clock)
        agent.strict = setup.strict
        return None

    def _build_agent_setup(
        self, marks: list[Any], defaults: object, strict_marked: bool
    ) -> AgentSetup:
        from pytest_consul_events.model.agent import AgentConfig

        base = self._base(self._agent_ini, defaults, AGENT_DEFAULTS_FIXTURE)
        options = dict(base)
        layer_of = dict.fromkeys(base, 0)  # which layer set each option: 0 base, then markers
        for layer, mark in enumerate(marks, start=1):
            if mark.args:
                raise OptionError(f"{_describe(mark)}: takes keyword options only")
            options.update(mark.kwargs)
            layer_of.update(dict.fromkeys(mark.kwargs, layer))
        if "acl" in layer_of and options["acl"] is None:
            # A closer acl=None turns ACLs off for the test: the tokens it inherited go too.
            for name in ACL_ONLY_OPTIONS:
                if layer_of.get(name, layer_of["acl"]) < layer_of["acl"]:
                    del options[name]
        if self.settings.cli_strict and not any("strict" in m.kwargs for m in marks):
            options["strict"] = True
        if strict_marked:
            options["strict"] = True
        from pytest_consul_events.validation import check_bool, check_options

        try:
            check_options(options, agent_marker_options())
        except TypeError as exc:
            culprit = next(
                (_describe(m) for m in reversed(marks) if set(m.kwargs) - agent_marker_options()),
                AGENT_DEFAULTS_FIXTURE,
            )
            raise OptionError(f"{culprit}: {exc}") from None
        clock = options.pop("clock", None)
        strict = options.pop("strict", False)
        try:
            check_bool(strict, "strict")
            clock = _checked_clock_spec(clock)
            config = AgentConfig.build(**options)
        except (TypeError, ValueError, ConsulError) as exc:
            raise OptionError(
                f"{self._culprit(marks, base, AGENT_DEFAULTS_FIXTURE, 'agent')}: {exc}"
            ) from None
        source = _describe(marks[-1]) if marks else AGENT_DEFAULTS_FIXTURE
        return AgentSetup(config, clock, strict, source)

    def _culprit(
        self, marks: list[Any], base: dict[str, Any], fixture_name: str, fixture: str
    ) -> str:
        """Name the layer that made the options invalid: the defaults, or the markers."""
        if not _accepted(fixture, base):
            return fixture_name
        for mark in reversed(marks):
            if not _accepted(fixture, {**base, **mark.kwargs}):
                return _describe(mark)
        return _describe(marks[-1]) if marks else fixture_name

    def cluster_options(self, item: pytest.Item, defaults: object) -> dict[str, Any]:
        """The merged options of ``consul_cluster`` for ``item`` (checked by the cluster).

        Raises:
            OptionError: the defaults fixture does not return a mapping, or a marker has
                positional arguments.
        """
        options = self._base(self._cluster_ini, defaults, CLUSTER_DEFAULTS_FIXTURE)
        for mark in _marker_layers(item, CLUSTER_MARKER):
            if mark.args:
                raise OptionError(f"{_describe(mark)}: takes keyword options only")
            options.update(mark.kwargs)
        return options

    def cluster_culprit(self, item: pytest.Item, defaults: object) -> str:
        """Which layer to name when the cluster refused the merged options."""
        base = self._base(self._cluster_ini, defaults, CLUSTER_DEFAULTS_FIXTURE)
        return self._culprit(
            _marker_layers(item, CLUSTER_MARKER), base, CLUSTER_DEFAULTS_FIXTURE, "cluster"
        )


def _checked_clock_spec(value: object) -> str | ManualClock | None:
    """Check a ``clock=`` value without making the clock (a manual one is made per test).

    Raises:
        TypeError, ValueError: as :func:`~pytest_consul_events.model.clock.make_clock` does.
    """
    make_clock(None if value == "manual" else value)
    return value  # type: ignore[return-value]
