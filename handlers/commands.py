"""`/angry`: flag a case from text, open the intake form, or explain usage."""

from __future__ import annotations

from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from sqlalchemy.exc import IntegrityError

from bot import blocks, texts
from bot.cases import CaseSnapshot
from bot.service import DELIVERY_LEASE, Defuse
from bot.textutil import MAX_COMMAND_TEXT, parse_command, plain, quote, safe_limited_echo
from handlers.common import ephemeral, reported

SAVE_DEADLINE = 1.0  # seconds the ack waits for the case to be saved (Slack allows 3 s in all)


def register(app: App, defuse: Defuse) -> None:
    @app.command("/angry")
    def angry(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        parsed = parse_command(command.get("text"))
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
                view = blocks.intake_modal(channel_id=command.get("channel_id"), customer=customer)
                client.views_open(trigger_id=command["trigger_id"], view=view)
            return
        tell = ephemeral(respond)
        case = save_before_ack(defuse, command, parsed.customer, parsed.summary or "", tell, respond)
        if case is None:  # not saved: the agent gets their words back in the ack itself
            ack(text=texts.NOT_SAVED.format(echo=quote(safe_limited_echo(command.get("text") or "", 2500))))
            return
        ack()
        defuse.worker.submit(post_after_save, defuse, case, parsed.customer, tell, respond)


def save_before_ack(
    defuse: Defuse, command: dict[str, Any], customer: str | None, summary: str, tell: Callable[[str], Any], respond: Respond
) -> CaseSnapshot | None:
    """Save the case within SAVE_DEADLINE so an acked /angry is never lost; None if that failed.
    The trigger_id makes a re-delivered command find its case instead of opening a second one."""
    key = f"command:{command['trigger_id']}" if command.get("trigger_id") else None

    def save() -> CaseSnapshot:
        try:
            return defuse.cases.open(
                team_id=command.get("team_id"),
                channel_id=command["channel_id"],
                flagged_by=command["user_id"],
                customer=customer,
                summary=summary,
                intake_key=key,
                intake={"via": "command", "response_url": command.get("response_url")},
                lease=(defuse.me, defuse.cases.clock() + DELIVERY_LEASE),
            )
        except IntegrityError:
            existing = defuse.cases.case_for_intake(key) if key else None
            if existing is None:
                raise
            return defuse.cases.require(existing)

    def saved_late(case: CaseSnapshot) -> None:
        tell(texts.SAVED_LATE.format(number=case.id))
        post_after_save(defuse, case, customer, tell, respond)

    return defuse.worker.within(save, SAVE_DEADLINE, saved_late)


def post_after_save(
    defuse: Defuse, case: CaseSnapshot, customer: str | None, tell: Callable[[str], Any], respond: Respond
) -> None:
    """After the ack: post the saved case (the sweep finishes this if the process dies first)."""
    with reported(tell, f"posting case {case.id}"):
        result = defuse.publish(case.id, case)
        if not result.ok:
            respond(
                text=result.message or texts.GENERIC_FAILURE,
                blocks=blocks.retry_post(result.message or texts.GENERIC_FAILURE, case.id),
                response_type="ephemeral",
            )
        elif not customer:
            tell(texts.ASK_FOR_CUSTOMER.format(number=case.id))
