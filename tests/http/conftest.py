"""Fixtures for the HTTP conformance tests.

``api`` runs a test twice: in-process through ``werkzeug.test.Client(ConsulApp(agent))`` and
over a real socket to the plugin's session server. Both talk to the same ``consul_agent``
(cleared before each test), so a test can fire over HTTP and look at the model, or the reverse.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from http_support import SocketTransport, Transport, WsgiTransport, new_threads

from pytest_consul_events.fake import FakeConsulAgent


@pytest.fixture(autouse=True)
def _no_thread_left_behind(consul_agent_server: FakeConsulAgent) -> Iterator[None]:
    """Every thread a test starts (server connections, helpers, agents) ends soon after it.

    The session's agent server is started first: its accept thread is meant to outlive tests.
    """
    before = list(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    for thread in new_threads(before):
        thread.join(max(0.0, deadline - time.monotonic()))
    if leftover := new_threads(before):
        pytest.fail(f"threads still running after the test: {leftover}")


@pytest.fixture(params=["wsgi", "socket"])
def api(request: pytest.FixtureRequest, consul_agent: FakeConsulAgent) -> Transport:
    """The fake agent's HTTP API, in-process (``wsgi``) or over loopback (``socket``)."""
    if request.param == "wsgi":
        return WsgiTransport(consul_agent)
    return SocketTransport(consul_agent.host, consul_agent.port)


@pytest.fixture
def background(consul_agent: FakeConsulAgent) -> Iterator[ThreadPoolExecutor]:
    """Threads for requests that block; any still blocked at teardown are woken, then joined."""
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="http-test") as pool:
        yield pool
        consul_agent.wake_all()
