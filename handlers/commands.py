"""`/angry`: flag a case from text, open the intake form, or explain usage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, texts
from bot.core.snapshot import CaseSnapshot
from bot.service import DELIVERY_LEASE, Defuse
from bot.textutil import MAX_COMMAND_TEXT, parse_command, plain, quote, safe_limited_echo
from handlers.common import ephemeral, log, reported
from handlers.export import Exports

SAVE_DEADLINE = 1.0  # seconds the ack waits for the case to be saved (Slack allows 3 s in all)


def register(app: App, defuse: Defuse) -> None:
    exports = Exports(defuse)

    @app.command("/angry")
    def angry(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        parsed = parse_command(command.get("text"))
        if parsed.kind == "export":
            exports.command(ack, command, respond, parsed.word)
            return
        if parsed.kind == "help":
            ack(text=texts.HELP)
            return
        if parsed.kind == "unknown":
            ack(text=texts.UNKNOWN_SUBCOMMAND.format(word=safe_limited_echo(parsed.word or "", 40)))
            return
        if parsed.kind == "too_long":
            ack(text=texts.TOO_LONG.format(length=parsed.length, limit=MAX_COMMAND_TEXT))
            return
        if parsed.kind == "form":
            ack()
            tell = ephemeral(respond)
            with reported(tell, "opening the intake form"):
                customer = plain(parsed.customer) if parsed.customer else None  # the form shows plain text
                channel = command.get("channel_id")
                meta = {"source_channel": channel}  # answers go back where the agent typed /angry
                view = blocks.intake_modal(channel_id=channel, customer=customer, metadata=meta)
                opened = client.views_open(trigger_id=command["trigger_id"], view=view)["view"]
                defuse.worker.submit(say_where_it_goes, defuse, opened, meta, customer)
            return
        tell = ephemeral(respond)
        case = save_before_ack(defuse, command, parsed.customer, parsed.summary or "", tell, respond)
        if case is None:  # not saved: the agent gets their words back in the ack itself
            ack(text=texts.CASE_NOT_SAVED.format(echo=quote(safe_limited_echo(command.get("text") or "", 2500))))
            return
        ack()
        defuse.worker.submit(post_after_save, defuse, case, parsed.customer, tell, respond)


def say_where_it_goes(defuse: Defuse, opened: dict[str, Any], meta: dict[str, Any], customer: str | None) -> None:
    """The form was opened in a conversation the customer can read: preselect CASES_CHANNEL and say so."""
    try:
        choice, notice = defuse.intake_choice(meta.get("source_channel"))
        if notice:
            view = blocks.intake_modal(channel_id=choice, customer=customer, notice=notice, metadata=meta)
            defuse.client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)
    except Exception as exc:  # only a hint; the submission is checked again before anything is posted
        log.info("could not add the shared-conversation notice to the form: %s", exc)


def save_before_ack(
    defuse: Defuse, command: dict[str, Any], customer: str | None, summary: str, tell: Callable[[str], Any], respond: Respond
) -> CaseSnapshot | None:
    """Save the case within SAVE_DEADLINE so an acked /angry is never lost; None if that failed.
    The trigger_id makes a re-delivered command find its case instead of opening a second one."""
    key = f"command:{command['trigger_id']}" if command.get("trigger_id") else None

    def save() -> CaseSnapshot:
        return defuse.cases.open_once(
            team_id=command.get("team_id"),
            channel_id=command["channel_id"],
            flagged_by=command["user_id"],
            customer=customer,
            summary=summary,
            intake_key=key,
            intake={"via": "command", "response_url": command.get("response_url")},
            lease=(defuse.me, defuse.cases.clock() + DELIVERY_LEASE),
        )

    def saved_late(case: CaseSnapshot) -> None:
        tell(texts.SAVED_LATE.format(number=case.id))
        post_after_save(defuse, case, customer, tell, respond)

    return defuse.worker.within(save, SAVE_DEADLINE, saved_late)


def post_after_save(
    defuse: Defuse, case: CaseSnapshot, customer: str | None, tell: Callable[[str], Any], respond: Respond
) -> None:
    """After the ack: post the saved case (the sweep finishes this if the process dies first)."""
    with reported(tell, f"posting case {case.id}"):
        result = defuse.publish(case.id, case)  # decides where it may go (defuse.destination_for)
        if result.withdrawn:  # nowhere safe to post it: the agent's words come back, nothing is left open
            tell(result.message or texts.GENERIC_FAILURE)
            return
        if not result.ok:
            respond(
                text=result.message or texts.GENERIC_FAILURE,
                blocks=blocks.retry_post(result.message or texts.GENERIC_FAILURE, case.id),
                response_type="ephemeral",
            )
            return
        if result.message:  # posted in CASES_CHANNEL: say where, only to the agent
            tell(result.message)
        if not customer:
            tell(texts.ASK_FOR_CUSTOMER.format(number=case.id))
