"""Helpers for the standalone agent's tests: the command as a child process, and its control
API and Consul API reached over HTTP only, as a test in another language would.

Not a test module; the tests (and the remote plugin) import it by name, as pytest puts this
directory on ``sys.path``.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMMAND = (sys.executable, "-m", "pytest_consul_events")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def environment() -> dict[str, str]:
    """The environment of child processes: this checkout first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(ROOT), env.get("PYTHONPATH", "")) if part
    )
    env.pop("CONSUL_HTTP_ADDR", None)
    return env


class Reply:
    """One HTTP answer: status, headers (lower-case names) and body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.body[:200]!r}>"


def request(
    url: str,
    method: str = "GET",
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One request on a fresh connection, like ``curl -X METHOD URL -d JSON``."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(method, target, body=data, headers=headers or {})
        response = connection.getresponse()
        return Reply(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


class Standalone:
    """``python -m pytest_consul_events --json ARGS`` as a child process; a context manager
    that always stops it (SIGTERM, then SIGKILL) and keeps its exit status and stderr."""

    def __init__(self, *args: str, json_line: bool = True, cwd: Path | None = None) -> None:
        self.args = [*COMMAND, *args, *(["--json"] if json_line else [])]
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.lines: list[str] = []
        self.stderr = ""
        self.returncode: int | None = None

    def __enter__(self) -> Standalone:
        self.process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment(),
            cwd=self.cwd,
        )
        try:
            first = self.read_line()
            if "--json" in self.args:
                self.info = json.loads(first)
                self.lines = [first]
            else:
                self.lines = [first]
        except BaseException:
            self.stop()
            raise
        return self

    def read_line(self, timeout: float = START_TIMEOUT) -> str:
        """The next stdout line, or ``AssertionError`` with the stderr if none comes."""
        assert self.process is not None
        assert self.process.stdout is not None
        stream = self.process.stdout
        data = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while not data.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    self.stop()
                    raise AssertionError(f"no line from {self.args}; stderr: {self.stderr}")
                chunk = os.read(stream.fileno(), 1)
                if not chunk:
                    self.stop()
                    raise AssertionError(
                        f"{self.args} ended ({self.returncode}); stderr: {self.stderr}"
                    )
                data += chunk
        return data.decode()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the process with ``sig`` (killing it if it does not end); returns its status."""
        process = self.process
        if process is None:
            return -1
        if process.poll() is None:
            process.send_signal(sig)
        try:
            out, err = process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        self.stderr = err.decode("utf-8", "replace")
        self.rest = out.decode("utf-8", "replace")
        self.returncode = process.returncode
        return process.returncode

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- conveniences over the JSON line -------------------------------------------------------

    @property
    def agents(self) -> list[dict[str, Any]]:
        return list(self.info["agents"])

    def url(self, node: str | None = None) -> str:
        """The base URL of an agent (the first by default)."""
        for agent in self.agents:
            if node is None or agent["node_name"] == node:
                return str(agent["url"])
        raise KeyError(node)

    def control(
        self, method: str, path: str, body: Any = None, *, node: str | None = None
    ) -> Reply:
        """A control API call on an agent's port: ``path`` is relative to ``/_fake/``."""
        return request(f"{self.url(node)}/_fake/{path}", method, body)


def run(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """The command run to completion (for errors, ``--version``, ``--help``)."""
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(),
    )


def decode_payload(event: dict[str, Any]) -> bytes | None:
    payload = event["Payload"]
    return None if payload is None else base64.b64decode(payload)


def free_ports(count: int) -> list[int]:
    """``count`` ports free right now on 127.0.0.1, consecutive (for fixed-port tests)."""
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return list(range(base, base + count))
    raise RuntimeError("no run of free ports found")


def names(events: Sequence[dict[str, Any]]) -> list[str]:
    return [event["Name"] for event in events]
