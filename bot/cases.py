"""Case lifecycle: opening a case, ticking steps, editing, and snapshots for rendering.

Every change is written together with its entry in the append-only event log, in one
transaction. Snapshots are plain frozen dataclasses so nothing lazy escapes the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy.orm import Session

from bot import playbook, texts
from bot.textutil import customer_keys
from storage import repositories as repo
from storage.db import Database
from storage.models import Case

Clock = Callable[[], datetime]

OPEN_STATUSES = ("open", "escalated")
CLOSED_STATUSES = ("resolved", "unresolved")
MOODS = ("calm", "upset", "angry", "furious")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CaseError(Exception):
    """A request that the case's state or the user's role does not allow; `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StepState:
    number: int
    done: bool
    done_by: str | None
    done_at: datetime | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class Entry:
    """An attempt or a note from the event log."""

    kind: str
    author: str
    at: datetime
    text: str
    result: str | None = None


@dataclass(frozen=True)
class PriorCase:
    id: int
    status: str
    opened_at: datetime
    permalink: str | None
    summary: str
    failed_attempts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseSnapshot:
    id: int
    team_id: str | None
    channel_id: str
    message_ts: str | None
    checklist_ts: str | None
    permalink: str | None
    customer: str | None
    summary: str
    mood: str | None
    link: str | None
    source_permalink: str | None
    flagged_by: str
    owner_id: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    resolution: dict[str, Any] | None
    escalation: dict[str, Any] | None
    steps: tuple[StepState, ...]
    attempts: tuple[Entry, ...] = ()
    notes: tuple[Entry, ...] = ()
    prior: tuple[PriorCase, ...] = ()
    prior_count: int = 0
    pending_handoff_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def step(self, number: int) -> StepState:
        return self.steps[number - 1]


class Cases:
    """The case lifecycle, backed by storage.repositories."""

    def __init__(self, db: Database, clock: Clock = utcnow):
        self.db = db
        self.clock = clock

    # --- reading ---------------------------------------------------------------------------
    def get(self, case_id: int) -> CaseSnapshot | None:
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            return self._snapshot(session, case) if case else None

    def require(self, case_id: int) -> CaseSnapshot:
        snap = self.get(case_id)
        if snap is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        return snap

    def _snapshot(self, session: Session, case: Case) -> CaseSnapshot:
        log = repo.events(session, case.id, kinds=("attempt", "note"))
        attempts = tuple(
            Entry("attempt", e.actor, e.at, e.data.get("what", ""), e.data.get("result")) for e in log if e.kind == "attempt"
        )
        notes = tuple(Entry("note", e.actor, e.at, e.data.get("text", "")) for e in log if e.kind == "note")
        keys = dict(name_key=case.customer_name_key, email=case.customer_email, user=case.customer_user)
        earlier = [c for c in repo.prior_cases(session, **keys, exclude_id=case.id) if c.id < case.id]
        failed: dict[int, list[str]] = {}
        for e in repo.events_for_cases(session, [c.id for c in earlier], kinds=("attempt",)):
            if (e.data.get("outcome") or "") == "failed":
                failed.setdefault(e.case_id, []).append(e.data.get("what", ""))
        prior = tuple(
            PriorCase(c.id, c.status, c.opened_at, c.permalink, c.summary, tuple(failed.get(c.id, ())))
            for c in earlier[:5]
        )
        handoffs = repo.pending_handoffs(session, case.id)
        return CaseSnapshot(
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
            attempts=attempts,
            notes=notes,
            prior=prior,
            prior_count=len(earlier),
            pending_handoff_to=handoffs[-1].to_user if handoffs else None,
        )

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
    ) -> CaseSnapshot:
        if mood is not None and mood not in MOODS:
            raise ValueError(f"unknown mood {mood!r}")
        now = self.clock()
        keys = customer_keys(customer)
        with self.db.session() as session:
            case = repo.create_case(
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
                flagged_by=flagged_by,
                owner_id=flagged_by,
            )
            repo.add_event(
                session,
                case.id,
                actor=flagged_by,
                kind="case_opened",
                now=now,
                data={"customer": customer, "summary": summary, "mood": mood, "link": link, "channel": channel_id},
            )
            return self._snapshot(session, case)

    def set_posted(
        self, case_id: int, *, message_ts: str | None = None, checklist_ts: str | None = None, permalink: str | None = None
    ) -> None:
        fields = {k: v for k, v in dict(message_ts=message_ts, checklist_ts=checklist_ts, permalink=permalink).items() if v}
        if not fields:
            return
        with self.db.session() as session:
            repo.update_case(session, case_id, self.clock(), **fields)

    def move_channel(self, case_id: int, channel_id: str) -> None:
        """Before a case is posted anywhere the agent may pick another channel for it."""
        with self.db.session() as session:
            repo.update_case(session, case_id, self.clock(), channel_id=channel_id)

    def set_step(
        self, case_id: int, number: int, *, done: bool, user: str, details: dict[str, Any] | None = None
    ) -> tuple[bool, CaseSnapshot]:
        """Tick or untick a step. Returns (changed, snapshot); a repeated request changes nothing."""
        playbook.step(number)
        now = self.clock()
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
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
            return changed, self._snapshot(session, case)

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
        keys = customer_keys(customer)
        with self.db.session() as session:
            case = repo.get_case(session, case_id)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
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

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """The event log of a case, oldest first, as plain dicts."""
        with self.db.session() as session:
            return [
                {"at": e.at, "actor": e.actor, "kind": e.kind, "data": dict(e.data)} for e in repo.events(session, case_id)
            ]
