"""The ACL model for user events: rules parsing, merging, decisions, tokens and resolution.

Expected values come from Consul's own tests where they exist (cited per test):
acl/policy_test.go (TestPolicySourceParse, TestMergePolicies), acl/policy_authorizer_test.go
(TestPolicyAuthorizer "Prefer Exact Matches"), acl/acl_test.go ("ComplexDefaultAllow"),
acl/errors_test.go (TestPermissionDeniedError), agent/event_endpoint_test.go
(TestEventFire_token, TestEventList_ACLFilter), agent/user_event_test.go (TestUserEventToken),
agent/consul/acl_endpoint_test.go and agent/consul/auth/token_writer.go. The exact HCL syntax
error texts are derived from hashicorp/hcl v1.0.0's source (not observed on a real agent); the
HCL/JSON syntax itself is tested in tests/gocompat/test_hcl.py.
"""

from __future__ import annotations

import itertools
import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_consul_events.errors import (
    ACLNotFoundError,
    ACLStoreError,
    ConsulError,
    InvalidPolicyError,
    PermissionDeniedError,
    RootACLError,
    RulesParseError,
)
from pytest_consul_events.messages import (
    ACL_NOT_BOOTSTRAPPED,
    ACL_NOT_FOUND,
    GLOBAL_MANAGEMENT_POLICY_NAME,
    GLOBAL_READ_ONLY_POLICY_ID,
    INITIAL_MANAGEMENT_TOKEN_DESCRIPTION,
    PERMISSION_DENIED,
    ROOT_ACL,
)
from pytest_consul_events.model.acl import (
    ANONYMOUS_TOKEN_ACCESSOR_ID,
    ANONYMOUS_TOKEN_SECRET,
    GLOBAL_MANAGEMENT_POLICY_ID,
    ACLStore,
    Authorizer,
    ChainedAuthorizer,
    Decision,
    PolicyAuthorizer,
    Rule,
    Rules,
    StaticAuthorizer,
    allow_all,
    deny_all,
    manage_all,
    merge_rules,
    parse_rules,
    permission_denied_message,
    root_authorizer,
    takes_precedence_over,
)

GO_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

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

# acl/policy_test.go TestPolicySourceParse "Basic" (the event and agent parts are what the model
# keeps)
BASIC_HCL = """
agent_prefix "bar" {
    policy = "write"
}
agent "foo" {
    policy = "read"
}
event_prefix "" {
    policy = "read"
}
event "foo" {
    policy = "write"
}
event "bar" {
    policy = "deny"
}
key_prefix "" {
    policy = "read"
}
key_prefix "foo/" {
    policy = "write"
}
key_prefix "foo/bar/" {
    policy = "read"
}
key "foo/bar/baz" {
    policy = "deny"
}
keyring = "deny"
node_prefix "" {
    policy = "read"
}
node "foo" {
    policy = "write"
}
node "bar" {
    policy = "deny"
}
operator = "deny"
mesh = "deny"
peering = "deny"
service_prefix "" {
    policy = "write"
}
service "foo" {
    policy = "read"
}
session "foo" {
    policy = "write"
}
session "bar" {
    policy = "deny"
}
session_prefix "baz" {
    policy = "deny"
}
query_prefix "" {
    policy = "read"
}
query "foo" {
    policy = "write"
}
query "bar" {
    policy = "deny"
}
"""
BASIC_JSON = json.dumps(
    {
        "agent_prefix": {"bar": {"policy": "write"}},
        "agent": {"foo": {"policy": "read"}},
        "event_prefix": {"": {"policy": "read"}},
        "event": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
        "key_prefix": {
            "": {"policy": "read"},
            "foo/": {"policy": "write"},
            "foo/bar/": {"policy": "read"},
        },
        "key": {"foo/bar/baz": {"policy": "deny"}},
        "keyring": "deny",
        "node_prefix": {"": {"policy": "read"}},
        "node": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
        "operator": "deny",
        "mesh": "deny",
        "peering": "deny",
        "service_prefix": {"": {"policy": "write"}},
        "service": {"foo": {"policy": "read"}},
        "session_prefix": {"baz": {"policy": "deny"}},
        "session": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
        "query_prefix": {"": {"policy": "read"}},
        "query": {"foo": {"policy": "write"}, "bar": {"policy": "deny"}},
    },
    indent=2,
)
BASIC_RULES = Rules(
    events=(Rule("foo", "write"), Rule("bar", "deny")),
    event_prefixes=(Rule("", "read"),),
    agents=(Rule("foo", "read"),),
    agent_prefixes=(Rule("bar", "write"),),
)


DENY_ALL = deny_all()


def authorizer(rules: str, default: StaticAuthorizer = DENY_ALL) -> ChainedAuthorizer:
    return ChainedAuthorizer((PolicyAuthorizer(parse_rules(rules)), default))


# --- parsing ------------------------------------------------------------------------------


def test_empty_rules_are_an_empty_policy() -> None:
    assert parse_rules("") == Rules()


@pytest.mark.parametrize("source", [BASIC_HCL, BASIC_JSON], ids=["hcl", "json"])
def test_basic_policy_from_consul_tests_parses_in_both_syntaxes(source: str) -> None:
    assert parse_rules(source) == BASIC_RULES


def test_json_is_chosen_by_the_first_non_space_character() -> None:
    source = ' \t\n {"event": {"deploy": {"policy": "write"}}}'
    assert parse_rules(source) == Rules(events=(Rule("deploy", "write"),))


def test_text_starting_with_a_comment_is_hcl_even_if_json_follows() -> None:
    with pytest.raises(RulesParseError) as caught:
        parse_rules('# rules\n{"event": {"deploy": {"policy": "write"}}}')
    assert str(caught.value) == (
        "Failed to parse ACL rules: At 2:1: expected: IDENT | STRING got: LBRACE"
    )


