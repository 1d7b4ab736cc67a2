"""The CSV export of Defuse's own records, for leads and operators.

Two files, both streamed row by row from the database in batches (storage.export_queries):

- cases.csv: one row per case with anything in the window (opened or closed in it, or still open);
- activity.csv: what happened on those cases (attempts, notes, handoffs, escalations, closing,
  reviews, follow-ups), one row per record, by case and then in order.

Neither file holds a customer's name, the case summary or any message copied from Slack. Every
column is documented in COLUMNS below; `readme_tables()` renders them for the README.
Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core import playbook
from storage import export_queries as q
from storage.db import Database

EMPTY: dict[str, int] = {}
CLOSED = ("resolved", "unresolved")
DEFAULT_DAYS = 90
DAYS_RANGE = (1, 3650)
BATCH = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)  # "" is not in it: empty text stays empty


@dataclass(frozen=True)
class Column:
    name: str
    doc: str


CASE_COLUMNS: tuple[Column, ...] = (
    Column("case_id", "Defuse's case number (the #N shown in Slack)."),
    Column("opened_at", "When the case was flagged, UTC, ISO 8601 (`2026-12-01T09:30:00Z`)."),
    Column("closed_at", "When it was closed, UTC ISO 8601; empty while open. A case reopened and closed again shows its last close."),
    Column("status", "`open`, `escalated` (open, waiting for experts), `resolved` or `unresolved`."),
    Column("outcome", "How it was closed: `resolved`, `unresolved`; empty while open."),
    Column("owner", "Slack user ID of the agent who owns the case now (after any handoff)."),
    Column("flagged_by", "Slack user ID of the agent who flagged it."),
    Column("closed_by", "Slack user ID of the agent who closed it; empty while open."),
    Column("playbook", "Name of the playbook the case was opened with (cases from before playbooks were recorded: the built-in `Six steps`)."),
    Column("steps_done_count", "How many checklist steps are ticked."),
    Column("steps_done", "Which steps are ticked, by number in checklist order, separated by `;` (e.g. `1;2;4`)."),
    Column("apology_accepted", "The answer on the step that asks whether the apology was accepted (step 4 of the built-in playbook): `accepted`, `not_yet` or `refused`; empty if not recorded."),
    Column("mood_at_flagging", "The customer's mood recorded on the case (`calm`, `upset`, `angry`, `furious`); empty if not given."),
    Column("mood_at_close", "The customer's mood recorded when closing, where the close records it; empty otherwise."),
    Column("time_to_resolve_seconds", "Seconds from flagging to closing (the last close), for resolved cases; empty otherwise."),
    Column("time_to_close_seconds", "Seconds from flagging to closing, for any closed case; empty while open."),
    Column("cause", "Cause chosen in the review: `bug`, `ux`, `support`, `outside`, `other`; empty if not reviewed."),
    Column("ux_issue", "`yes` if the review reported a UX issue for the product team, `no` if reviewed without one, empty if not reviewed."),
    Column("attempts", "Number of attempts logged (what was tried)."),
    Column("attempts_helped", "Of those, how many were marked as having helped."),
    Column("attempts_failed", "Of those, how many were marked as not having helped."),
    Column("notes", "Number of notes added to the case file."),
    Column("handoffs", "Number of handoff requests to a colleague (whatever their answer)."),
    Column("escalations", "Number of times the case was escalated to experts."),
    Column("escalation_severity", "Severity of the latest escalation: `low`, `normal`, `high`, `critical`; empty if never escalated."),
    Column("escalation_timeframe_met", "Latest escalation: `yes` if marked fixed by the time promised to the customer, `no` if fixed later or not fixed and the time has passed, `pending` if not fixed and the time has not come; empty if never escalated."),
    Column("reopened", "Number of times the case was reopened after closing."),
    Column("follow_ups_done", "Follow-ups the agent recorded as done."),
    Column("follow_ups_skipped", "Follow-up reminders the agent skipped."),
    Column("last_follow_up_outcome", "Outcome of the latest follow-up: `happy`, `unhappy`, `no_answer`; empty if none."),
    Column("repeat_customer", "`yes` if an earlier case has the same customer (by name, e-mail or Slack user); `no` otherwise. Unknown (`no`) once the earlier case's customer details were erased."),
    Column("erased_at", "When retention erased the case's customer details and texts (UTC ISO 8601); empty if not erased."),
)

ACTIVITY_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "Unique number of the record (increases with time)."),
    Column("case_id", "The case it belongs to (cases.csv `case_id`)."),
    Column("at", "When it happened, UTC ISO 8601."),
    Column("kind", "What it is (see the table of kinds)."),
    Column("author", "Slack user ID of who did it (`defuse` for the app itself)."),
    Column("text", "The words typed in Defuse for it (see the table of kinds); `(erased)` or empty after retention."),
    Column("result", "A second text or value (see the table of kinds)."),
    Column("outcome", "A fixed value (see the table of kinds)."),
    Column("colleague", "For handoffs: the other agent's Slack user ID."),
)


@dataclass(frozen=True)
class Kind:
    """Which keys of an event's data fill the text, result, outcome and colleague columns."""

    doc: str
    text: str | None = None
    result: str | None = None
    outcome: str | None = None
    colleague: str | None = None
    fixed_outcome: str | None = None


