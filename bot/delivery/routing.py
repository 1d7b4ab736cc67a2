"""Where case content may go: the one routing decision, and the checks on who may receive it.

A case is posted where it was flagged when only our organisation reads that conversation, in
CASES_CHANNEL when the customer can read it, and nowhere when Slack cannot say who reads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot import texts
from bot.core.notify import Notify
from bot.core.ports import Message, Posted, Slack, SlackFailure
from bot.core.snapshot import CaseSnapshot
from bot.delivery.audience import EXTERNAL, PRIVATE, PUBLIC, Audiences, AudienceUnknown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destination:
    """Where a case is posted, and who reads that channel."""

    channel_id: str
    visibility: str  # PUBLIC or PRIVATE
    moved: bool = False  # True: the source is readable by the customer, so the case goes to CASES_CHANNEL


@dataclass(frozen=True)
class Refusal:
    """Nowhere safe to post the case. `withdraw`: take the case back (it can never be posted as things are);
    otherwise it stays saved and the agent may press Post it again."""

    reason: str  # "no_cases_channel", "audience_unknown", "not_visible", "cases_channel_shared"
    error: str | None = None
    withdraw: bool = False


@dataclass(frozen=True)
class Channels:
    """The configured channels case content may be sent to."""

    cases: str | None = None
    escalation: str | None = None
    product_feedback: str | None = None


class HomeTeam:
    """This installation's team id (auth.test, once it answers), to tell colleagues from outsiders."""

    def __init__(self, slack: Slack):
        self.slack = slack
        self._team: str | None = None

    def __call__(self) -> str | None:
        if self._team is None:
            try:
                self._team = self.slack.team_id()
            except SlackFailure as exc:
                log.warning("auth.test failed; telling outsiders by is_stranger only: %s", exc.code)
        return self._team


class Router:
    def __init__(self, channels: Channels, audiences: Audiences, notify: Notify):
        self.channels = channels
        self.audiences = audiences
        self.notify = notify
        self._joined: set[str] = set()

    def post_in(self, channel: str, message: Message) -> Posted:
        """Post in a configured channel (escalations, product feedback), joining it first, once, if public."""
        if channel not in self._joined and self.notify.slack.join(channel):
            self._joined.add(channel)
        return self.notify.slack.post(channel, message)

    def destination_for(self, source_channel: str) -> Destination | Refusal:
        """Post where it was flagged when only our organisation reads it; in CASES_CHANNEL when the
        customer can read it; nowhere when Slack can't say who reads it."""
        try:
            audience = self.audiences.of(source_channel)
        except AudienceUnknown as exc:
            # Never post into a conversation we could not check: it may be shared with the customer.
            return Refusal("not_visible" if exc.not_visible else "audience_unknown", exc.error)
        if not audience.external:
            return Destination(source_channel, audience.kind)
        log.info("%s is readable by another organisation (%s)", source_channel, audience.why)
        if not self.channels.cases:
            return Refusal("no_cases_channel", withdraw=True)
        return self._cases_channel_destination(self.channels.cases)

    def intake_choice(self, source_channel: str | None) -> tuple[str | None, str | None]:
        """For the intake form opened in `source_channel`: the channel to preselect and a notice saying where
        the case will go, when the customer can read the conversation. Only a hint: publish decides again."""
        if not source_channel or not source_channel.startswith(("C", "G")):
            return source_channel, None
        route = self.destination_for(source_channel)
        if isinstance(route, Destination) and route.moved:
            return route.channel_id, texts.INTAKE_EXTERNAL_NOTICE.format(source=source_channel, channel=route.channel_id)
        if isinstance(route, Refusal) and route.reason == "no_cases_channel":
            return None, texts.INTAKE_EXTERNAL_REFUSED.format(source=source_channel)
        return source_channel, None

    def _cases_channel_destination(self, cases_channel: str) -> Destination | Refusal:
        try:
            audience = self.audiences.of(cases_channel)
        except AudienceUnknown as exc:
            # The operator named it as internal; posting there fails on its own if the bot isn't in it.
            log.info("could not check CASES_CHANNEL %s (%s); treating it as private", cases_channel, exc.error)
            return Destination(cases_channel, PRIVATE, moved=True)
        if audience.kind == EXTERNAL:
            log.error("CASES_CHANNEL %s is itself shared with another organisation (%s)", cases_channel, audience.why)
            return Refusal("cases_channel_shared")
        return Destination(cases_channel, audience.kind, moved=True)

    def where_it_goes(self, case: CaseSnapshot, action: str) -> str | None:
        """Before an escalation or a UX issue leaves a case that not everyone can read: where it will be posted.
        None when it stays in the case's own channel, or the case lives in a public channel."""
        if action == "escalate":
            channel, private, unknown = self.channels.escalation, texts.ESCALATE_WHERE_PRIVATE, texts.ESCALATE_WHERE_UNKNOWN
        elif action == "review":
            channel, private, unknown = self.channels.product_feedback, texts.REVIEW_WHERE_PRIVATE, texts.REVIEW_WHERE_UNKNOWN
        else:
            return None
        if not channel or channel == case.channel_id or case.visibility == PUBLIC:
            return None
        return (private if case.visibility == PRIVATE else unknown).format(channel=channel)

    def says_outsider(self, user_id: str) -> bool:
        """For a warning while picking: True only when Slack says they are from another organisation."""
        try:
            return self.audiences.is_outsider(user_id)
        except AudienceUnknown:
            return False  # checked again, failing safe, before anything is sent

    def configured_channel(self, name: str, channel: str | None, user: str) -> str | None:
        """A configured channel, unless Slack says another organisation reads it (then case content stays home).
        If Slack can't say, the operator's choice stands: it was named as an internal channel."""
        if not channel:
            return None
        try:
            if not self.audiences.of(channel).external:
                return channel
        except AudienceUnknown:
            return channel
        log.error("%s %s is shared with another organisation; not posting case content there", name, channel)
        self.notify.tell(user, Message(texts.CONFIGURED_CHANNEL_SHARED.format(name=name, channel=channel)))
        return None

    def is_colleague(self, user_id: str) -> bool:
        """Someone of our own organisation, so case content may be sent to them; fails safe."""
        try:
            return not self.audiences.is_outsider(user_id)
        except AudienceUnknown as exc:
            if exc.error in ("user_not_found", "users_not_found"):
                return True  # nobody to leak to: the DM fails on its own and the requester is told why
            log.warning("could not tell whether %s is from another organisation (%s); not sending the case", user_id, exc.error)
            return False
