"""The ACL options of ``@pytest.mark.consul_agent`` as a user's test suite sees them.

Each outer test runs one inner session through pytester. The inner sessions leave out the
hypothesis plugin (``-p no:hypothesispytest``): it imports hypothesis, with assertion
rewriting, in every in-process run, which costs about a second and a half each and tests
nothing here.
"""

from __future__ import annotations

import re

import pytest

INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def run(pytester: pytest.Pytester, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(*INNER_ARGS, *extra)


def test_acl_options_apply_and_are_reset_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import requests
        from pytest_consul_events.errors import ACLNotFoundError, PermissionDeniedError

        TOKENS = {
            "deployer": 'event "deploy" { policy = "write" }',
            "reader": 'event_prefix "" { policy = "read" }',
        }

        @pytest.mark.consul_agent(acl="deny", management_token="root", tokens=TOKENS)
        def test_1_deny_with_tokens(consul_agent, consul_client):
            assert (consul_agent.acl.enabled, consul_agent.default_acl_policy) == (True, "deny")
            consul_agent.fire("deploy", token="deployer")
            with pytest.raises(PermissionDeniedError):
                consul_agent.fire("deploy", token="reader")
            with pytest.raises(PermissionDeniedError):
                consul_agent.fire("deploy")
            listing = consul_agent.list_events(token="reader")
            assert [e.name for e in listing.events] == ["deploy"]
            assert consul_client.event.list() == ("1", [])  # py-consul lists anonymously
            reply = requests.get(consul_agent.url + "/v1/event/list?token=root", timeout=5)
            assert reply.headers["X-Consul-Default-Acl-Policy"] == "deny"
            assert [e["Name"] for e in reply.json()] == ["deploy"]
            consul_agent.create_token('event "x" { policy = "write" }', secret="made-in-test")

        def test_2_no_marker_means_acls_off_and_no_tokens(consul_agent, consul_client):
            assert (consul_agent.acl.enabled, consul_agent.default_acl_policy) == (False, "allow")
            assert [t.secret_id for t in consul_agent.acl.tokens()] == ["anonymous"]
            assert consul_agent.events == []
            consul_agent.fire("deploy", token="deny")  # ignored while ACLs are off
            assert [e["Name"] for e in consul_client.event.list()[1]] == ["deploy"]
            reply = requests.get(consul_agent.url + "/v1/event/list", timeout=5)
            assert reply.headers["X-Consul-Default-Acl-Policy"] == "allow"

        @pytest.mark.consul_agent(acl="deny", management_token="root")
        def test_3_tokens_of_earlier_tests_are_gone(consul_agent):
            for secret in ("made-in-test", "deployer", "reader"):
                with pytest.raises(ACLNotFoundError):
                    consul_agent.fire("deploy", token=secret)
            assert sorted(t.secret_id for t in consul_agent.acl.tokens()) == ["anonymous", "root"]

        @pytest.mark.consul_agent(acl="deny")
        def test_4_without_management_token_the_acl_system_is_not_bootstrapped(consul_agent):
            with pytest.raises(ACLNotFoundError) as caught:
                consul_agent.fire("deploy", token="root")
            assert caught.value.message.startswith("ACL system must be bootstrapped")
        """
    )
    run(pytester).assert_outcomes(passed=4)


def test_default_token_and_allow_policy_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_consul_events.errors import PermissionDeniedError

        @pytest.mark.consul_agent(
            acl="deny",
            tokens={"deployer": 'event "deploy" { policy = "write" }'},
            default_token="deployer",
        )
        def test_default_token_fires_for_a_client_without_token(consul_agent, consul_client):
            event = consul_client.event.fire("deploy", "v1")
            assert [e.id for e in consul_agent.events] == [event["ID"]]
            with pytest.raises(PermissionDeniedError):
                consul_agent.fire("other")

        @pytest.mark.consul_agent(acl="allow", tokens={"limited": 'event "x" { policy = "read" }'})
        def test_allow_policy_lets_anonymous_fire_but_rules_still_apply(consul_agent):
            assert consul_agent.default_acl_policy == "allow"
            consul_agent.fire("deploy")
            with pytest.raises(PermissionDeniedError):
                consul_agent.fire("x", token="limited")
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_module_and_function_markers_merge_acl_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_consul_events.errors import ACLNotFoundError

        pytestmark = pytest.mark.consul_agent(
            acl="deny", tokens={"deployer": 'event "deploy" { policy = "write" }'}
        )

        @pytest.mark.consul_agent(management_token="root")
        def test_function_marker_adds_a_management_token(consul_agent):
            consul_agent.fire("anything", token="root")
            consul_agent.fire("deploy", token="deployer")
            with pytest.raises(ACLNotFoundError) as caught:
                consul_agent.fire("deploy", token="ghost")
            assert caught.value.message == "ACL not found"

        @pytest.mark.consul_agent(acl=None, tokens={})
        def test_function_marker_can_turn_acls_off(consul_agent):
            assert consul_agent.acl.enabled is False
            consul_agent.fire("anything", token="ghost")

        @pytest.mark.consul_agent(acl=None)
        def test_a_closer_acl_none_drops_the_inherited_tokens(consul_agent):
            assert consul_agent.config.tokens == {}
            consul_agent.fire("deploy", token="ghost")

        @pytest.mark.consul_agent(acl=None, tokens={"x": ""})
        def test_tokens_beside_acl_none_are_an_error(consul_agent):
            pass
        """
    )
    result = run(pytester, "--tb=short")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.re_match_lines(
        [
            r"@pytest\.mark\.consul_agent\(acl=None, tokens=\{'x': ''\}\): tokens must be given "
            r"with acl='allow' or acl='deny' \(ACLs are off\), not \{'x': ''\} \(dict\)$"
        ]
    )


