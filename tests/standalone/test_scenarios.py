"""End-to-end scenarios as a test suite in another language would write them: the command
started as a process, then only HTTP (Consul's API and the documented control API), curl-like.
The last one is a bash script with curl and jq."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from standalone_support import Reply, Standalone, decode_payload, environment, names, request


def test_a_watcher_and_a_deployer_between_resets() -> None:
    with Standalone("--port", "0", "--service", "web,tag=v2", "--seed", "1") as agent:
        url = agent.url()
        for round_ in range(2):  # the same story after a reset
            index = request(f"{url}/v1/event/list?name=deploy").headers["x-consul-index"]
            answers: list[Reply] = []
            blocking = f"{url}/v1/event/list?name=deploy&index={index}&wait=30s"
            watcher = threading.Thread(
                target=lambda target=blocking, out=answers: out.append(request(target))
            )
            watcher.start()
            assert agent.control("POST", "blocked/wait", {"count": 1}).status == 200
            fired = request(f"{url}/v1/event/fire/deploy?service=web&tag=v2", "PUT", raw=b"1.4.2")
            watcher.join(10)
            [seen] = answers[0].json()
            assert seen["ID"] == fired.json()["ID"]
            assert decode_payload(seen) == b"1.4.2"
            waited = agent.control("POST", "wait", {"name": "deploy", "payload": "1.4.2"})
            assert waited.json()["event"]["ID"] == seen["ID"]
            assert (
                agent.control("POST", "assert/fired", {"name": "deploy", "tag": "v2"}).status == 200
            )
            assert agent.control("POST", "assert/not-fired", {"name": "rollback"}).status == 200
            logged = agent.control("GET", "requests").json()["requests"]
            assert [(r["method"], r["path"]) for r in logged] == [
                ("GET", "/v1/event/list"),
                ("PUT", "/v1/event/fire/deploy"),
                ("GET", "/v1/event/list"),  # logged when answered, after the fire
            ]
            reset = agent.control("POST", "reset").json()
            assert (reset["seed"], round_ >= 0) == (1, True)
            assert agent.control("GET", "events").json() == {"events": []}
            assert agent.control("GET", "requests").json()["requests"] == []


def _unordered_orders(seed: int) -> dict[str, list[str]]:
    args = ("--port", "0", "--agent", "a", "--agent", "b", "--agent", "c", "--unordered")
    with Standalone(*args, "--flush-after", "600", "--seed", str(seed)) as dc:
        for name in ("e1", "e2", "e3", "e4", "e5"):
            assert request(f"{dc.url('a')}/v1/event/fire/{name}", "PUT").status == 200
        assert dc.control("GET", "cluster").json()["in_flight"] == 10
        assert dc.control("POST", "cluster/settle").json() == {"delivered": 10}
        return {n: names(request(f"{dc.url(n)}/v1/event/list").json()) for n in "abc"}


def test_unordered_gossip_is_replayed_by_its_seed() -> None:
    first = _unordered_orders(42)
    assert first["a"] == ["e1", "e2", "e3", "e4", "e5"]  # the server stores in fire order
    assert sorted(first["b"]) == sorted(first["c"]) == first["a"]
    assert first["b"] != first["c"]  # each agent its own order
    assert _unordered_orders(42) == first
    assert _unordered_orders(43) != first


def test_manual_delivery_partitions_and_stopped_agents() -> None:
    with Standalone(
        "--port", "0", "--agent", "a", "--agent", "b", "--agent", "c", "--manual"
    ) as dc:
        request(f"{dc.url('a')}/v1/event/fire/one", "PUT")
        assert dc.control("GET", "cluster").json()["held"] == 2
        assert dc.control("POST", "cluster/release", {"to": "c"}).json() == {"delivered": 1}
        assert names(request(f"{dc.url('c')}/v1/event/list").json()) == ["one"]
        assert request(f"{dc.url('b')}/v1/event/list").json() == []
        dc.control("POST", "cluster/configure", {"manual": False})
        dc.control("POST", "cluster/partition", {"groups": [["a", "b"], ["c"]]})
        request(f"{dc.url('a')}/v1/event/fire/two", "PUT")
        assert names(request(f"{dc.url('b')}/v1/event/list").json()) == ["two"]
        assert request(f"{dc.url('c')}/v1/event/list").json() == []
        assert dc.control("POST", "cluster/heal").json() == {"delivered": 1}
        assert names(request(f"{dc.url('c')}/v1/event/list").json()) == ["two"]
        dc.control("POST", "cluster/agents/c/stop", node="a")
        with pytest.raises(OSError):
            request(f"{dc.url('c')}/v1/event/list", timeout=2)
        request(f"{dc.url('a')}/v1/event/fire/three", "PUT")
        dc.control("POST", "cluster/agents/c/start", node="b")
        assert request(f"{dc.url('c')}/v1/event/list").json() == []  # restarted empty
        steps = dc.control("GET", "cluster/trace").json()["trace"]
        assert ("drop", "a", "c", "three", "agent down") in [
            (s["kind"], s["source"], s["target"], s["name"], s["outcome"]) for s in steps
        ]


def test_a_manual_clock_ends_a_long_poll_on_demand() -> None:
    with Standalone("--port", "0", "--clock", "manual") as agent:
        url = agent.url()
        index = request(f"{url}/v1/event/list").headers["x-consul-index"]
        answers: list[Reply] = []
        poll = threading.Thread(
            target=lambda: answers.append(request(f"{url}/v1/event/list?index={index}&wait=5m"))
        )
        poll.start()
        agent.control("POST", "blocked/wait", {"count": 1})
        assert agent.control("POST", "clock/advance", {"seconds": 299}).json()["now"] == 299
        assert agent.control("GET", "blocked").json() == {"blocked_queries": 1}
        agent.control("POST", "clock/advance", {"seconds": 1})
        poll.join(10)
        assert (answers[0].status, answers[0].json()) == (200, [])


def test_strict_mode_for_a_suite_in_another_language() -> None:
    with Standalone("--port", "0", "--strict") as agent:
        request(f"{agent.url()}/v1/kv/feature-flags")
        verdict = agent.control("GET", "verify")
        assert verdict.status == 409
        assert [r["path"] for r in verdict.json()["unimplemented"]] == ["/v1/kv/feature-flags"]
        agent.control("POST", "reset")
        assert agent.control("GET", "verify").json() == {"strict": True}


SCRIPT = r"""
set -euo pipefail
# Start a datacenter, read the JSON line, and drive it with curl only.
"$PYTHON" -m pytest_consul_events --port 0 --seed 7 --agent web-1 --agent web-2 --manual --json \
  > "$WORK/line.json" 2> "$WORK/stderr.txt" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID || true' EXIT
