"""Configuring the fixtures the pytest way: where the agent listens, suite defaults, ini options,
environment variables, and the one precedence between them (run through pytester)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

RUN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def ini_file(pytester: pytest.Pytester, lines: str) -> None:
    """An ini file with these lines (and the setting pytest-asyncio asks for)."""
    pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\n{lines}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


# -- where the session agent listens ------------------------------------------------------------


def test_default_is_loopback_and_a_free_port(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_address(consul_agent, consul_listen_address):
            assert consul_listen_address == ("127.0.0.1", 0)
            assert consul_agent.host == "127.0.0.1"
            assert consul_agent.port != 0
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=1)


def test_ini_options_choose_host_and_port(pytester: pytest.Pytester) -> None:
    port = free_port()
    ini_file(pytester, f"consul_host = 127.0.0.1\nconsul_port = {port}\n")
    pytester.makepyfile(
        f"""
        import requests

        def test_fixed(consul_agent):
            assert consul_agent.http_addr == "127.0.0.1:{port}"
            requests.put("http://127.0.0.1:{port}/v1/event/fire/deploy").raise_for_status()
            assert [e.name for e in consul_agent.events] == ["deploy"]

        def test_same_agent_cleared(consul_agent):
            assert consul_agent.port == {port}
            assert consul_agent.events == []
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


def test_environment_overrides_ini_and_command_line_overrides_both(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini_port, env_port, cli_port = free_port(), free_port(), free_port()
    ini_file(pytester, f"consul_port = {ini_port}\n")
    pytester.makepyfile(
        """
        import os

        def test_port(consul_agent):
            assert consul_agent.port == int(os.environ["EXPECTED_PORT"])
        """
    )
    monkeypatch.setenv("EXPECTED_PORT", str(ini_port))
    pytester.runpytest_subprocess(*RUN).assert_outcomes(passed=1)
    monkeypatch.setenv("PYTEST_CONSUL_EVENTS_PORT", str(env_port))
    monkeypatch.setenv("EXPECTED_PORT", str(env_port))
    pytester.runpytest_subprocess(*RUN).assert_outcomes(passed=1)
    monkeypatch.setenv("EXPECTED_PORT", str(cli_port))
    pytester.runpytest_subprocess(*RUN, f"--consul-port={cli_port}").assert_outcomes(passed=1)


def test_environment_chooses_the_host(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        def test_host(consul_agent):
            assert consul_agent.host == "127.0.0.2"
            assert consul_agent.url.startswith("http://127.0.0.2:")
        """
    )
    monkeypatch.setenv("PYTEST_CONSUL_EVENTS_HOST", "127.0.0.2")
    pytester.runpytest_subprocess(*RUN).assert_outcomes(passed=1)


def test_conftest_overrides_the_listen_address_fixture(pytester: pytest.Pytester) -> None:
    port = free_port()
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture(scope="session")
        def consul_listen_address():
            return ("127.0.0.1", {port})
        """
    )
    pytester.makepyfile(
        f"""
        import consul

        def test_code_that_hard_codes_the_port(consul_agent):
            consul.Consul(host="127.0.0.1", port={port}).event.fire("deploy")
            assert [e.name for e in consul_agent.events] == ["deploy"]
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=1)


def test_a_busy_port_fails_at_once_with_one_line(pytester: pytest.Pytester, busy_port: int) -> None:
    pytester.makepyfile(
        """
        def test_one(consul_agent):
            pass

        def test_two(consul_agent):
            pass
        """
    )
    result = pytester.runpytest(*RUN, f"--consul-port={busy_port}")
    result.assert_outcomes(errors=2)
    result.stdout.re_match_lines(
        [rf"^the fake Consul agent cannot listen on 127\.0\.0\.1:{busy_port}: .*in use$"]
    )
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("ini", "ERROR: ini option consul_port must be a port number from 0 to 65535, not '70000'"),
        ("env", "ERROR: environment variable PYTEST_CONSUL_EVENTS_PORT must be an integer, "
                "not 'x'"),
        ("cli", "ERROR: command-line option --consul-port must be an integer, not 'eighty'"),
    ],
)  # fmt: skip
def test_a_bad_port_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str, message: str
) -> None:
    pytester.makepyfile("def test_never_runs(consul_agent):\n    raise AssertionError\n")
    args: list[str] = []
    if how == "ini":
        ini_file(pytester, "consul_port = 70000\n")
    elif how == "env":
        monkeypatch.setenv("PYTEST_CONSUL_EVENTS_PORT", "x")
    else:
        args.append("--consul-port=eighty")
    result = pytester.runpytest_subprocess(*RUN, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == message


@pytest.mark.parametrize("how", ["ini", "env", "cli"])
def test_a_fixed_port_is_refused_under_xdist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    pytester.makepyfile("def test_never_runs(consul_agent):\n    raise AssertionError\n")
    args = ["-n", "2"]
    if how == "ini":
        ini_file(pytester, "consul_port = 8500\n")
    elif how == "env":
        monkeypatch.setenv("PYTEST_CONSUL_EVENTS_PORT", "8500")
    else:
        args.append("--consul-port=8500")
    result = pytester.runpytest_subprocess(*RUN, *args, timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        "ERROR: the fake Consul agent cannot listen on the fixed port 8500 under pytest-xdist: "
        "each worker serves its own agent and only one can have the port. Use port 0 (a free "
        "port per worker, the default) or run without -n."
    )


def test_a_fixed_port_from_the_fixture_is_refused_in_xdist_workers(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_listen_address():
            return ("127.0.0.1", 8500)
        """
    )
    pytester.makepyfile("def test_never_runs(consul_agent):\n    raise AssertionError\n")
    result = pytester.runpytest_subprocess(*RUN, "-n", "2", timeout=60)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*the fake Consul agent cannot listen on the fixed port 8500 under pytest-xdist*"]
    )


