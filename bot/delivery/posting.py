"""Getting a case message and its checklist into Slack exactly once.

Slack has no idempotency key, so a post is marked as started before it is sent, tagged with the case
id, and after an unclear answer (a 5xx, a timeout) looked for in the conversation's history before it
is ever sent again (bot.delivery.history). The answers here are plain: the case as posted, or the
reason it is not (an error code, "busy" when the lease was lost, "unconfirmed" when we cannot look now).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.errors import Unknown
from bot.core.ports import Message, Posted, Slack, SlackFailure, tag
from bot.core.snapshot import CaseSnapshot
from bot.delivery.history import HISTORY_INTERVAL, SETTLE, HistoryCheck
from bot.delivery.records import DeliveryRecords

log = logging.getLogger(__name__)

CHECKLIST_RETRY = timedelta(seconds=30)
JOIN_FIRST = ("not_in_channel", "channel_not_found")


class CaseViews(Protocol):
    """How a case looks in Slack, rendered on the Slack side (handlers/checklist/views.py)."""

    def case_message(self, case: CaseSnapshot) -> Message: ...

    def checklist(self, case: CaseSnapshot) -> Message: ...


@dataclass(frozen=True)
class NotPosted:
    """Why the case message is not in Slack: Slack's error code, "busy" or "unconfirmed"."""

    error: str


