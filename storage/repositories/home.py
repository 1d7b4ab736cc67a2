"""What App Home reads: an agent's open cases and the team's numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from storage.models import Case
from storage.repositories.cases import CASES, STEPS


def open_cases_for(session: Connection, owner_id: str, limit: int = 20) -> list[tuple[Row[Any], int]]:
    """The owner's open cases, newest first, each with how many steps are done (one query)."""
    done = (
        select(func.count())
        .where(STEPS.c.case_id == Case.c.id, STEPS.c.done.is_(True))
        .correlate(Case)
        .scalar_subquery()
    )
    stmt = (
        select(Case, done.label("steps_done"))
        .where(Case.c.owner_id == owner_id, Case.c.status.in_(("open", "escalated")))
        .order_by(Case.c.opened_at.desc())
        .limit(limit)
    )
    return [(row, row.steps_done) for row in session.execute(stmt).all()]


def status_counts(session: Connection, since: datetime | None = None) -> dict[str, int]:
    stmt = select(Case.c.status, func.count()).group_by(Case.c.status)
    if since is not None:
        stmt = stmt.where(Case.c.opened_at >= since)
    return {status: count for status, count in session.execute(stmt).all()}


def team_numbers(session: Connection, since: datetime) -> dict[str, Any]:
    """Cases opened and closed since `since`, open now, and the resolve times (each from an index alone)."""
    opened = session.scalar(select(func.count()).select_from(CASES).where(CASES.c.opened_at >= since)) or 0
    closed = session.execute(
        select(CASES.c.status, CASES.c.opened_at, CASES.c.closed_at).where(CASES.c.closed_at >= since)
    ).all()
    open_now = session.scalar(
        select(func.count()).select_from(CASES).where(CASES.c.status.in_(("open", "escalated")))
    ) or 0
    durations = sorted((c - o).total_seconds() for s, o, c in closed if s == "resolved")
    return {
        "opened": opened,
        "resolved": len(durations),
        "unresolved": sum(1 for s, _, _ in closed if s == "unresolved"),
        "open_now": open_now,
        "resolve_seconds": durations,
    }
