"""Fill a database with realistic closed cases, for benchmarks and checks at scale.

    python bench/seed.py --database-url URL --cases N [--seed S] [--now 2026-12-01T12:00:00+00:00]

The schema is created the way the app creates it (storage.db.Database.migrate, i.e. Alembic). Then N
closed cases spread over the two years before --now (default: the current time), owned by about
200 agents, for N/5 customers of whom many come back (a few customers have dozens of cases), each
with its six steps, attempts, notes, handoffs, escalations, reviews, the follow-up reminders
(sent when due in the past, pending otherwise) and the event log the app would have written.
Rows go in by chunks of 5,000 cases, one transaction each: Core `insert()` executemany on SQLite,
COPY on PostgreSQL (psycopg's executemany costs too much Python per row at this volume), so 100,000
cases take under a minute on an idle 2-core machine. Seeding again appends (ids continue after
the largest one).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import column, event, func, insert, select, table, text  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from bot.core.textutil import customer_keys  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Agent, Case, CaseEvent, CaseStep, Handoff, Reminder, Review  # noqa: E402

UTC = UTC
SPAN_S = 730 * 86400.0
EPOCH = datetime(1970, 1, 1)  # naive UTC, the form the app's UTCDateTime stores
AGENTS = 200
CHUNK = 5000  # cases per transaction
FOLLOW_UPS_S = (86400.0, 7 * 86400.0, 30 * 86400.0)  # the default FOLLOW_UP_SCHEDULE, 1d,7d,30d
FOLLOW_UP_PAYLOAD = tuple(json.dumps({"index": i, "of": len(FOLLOW_UPS_S)}) for i in range(len(FOLLOW_UPS_S)))
STEP_EVENT = {n: json.dumps({"step": n}) for n in range(1, 7)}
CHANNELS = tuple(f"C{n:08d}" for n in range(1, 40))
CAUSES = ("bug", "ux", "support", "outside", "other")
CAUSE_EDGES = tuple(zip(CAUSES, (0.30, 0.55, 0.75, 0.90, 1.01)))  # bug 30 %, ux 25 %, support 20 %, ...
MOODS = ("calm", "upset", "angry", "furious")
FIRST = ("Ana", "Ben", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kara", "Luis", "Mia",
         "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomo", "Uma", "Vera", "Wei", "Yara", "Zoe")
LAST = ("Novak", "Schmidt", "Okafor", "Tanaka", "Silva", "Kowalski", "Haddad", "Larsen", "Moreau", "Rossi", "Khan",
        "Ivanova", "Murphy", "Costa", "Berg", "Weber", "Ito", "Park", "Lopez", "Nguyen")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Soylent")
WHAT = ("charged twice for the annual plan", "export has been failing since the update", "lost their saved reports",
        "waited four days for an answer", "the mobile app logs them out every hour", "invoice shows the wrong VAT",
        "a refund promised last month never arrived", "their team was locked out before a launch")
TRIED = ("refunded the duplicate charge", "reset their sessions", "escalated to billing", "restored from backup",
         "offered a call with the team lead", "sent a workaround for the export", "extended the trial by a month")
RESULTS = ("they calmed down", "no reply yet", "they want a written confirmation", "still angry about the wait")
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Australia/Sydney")


@dataclass
class Rows:
    """The rows of one chunk, one list per table, in insertion order (parents first)."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)


