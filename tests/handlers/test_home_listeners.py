"""The App Home listener (handlers/home/listeners.py) called directly: app_home_opened publishes the tab."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot import texts
from bot.core.ports import SlackFailure
from bot.home import data as home_data
from handlers.home import listeners
from tests.handlers.kit import AGENT, COLLEAGUE, NASTY, TEAM, World, assert_escaped


@pytest.fixture(autouse=True)
def fresh_team_numbers() -> Iterator[None]:
    """The team numbers are cached per database for a minute; each test starts without them."""
    home_data.forget_cached()
    yield
    home_data.forget_cached()


def opened(user: str | None = AGENT, tab: str | None = "home") -> dict:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": tab}
    return {"type": "event_callback", "team_id": TEAM, "event": event}


def published(world: World, user: str = AGENT) -> str:
    (view,) = [view for key, view in world.slack.views if key == f"home:{user}"]
    assert view["type"] == "home"
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_opening_the_tab_publishes_the_agents_open_cases(world: World) -> None:
    mine = world.open_case(customer="Acme Corp")
    theirs = world.open_case(owner=COLLEAGUE, customer="Globex")
    call = world.call(listeners.home_opened, opened())
    assert call.ack.calls == []  # Bolt acks events itself
    shown = published(world)
    assert f"*#{mine}* Acme Corp · 0/6 steps" in shown
    assert f"#{theirs}*" not in shown and "Globex" not in shown


def test_the_tab_echoes_a_customer_name_escaped(world: World) -> None:
    world.open_case(customer=NASTY)
    world.call(listeners.home_opened, opened())
    assert_escaped(published(world))


def test_an_agent_without_cases_sees_so(world: World) -> None:
    world.call(listeners.home_opened, opened())
    shown = published(world)
    assert texts.HOME_NO_CASES in shown and texts.HOME_NO_FOLLOW_UPS in shown


def test_a_closed_case_leaves_the_list_and_its_follow_ups_appear(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    world.call(listeners.home_opened, opened())
    shown = published(world)
    assert texts.HOME_NO_CASES in shown
    assert f"Case #{case_id} Acme Corp: {texts.HOME_FOLLOW_UP_STATES['pending']}" in shown


@pytest.mark.parametrize("event", [opened(tab="messages"), opened(user=None)])
def test_other_tabs_and_userless_events_publish_nothing(world: World, event: dict) -> None:
    world.call(listeners.home_opened, event)
    assert world.slack.views == [] and world.worker.jobs == 0


def test_a_tab_slack_refuses_to_publish_is_logged_not_raised(world: World, monkeypatch, caplog) -> None:
    def refuse(user: str, view: dict) -> None:
        raise SlackFailure("not_enabled", method="views.publish")

    monkeypatch.setattr(world.slack, "publish_home", refuse)
    world.call(listeners.home_opened, opened())
    assert world.worker.jobs == 1 and world.slack.views == []
    assert "not_enabled" in caplog.text


# --- what works: the team's insights, the viewer's own, per agent for leads only ----------------------
def close_with_mood(world: World, owner: str, before: str, after: str) -> int:
    case_id = world.open_case(owner=owner, mood=before)
    assert world.services.closing.close(case_id, user=owner, outcome="resolved", details={"fix": "f", "mood": after})
    return case_id


def test_the_tab_shows_the_mood_change_for_30_and_90_days_and_the_viewers_own(world: World) -> None:
    close_with_mood(world, AGENT, "furious", "calm")
    close_with_mood(world, COLLEAGUE, "angry", "furious")
    world.call(listeners.home_opened, opened())
    shown = published(world)
    for days in (30, 90):
        assert json.dumps(texts.HOME_INSIGHTS_WINDOW.format(days=days))[1:-1] in shown
    assert texts.HOME_INSIGHTS_MOOD.format(calmer=1, same=0, worse=1) in shown
    assert texts.HOME_INSIGHTS_MINE.format(closed=1, rate="100 %",
                                           mood=texts.HOME_INSIGHTS_MINE_MOOD.format(calmer=1, measured=1)) in shown
    assert texts.HOME_AGENTS not in shown  # not a lead: no figures per person


def test_a_lead_also_sees_each_agents_figures(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(LEADS=AGENT)
    close_with_mood(world, AGENT, "furious", "calm")
    close_with_mood(world, COLLEAGUE, "angry", "furious")
    world.call(listeners.home_opened, opened())
    shown = published(world)
    assert texts.HOME_AGENTS in shown
    mood = texts.HOME_INSIGHTS_MINE_MOOD.format(calmer=0, measured=1)
    assert texts.HOME_AGENT_LINE.format(user=f"<@{COLLEAGUE}>", closed=1, rate="100 %", mood=mood) in shown
    world.call(listeners.home_opened, opened(COLLEAGUE))
    assert texts.HOME_AGENTS not in published(world, COLLEAGUE)  # the colleague is not a lead
