"""Listeners of the case file: editing the case, logging an attempt, adding a note."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from handlers.casefile import ids
from handlers.casefile import views as casefile_views
from handlers.common import Listener, accepted, ephemeral, later, open_case_form, reported
from handlers.services import of
from handlers.slack import forms
from handlers.slack.submissions import Form, take


def open_edit(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services = of(context)
    with reported(ephemeral(respond), "opening the edit form"):
        case = services.cases.require(context.get("case_id") or 0)
        services.slack.open_view(body["trigger_id"], casefile_views.edit_modal(case))


def edit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    form, errors = forms.intake(view, need_channel=False)
    if not accepted(ack, errors) or form is None:
        return
    services, user, case_id = of(context), context["user_id"], context.get("case_id") or 0

    def work() -> None:
        services.casefile.edit(case_id, user=user, customer=form.customer, summary=form.summary, mood=form.mood,
                               link=form.link)
    later(services, lambda text: services.notify.tell(user, text), f"editing case {case_id}", work)


def open_attempt(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.ATTEMPT_ACTION, lambda case_id, _: casefile_views.attempt_modal(case_id))


ATTEMPT_FORM = Form(required={"what": 2000, "result": 2000}, choices={"outcome": texts.ATTEMPT_OUTCOMES},
                    words=("what", "result"))
NOTE_FORM = Form(required={"text": 2900}, words=("text",))


def attempt(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, ATTEMPT_FORM):
        s.later("logging the attempt", lambda: s.services.casefile.log_attempt(
            s.case_id, user=s.user, what=s["what"], result=s["result"], outcome=s["outcome"]))


def open_note(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.NOTE_ACTION, lambda case_id, _: casefile_views.note_modal(case_id))


def note(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, NOTE_FORM):
        s.later("the note", lambda: s.services.casefile.add_note(s.case_id, user=s.user, text=s["text"]))


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.EDIT_ACTION: open_edit,
    ids.ATTEMPT_ACTION: open_attempt,
    ids.NOTE_ACTION: open_note,
}
VIEWS: dict[str, Listener] = {
    ids.EDIT_VIEW: edit,
    ids.ATTEMPT_VIEW: attempt,
    ids.NOTE_VIEW: note,
}
