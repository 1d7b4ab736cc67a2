"""Queries behind App Home's insights (bot.learning.insights): the cases closed in a window, each with
what the arithmetic needs, in a few range reads.

Cases come from the (closed_at, status, opened_at) index range; their steps, attempts and accepted
handoffs are read by case id in chunks, so the cost follows the window's cases, not the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Case, CaseEvent, CaseStep

CHUNK = 500  # case ids per IN (...) list: well under both databases' limits
CLOSED = ("resolved", "unresolved")


@dataclass
class ClosedRow:
    """One closed case as the insights read it (plain values, no ORM)."""

    id: int
    owner_id: str
    status: str
    opened_at: datetime
    closed_at: datetime
    visibility: str | None
    mood: str | None
    resolution: dict[str, Any]
    escalation: dict[str, Any] | None
    customer: str | None  # the key a repeat customer is found by (name, else email, else Slack user)
    steps_done: set[int] = field(default_factory=set)
    step_count: int = 0
    attempts_helped: list[str] = field(default_factory=list)
    second_contact: bool = False


def closed_cases(session: Session, since: datetime, until: datetime) -> list[ClosedRow]:
    c = Case.__table__.c
    rows = session.execute(
        select(c.id, c.owner_id, c.status, c.opened_at, c.closed_at, c.visibility, c.mood, c.resolution, c.escalation,
               c.customer_name_key, c.customer_email, c.customer_user)
        .where(c.closed_at >= since, c.closed_at <= until, c.status.in_(CLOSED))  # up to and including now
        .order_by(c.closed_at, c.id)
    ).all()
    cases = {r.id: ClosedRow(r.id, r.owner_id, r.status, r.opened_at, r.closed_at, r.visibility, r.mood,
                             dict(r.resolution or {}), r.escalation,
                             r.customer_name_key or r.customer_email or r.customer_user) for r in rows}
    ids = list(cases)
    for start in range(0, len(ids), CHUNK):
        _add_details(session, cases, ids[start:start + CHUNK])
    return list(cases.values())


def _add_details(session: Session, cases: dict[int, ClosedRow], ids: Sequence[int]) -> None:
    for case_id, step, done in session.execute(
        select(CaseStep.case_id, CaseStep.step, CaseStep.done).where(CaseStep.case_id.in_(ids))
    ):
        cases[case_id].step_count += 1
        if done:
            cases[case_id].steps_done.add(step)
    for case_id, kind, data in session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.data)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind.in_(("attempt", "handoff_accepted")))
    ):
        if kind == "handoff_accepted":
            cases[case_id].second_contact = True
        elif (data or {}).get("outcome") == "helped" and (data or {}).get("what"):
            cases[case_id].attempts_helped.append(str(data["what"]))
