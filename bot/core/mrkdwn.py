"""Slack's mrkdwn as text: mentions, dates every reader sees in their own zone, escaped user text.

Pure string work (no Block Kit), so the domain can write the lines it posts in a case thread.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.textutil import safe


def mention(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "someone"


def slack_date(when: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A timestamp every reader sees in their own time zone, with a UTC fallback."""
    epoch = int(when.timestamp())
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{fmt}|{fallback}>"


def safe_limited(text: str | None, limit: int) -> str:
    """Escape user text and shorten it so the escaped form fits within `limit` characters."""
    raw = text or ""
    escaped = safe(raw)
    while len(escaped) > limit:
        raw = raw[: max(0, min(len(raw) - 1, int(len(raw) * limit / len(escaped)) - 2))]
        escaped = safe(raw) + "…"
    return escaped
