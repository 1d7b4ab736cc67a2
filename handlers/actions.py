"""Buttons on the case message, the checklist and our ephemeral messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, modals, playbook, texts
from bot.core.errors import CaseError
from bot.service import Defuse
from handlers.common import action_value, ephemeral, parse_id, reported, user_id


def step_modal(defuse: Defuse, asks: str, case_id: int, number: int) -> dict[str, Any]:
    """The form a step's tick asks for; it carries the step number back to the submission."""
    if asks == "apology":
        return blocks.apology_modal(case_id, number)
    if asks == "action":
        return blocks.action_modal(case_id, number)
    return modals.plan_modal(case_id, defuse.config.follow_up_schedule, step=number)


def parse_step_value(value: str) -> tuple[int, int, bool, str | None] | None:
    """`case:step:done[:asks]` or `case:step:undo` -> (case, step, done, asks); None if it is not one."""
    parts = value.split(":")
    if len(parts) not in (3, 4) or not parts[0].isdigit() or not parts[1].isdigit() or parts[2] not in ("done", "undo"):
        return None
    asks = parts[3] if len(parts) == 4 else None
    if asks is not None and (asks not in playbook.ASKS or parts[2] != "done"):
        return None
    return int(parts[0]), int(parts[1]), parts[2] == "done", asks


def register(app: App, defuse: Defuse) -> None:
    @app.action(blocks.STEP_ACTION)
    def step_set(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        tell = ephemeral(respond)
        parsed = parse_step_value(action_value(body))
        if parsed is None:
            return tell(texts.GENERIC_FAILURE)
        case_id, number, done, asks = parsed
        with reported(tell, f"step {number} of case {case_id}"):
            if asks:  # the button says what the tick asks, so the form opens without reading the case
                client.views_open(trigger_id=body["trigger_id"], view=step_modal(defuse, asks, case_id, number))
                return
            defuse.worker.submit(tick_step, defuse, case_id, number, done, user_id(body), respond, body.get("trigger_id"))

    @app.action(blocks.GUIDE_ACTION)
    def open_guide(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        # The guide shows the playbook this case was opened with: one light read, then views.open,
        # well inside the trigger_id's few seconds.
        with reported(ephemeral(respond), "opening the checklist guide"):
            case = defuse.cases.get(parse_id(action_value(body)) or 0, full=False)
            if case is None:
                raise CaseError(texts.CASE_NOT_FOUND)
            client.views_open(trigger_id=body["trigger_id"], view=blocks.guide_modal(case.playbook))

    @app.action(blocks.EDIT_ACTION)
    def edit_case(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        tell = ephemeral(respond)
        case_id = parse_id(action_value(body))
        with reported(tell, "opening the edit form"):
            case = defuse.cases.require(case_id or 0)
            client.views_open(trigger_id=body["trigger_id"], view=blocks.edit_modal(case))

    @app.action(blocks.RETRY_POST_ACTION)
    def retry_post(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        defuse.worker.submit(post_again, defuse, parse_id(action_value(body)), respond)


def tick_step(
    defuse: Defuse, case_id: int, number: int, done: bool, user: str, respond: Respond, trigger_id: str | None = None
) -> None:
    with reported(ephemeral(respond), f"step {number} of case {case_id}"):
        if done and trigger_id and (asks := asks_of(defuse, case_id, number)):
            # A button without what it asks (posted before cases kept their playbook): ask it now.
            defuse.client.views_open(trigger_id=trigger_id, view=step_modal(defuse, asks, case_id, number))
            return
        changed, _ = defuse.cases.set_step(case_id, number, done=done, user=user)
        error = defuse.refresh(case_id) if changed else None
        if error:
            message = texts.UPDATE_FAILED.format(number=case_id, error=error)
            respond(text=message, blocks=blocks.retry_post(message, case_id), response_type="ephemeral",
                    replace_original=False)


def asks_of(defuse: Defuse, case_id: int, number: int) -> str | None:
    case = defuse.cases.get(case_id, full=False)
    if case is None:
        raise CaseError(texts.CASE_NOT_FOUND)
    return playbook.step(case.playbook, number).asks if 1 <= number <= case.total else None


def post_again(defuse: Defuse, case_id: int | None, respond: Respond) -> None:
    with reported(ephemeral(respond), "posting a case again"):
        case = defuse.cases.require(case_id or 0)
        result = defuse.publish(case.id, again=True)  # the agent's choice: may repeat an unconfirmed post
        if result.withdrawn:  # there is no case left to post again
            respond(text=result.message or texts.GENERIC_FAILURE, replace_original=True)
        elif result.ok:
            posted = defuse.cases.require(case.id)
            respond(text=texts.POSTED_CASE.format(number=case.id, url=posted.permalink or ""), replace_original=True)
        else:
            message = result.message or texts.GENERIC_FAILURE
            respond(text=message, blocks=blocks.retry_post(message, case.id), replace_original=True)
