"""Durable reminders: enqueue once, claim with a lease, finish exactly once, and what Home lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select, union_all, update

from storage.models import Case, Reminder
from storage.sql import changed, new_row_unless_exists, row_by_key

REMINDER_OPEN = ("pending",)
REMINDERS = Reminder
# Built once with the values as parameters: this runs twice per reminder sent.
FINISH = update(REMINDERS).where(REMINDERS.c.id == bindparam("where_id"), REMINDERS.c.locked_by == bindparam(
    "where_worker"), REMINDERS.c.status == "pending")


def add_reminder(session: Connection, *, dedupe_key: str, now: datetime, **fields: Any) -> int | None:
    """Insert unless the dedupe key exists (retries and races enqueue once). Returns the new id or None."""
    table = Reminder
    values = {"dedupe_key": dedupe_key, "created_at": now, "status": "pending", "attempts": 0, "payload": {}, **fields}
    row = session.execute(new_row_unless_exists(session, table, ("dedupe_key",)), values).first()
    return row[0] if row else None


def claim_due(session: Connection, *, now: datetime, until: datetime, worker: str, limit: int) -> list[Row[Any]]:
    """Atomically lease up to `limit` due reminders to `worker` (FOR UPDATE SKIP LOCKED on PostgreSQL;
    SQLite serialises writers, so the same statement is atomic there)."""
    due = (
        select(Reminder.c.id)
        .where(
            Reminder.c.status == "pending",
            Reminder.c.due_at <= now,
            or_(Reminder.c.locked_until.is_(None), Reminder.c.locked_until < now),
        )
        .order_by(Reminder.c.due_at, Reminder.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stmt = (
        update(Reminder)
        .where(Reminder.c.id.in_(select(due.c.id)))
        .values(locked_until=until, locked_by=worker, attempts=Reminder.c.attempts + 1)
        .returning(Reminder)
    )
    rows = list(session.execute(stmt).all())
    rows.sort(key=lambda r: (r.due_at, r.id))
    return rows


def renew_leases(session: Connection, *, worker: str, until: datetime) -> int:
    """Extend every lease `worker` still holds (its heartbeat); rows it finished or released are not held.

    A row the tick is writing at this moment is skipped, not waited for (SKIP LOCKED on PostgreSQL): the
    tick's transaction writes two leased rows, and a heartbeat holding one while it waited for the other
    deadlocked with it. The tick's write renews that row's lease itself. SQLite has one writer at a time."""
    held = (
        select(Reminder.c.id)
        .where(Reminder.c.locked_by == worker, Reminder.c.status == "pending", Reminder.c.locked_until.is_not(None))
        .with_for_update(skip_locked=True)
    )
    return changed(session.execute(update(Reminder).where(Reminder.c.id.in_(held)).values(locked_until=until)))


def finish_reminder(session: Connection, reminder_id: int, worker: str, **fields: Any) -> bool:
    """Update a reminder this worker holds the lease on; False if the lease was lost."""
    values = {"locked_until": None, **fields, "where_id": reminder_id, "where_worker": worker}
    return changed(session.execute(FINISH, values)) == 1


def get_reminder(session: Connection, reminder_id: int) -> Row[Any] | None:
    return row_by_key(session, Reminder, reminder_id)


def set_reminder_status(session: Connection, reminder_id: int, *, status: str, expect: Sequence[str], **fields: Any) -> bool:
    result = session.execute(
        update(Reminder).where(Reminder.c.id == reminder_id, Reminder.c.status.in_(list(expect))).values(status=status, **fields)
    )
    return changed(result) == 1


def cancel_reminders(session: Connection, case_id: int, kinds: Sequence[str], reason: str) -> int:
    result = session.execute(
        update(Reminder)
        .where(Reminder.c.case_id == case_id, Reminder.c.kind.in_(list(kinds)), Reminder.c.status == "pending")
        .values(status="cancelled", last_error=reason, locked_until=None, locked_by=None)
    )
    return changed(result)


def reassign_reminders(session: Connection, case_id: int, old: str, new: str, kinds: Sequence[str]) -> int:
    result = session.execute(
        update(Reminder)
        .where(
            Reminder.c.case_id == case_id,
            Reminder.c.recipient == old,
            Reminder.c.kind.in_(list(kinds)),
            Reminder.c.status == "pending",
        )
        .values(recipient=new)
    )
    return changed(result)


def _next_due(recipient: str, kind: str, due_before: datetime, limit: int) -> Any:
    return (
        select(Reminder.c.id)
        .where(Reminder.c.recipient == recipient, Reminder.c.status == "pending", Reminder.c.due_at <= due_before,
               Reminder.c.kind == kind)
        .order_by(Reminder.c.due_at, Reminder.c.id)
        .limit(limit)
    )


def _latest(recipient: str, status: str, kind: str, limit: int) -> Any:
    return (
        select(Reminder.c.id)
        .where(Reminder.c.recipient == recipient, Reminder.c.status == status, Reminder.c.kind == kind)
        .order_by(Reminder.c.due_at.desc(), Reminder.c.id.desc())
        .limit(limit)
    )


def reminders_for(
    session: Connection, recipient: str, *, kind: str, due_before: datetime, limit: int = 20
) -> Sequence[Row[Any]]:
    """The recipient's next pending reminders of `kind` due before `due_before`, soonest first.

    Reads the (recipient, status, due_at) index from the start of the pending range, so the cost
    does not depend on how many reminders they were sent in the past.
    """
    ids = _next_due(recipient, kind, due_before, limit).subquery()
    stmt = select(Reminder).where(Reminder.c.id.in_(select(ids.c.id))).order_by(Reminder.c.due_at, Reminder.c.id)
    return session.execute(stmt).all()


def home_follow_ups(
    session: Connection, recipient: str, *, kind: str, due_before: datetime, recent: Sequence[str], limit: int
) -> tuple[list[tuple[Row[Any], str | None]], list[tuple[Row[Any], str | None]]]:
    """For the Home tab, in one round trip: the next pending reminders (soonest first) and the latest
    ones in `recent` statuses (newest first), at most `limit` of each, with their case's customer.

    Each part is its own LIMITed walk of the (recipient, status, due_at) index, so the cost does not
    grow with the recipient's history.
    """
    parts = [_next_due(recipient, kind, due_before, limit)] + [_latest(recipient, s, kind, limit) for s in recent]
    ids = union_all(*(select(part.subquery().c.id) for part in parts)).subquery()
    stmt = (
        select(Reminder, Case.c.customer.label("case_customer"))
        .outerjoin(Case, Case.c.id == Reminder.c.case_id)
        .where(Reminder.c.id.in_(select(ids.c.id)))
    )
    rows = [(row, row.case_customer) for row in session.execute(stmt).all()]
    upcoming = sorted((r for r in rows if r[0].status == "pending"), key=lambda r: (r[0].due_at, r[0].id))
    latest = sorted((r for r in rows if r[0].status != "pending"), key=lambda r: (r[0].due_at, r[0].id), reverse=True)
    return upcoming, latest[:limit]
