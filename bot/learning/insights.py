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
from collections.abc import Iterable, Sequence
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


def figures(rows: Sequence[ClosedRow]) -> Figures:
    resolved = [r for r in rows if r.status == "resolved"]
    helped_pairs = [r for r in rows if r.second_contact]
    escalated = [r for r in rows if r.escalated]
    return Figures(
        closed=len(rows),
        resolved=len(resolved),
        median_resolve_seconds=_median((r.closed_at - r.opened_at).total_seconds() for r in resolved),
        moods=mood.tally((r.mood, latest_mood(r)) for r in rows),
        second_contact=len(helped_pairs),
        second_contact_resolved=sum(1 for r in helped_pairs if r.status == "resolved"),
        escalated=len(escalated),
        escalations_on_time=sum(1 for r in escalated if on_time(r.expected_by, r.fixed_at)),
        repeat_cases=repeat_cases(rows),
        skipped_bad=skipped_shares([r for r in rows if r.status != "resolved"]),
        skipped_good=skipped_shares(resolved),
        helped=top_attempts(rows),
    )


def per_agent(rows: Sequence[ClosedRow]) -> dict[str, Figures]:
    """Each owner's figures (for LEADS only: no ranking of people in public)."""
    by_owner: dict[str, list[ClosedRow]] = defaultdict(list)
    for row in rows:
        by_owner[row.owner_id].append(row)
    return {owner: figures(owned) for owner, owned in sorted(by_owner.items())}


def latest_mood(row: ClosedRow) -> str | None:
    return mood.later_mood({"mood": row.mood_at_close, "mood_later": row.mood_later})


def on_time(promised: str | None, fixed: str | None) -> bool:
    """Fixed no later than the timeframe the customer was given."""
    if not promised or not fixed:
        return False
    return datetime.fromisoformat(fixed) <= datetime.fromisoformat(promised)


def repeat_cases(rows: Sequence[ClosedRow]) -> int:
    """Cases whose customer had another case closed in the same window."""
    counts = Counter(r.customer for r in rows if r.customer)
    return sum(n for n in counts.values() if n > 1)


def skipped_shares(rows: Sequence[ClosedRow]) -> dict[int, float]:
    """For each step, the share of these cases that closed without it ticked."""
    if not rows:
        return {}
    steps = sorted({n for r in rows for n in range(1, r.step_count + 1)})
    return {n: sum(1 for r in rows if n <= r.step_count and n not in r.steps_done) / len(rows) for n in steps}


def top_attempts(rows: Sequence[ClosedRow], limit: int = TOP_ATTEMPTS) -> tuple[tuple[str, int], ...]:
    """The attempts most often marked as having helped, in public cases only (the text is shown on Home)."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for row in rows:
        if row.visibility != PUBLIC:
            continue
        for what in row.attempts_helped:
            key = " ".join(what.lower().split())
            counts[key] += 1
            shown.setdefault(key, what.strip())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return tuple((shown[key], n) for key, n in ranked)


def _median(values: Iterable[float]) -> float | None:
    found = list(values)
    return statistics.median(found) if found else None
