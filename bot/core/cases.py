"""Case lifecycle: opening a case, ticking steps, editing, and snapshots for rendering.

Every change is written together with its entry in the append-only event log, in one
transaction. Snapshots are plain frozen dataclasses so nothing lazy escapes the session.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot import texts
from bot.core.errors import CaseError
from bot.core.playbook import Playbook, built_in, from_record, to_record
from bot.core.rules import check_open, check_owner
from bot.core.snapshot import CLOSED_STATUSES, MOODS, CaseSnapshot, Clock, Entry, PriorCase, StepState, utcnow
from bot.core.textutil import customer_keys, plain
from storage import repositories as repo
from storage.db import Database, Session
from storage.errors import Conflict
from storage.models import Case, Review

_log = logging.getLogger(__name__)


class CaseHooks:
    """Work that must commit in the same transaction as a lifecycle change (see bot.followups)."""

    def case_opened(self, session: Session, case: CaseSnapshot, now: datetime) -> None:
        pass

    def case_closed(self, session: Session, case: CaseSnapshot, event_id: int, now: datetime) -> None:
        pass

    def case_reopened(self, session: Session, case: CaseSnapshot, now: datetime) -> None:
        pass

    def owner_changed(self, session: Session, case_id: int, old: str, new: str, now: datetime) -> None:
        pass


class Cases:
    """The case lifecycle, backed by storage.repositories."""

    def __init__(
        self, db: Database, clock: Clock = utcnow, hooks: CaseHooks | None = None, playbook: Playbook | None = None
    ):
        self.db = db
        self.clock = clock
        self.hooks = hooks or CaseHooks()
        self.playbook = playbook or built_in()  # new cases are opened with this one

    # --- reading ---------------------------------------------------------------------------
    def get(self, case_id: int, *, full: bool = True) -> CaseSnapshot | None:
        """A snapshot of the case; `full=False` skips the case file (attempts, notes, history,
        handoffs, review) for callers that only need the case itself, such as reminder DMs."""
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            return self._snapshot(session, case, light=not full) if case else None

    def require(self, case_id: int) -> CaseSnapshot:
        snap = self.get(case_id)
        if snap is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        return snap

    @staticmethod
    def _case_fields(case: Case) -> dict[str, Any]:
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

    def _snapshot(self, session: Session, case: Case, *, light: bool = False) -> CaseSnapshot:
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

    # --- writing ---------------------------------------------------------------------------
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
    ) -> CaseSnapshot:
        """Save a new case, not yet posted (post_state "pending").

        `channel_id`: where the agent wants the case; `source_channel_id`: the conversation it was flagged in,
        when that is another one (a message shortcut or the form). publish() decides where it really goes.
        `intake_key` (the trigger or view it came from) makes a repeated request fail with Conflict
        instead of opening a second case; `lease` (worker, until) reserves posting it for the caller, so a
        sweep does not post it too."""
        source_channel_id = source_channel_id or channel_id
        if mood is not None and mood not in MOODS:
            raise ValueError(f"unknown mood {mood!r}")
        now = self.clock()
        keys = customer_keys(customer)
        if customer_user:
            keys = replace(keys, user=customer_user)
        with self.db.session() as session:
            case_id = repo.create_case(
                session,
                now=now,
                team_id=team_id,
                channel_id=channel_id,
                customer=customer,
                customer_name_key=keys.name,
                customer_email=keys.email,
                customer_user=keys.user,
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
            repo.add_event(
                session,
                case_id,
                actor=flagged_by,
                kind="case_opened",
                now=now,
                data={"customer": customer, "summary": summary, "mood": mood, "link": link, "channel": channel_id},
            )
            prior, prior_count, elsewhere = self._prior(session, keys.name, keys.email, keys.user, case_id, channel_id)
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
            self.hooks.case_opened(session, snapshot, now)
            return snapshot

    def set_posted(
        self, case_id: int, *, message_ts: str | None = None, checklist_ts: str | None = None, permalink: str | None = None
    ) -> None:
        fields: dict[str, Any] = {
            k: v for k, v in dict(message_ts=message_ts, checklist_ts=checklist_ts, permalink=permalink).items() if v
        }
        if not fields:
            return
        if message_ts:
            fields["post_state"] = "posted"
        with self.db.session() as session:
            if checklist_ts:  # case message and checklist both there: nothing left to finish
                fields["post_state"] = "done"
            repo.set_case_delivery(session, case_id, None, **fields)  # not a change of the case itself

    # --- delivery bookkeeping (bot.delivery, Defuse.publish, the sweep) -----------------------
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

    def claim_delivery(self, case_id: int, worker: str, lease: timedelta) -> CaseSnapshot | None:
        """Take or renew the lease on posting/updating this case in Slack; None if someone else has it."""
        now = self.clock()
        with self.db.session() as session:
            case = repo.claim_case_delivery(session, case_id, worker=worker, now=now, until=now + lease)
            return self._snapshot(session, case) if case is not None else None

    def record_delivery(self, case_id: int, worker: str | None = None, **fields: Any) -> bool:
        """Delivery progress (post_state, ts, markers, lease); with `worker`, only while it holds the lease."""
        with self.db.session() as session:
            return repo.set_case_delivery(session, case_id, worker, **fields)

    def set_destination(self, case_id: int, *, channel_id: str, visibility: str) -> CaseSnapshot:
        """Before the first post: the channel the case will live in and who reads it. The earlier cases shown
        on it follow from that, so the snapshot is read afresh."""
        with self.db.session() as session:
            repo.update_case(session, case_id, self.clock(), channel_id=channel_id, visibility=visibility)
            return self._fresh(session, case_id)

    def withdraw(self, case_id: int, *, reason: str) -> bool:
        """Take back a case that was never posted (nowhere it may go); True if it was removed."""
        with self.db.session() as session:
            removed = repo.delete_unposted_case(session, case_id)
        if removed:
            _log.info("case %s withdrawn before posting: %s", case_id, reason)
        return removed

    def move_channel(self, case_id: int, channel_id: str) -> None:
        """Before a case is posted anywhere the agent may pick another channel for it."""
        with self.db.session() as session:
            repo.update_case(session, case_id, self.clock(), channel_id=channel_id)

    def set_step(
        self, case_id: int, number: int, *, done: bool, user: str, details: dict[str, Any] | None = None
    ) -> tuple[bool, CaseSnapshot]:
        """Tick or untick a step. Returns (changed, snapshot); a repeated request changes nothing.

        The snapshot is a light one (no history or prior cases): callers re-render from `get` anyway,
        and the repeat-customer lookup would otherwise run twice per click.
        """
        now = self.clock()
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
            if not 1 <= number <= len(case.steps):
                raise ValueError(f"case {case_id} has no step {number}")
            changed = repo.set_step(session, case_id, number, done=done, user=user, now=now, details=details)
            if changed:
                data: dict[str, Any] = {"step": number}
                if details:
                    data.update(details)
                repo.add_event(session, case_id, actor=user, kind="step_done" if done else "step_undone", now=now, data=data)
                repo.update_case(session, case_id, now)
                session.expire_all()
                case = repo.get_case(session, case_id)
                assert case is not None
            return changed, self._snapshot(session, case, light=True)

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
                    customer=customer,
                    customer_name_key=keys.name,
                    customer_email=keys.email,
                    customer_user=keys.user,
                    summary=summary,
                    mood=mood,
                    link=link,
                )
                repo.add_event(session, case_id, actor=user, kind="case_edited", now=now, data=changes)
                session.expire_all()
                case = repo.get_case(session, case_id)
                assert case is not None
            return self._snapshot(session, case)

    # --- case file -------------------------------------------------------------------------
    def _load(self, session: Session, case_id: int, *, lock: bool = False) -> Case:
        case = repo.get_case(session, case_id, lock=lock)
        if case is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        return case

    def _fresh(self, session: Session, case_id: int) -> CaseSnapshot:
        session.expire_all()
        return self._snapshot(session, self._load(session, case_id))

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

    # --- ownership ---------------------------------------------------------------------------
    # --- escalation --------------------------------------------------------------------------
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

    # --- closing -----------------------------------------------------------------------------
    def close(self, case_id: int, *, user: str, outcome: str, details: dict[str, Any]) -> tuple[bool, CaseSnapshot]:
        """Resolved or not: owner only, once. A repeated submission changes nothing."""
        if outcome not in CLOSED_STATUSES:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if case.status in CLOSED_STATUSES:
                return False, self._snapshot(session, case)
            check_owner(case, user, "close")
            changed = repo.update_case_if(
                session, case_id, now, expect={"open": True},
                status=outcome, closed_at=now, closed_by=user, resolution={"outcome": outcome, **details},
            )
            if not changed:
                return False, self._fresh(session, case_id)
            event = repo.add_event(session, case_id, actor=user, kind=outcome, now=now, data=details)
            for handoff in repo.pending_handoffs(session, case_id):
                repo.answer_handoff(session, handoff.id, status="cancelled", now=now, reason="case closed")
            snapshot = self._fresh(session, case_id)
            self.hooks.case_closed(session, snapshot, event.id, now)
            return True, snapshot

    def reopen(self, case_id: int, *, user: str) -> tuple[bool, CaseSnapshot]:
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if case.status not in CLOSED_STATUSES:
                return False, self._snapshot(session, case)
            was = case.status
            waiting = bool(case.escalation) and not (case.escalation or {}).get("fixed_at")
            changed = repo.update_case_if(
                session, case_id, now, expect={"open": False},
                status="escalated" if waiting else "open", closed_at=None, closed_by=None,
            )
            if not changed:
                return False, self._fresh(session, case_id)
            repo.add_event(session, case_id, actor=user, kind="reopened", now=now, data={"was": was})
            snapshot = self._fresh(session, case_id)
            self.hooks.case_reopened(session, snapshot, now)
            return True, snapshot

    # --- review ------------------------------------------------------------------------------
    def save_review(self, case_id: int, *, user: str, cause: str, improve: str | None, ux_issue: str | None) -> CaseSnapshot:
        if cause not in texts.CAUSES:
            raise ValueError(f"unknown cause {cause!r}")
        now = self.clock()
        with self.db.session() as session:
            case = self._load(session, case_id)
            if case.status not in CLOSED_STATUSES:
                raise CaseError(texts.CASE_NOT_CLOSED.format(number=case_id))
            if user not in (case.owner_id, case.closed_by):
                check_owner(case, user, "review")
            previous = repo.get_review(session, case_id)
            repo.save_review(
                session,
                Review(case_id=case_id, cause=cause, improve=improve, ux_issue=ux_issue, reviewed_by=user, reviewed_at=now,
                       forwarded_ts=previous.forwarded_ts if previous else None),
            )
            repo.add_event(
                session, case_id, actor=user, kind="reviewed", now=now,
                data={"cause": cause, "improve": improve, "ux_issue": ux_issue},
            )
            return self._fresh(session, case_id)

    def review_forwarded(self, case_id: int) -> bool:
        with self.db.session() as session:
            review = repo.get_review(session, case_id)
            return bool(review and review.forwarded_ts)

    def set_review_forwarded(self, case_id: int, ts: str) -> None:
        with self.db.session() as session:
            review = repo.get_review(session, case_id)
            if review is not None:
                review.forwarded_ts = ts

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """The event log of a case, oldest first, as plain dicts."""
        with self.db.session() as session:
            return [
                {"at": e.at, "actor": e.actor, "kind": e.kind, "data": dict(e.data)} for e in repo.events(session, case_id)
            ]
