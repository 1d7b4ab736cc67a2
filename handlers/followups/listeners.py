"""Listeners of follow-ups and the breather: the buttons on their DMs and the "followed up" form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from handlers.common import Listener, ephemeral, later, parse_id, reported
from handlers.followups import ids
from handlers.followups import views as followups_views
from handlers.services import of
from handlers.slack.submissions import Form, clicked, take


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
    c = clicked(ack, context, respond)
    c.later("skipping a reminder", lambda: c.services.answers.skip(c.reminder_id, user=c.user))


def breather_start(ack: Ack, context: BoltContext, respond: Respond) -> None:
    c = clicked(ack, context, respond)
    c.later("starting a breather", lambda: c.services.answers.start_breather(c.reminder_id, user=c.user))


def breather_skip(ack: Ack, context: BoltContext, respond: Respond) -> None:
    c = clicked(ack, context, respond)
    c.later("declining a breather", lambda: c.services.answers.skip_breather(c.reminder_id, user=c.user))


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.FOLLOWED_UP_ACTION: open_followed_up,
    ids.SNOOZE_ACTION: snooze,
    ids.SKIP_ACTION: skip,
    ids.BREATHER_START_ACTION: breather_start,
    ids.BREATHER_SKIP_ACTION: breather_skip,
}
VIEWS: dict[str, Listener] = {
    ids.FOLLOWED_UP_VIEW: followed_up,
}
