"""The CSV export of Defuse's own records, for leads and operators.

Two files, both streamed row by row from the database in batches (storage.export_queries):

- cases.csv: one row per case with anything in the window (opened or closed in it, or still open);
- activity.csv: what happened on those cases (attempts, notes, handoffs, escalations, closing,
  reviews, follow-ups), one row per record, by case and then in order.

Neither file holds a customer's name, the case summary or any message copied from Slack. Every
column is documented in bot.learning.export_columns, whose `readme_tables()` renders them for the README.
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

from bot.core import mood, playbook
from bot.learning.export_columns import ACTIVITY_COLUMNS, ACTIVITY_KINDS, CASE_COLUMNS, Column
from storage import export_queries as q
from storage.db import Database

EMPTY: dict[str, int] = {}
CLOSED = ("resolved", "unresolved")
DEFAULT_DAYS = 90
DAYS_RANGE = (1, 3650)
BATCH = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)  # "" is not in it: empty text stays empty


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
    latest = mood.later_mood({"mood": row.close_mood, "mood_later": row.later_mood})
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
        latest,
        mood.change(row.mood, latest),
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


def to_text(header: Sequence[Column], rows: Iterable[list[str]]) -> str:
    """Rows as CSV text, for tests."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in header])
    writer.writerows(rows)
    return buffer.getvalue()
