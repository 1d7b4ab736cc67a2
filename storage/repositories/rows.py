"""What the repositories hand back, by name: rows of storage.models, read by column name.

The domain reads rows' fields inside a unit of work and keeps snapshots; it neither imports the models
nor writes through a row. A row is what the database held when it was read: after a write, read it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

__all__ = ["CaseRow", "HandoffRow", "ReminderRow", "ReviewRow", "StepRow"]

HandoffRow = Row[Any]
ReminderRow = Row[Any]
ReviewRow = Row[Any]
StepRow = Row[Any]


class CaseRow:
    """A case's row, its columns read by name (`case.owner_id`), with its steps in order (`case.steps`)."""

    __slots__ = ("_row", "steps")

    def __init__(self, row: Row[Any], steps: Sequence[StepRow]) -> None:
        self._row = row
        self.steps = steps

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # no column starts so; and an unset _row must not recurse here
            raise AttributeError(name)
        return getattr(self._row, name)