INVALID_OPTIONS = [
    ('acl="maybe"', "ValueError: acl must be None, 'allow' or 'deny', not 'maybe' (str)"),
    ('acl="Deny"', "ValueError: acl must be None, 'allow' or 'deny', not 'Deny' (str)"),
    ("acl=True", "TypeError: acl must be None, 'allow' or 'deny', not True (bool)"),
    (
        'management_token=""',
        "ValueError: management_token must be a non-empty str or None, not '' (str)",
    ),
    (
        "management_token=5",
        "TypeError: management_token must be a non-empty str or None, not 5 (int)",
    ),
    ("default_token=None", "TypeError: default_token must be a str, not None (NoneType)"),
    ('acl="deny", tokens={"t": 5}', "TypeError: tokens['t'] must be a str, not 5 (int)"),
    (
        'acl="deny", tokens={"": ""}',
        "ValueError: tokens keys must be a non-empty str, not '' (str)",
    ),
    (
        'tokens=["deployer"]',
        "TypeError: tokens must be a dict of str to str, not ['deployer'] (list)",
    ),
    (
        """acl="deny", tokens={"t": 'event "deploy" { policy = "list" }'}""",
        "ValueError: tokens['t'] must be ACL rules in HCL or JSON, not 'event \"deploy\" "
        """{ policy = "list" }' (str): Invalid event policy: &acl.EventRule{Event:"deploy", """
        'Policy:"list"}',
    ),
    (
        """acl="deny", tokens={"t": 'event "x" { policy = ["write"] }'}""",
        "ValueError: tokens['t'] must be ACL rules in HCL or JSON, not 'event \"x\" "
        """{ policy = ["write"] }' (str): Failed to parse ACL rules: At 1:22: """
        "root.event[0].Policy: unknown type for string *ast.ListType",
    ),
]


def test_invalid_acl_options_are_errors_with_clear_messages(pytester: pytest.Pytester) -> None:
    tests = [
        f"@pytest.mark.consul_agent({options})\n"
        f"def test_invalid_{number}(consul_agent):\n"
        "    pass\n"
        for number, (options, _) in enumerate(INVALID_OPTIONS)
    ]
    tests.append(
        "def test_zz_next_test_gets_a_working_agent(consul_agent):\n"
        "    assert consul_agent.acl.enabled is False\n"
        '    assert consul_agent.fire("deploy", token="deny").name == "deploy"\n'
    )
    pytester.makepyfile("import pytest\n\n\n" + "\n\n".join(tests))
    result = run(pytester, "--tb=short")
    result.assert_outcomes(passed=1, errors=len(INVALID_OPTIONS))
    expected: list[str] = []  # in order: each test's header, then its error line
    for number, (_, message) in enumerate(INVALID_OPTIONS):
        expected.append(rf"_+ ERROR at setup of test_invalid_{number} _+$")
        expected.append(
            rf"@pytest\.mark\.consul_agent\(.*\): {re.escape(message.split(': ', 1)[1])}$"
        )
    result.stdout.re_match_lines(expected)


def test_management_token_clashing_with_a_token_secret_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consul_agent(acl="deny", management_token="root", tokens={"root": ""})
        def test_clash(consul_agent):
            pass
        """
    )
    result = run(pytester, "--tb=short")
    result.assert_outcomes(errors=1)
    result.stdout.re_match_lines(
        [
            r"@pytest\.mark\.consul_agent\(acl='deny', management_token='root', "
            r"tokens=\{'root': ''\}\): tokens keys must be secrets other than 'anonymous' \(the "
            r"anonymous token's\) and management_token, not 'root' \(str\)$"
        ]
    )


def test_marker_help_mentions_the_acl_options(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--markers")
    [line] = [line for line in result.stdout.lines if line.startswith("@pytest.mark.consul_agent")]
    for option in ("acl", "management_token", "default_token", "tokens"):
        assert re.search(rf"\b{option}\b", line), line
