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
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler

from bot.slack import error_code
from storage import repositories as repo
from storage.db import Database

log = logging.getLogger(__name__)

HISTORY_INTERVAL = timedelta(seconds=61)  # Slack: 1 request per minute for non-Marketplace apps
HISTORY_LIMIT = 15  # ... and at most 15 messages per page
POST_TIMEOUT = 10  # seconds; an answer later than this is ambiguous
SETTLE = timedelta(seconds=2)  # let a post Slack accepted become visible before looking for it


class Unknown(Exception):
    """We could not find out whether Slack has the message (budget spent, or the check failed)."""

    def __init__(self, reason: str, retry_at: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at


def is_ambiguous(exc: BaseException) -> bool:
    """True if Slack may have acted on the request although we got no success answer."""
    if isinstance(exc, SlackApiError):  # an `ok: false` answer is a refusal; a 5xx may hide a success
        return (getattr(exc.response, "status_code", 200) or 200) >= 500
    if isinstance(exc, URLError) and _before_sending(exc.reason):
        return False
    return isinstance(exc, (SlackClientError, OSError))


def _before_sending(reason: Any) -> bool:
    """Errors raised before a byte of the request left: a refused connection, DNS, connect timeout."""
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror, socket.timeout, TimeoutError))


class RefusedConnectionRetryHandler(RetryHandler):
    """Retry only when the request certainly never reached Slack (connection refused, DNS)."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
        return isinstance(error, URLError) and response is None and _before_sending(error.reason)


def post_client(client: WebClient) -> WebClient:
    """A client for posts that must not be doubled: no retry after a 5xx or a read timeout.
    429 is a refusal (nothing was posted), so it is retried, honouring Retry-After."""
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=POST_TIMEOUT,
        retry_handlers=[RefusedConnectionRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=4)],
    )


def tag(kind: str, **ids: Any) -> dict[str, Any]:
    """Message metadata that lets us find this message again."""
    return {"event_type": f"defuse_{kind}", "event_payload": dict(ids)}


def _tagged(message: dict[str, Any], kind: str, key: str, value: Any) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == f"defuse_{kind}" and (meta.get("event_payload") or {}).get(key) == value


class HistoryCheck:
    """Looks for a message we tagged, within the shared per-minute budget."""

    def __init__(self, db: Database, client: WebClient, clock: Callable[[], datetime]):
        self.db = db
        self.client = client
        self.clock = clock

    def _spend(self, method: str) -> None:
        now = self.clock()
        with self.db.session() as session:
            if repo.take_api_budget(session, method, now=now, next_at=now + HISTORY_INTERVAL):
                return
            retry_at = repo.api_budget_next(session, method)
        raise Unknown(f"{method} budget spent", retry_at)

    def find(
        self, channel: str, kind: str, key: str, value: Any, since: datetime, thread_ts: str | None = None
    ) -> str | None:
        """The ts of our tagged message posted after `since`, None if Slack certainly has none;
        raises Unknown if that cannot be told now."""
        method = "conversations.replies" if thread_ts else "conversations.history"
        self._spend(method)
        window = dict(oldest=f"{since.timestamp() - 5:.6f}", limit=HISTORY_LIMIT, include_all_metadata=True)
        try:
            if thread_ts:
                page = self.client.conversations_replies(channel=channel, ts=thread_ts, **window)
            else:
                page = self.client.conversations_history(channel=channel, **window)
        except (SlackApiError, SlackClientError, OSError) as exc:
            raise Unknown(f"{method}: {error_code(exc)}") from None
        for message in page.get("messages") or []:
            if _tagged(message, kind, key, value):
                return str(message["ts"])
        if page.get("has_more"):
            raise Unknown(f"{method}: more than {HISTORY_LIMIT} messages since the send")
        return None

    def retry_at(self, method: str = "conversations.history") -> datetime:
        with self.db.session() as session:
            return repo.api_budget_next(session, method) or self.clock()


# --- who holds a lease -----------------------------------------------------------------------
def process_name() -> str:
    """host:pid:token; the token tells this run from an earlier one that had the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead(holder: str, me: str) -> bool:
    """A lease holder on this host whose process is gone (after kill -9 nobody releases its leases).
    Holders on other hosts are never judged: their leases simply expire."""
    host, _, rest = holder.partition(":")
    my_host, _, my_rest = me.partition(":")
    pid_text, _, token = rest.partition(":")
    my_pid, _, my_token = my_rest.partition(":")
    if host != my_host or not pid_text.isdigit() or holder == me:
        return False
    if pid_text == my_pid:  # our pid with another token: an earlier run of this process (containers: pid 1)
        return token != my_token
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False
