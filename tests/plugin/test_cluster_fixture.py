"""The ``consul_cluster`` fixture, its marker, ``--consul-seed`` and the failure reports.

Each outer test runs inner sessions through pytester, without the hypothesis plugin (it costs
about a second and a half per in-process run and tests nothing here).
"""

from __future__ import annotations

import json
import re

import pytest

INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def run(pytester: pytest.Pytester, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(*INNER_ARGS, *extra)


def sections(reprec: pytest.HookRecorder) -> dict[str, list[str]]:
    """The titles of the report sections of each test's call phase, by test name."""
    return {
        report.nodeid.rsplit("::", 1)[-1]: [title for title, _ in report.sections]
        for report in reprec.getreports("pytest_runtest_logreport")
        if report.when == "call"
    }


def section(reprec: pytest.HookRecorder, test: str, title: str) -> str:
    """The text of one report section of a test's call phase."""
    for report in reprec.getreports("pytest_runtest_logreport"):
        if report.when == "call" and report.nodeid.endswith("::" + test):
            for name, text in report.sections:
                if name == title:
                    return text
    raise AssertionError(f"no {title!r} section for {test}")


# -- defaults and marker options -----------------------------------------------------------------


def test_fixture_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pytest_consul_events.cluster import FakeConsulCluster
        from pytest_consul_events.model.gossip import GossipSettings

        def test_defaults(consul_cluster):
            assert isinstance(consul_cluster, FakeConsulCluster)
            assert [a.node_name for a in consul_cluster] == ["node1", "node2", "node3"]
            assert [a.config.server for a in consul_cluster] == [True, False, False]
            assert {a.datacenter for a in consul_cluster} == {"dc1"}
            assert consul_cluster.gossip.settings == GossipSettings()
            assert isinstance(consul_cluster.seed, int)
            assert consul_cluster.acl.enabled is False
            answer = consul_cluster.client("node2").event.fire("deploy")
            _, events = consul_cluster.client("node3").event.list()
            assert [(e["ID"], e["LTime"]) for e in events] == [(answer["ID"], 2)]
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_each_test_gets_a_new_cluster_closed_after_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import threading
        import time

        import pytest
        import requests

        seen = {}

        @pytest.mark.consul_cluster(delay=(5, 5))
        def test_1_first(consul_cluster):
            consul_cluster["node1"].fire("deploy")
            assert consul_cluster.gossip.in_flight == 2  # the gossip thread waits for them
            seen["url"] = consul_cluster["node2"].url
            seen["threads"] = set(threading.enumerate())

        def test_2_second(consul_cluster):
            assert [a.events for a in consul_cluster] == [[], [], []]
            with pytest.raises(requests.exceptions.ConnectionError):
                requests.get(seen["url"] + "/v1/event/list", timeout=5)
            assert not [t for t in threading.enumerate() if t.name == "consul-fake-gossip"]
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_marker_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_consul_events.model.gossip import GossipSettings

        AGENTS = [
            "a1",
            {"node_name": "a2", "services": ["web"]},
            {"node_name": "b1", "datacenter": "dc2"},
        ]

        @pytest.mark.consul_cluster(
            agents=AGENTS, seed=42, unordered=True, delay=[0.1, 0.2], loss=0.25,
            duplicate=0.5, flush_after=0.5,
        )
        def test_hostile(consul_cluster):
            assert consul_cluster.seed == 42
            assert consul_cluster.gossip.settings == GossipSettings(
                unordered=True, delay=(0.1, 0.2), loss=0.25, duplicate=0.5, manual=False,
                flush_after=0.5,
            )
            assert consul_cluster.gossip.datacenters == {"dc1": ["a1", "a2"], "dc2": ["b1"]}
            assert [a.config.server for a in consul_cluster] == [True, False, True]
            assert list(consul_cluster["a2"].services) == ["web"]

        @pytest.mark.consul_cluster(manual=True)
        def test_manual(consul_cluster):
            consul_cluster["node1"].fire("deploy")
            assert consul_cluster.gossip.held == 2
            assert consul_cluster["node2"].events == []
            assert consul_cluster.release(to="node2") == 1
            assert [e.name for e in consul_cluster["node2"].events] == ["deploy"]

        @pytest.mark.consul_cluster(
            acl="deny", management_token="root",
            tokens={"deployer": 'event "deploy" { policy = "write" }'},
        )
        def test_acl(consul_cluster):
            from consul.exceptions import ACLPermissionDenied

            consul_cluster.client("node2", token="deployer").event.fire("deploy")
            with pytest.raises(ACLPermissionDenied):
                consul_cluster.client("node3").event.fire("deploy")
            assert consul_cluster.acl.enabled
            assert consul_cluster["node3"].list_events(token="root").events[0].name == "deploy"
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_closest_marker_wins_and_seed_option_fills_in(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.consul_cluster(agents=["m1", "m2"], unordered=True, seed=1)

        def test_module_marker(consul_cluster):
            assert [a.node_name for a in consul_cluster] == ["m1", "m2"]
            assert consul_cluster.seed == 1
            assert consul_cluster.gossip.settings.unordered

        @pytest.mark.consul_cluster(seed=9, unordered=False)
        def test_closest_wins(consul_cluster):
            assert [a.node_name for a in consul_cluster] == ["m1", "m2"]
            assert consul_cluster.seed == 9
            assert not consul_cluster.gossip.settings.unordered
        """
    )
    run(pytester, "--consul-seed=5").assert_outcomes(passed=2)

    pytester.makepyfile(
        """
        def test_option_seed(consul_cluster):
            assert consul_cluster.seed == 5
        """
    )
    run(pytester, "--consul-seed=5").assert_outcomes(passed=1)


INVALID = {
    "bogus=1": "unknown cluster option 'bogus'; accepted options: acl, agents, clock, "
    "default_token, delay, dev_mode, duplicate, flush_after, host, loss, management_token, "
    "manual, seed, tokens, unordered",
    "loss=2": "loss must be a finite number from 0 to 1, not 2 (int)",
    "agents=[]": "agents must be a non-empty list or tuple of agents, not [] (list)",
    "'node1'": "takes keyword options only",
}


def test_invalid_marker_options_error_the_test(pytester: pytest.Pytester) -> None:
    tests = "".join(
        f"@pytest.mark.consul_cluster({marker})\n"
        f"def test_bad_{number}(consul_cluster):\n"
        "    pass\n\n"
        for number, marker in enumerate(INVALID)
    )
    pytester.makepyfile("import pytest\n\n" + tests)
    result = run(pytester)
    result.assert_outcomes(errors=len(INVALID))
    for marker, error in INVALID.items():
        result.stdout.fnmatch_lines([f"@pytest.mark.consul_cluster({marker}): {error}"])


# -- failure reports -----------------------------------------------------------------------------

ORDERS_TEST = """
    import json

    import pytest

    @pytest.mark.consul_cluster(unordered=True, duplicate=0.5, clock="manual")
    def test_orders(consul_cluster):
        client = consul_cluster.client("node2")
        for number in range(1, 6):
            client.event.fire(f"e{number}")
        consul_cluster.settle()
        orders = {
            a.node_name: [(e.name, e.id) for e in a.events] for a in consul_cluster
        }
        print("ORDERS=" + json.dumps(orders))
        assert False, "the consumer saw events out of order"
"""


def _orders(result: pytest.RunResult) -> dict[str, list[list[str]]]:
    found = re.findall(r"^ORDERS=(.*)$", result.stdout.str(), re.MULTILINE)
    assert len(found) == 1
    orders: dict[str, list[list[str]]] = json.loads(found[0])
    return orders


def test_failure_report_gives_the_seed_and_the_seed_replays_the_orders(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(ORDERS_TEST)
    first = run(pytester)
    first.assert_outcomes(failed=1)
    seeds = re.findall(
        r"^seed: (\d+) \(replay with --consul-seed=(\d+)\)$", first.stdout.str(), re.M
    )
    assert len(seeds) == 1
    seed, replay = seeds[0]
    assert seed == replay
    first.stdout.fnmatch_lines(
        [
            "*- consul cluster -*",
            f"seed: {seed} (replay with --consul-seed={seed})",
            "node1 ?dc1, server, http://127.0.0.1:*?: e1@2, e2@3, e3@4, e4@5, e5@6",
            "node2 ?dc1, client, http://127.0.0.1:*?: *",
            "node3 ?dc1, client, http://127.0.0.1:*?: *",
            "",
            "gossip trace:",
            "  #   ms      event                   ltime | node1         node2         node3*",
            "-----*",
            "  1 * e1#* 2 | fired         .             .*",
        ]
    )

    replayed = run(pytester, f"--consul-seed={seed}")
    replayed.assert_outcomes(failed=1)
    assert _orders(replayed) == _orders(first)
    assert f"seed: {seed} (replay with --consul-seed={seed})" in replayed.stdout.str()
    orders = _orders(first)
    assert [name for name, _ in orders["node1"]] == ["e1", "e2", "e3", "e4", "e5"]

    other = run(pytester, f"--consul-seed={int(seed) + 1}")
    assert {event_id for _, event_id in _orders(other)["node1"]}.isdisjoint(
        event_id for _, event_id in orders["node1"]
    )


def test_failure_report_trace_has_one_column_per_agent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_cluster(
            agents=["node1", "node2", {"node_name": "a-very-long-node-name"}], seed=3
        )
        def test_fails(consul_cluster):
            consul_cluster.stop("a-very-long-node-name")
            consul_cluster["node2"].fire("deploy", node="node2")
            assert False
        """
    )
    reprec = pytester.inline_run(*INNER_ARGS)
    reprec.assertoutcome(failed=1)
    assert sections(reprec) == {"test_fails": ["consul cluster"]}
    text = section(reprec, "test_fails", "consul cluster")
    lines = text.splitlines()
    assert lines[0] == "seed: 3 (replay with --consul-seed=3)"
    assert re.fullmatch(r"node1 \[dc1, server, http://127\.0\.0\.1:\d+\]: \(none\)", lines[1])
    assert re.fullmatch(r"node2 \[dc1, client, http://127\.0\.0\.1:\d+\]: deploy@2", lines[2])
    assert re.fullmatch(
        r"a-very-long-node-name \[dc1, client, stopped, http://127\.0\.0\.1:\d+\]: \(none\)",
        lines[3],
    )
    header = (
        "  #   ms      event                   ltime | node1         node2         a-very-long-n~"
    )
    assert lines[4:7] == ["", "gossip trace:", header]
    assert lines[7] == "-" * len(header)
    rows = [re.sub(r"^(\s*\d+)\s+[\d.]+ ", r"\1 <ms> ", row) for row in lines[8:]]
    event = re.search(r"deploy#[0-9a-f]{4}", rows[0])
    assert event is not None
    cell = event.group(0).ljust(23)
    assert rows == [
        f"  1 <ms> {cell}     2 | fired         .             .             ",
        f"  2 <ms> {cell}     2 | .             stored        .             ",
        f"  3 <ms> {cell}     2 | .             .             x agent down  ",
    ]


def test_failing_consul_agent_test_shows_the_agent_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_agent(seed=11, node_name="web-1")
        def test_agent_fails(consul_agent):
            consul_agent.fire("deploy", b"v1")
            consul_agent.fire("restart")
            assert False

        def test_both_fail(consul_agent, consul_cluster):
            assert False
        """
    )
    reprec = pytester.inline_run(*INNER_ARGS)
    reprec.assertoutcome(failed=2)
    assert sections(reprec) == {
        "test_agent_fails": ["consul agent"],
        "test_both_fail": ["consul agent", "consul cluster"],
    }
    text = section(reprec, "test_agent_fails", "consul agent")
    lines = text.splitlines()
    assert re.fullmatch(
        r"web-1 \[dc1\] at http://127\.0\.0\.1:\d+, seed 11 \(replay with --consul-seed=11\)",
        lines[0],
    )
    assert lines[1] == "events held (2):"
    assert re.fullmatch(r"     2  deploy  id=[0-9a-f-]{36}  payload=b'v1'", lines[2])
    assert re.fullmatch(r"     3  restart  id=[0-9a-f-]{36}  payload=null", lines[3])
    assert lines[4:] == ["requests served (0):"]  # the model was called, not HTTP


def test_passing_tests_get_no_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_cluster_passes(consul_cluster):
            consul_cluster["node1"].fire("deploy")

        def test_agent_passes(consul_agent):
            consul_agent.fire("deploy")

        def test_plain_fails():
            assert False
        """
    )
    reprec = pytester.inline_run(*INNER_ARGS)
    reprec.assertoutcome(passed=2, failed=1)
    assert sections(reprec) == {
        "test_cluster_passes": [],
        "test_agent_passes": [],
        "test_plain_fails": [],
    }
    result = run(pytester, "-rA")
    assert "consul cluster" not in result.stdout.str()
    assert "consul agent" not in result.stdout.str()
