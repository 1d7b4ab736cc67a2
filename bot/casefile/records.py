"""The case file: editing the case, attempts and their results, notes.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import texts
from bot.core.cases import CaseStore, customer_columns
from bot.core.errors import CaseError
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import customer_keys, plain
from storage import repositories as repo

_log = logging.getLogger(__name__)


class CaseFileRecords(CaseStore):
    """The case file: editing the case, attempts and their results, notes."""

    def edit(
        self,
        case_id: int,
        *,
        user: str,
        customer: str | None,
        summary: str,
        mood: str | None,
        link: str | None,
    ) -> CaseSnapshot:
        now = self.clock()
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
            # The form shows text as people read it; a field saved unchanged keeps its mentions and links.
            if customer is not None and case.customer and customer == plain(case.customer):
                customer = case.customer
            if case.summary and summary == plain(case.summary):
                summary = case.summary
            keys = customer_keys(customer)
            if not keys.user and case.customer_user:  # a name fix keeps the Slack user it was opened for
                keys = replace(keys, user=case.customer_user)
            before = {"customer": case.customer, "summary": case.summary, "mood": case.mood, "link": case.link}
            after = {"customer": customer, "summary": summary, "mood": mood, "link": link}
            changes = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
            if changes:
                repo.update_case(
                    session,
                    case_id,
                    now,
                    **customer_columns(customer, keys),
                    summary=summary,
                    mood=mood,
                    link=link,
                )
                repo.add_event(session, case_id, actor=user, kind="case_edited", now=now, data=changes)
                case = repo.get_case(session, case_id)
                assert case is not None
            return self._snapshot(session, case)

    def log_attempt(self, case_id: int, *, user: str, what: str, result: str, outcome: str) -> CaseSnapshot:
        """Anyone may log what was tried and how it went."""
        if outcome not in texts.ATTEMPT_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = self.clock()
        with self.db.session() as session:
            self._load(session, case_id)
            data = {"what": what, "result": result, "outcome": outcome}
            repo.add_event(session, case_id, actor=user, kind="attempt", now=now, data=data)
            repo.update_case(session, case_id, now)
            return self._fresh(session, case_id)

    def add_note(self, case_id: int, *, user: str, text: str) -> CaseSnapshot:
        now = self.clock()
        with self.db.session() as session:
            self._load(session, case_id)
            repo.add_event(session, case_id, actor=user, kind="note", now=now, data={"text": text})
            repo.update_case(session, case_id, now)
            return self._fresh(session, case_id)
