"""A pytest plugin that runs the HTTP conformance tests against an agent of a standalone
datacenter in another process, instead of the plugin's in-process agent.

Loaded with ``-p remote_plugin -p no:consul_events`` and ``CONSUL_EVENTS_REMOTE`` set to the
agent's base URL. It provides the fixtures the conformance tests use (``consul_agent``,
``consul_agent_server``, ``consul_client``) backed by :class:`RemoteAgent`, which drives the
remote agent through the documented control API only, so the same test body checks the
standalone agent as a Node or shell test would see it. The in-process (``wsgi``) variants of
the tests are deselected: there is no app in this process to call.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import consul
import pytest
from standalone_support import Reply, request

from pytest_consul_events import errors
from pytest_consul_events.model.event import UserEvent
from pytest_consul_events.model.gossip import NoServerError
from pytest_consul_events.model.services import Service

REMOTE_ENV = "CONSUL_EVENTS_REMOTE"
CLUSTER_WIDE = ("acl", "management_token", "tokens", "default_token", "dev_mode")

_ERRORS: dict[str, type[errors.ConsulError]] = {
    cls.__name__: cls
    for cls in (*vars(errors).values(), NoServerError)
    if isinstance(cls, type) and issubclass(cls, errors.ConsulError)
}


class RemoteError(AssertionError):
    """The control API refused a call the test expected to work."""


def _event(data: dict[str, Any]) -> UserEvent:
    payload = data["Payload"]
    return UserEvent(
        id=data["ID"],
        name=data["Name"],
        payload=None if payload is None else base64.b64decode(payload),
        node_filter=data["NodeFilter"],
        service_filter=data["ServiceFilter"],
        tag_filter=data["TagFilter"],
        version=data["Version"],
        ltime=data["LTime"],
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Service):
        return {
            "name": value.name,
            "id": value.id,
            "tags": list(value.tags),
            "port": value.port,
            "address": value.address,
            "meta": dict(value.meta),
        }
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


class RemoteAgent:
    """The parts of :class:`~pytest_consul_events.fake.FakeConsulAgent` the conformance tests
    use, each a call of the control API of an agent in another process."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        info = self._call("GET", "agent").json()
        self.host, _, port = info["address"].rpartition(":")
        self.port = int(port)
        self.http_addr = info["address"]
        self._clients: list[consul.Consul] = []

    def _call(self, method: str, path: str, body: Any = None) -> Reply:
        reply = request(f"{self.url}/_fake/{path}", method, body)
        if reply.status != 200:
            raise RemoteError(f"{method} /_fake/{path} -> {reply.status} {reply.body!r}")
        return reply

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._call("GET", "agent").json()
        return info

    @property
    def node_name(self) -> str:
        return str(self._info()["node_name"])

    @property
    def datacenter(self) -> str:
        return str(self._info()["datacenter"])

    @property
    def node_id(self) -> str:
        return str(self._info()["node_id"])

    @property
    def blocked_queries(self) -> int:
        return int(self._call("GET", "blocked").json()["blocked_queries"])

    @property
    def events(self) -> list[UserEvent]:
        return [_event(e) for e in self._call("GET", "events").json()["events"]]

    @property
    def fired(self) -> list[UserEvent]:
        return [_event(e) for e in self._call("GET", "fired").json()["fired"]]

    @property
    def services(self) -> dict[str, Service]:
        found = self._call("GET", "services").json()["services"]
        return {s["id"]: Service(**s) for s in found}

    def configure(self, **options: Any) -> None:
        """Start over as the marker says: the datacenter-wide options (ACLs, dev mode) with
        ``POST /_fake/cluster/configure``, the agent's own with ``POST /_fake/configure``.
        A test that would rename the agent or move it to another datacenter is skipped: those
        are fixed for an agent of a datacenter."""
        shared = {key: options.pop(key) for key in CLUSTER_WIDE if key in options}
        self._call("POST", "cluster/configure", _jsonable(shared))
        reply = request(f"{self.url}/_fake/configure", "POST", _jsonable(options))
        if reply.status == 400 and "cannot change on an agent of a cluster" in reply.body.decode():
            pytest.skip(f"not for an agent of a datacenter: {reply.json()['error']}")
        if reply.status != 200:
            raise RemoteError(f"POST /_fake/configure -> {reply.status} {reply.body!r}")

    def fire(self, name: str, payload: bytes | str | None = None, **fields: Any) -> UserEvent:
        body: dict[str, Any] = {"name": name, **{k: v for k, v in fields.items() if v is not None}}
        if isinstance(payload, str):
            payload = payload.encode()
        if payload is not None:
            body["payload_base64"] = base64.b64encode(payload).decode()
        reply = request(f"{self.url}/_fake/fire", "POST", body)
        data = reply.json()
        if reply.status != 200:
            cls = _ERRORS.get(data.get("consul_error", ""), errors.ConsulError)
            error = cls.__new__(cls)
            errors.ConsulError.__init__(error, data["error"])
            raise error
        return _event(data["event"])

    def wait_for_blocked(self, count: int = 1, timeout: float = 5.0) -> None:
        reply = request(
            f"{self.url}/_fake/blocked/wait", "POST", {"count": count, "timeout": timeout}
        )
        if reply.status == 408:
            raise TimeoutError(reply.json()["error"])
        if reply.status != 200:
            raise RemoteError(reply.body.decode())

    def wake_all(self) -> None:
        self._call("POST", "blocked/wake")

    def release_blocked(self) -> None:
        self._call("POST", "blocked/release")

    def client(self, *, token: str | None = None, dc: str | None = None) -> consul.Consul:
        client = consul.Consul(host=self.host, port=self.port, scheme="http", verify=True, dc=dc)
        client.token = token
        self._clients.append(client)
        return client

    def aio_client(self, *, token: str | None = None, dc: str | None = None) -> Any:
        import warnings

        import consul.aio

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client = consul.aio.Consul(
                host=self.host, port=self.port, scheme="http", verify=True, dc=dc
            )
        client.token = token
        return client

    @property
    def acl(self) -> Any:
        pytest.skip("the ACL store object is reachable in-process only")

    def close_clients(self) -> None:
        clients, self._clients = self._clients, []
        for client in clients:
            client.http.session.close()


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "consul_agent(**options): configure the remote agent for this test",
        "consul_strict: strict mode (not used remotely)",
        "consul_cluster(**options): not used remotely",
    ):
        config.addinivalue_line("markers", line)


