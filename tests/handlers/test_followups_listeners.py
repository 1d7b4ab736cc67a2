"""Follow-ups' listeners (handlers/followups/listeners.py) called directly: the buttons on follow-up and
breather DMs (delivered by the real reminder engine to the fake Slack) and the "followed up" form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Row, select

from bot import texts
from bot.core.reminders import ReminderEngine
from handlers.followups import ids, listeners
from handlers.followups.views import followed_up_modal
from storage.models import Agent, Reminder
from storage.sql import row_by_key
from tests.handlers.kit import AGENT, COLLEAGUE, NASTY, World, assert_escaped, content, shows


def rows(world: World, kind: str | None = None) -> list[Row[Any]]:
    with world.db.session() as session:
        stmt = select(Reminder).order_by(Reminder.c.id)
        if kind:
            stmt = stmt.where(Reminder.c.kind == kind)
        found = list(session.execute(stmt).all())
        return found


def status(world: World, reminder_id: int) -> str:
    return next(r.status for r in rows(world) if r.id == reminder_id)


def deliver(world: World, kind: str) -> Row[Any]:
    """Close a case, let its reminders fall due and the engine send them; the sent reminder of `kind`."""
    case_id = world.open_case()
    world.close_case(case_id)
    engine = ReminderEngine(world.db, world.sender.deliver, clock=world.clock, worker="test")
    if kind == "follow_up":
        world.clock.now = min(r.due_at for r in rows(world, "follow_up"))
    engine.tick(world.clock())
    (sent,) = [r for r in rows(world, kind) if r.status == "sent"]
    assert sent.dm_channel == f"D{AGENT}" and sent.dm_ts
    return sent


def dm_now(world: World, reminder: Reminder):  # type: ignore[no-untyped-def]
    """The DM as it reads after its last update."""
    return [s for s in world.updates(reminder.dm_channel) if s.ts == reminder.dm_ts][-1]


def answer_followed_up(world: World, reminder_id: int, user: str = AGENT, **answers: str | None):  # type: ignore[no-untyped-def]
    body = world.submission(followed_up_modal(reminder_id), {"outcome": "happy", "note": None, **answers}, user=user)
    return world.call(listeners.followed_up, body)


# --- followed up ------------------------------------------------------------------------------
def test_followed_up_button_opens_the_form(world: World) -> None:
    reminder = deliver(world, "follow_up")
    call = world.call(listeners.open_followed_up, world.action(ids.FOLLOWED_UP_ACTION, str(reminder.id)))
    call.ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.FOLLOWED_UP_VIEW and json.loads(view["private_metadata"]) == {"reminder": reminder.id}


def test_followed_up_form_slack_will_not_open_is_told(world: World) -> None:
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.open_followed_up, world.action(ids.FOLLOWED_UP_ACTION, "1"))
    assert call.respond.texts == [texts.GENERIC_FAILURE]


def test_followed_up_records_it_updates_the_dm_and_notes_it_escaped(world: World) -> None:
    reminder = deliver(world, "follow_up")
    answer_followed_up(world, reminder.id, note=NASTY).ack.assert_plain()
    assert status(world, reminder.id) == "done"
    (event,) = world.events(reminder.case_id, "follow_up")
    assert event["data"] == {"reminder": reminder.id, "outcome": "happy", "note": NASTY}
    dm = dm_now(world, reminder)
    assert dm.message.text.startswith(f"✅ Followed up by <@{AGENT}>") and dm.message.text.endswith(": Happy")
    assert ids.SKIP_ACTION not in content(dm)  # the buttons are gone
    line = world.thread(reminder.case_id)[-1]
    assert line.startswith(f"📞 <@{AGENT}> followed up with the customer: happy.")
    assert_escaped(line)


def test_a_still_unhappy_customer_reopens_the_case(world: World) -> None:
    reminder = deliver(world, "follow_up")
    answer_followed_up(world, reminder.id, outcome="unhappy").ack.assert_plain()
    assert world.case(reminder.case_id).status == "open"
    assert world.thread(reminder.case_id)[-1] == texts.REOPENED_THREAD.format(user=f"<@{AGENT}>")


@pytest.mark.parametrize("answers, errors", [
    ({"outcome": None}, {"outcome": texts.ERR_REQUIRED}),
    ({"outcome": "ecstatic"}, {"outcome": texts.ERR_REQUIRED}),
    ({"note": "n" * 2001}, {"note": texts.ERR_TOO_LONG.format(limit=2000)}),
])
def test_followed_up_with_a_bad_answer_records_nothing(world: World, answers, errors) -> None:
    reminder = deliver(world, "follow_up")
    before = len(world.slack.sent)
    assert answer_followed_up(world, reminder.id, **answers).ack.errors == errors
    assert status(world, reminder.id) == "sent" and world.slack.sent[before:] == []


def test_followed_up_by_someone_else_is_told_by_dm(world: World) -> None:
    reminder = deliver(world, "follow_up")
    answer_followed_up(world, reminder.id, user=COLLEAGUE).ack.assert_plain()
    assert world.dms(COLLEAGUE) == [texts.HANDOFF_NOT_YOURS.format(user=f"<@{AGENT}>")]
    assert status(world, reminder.id) == "sent"


def test_followed_up_for_an_unknown_reminder_is_told_by_dm(world: World) -> None:
    answer_followed_up(world, 999).ack.assert_plain()
    assert world.dms(AGENT) == [texts.CASE_NOT_FOUND]


def test_followed_up_twice_counts_once(world: World) -> None:
    reminder = deliver(world, "follow_up")
    answer_followed_up(world, reminder.id).ack.assert_plain()
    before = len(world.slack.sent)
    answer_followed_up(world, reminder.id, outcome="unhappy").ack.assert_plain()
    assert len(world.events(reminder.case_id, "follow_up")) == 1 and world.slack.sent[before:] == []
    assert world.case(reminder.case_id).status == "resolved"


# --- snooze and skip --------------------------------------------------------------------------
def test_snooze_moves_the_follow_up_and_says_until_when(world: World) -> None:
    reminder = deliver(world, "follow_up")
    body = world.action(ids.SNOOZE_ACTION, selected="tomorrow", block_id=f"reminder_{reminder.id}")
    call = world.call(listeners.snooze, body)
    call.ack.assert_plain()
    assert status(world, reminder.id) == "snoozed"
    (again,) = [r for r in rows(world, "follow_up") if r.payload.get("snoozed_from") == reminder.id]
    assert again.status == "pending" and again.due_at > world.clock()
    assert dm_now(world, reminder).message.text.startswith("💤 Snoozed until")
    assert call.respond.calls == []


def test_snooze_with_a_choice_the_menu_never_offered_changes_nothing(world: World) -> None:
    reminder = deliver(world, "follow_up")
    before = len(world.slack.sent)
    body = world.action(ids.SNOOZE_ACTION, selected="forever", block_id=f"reminder_{reminder.id}")
    world.call(listeners.snooze, body).ack.assert_plain()
    assert status(world, reminder.id) == "sent" and world.slack.sent[before:] == []


def test_skip_marks_it_skipped(world: World) -> None:
    reminder = deliver(world, "follow_up")
    world.call(listeners.skip, world.action(ids.SKIP_ACTION, str(reminder.id))).ack.assert_plain()
    assert status(world, reminder.id) == "skipped"
    assert dm_now(world, reminder).message.text == texts.SKIPPED.format(user=f"<@{AGENT}>")


def test_skip_by_someone_else_is_told(world: World) -> None:
    reminder = deliver(world, "follow_up")
    call = world.call(listeners.skip, world.action(ids.SKIP_ACTION, str(reminder.id), user=COLLEAGUE))
    assert call.respond.texts == [texts.HANDOFF_NOT_YOURS.format(user=f"<@{AGENT}>")]
    assert status(world, reminder.id) == "sent"


def test_skip_of_an_unknown_reminder_is_told(world: World) -> None:
    call = world.call(listeners.skip, world.action(ids.SKIP_ACTION, "999"))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]


def test_a_dm_slack_will_not_update_still_records_the_answer(world: World) -> None:
    reminder = deliver(world, "follow_up")
    world.slack.fail("update", "message_not_found")
    call = world.call(listeners.skip, world.action(ids.SKIP_ACTION, str(reminder.id)))
    call.ack.assert_plain()
    assert status(world, reminder.id) == "skipped" and call.respond.calls == []


# --- the breather -----------------------------------------------------------------------------
def test_breather_start_puts_the_agent_on_a_breather(world: World) -> None:
    reminder = deliver(world, "breather")
    world.call(listeners.breather_start, world.action(ids.BREATHER_START_ACTION, str(reminder.id))).ack.assert_plain()
    assert status(world, reminder.id) == "accepted"
    with world.db.session() as session:
        agent = row_by_key(session, Agent, AGENT)
        assert agent is not None and agent.breather_until is not None
    assert [r.status for r in rows(world, "breather_end")] == ["pending"]
    assert dm_now(world, reminder).message.text.startswith("🌿 Breather started: back at")


def test_breather_skip_declines_it(world: World) -> None:
    reminder = deliver(world, "breather")
    world.call(listeners.breather_skip, world.action(ids.BREATHER_SKIP_ACTION, str(reminder.id))).ack.assert_plain()
    assert status(world, reminder.id) == "declined"
    assert dm_now(world, reminder).message.text == texts.BREATHER_SKIPPED
    assert rows(world, "breather_end") == []


def test_breather_buttons_on_a_follow_up_are_refused(world: World) -> None:
    reminder = deliver(world, "follow_up")
    call = world.call(listeners.breather_start, world.action(ids.BREATHER_START_ACTION, str(reminder.id)))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]
    assert status(world, reminder.id) == "sent"


def test_breather_of_someone_else_is_refused(world: World) -> None:
    reminder = deliver(world, "breather")
    call = world.call(listeners.breather_skip, world.action(ids.BREATHER_SKIP_ACTION, str(reminder.id), user=COLLEAGUE))
    assert call.respond.texts == [texts.HANDOFF_NOT_YOURS.format(user=f"<@{AGENT}>")]
    assert status(world, reminder.id) == "sent"


def test_a_mood_given_at_a_follow_up_is_the_case_s_latest_outcome(world: World) -> None:
    reminder = deliver(world, "follow_up")
    answer_followed_up(world, reminder.id, mood="calm").ack.assert_plain()
    case = world.case(reminder.case_id)
    assert case.resolution["mood_later"] == "calm" and case.mood_after == "calm"
    (event,) = world.events(reminder.case_id, "follow_up")
    assert event["data"]["mood"] == "calm"
    assert texts.FOLLOWED_UP_MOOD_NOTE.format(mood=texts.MOODS["calm"]) in world.thread(reminder.case_id)[-1]
    message = [s for s in world.updates(case.channel_id) if s.ts == case.message_ts][-1]
    assert shows(message, texts.CASE_FIELD_MOOD_NOW.format(after=texts.MOODS["calm"]))


def test_a_mood_that_is_not_one_of_the_choices_is_refused_at_a_follow_up(world: World) -> None:
    reminder = deliver(world, "follow_up")
    call = answer_followed_up(world, reminder.id, mood="ecstatic")
    assert call.ack.errors == {"mood": texts.ERR_REQUIRED}
    assert status(world, reminder.id) == "sent"
