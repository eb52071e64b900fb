"""The pytest plugin: command-line and ini options, markers, fixtures and per-test hooks.

Loaded in every pytest run of every project that installs the package, so it imports nothing
heavy: the fake agent, its server, py-consul and even the option parser
(:mod:`pytest_consul_events.configuration`) are imported the first time they are needed.

Per-test cost is kept low on purpose (thousands of tests use these fixtures): ``consul_agent``
depends on no ``request`` (pytest builds a fixture definition for ``request`` at each use,
which costs more than the whole reset of the agent), finds its test through a one-line
``pytest_runtest_setup`` hook, and caches the checked options per combination of markers.
The hooks that only tests using the fixtures need (teardown, strict mode, failure reports) are
registered the first time a fixture is used, so projects that never use them pay nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import consul

    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.configuration import Resolver, Settings
    from pytest_consul_events.consul_cli.fixture import ConsulCLI
    from pytest_consul_events.fake import FakeConsulAgent

MARKER = "consul_agent"
CLUSTER_MARKER = "consul_cluster"
STRICT_MARKER = "consul_strict"
SEED_OPTION = "--consul-seed"
STRICT_OPTION = "--consul-strict"
HOST_OPTION = "--consul-host"
PORT_OPTION = "--consul-port"
HOST_ENV = "PYTEST_CONSUL_EVENTS_HOST"
PORT_ENV = "PYTEST_CONSUL_EVENTS_PORT"

_STATE = pytest.StashKey["_SessionState"]()
_PREVIOUS_ITEM = pytest.StashKey["pytest.Item | None"]()
_REPORTED = pytest.StashKey[list[Any]]()
_ACTIVE = pytest.StashKey["FakeConsulAgent"]()

_current: list[pytest.Item | None] = [None]
"""The test being set up or run, recorded by :func:`pytest_runtest_setup`."""

CONSUL_ENV_CLEARED = (
    "CONSUL_HTTP_TOKEN",
    "CONSUL_HTTP_TOKEN_FILE",
    "CONSUL_HTTP_AUTH",
    "CONSUL_HTTP_SSL",
    "CONSUL_HTTP_SSL_VERIFY",
    "CONSUL_CACERT",
    "CONSUL_CAPATH",
    "CONSUL_CLIENT_CERT",
    "CONSUL_CLIENT_KEY",
    "CONSUL_TLS_SERVER_NAME",
    "CONSUL_GRPC_ADDR",
    "CONSUL_NAMESPACE",
    "CONSUL_PARTITION",
)
"""Variables ``consul_env`` removes, so that nothing points a client at a real cluster."""

# ini options that set marker options: (option, help); configuration.INI_OPTIONS parses them.
_INI_HELP = (
    ("seed", "seed of agents and clusters whose markers set none (like --consul-seed)"),
    ("strict", "true: fail tests that call endpoints the fake lacks (like --consul-strict)"),
    ("clock", "default clock of agents and clusters: real or manual"),
    ("node_name", "default node name of consul_agent"),
    ("datacenter", "default datacenter of consul_agent"),
    ("server", "default server flag of consul_agent (true/false)"),
    ("buffer_size", "default number of events consul_agent keeps"),
    ("dev_mode", "default dev mode (pretty JSON) of agents and clusters"),
    ("acl", "default ACL policy of agents and clusters (allow/deny); unset: ACLs off"),
    ("management_token", "default management token of agents and clusters"),
    ("default_token", "default token of agents and clusters"),
    ("http_max_conns_per_client", "default per-client connection limit of consul_agent"),
    ("history_limit", "default number of requests and fires consul_agent keeps"),
    ("unordered", "default of consul_cluster: deliver in random order (true/false)"),
    ("delay", "default of consul_cluster: LOW,HIGH seconds of latency per delivery"),
    ("loss", "default of consul_cluster: probability that a delivery is lost"),
    ("duplicate", "default of consul_cluster: probability that a delivery arrives twice"),
    ("manual", "default of consul_cluster: deliveries wait for release() (true/false)"),
    ("flush_after", "default of consul_cluster: seconds of quiet before unordered delivery"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("consul-events", "fake Consul agents")
    group.addoption(
        SEED_OPTION,
        dest="consul_seed",
        type=int,
        default=None,
        metavar="SEED",
        help="seed for the fake agents and clusters of tests whose marker sets none "
        "(replays a failure's event IDs and gossip schedule); ini: consul_seed",
    )
    group.addoption(
        STRICT_OPTION,
        dest="consul_strict",
        action="store_true",
        default=None,
        help="fail tests that call Consul endpoints the fake agent does not implement; "
        "ini: consul_strict",
    )
    group.addoption(
        HOST_OPTION,
        dest="consul_host",
        default=None,
        metavar="HOST",
        help=f"address the session's fake agent binds (default 127.0.0.1); env: {HOST_ENV}; "
        "ini: consul_host",
    )
    group.addoption(
        PORT_OPTION,
        dest="consul_port",
        default=None,
        metavar="PORT",
        help=f"port of the session's fake agent (default 0: a free port); env: {PORT_ENV}; "
        "ini: consul_port",
    )
    parser.addini("consul_host", "address the session's fake agent binds (default 127.0.0.1)")
    parser.addini("consul_port", "port of the session's fake agent (default 0: a free port)")
    for option, text in _INI_HELP:
        parser.addini(f"consul_{option}", text)


def _anything_set(config: pytest.Config) -> bool:
    """Whether any option of the plugin was given (so that it must be parsed and checked)."""
    if config.getoption("consul_host", None) or config.getoption("consul_port", None):
        return True
    if os.environ.get(HOST_ENV) or os.environ.get(PORT_ENV):
        return True
    return any(
        config.getini(name)
        for name in ("consul_host", "consul_port", *(f"consul_{o}" for o, _ in _INI_HELP))
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("asyncio"):
        from pytest_consul_events import aio_plugin

        config.pluginmanager.register(aio_plugin, "consul_events_aio")
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): configure the fake agent of the consul_agent fixture for this test "
        "(node_name, datacenter, services, buffer_size, seed, dev_mode, server, acl, "
        "management_token, tokens, default_token, http_max_conns_per_client, history_limit, "
        "clock, strict).",
    )
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}: fail the test if it calls an endpoint the fake agent does not serve.",
    )
    config.addinivalue_line(
        "markers",
        f"{CLUSTER_MARKER}(agents=[...], **options): configure the consul_cluster fixture "
        "(agents, seed, unordered, delay, loss, duplicate, manual, flush_after, clock, acl, "
        "management_token, tokens, default_token, dev_mode).",
    )
    config.stash[_PREVIOUS_ITEM] = _current[0]
    if _anything_set(config):
        # Bad values are usage errors now, before any test runs (and before xdist starts workers).
        from pytest_consul_events import configuration

        config.stash[_STATE] = _SessionState(configuration.Settings.from_config(config))
        _, port = configuration.listen_address(config)
        configuration.check_listen_address_for_xdist(config, port)


def pytest_unconfigure(config: pytest.Config) -> None:
    # An in-process pytester session ends: its tests are no longer the current ones.
    _current[0] = config.stash.get(_PREVIOUS_ITEM, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the test being set up, for fixtures that do not take ``request``."""
    _current[0] = item


