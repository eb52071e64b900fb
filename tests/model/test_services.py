"""Local services: ID defaults, registration, replacement and deregistration (section 9)."""

from __future__ import annotations

import pytest

from pytest_consul_events import messages
from pytest_consul_events.errors import ConsulError, ServiceError
from pytest_consul_events.model.agent import Agent
from pytest_consul_events.model.services import Service, coerce_service, coerce_services

# -- the Service record ----------------------------------------------------------------------------


def test_service_id_defaults_to_name() -> None:
    assert Service(name="web").id == "web"


def test_explicit_service_id_is_kept() -> None:
    assert Service(name="web", id="web-1").id == "web-1"


def test_service_defaults() -> None:
    service = Service(name="web")
    assert (
        service.tags,
        service.port,
        service.address,
        service.meta,
        service.enable_tag_override,
    ) == ((), 0, "", {}, False)


def test_service_tags_become_a_tuple() -> None:
    assert Service(name="web", tags=["v1", "v2"]).tags == ("v1", "v2")  # type: ignore[arg-type]


def test_service_meta_is_copied() -> None:
    meta = {"k": "v"}
    service = Service(name="web", meta=meta)
    meta["k"] = "changed"
    assert service.meta == {"k": "v"}


def test_coerce_service_from_a_name() -> None:
    assert coerce_service("web") == Service(name="web", id="web")


def test_coerce_service_from_a_mapping() -> None:
    assert coerce_service({"name": "web", "id": "w1", "tags": ["a"], "port": 80}) == Service(
        name="web", id="w1", tags=("a",), port=80
    )


def test_coerce_service_keeps_a_service() -> None:
    service = Service(name="web")
    assert coerce_service(service) is service


def test_coerce_service_rejects_other_types() -> None:
    with pytest.raises(TypeError) as info:
        coerce_service(42)  # type: ignore[arg-type]
    assert str(info.value) == (
        "service must be a service name, a dict of service fields or a Service, not 42 (int)"
    )


def test_coerce_service_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError) as info:
        coerce_service({"name": "web", "bogus": 1})
    assert str(info.value) == (
        "unknown key 'bogus' in service; accepted keys: address, enable_tag_override, id, meta, "
        "name, port, tags"
    )


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ("", "service must be a non-empty str, not '' (str)"),
        ({"name": ""}, "service['name'] must be a non-empty str, not '' (str)"),
        (
            {"id": "x"},
            "service must be a dict with a 'name' (a non-empty str), not {'id': 'x'} (dict)",
        ),
    ],
)
def test_coerce_service_rejects_missing_name(spec: object, text: str) -> None:
    with pytest.raises(ValueError) as info:
        coerce_service(spec)  # type: ignore[arg-type]
    assert str(info.value) == text


def test_a_service_without_name_cannot_be_made() -> None:
    with pytest.raises(ValueError) as info:
        Service(name="")
    assert str(info.value) == "name must be a non-empty str, not '' (str)"


def test_coerce_services_rejects_a_bare_string() -> None:
    with pytest.raises(TypeError) as info:
        coerce_services("web")
    assert str(info.value) == (
        "services must be a list or tuple of services (names, dicts of service fields or "
        "Services), not 'web' (str)"
    )


def test_coerce_services_coerces_each_item() -> None:
    assert coerce_services(["web", {"name": "db"}]) == [Service(name="web"), Service(name="db")]


# -- on the agent ----------------------------------------------------------------------------------


@pytest.fixture
def agent() -> Agent:
    return Agent(seed=1)


def test_fresh_agent_has_no_services(agent: Agent) -> None:
    assert agent.services == {}


def test_register_defaults_id_to_name(agent: Agent) -> None:
    service = agent.register_service("web")
    assert service.id == "web"
    assert agent.services == {"web": Service(name="web")}


def test_register_keeps_all_fields(agent: Agent) -> None:
    agent.register_service(
        "web", service_id="w1", tags=["v1"], port=80, address="10.0.0.1", meta={"k": "v"}
    )
    assert agent.services == {
        "w1": Service(
            name="web", id="w1", tags=("v1",), port=80, address="10.0.0.1", meta={"k": "v"}
        )
    }


def test_services_are_keyed_by_id(agent: Agent) -> None:
    agent.register_service("web", service_id="web-1")
    agent.register_service("web", service_id="web-2")
    assert sorted(agent.services) == ["web-1", "web-2"]


def test_reregistering_an_id_replaces_the_service(agent: Agent) -> None:
    agent.register_service("web", tags=["old"])
    agent.register_service("web", tags=["new"], port=8080)
    assert agent.services == {"web": Service(name="web", tags=("new",), port=8080)}


def test_reregistering_an_id_under_another_name_replaces_it(agent: Agent) -> None:
    agent.register_service("web", service_id="svc")
    agent.register_service("api", service_id="svc")
    assert agent.services == {"svc": Service(name="api", id="svc")}


def test_add_service_stores_under_its_id(agent: Agent) -> None:
    agent.add_service(Service(name="web", id="w9"))
    assert list(agent.services) == ["w9"]


def test_register_without_name_is_missing_service_name(agent: Agent) -> None:
    with pytest.raises(ServiceError) as info:
        agent.register_service("")
    assert (info.value.message, info.value.status) == ("Missing service name", 400)
    assert info.value.message == messages.MISSING_SERVICE_NAME


def test_deregister_removes_the_service(agent: Agent) -> None:
    agent.register_service("web")
    agent.register_service("db")
    agent.deregister_service("web")
    assert list(agent.services) == ["db"]


def test_deregister_by_name_of_a_service_with_another_id_fails(agent: Agent) -> None:
    agent.register_service("web", service_id="web-1")
    with pytest.raises(ServiceError):
        agent.deregister_service("web")
    assert list(agent.services) == ["web-1"]


def test_deregister_unknown_id_is_a_404_service_error(agent: Agent) -> None:
    with pytest.raises(ServiceError) as info:
        agent.deregister_service("nope")
    assert isinstance(info.value, ConsulError)
    assert info.value.status == 404
    assert info.value.message == messages.UNKNOWN_SERVICE_ID.format(service_id='"nope"')
    assert info.value.message == (
        'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.'
    )


def test_deregister_unknown_id_quotes_the_id_as_go_does(agent: Agent) -> None:
    # Consul formats the ID with %q: quotes and backslashes are escaped.
    with pytest.raises(ServiceError) as info:
        agent.deregister_service('a"b\\c')
    assert info.value.message == (
        'Unknown service ID "a\\"b\\\\c". Ensure that the service ID is passed, not the '
        "service name."
    )


def test_services_property_is_a_copy(agent: Agent) -> None:
    agent.register_service("web")
    agent.services.clear()
    assert list(agent.services) == ["web"]


def test_configured_services_are_registered() -> None:
    agent = Agent(seed=1, services=["web", {"name": "db", "id": "db-1"}])
    assert sorted(agent.services) == ["db-1", "web"]


def test_deregistered_service_no_longer_matches_filters(agent: Agent) -> None:
    agent.register_service("web")
    agent.deregister_service("web")
    agent.fire("deploy", service="web")
    assert agent.events == []
