"""ACL enforcement on the agent: fire (event:write), list (event:read), tokens, defaults.

Expected behaviour: consul-events.md §2 (token sources, default token), §3.2 (processing order
of a fire: validation, datacenter, ACL, size), §3.4, §5.1 steps 2 and 7 (list resolution and
the filtered-by-ACLs rule) and §8 (rule matching, merging, the default policy). The Consul
cases are agent/event_endpoint_test.go TestEventFire_token and TestEventList_ACLFilter and
agent/user_event_test.go TestUserEventToken (testEventPolicy).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from pytest_consul_events.errors import (
    ACLNotFoundError,
    ACLStoreError,
    EventTooLargeError,
    InvalidFilterError,
    InvalidPolicyError,
    MissingNameError,
    NoPathToDatacenterError,
    PermissionDeniedError,
    RootACLError,
    RulesParseError,
)
from pytest_consul_events.messages import (
    ANONYMOUS_TOKEN_ACCESSOR_ID,
    GLOBAL_MANAGEMENT_POLICY_ID,
)
from pytest_consul_events.model.agent import Agent, AgentConfig, EventListing
from pytest_consul_events.model.event import id_to_index

GO_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SEED = 4242
ROOT = "root"

# agent/acl_test.go / agent/user_event_test.go: testEventPolicy
TEST_EVENT_POLICY = """
event "foo" {
\tpolicy = "deny"
}
event "bar" {
\tpolicy = "read"
}
event "baz" {
\tpolicy = "write"
}
"""
WRITE_DEPLOY = 'event "deploy" { policy = "write" }'
READ_DEPLOY = 'event "deploy" { policy = "read" }'
READ_FOO = 'event "foo" { policy = "read" }'  # TestEventList_ACLFilter
READ_ALL = 'event_prefix "" { policy = "read" }'

ACL_NOT_FOUND = "ACL not found"
NOT_BOOTSTRAPPED = (
    "ACL system must be bootstrapped before making any requests that require authorization: "
    "ACL not found"
)
ROOT_ACL = "Cannot resolve root ACL"
TOO_LARGE = (
    "error broadcasting event: user event exceeds configured limit of 512 bytes before encoding"
)
BIG = b"x" * 600  # fails serf's size check before encoding, for name "deploy"


def anonymous_detail(access: str, name: str) -> str:
    return (
        f"Permission denied: anonymous token lacks permission 'event:{access}' on \"{name}\"."
        " The anonymous token is used implicitly when a request does not specify a token."
    )


def token_detail(accessor: str, access: str, name: str) -> str:
    return (
        f"Permission denied: token with AccessorID '{accessor}' lacks permission "
        f"'event:{access}' on \"{name}\""
    )


def accessor_of(agent: Agent, secret: str) -> str:
    [token] = [t for t in agent.acl.tokens() if t.secret_id == secret]
    return token.accessor_id


def names(listing: EventListing) -> list[str]:
    return [event.name for event in listing.events]


@pytest.fixture
def agent() -> Agent:
    """Default deny, bootstrapped (management token ``root``), a few tokens from the marker form."""
    return Agent(
        seed=SEED,
        acl="deny",
        management_token=ROOT,
        tokens={
            "event-token": TEST_EVENT_POLICY,
            "writer": WRITE_DEPLOY,
            "reader": READ_DEPLOY,
            "foo-reader": READ_FOO,
            "all-reader": READ_ALL,
        },
    )


@pytest.fixture
def foo_and_bar(agent: Agent) -> Agent:
    """TestEventList_ACLFilter's buffer: ``foo`` then ``bar``, fired with the root token."""
    agent.fire("foo", token=ROOT)
    agent.fire("bar", token=ROOT)
    return agent


@pytest.fixture
def background(agent: Agent) -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=1)
    yield executor
    agent.wake_all()
    executor.shutdown(wait=True)


# -- fire: which error wins (§3.2: validation > datacenter > ACL > size) ------------------------


def test_missing_name_beats_every_other_error(agent: Agent) -> None:
    with pytest.raises(MissingNameError):
        agent.fire("", BIG, tag="v1", dc="dc9", token="nope")


def test_filter_validation_beats_an_unknown_datacenter_and_token(agent: Agent) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        agent.fire("deploy", BIG, tag="v1", dc="dc9", token="nope")
    assert caught.value.message == "Cannot provide tag filter without service filter"