def _current_item() -> pytest.Item:
    item = _current[0]
    if item is None:
        raise RuntimeError("the consul fixtures can only be used by tests")
    return item


class _SessionState:
    """The plugin's per-session state: settings, the session agent, the per-test hooks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._resolver: Resolver | None = None
        self.agent: FakeConsulAgent | None = None
        self.hooks_registered = False
        self._overridden: dict[str, bool] = {}

    def defaults(self, item: pytest.Item, fixture: str) -> object:
        """The value of the defaults fixture ``fixture`` for ``item``: none unless a conftest or
        a test module overrides it.

        Not a declared dependency of the fixtures, because pytest charges every test for each
        one: the fixture is looked up, for each test, only in a suite that overrides it.
        """
        overridden = self._overridden.get(fixture)
        if overridden is None:
            overridden = self._overridden[fixture] = _is_overridden(item.session, fixture)
        if not overridden:
            return _NO_DEFAULTS
        return item._request.getfixturevalue(fixture)  # type: ignore[attr-defined]

    @property
    def resolver(self) -> Resolver:
        """Merges each test's options (made on first use)."""
        if self._resolver is None:
            from pytest_consul_events.configuration import Resolver

            self._resolver = Resolver(self.settings)
        return self._resolver


_NO_DEFAULTS: Mapping[str, Any] = {}


def _is_overridden(session: pytest.Session, fixture: str) -> bool:
    """Whether some conftest, module or class defines ``fixture`` again (collection is over,
    so every definition is known). ``True`` when pytest's registry cannot be read."""
    definitions = getattr(getattr(session, "_fixturemanager", None), "_arg2fixturedefs", None)
    if not isinstance(definitions, dict):
        return True
    return len(definitions.get(fixture, ())) > 1


def _state(config: pytest.Config) -> _SessionState:
    """The session state, made (with the per-test hooks registered) on first use."""
    state = config.stash.get(_STATE, None)
    if state is None:
        from pytest_consul_events.configuration import Settings

        state = config.stash[_STATE] = _SessionState(Settings.from_config(config))
    if not state.hooks_registered:
        config.pluginmanager.register(_PerTestHooks(), "consul_events_per_test")
        state.hooks_registered = True
    return state


