"""Cases and their steps: create, read, conditional transitions, and a customer's earlier cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Update, bindparam, delete, func, insert, or_, select, update
from sqlalchemy import case as sql_case

from storage.models import Case, CaseEvent, CaseStep, Handoff, Reminder, Review
from storage.repositories.rows import CaseRow, StepRow
from storage.sql import changed

STEP_COUNT = 6  # the built-in playbook's; a case opened with another playbook passes its own count
CASES = Case
STEPS = CaseStep
# Statements whose values are passed when they run: built once, their cache key computed once.
NEW_CASE = insert(CASES).returning(CASES.c.id)


def create_case(session: Connection, *, now: datetime, step_count: int = STEP_COUNT, **fields: Any) -> int:
    """Insert a case and its `step_count` unticked steps; returns the new case id."""
    values = {"opened_at": now, "updated_at": now, "status": "open", "hard_nudged": False, **fields}
    case_id: int = session.execute(NEW_CASE, values).scalar_one()
    session.execute(insert(STEPS), [{"case_id": case_id, "step": n, "done": False} for n in range(1, step_count + 1)])
    return case_id


def get_case(session: Connection, case_id: int, *, lock: bool = False) -> CaseRow | None:
    """The case and its steps (two queries); `lock` takes the case's row lock on PostgreSQL."""
    stmt = select(Case).where(Case.c.id == case_id)
    row = session.execute(stmt.with_for_update() if lock else stmt).first()
    return CaseRow(row, _steps_of(session, [case_id]).get(case_id, [])) if row is not None else None


def get_cases(session: Connection, case_ids: Sequence[int]) -> list[CaseRow]:
    """Several cases with their steps in two queries (the reminder engine reads a claimed batch at once)."""
    if not case_ids:
        return []
    rows = session.execute(select(Case).where(Case.c.id.in_(list(case_ids))).order_by(Case.c.id)).all()
    steps = _steps_of(session, [row.id for row in rows])
    return [CaseRow(row, steps.get(row.id, [])) for row in rows]


def _steps_of(session: Connection, case_ids: list[int]) -> dict[int, list[StepRow]]:
    found: dict[int, list[StepRow]] = {}
    stmt = select(STEPS).where(STEPS.c.case_id.in_(case_ids)).order_by(STEPS.c.case_id, STEPS.c.step)
    for step in session.execute(stmt):
        found.setdefault(step.case_id, []).append(step)
    return found


def update_case(session: Connection, case_id: int, now: datetime, **fields: Any) -> None:
    session.execute(_case_update(None), {"where_id": case_id, "updated_at": now, **fields})


def update_case_if(session: Connection, case_id: int, now: datetime, *, expect: dict[str, bool], **fields: Any) -> bool:
    """Conditional update for state transitions; True if this call made the change.

    expect: {"open": True} (status is open/escalated) or {"open": False} (closed).
    """
    result = session.execute(_case_update(expect.get("open")), {"where_id": case_id, "updated_at": now, **fields})
    return changed(result) == 1


@cache
def _case_update(is_open: bool | None) -> Update:
    """UPDATE cases … WHERE id = :where_id (and, unless None, whether it is open); the columns to set are
    the other parameters it runs with. Built once, so its cache key is computed once."""
    stmt = update(CASES).where(CASES.c.id == bindparam("where_id"))
    if is_open is not None:
        statuses = ("open", "escalated")
        stmt = stmt.where(CASES.c.status.in_(statuses) if is_open else CASES.c.status.not_in(statuses))
    return stmt


