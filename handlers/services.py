"""What listeners are given (through handlers.slack.context): the Slack surface, the post-ack worker,
and each move's domain service. Built once, in app.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.casefile.service import CaseFile
from bot.cases import Cases
from bot.checklist.service import Checklist
from bot.closing.service import Closing
from bot.core.config import Config
from bot.core.notify import Notify
from bot.core.people import People
from bot.delivery.publisher import Publisher
from bot.delivery.routing import Router
from bot.escalation.service import Escalation
from bot.followups.answers import FollowUpAnswers
from bot.followups.records import Reminders
from bot.handoff.records import Handoffs
from bot.handoff.service import SecondContact
from bot.intake.service import Intake
from handlers.slack.posting import Posting
from handlers.slack.surface import SlackSurface
from handlers.slack.worker import Worker

if TYPE_CHECKING:
    from handlers.learning.export import Exports


@dataclass
class Services:
    config: Config
    slack: SlackSurface
    worker: Worker
    cases: Cases
    people: People
    notify: Notify
    router: Router
    publisher: Publisher
    intake: Intake
    checklist: Checklist
    casefile: CaseFile
    handoffs: Handoffs
    second_contact: SecondContact
    escalation: Escalation
    closing: Closing
    reminders: Reminders
    answers: FollowUpAnswers
    posting: Posting  # where a newly saved case is posted: the posting process (app.py) or the worker
    exports: Exports | None = None


def of(context: Any) -> Services:
    """The services Bolt's context carries (set by handlers.slack.context.provide)."""
    services = context["services"]
    assert isinstance(services, Services)
    return services
