"""Buttons on follow-up and breather DMs, and the "followed up" modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, forms, modals, texts
from bot.service import Defuse
from handlers.common import accepted, action_value, ephemeral, later, parse_id, reported, user_id


def register(app: App, defuse: Defuse) -> None:
    @app.action(blocks.FOLLOWED_UP_ACTION)
    def followed_up(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(ephemeral(respond), "opening the follow-up form"):
            reminder_id = parse_id(action_value(body)) or 0
            client.views_open(trigger_id=body["trigger_id"], view=modals.followed_up_modal(reminder_id))

    @app.view(blocks.FOLLOWED_UP_VIEW)
    def followed_up_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, optional={"note": 2000}, choices={"outcome": texts.FOLLOWED_UP_OUTCOMES})
        if not accepted(ack, errors):
            return
        user = user_id(body)

        def work() -> None:
            defuse.followed_up(int(forms.metadata(view).get("reminder") or 0), user=user, outcome=v["outcome"], note=v["note"])
        later(defuse, lambda text: defuse.tell(user, text), "recording a follow-up", work)

    @app.action(blocks.SNOOZE_ACTION)
    def snooze(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        choice = (action.get("selected_option") or {}).get("value")
        block_id = str(action.get("block_id") or "")
        reminder_id = parse_id(block_id.removeprefix("reminder_")) or 0

        def work() -> None:
            if choice in texts.SNOOZE_CHOICES:
                defuse.snooze(reminder_id, user=user_id(body), choice=choice)
        later(defuse, ephemeral(respond), "snoozing a reminder", work)

    @app.action(blocks.SKIP_ACTION)
    def skip(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            defuse.skip(parse_id(action_value(body)) or 0, user=user_id(body))
        later(defuse, ephemeral(respond), "skipping a reminder", work)

    @app.action(blocks.BREATHER_START_ACTION)
    def breather_start(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            defuse.start_breather(parse_id(action_value(body)) or 0, user=user_id(body))
        later(defuse, ephemeral(respond), "starting a breather", work)

    @app.action(blocks.BREATHER_SKIP_ACTION)
    def breather_skip(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            defuse.skip_breather(parse_id(action_value(body)) or 0, user=user_id(body))
        later(defuse, ephemeral(respond), "declining a breather", work)
