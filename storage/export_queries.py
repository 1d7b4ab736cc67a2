"""Read-only queries behind the CSV export (bot.learning.export), one batch of cases at a time.

Cases are read by keyset pagination on their id (`id > last ORDER BY id LIMIT n`), and everything
else for a batch with `case_id IN (batch)`: memory stays bounded by the batch size whatever the
number of cases, and each batch is its own short transaction (on SQLite a long one would hold the
write lock against the running app).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, and_, case, exists, func, literal, null, or_, select, type_coerce

from storage.models import Case, CaseEvent, CaseStep, Handoff, Review

CASES, EVENTS, STEPS = Case, CaseEvent, CaseStep
HANDOFFS, REVIEWS = Handoff, Review

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
    return or_(CASES.c.opened_at >= since, CASES.c.closed_at >= since, CASES.c.status.in_(OPEN_STATUSES))


def _repeat_customer() -> Any:
    """True when an earlier case matches this one's customer by folded name, e-mail or Slack user."""
    earlier = CASES.alias("earlier")
    match = or_(
        and_(CASES.c.customer_name_key.is_not(None), earlier.c.customer_name_key == CASES.c.customer_name_key),
        and_(CASES.c.customer_email.is_not(None), earlier.c.customer_email == CASES.c.customer_email),
        and_(CASES.c.customer_user.is_not(None), earlier.c.customer_user == CASES.c.customer_user),
    )
    return exists().where(earlier.c.id < CASES.c.id, match).label("repeat")


def _kind() -> Any:
    """The event kind as an expression (`kind || ''`) no index can serve: without statistics SQLite
    otherwise reads events through the index on `kind`, walking every event of that kind in the
    database for each batch (quadratic overall) instead of the batch's cases by (case_id, id)."""
    return EVENTS.c.kind.concat("")


def _among(column: Any, ids: list[int]) -> Any:
    """`column IN (ids)` (ids ascending) with the batch's id range spelled out: the range lets
    PostgreSQL scan the index on case_id for just this batch (with a long IN list alone it chose a
    full table scan)."""
    span = and_(column >= ids[0], column <= ids[-1])
    if ids[-1] - ids[0] + 1 == len(ids):  # no gaps (the usual page): the range alone says it, cheaper to build
        return span
    return and_(span, column.in_(ids))


def _naive(column: Any) -> Any:
    """A UTC time column read as a naive datetime: skips attaching a zone to every value (bot.learning.export knows)."""
    return type_coerce(column, DateTime()).label(column.name)


def case_page(session: Connection, since: datetime, after_id: int, limit: int) -> Sequence[Any]:
    c = CASES.c
    stmt = (
        select(
            c.id, _naive(c.opened_at), _naive(c.closed_at), c.status, c.owner_id, c.flagged_by, c.closed_by, c.mood,
            c.resolution["mood"].as_string().label("close_mood"),
            c.resolution["mood_later"].as_string().label("later_mood"),
            c.escalation["severity"].as_string().label("severity"),
            c.escalation["expected_by"].as_string().label("expected_by"),
            c.escalation["fixed_at"].as_string().label("fixed_at"),
            _naive(c.erased_at), _repeat_customer(),
            c.playbook_name.label("playbook"),  # None on rows from before playbooks were recorded
        )
        .where(c.id > after_id, in_window(since))
        .order_by(c.id)
        .limit(limit)
    )
    return session.execute(stmt).all()


def case_batch(session: Connection, since: datetime, after_id: int, limit: int) -> CaseBatch | None:
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


def _steps_done(session: Connection, ids: list[int]) -> dict[int, list[int]]:
    done: dict[int, list[int]] = defaultdict(list)
    stmt = (
        select(STEPS.c.case_id, STEPS.c.step)
        .where(_among(STEPS.c.case_id, ids), STEPS.c.done.is_(True))
        .order_by(STEPS.c.case_id, STEPS.c.step)
    )
    for case_id, step in session.execute(stmt):
        done[case_id].append(step)
    return done


