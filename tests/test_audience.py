"""Who can read a conversation (bot.delivery.audience) and where a case may go (bot.delivery.routing).

The Web API is the local stand-in; the cache runs on a hand-moved clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from slack_sdk import WebClient

from bot.core.notify import Notify
from bot.delivery.audience import (
    EXTERNAL,
    PRIVATE,
    PUBLIC,
    Audiences,
    AudienceUnknown,
    TTLCache,
    classify_channel,
    is_outsider,
)
from bot.delivery.routing import Channels, Destination, HomeTeam, Refusal, Router
from handlers.slack.surface import SlackSurface
from tests.slack_standin import SlackStandIn

HOME = "T0001"


class MonotonicClock:
    """time.monotonic() for the audience cache: seconds, not a date."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    server = SlackStandIn(team_id=HOME).start()
    server.add_user("UAGENT", "alex")
    server.add_user("UCOLLEAGUE", "sam")
    server.add_user("UOUTSIDER", "wile", team_id="TACME")
    server.add_channel("CSUPPORT", "support")
    server.add_channel("GPRIVATE", "vip", is_private=True)
    server.add_channel("GHIDDEN", "hidden", is_private=True, bot_member=False)
    server.add_channel("CSHARED", "acme-support", shared_with=["TACME"])
    server.add_channel("GSHARED", "acme-private", is_private=True, shared_with=["TACME"])
    server.add_channel("CORG", "grid-wide", org_shared=True)
    server.add_channel("CPENDING", "acme-soon", pending_shared=True)
    server.add_channel("CCASES", "support-cases")
    server.add_mpim("GMPIMOUT", ["UAGENT", "UCOLLEAGUE", "UOUTSIDER"])
    server.add_mpim("GMPIMIN", ["UAGENT", "UCOLLEAGUE"])
    server.add_mpim("GMPIMQUIET", ["UAGENT", "UOUTSIDER"], flag_shared=False)  # no is_ext_shared: members decide
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> MonotonicClock:
    return MonotonicClock()


@pytest.fixture
def audiences(slack: SlackStandIn, clock: MonotonicClock) -> Audiences:
    client = WebClient(token="xoxb-test", base_url=slack.url)
    return Audiences(SlackSurface(client), lambda: HOME, ttl=60, size=100, clock=clock)


# --- the rules --------------------------------------------------------------------------------
@pytest.mark.parametrize("info, kind", [
    ({"is_ext_shared": True, "is_shared": True}, EXTERNAL),
    ({"is_pending_ext_shared": True}, EXTERNAL),
    ({"is_shared": True}, EXTERNAL),  # shared with a workspace outside our org, whatever the other flags say
    ({"is_shared": True, "is_org_shared": True}, PUBLIC),  # across our own Enterprise org
    ({"is_private": True}, PRIVATE),
    ({"is_group": True}, PRIVATE),
    ({"is_private": True, "is_ext_shared": True}, EXTERNAL),
    ({}, PUBLIC),
])
def test_channel_flags_decide_the_audience(info, kind):
    assert classify_channel(info)[0] == kind


@pytest.mark.parametrize("info", [{"is_im": True}, {"is_mpim": True, "is_private": True}])
def test_direct_messages_are_decided_by_their_members(info):
    assert classify_channel(info) is None


@pytest.mark.parametrize("user, outsider", [
    ({"is_stranger": True, "team_id": HOME}, True),
    ({"team_id": "TACME"}, True),
    ({"team_id": HOME}, False),
    ({}, False),
])
def test_outsiders_are_strangers_or_from_another_team(user, outsider):
    assert is_outsider(user, HOME) is outsider


def test_without_a_home_team_only_is_stranger_counts():
    assert is_outsider({"team_id": "TACME"}, None) is False
    assert is_outsider({"team_id": "TACME", "is_stranger": True}, None) is True


# --- against the stand-in ---------------------------------------------------------------------
@pytest.mark.parametrize("channel, kind", [
    ("CSUPPORT", PUBLIC), ("GPRIVATE", PRIVATE), ("CSHARED", EXTERNAL), ("GSHARED", EXTERNAL),
    ("CORG", PUBLIC), ("CPENDING", EXTERNAL), ("GMPIMOUT", EXTERNAL), ("GMPIMIN", PRIVATE),
    ("GMPIMQUIET", EXTERNAL),
])
def test_audience_of_each_kind_of_conversation(audiences: Audiences, channel, kind):
    assert audiences.of(channel).kind == kind


def test_group_dm_with_an_outsider_asks_members_and_people(audiences: Audiences, slack: SlackStandIn):
    audience = audiences.of("GMPIMQUIET")
    assert audience.external and "UOUTSIDER" in audience.why
    assert slack.calls_to("conversations.members")
    assert "UOUTSIDER" in [c.args.get("user") for c in slack.calls_to("users.info")]


def test_dm_with_the_bot_uses_the_other_person(audiences: Audiences, slack: SlackStandIn):
    WebClient(token="xoxb-test", base_url=slack.url).chat_postMessage(channel="UOUTSIDER", text="hi")
    assert audiences.of("DUOUTSIDER").external
    WebClient(token="xoxb-test", base_url=slack.url).chat_postMessage(channel="UAGENT", text="hi")
    assert audiences.of("DUAGENT").kind == PRIVATE


def test_answers_are_cached_briefly(audiences: Audiences, slack: SlackStandIn, clock: MonotonicClock):
    audiences.of("CSUPPORT")
    audiences.of("CSUPPORT")
    assert len(slack.calls_to("conversations.info")) == 1
    clock.now += 61
    audiences.of("CSUPPORT")
    assert len(slack.calls_to("conversations.info")) == 2


