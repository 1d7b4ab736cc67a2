"""SlackSurface: bot.core.ports.Slack on slack_sdk's WebClient, with one error policy.

Every Web API failure leaves here as `SlackFailure` (code, ambiguous, retry_after), logged once at the
level it deserves, so no caller catches SlackApiError, SlackClientError and OSError by itself.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.core.ports import Message, Posted, SlackFailure, Tag
from handlers.slack.keepalive import KeepAliveClient

log = logging.getLogger("defuse.slack")
T = TypeVar("T")

POST_TIMEOUT = 10  # seconds; an answer later than this is ambiguous
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission"})


def make_client(token: str, base_url: str, *, timeout: int = 15, retries: bool = True) -> WebClient:
    """A WebClient that retries connection errors, 5xx and 429 (honouring Retry-After).

    The retry handlers sleep in the calling thread, so this client is only used after ack().
    `retries=False` is for the reminder engine, which reschedules failed sends itself.
    """
    handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=4),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return KeepAliveClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers if retries else [])


def _before_sending(reason: Any) -> bool:
    """Errors raised before a byte of the request left: a refused connection, DNS, connect timeout."""
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror, socket.timeout, TimeoutError))


class RefusedConnectionRetryHandler(RetryHandler):
    """Retry only when the request certainly never reached Slack (connection refused, DNS)."""

    def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Exception | None = None) -> bool:
        return isinstance(error, URLError) and response is None and _before_sending(error.reason)


def once_client(client: WebClient) -> WebClient:
    """A client for posts that must not be doubled: no retry after a 5xx or a read timeout.
    429 is a refusal (nothing was posted), so it is retried, honouring Retry-After."""
    return KeepAliveClient(
        token=client.token, base_url=client.base_url, timeout=POST_TIMEOUT,
        retry_handlers=[RefusedConnectionRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=4)],
    )


def _with_slash(url: str | None) -> str | None:
    if not url or not url.startswith("https://"):
        return None
    return url if url.endswith("/") else url + "/"


def error_code(exc: BaseException) -> str:
    """Slack's error string (`not_in_channel`), or a short name for a transport problem."""
    if isinstance(exc, SlackFailure):
        return exc.code
    if isinstance(exc, SlackApiError):
        response: Any = exc.response
        try:
            return str(response.get("error") or f"http_{response.status_code}")
        except Exception:
            return "slack_error"
    if isinstance(exc, SlackClientError):
        return "slack_client_error"
    return type(exc).__name__


def is_ambiguous(exc: BaseException) -> bool:
    """True if Slack may have acted on the request although we got no success answer."""
    if isinstance(exc, SlackApiError):  # an `ok: false` answer is a refusal; a 5xx may hide a success
        return (getattr(exc.response, "status_code", 200) or 200) >= 500
    if isinstance(exc, URLError) and _before_sending(exc.reason):
        return False
    return isinstance(exc, (SlackClientError, OSError))


