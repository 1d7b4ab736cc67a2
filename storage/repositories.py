"""Queries and writes, one function per need. Callers own the session and its transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import delete, func, insert, or_, select, union_all, update
from sqlalchemy.orm import Session, selectinload

from storage.models import Agent, ApiBudget, Case, CaseEvent, CaseStep, Handoff, Reminder, Review

STEP_COUNT = 6  # the built-in playbook's; a case opened with another playbook passes its own count


# --- cases ---------------------------------------------------------------------------------
# Writes on the hot paths use Core statements on the tables: the ORM's bookkeeping for bulk
# UPDATEs costs more than the statement. Callers that read back after a write expire the session.
CASES = Case.__table__
STEPS = CaseStep.__table__


def create_case(session: Session, *, now: datetime, step_count: int = STEP_COUNT, **fields: Any) -> int:
    """Insert a case and its `step_count` unticked steps; returns the new case id."""
    values = {"opened_at": now, "updated_at": now, "status": "open", "hard_nudged": False, **fields}
    case_id = session.execute(insert(CASES).values(**values).returning(CASES.c.id)).scalar_one()
    session.execute(insert(STEPS), [{"case_id": case_id, "step": n, "done": False} for n in range(1, step_count + 1)])
    return case_id


def get_case(session: Session, case_id: int, *, lock: bool = False) -> Case | None:
    stmt = select(Case).where(Case.id == case_id).options(selectinload(Case.steps))
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def update_case(session: Session, case_id: int, now: datetime, **fields: Any) -> None:
    session.execute(update(CASES).where(CASES.c.id == case_id).values(updated_at=now, **fields))


def update_case_if(session: Session, case_id: int, now: datetime, *, expect: dict[str, bool], **fields: Any) -> bool:
    """Conditional update for state transitions; True if this call made the change.

    expect: {"open": True} (status is open/escalated) or {"open": False} (closed).
    """
    stmt = update(CASES).where(CASES.c.id == case_id)
    if "open" in expect:
        statuses = ("open", "escalated")
        stmt = stmt.where(CASES.c.status.in_(statuses) if expect["open"] else CASES.c.status.not_in(statuses))
    result = session.execute(stmt.values(updated_at=now, **fields))
    return result.rowcount == 1


def set_step(
    session: Session,
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
    values["details"] = details if done else None
    result = session.execute(
        update(STEPS).where(STEPS.c.case_id == case_id, STEPS.c.step == step, STEPS.c.done.is_not(done)).values(**values)
    )
    return result.rowcount == 1


def _customer_match(name_key: str | None, email: str | None, user: str | None) -> Any:
    conditions = []
    if name_key:
        conditions.append(Case.customer_name_key == name_key)
    if email:
        conditions.append(Case.customer_email == email)
    if user:
        conditions.append(Case.customer_user == user)
    return or_(*conditions) if conditions else None


def _visible_in(viewer_channel: str | None) -> Any:
    """Earlier cases whose details may be shown in `viewer_channel` (an internal channel): those that live in
    that same channel, and those that live in a public internal channel. Unknown visibility counts as private."""
    if viewer_channel is None:
        return Case.visibility == "public"
    return or_(Case.channel_id == viewer_channel, Case.visibility == "public")


def prior_cases(
    session: Session, *, name_key: str | None, email: str | None, user: str | None, before_id: int, limit: int = 10,
    viewer_channel: str | None = None, everywhere: bool = True,
) -> Sequence[Case]:
    """The same customer's cases opened before `before_id`, newest first (name, e-mail or Slack user).
    With `everywhere=False` only those visible in `viewer_channel`."""
    match = _customer_match(name_key, email, user)
    if match is None:
        return []
    stmt = select(Case).where(match, Case.id < before_id)
    if not everywhere:
        stmt = stmt.where(_visible_in(viewer_channel))
    return session.scalars(stmt.order_by(Case.id.desc()).limit(limit)).all()


def count_prior_cases(session: Session, *, name_key: str | None, email: str | None, user: str | None, before_id: int) -> int:
    match = _customer_match(name_key, email, user)
    if match is None:
        return 0
    return session.scalar(select(func.count()).select_from(Case).where(match, Case.id < before_id)) or 0


def count_prior_cases_seen(
    session: Session, *, name_key: str | None, email: str | None, user: str | None, before_id: int, viewer_channel: str | None
) -> tuple[int, int]:
    """(all earlier cases, those of them visible in `viewer_channel`) in one query."""
    match = _customer_match(name_key, email, user)
    if match is None:
        return 0, 0
    seen = func.sum(sql_case((_visible_in(viewer_channel), 1), else_=0))
    total, visible = session.execute(select(func.count(), seen).select_from(Case).where(match, Case.id < before_id)).one()
    return int(total or 0), int(visible or 0)


def delete_unposted_case(session: Session, case_id: int) -> bool:
    """Remove a case that never reached Slack (its steps, events and reminders go with it); False if it was
    posted, or a post of it was started (Slack may have it: bot.delivery)."""
    unposted = (Case.id == case_id, Case.message_ts.is_(None), Case.post_state != "sending")
    found = session.execute(select(Case.id).where(*unposted).with_for_update()).first()
    if found is None:
        return False
    for table in (Reminder.__table__, CaseEvent.__table__, STEPS, Handoff.__table__, Review.__table__):
        session.execute(delete(table).where(table.c.case_id == case_id))
    session.execute(delete(CASES).where(CASES.c.id == case_id))
    return True


def open_cases_for(session: Session, owner_id: str, limit: int = 20) -> list[tuple[Case, int]]:
    """The owner's open cases, newest first, each with how many steps are done (one query)."""
    done = (
        select(func.count())
        .where(STEPS.c.case_id == Case.id, STEPS.c.done.is_(True))
        .correlate(Case)
        .scalar_subquery()
    )
    stmt = (
        select(Case, done)
        .where(Case.owner_id == owner_id, Case.status.in_(("open", "escalated")))
        .order_by(Case.opened_at.desc())
        .limit(limit)
    )
    return [(case, count) for case, count in session.execute(stmt).all()]


