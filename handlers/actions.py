"""Buttons on the case message, the checklist and our ephemeral messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, modals, playbook, texts
from bot.service import Defuse
from handlers.common import action_value, ephemeral, parse_id, reported, user_id


def step_modal(defuse: Defuse, asks: str, case_id: int) -> dict[str, Any]:
    if asks == "apology":
        return blocks.apology_modal(case_id)
    if asks == "action":
        return blocks.action_modal(case_id)
    return modals.plan_modal(case_id, defuse.config.follow_up_schedule)


def register(app: App, defuse: Defuse) -> None:
    @app.action(blocks.STEP_ACTION)
    def step_set(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        tell = ephemeral(respond)
        parts = action_value(body).split(":")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or parts[2] not in ("done", "undo"):
            return tell(texts.GENERIC_FAILURE)
        case_id, number, done = int(parts[0]), int(parts[1]), parts[2] == "done"
        with reported(tell, f"step {number} of case {case_id}"):
            step = playbook.step(number)
            if done and step.asks:
                client.views_open(trigger_id=body["trigger_id"], view=step_modal(defuse, step.asks, case_id))
                return
            defuse.worker.submit(tick_step, defuse, case_id, number, done, user_id(body), respond)

    @app.action(blocks.GUIDE_ACTION)
    def open_guide(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        # The guide is built from the playbook alone, so views.open goes out at once, well
        # inside the trigger_id's few seconds.
        with reported(ephemeral(respond), "opening the checklist guide"):
            client.views_open(trigger_id=body["trigger_id"], view=blocks.guide_modal())

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


def tick_step(defuse: Defuse, case_id: int, number: int, done: bool, user: str, respond: Respond) -> None:
    with reported(ephemeral(respond), f"step {number} of case {case_id}"):
        changed, _ = defuse.cases.set_step(case_id, number, done=done, user=user)
        error = defuse.refresh(case_id) if changed else None
        if error:
            message = texts.UPDATE_FAILED.format(number=case_id, error=error)
            respond(text=message, blocks=blocks.retry_post(message, case_id), response_type="ephemeral",
                    replace_original=False)


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
