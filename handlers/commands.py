"""`/angry`: flag a case from text, open the intake form, or explain usage."""

from __future__ import annotations

from typing import Any, Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, texts
from bot.service import Defuse
from bot.textutil import MAX_COMMAND_TEXT, parse_command, plain, quote, safe_limited_echo
from handlers.common import ephemeral, log, reported
from handlers.export import Exports


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
        ack()
        tell = ephemeral(respond)
        if parsed.kind == "form":
            with reported(tell, "opening the intake form"):
                customer = plain(parsed.customer) if parsed.customer else None  # the form shows plain text
                view = blocks.intake_modal(channel_id=command.get("channel_id"), customer=customer)
                client.views_open(trigger_id=command["trigger_id"], view=view)
            return
        defuse.worker.submit(open_from_text, defuse, command, parsed.customer, parsed.summary or "", tell, respond)


def open_from_text(
    defuse: Defuse,
    command: dict[str, Any],
    customer: str | None,
    summary: str,
    tell: Callable[[str], Any],
    respond: Respond,
) -> None:
    try:
        case = defuse.cases.open(
            team_id=command.get("team_id"),
            channel_id=command["channel_id"],
            flagged_by=command["user_id"],
            customer=customer,
            summary=summary,
        )
    except Exception:  # the agent's words must not vanish: echo them back
        log.exception("saving a case failed")
        tell(texts.SAVE_FAILED.format(echo=quote(safe_limited_echo(command.get("text") or "", 2500))))
        return
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