def status_counts(session: Session, since: datetime | None = None) -> dict[str, int]:
    stmt = select(Case.status, func.count()).group_by(Case.status)
    if since is not None:
        stmt = stmt.where(Case.opened_at >= since)
    return {status: count for status, count in session.execute(stmt).all()}


def closed_cases_since(session: Session, since: datetime) -> Sequence[Case]:
    stmt = select(Case).where(Case.closed_at.is_not(None), Case.closed_at >= since)
    return session.scalars(stmt).all()


# --- event log -----------------------------------------------------------------------------
def add_event(
    session: Session, case_id: int, *, actor: str, kind: str, now: datetime, data: dict[str, Any] | None = None
) -> CaseEvent:
    event = CaseEvent(case_id=case_id, actor=actor, kind=kind, at=now, data=data or {})
    session.add(event)
    session.flush()
    return event


def events(session: Session, case_id: int, kinds: Iterable[str] | None = None) -> Sequence[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id)
    if kinds is not None:
        stmt = stmt.where(CaseEvent.kind.in_(list(kinds)))
    return session.scalars(stmt.order_by(CaseEvent.id)).all()


def events_for_cases(session: Session, case_ids: Sequence[int], kinds: Iterable[str]) -> Sequence[CaseEvent]:
    if not case_ids:
        return []
    stmt = select(CaseEvent).where(CaseEvent.case_id.in_(list(case_ids)), CaseEvent.kind.in_(list(kinds)))
    return session.scalars(stmt.order_by(CaseEvent.id)).all()


# --- handoffs ------------------------------------------------------------------------------
def create_handoff(session: Session, **fields: Any) -> Handoff:
    handoff = Handoff(status="pending", **fields)
    session.add(handoff)
    session.flush()
    return handoff


def get_handoff(session: Session, handoff_id: int) -> Handoff | None:
    return session.get(Handoff, handoff_id)


def answer_handoff(session: Session, handoff_id: int, *, status: str, now: datetime, reason: str | None) -> bool:
    """Pending -> accepted/declined/cancelled exactly once; False if it was already answered."""
    result = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "pending")
        .values(status=status, answered_at=now, reason=reason)
    )
    return result.rowcount == 1


def pending_handoffs(session: Session, case_id: int) -> Sequence[Handoff]:
    stmt = select(Handoff).where(Handoff.case_id == case_id, Handoff.status == "pending")
    return session.scalars(stmt).all()


