"""The case file's listeners (handlers/casefile/listeners.py) called directly: editing the case, logging an
attempt, adding a note."""

from __future__ import annotations

import pytest

from bot import texts
from bot.core.textutil import quote, safe
from handlers.casefile import ids, listeners
from handlers.casefile.views import attempt_modal, edit_modal, note_modal
from storage.errors import DatabaseError
from tests.handlers.kit import AGENT, COLLEAGUE, NASTY, World, assert_escaped, content

EDIT = {"customer": "Acme Corporation", "summary": "charged twice, now refunded", "mood": "furious",
        "link": "https://tickets.example.com/7"}
ATTEMPT = {"what": "refunded the charge", "result": "they calmed down", "outcome": "helped"}


def case_message_updates(world: World, case_id: int) -> list:
    ts = world.case(case_id).message_ts
    return [s for s in world.updates() if s.ts == ts]


# --- editing ----------------------------------------------------------------------------------
def test_edit_button_opens_the_form_filled_in(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_edit, world.action(ids.EDIT_ACTION, str(case_id)))
    call.ack.assert_plain()
    ((trigger, view),) = world.slack.views
    assert trigger == call.body["trigger_id"] and view["callback_id"] == ids.EDIT_VIEW
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert initial["customer"] == "Acme Corp"


def test_edit_button_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.open_edit, world.action(ids.EDIT_ACTION, "999"))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.CASE_NOT_FOUND] and world.slack.views == []


def test_edit_form_slack_will_not_open_is_told(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.open_edit, world.action(ids.EDIT_ACTION, str(case_id)))
    assert call.respond.texts == [texts.GENERIC_FAILURE]


def test_edit_saves_the_changes_and_updates_the_case_message(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.edit, world.submission(edit_modal(world.case(case_id)), EDIT))
    call.ack.assert_plain()
    case = world.case(case_id)
    assert (case.customer, case.summary, case.mood, case.link) == tuple(EDIT.values())
    (edited,) = world.events(case_id, "case_edited")
    assert edited["actor"] == AGENT and edited["data"]["customer"] == {"from": "Acme Corp", "to": "Acme Corporation"}
    assert "Acme Corporation" in content(case_message_updates(world, case_id)[-1])


def test_edit_echoes_the_new_text_escaped(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.edit, world.submission(edit_modal(world.case(case_id)), {**EDIT, "summary": NASTY}))
    assert world.case(case_id).summary == NASTY
    assert_escaped(content(case_message_updates(world, case_id)[-1]))


@pytest.mark.parametrize("answers, errors", [
    ({"customer": ""}, {"customer": texts.ERR_REQUIRED}),
    ({"summary": ""}, {"summary": texts.ERR_REQUIRED}),
    ({"customer": "c" * 151}, {"customer": texts.ERR_TOO_LONG.format(limit=150)}),
    ({"summary": "s" * 3001}, {"summary": texts.ERR_TOO_LONG.format(limit=3000)}),
    ({"link": "not a link"}, {"link": texts.ERR_NOT_URL}),
    ({"link": "https://" + "l" * 1000}, {"link": texts.ERR_TOO_LONG.format(limit=1000)}),
])
def test_edit_with_a_bad_answer_changes_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.edit, world.submission(edit_modal(world.case(case_id)), {**EDIT, **answers}))
    assert call.ack.errors == errors
    assert world.case(case_id).customer == "Acme Corp" and world.events(case_id, "case_edited") == []
    assert world.slack.sent[before:] == [] and world.worker.jobs == 0


def test_edit_of_a_case_that_is_gone_is_told_by_dm(world: World) -> None:
    case_id = world.open_case()
    modal = edit_modal(world.case(case_id))
    body = world.submission(modal, EDIT)
    body["view"]["private_metadata"] = '{"case":999}'
    world.call(listeners.edit, body).ack.assert_plain()
    assert world.dms(AGENT) == [texts.CASE_NOT_FOUND]
    assert world.case(case_id).customer == "Acme Corp"


# --- attempts ---------------------------------------------------------------------------------
def test_attempt_button_opens_the_form(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_attempt, world.action(ids.ATTEMPT_ACTION, str(case_id), user=COLLEAGUE))
    call.ack.assert_plain()  # anyone may log an attempt
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.ATTEMPT_VIEW and f'"case":{case_id}' in view["private_metadata"]