def test_a_bad_listen_address_fixture_is_named(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_listen_address():
            return "127.0.0.1:8500"
        """
    )
    pytester.makepyfile("def test_one(consul_agent):\n    pass\n")
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "consul_listen_address must return (host, port), a string and a port number, "
            "not '127.0.0.1:8500'"
        ]
    )


def test_a_stopped_session_agent_serves_again_for_the_next_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import requests

        seen = {}

        def test_stops_it(consul_agent):
            seen["port"] = consul_agent.port
            consul_agent.stop()

        def test_gets_a_serving_agent(consul_agent):
            assert consul_agent.port == seen["port"]
            requests.put(consul_agent.url + "/v1/event/fire/deploy").raise_for_status()
            assert [e.name for e in consul_agent.events] == ["deploy"]
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


# -- suite defaults and precedence --------------------------------------------------------------


def test_ini_options_set_the_agent_defaults(pytester: pytest.Pytester) -> None:
    ini_file(
        pytester,
        ""
        "consul_node_name = web-1\n"
        "consul_datacenter = eu-west\n"
        "consul_buffer_size = 2\n"
        "consul_dev_mode = yes\n"
        "consul_server = false\n"
        "consul_seed = 42\n"
        "consul_clock = manual\n"
        "consul_acl = deny\n"
        "consul_management_token = root\n"
        "consul_default_token = root\n"
        "consul_http_max_conns_per_client = 7\n"
        "consul_history_limit = 99\n",
    )
    pytester.makepyfile(
        """
        from pytest_consul_events import ManualClock

        def test_defaults(consul_agent):
            config = consul_agent.config
            assert (config.node_name, config.datacenter, config.buffer_size) == (
                "web-1", "eu-west", 2)
            assert (config.dev_mode, config.server, config.seed) == (True, False, 42)
            assert (config.acl, config.management_token, config.default_token) == (
                "deny", "root", "root")
            assert (config.http_max_conns_per_client, config.history_limit) == (7, 99)
            assert isinstance(consul_agent.clock, ManualClock)
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=1)


