"""Who may do what to a case, as it stands: one place for the checks every move makes."""

from __future__ import annotations

from typing import Protocol

from bot import texts
from bot.core.errors import CaseError
from bot.core.snapshot import OPEN_STATUSES, CaseSnapshot


class CaseRow(Protocol):
    """What the checks read of a case: a snapshot, or the stored row inside a transaction."""

    @property
    def id(self) -> int: ...

    @property
    def owner_id(self) -> str: ...

    @property
    def status(self) -> str: ...


def check_owner(case: CaseSnapshot | CaseRow, user: str, action: str) -> None:
    """Only the owner may hand off, escalate or close a case."""
    if case.owner_id != user:
        raise CaseError(texts.NOT_OWNER.format(owner=f"<@{case.owner_id}>", action=texts.ACTION_NAMES[action]))


def check_open(case: CaseSnapshot | CaseRow) -> None:
    """A closed case takes no more changes until it is reopened."""
    if case.status not in OPEN_STATUSES:
        status = texts.STATUS_LABELS.get(case.status, case.status)
        raise CaseError(texts.CASE_CLOSED_ALREADY.format(number=case.id, status=status))


def check_may(case: CaseSnapshot, user: str, action: str) -> None:
    """Before a form opens: may `user` do `action` to the case as it stands? Raises CaseError if not.
    Handing off, escalating and closing: the owner, on an open case. Reviewing: a closed case, by its
    owner or whoever closed it."""
    if action == "review":
        if case.is_open:
            raise CaseError(texts.CASE_NOT_CLOSED.format(number=case.id))
        if user not in (case.owner_id, case.closed_by):
            check_owner(case, user, "review")
        return
    if action in ("handoff", "escalate", "close"):
        check_open(case)
        check_owner(case, user, action)
