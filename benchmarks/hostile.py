"""``hostile``: the standalone server under attack vs the same bytes of benign traffic.

Each side runs against its own fresh standalone server (``python -m pytest_consul_events
--port 0``, a subprocess), in alternating rounds. The hostile side sends, step by step:

1. a chunked fire whose chunk size is ``-1``, followed by 64 MiB (sent until the server hangs up);
2. one request with 20,000 folded header lines;
3. 260 connections at once (Consul's limit of 200 a client answers 60 of them 429);
4. 30,000 requests and 10,000 fires, pipelined on eight connections.

The benign side sends the same volume as well-formed traffic: 64 MiB as list requests with
128 KiB bodies on one connection, one request whose single header holds the 20,000 lines' bytes,
260 connections one after another, and the same 40,000 requests. After every step each server
must answer a normal fire and list. Reported, from ``/proc``: the server's peak resident size
(``VmHWM``) and CPU time (user + system), hostile / benign, with soft targets. A last row
compares the resident size of one server after two numbers of requests (``growth``): it must
stay flat once the bounded histories (10,000 records) are full.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Report, Row, Settings, alternate, fmt, log, median

MIB = 1 << 20
RSS_TARGET = 1.5
CPU_TARGET = 1.5
GROWTH_TARGET_MIB = 4.0

FIRE = b"PUT /v1/event/fire/deploy HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
LIST = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\n\r\n"
CHECK = (
    b"PUT /v1/event/fire/check HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
    b"GET /v1/event/list?name=check HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
)


class Server:
    """A standalone fake agent in a subprocess, with its ``/proc`` readings."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parent.parent
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest_consul_events", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        url = self.process.stdout.readline().strip().rsplit(" ", 1)[-1]
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.address = (host, int(port))

    def peak_rss_mib(self) -> float:
        return self._status("VmHWM") / 1024

    def rss_mib(self) -> float:
        return self._status("VmRSS") / 1024

    def _status(self, key: str) -> int:
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {key} for the server")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def connect(self, timeout: float = 30.0) -> socket.socket:
        return socket.create_connection(self.address, timeout=timeout)

    def check(self) -> None:
        """A normal fire and list, answered 200 each.

        Raises:
            RuntimeError: either was not answered 200.
        """
        with self.connect() as sock:
            sock.sendall(CHECK)
            data = _read_all(sock)
        statuses = _statuses(data)
        if statuses != [b"200", b"200"]:
            raise RuntimeError(f"the server answered {statuses} to a normal fire and list")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        pass  # a reset after the answer: what was read is what counts
    return b"".join(chunks)


def _statuses(data: bytes) -> list[bytes]:
    """The status codes of a stream of Content-Length answers."""
    statuses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        statuses.append(lines[0][9:12])
        length = next(
            (int(h.split(b":")[1]) for h in lines if h.lower().startswith(b"content-l")), 0
        )
        data = rest[length:]
    return statuses


