"""Refusals the domain raises for people to read."""

from __future__ import annotations


class CaseError(Exception):
    """A request that the case's state or the user's role does not allow; `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
