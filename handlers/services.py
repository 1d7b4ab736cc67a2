"""What listeners are given (through handlers.slack.context): the Slack surface, the post-ack worker,
and each move's domain service. Built once, in app.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service import Defuse
from bot.worker import Worker
from handlers.slack.surface import SlackSurface


@dataclass
class Services:
    slack: SlackSurface
    worker: Worker
    defuse: Defuse  # the moves not yet in their own rooms; shrinks as each move leaves it


def of(context: object) -> Services:
    """The services Bolt's context carries (set by handlers.slack.context.provide)."""
    services = context["services"]  # type: ignore[index]
    assert isinstance(services, Services)
    return services
