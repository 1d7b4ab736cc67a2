"""Opening a case (the intake room): the case, its unticked steps, its opening event and the reminders
that come with it, written together.

The intake acknowledges Slack only once this write has committed, so on PostgreSQL it is one statement:
data-modifying CTEs insert every row in a single round trip, where separate INSERTs (and the
transaction around them) each wait for the server while requests queue behind them. SQLite runs in
this process, where a statement costs no round trip, and writes the same rows one INSERT at a time.

The statement is built once per shape (which case columns are given, how many reminders) and run with
its values as parameters: building it anew for every case cost more CPU than the database's work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Integer, Select, bindparam, false, func, insert, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from storage.models import Reminder
from storage.repositories.cases import CASES, STEPS, create_case
from storage.repositories.events import EVENTS, add_event
from storage.repositories.reminders import add_reminder

REMINDERS = Reminder
# The case columns' Python-side defaults: SQLAlchemy leaves them unfilled in an INSERT inside a CTE.
CASE_DEFAULTS = {c.name: c.default.arg for c in CASES.c if isinstance(c.default, ScalarElementColumnDefault)}


@dataclass(frozen=True)
class OpeningEvent:
    actor: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpeningReminder:
    """A reminder scheduled as the case opens. Its dedupe key is `dedupe_prefix` followed by the case id,
    which the database assigns in the same write."""

    dedupe_prefix: str
    kind: str
    recipient: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


def open_case(session: Connection, *, now: datetime, step_count: int, event: OpeningEvent,
              reminders: Sequence[OpeningReminder] = (), **fields: Any) -> int:
    """Insert a case with `step_count` unticked steps, its opening event and `reminders`; the case id."""
    if session.dialect.name == "postgresql":
        case = {**CASE_DEFAULTS, "opened_at": now, "updated_at": now, "status": "open", **fields}
        statement = _in_one_statement(tuple(sorted(case)), len(reminders))
        return int(session.execute(statement, _parameters(case, step_count, event, reminders, now)).scalar_one())
    case_id = create_case(session, now=now, step_count=step_count, **fields)
    add_event(session, case_id, actor=event.actor, kind=event.kind, now=now, data=event.data)
    for reminder in reminders:
        add_reminder(session, dedupe_key=f"{reminder.dedupe_prefix}{case_id}", now=now, kind=reminder.kind,
                     case_id=case_id, recipient=reminder.recipient, due_at=reminder.due_at, payload=reminder.payload)
    return case_id


EVENT_COLUMNS = ("actor", "kind", "at", "data")
REMINDER_COLUMNS = ("kind", "recipient", "due_at", "payload", "created_at", "status", "attempts")


def _parameters(case: dict[str, Any], step_count: int, event: OpeningEvent, reminders: Sequence[OpeningReminder],
                now: datetime) -> dict[str, Any]:
    values = {f"case_{name}": value for name, value in case.items()}
    values.update(steps=step_count, event_actor=event.actor, event_kind=event.kind, event_at=now, event_data=event.data)
    for number, reminder in enumerate(reminders):
        row = {"dedupe_key": reminder.dedupe_prefix, "kind": reminder.kind, "recipient": reminder.recipient,
               "due_at": reminder.due_at, "payload": reminder.payload, "created_at": now, "status": "pending",
               "attempts": 0}
        values.update({f"reminder{number}_{name}": value for name, value in row.items()})
    return values


@cache
def _in_one_statement(case_columns: tuple[str, ...], reminders: int) -> Select[Any]:
    values = {name: _param(CASES, name, f"case_{name}") for name in case_columns}
    case = insert(CASES).values(values).returning(CASES.c.id).cte("new_case")
    numbers = func.generate_series(1, bindparam("steps", type_=Integer)).table_valued("n").render_derived(
        name="numbers")
    steps = insert(STEPS).from_select(
        ["case_id", "step", "done"], select(case.c.id, numbers.c.n, false()).select_from(case.join(numbers, true())))
    opened = insert(EVENTS).from_select(
        ["case_id", *EVENT_COLUMNS], select(case.c.id, *(_param(EVENTS, c, f"event_{c}") for c in EVENT_COLUMNS)))
    parts = [steps.cte("new_steps"), opened.cte("new_event")]
    parts += [_reminder(case, f"reminder{number}_").cte(f"new_reminder_{number}") for number in range(reminders)]
    return select(case.c.id).add_cte(*parts)


def _reminder(case: Any, prefix: str) -> postgresql.Insert:
    key = func.concat(_param(REMINDERS, "dedupe_key", f"{prefix}dedupe_key"), case.c.id)
    chosen = select(case.c.id, key, *(_param(REMINDERS, c, f"{prefix}{c}") for c in REMINDER_COLUMNS))
    statement = postgresql.insert(REMINDERS).from_select(["case_id", "dedupe_key", *REMINDER_COLUMNS], chosen)
    return statement.on_conflict_do_nothing(index_elements=["dedupe_key"])


def _param(table: Any, column: str, name: str) -> Any:
    """A bound parameter typed as the column (so JSON and timestamps are sent as such)."""
    return bindparam(name, type_=table.c[column].type)
