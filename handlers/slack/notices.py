"""Messages other than the case and checklist: thread lines, DMs, the escalation post."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, HeaderBlock, PlainTextObject, StaticSelectElement

from bot import texts
from bot.core import mrkdwn
from bot.core.snapshot import CaseSnapshot
from bot.textutil import safe, truncate
from handlers.slack import blockkit as b


def customer_name(case: CaseSnapshot) -> str:
    return mrkdwn.safe_limited(case.customer, 200) if case.customer else "not named"


def attempts_text(case: CaseSnapshot, limit: int = 2500) -> str | None:
    if not case.attempts:
        return None
    lines = []
    for attempt in case.attempts:
        outcome = texts.ATTEMPT_OUTCOMES.get(attempt.outcome or "", "")
        lines.append(
            "• {when} {what} → {result}{outcome}".format(
                when=mrkdwn.slack_date(attempt.at, "{date_short}"),
                what=mrkdwn.safe_limited(attempt.text, 300),
                result=mrkdwn.safe_limited(attempt.result, 300),
                outcome=f" ({outcome})" if outcome else "",
            )
        )
    text = "\n".join(lines)
    return truncate(text, limit)


def escalation_status(case: CaseSnapshot) -> str:
    esc = case.escalation or {}
    if not esc:
        return texts.HANDOFF_DM_NO_ESCALATION
    if esc.get("fixed_at"):
        return texts.HANDOFF_DM_ESCALATION.format(status="fixed " + mrkdwn.slack_date(datetime.fromisoformat(esc["fixed_at"])))
    expected = mrkdwn.slack_date(datetime.fromisoformat(esc["expected_by"]))
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
        b.section(texts.HANDOFF_DM_INTRO.format(requester=mrkdwn.mention(requester))),
        b.section(texts.HANDOFF_DM_FIELDS.format(customer=customer_name(case), summary=mrkdwn.safe_limited(case.summary, 2500))),
        b.section(steps),
        b.section(texts.HANDOFF_DM_ATTEMPTS.format(attempts=attempts) if attempts else texts.HANDOFF_DM_NO_ATTEMPTS),
        b.section(escalation_status(case)),
    ]
    if case.mood:
        items.append(b.context(texts.CASE_FIELD_MOOD.format(mood=texts.MOODS.get(case.mood, case.mood)).replace("\n", " ")))
    if note:
        items.append(b.section(texts.HANDOFF_DM_NOTE.format(requester=mrkdwn.mention(requester), note=mrkdwn.safe_limited(note, 2000))))
    if case.permalink:
        items.append(b.section(texts.HANDOFF_DM_LINK.format(url=case.permalink)))
    if breather_until:
        items.append(b.context(texts.HANDOFF_DM_YOU_ON_BREATHER.format(until=mrkdwn.slack_date(breather_until, "{time}"))))
    items.append(
        ActionsBlock(
            block_id=f"handoff_{handoff_id}",
            elements=[
                b.button(texts.BUTTON_ACCEPT, b.HANDOFF_ACCEPT_ACTION, str(handoff_id), style="primary"),
                b.button(texts.BUTTON_DECLINE, b.HANDOFF_DECLINE_ACTION, str(handoff_id)),
            ],
        )
    )
    fallback = texts.HANDOFF_FALLBACK.format(
        requester=mrkdwn.mention(requester), number=case.id, customer=mrkdwn.safe_limited(case.customer, 120) or "customer"
    )
    return truncate(fallback, 300), b.message(items)


def answered(original: list[dict[str, Any]], outcome: str) -> list[dict[str, Any]]:
    """The DM as it was, with its buttons replaced by what happened."""
    kept = [blk for blk in original if blk.get("type") != "actions"]
    return kept[: b.MAX_MESSAGE_BLOCKS - 1] + [b.context(outcome).to_dict()]


def escalation_post(case: CaseSnapshot) -> tuple[str, list[dict[str, Any]]]:
    esc = case.escalation or {}
    severity = texts.SEVERITIES.get(esc.get("severity", ""), esc.get("severity", ""))
    expected = mrkdwn.slack_date(datetime.fromisoformat(esc["expected_by"]))
    meta = (
        texts.ESCALATION_META.format(owner=mrkdwn.mention(case.owner_id), expected=expected, url=case.permalink)
        if case.permalink else texts.ESCALATION_META_NO_LINK.format(owner=mrkdwn.mention(case.owner_id), expected=expected)
    )
    attempts = attempts_text(case)
    items: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(texts.ESCALATION_HEADER.format(number=case.id, severity=severity), 150))),
        b.section(
            texts.ESCALATION_BODY.format(
                customer=customer_name(case),
                summary=mrkdwn.safe_limited(case.summary, 1200),
                need=mrkdwn.safe_limited(esc.get("need"), 1200),
            )
        ),
        b.section(texts.ESCALATION_ATTEMPTS.format(attempts=attempts) if attempts else texts.ESCALATION_NO_ATTEMPTS),
        b.context(meta),
    ]
    if esc.get("fixed_at"):
        items.append(b.context(texts.ESCALATION_FIXED_LINE.format(
            user=mrkdwn.mention(esc.get("fixed_by")), when=mrkdwn.slack_date(datetime.fromisoformat(esc["fixed_at"])))))
    else:
        items.append(
            ActionsBlock(
                block_id=f"escalation_{case.id}",
                elements=[
                    b.button(texts.BUTTON_ESC_UPDATE, b.ESC_UPDATE_ACTION, str(case.id)),
                    b.button(texts.BUTTON_ESC_FIXED, b.ESC_FIXED_ACTION, str(case.id), style="primary"),
                ],
            )
        )
    fallback = texts.ESCALATION_FALLBACK.format(number=case.id, customer=mrkdwn.safe_limited(case.customer, 120) or "customer")
    return truncate(fallback, 300), b.message(items)


def review_prompt(case: CaseSnapshot) -> tuple[str, list[dict[str, Any]]]:
    text = texts.REVIEW_PROMPT.format(owner=mrkdwn.mention(case.owner_id))
    items: list[Block] = [
        b.section(text),
        ActionsBlock(block_id=f"review_{case.id}", elements=[
            b.button(texts.BUTTON_REVIEW, b.REVIEW_ACTION, str(case.id), style="primary")]),
    ]
    return text, b.message(items)


def product_feedback(case: CaseSnapshot, user: str, cause: str, ux_issue: str) -> str:
    return texts.PRODUCT_FEEDBACK.format(
        number=case.id,
        cause=texts.CAUSES.get(cause, cause),
        text=mrkdwn.safe_limited(ux_issue, 2000),
        url=case.permalink or "",
        user=mrkdwn.mention(user),
    )


# --- reminders -------------------------------------------------------------------------------
def what_was_done(case: CaseSnapshot) -> str:
    parts = []
    action = case.answer("action", "action")
    if action:
        parts.append(mrkdwn.safe_limited(action, 600))
    fix = (case.resolution or {}).get("fix") or (case.resolution or {}).get("explanation")
    if fix:
        parts.append(mrkdwn.safe_limited(fix, 600))
    return "; ".join(parts) or texts.FOLLOW_UP_NOTHING_DONE


def follow_up_dm(case: CaseSnapshot, reminder_id: int) -> tuple[str, list[dict[str, Any]]]:
    closed = mrkdwn.slack_date(case.closed_at or case.opened_at, "{date_short_pretty}")
    items: list[Block] = [
        b.section(texts.FOLLOW_UP_DM.format(customer=customer_name(case), number=case.id, closed=closed)),
        b.section(texts.FOLLOW_UP_DETAILS.format(summary=mrkdwn.safe_limited(case.summary, 1000), done=what_was_done(case))),
    ]
    plan = case.answer("plan", "plan")
    if plan:
        items.append(b.section(texts.FOLLOW_UP_PLAN.format(plan=mrkdwn.safe_limited(plan, 1000))))
    if case.permalink:
        items.append(b.context(texts.FOLLOW_UP_LINK.format(url=case.permalink)))
    snooze = StaticSelectElement(
        action_id=b.SNOOZE_ACTION,
        placeholder=PlainTextObject(text=texts.SNOOZE_PLACEHOLDER),
        options=b.options(texts.SNOOZE_CHOICES),
    )
    items.append(
        ActionsBlock(
            block_id=f"reminder_{reminder_id}",
            elements=[
                b.button(texts.BUTTON_FOLLOWED_UP, b.FOLLOWED_UP_ACTION, str(reminder_id), style="primary"),
                snooze,
                b.button(texts.BUTTON_SKIP, b.SKIP_ACTION, str(reminder_id)),
            ],
        )
    )
    fallback = texts.FOLLOW_UP_FALLBACK.format(customer=mrkdwn.safe_limited(case.customer, 120) or "the customer", number=case.id)
    return truncate(fallback, 300), b.message(items)


def breather_task(reminder_id: int) -> str:
    return texts.BREATHER_TASKS[reminder_id % len(texts.BREATHER_TASKS)]


def breather_dm(case: CaseSnapshot, reminder_id: int, payload: dict[str, Any], minutes: int) -> tuple[str, list[dict[str, Any]]]:
    from bot.textutil import human_duration

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
                b.button(texts.BUTTON_BREATHER_START.format(minutes=minutes), b.BREATHER_START_ACTION, str(reminder_id),
                         style="primary"),
                b.button(texts.BUTTON_BREATHER_SKIP, b.BREATHER_SKIP_ACTION, str(reminder_id)),
            ],
        ),
    ]
    return text, b.message(items)