def test_brief_example_hcl_and_json_agree() -> None:
    hcl = 'event "deploy" { policy = "write" }\nevent_prefix "" { policy = "read" }'
    js = '{"event": {"deploy": {"policy": "write"}}, "event_prefix": {"": {"policy": "read"}}}'
    expected = Rules(events=(Rule("deploy", "write"),), event_prefixes=(Rule("", "read"),))
    assert parse_rules(hcl) == parse_rules(js) == expected


def test_all_three_comment_styles_are_ignored() -> None:
    source = """
    # hash comment
    // slash comment
    /* block
       comment */
    event "a" { policy = "read" } // trailing
    event_prefix "b" { /* inline */ policy = "write" }
    """
    assert parse_rules(source) == Rules(
        events=(Rule("a", "read"),), event_prefixes=(Rule("b", "write"),)
    )


def test_several_blocks_for_the_same_event_are_all_kept_in_source_order() -> None:
    source = 'event "a" { policy = "read" }\nevent "a" { policy = "deny" }'
    assert parse_rules(source).events == (Rule("a", "read"), Rule("a", "deny"))


def test_other_resource_types_are_accepted_and_ignored() -> None:
    source = """
    key_prefix "app/" { policy = "list" }
    node "n1" { policy = "write" }
    service "web" { policy = "read" intentions = "write" }
    agent "n1" { policy = "read" }
    operator = "read"
    acl = "write"
    keyring = "read"
    unknown_resource "x" { policy = "whatever" }
    """
    assert parse_rules(source) == Rules(agents=(Rule("n1", "read"),))


def test_agent_rules_are_kept_in_both_syntaxes() -> None:
    hcl = 'agent "web-1" { policy = "read" }\nagent_prefix "" { policy = "deny" }'
    js = '{"agent": {"web-1": {"policy": "read"}}, "agent_prefix": {"": {"policy": "deny"}}}'
    expected = Rules(agents=(Rule("web-1", "read"),), agent_prefixes=(Rule("", "deny"),))
    assert parse_rules(hcl) == parse_rules(js) == expected


def test_block_and_field_names_match_case_insensitively() -> None:
    assert parse_rules('EVENT "X" { POLICY = "deny" }') == Rules(events=(Rule("X", "deny"),))


def test_equals_sign_and_quoted_block_names_are_accepted() -> None:
    source = '"event" = { "deploy" = { policy = "write" } }'
    assert parse_rules(source) == Rules(events=(Rule("deploy", "write"),))


def test_json_list_of_objects_is_flattened_like_hcl_v1() -> None:
    source = '{"event": [{"a": {"policy": "read"}}, {"b": {"policy": "write"}}]}'
    assert parse_rules(source).events == (Rule("a", "read"), Rule("b", "write"))


def test_unlabelled_event_block_is_a_rule_for_the_event_named_policy() -> None:
    # hcl v1 decodes the block's own items as labelled rules: the key becomes the event name.
    assert parse_rules('event { policy = "write" }') == Rules(events=(Rule("policy", "write"),))


@pytest.mark.parametrize(
    ("written", "access"),
    [("read", "read"), ("WRITE", "write"), ("Deny", "deny"), ("wRiTe", "write")],
)
def test_access_levels_are_case_insensitive(written: str, access: str) -> None:
    rules = parse_rules(f'event "x" {{ policy = "{written}" }}')
    assert rules.events == (Rule("x", written),)
    assert rules.events[0].access == access


def test_escapes_in_values_are_decoded_before_validation() -> None:
    assert parse_rules(r'event "x" { policy = "wri\x74e" }').events[0].access == "write"


# --- invalid policies (acl/policy_test.go TestPolicySourceParse "Bad Policy - ...") ----------


