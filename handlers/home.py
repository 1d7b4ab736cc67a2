"""App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.home import home_view
from bot.service import Defuse
from bot.slack import error_code
from handlers.common import log


def register(app: App, defuse: Defuse) -> None:
    @app.event("app_home_opened")
    def app_home_opened(event: dict[str, Any], client: WebClient) -> None:
        # Events are acked by Bolt before this runs; a retried delivery just publishes again.
        if event.get("tab") not in (None, "home"):
            return
        user = event.get("user")
        if not user:
            return
        defuse.worker.submit(publish_home, defuse, user)


def publish_home(defuse: Defuse, user: str) -> None:
    try:
        defuse.client.views_publish(user_id=user, view=home_view(defuse.cases, user))
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("publishing the home tab for %s failed: %s", user, error_code(exc))
