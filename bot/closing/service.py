"""Closing a case (resolved, or an honest apology when it was not), reopening it, and the short review."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot import texts
from bot.closing.records import ClosingRecords
from bot.core import mrkdwn
from bot.core.notify import Notify
from bot.core.people import People
from bot.core.ports import Message, SlackFailure
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import human_duration
from bot.delivery.publisher import Publisher
from bot.delivery.routing import Router
from bot.handoff.records import Handoffs
from bot.handoff.service import SecondContact

log = logging.getLogger(__name__)


class ClosingViews(Protocol):
    def review_prompt(self, case: CaseSnapshot) -> Message: ...

    def product_feedback(self, case: CaseSnapshot, user: str, cause: str, ux_issue: str) -> Message: ...


class Closing:
    def __init__(self, cases: ClosingRecords, publisher: Publisher, router: Router, notify: Notify, people: People,
                 handoffs: Handoffs, second_contact: SecondContact, views: ClosingViews):
        self.cases = cases
        self.publisher = publisher
        self.router = router
        self.notify = notify
        self.people = people
        self.handoffs = handoffs
        self.second_contact = second_contact
        self.views = views

    def close(self, case_id: int, *, user: str, outcome: str, details: dict[str, Any]) -> bool:
        self.people.lookup(user)  # the owner's time zone, cached, for scheduling the follow-ups
        pending = self.handoffs.pending_for(case_id)
        changed, case = self.cases.close(case_id, user=user, outcome=outcome, details=details)
        if not changed:
            return False
        for handoff in pending:  # closing withdrew these requests: take the buttons off their DMs
            self.second_contact.close_dm(handoff, texts.HANDOFF_CANCELLED.format(number=case_id))
        self.notify.thread_note(case, closing_line(case, user, outcome, details))
        self.publisher.refresh(case_id)
        self.notify.thread_note(case, self.views.review_prompt(case))
        return True

    def reopen(self, case_id: int, *, user: str) -> bool:
        changed, case = self.cases.reopen(case_id, user=user)
        if changed:
            self.notify.thread_note(case, texts.REOPENED_THREAD.format(user=mrkdwn.mention(user)))
            self.publisher.refresh(case_id)
        return changed

    def review(self, case_id: int, *, user: str, cause: str, improve: str | None, ux_issue: str | None) -> None:
        already_forwarded = self.cases.review_forwarded(case_id)
        case = self.cases.save_review(case_id, user=user, cause=cause, improve=improve, ux_issue=ux_issue)
        line = texts.REVIEW_SAVED_THREAD.format(
            user=mrkdwn.mention(user), cause=texts.CAUSES.get(cause, cause),
            improve=texts.REVIEW_IMPROVE_LINE.format(text=mrkdwn.safe_limited(improve, 1200)) if improve else "",
        )
        if ux_issue:
            line += texts.REVIEW_UX_LINE.format(text=mrkdwn.safe_limited(ux_issue, 1200))
            if not already_forwarded:
                line += self._forward_ux_issue(case, user, cause, ux_issue)
        self.notify.thread_note(case, line)
        self.publisher.refresh(case_id)

    def _forward_ux_issue(self, case: CaseSnapshot, user: str, cause: str, ux_issue: str) -> str:
        """UX issues go to the product team; the line to add to the review note, if it went."""
        channel = self.router.configured_channel("PRODUCT_FEEDBACK_CHANNEL", self.router.channels.product_feedback, user)
        if not channel:
            return ""
        try:
            posted = self.router.post_in(channel, self.views.product_feedback(case, user, cause, ux_issue))
        except SlackFailure as exc:
            log.warning("forwarding UX issue of case %s failed: %s", case.id, exc.code)
            self.notify.tell(user, texts.FEEDBACK_FORWARD_FAILED.format(channel=channel, error=exc.code))
            return ""
        self.cases.set_review_forwarded(case.id, posted.ts)
        return texts.REVIEW_FORWARDED.format(channel=channel)


def closing_line(case: CaseSnapshot, user: str, outcome: str, details: dict[str, Any]) -> str:
    """What the case thread says when the case closes."""
    duration = human_duration(((case.closed_at or case.opened_at) - case.opened_at).total_seconds())
    if outcome != "resolved":
        return texts.UNRESOLVED_THREAD.format(user=mrkdwn.mention(user), duration=duration,
                                              explanation=mrkdwn.safe_limited(details.get("explanation"), 2000)
                                              ) + mood_line(case.mood, details.get("mood"))
    line = texts.RESOLVED_THREAD.format(user=mrkdwn.mention(user), duration=duration,
                                        fix=mrkdwn.safe_limited(details.get("fix"), 1500))
    if details.get("prevention"):
        line += "\n" + texts.RESOLVED_PREVENTION.format(advice=mrkdwn.safe_limited(details["prevention"], 1000))
    if details.get("feedback_asked") is not None:
        line += "\n" + texts.RESOLVED_FEEDBACK.format(answer="yes" if details["feedback_asked"] else "no")
    return line + mood_line(case.mood, details.get("mood"))


def mood_line(before: str | None, after: str | None) -> str:
    """The mood change for the thread ("Mood: Furious → Calm"); nothing if no mood was given now."""
    if after is None:
        return ""
    label = texts.MOODS.get
    if before is None:
        return "\n" + texts.MOOD_NOW_LINE.format(after=label(after, after))
    return "\n" + texts.MOOD_CHANGE_LINE.format(before=label(before, before), after=label(after, after))
