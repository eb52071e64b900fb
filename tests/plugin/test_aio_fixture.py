"""The consul_aio_client fixture under pytest-asyncio."""

from __future__ import annotations

import asyncio

import consul.aio
import pytest

from pytest_consul_events.fake import FakeConsulAgent


@pytest.mark.asyncio
async def test_aio_client_fires_and_lists(
    consul_aio_client: consul.aio.Consul, consul_agent: FakeConsulAgent
) -> None:
    fired = await consul_aio_client.event.fire("deploy", "v1")
    index, events = await consul_aio_client.event.list()
    assert [e["ID"] for e in events] == [fired["ID"]]
    assert events[0]["Payload"] == b"v1"
    assert index == str(consul_agent.events[0].index)


@pytest.mark.asyncio
async def test_blocked_aio_list_leaves_the_loop_free(
    consul_aio_client: consul.aio.Consul, consul_agent: FakeConsulAgent
) -> None:
    index, _ = await consul_aio_client.event.list()
    waiting = asyncio.ensure_future(consul_aio_client.event.list(index=index, wait="10s"))
    ticks = 0
    deadline = asyncio.get_running_loop().time() + 5
    while consul_agent.blocked_queries == 0:
        assert asyncio.get_running_loop().time() < deadline, "the list never blocked"
        ticks += 1
        await asyncio.sleep(0)
    await consul_aio_client.event.fire("wake")
    new_index, events = await asyncio.wait_for(waiting, 5)
    assert [e["Name"] for e in events] == ["wake"]
    assert new_index != index
    assert ticks > 0
