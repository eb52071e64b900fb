"""py-consul call loops, run in-process or in a client subprocess driven over a pipe.

Run as ``python -m benchmarks.pyconsul_worker``, it reads one JSON command per line on stdin
and answers one JSON line on stdout:

* ``{"op": "open", "key": K, "host": H, "port": P}``: make a ``consul.Consul`` named ``K``;
* ``{"op": "run", "key": K, "call": "fire" | "list", "n": N}``: make N calls, answer
  ``{"elapsed": seconds}``;
* ``{"op": "quit"}``: close every client and exit.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

FIRE_NAME = "deploy"
FIRE_BODY = "v1.4.2"
CALLS = ("fire", "list")


def make_client(host: str, port: int) -> Any:
    """A py-consul client for ``host:port`` over plain HTTP, without a token."""
    import consul

    client = consul.Consul(host=host, port=port, scheme="http", verify=True)
    client.token = None
    return client


def close_client(client: Any) -> None:
    """Close the client's connection pool."""
    client.http.session.close()


def run_calls(client: Any, call: str, count: int) -> float:
    """Make ``count`` ``event.fire`` or ``event.list`` calls; return the seconds they took.

    Raises:
        ValueError: ``call`` is not ``fire`` or ``list``.
        RuntimeError: a call did not answer as expected.
    """
    event = client.event
    if call == "fire":
        start = time.perf_counter()
        for _ in range(count):
            answer = event.fire(FIRE_NAME, FIRE_BODY)
        elapsed = time.perf_counter() - start
        if not isinstance(answer, dict) or answer.get("Name") != FIRE_NAME:
            raise RuntimeError(f"unexpected fire answer: {answer!r}")
        return elapsed
    if call == "list":
        start = time.perf_counter()
        for _ in range(count):
            index, events = event.list()
        elapsed = time.perf_counter() - start
        if not index or not isinstance(events, list):
            raise RuntimeError(f"unexpected list answer: {index!r}, {events!r}")
        return elapsed
    raise ValueError(f"unknown call {call!r}; known: {CALLS}")


def main() -> int:
    """Serve commands from stdin until ``quit`` or end of input."""
    clients: dict[str, Any] = {}
    try:
        for line in sys.stdin:
            command = json.loads(line)
            op = command["op"]
            if op == "quit":
                break
            if op == "open":
                clients[command["key"]] = make_client(command["host"], int(command["port"]))
                answer: dict[str, object] = {"ok": True}
            elif op == "run":
                client = clients[command["key"]]
                answer = {"elapsed": run_calls(client, command["call"], int(command["n"]))}
            else:
                answer = {"error": f"unknown op {op!r}"}
            print(json.dumps(answer), flush=True)
    finally:
        for client in clients.values():
            close_client(client)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
