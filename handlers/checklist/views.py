"""How a case looks in Slack: the case message (handlers/checklist/case_message.py) and its checklist thread
(bot.delivery.posting.CaseViews), the guide, and the forms a step's tick asks for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    PlainTextObject,
    SectionBlock,
)

from bot import texts
from bot.core import playbook
from bot.core.config import Config
from bot.core.mrkdwn import mention, safe_limited, slack_date
from bot.core.ports import Message
from bot.core.settings import Offset
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import safe
from handlers.checklist.case_message import case_fallback, case_message
from handlers.checklist.ids import (
    ACTION_VIEW,
    APOLOGY_VIEW,
    GUIDE_ACTION,
    GUIDE_VIEW,
    NOTHING_ASKED,
    PLAN_VIEW,
    STEP_ACTION,
)
from handlers.slack import blockkit as b
from handlers.slack.blockkit import (
    SECTION_LIMIT,
    button,
    context,
    message,
    modal,
    radio_input,
    section,
    text_input,
)

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
    # asks (or that it asks nothing: "-") rides in the value, so the click needs no read of the case first.
    value = f"{case.id}:{step.number}:done:{step.asks or NOTHING_ASKED}"
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
    return b.modal(callback_id=PLAN_VIEW, title=texts.PLAN_TITLE, submit=texts.STEP_SUBMIT, blocks=items,
                   metadata={"case": case_id, **({"step": step} if step else {})})


class CaseViews:
    def case_message(self, case: CaseSnapshot) -> Message:
        return Message(case_fallback(case), case_message(case))

    def checklist(self, case: CaseSnapshot) -> Message:
        return Message(checklist_fallback(case), checklist(case))


def step_modal(config: Config, asks: str, case_id: int, number: int) -> dict[str, Any]:
    """The form a step's tick asks for; it carries the step number back to the submission."""
    if asks == "apology":
        return apology_modal(case_id, number)
    if asks == "action":
        return action_modal(case_id, number)
    return plan_modal(case_id, config.follow_up_schedule, step=number)
