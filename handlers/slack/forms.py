"""Reading and checking modal submissions. Returns clean values or per-block error messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.core.snapshot import MOODS
from bot.core.textutil import MAX_CUSTOMER, MAX_LINK, MAX_SUMMARY, clean, is_url


def values(view: dict[str, Any]) -> dict[str, Any]:
    """Flatten view.state.values to {block_id: value} (text, selected option value, conversation, user, date)."""
    out: dict[str, Any] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for action in actions.values():
            kind = action.get("type")
            if kind in ("static_select", "radio_buttons"):
                option = action.get("selected_option")
                out[block_id] = option.get("value") if option else None
            elif kind == "conversations_select":
                out[block_id] = action.get("selected_conversation")
            elif kind == "channels_select":
                out[block_id] = action.get("selected_channel")
            elif kind == "users_select":
                out[block_id] = action.get("selected_user")
            elif kind == "datepicker":
                out[block_id] = action.get("selected_date")
            elif kind == "checkboxes":
                out[block_id] = [o.get("value") for o in action.get("selected_options") or []]
            else:
                value = action.get("value")
                out[block_id] = clean(value).strip() if isinstance(value, str) else value  # stored as typed, minus control chars
    return out


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class IntakeForm:
    customer: str
    summary: str
    mood: str | None
    link: str | None
    channel_id: str | None


def _text(errors: dict[str, str], block: str, value: Any, *, limit: int, required: bool) -> str | None:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        if required:
            errors[block] = texts.ERR_REQUIRED
        return None
    if len(text) > limit:
        errors[block] = texts.ERR_TOO_LONG.format(limit=limit)
    return text


def intake(view: dict[str, Any], *, need_channel: bool = True) -> tuple[IntakeForm | None, dict[str, str]]:
    v = values(view)
    errors: dict[str, str] = {}
    customer = _text(errors, "customer", v.get("customer"), limit=MAX_CUSTOMER, required=True)
    summary = _text(errors, "summary", v.get("summary"), limit=MAX_SUMMARY, required=True)
    link = _text(errors, "link", v.get("link"), limit=MAX_LINK, required=False)
    if link and "link" not in errors and not is_url(link):
        errors["link"] = texts.ERR_NOT_URL
    mood = v.get("mood")
    if mood not in MOODS:
        mood = None
    channel = v.get("channel")
    if need_channel and not channel:
        errors["channel"] = texts.ERR_NO_CHANNEL
    if errors:
        return None, errors
    assert customer is not None and summary is not None
    return IntakeForm(customer, summary, mood, link, channel), {}


def check(
    view: dict[str, Any],
    *,
    required: dict[str, int] | None = None,
    optional: dict[str, int] | None = None,
    choices: dict[str, dict[str, str]] | None = None,
    maybe: dict[str, dict[str, str]] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a modal by a small spec: {block: max length} for texts, {block: allowed labels} for choices
    (`maybe`: choices that may be left empty).
    Returns (values, errors per block) where errors is empty when the input is acceptable."""
    raw = values(view)
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for block, limit in (required or {}).items():
        out[block] = _text(errors, block, raw.get(block), limit=limit, required=True)
    for block, limit in (optional or {}).items():
        out[block] = _text(errors, block, raw.get(block), limit=limit, required=False)
    for block, allowed in (choices or {}).items():
        value = raw.get(block)
        if value not in allowed:
            errors[block] = texts.ERR_REQUIRED
        out[block] = value if value in allowed else None
    for block, allowed in (maybe or {}).items():  # optional choices: none is an answer too
        value = raw.get(block)
        if value is not None and value not in allowed:
            errors[block] = texts.ERR_REQUIRED
        out[block] = value if value in allowed else None
    return out, errors
