"""Bad inputs to the Python API, one row each: the exception type and its exact message.

Rows cover the markers' options (through ``AgentConfig.build``, ``FakeConsulAgent.configure``
and ``FakeConsulCluster``), the agent's and the cluster's methods, the manual clock and the
assertions. After each refused call the agent (or cluster) is unchanged and still works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_consul_events.assertions import (
    assert_fired,
    assert_fired_in_order,
    assert_not_fired,
    wait_for_event,
)
from pytest_consul_events.cluster import AGENT_SPEC_OPTIONS, CLUSTER_OPTIONS, FakeConsulCluster
from pytest_consul_events.errors import ConsulError, MissingNameError, ServiceError
from pytest_consul_events.fake import CONFIGURE_OPTIONS, CONSTRUCTOR_OPTIONS, FakeConsulAgent
from pytest_consul_events.model.agent import AGENT_OPTIONS, AgentConfig
from pytest_consul_events.model.clock import ManualClock, make_clock
from pytest_consul_events.validation import UnknownAgentError

Call = Callable[[Any], object]
Message = str | Callable[[Any], str]

NAN = float("nan")
INF = float("inf")
DEPLOY_RULES = 'event "deploy" { policy = "write" }'
CLOCKS = "'real', 'manual', a ManualClock or None"
NON_EMPTY = "a non-empty str"
SEED_RANGE = "an int from 0 to 18446744073709551615 or None"
BUFFER_RANGE = "an int from 1 to 1000000000"
ACL_OFF = "given with acl='allow' or acl='deny' (ACLs are off)"
SERVICES = "a list or tuple of services (names, dicts of service fields or Services)"
DELAY = "a (low, high) pair of finite seconds with 0 <= low <= high, such as (0.0, 0.5)"
AGENTS_OF_CLUSTER = "the node name of an agent of the cluster, one of 'node1', 'node2', 'node3'"
SECONDS = "a finite number of seconds >= 0"
PROBABILITY = "a finite number from 0 to 1"
PREDICATE = "a str, None, a predicate or ANY"


def accepted(options: tuple[str, ...]) -> str:
    return ", ".join(sorted(options))


def row(call: Call, error: type[BaseException], message: Message, id: str) -> Any:
    return pytest.param(call, error, message, id=id)


def expect(call: Call, subject: Any, error: type[BaseException], message: Message) -> None:
    with pytest.raises(error) as info:
        call(subject)
    text = message(subject) if callable(message) else message
    if isinstance(info.value, ConsulError):
        assert info.value.message == text
    else:
        assert str(info.value) == text


# -- the consul_agent marker's options (AgentConfig.build) -----------------------------------------

CONFIG_ROWS = [
    row(
        lambda _: AgentConfig.build(nodename="x"),
        TypeError,
        f"unknown agent option 'nodename'; accepted options: {accepted(AGENT_OPTIONS)}",
        "unknown-option",
    ),
    row(
        lambda _: AgentConfig.build(node_name=""),
        ValueError,
        "node_name must be a non-empty str, not '' (str)",
        "node_name-empty",
    ),
    row(
        lambda _: AgentConfig.build(node_name=5),
        TypeError,
        "node_name must be a non-empty str, not 5 (int)",
        "node_name-int",
    ),
    row(
        lambda _: AgentConfig.build(node_name=b"web"),
        TypeError,
        "node_name must be a non-empty str, not b'web' (bytes)",
        "node_name-bytes",
    ),
    row(
        lambda _: AgentConfig.build(datacenter=None),
        TypeError,
        "datacenter must be a non-empty str, not None (NoneType)",
        "datacenter-none",
    ),
    row(
        lambda _: AgentConfig.build(datacenter=""),
        ValueError,
        "datacenter must be a non-empty str, not '' (str)",
        "datacenter-empty",
    ),
    row(
        lambda _: AgentConfig.build(services="web"),
        TypeError,
        f"services must be {SERVICES}, not 'web' (str)",
        "services-str",
    ),
    row(
        lambda _: AgentConfig.build(services={"name": "web"}),
        TypeError,
        f"services must be {SERVICES}, not {{'name': 'web'}} (dict)",
        "services-dict",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": 1}]),
        TypeError,
        "services[0]['name'] must be a non-empty str, not 1 (int)",
        "service-name-int",
    ),
    row(
        lambda _: AgentConfig.build(services=[""]),
        ValueError,
        "services[0] must be a non-empty str, not '' (str)",
        "service-name-empty",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "tags": "v2"}]),
        TypeError,
        "services[0]['tags'] must be a list or tuple of str, not 'v2' (str)",
        "service-tags-str",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "tags": ["v1", 2]}]),
        TypeError,
        "services[0]['tags'][1] must be a str, not 2 (int)",
        "service-tag-int",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "port": "80"}]),
        TypeError,
        "services[0]['port'] must be an int from 0 to 65535, not '80' (str)",
        "service-port-str",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "port": True}]),
        TypeError,
        "services[0]['port'] must be an int from 0 to 65535, not True (bool)",
        "service-port-bool",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "port": 65536}]),
        ValueError,
        "services[0]['port'] must be an int from 0 to 65535, not 65536 (int)",
        "service-port-too-large",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "id": 5}]),
        TypeError,
        "services[0]['id'] must be a str, not 5 (int)",
        "service-id-int",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "address": None}]),
        TypeError,
        "services[0]['address'] must be a str, not None (NoneType)",
        "service-address-none",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "meta": {"k": 1}}]),
        TypeError,
        "services[0]['meta']['k'] must be a str, not 1 (int)",
        "service-meta-value",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "meta": "k=v"}]),
        TypeError,
        "services[0]['meta'] must be a dict of str to str, not 'k=v' (str)",
        "service-meta-str",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "enable_tag_override": "yes"}]),
        TypeError,
        "services[0]['enable_tag_override'] must be True or False, not 'yes' (str)",
        "service-override-str",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"name": "web", "bogus": 1}]),
        TypeError,
        "unknown key 'bogus' in services[0]; accepted keys: address, enable_tag_override, id, "
        "meta, name, port, tags",
        "service-unknown-key",
    ),
    row(
        lambda _: AgentConfig.build(services=[{"id": "x"}]),
        ValueError,
        "services[0] must be a dict with a 'name' (a non-empty str), not {'id': 'x'} (dict)",
        "service-without-name",
    ),
    row(
        lambda _: AgentConfig.build(services=[5]),
        TypeError,
        "services[0] must be a service name, a dict of service fields or a Service, not 5 (int)",
        "service-int",
    ),
    row(
        lambda _: AgentConfig.build(services=["web", "web"]),
        ValueError,
        "services[1] must have a service ID that services[0] does not have, not 'web' (str)",
        "services-duplicate-name",
    ),
    row(
        lambda _: AgentConfig.build(
            services=[{"name": "a", "id": "x"}, "b", {"name": "c", "id": "x"}]
        ),
        ValueError,
        "services[2] must have a service ID that services[0] does not have, not 'x' (str)",
        "services-duplicate-id",
    ),
    row(
        lambda _: AgentConfig.build(buffer_size=0),
        ValueError,
        f"buffer_size must be {BUFFER_RANGE}, not 0 (int)",
        "buffer_size-zero",
    ),
    row(
        lambda _: AgentConfig.build(buffer_size=10**9 + 1),
        ValueError,
        f"buffer_size must be {BUFFER_RANGE}, not 1000000001 (int)",
        "buffer_size-huge",
    ),
    row(
        lambda _: AgentConfig.build(buffer_size=True),
        TypeError,
        f"buffer_size must be {BUFFER_RANGE}, not True (bool)",
        "buffer_size-bool",
    ),
    row(
        lambda _: AgentConfig.build(buffer_size="16"),
        TypeError,
        f"buffer_size must be {BUFFER_RANGE}, not '16' (str)",
        "buffer_size-str",
    ),
    row(
        lambda _: AgentConfig.build(buffer_size=16.0),
        TypeError,
        f"buffer_size must be {BUFFER_RANGE}, not 16.0 (float)",
        "buffer_size-float",
    ),
    row(
        lambda _: AgentConfig.build(seed=-1),
        ValueError,
        f"seed must be {SEED_RANGE}, not -1 (int)",
        "seed-negative",
    ),
    row(
        lambda _: AgentConfig.build(seed=2**64),
        ValueError,
        f"seed must be {SEED_RANGE}, not 18446744073709551616 (int)",
        "seed-too-large",
    ),
    row(
        lambda _: AgentConfig.build(seed="42"),
        TypeError,
        f"seed must be {SEED_RANGE}, not '42' (str)",
        "seed-str",
    ),
    row(
        lambda _: AgentConfig.build(seed=True),
        TypeError,
        f"seed must be {SEED_RANGE}, not True (bool)",
        "seed-bool",
    ),
    row(
        lambda _: AgentConfig.build(seed=10**5000),
        ValueError,
        f"seed must be {SEED_RANGE}, not <an int of 16610 bits> (int)",
        "seed-unprintable",
    ),
    row(
        lambda _: AgentConfig.build(dev_mode="no"),
        TypeError,
        "dev_mode must be True or False, not 'no' (str)",
        "dev_mode-str",
    ),
    row(
        lambda _: AgentConfig.build(dev_mode=1),
        TypeError,
        "dev_mode must be True or False, not 1 (int)",
        "dev_mode-int",
    ),
    row(
        lambda _: AgentConfig.build(server="false"),
        TypeError,
        "server must be True or False, not 'false' (str)",
        "server-str",
    ),
    row(
        lambda _: AgentConfig.build(server=None),
        TypeError,
        "server must be True or False, not None (NoneType)",
        "server-none",
    ),
    row(
        lambda _: AgentConfig.build(acl="maybe"),
        ValueError,
        "acl must be None, 'allow' or 'deny', not 'maybe' (str)",
        "acl-unknown",
    ),
    row(
        lambda _: AgentConfig.build(acl="ALLOW"),
        ValueError,
        "acl must be None, 'allow' or 'deny', not 'ALLOW' (str)",
        "acl-case",
    ),
    row(
        lambda _: AgentConfig.build(acl=True),
        TypeError,
        "acl must be None, 'allow' or 'deny', not True (bool)",
        "acl-bool",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", management_token=""),
        ValueError,
        "management_token must be a non-empty str or None, not '' (str)",
        "management_token-empty",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", management_token=5),
        TypeError,
        "management_token must be a non-empty str or None, not 5 (int)",
        "management_token-int",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", management_token="anonymous"),
        ValueError,
        "management_token must be a secret other than 'anonymous' (the anonymous token's), "
        "not 'anonymous' (str)",
        "management_token-anonymous",
    ),
    row(
        lambda _: AgentConfig.build(management_token="root"),
        ValueError,
        f"management_token must be {ACL_OFF}, not 'root' (str)",
        "management_token-acl-off",
    ),
    row(
        lambda _: AgentConfig.build(default_token=None),
        TypeError,
        "default_token must be a str, not None (NoneType)",
        "default_token-none",
    ),
    row(
        lambda _: AgentConfig.build(default_token="deployer"),
        ValueError,
        f"default_token must be {ACL_OFF}, not 'deployer' (str)",
        "default_token-acl-off",
    ),
    row(
        lambda _: AgentConfig.build(tokens={"deployer": DEPLOY_RULES}),
        ValueError,
        f"tokens must be {ACL_OFF}, not {{'deployer': 'event \"deploy\" {{ policy = \"write\" }}'}}"
        " (dict)",
        "tokens-acl-off",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", tokens=["deployer"]),
        TypeError,
        "tokens must be a dict of str to str, not ['deployer'] (list)",
        "tokens-list",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", tokens={"": ""}),
        ValueError,
        "tokens keys must be a non-empty str, not '' (str)",
        "tokens-empty-secret",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", tokens={5: ""}),
        TypeError,
        "tokens keys must be a non-empty str, not 5 (int)",
        "tokens-int-secret",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", tokens={"t": 5}),
        TypeError,
        "tokens['t'] must be a str, not 5 (int)",
        "tokens-int-rules",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", tokens={"anonymous": ""}),
        ValueError,
        "tokens keys must be secrets other than 'anonymous' (the anonymous token's) and "
        "management_token, not 'anonymous' (str)",
        "tokens-anonymous",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", management_token="root", tokens={"root": ""}),
        ValueError,
        "tokens keys must be secrets other than 'anonymous' (the anonymous token's) and "
        "management_token, not 'root' (str)",
        "tokens-management-clash",
    ),
    row(
        lambda _: AgentConfig.build(acl="deny", tokens={"t": 'event "x" { policy = "list" }'}),
        ValueError,
        "tokens['t'] must be ACL rules in HCL or JSON, not 'event \"x\" { policy = \"list\" }' "
        '(str): Invalid event policy: &acl.EventRule{Event:"x", Policy:"list"}',
        "tokens-bad-rules",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), CONFIG_ROWS)
def test_agent_options(call: Call, error: type[BaseException], message: Message) -> None:
    expect(call, None, error, message)


# -- FakeConsulAgent(...) and configure(...) -------------------------------------------------------


CONSTRUCTOR_ROWS = [
    row(
        lambda _: FakeConsulAgent(port="80"),
        TypeError,
        "port must be an int from 0 to 65535, not '80' (str)",
        "port-str",
    ),
    row(
        lambda _: FakeConsulAgent(port=-1),
        ValueError,
        "port must be an int from 0 to 65535, not -1 (int)",
        "port-negative",
    ),
    row(
        lambda _: FakeConsulAgent(port=70000),
        ValueError,
        "port must be an int from 0 to 65535, not 70000 (int)",
        "port-too-large",
    ),
    row(
        lambda _: FakeConsulAgent(port=True),
        TypeError,
        "port must be an int from 0 to 65535, not True (bool)",
        "port-bool",
    ),
    row(
        lambda _: FakeConsulAgent(host=""),
        ValueError,
        "host must be a non-empty str, not '' (str)",
        "host-empty",
    ),
    row(
        lambda _: FakeConsulAgent(host=None),
        TypeError,
        "host must be a non-empty str, not None (NoneType)",
        "host-none",
    ),
    row(
        lambda _: FakeConsulAgent(clock="fast"),
        ValueError,
        f"clock must be {CLOCKS}, not 'fast' (str)",
        "clock-unknown",
    ),
    row(
        lambda _: FakeConsulAgent(bogus=1),
        TypeError,
        f"unknown agent option 'bogus'; accepted options: {accepted(CONSTRUCTOR_OPTIONS)}",
        "unknown-option",
    ),
    row(
        lambda _: FakeConsulAgent(acl_store="store"),
        TypeError,
        "acl_store must be an ACLStore or None, not 'store' (str)",
        "acl_store-str",
    ),
    row(
        lambda _: FakeConsulAgent(network=5),
        TypeError,
        "network must be a Network (with route() and broadcast()) or None, not 5 (int)",
        "network-int",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), CONSTRUCTOR_ROWS)
def test_fake_agent_options(call: Call, error: type[BaseException], message: Message) -> None:
    expect(call, None, error, message)


# -- the agent's methods ---------------------------------------------------------------------------


AGENT_ROWS = [
    row(
        lambda a: a.configure(clock="fast"),
        ValueError,
        f"clock must be {CLOCKS}, not 'fast' (str)",
        "configure-clock-unknown",
    ),
    row(
        lambda a: a.configure(clock=5),
        TypeError,
        f"clock must be {CLOCKS}, not 5 (int)",
        "configure-clock-int",
    ),
    row(
        lambda a: a.configure(manual="no"),
        TypeError,
        f"unknown agent option 'manual'; accepted options: {accepted(CONFIGURE_OPTIONS)}",
        "configure-unknown",
    ),
    row(
        lambda a: a.configure(buffer_size=0),
        ValueError,
        f"buffer_size must be {BUFFER_RANGE}, not 0 (int)",
        "configure-buffer_size",
    ),
    row(
        lambda a: a.configure(services=["web"], tokens={"t": ""}),
        ValueError,
        f"tokens must be {ACL_OFF}, not {{'t': ''}} (dict)",
        "configure-tokens-acl-off",
    ),
    row(
        lambda a: a.fire(b"deploy"),
        TypeError,
        "name must be a str, not b'deploy' (bytes)",
        "fire-name-bytes",
    ),
    row(lambda a: a.fire(None), TypeError, "name must be a str, not None (NoneType)", "fire-none"),
    row(lambda a: a.fire(""), MissingNameError, "Missing name", "fire-empty-as-consul"),
    row(
        lambda a: a.fire("deploy", payload={"version": "1.2"}),
        TypeError,
        "payload must be bytes, str or None, not {'version': '1.2'} (dict)",
        "fire-payload-dict",
    ),
    row(
        lambda a: a.fire("deploy", payload=123),
        TypeError,
        "payload must be bytes, str or None, not 123 (int)",
        "fire-payload-int",
    ),
    row(
        lambda a: a.fire("deploy", payload=bytearray(b"v1")),
        TypeError,
        "payload must be bytes, str or None, not bytearray(b'v1') (bytearray)",
        "fire-payload-bytearray",
    ),
    row(
        lambda a: a.fire("deploy", payload="\ud800"),
        ValueError,
        "payload must be bytes, a str UTF-8 can encode, or None, not '\\ud800' (str)",
        "fire-payload-surrogate",
    ),
    row(
        lambda a: a.fire("deploy", service=5),
        TypeError,
        "service must be a str or None, not 5 (int)",
        "fire-service-int",
    ),
    row(
        lambda a: a.fire("deploy", node=["node1"]),
        TypeError,
        "node must be a str or None, not ['node1'] (list)",
        "fire-node-list",
    ),
    row(
        lambda a: a.fire("deploy", service="web", tag=b"v2"),
        TypeError,
        "tag must be a str or None, not b'v2' (bytes)",
        "fire-tag-bytes",
    ),
    row(
        lambda a: a.fire("deploy", dc=1),
        TypeError,
        "dc must be a str or None, not 1 (int)",
        "fire-dc-int",
    ),
    row(
        lambda a: a.fire("deploy", token=5),
        TypeError,
        "token must be a str or None, not 5 (int)",
        "fire-token-int",
    ),
    row(
        lambda a: a.list_events(wait="5s"),
        TypeError,
        f"wait must be {SECONDS}, not '5s' (str)",
        "list-wait-str",
    ),
    row(
        lambda a: a.list_events(index=a.list_events().index, wait=-5),
        ValueError,
        f"wait must be {SECONDS}, not -5 (int)",
        "list-wait-negative",
    ),
    row(
        lambda a: a.list_events(wait=NAN),
        ValueError,
        f"wait must be {SECONDS}, not nan (float)",
        "list-wait-nan",
    ),
    row(
        lambda a: a.list_events(wait=INF),
        ValueError,
        f"wait must be {SECONDS}, not inf (float)",
        "list-wait-inf",
    ),
    row(
        lambda a: a.list_events(wait=True),
        TypeError,
        f"wait must be {SECONDS}, not True (bool)",
        "list-wait-bool",
    ),
    row(
        lambda a: a.list_events(index=-1),
        ValueError,
        "index must be an int from 0 to 18446744073709551615, not -1 (int)",
        "list-index-negative",
    ),
    row(
        lambda a: a.list_events(index="1"),
        TypeError,
        "index must be an int from 0 to 18446744073709551615, not '1' (str)",
        "list-index-str",
    ),
    row(
        lambda a: a.list_events(index=2**64),
        ValueError,
        "index must be an int from 0 to 18446744073709551615, not 18446744073709551616 (int)",
        "list-index-too-large",
    ),
    row(
        lambda a: a.list_events(5),
        TypeError,
        "name must be a str or None, not 5 (int)",
        "list-name-int",
    ),
    row(
        lambda a: a.list_events(token=b"t"),
        TypeError,
        "token must be a str or None, not b't' (bytes)",
        "list-token-bytes",
    ),
    row(
        lambda a: a.reset(123),
        TypeError,
        "config must be an AgentConfig or None, not 123 (int)",
        "reset-int",
    ),
    row(
        lambda a: a.reset({"node_name": "x"}),
        TypeError,
        "config must be an AgentConfig or None, not {'node_name': 'x'} (dict)",
        "reset-dict",
    ),
    row(
        lambda a: a.register_service("web", tags="v2"),
        TypeError,
        "tags must be a list or tuple of str, not 'v2' (str)",
        "register-tags-str",
    ),
    row(
        lambda a: a.register_service(None),
        TypeError,
        "name must be a str, not None (NoneType)",
        "register-name-none",
    ),
    row(
        lambda a: a.register_service(""),
        ServiceError,
        "Missing service name",
        "register-name-empty-as-consul",
    ),
    row(
        lambda a: a.register_service("web", port="80"),
        TypeError,
        "port must be an int from 0 to 65535, not '80' (str)",
        "register-port-str",
    ),
    row(
        lambda a: a.register_service("web", port=-1),
        ValueError,
        "port must be an int from 0 to 65535, not -1 (int)",
        "register-port-negative",
    ),
    row(
        lambda a: a.register_service("web", service_id=5),
        TypeError,
        "service_id must be a str or None, not 5 (int)",
        "register-id-int",
    ),
    row(
        lambda a: a.register_service("web", meta={"k": 1}),
        TypeError,
        "meta['k'] must be a str, not 1 (int)",
        "register-meta-value",
    ),
    row(
        lambda a: a.register_service("web", meta=["k"]),
        TypeError,
        "meta must be a dict of str to str, not ['k'] (list)",
        "register-meta-list",
    ),
    row(
        lambda a: a.register_service("web", address=None),
        TypeError,
        "address must be a str, not None (NoneType)",
        "register-address-none",
    ),
    row(
        lambda a: a.deregister_service(None),
        TypeError,
        "service_id must be a str, not None (NoneType)",
        "deregister-none",
    ),
    row(
        lambda a: a.deregister_service("nope"),
        ServiceError,
        'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.',
        "deregister-unknown-as-consul",
    ),
    row(
        lambda a: a.add_service({"name": "web"}),
        TypeError,
        "service must be a Service, not {'name': 'web'} (dict)",
        "add_service-dict",
    ),
    row(
        lambda a: a.create_token(5),
        TypeError,
        "rules must be a str or None, not 5 (int)",
        "create_token-rules-int",
    ),
    row(
        lambda a: a.create_token(secret=""),
        ValueError,
        "secret must be a non-empty str or None, not '' (str)",
        "create_token-secret-empty",
    ),
    row(
        lambda a: a.create_token(policies="global-management"),
        TypeError,
        "policies must be a list or tuple of str, not 'global-management' (str)",
        "create_token-policies-str",
    ),
    row(
        lambda a: a.create_token(management="yes"),
        TypeError,
        "management must be True or False, not 'yes' (str)",
        "create_token-management-str",
    ),
    row(
        lambda a: a.create_token(description=None),
        TypeError,
        "description must be a str, not None (NoneType)",
        "create_token-description-none",
    ),
    row(
        lambda a: a.wait_for_blocked(timeout=-1),
        ValueError,
        f"timeout must be {SECONDS}, not -1 (int)",
        "wait_for_blocked-timeout-negative",
    ),
    row(
        lambda a: a.wait_for_blocked(timeout=NAN),
        ValueError,
        f"timeout must be {SECONDS}, not nan (float)",
        "wait_for_blocked-timeout-nan",
    ),
    row(
        lambda a: a.wait_for_blocked(count="1"),
        TypeError,
        "count must be an int >= 0, not '1' (str)",
        "wait_for_blocked-count-str",
    ),
    row(
        lambda a: a.wait_for_blocked(count=-1),
        ValueError,
        "count must be an int >= 0, not -1 (int)",
        "wait_for_blocked-count-negative",
    ),
    row(
        lambda a: a.client(token=5),
        TypeError,
        "token must be a str or None, not 5 (int)",
        "client-token-int",
    ),
    row(lambda a: a.client(dc=1), TypeError, "dc must be a str or None, not 1 (int)", "client-dc"),
    row(
        lambda a: setattr(a, "clock", "fast"),
        ValueError,
        f"clock must be {CLOCKS}, not 'fast' (str)",
        "clock-setter",
    ),
    row(
        lambda a: a.start(),
        RuntimeError,
        lambda a: f"{a!r} is serving already: start() was called before",
        "start-twice",
    ),
    row(
        lambda a: a.join_with_ignore_old(-1),
        ValueError,
        "peer_event_time must be an int >= 0, not -1 (int)",
        "join_with_ignore_old-negative",
    ),
]


@pytest.mark.consul_agent(seed=5, services=["web"])
@pytest.mark.parametrize(("call", "error", "message"), AGENT_ROWS)
def test_agent_methods(
    consul_agent: FakeConsulAgent, call: Call, error: type[BaseException], message: Message
) -> None:
    consul_agent.fire("before", b"v1")
    before = (
        consul_agent.events,
        consul_agent.fired,
        consul_agent.services,
        consul_agent.config,
        consul_agent.clock,
    )
    expect(call, consul_agent, error, message)
    after = (
        consul_agent.events,
        consul_agent.fired,
        consul_agent.services,
        consul_agent.config,
        consul_agent.clock,
    )
    assert after == before  # nothing changed
    event = consul_agent.fire("after")  # and it still works, over HTTP too
    index, listed = consul_agent.client().event.list()
    assert ([e["Name"] for e in listed], index) == (["before", "after"], str(event.index))


# -- an agent that is not serving ------------------------------------------------------------------


@pytest.fixture
def unstarted() -> Iterator[FakeConsulAgent]:
    agent = FakeConsulAgent()
    yield agent
    agent.stop()


@pytest.fixture
def stopped() -> FakeConsulAgent:
    with FakeConsulAgent() as agent:
        pass
    return agent


def _not_started(what: str) -> Message:
    return lambda a: (
        f"{what} needs a serving agent, but start() was not called on {a!r}: use "
        "`with FakeConsulAgent(...) as agent:` or call agent.start() first"
    )


def _was_stopped(what: str) -> Message:
    return lambda a: (
        f"{what} needs a serving agent, but {a!r} was stopped: call restart() to serve it again "
        "on the same address"
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        row(lambda a: a.client(), RuntimeError, _not_started("client()"), "client"),
        row(lambda a: a.aio_client(), RuntimeError, _not_started("aio_client()"), "aio_client"),
    ],
)
def test_unstarted_agent(
    unstarted: FakeConsulAgent, call: Call, error: type[BaseException], message: Message
) -> None:
    expect(call, unstarted, error, message)
    assert unstarted.fire("deploy").name == "deploy"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        row(lambda a: a.client(), RuntimeError, _was_stopped("client()"), "client"),
        row(lambda a: a.aio_client(), RuntimeError, _was_stopped("aio_client()"), "aio_client"),
        row(
            lambda a: a.start(),
            RuntimeError,
            lambda a: (
                f"{a!r} was stopped and cannot start again: call restart() to serve it "
                "again on the same address"
            ),
            "start",
        ),
        row(
            lambda a: a.__enter__(),
            RuntimeError,
            lambda a: (
                f"{a!r} was stopped (by stop() or the end of a with block) and cannot be "
                "entered again: call restart() to serve it again on the same address, or make a "
                "new FakeConsulAgent"
            ),
            "with",
        ),
    ],
)
def test_stopped_agent(
    stopped: FakeConsulAgent, call: Call, error: type[BaseException], message: Message
) -> None:
    expect(call, stopped, error, message)
    assert not stopped.serving


# -- the consul_cluster marker's options (FakeConsulCluster) ---------------------------------------


CLUSTER_OPTION_ROWS = [
    row(
        lambda _: FakeConsulCluster(delay=0.5),
        TypeError,
        f"delay must be {DELAY}, not 0.5 (float)",
        "delay-number",
    ),
    row(
        lambda _: FakeConsulCluster(delay=(1.0,)),
        TypeError,
        f"delay must be {DELAY}, not (1.0,) (tuple)",
        "delay-one",
    ),
    row(
        lambda _: FakeConsulCluster(delay="0.1"),
        TypeError,
        f"delay must be {DELAY}, not '0.1' (str)",
        "delay-str",
    ),
    row(
        lambda _: FakeConsulCluster(delay=(2.0, 1.0)),
        ValueError,
        f"delay must be {DELAY}, not (2.0, 1.0) (tuple)",
        "delay-reversed",
    ),
    row(
        lambda _: FakeConsulCluster(delay=(-1, 1)),
        ValueError,
        f"delay[0] must be {SECONDS}, not -1 (int)",
        "delay-negative",
    ),
    row(
        lambda _: FakeConsulCluster(delay=[0, INF]),
        ValueError,
        f"delay[1] must be {SECONDS}, not inf (float)",
        "delay-inf",
    ),
    row(
        lambda _: FakeConsulCluster(loss="0.1"),
        TypeError,
        f"loss must be {PROBABILITY}, not '0.1' (str)",
        "loss-str",
    ),
    row(
        lambda _: FakeConsulCluster(loss=1.5),
        ValueError,
        f"loss must be {PROBABILITY}, not 1.5 (float)",
        "loss-above-one",
    ),
    row(
        lambda _: FakeConsulCluster(loss=NAN),
        ValueError,
        f"loss must be {PROBABILITY}, not nan (float)",
        "loss-nan",
    ),
    row(
        lambda _: FakeConsulCluster(duplicate=-0.1),
        ValueError,
        f"duplicate must be {PROBABILITY}, not -0.1 (float)",
        "duplicate-negative",
    ),
    row(
        lambda _: FakeConsulCluster(duplicate=True),
        TypeError,
        f"duplicate must be {PROBABILITY}, not True (bool)",
        "duplicate-bool",
    ),
    row(
        lambda _: FakeConsulCluster(manual="no"),
        TypeError,
        "manual must be True or False, not 'no' (str)",
        "manual-str",
    ),
    row(
        lambda _: FakeConsulCluster(unordered="no"),
        TypeError,
        "unordered must be True or False, not 'no' (str)",
        "unordered-str",
    ),
    row(
        lambda _: FakeConsulCluster(flush_after=-1),
        ValueError,
        f"flush_after must be {SECONDS}, not -1 (int)",
        "flush_after-negative",
    ),
    row(
        lambda _: FakeConsulCluster(flush_after=INF),
        ValueError,
        f"flush_after must be {SECONDS}, not inf (float)",
        "flush_after-inf",
    ),
    row(
        lambda _: FakeConsulCluster(agents="node1"),
        TypeError,
        "agents must be a non-empty list or tuple of agents (each a node name (a non-empty str) "
        "or a dict of agent options with a node_name), not 'node1' (str)",
        "agents-str",
    ),
    row(
        lambda _: FakeConsulCluster(agents={"node_name": "a"}),
        TypeError,
        "agents must be a non-empty list or tuple of agents (each a node name (a non-empty str) "
        "or a dict of agent options with a node_name), not {'node_name': 'a'} (dict)",
        "agents-dict",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[]),
        ValueError,
        "agents must be a non-empty list or tuple of agents, not [] (list)",
        "agents-empty",
    ),
    row(
        lambda _: FakeConsulCluster(agents=["node1", "node1"]),
        ValueError,
        "agents[1] must have a node name that agents[0] does not have, not 'node1' (str)",
        "agents-duplicate",
    ),
    row(
        lambda _: FakeConsulCluster(agents=["a", {"node_name": "a", "datacenter": "dc2"}]),
        ValueError,
        "agents[1] must have a node name that agents[0] does not have, not 'a' (str)",
        "agents-duplicate-mapping",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[5]),
        TypeError,
        "agents[0] must be a node name (a non-empty str) or a dict of agent options with a "
        "node_name, not 5 (int)",
        "agent-int",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[""]),
        ValueError,
        "agents[0] must be a non-empty str, not '' (str)",
        "agent-empty",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[{"datacenter": "dc2"}]),
        ValueError,
        "agents[0] must be a node name (a non-empty str) or a dict of agent options with a "
        "node_name (none given), not {'datacenter': 'dc2'} (dict)",
        "agent-without-name",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[{"node_name": "a", "acl": "deny"}]),
        TypeError,
        f"unknown option 'acl' in agents[0]; accepted options: {accepted(AGENT_SPEC_OPTIONS)} "
        "(acl, management_token, tokens and seed apply to the whole cluster)",
        "agent-acl",
    ),
    row(
        lambda _: FakeConsulCluster(agents=["a", {"node_name": "b", "buffer_size": 0}]),
        ValueError,
        f"agents[1]: buffer_size must be {BUFFER_RANGE}, not 0 (int)",
        "agent-buffer_size",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[{"node_name": "a", "server": "yes"}]),
        TypeError,
        "agents[0]: server must be True or False, not 'yes' (str)",
        "agent-server-str",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[{"node_name": "a", "port": "80"}]),
        TypeError,
        "agents[0]: port must be an int from 0 to 65535, not '80' (str)",
        "agent-port-str",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[{"node_name": "a", "services": [{"name": 1}]}]),
        TypeError,
        "agents[0]: services[0]['name'] must be a non-empty str, not 1 (int)",
        "agent-service",
    ),
    row(
        lambda _: FakeConsulCluster(agents=[{"node_name": "a", "default_token": "t"}]),
        ValueError,
        f"agents[0]: default_token must be {ACL_OFF}, not 't' (str)",
        "agent-default_token-acl-off",
    ),
    row(
        lambda _: FakeConsulCluster(seed="1"),
        TypeError,
        f"seed must be {SEED_RANGE}, not '1' (str)",
        "seed-str",
    ),
    row(
        lambda _: FakeConsulCluster(seed=-1),
        ValueError,
        f"seed must be {SEED_RANGE}, not -1 (int)",
        "seed-negative",
    ),
    row(
        lambda _: FakeConsulCluster(clock="fast"),
        ValueError,
        f"clock must be {CLOCKS}, not 'fast' (str)",
        "clock-unknown",
    ),
    row(
        lambda _: FakeConsulCluster(host=5),
        TypeError,
        "host must be a non-empty str, not 5 (int)",
        "host-int",
    ),
    row(
        lambda _: FakeConsulCluster(tokens={"deployer": ""}),
        ValueError,
        f"tokens must be {ACL_OFF}, not {{'deployer': ''}} (dict)",
        "tokens-acl-off",
    ),
    row(
        lambda _: FakeConsulCluster(acl="maybe"),
        ValueError,
        "acl must be None, 'allow' or 'deny', not 'maybe' (str)",
        "acl-unknown",
    ),
    row(
        lambda _: FakeConsulCluster(bogus=1),
        TypeError,
        f"unknown cluster option 'bogus'; accepted options: {accepted(CLUSTER_OPTIONS)}",
        "unknown-option",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), CLUSTER_OPTION_ROWS)
def test_cluster_options(call: Call, error: type[BaseException], message: Message) -> None:
    expect(call, None, error, message)


# -- the cluster's methods -------------------------------------------------------------------------


@pytest.fixture
def cluster() -> Iterator[FakeConsulCluster]:
    with FakeConsulCluster(seed=1, clock="manual", manual=True) as made:
        yield made


def _unknown(name: str, value: str) -> str:
    return f"{name} must be {AGENTS_OF_CLUSTER}, not {value!r} (str)"


CLUSTER_ROWS = [
    row(
        lambda c: c.partition("node1"),
        TypeError,
        "groups[0] must be a list, tuple or set of str, not 'node1' (str)",
        "partition-bare-name",
    ),
    row(
        lambda c: c.partition(["node1"], "node2"),
        TypeError,
        "groups[1] must be a list, tuple or set of str, not 'node2' (str)",
        "partition-second-bare-name",
    ),
    row(
        lambda c: c.partition([1]),
        TypeError,
        "groups[0][0] must be a str, not 1 (int)",
        "partition-int",
    ),
    row(
        lambda c: c.partition(["node9"]),
        UnknownAgentError,
        _unknown("a name in groups[0]", "node9"),
        "partition-unknown",
    ),
    row(
        lambda c: c.partition(["node1", "node2"], ["node2"]),
        ValueError,
        "groups[1] must be a group of names not in groups[0], not 'node2' (str)",
        "partition-twice",
    ),
    row(
        lambda c: c.release(count="1"),
        TypeError,
        "count must be an int >= 0 or None, not '1' (str)",
        "release-count-str",
    ),
    row(
        lambda c: c.release(count=-1),
        ValueError,
        "count must be an int >= 0 or None, not -1 (int)",
        "release-count-negative",
    ),
    row(
        lambda c: c.release(to="node9"),
        UnknownAgentError,
        _unknown("to", "node9"),
        "release-to-unknown",
    ),
    row(
        lambda c: c.release(to=5),
        TypeError,
        "to must be a str or None, not 5 (int)",
        "release-to-int",
    ),
    row(lambda c: c.stop("node9"), UnknownAgentError, _unknown("node_name", "node9"), "stop"),
    row(
        lambda c: c.start_agent("node9"),
        UnknownAgentError,
        _unknown("node_name", "node9"),
        "start_agent-unknown",
    ),
    row(
        lambda c: c.start_agent("node2"),
        RuntimeError,
        "start_agent('node2') needs a stopped agent, but 'node2' is serving; take it down first "
        "with cluster.stop('node2') (a restart empties its event buffer)",
        "start_agent-serving",
    ),
    row(lambda c: c["node9"], UnknownAgentError, _unknown("node_name", "node9"), "getitem"),
    row(
        lambda c: c[5],
        TypeError,
        f"node_name must be {AGENTS_OF_CLUSTER}, not 5 (int)",
        "getitem-int",
    ),
    row(lambda c: c.client("node9"), UnknownAgentError, _unknown("node_name", "node9"), "client"),
    row(
        lambda c: c.advance(NAN),
        ValueError,
        "seconds must be a finite number >= 0, not nan (float)",
        "advance-nan",
    ),
    row(
        lambda c: c.advance(-1),
        ValueError,
        "seconds must be a finite number >= 0, not -1 (int)",
        "advance-negative",
    ),
    row(
        lambda c: c.advance("5"),
        TypeError,
        "seconds must be a finite number >= 0, not '5' (str)",
        "advance-str",
    ),
    row(
        lambda c: c.settle(timeout=-1),
        ValueError,
        f"timeout must be {SECONDS}, not -1 (int)",
        "settle-negative",
    ),
    row(
        lambda c: c.settle(timeout="5"),
        TypeError,
        f"timeout must be {SECONDS}, not '5' (str)",
        "settle-str",
    ),
    row(
        lambda c: c["node2"].list_events(index=c["node2"].list_events().index),
        RuntimeError,
        "list_events(index=1, wait=0) would wait for ever: index 1 is the current index, so the "
        "query waits for a new event or for the agent's ManualClock to reach its deadline, and "
        "this thread, which made the clock, cannot advance it while it waits; list from another "
        "thread, or wait with wait_for_event()",
        "list-blocking-in-the-clock-thread",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), CLUSTER_ROWS)
def test_cluster_methods(
    cluster: FakeConsulCluster, call: Call, error: type[BaseException], message: Message
) -> None:
    expect(call, cluster, error, message)
    assert cluster.gossip.held == 0
    cluster["node1"].fire("after")  # still works: nothing split, nothing stopped
    assert cluster.release() == 2
    assert [e.name for e in cluster["node3"].events] == ["after"]
    assert all(agent.serving for agent in cluster)


def test_advance_on_a_real_clock_cluster_is_refused() -> None:
    with FakeConsulCluster(agents=["node1"]) as cluster, pytest.raises(TypeError) as info:
        cluster.advance(1)
    assert str(info.value) == "advance() needs a cluster made with clock='manual'"


# -- the clock -------------------------------------------------------------------------------------


CLOCK_ROWS = [
    row(
        lambda _: ManualClock("0"),
        TypeError,
        "start must be a finite number, not '0' (str)",
        "start-str",
    ),
    row(
        lambda _: ManualClock(NAN),
        ValueError,
        "start must be a finite number, not nan (float)",
        "start-nan",
    ),
    row(
        lambda c: c.advance(NAN),
        ValueError,
        "seconds must be a finite number >= 0, not nan (float)",
        "advance-nan",
    ),
    row(
        lambda c: c.advance(INF),
        ValueError,
        "seconds must be a finite number >= 0, not inf (float)",
        "advance-inf",
    ),
    row(
        lambda c: c.advance(-1),
        ValueError,
        "seconds must be a finite number >= 0, not -1 (int)",
        "advance-negative",
    ),
    row(
        lambda c: c.advance("5"),
        TypeError,
        "seconds must be a finite number >= 0, not '5' (str)",
        "advance-str",
    ),
    row(
        lambda c: c.advance(True),
        TypeError,
        "seconds must be a finite number >= 0, not True (bool)",
        "advance-bool",
    ),
    row(
        lambda c: c.advance(10**400),
        ValueError,
        f"seconds must be a finite number >= 0, not 1{'0' * 56}... (int)",  # cut at 60 chars
        "advance-int-beyond-float",
    ),
    row(
        lambda c: (c.advance(1e308), c.advance(1e308)),
        ValueError,
        "seconds must be small enough to keep the clock finite (it reads 1e+308), not 1e+308 "
        "(float)",
        "advance-past-the-largest-float",
    ),
    row(
        lambda _: make_clock("fast"),
        ValueError,
        f"clock must be {CLOCKS}, not 'fast' (str)",
        "make_clock-str",
    ),
    row(
        lambda _: make_clock(5),
        TypeError,
        f"clock must be {CLOCKS}, not 5 (int)",
        "make_clock-int",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), CLOCK_ROWS)
def test_clock(call: Call, error: type[BaseException], message: Message) -> None:
    clock = ManualClock()
    expect(call, clock, error, message)
    assert clock.now() in (0.0, 1e308)  # a refused step moves nothing


# -- the assertions --------------------------------------------------------------------------------


ASSERTION_ROWS = [
    row(
        lambda a: assert_fired(a, b"deploy"),
        TypeError,
        "name must be a non-empty str (Consul fires no unnamed events) or ANY, not b'deploy' "
        "(bytes)",
        "name-bytes",
    ),
    row(
        lambda a: assert_fired(a, ""),
        ValueError,
        "name must be a non-empty str (Consul fires no unnamed events) or ANY, not '' (str)",
        "name-empty",
    ),
    row(
        lambda a: assert_fired(a, "deploy", payload=1),
        TypeError,
        "payload must be bytes, str, None, a predicate or ANY, not 1 (int)",
        "payload-int",
    ),
    row(
        lambda a: assert_fired(a, "deploy", service=1),
        TypeError,
        f"service must be {PREDICATE}, not 1 (int)",
        "service-int",
    ),
    row(
        lambda a: assert_fired(a, "deploy", payload=b"x", json={}),
        TypeError,
        "give payload= or json=, not both",
        "payload-and-json",
    ),
    row(
        lambda a: assert_fired(a, "deploy", count=True),
        TypeError,
        "count must be an int >= 0 or None, not True (bool)",
        "count-bool",
    ),
    row(
        lambda a: assert_fired(a, "deploy", count=-1),
        ValueError,
        "count must be an int >= 0 or None, not -1 (int)",
        "count-negative",
    ),
    row(
        lambda a: assert_fired(a, "deploy", source="buffer"),
        ValueError,
        "source must be 'fired' or 'events', not 'buffer' (str)",
        "source-unknown",
    ),
    row(
        lambda a: assert_fired(a, "deploy", source=1),
        TypeError,
        "source must be 'fired' or 'events', not 1 (int)",
        "source-int",
    ),
    row(
        lambda a: assert_fired("deploy", "deploy"),
        TypeError,
        "agent must be an Agent or a FakeConsulAgent, not 'deploy' (str)",
        "agent-missing",
    ),
    row(
        lambda a: assert_not_fired(a, 5),
        TypeError,
        "name must be a non-empty str (Consul fires no unnamed events) or ANY, not 5 (int)",
        "not_fired-name-int",
    ),
    row(
        lambda a: assert_fired_in_order(a, "deploy"),
        TypeError,
        "names_or_matchers must be a list or tuple of event names and EventMatchers, not "
        "'deploy' (str)",
        "in_order-str",
    ),
    row(
        lambda a: assert_fired_in_order(a, {"deploy"}),
        TypeError,
        "names_or_matchers must be a list or tuple of event names and EventMatchers, not "
        "{'deploy'} (set)",
        "in_order-set",
    ),
    row(
        lambda a: assert_fired_in_order(a, ["deploy", b"deploy"]),
        TypeError,
        "names_or_matchers[1] must be an event name (a non-empty str) or an EventMatcher, not "
        "b'deploy' (bytes)",
        "in_order-bytes-item",
    ),
    row(
        lambda a: assert_fired_in_order(a, ["deploy", ""]),
        ValueError,
        "names_or_matchers[1] must be an event name (a non-empty str) or an EventMatcher, not "
        "'' (str)",
        "in_order-empty-item",
    ),
    row(
        lambda a: assert_fired(a, "deploy", payload="\udcff"),
        ValueError,
        "payload must be bytes, a str UTF-8 can encode, None, a predicate or ANY, not '\\udcff' "
        "(str)",
        "payload-surrogate",
    ),
    row(
        lambda a: wait_for_event(a, "deploy", timeout=-1),
        ValueError,
        f"timeout must be {SECONDS}, not -1 (int)",
        "wait-timeout-negative",
    ),
    row(
        lambda a: wait_for_event(a, "deploy", timeout=NAN),
        ValueError,
        f"timeout must be {SECONDS}, not nan (float)",
        "wait-timeout-nan",
    ),
    row(
        lambda a: wait_for_event(a, "deploy", timeout="5"),
        TypeError,
        f"timeout must be {SECONDS}, not '5' (str)",
        "wait-timeout-str",
    ),
    row(
        lambda a: a.wait_for_event("deploy", timeout=INF),
        ValueError,
        f"timeout must be {SECONDS}, not inf (float)",
        "wait-method-timeout-inf",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), ASSERTION_ROWS)
def test_assertions(
    consul_agent: FakeConsulAgent, call: Call, error: type[BaseException], message: Message
) -> None:
    consul_agent.fire("deploy", b'{"version": "1.2"}')
    expect(call, consul_agent, error, message)
    assert consul_agent.assert_fired("deploy", json={"version": "1.2"}).name == "deploy"