@pytest.mark.parametrize(
    ("hcl", "js", "message"),
    [
        (
            'acl = "list"',
            '{ "acl": "list" }',
            'Invalid acl policy: "list"',
        ),
        (
            'agent "foo" { policy = "nope" }',
            '{ "agent": { "foo": { "policy": "nope" }}}',
            'Invalid agent policy: &acl.AgentRule{Node:"foo", Policy:"nope"}',
        ),
        (
            'agent_prefix "foo" { policy = "nope" }',
            '{ "agent_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid agent_prefix policy: &acl.AgentRule{Node:"foo", Policy:"nope"}',
        ),
        (
            'key "foo" { policy = "nope" }',
            '{ "key": { "foo": { "policy": "nope" }}}',
            'Invalid key policy: &acl.KeyRule{Prefix:"foo", Policy:"nope",'
            " EnterpriseRule:acl.EnterpriseRule{}}",
        ),
        (
            'key_prefix "foo" { policy = "nope" }',
            '{ "key_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid key_prefix policy: &acl.KeyRule{Prefix:"foo", Policy:"nope",'
            " EnterpriseRule:acl.EnterpriseRule{}}",
        ),
        (
            'node "foo" { policy = "nope" }',
            '{ "node": { "foo": { "policy": "nope" }}}',
            'Invalid node policy: &acl.NodeRule{Name:"foo", Policy:"nope",'
            " EnterpriseRule:acl.EnterpriseRule{}}",
        ),
        (
            'node_prefix "foo" { policy = "nope" }',
            '{ "node_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid node_prefix policy: &acl.NodeRule{Name:"foo", Policy:"nope",'
            " EnterpriseRule:acl.EnterpriseRule{}}",
        ),
        (
            'service "foo" { policy = "nope" }',
            '{ "service": { "foo": { "policy": "nope" }}}',
            'Invalid service policy: &acl.ServiceRule{Name:"foo", Policy:"nope", Intentions:"",'
            " EnterpriseRule:acl.EnterpriseRule{}}",
        ),
        (
            'service_prefix "foo" { policy = "nope" }',
            '{ "service_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid service_prefix policy: &acl.ServiceRule{Name:"foo", Policy:"nope",'
            ' Intentions:"", EnterpriseRule:acl.EnterpriseRule{}}',
        ),
        (
            'service "foo" { policy = "write" intentions = "foo" }',
            '{ "service": { "foo": { "policy": "write", "intentions": "foo" }}}',
            'Invalid service intentions policy: &acl.ServiceRule{Name:"foo", Policy:"write",'
            ' Intentions:"foo", EnterpriseRule:acl.EnterpriseRule{}}',
        ),
        (
            'session "foo" { policy = "nope" }',
            '{ "session": { "foo": { "policy": "nope" }}}',
            'Invalid session policy: &acl.SessionRule{Node:"foo", Policy:"nope"}',
        ),
        (
            'session_prefix "foo" { policy = "nope" }',
            '{ "session_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid session_prefix policy: &acl.SessionRule{Node:"foo", Policy:"nope"}',
        ),
        (
            'event "foo" { policy = "nope" }',
            '{ "event": { "foo": { "policy": "nope" }}}',
            'Invalid event policy: &acl.EventRule{Event:"foo", Policy:"nope"}',
        ),
        (
            'event_prefix "foo" { policy = "nope" }',
            '{ "event_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid event_prefix policy: &acl.EventRule{Event:"foo", Policy:"nope"}',
        ),
        (
            'query "foo" { policy = "nope" }',
            '{ "query": { "foo": { "policy": "nope" }}}',
            'Invalid query policy: &acl.PreparedQueryRule{Prefix:"foo", Policy:"nope"}',
        ),
        (
            'query_prefix "foo" { policy = "nope" }',
            '{ "query_prefix": { "foo": { "policy": "nope" }}}',
            'Invalid query_prefix policy: &acl.PreparedQueryRule{Prefix:"foo", Policy:"nope"}',
        ),
        ('keyring = "nope"', '{ "keyring": "nope" }', 'Invalid keyring policy: "nope"'),
        ('operator = "nope"', '{ "operator": "nope" }', 'Invalid operator policy: "nope"'),
        ('mesh = "nope"', '{ "mesh": "nope" }', 'Invalid mesh policy: "nope"'),
        ('peering = "nope"', '{ "peering": "nope" }', 'Invalid peering policy: "nope"'),
    ],
)
def test_invalid_access_levels_report_consuls_exact_text(hcl: str, js: str, message: str) -> None:
    # Consul's test checks the prefix before the colon; the rest is Go's %#v of the rule.
    for source in (hcl, js):
        with pytest.raises(InvalidPolicyError) as caught:
            parse_rules(source)
        assert str(caught.value) == message


@pytest.mark.parametrize("source", ['keyring = ""', 'operator = ""', 'mesh = ""', 'peering = ""'])
def test_empty_scalar_policies_are_allowed(source: str) -> None:
    assert parse_rules(source) == Rules()


def test_list_is_invalid_for_events_but_valid_for_keys() -> None:
    assert parse_rules('key "k" { policy = "list" }\nkey_prefix "" { policy = "LIST" }') == Rules()
    with pytest.raises(InvalidPolicyError) as caught:
        parse_rules('event "e" { policy = "list" }')
    assert str(caught.value) == 'Invalid event policy: &acl.EventRule{Event:"e", Policy:"list"}'


def test_the_first_invalid_rule_in_consuls_validation_order_is_reported() -> None:
    # Validate() checks acl, agents, keys, nodes, services, sessions, events, queries, then
    # keyring/operator/mesh/peering, whatever the order in the source.
    source = 'operator = "bad"\nevent "e" { policy = "bad" }\nkey "k" { policy = "bad" }'
    with pytest.raises(InvalidPolicyError) as caught:
        parse_rules(source)
    assert str(caught.value).startswith("Invalid key policy: ")


def test_missing_policy_is_an_empty_invalid_policy() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        parse_rules('event "e" { }')
    assert str(caught.value) == 'Invalid event policy: &acl.EventRule{Event:"e", Policy:""}'


def test_non_string_values_are_used_as_their_text() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        parse_rules('event "e" { policy = true }')
    assert str(caught.value) == 'Invalid event policy: &acl.EventRule{Event:"e", Policy:"true"}'


def test_names_in_messages_are_go_quoted() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        parse_rules('event "a\\"b\\tc" { policy = "x" }')
    assert str(caught.value) == (
        'Invalid event policy: &acl.EventRule{Event:"a\\"b\\tc", Policy:"x"}'
    )


def test_heredoc_values_keep_their_trailing_newline() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        parse_rules('event "e" {\n  policy = <<EOF\nwrite\nEOF\n}')
    assert str(caught.value) == 'Invalid event policy: &acl.EventRule{Event:"e", Policy:"write\\n"}'


# --- syntax errors (texts derived from hashicorp/hcl v1.0.0) ---------------------------------
# Errors of the HCL and JSON grammars themselves are in tests/gocompat/test_hcl.py; these come
# from decoding into Consul's PolicyRules.


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        (
            'event "x" { policy = ["write"] }',
            "At 1:22: root.event[0].Policy: unknown type for string *ast.ListType",
        ),
        ('event = "write"', "At 1:9: unknown slice type: *ast.LiteralType"),
        ('acl "x" { }', "At 1:5: root.acl: unknown type for string *ast.ObjectList"),
        ('{"acl": [1]}', "At -: root.acl: unknown type for string *ast.ListType"),
    ],
)
def test_syntax_errors_are_wrapped_like_consul(source: str, detail: str) -> None:
    with pytest.raises(RulesParseError) as caught:
        parse_rules(source)
    assert str(caught.value) == f"Failed to parse ACL rules: {detail}"


def test_inputs_that_crash_consuls_hcl_decoder_are_parse_errors() -> None:
    # hcl v1 panics on `acl {}` (ObjectList.Pos() of an empty list); Consul gives no answer.
    with pytest.raises(RulesParseError) as caught:
        parse_rules("acl {}")
    assert str(caught.value).startswith("Failed to parse ACL rules: runtime error")