class CasePoster:
    def __init__(self, cases: DeliveryRecords, slack: Slack, history: HistoryCheck, views: CaseViews, me: str):
        self.cases = cases
        self.slack = slack
        self.history = history
        self.views = views
        self.me = me  # the holder name of this process's delivery leases

    # --- the case message --------------------------------------------------------------------
    def post_case_once(self, case: CaseSnapshot, again: bool, *, marked: bool = False) -> CaseSnapshot | NotPosted:
        """The case with its ts (and its checklist post marked as started), or why not. `again`: the agent
        chose to post again, so a post that cannot be checked now may be repeated (visibly, by their choice).
        `marked`: the caller has just marked the post as started, with the lease held, and nothing was sent
        since (bot.delivery.records.route_held)."""
        if case.post_state == "sending" and case.posting_at and not marked:  # an earlier post may have reached Slack
            try:
                found = self.history.find(case.channel_id, "case", "case_id", case.id, case.posting_at)
            except Unknown as exc:
                if not again:
                    return self._unconfirmed(case, exc)
                found = None  # if the first one exists, they will see both
            if found:
                return self._adopt(case, found)
        for _attempt in range(2):
            if not marked and not self.cases.record_delivery(case.id, self.me, post_state="sending",
                                                             posting_at=self.cases.clock()):
                # The lease ran out (a very slow answer) and someone else may be posting: never post unmarked.
                return NotPosted("busy")
            marked = False  # an attempt after an unclear answer marks its own start
            try:
                posted = self._post_case(case)
            except SlackFailure as exc:
                if not exc.ambiguous:
                    log.warning("posting case %s failed: %s", case.id, exc.code)
                    self.cases.record_delivery(case.id, self.me, post_state="failed", sync_by=None, sync_until=None)
                    return NotPosted(exc.code)
                log.warning("posting case %s: unclear answer (%s); checking before posting again", case.id, exc.code)
                try:
                    time.sleep(SETTLE.total_seconds())
                    found = self.history.find(case.channel_id, "case", "case_id", case.id, self._posting_at(case))
                except Unknown as unknown:
                    return self._unconfirmed(case, unknown)
                if found:
                    return self._adopt(case, found)
                continue  # Slack certainly has no copy: posting again cannot double it
            return self._adopt(case, posted.ts, posted.channel)
        return self._unconfirmed(case, Unknown("two unclear answers"))

    def _post_case(self, case: CaseSnapshot) -> Posted:
        message, marker = self.views.case_message(case), tag("case", case_id=case.id)
        try:
            return self.slack.post(case.channel_id, message, tag=marker, once=True)
        except SlackFailure as exc:
            if exc.ambiguous or exc.code not in JOIN_FIRST or not self.slack.join(case.channel_id):
                raise
        return self.slack.post(case.channel_id, message, tag=marker, once=True)

    def _posting_at(self, case: CaseSnapshot) -> datetime:
        fresh = self.cases.get(case.id, full=False)
        return (fresh.posting_at if fresh and fresh.posting_at else None) or self.cases.clock() - timedelta(minutes=1)

    def _adopt(self, case: CaseSnapshot, ts: str, channel: str | None = None) -> CaseSnapshot:
        # Written with its ts, which means a crash after this never posts it again. The link is usually built
        # without a call; when it needs one, a crash before this write leaves the post to be found in history.
        # The checklist's post is marked as started in the same write: it is the very next thing sent.
        permalink = self.slack.permalink(channel or case.channel_id, ts, top_level=True)
        started = self.cases.clock()
        self.cases.set_posted(case.id, message_ts=ts, permalink=permalink, checklist_posting_at=started)
        return replace(case, message_ts=ts, permalink=permalink, post_state="posted", checklist_posting_at=started)

    def _unconfirmed(self, case: CaseSnapshot, why: Unknown) -> NotPosted:
        """Slack may have the message and we cannot look now: the sweep looks when the budget allows."""
        retry_at = why.retry_at or self.cases.clock() + HISTORY_INTERVAL
        log.warning("case %s: not sure Slack has the message (%s); checking again after %s", case.id, why.reason, retry_at)
        self.cases.record_delivery(case.id, self.me, sync_by=None, sync_until=retry_at)
        return NotPosted("unconfirmed")

    # --- the checklist -----------------------------------------------------------------------
    def post_checklist(self, case: CaseSnapshot, again: bool = False, *, marked: bool = False,
                       finish: bool = False) -> str | None:
        """Post the checklist in the case thread once; None when it is there, else Slack's error code
        or "unconfirmed". `marked`: case.checklist_posting_at is this call's own mark, written with the case
        message's ts just now (`post_case_once`), so there is nothing to look for. `finish`: this process
        holds the lease and posted the case message too; the checklist's ts completes the delivery and
        hands the lease back in one write."""
        if not case.message_ts:
            return None
        if case.checklist_posting_at and not marked:  # an earlier post may have reached Slack
            try:
                found = self._find_checklist(case, case.checklist_posting_at)
            except Unknown as exc:
                if not again:
                    return self._checklist_unconfirmed(case, exc)
                found = None
            if found:
                self._checklist_there(case, found, finish)
                return None
        for _attempt in range(2):
            if marked and case.checklist_posting_at:
                started, marked = case.checklist_posting_at, False
            else:
                started = self.cases.clock()
                self.cases.record_delivery(case.id, None, checklist_posting_at=started)
            try:
                posted = self.slack.post(case.channel_id, self.views.checklist(case), thread_ts=case.message_ts,
                                         tag=tag("checklist", case_id=case.id), once=True)
            except SlackFailure as exc:
                if not exc.ambiguous:
                    # The sweep (or the next refresh) posts it; the case message is already there.
                    log.warning("posting checklist of case %s failed: %s", case.id, exc.code)
                    self.release(case.id, CHECKLIST_RETRY)
                    return exc.code
                try:
                    time.sleep(SETTLE.total_seconds())
                    found = self._find_checklist(case, started)
                except Unknown as unknown:
                    return self._checklist_unconfirmed(case, unknown)
                if found:
                    self._checklist_there(case, found, finish)
                    return None
                continue
            self._checklist_there(case, posted.ts, finish)
            return None
        return self._checklist_unconfirmed(case, Unknown("two unclear answers"))

    def _checklist_there(self, case: CaseSnapshot, ts: str, finish: bool) -> None:
        if finish:
            self.cases.checklist_posted(case.id, ts, finished_by=self.me, rendered_at=case.updated_at)
        else:
            self.cases.checklist_posted(case.id, ts)

    def _find_checklist(self, case: CaseSnapshot, since: datetime) -> str | None:
        assert case.message_ts is not None
        return self.history.find_reply(case.channel_id, case.message_ts, "checklist", "case_id", case.id, since)

    def _checklist_unconfirmed(self, case: CaseSnapshot, why: Unknown) -> str:
        log.warning("case %s: not sure Slack has the checklist (%s)", case.id, why.reason)
        self.cases.record_delivery(case.id, self.me, sync_by=None,
                                   sync_until=why.retry_at or self.cases.clock() + HISTORY_INTERVAL)
        return "unconfirmed"

    def release(self, case_id: int, after: timedelta) -> None:
        """Give the case back to the sweep, to be tried again after `after`."""
        self.cases.record_delivery(case_id, self.me, sync_by=None, sync_until=self.cases.clock() + after)
