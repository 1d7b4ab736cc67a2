"""Filling in an open intake form after the ack: where the case will go (a conversation the customer can
read), and for the message shortcut the message's link and its author's name (views.update)."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.core.ports import SlackFailure
from bot.core.textutil import plain, truncate
from handlers.common import log, user_id
from handlers.intake.views import intake_modal
from handlers.services import Services


def quoted(text: str) -> str:
    body = plain(text).strip() or texts.SHORTCUT_EMPTY
    lines = "\n".join("> " + line for line in body.splitlines())
    return truncate(texts.INTAKE_QUOTE_PREFIX + lines, 3000)


def say_where_it_goes(services: Services, opened: dict[str, Any], meta: dict[str, Any], customer: str | None) -> None:
    """The form was opened in a conversation the customer can read: preselect CASES_CHANNEL and say so."""
    try:
        choice, notice = services.router.intake_choice(meta.get("source_channel"))
        if notice:
            view = intake_modal(channel_id=choice, customer=customer, notice=notice, metadata=meta)
            services.slack.update_view(opened["id"], view, hash_=opened.get("hash"))
    except Exception as exc:  # only a hint; the submission is checked again before anything is posted
        log.info("could not add the shared-conversation notice to the form: %s", exc)


def fill_in(services: Services, body: dict[str, Any], opened: dict[str, Any], summary: str, meta: dict[str, Any]) -> None:
    """After the shortcut's form is open: the message's permalink and its author's name."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id")
    # A customer's message in a shared channel: the form says the case goes to CASES_CHANNEL (or can't open).
    choice, notice = services.router.intake_choice(channel)
    permalink = services.slack.permalink(channel, message.get("ts")) if channel and message.get("ts") else None
    if permalink is None:
        if notice:
            update_form(services, opened, intake_modal(channel_id=choice, summary=summary, metadata=meta, notice=notice))
        return
    customer = None
    author = message.get("user")
    if author and author != user_id(body):
        person = services.people.lookup(author)
        if person is not None and not person.is_bot:
            customer = person.name
            meta["customer_user"] = author
            meta["customer_name"] = customer
    meta["permalink"] = permalink
    update_form(services, opened, intake_modal(
        channel_id=choice, summary=summary, customer=customer, link=permalink, metadata=meta, notice=notice))


def update_form(services: Services, opened: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        services.slack.update_view(opened["id"], view, hash_=opened.get("hash"))
    except SlackFailure as exc:
        # The agent already changed the form, or closed it: the message link is still kept on submit.
        log.info("could not fill in the intake form: %s", exc.code)
