"""Order and exactly-once: a consumer that counts on them passes on one agent, fails in a cluster.

``deployer.sequence`` tracks a service's version from ``set-version`` events. The naive tracker
takes the last event listed as current. Against the single ``consul_agent`` (like
``consul agent -dev``) events are listed in the order they were fired, so its tests pass. In a
datacenter each agent lists events in the order gossip brought them, and a tracker that fails
over to another agent lists the same events again: the naive tracker ends on a stale version
and rolls some versions out twice. The tests below pin that failure with a seed, and show that
:class:`~deployer.sequence.VersionTracker` (newest by Lamport time, each ID once) holds.

How to find such a failure and replay it:

1. Run the consumer's tests against a hostile cluster, with no seed in the marker::

       @pytest.mark.consul_cluster(unordered=True, duplicate=0.5)

   Each run draws a seed, so each run tries another delivery order; run the test a few times.
2. When it fails, the report has a ``consul cluster`` section that starts with::

       seed: 1234 (replay with --consul-seed=1234)

   then lists each agent's events (``name@LTime``, in its order) and the gossip trace, one
   row per delivery and one column per agent (``stored``, ``duplicate``, ``x lost``...).
3. Replay it with ``pytest examples/test_ordering.py --consul-seed=1234``: every cluster and
   agent whose marker sets no seed draws the same event IDs and the same delivery schedule.
   The replay is exact when the test fires the same events in the same order between
   ``consul_cluster.settle()`` calls, and the cluster runs on the test clock
   (``clock="manual"``): with real time, when the background thread delivers depends on the
   machine.
4. Keep it: write ``seed=1234`` into the marker, and the failure is a regression test, as
   ``STALE_SEED`` is below. A marker's seed wins over ``--consul-seed``.
"""

from __future__ import annotations

from typing import Any

import pytest
from deployer.sequence import NaiveVersionTracker, VersionTracker, fire_set_version

from pytest_consul_events import FakeConsulAgent
from pytest_consul_events.cluster import FakeConsulCluster

VERSIONS = ["1.1", "1.2", "1.3", "1.4", "1.5"]

STALE_SEED = 1
"""A seed under which node3 lists the five versions as 1.4, 1.2, 1.5, 1.3, 1.1 and node2 as
1.3, 1.5, 1.1, 1.2, 1.4 (found by running the hostile test without a seed, as above)."""

HOSTILE = pytest.mark.consul_cluster(unordered=True, duplicate=0.5, seed=STALE_SEED, clock="manual")
"""On the test clock, unordered deliveries wait for ``settle()`` however slow the machine is:
the delivery order depends on the seed alone."""


def release_all(cluster: FakeConsulCluster) -> list[str]:
    """The release tool fires every version through the server, then gossip is let through."""
    deployer = cluster.client("node1")
    ids = [fire_set_version(deployer, version) for version in VERSIONS]
    cluster.settle()
    return ids


# -- one agent: both trackers pass ---------------------------------------------------------------


def test_naive_tracker_passes_against_one_agent(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    tracker = NaiveVersionTracker()
    for version in VERSIONS:
        fire_set_version(consul_client, version)
    assert tracker.poll(consul_client) == VERSIONS
    assert tracker.current == "1.5"
    assert tracker.applied == VERSIONS
    assert tracker.poll(consul_client) == []


def test_version_tracker_passes_against_one_agent(
    consul_agent: FakeConsulAgent, consul_client: Any
) -> None:
    tracker = VersionTracker()
    for version in VERSIONS[:3]:
        fire_set_version(consul_client, version)
    assert tracker.poll(consul_client) == ["1.3"]  # straight to the newest
    for version in VERSIONS[3:]:
        fire_set_version(consul_client, version)
        assert tracker.poll(consul_client) == [version]
    assert tracker.current == "1.5"
    assert tracker.applied == ["1.3", "1.4", "1.5"]
    assert tracker.poll(consul_client) == []


# -- a hostile cluster: the naive tracker fails --------------------------------------------------


@HOSTILE
def test_naive_tracker_ends_on_a_stale_version_in_a_cluster(
    consul_cluster: FakeConsulCluster,
) -> None:
    ids = release_all(consul_cluster)
    tracker = NaiveVersionTracker()

    tracker.poll(consul_cluster.client("node3"))

    # What goes wrong: node3 got the events in an order of its own, and the last one it lists
    # is the oldest version.
    assert tracker.applied == ["1.4", "1.2", "1.5", "1.3", "1.1"]
    assert tracker.current == "1.1"
    # The information to get it right was there: LTime orders the events as they were fired.
    listed = sorted(consul_cluster["node3"].events, key=lambda event: event.ltime)
    assert [event.id for event in listed] == ids
    assert [event.ltime for event in listed] == [2, 3, 4, 5, 6]
    # Gossip did deliver some events twice; serf dropped the copies before they were listed.
    assert [e.outcome for e in consul_cluster.trace if e.kind == "deliver"].count("duplicate") == 7


@HOSTILE
def test_naive_tracker_rolls_out_twice_after_failing_over(
    consul_cluster: FakeConsulCluster,
) -> None:
    release_all(consul_cluster)
    tracker = NaiveVersionTracker()
    tracker.poll(consul_cluster.client("node3"))

    consul_cluster.stop("node3")  # the local agent goes down: the tracker asks node2
    tracker.poll(consul_cluster.client("node2"))

    # node2 lists 1.3, 1.5, 1.1, 1.2, 1.4: after node3's last event (1.1) come 1.2 and 1.4,
    # rolled out a second time, and the tracker now says 1.4.
    assert tracker.applied == ["1.4", "1.2", "1.5", "1.3", "1.1", "1.2", "1.4"]
    assert tracker.current == "1.4"


# -- the same cluster: the corrected tracker holds -----------------------------------------------


@HOSTILE
def test_version_tracker_holds_in_the_same_cluster(consul_cluster: FakeConsulCluster) -> None:
    release_all(consul_cluster)
    tracker = VersionTracker()

    assert tracker.poll(consul_cluster.client("node3")) == ["1.5"]
    consul_cluster.stop("node3")
    assert tracker.poll(consul_cluster.client("node2")) == []  # all seen already
    assert tracker.current == "1.5"

    fire_set_version(consul_cluster.client("node2"), "1.6")
    consul_cluster.settle()
    assert tracker.poll(consul_cluster.client("node2")) == ["1.6"]
    assert tracker.applied == ["1.5", "1.6"]
