"""Stopping with long polls outstanding: fast, every client answered, nothing left behind.

``HTTPServer.stop`` promises: blocked handlers are woken and their answers sent, idle
connections closed at once, busy ones after ``grace`` seconds, and it returns once every
connection thread has ended. The pytester run checks the same at the scale of a test suite:
a thousand tests that each leave a long poll behind end with no thread and no socket left.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from reliability_support import (
    new_threads,
    open_fds,
    parse_responses,
    read_until_closed,
    uuid_to_uint64,
    wait_until,
)

from pytest_consul_events.fake import FakeConsulAgent

BLOCKED = 20
NOT_WAITING = 10.0
"""Seconds within which stop() must return: far below the 10-minute wait of the blocked queries
(and 50 times its 0.2 s grace), so only a stop that waits for them fails, not a slow machine."""


def test_stop_with_20_blocked_py_consul_queries_answers_them_all_at_once() -> None:
    before_threads = list(threading.enumerate())
    before_fds = open_fds()
    agent = FakeConsulAgent().start()
    event = agent.fire("deploy")
    index = uuid_to_uint64(event.id)
    clients = [agent.client() for _ in range(BLOCKED)]
    pool = ThreadPoolExecutor(BLOCKED, thread_name_prefix="blocked-client")
    try:
        futures = [
            pool.submit(client.event.list, index=str(index), wait="10m") for client in clients
        ]
        agent.wait_for_blocked(BLOCKED, timeout=5)
        started = time.monotonic()
        agent.stop()
        stopped_in = time.monotonic() - started
        answers = [future.result(timeout=5) for future in futures]
        answered_in = time.monotonic() - started
    finally:
        agent.stop()
        pool.shutdown(wait=True)
        for client in clients:
            client.http.session.close()

    # Behaviour, not speed: stop() and the answers come long before the queries' 10-minute wait.
    assert stopped_in < NOT_WAITING
    assert answered_in < NOT_WAITING
    assert [(int(i), [e["ID"] for e in events]) for i, events in answers] == [
        (index, [event.id])
    ] * BLOCKED
    assert agent.blocked_queries == 0
    assert agent.server.connection_count == 0
    wait_until(lambda: not new_threads(before_threads), timeout=1.0, what="threads to end")
    wait_until(lambda: open_fds() == before_fds, timeout=1.0, what="descriptors to close")


def test_stop_answers_blocked_raw_queries_with_connection_close_and_closes_the_rest() -> None:
    # 20 blocked queries, 3 idle keep-alive connections and one client stuck half-way through
    # its headers: the blocked ones get their answer with "Connection: close", every
    # connection then reaches EOF, and stop() returns within its grace period.
    before_threads = list(threading.enumerate())
    before_fds = open_fds()
    agent = FakeConsulAgent().start()
    event = agent.fire("deploy")
    index = uuid_to_uint64(event.id)
    request = f"GET /v1/event/list?index={index}&wait=10m HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    blocked = [socket.create_connection((agent.host, agent.port), timeout=5) for _ in range(20)]
    idle = [socket.create_connection((agent.host, agent.port), timeout=5) for _ in range(3)]
    half = socket.create_connection((agent.host, agent.port), timeout=5)
    try:
        for sock in blocked:
            sock.sendall(request)
        for sock in idle:
            sock.sendall(b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = sock.recv(65536)
            assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
        half.sendall(b"GET /v1/event/list HTTP/1.1\r\nHo")
        agent.wait_for_blocked(BLOCKED, timeout=5)
        wait_until(lambda: agent.server.connection_count == 24, what="24 connections")
        started = time.monotonic()
        agent.stop()
        stopped_in = time.monotonic() - started
        answers = [read_until_closed(sock) for sock in blocked]
        leftovers = [read_until_closed(sock) for sock in [*idle, half]]
    finally:
        agent.stop()
        for sock in [*blocked, *idle, half]:
            sock.close()

    assert stopped_in < NOT_WAITING  # the half-sent request is cut after the 0.2 s grace
    for answer in answers:
        [response] = parse_responses(answer)
        assert (response.status, response.header("Connection")) == (200, "close")
        assert response.header("X-Consul-Index") == str(index)
        assert [e["ID"] for e in json.loads(response.body)] == [event.id]
    assert leftovers == [b""] * 4
    wait_until(lambda: not new_threads(before_threads), timeout=1.0, what="threads to end")
    wait_until(lambda: open_fds() == before_fds, timeout=1.0, what="descriptors to close")


def test_stop_during_a_storm_of_new_blocking_queries_returns_fast() -> None:
    # Clients keep sending blocking queries while the server stops: stop() still returns at
    # once, and every client either got an answer or found the connection closed or refused.
    agent = FakeConsulAgent().start()
    index = uuid_to_uint64(agent.fire("deploy").id)
    stop = threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()

    def hammer() -> None:
        data = f"GET /v1/event/list?index={index}&wait=10m HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        while not stop.is_set():
            try:
                with socket.create_connection((agent.host, agent.port), timeout=5) as sock:
                    sock.sendall(data)
                    answer = read_until_closed(sock)
            except ConnectionRefusedError:
                outcome = "refused"
            except (ConnectionResetError, BrokenPipeError):
                outcome = "reset"
            else:
                outcome = "closed" if not answer else str(parse_responses(answer)[0].status)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        agent.wait_for_blocked(8, timeout=5)
        started = time.monotonic()
        agent.stop()
        stopped_in = time.monotonic() - started
        wait_until(lambda: "refused" in outcomes, what="a connection to be refused")
    finally:
        stop.set()
        agent.stop()
        for thread in threads:
            thread.join(timeout=10)
    assert stopped_in < NOT_WAITING
    assert set(outcomes) <= {"200", "closed", "refused", "reset"}
    assert "200" in outcomes
    assert agent.server.connection_count == 0


INNER_CONFTEST = '''
import json
import os
import threading
import time

import pytest

REPORT = os.environ["LEAK_REPORT"]
snapshots = {}


def snapshot():
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[name] = os.readlink("/proc/self/fd/" + name)
        except OSError:
            pass
    return {"threads": sorted(t.name for t in threading.enumerate()), "fds": fds}


def settled(expected_threads, timeout=5.0):
    """The snapshot once only the expected threads are left (or the deadline passed)."""
    deadline = time.monotonic() + timeout
    while True:
        current = snapshot()
        if len(current["threads"]) <= expected_threads or time.monotonic() > deadline:
            return current
        time.sleep(0.005)


def pytest_configure(config):
    # Registered before the plugin's first fixture registers agent.stop, so it runs after it.
    def after_cleanup():
        snapshots["after_cleanup"] = settled(len(snapshots["start"]["threads"]))
        with open(REPORT, "w") as report:
            json.dump(snapshots, report)

    config.add_cleanup(after_cleanup)


def pytest_sessionstart(session):
    snapshots["start"] = snapshot()


def pytest_sessionfinish(session):
    # The session agent is still serving: its accept thread and four descriptors remain.
    snapshots["finish"] = settled(len(snapshots["start"]["threads"]) + 1)
'''

INNER_TESTS = """
import threading