def _session_agent(item: pytest.Item) -> FakeConsulAgent:
    """The agent server of this session (or xdist worker), started on first use at
    ``consul_listen_address``, and served again if a test stopped it."""
    config = item.config
    state = _state(config)
    agent = state.agent
    if agent is not None and agent.serving:
        return agent
    from pytest_consul_events.fake import FakeConsulAgent

    # Looked up here, once, rather than declared by consul_agent: each declared dependency
    # costs every test a fixture lookup. (pytest-django reaches item._request the same way.)
    address = item._request.getfixturevalue("consul_listen_address")  # type: ignore[attr-defined]
    host, port = _checked_address(address)
    if port and hasattr(config, "workerinput"):
        from pytest_consul_events.configuration import xdist_fixed_port_message

        pytest.fail(xdist_fixed_port_message(port), pytrace=False)
    if agent is not None:
        port = agent.port  # a test stopped the session agent: serve again where it was
    problem = ""
    try:
        started = FakeConsulAgent(host=host, port=port).start()
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        problem = f"the fake Consul agent cannot listen on {host}:{port}: {reason}"
    if problem:
        pytest.fail(problem, pytrace=False)  # outside the except block: no chained traceback
    if state.agent is None:
        config.add_cleanup(lambda: state.agent.stop() if state.agent is not None else None)
    state.agent = started
    return started


def _checked_address(address: object) -> tuple[str, int]:
    if (
        not isinstance(address, tuple)
        or len(address) != 2
        or not isinstance(address[0], str)
        or not isinstance(address[1], int)
        or isinstance(address[1], bool)
        or not 0 <= address[1] <= 65535
    ):
        pytest.fail(
            f"consul_listen_address must return (host, port), a string and a port number, "
            f"not {address!r}",
            pytrace=False,
        )
    return address


class _PerTestHooks:
    """Hooks only tests using the fixtures need; registered when a fixture is first used."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        """End the long polls a test left on the shared agent before other fixtures tear
        down, and close the clients it made with ``consul_agent.client()``."""
        agent = item.stash.get(_ACTIVE, None)
        if agent is not None:
            agent.release_blocked()
            agent.close_clients()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        """In strict mode, fail a test that called an endpoint the fake does not implement:
        on ``consul_agent``, or on an agent of ``consul_cluster`` made with ``strict``."""
        result = yield
        agent = item.stash.get(_ACTIVE, None)
        if agent is not None:
            agent.verify()
        for subject in item.stash.get(_REPORTED, ()):
            if subject is not agent:
                subject.verify()
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        """Add the fake agents' report sections to the report of a failed test that used
        them; a report that cannot be made says why instead of failing the session."""
        report: Any = yield
        subjects = item.stash.get(_REPORTED, None)
        if subjects and report.failed:
            for subject in subjects:
                try:
                    section = subject.failure_report()
                except Exception as exc:
                    section = ("consul", f"(no report: {type(exc).__name__}: {exc})")
                report.sections.append(section)
        return report  # type: ignore[no-any-return]


def _option_error(exc: Exception | str) -> NoReturn:
    """Fail the test's setup with one line, the way pytest reports a usage error."""
    pytest.fail(str(exc), pytrace=False)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def consul_listen_address() -> tuple[str, int]:
    """Session scope: ``(host, port)`` where the session agent listens; override it in a
    ``conftest.py`` to choose (as pytest-httpserver's ``httpserver_listen_address``).

    The built-in version takes ``--consul-host``/``--consul-port``, then the environment
    variables ``PYTEST_CONSUL_EVENTS_HOST``/``PYTEST_CONSUL_EVENTS_PORT``, then the ini options
    ``consul_host``/``consul_port``, then ``("127.0.0.1", 0)``: loopback and a free port. A fixed
    port cannot be used with several xdist workers.
    """
    from pytest_consul_events.configuration import listen_address

    return listen_address(_current_item().config)


@pytest.fixture(scope="session")
def consul_agent_defaults() -> Mapping[str, Any]:
    """Session scope: suite-wide default options of ``consul_agent`` (none here).

    Override it in a ``conftest.py`` to give every test below it the same agent, e.g.
    ``return {"node_name": "web-1", "services": ["web"]}``. Markers and the command line
    override it; it overrides the ini options. Once overridden it is looked up for every test:
    keep it session-scoped and free of ``request``.
    """
    return {}


@pytest.fixture(scope="session")
def consul_cluster_defaults() -> Mapping[str, Any]:
    """Session scope: suite-wide default options of ``consul_cluster`` (none here); override it
    in a ``conftest.py`` as ``consul_agent_defaults``."""
    return {}


