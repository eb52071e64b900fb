"""Consul's per-client connection limit: ``limits { http_max_conns_per_client }``, default 200.

Consul (agent/agent.go) sets hashicorp/go-connlimit's ``Limiter`` to the configured limit and
installs ``HTTPConnStateFuncWithDefault429Handler(10 * time.Millisecond)`` as the server's
``ConnState`` hook: in ``StateNew`` a connection is counted against its client IP, and one that
would pass the limit gets go-connlimit's 429 bytes and is closed (without a handler, without a
goroutine of its own); ``StateClosed`` frees the count. A limit of 0 means no limit.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Iterator

import pytest
from reliability_support import read_until_closed
from wire import RawConnection, wait_until

from pytest_consul_events import messages
from pytest_consul_events.cluster import FakeConsulCluster
from pytest_consul_events.fake import FakeConsulAgent

BODY = b"Your IP is issuing too many concurrent connections, please rate limit your calls\n"
TOO_MANY = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 81\r\n"
    b"Connection: close\r\n\r\n" + BODY
)
"""go-connlimit's tooManyRequestsResponse, written out from its source."""

LIST = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n"


def test_the_429_bytes_are_go_connlimits() -> None:
    assert len(BODY) == 81
    assert messages.TOO_MANY_REQUESTS_RESPONSE.encode() == TOO_MANY


def held(agent: FakeConsulAgent, count: int) -> list[RawConnection]:
    """``count`` keep-alive connections, each answered once (so each is surely counted)."""
    connections = []
    try:
        for _ in range(count):
            connection = RawConnection(agent.host, agent.port)
            connections.append(connection)
            connection.send(LIST)
            assert connection.read_response().status == 200
    except BaseException:
        for connection in connections:
            connection.close()
        raise
    return connections


def refused(agent: FakeConsulAgent) -> bytes:
    """Everything a new connection receives before the server closes it (nothing sent)."""
    with RawConnection(agent.host, agent.port) as connection:
        return read_until_closed(connection.sock)


@pytest.fixture
def limited() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent(http_max_conns_per_client=3) as agent:
        yield agent


def test_the_connection_over_the_limit_gets_the_429_and_is_closed(
    limited: FakeConsulAgent,
) -> None:
    connections = held(limited, 3)
    try:
        assert refused(limited) == TOO_MANY
        assert refused(limited) == TOO_MANY
        for connection in connections:  # those under the limit are still served
            connection.send(LIST)
            assert connection.read_response().status == 200
    finally:
        for connection in connections:
            connection.close()
    # Refused connections reach no handler: only the six lists were logged.
    assert [(r.method, r.path, r.status) for r in limited.requests] == [
        ("GET", "/v1/event/list", 200)
    ] * 6


def test_a_refused_connection_gets_no_thread_and_is_not_counted(
    limited: FakeConsulAgent,
) -> None:
    connections = held(limited, 3)
    try:
        for _ in range(20):
            assert refused(limited) == TOO_MANY
        conn_threads = [t for t in threading.enumerate() if t.name == "consul-fake-conn"]
        assert len(conn_threads) == 3
        assert limited.server.connections_from("127.0.0.1") == 3
        assert limited.server.connection_count == 3
    finally:
        for connection in connections:
            connection.close()


def test_connections_under_the_limit_are_served_while_others_are_refused(
    limited: FakeConsulAgent,
) -> None:
    connections = held(limited, 3)
    answers: list[bytes] = []
    stop = threading.Event()

    def knock() -> None:
        while not stop.is_set():
            answers.append(refused(limited))

    knocker = threading.Thread(target=knock)
    knocker.start()
    try:
        wait_until(lambda: len(answers) >= 5, what="refusals under way")
        for _ in range(50):
            for connection in connections:
                connection.send(LIST)
                assert connection.read_response().status == 200
    finally:
        stop.set()
        knocker.join(timeout=10)
        for connection in connections:
            connection.close()
    assert set(answers) == {TOO_MANY}


def test_a_closed_connection_frees_its_place_at_once(limited: FakeConsulAgent) -> None:
    # A client that closes its connections and opens a new one straight away must not be
    # refused for connections it no longer has, even before the server's threads have seen
    # the end of them.
    for _ in range(20):
        connections = held(limited, 3)
        for connection in connections:
            connection.close()
        [again] = held(limited, 1)
        again.close()
    wait_until(lambda: limited.server.connection_count == 0, what="the connections to end")
    assert limited.server.connections_from("127.0.0.1") == 0


