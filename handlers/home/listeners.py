"""The App Home tab: published when a person opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.core.ports import SlackFailure
from bot.home.data import home_data
from handlers.common import Listener, log
from handlers.home.views import home_view
from handlers.services import Services, of


def home_opened(event: dict[str, Any], context: BoltContext) -> None:
    # Events are acked by Bolt before this runs; a retried delivery just publishes again.
    user = event.get("user")
    if event.get("tab") in (None, "home") and user:
        of(context).worker.submit(publish_home, of(context), user)


def publish_home(services: Services, user: str) -> None:
    try:
        services.slack.publish_home(user, home_view(home_data(services.cases, user, lead=is_lead(services, user))))
    except SlackFailure as exc:
        log.warning("publishing the home tab for %s failed: %s", user, exc.code)


def is_lead(services: Services, user: str) -> bool:
    """Leads see each agent's figures; when group membership cannot be read, nobody does."""
    if services.exports is None or not services.config.leads.configured:
        return False
    verdict = services.exports.leads.quick(user) or services.exports.leads.check(user)
    return verdict.allowed


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
EVENTS: dict[str, Listener] = {
    "app_home_opened": home_opened,
}
