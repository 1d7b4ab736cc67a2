"""Listeners of second contact: the Hand off button and form (with a check as a colleague is picked),
and the colleague's Accept and Decline."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from bot.core import mrkdwn
from bot.handoff import rules
from handlers.common import Listener, ephemeral, open_case_form, reported
from handlers.handoff import ids
from handlers.handoff import views as handoff_views
from handlers.services import of
from handlers.slack import forms
from handlers.slack.submissions import Form, Submission, clicked, take


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


HANDOFF_FORM = Form(optional={"note": 2000}, words=("note",))


def submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    colleague = forms.values(view).get("colleague")
    checked = forms.metadata(view).get("checked")
    checked = checked if isinstance(checked, dict) else {}

    def check_colleague(values: dict[str, Any], errors: dict[str, str]) -> None:
        problem = rules.submission_problem(context["user_id"], colleague, checked)
        if problem:
            errors["colleague"] = problem

    if (s := take(ack, view, context, HANDOFF_FORM, more=check_colleague)) and colleague:
        s.later("asking for a second contact", lambda: ask_colleague(s, colleague, looked_at=checked.get(colleague) == "ok"))


def ask_colleague(s: Submission, colleague: str, *, looked_at: bool) -> None:
    if not looked_at:  # not looked at when picked: check now, after the ack
        unfit = rules.unfit_now(s.services.people, colleague)
        if unfit:
            s.services.notify.tell(s.user, unfit)
            return
    s.services.second_contact.request(s.case_id, requester=s.user, colleague=colleague, note=s["note"])


def accept(ack: Ack, context: BoltContext, respond: Respond) -> None:
    c = clicked(ack, context, respond)
    c.later("accepting a handoff", lambda: c.services.second_contact.accept(c.handoff_id, user=c.user))


def open_decline(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services, tell = of(context), ephemeral(respond)
    with reported(tell, "declining a handoff"):
        handoff_id = context.get("handoff_id") or 0
        handoff = services.handoffs.get(handoff_id)
        if handoff is None or handoff.to_user != context["user_id"]:
            return tell(texts.HANDOFF_NOT_YOURS.format(user=mrkdwn.mention(handoff.to_user if handoff else None)))
        services.slack.open_view(body["trigger_id"], handoff_views.decline_modal(handoff_id))


DECLINE_FORM = Form(optional={"reason": 1000}, words=("reason",))


def declined(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, DECLINE_FORM):
        s.later("declining the handoff", lambda: s.services.second_contact.decline(s.handoff_id, user=s.user, reason=s["reason"]))


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.HANDOFF_ACTION: open_handoff,
    ids.HANDOFF_PICK_ACTION: picked,
    ids.HANDOFF_ACCEPT_ACTION: accept,
    ids.HANDOFF_DECLINE_ACTION: open_decline,
}
VIEWS: dict[str, Listener] = {
    ids.HANDOFF_VIEW: submitted,
    ids.DECLINE_VIEW: declined,
}
