"""The case message: who and what, where it was flagged, earlier cases, its fields and its buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import texts
from bot.core import playbook
from bot.core.mrkdwn import mention, safe_limited, slack_date
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import human_duration, plain, safe, truncate
from handlers.casefile.ids import ATTEMPT_ACTION, EDIT_ACTION, NOTE_ACTION
from handlers.closing.ids import (
    REOPEN_ACTION,
    RESOLVE_ACTION,
    REVIEW_ACTION,
    UNRESOLVED_ACTION,
)
from handlers.escalation.ids import ESCALATE_ACTION
from handlers.handoff.ids import (
    HANDOFF_ACTION,
)
from handlers.slack.blockkit import (
    FIELD_LIMIT,
    SECTION_LIMIT,
    button,
    context,
    message,
    mrkdwn,
    section,
)


# --- the case message ------------------------------------------------------------------------
def earlier_cases(count: int) -> str:
    return texts.EARLIER_CASES[count != 1].format(count=count)


def _prior_text(case: CaseSnapshot) -> str | None:
    """A repeat customer's earlier cases: details of those visible here, a bare count of the rest."""
    if not case.prior_count:
        return None
    elsewhere = min(case.prior_elsewhere, case.prior_count)
    seen = case.prior_count - elsewhere
    if not seen:
        return texts.REPEAT_CUSTOMER_ELSEWHERE_ONLY.format(count=earlier_cases(elsewhere))
    links = []
    for prior in case.prior:
        label = f"#{prior.id} {texts.STATUS_LABELS.get(prior.status, prior.status)}"
        links.append(f"<{prior.permalink}|{label}>" if prior.permalink else label)
    text = texts.REPEAT_CUSTOMER.format(count=seen, cases=", ".join(links))
    if elsewhere:
        text += texts.REPEAT_CUSTOMER_ALSO_ELSEWHERE.format(count=earlier_cases(elsewhere))
    failed = [a for p in case.prior for a in p.failed_attempts]
    if failed:
        tried = "; ".join(safe_limited(a, 200) for a in failed[:5])
        text += "\n" + texts.REPEAT_FAILED_BEFORE.format(tried=tried)
    return text


def flagged_in(case: CaseSnapshot) -> str | None:
    """Where a case that lives elsewhere (CASES_CHANNEL) was flagged: a link back for the team."""
    source = case.source_channel_id
    if not source or source == case.channel_id:
        return None
    if source.startswith(("C", "G")):
        return texts.CASE_FIELD_FLAGGED_IN.format(where=f"<#{source}>")
    return texts.CASE_FIELD_FLAGGED_IN.format(where=texts.FLAGGED_IN_DM)


def mood_field(before: str | None, after: str | None) -> str | None:
    """The mood as flagged, and once it is known how it ended, the change (the case's outcome)."""
    label = texts.MOODS.get
    if before and after:
        return texts.CASE_FIELD_MOOD_CHANGE.format(before=label(before, before), after=label(after, after))
    if after:
        return texts.CASE_FIELD_MOOD_NOW.format(after=label(after, after))
    return texts.CASE_FIELD_MOOD.format(mood=label(before, before)) if before else None


