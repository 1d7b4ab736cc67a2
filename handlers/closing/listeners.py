"""Listeners of closing: Resolved, Not resolved (an honest apology), Reopen, and the short review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import texts
from handlers.closing import ids
from handlers.closing import views as closing_views
from handlers.common import accepted, ephemeral, later, open_case_form
from handlers.services import of
from handlers.slack import forms
from handlers.slack.submissions import later_keeping_words


def open_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.RESOLVE_ACTION, lambda case_id, _: closing_views.resolve_modal(case_id),
                   action="close")


def resolved(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    v, errors = forms.check(view, required={"fix": 2000}, optional={"prevention": 2000}, choices={"feedback": texts.YES_NO})
    if not accepted(ack, errors):
        return
    details = {"fix": v["fix"], "prevention": v["prevention"], "feedback_asked": v["feedback"] == "yes"}
    close(context, "resolved", details, [v["fix"], v["prevention"]])


def open_unresolved(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.UNRESOLVED_ACTION, lambda case_id, _: closing_views.unresolved_modal(case_id),
                   action="close")


def unresolved(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    v, errors = forms.check(view, required={"explanation": 2500}, choices={"apologised": texts.YES_NO})
    if not accepted(ack, errors):
        return
    details = {"explanation": v["explanation"], "apologised": v["apologised"] == "yes"}
    close(context, "unresolved", details, [v["explanation"]])


def close(context: BoltContext, outcome: str, details: dict[str, Any], words: list[str | None]) -> None:
    services, user, case_id = of(context), context["user_id"], context.get("case_id") or 0

    def work() -> None:
        services.closing.close(case_id, user=user, outcome=outcome, details=details)
    later_keeping_words(services, user, "closing the case", work, words)


def reopen(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    services, user, case_id = of(context), context["user_id"], context.get("case_id") or 0
    later(services, ephemeral(respond), "reopen", lambda: services.closing.reopen(case_id, user=user))


def open_review(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.REVIEW_ACTION, closing_views.review_modal, action="review", says_where="review")


def review(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    v, errors = forms.check(view, optional={"improve": 2000, "ux": 2000}, choices={"cause": texts.CAUSES})
    if not accepted(ack, errors):
        return
    services, user, case_id = of(context), context["user_id"], context.get("case_id") or 0

    def work() -> None:
        services.closing.review(case_id, user=user, cause=v["cause"], improve=v["improve"], ux_issue=v["ux"])
    later_keeping_words(services, user, "the review", work, [v["improve"], v["ux"]])


def register(app: App) -> None:
    app.action(ids.RESOLVE_ACTION)(open_resolve)
    app.view(ids.RESOLVE_VIEW)(resolved)
    app.action(ids.UNRESOLVED_ACTION)(open_unresolved)
    app.view(ids.UNRESOLVED_VIEW)(unresolved)
    app.action(ids.REOPEN_ACTION)(reopen)
    app.action(ids.REVIEW_ACTION)(open_review)
    app.view(ids.REVIEW_VIEW)(review)
