"""The checklist's listeners (handlers/checklist/listeners.py) called directly: ticking a step, the guide,
and the apology, action and plan forms a tick asks for."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

from bot import texts
from handlers.checklist import ids, listeners
from handlers.checklist.views import action_modal, apology_modal, plan_modal
from handlers.intake.ids import RETRY_POST_ACTION
from tests.handlers.kit import AGENT, NASTY, World, assert_escaped, content


def checklist_updates(world: World, case_id: int) -> list:
    ts = world.case(case_id).checklist_ts
    return [s for s in world.updates() if s.ts == ts]


def nothing_recorded(world: World, case_id: int, sent_before: int) -> None:
    case = world.case(case_id)
    assert not any(s.done for s in case.steps)
    assert [e["kind"] for e in world.events(case_id)] == ["case_opened"]
    assert world.slack.sent[sent_before:] == []


# --- ticking a step ---------------------------------------------------------------------------
def test_tick_marks_the_step_done_and_updates_the_checklist(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done"))
    call.ack.assert_plain()
    step = world.case(case_id).step(1)
    assert step.done and step.done_by == AGENT and step.done_at == world.clock()
    assert [e["data"] for e in world.events(case_id, "step_done")] == [{"step": 1}]
    (update,) = checklist_updates(world, case_id)
    assert update.message.text == texts.CHECKLIST_FALLBACK.format(number=case_id, done=1, total=6)
    assert f"<@{AGENT}>" in content(update)
    assert call.respond.calls == []


class TrackedLoopback:
    """handlers.slack.posting.PostingProcess without the process: a job is pickled, unpickled and run on a
    second wiring of the app; with `dies`, the process ends before it reports the job finished."""

    def __init__(self, other: World, dies: bool = False) -> None:
        self.other, self.dies, self.frames = other, dies, 0

    def send_tracked(self, fn: Callable[..., Any], args: tuple[Any, ...], instead: Callable[[], None]) -> bool:
        fn, args = pickle.loads(pickle.dumps((fn, args)))
        self.frames += 1
        fn(self.other.services, *args)
        if self.dies:
            instead()  # what the supervisor does with an unfinished job once the process has ended
        return True


def test_a_tick_is_handed_to_the_posting_process_and_shown_from_there(world: World, other: World) -> None:
    case_id = world.open_case()
    loop = TrackedLoopback(other)
    world.services.posting.process = loop  # type: ignore[assignment]
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done"))
    call.ack.assert_plain()
    assert loop.frames == 1 and world.worker.jobs == 0  # nothing of it ran here
    assert world.case(case_id).step(1).done
    assert [s for s in other.updates() if s.ts == world.case(case_id).checklist_ts]
    assert checklist_updates(world, case_id) == []


def test_a_tick_the_posting_process_may_not_have_finished_runs_here_again_and_changes_nothing_more(
        world: World, other: World) -> None:
    case_id = world.open_case()
    world.services.posting.process = TrackedLoopback(other, dies=True)  # type: ignore[assignment]
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done")).ack.assert_plain()
    assert world.worker.jobs == 1  # run again here
    assert len(world.events(case_id, "step_done")) == 1  # the second run found it done
    assert world.case(case_id).step(1).done_by == AGENT


def test_undo_unticks_the_step(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done"))
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:undo")).ack.assert_plain()
    assert not world.case(case_id).step(1).done
    assert checklist_updates(world, case_id)[-1].message.text.endswith("0/6 steps done")


def test_a_repeated_tick_changes_nothing_more(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done"))
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done", user="UCOLLEAGUE"))
    call.ack.assert_plain()
    assert world.case(case_id).step(1).done_by == AGENT
    assert len(world.events(case_id, "step_done")) == 1 and call.sent == []


def test_a_step_that_asks_something_opens_its_form_instead_of_ticking(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:4:done:apology"))
    call.ack.assert_plain()
    ((trigger, view),) = world.slack.views
    assert trigger == call.body["trigger_id"] and view["callback_id"] == ids.APOLOGY_VIEW
    assert '"step":4' in view["private_metadata"]
    assert not world.case(case_id).step(4).done and world.worker.jobs == 0


def test_a_button_that_says_its_step_asks_nothing_ticks_without_reading_the_case(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = world.open_case()
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(world.services.checklist, "asks_of", lambda case, number: asked.append((case, number)))
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:2:done:-")).ack.assert_plain()
    assert world.case(case_id).step(2).done and asked == []
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:3:done")).ack.assert_plain()
    assert asked == [(case_id, 3)]  # an old button: what the tick asks is read first


def test_an_old_button_without_what_it_asks_still_opens_the_form(world: World) -> None:
    case_id = world.open_case()
    world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:6:done")).ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.PLAN_VIEW
    assert not world.case(case_id).step(6).done


@pytest.mark.parametrize("value", ["", "1", "1:2", "a:1:done", "1:1:maybe", "1:1:undo:apology", "1:4:done:bribe",
                                   "1:1:undo:-", "1:1:done:-:-"])
def test_a_malformed_button_value_is_told_not_raised(world: World, value: str) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, value))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.GENERIC_FAILURE]
    nothing_recorded(world, case_id, before)


@pytest.mark.parametrize("value", ["999:1:done", "999:1:done:-", "999:1:undo"])
def test_ticking_a_step_of_an_unknown_case_is_told(world: World, value: str) -> None:
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, value))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.CASE_NOT_FOUND]
    assert world.slack.sent == []


def test_a_step_the_case_does_not_have_is_a_generic_failure(world: World) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:9:done:-"))
    assert call.respond.texts == [texts.GENERIC_FAILURE]
    nothing_recorded(world, case_id, before)


def test_slack_refusing_the_update_keeps_the_tick_and_offers_post_it_again(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("update", "message_not_found")
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:1:done"))
    call.ack.assert_plain()
    assert world.case(case_id).step(1).done  # saved either way
    (answer,) = call.respond.calls
    assert answer["text"] == texts.UPDATE_FAILED.format(number=case_id, error="message_not_found")
    assert answer["response_type"] == "ephemeral" and RETRY_POST_ACTION in str(answer["blocks"])


def test_a_step_form_slack_will_not_open_is_told(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.step_set, world.action(ids.STEP_ACTION, f"{case_id}:5:done:action"))
    assert call.respond.texts == [texts.GENERIC_FAILURE]


# --- the guide --------------------------------------------------------------------------------
def test_guide_opens_with_every_step_of_the_case_playbook(world: World) -> None:
    case_id = world.open_case()
    call = world.call(listeners.open_guide, world.action(ids.GUIDE_ACTION, str(case_id)))
    call.ack.assert_plain()
    ((_, view),) = world.slack.views
    assert view["callback_id"] == ids.GUIDE_VIEW
    shown = str(view["blocks"])
    assert all(title in shown for title in world.case(case_id).playbook.titles)


def test_guide_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.open_guide, world.action(ids.GUIDE_ACTION, "999"))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.CASE_NOT_FOUND] and world.slack.views == []


# --- the forms --------------------------------------------------------------------------------
def test_apology_form_ticks_its_step_with_the_answer_and_echoes_the_note_escaped(world: World) -> None:
    case_id = world.open_case()
    body = world.submission(apology_modal(case_id, 4), {"apology": "accepted", "note": NASTY})
    call = world.call(listeners.apology, body)
    call.ack.assert_plain()
    step = world.case(case_id).step(4)
    assert step.done and step.details == {"apology": "accepted", "note": NASTY}
    shown = content(checklist_updates(world, case_id)[-1])
    assert texts.STEP_DONE_DETAIL_APOLOGY.format(answer=texts.APOLOGY_ANSWERS["accepted"]) in shown
    assert_escaped(shown)


@pytest.mark.parametrize("answers, errors", [
    ({}, {"apology": texts.ERR_REQUIRED}),
    ({"apology": "maybe"}, {"apology": texts.ERR_REQUIRED}),  # a value the form never offered
    ({"apology": "accepted", "note": "x" * 2001}, {"note": texts.ERR_TOO_LONG.format(limit=2000)}),
])
def test_apology_form_with_a_bad_answer_records_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.apology, world.submission(apology_modal(case_id, 4), answers))
    assert call.ack.errors == errors
    nothing_recorded(world, case_id, before)


def test_action_form_ticks_its_step(world: World) -> None:
    case_id = world.open_case()
    answers = {"action": "refunded the second charge", "offer": "a month free"}
    world.call(listeners.action, world.submission(action_modal(case_id, 5), answers)).ack.assert_plain()
    assert world.case(case_id).step(5).details == answers
    assert texts.STEP_DONE_DETAIL_OFFER.format(offer="a month free") in content(checklist_updates(world, case_id)[-1])


@pytest.mark.parametrize("answers, errors", [
    ({"offer": "a month free"}, {"action": texts.ERR_REQUIRED}),
    ({"action": " \n "}, {"action": texts.ERR_REQUIRED}),
    ({"action": "x" * 2001}, {"action": texts.ERR_TOO_LONG.format(limit=2000)}),
    ({"action": "refund", "offer": "y" * 2001}, {"offer": texts.ERR_TOO_LONG.format(limit=2000)}),
])
def test_action_form_with_a_bad_answer_records_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    call = world.call(listeners.action, world.submission(action_modal(case_id, 5), answers))
    assert call.ack.errors == errors
    nothing_recorded(world, case_id, before)


def test_plan_form_ticks_its_step_with_the_first_date(world: World) -> None:
    case_id = world.open_case()
    body = world.submission(plan_modal(case_id, world.config.follow_up_schedule, step=6),
                            {"plan": "call them on Monday", "first_date": "2026-06-10"})
    world.call(listeners.plan, body).ack.assert_plain()
    assert world.case(case_id).step(6).details == {"plan": "call them on Monday", "first_date": "2026-06-10"}


@pytest.mark.parametrize("answers, errors", [
    ({"first_date": "2026-06-10"}, {"plan": texts.ERR_REQUIRED}),
    ({"plan": "call them", "first_date": "2026-06-02"}, {"first_date": texts.ERR_DATE_PAST}),
    ({"plan": "call them", "first_date": "2026-12-31"}, {"first_date": texts.ERR_DATE_FAR}),
    ({"plan": "call them", "first_date": "next week"}, {"first_date": texts.ERR_REQUIRED}),
    ({"first_date": "2026-06-02"}, {"plan": texts.ERR_REQUIRED, "first_date": texts.ERR_DATE_PAST}),
])
def test_plan_form_with_a_bad_answer_records_nothing(world: World, answers, errors) -> None:
    case_id = world.open_case()
    before = len(world.slack.sent)
    body = world.submission(plan_modal(case_id, world.config.follow_up_schedule, step=6), answers)
    assert world.call(listeners.plan, body).ack.errors == errors
    nothing_recorded(world, case_id, before)


def test_a_form_for_a_case_that_is_gone_is_told_by_dm(world: World) -> None:
    call = world.call(listeners.action, world.submission(action_modal(999, 5), {"action": "refund"}))
    call.ack.assert_plain()
    assert world.dms(AGENT) == [texts.CASE_NOT_FOUND]


def test_a_form_whose_update_slack_refuses_dms_post_it_again(world: World) -> None:
    case_id = world.open_case()
    world.slack.fail("update", "msg_too_long")
    world.call(listeners.action, world.submission(action_modal(case_id, 5), {"action": "refund"})).ack.assert_plain()
    assert world.case(case_id).step(5).done
    (dm,) = world.slack.posts(f"D{AGENT}")
    assert dm.message.text == texts.UPDATE_FAILED.format(number=case_id, error="msg_too_long")
    assert RETRY_POST_ACTION in content(dm)
