"""Listeners of second contact: the Hand off button and form (with a check as a colleague is picked),
and the colleague's Accept and Decline."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import texts
from bot.core import mrkdwn
from bot.handoff import rules
from handlers.common import accepted, ephemeral, later, open_case_form, reported
from handlers.handoff import ids
from handlers.handoff import views as handoff_views
from handlers.services import of
from handlers.slack import forms
from handlers.slack.submissions import later_keeping_words


def open_handoff(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.HANDOFF_ACTION, lambda case_id, _: handoff_views.handoff_modal(case_id),
                   action="handoff")


def picked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """A colleague was picked in the form: say at once if that is a bot, an outsider or someone on a breather."""
    ack()
    services, user = of(context), context["user_id"]
    view = body.get("view") or {}
    meta = forms.metadata(view)
    colleague = (body.get("actions") or [{}])[0].get("selected_user")
    if not colleague or not meta.get("case"):
        return
    with reported(lambda text: services.notify.tell(user, text), "checking a colleague"):
        found, warning = rules.check_pick(services.people, services.router, user, colleague, services.cases.clock())
        checked = dict(meta.get("checked") or {})
        if found is not None:
            checked[colleague] = found
        updated = handoff_views.handoff_modal(int(meta["case"]), warning=warning, checked=checked, selected=colleague)
        services.slack.update_view(view["id"], updated, hash_=view.get("hash"))


def submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services, user = of(context), context["user_id"]
    colleague = forms.values(view).get("colleague")
    v, errors = forms.check(view, optional={"note": 2000})
    checked = forms.metadata(view).get("checked")
    checked = checked if isinstance(checked, dict) else {}
    problem = rules.submission_problem(user, colleague, checked)
    if problem:
        errors["colleague"] = problem
    if not accepted(ack, errors) or not colleague:
        return
    case_id = context.get("case_id") or 0

    def work() -> None:
        if checked.get(colleague) != "ok":  # not looked at when picked: check now, after the ack
            unfit = rules.unfit_now(services.people, colleague)
            if unfit:
                services.notify.tell(user, unfit)
                return
        services.second_contact.request(case_id, requester=user, colleague=colleague, note=v["note"])
    later_keeping_words(services, user, "asking for a second contact", work, [v["note"]])


def accept(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    services, user, handoff_id = of(context), context["user_id"], context.get("handoff_id") or 0
    later(services, ephemeral(respond), "accepting a handoff", lambda: services.second_contact.accept(handoff_id, user=user))


def open_decline(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services, tell = of(context), ephemeral(respond)
    with reported(tell, "declining a handoff"):
        handoff_id = context.get("handoff_id") or 0
        handoff = services.handoffs.get(handoff_id)
        if handoff is None or handoff.to_user != context["user_id"]:
            return tell(texts.HANDOFF_NOT_YOURS.format(user=mrkdwn.mention(handoff.to_user if handoff else None)))
        services.slack.open_view(body["trigger_id"], handoff_views.decline_modal(handoff_id))


def declined(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    v, errors = forms.check(view, optional={"reason": 1000})
    if not accepted(ack, errors):
        return
    services, user, handoff_id = of(context), context["user_id"], context.get("handoff_id") or 0

    def work() -> None:
        services.second_contact.decline(handoff_id, user=user, reason=v["reason"])
    later_keeping_words(services, user, "declining the handoff", work, [v["reason"]])


def register(app: App) -> None:
    app.action(ids.HANDOFF_ACTION)(open_handoff)
    app.action(ids.HANDOFF_PICK_ACTION)(picked)
    app.view(ids.HANDOFF_VIEW)(submitted)
    app.action(ids.HANDOFF_ACCEPT_ACTION)(accept)
    app.action(ids.HANDOFF_DECLINE_ACTION)(open_decline)
    app.view(ids.DECLINE_VIEW)(declined)
