"""Second contact: hand-off rows and their one answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from storage.models import Handoff
from storage.sql import changed, row_by_key


def create_handoff(session: Connection, **fields: Any) -> Row[Any]:
    handoff_id = session.execute(insert(Handoff).values(status="pending", **fields).returning(Handoff.c.id)).scalar_one()
    handoff = get_handoff(session, handoff_id)
    assert handoff is not None  # inserted above, in this transaction
    return handoff


def get_handoff(session: Connection, handoff_id: int) -> Row[Any] | None:
    return row_by_key(session, Handoff, handoff_id)


def answer_handoff(session: Connection, handoff_id: int, *, status: str, now: datetime, reason: str | None) -> bool:
    """Pending -> accepted/declined/cancelled exactly once; False if it was already answered."""
    result = session.execute(
        update(Handoff)
        .where(Handoff.c.id == handoff_id, Handoff.c.status == "pending")
        .values(status=status, answered_at=now, reason=reason)
    )
    return changed(result) == 1


def pending_handoffs(session: Connection, case_id: int) -> Sequence[Row[Any]]:
    stmt = select(Handoff).where(Handoff.c.case_id == case_id, Handoff.c.status == "pending")
    return session.execute(stmt).all()
