"""Event filters: validation before a fire (section 3.4) and matching on receipt (section 6)."""

from __future__ import annotations

import pytest

from pytest_consul_events import messages
from pytest_consul_events.errors import ConsulError, InvalidFilterError
from pytest_consul_events.model.filters import NO_FILTERS, EventFilters, compile_filters
from pytest_consul_events.model.services import Service

# -- validation ------------------------------------------------------------------------------------


def _error(node: str = "", service: str = "", tag: str = "") -> str:
    with pytest.raises(InvalidFilterError) as info:
        compile_filters(node, service, tag)
    assert isinstance(info.value, ConsulError)
    assert str(info.value) == info.value.message
    return info.value.message


def test_no_filters_compile_to_no_filters() -> None:
    assert compile_filters() is NO_FILTERS
    assert compile_filters("", "", "") == EventFilters(None, None, None)


def test_tag_without_service_is_rejected() -> None:
    assert _error(tag="v1") == messages.TAG_WITHOUT_SERVICE
    assert _error(tag="v1") == "Cannot provide tag filter without service filter"


def test_tag_without_service_is_rejected_even_with_a_node_filter() -> None:
    assert _error(node="node1", tag="v1") == messages.TAG_WITHOUT_SERVICE


def test_invalid_node_regexp_gives_go_error_text() -> None:
    assert _error(node="(") == messages.INVALID_NODE_FILTER.format(
        error="error parsing regexp: missing closing ): `(`"
    )
    assert _error(node="(") == "Invalid node filter: error parsing regexp: missing closing ): `(`"


def test_invalid_service_regexp_gives_go_error_text() -> None:
    assert _error(service="[") == (
        "Invalid service filter: error parsing regexp: missing closing ]: `[`"
    )
    assert _error(service="[") == messages.INVALID_SERVICE_FILTER.format(
        error="error parsing regexp: missing closing ]: `[`"
    )


def test_invalid_tag_regexp_gives_go_error_text() -> None:
    assert _error(service="web", tag="*") == (
        "Invalid tag filter: error parsing regexp: missing argument to repetition operator: `*`"
    )
    assert _error(service="web", tag="*") == messages.INVALID_TAG_FILTER.format(
        error="error parsing regexp: missing argument to repetition operator: `*`"
    )


def test_lookahead_is_rejected_as_go_does() -> None:
    assert _error(node="(?=a)") == (
        "Invalid node filter: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"
    )


def test_backreference_is_rejected_as_go_does() -> None:
    assert _error(service=r"(a)\1") == (
        r"Invalid service filter: error parsing regexp: invalid escape sequence: `\1`"
    )


@pytest.mark.parametrize("pattern", [r"\pL+", "[[:alpha:]]+", r"web\z"])
def test_go_only_syntax_is_accepted(pattern: str) -> None:
    assert compile_filters(node=pattern).node is not None


def test_tag_without_service_is_checked_before_regexps() -> None:
    assert _error(node="(", tag="*") == messages.TAG_WITHOUT_SERVICE


def test_node_regexp_is_checked_before_service_regexp() -> None:
    assert _error(node="(", service="[", tag="*").startswith("Invalid node filter: ")


def test_service_regexp_is_checked_before_tag_regexp() -> None:
    assert _error(service="[", tag="*").startswith("Invalid service filter: ")


def test_compile_keeps_only_given_filters() -> None:
    filters = compile_filters(node="n")
    assert filters.node is not None
    assert (filters.service, filters.tag) == (None, None)


# -- matching --------------------------------------------------------------------------------------

WEB = Service(name="web", id="web-1", tags=("v1", "primary"))
DB = Service(name="db", tags=("v2",))


def test_no_filters_admit_every_agent() -> None:
    assert NO_FILTERS.admits("node1", [])


@pytest.mark.parametrize("node_name", ["web", "web-01", "myweb", "a-web-b"])
def test_node_filter_matches_unanchored(node_name: str) -> None:
    assert compile_filters(node="web").admits(node_name, [])


def test_node_filter_rejects_other_node() -> None:
    assert not compile_filters(node="web").admits("db-01", [])


def test_anchored_node_filter_matches_whole_name_only() -> None:
    filters = compile_filters(node="^web$")
    assert filters.admits("web", [])
    assert not filters.admits("web-01", [])


def test_node_filter_is_case_sensitive() -> None:
    assert not compile_filters(node="web").admits("WEB", [])


def test_service_filter_matches_service_id() -> None:
    assert compile_filters(service="web-1").admits("node1", [WEB])


def test_service_filter_does_not_match_service_name() -> None:
    # WEB's name is "web" but its ID is "web-1"; "^web$" only matches the name.
    assert not compile_filters(service="^web$").admits("node1", [WEB])


def test_service_filter_matches_unanchored() -> None:
    assert compile_filters(service="b-").admits("node1", [WEB])


def test_service_id_defaults_to_name_for_filtering() -> None:
    assert compile_filters(service="^db$").admits("node1", [DB])


def test_service_filter_with_no_services_never_matches() -> None:
    assert not compile_filters(service=".*").admits("node1", [])


def test_service_filter_matches_if_any_service_matches() -> None:
    assert compile_filters(service="^db$").admits("node1", [WEB, DB])


def test_tag_filter_matches_a_tag_of_a_matched_service() -> None:
    assert compile_filters(service="web", tag="^primary$").admits("node1", [WEB, DB])


def test_tag_filter_ignores_tags_of_unmatched_services() -> None:
    # "v2" is a tag of db, but only web matched the service filter.
    assert not compile_filters(service="web", tag="v2").admits("node1", [WEB, DB])


def test_tag_filter_matches_unanchored() -> None:
    assert compile_filters(service="web", tag="prim").admits("node1", [WEB])


def test_tag_filter_needs_a_tag_on_the_matched_service() -> None:
    untagged = Service(name="api")
    assert not compile_filters(service="api", tag=".*").admits("node1", [untagged])


def test_tag_filter_may_match_on_any_of_several_matched_services() -> None:
    other_web = Service(name="web", id="web-2", tags=("canary",))
    assert compile_filters(service="^web-", tag="canary").admits("node1", [WEB, other_web])


def test_node_and_service_filters_must_both_pass() -> None:
    filters = compile_filters(node="node1", service="web")
    assert filters.admits("node1", [WEB])
    assert not filters.admits("node2", [WEB])
    assert not filters.admits("node1", [DB])