ACTIVITY_KINDS: dict[str, Kind] = {
    "attempt": Kind("An attempt: text = what was tried, result = what happened, outcome = `helped`, `partly` or `failed`.",
                    text="what", result="result", outcome="outcome"),
    "note": Kind("A note in the case file: text = the note.", text="text"),
    "handoff_requested": Kind("Handoff asked of a colleague: text = the note for them, colleague = who was asked.",
                              text="note", colleague="to"),
    "handoff_accepted": Kind("The colleague took the case over: colleague = who asked.", colleague="from"),
    "handoff_declined": Kind("The colleague declined: text = their reason, colleague = who asked.",
                             text="reason", colleague="from"),
    "handoff_failed": Kind("The request could not be delivered: outcome = Slack's error, colleague = who was asked.",
                           outcome="error", colleague="to"),
    "escalated": Kind("Escalated to experts: text = what is needed, result = time promised to the customer (UTC ISO 8601), "
                      "outcome = severity.", text="need", result="expected_by", outcome="severity"),
    "escalation_update": Kind("An expert's update on the escalation: text = the update.", text="text"),
    "escalation_fixed": Kind("The escalation was marked fixed."),
    "resolved": Kind("Closed as resolved: text = the fix, result = advice to prevent it, outcome = `resolved`.",
                     text="fix", result="prevention", fixed_outcome="resolved"),
    "unresolved": Kind("Closed as not resolved: text = the explanation given, outcome = `unresolved`.",
                       text="explanation", fixed_outcome="unresolved"),
    "reopened": Kind("Reopened after closing: outcome = the status it had.", outcome="was"),
    "reviewed": Kind("The review: text = what could be improved, result = the UX issue reported, outcome = the cause.",
                     text="improve", result="ux_issue", outcome="cause"),
    "follow_up": Kind("A follow-up done: text = the agent's note, outcome = `happy`, `unhappy` or `no_answer`.",
                      text="note", outcome="outcome"),
    "follow_up_skipped": Kind("A follow-up reminder skipped: outcome = `skipped`.", fixed_outcome="skipped"),
    "follow_up_snoozed": Kind("A follow-up reminder snoozed: result = until when (UTC ISO 8601), outcome = the choice.",
                              result="until", outcome="choice"),
}


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- cells ----------------------------------------------------------------------------------
def iso(value: datetime | str | None) -> str:
    """UTC ISO 8601 to the second with a Z, from a datetime (naive means UTC) or an ISO string from JSON."""
    moment = parse_time(value) if isinstance(value, str) else value
    if moment is None:
        return ""
    if moment.tzinfo is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cell(value: Any) -> str:
    """One CSV cell: empty for None, yes/no for booleans, text that cannot start a formula."""
    kind = type(value)
    if kind is int:  # the common case first: this runs for every cell of every row
        return str(value)
    if kind is str:
        text: str = value
        return "'" + text if text[:1] in FORMULA_FIRST else text
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return iso(value)
    text = str(value)
    return "'" + text if text[:1] in FORMULA_FIRST else text


# --- cases.csv ------------------------------------------------------------------------------
def escalation_met(expected_by: str | None, fixed_at: str | None, now: datetime) -> str | None:
    """Was the latest escalation fixed by the time promised to the customer? (ISO strings from its record)"""
    promised = parse_time(expected_by)
    if promised is None:
        return None
    fixed = parse_time(fixed_at)
    if fixed is not None:
        return "yes" if fixed <= promised else "no"
    return "no" if now > promised else "pending"


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def case_row(row: Any, batch: q.CaseBatch, now: datetime) -> list[str]:
    """The cells of cases.csv for one case, in CASE_COLUMNS order."""
    case_id = row.id
    counts = batch.counts.get(case_id, EMPTY)
    steps = batch.steps_done.get(case_id, ())
    review = batch.reviews.get(case_id)
    outcomes = batch.attempt_outcomes.get(case_id, EMPTY)
    closed = row.status in CLOSED
    took = _seconds(row.opened_at, row.closed_at) if closed else None
    values: list[Any] = [
        case_id,
        row.opened_at,
        row.closed_at if closed else None,
        row.status,
        row.status if closed else None,
        row.owner_id,
        row.flagged_by,
        row.closed_by if closed else None,
        row.playbook or playbook.built_in().name,  # rows from before playbooks were recorded: the six steps
        len(steps),
        ";".join(map(str, steps)),
        batch.apology.get(case_id),
        row.mood,
        row.close_mood if closed else None,
        took if row.status == "resolved" else None,
        took,
        review[0] if review else None,
        review[1] if review else None,
        counts.get("attempt", 0),
        outcomes.get("helped", 0),
        outcomes.get("failed", 0),
        counts.get("note", 0),
        batch.handoffs.get(case_id, 0),
        counts.get("escalated", 0),
        row.severity,
        escalation_met(row.expected_by, row.fixed_at, now),
        counts.get("reopened", 0),
        counts.get("follow_up", 0),
        counts.get("follow_up_skipped", 0),
        batch.last_follow_up.get(case_id) or None,
        bool(row.repeat),
        row.erased_at,
    ]
    return [cell(v) for v in values]


