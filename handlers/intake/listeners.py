"""Listeners of intake: `/angry` (text, form, help, export), the message shortcut, the intake form, and
Post it again. A case is saved before the ack and posted after it (bot.intake.service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from bot.core.snapshot import CaseSnapshot
from bot.core.textutil import MAX_COMMAND_TEXT, parse_command, plain, quote, safe_limited_echo
from handlers.common import Listener, ephemeral, reported, team_id, user_id
from handlers.intake import ids
from handlers.intake.form import fill_in, quoted, say_where_it_goes
from handlers.intake.views import intake_modal, retry_post
from handlers.services import Services, of
from handlers.slack import forms


def angry(ack: Ack, command: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    services = of(context)
    parsed = parse_command(command.get("text"))
    if parsed.kind == "export":
        assert services.exports is not None
        return services.exports.command(ack, command, respond, parsed.word)
    if parsed.kind == "help":
        return ack(text=texts.HELP)
    if parsed.kind == "unknown":
        return ack(text=texts.UNKNOWN_SUBCOMMAND.format(word=safe_limited_echo(parsed.word or "", 40)))
    if parsed.kind == "too_long":
        return ack(text=texts.TOO_LONG.format(length=parsed.length, limit=MAX_COMMAND_TEXT))
    if parsed.kind == "form":
        ack()
        return open_form(services, command, parsed.customer, ephemeral(respond))
    holder = services.posting.holder()  # who will post it: the posting process, or None for this one
    case = save_command(services, command, parsed.customer, parsed.summary or "", respond, holder)
    if case is None:  # not saved: the agent gets their words back in the ack itself
        return ack(text=texts.CASE_NOT_SAVED.format(echo=quote(safe_limited_echo(command.get("text") or "", 2500))))
    ack()
    services.posting.run(holder, services, post_command_case, case, parsed.customer, respond)


def open_form(services: Services, command: dict[str, Any], customer: str | None, tell: Callable[[str], Any]) -> None:
    with reported(tell, "opening the intake form"):
        customer = plain(customer) if customer else None  # the form shows plain text
        channel = command.get("channel_id")
        meta = {"source_channel": channel}  # answers go back where the agent typed /angry
        opened = services.slack.open_view(command["trigger_id"], intake_modal(channel_id=channel, customer=customer,
                                                                                metadata=meta))
        services.worker.submit(say_where_it_goes, services, opened, meta, customer)


def save_command(services: Services, command: dict[str, Any], customer: str | None, summary: str,
                 respond: Respond, holder: str | None) -> CaseSnapshot | None:
    """The trigger_id makes a re-delivered command find its case instead of opening a second one."""
    key = f"command:{command['trigger_id']}" if command.get("trigger_id") else None
    fields = dict(team_id=command.get("team_id"), channel_id=command["channel_id"], flagged_by=command["user_id"],
                  customer=customer, summary=summary, intake={"via": "command", "response_url": command.get("response_url")})

    def saved_late(case: CaseSnapshot) -> None:
        ephemeral(respond)(texts.SAVED_LATE.format(number=case.id))
        services.posting.run(holder, services, post_command_case, case, customer, respond)

    return services.intake.save(key, fields, saved_late, holder)


def post_command_case(services: Services, case: CaseSnapshot, customer: str | None, respond: Respond) -> None:
    """After the ack, here or in the posting process (handlers.slack.posting): `respond` is Bolt's, which
    carries only the command's response_url, so it travels there too."""
    tell = ephemeral(respond)
    with reported(tell, f"posting case {case.id}"):
        result = services.intake.post(case)
        if result.withdrawn:  # nowhere safe to post it: the agent's words come back, nothing is left open
            return tell(result.message or texts.GENERIC_FAILURE)
        if not result.ok:
            message = retry_post(result.message or texts.GENERIC_FAILURE, case.id)
            return respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        if result.message:  # posted in CASES_CHANNEL: say where, only to the agent
            tell(result.message)
        if not customer:
            tell(texts.ASK_FOR_CUSTOMER.format(number=case.id))


