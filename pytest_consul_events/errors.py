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
    """The token lacks the permission (HTTP 403).

    ``message`` is ``Permission denied``, what the event endpoints answer; ``detail`` is the
    long form other endpoints answer with (``Permission denied: token with AccessorID ...``).
    """

    def __init__(self, detail: str = messages.PERMISSION_DENIED) -> None:
        super().__init__(messages.PERMISSION_DENIED)
        self.detail = detail


class ACLNotFoundError(ConsulError):
    """The token's secret is unknown while ACLs are enabled.

    The text is ``ACL not found``, or Consul's longer variant before the ACL system was
    bootstrapped; both contain ``ACL not found``, which is what Consul's HTTP layer looks for.
    """

    def __init__(self, message: str = messages.ACL_NOT_FOUND) -> None:
        super().__init__(message)


class RootACLError(ConsulError):
    """One of the reserved names ``allow``, ``deny`` or ``manage`` was used as a token."""

    def __init__(self) -> None:
        super().__init__(messages.ROOT_ACL)


class RulesParseError(ConsulError):
    """ACL rules that HCL or JSON cannot parse (``Failed to parse ACL rules: ...``)."""


class InvalidPolicyError(ConsulError):
    """ACL rules with an access level their resource does not allow (``Invalid event policy``)."""


class ACLStoreError(ConsulError):
    """A policy or token operation Consul refuses (duplicate name, bad ID, built-in policy)."""


class EventTooLargeError(ConsulError):
    """Serf refused the event for its size (HTTP 500 ``error broadcasting event: ...``)."""


class ServiceError(ConsulError):
    """A service registration or deregistration was refused (HTTP 400 or 404)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class NoServerError(ConsulError):
    """The datacenter has no running server to take the fire."""


class NoKnownServersError(NoServerError):
    """A client agent reaches no server of its own datacenter: ``No known Consul servers``.

    The client produces it itself: ``Client.RPC`` (agent/consul/client.go) returns
    ``structs.ErrNoServers`` when ``router.FindLANRoute()`` finds no server, before any call is
    made, so it is not wrapped like the errors a server sends back (``rpc error making call:``
    comes from ``ConnPool.rpc`` in agent/pool/pool.go, around ``msgpackrpc.CallWithCodec``). A
    stopped or partitioned server is one serf has declared failed, which removes it from the
    client's router (``Client.nodeFail`` in agent/consul/client_serf.go).
    """

    def __init__(self) -> None:
        super().__init__(messages.NO_KNOWN_SERVERS)
