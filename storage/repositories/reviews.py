"""Closing reviews (why the customer was angry) and their counts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from storage.models import Review
from storage.sql import row_by_key


def save_review(session: Connection, case_id: int, **fields: Any) -> None:
    """Write the case's one review (a second review replaces the first, keeping where it was forwarded)."""
    if get_review(session, case_id) is None:
        session.execute(insert(Review).values(case_id=case_id, **fields))
    else:
        session.execute(update(Review).where(Review.c.case_id == case_id).values(**fields))


def set_review_forwarded(session: Connection, case_id: int, ts: str) -> None:
    """Remember where the UX issue was forwarded, so a second review does not send it again."""
    session.execute(update(Review).where(Review.c.case_id == case_id).values(forwarded_ts=ts))


def get_review(session: Connection, case_id: int) -> Row[Any] | None:
    return row_by_key(session, Review, case_id)


def cause_counts(session: Connection, since: datetime | None = None) -> dict[str, int]:
    """How many reviews named each cause (since `since`).

    With a date the causes are counted here from a range of the (reviewed_at, cause) index: given a
    GROUP BY, SQLite's planner prefers walking every review in the cause index instead.
    """
    if since is None:
        stmt = select(Review.c.cause, func.count()).group_by(Review.c.cause)
        return {cause: count for cause, count in session.execute(stmt).all()}
    return dict(Counter(session.scalars(select(Review.c.cause).where(Review.c.reviewed_at >= since)).all()))
