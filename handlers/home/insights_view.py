"""App Home's "What works" section: the team's figures for 30 and 90 days, the viewer's own, and for
leads only, each agent's (bot.learning.insights does the arithmetic)."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.core import mrkdwn
from bot.core.textutil import human_duration, truncate
from bot.home.data import HomeData
from bot.learning.insights import Figures

AGENTS_SHOWN = 20
STEPS_SHOWN = 3
FIELD_LIMIT = 2000


def insight_blocks(data: HomeData) -> list[dict[str, Any]]:
    if data.insights is None:
        return []
    windows = data.insights.windows
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": texts.HOME_INSIGHTS}},
        {"type": "section", "fields": [_field(window_text(days, f)) for days, f in sorted(windows.items())]},
    ]
    if data.chart_file:  # drawn with the weekly digest; the bot uploaded it, so Slack shows it here
        blocks.append({"type": "image", "slack_file": {"id": data.chart_file}, "alt_text": texts.CHART_ALT,
                       "title": {"type": "plain_text", "text": texts.CHART_TITLE}})
    quarter = windows[max(windows)]
    for line in (skipped_line(quarter, data.step_titles), helped_line(quarter)):
        if line:
            blocks.append(_section(line))
    if data.mine is not None:
        blocks.append(_section(texts.HOME_INSIGHTS_MINE.format(
            closed=data.mine.closed, rate=percent(data.mine.resolution_rate), mood=own_mood(data.mine))))
    if data.lead and data.insights.agents:
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": texts.HOME_AGENTS}})
        lines = [texts.HOME_AGENT_LINE.format(user=mrkdwn.mention(user), closed=f.closed,
                                              rate=percent(f.resolution_rate), mood=own_mood(f))
                 for user, f in list(data.insights.agents.items())[:AGENTS_SHOWN]]
        blocks.append(_section("\n".join(lines)))
    return blocks


def window_text(days: int, f: Figures) -> str:
    lines = [texts.HOME_INSIGHTS_WINDOW.format(days=days)]
    if not f.closed:
        return "\n".join([*lines, texts.HOME_INSIGHTS_NONE])
    median = human_duration(f.median_resolve_seconds) if f.median_resolve_seconds is not None else "n/a"
    lines.append(texts.HOME_INSIGHTS_RESOLVED.format(resolved=f.resolved, closed=f.closed,
                                                     rate=percent(f.resolution_rate), median=median))
    moods = f.moods
    lines.append(texts.HOME_INSIGHTS_MOOD.format(calmer=moods.calmer, same=moods.same, worse=moods.worse)
                 if moods.measured else texts.HOME_INSIGHTS_MOOD_UNKNOWN)
    lines.append(texts.HOME_INSIGHTS_SECOND.format(count=f.second_contact, resolved=f.second_contact_resolved))
    lines.append(texts.HOME_INSIGHTS_ESCALATED.format(count=f.escalated, on_time=f.escalations_on_time))
    lines.append(texts.HOME_INSIGHTS_REPEAT.format(count=f.repeat_cases))
    return "\n".join(lines)


def skipped_line(f: Figures, titles: dict[int, str]) -> str | None:
    """The steps skipped most more often in cases that ended badly than in those that ended well."""
    gaps = sorted(((f.skipped_bad[n] - f.skipped_good.get(n, 0.0), n) for n in f.skipped_bad), reverse=True)
    shown = [texts.HOME_INSIGHTS_SKIPPED_STEP.format(
        title=mrkdwn.safe_limited(titles.get(n, f"Step {n}"), 60), bad=percent(f.skipped_bad[n]),
        good=percent(f.skipped_good.get(n))) for gap, n in gaps[:STEPS_SHOWN] if gap > 0]
    return texts.HOME_INSIGHTS_SKIPPED.format(steps="; ".join(shown)) if shown else None


def helped_line(f: Figures) -> str | None:
    if not f.helped:
        return None
    attempts = ", ".join(f"“{mrkdwn.safe_limited(what, 80)}” ({n})" for what, n in f.helped)
    return texts.HOME_INSIGHTS_HELPED.format(attempts=attempts)


def own_mood(f: Figures) -> str:
    if not f.moods.measured:
        return texts.HOME_INSIGHTS_MINE_NO_MOOD
    return texts.HOME_INSIGHTS_MINE_MOOD.format(calmer=f.moods.calmer, measured=f.moods.measured)


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{round(share * 100)} %"


def _field(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, FIELD_LIMIT)}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}
