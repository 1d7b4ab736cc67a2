"""Escalation's Block Kit: the forms, and the request for the experts with its Update and Fixed buttons
(bot.escalation.service.EscalationViews)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    HeaderBlock,
    PlainTextObject,
)

from bot import texts
from bot.core import mrkdwn as md
from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import truncate
from handlers.casefile.views import attempts_text, customer_name
from handlers.escalation.ids import ESC_FIXED_ACTION, ESC_UPDATE_ACTION, ESC_UPDATE_VIEW, ESCALATE_VIEW
from handlers.slack import blockkit as b


def escalation_post(case: CaseSnapshot) -> tuple[str, list[dict[str, Any]]]:
    esc = case.escalation or {}
    severity = texts.SEVERITIES.get(esc.get("severity", ""), esc.get("severity", ""))
    expected = md.slack_date(datetime.fromisoformat(esc["expected_by"]))
    meta = (
        texts.ESCALATION_META.format(owner=md.mention(case.owner_id), expected=expected, url=case.permalink)
        if case.permalink else texts.ESCALATION_META_NO_LINK.format(owner=md.mention(case.owner_id), expected=expected)
    )
    attempts = attempts_text(case)
    items: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(texts.ESCALATION_HEADER.format(number=case.id, severity=severity), 150))),
        b.section(
            texts.ESCALATION_BODY.format(
                customer=customer_name(case),
                summary=md.safe_limited(case.summary, 1200),
                need=md.safe_limited(esc.get("need"), 1200),
            )
        ),
        b.section(texts.ESCALATION_ATTEMPTS.format(attempts=attempts) if attempts else texts.ESCALATION_NO_ATTEMPTS),
        b.context(meta),
    ]
    if esc.get("fixed_at"):
        items.append(b.context(texts.ESCALATION_FIXED_LINE.format(
            user=md.mention(esc.get("fixed_by")), when=md.slack_date(datetime.fromisoformat(esc["fixed_at"])))))
    else:
        items.append(
            ActionsBlock(
                block_id=f"escalation_{case.id}",
                elements=[
                    b.button(texts.BUTTON_ESC_UPDATE, ESC_UPDATE_ACTION, str(case.id)),
                    b.button(texts.BUTTON_ESC_FIXED, ESC_FIXED_ACTION, str(case.id), style="primary"),
                ],
            )
        )
    fallback = texts.ESCALATION_FALLBACK.format(number=case.id, customer=md.safe_limited(case.customer, 120) or "customer")
    return truncate(fallback, 300), b.message(items)


def escalate_modal(case_id: int, notice: str | None = None) -> dict[str, Any]:
    """`notice`: where the escalation will be posted, when people outside the case's channel can read it."""
    items: list[Block] = [b.section(notice, block_id="where_notice")] if notice else []
    items += [
        b.text_input("need", texts.ESCALATE_NEED, multiline=True, max_length=2000),
        b.text_input("timeframe", texts.ESCALATE_TIMEFRAME, hint=texts.ESCALATE_TIMEFRAME_HINT, max_length=40),
        b.select_input("severity", texts.ESCALATE_SEVERITY, texts.SEVERITIES, initial="normal", optional=False),
    ]
    return b.modal(callback_id=ESCALATE_VIEW, title=texts.ESCALATE_TITLE, submit=texts.ESCALATE_SUBMIT, blocks=items,
                   metadata={"case": case_id})


def escalation_update_modal(case_id: int) -> dict[str, Any]:
    items: list[Block] = [b.text_input("text", texts.ESC_UPDATE_TEXT, multiline=True, max_length=2500)]
    return b.modal(callback_id=ESC_UPDATE_VIEW, title=texts.ESC_UPDATE_TITLE, submit=texts.SAVE, blocks=items,
                   metadata={"case": case_id})


class EscalationViews:
    def escalation_post(self, case: CaseSnapshot) -> Message:
        return Message(*escalation_post(case))
