"""The App Home tab as Block Kit (bot.home.data says what is in it).

Plain dicts rather than slack_sdk's model classes: their to_dict() validation cost more than the rest
of a render. tests/test_home.py checks the result against those classes instead.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.core import mrkdwn
from bot.core.textutil import human_duration, truncate
from bot.home.data import HomeData, TeamNumbers
from handlers.home.insights_view import insight_blocks
from handlers.slack.blockkit import MAX_VIEW_BLOCKS, SECTION_LIMIT

FOLLOW_UP_ICONS = {"pending": "⏰", "sent": "📬", "failed": "⚠️"}
DIVIDER: dict[str, Any] = {"type": "divider"}


def home_view(data: HomeData) -> dict[str, Any]:
    items: list[dict[str, Any]] = [_header(texts.HOME_HEADER), _context(texts.HOME_INTRO)]
    if data.breather_until:
        items.append(_section(texts.HOME_ON_BREATHER.format(until=mrkdwn.slack_date(data.breather_until, "{time}"))))
    items += [DIVIDER, _header(texts.HOME_MY_CASES)]
    if not data.cases:
        items.append(_section(texts.HOME_NO_CASES))
    for case in data.cases:
        items.append(_section(texts.HOME_CASE_LINE.format(
            number=case.id, customer=mrkdwn.safe_limited(case.customer, 100) if case.customer else "(no name)",
            done=case.done, total=case.total, status=texts.STATUS_LABELS.get(case.status, case.status),
            when=mrkdwn.slack_date(case.opened_at, "{date_short_pretty}"),
            link=f" · <{case.permalink}|open>" if case.permalink else "",
        )))
    items += [DIVIDER, _header(texts.HOME_FOLLOW_UPS)]
    if not data.follow_ups:
        items.append(_section(texts.HOME_NO_FOLLOW_UPS))
    for r in data.follow_ups:
        items.append(_section(texts.HOME_FOLLOW_UP_LINE.format(
            icon=FOLLOW_UP_ICONS.get(r.status, "•"), number=r.case_id,
            customer=mrkdwn.safe_limited(r.customer, 80) if r.customer else "", state=texts.HOME_FOLLOW_UP_STATES[r.status],
            when=mrkdwn.slack_date(r.when),
        )))
    items += [DIVIDER, _header(texts.HOME_TEAM), *team_blocks(data.team)]
    items += [DIVIDER, *insight_blocks(data)] if data.insights is not None else []
    return {"type": "home", "blocks": items[:MAX_VIEW_BLOCKS]}


def team_blocks(team: TeamNumbers) -> list[dict[str, Any]]:
    median = human_duration(team.median_resolve_seconds) if team.median_resolve_seconds is not None else "n/a"
    blocks = [_section(texts.HOME_TEAM_NUMBERS.format(median=median, **team.counts))]
    if team.causes:
        ranked = sorted(team.causes.items(), key=lambda kv: (-kv[1], kv[0]))
        blocks.append(_section(texts.HOME_CAUSES.format(causes=", ".join(f"{texts.CAUSES.get(k, k)} ({v})" for k, v in ranked))))
    else:
        blocks.append(_section(texts.HOME_NO_CAUSES))
    return blocks


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, 150)}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}]}