def test_json_parser_stops_after_the_first_complete_object() -> None:
    source = '{"event": {"a": {"policy": "read"}}} this is ignored by hcl v1'
    assert parse_rules(source) == Rules(events=(Rule("a", "read"),))


def test_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(RulesParseError):
        parse_rules('{"a": ' * 5000)


# --- merging (acl/policy_test.go TestMergePolicies "Events") ------------------------------------


def test_merge_policies_events_case_from_consul() -> None:
    first = Rules(
        events=(Rule("foo", "write"), Rule("bar", "read"), Rule("baz", "write")),
        event_prefixes=(
            Rule("000", "write"),
            Rule("111", "read"),
            Rule("222", "write"),
        ),
    )
    second = Rules(
        events=(Rule("foo", "read"), Rule("baz", "deny")),
        event_prefixes=(Rule("000", "read"), Rule("222", "deny")),
    )
    merged = merge_rules([first, second])
    assert sorted(merged.events, key=lambda r: r.name) == [
        Rule("bar", "read"),
        Rule("baz", "deny"),
        Rule("foo", "write"),
    ]
    assert sorted(merged.event_prefixes, key=lambda r: r.name) == [
        Rule("000", "write"),
        Rule("111", "read"),
        Rule("222", "deny"),
    ]


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ("read", "write", "write"),
        ("write", "read", "write"),
        ("write", "deny", "deny"),
        ("deny", "write", "deny"),
        ("read", "list", "list"),
        ("list", "write", "write"),
        ("read", "deny", "deny"),
        # takesPrecedenceOver compares exact lowercase words: other spellings lose to them,
        # and between two of them the first one stays.
        ("DENY", "read", "read"),
        ("WRITE", "Deny", "WRITE"),
    ],
)
def test_merge_precedence_is_deny_write_list_read(first: str, second: str, winner: str) -> None:
    merged = merge_rules([Rules(events=(Rule("e", first),)), Rules(events=(Rule("e", second),))])
    assert merged.events == (Rule("e", winner),)


def test_exact_and_prefix_rules_merge_separately() -> None:
    merged = merge_rules(
        [
            parse_rules('event "a" { policy = "write" }'),
            parse_rules('event_prefix "a" { policy = "deny" }'),
        ]
    )
    authz = ChainedAuthorizer((PolicyAuthorizer(merged), allow_all()))
    assert authz.event_write("a")
    assert not authz.event_read("ab")


def test_takes_precedence_over_matches_consul() -> None:
    order = ["deny", "write", "list", "read"]
    for stronger, weaker in itertools.combinations(order, 2):
        assert takes_precedence_over(stronger, weaker)
        assert not takes_precedence_over(weaker, stronger)
    assert takes_precedence_over("read", "")
    assert not takes_precedence_over("", "")


# --- decisions --------------------------------------------------------------------------------


def test_empty_policy_makes_no_decision() -> None:
    # acl/policy_authorizer_test.go "Defaults": checkDefaultEventRead / checkDefaultEventWrite
    # and checkDefaultAgentRead
    authz = PolicyAuthorizer(Rules())
    assert authz.event_read_decision("foo") is Decision.DEFAULT
    assert authz.event_write_decision("foo") is Decision.DEFAULT
    assert authz.agent_read_decision("foo") is Decision.DEFAULT


# acl/policy_authorizer_test.go TestPolicyAuthorizer "Prefer Exact Matches" (agent checks)
PREFER_EXACT_AGENTS = """
agent "foo" { policy = "write" }
agent "football" { policy = "deny" }
agent_prefix "foot" { policy = "read" }
agent_prefix "fo" { policy = "read" }
"""


@pytest.mark.parametrize(
    ("node", "read"),
    [
        ("fo", True),
        ("for", True),
        ("foo", True),
        ("foot", True),
        ("foot2", True),
        ("food", True),
        ("football", False),
        ("bar", None),
    ],
)
def test_agent_read_prefers_exact_matches_from_consul(node: str, read: bool | None) -> None:
    decision = PolicyAuthorizer(parse_rules(PREFER_EXACT_AGENTS)).agent_read_decision(node)
    expected = {True: Decision.ALLOW, False: Decision.DENY, None: Decision.DEFAULT}[read]
    assert decision is expected


def test_agent_and_event_rules_do_not_grant_each_other() -> None:
    authz = authorizer('event_prefix "" { policy = "write" }\nagent "node1" { policy = "read" }')
    assert authz.agent_read("node1")
    assert not authz.agent_read("node2")
    assert authz.event_write("node2")
    assert not authorizer('agent_prefix "" { policy = "write" }').event_read("node1")


def test_agent_rules_merge_by_precedence() -> None:
    merged = merge_rules(
        [parse_rules('agent "n" { policy = "read" }'), parse_rules('agent "n" { policy = "deny" }')]
    )
    assert merged.agents == (Rule("n", "deny"),)
    assert not ChainedAuthorizer((PolicyAuthorizer(merged), allow_all())).agent_read("n")


@pytest.mark.parametrize(
    ("default", "allowed"), [(allow_all(), True), (deny_all(), False), (manage_all(), True)]
)
def test_agent_read_falls_back_to_the_default_policy(
    default: StaticAuthorizer, allowed: bool
) -> None:
    assert authorizer('agent "other" { policy = "deny" }', default).agent_read("node1") is allowed


# acl/policy_authorizer_test.go TestPolicyAuthorizer "Prefer Exact Matches" (event checks)
PREFER_EXACT = """
event "foo" { policy = "write" }
event "football" { policy = "deny" }
event_prefix "foot" { policy = "read" }
event_prefix "fo" { policy = "read" }
"""


@pytest.mark.parametrize(
    ("name", "read", "write"),
    [
        ("fo", True, False),
        ("for", True, False),
        ("foo", True, True),
        ("foot", True, False),
        ("foot2", True, False),
        ("food", True, False),
        ("football", False, False),
    ],
)
def test_prefer_exact_matches_from_consul(name: str, read: bool, write: bool) -> None:
    authz = PolicyAuthorizer(parse_rules(PREFER_EXACT))
    assert authz.event_read_decision(name) is (Decision.ALLOW if read else Decision.DENY)
    assert authz.event_write_decision(name) is (Decision.ALLOW if write else Decision.DENY)


