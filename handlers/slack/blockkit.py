"""Block Kit primitives every move's views are built from (handlers/<move>/views.py).

Everything is built from slack_sdk's model classes and rendered with `to_dict()`, which checks
Slack's length limits; `message()` and `modal()` add the per-message and per-view block counts.
Those checks run wherever the views are rendered in the test suite; the running app turns them off
(`check_views(False)`), see there why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import texts
from bot.core.ports import Message
from bot.core.textutil import truncate

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000

# --- checks --------------------------------------------------------------------------------
_MODEL_CHECKS = JsonObject.validate_json


def _unchecked(self: JsonObject) -> None:
    return None


def check_views(on: bool) -> None:
    """Whether slack_sdk's model classes check every field of every object on each `to_dict()`.

    The checks walk `dir()` of each object on every render: about a third of the CPU a new case costs
    after its ack. Every view is rendered through these same classes in the test suite with the checks
    on, and Slack (like the test stand-in) refuses what breaks its limits with `invalid_blocks`, which
    callers already handle; so the running app (app.main) turns them off for the whole process.
    """
    JsonObject.validate_json = _MODEL_CHECKS if on else _unchecked  # type: ignore[method-assign]


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


def select_input(block_id: str, label: str, labels: dict[str, str], *, initial: str | None = None, optional: bool = True,
                 hint: str | None = None) -> InputBlock:
    opts = options(labels)
    chosen = next((o for o in opts if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        hint=PlainTextObject(text=hint) if hint else None,
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


def answered(original: Message, outcome: str) -> Message:
    """A DM as it was, with its buttons replaced by what happened."""
    kept = [dict(blk) for blk in original.blocks or [] if blk.get("type") != "actions"]
    return Message(outcome, kept[: MAX_MESSAGE_BLOCKS - 1] + [context(outcome).to_dict()])
