"""The weekly learning digest posted to DIGEST_CHANNEL at DIGEST_SCHEDULE (in DIGEST_TIMEZONE).

`build_digest` turns plain data (storage.digest_queries.DigestData) into a Block Kit message; it
never shows a case's details (customer, summary, link, owner) unless the case is public or lives in
the digest channel itself: other cases are only counted.

`Digest` runs from the scheduler's tick. Once per week across processes: the run claims a job_runs
row keyed by this week's scheduled local date (`claim_day`), so after a downtime of several weeks
only the latest week's digest goes out. A post Slack certainly refused (`ok: false`, 429) is retried
on a later tick the same week; after a 5xx or a timeout it is not, because Slack may have posted it
and two digests are worse than none (the failure is logged and kept in the row). A claim whose
process died is not taken over within the week, for the same reason.
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.core.ports import Message, Posted, Slack, SlackFailure, tag
from bot.core.settings import DigestSchedule
from bot.core.textutil import human_duration, is_url, safe, truncate
from bot.delivery.audience import PUBLIC
from storage import digest_queries as dq
from storage import retention_queries as rq
from storage.db import Database

log = logging.getLogger(__name__)

JOB = "digest"
WEEK = timedelta(days=7)
OPEN_TOO_LONG = timedelta(days=3)
FOLLOW_UP_GRACE = timedelta(days=1)
LIST_LIMIT = 10
OWNERS_LIMIT = 20
SECTION_LIMIT = 3000  # Slack's limit for a section's text
MAX_BLOCKS = 50
STALE_CLAIM = WEEK  # a claim left by a dead process is never taken over within its week
RETRY_AFTER = timedelta(minutes=10)  # after Slack refused the post: try again this much later
BUSY_RECHECK = timedelta(seconds=10)  # another process holds the claim: look again this much later


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- content ----------------------------------------------------------------------------------
def shareable(case: dq.CaseRef, channel: str) -> bool:
    """May the digest channel see this case's details? Only if anyone inside may, or it lives there."""
    return case.visibility == PUBLIC or case.channel_id == channel


