"""Modal submissions for the case file, second contact, escalation, closing and review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import blocks, forms, texts
from bot.service import Defuse
from bot.timeframe import TimeframeError, parse_timeframe
from handlers.common import accepted, later, user_id

TIMEFRAME_ERRORS = {"format": texts.ERR_TIMEFRAME, "past": texts.ERR_TIMEFRAME_PAST, "far": texts.ERR_TIMEFRAME_FAR}


def _case_id(view: dict[str, Any]) -> int:
    return int(forms.metadata(view).get("case") or 0)


def register(app: App, defuse: Defuse) -> None:
    def dm(body: dict[str, Any]):  # type: ignore[no-untyped-def]
        user = user_id(body)
        return lambda text: defuse.tell(user, text)

    @app.view(blocks.ATTEMPT_VIEW)
    def attempt(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"what": 2000, "result": 2000}, choices={"outcome": texts.ATTEMPT_OUTCOMES})
        if not accepted(ack, errors):
            return

        def work() -> None:
            case = defuse.cases.log_attempt(_case_id(view), user=user_id(body), what=v["what"], result=v["result"],
                                            outcome=v["outcome"])
            defuse.attempt_logged(case)
        later(defuse, dm(body), "logging an attempt", work)

    @app.view(blocks.NOTE_VIEW)
    def note(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"text": 2900})
        if not accepted(ack, errors):
            return

        def work() -> None:
            case = defuse.cases.add_note(_case_id(view), user=user_id(body), text=v["text"])
            defuse.note_added(case)
        later(defuse, dm(body), "adding a note", work)

    @app.view(blocks.HANDOFF_VIEW)
    def handoff(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = user_id(body)
        colleague = forms.values(view).get("colleague")
        v, errors = forms.check(view, optional={"note": 2000})
        note = v["note"]
        checked = forms.metadata(view).get("checked") or {}
        if not colleague:
            errors["colleague"] = texts.ERR_REQUIRED
        elif colleague == user:
            errors["colleague"] = texts.HANDOFF_SELF
        elif checked.get(colleague) == "bot" or colleague == "USLACKBOT":
            errors["colleague"] = texts.HANDOFF_BOT
        elif checked.get(colleague) == "deleted":
            errors["colleague"] = texts.HANDOFF_DELETED
        elif checked.get(colleague) == "outsider":
            errors["colleague"] = texts.HANDOFF_OUTSIDER_PICKED
        if not accepted(ack, errors):
            return

        def work() -> None:
            if checked.get(colleague) != "ok":  # not looked at when picked: check now, after the ack
                person = defuse.people.lookup(colleague)
                if person is not None and (person.is_bot or person.deleted):
                    defuse.tell(user, texts.HANDOFF_BOT if person.is_bot else texts.HANDOFF_DELETED)
                    return
            defuse.request_handoff(_case_id(view), requester=user, colleague=colleague, note=note)
        later(defuse, dm(body), "asking for a second contact", work)

    @app.view(blocks.DECLINE_VIEW)
    def decline(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, optional={"reason": 1000})
        if not accepted(ack, errors):
            return

        def work() -> None:
            handoff_id = int(forms.metadata(view).get("handoff") or 0)
            defuse.decline_handoff(handoff_id, user=user_id(body), reason=v["reason"])
        later(defuse, dm(body), "declining a handoff", work)

    @app.view(blocks.ESCALATE_VIEW)
    def escalate(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"need": 2000, "timeframe": 40}, choices={"severity": texts.SEVERITIES})
        raw = v["timeframe"]
        expected_by = None
        if raw and "timeframe" not in errors:
            person = defuse.people.cached(user_id(body))  # the database only: no Web API call before ack
            try:
                expected_by = parse_timeframe(raw, defuse.cases.clock(), person.tz if person else None)
            except TimeframeError as exc:
                errors["timeframe"] = TIMEFRAME_ERRORS[exc.reason]
        if not accepted(ack, errors):
            return

        def work() -> None:
            defuse.escalate(_case_id(view), user=user_id(body), need=v["need"], expected_by=expected_by,
                            severity=v["severity"])
        later(defuse, dm(body), "escalating", work)

    @app.view(blocks.ESC_UPDATE_VIEW)
    def escalation_update(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"text": 2500})
        if not accepted(ack, errors):
            return

        def work() -> None:
            defuse.escalation_update(_case_id(view), user=user_id(body), text=v["text"])
        later(defuse, dm(body), "posting an escalation update", work)

    @app.view(blocks.RESOLVE_VIEW)
    def resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"fix": 2000}, optional={"prevention": 2000}, choices={"feedback": texts.YES_NO})
        if not accepted(ack, errors):
            return
        details = {"fix": v["fix"], "prevention": v["prevention"], "feedback_asked": v["feedback"] == "yes"}

        def work() -> None:
            defuse.close(_case_id(view), user=user_id(body), outcome="resolved", details=details)
        later(defuse, dm(body), "closing a case", work)

    @app.view(blocks.UNRESOLVED_VIEW)
    def unresolved(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"explanation": 2500}, choices={"apologised": texts.YES_NO})
        if not accepted(ack, errors):
            return
        details = {"explanation": v["explanation"], "apologised": v["apologised"] == "yes"}

        def work() -> None:
            defuse.close(_case_id(view), user=user_id(body), outcome="unresolved", details=details)
        later(defuse, dm(body), "closing a case", work)

    @app.view(blocks.REVIEW_VIEW)
    def review(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, optional={"improve": 2000, "ux": 2000}, choices={"cause": texts.CAUSES})
        if not accepted(ack, errors):
            return

        def work() -> None:
            defuse.review(_case_id(view), user=user_id(body), cause=v["cause"], improve=v["improve"], ux_issue=v["ux"])
        later(defuse, dm(body), "saving a review", work)