def _retry_after(exc: BaseException) -> float | None:
    if not isinstance(exc, SlackApiError) or getattr(exc.response, "status_code", 200) != 429:
        return None
    headers = getattr(exc.response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after") or 1
    try:
        return max(0.0, float(raw[0] if isinstance(raw, list) else raw))
    except (TypeError, ValueError):
        return 1.0


def failure(exc: BaseException, method: str) -> SlackFailure:
    """The one translation of whatever a Web API call raised."""
    return SlackFailure(error_code(exc), ambiguous=is_ambiguous(exc), retry_after=_retry_after(exc), method=method)


def call(method: str, work: Callable[[], T]) -> T:
    """Run one Web API call under the error policy: SlackFailure out, nothing else."""
    try:
        return work()
    except (SlackApiError, SlackClientError, OSError) as exc:
        raise failure(exc, method) from None


class SlackSurface:
    """The Web API as the domain sees it (bot.core.ports.Slack)."""

    def __init__(self, client: WebClient, *, once: WebClient | None = None, workspace_url: str | None = None):
        self.client = client
        self.once = once or once_client(client)
        self.workspace_url = _with_slash(workspace_url)  # auth.test's `url`, for links built without a call

    # --- writing -----------------------------------------------------------------------------
    def post(self, channel: str, message: Message, *, thread_ts: str | None = None, tag: Tag | None = None,
             once: bool = False) -> Posted:
        client = self.once if once else self.client
        extra: dict[str, Any] = {"metadata": dict(tag)} if tag else {}
        response = call("chat.postMessage", lambda: client.chat_postMessage(
            channel=channel, text=message.text, blocks=_blocks(message), thread_ts=thread_ts,
            unfurl_links=False, unfurl_media=False, **extra))
        return Posted(str(response.get("channel") or channel), str(response["ts"]))

    def update(self, channel: str, ts: str, message: Message) -> None:
        call("chat.update", lambda: self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=_blocks(message)))

    def ephemeral(self, channel: str, user: str, message: Message) -> None:
        call("chat.postEphemeral", lambda: self.client.chat_postEphemeral(
            channel=channel, user=user, text=message.text, blocks=_blocks(message)))

    def respond(self, response_url: str, message: Message, *, replace_original: bool = False) -> None:
        answer = call("response_url", lambda: WebhookClient(response_url, timeout=5).send(
            text=message.text, blocks=_blocks(message), response_type="ephemeral", replace_original=replace_original))
        if answer.status_code != 200:
            raise SlackFailure(f"http_{answer.status_code}", method="response_url")

    def join(self, channel: str) -> bool:
        if not channel.startswith("C"):  # only public channels can be joined
            return False
        try:
            call("conversations.join", lambda: self.client.conversations_join(channel=channel))
        except SlackFailure as exc:
            log.info("could not join %s: %s", channel, exc.code)
            return False
        log.info("joined channel %s", channel)
        return True

    def permalink(self, channel: str, ts: str, *, top_level: bool = False) -> str | None:
        if top_level and self.workspace_url and "." in ts:
            # Slack's format for a message at the top of a channel: .../archives/<channel>/p<ts without the dot>.
            # Saves a chat.getPermalink call (and its rate-limit budget) on every case posted.
            return f"{self.workspace_url}archives/{channel}/p{ts.replace('.', '')}"
        try:
            answer = call("chat.getPermalink", lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts))
        except SlackFailure as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, exc.code)
            return None
        link = answer.get("permalink")
        return str(link) if link else None

    def open_dm(self, user: str) -> str:
        answer = call("conversations.open", lambda: self.client.conversations_open(users=user))
        try:
            return str(answer["channel"]["id"])
        except (KeyError, TypeError):
            raise SlackFailure("no_channel", method="conversations.open") from None

    def upload(self, channel: str, files: Sequence[tuple[str, str]], *, comment: str) -> list[str]:
        uploads = [{"file": path, "filename": name, "title": name} for path, name in files]
        answer = call("files.upload", lambda: self.client.files_upload_v2(
            file_uploads=uploads, channel=channel, initial_comment=comment))
        return [str(f["id"]) for f in answer.get("files") or [] if f.get("id")]

    # --- reading -----------------------------------------------------------------------------
    def team_id(self) -> str | None:
        answer = call("auth.test", self.client.auth_test)
        team = answer.get("team_id")
        return str(team) if team else None

    def conversation(self, channel: str) -> Mapping[str, Any]:
        answer = call("conversations.info", lambda: self.client.conversations_info(channel=channel))
        return dict(answer.get("channel") or {})

    def members(self, channel: str, cursor: str | None = None) -> tuple[list[str], str | None]:
        answer = call("conversations.members", lambda: self.client.conversations_members(
            channel=channel, cursor=cursor, limit=200))
        following = (answer.get("response_metadata") or {}).get("next_cursor") or None
        return list(answer.get("members") or []), following

    def user(self, user: str) -> Mapping[str, Any]:
        answer = call("users.info", lambda: self.client.users_info(user=user))
        return dict(answer.get("user") or {})

    def group_members(self, group: str) -> list[str]:
        answer = call("usergroups.users.list", lambda: self.client.usergroups_users_list(usergroup=group))
        return list(answer.get("users") or [])

    def history(self, channel: str, *, oldest: str | None = None, latest: str | None = None,
                limit: int = 15, cursor: str | None = None, inclusive: bool = False) -> Mapping[str, Any]:
        args = {k: v for k, v in dict(oldest=oldest, latest=latest, cursor=cursor, inclusive=inclusive).items() if v}
        answer = call("conversations.history", lambda: self.client.conversations_history(
            channel=channel, limit=limit, include_all_metadata=True, **args))
        return dict(answer.data) if isinstance(answer.data, dict) else {}

    def replies(self, channel: str, ts: str, *, oldest: str | None = None, limit: int = 15) -> Mapping[str, Any]:
        args = {"oldest": oldest} if oldest else {}
        answer = call("conversations.replies", lambda: self.client.conversations_replies(
            channel=channel, ts=ts, limit=limit, include_all_metadata=True, **args))
        return dict(answer.data) if isinstance(answer.data, dict) else {}

    # --- views (used by listeners; the domain never opens a view) -------------------------------
    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=dict(view)))
        return dict(answer.get("view") or {})

    def update_view(self, view_id: str, view: Mapping[str, Any], *, hash_: str | None = None) -> None:
        call("views.update", lambda: self.client.views_update(view_id=view_id, hash=hash_, view=dict(view)))

    def publish_home(self, user: str, view: Mapping[str, Any]) -> None:
        call("views.publish", lambda: self.client.views_publish(user_id=user, view=dict(view)))


def _blocks(message: Message) -> list[dict[str, Any]] | None:
    return [dict(b) for b in message.blocks] if message.blocks is not None else None
