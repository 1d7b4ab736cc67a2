"""The case event log: one row per thing done to a case."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from storage.models import CaseEvent

EVENTS = CaseEvent
NEW_EVENT = insert(EVENTS).returning(EVENTS.c.id)  # values passed when it runs: built and cache-keyed once


def add_event(
    session: Connection, case_id: int, *, actor: str, kind: str, now: datetime, data: dict[str, Any] | None = None
) -> int:
    """Log one thing done to a case; the event's id. A Core insert: every change writes one."""
    values = {"case_id": case_id, "actor": actor, "kind": kind, "at": now, "data": data or {}}
    event_id: int = session.execute(NEW_EVENT, values).scalar_one()
    return event_id


def events(session: Connection, case_id: int, kinds: Iterable[str] | None = None) -> Sequence[Row[Any]]:
    stmt = select(CaseEvent).where(CaseEvent.c.case_id == case_id)
    if kinds is not None:
        stmt = stmt.where(CaseEvent.c.kind.in_(list(kinds)))
    return session.execute(stmt.order_by(CaseEvent.c.id)).all()


def events_for_cases(session: Connection, case_ids: Sequence[int], kinds: Iterable[str]) -> Sequence[Row[Any]]:
    if not case_ids:
        return []
    stmt = select(CaseEvent).where(CaseEvent.c.case_id.in_(list(case_ids)), CaseEvent.c.kind.in_(list(kinds)))
    return session.execute(stmt.order_by(CaseEvent.c.id)).all()