def test_bad_regexp_beats_an_unknown_datacenter_and_a_denied_token(agent: Agent) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        agent.fire("foo", node="(", dc="dc9", token="event-token")
    assert (
        caught.value.message == "Invalid node filter: error parsing regexp: missing closing ): `(`"
    )


def test_unknown_datacenter_beats_an_unknown_token(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError) as caught:
        agent.fire("deploy", dc="dc9", token="nope")
    assert caught.value.message == "No path to datacenter"


def test_unknown_datacenter_beats_a_denied_token(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError):
        agent.fire("deploy", dc="dc9", token="reader")


def test_unknown_datacenter_beats_a_root_name(agent: Agent) -> None:
    with pytest.raises(NoPathToDatacenterError):
        agent.fire("deploy", dc="dc9", token="deny")


def test_unknown_token_beats_the_size_limit(agent: Agent) -> None:
    with pytest.raises(ACLNotFoundError) as caught:
        agent.fire("deploy", BIG, token="nope")
    assert caught.value.message == ACL_NOT_FOUND


def test_root_name_beats_the_size_limit(agent: Agent) -> None:
    with pytest.raises(RootACLError):
        agent.fire("deploy", BIG, token="manage")


def test_permission_denied_beats_the_size_limit(agent: Agent) -> None:
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", BIG, token="reader")


def test_size_limit_applies_once_the_token_may_write(agent: Agent) -> None:
    with pytest.raises(EventTooLargeError) as caught:
        agent.fire("deploy", BIG, token="writer")
    assert caught.value.message == TOO_LARGE


def test_local_datacenter_named_explicitly_goes_on_to_the_acl_check(agent: Agent) -> None:
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", dc="dc1", token="reader")


# -- fire: unknown and root tokens -----------------------------------------------------------


def test_unknown_token_on_a_bootstrapped_agent_is_acl_not_found(agent: Agent) -> None:
    with pytest.raises(ACLNotFoundError) as caught:
        agent.fire("deploy", token="nope")
    assert (caught.value.message, str(caught.value)) == (ACL_NOT_FOUND, ACL_NOT_FOUND)


def test_unknown_token_before_bootstrap_has_consuls_long_text() -> None:
    agent = Agent(acl="deny")  # no management token: the ACL system is not bootstrapped
    with pytest.raises(ACLNotFoundError) as caught:
        agent.fire("deploy", token="nope")
    assert caught.value.message == NOT_BOOTSTRAPPED


@pytest.mark.parametrize("secret", ["allow", "deny", "manage"])
def test_root_names_cannot_fire(agent: Agent, secret: str) -> None:
    with pytest.raises(RootACLError) as caught:
        agent.fire("deploy", token=secret)
    assert caught.value.message == ROOT_ACL


@pytest.mark.parametrize("secret", ["Allow", "DENY", "manage "])
def test_root_names_are_exact_so_other_spellings_are_unknown_tokens(
    agent: Agent, secret: str
) -> None:
    with pytest.raises(ACLNotFoundError):
        agent.fire("deploy", token=secret)


def test_root_name_is_refused_even_before_bootstrap() -> None:
    with pytest.raises(RootACLError):
        Agent(acl="allow").fire("deploy", token="allow")


def test_denied_fire_at_a_client_agent_keeps_the_body_text_as_message() -> None:
    agent = Agent(server=False, acl="deny", tokens={"reader": READ_DEPLOY})
    with pytest.raises(PermissionDeniedError) as caught:
        agent.fire("deploy", token="reader")
    assert caught.value.message == "Permission denied"


def test_unknown_token_at_a_client_agent_is_prefixed_like_consuls_pool() -> None:
    agent = Agent(server=False, acl="deny", management_token=ROOT)
    with pytest.raises(ACLNotFoundError) as caught:
        agent.fire("deploy", token="nope")
    assert caught.value.message == "rpc error making call: ACL not found"


# -- fire: event:write -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "allowed"),
    [("foo", False), ("bar", False), ("baz", True), ("zip", False)],
)
def test_event_fire_token_from_consul(agent: Agent, event: str, allowed: bool) -> None:
    # TestEventFire_token / TestUserEventToken: deny and read both refuse a fire.
    if allowed:
        assert agent.fire(event, token="event-token").name == event
    else:
        with pytest.raises(PermissionDeniedError):
            agent.fire(event, token="event-token")


