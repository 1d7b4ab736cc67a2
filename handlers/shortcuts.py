"""The "Handle angry customer" message shortcut: intake modal prefilled from the message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks, texts
from bot.service import Defuse
from bot.slack import error_code
from bot.textutil import plain, truncate
from handlers.common import ephemeral, log, reported, user_id


def quoted(text: str) -> str:
    body = plain(text).strip() or texts.SHORTCUT_EMPTY
    lines = "\n".join("> " + line for line in body.splitlines())
    return truncate(texts.INTAKE_QUOTE_PREFIX + lines, 3000)


def register(app: App, defuse: Defuse) -> None:
    @app.shortcut(blocks.SHORTCUT_CALLBACK)
    def handle_angry_customer(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        summary = quoted(message.get("text") or "")
        meta: dict[str, Any] = {"source_channel": channel, "source_ts": message.get("ts")}
        opened = None
        with reported(ephemeral(respond), "opening the intake form from a message"):
            # Open at once inside the trigger window; the permalink and author's name follow.
            opened = client.views_open(
                trigger_id=body["trigger_id"],
                view=blocks.intake_modal(channel_id=channel, summary=summary, metadata=meta),
            )["view"]
        if opened is None:  # the agent was told; there is no form to fill in
            return
        defuse.worker.submit(fill_in, defuse, body, opened, summary, meta)


def fill_in(defuse: Defuse, body: dict[str, Any], opened: dict[str, Any], summary: str, meta: dict[str, Any]) -> None:
    """After the form is open: the message's permalink and its author's name, via views.update."""
    client = defuse.client
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    # A customer's message in a shared channel: the form says the case goes to CASES_CHANNEL (or can't open).
    choice, notice = defuse.intake_choice(channel)
    try:
        permalink = client.chat_getPermalink(channel=channel, message_ts=message.get("ts"))["permalink"]
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.info("no permalink for the shortcut's message: %s", error_code(exc))
        if notice:
            update_form(defuse, opened, blocks.intake_modal(channel_id=choice, summary=summary, metadata=meta, notice=notice))
        return
    customer = None
    author = message.get("user")
    if author and author != user_id(body):
        person = defuse.people.lookup(author)
        if person is not None and not person.is_bot:
            customer = person.name
            meta["customer_user"] = author
            meta["customer_name"] = customer
    meta["permalink"] = permalink
    update_form(defuse, opened, blocks.intake_modal(
        channel_id=choice, summary=summary, customer=customer, link=permalink, metadata=meta, notice=notice))


def update_form(defuse: Defuse, opened: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        defuse.client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)
    except (SlackApiError, SlackClientError, OSError) as exc:
        # The agent already changed the form, or closed it: the message link is still kept on submit.
        log.info("could not fill in the intake form: %s", error_code(exc))
