"""Setup for running the plugin inside pytester's inner pytest sessions."""

from __future__ import annotations

import consul
import pytest
import requests

import pytest_consul_events.fake

# pytester's in-process runs drop modules first imported inside them; importing these here keeps
# one copy of each for all inner sessions (two copies of requests break its cookie jar checks).
PRELOADED = (consul, requests, pytest_consul_events.fake)


@pytest.fixture(autouse=True)
def _inner_ini(request: pytest.FixtureRequest) -> None:
    """Give inner sessions the settings pytest-asyncio asks for, so it does not warn."""
    if "pytester" in request.fixturenames:
        pytester: pytest.Pytester = request.getfixturevalue("pytester")
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
