"""The agent's local services: what the service and tag filters of an event are matched against."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_consul_events.validation import (
    check_bool,
    check_int,
    check_options,
    check_str,
    check_str_mapping,
    check_strings,
    must_be,
    shown,
)

SERVICE_FIELDS = ("name", "id", "tags", "port", "address", "meta", "enable_tag_override")
"""The keys a service given as a mapping may have (the fields of :class:`Service`)."""


@dataclasses.dataclass(frozen=True)
class Service:
    """A service registered on the agent, as ``/v1/agent/services`` shows it.

    ``id`` defaults to ``name`` (agent/structs/service_definition.go). Event service filters are
    matched against the ID, not the name, as in Consul CE.

    Raises:
        TypeError, ValueError: a field has a value of the wrong type (``tags`` a single
            ``str``, ``port`` a ``str``...) or ``name`` is empty, naming the field.
    """

    name: str
    id: str = ""
    tags: tuple[str, ...] = ()
    port: int = 0
    address: str = ""
    meta: Mapping[str, str] = dataclasses.field(default_factory=dict)
    enable_tag_override: bool = False

    def __post_init__(self) -> None:
        fields = _checked_fields(
            {field: getattr(self, field) for field in SERVICE_FIELDS}, prefix=""
        )
        for field, value in fields.items():
            object.__setattr__(self, field, value)


MAX_PORT = 65535
"""The largest port a service may be given from Python (over HTTP Consul takes any int)."""


def _checked_fields(
    spec: Mapping[str, Any], prefix: str, *, port_range: bool = False
) -> dict[str, Any]:
    """The fields of a service, checked and normalised; ``prefix`` leads each name in messages
    (``services[0]`` gives ``services[0]['tags']``); ``port_range`` limits the port to
    0-65535."""

    def label(field: str) -> str:
        return f"{prefix}[{field!r}]" if prefix else field

    name = check_str(spec.get("name"), label("name"), empty=False)
    service_id = check_str(spec.get("id", ""), label("id"))
    return {
        "name": name,
        "id": service_id or name,
        "tags": check_strings(spec.get("tags", ()), label("tags")),
        "port": check_int(
            spec.get("port", 0),
            label("port"),
            minimum=0 if port_range else None,
            maximum=MAX_PORT if port_range else None,
        ),
        "address": check_str(spec.get("address", ""), label("address")),
        "meta": check_str_mapping(spec.get("meta", {}), label("meta")),
        "enable_tag_override": check_bool(
            spec.get("enable_tag_override", False), label("enable_tag_override")
        ),
    }


def coerce_service(spec: Service | str | Mapping[str, Any], name: str = "service") -> Service:
    """Build a :class:`Service` from a name, a mapping of its fields, or a :class:`Service`.

    ``name`` is how messages call ``spec`` (``services[1]``).

    Raises:
        TypeError: ``spec`` is none of these, a mapping has a key a service does not have, or
            a field has a value of the wrong type.
        ValueError: the service has no name.
    """
    if isinstance(spec, Service):
        return spec
    if isinstance(spec, str):
        check_str(spec, name, empty=False)
        return Service(name=spec)
    if isinstance(spec, Mapping):
        check_options(spec, SERVICE_FIELDS, what="key", where=f" in {name}")
        if "name" not in spec:
            raise ValueError(must_be(name, "a dict with a 'name' (a non-empty str)", spec))
        return Service(**_checked_fields(spec, prefix=name, port_range=True))
    raise TypeError(must_be(name, "a service name, a dict of service fields or a Service", spec))


def coerce_services(
    specs: Iterable[Service | str | Mapping[str, Any]], name: str = "services"
) -> list[Service]:
    """Apply :func:`coerce_service` to each of ``specs``; a bare string is rejected as ambiguous.

    Raises:
        TypeError: ``specs`` is not a list or tuple (a single string included), or an item is
            not a service specification.
        ValueError: an item has no name, or two items have the same service ID.
    """
    accepted = "a list or tuple of services (names, dicts of service fields or Services)"
    if isinstance(specs, str | bytes | Mapping) or not isinstance(specs, list | tuple):
        raise TypeError(must_be(name, accepted, specs))
    services: list[Service] = []
    first_with: dict[str, int] = {}
    for position, spec in enumerate(specs):
        label = f"{name}[{position}]"
        service = coerce_service(spec, label)
        earlier = first_with.setdefault(service.id, position)
        if earlier != position:
            raise ValueError(
                f"{label} must have a service ID that {name}[{earlier}] does not have, "
                f"not {shown(service.id)}"
            )
        services.append(service)
    return services
