"""The tables, as SQLAlchemy Core metadata. The schema itself is created by the Alembic migrations.

Core rather than the ORM: every statement here is a Core one, and not importing sqlalchemy.orm saves
about 7 MB in each Defuse process (the app and its posting process both import this module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

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


metadata = MetaData(naming_convention=NAMING)

Case = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", String(32)),
    Column("channel_id", String(32), nullable=False),
    Column("message_ts", String(32)),
    Column("checklist_ts", String(32)),
    Column("permalink", Text),
    Column("customer", Text),
    Column("customer_name_key", String(200), index=True),
    Column("customer_email", String(200), index=True),
    Column("customer_user", String(32), index=True),
    Column("summary", Text, nullable=False),
    Column("mood", String(16)),
    Column("link", Text),
    Column("source_permalink", Text),
    # Where the case was flagged (it lives in CASES_CHANNEL when the customer can read that conversation),
    # and who can read the channel it lives in ("public" or "private"; None until posted, or an old row).
    Column("source_channel_id", String(32)),
    Column("visibility", String(16)),
    Column("flagged_by", String(32), nullable=False),
    Column("owner_id", String(32), index=True, nullable=False),
    Column("status", String(16), default="open", index=True, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("closed_by", String(32)),
    Column("resolution", JSON),
    Column("escalation", JSON),
    Column("hard_nudged", Boolean, default=False, nullable=False),
    Column("updated_at", UTCDateTime, index=True, nullable=False),
    Column("erased_at", UTCDateTime),  # customer details removed by retention (bot.learning.retention)
    # The playbook the case was opened with (name, language, steps as a list of {title, why, say, asks}),
    # so it reads true after the file changes; None on rows from before (the built-in six steps).
    Column("playbook_name", String(60)),
    Column("playbook_language", String(35)),
    Column("playbook_steps", JSON),
    # Delivery to Slack (see bot.delivery): pending -> sending -> posted -> done, or failed (agent told).
    Column("post_state", String(16), default="done", index=True, nullable=False),
    Column("posting_at", UTCDateTime),  # a chat.postMessage of the case message started then
    Column("checklist_posting_at", UTCDateTime),  # the same for the checklist
    Column("rendered_at", UTCDateTime),  # the updated_at last shown in Slack
    Column("intake_key", String(120), unique=True),  # trigger or view: one case each
    Column("intake", JSON),  # how it was flagged, whom to tell (response_url)
    Column("sync_until", UTCDateTime),  # lease on finishing the delivery
    Column("sync_by", String(80)),
    Column("sync_attempts", Integer, default=0, nullable=False),
    # App Home: my open cases (owner, status, newest first) and the team's last 30 days, read from the
    # indexes alone (closed_at carries status and opened_at so the resolve times need no table read).
    Index("ix_cases_owner_status_opened", "owner_id", "status", "opened_at"),
    Index("ix_cases_opened_at", "opened_at"),
    Index("ix_cases_closed_status_opened", "closed_at", "status", "opened_at"),
)


CaseStep = Table(
    "case_steps",
    metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("done", Boolean, default=False, nullable=False),
    Column("done_by", String(32)),
    Column("done_at", UTCDateTime),
    Column("details", JSON),
)

# Append-only log: who did what to a case, and when.
CaseEvent = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(32), nullable=False),
    Column("kind", String(32), index=True, nullable=False),
    Column("data", JSON, default=dict, nullable=False),
    # (case_id, kind): a case's attempts/notes, and the failed attempts of a repeat customer's cases.
    Index("ix_case_events_case_at", "case_id", "id"),
    Index("ix_case_events_case_kind", "case_id", "kind", "id"),
)


Handoff = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), index=True, nullable=False),
    Column("from_user", String(32), nullable=False),
    Column("to_user", String(32), index=True, nullable=False),
    Column("note", Text),
    Column("status", String(16), default="pending", nullable=False),
    Column("reason", Text),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("dm_channel", String(32)),
    Column("dm_ts", String(32)),
    Column("dm_sending_at", UTCDateTime),  # the request DM may have reached Slack since then
    Column("sync_until", UTCDateTime),  # lease on checking/finishing an unconfirmed DM
    Column("sync_by", String(80)),
)


Review = Table(
    "reviews",
    metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("cause", String(32), index=True, nullable=False),
    Column("improve", Text),
    Column("ux_issue", Text),
    Column("reviewed_by", String(32), nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    Column("forwarded_ts", String(32)),
    # The Home tab counts causes of the last 30 days' reviews from this index alone.
    Index("ix_reviews_reviewed_cause", "reviewed_at", "cause"),
)

# A message to send later: a follow-up, a breather nudge, the end of a breather.
Reminder = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), index=True),
    Column("recipient", String(32), index=True, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), default="pending", nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("last_error", Text),
    Column("dedupe_key", String(200), unique=True, nullable=False),
    Column("locked_until", UTCDateTime),
    Column("locked_by", String(64)),
    Column("payload", JSON, default=dict, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sending_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("dm_channel", String(32)),
    Column("dm_ts", String(32)),
    # Set when Slack's answer to a send was ambiguous (5xx, timeout); unlike sending_at, a retry keeps it.
    Column("maybe_sent_at", UTCDateTime),
    # (status, due_at, id) matches the claim's ORDER BY, so PostgreSQL takes the first rows without a sort.
    # (recipient, status, due_at): an agent's next follow-ups on the Home tab without sorting their history.
    Index("ix_reminders_status_due", "status", "due_at", "id"),
    Index("ix_reminders_recipient_status_due", "recipient", "status", "due_at"),
)

# What we know about a support agent: their time zone (cached) and breather state.
Agent = Table(
    "agents",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("name", String(200)),
    Column("is_bot", Boolean, default=False, nullable=False),
    Column("deleted", Boolean, default=False, nullable=False),
    Column("tz", String(64)),
    Column("tz_fetched_at", UTCDateTime),
    Column("dm_channel", String(32)),
    Column("breather_until", UTCDateTime),
    Column("breather_task", Text),
)

# One row per daily job and UTC day: inserting it is the claim, so the job runs once a day across processes.
JobRun = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(32), nullable=False),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD in UTC
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("result", JSON),
    UniqueConstraint("job", "day", name="uq_job_runs_job_day"),
)

# When a scarce Web API method may next be called (shared by every process on this database).
ApiBudget = Table(
    "api_budget",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_at", UTCDateTime, nullable=False),
)
