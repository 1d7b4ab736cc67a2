"""The case file: what was tried and how it went, notes, and the case's own details (customer, mood...).

Each change is saved, then said in the case thread or shown on the case message.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.casefile.records import CaseFileRecords
from bot.core import mrkdwn
from bot.core.notify import Notify
from bot.core.snapshot import Entry
from bot.delivery.publisher import Publisher


class CaseFile:
    def __init__(self, cases: CaseFileRecords, publisher: Publisher, notify: Notify):
        self.cases = cases
        self.publisher = publisher
        self.notify = notify

    def log_attempt(self, case_id: int, *, user: str, what: str, result: str, outcome: str) -> None:
        case = self.cases.log_attempt(case_id, user=user, what=what, result=result, outcome=outcome)
        if case.attempts:
            self.notify.thread_note(case, attempt_line(case.attempts[-1]))

    def add_note(self, case_id: int, *, user: str, text: str) -> None:
        case = self.cases.add_note(case_id, user=user, text=text)
        if case.notes:
            self.notify.thread_note(case, note_line(case.notes[-1]))

    def edit(self, case_id: int, *, user: str, **fields: Any) -> None:
        self.cases.edit(case_id, user=user, **fields)
        self.publisher.refresh(case_id)


def attempt_line(entry: Entry) -> str:
    """The case thread's line for a logged attempt."""
    outcome = entry.outcome or ""
    return texts.ATTEMPT_POSTED.format(
        user=mrkdwn.mention(entry.author),
        when=mrkdwn.slack_date(entry.at),
        what=mrkdwn.safe_limited(entry.text, 1200),
        result=mrkdwn.safe_limited(entry.result, 1200),
        outcome=texts.ATTEMPT_OUTCOMES.get(outcome, outcome),
    )


def note_line(entry: Entry) -> str:
    """The case thread's line for a note."""
    return texts.NOTE_POSTED.format(user=mrkdwn.mention(entry.author), when=mrkdwn.slack_date(entry.at),
                                    text=mrkdwn.safe_limited(entry.text, 2900))
