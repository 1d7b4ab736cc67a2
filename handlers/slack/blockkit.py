"""Block Kit builders for the case message, the checklist thread and the case modals.

Everything is built from slack_sdk's model classes and rendered with `to_dict()`, which checks
Slack's length limits; `message()` and `modal()` add the per-message and per-view block counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ConversationSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import ConversationFilter
from slack_sdk.models.views import View

from bot import playbook, texts
from bot.core.mrkdwn import mention, safe_limited, slack_date
from bot.core.snapshot import CaseSnapshot
from bot.textutil import MAX_LINK, human_duration, plain, safe, truncate
from handlers.casefile.ids import ATTEMPT_ACTION, ATTEMPT_VIEW, EDIT_ACTION, EDIT_VIEW, NOTE_ACTION, NOTE_VIEW  # noqa: F401
from handlers.checklist.ids import ACTION_VIEW, APOLOGY_VIEW, GUIDE_ACTION, GUIDE_VIEW, PLAN_VIEW, STEP_ACTION  # noqa: F401
from handlers.closing.ids import (  # noqa: F401
    REOPEN_ACTION,
    RESOLVE_ACTION,
    RESOLVE_VIEW,
    REVIEW_ACTION,
    REVIEW_VIEW,
    UNRESOLVED_ACTION,
    UNRESOLVED_VIEW,
)
from handlers.escalation.ids import ESC_FIXED_ACTION, ESC_UPDATE_ACTION, ESC_UPDATE_VIEW, ESCALATE_ACTION, ESCALATE_VIEW  # noqa: F401
from handlers.followups.ids import (  # noqa: F401
    BREATHER_SKIP_ACTION,
    BREATHER_START_ACTION,
    FOLLOWED_UP_ACTION,
    FOLLOWED_UP_VIEW,
    SKIP_ACTION,
    SNOOZE_ACTION,
)
from handlers.handoff.ids import (  # noqa: F401
    DECLINE_VIEW,
    HANDOFF_ACCEPT_ACTION,
    HANDOFF_ACTION,
    HANDOFF_DECLINE_ACTION,
    HANDOFF_PICK_ACTION,
    HANDOFF_VIEW,
)
from handlers.intake.ids import INTAKE_VIEW, RETRY_POST_ACTION, SHORTCUT_CALLBACK  # noqa: F401

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000

# --- small helpers ---------------------------------------------------------------------------
def mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def section(text: str, accessory: Any = None, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=mrkdwn(truncate(text, SECTION_LIMIT)), accessory=accessory, block_id=block_id)


def context(*parts: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(truncate(p, SECTION_LIMIT)) for p in parts[:10]], block_id=block_id)


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=truncate(text, 75)), action_id=action_id, value=value, style=style)


def message(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    rendered = [b.to_dict() for b in blocks]
    if len(rendered) > MAX_MESSAGE_BLOCKS:
        raise ValueError(f"{len(rendered)} blocks in one message; Slack allows {MAX_MESSAGE_BLOCKS}")
    return rendered


def modal(
    *,
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    submit: str | None = None,
    close: str = texts.INTAKE_CLOSE,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if len(blocks) > MAX_VIEW_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks in one view; Slack allows {MAX_VIEW_BLOCKS}")
    private = json.dumps(metadata or {}, separators=(",", ":"))
    if len(private) > 3000:
        raise ValueError("private_metadata over 3000 characters")
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=truncate(title, 24)),
        submit=PlainTextObject(text=truncate(submit, 24)) if submit else None,
        close=PlainTextObject(text=truncate(close, 24)),
        blocks=list(blocks),
        private_metadata=private,
    )
    return view.to_dict()


def options(labels: dict[str, str]) -> list[Option]:
    return [Option(value=key, text=PlainTextObject(text=truncate(label, 75))) for key, label in labels.items()]


def text_input(
    block_id: str,
    label: str,
    *,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    hint: str | None = None,
    max_length: int | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
        element=PlainTextInputElement(
            action_id="value",
            multiline=multiline,
            initial_value=initial or None,
            max_length=max_length,
        ),
    )


def select_input(block_id: str, label: str, labels: dict[str, str], *, initial: str | None = None, optional: bool = True) -> InputBlock:
    opts = options(labels)
    chosen = next((o for o in opts if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        optional=optional,
        element=StaticSelectElement(action_id="value", options=opts, initial_option=chosen),
    )


def radio_input(block_id: str, label: str, labels: dict[str, str], *, initial: str | None = None) -> InputBlock:
    opts = options(labels)
    chosen = next((o for o in opts if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=RadioButtonsElement(action_id="value", options=opts, initial_option=chosen),
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


def case_fields(case: CaseSnapshot) -> list[MarkdownTextObject]:
    fields = [
        texts.CASE_FIELD_FLAGGED.format(user=mention(case.flagged_by)),
        texts.CASE_FIELD_OWNER.format(user=mention(case.owner_id)),
        texts.CASE_FIELD_STATUS.format(status=texts.STATUS_LABELS.get(case.status, case.status)),
        texts.CASE_FIELD_PROGRESS.format(done=case.done_count, total=case.total),
    ]
    if case.mood:
        fields.append(texts.CASE_FIELD_MOOD.format(mood=texts.MOODS.get(case.mood, case.mood)))
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


# --- the checklist ---------------------------------------------------------------------------
# The checklist is read on phones mid-conversation: an open step is its title and one short line,
# a done step folds to one line, and the full guidance sits in a modal behind one button.
SHORT_LINE = 110  # characters of the one line an open step shows
DONE_TITLE = 45  # a done step's title is shortened so its line stays about one line long
DETAIL_LIMIT = 200  # each recorded answer of a done step, escaped


def shorten(text: str, limit: int) -> str:
    """Shorten to `limit` characters, cutting at a word boundary where there is one."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:.") + "…"


