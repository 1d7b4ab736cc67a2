"""What the App Home tab shows a person: their open cases, their follow-ups, the team's numbers.

Read here, rendered on the Slack side (handlers/home/views.py).
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core import playbook
from bot.core.cases import CaseStore
from bot.learning.digest import JOB as DIGEST_JOB
from bot.learning.insights import Figures, Tally
from storage import digest_queries as dq
from storage import insight_queries as iq
from storage import repositories as repo
from storage.db import Session

FOLLOW_UPS_SHOWN = 15
FOLLOW_UPS_AHEAD = timedelta(days=7)
TEAM_WINDOW = timedelta(days=30)
# The team's numbers are the same for everyone and move slowly; recounting them for every Home
# render would read a month of cases each time. A minute old is fresh enough.
TEAM_NUMBERS_TTL = timedelta(minutes=1)
INSIGHT_WINDOWS = (30, 90)  # days: the last month, and a quarter for the slower signals


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
class Insights:
    """What works, for the last 30 and 90 days; `agents`: each owner's last 30 days (for leads)."""

    computed_at: datetime
    windows: dict[int, Figures]
    agents: dict[str, Figures]


@dataclass(frozen=True)
class HomeData:
    cases: list[MyCase]
    follow_ups: list[MyFollowUp]
    team: TeamNumbers
    breather_until: datetime | None
    insights: Insights | None = None
    mine: Figures | None = None  # the viewer's own last 30 days
    lead: bool = False  # a lead sees the figures per agent
    step_titles: dict[int, str] = field(default_factory=dict)  # the team's playbook, for the skipped steps
    chart_file: str | None = None  # the latest weekly trend chart (bot.learning.trend), a Slack file id


_team_cache: dict[int, TeamNumbers] = {}
_insight_cache: dict[int, Insights] = {}
_refreshing = threading.Lock()  # one background refresh at a time
log = logging.getLogger(__name__)


def forget_cached() -> None:
    """Drop the minute-old team figures (tests that move the clock back, a seeded database)."""
    _team_cache.clear()
    _insight_cache.clear()


def team_insights(cases: CaseStore, now: datetime) -> Insights:
    """The team's insights (the same for everyone). Reading 90 days of cases costs about half a second
    at 100,000 cases, so a Home render never waits for it once it has been worked out: an answer older
    than a minute is shown while one thread works out the next."""
    cached = _insight_cache.get(id(cases.db))
    if cached is None:
        return work_out_insights(cases, now)
    if not cached.computed_at <= now < cached.computed_at + TEAM_NUMBERS_TTL and _refreshing.acquire(blocking=False):
        threading.Thread(target=_refresh, args=(cases, now), name="home-insights", daemon=True).start()
    return cached


def _refresh(cases: CaseStore, now: datetime) -> None:
    try:
        work_out_insights(cases, now)
    except Exception:  # the last answer stays; the next render tries again
        log.exception("working out the Home insights failed")
    finally:
        _refreshing.release()


def work_out_insights(cases: CaseStore, now: datetime) -> Insights:
    windows = {days: Tally() for days in INSIGHT_WINDOWS}
    agents: dict[str, Tally] = defaultdict(Tally)
    with cases.db.session() as session:  # each case is counted as it is read, and none is kept
        for row in iq.each_closed_case(session, now - timedelta(days=max(INSIGHT_WINDOWS)), now):
            for days, tally in windows.items():
                if row.closed_at >= now - timedelta(days=days):
                    tally.add(row)
            if row.closed_at >= now - TEAM_WINDOW:
                agents[row.owner_id].add(row)
    fresh = Insights(now, {days: tally.figures() for days, tally in windows.items()},
                     {owner: tally.figures() for owner, tally in sorted(agents.items())})
    _insight_cache[id(cases.db)] = fresh
    return fresh


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


def home_data(cases: CaseStore, user: str, *, lead: bool = False) -> HomeData:
    now = cases.clock()
    found = team_insights(cases, now)  # before the session: working it out opens one of its own
    with cases.db.session() as session:
        # Each case's total comes from the playbook it keeps on its row (already loaded: no extra query).
        mine = [MyCase(c.id, c.customer, done, _total(c.playbook_steps), c.status, c.opened_at, c.permalink)
                for c, done in repo.open_cases_for(session, user, limit=15)]
        follow_ups = my_follow_ups(session, user, now)
        team = team_numbers(cases, session, now)
        agent = repo.get_agent(session, user)
        breather_until = agent.breather_until if agent and agent.breather_until and agent.breather_until > now else None
        chart = dq.latest_chart(session, DIGEST_JOB)
    titles = {step.number: step.title for step in cases.playbook.steps}
    return HomeData(mine, follow_ups, team, breather_until, found, found.agents.get(user, Figures()), lead, titles, chart)


def _total(steps: Any) -> int:
    """How many steps the case has: those of the playbook it was opened with (rows from before: the built-in)."""
    return len(steps) if steps else len(playbook.built_in().steps)