def test_denied_fire_says_permission_denied_and_keeps_the_detail(agent: Agent) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        agent.fire("deploy", token="reader")
    accessor = accessor_of(agent, "reader")
    assert (caught.value.message, str(caught.value)) == ("Permission denied", "Permission denied")
    assert caught.value.detail == token_detail(accessor, "write", "deploy")


def test_denied_anonymous_fire_detail_names_the_anonymous_token(agent: Agent) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        agent.fire("deploy")
    assert caught.value.message == "Permission denied"
    assert caught.value.detail == anonymous_detail("write", "deploy")


def test_denied_fire_detail_quotes_the_name_as_is(agent: Agent) -> None:
    # acl.ResourceDescriptor.ToString wraps the name in plain double quotes, no %q escaping.
    with pytest.raises(PermissionDeniedError) as caught:
        agent.fire('grp/"x"')
    assert caught.value.detail == anonymous_detail("write", 'grp/"x"')


def test_denied_fire_stores_nothing(agent: Agent) -> None:
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", b"v1", token="reader")
    assert (agent.events, agent.fired) == ([], [])


def test_denied_fire_does_not_advance_the_lamport_clock(agent: Agent) -> None:
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", token="reader")
    agent.fire("deploy", token="writer")
    assert [(e.name, e.ltime) for e in agent.events] == [("deploy", 2)]


def test_unknown_token_fire_stores_nothing_and_keeps_the_clock(agent: Agent) -> None:
    with pytest.raises(ACLNotFoundError):
        agent.fire("deploy", token="nope")
    agent.fire("deploy", token="writer")
    assert [e.ltime for e in agent.fired] == [2]


def test_allowed_fire_is_stored_like_any_other(agent: Agent) -> None:
    event = agent.fire("deploy", b"v1", token="writer")
    assert agent.events == [dataclasses.replace(event, ltime=2)]
    assert agent.fired == agent.events


def test_management_token_fires_any_event(agent: Agent) -> None:
    for name in ("deploy", "foo", "_internal", "a/b"):
        agent.fire(name, token=ROOT)
    assert names(agent.list_events(token=ROOT)) == ["deploy", "foo", "_internal", "a/b"]


def test_allow_default_lets_the_anonymous_token_fire() -> None:
    agent = Agent(acl="allow")
    assert agent.fire("deploy").name == "deploy"


def test_allow_default_still_applies_an_explicit_read_rule_to_fires() -> None:
    # A read rule decides event:write (deny) before the allow-all default is asked.
    agent = Agent(acl="allow", tokens={"reader": READ_DEPLOY})
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", token="reader")
    assert agent.fire("other", token="reader").name == "other"


# -- list: event:read filtering ---------------------------------------------------------------


def test_list_acl_filter_without_token_from_consul(foo_and_bar: Agent) -> None:
    assert foo_and_bar.list_events() == EventListing([], 1, False)


def test_list_acl_filter_token_with_access_to_one_event_from_consul(foo_and_bar: Agent) -> None:
    [foo, _bar] = foo_and_bar.events
    assert foo_and_bar.list_events(token="foo-reader") == EventListing(
        [foo], id_to_index(foo.id), True
    )


def test_list_acl_filter_root_token_from_consul(foo_and_bar: Agent) -> None:
    events = foo_and_bar.events
    assert foo_and_bar.list_events(token=ROOT) == EventListing(
        events, id_to_index(events[-1].id), False
    )


def test_read_and_write_rules_both_let_a_token_read(agent: Agent) -> None:
    for name in ("foo", "bar", "baz"):
        agent.fire(name, token=ROOT)
    listing = agent.list_events(token="event-token")
    assert (names(listing), listing.filtered_by_acls) == (["bar", "baz"], True)


def test_exact_rule_beats_a_prefix_rule(agent: Agent) -> None:
    token = agent.create_token(
        'event_prefix "" { policy = "read" }\nevent "deploy" { policy = "deny" }'
    )
    for name in ("deploy", "deployer", "dep"):
        agent.fire(name, token=ROOT)
    assert names(agent.list_events(token=token.secret_id)) == ["deployer", "dep"]