def say_lines(step: playbook.PlaybookStep) -> list[str]:
    """A step's lines to say; a playbook may give one line or several."""
    return [step.say] if isinstance(step.say, str) else list(step.say)


def _step_details(details: dict[str, Any] | None, limit: int = DETAIL_LIMIT) -> list[str]:
    if not details:
        return []
    lines = []
    if details.get("apology"):
        answer = texts.APOLOGY_ANSWERS.get(details["apology"], details["apology"])
        lines.append(texts.STEP_DONE_DETAIL_APOLOGY.format(answer=answer))
    if details.get("action"):
        lines.append(texts.STEP_DONE_DETAIL_ACTION.format(action=safe_limited(details["action"], limit)))
    if details.get("offer"):
        lines.append(texts.STEP_DONE_DETAIL_OFFER.format(offer=safe_limited(details["offer"], limit)))
    if details.get("plan"):
        lines.append(texts.STEP_DONE_DETAIL_PLAN.format(plan=safe_limited(details["plan"], limit)))
    if details.get("note"):
        lines.append(safe_limited(details["note"], limit))
    return lines


def next_step(case: CaseSnapshot) -> int | None:
    """The step to do next: the first one not done."""
    return next((s.number for s in case.steps if not s.done), None)


def _done_step(case: CaseSnapshot, step: playbook.PlaybookStep) -> SectionBlock:
    state = case.step(step.number)
    when = " · " + slack_date(state.done_at) if state.done_at else ""
    line = texts.STEP_DONE_LINE.format(
        number=step.number, title=safe(shorten(step.title, DONE_TITLE)), user=mention(state.done_by), when=when
    )
    text = "\n".join([line, " · ".join(_step_details(state.details))]).rstrip("\n")
    undo = button(texts.BUTTON_UNDO, STEP_ACTION, f"{case.id}:{step.number}:undo")
    return section(text, accessory=undo, block_id=f"step_{step.number}")


def _open_step(case: CaseSnapshot, step: playbook.PlaybookStep, is_next: bool) -> SectionBlock:
    lines = say_lines(step)
    first_say = lines[0] if lines else step.why
    text = texts.STEP_OPEN.format(
        mark=texts.STEP_MARK_NEXT if is_next else texts.STEP_MARK_OPEN,
        number=step.number,
        title=safe(step.title),  # a team's file is text, not markup: no pings, no broken links
        line=texts.STEP_SAY.format(say=safe(shorten(first_say, SHORT_LINE))),
    )
    # Slack's guidance: one primary button per set, so only the next step's button is green. What the tick
    # asks rides in the value, so the click opens its modal without reading the case first.
    value = f"{case.id}:{step.number}:done" + (f":{step.asks}" if step.asks else "")
    done = button(texts.BUTTON_MARK_DONE, STEP_ACTION, value, style="primary" if is_next else None)
    return section(text, accessory=done, block_id=f"step_{step.number}")


def checklist(case: CaseSnapshot) -> list[dict[str, Any]]:
    intro = texts.CHECKLIST_INTRO_ALL_DONE if case.done_count == case.total else texts.CHECKLIST_INTRO
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=texts.CHECKLIST_HEADER)),
        context(intro.format(done=case.done_count, total=case.total)),
    ]
    upcoming = next_step(case)
    for step in case.playbook.steps[: len(case.steps)]:
        if case.step(step.number).done:
            blocks.append(_done_step(case, step))
        else:
            blocks.append(_open_step(case, step, is_next=step.number == upcoming))
    guide = button(texts.BUTTON_GUIDE, GUIDE_ACTION, str(case.id))
    blocks.append(ActionsBlock(block_id="checklist_guide", elements=[guide]))
    return message(blocks)


