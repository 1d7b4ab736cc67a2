"""The sweep: finish what a crash (or an unclear answer from Slack) interrupted.

Runs at start and then on every scheduler tick (at most every MIN_INTERVAL). It takes unfinished
cases with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, so several processes share the work):
saved but never posted, posted without a checklist, changed but not shown in Slack. Leases held by a
process on this host that no longer exists (kill -9) are released at once instead of waiting them out.
The agent who flagged a case the sweep posted is told: by its response_url while that is valid
(30 minutes), otherwise by DM.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot import texts
from bot.core.notify import Notify
from bot.core.ports import Message, SlackFailure
from bot.core.snapshot import CaseSnapshot
from bot.delivery.history import CLOCK_SKEW, SETTLE, HistoryCheck
from bot.delivery.leases import is_dead
from bot.delivery.publisher import DELIVERY_LEASE, Publisher
from bot.delivery.records import DeliveryRecords
from storage import repositories as repo

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0  # seconds between sweeps in one process
SETTLED = timedelta(seconds=20)  # a change younger than this is still being shown by its own request
HORIZON = timedelta(days=2)  # changes older than this are not chased any more
MAX_ATTEMPTS = 8
BATCH = 10
RESPONSE_URL_LIFE = timedelta(minutes=29)  # Slack: 30 minutes
UPDATE_RETRY = timedelta(minutes=2)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class Sweep:
    def __init__(self, cases: DeliveryRecords, publisher: Publisher, history: HistoryCheck, notify: Notify,
                 finish_handoff_dm: Callable[[int], None], retry_view: Callable[[str, int], Message]):
        self.cases = cases
        self.db = cases.db
        self.publisher = publisher
        self.me = publisher.me
        self.history = history
        self.notify = notify
        self.finish_handoff_dm = finish_handoff_dm  # second contact: a request DM never confirmed
        self.retry_view = retry_view  # the failure notice with its Post it again button
        self._last = 0.0
        self._running = threading.Lock()

    def __call__(self, *_: Any) -> None:
        """For TickRunner(on_tick=...): sweep if the last one is old enough; never raises."""
        if time.monotonic() - self._last < MIN_INTERVAL or not self._running.acquire(blocking=False):
            return
        try:
            self._last = time.monotonic()
            self.run()
        except Exception:
            log.exception("delivery sweep failed; the next tick tries again")
        finally:
            self._running.release()

    def run(self, now: datetime | None = None) -> int:
        """One pass; returns how many cases and handoffs it worked on."""
        now = now or self.cases.clock()
        self.release_dead(now)
        with self.db.session() as session:
            case_ids = repo.claim_unfinished_cases(
                session, now=now, until=now + DELIVERY_LEASE, worker=self.me, settled_before=now - SETTLED,
                since=now - HORIZON, max_attempts=MAX_ATTEMPTS, limit=BATCH,
            )
            handoff_ids = repo.claim_unconfirmed_handoffs(
                session, now=now, until=now + DELIVERY_LEASE, worker=self.me, settled_before=now - SETTLED / 4,
                limit=BATCH,
            )
        for case_id in self._unclear_first(case_ids):
            self.finish_case(case_id)
        for handoff_id in handoff_ids:
            self.finish_handoff_dm(handoff_id)
        return len(case_ids) + len(handoff_ids)

    def _unclear_first(self, case_ids: list[int]) -> list[int]:
        """Posts Slack may have come first, before new posts push them further back in the history,
        with one history read per channel covering all of them (the budget is one call a minute)."""
        unclear: dict[str, list[CaseSnapshot]] = {}
        for case_id in case_ids:
            case = self.cases.get(case_id, full=False)
            if case is not None and self._unclear_since(case) is not None:
                unclear.setdefault(case.channel_id, []).append(case)
        for channel, cases in unclear.items():
            covers = min(self._unclear_since(c) or 0.0 for c in cases)
            landed_by = max(m for c in cases for m in (c.posting_at, c.checklist_posting_at) if m is not None) + SETTLE
            self.history.prefetch(channel, covers, landed_by)
        first = {c.id for cases in unclear.values() for c in cases}
        return [i for i in case_ids if i in first] + [i for i in case_ids if i not in first]

    @staticmethod
    def _unclear_since(case: CaseSnapshot) -> float | None:
        """From when (epoch s) the history must be read to settle this case's unconfirmed post."""
        if case.post_state == "sending" and case.posting_at and not case.message_ts:
            return case.posting_at.timestamp() - CLOCK_SKEW
        if case.message_ts and not case.checklist_ts and case.checklist_posting_at:
            return float(case.message_ts) - CLOCK_SKEW  # `oldest` is exclusive: start before the case message
        return None

    def release_dead(self, now: datetime) -> int:
        with self.db.session() as session:
            dead = [h for h in repo.case_lease_holders(session, now) if is_dead(h, self.me)]
            released = repo.release_leases_of(session, dead)
        if released:
            log.info("released %s delivery lease(s) of stopped process(es) %s", released, ", ".join(dead))
        return released

    def finish_case(self, case_id: int) -> None:
        case = self.cases.get(case_id, full=False)
        if case is None:
            return
        try:
            if case.post_state in ("pending", "sending", "posted"):
                self._finish_post(case)
            else:
                self._finish_update(case)
        except Exception:
            log.exception("sweep: finishing case %s failed", case_id)
            self.publisher.release(case_id, backoff(MAX_ATTEMPTS // 2))

    def _finish_post(self, case: CaseSnapshot) -> None:
        announced = case.post_state in ("pending", "sending")  # the agent never saw this case posted
        log.info("sweep: finishing the post of case %s (%s)", case.id, case.post_state)
        result = self.publisher.publish(case.id)
        if result.error in ("unconfirmed", "busy"):
            return  # still not known; the next sweep after the budget resets looks again
        if result.withdrawn:  # flagged where the customer reads it and no CASES_CHANNEL: their words back
            self.tell_flagger(case, result.message or texts.GENERIC_FAILURE)
            return
        if result.ok:
            if announced and result.message:  # it lives in CASES_CHANNEL: say where (never in the source)
                self.tell_flagger(case, result.message)
            elif announced:
                posted = self.cases.get(case.id, full=False)
                url = (posted.permalink if posted else None) or ""
                self.tell_flagger(case, texts.POSTED_AFTER_RESTART.format(number=case.id, url=url))
            return
        if result.error and case.message_ts is None and announced:
            message = result.message or texts.GENERIC_FAILURE
            self.tell_flagger(case, self.retry_view(message, case.id))

    def _finish_update(self, case: CaseSnapshot) -> None:
        log.info("sweep: showing the latest change of case %s in Slack", case.id)
        error = self.publisher.refresh(case.id)
        if error:  # tried again later, up to MAX_ATTEMPTS sweeps in all
            self.publisher.release(case.id, UPDATE_RETRY)
        else:
            self.cases.record_delivery(case.id, self.me, sync_by=None, sync_until=None, sync_attempts=0)

    def tell_flagger(self, case: CaseSnapshot, said: Message | str) -> None:
        message = said if isinstance(said, Message) else Message(said)
        url = (case.intake or {}).get("response_url")
        if url and self.cases.clock() - case.opened_at < RESPONSE_URL_LIFE:
            try:
                self.notify.slack.respond(url, message)
                return
            except SlackFailure as exc:
                log.info("response_url for case %s failed (%s); sending a DM", case.id, exc.code)
        self.notify.tell(case.flagged_by, message)