def shortcut(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services = of(context)
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    summary = quoted(message.get("text") or "")
    meta: dict[str, Any] = {"source_channel": channel, "source_ts": message.get("ts")}
    opened = None
    with reported(ephemeral(respond), "opening the intake form from a message"):
        # Open at once inside the trigger window; the permalink and author's name follow.
        opened = services.slack.open_view(body["trigger_id"], intake_modal(channel_id=channel, summary=summary,
                                                                            metadata=meta))
    if opened is not None:  # else the agent was told; there is no form to fill in
        services.worker.submit(fill_in, services, body, opened, summary, meta)


def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services = of(context)
    form, errors = forms.intake(view)
    if errors or form is None:
        return ack(response_action="errors", errors=errors)
    holder = services.posting.holder()
    case = save_form(services, form, body, view, holder)
    if case is None:  # not saved: the form stays open with everything the agent typed
        return ack(response_action="errors", errors={"summary": texts.FORM_NOT_SAVED})
    ack()
    services.posting.run(holder, services, post_form_case, case, context["user_id"], view)


def save_form(services: Services, form: forms.IntakeForm, body: dict[str, Any], view: dict[str, Any],
              holder: str | None) -> CaseSnapshot | None:
    """The view id makes a second submit of the same form find the first case."""
    user, meta = user_id(body), forms.metadata(view)
    same_customer = meta.get("customer_user") and form.customer == meta.get("customer_name")
    key = f"view:{view['id']}" if view.get("id") else None
    fields = dict(
        team_id=team_id(body), channel_id=form.channel_id or "", flagged_by=user, customer=form.customer,
        summary=form.summary, mood=form.mood, link=form.link, source_permalink=meta.get("permalink"),
        customer_user=meta.get("customer_user") if same_customer else None, source_channel_id=meta.get("source_channel"),
        intake={"via": "form", "channel": meta.get("source_channel")},
    )

    def saved_late(case: CaseSnapshot) -> None:
        services.notify.tell(user, texts.SAVED_LATE.format(number=case.id))
        services.posting.run(holder, services, post_form_case, case, user, view)

    return services.intake.save(key, fields, saved_late, holder)


def post_form_case(services: Services, case: CaseSnapshot, user: str, view: dict[str, Any]) -> None:
    """After the ack: the source message's link if the form did not have it yet, then post the case."""
    meta = forms.metadata(view)
    # Answers go where the agent is, seen only by them (the conversation may be shared with the customer).
    where = meta.get("source_channel") or case.channel_id
    with reported(lambda text: services.notify.tell(user, text), f"posting case {case.id}"):
        if not case.source_permalink and meta.get("source_channel") and meta.get("source_ts"):
            permalink = services.slack.permalink(meta["source_channel"], meta["source_ts"])
            if permalink:
                services.cases.record_delivery(case.id, None, source_permalink=permalink)
        result = services.intake.post(case)
        if result.withdrawn:
            services.notify.tell_privately(user, where, result.message or texts.GENERIC_FAILURE)
        elif not result.ok:
            services.notify.dm(user, retry_post(result.message or texts.GENERIC_FAILURE, case.id))
        elif result.message:
            services.notify.tell_privately(user, where, result.message)


def post_again(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    of(context).worker.submit(post_again_later, of(context), context.get("case_id") or 0, respond)


def post_again_later(services: Services, case_id: int, respond: Respond) -> None:
    with reported(ephemeral(respond), "posting a case again"):
        result = services.intake.post_again(case_id)
        if result.withdrawn:  # there is no case left to post again
            respond(text=result.message or texts.GENERIC_FAILURE, replace_original=True)
        elif result.ok:
            posted = services.cases.require(case_id)
            respond(text=texts.POSTED_CASE.format(number=case_id, url=posted.permalink or ""), replace_original=True)
        else:
            message = retry_post(result.message or texts.GENERIC_FAILURE, case_id)
            respond(text=message.text, blocks=message.blocks, replace_original=True)


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.RETRY_POST_ACTION: post_again,
}
VIEWS: dict[str, Listener] = {
    ids.INTAKE_VIEW: submitted,
}
COMMANDS: dict[str, Listener] = {
    "/angry": angry,
}
SHORTCUTS: dict[str, Listener] = {
    ids.SHORTCUT_CALLBACK: shortcut,
}

