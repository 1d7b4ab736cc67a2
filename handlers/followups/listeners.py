"""Listeners of follow-ups and the breather: the buttons on their DMs and the "followed up" form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import texts
from handlers.common import ephemeral, later, parse_id, reported
from handlers.followups import ids
from handlers.followups import views as followups_views
from handlers.services import of
from handlers.slack.submissions import Form, take


def open_followed_up(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services = of(context)
    with reported(ephemeral(respond), "opening the follow-up form"):
        services.slack.open_view(body["trigger_id"], followups_views.followed_up_modal(context.get("reminder_id") or 0))


FOLLOWED_UP_FORM = Form(optional={"note": 2000}, choices={"outcome": texts.FOLLOWED_UP_OUTCOMES},
                        maybe={"mood": texts.MOODS}, words=("note",))


def followed_up(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, FOLLOWED_UP_FORM):
        s.later("recording a follow-up", lambda: s.services.answers.followed_up(
            s.reminder_id, user=s.user, outcome=s["outcome"], note=s["note"], mood=s["mood"]))


def snooze(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services, user = of(context), context["user_id"]
    action = (body.get("actions") or [{}])[0]
    choice = (action.get("selected_option") or {}).get("value")
    reminder_id = parse_id(str(action.get("block_id") or "").removeprefix("reminder_")) or 0

    def work() -> None:
        if choice in texts.SNOOZE_CHOICES:
            services.answers.snooze(reminder_id, user=user, choice=choice)
    later(services, ephemeral(respond), "snoozing a reminder", work)


def skip(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    services, user, reminder_id = of(context), context["user_id"], context.get("reminder_id") or 0
    later(services, ephemeral(respond), "skipping a reminder", lambda: services.answers.skip(reminder_id, user=user))


def breather_start(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    services, user, reminder_id = of(context), context["user_id"], context.get("reminder_id") or 0
    later(services, ephemeral(respond), "starting a breather",
          lambda: services.answers.start_breather(reminder_id, user=user))


def breather_skip(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    services, user, reminder_id = of(context), context["user_id"], context.get("reminder_id") or 0
    later(services, ephemeral(respond), "declining a breather",
          lambda: services.answers.skip_breather(reminder_id, user=user))


def register(app: App) -> None:
    app.action(ids.FOLLOWED_UP_ACTION)(open_followed_up)
    app.view(ids.FOLLOWED_UP_VIEW)(followed_up)
    app.action(ids.SNOOZE_ACTION)(snooze)
    app.action(ids.SKIP_ACTION)(skip)
    app.action(ids.BREATHER_START_ACTION)(breather_start)
    app.action(ids.BREATHER_SKIP_ACTION)(breather_skip)