# --- reviews -------------------------------------------------------------------------------
def save_review(session: Session, review: Review) -> Review:
    return session.merge(review)


def get_review(session: Session, case_id: int) -> Review | None:
    return session.get(Review, case_id)


def cause_counts(session: Session, since: datetime | None = None) -> dict[str, int]:
    """How many reviews named each cause (since `since`).

    With a date the causes are counted here from a range of the (reviewed_at, cause) index: given a
    GROUP BY, SQLite's planner prefers walking every review in the cause index instead.
    """
    if since is None:
        stmt = select(Review.cause, func.count()).group_by(Review.cause)
        return {cause: count for cause, count in session.execute(stmt).all()}
    return dict(Counter(session.scalars(select(Review.cause).where(Review.reviewed_at >= since)).all()))


# --- agents --------------------------------------------------------------------------------
def get_agent(session: Session, user_id: str) -> Agent | None:
    return session.get(Agent, user_id)


def upsert_agent(session: Session, user_id: str, **fields: Any) -> Agent:
    agent = session.get(Agent, user_id)
    if agent is None:
        agent = Agent(user_id=user_id, **fields)
        session.add(agent)
    else:
        for key, value in fields.items():
            setattr(agent, key, value)
    session.flush()
    return agent


# --- reminders -----------------------------------------------------------------------------
REMINDER_OPEN = ("pending",)


def add_reminder(session: Session, *, dedupe_key: str, now: datetime, **fields: Any) -> int | None:
    """Insert unless the dedupe key exists (retries and races enqueue once). Returns the new id or None."""
    table = Reminder.__table__
    values = {"dedupe_key": dedupe_key, "created_at": now, "status": "pending", "attempts": 0, "payload": {}, **fields}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = session.execute(stmt.returning(table.c.id))
    row = result.first()
    return row[0] if row else None


