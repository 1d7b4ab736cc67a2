"""Listeners of closing: Resolved, Not resolved (an honest apology), Reopen, and the short review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from handlers.closing import ids
from handlers.closing import views as closing_views
from handlers.common import Listener, open_case_form
from handlers.slack.submissions import Form, Submission, clicked, take


def open_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.RESOLVE_ACTION, lambda case_id, _: closing_views.resolve_modal(case_id),
                   action="close")


RESOLVED_FORM = Form(required={"fix": 2000}, optional={"prevention": 2000}, choices={"feedback": texts.YES_NO},
                     maybe={"mood": texts.MOODS}, words=("fix", "prevention"))
UNRESOLVED_FORM = Form(required={"explanation": 2500}, choices={"apologised": texts.YES_NO},
                       maybe={"mood": texts.MOODS}, words=("explanation",))
REVIEW_FORM = Form(optional={"improve": 2000, "ux": 2000}, choices={"cause": texts.CAUSES}, words=("improve", "ux"))


def resolved(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, RESOLVED_FORM):
        close(s, "resolved", {"fix": s["fix"], "prevention": s["prevention"], "feedback_asked": s["feedback"] == "yes"})


def open_unresolved(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.UNRESOLVED_ACTION, lambda case_id, _: closing_views.unresolved_modal(case_id),
                   action="close")


def unresolved(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, UNRESOLVED_FORM):
        close(s, "unresolved", {"explanation": s["explanation"], "apologised": s["apologised"] == "yes"})


def close(s: Submission, outcome: str, details: dict[str, Any]) -> None:
    if s["mood"]:  # the customer's mood now, if the agent gave it: the case's outcome
        details["mood"] = s["mood"]
    s.later("closing the case", lambda: s.services.closing.close(s.case_id, user=s.user, outcome=outcome, details=details))


def reopen(ack: Ack, context: BoltContext, respond: Respond) -> None:
    c = clicked(ack, context, respond)
    c.later("reopen", lambda: c.services.closing.reopen(c.case_id, user=c.user))


def open_review(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.REVIEW_ACTION, closing_views.review_modal, action="review", says_where="review")


def review(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, REVIEW_FORM):
        s.later("the review", lambda: s.services.closing.review(
            s.case_id, user=s.user, cause=s["cause"], improve=s["improve"], ux_issue=s["ux"]))


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.RESOLVE_ACTION: open_resolve,
    ids.UNRESOLVED_ACTION: open_unresolved,
    ids.REOPEN_ACTION: reopen,
    ids.REVIEW_ACTION: open_review,
}
VIEWS: dict[str, Listener] = {
    ids.RESOLVE_VIEW: resolved,
    ids.UNRESOLVED_VIEW: unresolved,
    ids.REVIEW_VIEW: review,
}