def _event_counts(session: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    stmt = (
        select(EVENTS.c.case_id, EVENTS.c.kind, func.count())
        .where(_among(EVENTS.c.case_id, ids), _kind().in_(COUNTED_KINDS))
        .group_by(EVENTS.c.case_id, EVENTS.c.kind)
    )
    for case_id, kind, count in session.execute(stmt):
        counts[case_id][kind] = count
    return counts


def _handoff_counts(session: Connection, ids: list[int]) -> dict[int, int]:
    stmt = select(HANDOFFS.c.case_id, func.count()).where(_among(HANDOFFS.c.case_id, ids)).group_by(HANDOFFS.c.case_id)
    return {case_id: count for case_id, count in session.execute(stmt)}


def _reviews(session: Connection, ids: list[int]) -> dict[int, tuple[str, bool]]:
    has_ux = case((and_(REVIEWS.c.ux_issue.is_not(None), REVIEWS.c.ux_issue != ""), literal(1)), else_=literal(0))
    stmt = select(REVIEWS.c.case_id, REVIEWS.c.cause, has_ux).where(_among(REVIEWS.c.case_id, ids))
    return {case_id: (cause, bool(ux)) for case_id, cause, ux in session.execute(stmt)}


def _last_follow_up(session: Connection, ids: list[int]) -> dict[int, str]:
    stmt = (
        select(EVENTS.c.case_id, EVENTS.c.data["outcome"].as_string())
        .where(_among(EVENTS.c.case_id, ids), _kind() == "follow_up")
        .order_by(EVENTS.c.id)
    )
    return {case_id: outcome or "" for case_id, outcome in session.execute(stmt)}


def _attempt_outcomes(session: Connection, ids: list[int]) -> dict[int, dict[str, int]]:
    outcome = EVENTS.c.data["outcome"].as_string()
    stmt = (
        select(EVENTS.c.case_id, outcome, func.count())
        .where(_among(EVENTS.c.case_id, ids), _kind() == "attempt")
        .group_by(EVENTS.c.case_id, outcome)
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for case_id, value, count in session.execute(stmt):
        found[case_id][str(value or "")] = count
    return found


def _apology(session: Connection, ids: list[int]) -> dict[int, str]:
    answer = STEPS.c.details["apology"].as_string()
    stmt = select(STEPS.c.case_id, answer).where(_among(STEPS.c.case_id, ids), STEPS.c.done.is_(True), answer.is_not(None))
    return {case_id: value for case_id, value in session.execute(stmt)}


def case_ids_page(session: Connection, since: datetime, after_id: int, limit: int) -> list[int]:
    stmt = select(CASES.c.id).where(CASES.c.id > after_id, in_window(since)).order_by(CASES.c.id).limit(limit)
    return list(session.scalars(stmt))


def _pick(keys: dict[str, str | None]) -> Any:
    """One activity column: per kind, the key of the event's data that fills it (extracted in SQL)."""
    whens = [(EVENTS.c.kind == kind, EVENTS.c.data[key].as_string()) for kind, key in keys.items() if key]
    return case(*whens, else_=null()) if whens else null()


def activity_for(session: Connection, case_ids: list[int], columns: dict[str, dict[str, str | None]]) -> Sequence[Any]:
    """The events of these cases whose kind is in `columns`, by case and then in order; `columns`
    maps an output column (text, result, …) to {kind: key of the event's data}."""
    kinds = sorted({kind for keys in columns.values() for kind in keys})
    stmt = (
        select(
            EVENTS.c.id, EVENTS.c.case_id, _naive(EVENTS.c.at), EVENTS.c.kind, EVENTS.c.actor,
            *(_pick(keys).label(name) for name, keys in columns.items()),
        )
        .where(_among(EVENTS.c.case_id, case_ids), _kind().in_(kinds))
        .order_by(EVENTS.c.case_id, EVENTS.c.id)
    )
    return session.execute(stmt).all()