def test_exact_rule_applies_only_to_the_whole_name(agent: Agent) -> None:
    token = agent.create_token(
        'event_prefix "de" { policy = "deny" }\nevent "deploy" { policy = "read" }'
    )
    for name in ("deploy", "dev", "deploy2", "other"):
        agent.fire(name, token=ROOT)
    assert names(agent.list_events(token=token.secret_id)) == ["deploy"]


def test_longest_matching_prefix_wins(agent: Agent) -> None:
    token = agent.create_token(
        'event_prefix "d" { policy = "read" }\nevent_prefix "dep" { policy = "deny" }'
    )
    for name in ("d", "de", "dep", "deploy", "dump", "x"):
        agent.fire(name, token=ROOT)
    assert names(agent.list_events(token=token.secret_id)) == ["d", "de", "dump"]


def test_deny_beats_write_when_two_policies_merge(agent: Agent) -> None:
    agent.acl.create_policy("deploy-write", WRITE_DEPLOY)
    agent.acl.create_policy("deploy-deny", 'event "deploy" { policy = "deny" }')
    token = agent.create_token(policies=["deploy-write", "deploy-deny"])
    agent.fire("deploy", token=ROOT)
    listing = agent.list_events(token=token.secret_id)
    assert (listing.events, listing.filtered_by_acls) == ([], True)


def test_deny_beats_write_on_fire_too_in_either_link_order(agent: Agent) -> None:
    agent.acl.create_policy("deploy-deny", 'event "deploy" { policy = "deny" }')
    agent.acl.create_policy("deploy-write", WRITE_DEPLOY)
    token = agent.create_token(policies=["deploy-deny", "deploy-write"])
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", token=token.secret_id)


def test_write_beats_read_when_two_policies_merge(agent: Agent) -> None:
    agent.acl.create_policy("deploy-read", READ_DEPLOY)
    agent.acl.create_policy("deploy-write", WRITE_DEPLOY)
    token = agent.create_token(policies=["deploy-read", "deploy-write"])
    assert agent.fire("deploy", token=token.secret_id).name == "deploy"


def test_explicit_deny_beats_the_management_policy(agent: Agent) -> None:
    token = agent.create_token('event "deploy" { policy = "deny" }', management=True)
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", token=token.secret_id)
    assert agent.fire("other", token=token.secret_id).name == "other"


def test_acl_filtering_keeps_the_order_and_the_index_follows_the_last_visible_event(
    agent: Agent,
) -> None:
    for name in ("foo", "bar", "foo", "bar"):
        agent.fire(name, token=ROOT)
    events = agent.events
    listing = agent.list_events(token="foo-reader")
    assert listing.events == [events[0], events[2]]
    assert listing.index == id_to_index(events[2].id)


def test_fully_filtered_list_has_index_1(foo_and_bar: Agent) -> None:
    listing = foo_and_bar.list_events(token="reader")
    assert (listing.events, listing.index, listing.filtered_by_acls) == ([], 1, True)


# -- list: the filtered-by-ACLs flag (§5.1 step 7) ---------------------------------------------


def test_not_flagged_when_nothing_was_dropped(foo_and_bar: Agent) -> None:
    listing = foo_and_bar.list_events(token="all-reader")
    assert (names(listing), listing.filtered_by_acls) == (["foo", "bar"], False)


def test_not_flagged_for_the_empty_token_even_when_events_were_dropped(foo_and_bar: Agent) -> None:
    assert foo_and_bar.list_events(token="").filtered_by_acls is False


def test_events_dropped_by_the_name_filter_do_not_count(foo_and_bar: Agent) -> None:
    # The name filter runs first; ACLs then drop nothing from [foo].
    listing = foo_and_bar.list_events("foo", token="foo-reader")
    assert (names(listing), listing.filtered_by_acls) == (["foo"], False)


def test_name_filter_then_acl_filter_flags_a_drop(foo_and_bar: Agent) -> None:
    listing = foo_and_bar.list_events("bar", token="foo-reader")
    assert (listing.events, listing.index, listing.filtered_by_acls) == ([], 1, True)