# acl/acl_test.go "ComplexDefaultAllow" (event rules and checks), default policy allow
COMPLEX_DEFAULT_ALLOW = """
event "" { policy = "read" }
event "foo" { policy = "write" }
event "bar" { policy = "deny" }
event_prefix "" { policy = "read" }
event_prefix "foo" { policy = "write" }
event_prefix "bar" { policy = "deny" }
"""


@pytest.mark.parametrize(
    ("name", "read", "write"),
    [
        ("foo", True, True),
        ("foobar", True, True),
        ("bar", False, False),
        ("barbaz", False, False),
        ("baz", True, False),
    ],
)
def test_complex_default_allow_from_consul(name: str, read: bool, write: bool) -> None:
    authz = authorizer(COMPLEX_DEFAULT_ALLOW, allow_all())
    assert (authz.event_read(name), authz.event_write(name)) == (read, write)


def test_exact_rule_applies_only_to_the_whole_name() -> None:
    authz = authorizer('event "deploy" { policy = "write" }')
    assert authz.event_write("deploy")
    assert not authz.event_write("deploy-prod")
    assert not authz.event_write("deplo")


def test_empty_prefix_matches_every_event() -> None:
    authz = authorizer('event_prefix "" { policy = "read" }')
    assert authz.event_read("anything")
    assert authz.event_read("")
    assert not authz.event_write("anything")


def test_prefixes_compare_utf8_bytes() -> None:
    authz = authorizer('event_prefix "dé" { policy = "write" }')
    assert authz.event_write("déploy")
    assert not authz.event_write("deploy")


@pytest.mark.parametrize(
    ("default", "allowed"), [(allow_all(), True), (deny_all(), False), (manage_all(), True)]
)
def test_rules_that_say_nothing_fall_back_to_the_default_policy(
    default: StaticAuthorizer, allowed: bool
) -> None:
    authz = authorizer('event "other" { policy = "deny" }', default)
    assert authz.event_read("deploy") is allowed
    assert authz.event_write("deploy") is allowed
    assert not authz.event_read("other")


def test_an_all_default_chain_denies() -> None:
    chain = ChainedAuthorizer((PolicyAuthorizer(Rules()),))
    assert chain.event_read_decision("x") is Decision.DENY


def test_root_authorizer_names() -> None:
    assert root_authorizer("allow") is allow_all()
    assert root_authorizer("deny") is deny_all()
    assert root_authorizer("manage") is manage_all()
    assert root_authorizer("Allow") is None
    assert root_authorizer("root") is None


def test_invalid_access_level_in_hand_built_rules_is_rejected() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        PolicyAuthorizer(Rules(events=(Rule("e", "nope"),)))
    assert str(caught.value) == '"nope" is not a valid access level'


# --- the store: resolution ----------------------------------------------------------------------


def acl_store(**kwargs: object) -> ACLStore:
    defaults: dict[str, object] = {
        "enabled": True,
        "default_policy": "deny",
        "initial_management": "root",
    }
    defaults.update(kwargs)
    return ACLStore(**defaults)  # type: ignore[arg-type]


def test_disabled_acls_allow_everything_and_ignore_the_token() -> None:
    store = ACLStore(default_policy="deny")
    for secret in ("", "unknown", "deny", "allow", "manage"):
        resolved = store.resolve(secret)
        assert resolved.event_write("anything")
        assert resolved.event_read("anything")
        assert resolved.token is None
        assert resolved.accessor_id == ""


def test_resolved_token_is_an_authorizer() -> None:
    assert isinstance(acl_store().resolve("root"), Authorizer)


@pytest.mark.parametrize("secret", ["allow", "deny", "manage"])
def test_root_names_cannot_be_resolved(secret: str) -> None:
    with pytest.raises(RootACLError) as caught:
        acl_store().resolve(secret)
    assert str(caught.value) == ROOT_ACL == "Cannot resolve root ACL"


def test_unknown_secret_is_acl_not_found() -> None:
    with pytest.raises(ACLNotFoundError) as caught:
        acl_store().resolve("5ae2cf60-b6f3-2f4b-bd47-8f1ccf62a13b")
    assert str(caught.value) == ACL_NOT_FOUND == "ACL not found"


def test_unknown_secret_before_bootstrap_has_consuls_longer_text() -> None:
    # api/acl_test.go TestAPI_ACLBootstrap (403 body) and acl_server.go ResolveIdentityFromToken
    with pytest.raises(ACLNotFoundError) as caught:
        ACLStore(enabled=True).resolve("root")
    assert str(caught.value) == (
        "ACL system must be bootstrapped before making any requests that require "
        "authorization: ACL not found"
    )
    assert ACL_NOT_BOOTSTRAPPED.format(error=ACL_NOT_FOUND) == str(caught.value)


@pytest.mark.parametrize("secret", ["", ANONYMOUS_TOKEN_SECRET])
def test_empty_secret_and_anonymous_resolve_to_the_anonymous_token(secret: str) -> None:
    resolved = acl_store().resolve(secret)
    assert resolved.token is not None
    assert resolved.accessor_id == ANONYMOUS_TOKEN_ACCESSOR_ID
    assert not resolved.event_read("foo")


def test_anonymous_token_follows_the_default_policy() -> None:
    assert acl_store(default_policy="allow").resolve("").event_write("foo")
    assert not acl_store(default_policy="deny").resolve("").event_write("foo")


def test_anonymous_token_can_be_given_policies() -> None:
    store = acl_store()
    policy = store.create_policy("anon-read", 'event_prefix "" { policy = "read" }')
    store.update_token(ANONYMOUS_TOKEN_ACCESSOR_ID, policies=[policy.id])
    resolved = store.resolve("")
    assert resolved.event_read("foo")
    assert not resolved.event_write("foo")


