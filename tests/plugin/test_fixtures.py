"""The fixtures and the marker as a user's test suite sees them (run through pytester)."""

from __future__ import annotations

import pytest


def test_consul_agent_is_cleared_before_each_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_first(consul_agent):
            consul_agent.register_service("web")
            consul_agent.fire("deploy", b"v1")
            assert [e.name for e in consul_agent.events] == ["deploy"]

        def test_second(consul_agent):
            assert consul_agent.events == []
            assert consul_agent.fired == []
            assert consul_agent.services == {}
            assert consul_agent.fire("deploy").ltime == 0
            assert [e.ltime for e in consul_agent.events] == [2]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_consul_agent_server_is_shared_by_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        seen = []

        def test_first(consul_agent):
            seen.append(consul_agent.url)

        def test_second(consul_agent):
            assert seen == [consul_agent.url]
            assert consul_agent.host == "127.0.0.1"
            assert consul_agent.http_addr == f"127.0.0.1:{consul_agent.port}"
            assert consul_agent.url == f"http://127.0.0.1:{consul_agent.port}"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_marker_configures_the_agent_for_one_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_agent(
            node_name="web-1",
            datacenter="eu-west",
            services=["db", {"name": "web", "id": "web-a", "tags": ["v2"]}],
            buffer_size=2,
        )
        def test_configured(consul_agent):
            assert consul_agent.node_name == "web-1"
            assert consul_agent.datacenter == "eu-west"
            assert sorted(consul_agent.services) == ["db", "web-a"]
            assert consul_agent.services["web-a"].tags == ("v2",)
            for name in ("a", "b", "c"):
                consul_agent.fire(name, service="web-a", tag="v2")
            assert [e.name for e in consul_agent.events] == ["b", "c"]

        def test_defaults_come_back(consul_agent):
            assert consul_agent.node_name == "node1"
            assert consul_agent.datacenter == "dc1"
            assert consul_agent.services == {}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_closest_marker_wins_over_module_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.consul_agent(node_name="module", datacenter="dc9")

        @pytest.mark.consul_agent(node_name="function")
        def test_override(consul_agent):
            assert consul_agent.node_name == "function"
            assert consul_agent.datacenter == "dc9"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_unknown_marker_option_is_an_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_agent(nodename="x")
        def test_typo(consul_agent):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.consul_agent(nodename='x'): unknown option 'nodename'; accepted "
            "options: acl, buffer_size, clock, datacenter, default_token, dev_mode, "
            "history_limit, http_max_conns_per_client, management_token, node_name, seed, "
            "server, services, strict, tokens"
        ]
    )


def test_seeded_marker_reproduces_event_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        ids = []

        @pytest.mark.consul_agent(seed=42)
        @pytest.mark.parametrize("run", [1, 2])
        def test_seeded(consul_agent, run):
            ids.append(consul_agent.fire("deploy").id)
            if run == 2:
                assert ids[0] == ids[1]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_consul_client_talks_to_the_agent_and_ignores_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import consul

        def test_client(consul_client, consul_agent, monkeypatch):
            assert isinstance(consul_client, consul.Consul)
            assert consul_client.token is None
            event = consul_client.event.fire("deploy", "v1")
            assert consul_agent.events[0].id == event["ID"]
            index, events = consul_client.event.list()
            assert [e["Payload"] for e in events] == [b"v1"]
            assert index == str(consul_agent.events[0].index)
        """
    )
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "secret-from-env")
    monkeypatch.setenv("CONSUL_HTTP_SSL", "true")
    monkeypatch.setenv("CONSUL_HTTP_ADDR", "192.0.2.1:8500")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_finished_tests_client_is_freed_without_the_garbage_collector(
    pytester: pytest.Pytester,
) -> None:
    # py-consul's endpoints point back at their client; through a weak proxy, so that a client
    # is freed by reference counting once the agent lets go of it (one test later).
    pytester.makepyfile(
        """
        import gc
        import weakref

        refs = []

        def test_first(consul_client):
            consul_client.agent.service.register("web")
            refs.append(weakref.ref(consul_client))
            gc.disable()

        def test_second(consul_client):
            consul_client.event.fire("deploy")
            assert refs[0]() is not None  # kept by the agent until this test's end

        def test_third(consul_agent):
            try:
                assert refs[0]() is None
            finally:
                gc.enable()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_consul_env_points_clients_built_from_the_environment_at_the_fake(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import os
        import consul

        def test_env(consul_env, consul_agent):
            assert consul_env == {"CONSUL_HTTP_ADDR": consul_agent.http_addr}
            assert os.environ["CONSUL_HTTP_ADDR"] == consul_agent.http_addr
            assert "CONSUL_HTTP_TOKEN" not in os.environ
            assert "CONSUL_HTTP_SSL" not in os.environ
            client = consul.Consul()
            client.event.fire("from-env")
            assert [e.name for e in consul_agent.events] == ["from-env"]
            assert client.token is None
        """
    )
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "secret-from-env")
    monkeypatch.setenv("CONSUL_HTTP_SSL", "true")
    monkeypatch.setenv("CONSUL_HTTP_ADDR", "192.0.2.1:8500")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_blocked_query_left_by_a_test_is_answered_when_it_ends(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import threading

        state = {}

        def test_leaves_a_blocked_query(consul_agent, consul_client):
            index, _ = consul_client.event.list()
            client = consul_agent.client()

            def poll():
                state["answer"] = client.event.list(index=index, wait="30s")

            thread = threading.Thread(target=poll)
            thread.start()
            consul_agent.wait_for_blocked(1, timeout=5)
            state["thread"] = thread

        def test_next_test_finds_it_answered(consul_agent):
            state["thread"].join(5)
            assert not state["thread"].is_alive()
            assert state["answer"] == ("1", [])
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
