"""Escalation: ask the experts with a realistic timeframe, pass on their updates, and mark it fixed."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from bot import texts
from bot.core import mrkdwn
from bot.core.notify import Notify
from bot.core.ports import Message, Posted, SlackFailure
from bot.core.snapshot import CaseSnapshot
from bot.delivery.publisher import Publisher
from bot.delivery.routing import Router
from bot.escalation.records import EscalationRecords

log = logging.getLogger(__name__)


class EscalationViews(Protocol):
    def escalation_post(self, case: CaseSnapshot) -> Message: ...


class Escalation:
    def __init__(self, cases: EscalationRecords, publisher: Publisher, router: Router, notify: Notify, views: EscalationViews):
        self.cases = cases
        self.publisher = publisher
        self.router = router
        self.notify = notify
        self.slack = notify.slack
        self.views = views

    def escalate(self, case_id: int, *, user: str, need: str, expected_by: datetime, severity: str) -> None:
        channel = self.router.configured_channel("ESCALATION_CHANNEL", self.router.channels.escalation, user)
        case = self.cases.escalate(case_id, user=user, need=need, expected_by=expected_by, severity=severity, channel=channel)
        posted_elsewhere = self._post_request(case, channel, user)
        esc = case.escalation or {}
        line = texts.ESCALATED_THREAD.format(
            user=mrkdwn.mention(user), severity=texts.SEVERITIES.get(severity, severity),
            need=mrkdwn.safe_limited(esc.get("need"), 1500), expected=mrkdwn.slack_date(expected_by),
        )
        if posted_elsewhere:
            line += texts.ESCALATED_ELSEWHERE.format(channel=channel)
        self.notify.thread_note(case, line)
        self.publisher.refresh(case_id)

    def _post_request(self, case: CaseSnapshot, channel: str | None, user: str) -> bool:
        """Post the request for the experts: in ESCALATION_CHANNEL if there is one, else (or if that fails)
        in the case thread, so it is never lost. True when it went to the escalation channel."""
        message = self.views.escalation_post(case)
        failure: SlackFailure | None = None
        if channel:
            try:
                self._remember(case.id, self.router.post_in(channel, message))
                return True
            except SlackFailure as exc:
                log.warning("posting escalation of case %s to %s failed: %s", case.id, channel, exc.code)
                failure = exc
        try:
            self._remember(case.id, self.slack.post(case.channel_id, message, thread_ts=case.message_ts))
        except SlackFailure as exc:
            log.warning("posting escalation of case %s in its thread failed: %s", case.id, exc.code)
            # Nowhere took the experts' request: the case says "escalated", so its owner must hear it.
            self.notify.tell(user, texts.ESCALATION_NOT_POSTED.format(
                number=case.id, error=(failure or exc).code, url=case.permalink or ""))
        return False

    def _remember(self, case_id: int, posted: Posted) -> None:
        self.cases.set_escalation_message(case_id, posted.channel, posted.ts)

    def update(self, case_id: int, *, user: str, text: str) -> None:
        case = self.cases.escalation_update(case_id, user=user, text=text)
        safe_text = mrkdwn.safe_limited(text, 2500)
        self.notify.thread_note(case, texts.ESC_UPDATE_THREAD.format(user=mrkdwn.mention(user), text=safe_text))
        if case.owner_id != user:
            self.notify.tell(case.owner_id, texts.ESC_UPDATE_DM.format(
                user=mrkdwn.mention(user), number=case.id, text=safe_text, url=case.permalink or ""))

    def fixed(self, case_id: int, *, user: str) -> bool:
        changed, case = self.cases.escalation_fixed(case_id, user=user)
        if not changed:
            return False
        self.notify.thread_note(case, texts.ESC_FIXED_THREAD.format(user=mrkdwn.mention(user)))
        if case.owner_id != user:
            self.notify.tell(case.owner_id, texts.ESC_FIXED_DM.format(
                user=mrkdwn.mention(user), number=case.id, url=case.permalink or ""))
        esc = case.escalation or {}
        if esc.get("channel") and esc.get("ts"):
            try:
                self.slack.update(esc["channel"], esc["ts"], self.views.escalation_post(case))
            except SlackFailure as exc:
                log.warning("updating escalation post of case %s failed: %s", case_id, exc.code)
        self.publisher.refresh(case_id)
        return True
