"""The case file's Block Kit: the edit, attempt and note forms, and how attempts read in a DM."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
)

from bot import texts
from bot.core import mrkdwn as md
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import MAX_LINK, plain, truncate
from handlers.casefile.ids import ATTEMPT_VIEW, EDIT_VIEW, NOTE_VIEW
from handlers.slack import blockkit as b
from handlers.slack.blockkit import (
    modal,
    select_input,
    text_input,
)


def edit_modal(case: CaseSnapshot) -> dict[str, Any]:
    blocks: list[Block] = [
        text_input("customer", texts.INTAKE_CUSTOMER, initial=plain(case.customer), hint=texts.INTAKE_CUSTOMER_HINT, max_length=150),
        text_input("summary", texts.INTAKE_SUMMARY, initial=plain(case.summary)[:3000], multiline=True, max_length=3000),
        select_input("mood", texts.INTAKE_MOOD, texts.MOODS, initial=case.mood),
        text_input("link", texts.INTAKE_LINK, initial=case.link, optional=True, max_length=MAX_LINK),
    ]
    return modal(callback_id=EDIT_VIEW, title=texts.EDIT_TITLE, submit=texts.EDIT_SUBMIT, blocks=blocks, metadata={"case": case.id})


def attempt_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.text_input("what", texts.ATTEMPT_WHAT, multiline=True, max_length=2000),
        b.text_input("result", texts.ATTEMPT_RESULT, multiline=True, max_length=2000),
        b.radio_input("outcome", texts.ATTEMPT_OUTCOME, texts.ATTEMPT_OUTCOMES),
    ]
    return b.modal(callback_id=ATTEMPT_VIEW, title=texts.ATTEMPT_TITLE, submit=texts.SAVE, blocks=items, metadata={"case": case_id})


def note_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [b.text_input("text", texts.NOTE_TEXT, multiline=True, max_length=2900)]
    return b.modal(callback_id=NOTE_VIEW, title=texts.NOTE_TITLE, submit=texts.SAVE, blocks=items, metadata={"case": case_id})


def customer_name(case: CaseSnapshot) -> str:
    return md.safe_limited(case.customer, 200) if case.customer else "not named"


def attempts_text(case: CaseSnapshot, limit: int = 2500) -> str | None:
    if not case.attempts:
        return None
    lines = []
    for attempt in case.attempts:
        outcome = texts.ATTEMPT_OUTCOMES.get(attempt.outcome or "", "")
        lines.append(
            "• {when} {what} → {result}{outcome}".format(
                when=md.slack_date(attempt.at, "{date_short}"),
                what=md.safe_limited(attempt.text, 300),
                result=md.safe_limited(attempt.result, 300),
                outcome=f" ({outcome})" if outcome else "",
            )
        )
    text = "\n".join(lines)
    return truncate(text, limit)
