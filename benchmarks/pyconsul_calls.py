"""``pyconsul_calls``: py-consul ``event.fire`` / ``event.list`` calls per second.

Fake: a :class:`~pytest_consul_events.fake.FakeConsulAgent` started in this process, as the
``consul_agent`` fixture serves it. Baseline: :class:`~benchmarks.canned.CannedServer`, which
answers with the fake's own bytes (the same list body, ``X-Consul-Index`` and headers, and a fire
answer of the same size) captured once at the start, so both sides send identical responses and
the client does identical work. Target: fake / baseline >= 0.75.

The client runs in this process (as a test would: client, server threads and the test share the
GIL) and in a subprocess (client and server each have a core), one row each. Lists are measured
before fires, on an agent holding a few events, so the list body is the same in every round.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from benchmarks.canned import CannedServer, build_response
from benchmarks.harness import Report, Row, Settings, alternate, log, median
from benchmarks.pyconsul_worker import (
    FIRE_BODY,
    FIRE_NAME,
    close_client,
    make_client,
    run_calls,
)
from pytest_consul_events.fake import FakeConsulAgent

TARGET_RATIO = 0.75
BUFFERED_EVENTS = 5
"""Events the agent holds while lists are measured (the body stays below gzip's 1400 bytes)."""

_KEPT_HEADERS = ("Content-Type", "Vary", "X-Consul-Default-Acl-Policy", "X-Consul-Index", "Date")


def _capture(agent: FakeConsulAgent, method: str, path: str, body: bytes | None) -> bytes:
    """One raw request to the fake; its answer rebuilt as a canned response."""
    connection = http.client.HTTPConnection(agent.host, agent.port, timeout=10)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {data!r}")
        headers = {
            name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers
        }
    finally:
        connection.close()
    return build_response(data, headers)


class _Worker:
    """A ``benchmarks.pyconsul_worker`` subprocess, one JSON line each way per command."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parent.parent
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.pyconsul_worker"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None:  # pragma: no cover - both are PIPE
            raise RuntimeError("the worker has no pipes")
        return stdin, stdout

    def ask(self, **command: object) -> dict[str, Any]:
        """Send one command and return its answer.

        Raises:
            RuntimeError: the worker exited or reported an error.
        """
        stdin, stdout = self._pipes()
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the client subprocess exited ({self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self) -> None:
        """Ask the worker to quit and reap it (killed after 10 s)."""
        stdin, _ = self._pipes()
        with contextlib.suppress(OSError, ValueError):
            stdin.write(json.dumps({"op": "quit"}) + "\n")
            stdin.flush()
            stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


@contextlib.contextmanager
def _servers() -> Iterator[tuple[FakeConsulAgent, CannedServer]]:
    agent = FakeConsulAgent().start()
    try:
        for number in range(BUFFERED_EVENTS):
            agent.fire(FIRE_NAME, f"v1.4.{number}")
        responses = {
            "GET": _capture(agent, "GET", "/v1/event/list", None),
            "PUT": _capture(agent, "PUT", f"/v1/event/fire/{FIRE_NAME}", FIRE_BODY.encode()),
        }
        agent.reset()
        for number in range(BUFFERED_EVENTS):
            agent.fire(FIRE_NAME, f"v1.4.{number}")
        # The fake's answers now have the same sizes as the canned ones (IDs differ).
        with CannedServer(responses) as canned:
            yield agent, canned
    finally:
        agent.stop()


def _row(call: str, where: str, fakes: list[float], baselines: list[float]) -> Row:
    fake, baseline = median(fakes), median(baselines)
    ratio = fake / baseline
    return Row(
        name=f"pyconsul_calls[{call},{where}]",
        fake=fake,
        baseline=baseline,
        unit="calls/s",
        target=f"ratio >= {TARGET_RATIO}",
        measured=f"{ratio:.2f}",
        passed=ratio >= TARGET_RATIO,
    )


def run(settings: Settings) -> Report:
    """Four rows: fire and list, in-process and subprocess client."""
    rounds = settings.pick(5, 2)
    count = settings.pick(300, 100)
    report = Report()
    with _servers() as (agent, canned):
        fake_client = make_client(agent.host, agent.port)
        canned_client = make_client(canned.host, canned.port)
        try:
            for call in ("list", "fire"):

                def in_process(client: Any, call: str = call) -> Callable[[], float]:
                    return lambda: count / run_calls(client, call, count)

                fakes, baselines = alternate(
                    rounds, in_process(fake_client), in_process(canned_client)
                )
                report.rows.append(_row(call, "in-process", fakes, baselines))
                log(f"  {call} in-process done")
        finally:
            close_client(fake_client)
            close_client(canned_client)
        # Fires added events: put the agent back in the listed state for the subprocess.
        agent.reset()
        for number in range(BUFFERED_EVENTS):
            agent.fire(FIRE_NAME, f"v1.4.{number}")
        worker = _Worker()
        try:
            worker.ask(op="open", key="fake", host=agent.host, port=agent.port)
            worker.ask(op="open", key="canned", host=canned.host, port=canned.port)
            for call in ("list", "fire"):

                def in_worker(key: str, call: str = call) -> Callable[[], float]:
                    def measure() -> float:
                        answer = worker.ask(op="run", key=key, call=call, n=count)
                        return count / float(answer["elapsed"])

                    return measure

                fakes, baselines = alternate(rounds, in_worker("fake"), in_worker("canned"))
                report.rows.append(_row(call, "subprocess", fakes, baselines))
                log(f"  {call} subprocess done")
        finally:
            worker.close()
    report.notes.append(
        f"pyconsul_calls: {count} calls x {rounds} rounds per side; list of "
        f"{BUFFERED_EVENTS} events; baseline = keep-alive raw-socket server sending the fake's "
        "own answer bytes"
    )
    return report
