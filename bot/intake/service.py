"""Intake: a flagged case is saved before Slack gets its answer (so an acked /angry is never lost), then
posted after it (bot.delivery.publisher decides where it may go).

A repeated request (the same command trigger or form view, re-delivered by Slack or submitted twice)
finds the case it opened instead of opening a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.core.snapshot import CaseSnapshot
from bot.delivery.publisher import DELIVERY_LEASE, Publisher, PublishResult
from bot.intake.records import IntakeRecords

T = TypeVar("T")
SAVE_DEADLINE = 1.0  # seconds the ack waits for the case to be saved (Slack allows 3 s in all)

# Runs `work` on the post-ack worker, waiting at most `deadline` seconds for it; if it finishes later,
# `late` gets its result (handlers.slack.worker.Worker.within).
Within = Callable[[Callable[[], T], float, Callable[[T], None]], T | None]


class Intake:
    def __init__(self, cases: IntakeRecords, publisher: Publisher, within: Within[CaseSnapshot]):
        self.cases = cases
        self.publisher = publisher
        self.within = within

    def save(self, intake_key: str | None, fields: dict[str, Any], late: Callable[[CaseSnapshot], None],
             holder: str | None = None) -> CaseSnapshot | None:
        """Open the case (once per `intake_key`), leased for posting to `holder` (another process of this app
        that will post it) or to this process, within SAVE_DEADLINE. None when that did not happen in time;
        `late` then gets the case if it is saved afterwards."""

        def save() -> CaseSnapshot:
            lease = (holder or self.publisher.me, self.cases.clock() + DELIVERY_LEASE)
            # Before the ack: the earlier cases are read when the case is posted, for the channel it goes to.
            return self.cases.open_once(intake_key=intake_key, lease=lease, with_prior=False, **fields)

        return self.within(save, SAVE_DEADLINE, late)

    def post(self, case: CaseSnapshot) -> PublishResult:
        """After the ack: post the saved case (the sweep finishes this if the process dies first)."""
        return self.publisher.publish_saved(case)

    def post_again(self, case_id: int) -> PublishResult:
        """The agent pressed Post it again: may repeat a post Slack never confirmed, by their choice."""
        self.cases.require(case_id)
        return self.publisher.publish(case_id, again=True)
