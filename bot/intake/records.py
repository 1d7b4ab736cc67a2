"""Opening a case: saved with its playbook and the customer's earlier cases, once per request.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.cases import CaseStore, customer_columns
from bot.core.playbook import to_record
from bot.core.snapshot import MOODS, CaseSnapshot, StepState
from bot.core.textutil import customer_keys
from storage import repositories as repo
from storage.errors import Conflict

_log = logging.getLogger(__name__)


class IntakeRecords(CaseStore):
    """Opening a case: saved with its playbook and the customer's earlier cases, once per request."""

    def open(
        self,
        *,
        team_id: str | None,
        channel_id: str,
        flagged_by: str,
        summary: str,
        customer: str | None = None,
        mood: str | None = None,
        link: str | None = None,
        source_permalink: str | None = None,
        customer_user: str | None = None,
        source_channel_id: str | None = None,
        intake_key: str | None = None,
        intake: dict[str, Any] | None = None,
        lease: tuple[str, datetime] | None = None,
        with_prior: bool = True,
    ) -> CaseSnapshot:
        """Save a new case, not yet posted (post_state "pending").

        `channel_id`: where the agent wants the case; `source_channel_id`: the conversation it was flagged in,
        when that is another one (a message shortcut or the form). publish() decides where it really goes.
        `intake_key` (the trigger or view it came from) makes a repeated request fail with Conflict
        instead of opening a second case; `lease` (worker, until) reserves posting it for the caller, so a
        sweep does not post it too. `with_prior=False` leaves the customer's earlier cases out of the snapshot
        (the caller posts the case, which reads them for the channel it is posted in)."""
        source_channel_id = source_channel_id or channel_id
        if mood is not None and mood not in MOODS:
            raise ValueError(f"unknown mood {mood!r}")
        now = self.clock()
        keys = customer_keys(customer)
        if customer_user:
            keys = replace(keys, user=customer_user)
        with self.db.session() as session:
            opened = repo.OpeningEvent(flagged_by, "case_opened", {
                "customer": customer, "summary": summary, "mood": mood, "link": link, "channel": channel_id})
            case_id = repo.open_case(
                session,
                now=now,
                event=opened,
                reminders=self.hooks.reminders_on_open(flagged_by, now),
                team_id=team_id,
                channel_id=channel_id,
                **customer_columns(customer, keys),
                summary=summary,
                mood=mood,
                link=link,
                source_permalink=source_permalink,
                source_channel_id=source_channel_id,
                flagged_by=flagged_by,
                owner_id=flagged_by,
                post_state="pending",
                intake_key=intake_key,
                intake=intake,
                sync_by=lease[0] if lease else None,
                sync_until=lease[1] if lease else None,
                sync_attempts=0,
                step_count=len(self.playbook.steps),
                **to_record(self.playbook),
            )
            prior, prior_count, elsewhere = (
                self._prior(session, keys.name, keys.email, keys.user, case_id, channel_id) if with_prior else ((), 0, 0))
            snapshot = CaseSnapshot(  # a new case: nothing else to read back
                id=case_id, team_id=team_id, channel_id=channel_id, message_ts=None, checklist_ts=None, permalink=None,
                customer=customer, summary=summary, mood=mood, link=link, source_permalink=source_permalink,
                flagged_by=flagged_by, owner_id=flagged_by, status="open", opened_at=now, closed_at=None, closed_by=None,
                resolution=None, escalation=None,
                steps=tuple(StepState(s.number, False, None, None, None) for s in self.playbook.steps),
                prior=prior, prior_count=prior_count, prior_elsewhere=elsewhere, source_channel_id=source_channel_id,
                updated_at=now, post_state="pending", intake=intake,
                playbook=self.playbook,
            )
            return snapshot

    def open_once(self, *, intake_key: str | None, **fields: Any) -> CaseSnapshot:
        """Open a case for one request: a request delivered again (same trigger or view) finds the case
        its first delivery opened instead of opening a second one."""
        try:
            return self.open(intake_key=intake_key, **fields)
        except Conflict:
            existing = self.case_for_intake(intake_key) if intake_key else None
            if existing is None:
                raise
            return self.require(existing)

    def case_for_intake(self, intake_key: str) -> int | None:
        with self.db.session() as session:
            return repo.case_id_for_intake(session, intake_key)