def median_seconds(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def resolution_rate(week: dq.WeekFigures) -> float | None:
    closed = week.resolved + week.unresolved
    return week.resolved / closed if closed else None


def _percent(rate: float | None) -> str:
    return texts.DIGEST_NONE if rate is None else f"{round(rate * 100)} %"


def _duration(seconds: float | None) -> str:
    return texts.DIGEST_NONE if seconds is None else human_duration(seconds)


def _delta(now: int, before: int) -> str:
    change = texts.DIGEST_SAME if now == before else f"{now - before:+d}"
    return texts.DIGEST_DELTA.format(previous=before, change=change)


def _lines_within(lines: list[str], limit: int = SECTION_LIMIT) -> str:
    """Join whole lines while they fit, so a cut never breaks a link or a mention."""
    kept: list[str] = []
    size = 0
    for line in lines:
        line = truncate(line, limit - 3)
        if size + len(line) + 1 > limit - 2:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _case_link(case: dq.CaseRef) -> str:
    label = texts.DIGEST_CASE.format(number=case.id)
    link = case.permalink or ""
    if is_url(link) and not any(c in link for c in "|<> "):
        return f"<{link}|{label}>"
    return label


def _one_line(text: str | None, limit: int) -> str:
    return safe(truncate(" ".join((text or "").split()), limit))


def _week_section(data: dq.DigestData) -> str:
    week, before = data.week, data.previous
    return texts.DIGEST_WEEK.format(
        opened=week.opened, opened_delta=_delta(week.opened, before.opened),
        resolved=week.resolved, resolved_delta=_delta(week.resolved, before.resolved),
        unresolved=week.unresolved, unresolved_delta=_delta(week.unresolved, before.unresolved),
        rate=_percent(resolution_rate(week)), previous_rate=_percent(resolution_rate(before)),
        median=_duration(median_seconds(week.resolve_seconds)),
        previous_median=_duration(median_seconds(before.resolve_seconds)),
    )


def _causes_section(data: dq.DigestData) -> str:
    causes = set(data.causes) | set(data.previous_causes)
    if not causes:
        return texts.DIGEST_NO_CAUSES
    ordered = sorted(causes, key=lambda c: (-data.causes.get(c, 0), -data.previous_causes.get(c, 0), c))
    lines = [texts.DIGEST_CAUSES_TITLE] + [
        texts.DIGEST_CAUSE_LINE.format(cause=safe(texts.CAUSES.get(c, c)), count=data.causes.get(c, 0),
                                       previous=data.previous_causes.get(c, 0))
        for c in ordered
    ]
    return _lines_within(lines)


def _visible(listing: dq.Listing, channel: str) -> tuple[list[dq.CaseRef], int]:
    """The listed cases the channel may see (at most LIST_LIMIT), and how many are only counted."""
    shown = [c for c in listing.shown if shareable(c, channel)]
    slipped = len(listing.shown) - len(shown)  # the query should have left these out: count them instead
    return shown[:LIST_LIMIT], listing.hidden + slipped


def _listing_tail(listing: dq.Listing, shown: int, hidden: int) -> list[str]:
    lines = []
    more = listing.total - hidden - shown
    if more > 0:
        lines.append(texts.DIGEST_MORE.format(count=more))
    if hidden:
        lines.append(texts.DIGEST_HIDDEN.format(count=hidden))
    return lines


def _ux_section(data: dq.DigestData, channel: str) -> str:
    shown, hidden = _visible(data.ux_issues, channel)
    lines = [texts.DIGEST_UX_TITLE.format(count=data.ux_issues.total)]
    lines += [texts.DIGEST_UX_LINE.format(case=_case_link(c), issue=_one_line(c.note, 200)) for c in shown]
    return _lines_within(lines + _listing_tail(data.ux_issues, len(shown), hidden))


def _open_section(data: dq.DigestData, channel: str) -> str:
    shown, hidden = _visible(data.open_too_long, channel)
    lines = [texts.DIGEST_OPEN_TITLE.format(days=OPEN_TOO_LONG.days, count=data.open_too_long.total)]
    for c in shown:
        customer = f"*{_one_line(c.customer, 80)}* " if c.customer else ""
        lines.append(texts.DIGEST_OPEN_LINE.format(
            case=_case_link(c), customer=customer, summary=_one_line(c.summary, 120),
            age=human_duration((data.now - c.opened_at).total_seconds()), owner=c.owner_id))
    return _lines_within(lines + _listing_tail(data.open_too_long, len(shown), hidden))


def _follow_ups_section(data: dq.DigestData) -> str:
    owners = ""
    if data.overdue_owners:
        named = ", ".join(f"<@{u}>" for u in data.overdue_owners[:OWNERS_LIMIT])
        if len(data.overdue_owners) > OWNERS_LIMIT:
            named += " " + texts.DIGEST_MORE.format(count=len(data.overdue_owners) - OWNERS_LIMIT)
        owners = texts.DIGEST_FOLLOW_UPS_OWNERS.format(owners=named)
    return _lines_within([texts.DIGEST_FOLLOW_UPS.format(count=data.overdue_follow_ups, owners=owners)])


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def build_digest(data: dq.DigestData, channel: str, tz: str = "UTC") -> tuple[str, list[dict[str, Any]]]:
    """The digest's fallback text and blocks (well within 50 blocks and 3,000 characters a section)."""
    zone = ZoneInfo(tz)
    end = data.now.astimezone(zone)
    start = (data.now - WEEK).astimezone(zone)
    span = {"start": start.strftime("%d %b"), "end": end.strftime("%d %b %Y")}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(texts.DIGEST_HEADER.format(**span), 150)}},
        _section(_week_section(data)),
        _section(_causes_section(data)),
        _section(_ux_section(data, channel)),
        _section(_open_section(data, channel)),
        _section(_follow_ups_section(data)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": texts.DIGEST_FOOTER.format(
            now=end.strftime("%a %d %b %H:%M"), tz=tz)}]},
    ]
    text = texts.DIGEST_FALLBACK.format(opened=data.week.opened, resolved=data.week.resolved,
                                        unresolved=data.week.unresolved, **span)
    return text, blocks[:MAX_BLOCKS]


def collect(db: Database, now: datetime, channel: str) -> dq.DigestData:
    """Everything the digest shows, in one short read transaction."""
    with db.session() as session:
        count, owners = dq.overdue_follow_ups(session, now - FOLLOW_UP_GRACE, 10 * OWNERS_LIMIT)
        return dq.DigestData(
            now=now,
            week=dq.week_figures(session, now - WEEK, now),
            previous=dq.week_figures(session, now - 2 * WEEK, now - WEEK),
            causes=dq.cause_counts(session, now - WEEK, now),
            previous_causes=dq.cause_counts(session, now - 2 * WEEK, now - WEEK),
            ux_issues=dq.ux_issues(session, now - WEEK, now, channel, LIST_LIMIT),
            open_too_long=dq.open_too_long(session, now - OPEN_TOO_LONG, channel, LIST_LIMIT),
            overdue_follow_ups=count,
            overdue_owners=owners,
        )