def guide_modal(book: playbook.Playbook) -> dict[str, Any]:
    """Every step's full text: why it matters and all the lines to say."""
    items: list[Block] = []
    for step in book.steps:
        # The file's limits (title 75, why 600, five lines of 600) keep each escaped part under Slack's 3000.
        title, why = safe_limited(step.title, 300), safe_limited(step.why, 1200)
        say = "\n".join(f"> {safe_limited(line, 560)}" for line in say_lines(step))
        text = texts.GUIDE_STEP.format(number=step.number, title=title, why=why, say=say)
        if len(text) <= SECTION_LIMIT:
            items.append(section(text))
        else:  # a long step (up to five long lines) is split so no section passes Slack's limit
            head = texts.GUIDE_STEP.format(number=step.number, title=title, why=why, say="")
            items += [section(head.rstrip()), section(say)]
    return modal(callback_id=GUIDE_VIEW, title=texts.GUIDE_TITLE, close=texts.GUIDE_CLOSE, blocks=items)


def checklist_fallback(case: CaseSnapshot) -> str:
    return texts.CHECKLIST_FALLBACK.format(number=case.id, done=case.done_count, total=case.total)


def retry_post(text: str, case_id: int) -> list[dict[str, Any]]:
    return message([section(text), ActionsBlock(elements=[button(texts.BUTTON_RETRY_POST, RETRY_POST_ACTION, str(case_id))])])


# --- modals ----------------------------------------------------------------------------------
def intake_modal(
    *,
    channel_id: str | None,
    customer: str | None = None,
    summary: str | None = None,
    link: str | None = None,
    metadata: dict[str, Any] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """`notice`: where the case will really go when the conversation is readable by the customer."""
    if channel_id and not channel_id.startswith(("C", "G")):
        channel_id = None  # a DM can't hold a case; let the agent pick a channel
    channel = ConversationSelectElement(
        action_id="value",
        initial_conversation=channel_id or None,
        # Channels shared with another organisation are not offered: the customer would read the case there.
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True, exclude_external_shared_channels=True),
    )
    blocks: list[Block] = [context(notice, block_id="where_notice")] if notice else []
    blocks += [
        text_input("customer", texts.INTAKE_CUSTOMER, initial=customer, hint=texts.INTAKE_CUSTOMER_HINT, max_length=150),
        text_input(
            "summary", texts.INTAKE_SUMMARY, initial=summary, multiline=True, hint=texts.INTAKE_SUMMARY_HINT, max_length=3000
        ),
        select_input("mood", texts.INTAKE_MOOD, texts.MOODS),
        text_input("link", texts.INTAKE_LINK, initial=link, optional=True, max_length=MAX_LINK),
        InputBlock(block_id="channel", label=PlainTextObject(text=texts.INTAKE_CHANNEL), element=channel),
    ]
    return modal(
        callback_id=INTAKE_VIEW,
        title=texts.INTAKE_TITLE,
        submit=texts.INTAKE_SUBMIT,
        blocks=blocks,
        metadata=metadata,
    )


def edit_modal(case: CaseSnapshot) -> dict[str, Any]:
    blocks: list[Block] = [
        text_input("customer", texts.INTAKE_CUSTOMER, initial=plain(case.customer), hint=texts.INTAKE_CUSTOMER_HINT, max_length=150),
        text_input("summary", texts.INTAKE_SUMMARY, initial=plain(case.summary)[:3000], multiline=True, max_length=3000),
        select_input("mood", texts.INTAKE_MOOD, texts.MOODS, initial=case.mood),
        text_input("link", texts.INTAKE_LINK, initial=case.link, optional=True, max_length=MAX_LINK),
    ]
    return modal(callback_id=EDIT_VIEW, title=texts.EDIT_TITLE, submit=texts.EDIT_SUBMIT, blocks=blocks, metadata={"case": case.id})


def apology_modal(case_id: int, step: int) -> dict[str, Any]:
    blocks: list[Block] = [
        radio_input("apology", texts.APOLOGY_QUESTION, texts.APOLOGY_ANSWERS),
        text_input("note", texts.NOTE_LABEL, multiline=True, optional=True, max_length=2000),
    ]
    return modal(callback_id=APOLOGY_VIEW, title=texts.APOLOGY_TITLE, submit=texts.STEP_SUBMIT, blocks=blocks,
                 metadata={"case": case_id, "step": step})


def action_modal(case_id: int, step: int) -> dict[str, Any]:
    blocks: list[Block] = [
        text_input("action", texts.ACTION_WHAT, multiline=True, max_length=2000),
        text_input("offer", texts.ACTION_OFFER, multiline=True, optional=True, max_length=2000),
    ]
    return modal(callback_id=ACTION_VIEW, title=texts.ACTION_TITLE, submit=texts.STEP_SUBMIT, blocks=blocks,
                 metadata={"case": case_id, "step": step})