def test_clients_that_never_read_their_429_do_not_stall_the_server(
    limited: FakeConsulAgent,
) -> None:
    connections = held(limited, 3)
    silent = [RawConnection(limited.host, limited.port) for _ in range(30)]  # never read
    try:
        for connection in silent:  # each was refused: its 429 waits, unread
            wait_until(lambda c=connection: select.select([c.sock], [], [], 0)[0] != [])
        connections.pop().close()
        [fresh] = held(limited, 1)  # accepted and served at once despite the 30 above
        fresh.close()
        for connection in silent:
            assert read_until_closed(connection.sock) == TOO_MANY
    finally:
        for connection in [*connections, *silent]:
            connection.close()


def test_the_default_limit_is_consuls_200() -> None:
    with FakeConsulAgent() as agent:
        assert agent.config.http_max_conns_per_client == 200
        connections = held(agent, 200)
        try:
            assert refused(agent) == TOO_MANY
        finally:
            for connection in connections:
                connection.close()


def test_a_limit_of_0_is_no_limit() -> None:
    with FakeConsulAgent(http_max_conns_per_client=0) as agent:
        connections = held(agent, 210)
        try:
            assert agent.server.connections_from("127.0.0.1") == 210
        finally:
            for connection in connections:
                connection.close()


def test_the_limit_is_read_as_each_connection_arrives() -> None:
    with FakeConsulAgent(http_max_conns_per_client=1) as agent:
        first = held(agent, 1)
        try:
            assert refused(agent) == TOO_MANY
            agent.configure(http_max_conns_per_client=2)
            second = held(agent, 1)
            assert refused(agent) == TOO_MANY
            agent.configure(http_max_conns_per_client=1)  # lowered: open ones stay open
            [connection] = second
            connection.send(LIST)
            assert connection.read_response().status == 200
            assert refused(agent) == TOO_MANY
        finally:
            for connection in [*first, *second]:
                connection.close()


@pytest.fixture
def quiet_session_agent(consul_agent: FakeConsulAgent) -> FakeConsulAgent:
    """The session agent once no connection of an earlier test is counted any more."""
    wait_until(
        lambda: consul_agent.server.connections_from("127.0.0.1") == 0,
        what="earlier tests' connections to close",
    )
    return consul_agent


@pytest.mark.consul_agent(http_max_conns_per_client=1)
def test_the_marker_sets_the_limit_of_the_test(quiet_session_agent: FakeConsulAgent) -> None:
    connections = held(quiet_session_agent, 1)
    try:
        assert refused(quiet_session_agent) == TOO_MANY
    finally:
        for connection in connections:
            connection.close()


def test_the_next_test_has_the_default_limit_again(quiet_session_agent: FakeConsulAgent) -> None:
    assert quiet_session_agent.config.http_max_conns_per_client == 200
    connections = held(quiet_session_agent, 2)
    for connection in connections:
        connection.close()


def test_each_agent_of_a_cluster_has_its_own_limit() -> None:
    agents = [{"node_name": "node1", "http_max_conns_per_client": 1}, "node2"]
    with FakeConsulCluster(agents) as cluster:
        one = held(cluster["node1"], 1)
        two = held(cluster["node2"], 2)  # under node2's default limit of 200
        try:
            assert refused(cluster["node1"]) == TOO_MANY
            assert cluster["node2"].server.connections_from("127.0.0.1") == 2
        finally:
            for connection in [*one, *two]:
                connection.close()


@pytest.mark.parametrize(
    ("options", "error", "text"),
    [
        (
            {"http_max_conns_per_client": -1},
            ValueError,
            "http_max_conns_per_client must be an int >= 0, not -1 (int)",
        ),
        (
            {"http_max_conns_per_client": True},
            TypeError,
            "http_max_conns_per_client must be an int >= 0, not True (bool)",
        ),
        (
            {"http_max_conns_per_client": "5"},
            TypeError,
            "http_max_conns_per_client must be an int >= 0, not '5' (str)",
        ),
    ],
    ids=["negative", "bool", "string"],
)
def test_invalid_limits_are_refused_naming_the_option(
    options: dict[str, object], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as raised:
        FakeConsulAgent(**options)
    assert str(raised.value) == text
    agent = FakeConsulAgent()
    try:
        with pytest.raises(error) as raised:
            agent.configure(**options)
        assert str(raised.value) == text
    finally:
        agent.stop()