import pytest


def block(agent, index):
    client = agent.client()
    try:
        client.event.list(index=index, wait="10m")
    finally:
        client.http.session.close()


@pytest.mark.parametrize("n", range({count}))
def test_leaves_a_blocked_query_behind(consul_agent, consul_client, n):
    consul_client.event.fire("deploy", str(n))
    index, events = consul_client.event.list()
    assert [e["LTime"] for e in events] == [2]
    threading.Thread(target=block, args=(consul_agent, index), daemon=True).start()
    consul_agent.wait_for_blocked(1, timeout=5)
"""


def test_released_query_is_not_counted_as_blocked_in_the_next_test() -> None:
    # The consul_agent fixture's sequence: release_blocked() after a test, configure() before
    # the next. A long switch interval keeps the released thread from running in between,
    # as a busy machine may; the next test then must not see it as blocked.
    agent = FakeConsulAgent().start()
    waiter = threading.Thread(target=agent.list_events, kwargs={"index": 1, "wait": 60.0})
    waiter.start()
    try:
        agent.wait_for_blocked(1, timeout=5)
        previous = sys.getswitchinterval()
        sys.setswitchinterval(1.0)
        try:
            agent.release_blocked()  # teardown of the test that left the query
            agent.configure()  # setup of the next test
            counted = agent.blocked_queries
        finally:
            sys.setswitchinterval(previous)
    finally:
        agent.stop()
        waiter.join(timeout=5)
    assert counted == 0


def test_closing_idle_connections_spares_a_connection_about_to_send_its_request() -> None:
    with (
        FakeConsulAgent() as agent,
        socket.create_connection((agent.host, agent.port), timeout=5) as sock,
    ):
        wait_until(lambda: agent.server.connection_count == 1, what="the accept")
        agent.server.close_idle_connections()  # the fixture, as the next test starts
        sock.sendall(b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            answer = read_until_closed(sock)
        except ConnectionResetError:
            answer = b""
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("count", [50, pytest.param(1000, marks=pytest.mark.slow)])
def test_a_suite_leaving_blocked_queries_ends_with_no_thread_or_socket_left(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    report = pytester.path / "leaks.json"
    monkeypatch.setenv("LEAK_REPORT", str(report))
    pytester.makeini(
        "[pytest]\n"
        "asyncio_default_fixture_loop_scope = function\n"
        "filterwarnings =\n"
        "    error\n"  # a thread that dies of an exception fails the inner test
        "    ignore:Benchmarks are automatically disabled\n"
    )
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner_leaves_blocked=INNER_TESTS.format(count=count))
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=count)
    snapshots = json.loads(report.read_text())
    start, finish, after = snapshots["start"], snapshots["finish"], snapshots["after_cleanup"]

    accept = [name for name in finish["threads"] if name.startswith("consul-fake-accept:")]
    assert len(accept) == 1
    assert finish["threads"] == sorted([*start["threads"], *accept])
    # Still open at the end of the session: the session agent's listener, its wake-up socket
    # pair and its accept loop's epoll, nothing else (no connection of any test).
    assert set(start["fds"]) <= set(finish["fds"])
    new_fds = {fd: link for fd, link in finish["fds"].items() if start["fds"].get(fd) != link}
    assert sorted(link.split(":")[0] for link in new_fds.values()) == [
        "anon_inode",
        "socket",
        "socket",
        "socket",
    ]
    assert [link for link in new_fds.values() if link.startswith("anon_inode")] == [
        "anon_inode:[eventpoll]"
    ]
    # Once the plugin has stopped the session agent: exactly the threads and sockets of the
    # start. (pytest's own capture files may be closed by then, so only sockets are compared.)
    assert after["threads"] == start["threads"]

    def network(fds: dict[str, str]) -> dict[str, str]:
        return {fd: link for fd, link in fds.items() if link.startswith(("socket:", "anon_inode:"))}

    assert network(after["fds"]) == network(start["fds"])
    assert elapsed < 300  # no test waited for its query's 10 minutes (nor half of them)