def case_fields(case: CaseSnapshot) -> list[MarkdownTextObject]:
    fields = [
        texts.CASE_FIELD_FLAGGED.format(user=mention(case.flagged_by)),
        texts.CASE_FIELD_OWNER.format(user=mention(case.owner_id)),
        texts.CASE_FIELD_STATUS.format(status=texts.STATUS_LABELS.get(case.status, case.status)),
        texts.CASE_FIELD_PROGRESS.format(done=case.done_count, total=case.total),
    ]
    mood = mood_field(case.mood, case.mood_after)
    if mood:
        fields.append(mood)
    for template, url in ((texts.CASE_FIELD_LINK, case.link), (texts.CASE_FIELD_SOURCE, case.source_permalink)):
        if url:
            linked = template.format(url=safe(url))
            # A link too long for the field is shown as inert text rather than cut mid-markup.
            label = template.split("\n", 1)[0]
            fields.append(linked if len(linked) <= FIELD_LIMIT else label + "\n" + safe_limited(url, FIELD_LIMIT - 60))
    where = flagged_in(case)
    if where:
        fields.append(where)
    escalation = case.escalation or {}
    if escalation.get("fixed_at"):
        fixed = datetime.fromisoformat(escalation["fixed_at"])
        fields.append(texts.CASE_FIELD_ESCALATION_FIXED.format(when=slack_date(fixed)))
    elif escalation.get("expected_by"):
        expected = datetime.fromisoformat(escalation["expected_by"])
        fields.append(texts.CASE_FIELD_ESCALATION.format(expected=slack_date(expected)))
    if case.pending_handoff_to and case.is_open:
        fields.append(texts.HANDOFF_PENDING_FIELD.format(user=mention(case.pending_handoff_to)))
    if case.closed_at and not case.is_open:
        duration = human_duration((case.closed_at - case.opened_at).total_seconds())
        fields.append(texts.CASE_FIELD_CLOSED.format(user=mention(case.closed_by), duration=duration))
    return [mrkdwn(truncate(f, FIELD_LIMIT)) for f in fields[:10]]


def case_header(case: CaseSnapshot) -> HeaderBlock:
    if case.customer:
        title = texts.CASE_HEADER.format(customer=plain(case.customer))
    else:
        title = texts.CASE_HEADER_NO_CUSTOMER
    return HeaderBlock(text=PlainTextObject(text=truncate(title, 150)))


def case_actions(case: CaseSnapshot) -> list[ButtonElement]:
    value = str(case.id)
    if case.is_open:
        buttons = [
            button(texts.BUTTON_ATTEMPT, ATTEMPT_ACTION, value),
            button(texts.BUTTON_NOTE, NOTE_ACTION, value),
            button(texts.BUTTON_HANDOFF, HANDOFF_ACTION, value),
        ]
        if not (case.escalation and not case.escalation.get("fixed_at")):
            buttons.append(button(texts.BUTTON_ESCALATE, ESCALATE_ACTION, value))
        buttons += [
            button(texts.BUTTON_RESOLVE, RESOLVE_ACTION, value, style="primary"),
            # Not red: closing as not resolved deletes nothing and can be reopened (Slack keeps
            # `danger` for destructive actions).
            button(texts.BUTTON_UNRESOLVED, UNRESOLVED_ACTION, value),
        ]
    else:
        buttons = [button(texts.BUTTON_NOTE, NOTE_ACTION, value), button(texts.BUTTON_REOPEN, REOPEN_ACTION, value)]
        if not case.review_cause:
            buttons.append(button(texts.BUTTON_REVIEW, REVIEW_ACTION, value, style="primary"))
    return buttons + [button(texts.BUTTON_EDIT, EDIT_ACTION, value)]


def case_message(case: CaseSnapshot) -> list[dict[str, Any]]:
    what = texts.CASE_WHAT_HAPPENED.format(summary="{summary}")
    room = SECTION_LIMIT - len(what) + len("{summary}")
    blocks: list[Block] = [
        case_header(case),
        section(what.format(summary=safe_limited(case.summary, room))),
    ]
    if not case.customer and not case.summary.startswith(texts.ERASED_SUMMARY.partition("{")[0]):  # retention
        blocks.append(section(texts.CASE_NO_CUSTOMER))
    blocks.append(SectionBlock(fields=case_fields(case)))
    prior = _prior_text(case)
    if prior:
        blocks.append(section(prior))
    blocks.append(ActionsBlock(block_id=f"case_{case.id}", elements=case_actions(case)))
    about = [texts.CASE_CONTEXT.format(number=case.id, when=slack_date(case.opened_at))]
    if case.playbook != playbook.built_in():  # teams on their own playbook see which one this case follows
        about.append(texts.CASE_PLAYBOOK.format(name=safe_limited(case.playbook.name, 100)))
    blocks.append(context(*about))
    return message(blocks)


def case_fallback(case: CaseSnapshot) -> str:
    customer = safe_limited(case.customer, 120) if case.customer else "customer not named"
    return truncate(texts.CASE_FALLBACK.format(number=case.id, customer=customer), 300)
