"""The customer's mood as the outcome of a case: recorded when the case is flagged, again (one tap) when
it is closed and at each follow-up answer. The change from the first to the latest is what a case
achieved: a furious customer who ends calm is the point of the whole playbook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MOODS = ("calm", "upset", "angry", "furious")  # from calm to furious: the order is the measure
CALMER, SAME, WORSE = "calmer", "same", "worse"
CHANGES = (CALMER, SAME, WORSE)


def later_mood(resolution: Mapping[str, Any] | None) -> str | None:
    """The latest mood recorded after the case was flagged: at a follow-up answer, else at closing."""
    resolution = resolution or {}
    for key in ("mood_later", "mood"):
        mood = resolution.get(key)
        if mood in MOODS:
            return str(mood)
    return None


def change(before: str | None, after: str | None) -> str | None:
    """calmer / same / worse from `before` to `after` (MOODS runs from calm to furious); None if
    either is unknown."""
    if before not in MOODS or after not in MOODS:
        return None
    step = MOODS.index(after) - MOODS.index(before)
    return CALMER if step < 0 else WORSE if step > 0 else SAME


@dataclass(frozen=True)
class MoodTally:
    """How the cases with a mood at both ends changed, and how many had no second mood."""

    calmer: int = 0
    same: int = 0
    worse: int = 0
    unknown: int = 0

    @property
    def measured(self) -> int:
        return self.calmer + self.same + self.worse

    @property
    def calmer_share(self) -> float | None:
        return self.calmer / self.measured if self.measured else None


def tally(pairs: Iterable[tuple[str | None, str | None]]) -> MoodTally:
    """Count (mood when flagged, latest mood) pairs by their change."""
    counts = dict.fromkeys((*CHANGES, "unknown"), 0)
    for before, after in pairs:
        counts[change(before, after) or "unknown"] += 1
    return MoodTally(counts[CALMER], counts[SAME], counts[WORSE], counts["unknown"])