def claim_due(session: Session, *, now: datetime, until: datetime, worker: str, limit: int) -> list[Reminder]:
    """Atomically lease up to `limit` due reminders to `worker` (FOR UPDATE SKIP LOCKED on PostgreSQL;
    SQLite serialises writers, so the same statement is atomic there)."""
    due = (
        select(Reminder.id)
        .where(
            Reminder.status == "pending",
            Reminder.due_at <= now,
            or_(Reminder.locked_until.is_(None), Reminder.locked_until < now),
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stmt = (
        update(Reminder)
        .where(Reminder.id.in_(select(due.c.id)))
        .values(locked_until=until, locked_by=worker, attempts=Reminder.attempts + 1)
        .returning(Reminder)
        .execution_options(synchronize_session=False)
    )
    rows = list(session.scalars(stmt).all())
    rows.sort(key=lambda r: (r.due_at, r.id))
    return rows


def renew_leases(session: Session, *, worker: str, until: datetime) -> int:
    """Extend every lease `worker` still holds (its heartbeat); rows it finished or released are not held."""
    table = Reminder.__table__
    result = session.execute(
        update(table)
        .where(table.c.locked_by == worker, table.c.status == "pending", table.c.locked_until.is_not(None))
        .values(locked_until=until)
    )
    return result.rowcount


def finish_reminder(session: Session, reminder_id: int, worker: str, **fields: Any) -> bool:
    """Update a reminder this worker holds the lease on; False if the lease was lost."""
    table = Reminder.__table__  # Core, not ORM: this runs twice per reminder sent
    result = session.execute(
        update(table)
        .where(table.c.id == reminder_id, table.c.locked_by == worker, table.c.status == "pending")
        .values(**{"locked_until": None, **fields})
    )
    return result.rowcount == 1


def get_reminder(session: Session, reminder_id: int) -> Reminder | None:
    return session.get(Reminder, reminder_id)


def set_reminder_status(session: Session, reminder_id: int, *, status: str, expect: Sequence[str], **fields: Any) -> bool:
    result = session.execute(
        update(Reminder).where(Reminder.id == reminder_id, Reminder.status.in_(list(expect))).values(status=status, **fields)
    )
    return result.rowcount == 1


def cancel_reminders(session: Session, case_id: int, kinds: Sequence[str], reason: str) -> int:
    result = session.execute(
        update(Reminder)
        .where(Reminder.case_id == case_id, Reminder.kind.in_(list(kinds)), Reminder.status == "pending")
        .values(status="cancelled", last_error=reason, locked_until=None, locked_by=None)
    )
    return result.rowcount


def reassign_reminders(session: Session, case_id: int, old: str, new: str, kinds: Sequence[str]) -> int:
    result = session.execute(
        update(Reminder)
        .where(
            Reminder.case_id == case_id,
            Reminder.recipient == old,
            Reminder.kind.in_(list(kinds)),
            Reminder.status == "pending",
        )
        .values(recipient=new)
    )
    return result.rowcount


def _next_due(recipient: str, kind: str, due_before: datetime, limit: int) -> Any:
    return (
        select(Reminder.id)
        .where(Reminder.recipient == recipient, Reminder.status == "pending", Reminder.due_at <= due_before,
               Reminder.kind == kind)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )


def _latest(recipient: str, status: str, kind: str, limit: int) -> Any:
    return (
        select(Reminder.id)
        .where(Reminder.recipient == recipient, Reminder.status == status, Reminder.kind == kind)
        .order_by(Reminder.due_at.desc(), Reminder.id.desc())
        .limit(limit)
    )


def reminders_for(
    session: Session, recipient: str, *, kind: str, due_before: datetime, limit: int = 20
) -> Sequence[Reminder]:
    """The recipient's next pending reminders of `kind` due before `due_before`, soonest first.

    Reads the (recipient, status, due_at) index from the start of the pending range, so the cost
    does not depend on how many reminders they were sent in the past.
    """
    ids = _next_due(recipient, kind, due_before, limit).subquery()
    stmt = select(Reminder).where(Reminder.id.in_(select(ids.c.id))).order_by(Reminder.due_at, Reminder.id)
    return session.scalars(stmt).all()


def home_follow_ups(
    session: Session, recipient: str, *, kind: str, due_before: datetime, recent: Sequence[str], limit: int
) -> tuple[list[tuple[Reminder, str | None]], list[tuple[Reminder, str | None]]]:
    """For the Home tab, in one round trip: the next pending reminders (soonest first) and the latest
    ones in `recent` statuses (newest first), at most `limit` of each, with their case's customer.

    Each part is its own LIMITed walk of the (recipient, status, due_at) index, so the cost does not
    grow with the recipient's history.
    """
    parts = [_next_due(recipient, kind, due_before, limit)] + [_latest(recipient, s, kind, limit) for s in recent]
    ids = union_all(*(select(part.subquery().c.id) for part in parts)).subquery()
    stmt = (
        select(Reminder, Case.customer)
        .outerjoin(Case, Case.id == Reminder.case_id)
        .where(Reminder.id.in_(select(ids.c.id)))
    )
    rows = [(reminder, customer) for reminder, customer in session.execute(stmt).all()]
    upcoming = sorted((r for r in rows if r[0].status == "pending"), key=lambda r: (r[0].due_at, r[0].id))
    latest = sorted((r for r in rows if r[0].status != "pending"), key=lambda r: (r[0].due_at, r[0].id), reverse=True)
    return upcoming, latest[:limit]


def count_pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "pending")) or 0


def team_numbers(session: Session, since: datetime) -> dict[str, Any]:
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


def add_agent_if_missing(session: Session, user_id: str, **fields: Any) -> None:
    """Insert a bare agent row; a concurrent insert of the same user is not an error."""
    table = Agent.__table__
    values = {"user_id": user_id, "is_bot": False, "deleted": False, **fields}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=["user_id"]))


# --- delivery to Slack (bot.delivery) --------------------------------------------------------
# A case's post_state: pending (saved, not posted) -> sending (a post started; Slack may have it) ->
# posted (case message there, checklist not yet) -> done; failed = Slack refused, the agent was told.
UNFINISHED_POSTS = ("pending", "sending", "posted")


def case_id_for_intake(session: Session, intake_key: str) -> int | None:
    return session.scalar(select(Case.id).where(Case.intake_key == intake_key))


