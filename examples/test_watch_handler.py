"""A deploy script and its watch handler, tested as they run in production.

``watch_handler/deploy.sh`` announces a release with ``consul event``; every web node runs
``watch_handler/on-deploy.sh`` through ``consul watch -type=event -name=deploy``. The
``consul_cli`` fixture puts a ``consul`` command first on ``PATH`` for the test and for the
processes it starts, so both scripts run unchanged against the fake agents, and every handler
invocation is recorded.

``on-deploy-naive.sh`` is the handler as first written: it applies events in the order it gets
them, every time it gets them. Two quirks of Consul break it, and the tests below show how:
gossip delivers events to each agent in its own order, and a watch hands over everything
buffered each time it starts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_consul_events import FakeConsulAgent

SCRIPTS = Path(__file__).resolve().parent / "watch_handler"
DEPLOY = SCRIPTS / "deploy.sh"
HANDLER = SCRIPTS / "on-deploy.sh"
NAIVE_HANDLER = SCRIPTS / "on-deploy-naive.sh"
RELEASES = ("1.4.0", "1.4.1", "1.4.2")

# A server and a web node; gossip reaches each node in its own random order, and one delivery
# in two arrives twice (serf drops the copy). Nothing is delivered until settle().
UNRULY_GOSSIP = pytest.mark.consul_cluster(
    agents=["server", {"node_name": "web-1", "services": ["web"]}],
    unordered=True,
    duplicate=0.5,
    flush_after=60.0,
    seed=16,  # with this seed web-1 receives the three releases newest first
)
ARRIVAL = ["web@1.4.2", "web@1.4.1", "web@1.4.0"]


def deploy(*args: str) -> subprocess.CompletedProcess[str]:
    """Run deploy.sh as an operator would; ``consul`` is the fixture's, found on PATH."""
    return subprocess.run(
        [str(DEPLOY), *args], capture_output=True, text=True, timeout=30, check=False
    )


def state(directory: Path) -> tuple[str, list[str]]:
    """What the handler left: the release deployed and its deploy log."""
    current = (directory / "current").read_text().strip()
    return current, (directory / "deploy.log").read_text().splitlines()


