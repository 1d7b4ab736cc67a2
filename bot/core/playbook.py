"""A case's playbook: the steps it was opened with, kept on the case row, and what ticking each asks.

The built-in six steps live in bot/playbooks/six-steps.toml; a case row from before playbooks were
recorded (no name, no steps) reads as those six.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from bot.core.playbook_file import ASKS, Playbook, PlaybookStep, load_playbook

__all__ = ["ASKS", "Playbook", "PlaybookStep", "built_in", "from_record", "to_record", "step", "step_asking"]


@lru_cache(maxsize=1)
def built_in() -> Playbook:
    return load_playbook()


def to_record(playbook: Playbook) -> dict[str, Any]:
    """The columns a case keeps of its playbook: name, language and the steps as JSON."""
    steps = [{"title": s.title, "why": s.why, "say": list(s.say), "asks": s.asks} for s in playbook.steps]
    return {"playbook_name": playbook.name, "playbook_language": playbook.language, "playbook_steps": steps}


def from_record(name: str | None, language: str | None, steps: list[dict[str, Any]] | None) -> Playbook:
    """The playbook a case row was opened with; rows without one are the built-in six steps."""
    if not name or not steps:
        return built_in()
    return Playbook(
        name=name,
        language=language or "en",
        steps=tuple(
            PlaybookStep(
                number=number,
                title=str(raw.get("title") or ""),
                why=str(raw.get("why") or ""),
                say=tuple(str(line) for line in raw.get("say") or ()),
                asks=raw.get("asks") if raw.get("asks") in ASKS else None,
            )
            for number, raw in enumerate(steps, start=1)
        ),
    )


def step(playbook: Playbook, number: int) -> PlaybookStep:
    if not 1 <= number <= len(playbook.steps):
        raise ValueError(f"no step {number} in playbook {playbook.name!r}")
    return playbook.steps[number - 1]


def step_asking(playbook: Playbook, asks: str) -> PlaybookStep | None:
    """The step whose tick asks for `asks` ("apology", "action", "plan"), if the playbook has one."""
    return next((s for s in playbook.steps if s.asks == asks), None)
