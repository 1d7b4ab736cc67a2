"""Escalation's listeners (handlers/escalation/listeners.py) called directly: the Escalate button and form
with its timeframe, and the experts' Post update and Mark fixed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot import texts
from bot.core.textutil import quote, safe
from handlers.escalation import ids, listeners
from handlers.escalation.views import escalate_modal, escalation_update_modal
from storage import repositories as repo
from tests.handlers.kit import (
    AGENT,
    CHANNEL,
    COLLEAGUE,
    ESCALATE,
    EXPERT,
    NASTY,
    PRIVATE,
    WEST,
    World,
    assert_escaped,
    content,
)

REQUEST = {"need": "check the billing run for duplicates", "timeframe": "4 hours", "severity": "high"}


def escalate(world: World, case_id: int, *, user: str = AGENT, **answers: str | None):  # type: ignore[no-untyped-def]
    body = world.submission(escalate_modal(case_id), {**REQUEST, **answers}, user=user)
    return world.call(listeners.escalate, body)


def experts_post(world: World, channel: str) -> object:
    (post,) = [s for s in world.slack.posts(channel) if s.message and s.message.text.startswith("Escalation for case")]
    return post


# --- the button -------------------------------------------------------------------------------
def test_escalate_button_opens_the_form_for_the_owner(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.open_escalate, world.action(ids.ESCALATE_ACTION, str(case_id))).ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.ESCALATE_VIEW
    assert not any(b.get("block_id") == "where_notice" for b in view["blocks"])


def test_escalate_form_from_a_private_channel_says_where_it_will_be_posted(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(ESCALATION_CHANNEL=ESCALATE)
    case_id = world.open_case(channel=PRIVATE)
    world.call(listeners.open_escalate, world.action(ids.ESCALATE_ACTION, str(case_id))).ack.assert_plain()
    ((_, view),) = world.slack.views
    (notice,) = [b for b in view["blocks"] if b.get("block_id") == "where_notice"]
    assert notice["text"]["text"] == texts.ESCALATE_WHERE_PRIVATE.format(channel=ESCALATE)


def test_escalate_button_refuses_someone_not_the_owner(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_escalate, world.action(ids.ESCALATE_ACTION, str(case_id), user=COLLEAGUE))
    assert call.respond.texts == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["escalate"])]
    assert world.slack.views == []


def test_escalate_button_refuses_a_closed_case(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    call = world.call(listeners.open_escalate, world.action(ids.ESCALATE_ACTION, str(case_id)))
    assert call.respond.texts == [texts.CASE_CLOSED_ALREADY.format(number=case_id, status=texts.STATUS_LABELS["resolved"])]


# --- the form ---------------------------------------------------------------------------------
def test_escalation_is_saved_and_posted_in_the_case_thread_escaped(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id, need=NASTY).ack.assert_plain()
    case = world.case(case_id)
    assert case.status == "escalated"
    esc = case.escalation
    assert (esc["need"], esc["severity"], esc["by"]) == (NASTY, "high", AGENT)
    assert datetime.fromisoformat(esc["expected_by"]) == world.clock() + timedelta(hours=4)
    request = experts_post(world, CHANNEL)
    assert request.thread_ts == case.message_ts and (esc["channel"], esc["ts"]) == (CHANNEL, request.ts)
    assert_escaped(content(request))
    note = world.thread(case_id)[-1]
    assert note.startswith(f"🚨 <@{AGENT}> escalated this case to the experts (High)")
    assert_escaped(note)


def test_escalation_goes_to_the_escalation_channel_when_there_is_one(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(ESCALATION_CHANNEL=ESCALATE)
    case_id = world.open_case()
    escalate(world, case_id).ack.assert_plain()
    request = experts_post(world, ESCALATE)
    assert f"case #{case_id}" in request.message.text and ids.ESC_FIXED_ACTION in content(request)
    assert world.thread(case_id)[-1].endswith(texts.ESCALATED_ELSEWHERE.format(channel=ESCALATE))


@pytest.mark.parametrize("answers, errors", [
    ({"need": ""}, {"need": texts.ERR_REQUIRED}),
    ({"timeframe": ""}, {"timeframe": texts.ERR_REQUIRED}),
    ({"timeframe": "soon"}, {"timeframe": texts.ERR_TIMEFRAME}),
    ({"timeframe": "2020-01-01"}, {"timeframe": texts.ERR_TIMEFRAME_PAST}),
    ({"timeframe": "200 days"}, {"timeframe": texts.ERR_TIMEFRAME_FAR}),
    ({"timeframe": "t" * 41}, {"timeframe": texts.ERR_TOO_LONG.format(limit=40)}),
    ({"need": "n" * 2001}, {"need": texts.ERR_TOO_LONG.format(limit=2000)}),
    ({"severity": None}, {"severity": texts.ERR_REQUIRED}),
    ({"severity": "apocalyptic"}, {"severity": texts.ERR_REQUIRED}),
])
def test_escalation_with_a_bad_answer_sends_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    assert escalate(world, case_id, **answers).ack.errors == errors
    assert world.case(case_id).status == "open" and world.events(case_id, "escalated") == []
    assert world.slack.sent[before:] == [] and world.worker.jobs == 0


def test_a_timeframe_past_in_the_agents_own_zone_is_refused_after_the_ack(world: World) -> None:
    case_id = world.open_case(owner=EXPERT)
    with world.db.session() as session:  # known in the database, not yet in memory: judged leniently before the ack
        repo.upsert_agent(session, EXPERT, name="robin", tz="Europe/London", tz_fetched_at=world.clock())
    world.clock.now = datetime(2026, 6, 3, 22, 0, tzinfo=UTC)  # 23:00 in London: today's 17:00 has gone
    escalate(world, case_id, user=EXPERT, timeframe="today").ack.assert_plain()
    (dm,) = world.dms(EXPERT)
    assert dm == texts.ESCALATION_NOT_SENT.format(number=case_id, problem=texts.ERR_TIMEFRAME_PAST,
                                                  echo=quote(safe(f"{REQUEST['need']}\ntoday")))
    assert world.case(case_id).status == "open"


def test_someone_not_the_owner_submitting_is_told_by_dm(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id, user=COLLEAGUE).ack.assert_plain()
    assert world.dms(COLLEAGUE) == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["escalate"])]
    assert world.case(case_id).status == "open"


def test_escalating_twice_is_told(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id).ack.assert_plain()
    escalate(world, case_id, need="again").ack.assert_plain()
    assert world.dms(AGENT) == [texts.ALREADY_ESCALATED.format(number=case_id)]
    assert world.case(case_id).escalation["need"] == REQUEST["need"]


# --- the experts' buttons ---------------------------------------------------------------------
def test_update_button_opens_the_form(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id)
    world.call(listeners.open_update, world.action(ids.ESC_UPDATE_ACTION, str(case_id), user=EXPERT)).ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.ESC_UPDATE_VIEW and json.loads(view["private_metadata"]) == {"case": case_id}


def test_update_button_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.open_update, world.action(ids.ESC_UPDATE_ACTION, "999", user=EXPERT))
    assert call.respond.texts == [texts.CASE_NOT_FOUND] and world.slack.views == []


def test_an_experts_update_reaches_the_thread_and_the_owner_escaped(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id)
    body = world.submission(escalation_update_modal(case_id), {"text": NASTY}, user=EXPERT)
    world.call(listeners.update, body).ack.assert_plain()
    assert world.events(case_id, "escalation_update")[0]["data"] == {"text": NASTY}
    note = world.thread(case_id)[-1]
    assert note.startswith(f"🔧 Update from <@{EXPERT}>")
    assert_escaped(note)
    (dm,) = world.dms(AGENT)
    assert dm.startswith(f"🔧 <@{EXPERT}> posted an update on the escalation of case #{case_id}")
    assert_escaped(dm)


@pytest.mark.parametrize("text, error", [("", texts.ERR_REQUIRED), ("u" * 2501, texts.ERR_TOO_LONG.format(limit=2500))])
def test_an_update_with_a_bad_answer_says_nothing(world: World, text, error) -> None:
    case_id = world.open_case()
    escalate(world, case_id)
    before = len(world.slack.sent)
    call = world.call(listeners.update, world.submission(escalation_update_modal(case_id), {"text": text}, user=EXPERT))
    assert call.ack.errors == {"text": error}
    assert world.events(case_id, "escalation_update") == [] and world.slack.sent[before:] == []


def test_an_update_on_a_case_that_was_never_escalated_is_refused(world: World) -> None:
    case_id = world.open_case()
    body = world.submission(escalation_update_modal(case_id), {"text": "fixed it"}, user=EXPERT)
    world.call(listeners.update, body).ack.assert_plain()
    assert world.dms(EXPERT) == [texts.CASE_NOT_FOUND]
    assert world.events(case_id, "escalation_update") == []


def test_mark_fixed_reopens_the_case_and_tells_the_owner(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id)
    request = experts_post(world, CHANNEL)
    call = world.call(listeners.fixed, world.action(ids.ESC_FIXED_ACTION, str(case_id), user=EXPERT))
    call.ack.assert_plain()
    case = world.case(case_id)
    assert case.status == "open" and case.escalation["fixed_by"] == EXPERT
    (dm,) = world.dms(AGENT)
    assert dm == texts.ESC_FIXED_DM.format(user=f"<@{EXPERT}>", number=case_id, url=case.permalink)
    updated = [s for s in world.updates(CHANNEL) if s.ts == request.ts]
    assert updated and ids.ESC_FIXED_ACTION not in content(updated[-1])  # the buttons are gone
    assert call.respond.calls == []


def test_mark_fixed_twice_is_told_once(world: World) -> None:
    case_id = world.open_case()
    escalate(world, case_id)
    world.call(listeners.fixed, world.action(ids.ESC_FIXED_ACTION, str(case_id), user=EXPERT))
    call = world.call(listeners.fixed, world.action(ids.ESC_FIXED_ACTION, str(case_id), user=EXPERT))
    assert call.respond.texts == [texts.ESC_ALREADY_FIXED] and call.sent == []
    assert len(world.events(case_id, "escalation_fixed")) == 1


def test_mark_fixed_on_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.fixed, world.action(ids.ESC_FIXED_ACTION, "999", user=EXPERT))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]


# --- Slack refusing the experts' request ------------------------------------------------------
def test_a_refused_escalation_channel_falls_back_to_the_case_thread(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(ESCALATION_CHANNEL=ESCALATE)
    case_id = world.open_case()
    world.slack.fail("post", "not_in_channel")
    escalate(world, case_id).ack.assert_plain()
    request = experts_post(world, CHANNEL)
    assert request.thread_ts == world.case(case_id).message_ts
    assert world.dms(AGENT) == []  # nothing lost, nothing to tell


def test_both_places_refusing_the_request_is_told_to_the_owner(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(ESCALATION_CHANNEL=ESCALATE)
    case_id = world.open_case()
    world.slack.fail("post", "not_in_channel")
    world.slack.fail("post", "msg_blocks_too_long")
    escalate(world, case_id).ack.assert_plain()
    url = world.case(case_id).permalink
    assert world.dms(AGENT) == [texts.ESCALATION_NOT_POSTED.format(number=case_id, error="not_in_channel", url=url)]


def test_a_refused_thread_post_without_an_escalation_channel_is_told_to_the_owner(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("post", "msg_blocks_too_long")
    escalate(world, case_id).ack.assert_plain()
    assert world.case(case_id).status == "escalated"
    assert [s for s in world.slack.posts(CHANNEL) if s.message.text.startswith("Escalation for case")] == []
    url = world.case(case_id).permalink  # the owner hears the experts' request did not go out
    assert world.dms(AGENT) == [texts.ESCALATION_NOT_POSTED.format(number=case_id, error="msg_blocks_too_long", url=url)]


def test_a_timeframe_is_judged_in_the_zone_of_an_agent_never_looked_up_before(world: World) -> None:
    case_id = world.open_case(owner=WEST)
    world.clock.now = datetime(2026, 6, 3, 22, 0, tzinfo=UTC)  # 15:00 in Los Angeles: today's 17:00 is ahead
    escalate(world, case_id, user=WEST, timeframe="today").ack.assert_plain()
    assert world.dms(WEST) == []
    case = world.case(case_id)
    assert case.status == "escalated"
    assert datetime.fromisoformat(case.escalation["expected_by"]) == datetime(2026, 6, 4, 0, 0, tzinfo=UTC)


def test_an_escalate_form_slack_will_not_open_is_told(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.open_escalate, world.action(ids.ESCALATE_ACTION, str(case_id)))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.GENERIC_FAILURE]