@pytest.mark.parametrize(
    ("event", "allowed"), [("foo", False), ("bar", False), ("baz", True), ("zip", False)]
)
def test_event_fire_token_from_consul(event: str, allowed: bool) -> None:
    # agent/event_endpoint_test.go TestEventFire_token (+ "zip" from TestUserEventToken):
    # default policy deny, a token with testEventPolicy.
    store = acl_store()
    token = store.create_token(policies=[store.create_policy("the-policy", TEST_EVENT_POLICY).id])
    assert store.resolve(token.secret_id).event_write(event) is allowed


def test_event_list_acl_filter_from_consul() -> None:
    # agent/event_endpoint_test.go TestEventList_ACLFilter: default deny, events foo and bar.
    store = acl_store()
    events = ["foo", "bar"]
    assert [e for e in events if store.resolve("").event_read(e)] == []
    policy = store.create_policy("foo-read", 'event "foo" { policy = "read" }')
    token = store.create_token(policies=[policy.id])
    assert [e for e in events if store.resolve(token.secret_id).event_read(e)] == ["foo"]
    assert [e for e in events if store.resolve("root").event_read(e)] == ["foo", "bar"]


def test_initial_management_token_is_a_management_token() -> None:
    store = acl_store()
    token = store.resolve("root").token
    assert token is not None
    assert token.management
    assert token.description == INITIAL_MANAGEMENT_TOKEN_DESCRIPTION
    assert token.policy_ids == (GLOBAL_MANAGEMENT_POLICY_ID,)
    assert GO_UUID.fullmatch(token.accessor_id)


def test_management_token_allows_every_event() -> None:
    store = acl_store()
    token = store.create_token(management=True)
    resolved = store.resolve(token.secret_id)
    assert token.management
    assert resolved.event_write("anything")
    assert resolved.event_read("")


def test_management_is_a_policy_so_an_explicit_deny_still_wins() -> None:
    # global-management is `event_prefix "" { policy = "write" }`; merged with an exact deny,
    # the exact rule decides (Consul has no management bypass for policy tokens).
    store = acl_store()
    deny = store.create_policy("deny-secret", 'event "secret" { policy = "deny" }')
    token = store.create_token(management=True, policies=[deny.id])
    resolved = store.resolve(token.secret_id)
    assert not resolved.event_write("secret")
    assert resolved.event_write("other")


def test_several_policies_on_one_token_merge_with_precedence() -> None:
    store = acl_store(default_policy="allow")
    read = store.create_policy("read-deploy", 'event "deploy" { policy = "read" }')
    deny = store.create_policy("deny-deploy", 'event "deploy" { policy = "deny" }')
    write = store.create_policy("write-deploy", 'event "deploy" { policy = "write" }')
    assert store.resolve(store.create_token(policies=[read.id, write.id]).secret_id).event_write(
        "deploy"
    )
    resolved = store.resolve(store.create_token(policies=[write.id, deny.id, read.id]).secret_id)
    assert not resolved.event_read("deploy")


def test_deleted_policies_are_skipped_when_resolving() -> None:
    store = acl_store(default_policy="allow")
    policy = store.create_policy("deny-all-events", 'event_prefix "" { policy = "deny" }')
    token = store.create_token(policies=[policy.id])
    assert not store.resolve(token.secret_id).event_read("x")
    assert store.delete_policy(policy.id) == "deny-all-events"
    assert store.resolve(token.secret_id).event_read("x")


def test_changing_switches_takes_effect_at_once() -> None:
    store = acl_store()
    assert not store.resolve("").event_write("x")
    store.default_policy = "allow"
    assert store.resolve("").event_write("x")
    store.enabled = False
    store.default_policy = "deny"
    assert store.resolve("nonsense").event_write("x")


def test_default_policy_is_validated() -> None:
    with pytest.raises(ValueError, match="default_policy"):
        ACLStore(default_policy="maybe")  # type: ignore[arg-type]


# --- permission denied texts (acl/errors_test.go TestPermissionDeniedError) ---------------------


def test_permission_denied_detail_for_a_token() -> None:
    assert permission_denied_message("", "service", "read", "foobar") == (
        "Permission denied: token with AccessorID '' lacks permission 'service:read' on \"foobar\""
    )


def test_require_event_write_raises_the_detailed_text() -> None:
    store = acl_store()
    token = store.create_token(accessor_id="6a1253d2-1785-24fd-91c2-f8e78c745511")
    with pytest.raises(PermissionDeniedError) as caught:
        store.resolve(token.secret_id).require_event_write("deploy")
    assert caught.value.detail == (
        "Permission denied: token with AccessorID '6a1253d2-1785-24fd-91c2-f8e78c745511'"
        " lacks permission 'event:write' on \"deploy\""
    )
    assert caught.value.message == PERMISSION_DENIED == "Permission denied"


def test_require_event_read_names_the_anonymous_token() -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        acl_store().resolve("").require_event_read("deploy")
    assert caught.value.detail == (
        "Permission denied: anonymous token lacks permission 'event:read' on \"deploy\"."
        " The anonymous token is used implicitly when a request does not specify a token."
    )


def test_require_passes_when_allowed() -> None:
    resolved = acl_store().resolve("root")
    resolved.require_event_read("x")
    resolved.require_event_write("x")


# --- the store: policies and tokens -------------------------------------------------------------


def test_builtin_policies_exist() -> None:
    store = ACLStore()
    management = store.get_policy(GLOBAL_MANAGEMENT_POLICY_ID)
    assert management is not None
    assert management.name == GLOBAL_MANAGEMENT_POLICY_NAME
    assert management.parsed.event_prefixes == (Rule("", "write"),)
    read_only = store.get_policy(GLOBAL_READ_ONLY_POLICY_ID)
    assert read_only is not None
    assert read_only.parsed.event_prefixes == (Rule("", "read"),)


