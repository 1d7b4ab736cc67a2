"""Delivery to Slack without losing or doubling posts.

Slack has no idempotency key for chat.postMessage. A 5xx, a timeout or a connection dropped after
the request went out leaves us not knowing whether the message exists. Such an answer is never
followed by a blind re-send: every message we may need to find again carries metadata (kind + id),
the row records that a send started, and before sending again we look for the tagged message with
conversations.history / conversations.replies. Those are limited to one call per minute for apps
outside the Marketplace, so every process on the database shares one budget per method (a row in
`api_budget`); when it is spent, the check waits for the next minute instead of guessing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.errors import Unknown
from bot.core.ports import Slack, SlackFailure
from storage import repositories as repo
from storage.db import Database

log = logging.getLogger(__name__)

HISTORY_INTERVAL = timedelta(seconds=61)  # Slack: 1 request per minute for non-Marketplace apps
HISTORY_LIMIT = 15  # ... and at most 15 messages per page
SETTLE = timedelta(seconds=2)  # let a post Slack accepted become visible before looking for it
CLOCK_SKEW = 2.0  # seconds Slack's clock (message ts) may differ from ours
PAGE_LIFE = timedelta(minutes=3)  # how long one history page may answer later questions


def _tagged(message: dict[str, Any], kind: str, key: str, value: Any) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == f"defuse_{kind}" and (meta.get("event_payload") or {}).get(key) == value


@dataclass
class _Scan:
    """What one channel's history showed, read page by page (one page per budget unit).
    Every top-level message sent between `covers_from` and `fetched_at` is in `messages`."""

    fetched_at: datetime
    oldest: float
    covers_from: float
    messages: list[dict[str, Any]]
    cursor: str | None


class HistoryCheck:
    """Looks for a message we tagged, within the shared per-minute budget.

    What a channel's history showed is kept for a few minutes and answers later questions it covers
    (a crash can leave several posts unconfirmed in one channel: one call answers them all), and a
    window with more than one page is read a page per minute. A checklist is looked for on its case
    message first: `reply_count` 0 means it is certainly not there, a single reply by the bot is it;
    only otherwise is the thread read (conversations.replies).
    """

    def __init__(self, db: Database, slack: Slack, clock: Callable[[], datetime]):
        self.db = db
        self.slack = slack
        self.clock = clock
        self._scans: dict[str, _Scan] = {}
        self._lock = threading.Lock()

    def _spend(self, method: str) -> None:
        now = self.clock()
        with self.db.session() as session:
            if repo.take_api_budget(session, method, now=now, next_at=now + HISTORY_INTERVAL):
                return
            retry_at = repo.api_budget_next(session, method)
        raise Unknown(f"{method} budget spent", retry_at)

    def _history(self, channel: str, **args: Any) -> Mapping[str, Any]:
        self._spend("conversations.history")
        try:
            return self.slack.history(channel, limit=HISTORY_LIMIT, **args)
        except SlackFailure as exc:
            raise Unknown(f"conversations.history: {exc.code}") from None

    def _known(self, channel: str, landed_by: datetime) -> _Scan | None:
        """A scan read after `landed_by` (a post made before then would be in it), if still fresh."""
        with self._lock:
            scan = self._scans.get(channel)
        if scan and scan.fetched_at >= landed_by and self.clock() - scan.fetched_at < PAGE_LIFE:
            return scan
        return None

    def _read_more(self, channel: str, covers: float, landed_by: datetime) -> _Scan:
        """One more page: the next of a fresh scan that does not reach back to `covers` yet, or a new scan."""
        wait = (landed_by - self.clock()).total_seconds()
        if wait > 0:  # give Slack the moment it needs to show a post it accepted
            time.sleep(min(wait, SETTLE.total_seconds()))
        scan = self._known(channel, landed_by)
        if scan is None or scan.oldest > covers or not scan.cursor:
            fetched_at = self.clock()
            answer = self._history(channel=channel, oldest=f"{covers:.6f}")
            scan = _Scan(fetched_at, covers, covers, [], None)
        else:
            answer = self._history(channel=channel, oldest=f"{scan.oldest:.6f}", cursor=scan.cursor)
        messages = scan.messages + list(answer.get("messages") or [])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") if answer.get("has_more") else None
        covers_from = min((float(m["ts"]) for m in messages), default=scan.oldest) if cursor else scan.oldest
        scan = _Scan(scan.fetched_at, scan.oldest, covers_from, messages, cursor or None)
        with self._lock:
            self._scans[channel] = scan
        return scan

    def prefetch(self, channel: str, covers: float, landed_by: datetime) -> None:
        """Read the channel's history back to `covers` (epoch s) once, for several checks to come."""
        scan = self._known(channel, landed_by)
        if scan is not None and scan.covers_from <= covers and scan.oldest <= covers:
            return
        try:
            self._read_more(channel, covers, landed_by)
        except Unknown as exc:
            log.info("could not read the history of %s yet: %s", channel, exc.reason)

    def find(self, channel: str, kind: str, key: str, value: Any, since: datetime) -> str | None:
        """The ts of our tagged top-level message sent at `since`, None if Slack certainly has none;
        raises Unknown if that cannot be told now."""
        covers, landed_by = since.timestamp() - CLOCK_SKEW, since + SETTLE
        scan = self._known(channel, landed_by)
        for attempt in range(2):
            if scan is not None:
                found = next((m for m in scan.messages if _tagged(m, kind, key, value)), None)
                if found is not None:
                    return str(found["ts"])
                if scan.covers_from <= covers and scan.oldest <= covers:
                    return None
            if attempt == 0:
                scan = self._read_more(channel, covers, landed_by)
        raise Unknown(f"more than {len(scan.messages) if scan else 0} messages since the send; reading on",
                      self.clock() + HISTORY_INTERVAL)

    def find_reply(self, channel: str, parent_ts: str, kind: str, key: str, value: Any, since: datetime) -> str | None:
        """The same for a reply in the thread of `parent_ts` (our own message)."""
        parent = self._parent(channel, parent_ts, since + SETTLE)
        if parent is None:
            return None  # the case message is gone, so is its thread
        replies = int(parent.get("reply_count") or 0)
        if replies == 0:
            return None
        if replies == 1 and parent.get("latest_reply") and parent.get("reply_users") == [parent.get("user")]:
            return str(parent["latest_reply"])  # the only reply is the bot's own: the checklist
        self._spend("conversations.replies")
        try:
            answer = self.slack.replies(channel, parent_ts, oldest=f"{since.timestamp() - CLOCK_SKEW:.6f}",
                                        limit=HISTORY_LIMIT)
        except SlackFailure as exc:
            raise Unknown(f"conversations.replies: {exc.code}") from None
        for message in answer.get("messages") or []:
            if message.get("ts") != parent_ts and _tagged(message, kind, key, value):
                return str(message["ts"])
        if answer.get("has_more"):
            raise Unknown(f"more than {HISTORY_LIMIT} replies since the send", self.clock() + HISTORY_INTERVAL)
        return None

    def _parent(self, channel: str, parent_ts: str, landed_by: datetime) -> dict[str, Any] | None:
        """The case message as history shows it (with reply_count), from a fresh scan or by itself."""
        scan = self._known(channel, landed_by)
        if scan is not None and scan.covers_from < float(parent_ts) and scan.oldest < float(parent_ts):
            return next((m for m in scan.messages if m.get("ts") == parent_ts), None)
        wait = (landed_by - self.clock()).total_seconds()
        if wait > 0:
            time.sleep(min(wait, SETTLE.total_seconds()))
        answer = self._history(channel=channel, oldest=parent_ts, latest=parent_ts, inclusive=True)
        return next((m for m in answer.get("messages") or [] if m.get("ts") == parent_ts), None)
