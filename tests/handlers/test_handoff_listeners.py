"""Second contact's listeners (handlers/handoff/listeners.py) called directly: the Hand off button and form,
the check as a colleague is picked, and the colleague's Accept and Decline."""

from __future__ import annotations

import json

import pytest

from bot import texts
from handlers.handoff import ids, listeners
from handlers.handoff.views import decline_modal, handoff_modal
from tests.handlers.kit import AGENT, BOTTY, COLLEAGUE, EXPERT, NASTY, STRANGER, World, assert_escaped, content


def ask(world: World, case_id: int, colleague: str | None = COLLEAGUE, note: str | None = None, *,
        user: str = AGENT, checked: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    checks = {colleague: "ok"} if checked is None and colleague else checked or {}
    modal = handoff_modal(case_id, checked=checks, selected=colleague)
    return world.call(listeners.submitted, world.submission(modal, {"colleague": colleague, "note": note}, user=user))


def handoff_id(world: World, case_id: int) -> int:
    return world.events(case_id, "handoff_requested")[-1]["data"]["handoff"]


def nothing_asked(world: World, case_id: int, sent_before: int) -> None:
    assert world.events(case_id, "handoff_requested") == []
    assert world.case(case_id).owner_id == AGENT
    assert world.slack.sent[sent_before:] == []


# --- the button -------------------------------------------------------------------------------
def test_handoff_button_opens_the_form_for_the_owner(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_handoff, world.action(ids.HANDOFF_ACTION, str(case_id)))
    call.ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.HANDOFF_VIEW and json.loads(view["private_metadata"])["case"] == case_id


def test_handoff_button_refuses_someone_not_the_owner(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_handoff, world.action(ids.HANDOFF_ACTION, str(case_id), user=COLLEAGUE))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["handoff"])]
    assert world.slack.views == []


def test_handoff_button_refuses_a_closed_case(world: World) -> None:
    case_id = world.open_case()
    world.close_case(case_id)
    call = world.call(listeners.open_handoff, world.action(ids.HANDOFF_ACTION, str(case_id)))
    status = texts.STATUS_LABELS["resolved"]
    assert call.respond.texts == [texts.CASE_CLOSED_ALREADY.format(number=case_id, status=status)]
    assert world.slack.views == []


def test_handoff_button_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.open_handoff, world.action(ids.HANDOFF_ACTION, "999"))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]


# --- picking a colleague ----------------------------------------------------------------------
def pick(world: World, case_id: int, picked: str) -> dict:
    view = {**handoff_modal(case_id), "id": "VHANDOFF", "hash": "h7"}
    body = world.action(ids.HANDOFF_PICK_ACTION, view=view)
    body["actions"][0].update(type="users_select", selected_user=picked)
    world.call(listeners.picked, body).ack.assert_plain()
    ((view_id, updated),) = world.slack.views
    assert view_id == "VHANDOFF"
    return updated


@pytest.mark.parametrize("picked, found, warning", [
    (COLLEAGUE, "ok", None),
    (BOTTY, "bot", texts.HANDOFF_BOT),
    (STRANGER, "outsider", texts.HANDOFF_OUTSIDER_PICKED),
    (AGENT, None, texts.HANDOFF_SELF),
])
def test_picking_checks_the_colleague_and_remembers_it_in_the_form(world: World, picked, found, warning) -> None:
    case_id = world.open_case()
    updated = pick(world, case_id, picked)
    checked = json.loads(updated["private_metadata"])["checked"]
    assert checked == ({picked: found} if found else {})
    warnings = [b for b in updated["blocks"] if b.get("block_id") == "pick_warning"]
    assert [w["elements"][0]["text"] for w in warnings] == ([warning] if warning else [])


