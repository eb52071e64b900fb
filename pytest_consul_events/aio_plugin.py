"""The ``consul_aio_client`` fixture, registered only where pytest-asyncio is installed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest_asyncio

if TYPE_CHECKING:
    from pytest_consul_events.fake import FakeConsulAgent


@pytest_asyncio.fixture
async def consul_aio_client(consul_agent: FakeConsulAgent) -> AsyncIterator[Any]:
    """Function scope, async: a py-consul ``consul.aio.Consul`` bound to ``consul_agent``.

    Made inside the test's event loop and closed after the test. Like ``consul_client`` it
    sends no token and ignores ``CONSUL_HTTP_*`` variables. A blocked ``event.list`` awaits
    without blocking the loop.
    """
    client = consul_agent.aio_client()
    try:
        yield client
    finally:
        await client.close()
