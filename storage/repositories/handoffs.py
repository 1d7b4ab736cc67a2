"""Second contact: hand-off rows and their one answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Handoff
from storage.sql import changed


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
    return changed(result) == 1


def pending_handoffs(session: Session, case_id: int) -> Sequence[Handoff]:
    stmt = select(Handoff).where(Handoff.case_id == case_id, Handoff.status == "pending")
    return session.scalars(stmt).all()
