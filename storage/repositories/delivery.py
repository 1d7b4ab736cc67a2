"""Delivery to Slack (bot.delivery): case and hand-off posting leases, and the Web API budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Update, bindparam, or_, select, update
from sqlalchemy import case as sql_case

from storage.models import ApiBudget, Case, Handoff, Reminder
from storage.repositories.cases import CASES, get_case
from storage.repositories.rows import CaseRow
from storage.sql import changed, insert_unless_exists

# A case's post_state: pending (saved, not posted) -> sending (a post started; Slack may have it) ->
# posted (case message there, checklist not yet) -> done; failed = Slack refused, the agent was told.
UNFINISHED_POSTS = ("pending", "sending", "posted")


def case_id_for_intake(session: Connection, intake_key: str) -> int | None:
    return session.scalar(select(Case.c.id).where(Case.c.intake_key == intake_key))


def claim_case_delivery(session: Connection, case_id: int, *, worker: str, now: datetime, until: datetime) -> CaseRow | None:
    """Take (or renew) the lease on finishing a case's delivery; None if another live worker holds it.
    A future sync_until without a holder only tells the sweep when to look again; a request may claim it."""
    stmt = (
        update(CASES)
        .where(CASES.c.id == case_id, or_(CASES.c.sync_by.is_(None), CASES.c.sync_by == worker, CASES.c.sync_until < now))
        .values(sync_by=worker, sync_until=until)
    )
    if changed(session.execute(stmt)) != 1:
        return None
    return get_case(session, case_id)


def route_held_case(session: Connection, case_id: int, *, worker: str, now: datetime, until: datetime,
                    **fields: Any) -> bool:
    """Set where a case goes (a change of the case: updated_at) while `worker` holds its delivery lease,
    renewing the lease; False if it does not hold it any more."""
    stmt = update(CASES).where(CASES.c.id == case_id, CASES.c.sync_by == worker, CASES.c.message_ts.is_(None))
    return changed(session.execute(stmt.values(updated_at=now, sync_until=until, **fields))) == 1


def route_held_unchanged(session: Connection, case_id: int, *, worker: str, now: datetime, until: datetime,
                         seen: datetime, **fields: Any) -> tuple[str | None, str | None, str | None] | None:
    """`route_held_case` for a case unchanged since `seen` (its updated_at in the caller's snapshot): the
    customer's keys (name key, email, user) when it was written; None if the lease is gone or the case
    changed meanwhile."""
    stmt = (
        update(CASES)
        .where(CASES.c.id == case_id, CASES.c.sync_by == worker, CASES.c.message_ts.is_(None),
               CASES.c.updated_at == seen)
        .values(updated_at=now, sync_until=until, **fields)
        .returning(CASES.c.customer_name_key, CASES.c.customer_email, CASES.c.customer_user)
    )
    row = session.execute(stmt).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


def set_case_delivery(session: Connection, case_id: int, worker: str | None, **fields: Any) -> bool:
    """Record delivery progress without touching updated_at (that would look like a new change).
    With a worker: only while it holds the lease."""
    values = {"where_id": case_id, "where_worker": worker, **fields}
    return changed(session.execute(_delivery_update(worker is not None), values)) == 1


@cache
def _delivery_update(leased: bool) -> Update:
    """Built once (values are parameters when it runs), with or without the lease condition."""
    stmt = update(CASES).where(CASES.c.id == bindparam("where_id"))
    return stmt.where(CASES.c.sync_by == bindparam("where_worker")) if leased else stmt


def claim_unfinished_cases(
    session: Connection, *, now: datetime, until: datetime, worker: str, settled_before: datetime, since: datetime,
    max_attempts: int, limit: int, sent_before: datetime | None = None,
) -> list[int]:
    """Cases whose delivery a crash or an error interrupted, leased to `worker` (SKIP LOCKED on PostgreSQL).

    Unfinished posts, plus changes not yet shown in Slack that are older than `settled_before` (the
    request that made them normally updates Slack itself) and newer than `since` (older ones are history).
    """
    free = or_(CASES.c.sync_until.is_(None), CASES.c.sync_until < now)
    unposted: ColumnElement[bool] = CASES.c.post_state.in_(UNFINISHED_POSTS)
    if sent_before is not None:  # a post started later than this may not be visible in Slack yet
        unposted = unposted & or_(CASES.c.posting_at.is_(None), CASES.c.posting_at < sent_before) & or_(
            CASES.c.checklist_posting_at.is_(None), CASES.c.checklist_posting_at < sent_before)
    stale = (
        (CASES.c.post_state == "done")
        & (CASES.c.updated_at > since)
        & (CASES.c.updated_at < settled_before)
        & CASES.c.rendered_at.is_not(None)  # rows never rendered by this code (imports, seeds) are left alone
        & (CASES.c.rendered_at < CASES.c.updated_at)
    )
    unclear = or_(CASES.c.post_state == "sending", CASES.c.checklist_posting_at.is_not(None) & CASES.c.checklist_ts.is_(None))
    due = (
        select(CASES.c.id)
        .where(free, or_(unposted, stale), CASES.c.sync_attempts < max_attempts)
        .order_by(sql_case((unclear, 0), else_=1), CASES.c.id)  # unconfirmed posts before new ones push them back
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due_cases")
    )
    stmt = (
        update(CASES)
        .where(CASES.c.id.in_(select(due.c.id)))
        .values(sync_by=worker, sync_until=until, sync_attempts=CASES.c.sync_attempts + 1)
        .returning(CASES.c.id)
    )
    return sorted(session.execute(stmt).scalars().all())


def case_lease_holders(session: Connection, now: datetime) -> list[str]:
    """Who holds a live lease on a case or a handoff right now (to spot holders that died)."""
    cases = select(CASES.c.sync_by).where(CASES.c.sync_until >= now, CASES.c.sync_by.is_not(None))
    handoffs = select(Handoff.c.sync_by).where(Handoff.c.sync_until >= now, Handoff.c.sync_by.is_not(None))
    holders = {*session.execute(cases).scalars(), *session.execute(handoffs).scalars()}
    return sorted(h for h in holders if h)


def release_leases_of(session: Connection, holders: Sequence[str]) -> int:
    if not holders:
        return 0
    released = changed(session.execute(
        update(CASES).where(CASES.c.sync_by.in_(holders)).values(sync_until=None, sync_by=None)))
    released += changed(session.execute(
        update(Handoff).where(Handoff.c.sync_by.in_(holders)).values(sync_until=None, sync_by=None)))
    return released


def claim_unconfirmed_handoffs(
    session: Connection, *, now: datetime, until: datetime, worker: str, settled_before: datetime, limit: int
) -> list[int]:
    """Pending handoffs whose request DM was started but never confirmed (crash or ambiguous answer)."""
    table = Handoff
    due = (
        select(table.c.id)
        .where(
            table.c.status == "pending", table.c.dm_ts.is_(None), table.c.dm_sending_at.is_not(None),
            table.c.dm_sending_at < settled_before, or_(table.c.sync_until.is_(None), table.c.sync_until < now),
        )
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due_handoffs")
    )
    stmt = (
        update(table).where(table.c.id.in_(select(due.c.id))).values(sync_by=worker, sync_until=until)
        .returning(table.c.id)
    )
    return sorted(session.execute(stmt).scalars().all())


def set_handoff_delivery(session: Connection, handoff_id: int, **fields: Any) -> None:
    session.execute(update(Handoff).where(Handoff.c.id == handoff_id).values(**fields))


MAYBE_SENT = update(Reminder).where(Reminder.c.id == bindparam("where_id"))  # once per DM sent


def set_reminder_maybe_sent(session: Connection, reminder_id: int, at: datetime) -> None:
    session.execute(MAYBE_SENT, {"where_id": reminder_id, "maybe_sent_at": at})


def reminder_maybe_sent_at(session: Connection, reminder_id: int) -> datetime | None:
    return session.scalar(select(Reminder.c.maybe_sent_at).where(Reminder.c.id == reminder_id))


def take_api_budget(session: Connection, name: str, *, now: datetime, next_at: datetime) -> bool:
    """Spend the one call `name` allows until `next_at`; False if it was already spent."""
    stmt = update(ApiBudget).where(ApiBudget.c.name == name, ApiBudget.c.next_at <= now).values(next_at=next_at)
    if changed(session.execute(stmt)) == 1:
        return True
    table = ApiBudget
    insert_new = insert_unless_exists(session, table, {"name": name, "next_at": next_at}, ["name"])
    inserted = session.execute(insert_new.returning(table.c.name))
    return inserted.scalar() is not None


def api_budget_next(session: Connection, name: str) -> datetime | None:
    return session.scalar(select(ApiBudget.c.next_at).where(ApiBudget.c.name == name))
