"""Queries behind App Home's insights (bot.learning.insights): the cases closed in a window, each with
what the arithmetic needs, one at a time.

The window's cases come from the (closed_at, status, opened_at) index range, each with its step count,
its unticked steps (as a bit mask) and whether a handoff was accepted, read per case through the
primary-key and (case_id, kind) indexes in the same statement. JSON fields are read in SQL
(json_extract / ->>), so no document is decoded in Python. Only the helpful attempts of public cases
(few, and quoted on Home) are read first, into a dict.

`each_closed_case` yields the rows as they come (in batches from the driver), so the arithmetic can
count them without the window ever being held at once. That matters for memory rather than time: the
first App Home at 100,000 cases (12,400 of them in 90 days) used to hold every row, 17.6 MB at a peak
of 21.9 (1.4 KB a row as a dataclass with a dict), and the app kept about 10 MB of it for good, in
Python arenas pinned by the few objects that outlived the read.
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, literal, select

from storage.models import Case, CaseEvent, CaseStep

CLOSED = ("resolved", "unresolved")
PUBLIC = "public"  # bot.delivery.audience.PUBLIC: storage does not import the bot package


@dataclass(slots=True)
class ClosedRow:
    """One closed case as the insights read it (plain values, no ORM)."""

    id: int
    owner_id: str
    status: str
    opened_at: datetime
    closed_at: datetime
    visibility: str | None
    mood: str | None  # when flagged
    mood_at_close: str | None
    mood_later: str | None  # at the last follow-up answer that gave one
    expected_by: str | None  # the escalation's promised time (ISO), if it was escalated
    fixed_at: str | None
    customer: str | None  # the key a repeat customer is found by (name, else email, else Slack user)
    steps_done: Set[int] = frozenset()
    step_count: int = 0
    attempts_helped: tuple[str, ...] = ()
    second_contact: bool = False

    @property
    def escalated(self) -> bool:
        return self.expected_by is not None


ROW_FIELDS = ("id", "owner_id", "status", "opened_at", "closed_at", "visibility", "mood", "mood_at_close", "mood_later",
              "expected_by", "fixed_at", "customer", "step_count")
BATCH = 500  # rows fetched from the driver at a time (a server-side cursor on PostgreSQL)


def closed_cases(session: Connection, since: datetime, until: datetime) -> list[ClosedRow]:
    """Cases closed from `since` up to and including `until`, in the order they closed."""
    return list(each_closed_case(session, since, until))


def each_closed_case(session: Connection, since: datetime, until: datetime) -> Iterator[ClosedRow]:
    """The same, one at a time: the caller counts them as they come and holds none."""
    c = Case.c
    helped = _helped_attempts(session, since, until)
    shared: dict[Any, Any] = {}  # one string object per distinct value: an owner, a mood, a customer
    every_step: dict[int, frozenset[int]] = {}  # step count -> the set shared by every case with all ticked
    statement = (
        select(c.id, c.owner_id, c.status, c.opened_at, c.closed_at, c.visibility, c.mood,
               c.resolution["mood"].as_string(), c.resolution["mood_later"].as_string(),
               c.escalation["expected_by"].as_string(), c.escalation["fixed_at"].as_string(),
               func.coalesce(c.customer_name_key, c.customer_email, c.customer_user),
               _step_count(c.id), _unticked_mask(c.id), _handoff_accepted(c.id))
        .where(c.closed_at >= since, c.closed_at <= until, c.status.in_(CLOSED))
        .order_by(c.closed_at, c.id)
        .execution_options(yield_per=BATCH)
    )
    for r in session.execute(statement):
        *values, unticked, accepted = r
        fields = {k: shared.setdefault(v, v) if isinstance(v, str) else v for k, v in zip(ROW_FIELDS, values, strict=True)}
        count = fields["step_count"] or 0
        done = every_step.setdefault(count, frozenset(range(1, count + 1)))
        if unticked:
            done = frozenset(n for n in done if not unticked >> n & 1)
        yield ClosedRow(**fields, steps_done=done, attempts_helped=helped.get(r[0], ()), second_contact=bool(accepted))


def _step_count(case_id: Any) -> Any:
    return select(func.count()).where(CaseStep.c.case_id == case_id).scalar_subquery()


def _unticked_mask(case_id: Any) -> Any:
    """Bit n set for each unticked step n (a playbook has at most 10)."""
    bit = literal(1).op("<<")(CaseStep.c.step)
    return (select(func.coalesce(func.sum(bit), 0))
            .where(CaseStep.c.case_id == case_id, CaseStep.c.done.is_(False)).scalar_subquery())


def _handoff_accepted(case_id: Any) -> Any:
    return exists().where(CaseEvent.c.case_id == case_id, CaseEvent.c.kind == "handoff_accepted")


def _helped_attempts(session: Connection, since: datetime, until: datetime) -> dict[int, tuple[str, ...]]:
    """What helped, for the public cases of the window only: attempt texts are quoted on Home."""
    c = Case.c
    public = select(c.id).where(c.closed_at >= since, c.closed_at <= until, c.status.in_(CLOSED), c.visibility == PUBLIC)
    found: dict[int, tuple[str, ...]] = {}
    for case_id, what in session.execute(
        select(CaseEvent.c.case_id, CaseEvent.c.data["what"].as_string())
        .where(CaseEvent.c.case_id.in_(public), CaseEvent.c.kind == "attempt",
               CaseEvent.c.data["outcome"].as_string() == "helped")
        .order_by(CaseEvent.c.case_id, CaseEvent.c.id)
    ):
        if what:
            found[case_id] = found.get(case_id, ()) + (what,)
    return found
