"""Whom a case may be handed to: a person (not a bot), still in the workspace, not the requester, and
from our own organisation (the request DM carries the whole case). One set of checks, used while the
colleague is picked, when the form is submitted (before the ack: no Slack or database calls), and after."""

from __future__ import annotations

from datetime import datetime

from bot import texts
from bot.core import mrkdwn
from bot.core.people import People, Person
from bot.delivery.routing import Router

SLACKBOT = "USLACKBOT"


def check_pick(people: People, router: Router, requester: str, picked: str, now: datetime) -> tuple[str | None, str | None]:
    """While picking: (what we found about `picked`, to carry in the form: "bot", "deleted", "outsider" or
    "ok"; a warning to show in the form, if any)."""
    person = people.lookup(picked)
    if picked == requester:
        return None, texts.HANDOFF_SELF
    unfit = _unfit(person)
    if unfit:
        return unfit
    if router.says_outsider(picked):
        return "outsider", texts.HANDOFF_OUTSIDER_PICKED
    if person is not None and person.breather_until is not None and person.on_breather(now):
        until = mrkdwn.slack_date(person.breather_until, "{time}")
        return "ok", texts.HANDOFF_BREATHER_WARNING.format(user=mrkdwn.mention(picked), until=until)
    return "ok", None


def submission_problem(requester: str, colleague: str | None, checked: dict[str, str]) -> str | None:
    """On submit, before the ack: what is wrong with the choice, from what picking found."""
    if not colleague:
        return texts.ERR_REQUIRED
    if colleague == requester:
        return texts.HANDOFF_SELF
    found = checked.get(colleague)
    if found == "bot" or colleague == SLACKBOT:
        return texts.HANDOFF_BOT
    if found == "deleted":
        return texts.HANDOFF_DELETED
    if found == "outsider":
        return texts.HANDOFF_OUTSIDER_PICKED
    return None


def unfit_now(people: People, colleague: str) -> str | None:
    """After the ack, for a colleague not looked at while picking: why they cannot take a case, if so."""
    found = _unfit(people.lookup(colleague))
    return found[1] if found else None


def _unfit(person: Person | None) -> tuple[str, str] | None:
    if person is not None and person.is_bot:
        return "bot", texts.HANDOFF_BOT
    if person is not None and person.deleted:
        return "deleted", texts.HANDOFF_DELETED
    return None
