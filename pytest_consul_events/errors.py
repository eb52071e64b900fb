"""Errors raised by the fake agent, each carrying the exact text real Consul answers with.

The HTTP layer turns each class into Consul's status code (see ``http/errors.py``); code that
calls the agent from Python (``consul_agent.fire(...)``) gets the same exception and the same
text a client would read in the response body.
"""

from __future__ import annotations

from pytest_consul_events import messages


class ConsulError(Exception):
    """Base class: ``message`` is the exact body real Consul sends for this failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingNameError(ConsulError):
    """An event was fired without a name (HTTP 400 ``Missing name``)."""

    def __init__(self) -> None:
        super().__init__(messages.MISSING_NAME)


class InvalidFilterError(ConsulError):
    """A node, service or tag filter was rejected before firing (HTTP 500)."""


class NoPathToDatacenterError(ConsulError):
    """The ``dc`` asked for is not known to this agent (HTTP 500)."""

    def __init__(self) -> None:
        super().__init__(messages.NO_PATH_TO_DATACENTER)


class PermissionDeniedError(ConsulError):
    """The token lacks the permission; ``detail`` is Consul's long form (HTTP 403)."""

    def __init__(self, detail: str = messages.PERMISSION_DENIED) -> None:
        super().__init__(messages.PERMISSION_DENIED)
        self.detail = detail


class ACLNotFoundError(ConsulError):
    """The token's secret is unknown while ACLs are enabled."""

    def __init__(self) -> None:
        super().__init__(messages.ACL_NOT_FOUND)


class RootACLError(ConsulError):
    """One of the reserved names ``allow``, ``deny`` or ``manage`` was used as a token."""

    def __init__(self) -> None:
        super().__init__(messages.ROOT_ACL)


class EventTooLargeError(ConsulError):
    """Serf refused the event for its size (HTTP 500 ``error broadcasting event: ...``)."""


class ServiceError(ConsulError):
    """A service registration or deregistration was refused (HTTP 400 or 404)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
