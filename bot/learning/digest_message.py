"""The weekly digest's message: plain figures (storage.digest_queries.DigestData) in, Block Kit out.

A case's details (customer, summary, link, owner) are shown only when the case is public or lives in the
digest channel itself; other cases are only counted."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.core import mood
from bot.core.textutil import human_duration, is_url, safe, truncate
from bot.delivery.audience import PUBLIC
from storage import digest_queries as dq

LIST_LIMIT = 10


WEEK = timedelta(days=7)
OPEN_TOO_LONG = timedelta(days=3)
OWNERS_LIMIT = 20
SECTION_LIMIT = 3000  # Slack's limit for a section's text


MAX_BLOCKS = 50


# --- content ----------------------------------------------------------------------------------
def shareable(case: dq.CaseRef, channel: str) -> bool:
    """May the digest channel see this case's details? Only if anyone inside may, or it lives there."""
    return case.visibility == PUBLIC or case.channel_id == channel


def median_seconds(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def resolution_rate(week: dq.WeekFigures) -> float | None:
    closed = week.resolved + week.unresolved
    return week.resolved / closed if closed else None


def _percent(rate: float | None) -> str:
    return texts.DIGEST_NONE if rate is None else f"{round(rate * 100)} %"


def _duration(seconds: float | None) -> str:
    return texts.DIGEST_NONE if seconds is None else human_duration(seconds)


def _delta(now: int, before: int) -> str:
    change = texts.DIGEST_SAME if now == before else f"{now - before:+d}"
    return texts.DIGEST_DELTA.format(previous=before, change=change)


def _lines_within(lines: list[str], limit: int = SECTION_LIMIT) -> str:
    """Join whole lines while they fit, so a cut never breaks a link or a mention."""
    kept: list[str] = []
    size = 0
    for line in lines:
        line = truncate(line, limit - 3)
        if size + len(line) + 1 > limit - 2:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _case_link(case: dq.CaseRef) -> str:
    label = texts.DIGEST_CASE.format(number=case.id)
    link = case.permalink or ""
    if is_url(link) and not any(c in link for c in "|<> "):
        return f"<{link}|{label}>"
    return label


def _one_line(text: str | None, limit: int) -> str:
    return safe(truncate(" ".join((text or "").split()), limit))


def _week_section(data: dq.DigestData) -> str:
    week, before = data.week, data.previous
    return texts.DIGEST_WEEK.format(
        opened=week.opened, opened_delta=_delta(week.opened, before.opened),
        resolved=week.resolved, resolved_delta=_delta(week.resolved, before.resolved),
        unresolved=week.unresolved, unresolved_delta=_delta(week.unresolved, before.unresolved),
        rate=_percent(resolution_rate(week)), previous_rate=_percent(resolution_rate(before)),
        median=_duration(median_seconds(week.resolve_seconds)),
        previous_median=_duration(median_seconds(before.resolve_seconds)),
    ) + "\n" + _mood_line(week, before)


def week_moods(week: dq.WeekFigures) -> mood.MoodTally:
    return mood.tally((before, mood.later_mood(resolution)) for before, resolution in week.moods)


def _mood_line(week: dq.WeekFigures, before: dq.WeekFigures) -> str:
    """The headline outcome: how many closed customers ended calmer than they were flagged."""
    now, then = week_moods(week), week_moods(before)
    if not now.measured:
        return texts.DIGEST_MOOD_NONE
    return texts.DIGEST_MOOD.format(calmer=now.calmer, measured=now.measured, worse=now.worse,
                                    rate=_percent(now.calmer_share), previous_rate=_percent(then.calmer_share))


def _causes_section(data: dq.DigestData) -> str:
    causes = set(data.causes) | set(data.previous_causes)
    if not causes:
        return texts.DIGEST_NO_CAUSES
    ordered = sorted(causes, key=lambda c: (-data.causes.get(c, 0), -data.previous_causes.get(c, 0), c))
    lines = [texts.DIGEST_CAUSES_TITLE] + [
        texts.DIGEST_CAUSE_LINE.format(cause=safe(texts.CAUSES.get(c, c)), count=data.causes.get(c, 0),
                                       previous=data.previous_causes.get(c, 0))
        for c in ordered
    ]
    return _lines_within(lines)


def _visible(listing: dq.Listing, channel: str) -> tuple[list[dq.CaseRef], int]:
    """The listed cases the channel may see (at most LIST_LIMIT), and how many are only counted."""
    shown = [c for c in listing.shown if shareable(c, channel)]
    slipped = len(listing.shown) - len(shown)  # the query should have left these out: count them instead
    return shown[:LIST_LIMIT], listing.hidden + slipped


def _listing_tail(listing: dq.Listing, shown: int, hidden: int) -> list[str]:
    lines = []
    more = listing.total - hidden - shown
    if more > 0:
        lines.append(texts.DIGEST_MORE.format(count=more))
    if hidden:
        lines.append(texts.DIGEST_HIDDEN.format(count=hidden))
    return lines


def _ux_section(data: dq.DigestData, channel: str) -> str:
    shown, hidden = _visible(data.ux_issues, channel)
    lines = [texts.DIGEST_UX_TITLE.format(count=data.ux_issues.total)]
    lines += [texts.DIGEST_UX_LINE.format(case=_case_link(c), issue=_one_line(c.note, 200)) for c in shown]
    return _lines_within(lines + _listing_tail(data.ux_issues, len(shown), hidden))


def _open_section(data: dq.DigestData, channel: str) -> str:
    shown, hidden = _visible(data.open_too_long, channel)
    lines = [texts.DIGEST_OPEN_TITLE.format(days=OPEN_TOO_LONG.days, count=data.open_too_long.total)]
    for c in shown:
        customer = f"*{_one_line(c.customer, 80)}* " if c.customer else ""
        lines.append(texts.DIGEST_OPEN_LINE.format(
            case=_case_link(c), customer=customer, summary=_one_line(c.summary, 120),
            age=human_duration((data.now - c.opened_at).total_seconds()), owner=c.owner_id))
    return _lines_within(lines + _listing_tail(data.open_too_long, len(shown), hidden))


def _follow_ups_section(data: dq.DigestData) -> str:
    owners = ""
    if data.overdue_owners:
        named = ", ".join(f"<@{u}>" for u in data.overdue_owners[:OWNERS_LIMIT])
        if len(data.overdue_owners) > OWNERS_LIMIT:
            named += " " + texts.DIGEST_MORE.format(count=len(data.overdue_owners) - OWNERS_LIMIT)
        owners = texts.DIGEST_FOLLOW_UPS_OWNERS.format(owners=named)
    return _lines_within([texts.DIGEST_FOLLOW_UPS.format(count=data.overdue_follow_ups, owners=owners)])


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def build_digest(data: dq.DigestData, channel: str, tz: str = "UTC") -> tuple[str, list[dict[str, Any]]]:
    """The digest's fallback text and blocks (well within 50 blocks and 3,000 characters a section)."""
    zone = ZoneInfo(tz)
    end = data.now.astimezone(zone)
    start = (data.now - WEEK).astimezone(zone)
    span = {"start": start.strftime("%d %b"), "end": end.strftime("%d %b %Y")}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(texts.DIGEST_HEADER.format(**span), 150)}},
        _section(_week_section(data)),
        _section(_causes_section(data)),
        _section(_ux_section(data, channel)),
        _section(_open_section(data, channel)),
        _section(_follow_ups_section(data)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": texts.DIGEST_FOOTER.format(
            now=end.strftime("%a %d %b %H:%M"), tz=tz)}]},
    ]
    text = texts.DIGEST_FALLBACK.format(opened=data.week.opened, resolved=data.week.resolved,
                                        unresolved=data.week.unresolved, **span)
    return text, blocks[:MAX_BLOCKS]
