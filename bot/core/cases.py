"""Reading a case: snapshots for rendering, the customer's earlier cases, and the hooks of its lifecycle.

Every change is written together with its entry in the append-only event log, in one
transaction. Snapshots are plain frozen dataclasses so nothing lazy escapes the session.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot import texts
from bot.core.errors import CaseError
from bot.core.playbook import Playbook, built_in, from_record
from bot.core.snapshot import CaseSnapshot, Clock, Entry, PriorCase, StepState, utcnow
from bot.core.textutil import CustomerKeys
from storage import repositories as repo
from storage.db import Database, Session

_log = logging.getLogger(__name__)


def customer_columns(customer: str | None, keys: CustomerKeys) -> dict[str, str | None]:
    """The case's customer as stored: the name as typed and the keys a repeat customer is found by."""
    return {"customer": customer, "customer_name_key": keys.name, "customer_email": keys.email,
            "customer_user": keys.user}


class CaseHooks:
    """Work that must commit in the same transaction as a lifecycle change (see bot.followups)."""

    def reminders_on_open(self, owner_id: str, opened_at: datetime) -> list[repo.OpeningReminder]:
        """Reminders written with a new case, in the same statement where the database allows."""
        return []

    def case_closed(self, session: Session, case: CaseSnapshot, event_id: int, now: datetime) -> None:
        pass

    def case_reopened(self, session: Session, case: CaseSnapshot, now: datetime) -> None:
        pass

    def owner_changed(self, session: Session, case_id: int, old: str, new: str, now: datetime) -> None:
        pass


class CaseStore:
    """Reading a case and what every move's records share; the moves' writes live in their rooms
    (bot/<move>/records.py) and are put together in bot.cases.Cases."""

    def __init__(
        self, db: Database, clock: Clock = utcnow, hooks: CaseHooks | None = None, playbook: Playbook | None = None
    ):
        self.db = db
        self.clock = clock
        self.hooks = hooks or CaseHooks()
        self.playbook = playbook or built_in()  # new cases are opened with this one

    def get(self, case_id: int, *, full: bool = True) -> CaseSnapshot | None:
        """A snapshot of the case; `full=False` skips the case file (attempts, notes, history,
        handoffs, review) for callers that only need the case itself, such as reminder DMs."""
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            return self._snapshot(session, case, light=not full) if case else None

    def get_many(self, case_ids: list[int]) -> dict[int, CaseSnapshot]:
        """Light snapshots (as `get(full=False)`) of several cases, by id; missing ones are left out."""
        with self.db.session() as session:
            return {case.id: self._snapshot(session, case, light=True) for case in repo.get_cases(session, case_ids)}

    def require(self, case_id: int) -> CaseSnapshot:
        snap = self.get(case_id)
        if snap is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        return snap

    @staticmethod
    def _case_fields(case: repo.CaseRow) -> dict[str, Any]:
        return dict(
            id=case.id,
            team_id=case.team_id,
            channel_id=case.channel_id,
            message_ts=case.message_ts,
            checklist_ts=case.checklist_ts,
            permalink=case.permalink,
            customer=case.customer,
            summary=case.summary,
            mood=case.mood,
            link=case.link,
            source_permalink=case.source_permalink,
            flagged_by=case.flagged_by,
            owner_id=case.owner_id,
            status=case.status,
            opened_at=case.opened_at,
            closed_at=case.closed_at,
            closed_by=case.closed_by,
            resolution=case.resolution,
            escalation=case.escalation,
            steps=tuple(StepState(s.step, s.done, s.done_by, s.done_at, s.details) for s in case.steps),
            source_channel_id=case.source_channel_id,
            visibility=case.visibility,
            updated_at=case.updated_at,
            post_state=case.post_state,
            posting_at=case.posting_at,
            checklist_posting_at=case.checklist_posting_at,
            intake=case.intake,
            playbook=from_record(case.playbook_name, case.playbook_language, case.playbook_steps),
        )

    def _snapshot(self, session: Session, case: repo.CaseRow, *, light: bool = False) -> CaseSnapshot:
        if light:
            return CaseSnapshot(**self._case_fields(case))
        log = repo.events(session, case.id, kinds=("attempt", "note"))
        attempts = tuple(
            Entry("attempt", e.actor, e.at, e.data.get("what", ""), e.data.get("result"), e.data.get("outcome")) for e in log if e.kind == "attempt"
        )
        notes = tuple(Entry("note", e.actor, e.at, e.data.get("text", "")) for e in log if e.kind == "note")
        prior, prior_count, elsewhere = self._prior(
            session, case.customer_name_key, case.customer_email, case.customer_user, case.id, case.channel_id
        )
        handoffs = repo.pending_handoffs(session, case.id)
        return CaseSnapshot(
            **self._case_fields(case),
            attempts=attempts,
            notes=notes,
            prior=prior,
            prior_count=prior_count,
            prior_elsewhere=elsewhere,
            pending_handoff_to=handoffs[-1].to_user if handoffs else None,
            review_cause=review.cause if (review := repo.get_review(session, case.id)) else None,
        )

    @staticmethod
    def _prior(
        session: Session, name_key: str | None, email: str | None, user: str | None, case_id: int, viewer_channel: str
    ) -> tuple[tuple[PriorCase, ...], int, int]:
        """The customer's earlier cases whose channel the readers of `viewer_channel` can see (newest five,
        with what failed in them), how many earlier cases there are, and how many of them live elsewhere.

        Who sees what: a case's summary, attempts and link are shown only where the people who could read its
        own channel are: in that same channel, or anywhere internal if it lives in a public channel.
        """
        keys = dict(name_key=name_key, email=email, user=user)
        total, visible = repo.count_prior_cases_seen(session, **keys, before_id=case_id, viewer_channel=viewer_channel)
        if not total:
            return (), 0, 0
        earlier = repo.prior_cases(
            session, **keys, before_id=case_id, limit=5, viewer_channel=viewer_channel, everywhere=False
        ) if visible else []
        failed: dict[int, list[str]] = {}
        for e in repo.events_for_cases(session, [c.id for c in earlier], kinds=("attempt",)) if earlier else ():
            if (e.data.get("outcome") or "") == "failed":
                failed.setdefault(e.case_id, []).append(e.data.get("what", ""))
        prior = tuple(
            PriorCase(c.id, c.status, c.opened_at, c.permalink, c.summary, tuple(failed.get(c.id, ()))) for c in earlier
        )
        return prior, total, total - visible

    def _load(self, session: Session, case_id: int, *, lock: bool = False) -> repo.CaseRow:
        case = repo.get_case(session, case_id, lock=lock)
        if case is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        return case

    def _fresh(self, session: Session, case_id: int) -> CaseSnapshot:
        return self._snapshot(session, self._load(session, case_id))

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """The event log of a case, oldest first, as plain dicts."""
        with self.db.session() as session:
            return [
                {"at": e.at, "actor": e.actor, "kind": e.kind, "data": dict(e.data)} for e in repo.events(session, case_id)
            ]
