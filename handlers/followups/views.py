"""Reminder DMs: the follow-up and the breather, the followed-up form, and how a DM looks once answered
(bot.followups.sending.ReminderViews)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    PlainTextObject,
    StaticSelectElement,
)

from bot import texts
from bot.core import mrkdwn as md
from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import human_duration, truncate
from bot.followups.records import breather_task
from handlers.casefile.views import customer_name
from handlers.followups.ids import (
    BREATHER_SKIP_ACTION,
    BREATHER_START_ACTION,
    FOLLOWED_UP_ACTION,
    FOLLOWED_UP_VIEW,
    SKIP_ACTION,
    SNOOZE_ACTION,
)
from handlers.slack import blockkit as b


# --- reminders -------------------------------------------------------------------------------
def what_was_done(case: CaseSnapshot) -> str:
    parts = []
    action = case.answer("action", "action")
    if action:
        parts.append(md.safe_limited(action, 600))
    fix = (case.resolution or {}).get("fix") or (case.resolution or {}).get("explanation")
    if fix:
        parts.append(md.safe_limited(fix, 600))
    return "; ".join(parts) or texts.FOLLOW_UP_NOTHING_DONE


def follow_up_dm(case: CaseSnapshot, reminder_id: int) -> tuple[str, list[dict[str, Any]]]:
    closed = md.slack_date(case.closed_at or case.opened_at, "{date_short_pretty}")
    items: list[Block] = [
        b.section(texts.FOLLOW_UP_DM.format(customer=customer_name(case), number=case.id, closed=closed)),
        b.section(texts.FOLLOW_UP_DETAILS.format(summary=md.safe_limited(case.summary, 1000), done=what_was_done(case))),
    ]
    plan = case.answer("plan", "plan")
    if plan:
        items.append(b.section(texts.FOLLOW_UP_PLAN.format(plan=md.safe_limited(plan, 1000))))
    if case.permalink:
        items.append(b.context(texts.FOLLOW_UP_LINK.format(url=case.permalink)))
    snooze = StaticSelectElement(
        action_id=SNOOZE_ACTION,
        placeholder=PlainTextObject(text=texts.SNOOZE_PLACEHOLDER),
        options=b.options(texts.SNOOZE_CHOICES),
    )
    items.append(
        ActionsBlock(
            block_id=f"reminder_{reminder_id}",
            elements=[
                b.button(texts.BUTTON_FOLLOWED_UP, FOLLOWED_UP_ACTION, str(reminder_id), style="primary"),
                snooze,
                b.button(texts.BUTTON_SKIP, SKIP_ACTION, str(reminder_id)),
            ],
        )
    )
    fallback = texts.FOLLOW_UP_FALLBACK.format(customer=md.safe_limited(case.customer, 120) or "the customer", number=case.id)
    return truncate(fallback, 300), b.message(items)


def breather_dm(case: CaseSnapshot, reminder_id: int, payload: dict[str, Any], minutes: int) -> tuple[str, list[dict[str, Any]]]:

    if payload.get("reason") == "long":
        opened_for = human_duration(payload.get("open_seconds") or 1800)
        text = texts.BREATHER_DM_LONG.format(number=case.id, duration=opened_for)
    elif payload.get("furious") or (payload.get("open_seconds") or 0) > 1800:
        why = texts.BREATHER_WHY_FURIOUS if payload.get("furious") else texts.BREATHER_WHY_LONG.format(
            duration=human_duration(payload.get("open_seconds") or 0))
        text = texts.BREATHER_DM_HARD.format(why=why)
    else:
        text = texts.BREATHER_DM_CLOSED
    items: list[Block] = [
        b.section(text),
        b.section(texts.BREATHER_TASK.format(task=breather_task(reminder_id))),
        ActionsBlock(
            block_id=f"breather_{reminder_id}",
            elements=[
                b.button(texts.BUTTON_BREATHER_START.format(minutes=minutes), BREATHER_START_ACTION, str(reminder_id),
                         style="primary"),
                b.button(texts.BUTTON_BREATHER_SKIP, BREATHER_SKIP_ACTION, str(reminder_id)),
            ],
        ),
    ]
    return text, b.message(items)


def followed_up_modal(reminder_id: int) -> dict[str, Any]:
    items: list[Block] = [
        b.radio_input("outcome", texts.FOLLOWED_UP_HOW, texts.FOLLOWED_UP_OUTCOMES),
        b.select_input("mood", texts.FOLLOWED_UP_MOOD, texts.MOODS),
        b.text_input("note", texts.NOTE_LABEL, multiline=True, optional=True, max_length=2000),
    ]
    return b.modal(callback_id=FOLLOWED_UP_VIEW, title=texts.FOLLOWED_UP_TITLE, submit=texts.SAVE, blocks=items,
                   metadata={"reminder": reminder_id})


class ReminderViews:
    def follow_up_dm(self, case: CaseSnapshot, reminder_id: int) -> Message:
        return Message(*follow_up_dm(case, reminder_id))

    def breather_dm(self, case: CaseSnapshot, reminder_id: int, payload: dict[str, Any], minutes: int) -> Message:
        return Message(*breather_dm(case, reminder_id, payload, minutes))

    def answered(self, original: Message, outcome: str) -> Message:
        return b.answered(original, outcome)