# --- the form ---------------------------------------------------------------------------------
def test_handoff_asks_the_colleague_by_dm_with_the_note_escaped(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id, note=NASTY).ack.assert_plain()
    hid = handoff_id(world, case_id)
    assert world.services.handoffs.get(hid).status == "pending"
    (request,) = world.slack.posts(f"D{COLLEAGUE}")
    shown = content(request)
    assert f"case #{case_id}" in request.message.text and f'"value": "{hid}"' in shown
    assert_escaped(shown)
    assert world.dms(AGENT) == [texts.HANDOFF_SENT.format(colleague=f"<@{COLLEAGUE}>", number=case_id)]
    assert texts.HANDOFF_REQUESTED_THREAD.format(requester=f"<@{AGENT}>", colleague=f"<@{COLLEAGUE}>") in world.thread(case_id)


@pytest.mark.parametrize("colleague, checked, note, error", [
    (None, {}, None, {"colleague": texts.ERR_REQUIRED}),
    (AGENT, {AGENT: "ok"}, None, {"colleague": texts.HANDOFF_SELF}),
    (BOTTY, {BOTTY: "bot"}, None, {"colleague": texts.HANDOFF_BOT}),
    ("USLACKBOT", {}, None, {"colleague": texts.HANDOFF_BOT}),
    (EXPERT, {EXPERT: "deleted"}, None, {"colleague": texts.HANDOFF_DELETED}),
    (STRANGER, {STRANGER: "outsider"}, None, {"colleague": texts.HANDOFF_OUTSIDER_PICKED}),
    (COLLEAGUE, {COLLEAGUE: "ok"}, "n" * 2001, {"note": texts.ERR_TOO_LONG.format(limit=2000)}),
])
def test_handoff_form_with_a_bad_answer_asks_nobody(world: World, colleague, checked, note, error) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = ask(world, case_id, colleague, note, checked=checked)
    assert call.ack.errors == error
    nothing_asked(world, case_id, before)


def test_a_bot_not_checked_while_picking_is_refused_after_the_ack(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id, BOTTY, checked={}).ack.assert_plain()
    assert world.dms(AGENT) == [texts.HANDOFF_BOT]
    assert world.events(case_id, "handoff_requested") == [] and world.slack.posts(f"D{BOTTY}") == []


def test_an_outsider_never_gets_the_case(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id, STRANGER, checked={}).ack.assert_plain()
    assert world.dms(AGENT) == [texts.HANDOFF_OUTSIDER.format(user=f"<@{STRANGER}>")]
    assert world.slack.posts(f"D{STRANGER}") == [] and world.events(case_id, "handoff_requested") == []


def test_someone_not_the_owner_submitting_the_form_is_told(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id, EXPERT, user=COLLEAGUE).ack.assert_plain()
    assert world.dms(COLLEAGUE) == [texts.NOT_OWNER.format(owner=f"<@{AGENT}>", action=texts.ACTION_NAMES["handoff"])]
    assert world.slack.posts(f"D{EXPERT}") == []


