"""Second contact: the owner asks a colleague by DM; the colleague accepts or declines.

The request DM carries the whole case, so it never goes to someone from another organisation, and it
is sent exactly once: tagged, marked as started, and looked for before it is ever sent again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Protocol

from bot import texts
from bot.core import mrkdwn
from bot.core.cases import CaseStore
from bot.core.errors import Unknown
from bot.core.notify import Notify
from bot.core.people import DmChannels, People
from bot.core.ports import Message, SlackFailure, tag
from bot.core.snapshot import CaseSnapshot
from bot.delivery.history import HISTORY_INTERVAL, SETTLE, HistoryCheck
from bot.delivery.publisher import Publisher
from bot.delivery.routing import Router
from bot.handoff.records import Handoffs, HandoffView

log = logging.getLogger(__name__)


class HandoffViews(Protocol):
    def request_dm(self, case: CaseSnapshot, handoff_id: int, requester: str, note: str | None,
                   breather_until: datetime | None = None) -> Message: ...

    def answered(self, original: Message, outcome: str) -> Message: ...


class SecondContact:
    def __init__(self, cases: CaseStore, handoffs: Handoffs, publisher: Publisher, router: Router, notify: Notify,
                 history: HistoryCheck, people: People, dms: DmChannels, views: HandoffViews):
        self.cases = cases
        self.handoffs = handoffs
        self.publisher = publisher
        self.router = router
        self.notify = notify
        self.slack = notify.slack
        self.history = history
        self.people = people
        self.dms = dms
        self.views = views

    def request(self, case_id: int, *, requester: str, colleague: str, note: str | None) -> bool:
        """Ask a colleague by DM. Any failure is reported to the requester; True if the DM went out."""
        if not self.router.is_colleague(colleague):  # the DM carries the whole case: never to someone from outside
            self.notify.tell(requester, texts.HANDOFF_OUTSIDER.format(user=mrkdwn.mention(colleague)))
            return False
        handoff, withdrawn = self.handoffs.request(case_id, requester=requester, colleague=colleague, note=note)
        case = self.cases.require(case_id)
        for old in withdrawn:
            self.close_dm(old, texts.HANDOFF_CANCELLED.format(number=case_id))
        return self._deliver(case, handoff.id, requester, colleague, note)

    def _deliver(self, case: CaseSnapshot, handoff_id: int, requester: str, colleague: str,
                 note: str | None, *, verify_first: bool = False) -> bool:
        person = self.people.cached(colleague)
        breather_until = person.breather_until if person and person.on_breather(self.cases.clock()) else None
        message = self.views.request_dm(case, handoff_id, requester, note, breather_until)
        outcome, detail = self._send(handoff_id, colleague, message, verify_first)
        who = dict(colleague=mrkdwn.mention(colleague), number=case.id)
        if outcome == "unconfirmed":
            if not verify_first:  # first time: tell the requester we are on it (the sweep finishes it)
                self.notify.tell(requester, texts.HANDOFF_DM_UNCONFIRMED.format(**who))
            return False
        if outcome == "failed":
            self.handoffs.failed(handoff_id, detail)
            self.notify.tell(requester, texts.HANDOFF_DM_FAILED.format(error=detail, **who))
            self.publisher.refresh(case.id)
            return False
        self.notify.thread_note(case, texts.HANDOFF_REQUESTED_THREAD.format(
            requester=mrkdwn.mention(requester), colleague=mrkdwn.mention(colleague)))
        sent_text = texts.HANDOFF_SENT.format(**who)
        if breather_until:
            sent_text += texts.HANDOFF_COLLEAGUE_ON_BREATHER.format(
                user=mrkdwn.mention(colleague), until=mrkdwn.slack_date(breather_until, "{time}"))
        self.notify.tell(requester, sent_text)
        self.publisher.refresh(case.id)
        return True

    def _send(self, handoff_id: int, colleague: str, message: Message, verify_first: bool) -> tuple[str, str]:
        """("sent", ts) | ("failed", error) | ("unconfirmed", reason). Never sends twice blindly."""
        if verify_first:
            since = self.handoffs.dm_sending_at(handoff_id)
            if since is not None:
                found = self._find_dm(handoff_id, colleague, since)
                if found is not None:
                    return found
        for _attempt in range(2):
            started = self.cases.clock()
            self.handoffs.dm_sending(handoff_id, started)
            try:
                posted = self.slack.post(colleague, message, tag=tag("handoff", handoff_id=handoff_id), once=True)
            except SlackFailure as exc:
                if not exc.ambiguous:
                    return "failed", exc.code
                log.warning("handoff DM %s: unclear answer (%s); checking before sending again", handoff_id, exc.code)
                time.sleep(SETTLE.total_seconds())
                found = self._find_dm(handoff_id, colleague, started)
                if found is not None:
                    return found
                continue
            self.dms.remember(colleague, posted.channel)
            self.handoffs.set_dm(handoff_id, posted.channel, posted.ts)
            return "sent", posted.ts
        self.handoffs.check_dm_later(handoff_id, self.cases.clock() + HISTORY_INTERVAL)
        return "unconfirmed", "two unclear answers"

    def _find_dm(self, handoff_id: int, colleague: str, since: datetime) -> tuple[str, str] | None:
        """("sent", ts) if the DM is there, ("unconfirmed", why) if we can't tell now, None if it is not there."""
        try:
            channel = self.dms.of(colleague)
            found = self.history.find(channel, "handoff", "handoff_id", handoff_id, since)
        except Unknown as exc:
            self.handoffs.check_dm_later(handoff_id, exc.retry_at or self.cases.clock() + HISTORY_INTERVAL)
            return "unconfirmed", exc.reason
        if found is None:
            return None
        self.handoffs.set_dm(handoff_id, channel, found)
        return "sent", found

    def finish_dm(self, handoff_id: int) -> None:
        """Sweep: a request DM that was started but never confirmed (crash, unclear answer)."""
        handoff = self.handoffs.get(handoff_id)
        if handoff is None or handoff.status != "pending" or handoff.dm_ts:
            return
        case = self.cases.get(handoff.case_id)
        if case is None:
            return
        try:
            self._deliver(case, handoff.id, handoff.from_user, handoff.to_user, handoff.note, verify_first=True)
        except Exception:
            log.exception("finishing handoff DM %s failed", handoff_id)
            self.handoffs.check_dm_later(handoff_id, self.cases.clock() + HISTORY_INTERVAL)

    def close_dm(self, handoff: HandoffView, outcome: str) -> None:
        """Take the buttons off a request DM and say what happened to it."""
        if not (handoff.dm_channel and handoff.dm_ts):
            return
        case = self.cases.get(handoff.case_id)
        if case is None:
            return
        original = self.views.request_dm(case, handoff.id, handoff.from_user, handoff.note)
        try:
            self.slack.update(handoff.dm_channel, handoff.dm_ts, self.views.answered(original, outcome))
        except SlackFailure as exc:
            log.warning("updating handoff DM %s failed: %s", handoff.id, exc.code)

    def accept(self, handoff_id: int, *, user: str) -> None:
        changed, handoff = self.handoffs.accept(handoff_id, user=user)
        if not changed:
            self.close_dm(handoff, texts.HANDOFF_STALE.format(status=handoff.status))
            return
        case = self.cases.require(handoff.case_id)
        who = dict(colleague=mrkdwn.mention(user), requester=mrkdwn.mention(handoff.from_user), number=case.id)
        self.close_dm(handoff, texts.HANDOFF_ACCEPTED_DM.format(number=case.id, url=case.permalink or ""))
        self.notify.thread_note(case, texts.HANDOFF_ACCEPTED_THREAD.format(**who))
        self.notify.tell(handoff.from_user, texts.HANDOFF_ACCEPTED_TELL.format(**who))
        self.publisher.refresh(case.id)

    def decline(self, handoff_id: int, *, user: str, reason: str | None) -> None:
        changed, handoff = self.handoffs.decline(handoff_id, user=user, reason=reason)
        if not changed:
            self.close_dm(handoff, texts.HANDOFF_STALE.format(status=handoff.status))
            return
        case = self.cases.require(handoff.case_id)
        because = f" ({mrkdwn.safe_limited(reason, 500)})" if reason else ""
        who = dict(colleague=mrkdwn.mention(user), requester=mrkdwn.mention(handoff.from_user), number=case.id, reason=because)
        self.close_dm(handoff, texts.HANDOFF_DECLINED_DM.format(number=case.id))
        self.notify.tell(handoff.from_user, texts.HANDOFF_DECLINED_TELL.format(**who))
        self.notify.thread_note(case, texts.HANDOFF_DECLINED_THREAD.format(**who))
        self.publisher.refresh(case.id)