def test_a_channel_shared_later_is_noticed_after_the_cache_expires(audiences: Audiences, slack: SlackStandIn, clock: MonotonicClock):
    assert audiences.of("CSUPPORT").kind == PUBLIC
    slack.add_channel("CSUPPORT", "support", shared_with=["TACME"])
    clock.now += 61
    assert audiences.of("CSUPPORT").external


@pytest.mark.parametrize("error, not_visible", [("channel_not_found", True), ("missing_scope", False),
                                                ("internal_error", False)])
def test_failures_raise_and_are_not_cached(audiences: Audiences, slack: SlackStandIn, error, not_visible):
    slack.fail_next("conversations.info", error)
    with pytest.raises(AudienceUnknown) as raised:
        audiences.of("CSUPPORT")
    assert raised.value.error == error and raised.value.not_visible is not_visible
    assert audiences.of("CSUPPORT").kind == PUBLIC  # asked again, not remembered


def test_unknown_and_hidden_channels_are_not_found(audiences: Audiences):
    for channel in ("CNOSUCH", "GHIDDEN", "DUNOBODY"):
        with pytest.raises(AudienceUnknown) as raised:
            audiences.of(channel)
        assert raised.value.not_visible


def test_a_member_lookup_failure_is_unknown_not_internal(audiences: Audiences, slack: SlackStandIn):
    slack.fail_next("users.info", "user_not_found")
    with pytest.raises(AudienceUnknown):
        audiences.of("GMPIMQUIET")


def test_cache_is_bounded_and_expires():
    clock = MonotonicClock()
    cache: TTLCache[int] = TTLCache(ttl=10, size=3, clock=clock)
    for n in range(5):
        cache.put(f"k{n}", n)
    assert [cache.get(f"k{n}") for n in range(5)] == [None, None, 2, 3, 4]
    clock.now += 11
    assert cache.get("k4") is None


# --- the routing decision ------------------------------------------------------------------------
@pytest.fixture
def router_for(slack: SlackStandIn) -> Callable[..., Router]:
    """Factory: the routing decision as app.py wires it, with these configured channels."""

    def make(**channels: str) -> Router:
        surface = SlackSurface(WebClient(token="xoxb-test", base_url=slack.url))
        return Router(Channels(**channels), Audiences(surface, HomeTeam(surface)), Notify(surface))

    return make


def test_internal_conversations_keep_their_cases(router_for):
    router = router_for(cases="CCASES")
    assert router.destination_for("CSUPPORT") == Destination("CSUPPORT", PUBLIC)
    assert router.destination_for("GPRIVATE") == Destination("GPRIVATE", PRIVATE)
    assert router.destination_for("GMPIMIN") == Destination("GMPIMIN", PRIVATE)


@pytest.mark.parametrize("source", ["CSHARED", "GSHARED", "CPENDING", "GMPIMOUT"])
def test_customer_readable_conversations_go_to_cases_channel(router_for, source):
    router = router_for(cases="CCASES")
    assert router.destination_for(source) == Destination("CCASES", PUBLIC, moved=True)


def test_without_cases_channel_a_shared_conversation_is_refused_and_withdrawn(router_for):
    route = router_for().destination_for("CSHARED")
    assert isinstance(route, Refusal) and route.reason == "no_cases_channel" and route.withdraw


def test_an_unchecked_conversation_is_never_a_destination(router_for, slack: SlackStandIn):
    router = router_for(cases="CCASES")
    slack.fail_next("conversations.info", "missing_scope")
    route = router.destination_for("CSHARED")
    assert isinstance(route, Refusal) and route.reason == "audience_unknown" and not route.withdraw
    route = router.destination_for("GHIDDEN")
    assert isinstance(route, Refusal) and route.reason == "not_visible"


def test_a_cases_channel_that_is_itself_shared_is_refused(router_for):
    router = router_for(cases="CSHARED")
    route = router.destination_for("GSHARED")
    assert isinstance(route, Refusal) and route.reason == "cases_channel_shared"


def test_a_private_cases_channel_makes_its_cases_private(router_for):
    router = router_for(cases="GPRIVATE")
    assert router.destination_for("CSHARED") == Destination("GPRIVATE", PRIVATE, moved=True)


def test_the_intake_form_hint_follows_the_same_decision(router_for):
    with_channel = router_for(cases="CCASES")
    choice, notice = with_channel.intake_choice("CSHARED")
    assert choice == "CCASES" and "<#CCASES>" in notice
    assert with_channel.intake_choice("CSUPPORT") == ("CSUPPORT", None)
    choice, notice = router_for().intake_choice("CSHARED")
    assert choice is None and "CASES_CHANNEL" in notice


def test_a_burst_in_one_channel_asks_slack_once(audiences: Audiences, slack: SlackStandIn):
    import threading

    slack.set_delay("conversations.info", 0.3)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(audiences.of("CSHARED").kind)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert results == [EXTERNAL] * 8
    assert len(slack.calls_to("conversations.info")) == 1


def test_people_from_outside_are_told_apart(audiences: Audiences, slack: SlackStandIn):
    assert audiences.is_outsider("UOUTSIDER") is True
    assert audiences.is_outsider("UAGENT") is False
    with pytest.raises(AudienceUnknown) as raised:
        audiences.is_outsider("UNOBODY")
    assert raised.value.error == "user_not_found"
