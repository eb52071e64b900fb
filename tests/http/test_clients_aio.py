"""py-consul's ``consul.aio.Consul`` (aiohttp) against the fake (consul-events.md §10, §14)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from consul.exceptions import BadRequest, ConsulException
from http_support import EVENT_KEYS, uuid_to_uint64

from pytest_consul_events.fake import FakeConsulAgent

# py-consul 1.8 builds its aiohttp connector with arguments aiohttp has deprecated; the
# project's filterwarnings = error would turn that into a failure of every test here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ssl_context is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:verify_ssl is deprecated:DeprecationWarning"),
]


@pytest_asyncio.fixture
async def aio(consul_agent: FakeConsulAgent) -> AsyncIterator[Any]:
    client = consul_agent.aio_client()
    try:
        yield client
    finally:
        await client.close()


async def poll(predicate: Any, timeout: float = 5.0) -> int:
    """Yield to the loop until ``predicate()`` holds; returns how many times the loop ran us."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    turns = 0
    while not predicate():
        assert loop.time() < deadline, "timed out"
        turns += 1
        await asyncio.sleep(0.001)
    return turns


@pytest.mark.asyncio
async def test_aio_fire_returns_the_event_dict(aio: Any) -> None:
    # aiohttp sends Content-Type: text/plain even for the empty body: still no payload.
    event = await aio.event.fire("deploy")
    assert list(event) == EVENT_KEYS
    assert (event["Name"], event["Payload"], event["LTime"], event["Version"]) == (
        "deploy",
        None,
        0,
        1,
    )


@pytest.mark.asyncio
async def test_aio_fire_payload_and_names(aio: Any) -> None:
    event = await aio.event.fire("grp/d\u00e9ploy", "hello")
    assert (event["Name"], event["Payload"]) == ("grp/d\u00e9ploy", "aGVsbG8=")


@pytest.mark.asyncio
async def test_aio_list_returns_index_and_decoded_payloads(aio: Any) -> None:
    assert await aio.event.list() == ("1", [])
    first = await aio.event.fire("deploy", "v1")
    second = await aio.event.fire("deploy")
    index, events = await aio.event.list(name="deploy")
    assert index == str(uuid_to_uint64(second["ID"]))
    assert events == [
        {**first, "Payload": b"v1", "LTime": 2},
        {**second, "Payload": None, "LTime": 3},
    ]


@pytest.mark.asyncio
async def test_aio_tag_without_service_is_a_consul_exception(aio: Any) -> None:
    with pytest.raises(ConsulException) as excinfo:
        await aio.event.fire("deploy", tag="v1")
    assert type(excinfo.value) is ConsulException
    assert str(excinfo.value) == "500 Cannot provide tag filter without service filter"


@pytest.mark.asyncio
async def test_aio_raw_star_in_a_filter_is_kept(aio: Any) -> None:
    # aiohttp sends "*" unescaped in the query (consul-events.md §14).
    event = await aio.event.fire("deploy", node="web-.*")
    assert event["NodeFilter"] == "web-.*"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index": "abc"}, "400 Invalid index"),
        ({"index": "1", "wait": "10"}, "400 Invalid wait time"),
    ],
)
async def test_aio_bad_list_parameters_are_bad_request(
    aio: Any, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(BadRequest) as excinfo:
        await aio.event.list(**kwargs)
    assert str(excinfo.value) == message


@pytest.mark.asyncio
async def test_aio_blocked_list_does_not_block_the_event_loop(
    aio: Any, consul_agent: FakeConsulAgent
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    ticking = asyncio.create_task(ticker())
    try:
        task = asyncio.create_task(aio.event.list(index="1", wait="5s"))
        await poll(lambda: consul_agent.blocked_queries == 1)
        # While the list is held, another coroutine keeps running, and so do other requests.
        seen = ticks
        await poll(lambda: ticks >= seen + 10)
        assert (await aio.agent.self())["Config"]["NodeName"] == "node1"
        assert not task.done()
        assert consul_agent.blocked_queries == 1
        fired = await aio.event.fire("deploy")
        index, events = await asyncio.wait_for(task, timeout=5)
    finally:
        ticking.cancel()
    assert index == str(uuid_to_uint64(fired["ID"]))
    assert [e["ID"] for e in events] == [fired["ID"]]


@pytest.mark.asyncio
async def test_aio_several_blocked_lists_wake_together(
    aio: Any, consul_agent: FakeConsulAgent
) -> None:
    tasks = [asyncio.create_task(aio.event.list(index="1", wait="5s")) for _ in range(3)]
    await poll(lambda: consul_agent.blocked_queries == 3)
    fired = await aio.event.fire("deploy")
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert {index for index, _ in results} == {str(uuid_to_uint64(fired["ID"]))}


@pytest.mark.asyncio
async def test_aio_list_times_out_at_wait(aio: Any) -> None:
    started = time.monotonic()
    assert await aio.event.list(index="1", wait="300ms") == ("1", [])
    assert 0.3 <= time.monotonic() - started < 1.3
