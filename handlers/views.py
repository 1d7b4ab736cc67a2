"""Modal submissions: intake, edit, and the steps that ask for details."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App

from bot import blocks, forms, playbook, texts
from bot.core.errors import CaseError
from bot.core.snapshot import CaseSnapshot
from bot.service import DELIVERY_LEASE, Defuse
from handlers.commands import SAVE_DEADLINE
from handlers.common import accepted, later, reported, team_id, user_id


def register(app: App, defuse: Defuse) -> None:
    def dm(user: str):  # type: ignore[no-untyped-def]
        return lambda text: defuse.tell(user, text)

    @app.view(blocks.INTAKE_VIEW)
    def intake(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form, errors = forms.intake(view)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        assert form is not None
        case = save_form_before_ack(defuse, form, body, view)
        if case is None:  # not saved: the form stays open with everything the agent typed
            ack(response_action="errors", errors={"summary": texts.FORM_NOT_SAVED})
            return
        ack()
        defuse.worker.submit(post_form_after_save, defuse, case, body, view)

    @app.view(blocks.EDIT_VIEW)
    def edit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form, errors = forms.intake(view, need_channel=False)
        if not accepted(ack, errors):
            return
        assert form is not None
        user = user_id(body)
        case_id = int(forms.metadata(view).get("case") or 0)

        def work() -> None:
            defuse.cases.edit(case_id, user=user, customer=form.customer, summary=form.summary, mood=form.mood, link=form.link)
            defuse.refresh(case_id)
        later(defuse, dm(user), f"editing case {case_id}", work)

    @app.view(blocks.APOLOGY_VIEW)
    def apology(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, optional={"note": 2000}, choices={"apology": texts.APOLOGY_ANSWERS})
        if not accepted(ack, errors):
            return
        defuse.worker.submit(finish_step, defuse, body, view, "apology", v)

    @app.view(blocks.ACTION_VIEW)
    def action(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"action": 2000}, optional={"offer": 2000})
        if not accepted(ack, errors):
            return
        defuse.worker.submit(finish_step, defuse, body, view, "action", v)

    @app.view(blocks.PLAN_VIEW)
    def plan(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"plan": 2000})
        first, problem = defuse.followups.check_plan_date(forms.values(view).get("first_date"), user_id(body))
        if problem:
            errors["first_date"] = problem
        if not accepted(ack, errors):
            return
        defuse.worker.submit(finish_step, defuse, body, view, "plan", {"plan": v["plan"], "first_date": first.isoformat() if first else None})


def save_form_before_ack(
    defuse: Defuse, form: forms.IntakeForm, body: dict[str, Any], view: dict[str, Any]
) -> CaseSnapshot | None:
    """Save the case from the intake form (or the message shortcut's form) before the ack; None if
    that failed in time. The view id makes a second submit of the same form find the first case."""
    user = user_id(body)
    meta = forms.metadata(view)
    same_customer = meta.get("customer_user") and form.customer == meta.get("customer_name")
    key = f"view:{view['id']}" if view.get("id") else None

    def save() -> CaseSnapshot:
        return defuse.cases.open_once(
            team_id=team_id(body),
            channel_id=form.channel_id or "",
            flagged_by=user,
            customer=form.customer,
            summary=form.summary,
            mood=form.mood,
            link=form.link,
            source_permalink=meta.get("permalink"),
            customer_user=meta.get("customer_user") if same_customer else None,
            source_channel_id=meta.get("source_channel"),
            intake_key=key,
            intake={"via": "form", "channel": meta.get("source_channel")},
            lease=(defuse.me, defuse.cases.clock() + DELIVERY_LEASE),
        )

    def saved_late(case: CaseSnapshot) -> None:
        defuse.tell(user, texts.SAVED_LATE.format(number=case.id))
        post_form_after_save(defuse, case, body, view)

    return defuse.worker.within(save, SAVE_DEADLINE, saved_late)


def post_form_after_save(defuse: Defuse, case: CaseSnapshot, body: dict[str, Any], view: dict[str, Any]) -> None:
    """After the ack: the source message's link if the form did not have it yet, then post the case."""
    user = user_id(body)
    meta = forms.metadata(view)
    # Answers go where the agent is, seen only by them (the conversation may be shared with the customer).
    where = meta.get("source_channel") or case.channel_id
    with reported((lambda text: defuse.tell(user, text)), f"posting case {case.id}"):
        if not case.source_permalink and meta.get("source_channel") and meta.get("source_ts"):
            permalink = defuse.permalink(meta["source_channel"], meta["source_ts"])
            if permalink:
                defuse.cases.record_delivery(case.id, None, source_permalink=permalink)
                case = replace(case, source_permalink=permalink)
        result = defuse.publish(case.id, case)  # decides where it may go (defuse.destination_for)
        if result.withdrawn:
            defuse.tell_privately(user, where, result.message or texts.GENERIC_FAILURE)
        elif not result.ok:
            message = result.message or texts.GENERIC_FAILURE
            defuse.dm(user, message, blocks.retry_post(message, case.id))
        elif result.message:
            defuse.tell_privately(user, where, result.message)


def step_number(defuse: Defuse, meta: dict[str, Any], case_id: int, asks: str) -> int:
    """The step the form was opened for; a form opened before forms carried it: the case's step asking `asks`."""
    if isinstance(meta.get("step"), int):
        return meta["step"]
    case = defuse.cases.require(case_id)
    step = playbook.step_asking(case.playbook, asks)
    if step is None:
        raise CaseError(texts.GENERIC_FAILURE)
    return step.number


def finish_step(defuse: Defuse, body: dict[str, Any], view: dict[str, Any], asks: str, details: dict[str, Any]) -> None:
    user = user_id(body)
    meta = forms.metadata(view)
    case_id = int(meta.get("case") or 0)
    with reported(lambda text: defuse.tell(user, text), f"{asks} step of case {case_id}"):
        number = step_number(defuse, meta, case_id, asks)
        changed, _ = defuse.cases.set_step(
            case_id, number, done=True, user=user, details={k: v for k, v in details.items() if v}
        )
        error = defuse.refresh(case_id) if changed else None
        if error:
            message = texts.UPDATE_FAILED.format(number=case_id, error=error)
            defuse.dm(user, message, blocks.retry_post(message, case_id))
