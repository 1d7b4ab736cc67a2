"""Queries behind the weekly digest (bot.learning.digest): plain data for two weeks, read through indexed ranges.

Every query is bounded by a date range on an indexed column (cases.opened_at, cases.closed_at,
reviews.reviewed_at, reminders (status, due_at)) or by the few open cases, so its cost follows one
week's activity, not the size of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, case, func, or_, select, update

from storage.models import Case, JobRun, Reminder, Review

OPEN_STATUSES = ("open", "escalated")
PUBLIC = "public"  # bot.audience.PUBLIC: storage does not import the bot package


@dataclass(frozen=True)
class CaseRef:
    """What the digest may show of a case, if the digest channel may see it."""

    id: int
    customer: str | None
    summary: str
    permalink: str | None
    channel_id: str
    visibility: str | None
    opened_at: datetime
    owner_id: str
    note: str | None = None  # e.g. the UX issue text of its review


@dataclass(frozen=True)
class WeekFigures:
    opened: int = 0
    resolved: int = 0
    unresolved: int = 0
    resolve_seconds: tuple[float, ...] = ()  # one per resolved case closed in the week
    moods: tuple[tuple[str | None, dict[str, Any]], ...] = ()  # (mood when flagged, resolution) per closed case


@dataclass(frozen=True)
class Listing:
    """Cases the digest channel may see (oldest first, at most the limit), and how many it may not."""

    shown: tuple[CaseRef, ...] = ()
    total: int = 0
    hidden: int = 0


@dataclass(frozen=True)
class DigestData:
    now: datetime
    week: WeekFigures
    previous: WeekFigures
    causes: dict[str, int] = field(default_factory=dict)
    previous_causes: dict[str, int] = field(default_factory=dict)
    ux_issues: Listing = Listing()
    open_too_long: Listing = Listing()
    overdue_follow_ups: int = 0
    overdue_owners: tuple[str, ...] = ()


def visible_in(channel: str) -> ColumnElement[bool]:
    """SQL form of bot.learning.digest.shareable: public, or living in the digest channel itself."""
    return or_(Case.c.visibility == PUBLIC, Case.c.channel_id == channel)


def week_figures(session: Connection, start: datetime, end: datetime) -> WeekFigures:
    opened = session.scalar(
        select(func.count()).select_from(Case).where(Case.c.opened_at >= start, Case.c.opened_at < end)
    ) or 0
    # Index-only on ix_cases_closed_status_opened: closed_at range, then status and opened_at.
    # The closed_at range of ix_cases_closed_status_opened, then the week's few rows for their moods.
    rows = session.execute(
        select(Case.c.status, Case.c.opened_at, Case.c.closed_at, Case.c.mood, Case.c.resolution)
        .where(Case.c.closed_at >= start, Case.c.closed_at < end, Case.c.status.in_(("resolved", "unresolved")))
    ).all()
    resolved = [(r.closed_at - r.opened_at).total_seconds() for r in rows if r.status == "resolved"]
    moods = tuple((r.mood, dict(r.resolution or {})) for r in rows)
    return WeekFigures(opened, len(resolved), len(rows) - len(resolved), tuple(resolved), moods)


def cause_counts(session: Connection, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(
        select(Review.c.cause, func.count())
        .where(Review.c.reviewed_at >= start, Review.c.reviewed_at < end)
        .group_by(Review.c.cause)
    ).all()
    return {cause: count for cause, count in rows}


def _ref(case: Row[Any], note: str | None = None) -> CaseRef:
    return CaseRef(case.id, case.customer, case.summary, case.permalink, case.channel_id, case.visibility,
                   case.opened_at, case.owner_id, note)


def ux_issues(session: Connection, start: datetime, end: datetime, channel: str, limit: int) -> Listing:
    """Reviews of the week whose UX issue was posted to the product channel."""
    sent = and_(Review.c.reviewed_at >= start, Review.c.reviewed_at < end, Review.c.forwarded_ts.is_not(None),
                Review.c.ux_issue.is_not(None), Review.c.ux_issue != "")
    base = select(Case, Review.c.ux_issue).join(Review, Review.c.case_id == Case.c.id).where(sent)
    shown = session.execute(base.where(visible_in(channel)).order_by(Review.c.reviewed_at).limit(limit)).all()
    total, hidden = _counts(session, select(Case.c.id).join(Review, Review.c.case_id == Case.c.id).where(sent), channel)
    return Listing(tuple(_ref(row, row.ux_issue) for row in shown), total, hidden)


def open_too_long(session: Connection, opened_before: datetime, channel: str, limit: int) -> Listing:
    # closed_at IS NULL (open cases never have one; reopening clears it) puts the search on the few
    # open rows of ix_cases_closed_status_opened instead of every case opened before the cutoff.
    stale = and_(Case.c.closed_at.is_(None), Case.c.status.in_(OPEN_STATUSES), Case.c.opened_at < opened_before)
    shown = session.execute(select(Case).where(stale, visible_in(channel)).order_by(Case.c.opened_at, Case.c.id).limit(limit))
    total, hidden = _counts(session, select(Case.c.id).where(stale), channel)
    return Listing(tuple(_ref(case) for case in shown), total, hidden)


def _counts(session: Connection, ids: Select[Any], channel: str) -> tuple[int, int]:
    """How many rows `ids` selects, and how many of them the channel may not see."""
    inner = ids.add_columns(case((visible_in(channel), 0), else_=1).label("hidden")).subquery()
    total, hidden = session.execute(select(func.count(), func.coalesce(func.sum(inner.c.hidden), 0))).one()
    return int(total), int(hidden)


def overdue_follow_ups(session: Connection, due_before: datetime, owners_limit: int) -> tuple[int, tuple[str, ...]]:
    """Pending follow-up reminders due before `due_before` (ix_reminders_status_due): count and owners."""
    late = and_(Reminder.c.status == "pending", Reminder.c.due_at < due_before, Reminder.c.kind == "follow_up")
    count = session.scalar(select(func.count()).select_from(Reminder).where(late)) or 0
    owners = session.scalars(
        select(Reminder.c.recipient).where(late).group_by(Reminder.c.recipient)
        .order_by(func.min(Reminder.c.due_at), Reminder.c.recipient).limit(owners_limit)
    )
    return int(count), tuple(owners)


def job_row(session: Connection, job: str, day: str) -> Row[Any] | None:
    return session.execute(select(JobRun).where(JobRun.c.job == job, JobRun.c.day == day)).first()


def note_chart(session: Connection, *, job: str, day: str, file_id: str) -> None:
    """Keep the trend chart's file id with the digest it went out with (App Home shows the latest)."""
    row = job_row(session, job, day)
    if row is not None:
        chart = {**(row.result or {}), "chart": file_id}
        session.execute(update(JobRun).where(JobRun.c.id == row.id).values(result=chart))


def latest_chart(session: Connection, job: str, weeks: int = 4) -> str | None:
    """The newest chart's file id among the last few digests (a digest without one is skipped)."""
    results = session.scalars(
        select(JobRun.c.result).where(JobRun.c.job == job, JobRun.c.finished_at.is_not(None))
        .order_by(JobRun.c.day.desc()).limit(weeks)
    )
    return next((str(r["chart"]) for r in results if r and r.get("chart")), None)


def record_retry(session: Connection, *, job: str, day: str, worker: str, error: str, claimed_at: datetime) -> None:
    """Leave the claim unfinished with the error in it, dated so claim_day lets a later tick take it over."""
    session.execute(
        update(JobRun)
        .where(JobRun.c.job == job, JobRun.c.day == day, JobRun.c.claimed_by == worker, JobRun.c.finished_at.is_(None))
        .values(claimed_at=claimed_at, result={"error": error, "retry": True})
    )
