"""Closing reviews (why the customer was angry) and their counts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import Review


def save_review(session: Session, case_id: int, **fields: Any) -> Review:
    """Write the case's one review (a second review replaces the first, keeping where it was forwarded)."""
    previous = session.get(Review, case_id)
    if previous is not None:
        fields.setdefault("forwarded_ts", previous.forwarded_ts)
    return session.merge(Review(case_id=case_id, **fields))


def set_review_forwarded(session: Session, case_id: int, ts: str) -> None:
    """Remember where the UX issue was forwarded, so a second review does not send it again."""
    session.execute(update(Review).where(Review.case_id == case_id).values(forwarded_ts=ts))


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
