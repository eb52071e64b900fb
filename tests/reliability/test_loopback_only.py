"""Every fake agent listens on 127.0.0.1 only: not on a wildcard, not on another local address.

The listening socket is found through the kernel's own table (``/proc/net/tcp`` and ``tcp6``)
by the inode of a descriptor this process holds, so the check does not take the server's
word for where it is bound.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from collections.abc import Iterator

import pytest

from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.fake import FakeConsulAgent

SIOCGIFADDR = 0x8915
LISTEN = "0A"


def _our_socket_inodes() -> set[str]:
    inodes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _decode(address: str, family: str) -> str:
    raw = bytes.fromhex(address)
    if family == "tcp":
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # /proc/net/tcp6 writes each 32-bit word in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_on(port: int) -> list[tuple[str, str]]:
    """(family, address) of every listening socket of this process on ``port``."""
    ours = _our_socket_inodes()
    found = []
    for family in ("tcp", "tcp6"):
        try:
            with open(f"/proc/net/{family}") as table:
                rows = table.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            address, _, hex_port = local.partition(":")
            if state == LISTEN and int(hex_port, 16) == port and inode in ours:
                found.append((family, _decode(address, family)))
    return found


def other_ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses outside 127.0.0.0/8."""
    addresses = set()
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(
                    probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15])
                )
            except OSError:
                continue  # no IPv4 address on this interface
        addresses.add(socket.inet_ntoa(packed[20:24]))
    return sorted(a for a in addresses if not a.startswith("127."))


def assert_loopback_only(agent: FakeConsulAgent) -> None:
    assert agent.host == "127.0.0.1"
    assert agent.server.host == "127.0.0.1"
    assert agent.url == f"http://127.0.0.1:{agent.port}"
    assert listening_on(agent.port) == [("tcp", "127.0.0.1")]
    with socket.create_connection(("127.0.0.1", agent.port), timeout=5) as sock:
        assert sock.getpeername() == ("127.0.0.1", agent.port)
        assert sock.getsockname()[0] == "127.0.0.1"
    for address in other_ipv4_addresses():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, agent.port), timeout=5).close()


@pytest.fixture
def non_loopback() -> list[str]:
    addresses = other_ipv4_addresses()
    if not addresses:
        pytest.skip("this machine has no IPv4 address besides loopback")
    return addresses


def test_the_probe_sees_a_wildcard_listener_on_another_address(non_loopback: list[str]) -> None:
    # The check above would catch a server bound to 0.0.0.0: such a listener is found in the
    # table as 0.0.0.0 and answers on the other address.
    with socket.create_server(("0.0.0.0", 0)) as listener:
        port = listener.getsockname()[1]
        assert listening_on(port) == [("tcp", "0.0.0.0")]
        socket.create_connection((non_loopback[0], port), timeout=5).close()


def test_a_default_agent_listens_on_loopback_only() -> None:
    with FakeConsulAgent() as agent:
        assert_loopback_only(agent)


def test_a_restarted_agent_still_listens_on_loopback_only() -> None:
    agent = FakeConsulAgent().start()
    try:
        agent.restart()
        assert_loopback_only(agent)
    finally:
        agent.stop()


def test_the_session_agent_listens_on_loopback_only(consul_agent: FakeConsulAgent) -> None:
    assert_loopback_only(consul_agent)


def test_every_agent_of_a_cluster_listens_on_loopback_only() -> None:
    agents = ["web-1", {"node_name": "web-2"}, {"node_name": "db-1", "datacenter": "dc2"}]
    with FakeConsulCluster(agents) as cluster:
        assert len(cluster) == 3
        for agent in cluster:
            assert_loopback_only(agent)


def test_every_agent_of_the_cluster_fixture_listens_on_loopback_only(
    consul_cluster: FakeConsulCluster,
) -> None:
    assert [agent.node_name for agent in consul_cluster] == ["node1", "node2", "node3"]
    for agent in consul_cluster:
        assert_loopback_only(agent)


def test_a_cluster_agent_started_again_listens_on_loopback_only() -> None:
    with FakeConsulCluster() as cluster:
        cluster.stop("node2")
        assert listening_on(cluster["node2"].port) == []
        cluster.start_agent("node2")
        assert_loopback_only(cluster["node2"])


@pytest.fixture
def loopback_agents() -> Iterator[list[FakeConsulAgent]]:
    agents = [FakeConsulAgent().start() for _ in range(3)]
    yield agents
    for agent in agents:
        agent.stop()


def test_the_non_loopback_address_is_refused(
    loopback_agents: list[FakeConsulAgent], non_loopback: list[str]
) -> None:
    for agent in loopback_agents:
        for address in non_loopback:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, agent.port), timeout=5).close()