def set_step(
    session: Connection,
    case_id: int,
    step: int,
    *,
    done: bool,
    user: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> bool:
    """Move a step to `done`; True only if this call changed it (a repeat is a no-op)."""
    values: dict[str, Any] = {"done": done, "done_by": user if done else None, "done_at": now if done else None}
    values.update(details=details if done else None, where_case=case_id, where_step=step)
    return changed(session.execute(_step_update(done), values)) == 1


@cache
def _step_update(done: bool) -> Update:
    """The step's UPDATE unless it is already `done` (IS NOT takes only a literal true or false)."""
    return update(STEPS).where(
        STEPS.c.case_id == bindparam("where_case"), STEPS.c.step == bindparam("where_step"), STEPS.c.done.is_not(done))


def step_done(session: Connection, case_id: int, step: int) -> bool | None:
    """Whether the step is done; None if the case has no such step (or there is no such case)."""
    return session.scalar(select(STEPS.c.done).where(STEPS.c.case_id == case_id, STEPS.c.step == step))


def case_exists(session: Connection, case_id: int) -> bool:
    return session.scalar(select(CASES.c.id).where(CASES.c.id == case_id)) is not None


def _customer_match(name_key: str | None, email: str | None, user: str | None) -> Any:
    conditions = []
    if name_key:
        conditions.append(Case.c.customer_name_key == name_key)
    if email:
        conditions.append(Case.c.customer_email == email)
    if user:
        conditions.append(Case.c.customer_user == user)
    return or_(*conditions) if conditions else None


def _visible_in(viewer_channel: str | None) -> Any:
    """Earlier cases whose details may be shown in `viewer_channel` (an internal channel): those that live in
    that same channel, and those that live in a public internal channel. Unknown visibility counts as private."""
    if viewer_channel is None:
        return Case.c.visibility == "public"
    return or_(Case.c.channel_id == viewer_channel, Case.c.visibility == "public")


class PriorRow(NamedTuple):
    """What a case message shows of an earlier case."""

    id: int
    status: str
    opened_at: datetime
    permalink: str | None
    summary: str


def prior_cases(
    session: Connection, *, name_key: str | None, email: str | None, user: str | None, before_id: int, limit: int = 10,
    viewer_channel: str | None = None, everywhere: bool = True,
) -> list[PriorRow]:
    """The same customer's cases opened before `before_id`, newest first (name, e-mail or Slack user).
    With `everywhere=False` only those visible in `viewer_channel`. Only the columns shown: every case
    message of a repeat customer reads these, and whole rows carry the playbook and intake documents."""
    match = _customer_match(name_key, email, user)
    if match is None:
        return []
    stmt = select(Case.c.id, Case.c.status, Case.c.opened_at, Case.c.permalink, Case.c.summary).where(match, Case.c.id < before_id)
    if not everywhere:
        stmt = stmt.where(_visible_in(viewer_channel))
    return [PriorRow(*row) for row in session.execute(stmt.order_by(Case.c.id.desc()).limit(limit)).all()]


def count_prior_cases(session: Connection, *, name_key: str | None, email: str | None, user: str | None, before_id: int) -> int:
    match = _customer_match(name_key, email, user)
    if match is None:
        return 0
    return session.scalar(select(func.count()).select_from(Case).where(match, Case.c.id < before_id)) or 0


def count_prior_cases_seen(
    session: Connection, *, name_key: str | None, email: str | None, user: str | None, before_id: int, viewer_channel: str | None
) -> tuple[int, int]:
    """(all earlier cases, those of them visible in `viewer_channel`) in one query."""
    match = _customer_match(name_key, email, user)
    if match is None:
        return 0, 0
    seen = func.sum(sql_case((_visible_in(viewer_channel), 1), else_=0))
    total, visible = session.execute(select(func.count(), seen).select_from(Case).where(match, Case.c.id < before_id)).one()
    return int(total or 0), int(visible or 0)


def delete_unposted_case(session: Connection, case_id: int) -> bool:
    """Remove a case that never reached Slack (its steps, events and reminders go with it); False if it was
    posted, or a post of it was started (Slack may have it: bot.delivery)."""
    unposted = (Case.c.id == case_id, Case.c.message_ts.is_(None), Case.c.post_state != "sending")
    found = session.execute(select(Case.c.id).where(*unposted).with_for_update()).first()
    if found is None:
        return False
    for table in (Reminder, CaseEvent, STEPS, Handoff, Review):
        session.execute(delete(table).where(table.c.case_id == case_id))
    session.execute(delete(CASES).where(CASES.c.id == case_id))
    return True
