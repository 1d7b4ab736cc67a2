"""Escalation on the case: asked for, its Slack message, experts' updates, fixed.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from bot import texts
from bot.core.cases import CaseStore
from bot.core.errors import CaseError
from bot.core.rules import check_open, check_owner
from bot.core.snapshot import CaseSnapshot
from storage import repositories as repo

_log = logging.getLogger(__name__)


class EscalationRecords(CaseStore):
    """Escalation on the case: asked for, its Slack message, experts' updates, fixed."""

    def escalate(
        self, case_id: int, *, user: str, need: str, expected_by: datetime, severity: str, channel: str | None
    ) -> CaseSnapshot:
        if severity not in texts.SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id, lock=True)
            check_owner(case, user, "escalate")
            check_open(case)
            if case.escalation and not case.escalation.get("fixed_at"):
                raise CaseError(texts.ALREADY_ESCALATED.format(number=case_id))
            escalation = {
                "need": need,
                "severity": severity,
                "expected_by": expected_by.isoformat(),
                "by": user,
                "at": now.isoformat(),
                "channel": channel,
                "ts": None,
                "fixed_by": None,
                "fixed_at": None,
            }
            repo.update_case(session, case_id, now, status="escalated", escalation=escalation)
            repo.add_event(session, case_id, actor=user, kind="escalated", now=now, data=dict(escalation))
            return self._fresh(session, case_id)

    def set_escalation_message(self, case_id: int, channel: str, ts: str) -> None:
        with self.db.session() as session:
            case = self._load(session, case_id)
            escalation = dict(case.escalation or {})
            escalation.update(channel=channel, ts=ts)
            repo.update_case(session, case_id, self.clock(), escalation=escalation)

    def escalation_update(self, case_id: int, *, user: str, text: str) -> CaseSnapshot:
        """Anyone (the experts) may post an update on an escalation."""
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if not case.escalation:
                raise CaseError(texts.CASE_NOT_FOUND)
            repo.add_event(session, case_id, actor=user, kind="escalation_update", now=now, data={"text": text})
            repo.update_case(session, case_id, now)
            return self._fresh(session, case_id)

    def escalation_fixed(self, case_id: int, *, user: str) -> tuple[bool, CaseSnapshot]:
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id, lock=True)  # two "Mark fixed" clicks: one wins
            escalation = dict(case.escalation or {})
            if not escalation or escalation.get("fixed_at"):
                return False, self._snapshot(session, case)
            escalation.update(fixed_by=user, fixed_at=now.isoformat())
            status = "open" if case.status == "escalated" else case.status
            repo.update_case(session, case_id, now, status=status, escalation=escalation)
            repo.add_event(session, case_id, actor=user, kind="escalation_fixed", now=now)
            return True, self._fresh(session, case_id)
