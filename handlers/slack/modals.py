"""Modals for the case file, second contact, escalation, closing and review."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DatePickerElement, InputBlock, PlainTextObject, UserSelectElement

from bot import texts
from bot.config import Offset
from handlers.slack import blockkit as b


def attempt_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.text_input("what", texts.ATTEMPT_WHAT, multiline=True, max_length=2000),
        b.text_input("result", texts.ATTEMPT_RESULT, multiline=True, max_length=2000),
        b.radio_input("outcome", texts.ATTEMPT_OUTCOME, texts.ATTEMPT_OUTCOMES),
    ]
    return b.modal(callback_id=b.ATTEMPT_VIEW, title=texts.ATTEMPT_TITLE, submit=texts.SAVE, blocks=items, metadata={"case": case_id})


def note_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [b.text_input("text", texts.NOTE_TEXT, multiline=True, max_length=2900)]
    return b.modal(callback_id=b.NOTE_VIEW, title=texts.NOTE_TITLE, submit=texts.SAVE, blocks=items, metadata={"case": case_id})


def handoff_modal(case_id: int, *, warning: str | None = None, checked: dict[str, str] | None = None,
                  selected: str | None = None) -> dict[str, Any]:
    """`checked` remembers what we learnt about picked users ({user: "bot"|"deleted"|"ok"})."""
    picker = InputBlock(
        block_id="colleague",
        label=PlainTextObject(text=texts.HANDOFF_WHO),
        dispatch_action=True,
        element=UserSelectElement(action_id=b.HANDOFF_PICK_ACTION, initial_user=selected),
    )
    items: list[Block] = [picker]
    if warning:
        items.append(b.context(warning, block_id="pick_warning"))
    items.append(
        b.text_input("note", texts.HANDOFF_NOTE, multiline=True, optional=True, hint=texts.HANDOFF_NOTE_HINT, max_length=2000)
    )
    return b.modal(
        callback_id=b.HANDOFF_VIEW, title=texts.HANDOFF_TITLE, submit=texts.HANDOFF_SUBMIT, blocks=items,
        metadata={"case": case_id, "checked": checked or {}},
    )


def decline_modal(handoff_id: int) -> dict[str, Any]:
    items: list[Block] = [b.text_input("reason", texts.DECLINE_REASON, multiline=True, optional=True, max_length=1000)]
    return b.modal(
        callback_id=b.DECLINE_VIEW, title=texts.DECLINE_TITLE, submit=texts.DECLINE_SUBMIT, blocks=items,
        metadata={"handoff": handoff_id},
    )


def escalate_modal(case_id: int, notice: str | None = None) -> dict[str, Any]:
    """`notice`: where the escalation will be posted, when people outside the case's channel can read it."""
    items: list[Block] = [b.section(notice, block_id="where_notice")] if notice else []
    items += [
        b.text_input("need", texts.ESCALATE_NEED, multiline=True, max_length=2000),
        b.text_input("timeframe", texts.ESCALATE_TIMEFRAME, hint=texts.ESCALATE_TIMEFRAME_HINT, max_length=40),
        b.select_input("severity", texts.ESCALATE_SEVERITY, texts.SEVERITIES, initial="normal", optional=False),
    ]
    return b.modal(callback_id=b.ESCALATE_VIEW, title=texts.ESCALATE_TITLE, submit=texts.ESCALATE_SUBMIT, blocks=items,
                   metadata={"case": case_id})


def escalation_update_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [b.text_input("text", texts.ESC_UPDATE_TEXT, multiline=True, max_length=2500)]
    return b.modal(callback_id=b.ESC_UPDATE_VIEW, title=texts.ESC_UPDATE_TITLE, submit=texts.SAVE, blocks=items,
                   metadata={"case": case_id})


def resolve_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.text_input("fix", texts.RESOLVE_FIX, multiline=True, max_length=2000),
        b.text_input("prevention", texts.RESOLVE_PREVENTION, multiline=True, optional=True, max_length=2000),
        b.radio_input("feedback", texts.RESOLVE_FEEDBACK, texts.YES_NO),
    ]
    return b.modal(callback_id=b.RESOLVE_VIEW, title=texts.RESOLVE_TITLE, submit=texts.RESOLVE_SUBMIT, blocks=items,
                   metadata={"case": case_id})


def unresolved_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.section(texts.UNRESOLVED_REMINDER),
        b.text_input("explanation", texts.UNRESOLVED_EXPLANATION, multiline=True, hint=texts.UNRESOLVED_EXPLANATION_HINT,
                     max_length=2500),
        b.radio_input("apologised", texts.UNRESOLVED_APOLOGISED, texts.YES_NO),
    ]
    return b.modal(callback_id=b.UNRESOLVED_VIEW, title=texts.UNRESOLVED_TITLE, submit=texts.RESOLVE_SUBMIT, blocks=items,
                   metadata={"case": case_id})


def review_modal(case_id: int, notice: str | None = None) -> dict[str, Any]:
    """`notice`: where a UX issue will be posted, when people outside the case's channel can read it."""
    items: list[Block] = [
        b.radio_input("cause", texts.REVIEW_CAUSE, texts.CAUSES),
        b.text_input("improve", texts.REVIEW_IMPROVE, multiline=True, optional=True, max_length=2000),
    ]
    if notice:
        items.append(b.section(notice, block_id="where_notice"))
    items += [
        b.text_input("ux", texts.REVIEW_UX, multiline=True, optional=True, hint=texts.REVIEW_UX_HINT, max_length=2000),
    ]
    return b.modal(callback_id=b.REVIEW_VIEW, title=texts.REVIEW_TITLE, submit=texts.REVIEW_SUBMIT, blocks=items,
                   metadata={"case": case_id})


def schedule_words(schedule: Sequence[Offset]) -> str:
    """FOLLOW_UP_SCHEDULE in words: `1d,7d,30d` -> "1 day, 7 days and 30 days"."""
    words = [f"{o.amount} {texts.TIME_UNITS[o.unit][o.amount != 1]}" for o in schedule]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + texts.LIST_AND + words[-1]


def plan_modal(case_id: int, schedule: Sequence[Offset], step: int | None = None) -> dict[str, Any]:
    if schedule:
        hint = texts.PLAN_FIRST_DATE_HINT.format(schedule=schedule_words(schedule))
    else:
        hint = texts.PLAN_FIRST_DATE_HINT_NONE
    items: list[Block] = [
        b.text_input("plan", texts.PLAN_TEXT, multiline=True, hint=texts.PLAN_HINT, max_length=2000),
        InputBlock(
            block_id="first_date",
            label=PlainTextObject(text=texts.PLAN_FIRST_DATE),
            optional=True,
            hint=PlainTextObject(text=hint),
            element=DatePickerElement(action_id="value"),
        ),
    ]
    return b.modal(callback_id=b.PLAN_VIEW, title=texts.PLAN_TITLE, submit=texts.STEP_SUBMIT, blocks=items,
                   metadata={"case": case_id, **({"step": step} if step else {})})


def followed_up_modal(reminder_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.radio_input("outcome", texts.FOLLOWED_UP_HOW, texts.FOLLOWED_UP_OUTCOMES),
        b.text_input("note", texts.NOTE_LABEL, multiline=True, optional=True, max_length=2000),
    ]
    return b.modal(callback_id=b.FOLLOWED_UP_VIEW, title=texts.FOLLOWED_UP_TITLE, submit=texts.SAVE, blocks=items,
                   metadata={"reminder": reminder_id})
