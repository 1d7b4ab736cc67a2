"""The App Home tab: my open cases, my follow-ups, the team's numbers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot import blocks as b
from bot import playbook, texts
from bot.cases import Cases
from bot.core import mrkdwn
from bot.textutil import human_duration, truncate
from storage import repositories as repo
from storage.models import Case, Reminder

FOLLOW_UP_ICONS = {"pending": "⏰", "sent": "📬", "failed": "⚠️"}
FOLLOW_UPS_SHOWN = 15
FOLLOW_UPS_AHEAD = timedelta(days=7)
TEAM_WINDOW = timedelta(days=30)
# The team's numbers are the same for everyone and move slowly; recounting them for every Home
# render would read a month of cases each time. A minute old is fresh enough.
TEAM_NUMBERS_TTL = timedelta(minutes=1)


@dataclass(frozen=True)
class TeamNumbers:
    computed_at: datetime
    blocks: list[dict[str, Any]]  # rendered once per count: the same for everyone


_team_cache: dict[int, TeamNumbers] = {}


def team_numbers(cases: Cases, session: Session, now: datetime) -> TeamNumbers:
    """The last 30 days' team numbers, recounted at most once a minute per database."""
    cached = _team_cache.get(id(cases.db))
    if cached and cached.computed_at <= now < cached.computed_at + TEAM_NUMBERS_TTL:
        return cached
    since = now - TEAM_WINDOW
    fresh = TeamNumbers(now, _team_blocks(repo.team_numbers(session, since), repo.cause_counts(session, since)))
    _team_cache[id(cases.db)] = fresh
    return fresh


def my_follow_ups(session: Session, user: str, now: datetime) -> list[tuple[Reminder, str | None]]:
    """The next follow-ups due this week, then the latest sent or failed ones to fill the list."""
    upcoming, recent = repo.home_follow_ups(session, user, kind="follow_up", due_before=now + FOLLOW_UPS_AHEAD,
                                            recent=("sent", "failed"), limit=FOLLOW_UPS_SHOWN)
    return (upcoming + recent)[:FOLLOW_UPS_SHOWN]


def home_view(cases: Cases, user: str) -> dict[str, Any]:
    now = cases.clock()
    with cases.db.session() as session:
        mine = repo.open_cases_for(session, user, limit=15)
        reminders = my_follow_ups(session, user, now)
        team = team_numbers(cases, session, now)
        agent = repo.get_agent(session, user)
        breather_until = agent.breather_until if agent and agent.breather_until and agent.breather_until > now else None
        # Each case's total comes from the playbook it keeps on its row (already loaded: no extra query).
    mine_rows = [(c.id, c.customer, done, _total(c), c.status, c.opened_at, c.permalink) for c, done in mine]

    items: list[dict[str, Any]] = [_header(texts.HOME_HEADER), _context(texts.HOME_INTRO)]
    if breather_until:
        items.append(_section(texts.HOME_ON_BREATHER.format(until=mrkdwn.slack_date(breather_until, "{time}"))))
    items += [DIVIDER, _header(texts.HOME_MY_CASES)]
    if not mine_rows:
        items.append(_section(texts.HOME_NO_CASES))
    for case_id, customer, done, total, status, opened_at, permalink in mine_rows:
        items.append(_section(texts.HOME_CASE_LINE.format(
            number=case_id, customer=mrkdwn.safe_limited(customer, 100) if customer else "(no name)", done=done,
            total=total, status=texts.STATUS_LABELS.get(status, status), when=mrkdwn.slack_date(opened_at, "{date_short_pretty}"),
            link=f" · <{permalink}|open>" if permalink else "",
        )))
    items += [DIVIDER, _header(texts.HOME_FOLLOW_UPS)]
    if not reminders:
        items.append(_section(texts.HOME_NO_FOLLOW_UPS))
    for r, customer in reminders:
        when = r.due_at if r.status != "sent" else (r.sent_at or r.due_at)
        items.append(_section(texts.HOME_FOLLOW_UP_LINE.format(
            icon=FOLLOW_UP_ICONS.get(r.status, "•"), number=r.case_id,
            customer=mrkdwn.safe_limited(customer, 80) if customer else "", state=texts.HOME_FOLLOW_UP_STATES[r.status],
            when=mrkdwn.slack_date(when),
        )))
    items += [DIVIDER, _header(texts.HOME_TEAM), *team.blocks]
    return {"type": "home", "blocks": items[: b.MAX_VIEW_BLOCKS]}


# Plain dicts rather than slack_sdk's model classes: their to_dict() validation cost more than the rest
# of a render. tests/test_home.py checks the result against those classes instead.
DIVIDER: dict[str, Any] = {"type": "divider"}


def _total(case: Case) -> int:
    """How many steps the case has: those of the playbook it was opened with (rows from before: the built-in)."""
    return len(case.playbook_steps) if case.playbook_steps else len(playbook.built_in().steps)


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, 150)}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, b.SECTION_LIMIT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, b.SECTION_LIMIT)}]}


def _team_blocks(numbers: dict[str, Any], causes: dict[str, int]) -> list[dict[str, Any]]:
    median = human_duration(statistics.median(numbers["resolve_seconds"])) if numbers["resolve_seconds"] else "n/a"
    counts = {k: v for k, v in numbers.items() if k != "resolve_seconds"}
    blocks = [_section(texts.HOME_TEAM_NUMBERS.format(median=median, **counts))]
    if causes:
        ranked = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
        blocks.append(_section(texts.HOME_CAUSES.format(causes=", ".join(f"{texts.CAUSES.get(k, k)} ({v})" for k, v in ranked))))
    else:
        blocks.append(_section(texts.HOME_NO_CAUSES))
    return blocks
