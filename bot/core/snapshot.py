"""What a case looks like to everything that reads it: frozen snapshots, so nothing lazy escapes a
database session, built by bot.core.cases and rendered by the Slack side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.mood import MOODS as MOODS  # re-exported: read as snapshot.MOODS too
from bot.core.mood import later_mood
from bot.core.playbook import Playbook, built_in, step_asking

Clock = Callable[[], datetime]

OPEN_STATUSES = ("open", "escalated")
CLOSED_STATUSES = ("resolved", "unresolved")


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    outcome: str | None = None


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
    prior: tuple[PriorCase, ...] = ()  # earlier cases of this customer visible where this case lives (newest five)
    prior_count: int = 0  # all earlier cases of this customer
    prior_elsewhere: int = 0  # of those, how many live where this case's readers can't see them
    source_channel_id: str | None = None  # where it was flagged, when that differs from channel_id
    visibility: str | None = None  # who reads channel_id: "public" or "private" (None: not posted yet)
    pending_handoff_to: str | None = None
    review_cause: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # delivery to Slack (bot.delivery)
    updated_at: datetime | None = None
    post_state: str = "done"
    posting_at: datetime | None = None
    checklist_posting_at: datetime | None = None
    intake: dict[str, Any] | None = None
    playbook: Playbook = field(default_factory=built_in)  # the one the case was opened with

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def mood_after(self) -> str | None:
        """The latest mood recorded since the case was flagged (closing, follow-ups)."""
        return later_mood(self.resolution)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def total(self) -> int:
        return len(self.playbook.steps)

    def step(self, number: int) -> StepState:
        return self.steps[number - 1]

    def step_asking(self, asks: str) -> StepState | None:
        """The state of the step whose tick asks for `asks`; None if this case's playbook has none."""
        found = step_asking(self.playbook, asks)
        return self.step(found.number) if found and found.number <= len(self.steps) else None

    def answer(self, asks: str, key: str) -> Any:
        """What was recorded under `key` when the step asking `asks` was ticked (None if not ticked)."""
        state = self.step_asking(asks)
        return (state.details or {}).get(key) if state and state.done else None