for _ in $(seq 100); do [ -s "$WORK/line.json" ] && break; sleep 0.1; done
WEB1=$(jq -r '.agents[0].url' "$WORK/line.json")
WEB2=$(jq -r '.agents[1].url' "$WORK/line.json")
CONTROL=$(jq -r '.control' "$WORK/line.json")
curl -sf -X PUT --data-binary 'v2' "$WEB1/v1/event/fire/deploy" > /dev/null
curl -sf "$CONTROL/cluster" | jq -c '[.seed, .held]'
curl -sf "$WEB2/v1/event/list" | jq -c 'length'
curl -sf -X POST "$CONTROL/cluster/release" | jq -c '.delivered'
curl -sf "$WEB2/v1/event/list" | jq -r '.[0].Payload' | base64 -d; echo
curl -s -o /dev/null -w '%{http_code}\n' -X POST -d '{"name": "nope", "timeout": 0.1}' \
  "$CONTROL/wait"
curl -sf -X POST "$CONTROL/cluster/reset" | jq -c '[.seed, .in_flight, .held]'
kill -TERM $PID; wait $PID; echo "exit $?"
trap - EXIT
"""


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")),
    reason="needs bash, curl and jq on the PATH",
)
def test_a_bash_script_with_curl(tmp_path: Path) -> None:
    env = environment()
    env.update(PYTHON=__import__("sys").executable, WORK=str(tmp_path))
    result = subprocess.run(
        ["bash", "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[7,1]\n0\n1\nv2\n408\n[7,0,0]\nexit 0\n"
