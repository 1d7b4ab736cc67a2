"""The six de-escalation steps and what ticking each one asks of the agent."""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    why: str
    say: str
    # What ticking the step asks for: None (a plain tick), "apology" (did they accept?),
    # "action" (what was done, what else was offered) or "plan" (the follow-up plan).
    asks: str | None = None


_ASKS = {4: "apology", 5: "action", 6: "plan"}

STEPS: tuple[Step, ...] = tuple(
    Step(number=i, title=title, why=why, say=say, asks=_ASKS.get(i))
    for i, (title, why, say) in enumerate(texts.STEPS, start=1)
)
TOTAL = len(STEPS)


def step(number: int) -> Step:
    if not 1 <= number <= TOTAL:
        raise ValueError(f"no step {number}")
    return STEPS[number - 1]