def test_policy_names_are_unique_case_insensitively() -> None:
    store = acl_store()
    store.create_policy("deploy", "")
    for name in ("deploy", "DEPLOY", GLOBAL_MANAGEMENT_POLICY_NAME):
        with pytest.raises(ACLStoreError) as caught:
            store.create_policy(name, "")
        assert str(caught.value) == f'Invalid Policy: A Policy with Name "{name}" already exists'


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Invalid Policy: no Name is set"),
        (
            "has space",
            "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed",
        ),
        (
            "builtin/mine",
            "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed",
        ),
        (
            "x" * 129,
            "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed",
        ),
    ],
)
def test_invalid_policy_names(name: str, message: str) -> None:
    with pytest.raises(ACLStoreError) as caught:
        acl_store().create_policy(name, "")
    assert str(caught.value) == message


def test_policy_name_checks_come_before_the_rules() -> None:
    store = acl_store()
    store.create_policy("taken", "")
    with pytest.raises(ACLStoreError):
        store.create_policy("taken", 'event "e" { policy = "nope" }')


def test_policy_rules_errors_propagate_unchanged() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        acl_store().create_policy("bad", 'event "foo" { policy = "nope" }')
    assert str(caught.value) == 'Invalid event policy: &acl.EventRule{Event:"foo", Policy:"nope"}'


def test_created_policy_gets_a_go_uuid() -> None:
    policy = acl_store().create_policy("p", "", "a description")
    assert GO_UUID.fullmatch(policy.id)
    assert (policy.name, policy.description, policy.rules) == ("p", "a description", "")


@pytest.mark.parametrize(
    ("policy_id", "name"),
    [
        (GLOBAL_MANAGEMENT_POLICY_ID, "global-management"),
        (GLOBAL_READ_ONLY_POLICY_ID, "builtin/global-read-only"),
    ],
)
def test_builtin_policies_cannot_be_deleted(policy_id: str, name: str) -> None:
    # agent/consul/acl_endpoint_test.go TestACLEndpoint_PolicyDelete_CannotDeleteBuiltinPolicies
    with pytest.raises(ACLStoreError) as caught:
        acl_store().delete_policy(policy_id)
    assert str(caught.value) == f"Delete operation not permitted on the builtin {name} policy"


def test_deleting_an_unknown_policy_does_nothing() -> None:
    assert acl_store().delete_policy("5ae2cf60-b6f3-2f4b-bd47-8f1ccf62a13b") is None


def test_generated_token_ids_are_go_uuids() -> None:
    token = acl_store().create_token(description="ci")
    assert GO_UUID.fullmatch(token.accessor_id)
    assert GO_UUID.fullmatch(token.secret_id)
    assert token.accessor_id != token.secret_id
    assert (token.description, token.policy_ids, token.local) == ("ci", (), False)


