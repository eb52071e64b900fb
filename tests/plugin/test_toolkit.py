"""The test author's tools on consul_agent: request log, strict mode, test clock, reports."""

from __future__ import annotations

import re

import pytest

RUN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def test_request_log_records_requests_with_tokens_redacted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_log(consul_agent):
            requests.put(consul_agent.url + "/v1/event/fire/deploy?token=s3cret&node=web",
                         data=b"v1", headers={"X-Consul-Token": "other"})
            requests.get(consul_agent.url + "/v1/event/list?name=deploy")
            requests.get(consul_agent.url + "/v1/kv/config")
            fire, listing, kv = consul_agent.requests
            assert (fire.method, fire.path, fire.query, fire.body, fire.status, fire.token) == (
                "PUT", "/v1/event/fire/deploy", "token=<redacted>&node=web", b"v1", 200, True)
            assert fire.implemented and listing.implemented
            assert (listing.method, listing.query, listing.body, listing.token) == (
                "GET", "name=deploy", b"", False)
            assert (kv.status, kv.implemented) == (404, False)
            assert consul_agent.requests.unimplemented == [kv]
            assert consul_agent.requests.filter(method="GET") == [listing, kv]
            assert consul_agent.requests.filter(path="/v1/event/") == [fire, listing]
            assert "s3cret" not in repr(list(consul_agent.requests))
            assert "other" not in repr(list(consul_agent.requests))

        def test_log_is_cleared_between_tests(consul_agent):
            assert len(consul_agent.requests) == 0
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


def test_strict_mode_fails_a_test_that_calls_an_unimplemented_endpoint(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.consul_strict
        def test_uses_kv(consul_agent):
            requests.get(consul_agent.url + "/v1/kv/config?token=hidden")

        @pytest.mark.consul_strict
        def test_uses_events_only(consul_agent):
            requests.put(consul_agent.url + "/v1/event/fire/deploy")

        def test_not_strict(consul_agent):
            requests.get(consul_agent.url + "/v1/kv/config")
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: the code under test called endpoints the fake Consul agent does not"
            " implement (strict mode):",
            "*GET /v1/kv/config?token=<redacted> -> 404 *",
        ]
    )
    assert "hidden" not in result.stdout.str()


def test_a_strict_agent_of_a_cluster_fails_its_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest, requests

        @pytest.mark.consul_cluster(agents=["a", {"node_name": "b", "strict": True}])
        def test_kv_on_the_strict_agent(consul_cluster):
            requests.get(consul_cluster["b"].url + "/v1/kv/config")

        @pytest.mark.consul_cluster(agents=["a", {"node_name": "b", "strict": True}])
        def test_kv_on_the_other_agent(consul_cluster):
            requests.get(consul_cluster["a"].url + "/v1/kv/config")
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: b: the code under test called endpoints the fake Consul agent does"
            " not implement (strict mode):",
            "*GET /v1/kv/config -> 404 *",
        ]
    )


def test_strict_option_applies_to_every_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_uses_kv(consul_agent):
            requests.get(consul_agent.url + "/v1/catalog/services")
        """
    )
    pytester.runpytest(*RUN, "--consul-strict").assert_outcomes(failed=1)
    pytester.runpytest(*RUN).assert_outcomes(passed=1)


def test_manual_clock_times_out_a_blocking_list_without_waiting(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import threading, time
        import pytest

        @pytest.mark.consul_agent(clock="manual")
        def test_five_minute_wait(consul_agent, consul_client):
            index, _ = consul_client.event.list()
            answer = {}
            thread = threading.Thread(
                target=lambda: answer.update(r=consul_client.event.list(index=index, wait="5m"))
            )
            started = time.monotonic()
            thread.start()
            consul_agent.wait_for_blocked(1, timeout=5)
            consul_agent.clock.advance(299)
            thread.join(0.05)
            assert thread.is_alive()
            consul_agent.clock.advance(1)
            thread.join(5)
            assert answer["r"] == (index, [])
            assert time.monotonic() - started < 5

        def test_real_clock_is_back(consul_agent):
            from pytest_consul_events.model.clock import REAL_CLOCK
            assert consul_agent.clock is REAL_CLOCK
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)


def test_failing_test_report_shows_the_agent_events(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_agent(seed=11, node_name="web-1")
        def test_fails(consul_agent):
            consul_agent.fire("deploy", b"v1")
            assert False

        def test_passes(consul_agent):
            consul_agent.fire("deploy")
        """
    )
    result = pytester.runpytest(*RUN)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- consul agent -*",
            "web-1 ?dc1? at http://127.0.0.1:*, seed 11 (replay with --consul-seed=11)",
            "events held (1):",
            "     2  deploy  id=*  payload=b'v1'",
        ]
    )
    assert result.stdout.str().count("consul agent") == 1


def test_seed_option_fixes_event_ids_of_unseeded_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_id(consul_agent):
            print("ID=" + consul_agent.fire("deploy").id)
        """
    )
    first = pytester.runpytest(*RUN, "-s", "--consul-seed=5").stdout.str()
    second = pytester.runpytest(*RUN, "-s", "--consul-seed=5").stdout.str()
    other = pytester.runpytest(*RUN, "-s", "--consul-seed=6").stdout.str()
    ids = [re.findall(r"ID=(\S+)", out) for out in (first, second, other)]
    assert len(ids[0]) == 1
    assert ids[0] == ids[1]
    assert ids[0] != ids[2]


def test_cluster_on_a_manual_clock_delivers_delayed_events_when_advanced(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_cluster(clock="manual", delay=(1.0, 2.0), seed=3)
        def test_delayed(consul_cluster):
            consul_cluster["node1"].fire("deploy")
            assert [len(agent.events) for agent in consul_cluster] == [1, 0, 0]
            consul_cluster.advance(0.5)
            assert consul_cluster["node2"].events == []
            consul_cluster.advance(2.0)
            consul_cluster.settle()
            assert [len(agent.events) for agent in consul_cluster] == [1, 1, 1]
            assert consul_cluster.gossip.in_flight == 0

        def test_real_time_cluster_cannot_advance(consul_cluster):
            with pytest.raises(TypeError, match="clock='manual'"):
                consul_cluster.advance(1)
        """
    )
    pytester.runpytest(*RUN).assert_outcomes(passed=2)