@pytest.mark.consul_agent(node_name="web-1", services=["web"])
def test_deploy_announces_the_release_to_the_web_nodes(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    result = deploy("web", "1.4.2")

    event = consul_agent.assert_fired("deploy", payload=b"web@1.4.2", service="^web$")
    assert result.returncode == 0
    assert result.stdout == f"deploy.sh: announcing web@1.4.2\nEvent ID: {event.id}\n"


def test_deploy_needs_a_service_and_a_version(consul_cli: Any) -> None:
    result = deploy("web")

    assert (result.returncode, result.stderr) == (64, "usage: deploy.sh SERVICE VERSION\n")


@pytest.mark.consul_agent(node_name="web-1", services=["web"])
def test_the_handler_deploys_each_release(
    consul_cli: Any, consul_agent: FakeConsulAgent, tmp_path: Path
) -> None:
    env = {"DEPLOY_STATE_DIR": str(tmp_path)}
    watch = consul_cli.watch("-name=deploy", str(HANDLER), env=env)
    [startup] = watch.wait_for_invocations(1)
    assert startup.events == []  # the watch runs its handler at once, with nothing to do

    for number, release in enumerate(RELEASES, start=2):
        watch.wait_until_blocked()
        assert deploy("web", release).returncode == 0
        [*_, latest] = watch.wait_for_invocations(number)
        assert latest.payloads == [f"web@{release}".encode()]
        assert latest.stdout == f"on-deploy: deployed web@{release}\n".encode()

    current, log = state(tmp_path)
    assert current == "web@1.4.2"
    ltimes = [event.ltime for event in consul_agent.events]
    assert log == [
        f"deployed web@{release} (ltime {ltime})"
        for release, ltime in zip(RELEASES, ltimes, strict=True)
    ]


def _deploy_through_unruly_gossip(consul_cluster: Any, watch: Any) -> list[str]:
    """Announce the releases (in order), let gossip deliver them, wait for the handler to see
    all of them; returns the order in which web-1 received them."""
    watch.wait_for_invocations(1)
    watch.wait_until_blocked()
    for release in RELEASES:
        assert deploy("web", release).returncode == 0
    consul_cluster.settle()
    web1 = consul_cluster["web-1"]
    ids = {event.id for event in web1.events}
    watch.wait_for(lambda runs: ids <= {i for run in runs for i in run.event_ids})
    return [event.payload.decode() for event in web1.events]


@UNRULY_GOSSIP
def test_the_naive_handler_ends_on_an_old_release_when_gossip_reorders(
    consul_cli: Any, consul_cluster: Any, tmp_path: Path
) -> None:
    consul_cli.use(consul_cluster["web-1"])
    env = {"DEPLOY_STATE_DIR": str(tmp_path)}
    watch = consul_cli.watch("-name=deploy", str(NAIVE_HANDLER), env=env)

    arrival = _deploy_through_unruly_gossip(consul_cluster, watch)

    assert arrival == ARRIVAL  # not the order they were fired in
    current, log = state(tmp_path)
    assert current == "web@1.4.0"  # the bug: web-1 now runs the oldest release
    assert [line.split()[1] for line in log] == ARRIVAL
    # Serf dropped the duplicated deliveries: the handler got each event once.
    assert [t for t in consul_cluster.trace if t.outcome == "duplicate"] != []


@UNRULY_GOSSIP
def test_the_handler_deploys_the_newest_release_whatever_the_order(
    consul_cli: Any, consul_cluster: Any, tmp_path: Path
) -> None:
    consul_cli.use(consul_cluster["web-1"])
    watch = consul_cli.watch("-name=deploy", str(HANDLER), env={"DEPLOY_STATE_DIR": str(tmp_path)})

    arrival = _deploy_through_unruly_gossip(consul_cluster, watch)

    assert arrival == ARRIVAL
    current, log = state(tmp_path)
    assert current == "web@1.4.2"
    # Whether gossip's deliveries reached the watch in one answer or in several, the handler
    # never went back to an older release: what it deployed has increasing Lamport times.
    ltimes = [int(line.rsplit(" ", 1)[1].rstrip(")")) for line in log]
    assert ltimes == sorted(set(ltimes))
    assert log[-1].startswith("deployed web@1.4.2 ")


@pytest.mark.consul_agent(node_name="web-1", services=["web"])
@pytest.mark.parametrize(
    ("handler", "redeployed"), [(NAIVE_HANDLER, True), (HANDLER, False)], ids=["naive", "fixed"]
)
def test_a_restarted_watch_hands_over_the_whole_buffer_again(
    consul_cli: Any, tmp_path: Path, handler: Path, redeployed: bool
) -> None:
    env = {"DEPLOY_STATE_DIR": str(tmp_path)}
    first = consul_cli.watch("-name=deploy", str(handler), env=env)
    first.wait_for_invocations(1)
    for number, release in enumerate(RELEASES, start=2):
        first.wait_until_blocked()
        deploy("web", release)
        first.wait_for_invocations(number)
    first.stop()  # an agent restart or `consul reload` does the same to configured watches

    second = consul_cli.watch("-name=deploy", str(handler), env=env)
    [startup] = second.wait_for_invocations(1)

    assert startup.payloads == [f"web@{r}".encode() for r in RELEASES]  # all of them, again
    _, log = state(tmp_path)
    if redeployed:  # the bug: every release deployed a second time, 1.4.0 included
        assert [line.split()[1] for line in log] == [f"web@{r}" for r in RELEASES] * 2
    else:
        assert len(log) == 3
        assert startup.stdout == b""
        assert startup.stderr.decode().count("on-deploy: skipping") == 3
