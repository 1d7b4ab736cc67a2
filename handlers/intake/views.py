"""Intake's Block Kit: the intake form, and the failure notice with its Post it again button."""

from __future__ import annotations

from typing import Any

from bot.core.ports import Message
from handlers.slack import blockkit


def retry_post(text: str, case_id: int) -> Message:
    return Message(text, blockkit.retry_post(text, case_id))


def intake_modal(**fields: Any) -> dict[str, Any]:
    return blockkit.intake_modal(**fields)
