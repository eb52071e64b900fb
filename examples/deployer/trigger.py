"""Fire ``deploy`` events: "roll ``service`` out at ``version``" to the nodes that run it.

The event carries a small JSON payload and Consul filters that decide which agents store it.
Consul's rules shape the design:

* The service filter is a Go regular expression matched, unanchored, against the **IDs** of the
  services registered on each agent (an ID defaults to the service name). An unanchored ``web``
  would also reach ``webhooks``, so the filter is the service name anchored: ``^web$``.
* The node and tag filters are Go regular expressions too, passed through unchanged (``^web-``
  for every node whose name starts with ``web-``). A tag filter only applies together with a
  service filter, which every deploy has.
* Gossip limits a user event to 512 bytes *including* its name and filters, so the payload is
  compact JSON, and the size check is left to Consul: it answers ``500 error broadcasting
  event: ...``, turned here into a :class:`DeployError`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import consul  # type: ignore[import-untyped, unused-ignore]  # py-consul has no type hints

DEPLOY_EVENT = "deploy"
"""The name of the Consul user event this tool fires and watches."""


class DeployError(Exception):
    """Consul refused a deploy event, or could not be reached."""


@dataclasses.dataclass(frozen=True)
class Deploy:
    """What a deploy event asks for: roll ``service`` out at ``version``."""

    service: str
    version: str

    def to_payload(self) -> str:
        """The event payload: compact JSON, since every byte counts against gossip's limit."""
        return json.dumps({"service": self.service, "version": self.version}, separators=(",", ":"))

    @classmethod
    def from_payload(cls, payload: bytes | None) -> Deploy:
        """Read a payload written by :meth:`to_payload`.

        Raises:
            ValueError: the payload is missing, not JSON, or lacks a string field.
        """
        if payload is None:
            raise ValueError("a deploy event needs a payload")
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise ValueError(f"not a deploy payload: {payload!r}")
        service, version = data.get("service"), data.get("version")
        if not isinstance(service, str) or not isinstance(version, str):
            raise ValueError(f"not a deploy payload: {payload!r}")
        return cls(service, version)


def service_filter(service: str) -> str:
    """The Go regexp matching exactly the service ID ``service``.

    Python's ``re.escape`` only escapes punctuation, which Go's regexp syntax also accepts
    escaped, so its output is a valid Go pattern.
    """
    return f"^{re.escape(service)}$"


def fire_deploy(
    service: str,
    version: str,
    *,
    node: str | None = None,
    tag: str | None = None,
    client: Any = None,
) -> str:
    """Fire a ``deploy`` event for ``service`` at ``version``; return the event's ID.

    Only agents running a service whose ID is ``service`` store the event; ``node`` and ``tag``
    (Go regexps, unanchored, as Consul applies them) narrow it to some nodes or to instances
    carrying a matching tag. ``client`` is a ``consul.Consul``; without one, a client is built
    from the environment (``CONSUL_HTTP_ADDR``, ``CONSUL_HTTP_TOKEN``...) for this call.

    Raises:
        DeployError: Consul refused the event (too large, invalid filter, denied) or is
            unreachable.
    """
    deploy = Deploy(service, version)
    if client is not None:
        return _fire(client, deploy, node, tag)
    client = consul.Consul()
    try:
        return _fire(client, deploy, node, tag)
    finally:
        client.http.session.close()


def _fire(client: Any, deploy: Deploy, node: str | None, tag: str | None) -> str:
    what = f"{deploy.service} {deploy.version}"
    try:
        answer = client.event.fire(
            DEPLOY_EVENT,
            deploy.to_payload(),
            node=node,
            service=service_filter(deploy.service),
            tag=tag,
        )
    except consul.ConsulException as exc:
        # py-consul puts the status first: "500 error broadcasting event: ...".
        raise DeployError(f"Consul refused the deploy of {what}: {exc}") from exc
    except OSError as exc:
        # requests' ConnectionError and Timeout are OSErrors.
        raise DeployError(f"could not reach Consul to deploy {what}: {type(exc).__name__}") from exc
    return str(answer["ID"])