class ScriptedRandom(random.Random):
    """Hands out the given IDs as the 128 random bits ``new_event_id`` asks for."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(0)
        self._ids = iter(ids)

    def getrandbits(self, k: int, /) -> int:
        assert k == 128
        return int(next(self._ids).replace("-", ""), 16)


def test_generated_ids_skip_reserved_and_used_values() -> None:
    values = ScriptedRandom(
        [
            "00000000-0000-0000-0000-000000000042",
            "11111111-1111-1111-1111-111111111111",
            "11111111-1111-1111-1111-111111111111",
            "22222222-2222-2222-2222-222222222222",
        ]
    )
    store = ACLStore(enabled=True, rng=values)
    token = store.create_token()
    assert (token.accessor_id, token.secret_id) == (
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
    )


def test_a_seeded_rng_makes_generated_ids_reproducible() -> None:
    first, second = (
        ACLStore(enabled=True, initial_management="root", rng=random.Random(7)) for _ in range(2)
    )
    tokens = [(s.create_token(), s.create_policy("p", "")) for s in (first, second)]
    assert tokens[0][0] == tokens[1][0]
    assert tokens[0][1].id == tokens[1][1].id
    assert all(GO_UUID.fullmatch(t.accessor_id) for t in first.tokens())


def test_every_acl_error_is_a_consul_error() -> None:
    # The model raises the project's errors: one `except ConsulError` catches them all.
    for call in (
        lambda: parse_rules("}"),
        lambda: parse_rules('event "e" { policy = "nope" }'),
        lambda: acl_store().resolve("deny"),
        lambda: acl_store().resolve("unknown"),
        lambda: acl_store().resolve("").require_event_write("e"),
        lambda: acl_store().delete_token("nope"),
    ):
        with pytest.raises(ConsulError):
            call()


def test_token_secret_must_be_unique() -> None:
    store = acl_store()
    first = store.create_token()
    for secret in (first.secret_id, first.accessor_id):
        with pytest.raises(ACLStoreError) as caught:
            store.create_token(secret_id=secret)
        assert str(caught.value) == "Invalid Token: SecretID is already in use"


def test_token_accessor_must_be_unique() -> None:
    store = acl_store()
    first = store.create_token()
    with pytest.raises(ACLStoreError) as caught:
        store.create_token(accessor_id=first.accessor_id.upper())
    assert str(caught.value) == "Invalid Token: AccessorID is already in use"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secret_id": "my-secret"}, "Invalid Token: SecretID - not a valid UUID"),
        (
            {"secret_id": "00000000-0000-0000-0000-000000000099"},
            'Invalid Token: SecretID - UUIDs with the prefix "00000000-0000-0000-0000-0000000000"'
            " are reserved",
        ),
        ({"accessor_id": "abc"}, "Invalid Token: AccessorID - not a valid UUID"),
        (
            {"accessor_id": ANONYMOUS_TOKEN_ACCESSOR_ID},
            'Invalid Token: AccessorID - UUIDs with the prefix "00000000-0000-0000-0000-0000000000"'
            " are reserved",
        ),
        (
            {"policies": ["5ae2cf60-b6f3-2f4b-bd47-8f1ccf62a13b"]},
            'No such ACL policy with ID "5ae2cf60-b6f3-2f4b-bd47-8f1ccf62a13b"',
        ),
        ({"policies": ["no-such-policy"]}, 'No such ACL policy with name "no-such-policy"'),
    ],
)
def test_token_creation_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ACLStoreError) as caught:
        acl_store().create_token(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_token_policy_links_accept_names_and_ids_and_are_deduplicated() -> None:
    store = acl_store()
    policy = store.create_policy("p", "")
    token = store.create_token(policies=[policy.id, "P", policy.id.upper()], management=True)
    assert token.policy_ids == (policy.id, GLOBAL_MANAGEMENT_POLICY_ID)


def test_delete_token() -> None:
    store = acl_store()
    token = store.create_token()
    store.delete_token(token.accessor_id)
    assert store.get_token(token.accessor_id) is None
    with pytest.raises(ACLNotFoundError):
        store.resolve(token.secret_id)
    store.delete_token(token.accessor_id)  # unknown accessors are ignored, as in Consul


@pytest.mark.parametrize(
    ("accessor", "message"),
    [
        (ANONYMOUS_TOKEN_ACCESSOR_ID, "Delete operation not permitted on the anonymous token"),
        ("anonymous", "Accessor ID is missing or an invalid UUID"),
        ("", "Accessor ID is missing or an invalid UUID"),
    ],
)
def test_delete_token_errors(accessor: str, message: str) -> None:
    with pytest.raises(ACLStoreError) as caught:
        acl_store().delete_token(accessor)
    assert str(caught.value) == message


def test_update_token_errors() -> None:
    store = acl_store()
    with pytest.raises(ACLStoreError) as caught:
        store.update_token("nope")
    assert str(caught.value) == "AccessorID is not a valid UUID"
    with pytest.raises(ACLStoreError) as caught:
        store.update_token("5ae2cf60-b6f3-2f4b-bd47-8f1ccf62a13b")
    assert str(caught.value) == 'Cannot find token "5ae2cf60-b6f3-2f4b-bd47-8f1ccf62a13b"'


def test_reset_restores_the_initial_state() -> None:
    store = acl_store()
    store.create_policy("p", "")
    store.create_token()
    store.reset()
    assert {t.description for t in store.tokens()} == {
        "Anonymous Token",
        INITIAL_MANAGEMENT_TOKEN_DESCRIPTION,
    }
    assert {p.id for p in store.policies()} == {
        GLOBAL_MANAGEMENT_POLICY_ID,
        GLOBAL_READ_ONLY_POLICY_ID,
    }
    assert store.resolve("root").event_write("x")


def test_initial_management_secret_may_be_any_non_empty_string() -> None:
    with pytest.raises(ValueError, match="initial_management"):
        ACLStore(initial_management="")
    assert acl_store(initial_management="not-a-uuid").resolve("not-a-uuid").event_write("x")


# --- property: the authorizer against a brute-force reference ---------------------------------

NAMES = st.text(alphabet="ab/é", max_size=4)
LEVELS = st.sampled_from(["read", "write", "deny"])
RULE_MAPS = st.dictionaries(NAMES, LEVELS, max_size=6)


def hcl_rules(exact: dict[str, str], prefix: dict[str, str]) -> str:
    blocks = [
        f"event {json.dumps(k, ensure_ascii=False)} {{ policy = {json.dumps(v)} }}"
        for k, v in exact.items()
    ]
    blocks += [
        f"event_prefix {json.dumps(k, ensure_ascii=False)} {{ policy = {json.dumps(v)} }}"
        for k, v in prefix.items()
    ]
    return "\n".join(blocks)


def json_rules(exact: dict[str, str], prefix: dict[str, str]) -> str:
    document: dict[str, object] = {}
    if exact:
        document["event"] = {k: {"policy": v} for k, v in exact.items()}
    if prefix:
        document["event_prefix"] = {k: {"policy": v} for k, v in prefix.items()}
    return json.dumps(document)


def reference_level(exact: dict[str, str], prefix: dict[str, str], name: str) -> str | None:
    if name in exact:
        return exact[name]
    matches = [p for p in prefix if name.startswith(p)]
    return prefix[max(matches, key=len)] if matches else None


@given(
    exact=RULE_MAPS,
    prefix=RULE_MAPS,
    names=st.lists(NAMES, min_size=1, max_size=8),
    default_allows=st.booleans(),
    use_json=st.booleans(),
)
def test_authorizer_matches_brute_force_reference(
    exact: dict[str, str],
    prefix: dict[str, str],
    names: list[str],
    default_allows: bool,
    use_json: bool,
) -> None:
    source = (
        json_rules(exact, prefix) if use_json and (exact or prefix) else hcl_rules(exact, prefix)
    )
    authz = authorizer(source, allow_all() if default_allows else deny_all())
    for name in names:
        level = reference_level(exact, prefix, name)
        read = default_allows if level is None else level in ("read", "write")
        write = default_allows if level is None else level == "write"
        assert authz.event_read(name) is read, (source, name)
        assert authz.event_write(name) is write, (source, name)


PRECEDENCE = {"deny": 3, "write": 2, "read": 0}


@given(policies=st.lists(st.dictionaries(NAMES, LEVELS, max_size=4), max_size=4), name=NAMES)
def test_merged_policies_match_strongest_level_reference(
    policies: list[dict[str, str]], name: str
) -> None:
    merged: dict[str, str] = {}
    for policy in policies:
        for key, level in policy.items():
            if key not in merged or PRECEDENCE[level] > PRECEDENCE[merged[key]]:
                merged[key] = level
    authz = ChainedAuthorizer(
        (
            PolicyAuthorizer.from_policies(parse_rules(hcl_rules(p, {})) for p in policies),
            deny_all(),
        )
    )
    strongest = merged.get(name)
    assert authz.event_read(name) is (strongest in ("read", "write"))
    assert authz.event_write(name) is (strongest == "write")
