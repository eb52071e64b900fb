"""Fire a deploy, or queue it for later when the token may not fire it.

A deploy tool often runs with a token that someone else manages. When that token lacks
``event:write`` on ``deploy``, Consul answers ``403 Permission denied`` (py-consul raises
``consul.ACLPermissionDenied``). That is not a reason to crash a pipeline: the deploy is recorded
in a :class:`DeployQueue`, to be retried once the token is fixed or to raise an alert.

Other refusals are not queued, because retrying them with the same token cannot help: a token
Consul does not know is answered with ``500 ACL not found`` (a plain ``ConsulException``), a
payload too large with ``500 error broadcasting event: ...``. Those still raise
:class:`~deployer.trigger.DeployError`.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import consul  # type: ignore[import-untyped, unused-ignore]  # py-consul has no type hints

from deployer.trigger import Deploy, DeployError, fire_deploy


@dataclasses.dataclass(frozen=True)
class QueuedDeploy:
    """A deploy that could not be fired: what it was, and Consul's answer."""

    deploy: Deploy
    reason: str


class DeployQueue:
    """Deploys waiting for a retry (or an alert). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[QueuedDeploy] = []

    def add(self, queued: QueuedDeploy) -> None:
        """Record a deploy that was refused."""
        with self._lock:
            self._pending.append(queued)

    @property
    def pending(self) -> list[QueuedDeploy]:
        """The queued deploys, oldest first."""
        with self._lock:
            return list(self._pending)

    def take(self) -> list[QueuedDeploy]:
        """Remove and return every queued deploy, oldest first (e.g. to retry them)."""
        with self._lock:
            taken, self._pending = self._pending, []
            return taken


def fire_deploy_or_queue(
    service: str,
    version: str,
    *,
    queue: DeployQueue,
    client: Any = None,
    node: str | None = None,
    tag: str | None = None,
) -> str | None:
    """Fire a ``deploy`` event like :func:`~deployer.trigger.fire_deploy`; return its ID.

    When the token may not fire the event (HTTP 403, ``consul.ACLPermissionDenied``), the
    deploy is added to ``queue`` and ``None`` is returned instead of raising.

    Raises:
        DeployError: any other refusal (unknown token, too large, invalid filter) or Consul
            unreachable.
    """
    try:
        return fire_deploy(service, version, node=node, tag=tag, client=client)
    except DeployError as exc:
        cause = exc.__cause__
        if not isinstance(cause, consul.ACLPermissionDenied):
            raise
        queue.add(QueuedDeploy(Deploy(service, version), str(cause)))
        return None