ASSUME_NODE1 = frozenset(
    {
        "test_fire_node_filter_is_an_unanchored_search",
        "test_list_entries_keep_go_field_order",
        "test_list_shows_events_fired_through_the_model",
        "test_agent_self_describes_the_node",
        "test_agent_self_answers_an_exact_agent_rule_on_its_node",
        "test_aio_blocked_list_does_not_block_the_event_loop",
    }
)
"""Tests that spell the default node name ``node1`` into their requests or expectations."""
ASSUME_DC1 = frozenset(
    {
        "test_agent_self_describes_the_node",
        "test_register_with_py_consul_lowercase_fields",
        "test_register_id_defaults_to_the_name",
        "test_register_again_replaces_the_service",
        "test_client_default_dc_is_sent_on_fire",
    }
)
"""Tests that spell the default datacenter ``dc1`` into their requests or expectations."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the in-process variants (there is no app here to call), and the tests that
    assume the default identity when the remote agent has another (an agent of a datacenter
    keeps its own name and datacenter)."""
    info = request(f"{os.environ[REMOTE_ENV].rstrip('/')}/_fake/agent").json()
    assumed: set[str] = set()
    if info["node_name"] != "node1":
        assumed |= ASSUME_NODE1
    if info["datacenter"] != "dc1":
        assumed |= ASSUME_DC1
    left_out = [
        item
        for item in items
        if "[wsgi" in item.nodeid or getattr(item, "originalname", item.name) in assumed
    ]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


@pytest.fixture(scope="session")
def consul_agent_server() -> RemoteAgent:
    """The remote agent, for the whole session."""
    url = os.environ.get(REMOTE_ENV)
    if not url:
        raise pytest.UsageError(f"{REMOTE_ENV} must name the remote agent's URL")
    return RemoteAgent(url)


@pytest.fixture
def consul_agent(
    request: pytest.FixtureRequest, consul_agent_server: RemoteAgent
) -> Iterator[RemoteAgent]:
    """The remote agent, started over with the test's marker options before the test."""
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("consul_agent"))):
        options.update(marker.kwargs)
    consul_agent_server.configure(**options)
    try:
        yield consul_agent_server
    finally:
        consul_agent_server.release_blocked()
        consul_agent_server.close_clients()


@pytest.fixture
def consul_client(consul_agent: RemoteAgent) -> consul.Consul:
    """py-consul bound to the remote agent."""
    return consul_agent.client()
