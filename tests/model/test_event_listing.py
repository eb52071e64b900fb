"""``list_events()`` answers an ``EventListing``: unpackable, and readable by name."""

from __future__ import annotations

from pytest_consul_events.fake import FakeConsulAgent
from pytest_consul_events.model.agent import Agent, EventListing
from pytest_consul_events.model.event import id_to_index


def test_a_listing_unpacks_into_events_index_and_filtered() -> None:
    agent = Agent(seed=7)
    fired = agent.fire("deploy", b"v2")
    events, index, filtered = agent.list_events()
    assert [(e.id, e.name, e.payload) for e in events] == [(fired.id, "deploy", b"v2")]
    assert index == id_to_index(fired.id)
    assert filtered is False


def test_a_listing_keeps_its_attributes() -> None:
    agent = Agent(seed=7)
    agent.fire("deploy")
    listing = agent.list_events("deploy")
    assert (listing.events, listing.index, listing.filtered_by_acls) == tuple(listing)
    assert listing == EventListing(listing.events, listing.index, False)
    assert EventListing([], 1) == ([], 1, False)  # filtered_by_acls defaults to False


def test_an_empty_list_unpacks_with_index_one() -> None:
    events, index, filtered = Agent().list_events()
    assert (events, index, filtered) == ([], 1, False)


def test_acl_filtering_shows_in_the_third_field() -> None:
    reader = {"reader": 'event "a" { policy = "read" }'}
    agent = Agent(acl="deny", management_token="root", tokens=reader)
    agent.fire("a", token="root")
    agent.fire("b", token="root")
    events, _, filtered = agent.list_events(token="reader")
    assert ([e.name for e in events], filtered) == (["a"], True)


def test_the_fake_agent_answers_the_same_way() -> None:
    with FakeConsulAgent(seed=3) as agent:
        agent.fire("deploy")
        events, index, filtered = agent.list_events()
        assert ([e.name for e in events], filtered) == (["deploy"], False)
        assert index == id_to_index(events[-1].id)
