"""What the App Home tab shows a person: their open cases, their follow-ups, the team's numbers.

Read here, rendered on the Slack side (handlers/home/views.py).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import playbook
from bot.core.cases import CaseStore
from storage import repositories as repo
from storage.db import Session

FOLLOW_UPS_SHOWN = 15
FOLLOW_UPS_AHEAD = timedelta(days=7)
TEAM_WINDOW = timedelta(days=30)
# The team's numbers are the same for everyone and move slowly; recounting them for every Home
# render would read a month of cases each time. A minute old is fresh enough.
TEAM_NUMBERS_TTL = timedelta(minutes=1)


@dataclass(frozen=True)
class MyCase:
    id: int
    customer: str | None
    done: int
    total: int
    status: str
    opened_at: datetime
    permalink: str | None


@dataclass(frozen=True)
class MyFollowUp:
    case_id: int | None
    customer: str | None
    status: str
    when: datetime  # when it is due, or when it was sent


@dataclass(frozen=True)
class TeamNumbers:
    computed_at: datetime
    counts: dict[str, int]
    median_resolve_seconds: float | None
    causes: dict[str, int]


@dataclass(frozen=True)
class HomeData:
    cases: list[MyCase]
    follow_ups: list[MyFollowUp]
    team: TeamNumbers
    breather_until: datetime | None


_team_cache: dict[int, TeamNumbers] = {}


def team_numbers(cases: CaseStore, session: Session, now: datetime) -> TeamNumbers:
    """The last 30 days' team numbers, recounted at most once a minute per database."""
    cached = _team_cache.get(id(cases.db))
    if cached and cached.computed_at <= now < cached.computed_at + TEAM_NUMBERS_TTL:
        return cached
    since = now - TEAM_WINDOW
    numbers: dict[str, Any] = repo.team_numbers(session, since)
    seconds = numbers.pop("resolve_seconds", None) or []
    fresh = TeamNumbers(now, numbers, statistics.median(seconds) if seconds else None, repo.cause_counts(session, since))
    _team_cache[id(cases.db)] = fresh
    return fresh


def my_follow_ups(session: Session, user: str, now: datetime) -> list[MyFollowUp]:
    """The next follow-ups due this week, then the latest sent or failed ones to fill the list."""
    upcoming, recent = repo.home_follow_ups(session, user, kind="follow_up", due_before=now + FOLLOW_UPS_AHEAD,
                                            recent=("sent", "failed"), limit=FOLLOW_UPS_SHOWN)
    return [MyFollowUp(r.case_id, customer, r.status, r.due_at if r.status != "sent" else (r.sent_at or r.due_at))
            for r, customer in (upcoming + recent)[:FOLLOW_UPS_SHOWN]]


def home_data(cases: CaseStore, user: str) -> HomeData:
    now = cases.clock()
    with cases.db.session() as session:
        # Each case's total comes from the playbook it keeps on its row (already loaded: no extra query).
        mine = [MyCase(c.id, c.customer, done, _total(c.playbook_steps), c.status, c.opened_at, c.permalink)
                for c, done in repo.open_cases_for(session, user, limit=15)]
        follow_ups = my_follow_ups(session, user, now)
        team = team_numbers(cases, session, now)
        agent = repo.get_agent(session, user)
        breather_until = agent.breather_until if agent and agent.breather_until and agent.breather_until > now else None
    return HomeData(mine, follow_ups, team, breather_until)


def _total(steps: Any) -> int:
    """How many steps the case has: those of the playbook it was opened with (rows from before: the built-in)."""
    return len(steps) if steps else len(playbook.built_in().steps)