def test_the_anonymous_secret_is_a_non_empty_token_so_drops_are_flagged(
    foo_and_bar: Agent,
) -> None:
    listing = foo_and_bar.list_events(token="anonymous")
    assert (listing.events, listing.filtered_by_acls) == ([], True)


def test_default_token_counts_as_a_token_for_the_flag() -> None:
    agent = Agent(
        acl="deny",
        management_token=ROOT,
        tokens={"foo-reader": READ_FOO},
        default_token="foo-reader",
    )
    agent.fire("foo", token=ROOT)
    agent.fire("bar", token=ROOT)
    listing = agent.list_events()
    assert (names(listing), listing.filtered_by_acls) == (["foo"], True)


# -- list: unknown and root tokens -------------------------------------------------------------


def test_list_with_an_unknown_token_is_acl_not_found(agent: Agent) -> None:
    with pytest.raises(ACLNotFoundError) as caught:
        agent.list_events(token="nope")
    assert caught.value.message == ACL_NOT_FOUND


def test_list_with_an_unknown_token_before_bootstrap_has_the_long_text() -> None:
    with pytest.raises(ACLNotFoundError) as caught:
        Agent(acl="allow").list_events(token="nope")
    assert caught.value.message == NOT_BOOTSTRAPPED


@pytest.mark.parametrize("secret", ["allow", "deny", "manage"])
def test_list_with_a_root_name_cannot_resolve(agent: Agent, secret: str) -> None:
    with pytest.raises(RootACLError) as caught:
        agent.list_events(token=secret)
    assert caught.value.message == ROOT_ACL


def test_unknown_token_is_refused_before_blocking(agent: Agent) -> None:
    # Resolution happens first (§5.1 step 2): the call raises at once instead of waiting.
    with pytest.raises(ACLNotFoundError):
        agent.list_events(token="nope", index=1, wait=30.0)


def test_blocked_list_ignores_events_the_token_cannot_read(
    agent: Agent, background: ThreadPoolExecutor
) -> None:
    future = background.submit(agent.list_events, token="foo-reader", index=1, wait=30.0)
    agent.wait_for_blocked(1, timeout=5)
    agent.fire("bar", token=ROOT)  # unreadable: the visible list and its index stay the same
    foo = agent.fire("foo", token=ROOT)
    listing = future.result(timeout=5)
    assert [e.id for e in listing.events] == [foo.id]
    assert (listing.index, listing.filtered_by_acls) == (id_to_index(foo.id), True)


# -- ACLs disabled -----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["deny", "allow", "manage", "nope", "reader"])
def test_acls_off_ignore_every_token_on_fire(secret: str) -> None:
    agent = Agent()
    agent.create_token('event "deploy" { policy = "deny" }', secret="reader")
    assert agent.fire("deploy", token=secret).name == "deploy"


@pytest.mark.parametrize("secret", ["deny", "nope", "reader"])
def test_acls_off_ignore_every_token_on_list(secret: str) -> None:
    agent = Agent()
    agent.create_token('event "deploy" { policy = "deny" }', secret="reader")
    agent.fire("deploy")
    listing = agent.list_events(token=secret)
    assert (names(listing), listing.filtered_by_acls) == (["deploy"], False)


@pytest.mark.parametrize(
    ("options", "text"),
    [
        (
            {"tokens": {"reader": READ_DEPLOY}},
            "tokens must be given with acl='allow' or acl='deny' (ACLs are off), not "
            "{'reader': 'event \"deploy\" { policy = \"read\" }'} (dict)",
        ),
        (
            {"management_token": ROOT},
            "management_token must be given with acl='allow' or acl='deny' (ACLs are off), "
            f"not {ROOT!r} (str)",
        ),
        (
            {"default_token": "deny"},
            "default_token must be given with acl='allow' or acl='deny' (ACLs are off), "
            "not 'deny' (str)",
        ),
    ],
)
def test_token_options_while_acls_are_off_are_refused(
    options: dict[str, object], text: str
) -> None:
    with pytest.raises(ValueError) as info:
        Agent(**options)
    assert str(info.value) == text


def test_acls_off_report_the_allow_default_policy() -> None:
    assert Agent().default_acl_policy == "allow"


@pytest.mark.parametrize(("acl", "header"), [("allow", "allow"), ("deny", "deny")])
def test_default_acl_policy_follows_the_configuration(acl: str, header: str) -> None:
    assert Agent(acl=acl).default_acl_policy == header


