"""Second contact's Block Kit: the hand-off and decline forms, and the request DM with Accept and Decline
(bot.handoff.service.HandoffViews)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    InputBlock,
    PlainTextObject,
    UserSelectElement,
)

from bot import texts
from bot.core import mrkdwn as md
from bot.core.ports import Message
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import safe, truncate
from handlers.casefile.views import attempts_text, customer_name
from handlers.handoff.ids import (
    DECLINE_VIEW,
    HANDOFF_ACCEPT_ACTION,
    HANDOFF_DECLINE_ACTION,
    HANDOFF_PICK_ACTION,
    HANDOFF_VIEW,
)
from handlers.slack import blockkit as b


def escalation_status(case: CaseSnapshot) -> str:
    esc = case.escalation or {}
    if not esc:
        return texts.HANDOFF_DM_NO_ESCALATION
    if esc.get("fixed_at"):
        return texts.HANDOFF_DM_ESCALATION.format(status="fixed " + md.slack_date(datetime.fromisoformat(esc["fixed_at"])))
    expected = md.slack_date(datetime.fromisoformat(esc["expected_by"]))
    return texts.HANDOFF_DM_ESCALATION.format(status=f"waiting on the experts, expected by {expected}")


def handoff_dm(
    case: CaseSnapshot, handoff_id: int, requester: str, note: str | None, breather_until: datetime | None = None
) -> tuple[str, list[dict[str, Any]]]:
    titles = case.playbook.titles
    done = [f"{s.number}. {safe(titles[s.number - 1])}" for s in case.steps if s.done and s.number <= len(titles)]
    steps = (
        texts.HANDOFF_DM_STEPS.format(done=len(done), total=case.total, steps="; ".join(done))
        if done else texts.HANDOFF_DM_NO_STEPS
    )
    attempts = attempts_text(case, 2000)
    items: list[Block] = [
        b.section(texts.HANDOFF_DM_INTRO.format(requester=md.mention(requester))),
        b.section(texts.HANDOFF_DM_FIELDS.format(customer=customer_name(case), summary=md.safe_limited(case.summary, 2500))),
        b.section(steps),
        b.section(texts.HANDOFF_DM_ATTEMPTS.format(attempts=attempts) if attempts else texts.HANDOFF_DM_NO_ATTEMPTS),
        b.section(escalation_status(case)),
    ]
    if case.mood:
        items.append(b.context(texts.CASE_FIELD_MOOD.format(mood=texts.MOODS.get(case.mood, case.mood)).replace("\n", " ")))
    if note:
        items.append(b.section(texts.HANDOFF_DM_NOTE.format(requester=md.mention(requester), note=md.safe_limited(note, 2000))))
    if case.permalink:
        items.append(b.section(texts.HANDOFF_DM_LINK.format(url=case.permalink)))
    if breather_until:
        items.append(b.context(texts.HANDOFF_DM_YOU_ON_BREATHER.format(until=md.slack_date(breather_until, "{time}"))))
    items.append(
        ActionsBlock(
            block_id=f"handoff_{handoff_id}",
            elements=[
                b.button(texts.BUTTON_ACCEPT, HANDOFF_ACCEPT_ACTION, str(handoff_id), style="primary"),
                b.button(texts.BUTTON_DECLINE, HANDOFF_DECLINE_ACTION, str(handoff_id)),
            ],
        )
    )
    fallback = texts.HANDOFF_FALLBACK.format(
        requester=md.mention(requester), number=case.id, customer=md.safe_limited(case.customer, 120) or "customer"
    )
    return truncate(fallback, 300), b.message(items)


def handoff_modal(case_id: int, *, warning: str | None = None, checked: dict[str, str] | None = None,
                  selected: str | None = None) -> dict[str, Any]:
    """`checked` remembers what we learnt about picked users ({user: "bot"|"deleted"|"ok"})."""
    picker = InputBlock(
        block_id="colleague",
        label=PlainTextObject(text=texts.HANDOFF_WHO),
        dispatch_action=True,
        element=UserSelectElement(action_id=HANDOFF_PICK_ACTION, initial_user=selected),
    )
    items: list[Block] = [picker]
    if warning:
        items.append(b.context(warning, block_id="pick_warning"))
    items.append(
        b.text_input("note", texts.HANDOFF_NOTE, multiline=True, optional=True, hint=texts.HANDOFF_NOTE_HINT, max_length=2000)
    )
    return b.modal(
        callback_id=HANDOFF_VIEW, title=texts.HANDOFF_TITLE, submit=texts.HANDOFF_SUBMIT, blocks=items,
        metadata={"case": case_id, "checked": checked or {}},
    )


def decline_modal(handoff_id: int) -> dict[str, Any]:
    items: list[Block] = [b.text_input("reason", texts.DECLINE_REASON, multiline=True, optional=True, max_length=1000)]
    return b.modal(
        callback_id=DECLINE_VIEW, title=texts.DECLINE_TITLE, submit=texts.DECLINE_SUBMIT, blocks=items,
        metadata={"handoff": handoff_id},
    )


class HandoffViews:
    def request_dm(self, case: CaseSnapshot, handoff_id: int, requester: str, note: str | None,
                   breather_until: datetime | None = None) -> Message:
        return Message(*handoff_dm(case, handoff_id, requester, note, breather_until))

    def answered(self, original: Message, outcome: str) -> Message:
        return b.answered(original, outcome)
