"""Listeners of escalation: the Escalate button and form (with a realistic timeframe), the experts'
Update and Fixed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot import texts
from bot.escalation.timeframe import TimeframeError, parse_timeframe
from handlers.common import Listener, ephemeral, later, open_case_form, reported
from handlers.escalation import ids
from handlers.escalation import views as escalation_views
from handlers.services import of
from handlers.slack.submissions import Form, Submission, echo, take, tell_safely

TIMEFRAME_ERRORS = {"format": texts.ERR_TIMEFRAME, "past": texts.ERR_TIMEFRAME_PAST, "far": texts.ERR_TIMEFRAME_FAR}
# The time zones furthest ahead and behind: a timeframe wrong in both is wrong wherever the agent is.
_EARLIEST_ZONE, _LATEST_ZONE = "Etc/GMT-14", "Etc/GMT+12"


def timeframe_problem(raw: str, now: datetime, tz: tuple[bool, str | None] = (False, None)) -> str | None:
    """Judge a timeframe before ack(), where the database may not be read: in the agent's time zone if
    it is in memory (`tz` = (known, zone)), else refusing only what is wrong in every zone. The exact
    check runs again after the ack."""
    known, zone_name = tz
    zones = [zone_name] if known else [_EARLIEST_ZONE, _LATEST_ZONE]
    problems = []
    for zone in zones:
        try:
            parse_timeframe(raw, now, zone)
            return None
        except TimeframeError as exc:
            problems.append(exc.reason)
    return problems[0]


def open_escalate(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    open_case_form(body, context, respond, ids.ESCALATE_ACTION, escalation_views.escalate_modal, action="escalate",
                   says_where="escalate")


ESCALATE_FORM = Form(required={"need": 2000, "timeframe": 40}, choices={"severity": texts.SEVERITIES},
                     words=("need", "timeframe"))


def escalate(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services, user = of(context), context["user_id"]

    def check_timeframe(values: dict[str, Any], errors: dict[str, str]) -> None:
        if values["timeframe"] and "timeframe" not in errors:
            problem = timeframe_problem(values["timeframe"], services.cases.clock(), services.people.remembered_tz(user))
            if problem:
                errors["timeframe"] = TIMEFRAME_ERRORS[problem]

    if s := take(ack, view, context, ESCALATE_FORM, more=check_timeframe):
        s.later("the escalation", lambda: escalate_after_ack(s))


def escalate_after_ack(s: Submission) -> None:
    zone = s.services.people.tz(s.user)  # users.info for an agent Defuse has not met yet
    try:  # exactly, in the agent's own time zone
        expected_by = parse_timeframe(s["timeframe"] or "", s.services.cases.clock(), zone)
    except TimeframeError as exc:
        tell_safely(s.services, s.user, texts.ESCALATION_NOT_SENT.format(
            number=s.case_id, problem=TIMEFRAME_ERRORS[exc.reason], echo=echo([s["need"], s["timeframe"]])))
        return
    s.services.escalation.escalate(s.case_id, user=s.user, need=s["need"], expected_by=expected_by, severity=s["severity"])


def open_update(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    services = of(context)
    with reported(ephemeral(respond), "escalation update"):
        case = services.cases.require(context.get("case_id") or 0)
        services.slack.open_view(body["trigger_id"], escalation_views.escalation_update_modal(case.id))


UPDATE_FORM = Form(required={"text": 2500}, words=("text",))


def update(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    if s := take(ack, view, context, UPDATE_FORM):
        s.later("the escalation update", lambda: s.services.escalation.update(s.case_id, user=s.user, text=s["text"]))


def fixed(ack: Ack, context: BoltContext, respond: Respond) -> None:
    ack()
    services, user, case_id, tell = of(context), context["user_id"], context.get("case_id") or 0, ephemeral(respond)

    def work() -> None:
        if not services.escalation.fixed(case_id, user=user):
            tell(texts.ESC_ALREADY_FIXED)
    later(services, tell, "escalation fixed", work)


# What Slack sends here, and the listener for each (handlers.register wires them into Bolt).
ACTIONS: dict[str, Listener] = {
    ids.ESCALATE_ACTION: open_escalate,
    ids.ESC_UPDATE_ACTION: open_update,
    ids.ESC_FIXED_ACTION: fixed,
}
VIEWS: dict[str, Listener] = {
    ids.ESCALATE_VIEW: escalate,
    ids.ESC_UPDATE_VIEW: update,
}