def test_ini_strict_and_seed_work_like_the_command_line(pytester: pytest.Pytester) -> None:
    ini_file(pytester, "consul_strict = true\nconsul_seed = 7\n")
    pytester.makepyfile(
        """
        import requests
        import pytest

        def test_calls_kv(consul_agent):
            assert consul_agent.seed == 7
            requests.get(consul_agent.url + "/v1/kv/x")

        @pytest.mark.consul_agent(strict=False)
        def test_marker_turns_it_off(consul_agent):
            requests.get(consul_agent.url + "/v1/kv/x")

        @pytest.mark.consul_cluster(agents=["a"])
        def test_cluster_seed(consul_cluster):
            assert consul_cluster.seed == 7
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*called endpoints the fake Consul agent does not implement*"])


def test_defaults_fixture_applies_to_every_test_below_its_conftest(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_agent_defaults():
            return {"node_name": "web-1", "services": ["web"]}
        """
    )
    pytester.makepyfile(
        test_top="""
        def test_top(consul_agent):
            assert consul_agent.node_name == "web-1"
            assert list(consul_agent.services) == ["web"]
            consul_agent.fire("deploy", service="web")
            assert len(consul_agent.events) == 1
        """
    )
    sub = pytester.mkpydir("sub")
    (sub / "conftest.py").write_text(
        "import pytest\n\n"
        '@pytest.fixture(scope="session")\n'
        "def consul_agent_defaults():\n"
        '    return {"node_name": "db-1"}\n'
    )
    (sub / "test_sub.py").write_text(
        "def test_sub(consul_agent):\n"
        '    assert consul_agent.node_name == "db-1"\n'
        "    assert consul_agent.services == {}\n"
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


def test_precedence_marker_then_command_line_then_defaults_then_ini(
    pytester: pytest.Pytester,
) -> None:
    ini_file(
        pytester,
        "consul_node_name = from-ini\nconsul_datacenter = ini-dc\n"
        "consul_buffer_size = 3\nconsul_seed = 1\n",
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_agent_defaults():
            return {"node_name": "from-defaults", "buffer_size": 4, "seed": 2}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.consul_agent(node_name="from-module", dev_mode=True)

        def test_module_marker(consul_agent):
            c = consul_agent.config
            assert (c.node_name, c.datacenter, c.buffer_size, c.dev_mode, c.seed) == (
                "from-module", "ini-dc", 4, True, 9)

        @pytest.mark.consul_agent(node_name="from-class", seed=5)
        class TestClass:
            def test_class_marker(self, consul_agent):
                c = consul_agent.config
                assert (c.node_name, c.seed, c.dev_mode) == ("from-class", 5, True)

            @pytest.mark.consul_agent(node_name="from-test", dev_mode=False)
            def test_test_marker(self, consul_agent):
                c = consul_agent.config
                assert (c.node_name, c.seed, c.dev_mode) == ("from-test", 5, False)
        """
    )
    pytester.runpytest(*RUN, "--consul-seed=9").assert_outcomes(passed=3)


def test_cluster_defaults_from_fixture_and_ini(pytester: pytest.Pytester) -> None:
    ini_file(pytester, "consul_unordered = true\nconsul_delay = 0,0.01\nconsul_loss = 0\n")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_cluster_defaults():
            return {"agents": ["web-1", "web-2"], "duplicate": 0.5}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_defaults(consul_cluster):
            settings = consul_cluster.gossip.settings
            assert [a.node_name for a in consul_cluster] == ["web-1", "web-2"]
            assert (settings.unordered, settings.delay, settings.duplicate) == (
                True, (0.0, 0.01), 0.5)

        @pytest.mark.consul_cluster(unordered=False, agents=["a", "b", "c"])
        def test_marker_wins(consul_cluster):
            assert consul_cluster.gossip.settings.unordered is False
            assert len(consul_cluster) == 3
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("consul_buffer_size = lots",
         "ini option consul_buffer_size must be an integer, not 'lots'"),
        ("consul_strict = maybe", "ini option consul_strict must be true or false, not 'maybe'"),
        ("consul_clock = fake", "ini option consul_clock must be one of real, manual, not 'fake'"),
        ("consul_acl = open", "ini option consul_acl must be one of allow, deny, not 'open'"),
        ("consul_loss = 0.1.2", "ini option consul_loss must be a number, not '0.1.2'"),
        ("consul_loss = nan", "ini option consul_loss must be a finite number, not 'nan'"),
        ("consul_delay = 0.5", "ini option consul_delay must be two numbers LOW,HIGH (seconds), "
         "not '0.5'"),
        ("consul_seed = 1e3", "ini option consul_seed must be an integer, not '1e3'"),
        ("consul_buffer_size = 0", "ini option consul_buffer_size is refused: buffer_size must "
         "be an int from 1 to 1000000000, not 0 (int)"),
        ("consul_duplicate = 2", "ini option consul_duplicate is refused: duplicate must be a "
         "finite number from 0 to 1, not 2.0 (float)"),
    ],
)  # fmt: skip
def test_a_bad_ini_value_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, ini: str, message: str
) -> None:
    ini_file(pytester, f"{ini}\n")
    pytester.makepyfile("def test_never_runs(consul_agent):\n    raise AssertionError\n")
    result = pytester.runpytest_subprocess(*RUN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == f"ERROR: {message}"


def test_a_bad_defaults_fixture_is_one_line_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_agent_defaults():
            return {"buffer_size": 0}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_uses_it(consul_agent):
            pass

        @pytest.mark.consul_agent(buffer_size=5)
        def test_marker_mends_it(consul_agent):
            assert consul_agent.config.buffer_size == 5
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(errors=1, passed=1)
    result.stdout.fnmatch_lines(
        ["consul_agent_defaults: buffer_size must be an int from 1 to 1000000000, not 0 (int)"]
    )
    assert "Traceback" not in result.stdout.str()


def test_defaults_fixture_must_return_a_mapping(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_agent_defaults():
            return ["node_name", "web-1"]
        """
    )
    pytester.makepyfile("def test_one(consul_agent):\n    pass\n")
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "consul_agent_defaults must return a mapping of options (a dict), "
            "not ['node_name', 'web-1']"
        ]
    )


