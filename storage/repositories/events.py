"""The case event log: one row per thing done to a case."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from storage.models import CaseEvent
from storage.sql import table_of

EVENTS = table_of(CaseEvent)
NEW_EVENT = insert(EVENTS).returning(EVENTS.c.id)  # values passed when it runs: built and cache-keyed once


def add_event(
    session: Session, case_id: int, *, actor: str, kind: str, now: datetime, data: dict[str, Any] | None = None
) -> int:
    """Log one thing done to a case; the event's id. A Core insert: every change writes one."""
    values = {"case_id": case_id, "actor": actor, "kind": kind, "at": now, "data": data or {}}
    event_id: int = session.execute(NEW_EVENT, values).scalar_one()
    return event_id


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
