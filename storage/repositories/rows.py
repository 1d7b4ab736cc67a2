"""What the repositories hand back, by name (rows of storage.models), and the session's cache.

The domain reads rows' fields inside a session and keeps snapshots; it neither imports the models nor
calls the ORM. When a Core statement changed a row already loaded, it asks for the row afresh here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import Case as CaseRow
from storage.models import Handoff as HandoffRow
from storage.models import Reminder as ReminderRow
from storage.models import Review as ReviewRow

__all__ = ["CaseRow", "HandoffRow", "ReminderRow", "ReviewRow", "forget_loaded", "reload"]


def forget_loaded(session: Session) -> None:
    """Drop what the session loaded: the next read sees the rows as Core statements left them."""
    session.expire_all()


def reload(session: Session, row: CaseRow | HandoffRow | ReminderRow | ReviewRow) -> None:
    """Read one loaded row again from the database."""
    session.refresh(row)
