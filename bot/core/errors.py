"""Refusals the domain raises for people to read."""

from __future__ import annotations

from datetime import datetime


class CaseError(Exception):
    """A request that the case's state or the user's role does not allow; `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unknown(Exception):
    """We could not find out whether Slack has the message (budget spent, or the check failed)."""

    def __init__(self, reason: str, retry_at: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at
