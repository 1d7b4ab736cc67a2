"""The App Home tab: my open cases, my follow-ups, the team's numbers."""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View

from bot import blocks as b
from bot import playbook, texts
from bot.cases import Cases
from bot.textutil import human_duration
from storage import repositories as repo

FOLLOW_UP_ICONS = {"pending": "⏰", "sent": "📬", "failed": "⚠️"}


def home_view(cases: Cases, user: str) -> dict[str, Any]:
    now = cases.clock()
    with cases.db.session() as session:
        mine = repo.open_cases_for(session, user, limit=15)
        reminders = [
            r for r in repo.reminders_for(session, user, ("pending", "sent", "failed"), limit=40)
            if r.kind == "follow_up" and (r.status != "pending" or r.due_at <= now + timedelta(days=7))
        ][:15]
        case_names = {c.id: c.customer for c in mine}
        for r in reminders:
            if r.case_id and r.case_id not in case_names:
                other = repo.get_case(session, r.case_id)
                case_names[r.case_id] = other.customer if other else None
        numbers = repo.team_numbers(session, now - timedelta(days=30))
        causes = repo.cause_counts(session, now - timedelta(days=30))
        agent = repo.get_agent(session, user)
        breather_until = agent.breather_until if agent and agent.breather_until and agent.breather_until > now else None
        mine_rows = [
            (c.id, c.customer, sum(1 for s in c.steps if s.done), c.status, c.opened_at, c.permalink, c.escalation)
            for c in mine
        ]

    items: list[Block] = [HeaderBlock(text=PlainTextObject(text=texts.HOME_HEADER)), b.context(texts.HOME_INTRO)]
    if breather_until:
        items.append(b.section(texts.HOME_ON_BREATHER.format(until=b.slack_date(breather_until, "{time}"))))
    items += [DividerBlock(), HeaderBlock(text=PlainTextObject(text=texts.HOME_MY_CASES))]
    if not mine_rows:
        items.append(b.section(texts.HOME_NO_CASES))
    for case_id, customer, done, status, opened_at, permalink, _esc in mine_rows:
        items.append(b.section(texts.HOME_CASE_LINE.format(
            number=case_id, customer=b.safe_limited(customer, 100) if customer else "(no name)", done=done,
            total=playbook.TOTAL, status=texts.STATUS_LABELS.get(status, status), when=b.slack_date(opened_at, "{date_short_pretty}"),
            link=f" · <{permalink}|open>" if permalink else "",
        )))
    items += [DividerBlock(), HeaderBlock(text=PlainTextObject(text=texts.HOME_FOLLOW_UPS))]
    if not reminders:
        items.append(b.section(texts.HOME_NO_FOLLOW_UPS))
    for r in reminders:
        customer = case_names.get(r.case_id or 0)
        when = r.due_at if r.status != "sent" else (r.sent_at or r.due_at)
        items.append(b.section(texts.HOME_FOLLOW_UP_LINE.format(
            icon=FOLLOW_UP_ICONS.get(r.status, "•"), number=r.case_id,
            customer=b.safe_limited(customer, 80) if customer else "", state=texts.HOME_FOLLOW_UP_STATES[r.status],
            when=b.slack_date(when),
        )))
    median = human_duration(statistics.median(numbers["resolve_seconds"])) if numbers["resolve_seconds"] else "n/a"
    items += [
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text=texts.HOME_TEAM)),
        b.section(texts.HOME_TEAM_NUMBERS.format(median=median, **{k: v for k, v in numbers.items() if k != "resolve_seconds"})),
    ]
    if causes:
        ranked = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))
        items.append(b.section(texts.HOME_CAUSES.format(
            causes=", ".join(f"{texts.CAUSES.get(k, k)} ({v})" for k, v in ranked))))
    else:
        items.append(b.section(texts.HOME_NO_CAUSES))
    return View(type="home", blocks=items[: b.MAX_VIEW_BLOCKS]).to_dict()
