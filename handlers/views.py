"""Modal submissions: intake, edit, and the steps that ask for details."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import blocks, forms, playbook, texts
from bot.cases import CaseError
from bot.service import Defuse
from bot.textutil import quote, safe_limited_echo
from handlers.common import accepted, later, log, reported, team_id, user_id


def register(app: App, defuse: Defuse) -> None:
    def dm(user: str):  # type: ignore[no-untyped-def]
        return lambda text: defuse.tell(user, text)

    @app.view(blocks.INTAKE_VIEW)
    def intake(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form, errors = forms.intake(view)
        if not accepted(ack, errors):
            return
        assert form is not None
        defuse.worker.submit(open_from_form, defuse, form, body, view)

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


def open_from_form(defuse: Defuse, form: forms.IntakeForm, body: dict[str, Any], view: dict[str, Any]) -> None:
    user = user_id(body)
    meta = forms.metadata(view)
    permalink = meta.get("permalink")
    if not permalink and meta.get("source_channel") and meta.get("source_ts"):
        permalink = defuse.permalink(meta["source_channel"], meta["source_ts"])
    same_customer = meta.get("customer_user") and form.customer == meta.get("customer_name")
    try:
        case = defuse.cases.open(
            team_id=team_id(body),
            channel_id=form.channel_id or "",
            flagged_by=user,
            customer=form.customer,
            summary=form.summary,
            mood=form.mood,
            link=form.link,
            source_permalink=permalink,
            customer_user=meta.get("customer_user") if same_customer else None,
            source_channel_id=meta.get("source_channel"),
        )
    except Exception:  # the agent's words must not vanish: echo them back
        log.exception("saving a case from the form failed")
        echo = f"{form.customer}: {form.summary}"
        defuse.tell(user, texts.SAVE_FAILED.format(echo=quote(safe_limited_echo(echo, 2500))))
        return
    # Answers go where the agent is, seen only by them (the conversation may be shared with the customer).
    where = meta.get("source_channel") or form.channel_id
    with reported((lambda text: defuse.tell(user, text)), f"posting case {case.id}"):
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
