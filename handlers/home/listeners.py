"""The App Home tab: published when a person opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.core.ports import SlackFailure
from bot.home.data import home_data
from handlers.common import log
from handlers.home.views import home_view
from handlers.services import Services, of


def home_opened(event: dict[str, Any], context: BoltContext) -> None:
    # Events are acked by Bolt before this runs; a retried delivery just publishes again.
    user = event.get("user")
    if event.get("tab") in (None, "home") and user:
        of(context).worker.submit(publish_home, of(context), user)


def publish_home(services: Services, user: str) -> None:
    try:
        services.slack.publish_home(user, home_view(home_data(services.cases, user)))
    except SlackFailure as exc:
        log.warning("publishing the home tab for %s failed: %s", user, exc.code)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