# --- schedule ---------------------------------------------------------------------------------
def week_key(schedule: DigestSchedule, now: datetime) -> str:
    """The local date of the latest scheduled moment at or before `now`: one key per digest week."""
    local = now.astimezone(schedule.zone)
    day = local.date() - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    due = datetime.combine(day, schedule.at, tzinfo=schedule.zone)
    if due > local:
        day -= WEEK
    return day.isoformat()


class Digest:
    def __init__(self, db: Database, slack: Slack, channel: str, schedule: DigestSchedule,
                 clock: Callable[[], datetime] = utcnow, worker: str | None = None):
        self.db = db
        self.slack = slack
        self.channel = channel
        self.schedule = schedule
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._done_week: str | None = None
        self._quiet_until: datetime | None = None
        self._lock = threading.Lock()

    def on_tick(self, *_: Any) -> None:
        """After every scheduler tick: a compare once this week is done; the run gets its own thread."""
        now = self.clock()
        if self._done_week == week_key(self.schedule, now) or self._lock.locked():
            return
        if self._quiet_until is not None and now < self._quiet_until:
            return
        threading.Thread(target=self._run_logged, name="digest", daemon=True).start()

    def _run_logged(self) -> None:
        try:
            self.run_weekly()
        except Exception:
            log.exception("digest run failed; a later tick tries again")

    def run_weekly(self, now: datetime | None = None) -> str | None:
        """Post this week's digest unless a process already has. Returns what happened here:
        "sent", "retry" (Slack refused; a later tick tries again), "failed" (maybe posted: no retry),
        or None (nothing to do here)."""
        now = now or self.clock()
        week = week_key(self.schedule, now)
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._done_week == week:
                return None
            with self.db.session() as session:
                claimed = rq.claim_day(session, job=JOB, day=week, worker=self.worker, now=now, stale_after=STALE_CLAIM)
                row = None if claimed else dq.job_row(session, JOB, week)
            if row is not None:
                self._note_taken(week, row, now)
                return None
            return self._send(week, now)
        finally:
            self._lock.release()

    def _note_taken(self, week: str, row: Any, now: datetime) -> None:
        """Another process has the week: done, waiting to retry after Slack refused it, or posting now."""
        if row.finished_at is not None:
            log.info("digest for the week of %s: already posted (or given up) by a process; nothing to do", week)
            self._done_week = week
        elif (row.result or {}).get("retry"):
            self._quiet_until = row.claimed_at + STALE_CLAIM
        else:
            self._quiet_until = now + BUSY_RECHECK

    def _send(self, week: str, now: datetime) -> str:
        try:
            text, blocks = build_digest(collect(self.db, now, self.channel), self.channel, self.schedule.tz)
        except Exception as exc:
            log.exception("digest for the week of %s could not be built; retrying later", week)
            return self._release(week, now, type(exc).__name__)
        try:
            posted = self._post(week, Message(text, blocks))
        except SlackFailure as exc:
            if not exc.ambiguous:  # Slack answered and said no (or was never reached): nothing was posted
                log.warning("digest for the week of %s: Slack refused it (%s); retrying later", week, exc.code)
                return self._release(week, now, exc.code)
            return self._give_up(week, exc.code)  # a 5xx or a timeout: Slack may have posted it
        self._finish(week, {"channel": posted.channel, "ts": posted.ts})
        log.info("digest for the week of %s posted to %s", week, self.channel)
        return "sent"

    def _post(self, week: str, message: Message) -> Posted:
        marker = tag("digest", week=week)
        try:
            return self.slack.post(self.channel, message, tag=marker)
        except SlackFailure as exc:  # a refusal: nothing was posted, so joining and posting again is safe
            if exc.ambiguous or exc.code not in ("not_in_channel", "channel_not_found") or not self.slack.join(self.channel):
                raise
            log.info("joined %s to post the weekly digest", self.channel)
        return self.slack.post(self.channel, message, tag=marker)

    def _release(self, week: str, now: datetime, error: str) -> str:
        """Keep the failure in the row and make the claim stale RETRY_AFTER from now, so a tick retries."""
        with self.db.session() as session:
            dq.record_retry(session, job=JOB, day=week, worker=self.worker, error=error,
                            claimed_at=now - STALE_CLAIM + RETRY_AFTER)
        self._quiet_until = now + RETRY_AFTER
        return "retry"

    def _give_up(self, week: str, error: str) -> str:
        log.error("digest for the week of %s: the post to %s failed (%s) and Slack may have taken it; "
                  "not retrying this week, so it is never posted twice", week, self.channel, error)
        self._finish(week, {"error": error, "uncertain": True})
        return "failed"

    def _finish(self, week: str, result: dict[str, Any]) -> None:
        with self.db.session() as session:
            rq.finish_day(session, job=JOB, day=week, worker=self.worker, now=self.clock(), result=result)
        self._done_week = week

