"""The mood change a case achieved (bot/core/mood.py), on hand-made cases."""

from __future__ import annotations

import pytest

from bot.core.mood import MOODS, MoodTally, change, later_mood, tally


@pytest.mark.parametrize("before, after, expected", [
    ("furious", "calm", "calmer"), ("upset", "calm", "calmer"), ("angry", "angry", "same"),
    ("calm", "upset", "worse"), ("upset", "furious", "worse"),
    (None, "calm", None), ("angry", None, None), ("angry", "ecstatic", None),
])
def test_change_runs_from_calm_to_furious(before, after, expected) -> None:
    assert change(before, after) == expected


def test_the_latest_mood_is_the_follow_up_s_then_the_closing_s() -> None:
    assert later_mood({"outcome": "resolved", "mood": "upset", "mood_later": "calm"}) == "calm"
    assert later_mood({"outcome": "resolved", "mood": "upset"}) == "upset"
    assert later_mood({"outcome": "resolved"}) is None
    assert later_mood({"mood": "nonsense"}) is None
    assert later_mood(None) is None


def test_tally_counts_each_change_and_the_cases_without_a_second_mood() -> None:
    result = tally([("furious", "calm"), ("angry", "upset"), ("upset", "upset"), ("calm", "angry"), ("angry", None),
                    (None, None)])
    assert result == MoodTally(calmer=2, same=1, worse=1, unknown=2)
    assert result.measured == 4 and result.calmer_share == 0.5
    assert tally([]).calmer_share is None


def test_the_moods_are_ordered_from_calm_to_furious() -> None:
    assert MOODS == ("calm", "upset", "angry", "furious")