def case_rows(db: Database, since: datetime, now: datetime, batch_size: int = BATCH) -> Iterator[list[str]]:
    after = 0
    while True:
        with db.session() as session:
            batch = q.case_batch(session, since, after, batch_size)
        if batch is None:
            return
        for row in batch.cases:
            yield case_row(row, batch, now)
        after = batch.cases[-1].id


# --- activity.csv ---------------------------------------------------------------------------
ACTIVITY_SOURCES: dict[str, dict[str, str | None]] = {
    column: {name: getattr(kind, column) for name, kind in ACTIVITY_KINDS.items()}
    for column in ("text", "result", "outcome", "colleague")
}
TIME_RESULTS = frozenset({"expected_by", "until"})  # result values that are times: written as UTC ISO 8601
TIMED_KINDS = frozenset(name for name, kind in ACTIVITY_KINDS.items() if kind.result in TIME_RESULTS)


def activity_row(event: Any) -> list[str]:
    """The cells of activity.csv for one event (its data already picked apart by the query)."""
    kind = ACTIVITY_KINDS[event.kind]
    result = iso(event.result) if event.kind in TIMED_KINDS else event.result
    values = [event.id, event.case_id, event.at, event.kind, event.actor, event.text, result,
              kind.fixed_outcome or event.outcome, event.colleague]
    return [cell(v) for v in values]


def activity_rows(db: Database, since: datetime, batch_size: int = BATCH) -> Iterator[list[str]]:
    after = 0
    while True:
        with db.session() as session:
            ids = q.case_ids_page(session, since, after, batch_size)
            events = q.activity_for(session, ids, ACTIVITY_SOURCES) if ids else []
        if not ids:
            return
        for event in events:
            yield activity_row(event)
        after = ids[-1]


# --- files ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportResult:
    cases_path: Path
    activity_path: Path
    cases: int
    activity: int
    since: datetime
    until: datetime


def write_csv(path: Path, header: Sequence[Column], rows: Iterable[list[str]]) -> int:
    """Write rows as they come (UTF-8 with a BOM so spreadsheets read accents right); returns the count."""
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in header])
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def window(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def write_export(
    db: Database, out_dir: Path, *, days: int = DEFAULT_DAYS, now: datetime | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ExportResult:
    """Write cases.csv and activity.csv into `out_dir` (created if missing)."""
    now = now or clock()
    since = window(days, now)
    out_dir.mkdir(parents=True, exist_ok=True)
    cases_path, activity_path = out_dir / "cases.csv", out_dir / "activity.csv"
    cases = write_csv(cases_path, CASE_COLUMNS, case_rows(db, since, now))
    activity = write_csv(activity_path, ACTIVITY_COLUMNS, activity_rows(db, since))
    return ExportResult(cases_path, activity_path, cases, activity, since, now)


def parse_days(raw: str | None) -> int | None:
    """`90`, `30d` -> days within DAYS_RANGE; None when it is not such a number."""
    if raw is None or raw == "":
        return DEFAULT_DAYS
    text = raw.strip().lower()
    if text.endswith("d"):
        text = text[:-1]
    if not text.isdigit():
        return None
    days = int(text)
    low, high = DAYS_RANGE
    return days if low <= days <= high else None


# --- README ---------------------------------------------------------------------------------
def readme_tables() -> str:
    """The column tables for the README, generated so they cannot drift from the code."""
    lines = ["**cases.csv**", "", "| column | meaning |", "| --- | --- |"]
    lines += [f"| `{c.name}` | {c.doc} |" for c in CASE_COLUMNS]
    lines += ["", "**activity.csv**", "", "| column | meaning |", "| --- | --- |"]
    lines += [f"| `{c.name}` | {c.doc} |" for c in ACTIVITY_COLUMNS]
    lines += ["", "Kinds of activity rows:", "", "| kind | meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {kind.doc} |" for name, kind in ACTIVITY_KINDS.items()]
    return "\n".join(lines) + "\n"


def to_text(header: Sequence[Column], rows: Iterable[list[str]]) -> str:
    """Rows as CSV text, for tests."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in header])
    writer.writerows(rows)
    return buffer.getvalue()
