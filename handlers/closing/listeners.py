"""Listeners of closing: Resolved, Not resolved (an honest apology), Reopen, and the short review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import texts
from handlers.closing import ids
from handlers.closing import views as closing_views
from handlers.common import ephemeral, later, open_case_form
from handlers.services import of
from handlers.slack.submissions import Form, Submission, take


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
    ack()
    services, user, case_id = of(context), context["user_id"], context.get("case_id") or 0
    later(services, ephemeral(respond), "reopen", lambda: services.closing.reopen(case_id, user=user))


def open_review(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.REVIEW_ACTION, closing_views.review_modal, action="review", says_where="review")


def review(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, REVIEW_FORM):
        s.later("the review", lambda: s.services.closing.review(
            s.case_id, user=s.user, cause=s["cause"], improve=s["improve"], ux_issue=s["ux"]))


def register(app: App) -> None:
    app.action(ids.RESOLVE_ACTION)(open_resolve)
    app.view(ids.RESOLVE_VIEW)(resolved)
    app.action(ids.UNRESOLVED_ACTION)(open_unresolved)
    app.view(ids.UNRESOLVED_VIEW)(unresolved)
    app.action(ids.REOPEN_ACTION)(reopen)
    app.action(ids.REVIEW_ACTION)(open_review)
    app.view(ids.REVIEW_VIEW)(review)
