"""Second contact: the owner asks a colleague to take over; the colleague accepts or declines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import texts
from bot.core.cases import CaseStore
from bot.core.errors import CaseError
from bot.core.rules import check_open, check_owner
from bot.core.snapshot import CaseSnapshot
from storage import repositories as repo
from storage.db import Session


@dataclass(frozen=True)
class HandoffView:
    id: int
    case_id: int
    from_user: str
    to_user: str
    note: str | None
    status: str
    reason: str | None
    dm_channel: str | None
    dm_ts: str | None
    requested_at: datetime


def _reread(session: Session, handoff: repo.HandoffRow) -> repo.HandoffRow:
    """The hand-off as it is now: a row read earlier does not see this unit of work's later writes."""
    return repo.get_handoff(session, handoff.id) or handoff


def _view(h: repo.HandoffRow) -> HandoffView:
    return HandoffView(h.id, h.case_id, h.from_user, h.to_user, h.note, h.status, h.reason, h.dm_channel, h.dm_ts, h.requested_at)


class Handoffs:
    def __init__(self, cases: CaseStore):
        self.cases = cases
        self.db = cases.db

    def get(self, handoff_id: int) -> HandoffView | None:
        with self.db.session() as session:
            handoff = repo.get_handoff(session, handoff_id)
            return _view(handoff) if handoff else None

    def check_request(self, case: CaseSnapshot, requester: str, colleague: str | None = None) -> None:
        check_owner(case, requester, "handoff")
        check_open(case)
        if colleague is not None and colleague == requester:
            raise CaseError(texts.HANDOFF_SELF)

    def request(self, case_id: int, *, requester: str, colleague: str, note: str | None) -> tuple[HandoffView, list[HandoffView]]:
        """Record a request; earlier pending requests for the case are withdrawn (returned second)."""
        now = self.cases.clock()
        with self.db.session() as session:
            case = repo.get_case(session, case_id, lock=True)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
            check_owner(case, requester, "handoff")
            check_open(case)
            if colleague == requester:
                raise CaseError(texts.HANDOFF_SELF)
            withdrawn = []
            for old in repo.pending_handoffs(session, case_id):
                if repo.answer_handoff(session, old.id, status="cancelled", now=now, reason="superseded"):
                    withdrawn.append(_view(_reread(session, old)))
            handoff = repo.create_handoff(
                session, case_id=case_id, from_user=requester, to_user=colleague, note=note, requested_at=now
            )
            repo.add_event(
                session, case_id, actor=requester, kind="handoff_requested", now=now,
                data={"handoff": handoff.id, "to": colleague, "note": note},
            )
            return _view(handoff), withdrawn

    def set_dm(self, handoff_id: int, channel: str, ts: str) -> None:
        with self.db.session() as session:
            repo.set_handoff_delivery(session, handoff_id, dm_channel=channel, dm_ts=ts, sync_by=None, sync_until=None)

    def dm_sending(self, handoff_id: int, at: datetime) -> None:
        """Recorded before each send: from now on a retry looks for the DM before sending it again."""
        with self.db.session() as session:
            repo.set_handoff_delivery(session, handoff_id, dm_sending_at=at)

    def check_dm_later(self, handoff_id: int, at: datetime) -> None:
        """Slack may have the DM and we cannot look now: the sweep looks again after `at`."""
        with self.db.session() as session:
            repo.set_handoff_delivery(session, handoff_id, sync_by=None, sync_until=at)

    def dm_sending_at(self, handoff_id: int) -> datetime | None:
        with self.db.session() as session:
            handoff = repo.get_handoff(session, handoff_id)
            return handoff.dm_sending_at if handoff else None

    def failed(self, handoff_id: int, error: str) -> None:
        """The colleague could not be reached: the request is void and the log says why."""
        now = self.cases.clock()
        with self.db.session() as session:
            handoff = repo.get_handoff(session, handoff_id)
            if handoff:
                repo.get_case(session, handoff.case_id, lock=True)
            if handoff and repo.answer_handoff(session, handoff_id, status="failed", now=now, reason=error):
                repo.add_event(
                    session, handoff.case_id, actor="defuse", kind="handoff_failed", now=now,
                    data={"handoff": handoff_id, "to": handoff.to_user, "error": error},
                )

    def accept(self, handoff_id: int, *, user: str) -> tuple[bool, HandoffView]:
        """The colleague takes over. False (and nothing changes) if the request is no longer pending."""
        now = self.cases.clock()
        with self.db.session() as session:
            handoff = self._own(session, handoff_id, user)
            case = repo.get_case(session, handoff.case_id, lock=True)
            handoff = _reread(session, handoff)
            if handoff.status != "pending":
                return False, _view(handoff)
            if case is None or case.owner_id != handoff.from_user or case.status not in ("open", "escalated"):
                repo.answer_handoff(session, handoff_id, status="cancelled", now=now, reason="case moved on")
                handoff = _reread(session, handoff)
                return False, _view(handoff)
            if not repo.answer_handoff(session, handoff_id, status="accepted", now=now, reason=None):
                handoff = _reread(session, handoff)
                return False, _view(handoff)
            repo.update_case(session, case.id, now, owner_id=user)
            repo.add_event(
                session, case.id, actor=user, kind="handoff_accepted", now=now,
                data={"handoff": handoff_id, "from": handoff.from_user, "to": user},
            )
            self.cases.hooks.owner_changed(session, case.id, handoff.from_user, user, now)
            handoff = _reread(session, handoff)
            return True, _view(handoff)

    def decline(self, handoff_id: int, *, user: str, reason: str | None) -> tuple[bool, HandoffView]:
        now = self.cases.clock()
        with self.db.session() as session:
            handoff = self._own(session, handoff_id, user)
            repo.get_case(session, handoff.case_id, lock=True)  # lock order: case, then handoff (as accept)
            if not repo.answer_handoff(session, handoff_id, status="declined", now=now, reason=reason):
                handoff = _reread(session, handoff)
                return False, _view(handoff)
            repo.add_event(
                session, handoff.case_id, actor=user, kind="handoff_declined", now=now,
                data={"handoff": handoff_id, "from": handoff.from_user, "reason": reason},
            )
            handoff = _reread(session, handoff)
            return True, _view(handoff)

    @staticmethod
    def _own(session: Session, handoff_id: int, user: str) -> repo.HandoffRow:
        handoff = repo.get_handoff(session, handoff_id)
        if handoff is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        if handoff.to_user != user:
            raise CaseError(texts.HANDOFF_NOT_YOURS.format(user=f"<@{handoff.to_user}>"))
        return handoff

    def pending_for(self, case_id: int) -> list[HandoffView]:
        with self.db.session() as session:
            return [_view(h) for h in repo.pending_handoffs(session, case_id)]