# -- default token (§2 token sources, step 4) --------------------------------------------------


def test_default_token_is_used_when_the_request_has_none() -> None:
    agent = Agent(acl="deny", tokens={"deployer": WRITE_DEPLOY}, default_token="deployer")
    assert agent.fire("deploy").name == "deploy"


def test_default_token_denial_names_that_token_not_the_anonymous_one() -> None:
    agent = Agent(acl="deny", tokens={"deployer": WRITE_DEPLOY}, default_token="deployer")
    with pytest.raises(PermissionDeniedError) as caught:
        agent.fire("other")
    assert caught.value.detail == token_detail(accessor_of(agent, "deployer"), "write", "other")


def test_request_token_overrides_the_default_token() -> None:
    agent = Agent(
        acl="deny",
        tokens={"deployer": WRITE_DEPLOY, "reader": READ_DEPLOY},
        default_token="deployer",
    )
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", token="reader")


def test_unknown_default_token_is_acl_not_found() -> None:
    agent = Agent(acl="deny", management_token=ROOT, default_token="ghost")
    with pytest.raises(ACLNotFoundError) as caught:
        agent.list_events()
    assert caught.value.message == ACL_NOT_FOUND


def test_root_name_as_default_token_cannot_resolve() -> None:
    with pytest.raises(RootACLError):
        Agent(acl="deny", default_token="deny").fire("deploy")


# -- create_token ------------------------------------------------------------------------------


def test_create_token_with_an_arbitrary_secret(agent: Agent) -> None:
    token = agent.create_token(WRITE_DEPLOY, secret="ci-deployer")
    assert token.secret_id == "ci-deployer"
    assert GO_UUID.fullmatch(token.accessor_id)
    assert agent.fire("deploy", token="ci-deployer").name == "deploy"


def test_create_token_without_a_secret_generates_a_go_uuid(agent: Agent) -> None:
    token = agent.create_token(WRITE_DEPLOY)
    assert GO_UUID.fullmatch(token.secret_id)
    assert token.secret_id != token.accessor_id
    assert agent.fire("deploy", token=token.secret_id).name == "deploy"


def test_create_token_rules_become_a_policy_of_its_own(agent: Agent) -> None:
    token = agent.create_token(WRITE_DEPLOY, description="deployer")
    [policy_id] = token.policy_ids
    policy = agent.acl.get_policy(policy_id)
    assert policy is not None
    assert (policy.rules, token.description, token.management) == (WRITE_DEPLOY, "deployer", False)


def test_create_token_without_rules_has_no_policy_and_follows_the_default(agent: Agent) -> None:
    token = agent.create_token(secret="nothing")
    assert token.policy_ids == ()
    with pytest.raises(PermissionDeniedError):
        agent.fire("deploy", token="nothing")


def test_create_management_token(agent: Agent) -> None:
    token = agent.create_token(management=True, secret="admin")
    assert (token.policy_ids, token.management) == ((GLOBAL_MANAGEMENT_POLICY_ID,), True)
    agent.fire("anything", token="admin")
    assert names(agent.list_events(token="admin")) == ["anything"]


def test_create_token_links_existing_policies_by_name_and_id(agent: Agent) -> None:
    by_name = agent.acl.create_policy("deployers", WRITE_DEPLOY)
    by_id = agent.acl.create_policy("readers", READ_ALL)
    token = agent.create_token(policies=["deployers", by_id.id])
    assert token.policy_ids == (by_name.id, by_id.id)


def test_create_token_works_with_acls_off_and_applies_once_they_are_on() -> None:
    agent = Agent()
    agent.create_token(WRITE_DEPLOY, secret="deployer")
    agent.acl.enabled = True
    agent.acl.default_policy = "deny"
    assert agent.fire("deploy", token="deployer").name == "deploy"
    with pytest.raises(PermissionDeniedError):
        agent.fire("other", token="deployer")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            'event "deploy" { policy = "list" }',
            'Invalid event policy: &acl.EventRule{Event:"deploy", Policy:"list"}',
        ),
        (
            'event_prefix "" { policy = "sudo" }',
            'Invalid event_prefix policy: &acl.EventRule{Event:"", Policy:"sudo"}',
        ),
        (
            '{"event": {"deploy": {"policy": "admin"}}}',
            'Invalid event policy: &acl.EventRule{Event:"deploy", Policy:"admin"}',
        ),
    ],
)
def test_create_token_with_invalid_rules_has_consuls_text(
    agent: Agent, rules: str, message: str
) -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        agent.create_token(rules)
    assert caught.value.message == message


