"""The agent's local services: what the service and tag filters of an event are matched against."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class Service:
    """A service registered on the agent, as ``/v1/agent/services`` shows it.

    ``id`` defaults to ``name`` (agent/structs/service_definition.go). Event service filters are
    matched against the ID, not the name, as in Consul CE.
    """

    name: str
    id: str = ""
    tags: tuple[str, ...] = ()
    port: int = 0
    address: str = ""
    meta: Mapping[str, str] = dataclasses.field(default_factory=dict)
    enable_tag_override: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", self.name)
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "meta", dict(self.meta))


def coerce_service(spec: Service | str | Mapping[str, Any]) -> Service:
    """Build a :class:`Service` from a name, a mapping of its fields, or a :class:`Service`.

    Raises:
        TypeError: ``spec`` is none of these, or names a field a service does not have.
        ValueError: the service has no name.
    """
    if isinstance(spec, Service):
        service = spec
    elif isinstance(spec, str):
        service = Service(name=spec)
    elif isinstance(spec, Mapping):
        service = Service(**dict(spec))
    else:
        raise TypeError(f"a service is a name, a mapping or a Service, not {type(spec).__name__}")
    if not service.name:
        raise ValueError("a service needs a name")
    return service


def coerce_services(specs: Iterable[Service | str | Mapping[str, Any]]) -> list[Service]:
    """Apply :func:`coerce_service` to each of ``specs``; a bare string is rejected as ambiguous.

    Raises:
        TypeError: ``specs`` is a single string, or an item is not a service specification.
        ValueError: an item has no name.
    """
    if isinstance(specs, str):
        raise TypeError("services is a list of services; wrap a single name in a list")
    return [coerce_service(spec) for spec in specs]
