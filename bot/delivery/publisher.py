"""Posting a case and keeping it current in Slack.

Save-before-ack (the intake listener) leased the new case to this process; post-after-save is
`publish`; the sweep (bot.delivery.sweep) calls it again for whatever a crash or an unclear answer left
unfinished. Every later change of a case is shown by `refresh`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from bot import texts
from bot.core.errors import CaseError
from bot.core.ports import CHANNEL_ERRORS, Message, Slack, SlackFailure
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import quote, safe_limited_echo
from bot.delivery.posting import CasePoster, NotPosted
from bot.delivery.records import DeliveryRecords
from bot.delivery.routing import Destination, Refusal, Router

log = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(seconds=60)  # longer than a post can take (client timeout 10 s, a join, a retry)


@dataclass(frozen=True)
class PublishResult:
    ok: bool
    case_id: int
    error: str | None = None
    message: str | None = None  # what to tell the agent when not ok (or where the case went)
    withdrawn: bool = False  # the case was taken back: there is nothing to post again
    moved_to: str | None = None  # the case lives in CASES_CHANNEL, not where it was flagged
    released: bool = False  # the delivery lease was handed back with the last write


class CaseLocks:
    """One lock per case while someone holds or waits for it, so that concurrent updates render and send in
    order. A case nobody is updating keeps no lock: a busy day's thousands of cases would each keep one."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, tuple[threading.Lock, int]] = {}  # the lock, and how many hold or wait for it

    @contextmanager
    def __call__(self, case_id: int) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(case_id) or (threading.Lock(), 0)
            self._locks[case_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                left = self._locks[case_id][1] - 1
                if left:
                    self._locks[case_id] = (lock, left)
                else:
                    del self._locks[case_id]

    def in_use(self) -> dict[int, int]:
        """Each case that has a lock right now, with how many hold or wait for it."""
        with self._guard:
            return {case_id: users for case_id, (_, users) in self._locks.items()}


class Publisher:
    def __init__(self, cases: DeliveryRecords, slack: Slack, router: Router, poster: CasePoster):
        self.cases = cases
        self.slack = slack
        self.router = router
        self.poster = poster
        self.me = poster.me
        self.lock = CaseLocks()

    def publish(self, case_id: int, *, again: bool = False) -> PublishResult:
        """Post the case message and its checklist thread (or refresh them if already posted).
        `again`: the agent pressed Post it again."""
        with self.lock(case_id):
            return self._publish_locked(case_id, again)

    def publish_saved(self, case: CaseSnapshot) -> PublishResult:
        """Post a case this process has just saved, holding its delivery lease (the intake): where it goes is
        written with the lease renewed, in one transaction instead of a claim and then the destination.
        A refusal is answered at once (asking again might give another answer); anything else unusual (not
        pending any more, a lease taken by the sweep) goes the way of `publish`."""
        with self.lock(case.id):
            if case.post_state != "pending":
                return self._publish_locked(case.id, False)
            route = self.router.destination_for(case.channel_id)
            if isinstance(route, Refusal):
                return self._handing_back(case.id, lambda: self._refused(case, route))
            routed = self.cases.route_held(case, self.me, DELIVERY_LEASE, channel_id=route.channel_id,
                                           visibility=route.visibility)
            if routed is None:
                return self._publish_locked(case.id, False)
            return self._handing_back(case.id, lambda: self._post_routed(routed, route, False, marked=True))

    def _publish_locked(self, case_id: int, again: bool) -> PublishResult:
        # Only the row: a case about to be routed is read in full right after, with its destination.
        claimed = self.cases.claim_delivery(case_id, self.me, DELIVERY_LEASE, full=False)
        if claimed is None:
            if self.cases.get(case_id, full=False) is None:
                raise CaseError(texts.CASE_NOT_FOUND)
            return PublishResult(False, case_id, "busy", texts.POST_BUSY.format(number=case_id))
        return self._handing_back(case_id, lambda: self._publish_claimed(claimed, again))

    def _handing_back(self, case_id: int, work: Callable[[], PublishResult]) -> PublishResult:
        """Run the posting with the lease held; whatever happened, a lease still held is handed back after."""
        result: PublishResult | None = None
        try:
            result = work()
            return result
        finally:
            if result is None or not result.released:
                self.cases.record_delivery(case_id, self.me, sync_by=None, sync_until=None)

    def _publish_claimed(self, case: CaseSnapshot, again: bool) -> PublishResult:
        if case.message_ts or case.post_state == "sending":  # not to be routed: read the rest of it now
            case = self.cases.get(case.id) or case
        if case.message_ts and case.checklist_ts:
            error = self._refresh_locked(case)
            if error:
                return PublishResult(False, case.id, error, texts.UPDATE_FAILED.format(number=case.id, error=error))
            return PublishResult(True, case.id, moved_to=_moved_to(case))
        route: Destination | None = None
        if not case.message_ts and case.post_state != "sending":
            # Nothing of it can be in Slack yet, so the channel is still open: decide it now. Once a post
            # may have reached Slack the channel is fixed (a repeat goes where the first one went).
            decided = self._route(case)
            if isinstance(decided, PublishResult):
                return decided
            case, route = decided
        return self._post_routed(case, route, again)

    def _post_routed(self, case: CaseSnapshot, route: Destination | None, again: bool, *,
                     marked: bool = False) -> PublishResult:
        """Post what is missing of a case whose channel is decided: the case message, then its checklist.
        The last write hands the lease back. `marked`: the case message's post is marked as started."""
        checklist_marked = False
        if not case.message_ts:
            posted = self.poster.post_case_once(case, again, marked=marked)
            if isinstance(posted, NotPosted):
                return self._not_posted(case, posted.error)
            case, checklist_marked = posted, True
        error = self.poster.post_checklist(case, again, marked=checklist_marked, finish=True)
        if error == "unconfirmed":
            return PublishResult(False, case.id, error, texts.CHECKLIST_UNCONFIRMED.format(number=case.id))
        if error:
            return PublishResult(False, case.id, error, texts.CHECKLIST_FAILED.format(number=case.id, error=error))
        return PublishResult(True, case.id, moved_to=_moved_to(case), message=self._where_text(case, route),
                             released=True)

    def _route(self, case: CaseSnapshot) -> tuple[CaseSnapshot, Destination] | PublishResult:
        """Where the never-posted case goes (its source channel or CASES_CHANNEL), saved with who reads it;
        or the refusal to tell the agent."""
        route = self.router.destination_for(case.channel_id)
        if isinstance(route, Refusal):
            return self._refused(case, route)
        return self.cases.set_destination(case.id, channel_id=route.channel_id, visibility=route.visibility), route

    def _refused(self, case: CaseSnapshot, refusal: Refusal) -> PublishResult:
        if not refusal.withdraw:  # the agent is told and may press Post it again; the sweep leaves it alone
            self.cases.record_delivery(case.id, self.me, post_state="failed", sync_by=None, sync_until=None)
        if refusal.reason == "not_visible":
            return self._publish_failed(case, refusal.error or "channel_not_found")
        if refusal.withdraw:  # no CASES_CHANNEL: it can never be posted as things are
            echo = f"{case.customer}: {case.summary}" if case.customer else case.summary
            text = texts.NEEDS_CASES_CHANNEL.format(echo=quote(safe_limited_echo(echo, 2500)))
            self.cases.withdraw(case.id, reason="flagged where the customer can read it, and CASES_CHANNEL is not set")
            return PublishResult(False, case.id, refusal.reason, text, withdrawn=True)
        if refusal.reason == "cases_channel_shared":
            text = texts.CASES_CHANNEL_SHARED.format(number=case.id, channel=self.router.channels.cases)
        else:
            text = texts.AUDIENCE_UNKNOWN.format(number=case.id, error=refusal.error)
        return PublishResult(False, case.id, refusal.reason, text)

    def _not_posted(self, case: CaseSnapshot, error: str) -> PublishResult:
        if error == "busy":
            return PublishResult(False, case.id, "busy", texts.POST_BUSY.format(number=case.id))
        if error == "unconfirmed":
            text = texts.POST_UNCONFIRMED.format(number=case.id, channel=case.channel_id)
            return PublishResult(False, case.id, "unconfirmed", text)
        return self._publish_failed(case, error)

    def _publish_failed(self, case: CaseSnapshot, error: str) -> PublishResult:
        log.info("case %s not posted in %s: %s", case.id, case.channel_id, error)
        if error == "not_in_channel" or (error == "channel_not_found" and case.channel_id.startswith("C")):
            text = texts.NOT_IN_CHANNEL.format(number=case.id, channel=case.channel_id)
        elif error in CHANNEL_ERRORS:
            text = texts.CHANNEL_UNREACHABLE.format(number=case.id, error=error)
        else:
            text = texts.POST_FAILED.format(number=case.id, error=error)
        return PublishResult(False, case.id, error, text)

    def release(self, case_id: int, after: timedelta) -> None:
        """Give the case back to the sweep, to be tried again after `after`."""
        self.poster.release(case_id, after)

    def _where_text(self, case: CaseSnapshot, route: Destination | None) -> str | None:
        """What to tell the agent, privately, when the case lives elsewhere than where they flagged it.
        `route`: the decision made by this call; None when an earlier call made it (a finished retry)."""
        moved = route.moved if route is not None else bool(
            _moved_to(case) and case.channel_id == self.router.channels.cases)
        if moved:
            return texts.CASE_MOVED.format(number=case.id, channel=case.channel_id, url=case.permalink or "")
        if _moved_to(case):
            return texts.POSTED_ELSEWHERE.format(number=case.id, channel=case.channel_id, url=case.permalink or "")
        return None

    # --- keeping it current ----------------------------------------------------------------
    def refresh(self, case_id: int) -> str | None:
        """Re-render the case message and checklist from the database; Slack's error code on failure."""
        with self.lock(case_id):
            case = self.cases.get(case_id)
            return self._refresh_locked(case) if case is not None else None

    def _refresh_locked(self, case: CaseSnapshot) -> str | None:
        error = self._render_locked(case)
        if error is None and case.message_ts:  # Slack shows this revision now; the sweep has nothing to do
            self.cases.record_delivery(case.id, None, rendered_at=case.updated_at, sync_attempts=0)
        return error

    def _render_locked(self, case: CaseSnapshot) -> str | None:
        if not case.message_ts:
            return None
        # The checklist first: once the case message shows a change, its checklist already does.
        if case.checklist_ts:
            checklist_error = self._update(case, case.checklist_ts, "checklist of case", self.poster.views.checklist)
        else:
            checklist_error = self._add_missing_checklist(case)
        message_error = self._update(case, case.message_ts, "case", self.poster.views.case_message)
        return checklist_error or message_error

    def _update(self, case: CaseSnapshot, ts: str, what: str, render: Callable[[CaseSnapshot], Message]) -> str | None:
        try:
            self.slack.update(case.channel_id, ts, render(case))
            return None
        except SlackFailure as exc:
            log.warning("updating %s %s failed: %s", what, case.id, exc.code)
            return exc.code

    def _add_missing_checklist(self, case: CaseSnapshot) -> str | None:
        """A refresh found no checklist: post it, unless another worker (the sweep) is on it."""
        claimed = self.cases.claim_delivery(case.id, self.me, DELIVERY_LEASE)
        if claimed is None or claimed.checklist_ts:
            return None
        try:
            return self.poster.post_checklist(claimed)
        finally:
            self.cases.record_delivery(case.id, self.me, sync_by=None, sync_until=None)


def _moved_to(case: CaseSnapshot) -> str | None:
    source = case.source_channel_id
    return case.channel_id if source and source != case.channel_id else None