def test_a_dm_slack_refuses_is_told_to_the_requester(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("post", "user_disabled")
    ask(world, case_id).ack.assert_plain()
    assert world.dms(AGENT) == [texts.HANDOFF_DM_FAILED.format(colleague=f"<@{COLLEAGUE}>", number=case_id,
                                                               error="user_disabled")]
    assert world.services.handoffs.get(handoff_id(world, case_id)).status == "failed"
    assert world.case(case_id).owner_id == AGENT


# --- accept and decline -----------------------------------------------------------------------
def test_accept_makes_the_colleague_the_owner(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    call = world.call(listeners.accept, world.action(ids.HANDOFF_ACCEPT_ACTION, str(hid), user=COLLEAGUE))
    call.ack.assert_plain()
    assert world.case(case_id).owner_id == COLLEAGUE
    assert world.services.handoffs.get(hid).status == "accepted"
    who = dict(colleague=f"<@{COLLEAGUE}>", requester=f"<@{AGENT}>", number=case_id)
    assert world.dms(AGENT)[-1] == texts.HANDOFF_ACCEPTED_TELL.format(**who)
    assert texts.HANDOFF_ACCEPTED_THREAD.format(**who) in world.thread(case_id)
    (closed_dm,) = [s for s in world.updates(f"D{COLLEAGUE}")]
    assert closed_dm.message.text.startswith(f"✅ You accepted case #{case_id}")
    assert call.respond.calls == []


def test_accept_by_someone_else_is_refused(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    call = world.call(listeners.accept, world.action(ids.HANDOFF_ACCEPT_ACTION, str(hid), user=EXPERT))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.HANDOFF_NOT_YOURS.format(user=f"<@{COLLEAGUE}>")]
    assert world.case(case_id).owner_id == AGENT and world.services.handoffs.get(hid).status == "pending"


def test_accept_of_an_unknown_request_is_told(world: World) -> None:
    call = world.call(listeners.accept, world.action(ids.HANDOFF_ACCEPT_ACTION, "999", user=COLLEAGUE))
    assert call.respond.texts == [texts.CASE_NOT_FOUND]


def test_accept_after_the_case_closed_changes_nothing(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    world.close_case(case_id)
    world.call(listeners.accept, world.action(ids.HANDOFF_ACCEPT_ACTION, str(hid), user=COLLEAGUE)).ack.assert_plain()
    assert world.case(case_id).owner_id == AGENT
    assert world.services.handoffs.get(hid).status == "cancelled"


def test_decline_button_opens_the_form_for_the_colleague_only(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    other = world.call(listeners.open_decline, world.action(ids.HANDOFF_DECLINE_ACTION, str(hid), user=EXPERT))
    assert other.respond.texts == [texts.HANDOFF_NOT_YOURS.format(user=f"<@{COLLEAGUE}>")]
    assert world.slack.views == []
    mine = world.call(listeners.open_decline, world.action(ids.HANDOFF_DECLINE_ACTION, str(hid), user=COLLEAGUE))
    mine.ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.DECLINE_VIEW and json.loads(view["private_metadata"]) == {"handoff": hid}


def test_decline_button_of_an_unknown_request_opens_nothing(world: World) -> None:
    call = world.call(listeners.open_decline, world.action(ids.HANDOFF_DECLINE_ACTION, "999", user=COLLEAGUE))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.HANDOFF_NOT_YOURS.format(user="someone")]
    assert world.slack.views == []


def test_decline_tells_the_requester_with_the_reason_escaped(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    body = world.submission(decline_modal(hid), {"reason": NASTY}, user=COLLEAGUE)
    world.call(listeners.declined, body).ack.assert_plain()
    assert world.services.handoffs.get(hid).status == "declined"
    told = world.dms(AGENT)[-1]
    assert told.startswith(f"<@{COLLEAGUE}> declined case #{case_id}")
    assert_escaped(told)
    assert world.case(case_id).owner_id == AGENT


def test_decline_with_a_reason_too_long_changes_nothing(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    before = len(world.slack.sent)
    call = world.call(listeners.declined, world.submission(decline_modal(hid), {"reason": "r" * 1001}, user=COLLEAGUE))
    assert call.ack.errors == {"reason": texts.ERR_TOO_LONG.format(limit=1000)}
    assert world.services.handoffs.get(hid).status == "pending" and world.slack.sent[before:] == []


def test_decline_by_someone_else_is_told_by_dm(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    hid = handoff_id(world, case_id)
    world.call(listeners.declined, world.submission(decline_modal(hid), {}, user=EXPERT)).ack.assert_plain()
    assert world.dms(EXPERT) == [texts.HANDOFF_NOT_YOURS.format(user=f"<@{COLLEAGUE}>")]
    assert world.services.handoffs.get(hid).status == "pending"


def test_a_form_slack_will_not_open_is_told(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.open_handoff, world.action(ids.HANDOFF_ACTION, str(case_id)))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.GENERIC_FAILURE]


def test_asking_someone_else_withdraws_the_first_request(world: World) -> None:
    case_id = world.open_case()
    ask(world, case_id)
    first = handoff_id(world, case_id)
    ask(world, case_id, EXPERT).ack.assert_plain()
    assert world.services.handoffs.get(first).status == "cancelled"
    (withdrawn,) = world.updates(f"D{COLLEAGUE}")
    assert withdrawn.message.text == texts.HANDOFF_CANCELLED.format(number=case_id)
    assert len(world.slack.posts(f"D{EXPERT}")) == 1