@pytest.fixture(scope="session")
def consul_agent_server() -> FakeConsulAgent:
    """Session scope: the one fake agent server of this session (or xdist worker), listening
    at ``consul_listen_address``.

    Prefer ``consul_agent``, which clears it before each test.
    """
    return _session_agent(_current_item())


@pytest.fixture
def consul_agent() -> FakeConsulAgent:
    """Function scope: the fake agent, cleared and configured for this test.

    Returns a :class:`~pytest_consul_events.fake.FakeConsulAgent` served at
    ``consul_listen_address`` (127.0.0.1 and a free port by default), shared by the session.
    Before the test every event, service, fire and logged request is forgotten, the Lamport
    clock restarts, and the options apply: markers (test, class, module), then
    ``--consul-seed``/``--consul-strict``, then ``consul_agent_defaults``, then the ini
    options. ``clock="manual"`` gives the agent a
    :class:`~pytest_consul_events.model.clock.ManualClock` (``agent.clock``). After the test,
    blocked list queries are answered at once, so no long poll outlives it. A bad option fails
    the test's setup with one line naming the marker, the option and the value.
    """
    item = _current_item()
    state = item.config.stash.get(_STATE, None)
    agent = None if state is None else state.agent
    if agent is None or not agent.serving:
        agent = _session_agent(item)
        state = item.config.stash[_STATE]
    assert state is not None
    defaults = state.defaults(item, "consul_agent_defaults")
    problem = state.resolver.prepare_agent(agent, item, defaults)
    if problem is not None:
        _option_error(problem)
    stash = item.stash
    stash[_ACTIVE] = agent
    stash.setdefault(_REPORTED, []).append(agent)
    return agent


@pytest.fixture
def consul_client(consul_agent: FakeConsulAgent) -> consul.Consul:
    """Function scope: a py-consul ``consul.Consul`` bound to ``consul_agent``, closed afterwards.

    It sends no token and ignores ``CONSUL_HTTP_*`` variables. Like every client made by
    ``consul_agent.client()``, it is closed when the test ends.
    """
    return consul_agent.client()


@pytest.fixture
def consul_env(consul_agent: FakeConsulAgent, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Function scope: points ``CONSUL_HTTP_ADDR`` at ``consul_agent`` and clears the rest.

    Every variable of :data:`CONSUL_ENV_CLEARED` (tokens, TLS settings) is removed for the
    test, so code that builds its own client from the environment reaches the fake and only
    the fake. Returns the variables that were set.
    """
    for name in CONSUL_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    values = {"CONSUL_HTTP_ADDR": consul_agent.http_addr}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def consul_cluster() -> Iterator[FakeConsulCluster]:
    """Function scope: a cluster of fake agents joined by simulated gossip, served over HTTP.

    Yields a :class:`~pytest_consul_events.cluster.FakeConsulCluster`; by default three agents
    ``node1`` (the server), ``node2`` and ``node3`` in ``dc1``, with in-order immediate gossip.
    Options come from ``@pytest.mark.consul_cluster(...)`` (test, class, module), then
    ``--consul-seed``, then ``consul_cluster_defaults``, then the ini options. When the test
    fails, its report shows the seed and the delivery timeline.
    """
    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.configuration import OptionError
    from pytest_consul_events.errors import ConsulError

    item = _current_item()
    state = _state(item.config)
    resolver = state.resolver
    defaults = state.defaults(item, "consul_cluster_defaults")
    problem = None
    try:
        cluster = FakeConsulCluster(**resolver.cluster_options(item, defaults))
    except OptionError as exc:
        problem = str(exc)
    except (TypeError, ValueError, ConsulError) as exc:
        problem = f"{resolver.cluster_culprit(item, defaults)}: {exc}"
    if problem is not None:
        _option_error(problem)  # outside the except blocks: one line, no chained traceback
    cluster.start()
    item.stash.setdefault(_REPORTED, []).append(cluster)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def consul_cli(
    request: pytest.FixtureRequest,
    consul_env: dict[str, str],
    consul_agent: FakeConsulAgent,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConsulCLI]:
    """Function scope: a ``consul`` command (``consul event``, ``consul watch -type=event``)
    first on ``PATH``, talking to ``consul_agent``.

    Returns a :class:`~pytest_consul_events.consul_cli.fixture.ConsulCLI`: ``run(*args)``
    runs a command, ``watch(*args)`` starts a watch recording every handler invocation,
    ``use(agent)`` points ``CONSUL_HTTP_ADDR`` at another agent (one of ``consul_cluster``'s).
    Watches, and everything they started, are stopped when the test ends.
    """
    from pytest_consul_events.consul_cli.fixture import consul_cli_fixture

    yield from consul_cli_fixture(request, consul_agent, monkeypatch, tmp_path_factory)
