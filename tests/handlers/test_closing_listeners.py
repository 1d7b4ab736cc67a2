"""Closing's listeners (handlers/closing/listeners.py) called directly: Resolved, Not resolved, Reopen and
the short review."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot import texts
from bot.core.textutil import quote, safe
from handlers.closing import ids, listeners
from handlers.closing.views import resolve_modal, review_modal, unresolved_modal
from storage.errors import DatabaseError
from storage.models import Reminder
from tests.handlers.kit import AGENT, COLLEAGUE, EXPERT, NASTY, PRIVATE, PRODUCT, World, assert_escaped, content, shows

RESOLVE = {"fix": "refunded the second charge", "prevention": "turn on billing alerts", "feedback": "yes"}
UNRESOLVED = {"explanation": "the data could not be recovered", "apologised": "yes"}
REVIEW = {"cause": "ux", "improve": "clearer invoices", "ux": "the cancel button is hidden"}


def resolve(world: World, case_id: int, *, user: str = AGENT, **answers: str | None):  # type: ignore[no-untyped-def]
    return world.call(listeners.resolved, world.submission(resolve_modal(case_id), {**RESOLVE, **answers}, user=user))


def review(world: World, case_id: int, *, user: str = AGENT, **answers: str | None):  # type: ignore[no-untyped-def]
    return world.call(listeners.review, world.submission(review_modal(case_id), {**REVIEW, **answers}, user=user))


def reminders(world: World, case_id: int, kind: str) -> list[str]:
    with world.db.session() as session:
        rows = session.execute(select(Reminder).where(Reminder.c.case_id == case_id, Reminder.c.kind == kind)).all()
        return [r.status for r in rows]


def still_open(world: World, case_id: int, sent_before: int) -> None:
    case = world.case(case_id)
    assert case.status == "open" and case.closed_at is None and case.resolution is None
    assert world.slack.sent[sent_before:] == []


# --- the buttons ------------------------------------------------------------------------------
@pytest.mark.parametrize("listener, view", [(listeners.open_resolve, ids.RESOLVE_VIEW),
                                            (listeners.open_unresolved, ids.UNRESOLVED_VIEW)])
def test_close_buttons_open_their_forms_for_the_owner(world: World, listener, view) -> None:
    case_id = world.open_case()
    world.call(listener, world.action(ids.RESOLVE_ACTION, str(case_id))).ack.assert_plain()
    ((_, opened),) = world.slack.views
    assert opened["callback_id"] == view and json.loads(opened["private_metadata"]) == {"case": case_id}


@pytest.mark.parametrize("listener", [listeners.open_resolve, listeners.open_unresolved])
def test_close_buttons_refuse_someone_not_the_owner(world: World, listener) -> None:
    case_id = world.open_case()
    call = world.call(listener, world.action(ids.RESOLVE_ACTION, str(case_id), user=COLLEAGUE))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["close"])]
    assert world.slack.views == []


def test_close_button_on_a_closed_case_is_refused(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    call = world.call(listeners.open_resolve, world.action(ids.RESOLVE_ACTION, str(case_id)))
    assert call.respond.texts == [texts.CASE_CLOSED_ALREADY.format(number=case_id, status=texts.STATUS_LABELS["resolved"])]


def test_close_button_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.open_unresolved, world.action(ids.UNRESOLVED_ACTION, "999"))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]


# --- resolved ---------------------------------------------------------------------------------
def test_resolved_closes_the_case_says_so_escaped_and_asks_for_a_review(world: World) -> None:
    case_id = world.open_case()
    world.clock.advance(hours=2)
    resolve(world, case_id, fix=NASTY).ack.assert_plain()
    case = world.case(case_id)
    assert (case.status, case.closed_by, case.closed_at) == ("resolved", AGENT, world.clock())
    assert case.resolution == {"outcome": "resolved", "fix": NASTY, "prevention": RESOLVE["prevention"],
                               "feedback_asked": True}
    closing_line, prompt = world.thread(case_id)[-2:]
    assert closing_line.startswith(f"🟢 <@{AGENT}> closed the case as resolved after 2 h")
    assert_escaped(closing_line)
    assert prompt == texts.REVIEW_PROMPT.format(owner=f"<@{AGENT}>")
    assert reminders(world, case_id, "follow_up") == ["pending"] * len(world.config.follow_up_schedule)
    message = [s for s in world.updates() if s.ts == case.message_ts][-1]
    assert ids.REOPEN_ACTION in content(message) and ids.RESOLVE_ACTION not in content(message)


@pytest.mark.parametrize("answers, errors", [
    ({"fix": ""}, {"fix": texts.ERR_REQUIRED}),
    ({"fix": "f" * 2001}, {"fix": texts.ERR_TOO_LONG.format(limit=2000)}),
    ({"prevention": "p" * 2001}, {"prevention": texts.ERR_TOO_LONG.format(limit=2000)}),
    ({"feedback": None}, {"feedback": texts.ERR_REQUIRED}),
    ({"feedback": "perhaps"}, {"feedback": texts.ERR_REQUIRED}),
])
def test_resolved_with_a_bad_answer_leaves_the_case_open(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    assert resolve(world, case_id, **answers).ack.errors == errors
    still_open(world, case_id, before)


def test_resolved_by_someone_not_the_owner_is_told_by_dm(world: World) -> None:
    case_id = world.open_case()
    resolve(world, case_id, user=COLLEAGUE).ack.assert_plain()
    assert world.dms(COLLEAGUE) == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["close"])]
    assert world.case(case_id).status == "open"


def test_resolved_twice_closes_once(world: World) -> None:
    case_id = world.open_case()
    resolve(world, case_id).ack.assert_plain()
    before = len(world.slack.sent)
    resolve(world, case_id, fix="something else").ack.assert_plain()
    assert world.case(case_id).resolution["fix"] == RESOLVE["fix"]
    assert len(world.events(case_id, "resolved")) == 1 and world.slack.sent[before:] == []


def test_resolved_the_database_drops_gives_the_words_back(world: World, monkeypatch) -> None:
    case_id = world.open_case()

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise DatabaseError("the database went away")

    monkeypatch.setattr(world.cases, "close", down)
    resolve(world, case_id, fix=NASTY).ack.assert_plain()
    (dm,) = world.dms(AGENT)
    assert dm == texts.NOT_SAVED.format(what="closing the case", echo=quote(safe(f"{NASTY}\n{RESOLVE['prevention']}")))
    assert_escaped(dm)


# --- not resolved -----------------------------------------------------------------------------
def test_not_resolved_closes_the_case_with_the_explanation_escaped(world: World) -> None:
    case_id = world.open_case()
    body = world.submission(unresolved_modal(case_id), {**UNRESOLVED, "explanation": NASTY})
    world.call(listeners.unresolved, body).ack.assert_plain()
    case = world.case(case_id)
    assert case.status == "unresolved" and case.resolution == {"outcome": "unresolved", "explanation": NASTY,
                                                               "apologised": True}
    line = world.thread(case_id)[-2]
    assert line.startswith(f"🔴 <@{AGENT}> closed the case as not resolved")
    assert_escaped(line)


@pytest.mark.parametrize("answers, errors", [
    ({"explanation": ""}, {"explanation": texts.ERR_REQUIRED}),
    ({"explanation": "e" * 2501}, {"explanation": texts.ERR_TOO_LONG.format(limit=2500)}),
    ({"apologised": None}, {"apologised": texts.ERR_REQUIRED}),
])
def test_not_resolved_with_a_bad_answer_leaves_the_case_open(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.unresolved, world.submission(unresolved_modal(case_id), {**UNRESOLVED, **answers}))
    assert call.ack.errors == errors
    still_open(world, case_id, before)


# --- reopen -----------------------------------------------------------------------------------
def test_reopen_opens_the_case_again_and_cancels_its_follow_ups(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    call = world.call(listeners.reopen, world.action(ids.REOPEN_ACTION, str(case_id), user=COLLEAGUE))
    call.ack.assert_plain()
    case = world.case(case_id)
    assert case.status == "open" and case.closed_at is None
    assert world.thread(case_id)[-1] == texts.REOPENED_THREAD.format(user=f"<@{COLLEAGUE}>")
    assert set(reminders(world, case_id, "follow_up")) == {"cancelled"}
    assert call.respond.calls == []


def test_reopen_of_an_open_case_changes_nothing(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.reopen, world.action(ids.REOPEN_ACTION, str(case_id)))
    call.ack.assert_plain()
    assert world.events(case_id, "reopened") == [] and call.sent == [] and call.respond.calls == []


def test_reopen_of_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.reopen, world.action(ids.REOPEN_ACTION, "999"))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]


# --- the review -------------------------------------------------------------------------------
def test_review_button_opens_the_form_once_the_case_is_closed(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    world.call(listeners.open_review, world.action(ids.REVIEW_ACTION, str(case_id))).ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.REVIEW_VIEW


def test_review_form_from_a_private_channel_says_where_a_ux_issue_goes(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(PRODUCT_FEEDBACK_CHANNEL=PRODUCT)
    case_id = world.open_case(channel=PRIVATE)
    world.close_case(case_id)
    world.call(listeners.open_review, world.action(ids.REVIEW_ACTION, str(case_id))).ack.assert_plain()
    ((_, view),) = world.slack.views
    (notice,) = [b for b in view["blocks"] if b.get("block_id") == "where_notice"]
    assert notice["text"]["text"] == texts.REVIEW_WHERE_PRIVATE.format(channel=PRODUCT)


def test_review_button_on_an_open_case_is_refused(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_review, world.action(ids.REVIEW_ACTION, str(case_id)))
    assert call.respond.texts == [texts.CASE_NOT_CLOSED.format(number=case_id)] and world.slack.views == []


def test_review_button_refuses_someone_who_neither_owned_nor_closed_it(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    call = world.call(listeners.open_review, world.action(ids.REVIEW_ACTION, str(case_id), user=EXPERT))
    assert call.respond.texts == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["review"])]


def test_review_is_saved_and_its_ux_issue_forwarded_escaped(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(PRODUCT_FEEDBACK_CHANNEL=PRODUCT)
    case_id = world.open_case()
    world.close_case(case_id)
    review(world, case_id, ux=NASTY).ack.assert_plain()
    assert world.case(case_id).review_cause == "ux"
    (forwarded,) = world.slack.posts(PRODUCT)
    assert f"(#{case_id}, cause: {texts.CAUSES['ux']})" in forwarded.message.text
    assert_escaped(forwarded.message.text)
    line = world.thread(case_id)[-1]
    assert line.startswith(f"📋 Review by <@{AGENT}>: cause *{texts.CAUSES['ux']}*.")
    assert line.endswith(texts.REVIEW_FORWARDED.format(channel=PRODUCT))
    assert_escaped(line)


@pytest.mark.parametrize("answers, errors", [
    ({"cause": None}, {"cause": texts.ERR_REQUIRED}),
    ({"cause": "mercury_retrograde"}, {"cause": texts.ERR_REQUIRED}),
    ({"improve": "i" * 2001}, {"improve": texts.ERR_TOO_LONG.format(limit=2000)}),
    ({"ux": "u" * 2001}, {"ux": texts.ERR_TOO_LONG.format(limit=2000)}),
])
def test_review_with_a_bad_answer_saves_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    before = len(world.slack.sent)
    assert review(world, case_id, **answers).ack.errors == errors
    assert world.case(case_id).review_cause is None and world.slack.sent[before:] == []


def test_review_of_an_open_case_is_told_by_dm(world: World) -> None:
    case_id = world.open_case()
    review(world, case_id).ack.assert_plain()
    assert world.dms(AGENT) == [texts.CASE_NOT_CLOSED.format(number=case_id)]
    assert world.events(case_id, "reviewed") == []


def test_review_whose_ux_issue_slack_refuses_is_saved_and_told(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world(PRODUCT_FEEDBACK_CHANNEL=PRODUCT)
    case_id = world.open_case()
    world.close_case(case_id)
    world.slack.fail("post", "not_in_channel")
    review(world, case_id).ack.assert_plain()
    assert world.case(case_id).review_cause == "ux"
    assert world.dms(AGENT) == [texts.FEEDBACK_FORWARD_FAILED.format(channel=PRODUCT, error="not_in_channel")]
    assert texts.REVIEW_FORWARDED.format(channel=PRODUCT) not in world.thread(case_id)[-1]


def test_a_close_form_slack_will_not_open_is_told(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.open_resolve, world.action(ids.RESOLVE_ACTION, str(case_id)))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.GENERIC_FAILURE]


def test_closing_withdraws_a_pending_second_contact_request(world: World) -> None:
    from handlers.handoff import listeners as handoff
    from handlers.handoff.views import handoff_modal

    case_id = world.open_case()
    body = world.submission(handoff_modal(case_id, checked={COLLEAGUE: "ok"}), {"colleague": COLLEAGUE})
    world.call(handoff.submitted, body).ack.assert_plain()
    resolve(world, case_id).ack.assert_plain()
    (request,) = world.events(case_id, "handoff_requested")
    assert world.services.handoffs.get(request["data"]["handoff"]).status == "cancelled"
    (withdrawn,) = world.updates(f"D{COLLEAGUE}")
    assert withdrawn.message.text == texts.HANDOFF_CANCELLED.format(number=case_id)


# --- the customer's mood at closing: the outcome of the case ----------------------------------------
def test_closing_records_the_mood_now_and_shows_the_change_on_the_case(world: World) -> None:
    case_id = world.open_case(mood="furious")
    resolve(world, case_id, mood="calm").ack.assert_plain()
    case = world.case(case_id)
    assert case.resolution["mood"] == "calm" and case.mood_after == "calm"
    closing_line = world.thread(case_id)[-2]
    assert closing_line.endswith(texts.MOOD_CHANGE_LINE.format(before=texts.MOODS["furious"], after=texts.MOODS["calm"]))
    message = [s for s in world.updates() if s.ts == case.message_ts][-1]
    change = texts.CASE_FIELD_MOOD_CHANGE.format(before=texts.MOODS["furious"], after=texts.MOODS["calm"])
    assert shows(message, change)


def test_closing_without_a_mood_keeps_the_mood_at_intake(world: World) -> None:
    case_id = world.open_case(mood="angry")
    world.call(listeners.unresolved, world.submission(unresolved_modal(case_id), UNRESOLVED)).ack.assert_plain()
    case = world.case(case_id)
    assert "mood" not in case.resolution and case.mood_after is None
    assert "Mood:" not in world.thread(case_id)[-2]
    message = [s for s in world.updates() if s.ts == case.message_ts][-1]
    assert shows(message, texts.CASE_FIELD_MOOD.format(mood=texts.MOODS["angry"]))


def test_a_mood_that_is_not_one_of_the_choices_keeps_the_form_open(world: World) -> None:
    case_id = world.open_case(mood="angry")
    sent_before = len(world.slack.sent)
    call = resolve(world, case_id, mood="ecstatic")
    assert call.ack.errors == {"mood": texts.ERR_REQUIRED}
    still_open(world, case_id, sent_before)