def _read_answers(sock: socket.socket, count: int, buffer: bytearray) -> None:
    """Read ``count`` Content-Length answers (``buffer`` keeps what follows them)."""
    for _ in range(count):
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            data = sock.recv(65536)
            if not data:
                raise RuntimeError("the server closed the connection")
            buffer += data
        head = bytes(buffer[:end]).split(b"\r\n")
        length = next(int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-l"))
        while len(buffer) < end + 4 + length:
            buffer += sock.recv(65536)
        del buffer[: end + 4 + length]


def _pipeline(server: Server, request: bytes, count: int, batch: int = 100) -> None:
    with server.connect() as sock:
        buffer = bytearray()
        done = 0
        while done < count:
            size = min(batch, count - done)
            sock.sendall(request * size)
            _read_answers(sock, size, buffer)
            done += size


def _traffic(server: Server, requests: int, fires: int) -> None:
    """``requests`` lists and ``fires`` fires, on four connections each, at once."""
    threads = [
        threading.Thread(target=_pipeline, args=(server, LIST, requests // 4)) for _ in range(4)
    ] + [threading.Thread(target=_pipeline, args=(server, FIRE, fires // 4)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# -- the two scenarios ----------------------------------------------------------------------------

FOLDED_LINES = 20_000
CONNECTIONS = 260


def hostile(server: Server, settings: Settings) -> None:
    volume = settings.pick(64, 16)
    block = b"x" * MIB
    with server.connect() as sock:
        sock.sendall(
            b"PUT /v1/event/fire/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"
        )
        try:
            for _ in range(volume):
                sock.sendall(block)
        except OSError:
            pass  # the server answered and hung up
        _read_all(sock)
    server.check()

    with server.connect() as sock:
        sock.sendall(
            b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n"
            + b" b\r\n" * FOLDED_LINES
            + b"Connection: close\r\n\r\n"
        )
        _read_all(sock)
    server.check()

    sockets = [server.connect() for _ in range(CONNECTIONS)]
    try:
        for sock in sockets:
            sock.sendall(LIST)
        for sock in sockets:
            sock.recv(65536)
    finally:
        for sock in sockets:
            sock.close()
    server.check()

    _traffic(server, settings.pick(30_000, 6_000), settings.pick(10_000, 2_000))
    server.check()


def benign(server: Server, settings: Settings) -> None:
    volume = settings.pick(64, 16)
    body = 128 << 10
    request = b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % body
    request += b"x" * body
    _pipeline(server, request, volume * MIB // body, batch=8)
    server.check()

    with server.connect() as sock:
        sock.sendall(
            b"GET /v1/event/list HTTP/1.1\r\nHost: x\r\nX-Big: a"
            + b"b" * (4 * FOLDED_LINES)
            + b"\r\nConnection: close\r\n\r\n"
        )
        _read_all(sock)
    server.check()

    for _ in range(CONNECTIONS):
        with server.connect() as sock:
            sock.sendall(LIST.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            _read_all(sock)
    server.check()

    _traffic(server, settings.pick(30_000, 6_000), settings.pick(10_000, 2_000))
    server.check()


def _measure(
    scenario: Callable[[Server, Settings], None], settings: Settings
) -> tuple[float, float]:
    """Peak resident MiB and CPU seconds of a fresh server through ``scenario``."""
    server = Server()
    try:
        started = time.perf_counter()
        scenario(server, settings)
        log(f"    {scenario.__name__}: {time.perf_counter() - started:.1f} s")
        return server.peak_rss_mib(), server.cpu_seconds()
    finally:
        server.close()


def _growth(settings: Settings) -> tuple[float, float, int, int]:
    """Resident MiB of one server after ``first`` requests, then after ``second`` in all."""
    first, second = settings.pick((30_000, 300_000), (24_000, 72_000))
    server = Server()
    try:
        _traffic(server, first * 3 // 4, first // 4)
        after_first = server.rss_mib()
        _traffic(server, (second - first) * 3 // 4, (second - first) // 4)
        server.check()
        return after_first, server.rss_mib(), first, second
    finally:
        server.close()


def run(settings: Settings) -> Report:
    """Three rows: peak resident size and CPU, hostile vs benign; resident size growth."""
    if not Path("/proc/self/status").exists():
        return Report(notes=["hostile: skipped, it reads /proc"])
    rounds = settings.pick(3, 1)
    results = alternate(
        rounds,
        lambda: _measure(hostile, settings),
        lambda: _measure(benign, settings),
        warmup=False,
    )
    hostile_rss = median([rss for rss, _ in results[0]])
    benign_rss = median([rss for rss, _ in results[1]])
    hostile_cpu = median([cpu for _, cpu in results[0]])
    benign_cpu = median([cpu for _, cpu in results[1]])
    report = Report()
    for name, fake, baseline, unit, target in (
        ("hostile[peak RSS]", hostile_rss, benign_rss, "MiB", RSS_TARGET),
        ("hostile[CPU]", hostile_cpu, benign_cpu, "s CPU", CPU_TARGET),
    ):
        ratio = fake / baseline
        report.rows.append(
            Row(
                name=name,
                fake=fake,
                baseline=baseline,
                unit=unit,
                target=f"ratio < {target}",
                measured=f"{ratio:.2f}",
                passed=ratio < target,
                soft=True,
            )
        )
    log("  growth ...")
    before, after, first, second = _growth(settings)
    report.rows.append(
        Row(
            name=f"hostile[growth {first // 1000}k->{second // 1000}k requests]",
            fake=after,
            baseline=before,
            unit="MiB RSS",
            target=f"< +{GROWTH_TARGET_MIB:g} MiB",
            measured=f"+{after - before:.1f} MiB",
            passed=after - before < GROWTH_TARGET_MIB,
            soft=True,
        )
    )
    report.notes.append(
        f"hostile: {rounds} round(s) per side, each on a fresh standalone server: the -1 chunk "
        f"size and {settings.pick(64, 16)} MiB, {FOLDED_LINES:,} folded lines, {CONNECTIONS} "
        f"connections at once, then {settings.pick(40_000, 8_000):,} requests (a quarter of "
        f"them fires), vs the same bytes well formed; growth: resident size after "
        f"{first:,} and {second:,} requests ({fmt(before, 'MiB')} -> {fmt(after, 'MiB')})"
    )
    return report
