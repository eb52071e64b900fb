"""The pytest plugin: fixtures, the ``consul_agent`` marker and the ``consul_env`` fixture.

Loaded in every pytest run of every project that installs the package, so it imports nothing
heavy: the fake agent, its server and py-consul are imported the first time a fixture runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import consul

    from pytest_consul_events.cluster import FakeConsulCluster
    from pytest_consul_events.fake import FakeConsulAgent

MARKER = "consul_agent"
CLUSTER_MARKER = "consul_cluster"
SEED_OPTION = "--consul-seed"
STRICT_OPTION = "--consul-strict"
STRICT_MARKER = "consul_strict"
_REPORTED = pytest.StashKey[list[Any]]()
_SESSION_AGENT = pytest.StashKey["FakeConsulAgent"]()
_ACTIVE = pytest.StashKey["FakeConsulAgent"]()
_STRICT = pytest.StashKey[bool]()

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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("consul-events", "fake Consul agents")
    group.addoption(
        SEED_OPTION,
        type=int,
        default=None,
        metavar="SEED",
        help="seed for the fake agents and clusters of tests whose marker sets none "
        "(replays a failure's event IDs and gossip schedule)",
    )
    group.addoption(
        STRICT_OPTION,
        action="store_true",
        default=False,
        help="fail tests that call Consul endpoints the fake agent does not implement",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("asyncio"):
        from pytest_consul_events import aio_plugin

        config.pluginmanager.register(aio_plugin, "consul_events_aio")
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): configure the fake agent of the consul_agent fixture for this test "
        "(node_name, datacenter, services, buffer_size, seed, dev_mode, acl, management_token, "
        "tokens, default_token, server, clock, strict).",
    )
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}: fail the test if it calls an endpoint the fake agent does not serve.",
    )
    config.addinivalue_line(
        "markers",
        f"{CLUSTER_MARKER}(agents=[...], **options): configure the consul_cluster fixture "
        "(agents, seed, unordered, delay, loss, duplicate, manual, flush_after, clock, acl, "
        "management_token, tokens, default_token).",
    )


def _marker_options(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    """The keyword options of every ``name`` marker on the test, the closest winning."""
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(name))):
        if marker.args:
            raise TypeError(f"@pytest.mark.{name} takes keyword options only")
        options.update(marker.kwargs)
    return options


def _report_on_failure(request: pytest.FixtureRequest, subject: Any) -> None:
    request.node.stash.setdefault(_REPORTED, []).append(subject)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Add the fake agents' report sections to the report of a failed test that used them."""
    outcome = yield
    subjects = item.stash.get(_REPORTED, None)
    if subjects:
        report = outcome.get_result()  # type: ignore[attr-defined]
        if report.failed:
            for subject in subjects:
                report.sections.append(subject.failure_report())


def _session_agent(config: pytest.Config) -> FakeConsulAgent:
    """The agent server of this session (or xdist worker), started on first use."""
    agent = config.stash.get(_SESSION_AGENT, None)
    if agent is None:
        from pytest_consul_events.fake import FakeConsulAgent

        agent = FakeConsulAgent().start()
        config.stash[_SESSION_AGENT] = agent
        config.add_cleanup(agent.stop)
    return agent


@pytest.fixture(scope="session")
def consul_agent_server(request: pytest.FixtureRequest) -> FakeConsulAgent:
    """Session scope: the one fake agent server of this session (or xdist worker).

    Prefer ``consul_agent``, which clears it before each test.
    """
    return _session_agent(request.config)


@pytest.fixture
def consul_agent(request: pytest.FixtureRequest) -> FakeConsulAgent:
    """Function scope: the fake agent, cleared and configured for this test.

    Returns a :class:`~pytest_consul_events.fake.FakeConsulAgent` served on 127.0.0.1 at a
    free port, shared by the session. Before the test every event, service, fire and logged
    request is forgotten, the Lamport clock restarts, and the options of
    ``@pytest.mark.consul_agent(...)`` apply (closest marker wins); ``clock="manual"`` gives
    the agent a :class:`~pytest_consul_events.model.clock.ManualClock` (``agent.clock``).
    After the test, blocked list queries are answered at once, so no long poll outlives it.
    """
    agent = _session_agent(request.config)
    options = _marker_options(request, MARKER)
    seed = request.config.getoption(SEED_OPTION)
    if seed is not None:
        options.setdefault("seed", seed)
    clock = options.pop("clock", None)
    strict = options.pop("strict", None)
    agent.server.close_idle_connections()
    agent.configure(**options)
    agent.clock = _make_clock(clock)
    request.node.stash[_ACTIVE] = agent
    if strict if strict is not None else _strict(request):
        request.node.stash[_STRICT] = True
    _report_on_failure(request, agent)
    return agent


def _make_clock(clock: Any) -> Any:
    from pytest_consul_events.model.clock import REAL_CLOCK, ManualClock

    if clock is None or clock == "real":
        return REAL_CLOCK
    if clock == "manual":
        return ManualClock()
    if isinstance(clock, ManualClock):
        return clock
    raise ValueError(f"clock must be 'real', 'manual' or a ManualClock, not {clock!r}")


def _strict(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption(STRICT_OPTION)) or (
        request.node.get_closest_marker(STRICT_MARKER) is not None
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """End the long polls a test left on the shared agent before other fixtures tear down, and
    close the clients it made with ``consul_agent.client()``."""
    agent = item.stash.get(_ACTIVE, None)
    if agent is not None:
        agent.release_blocked()
        agent.close_clients()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """In strict mode, fail a test that called an endpoint the fake does not implement."""
    result = yield
    if item.stash.get(_STRICT, False):
        agent = item.stash.get(_ACTIVE, None)
        missing = [] if agent is None else agent.requests.unimplemented
        if missing:
            lines = "\n".join(f"  {record}" for record in missing)
            raise AssertionError(
                "the code under test called endpoints the fake Consul agent does not "
                f"implement (strict mode):\n{lines}"
            )
    return result


@pytest.fixture
def consul_client(consul_agent: FakeConsulAgent) -> consul.Consul:
    """Function scope: a py-consul ``consul.Consul`` bound to ``consul_agent``, closed afterwards.

    It sends no token and ignores ``CONSUL_HTTP_*`` variables. Like every client made by
    ``consul_agent.client()``, it is closed when the test ends (``pytest_runtest_teardown``).
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
def consul_cluster(request: pytest.FixtureRequest) -> Iterator[FakeConsulCluster]:
    """Function scope: a cluster of fake agents joined by simulated gossip, served over HTTP.

    Yields a :class:`~pytest_consul_events.cluster.FakeConsulCluster`; by default three agents
    ``node1`` (the server), ``node2`` and ``node3`` in ``dc1``, with in-order immediate gossip.
    ``@pytest.mark.consul_cluster(...)`` sets the agents, the seed, the gossip hostility and
    ACLs. When the test fails, its report shows the seed and the delivery timeline.
    """
    from pytest_consul_events.cluster import FakeConsulCluster

    options = _marker_options(request, CLUSTER_MARKER)
    seed = request.config.getoption(SEED_OPTION)
    if seed is not None:
        options.setdefault("seed", seed)
    options["clock"] = _make_clock(options.get("clock"))
    cluster = FakeConsulCluster(**options).start()
    _report_on_failure(request, cluster)
    try:
        yield cluster
    finally:
        cluster.close()


if TYPE_CHECKING:
    from pytest_consul_events.consul_cli.fixture import ConsulCLI


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
