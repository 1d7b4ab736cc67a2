"""Closing's Block Kit: the resolve, not-resolved and review forms, the review prompt, and the UX issue
for the product team (bot.closing.service.ClosingViews)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
)

from bot import texts
from bot.core import mrkdwn as md
from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from handlers.closing.ids import (
    RESOLVE_VIEW,
    REVIEW_ACTION,
    REVIEW_VIEW,
    UNRESOLVED_VIEW,
)
from handlers.slack import blockkit as b


def review_prompt(case: CaseSnapshot) -> tuple[str, list[dict[str, Any]]]:
    text = texts.REVIEW_PROMPT.format(owner=md.mention(case.owner_id))
    items: list[Block] = [
        b.section(text),
        ActionsBlock(block_id=f"review_{case.id}", elements=[
            b.button(texts.BUTTON_REVIEW, REVIEW_ACTION, str(case.id), style="primary")]),
    ]
    return text, b.message(items)


def product_feedback(case: CaseSnapshot, user: str, cause: str, ux_issue: str) -> str:
    return texts.PRODUCT_FEEDBACK.format(
        number=case.id,
        cause=texts.CAUSES.get(cause, cause),
        text=md.safe_limited(ux_issue, 2000),
        url=case.permalink or "",
        user=md.mention(user),
    )


def mood_now() -> Block:
    """The customer's mood at closing: optional, one tap (the outcome the case is measured by)."""
    return b.select_input("mood", texts.CLOSE_MOOD, texts.MOODS, hint=texts.CLOSE_MOOD_HINT)


def resolve_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.text_input("fix", texts.RESOLVE_FIX, multiline=True, max_length=2000),
        b.text_input("prevention", texts.RESOLVE_PREVENTION, multiline=True, optional=True, max_length=2000),
        b.radio_input("feedback", texts.RESOLVE_FEEDBACK, texts.YES_NO),
        mood_now(),
    ]
    return b.modal(callback_id=RESOLVE_VIEW, title=texts.RESOLVE_TITLE, submit=texts.RESOLVE_SUBMIT, blocks=items,
                   metadata={"case": case_id})


def unresolved_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.section(texts.UNRESOLVED_REMINDER),
        b.text_input("explanation", texts.UNRESOLVED_EXPLANATION, multiline=True, hint=texts.UNRESOLVED_EXPLANATION_HINT,
                     max_length=2500),
        b.radio_input("apologised", texts.UNRESOLVED_APOLOGISED, texts.YES_NO),
        mood_now(),
    ]
    return b.modal(callback_id=UNRESOLVED_VIEW, title=texts.UNRESOLVED_TITLE, submit=texts.RESOLVE_SUBMIT, blocks=items,
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
    return b.modal(callback_id=REVIEW_VIEW, title=texts.REVIEW_TITLE, submit=texts.REVIEW_SUBMIT, blocks=items,
                   metadata={"case": case_id})


class ClosingViews:
    def review_prompt(self, case: CaseSnapshot) -> Message:
        return Message(*review_prompt(case))

    def product_feedback(self, case: CaseSnapshot, user: str, cause: str, ux_issue: str) -> Message:
        return Message(product_feedback(case, user, cause, ux_issue))