def test_marker_errors_name_the_marker_that_set_the_value(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.consul_agent(buffer_size="big")

        @pytest.mark.consul_agent(node_name="web-1")
        def test_inherits_it(consul_agent):
            pass
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.consul_agent(buffer_size='big'): buffer_size must be an int from 1 to "
            "1000000000, not 'big' (str)"
        ]
    )


def test_every_option_has_an_ini_option_shown_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*RUN, "--help")
    text = result.stdout.str()
    for flag in (
        "--consul-seed=SEED",
        "--consul-strict",
        "--consul-host=HOST",
        "--consul-port=PORT",
    ):
        assert flag in text
    for option in (
        "host", "port", "seed", "strict", "clock", "node_name", "datacenter", "server",
        "buffer_size", "dev_mode", "acl", "management_token", "default_token",
        "http_max_conns_per_client", "history_limit", "unordered", "delay", "loss", "duplicate",
        "manual", "flush_after",
    ):  # fmt: skip
        result.stdout.re_match_lines([rf"^  consul_{option} \(string\):"])


def test_defaults_and_ini_hold_under_xdist(pytester: pytest.Pytester) -> None:
    ini_file(pytester, "consul_datacenter = eu-west\n")
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def consul_agent_defaults():
            return {"node_name": "web-1"}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_each(consul_agent, n):
            assert (consul_agent.node_name, consul_agent.datacenter) == ("web-1", "eu-west")
        """
    )
    pytester.runpytest_subprocess(*RUN, "-n", "2", timeout=120).assert_outcomes(passed=4)


def test_defaults_fixture_overridden_in_a_class_or_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        class TestWeb:
            @pytest.fixture
            def consul_agent_defaults(self):
                return {"node_name": "web-1"}

            def test_in_the_class(self, consul_agent):
                assert consul_agent.node_name == "web-1"

        def test_outside_the_class(consul_agent):
            assert consul_agent.node_name == "node1"

        class TestPerTest:
            @pytest.fixture(params=["a", "b"])
            def consul_agent_defaults(self, request):
                return {"node_name": request.param}

            def test_each(self, consul_agent, consul_agent_defaults):
                assert consul_agent.node_name == consul_agent_defaults["node_name"]
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=4)


def test_the_plugin_registers_exactly_the_ini_options_the_settings_parse() -> None:
    from pytest_consul_events import plugin
    from pytest_consul_events.configuration import INI_OPTIONS

    assert [option for option, _ in plugin._INI_HELP] == [o.option for o in INI_OPTIONS]