def claim_case_delivery(session: Session, case_id: int, *, worker: str, now: datetime, until: datetime) -> Case | None:
    """Take (or renew) the lease on finishing a case's delivery; None if another live worker holds it.
    A future sync_until without a holder only tells the sweep when to look again; a request may claim it."""
    stmt = (
        update(CASES)
        .where(CASES.c.id == case_id, or_(CASES.c.sync_by.is_(None), CASES.c.sync_by == worker, CASES.c.sync_until < now))
        .values(sync_by=worker, sync_until=until)
    )
    if session.execute(stmt).rowcount != 1:
        return None
    return session.get(Case, case_id, populate_existing=True)


def set_case_delivery(session: Session, case_id: int, worker: str | None, **fields: Any) -> bool:
    """Record delivery progress without touching updated_at (that would look like a new change).
    With a worker: only while it holds the lease."""
    stmt = update(CASES).where(CASES.c.id == case_id)
    if worker is not None:
        stmt = stmt.where(CASES.c.sync_by == worker)
    return session.execute(stmt.values(**fields)).rowcount == 1


def claim_unfinished_cases(
    session: Session, *, now: datetime, until: datetime, worker: str, settled_before: datetime, since: datetime,
    max_attempts: int, limit: int, sent_before: datetime | None = None,
) -> list[int]:
    """Cases whose delivery a crash or an error interrupted, leased to `worker` (SKIP LOCKED on PostgreSQL).

    Unfinished posts, plus changes not yet shown in Slack that are older than `settled_before` (the
    request that made them normally updates Slack itself) and newer than `since` (older ones are history).
    """
    free = or_(CASES.c.sync_until.is_(None), CASES.c.sync_until < now)
    unposted = CASES.c.post_state.in_(UNFINISHED_POSTS)
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


def case_lease_holders(session: Session, now: datetime) -> list[str]:
    """Who holds a live lease on a case or a handoff right now (to spot holders that died)."""
    cases = select(CASES.c.sync_by).where(CASES.c.sync_until >= now, CASES.c.sync_by.is_not(None))
    handoffs = select(Handoff.sync_by).where(Handoff.sync_until >= now, Handoff.sync_by.is_not(None))
    return sorted(set(session.execute(cases).scalars()) | set(session.execute(handoffs).scalars()))


def release_leases_of(session: Session, holders: Sequence[str]) -> int:
    if not holders:
        return 0
    released = session.execute(
        update(CASES).where(CASES.c.sync_by.in_(holders)).values(sync_until=None, sync_by=None)
    ).rowcount
    released += session.execute(
        update(Handoff).where(Handoff.sync_by.in_(holders)).values(sync_until=None, sync_by=None)
    ).rowcount
    return released


def claim_unconfirmed_handoffs(
    session: Session, *, now: datetime, until: datetime, worker: str, settled_before: datetime, limit: int
) -> list[int]:
    """Pending handoffs whose request DM was started but never confirmed (crash or ambiguous answer)."""
    table = Handoff.__table__
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


def set_handoff_delivery(session: Session, handoff_id: int, **fields: Any) -> None:
    session.execute(update(Handoff).where(Handoff.id == handoff_id).values(**fields))


def set_reminder_maybe_sent(session: Session, reminder_id: int, at: datetime) -> None:
    session.execute(update(Reminder).where(Reminder.id == reminder_id).values(maybe_sent_at=at))


def reminder_maybe_sent_at(session: Session, reminder_id: int) -> datetime | None:
    return session.scalar(select(Reminder.maybe_sent_at).where(Reminder.id == reminder_id))


def take_api_budget(session: Session, name: str, *, now: datetime, next_at: datetime) -> bool:
    """Spend the one call `name` allows until `next_at`; False if it was already spent."""
    stmt = update(ApiBudget.__table__).where(ApiBudget.name == name, ApiBudget.next_at <= now).values(next_at=next_at)
    if session.execute(stmt).rowcount == 1:
        return True
    table = ApiBudget.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    inserted = session.execute(
        dialect_insert(table).values(name=name, next_at=next_at).on_conflict_do_nothing(index_elements=["name"])
        .returning(table.c.name)
    )
    return inserted.scalar() is not None


def api_budget_next(session: Session, name: str) -> datetime | None:
    return session.scalar(select(ApiBudget.next_at).where(ApiBudget.name == name))