def test_attempt_button_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.open_attempt, world.action(ids.ATTEMPT_ACTION, "999"))
    assert call.respond.texts == [texts.CASE_NOT_FOUND] and world.slack.views == []


def test_attempt_is_logged_and_said_in_the_thread_escaped(world: World) -> None:
    case_id = world.open_case()
    body = world.submission(attempt_modal(case_id), {**ATTEMPT, "what": NASTY}, user=COLLEAGUE)
    world.call(listeners.attempt, body).ack.assert_plain()
    (attempt,) = world.case(case_id).attempts
    assert (attempt.author, attempt.text, attempt.result, attempt.outcome) == (COLLEAGUE, NASTY, "they calmed down", "helped")
    line = world.thread(case_id)[-1]
    assert line.startswith("📝 *Attempt* by <@UCOLLEAGUE>") and texts.ATTEMPT_OUTCOMES["helped"] in line
    assert_escaped(line)


@pytest.mark.parametrize("answers, errors", [
    ({"what": ""}, {"what": texts.ERR_REQUIRED}),
    ({"result": None}, {"result": texts.ERR_REQUIRED}),
    ({"outcome": None}, {"outcome": texts.ERR_REQUIRED}),
    ({"outcome": "sort_of"}, {"outcome": texts.ERR_REQUIRED}),
    ({"what": "w" * 2001}, {"what": texts.ERR_TOO_LONG.format(limit=2000)}),
    ({"what": "", "result": "", "outcome": None},
     {"what": texts.ERR_REQUIRED, "result": texts.ERR_REQUIRED, "outcome": texts.ERR_REQUIRED}),
])
def test_attempt_with_a_bad_answer_logs_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.attempt, world.submission(attempt_modal(case_id), {**ATTEMPT, **answers}))
    assert call.ack.errors == errors
    assert world.events(case_id, "attempt") == [] and world.slack.sent[before:] == []


def test_attempt_on_a_case_that_is_gone_is_told_by_dm(world: World) -> None:
    world.call(listeners.attempt, world.submission(attempt_modal(999), ATTEMPT)).ack.assert_plain()
    assert world.dms(AGENT) == [texts.CASE_NOT_FOUND]


def test_attempt_the_database_drops_gives_the_words_back_escaped(world: World, monkeypatch) -> None:
    case_id = world.open_case()

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise DatabaseError("the database went away")

    monkeypatch.setattr(world.cases, "log_attempt", down)
    body = world.submission(attempt_modal(case_id), {**ATTEMPT, "what": NASTY})
    world.call(listeners.attempt, body).ack.assert_plain()
    (dm,) = world.dms(AGENT)
    assert dm == texts.NOT_SAVED.format(what="logging the attempt", echo=quote(safe(f"{NASTY}\nthey calmed down")))
    assert_escaped(dm)


# --- notes ------------------------------------------------------------------------------------
def test_note_button_opens_the_form(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.open_note, world.action(ids.NOTE_ACTION, str(case_id))).ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.NOTE_VIEW


def test_note_is_added_and_said_in_the_thread_escaped(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.note, world.submission(note_modal(case_id), {"text": NASTY})).ack.assert_plain()
    (note,) = world.case(case_id).notes
    assert (note.author, note.text) == (AGENT, NASTY)
    line = world.thread(case_id)[-1]
    assert line.startswith("🗒️ *Note* by <@UAGENT>")
    assert_escaped(line)


def test_note_on_a_closed_case_is_still_added(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    world.call(listeners.note, world.submission(note_modal(case_id), {"text": "they wrote back"})).ack.assert_plain()
    assert [n.text for n in world.case(case_id).notes] == ["they wrote back"]


@pytest.mark.parametrize("text, error", [("", texts.ERR_REQUIRED), ("  ", texts.ERR_REQUIRED),
                                         ("n" * 2901, texts.ERR_TOO_LONG.format(limit=2900))])
def test_note_with_a_bad_answer_adds_nothing(world: World, text, error) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.note, world.submission(note_modal(case_id), {"text": text}))
    assert call.ack.errors == {"text": error}
    assert world.events(case_id, "note") == [] and world.slack.sent[before:] == []


def test_note_whose_thread_post_slack_refuses_is_still_saved(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("post", "channel_not_found")
    world.call(listeners.note, world.submission(note_modal(case_id), {"text": "kept"})).ack.assert_plain()
    assert [n.text for n in world.case(case_id).notes] == ["kept"]
