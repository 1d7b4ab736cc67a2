"""The case event log: one row per thing done to a case."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CaseEvent


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
