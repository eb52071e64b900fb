"""``consul watch -type=event`` end to end: a real process against the fake agent, a cluster
and a scripted agent, with every handler invocation recorded by ``consul_cli``."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Answer, ScriptedAgent, event, go_line, index_of

from pytest_consul_events.consul_cli.ui import UI
from pytest_consul_events.consul_cli.watch_cmd import WatchCommand
from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.event import UserEvent

HELP = WatchCommand(UI()).help()
RECORD = "cat >/dev/null"  # a handler that only takes its input


def go_json(events: list[UserEvent]) -> bytes:
    """The handler's input for these agent events, as Go's encoder writes it (ASCII data)."""
    return go_line(
        [
            {
                "ID": e.id,
                "Name": e.name,
                "Payload": None if e.payload is None else base64.b64encode(e.payload).decode(),
                "NodeFilter": e.node_filter,
                "ServiceFilter": e.service_filter,
                "TagFilter": e.tag_filter,
                "Version": e.version,
                "LTime": e.ltime,
            }
            for e in events
        ]
    )


def test_the_handler_runs_at_start_with_an_empty_list(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    watch = consul_cli.watch("-name=deploy", RECORD)

    [first] = watch.wait_for_invocations(1)
    assert first.stdin == b"[]\n"
    assert first.events == []
    assert first.consul_index == first.index == 1
    assert first.returncode == 0
    assert first.error is None
    assert first.argv == (os.environ.get("SHELL") or "/bin/sh", "-c", RECORD)
    assert watch.requests[0] is None  # the first query carries no index


def test_then_it_blocks_and_hands_over_each_new_event(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    consul_agent.fire("deploy", b"1.0")
    watch = consul_cli.watch("-name=deploy", RECORD)
    watch.wait_for_invocations(1)

    for version in (b"1.1", b"1.2"):
        watch.wait_until_blocked()
        consul_agent.fire("restart", b"ignored: another name")
        consul_agent.fire("deploy", version)
        watch.wait_for_invocations(len(watch.invocations) + 1)

    first, second, third = watch.invocations
    deploys = [e for e in consul_agent.events if e.name == "deploy"]
    assert first.stdin == go_json(deploys[:1])
    assert second.stdin == go_json(deploys[1:2])
    assert third.stdin == go_json(deploys[2:])
    assert [i.consul_index for i in watch.invocations] == [e.index for e in deploys]
    assert [i.payloads for i in watch.invocations] == [[b"1.0"], [b"1.1"], [b"1.2"]]
    watch.wait_until_blocked()
    assert watch.requests == [None, deploys[0].index, deploys[1].index, deploys[2].index]


def test_without_a_name_every_event_is_watched(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    consul_agent.fire("a")
    consul_agent.fire("b")
    watch = consul_cli.watch(RECORD)

    [first] = watch.wait_for_invocations(1)
    assert [e["Name"] for e in first.events or []] == ["a", "b"]


def test_without_a_handler_it_prints_the_events_and_exits(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    event_id = consul_agent.fire("deploy", b"v1").id
    ltime = consul_agent.events[0].ltime

    result = consul_cli.run("watch", "-type=event", "-name=deploy")

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "[\n"
        "    {\n"
        f'        "ID": "{event_id}",\n'
        '        "Name": "deploy",\n'
        '        "Payload": "djE=",\n'
        '        "NodeFilter": "",\n'
        '        "ServiceFilter": "",\n'
        '        "TagFilter": "",\n'
        '        "Version": 1,\n'
        f'        "LTime": {ltime}\n'
        "    }\n"
        "]\n"
    )
    assert consul_cli.run("watch", "-type=event", "-name=none").stdout == "[]\n"


def test_a_failing_handler_stops_the_watch_with_status_1(consul_cli: Any) -> None:
    watch = consul_cli.watch("-name=deploy", "echo handling; exit 2")

    assert watch.wait(timeout=10) == 1
    [only] = watch.invocations
    assert (only.returncode, only.error, only.stdout) == (2, "exit status 2", b"handling\n")
    assert watch.stdout == "handling\n"
    assert watch.stderr == "Error executing handler: exit status 2\n"


def test_a_handler_that_cannot_start_stops_the_watch(consul_cli: Any) -> None:
    watch = consul_cli.watch("-shell=false", "-name=deploy", "no-such-handler", "--flag")

    assert watch.wait(timeout=10) == 1
    [only] = watch.invocations
    assert (only.pid, only.returncode, only.argv) == (None, None, ("no-such-handler", "--flag"))
    assert watch.stderr == (
        'Error starting handler: exec: "no-such-handler": executable file not found in $PATH\n'
    )


def test_sigterm_ends_the_watch_with_0_and_reaches_a_running_handler(
    consul_cli: Any, tmp_path: Path
) -> None:
    ready, gate = tmp_path / "ready", tmp_path / "gate"
    os.mkfifo(ready)
    os.mkfifo(gate)
    trapped = tmp_path / "trapped"
    handler = (
        f"trap 'echo TERM > {trapped}; exit 0' TERM; "
        f"echo trap set > {ready}; read line < {gate}"  # waits until the test writes the gate
    )
    watch = consul_cli.watch("-name=deploy", handler)
    assert ready.read_text() == "trap set\n"  # the handler runs, its trap is in place

    code = watch.stop()
    assert (code, trapped.exists()) == (0, True), (watch.stderr, watch.invocations)
    assert trapped.read_text() == "TERM\n"


def test_the_type_is_required(consul_cli: Any) -> None:
    result = consul_cli.run("watch", "-name=deploy")

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Watch type must be specified\n\n{HELP}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-type=bogus"], "Unsupported watch type: bogus"),
        (["-type=event", "-stale"], "Invalid parameters: [stale]"),
        (["-type=event", "-tag=a", "-tag=b"], "Invalid parameters: [tag]"),
        (["-type=event", "-key=x"], "Invalid parameters: [key]"),
        (["-type=key"], "Must specify a single key to watch"),
        (["-type=keyprefix"], "Must specify a single prefix to watch"),
        (["-type=service"], "Must specify a single service to watch"),
        (["-type=checks", "-service=a", "-state=any"], "Cannot specify service and state"),
        (["-type=connect_leaf"], "Type connect_leaf is not supported in the CLI tool"),
        (["-type=connect_roots"], "Type connect_roots is not supported in the CLI tool"),
        (["-type=agent_service"], "Type agent_service is not supported in the CLI tool"),
        (
            ["-type=service", "-service=web", "-passingonly=maybe"],
            'Failed to parse passingonly flag: strconv.ParseBool: parsing "maybe": invalid syntax',
        ),
    ],
)
def test_watch_parameters_are_checked_as_consul_checks_them(
    consul_cli: Any, consul_agent: FakeConsulAgent, args: list[str], message: str
) -> None:
    result = consul_cli.run("watch", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")
    assert list(consul_agent.requests) == []


@pytest.mark.parametrize("watch_type", ["key -key=a", "keyprefix -prefix=a", "services", "nodes"])
def test_other_watch_types_are_refused_by_name(consul_cli: Any, watch_type: str) -> None:
    kind, *rest = watch_type.split()
    result = consul_cli.run("watch", f"-type={kind}", *rest)

    assert result.exit_code == 1
    assert result.stderr == (
        f"consul (pytest-consul-events): consul watch -type={kind} is not implemented (only "
        "-type=event is): the fake agent serves no KV store, catalog or health checks\n"
    )


def test_an_unreachable_agent(consul_cli: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = consul_cli.run("watch", "-type=event", f"-http-addr=127.0.0.1:{port}")

    assert result.stderr == (
        f'Error querying Consul agent: Get "http://127.0.0.1:{port}/v1/status/leader": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused\n"
    )


def test_the_datacenter_goes_on_every_request(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    watch = consul_cli.watch("-datacenter=dc1", "-name=deploy", RECORD)
    watch.wait_for_invocations(1)

    assert [(r.path, r.query) for r in consul_agent.requests][:2] == [
        ("/v1/status/leader", "dc=dc1"),
        ("/v1/event/list", "dc=dc1&name=deploy"),
    ]


@pytest.mark.consul_agent(
    acl="deny", management_token="root", tokens={"reader": 'event "deploy" { policy = "read" }'}
)
def test_the_token_is_sent_with_the_list_queries(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    consul_agent.fire("deploy", b"secret", token="root")
    anonymous = consul_cli.watch("-name=deploy", RECORD)
    reader = consul_cli.watch("-name=deploy", "-token=reader", RECORD)

    assert anonymous.wait_for_invocations(1)[0].events == []
    assert reader.wait_for_invocations(1)[0].payloads == [b"secret"]


@pytest.mark.consul_agent(buffer_size=4)
def test_events_evicted_while_the_handler_runs_are_never_handed_over(
    consul_cli: Any, consul_agent: FakeConsulAgent, tmp_path: Path
) -> None:
    gate, once = tmp_path / "gate", tmp_path / "once"
    os.mkfifo(gate)
    consul_agent.fire("deploy", b"0")
    # The first run waits at the gate; later ones return at once.
    watch = consul_cli.watch(
        "-name=deploy", f"[ -e {once} ] || {{ touch {once}; read l < {gate}; }}"
    )
    watch.wait_for_queries(1)  # the start-up answer ([0]) is in; its handler waits at the gate
    ids = [consul_agent.fire("deploy", str(n).encode()).id for n in range(1, 6)]
    with open(gate, "w") as release:  # opens once the handler reads the gate
        release.write("go\n")

    first, second = watch.wait_for_invocations(2)
    assert first.payloads == [b"0"]
    # 4 slots: 1 was evicted before the watch asked again; so was 0, the indexed event, and
    # the watch therefore handed over the whole list.
    assert second.event_ids == ids[1:]
    assert second.payloads == [b"2", b"3", b"4", b"5"]


@pytest.mark.consul_agent(seed=7)
def test_older_consul_reset_redelivers_when_the_index_goes_down(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    newest = consul_cli.watch("-name=deploy", RECORD)
    older = consul_cli.watch("-name=deploy", RECORD, index_reset="decrease")
    delivered = {"newest": 1, "older": 1}
    newest.wait_for_invocations(1)
    older.wait_for_invocations(1)
    indexes: list[int] = []
    while len(indexes) < 2 or indexes[-1] > indexes[-2]:
        assert len(indexes) < 20, f"the index never went down: {indexes}"
        newest.wait_until_blocked()
        older.wait_until_blocked()
        consul_agent.fire("deploy", str(len(indexes)).encode())
        indexes.append(consul_agent.events[-1].index)
        delivered["newest"] += 1
        newest.wait_for_invocations(delivered["newest"])
        # The older rule adds one delivery when the index goes down: the whole buffer again.
        delivered["older"] += 1 if len(indexes) < 2 or indexes[-1] > indexes[-2] else 2
        older.wait_for_invocations(delivered["older"])

    all_ids = [e.id for e in consul_agent.events]
    assert [i.event_ids for i in newest.invocations][1:] == [[i] for i in all_ids]
    assert older.invocations[-1].event_ids == all_ids  # redelivered whole
    assert older.invocations[-2].event_ids == all_ids[-1:]
    older.wait_until_blocked()
    assert older.requests[-2:] == [None, indexes[-1]]  # reset, then blocked on the lower index


def test_it_watches_an_agent_of_a_cluster(consul_cli: Any, consul_cluster: Any) -> None:
    consul_cli.use(consul_cluster["node3"])
    watch = consul_cli.watch("-name=deploy", RECORD)
    watch.wait_for_invocations(1)
    watch.wait_until_blocked()

    consul_cluster["node1"].fire("deploy", b"from the server")

    [_, second] = watch.wait_for_invocations(2)
    assert second.payloads == [b"from the server"]
    assert second.consul_index == consul_cluster["node3"].events[0].index


@pytest.fixture
def scripted() -> Iterator[ScriptedAgent]:
    with ScriptedAgent() as agent:
        yield agent


def test_back_off_then_the_buffer_again_against_a_scripted_agent(
    consul_cli: Any, scripted: ScriptedAgent
) -> None:
    e1, e2 = event(1, b"a"), event(2, b"b")
    scripted.add(
        Answer(index_of(e1), [e1]),
        Answer(None, status=500, body=b"agent restarting"),
        Answer(index_of(e2), [e1, e2]),
    )
    consul_cli.use(scripted.address)

    watch = consul_cli.watch("-name=deploy", RECORD, retry_interval=0.05)

    first, second = watch.wait_for_invocations(2)
    assert (first.stdin, first.consul_index) == (go_line([e1]), index_of(e1))
    # After the error the plan lost its index: the whole list is handed over, e1 again.
    assert (second.stdin, second.consul_index) == (go_line([e1, e2]), index_of(e2))
    assert watch.requests[:3] == [None, index_of(e1), None]
    assert re.fullmatch(
        r"\S+ \[ERROR\] watch\.watch: Watch errored: type=event "
        r'error="Unexpected response code: 500 \(agent restarting\)" retry=50ms\n',
        watch.stderr,
    )


def test_the_recorded_environment_is_what_the_handler_saw(
    consul_cli: Any, consul_agent: FakeConsulAgent
) -> None:
    watch = consul_cli.watch("-shell=false", "-name=deploy", "env", "-0")
    [invocation] = watch.wait_for_invocations(1)

    seen = dict(item.split("=", 1) for item in invocation.stdout.decode().split("\0") if item)
    assert seen == dict(invocation.env)
    expected = {**os.environ, "CONSUL_INDEX": "1"}
    assert seen == expected
    assert not any(name.startswith("PYTEST_CONSUL_EVENTS_") for name in seen)
    assert json.loads(invocation.stdin) == []
