"""The domain's vocabulary. StrEnum members equal the strings stored in the database and carried in
button values, so old rows and old buttons read the same; copy (bot/*/copy.py) is keyed by these."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.OPEN, Status.ESCALATED})
CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.UNRESOLVED})


class Mood(StrEnum):
    CALM = "calm"
    UPSET = "upset"
    ANGRY = "angry"
    FURIOUS = "furious"


class AttemptOutcome(StrEnum):
    HELPED = "helped"
    PARTLY = "partly"
    FAILED = "failed"


class Cause(StrEnum):
    """Why the customer was angry, as the review records it."""

    BUG = "bug"
    UX = "ux"
    SUPPORT = "support"
    OUTSIDE = "outside"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Visibility(StrEnum):
    """Who reads the channel a case lives in."""

    PUBLIC = "public"  # an internal public channel: anyone in our organisation
    PRIVATE = "private"  # an internal private channel, DM or group DM: only its members
    EXTERNAL = "external"  # someone from another organisation (the customer) can read it


class HandoffStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ReminderKind(StrEnum):
    FOLLOW_UP = "follow_up"
    BREATHER = "breather"
    BREATHER_END = "breather_end"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    FAILED = "failed"


class FollowUpOutcome(StrEnum):
    HAPPY = "happy"
    UNHAPPY = "unhappy"
    NO_ANSWER = "no_answer"


class EventKind(StrEnum):
    """Entries of a case's append-only event log."""

    CASE_OPENED = "case_opened"
    CASE_EDITED = "case_edited"
    STEP_DONE = "step_done"
    STEP_UNDONE = "step_undone"
    ATTEMPT = "attempt"
    NOTE = "note"
    HANDOFF_REQUESTED = "handoff_requested"
    HANDOFF_ACCEPTED = "handoff_accepted"
    HANDOFF_DECLINED = "handoff_declined"
    HANDOFF_FAILED = "handoff_failed"
    ESCALATED = "escalated"
    ESCALATION_UPDATE = "escalation_update"
    ESCALATION_FIXED = "escalation_fixed"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"
    REOPENED = "reopened"
    REVIEWED = "reviewed"
    FOLLOW_UP = "follow_up"
    FOLLOW_UP_SNOOZED = "follow_up_snoozed"
    FOLLOW_UP_SKIPPED = "follow_up_skipped"
    BREATHER = "breather"
