"""What works, from the team's own record: the arithmetic behind App Home's insights.

Plain arithmetic on the cases closed in a window (storage.insight_queries.ClosedRow), so it can be
checked on hand-made histories. The outcome that matters most is the mood change (bot.core.mood);
next to it the resolution rate, time to resolve, second contact and escalations kept on time, the
steps that were skipped when a case ended badly against when it ended well, and the attempts that
most often helped.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core import mood
from storage.insight_queries import ClosedRow

TOP_ATTEMPTS = 3
PUBLIC = "public"  # only attempts from cases anyone in the workspace may read are quoted on Home


@dataclass(frozen=True)
class Figures:
    closed: int = 0
    resolved: int = 0
    median_resolve_seconds: float | None = None
    moods: mood.MoodTally = field(default_factory=mood.MoodTally)
    second_contact: int = 0
    second_contact_resolved: int = 0
    escalated: int = 0
    escalations_on_time: int = 0
    repeat_cases: int = 0
    skipped_bad: dict[int, float] = field(default_factory=dict)  # step -> share of unresolved cases without it
    skipped_good: dict[int, float] = field(default_factory=dict)  # step -> share of resolved cases without it
    helped: tuple[tuple[str, int], ...] = ()

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved / self.closed if self.closed else None


def figures(rows: Iterable[ClosedRow]) -> Figures:
    tally = Tally()
    for row in rows:
        tally.add(row)
    return tally.figures()


def per_agent(rows: Iterable[ClosedRow]) -> dict[str, Figures]:
    """Each owner's figures (for LEADS only: no ranking of people in public)."""
    by_owner: dict[str, Tally] = defaultdict(Tally)
    for row in rows:
        by_owner[row.owner_id].add(row)
    return {owner: tally.figures() for owner, tally in sorted(by_owner.items())}


class Tally:
    """The figures of the rows added so far, counted as they come: a window of cases is never held."""

    def __init__(self) -> None:
        self.closed = 0
        self.resolve_seconds: list[float] = []  # of the resolved cases, for the median
        self.moods: Counter[str] = Counter()
        self.second_contact = self.second_contact_resolved = 0
        self.escalated = self.on_time = 0
        self.customers: Counter[str] = Counter()
        self.bad, self.good = StepGaps(), StepGaps()  # unresolved cases, resolved cases
        self.helped: Counter[str] = Counter()
        self.shown: dict[str, str] = {}  # an attempt's key -> its text as first written

    def add(self, row: ClosedRow) -> None:
        resolved = row.status == "resolved"
        self.closed += 1
        if resolved:
            self.resolve_seconds.append((row.closed_at - row.opened_at).total_seconds())
        self.moods[mood.change(row.mood, latest_mood(row)) or "unknown"] += 1
        if row.second_contact:
            self.second_contact += 1
            self.second_contact_resolved += resolved
        if row.escalated:
            self.escalated += 1
            self.on_time += on_time(row.expected_by, row.fixed_at)
        if row.customer:
            self.customers[row.customer] += 1
        (self.good if resolved else self.bad).add(row)
        if row.visibility == PUBLIC:  # only attempts anyone in the workspace may read are quoted on Home
            for what in row.attempts_helped:
                key = " ".join(what.lower().split())
                self.helped[key] += 1
                self.shown.setdefault(key, what.strip())

    def figures(self) -> Figures:
        ranked = sorted(self.helped.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ATTEMPTS]
        return Figures(
            closed=self.closed,
            resolved=len(self.resolve_seconds),
            median_resolve_seconds=statistics.median(self.resolve_seconds) if self.resolve_seconds else None,
            moods=mood.MoodTally(*(self.moods[k] for k in (*mood.CHANGES, "unknown"))),
            second_contact=self.second_contact,
            second_contact_resolved=self.second_contact_resolved,
            escalated=self.escalated,
            escalations_on_time=self.on_time,
            repeat_cases=sum(n for n in self.customers.values() if n > 1),  # cases whose customer had another
            skipped_bad=self.bad.shares(),
            skipped_good=self.good.shares(),
            helped=tuple((self.shown[key], n) for key, n in ranked),
        )


class StepGaps:
    """For each step, how many of the cases added closed without it ticked."""

    def __init__(self) -> None:
        self.cases = 0
        self.steps: set[int] = set()
        self.unticked: Counter[int] = Counter()

    def add(self, row: ClosedRow) -> None:
        self.cases += 1
        self.steps.update(range(1, row.step_count + 1))
        for n in range(1, row.step_count + 1):
            if n not in row.steps_done:
                self.unticked[n] += 1

    def shares(self) -> dict[int, float]:
        return {n: self.unticked[n] / self.cases for n in sorted(self.steps)}


def latest_mood(row: ClosedRow) -> str | None:
    return mood.later_mood({"mood": row.mood_at_close, "mood_later": row.mood_later})


def on_time(promised: str | None, fixed: str | None) -> bool:
    """Fixed no later than the timeframe the customer was given."""
    if not promised or not fixed:
        return False
    return datetime.fromisoformat(fixed) <= datetime.fromisoformat(promised)
