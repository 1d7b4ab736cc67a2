"""SQLAlchemy 2 typed models. The schema itself is created by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC everywhere, hands out aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime}


class Case(Base):
    __tablename__ = "cases"
    # App Home: my open cases (owner, status, newest first) and the team's last 30 days, read from the
    # indexes alone (closed_at carries status and opened_at so the resolve times need no table read).
    __table_args__ = (
        Index("ix_cases_owner_status_opened", "owner_id", "status", "opened_at"),
        Index("ix_cases_opened_at", "opened_at"),
        Index("ix_cases_closed_status_opened", "closed_at", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    checklist_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    customer: Mapped[str | None] = mapped_column(Text)
    customer_name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    customer_email: Mapped[str | None] = mapped_column(String(200), index=True)
    customer_user: Mapped[str | None] = mapped_column(String(32), index=True)
    summary: Mapped[str] = mapped_column(Text)
    mood: Mapped[str | None] = mapped_column(String(16))
    link: Mapped[str | None] = mapped_column(Text)
    source_permalink: Mapped[str | None] = mapped_column(Text)
    # Where the case was flagged (it lives in CASES_CHANNEL when the customer can read that conversation),
    # and who can read the channel it lives in ("public" or "private"; None until posted, or an old row).
    source_channel_id: Mapped[str | None] = mapped_column(String(32))
    visibility: Mapped[str | None] = mapped_column(String(16))
    flagged_by: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[dict[str, Any] | None]
    escalation: Mapped[dict[str, Any] | None]
    hard_nudged: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(index=True)
    erased_at: Mapped[datetime | None]  # customer details removed by retention (bot.learning.retention)
    # The playbook the case was opened with (name, language, steps as a list of {title, why, say, asks}),
    # so it reads true after the file changes; None on rows from before (the built-in six steps).
    playbook_name: Mapped[str | None] = mapped_column(String(60))
    playbook_language: Mapped[str | None] = mapped_column(String(35))
    playbook_steps: Mapped[list[Any] | None] = mapped_column(JSON)
    # Delivery to Slack (see bot.delivery): pending -> sending -> posted -> done, or failed (agent told).
    post_state: Mapped[str] = mapped_column(String(16), default="done", index=True)
    posting_at: Mapped[datetime | None]  # a chat.postMessage of the case message started then
    checklist_posting_at: Mapped[datetime | None]  # the same for the checklist
    rendered_at: Mapped[datetime | None]  # the updated_at last shown in Slack
    intake_key: Mapped[str | None] = mapped_column(String(120), unique=True)  # trigger or view: one case each
    intake: Mapped[dict[str, Any] | None]  # how it was flagged, whom to tell (response_url)
    sync_until: Mapped[datetime | None]  # lease on finishing the delivery
    sync_by: Mapped[str | None] = mapped_column(String(80))
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0)

    steps: Mapped[list[CaseStep]] = relationship(
        back_populates="case", order_by="CaseStep.step", cascade="all, delete-orphan"
    )


class CaseStep(Base):
    __tablename__ = "case_steps"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_by: Mapped[str | None] = mapped_column(String(32))
    done_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any] | None]

    case: Mapped[Case] = relationship(back_populates="steps")


class CaseEvent(Base):
    """Append-only log: who did what to a case, and when."""

    __tablename__ = "case_events"
    # (case_id, kind): a case's attempts/notes, and the failed attempts of a repeat customer's cases.
    __table_args__ = (
        Index("ix_case_events_case_at", "case_id", "id"),
        Index("ix_case_events_case_kind", "case_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_user: Mapped[str] = mapped_column(String(32))
    to_user: Mapped[str] = mapped_column(String(32), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    dm_sending_at: Mapped[datetime | None]  # the request DM may have reached Slack since then
    sync_until: Mapped[datetime | None]  # lease on checking/finishing an unconfirmed DM
    sync_by: Mapped[str | None] = mapped_column(String(80))


class Review(Base):
    __tablename__ = "reviews"
    # The Home tab counts causes of the last 30 days' reviews from this index alone.
    __table_args__ = (Index("ix_reviews_reviewed_cause", "reviewed_at", "cause"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    cause: Mapped[str] = mapped_column(String(32), index=True)
    improve: Mapped[str | None] = mapped_column(Text)
    ux_issue: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(32))
    reviewed_at: Mapped[datetime]
    forwarded_ts: Mapped[str | None] = mapped_column(String(32))


class Reminder(Base):
    """A message to send later: a follow-up, a breather nudge, the end of a breather."""

    __tablename__ = "reminders"
    # (status, due_at, id) matches the claim's ORDER BY, so PostgreSQL takes the first rows without a sort.
    # (recipient, status, due_at): an agent's next follow-ups on the Home tab without sorting their history.
    __table_args__ = (
        Index("ix_reminders_status_due", "status", "due_at", "id"),
        Index("ix_reminders_recipient_status_due", "recipient", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(32), index=True)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    sending_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    # Set when Slack's answer to a send was ambiguous (5xx, timeout); unlike sending_at, a retry keeps it.
    maybe_sent_at: Mapped[datetime | None]


class Agent(Base):
    """What we know about a support agent: their time zone (cached) and breather state."""

    __tablename__ = "agents"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    tz: Mapped[str | None] = mapped_column(String(64))
    tz_fetched_at: Mapped[datetime | None]
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    breather_until: Mapped[datetime | None]
    breather_task: Mapped[str | None] = mapped_column(Text)


class JobRun(Base):
    """One row per daily job and UTC day: inserting it is the claim, so the job runs once a day across processes."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "day", name="uq_job_runs_job_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in UTC
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None]


class ApiBudget(Base):
    """When a scarce Web API method may next be called (shared by every process on this database)."""

    __tablename__ = "api_budget"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[datetime]
