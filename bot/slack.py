"""The Web API client Defuse uses everywhere, and helpers for reading Slack's errors."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.core.ports import SlackFailure

log = logging.getLogger(__name__)

# Errors that mean "the bot can't see or post in that conversation".
CHANNEL_ERRORS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}
AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission"}


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
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers if retries else [])


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


def is_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, (SlackClientError, OSError)) and not isinstance(exc, SlackApiError)
