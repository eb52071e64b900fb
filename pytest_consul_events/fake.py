"""The fake agent served over HTTP: the model, the WSGI app and the server, as one object."""

from __future__ import annotations

import dataclasses
import warnings
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytest_consul_events import assertions
from pytest_consul_events.http.app import ConsulApp
from pytest_consul_events.http.requestlog import RequestLog
from pytest_consul_events.model.acl import ACLStore
from pytest_consul_events.model.agent import Agent, AgentConfig, Network
from pytest_consul_events.model.clock import Clock
from pytest_consul_events.server import HTTPServer

if TYPE_CHECKING:
    import consul


REPORTED_REQUESTS = 30
"""How many of the latest requests a failure report lists."""


class FakeConsulAgent(Agent):
    """A fake Consul agent listening on ``host:port`` (127.0.0.1 and a free port by default).

    Everything :class:`~pytest_consul_events.model.agent.Agent` offers (``fire``, ``events``,
    ``register_service``, ``list_events``...) is here, plus the address. Use it as a context
    manager, or call :meth:`start` and :meth:`stop`::

        with FakeConsulAgent(node_name="web-1") as agent:
            requests.put(f"{agent.url}/v1/event/fire/deploy")

    The port is bound when the object is made, so a busy port raises ``OSError`` at once; it
    listens from :meth:`start` on, so a client of an agent never started is refused at once.
    Keyword options are those of :class:`~pytest_consul_events.model.agent.AgentConfig`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        network: Network | None = None,
        acl_store: ACLStore | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            AgentConfig.build(**options), clock=clock, network=network, acl_store=acl_store
        )
        self.app = ConsulApp(self)
        self.app.log = RequestLog(limit=self._history_limit)
        self.server = self._new_server(host, port)
        self._clients: list[Any] = []

    def _new_server(self, host: str, port: int) -> HTTPServer:
        """An HTTP server for this agent, bound (not yet listening) to ``host:port``."""
        return HTTPServer(
            self.app, host, port, on_stop=self.release_blocked, conn_limit=self._conn_limit
        )

    def _conn_limit(self) -> int:
        # Read at every new connection: the fixture reconfigures the agent for each test.
        return self.config.http_max_conns_per_client

    def _history_limit(self) -> int:
        return self.config.history_limit

    @property
    def host(self) -> str:
        """The address the server is bound to."""
        return self.server.host

    @property
    def port(self) -> int:
        """The port the server is bound to."""
        return self.server.port

    @property
    def http_addr(self) -> str:
        """``host:port``, the form of ``CONSUL_HTTP_ADDR``."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port``, the base of every endpoint."""
        return self.server.url

    def start(self) -> FakeConsulAgent:
        """Start serving; returns the agent.

        Raises:
            RuntimeError: it was started before.
        """
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving: blocked list queries are answered, connections closed, threads ended."""
        self.server.stop()
        self.close_clients()

    def restart(self) -> FakeConsulAgent:
        """Serve again on the same address after :meth:`stop`, as a restarted agent would:
        with an empty event buffer and a fresh serf state (services and ACLs are kept).

        Raises:
            OSError: the port was taken in the meantime.
        """
        self.server.stop()
        services = list(self.services.values())
        self.reset(dataclasses.replace(self.config, seed=self._rng.getrandbits(32)))
        for service in services:
            self.add_service(service)
        self.server = self._new_server(self.host, self.port)
        return self.start()

    def configure(self, **options: Any) -> None:
        """Reset the agent to a fresh state with these options (the marker's keywords), and
        forget the requests it logged.

        Raises:
            TypeError, ValueError: an option is unknown or invalid.
        """
        self.reset(AgentConfig.build(**options))
        self.app.log.clear()

    @property
    def requests(self) -> RequestLog:
        """The HTTP requests served since the last reset (tokens redacted), oldest first: the
        latest ``history_limit`` of them, with a count of those dropped."""
        return self.app.log

    def client(self, *, token: str | None = None, dc: str | None = None) -> consul.Consul:
        """A py-consul ``consul.Consul`` bound to this agent over plain HTTP.

        Unlike ``consul.Consul()`` alone, the environment cannot redirect it: ``CONSUL_HTTP_SSL``
        and ``CONSUL_HTTP_TOKEN`` are ignored, and ``token`` is the only token it sends. It is
        closed by :meth:`close_clients` (after each test, under the ``consul_agent`` fixture).
        """
        import consul

        client = consul.Consul(host=self.host, port=self.port, scheme="http", verify=True, dc=dc)
        client.token = token
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close the connections of every client :meth:`client` made (the ``consul_agent``
        fixture does it after each test, so tests need not)."""
        clients, self._clients = self._clients, []
        for client in clients:
            client.http.session.close()

    def aio_client(self, *, token: str | None = None, dc: str | None = None) -> Any:
        """A py-consul ``consul.aio.Consul``; create it inside a running event loop.

        Like :meth:`client`, it ignores ``CONSUL_HTTP_SSL`` and ``CONSUL_HTTP_TOKEN``.
        """
        import consul.aio

        with warnings.catch_warnings():
            # py-consul hands aiohttp arguments that recent aiohttp versions deprecate.
            warnings.simplefilter("ignore", DeprecationWarning)
            client = consul.aio.Consul(
                host=self.host, port=self.port, scheme="http", verify=True, dc=dc
            )
        client.token = token
        return client

    def __enter__(self) -> FakeConsulAgent:
        if not self.server.started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    assert_fired = assertions.assert_fired
    assert_not_fired = assertions.assert_not_fired
    assert_fired_in_order = assertions.assert_fired_in_order
    wait_for_event = assertions.wait_for_event

    def failure_report(self) -> tuple[str, str]:
        """The title and text of the report section shown when a test using this agent fails."""
        lines = [
            f"{self.node_name} [{self.datacenter}] at {self.url}, seed {self.seed} "
            f"(replay with --consul-seed={self.seed})",
            f"events held ({len(self.events)}):",
        ]
        for event in self.events:
            payload = "null" if event.payload is None else repr(event.payload[:60])
            lines.append(f"  {event.ltime:>4}  {event.name}  id={event.id}  payload={payload}")
        fired = self.fired
        if len(fired) != len(self.events):
            lines.append(f"fired through it: {', '.join(e.name for e in fired) or '(none)'}")
        requests = list(self.requests)
        lines.append(f"requests served ({len(requests)}):")
        shown = requests[-REPORTED_REQUESTS:]
        earlier = len(requests) - len(shown) + self.requests.dropped
        if earlier:
            lines.append(f"  ... {earlier} earlier requests")
        lines.extend(
            f"  {record}" + ("" if record.implemented else "  (not served by the fake)")
            for record in shown
        )
        return "consul agent", "\n".join(lines)

    def __repr__(self) -> str:
        return f"<FakeConsulAgent {self.node_name!r} dc={self.datacenter!r} at {self.http_addr}>"
