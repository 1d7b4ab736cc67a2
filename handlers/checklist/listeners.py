"""Listeners of the checklist: ticking a step (with the form it asks for), the guide, and those forms."""

from __future__ import annotations

from typing import Any, NamedTuple

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from bot.core import playbook
from bot.core.errors import CaseError
from handlers.checklist import ids
from handlers.checklist.views import guide_modal, step_modal
from handlers.common import Listener, action_value, ephemeral, reported
from handlers.intake.views import retry_post
from handlers.services import Services, of
from handlers.slack import forms
from handlers.slack.submissions import Form, Submission, take


class StepClick(NamedTuple):
    case_id: int
    number: int
    done: bool
    asks: str | None  # the form the tick asks for
    asks_known: bool  # False for a button posted before buttons said it: the case is read to find out


def parse_step_value(value: str) -> StepClick | None:
    """`case:step:done[:asks|-]` or `case:step:undo` -> the click; None if it is not one."""
    parts = value.split(":")
    if len(parts) not in (3, 4) or not parts[0].isdigit() or not parts[1].isdigit() or parts[2] not in ("done", "undo"):
        return None
    said = parts[3] if len(parts) == 4 else None
    if said is not None and (said not in (*playbook.ASKS, ids.NOTHING_ASKED) or parts[2] != "done"):
        return None
    asks = said if said != ids.NOTHING_ASKED else None
    return StepClick(int(parts[0]), int(parts[1]), parts[2] == "done", asks, said is not None or parts[2] == "undo")


def step_set(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services, tell = of(context), ephemeral(respond)
    click = parse_step_value(action_value(body))
    if click is None:
        return tell(texts.GENERIC_FAILURE)
    with reported(tell, f"step {click.number} of case {click.case_id}"):
        if click.asks:  # the button says what the tick asks, so the form opens without reading the case
            services.slack.open_view(body["trigger_id"], step_modal(services.config, click.asks, click.case_id,
                                                                    click.number))
            return
        trigger_id = None if click.asks_known else body.get("trigger_id")
        # In the posting process when it is ready: a tick is about twenty database round trips and two
        # Web API calls, which would take this interpreter from the acks. A tick run twice finds it done.
        services.posting.hand(services, tick_step, click.case_id, click.number, click.done, context["user_id"],
                              respond, trigger_id)


def tick_step(services: Services, case_id: int, number: int, done: bool, user: str, respond: Respond,
              trigger_id: str | None = None) -> None:
    """`trigger_id`: only for a button that does not say whether the tick asks for a form."""
    with reported(ephemeral(respond), f"step {number} of case {case_id}"):
        if done and trigger_id and (asks := services.checklist.asks_of(case_id, number)):
            # A button without what it asks (posted before buttons said it): ask it now.
            services.slack.open_view(trigger_id, step_modal(services.config, asks, case_id, number))
            return
        error = services.checklist.tick(case_id, number, done=done, user=user)
        if error:
            message = retry_post(texts.UPDATE_FAILED.format(number=case_id, error=error), case_id)
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)


def open_guide(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services = of(context)
    # The guide shows the playbook this case was opened with: one light read, then views.open,
    # well inside the trigger_id's few seconds.
    with reported(ephemeral(respond), "opening the checklist guide"):
        case = services.cases.get(context.get("case_id") or 0, full=False)
        if case is None:
            raise CaseError(texts.CASE_NOT_FOUND)
        services.slack.open_view(body["trigger_id"], guide_modal(case.playbook))


APOLOGY_FORM = Form(optional={"note": 2000}, choices={"apology": texts.APOLOGY_ANSWERS}, words=("note",))
ACTION_FORM = Form(required={"action": 2000}, optional={"offer": 2000}, words=("action", "offer"))
PLAN_FORM = Form(required={"plan": 2000}, words=("plan",))


def apology(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, APOLOGY_FORM):
        finish_step(s, view, "apology", s.values)


def action(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, ACTION_FORM):
        finish_step(s, view, "action", s.values)


def plan(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    first, problem = of(context).reminders.check_plan_date(forms.values(view).get("first_date"), context["user_id"])

    def check_date(values: dict[str, Any], errors: dict[str, str]) -> None:
        if problem:
            errors["first_date"] = problem

    if s := take(ack, view, context, PLAN_FORM, more=check_date):
        finish_step(s, view, "plan", {"plan": s["plan"], "first_date": first.isoformat() if first else None})


def finish_step(s: Submission, view: dict[str, Any], asks: str, details: dict[str, Any]) -> None:
    """Tick the step the form was opened for, after the ack (a form opened before forms carried their
    step: the step asking `asks`)."""
    meta = forms.metadata(view)

    def work() -> None:
        services, case_id = s.services, s.case_id
        number = meta["step"] if isinstance(meta.get("step"), int) else services.checklist.step_asking(case_id, asks)
        error = services.checklist.tick(case_id, number, done=True, user=s.user, details=details)
        if error:
            services.notify.dm(s.user, retry_post(texts.UPDATE_FAILED.format(number=case_id, error=error), case_id))
    s.later(f"the {asks} step", work)


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.STEP_ACTION: step_set,
    ids.GUIDE_ACTION: open_guide,
}
VIEWS: dict[str, Listener] = {
    ids.APOLOGY_VIEW: apology,
    ids.ACTION_VIEW: action,
    ids.PLAN_VIEW: plan,
}