def test_create_token_with_unparsable_rules_has_consuls_text(agent: Agent) -> None:
    with pytest.raises(RulesParseError) as caught:
        agent.create_token('event "x" { policy = ["write"] }')
    assert caught.value.message == (
        "Failed to parse ACL rules: At 1:22: root.event[0].Policy: unknown type for string "
        "*ast.ListType"
    )


def test_create_token_with_a_secret_in_use_is_refused(agent: Agent) -> None:
    with pytest.raises(ACLStoreError) as caught:
        agent.create_token(secret="writer")
    assert caught.value.message == "Invalid Token: SecretID is already in use"


def test_create_token_with_an_unknown_policy_name_is_refused(agent: Agent) -> None:
    with pytest.raises(ACLStoreError) as caught:
        agent.create_token(policies=["nope"])
    assert caught.value.message == 'No such ACL policy with name "nope"'


def test_marker_style_tokens_are_listed_with_their_own_policies(agent: Agent) -> None:
    secrets = {t.secret_id: t for t in agent.acl.tokens()}
    assert sorted(secrets) == sorted(
        ["anonymous", ROOT, "event-token", "writer", "reader", "foo-reader", "all-reader"]
    )
    assert secrets["anonymous"].accessor_id == ANONYMOUS_TOKEN_ACCESSOR_ID
    writer_policy = agent.acl.get_policy(secrets["writer"].policy_ids[0])
    assert writer_policy is not None
    assert writer_policy.rules == WRITE_DEPLOY


def test_create_token_rules_do_not_clash_with_a_user_policy_name() -> None:
    fresh = Agent(acl="deny", management_token=ROOT)
    fresh.acl.create_policy("token-policy-1", READ_ALL)
    token = fresh.create_token(WRITE_DEPLOY, secret="deployer")
    assert fresh.fire("deploy", token=token.secret_id).name == "deploy"


def test_failed_create_token_leaves_no_policy_behind(agent: Agent) -> None:
    before = agent.acl.policies()
    with pytest.raises(ACLStoreError):
        agent.create_token(WRITE_DEPLOY, secret="writer")
    assert agent.acl.policies() == before


def test_invalid_token_rules_are_refused_before_anything_is_reset() -> None:
    agent = Agent(seed=SEED)
    agent.fire("deploy")
    with pytest.raises(ValueError) as caught:
        AgentConfig.build(acl="deny", tokens={"t": 'event "x" { policy = "list" }'})
    assert str(caught.value) == (
        "tokens['t'] must be ACL rules in HCL or JSON, not 'event \"x\" { policy = \"list\" }' "
        '(str): Invalid event policy: &acl.EventRule{Event:"x", Policy:"list"}'
    )
    assert isinstance(caught.value.__cause__, InvalidPolicyError)
    assert [e.name for e in agent.events] == ["deploy"]
    agent.reset()  # the previous, valid configuration
    assert agent.config.acl is None


def test_reset_forgets_created_tokens(agent: Agent) -> None:
    agent.create_token(WRITE_DEPLOY, secret="temporary")
    agent.reset()
    with pytest.raises(ACLNotFoundError):
        agent.fire("deploy", token="temporary")
    assert agent.fire("deploy", token="writer").name == "deploy"  # configured tokens come back


def test_concurrent_fires_with_mixed_tokens_store_only_the_allowed(agent: Agent) -> None:
    denied: list[str] = []
    lock = threading.Lock()

    def fire(secret: str) -> None:
        try:
            agent.fire("deploy", token=secret)
        except PermissionDeniedError:
            with lock:
                denied.append(secret)

    threads = [threading.Thread(target=fire, args=(s,)) for s in ["writer", "reader"] * 10]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert (len(agent.events), sorted(set(denied)), len(denied)) == (10, ["reader"], 10)
    assert sorted(e.ltime for e in agent.events) == list(range(2, 12))
