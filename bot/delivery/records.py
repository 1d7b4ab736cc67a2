"""Delivery bookkeeping on the case row: where it goes, what is posted, who holds the lease.

Written as part of the case record (bot.cases.Cases): every change with its event, in one transaction."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.cases import CaseStore
from bot.core.snapshot import CaseSnapshot
from storage import repositories as repo

_log = logging.getLogger(__name__)


class DeliveryRecords(CaseStore):
    """Delivery bookkeeping on the case row: where it goes, what is posted, who holds the lease."""

    def set_posted(
        self, case_id: int, *, message_ts: str | None = None, permalink: str | None = None,
        checklist_posting_at: datetime | None = None,
    ) -> None:
        """The case message is in Slack. `checklist_posting_at`: the mark of the checklist post about to
        start, in the same write (a crash after it looks in the thread first). The checklist's own ts is
        `checklist_posted`."""
        fields: dict[str, Any] = {
            k: v for k, v in dict(message_ts=message_ts, permalink=permalink,
                                  checklist_posting_at=checklist_posting_at).items() if v
        }
        if not fields:
            return
        if message_ts:
            fields["post_state"] = "posted"
        with self.db.session() as session:
            repo.set_case_delivery(session, case_id, None, **fields)  # not a change of the case itself

    def checklist_posted(self, case_id: int, ts: str, *, finished_by: str | None = None,
                         rendered_at: datetime | None = None) -> None:
        """The checklist is in Slack, so the case is complete there. With `finished_by` (the lease holder
        that posted both): Slack shows revision `rendered_at`, and the lease is handed back, in the same
        transaction. The ts is written whoever holds the lease now."""
        with self.db.session() as session:
            repo.set_case_delivery(session, case_id, None, checklist_ts=ts, post_state="done")
            if finished_by is not None:
                repo.set_case_delivery(session, case_id, finished_by, rendered_at=rendered_at, sync_by=None,
                                       sync_until=None, sync_attempts=0)

    def claim_delivery(self, case_id: int, worker: str, lease: timedelta, *, full: bool = True) -> CaseSnapshot | None:
        """Take or renew the lease on posting/updating this case in Slack; None if someone else has it.
        `full=False`: the case row only, as `get(full=False)`."""
        now = self.clock()
        with self.db.session() as session:
            case = repo.claim_case_delivery(session, case_id, worker=worker, now=now, until=now + lease)
            return self._snapshot(session, case, light=not full) if case is not None else None

    def record_delivery(self, case_id: int, worker: str | None = None, **fields: Any) -> bool:
        """Delivery progress (post_state, ts, markers, lease); with `worker`, only while it holds the lease."""
        with self.db.session() as session:
            return repo.set_case_delivery(session, case_id, worker, **fields)

    def set_destination(self, case_id: int, *, channel_id: str, visibility: str) -> CaseSnapshot:
        """Before the first post: the channel the case will live in and who reads it. The earlier cases shown
        on it follow from that, so the snapshot is read afresh."""
        with self.db.session() as session:
            repo.update_case(session, case_id, self.clock(), channel_id=channel_id, visibility=visibility)
            return self._fresh(session, case_id)

    def route_held(self, case: CaseSnapshot, worker: str, lease: timedelta, *, channel_id: str,
                   visibility: str) -> CaseSnapshot | None:
        """`set_destination` for a case `worker` holds the delivery lease on (it saved it), renewing the
        lease and marking the post of its case message as started, in the same transaction; None if the
        lease is not held any more (or the case was posted). The caller posts right after.

        `case` is the caller's snapshot. While the case is unchanged since then, only the earlier cases
        shown where it goes are read; a change in between (a note from the case file) means a full read."""
        now = self.clock()
        fields: dict[str, Any] = dict(channel_id=channel_id, visibility=visibility, post_state="sending",
                                      posting_at=now)
        with self.db.session() as session:
            keys = repo.route_held_unchanged(session, case.id, worker=worker, now=now, until=now + lease,
                                             seen=case.updated_at, **fields) if case.updated_at else None
            if keys is not None:
                prior, count, elsewhere = self._prior(session, *keys, case.id, channel_id)
                return replace(case, **fields, updated_at=now, prior=prior, prior_count=count,
                               prior_elsewhere=elsewhere)
            if not repo.route_held_case(session, case.id, worker=worker, now=now, until=now + lease, **fields):
                return None
            return self._fresh(session, case.id)

    def withdraw(self, case_id: int, *, reason: str) -> bool:
        """Take back a case that was never posted (nowhere it may go); True if it was removed."""
        with self.db.session() as session:
            removed = repo.delete_unposted_case(session, case_id)
        if removed:
            _log.info("case %s withdrawn before posting: %s", case_id, reason)
        return removed

    def move_channel(self, case_id: int, channel_id: str) -> None:
        """Before a case is posted anywhere the agent may pick another channel for it."""
        with self.db.session() as session:
            repo.update_case(session, case_id, self.clock(), channel_id=channel_id)
