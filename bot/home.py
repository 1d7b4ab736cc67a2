"""The App Home tab: my open cases, my follow-ups, the team's numbers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot import blocks as b
from bot import playbook, texts
from bot.cases import Cases
from bot.textutil import human_duration
from storage import repositories as repo
from storage.models import Reminder

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
    counts: dict[str, Any]
    causes: dict[str, int]


_team_cache: dict[int, TeamNumbers] = {}


def team_numbers(cases: Cases, session: Session, now: datetime) -> TeamNumbers:
    """The last 30 days' team numbers, recounted at most once a minute per database."""
    cached = _team_cache.get(id(cases.db))
    if cached and cached.computed_at <= now < cached.computed_at + TEAM_NUMBERS_TTL:
        return cached
    fresh = TeamNumbers(
        now, repo.team_numbers(session, now - TEAM_WINDOW), repo.cause_counts(session, now - TEAM_WINDOW)
    )
    _team_cache[id(cases.db)] = fresh
    return fresh


def my_follow_ups(session: Session, user: str, now: datetime) -> list[Reminder]:
    """The next follow-ups due this week, then the latest sent or failed ones to fill the list."""
    upcoming = list(repo.reminders_for(session, user, kind="follow_up", due_before=now + FOLLOW_UPS_AHEAD,
                                       limit=FOLLOW_UPS_SHOWN))
    room = FOLLOW_UPS_SHOWN - len(upcoming)
    recent = repo.latest_reminders(session, user, ("sent", "failed"), kind="follow_up", limit=room) if room else []
    return upcoming + recent


def home_view(cases: Cases, user: str) -> dict[str, Any]:
    now = cases.clock()
    with cases.db.session() as session:
        mine = repo.open_cases_for(session, user, limit=15)
        reminders = my_follow_ups(session, user, now)
        case_names = {c.id: c.customer for c in mine}
        missing = {r.case_id for r in reminders if r.case_id and r.case_id not in case_names}
        case_names.update({i: c.customer for i, c in repo.cases_by_id(session, missing).items()})
        team = team_numbers(cases, session, now)
        numbers, causes = team.counts, team.causes
        agent = repo.get_agent(session, user)
        breather_until = agent.breather_until if agent and agent.breather_until and agent.breather_until > now else None
        mine_rows = [
            (c.id, c.customer, sum(1 for s in c.steps if s.done), c.status, c.opened_at, c.permalink, c.escalation)
            for c in mine
        ]

    items: list[Block] = [HeaderBlock(text=PlainTextObject(text=texts.HOME_HEADER)), b.context(texts.HOME_INTRO)]
    if breather_until:
        items.append(b.section(texts.HOME_ON_BREATHER.format(until=b.slack_date(breather_until, "{time}"))))
    items += [DividerBlock(), HeaderBlock(text=PlainTextObject(text=texts.HOME_MY_CASES))]
    if not mine_rows:
        items.append(b.section(texts.HOME_NO_CASES))
    for case_id, customer, done, status, opened_at, permalink, _esc in mine_rows:
        items.append(b.section(texts.HOME_CASE_LINE.format(
            number=case_id, customer=b.safe_limited(customer, 100) if customer else "(no name)", done=done,
            total=playbook.TOTAL, status=texts.STATUS_LABELS.get(status, status), when=b.slack_date(opened_at, "{date_short_pretty}"),
            link=f" · <{permalink}|open>" if permalink else "",
        )))
    items += [DividerBlock(), HeaderBlock(text=PlainTextObject(text=texts.HOME_FOLLOW_UPS))]
    if not reminders:
        items.append(b.section(texts.HOME_NO_FOLLOW_UPS))
    for r in reminders:
        customer = case_names.get(r.case_id or 0)
        when = r.due_at if r.status != "sent" else (r.sent_at or r.due_at)
        items.append(b.section(texts.HOME_FOLLOW_UP_LINE.format(
            icon=FOLLOW_UP_ICONS.get(r.status, "•"), number=r.case_id,
            customer=b.safe_limited(customer, 80) if customer else "", state=texts.HOME_FOLLOW_UP_STATES[r.status],
            when=b.slack_date(when),
        )))
    median = human_duration(statistics.median(numbers["resolve_seconds"])) if numbers["resolve_seconds"] else "n/a"
    items += [
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text=texts.HOME_TEAM)),
        b.section(texts.HOME_TEAM_NUMBERS.format(median=median, **{k: v for k, v in numbers.items() if k != "resolve_seconds"})),
    ]
    if causes:
        ranked = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
        items.append(b.section(texts.HOME_CAUSES.format(
            causes=", ".join(f"{texts.CAUSES.get(k, k)} ({v})" for k, v in ranked))))
    else:
        items.append(b.section(texts.HOME_NO_CAUSES))
    return View(type="home", blocks=items[: b.MAX_VIEW_BLOCKS]).to_dict()
