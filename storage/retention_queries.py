"""Queries behind retention (bot.learning.retention): the daily claim row and erasing a batch of cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from storage.models import Case, CaseEvent, CaseStep, Handoff, JobRun, Review
from storage.sql import changed, insert_unless_exists

JOBS = JobRun
CLOSED_STATUSES = ("resolved", "unresolved")
Scrub = Callable[[dict[str, Any]], dict[str, Any]]


def claim_day(session: Connection, *, job: str, day: str, worker: str, now: datetime, stale_after: timedelta) -> bool:
    """True if this worker now holds `job` for `day`: it inserted the row (INSERT … ON CONFLICT DO
    NOTHING on both databases), or took over a claim that was never finished and has gone stale."""
    values = {"job": job, "day": day, "claimed_by": worker, "claimed_at": now}
    stmt = insert_unless_exists(session, JOBS, values, ["job", "day"]).returning(JOBS.c.id)
    if session.execute(stmt).first() is not None:
        return True
    taken = session.execute(
        update(JOBS)
        .where(JOBS.c.job == job, JOBS.c.day == day, JOBS.c.finished_at.is_(None), JOBS.c.claimed_at < now - stale_after)
        .values(claimed_by=worker, claimed_at=now)
    )
    return changed(taken) == 1


def finish_day(session: Connection, *, job: str, day: str, worker: str, now: datetime, result: dict[str, Any]) -> None:
    session.execute(
        update(JOBS)
        .where(JOBS.c.job == job, JOBS.c.day == day, JOBS.c.claimed_by == worker)
        .values(finished_at=now, result=result)
    )


def cases_to_erase(session: Connection, *, closed_before: datetime, limit: int) -> list[int]:
    stmt = (
        select(Case.c.id)
        .where(Case.c.status.in_(CLOSED_STATUSES), Case.c.closed_at < closed_before, Case.c.erased_at.is_(None))
        .order_by(Case.c.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def erase_cases(session: Connection, ids: list[int], *, now: datetime, summary: str, marker: str, scrub: Scrub) -> None:
    """Remove the customer's details and every typed text from these cases and what hangs off them."""
    cases = Case
    rows = session.execute(
        select(cases.c.id, cases.c.resolution, cases.c.escalation)
        .where(cases.c.id.in_(ids), cases.c.erased_at.is_(None))
    ).all()
    if not rows:
        return
    session.execute(
        update(cases).where(cases.c.id == bindparam("b_id")).values(
            customer=None, customer_name_key=None, customer_email=None, customer_user=None, link=None,
            source_permalink=None, summary=summary, erased_at=now,
            resolution=bindparam("b_resolution"), escalation=bindparam("b_escalation"),
        ),
        [
            {"b_id": r.id, "b_resolution": scrub(r.resolution) if r.resolution else None,
             "b_escalation": scrub(r.escalation) if r.escalation else None}
            for r in rows
        ],
        execution_options={"synchronize_session": False},
    )
    erased = [r.id for r in rows]
    _scrub_steps(session, erased, scrub)
    _scrub_events(session, erased, scrub)
    session.execute(
        update(Handoff).where(Handoff.c.case_id.in_(erased)).values(note=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Handoff).where(Handoff.c.case_id.in_(erased), Handoff.c.status == "declined").values(reason=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Review).where(Review.c.case_id.in_(erased)).values(improve=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Review).where(Review.c.case_id.in_(erased), Review.c.ux_issue.is_not(None), Review.c.ux_issue != "")
        .values(ux_issue=marker).execution_options(synchronize_session=False)
    )


def _scrub_steps(session: Connection, ids: list[int], scrub: Scrub) -> None:
    steps = CaseStep
    rows = session.execute(
        select(steps.c.case_id, steps.c.step, steps.c.details).where(steps.c.case_id.in_(ids), steps.c.details.is_not(None))
    ).all()
    changed = [{"b_case": r.case_id, "b_step": r.step, "b_details": scrub(r.details)} for r in rows if r.details]
    if changed:
        session.execute(
            update(steps).where(steps.c.case_id == bindparam("b_case"), steps.c.step == bindparam("b_step"))
            .values(details=bindparam("b_details")),
            changed,
            execution_options={"synchronize_session": False},
        )


def _scrub_events(session: Connection, ids: list[int], scrub: Scrub) -> None:
    events = CaseEvent
    rows = session.execute(select(events.c.id, events.c.data).where(events.c.case_id.in_(ids))).all()
    changed = []
    for r in rows:
        if not r.data:
            continue
        clean = scrub(r.data)
        if clean != r.data:
            changed.append({"b_id": r.id, "b_data": clean})
    if changed:
        session.execute(
            update(events).where(events.c.id == bindparam("b_id")).values(data=bindparam("b_data")),
            changed,
            execution_options={"synchronize_session": False},
        )
