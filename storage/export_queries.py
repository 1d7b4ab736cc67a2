"""Read-only queries behind the CSV export (bot.export), one batch of cases at a time.

Cases are read by keyset pagination on their id (`id > last ORDER BY id LIMIT n`), and everything
else for a batch with `case_id IN (batch)`: memory stays bounded by the batch size whatever the
number of cases, and each batch is its own short transaction (on SQLite a long one would hold the
write lock against the running app).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import Case, CaseEvent, CaseStep, Handoff, Review

OPEN_STATUSES = ("open", "escalated")
# Event kinds counted per case in cases.csv.
COUNTED_KINDS = ("attempt", "note", "escalated", "reopened", "follow_up", "follow_up_skipped")


@dataclass(frozen=True)
class CaseBatch:
    """One page of cases and what cases.csv needs about each of them."""

    cases: Sequence[Any]  # rows with the columns of `_case_columns`, plus `repeat`
    steps_done: dict[int, list[int]]
    counts: dict[int, dict[str, int]]
    handoffs: dict[int, int]
    reviews: dict[int, tuple[str, bool]]  # case id -> (cause, UX issue reported)
    last_follow_up: dict[int, str]
    attempt_outcomes: dict[int, dict[str, int]]  # case id -> {"helped": n, "partly": n, "failed": n}
    apology: dict[int, str]  # case id -> the answer recorded on the step that asks for it


def in_window(since: datetime) -> Any:
    """Cases with anything in the window: opened or closed since `since`, or still open."""
    return or_(Case.opened_at >= since, Case.closed_at >= since, Case.status.in_(OPEN_STATUSES))


def _repeat_customer() -> Any:
    """True when an earlier case matches this one's customer by folded name, e-mail or Slack user."""
    earlier = aliased(Case)
    match = or_(
        and_(Case.customer_name_key.is_not(None), earlier.customer_name_key == Case.customer_name_key),
        and_(Case.customer_email.is_not(None), earlier.customer_email == Case.customer_email),
        and_(Case.customer_user.is_not(None), earlier.customer_user == Case.customer_user),
    )
    return exists().where(earlier.id < Case.id, match).label("repeat")


def case_page(session: Session, since: datetime, after_id: int, limit: int) -> Sequence[Any]:
    stmt = (
        select(
            Case.id, Case.opened_at, Case.closed_at, Case.status, Case.owner_id, Case.flagged_by, Case.closed_by,
            Case.mood, Case.resolution, Case.escalation, Case.erased_at, Case.channel_id, _repeat_customer(),
        )
        .where(Case.id > after_id, in_window(since))
        .order_by(Case.id)
        .limit(limit)
    )
    return session.execute(stmt).all()


def case_batch(session: Session, since: datetime, after_id: int, limit: int) -> CaseBatch | None:
    """The next page of cases after `after_id`, with their steps, counts, handoffs and reviews."""
    cases = case_page(session, since, after_id, limit)
    if not cases:
        return None
    ids = [row.id for row in cases]
    return CaseBatch(
        cases=cases,
        steps_done=_steps_done(session, ids),
        counts=_event_counts(session, ids),
        handoffs=_handoff_counts(session, ids),
        reviews=_reviews(session, ids),
        last_follow_up=_last_follow_up(session, ids),
        attempt_outcomes=_attempt_outcomes(session, ids),
        apology=_apology(session, ids),
    )


def _steps_done(session: Session, ids: list[int]) -> dict[int, list[int]]:
    done: dict[int, list[int]] = defaultdict(list)
    stmt = (
        select(CaseStep.case_id, CaseStep.step)
        .where(CaseStep.case_id.in_(ids), CaseStep.done.is_(True))
        .order_by(CaseStep.case_id, CaseStep.step)
    )
    for case_id, step in session.execute(stmt):
        done[case_id].append(step)
    return done


def _event_counts(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    stmt = (
        select(CaseEvent.case_id, CaseEvent.kind, func.count())
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind.in_(COUNTED_KINDS))
        .group_by(CaseEvent.case_id, CaseEvent.kind)
    )
    for case_id, kind, count in session.execute(stmt):
        counts[case_id][kind] = count
    return counts


def _handoff_counts(session: Session, ids: list[int]) -> dict[int, int]:
    stmt = select(Handoff.case_id, func.count()).where(Handoff.case_id.in_(ids)).group_by(Handoff.case_id)
    return {case_id: count for case_id, count in session.execute(stmt)}


def _reviews(session: Session, ids: list[int]) -> dict[int, tuple[str, bool]]:
    stmt = select(Review.case_id, Review.cause, Review.ux_issue).where(Review.case_id.in_(ids))
    return {case_id: (cause, bool(ux)) for case_id, cause, ux in session.execute(stmt)}


def _last_follow_up(session: Session, ids: list[int]) -> dict[int, str]:
    stmt = (
        select(CaseEvent.case_id, CaseEvent.data)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == "follow_up")
        .order_by(CaseEvent.id)
    )
    return {case_id: str((data or {}).get("outcome") or "") for case_id, data in session.execute(stmt)}


def _attempt_outcomes(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    outcome = CaseEvent.data["outcome"].as_string()
    stmt = (
        select(CaseEvent.case_id, outcome, func.count())
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == "attempt")
        .group_by(CaseEvent.case_id, outcome)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for case_id, value, count in session.execute(stmt):
        found[case_id][str(value or "")] = count
    return found


def _apology(session: Session, ids: list[int]) -> dict[int, str]:
    answer = CaseStep.details["apology"].as_string()
    stmt = select(CaseStep.case_id, answer).where(CaseStep.case_id.in_(ids), CaseStep.done.is_(True), answer.is_not(None))
    return {case_id: value for case_id, value in session.execute(stmt)}


def case_ids_page(session: Session, since: datetime, after_id: int, limit: int) -> list[int]:
    stmt = select(Case.id).where(Case.id > after_id, in_window(since)).order_by(Case.id).limit(limit)
    return list(session.scalars(stmt))


def activity_for(session: Session, case_ids: list[int], kinds: Sequence[str]) -> Sequence[Any]:
    """The events of these kinds for these cases, by case then in the order they happened."""
    stmt = (
        select(CaseEvent.id, CaseEvent.case_id, CaseEvent.kind, CaseEvent.at, CaseEvent.actor, CaseEvent.data)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.kind.in_(list(kinds)))
        .order_by(CaseEvent.case_id, CaseEvent.id)
    )
    return session.execute(stmt).all()