class Generator:
    """Deterministic (for a given seed) case histories, with values already in the driver's form.

    Times are worked out as POSIX seconds and turned into naive UTC (as the app stores them) once per
    column, JSON documents are serialised here: at this volume the model's per-value conversions
    would cost more than the database's own work.
    """

    def __init__(self, cases: int, now: datetime, seed: int, *, sqlite: bool):
        self.rng = random.Random(seed)
        self.now = now.timestamp()
        self.sqlite = sqlite
        self.agents = [f"U{n:08d}" for n in range(1, AGENTS + 1)]
        self.customers = [self._customer(n) for n in range(max(1, cases // 5))]

    def t(self, seconds: float) -> Any:
        moment = EPOCH + timedelta(seconds=seconds)
        return moment.isoformat(" ", "microseconds") if self.sqlite else moment

    def _customer(self, n: int) -> tuple[str, str | None, str | None]:
        rng = self.rng
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}"
        company = rng.choice(COMPANIES)
        shown = f"{name} ({name.split()[0].lower()}.{n}@{company.lower()}.example)" if n % 3 else f"{name}, {company}"
        keys = customer_keys(shown)
        return shown, keys.name, keys.email

    def pick_customer(self) -> tuple[str, str | None, str | None]:
        # Skewed: a few customers come back often, most once or twice (about 5 cases each on average).
        index = min(len(self.customers) - 1, int(len(self.customers) * self.rng.random() ** 2.2))
        return self.customers[index]

    def chunk(self, first_id: int, count: int, reminder_id: int) -> Rows:
        rows = Rows()
        for case_id in range(first_id, first_id + count):
            reminder_id = self._case(rows, case_id, reminder_id)
        return rows

    def _case(self, rows: Rows, case_id: int, reminder_id: int) -> int:
        rng, now, t, random_ = self.rng, self.now, self.t, self.rng.random
        opened = now - SPAN_S * random_() - 7200
        closed = min(opened + 60 * min(7200.0, rng.lognormvariate(4.5, 1.1)), now - 60)
        flagged_by = owner = self.agents[int(random_() * AGENTS)]
        resolved = random_() < 0.8
        status = "resolved" if resolved else "unresolved"
        customer, name_key, email = self.pick_customer()
        channel = CHANNELS[int(random_() * len(CHANNELS))]
        ts = f"{opened:.6f}"
        at = _Times(opened, closed, rng)
        events = rows.events
        events.append(_event(case_id, t(opened), flagged_by, "case_opened", f'{{"channel": "{channel}"}}'))

        for _ in range(self._poisson(2.0)):
            r = random_()
            outcome = "helped" if r < 0.4 else "partly" if r < 0.7 else "failed"
            events.append(_event(case_id, t(at.next()), owner, "attempt", json.dumps(
                {"what": rng.choice(TRIED), "result": rng.choice(RESULTS), "outcome": outcome})))
        for _ in range(self._poisson(0.5)):
            events.append(_event(case_id, t(at.next()), owner, "note", json.dumps(
                {"text": "Customer prefers e-mail; " + rng.choice(RESULTS)})))

        if random_() < 0.1:  # handed to a colleague
            to_user = self.agents[int(random_() * AGENTS)]
            accepted = to_user != owner and random_() < 0.8
            asked, answered = at.next(), at.next()
            rows.handoffs.append({
                "case_id": case_id, "from_user": owner, "to_user": to_user, "note": "They already explained it twice.",
                "status": "accepted" if accepted else "declined", "reason": None if accepted else "in a meeting",
                "requested_at": t(asked), "answered_at": t(answered), "dm_channel": "D" + to_user[1:], "dm_ts": f"{asked:.6f}",
            })
            events.append(_event(case_id, t(asked), owner, "handoff_requested", f'{{"to": "{to_user}"}}'))
            events.append(_event(case_id, t(answered), to_user, "handoff_accepted" if accepted else "handoff_declined",
                                 f'{{"from": "{owner}"}}'))
            if accepted:
                owner = to_user

        escalation = None
        if random_() < 0.05:
            esc_at, fixed_at = at.next(), at.next()
            esc = {"need": "Billing must reverse the second charge", "severity": rng.choice(("normal", "high", "critical")),
                   "expected_by": _iso(esc_at + 4 * 3600), "by": owner, "at": _iso(esc_at), "channel": "CESCALATE",
                   "ts": f"{esc_at:.6f}", "fixed_by": None, "fixed_at": None}
            events.append(_event(case_id, t(esc_at), owner, "escalated", json.dumps(esc)))
            events.append(_event(case_id, t(fixed_at), "UEXPERT", "escalation_fixed", "{}"))
            escalation = json.dumps(dict(esc, fixed_by="UEXPERT", fixed_at=_iso(fixed_at)))

        steps_done = 6 if resolved else rng.randint(2, 6)
        for number in range(1, 7):
            if number > steps_done:
                rows.steps.append({"case_id": case_id, "step": number, "done": False, "done_by": None, "done_at": None,
                                   "details": None})
                continue
            done_at = t(at.next())
            details = _step_details(number, random_())
            rows.steps.append({"case_id": case_id, "step": number, "done": True, "done_by": owner, "done_at": done_at,
                               "details": details})
            events.append(_event(case_id, done_at, owner, "step_done",
                                 STEP_EVENT[number] if details is None else f'{{"step": {number}, {details[1:]}'))

        if resolved:
            fix = rng.choice(TRIED)
            feedback = "true" if random_() < 0.5 else "false"
            details_json = f'{{"fix": "{fix}", "prevention": "", "feedback_asked": {feedback}}}'
            resolution = f'{{"outcome": "resolved", {details_json[1:]}'
        else:
            details_json = '{"explanation": "They cancelled anyway.", "apologised": true}'
            resolution = '{"outcome": "unresolved", ' + details_json[1:]
        closed_t = t(closed)
        events.append(_event(case_id, closed_t, owner, status, details_json))

        if random_() < 0.6:
            r = random_()
            cause = next(c for c, edge in CAUSE_EDGES if r < edge)
            reviewed = t(min(closed + 60 * rng.randint(5, 600), now))
            rows.reviews.append({"case_id": case_id, "cause": cause, "improve": "Answer billing tickets the same day.",
                                 "ux_issue": "Export button hidden on mobile" if cause == "ux" else None,
                                 "reviewed_by": owner, "reviewed_at": reviewed, "forwarded_ts": None})
            events.append(_event(case_id, reviewed, owner, "reviewed",
                                 f'{{"cause": "{cause}", "improve": "Answer the same day.", "ux_issue": null}}'))

        for index, offset in enumerate(FOLLOW_UPS_S):
            reminder_id += 1
            due = closed + offset
            sent = due <= now
            status_ = "pending"
            if sent:
                r = random_()
                status_ = "done" if r < 0.55 else "skipped" if r < 0.7 else "sent" if r < 0.97 else "failed"
            due_t = t(due)
            rows.reminders.append({
                "id": reminder_id, "kind": "follow_up", "case_id": case_id, "recipient": owner, "due_at": due_t,
                "status": status_, "attempts": 1 if sent else 0, "last_error": "channel_not_found" if status_ == "failed" else None,
                "dedupe_key": f"follow_up:{case_id}:seed:{index}", "locked_until": None, "locked_by": None,
                "payload": FOLLOW_UP_PAYLOAD[index], "created_at": closed_t,
                "sending_at": due_t if sent else None, "sent_at": due_t if status_ in ("done", "skipped", "sent") else None,
                "dm_channel": "D" + owner[1:] if sent else None, "dm_ts": f"{due:.6f}" if sent else None,
            })
            if status_ == "done":
                answer = "happy" if random_() < 0.7 else "no_answer"
                events.append(_event(case_id, due_t, owner, "follow_up",
                                     f'{{"reminder": {reminder_id}, "outcome": "{answer}", "note": null}}'))

        rows.cases.append({
            "id": case_id, "team_id": "T0001", "channel_id": channel, "message_ts": ts, "checklist_ts": f"{opened + 1:.6f}",
            "permalink": f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            "customer": customer, "customer_name_key": name_key, "customer_email": email, "customer_user": None,
            "summary": rng.choice(WHAT), "mood": rng.choice(MOODS), "link": None, "source_permalink": None,
            "flagged_by": flagged_by, "owner_id": owner, "status": status, "opened_at": t(opened), "closed_at": closed_t,
            "closed_by": owner, "resolution": resolution, "escalation": escalation, "hard_nudged": False, "updated_at": closed_t,
        })
        return reminder_id

    def _poisson(self, mean: float) -> int:
        # Knuth's method; the means here are small.
        limit, k, p = math.exp(-mean), 0, self.rng.random()
        while p > limit:
            k += 1
            p *= self.rng.random()
        return k


class _Times:
    """Increasing moments (POSIX seconds) between a case's opening and closing, for its events."""

    def __init__(self, start: float, end: float, rng: random.Random):
        self.at, self.end, self.random = start, end, rng.random

    def next(self) -> float:
        self.at += (self.end - self.at) * (0.05 + 0.25 * self.random())
        return self.at


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _event(case_id: int, at: Any, actor: str, kind: str, data: str) -> dict[str, Any]:
    return {"case_id": case_id, "at": at, "actor": actor, "kind": kind, "data": data}


def _step_details(number: int, r: float) -> str | None:
    """What ticking steps 4-6 records (JSON), as the step modals do."""
    if number == 4:
        return '{"apology": "%s"}' % ("accepted" if r < 0.6 else "refused" if r < 0.8 else "not_asked")
    if number == 5:
        return json.dumps({"action": TRIED[int(r * len(TRIED))]})
    if number == 6:
        return '{"plan": "Check in after the next invoice"}'
    return None


def agent_rows(gen: Generator, now: datetime) -> list[dict[str, Any]]:
    return [{"user_id": user, "name": f"agent{n}", "is_bot": False, "deleted": False, "tz": ZONES[n % len(ZONES)],
             "tz_fetched_at": now, "dm_channel": "D" + user[1:], "breather_until": None, "breather_task": None}
            for n, user in enumerate(gen.agents)]


def _next_ids(conn: Connection) -> tuple[int, int]:
    case_max = conn.scalar(select(func.max(Case.c.id))) or 0
    reminder_max = conn.scalar(select(func.max(Reminder.c.id))) or 0
    return case_max + 1, reminder_max


class Writer:
    """Core `insert()` executemany into untyped copies of the tables (the values are already in the
    driver's form). psycopg pipelines executemany, so PostgreSQL gets no round trip per row."""

    ORDER = ((Case, "cases"), (CaseStep, "steps"), (CaseEvent, "events"), (Handoff, "handoffs"), (Review, "reviews"),
             (Reminder, "reminders"))

    def __init__(self) -> None:
        self.tables = {attr: table(m.name, *(column(c.name) for c in m.columns)) for m, attr in self.ORDER}

    def write(self, conn: Connection, rows: Rows) -> None:
        copy = conn.dialect.name == "postgresql"
        for model, attr in self.ORDER:
            batch = getattr(rows, attr)
            if not batch:
                continue
            if copy:
                self._copy(conn, model.name, batch)
            else:
                conn.execute(insert(self.tables[attr]), batch)

    @staticmethod
    def _copy(conn: Connection, name: str, batch: list[dict[str, Any]]) -> None:
        """PostgreSQL: COPY in the same transaction. psycopg's executemany still costs a prepared-statement
        round of Python per row, which at a million rows is most of a minute; COPY streams them."""
        columns = list(batch[0])
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as stream:
            for row in batch:
                stream.write_row([row[c] for c in columns])


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the largest id."""
    for name in ("cases", "reminders"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT MAX(id) FROM {name}), 1))"))


def _skip_durability(db: Database) -> None:
    """Benchmark data can be made again: let the seeding connection skip fsync (the app's own keep theirs)."""

    @event.listens_for(db.engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA synchronous=OFF" if db.is_sqlite else "SET synchronous_commit TO off")
        cursor.close()

    db.engine.dispose()  # the migration's connection is replaced by one with the setting


def _add_agents(conn: Connection, rows: list[dict[str, Any]]) -> None:
    known = set(conn.scalars(select(Agent.c.user_id)).all())
    fresh = [r for r in rows if r["user_id"] not in known]
    if fresh:
        conn.execute(insert(Agent), fresh)


def chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def seed(database_url: str, cases: int, *, now: datetime | None = None, seed_value: int = 1, quiet: bool = False) -> dict[str, Any]:
    """Create the schema and add `cases` closed cases; returns row counts and the time taken."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    db = Database(database_url, pool_size=1)
    try:
        db.migrate()
        _skip_durability(db)
        gen = Generator(cases, now, seed_value, sqlite=db.is_sqlite)
        writer = Writer()
        totals = {name: 0 for name in vars(Rows())}
        with db.engine.begin() as conn:
            _add_agents(conn, agent_rows(gen, now))
            next_case, reminder_id = _next_ids(conn)
        for size in chunks(cases, CHUNK):
            rows = gen.chunk(next_case, size, reminder_id)
            next_case += size
            reminder_id = rows.reminders[-1]["id"] if rows.reminders else reminder_id
            with db.engine.begin() as conn:
                writer.write(conn, rows)
            for name, batch in vars(rows).items():
                totals[name] += len(batch)
            if not quiet:
                print(f"\r{next_case - 1:>9} cases ({time.perf_counter() - started:5.1f} s)", end="", file=sys.stderr, flush=True)
        with db.engine.begin() as conn:
            if not db.is_sqlite:
                _reset_sequences(conn)
            conn.execute(text("ANALYZE"))  # fresh statistics, as autovacuum (PostgreSQL) would produce soon after
        if not quiet:
            print(file=sys.stderr)
        return {"seconds": round(time.perf_counter() - started, 2), "agents": AGENTS, "customers": len(gen.customers),
                **totals}
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL (sqlite:///file.db or postgresql+psycopg://...)")
    parser.add_argument("--cases", type=int, required=True, help="how many closed cases to add")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="end of the two years (ISO, with zone)")
    args = parser.parse_args(argv)
    if args.cases < 0:
        parser.error("--cases must be 0 or more")
    if args.now is not None and args.now.tzinfo is None:
        parser.error("--now needs a time zone, e.g. 2026-12-01T12:00:00+00:00")
    result = seed(args.database_url, args.cases, now=args.now, seed_value=args.seed)
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
