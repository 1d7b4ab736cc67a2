"""Intake's Block Kit: the intake form, and the failure notice with its Post it again button."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ConversationSelectElement,
    InputBlock,
    PlainTextObject,
)
from slack_sdk.models.blocks.block_elements import ConversationFilter

from bot import texts
from bot.core.ports import Message
from bot.core.textutil import MAX_LINK
from handlers.intake.ids import INTAKE_VIEW, RETRY_POST_ACTION
from handlers.slack.blockkit import (
    button,
    context,
    message,
    modal,
    section,
    select_input,
    text_input,
)


def retry_blocks(text: str, case_id: int) -> list[dict[str, Any]]:
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


def retry_post(text: str, case_id: int) -> Message:
    return Message(text, retry_blocks(text, case_id))
