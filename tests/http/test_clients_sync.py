"""py-consul's synchronous ``consul.Consul`` against the fake (consul-events.md §10, §14)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import consul
import pytest
from consul.exceptions import BadRequest, ConsulException
from http_support import EVENT_KEYS, UUID_RE, uuid_to_uint64, wait_until

from pytest_consul_events.fake import FakeConsulAgent

BEFORE = (
    "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
)


def raised(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[type, str]:
    return type(excinfo.value), str(excinfo.value)


@pytest.fixture
def second_client(consul_agent: FakeConsulAgent) -> Iterator[consul.Consul]:
    """Another client, for a thread of its own (a requests session is not thread-safe)."""
    client = consul_agent.client()
    try:
        yield client
    finally:
        client.http.session.close()


# -- fire -------------------------------------------------------------------------------------


def test_fire_returns_the_event_dict(consul_client: consul.Consul) -> None:
    event = consul_client.event.fire("deploy")
    assert list(event) == EVENT_KEYS
    assert UUID_RE.match(event["ID"])
    assert event == {
        "ID": event["ID"],
        "Name": "deploy",
        "Payload": None,  # py-consul sends data="" => Content-Length: 0 => no payload
        "NodeFilter": "",
        "ServiceFilter": "",
        "TagFilter": "",
        "Version": 1,
        "LTime": 0,
    }


def test_fire_payload_is_base64_in_the_fire_answer(consul_client: consul.Consul) -> None:
    assert consul_client.event.fire("deploy", "hello")["Payload"] == "aGVsbG8="
    assert consul_client.event.fire("deploy", b"\x00\xff")["Payload"] == "AP8="


@pytest.mark.parametrize("name", ["grp/deploy", "hello world", "d\u00e9ploy", "what?", "a+b", "_x"])
def test_fire_names_survive_py_consul_quoting(consul_client: consul.Consul, name: str) -> None:
    assert consul_client.event.fire(name)["Name"] == name
    assert [e["Name"] for e in consul_client.event.list(name=name)[1]] == [name]


def test_fire_echoes_filters(consul_client: consul.Consul) -> None:
    event = consul_client.event.fire("deploy", node="web-.*", service="api", tag="v1")
    assert (event["NodeFilter"], event["ServiceFilter"], event["TagFilter"]) == (
        "web-.*",
        "api",
        "v1",
    )


def test_fire_tag_without_service_is_a_consul_exception(consul_client: consul.Consul) -> None:
    with pytest.raises(ConsulException) as excinfo:
        consul_client.event.fire("deploy", tag="v1")
    assert raised(excinfo) == (
        ConsulException,
        "500 Cannot provide tag filter without service filter",
    )


def test_fire_invalid_regex_is_a_consul_exception(consul_client: consul.Consul) -> None:
    with pytest.raises(ConsulException) as excinfo:
        consul_client.event.fire("deploy", node="(")
    assert raised(excinfo) == (
        ConsulException,
        "500 Invalid node filter: error parsing regexp: missing closing ): `(`",
    )


def test_fire_too_large_is_a_consul_exception(consul_client: consul.Consul) -> None:
    with pytest.raises(ConsulException) as excinfo:
        consul_client.event.fire("deploy", "x" * 600)
    assert raised(excinfo) == (ConsulException, f"500 {BEFORE}")


def test_fire_to_an_unknown_datacenter(consul_client: consul.Consul) -> None:
    with pytest.raises(ConsulException) as excinfo:
        consul_client.event.fire("deploy", dc="dc2")
    assert raised(excinfo) == (ConsulException, "500 No path to datacenter")


def test_client_default_dc_is_sent_on_fire(consul_agent: FakeConsulAgent) -> None:
    good, bad = consul_agent.client(dc="dc1"), consul_agent.client(dc="elsewhere")
    try:
        assert good.event.fire("deploy")["Name"] == "deploy"
        with pytest.raises(ConsulException, match=r"^500 No path to datacenter$"):
            bad.event.fire("deploy")
        # py-consul never sends dc on list, and Consul would ignore it anyway.
        assert len(bad.event.list()[1]) == 1
    finally:
        good.http.session.close()
        bad.http.session.close()


def test_client_token_is_accepted_with_acls_disabled(consul_agent: FakeConsulAgent) -> None:
    client = consul_agent.client(token="secret")
    try:
        assert client.event.fire("deploy", token="other")["Name"] == "deploy"
        assert len(client.event.list()[1]) == 1
    finally:
        client.http.session.close()


# -- list -------------------------------------------------------------------------------------


def test_list_empty_is_index_1_and_no_events(consul_client: consul.Consul) -> None:
    assert consul_client.event.list() == ("1", [])


def test_list_returns_the_index_string_and_decoded_payloads(
    consul_client: consul.Consul,
) -> None:
    first = consul_client.event.fire("deploy", "v1")
    second = consul_client.event.fire("restart")
    index, events = consul_client.event.list()
    assert index == str(uuid_to_uint64(second["ID"]))
    assert events == [
        {**first, "Payload": b"v1", "LTime": 2},
        {**second, "Payload": None, "LTime": 3},
    ]


def test_list_binary_payload_round_trips(consul_client: consul.Consul) -> None:
    body = bytes(range(256))
    consul_client.event.fire("blob", body)
    assert consul_client.event.list(name="blob")[1][0]["Payload"] == body


def test_list_by_name(consul_client: consul.Consul) -> None:
    consul_client.event.fire("a")
    wanted = consul_client.event.fire("b")
    consul_client.event.fire("c")
    index, events = consul_client.event.list(name="b")
    assert (index, [e["ID"] for e in events]) == (str(uuid_to_uint64(wanted["ID"])), [wanted["ID"]])
    assert consul_client.event.list(name="zzz") == ("1", [])


def test_list_node_service_tag_arguments_are_ignored(consul_client: consul.Consul) -> None:
    consul_client.event.fire("deploy")
    plain = consul_client.event.list()
    assert consul_client.event.list(node="nomatch", service="(", tag="[") == plain


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index": "abc"}, "400 Invalid index"),
        ({"index": "-1"}, "400 Invalid index"),
        ({"index": "1", "wait": "10"}, "400 Invalid wait time"),
        ({"index": "abc", "wait": "10"}, "400 Invalid wait time"),
    ],
)
def test_list_bad_parameters_are_bad_request(
    consul_client: consul.Consul, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(BadRequest) as excinfo:
        consul_client.event.list(**kwargs)
    assert raised(excinfo) == (BadRequest, message)


def test_list_blocks_until_a_fire(
    consul_agent: FakeConsulAgent, consul_client: consul.Consul, second_client: consul.Consul
) -> None:
    index, _ = consul_client.event.list()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(second_client.event.list, index=index, wait="5s")
        wait_until(lambda: consul_agent.blocked_queries == 1, what="the blocked list")
        fired = consul_client.event.fire("deploy", "go")
        new_index, events = future.result(timeout=5)
    assert new_index == str(uuid_to_uint64(fired["ID"]))
    assert [(e["ID"], e["Payload"]) for e in events] == [(fired["ID"], b"go")]


def test_list_times_out_at_wait(consul_client: consul.Consul) -> None:
    consul_client.event.fire("deploy")
    index, events = consul_client.event.list()
    started = time.monotonic()
    assert consul_client.event.list(index=index, wait="300ms") == (index, events)
    assert 0.3 <= time.monotonic() - started < 1.3


def test_list_with_another_index_returns_at_once(consul_client: consul.Consul) -> None:
    consul_client.event.fire("deploy")
    index, events = consul_client.event.list()
    started = time.monotonic()
    other = str(int(index) ^ 1)
    assert consul_client.event.list(index=other, wait="5s") == (index, events)
    assert time.monotonic() - started < 1.0


# -- agent endpoints --------------------------------------------------------------------------


@pytest.mark.consul_agent(node_name="web-1")
def test_agent_self_node_name(consul_client: consul.Consul) -> None:
    assert consul_client.agent.self()["Config"]["NodeName"] == "web-1"


def test_service_register_then_service_filtered_events_are_stored(
    consul_client: consul.Consul,
) -> None:
    assert consul_client.agent.service.register("web", service_id="web-1", tags=["v1"]) is True
    services = consul_client.agent.services()
    assert list(services) == ["web-1"]
    assert (services["web-1"]["Service"], services["web-1"]["Tags"]) == ("web", ["v1"])
    kept = consul_client.event.fire("deploy", service="^web-1$", tag="v1")
    consul_client.event.fire("skipped", service="^web$")
    assert [e["ID"] for e in consul_client.event.list()[1]] == [kept["ID"]]
    assert consul_client.agent.service.deregister("web-1") is True
    assert consul_client.agent.services() == {}
