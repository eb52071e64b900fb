"""Flat memory in long runs: a server that answered many requests is no bigger than one that
answered a few, once its bounded histories are full.

In process, ``tracemalloc`` compares what two equal runs of requests leave allocated. Out of
process (marked slow), the standalone server's resident size is compared after 24,000 and after
72,000 more requests and fires: uncapped, the request log and ``fired`` grew by about 1 KB per
fire and list pair.
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import parse_responses, read_until_closed
from wire import wait_until

from pytest_consul_events.fake import FakeConsulAgent

FIRE = b"PUT /v1/event/fire/deploy HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
LIST = b"GET /v1/event/list?name=nothing HTTP/1.1\r\nHost: x\r\n\r\n"
MIXED = [
    FIRE,
    LIST,
    b"GET /v1/kv/key HTTP/1.1\r\nHost: x\r\n\r\n",  # a 404 the log marks unimplemented
    b"GET /v1/event/list?index=x HTTP/1.1\r\nHost: x\r\n\r\n",  # 400 Invalid index
    b"PUT /v1/event/fire/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
    b"GET /v1/event/list?name=nothing HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\tc\r\n\r\n",
]


def read_answers(sock: socket.socket, count: int, buffer: bytearray) -> None:
    """Read ``count`` Content-Length responses off ``sock`` (``buffer`` keeps the rest)."""
    for _ in range(count):
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer += sock.recv(65536)
        head = bytes(buffer[:end]).split(b"\r\n")
        assert head[0].startswith(b"HTTP/1.1 "), head[0]
        length = next(int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-l"))
        while len(buffer) < end + 4 + length:
            buffer += sock.recv(65536)
        del buffer[: end + 4 + length]


def run(agent: FakeConsulAgent, rounds: int) -> None:
    """``rounds`` batches of the mixed requests, pipelined, each batch on a new connection,
    plus a malformed request and a refused connection every ten rounds."""
    for number in range(rounds):
        with socket.create_connection((agent.host, agent.port), timeout=10) as sock:
            buffer = bytearray()
            sock.sendall(b"".join(MIXED) * 5)
            read_answers(sock, len(MIXED) * 5, buffer)
        if number % 10 == 0:
            bad = b"GET /v1/event/li\x01st HTTP/1.1\r\nHost: x\r\n\r\n"
            with socket.create_connection((agent.host, agent.port), timeout=10) as sock:
                sock.sendall(bad)
                assert read_until_closed(sock).startswith(b"HTTP/1.1 400 Bad Request")


def traced_after(agent: FakeConsulAgent, rounds: int) -> int:
    run(agent, rounds)
    wait_until(lambda: agent.server.connection_count == 0, what="connections to end")
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


@pytest.fixture
def small_history_agent() -> Iterator[FakeConsulAgent]:
    with FakeConsulAgent(history_limit=50, buffer_size=8) as agent:
        yield agent


def test_equal_runs_leave_nothing_more_allocated(small_history_agent: FakeConsulAgent) -> None:
    agent = small_history_agent
    run(agent, 30)  # fill the histories, the buffer and every cache first
    wait_until(lambda: agent.server.connection_count == 0, what="connections to end")
    before_threads = threading.active_count()
    tracemalloc.start()
    try:
        first = traced_after(agent, 60)
        second = traced_after(agent, 60)
    finally:
        tracemalloc.stop()
    # 60 rounds are 1,800 requests and 6 new connections a round: a leak of even 10 bytes a
    # request would show as 18 KB.
    assert second - first < 16_000, f"{second - first} bytes more after the second run"
    assert threading.active_count() == before_threads
    assert (len(agent.fired), agent.fired_dropped) == (50, 150 * 10 - 50)
    assert (len(agent.requests), agent.requests.dropped) == (50, 150 * 30 - 50)


# -- the standalone server -------------------------------------------------------------------------


def resident_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")  # pragma: no cover


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def pipeline(host: str, port: int, requests: list[bytes], repeat: int) -> None:
    """Send ``requests`` ``repeat`` times on one keep-alive connection, reading every answer."""
    with socket.create_connection((host, port), timeout=30) as sock:
        buffer = bytearray()
        batch = b"".join(requests)
        for _ in range(repeat):
            sock.sendall(batch)
            read_answers(sock, len(requests), buffer)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_standalone_server_stays_the_same_size() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_consul_events", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        host, port = url.removeprefix("http://").rsplit(":", 1)
        fire_and_list = [FIRE, b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n"]
        pipeline(host, int(port), fire_and_list, 12_000)  # 24,000 requests: histories full
        after_24k = resident_kib(process.pid)
        threads = threads_of(process.pid)
        pipeline(host, int(port), fire_and_list, 36_000)  # 72,000 more
        after_96k = resident_kib(process.pid)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            [listed] = parse_responses(read_until_closed(sock))
        assert listed.status == 200
        # Uncapped, the log and `fired` grew ~1.2 KB per pair: 42 MB over these 36,000 pairs.
        assert after_96k - after_24k < 4096, f"{after_24k} KiB, then {after_96k} KiB"
        wait_until(lambda: threads_of(process.pid) == threads, what="the server's threads")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
