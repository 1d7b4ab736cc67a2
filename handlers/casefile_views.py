"""Modal submissions for the case file, second contact, escalation, closing and review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import blocks, forms, texts
from bot.service import Defuse
from bot.timeframe import TimeframeError, parse_timeframe
from handlers.common import reported, user_id

TIMEFRAME_ERRORS = {"format": texts.ERR_TIMEFRAME, "past": texts.ERR_TIMEFRAME_PAST, "far": texts.ERR_TIMEFRAME_FAR}


def _case_id(view: dict[str, Any]) -> int:
    return int(forms.metadata(view).get("case") or 0)


def _choice(view: dict[str, Any], block: str, allowed: dict[str, str], errors: dict[str, str]) -> str | None:
    value = forms.values(view).get(block)
    if value not in allowed:
        errors[block] = texts.ERR_REQUIRED
        return None
    return value


def register(app: App, defuse: Defuse) -> None:
    def dm(body: dict[str, Any]):  # type: ignore[no-untyped-def]
        user = user_id(body)
        return lambda text: defuse.tell(user, text)

    @app.view(blocks.ATTEMPT_VIEW)
    def attempt(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        what, errors = forms.required_text(view, "what")
        result, more = forms.required_text(view, "result")
        errors.update(more)
        outcome = _choice(view, "outcome", texts.ATTEMPT_OUTCOMES, errors)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "logging an attempt"):
            case = defuse.cases.log_attempt(_case_id(view), user=user_id(body), what=what or "", result=result or "",
                                            outcome=outcome or "")
            defuse.attempt_logged(case)

    @app.view(blocks.NOTE_VIEW)
    def note(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text, errors = forms.required_text(view, "text", limit=2900)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "adding a note"):
            case = defuse.cases.add_note(_case_id(view), user=user_id(body), text=text or "")
            defuse.note_added(case)

    @app.view(blocks.HANDOFF_VIEW)
    def handoff(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = user_id(body)
        colleague = forms.values(view).get("colleague")
        note, errors = forms.optional_text(view, "note")
        checked = forms.metadata(view).get("checked") or {}
        if not colleague:
            errors["colleague"] = texts.ERR_REQUIRED
        elif colleague == user:
            errors["colleague"] = texts.HANDOFF_SELF
        elif checked.get(colleague) == "bot" or colleague == "USLACKBOT":
            errors["colleague"] = texts.HANDOFF_BOT
        elif checked.get(colleague) == "deleted":
            errors["colleague"] = texts.HANDOFF_DELETED
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "asking for a second contact"):
            if checked.get(colleague) != "ok":  # not looked at when picked: check now, after the ack
                person = defuse.people.lookup(colleague)
                if person is not None and (person.is_bot or person.deleted):
                    defuse.tell(user, texts.HANDOFF_BOT if person.is_bot else texts.HANDOFF_DELETED)
                    return
            defuse.request_handoff(_case_id(view), requester=user, colleague=colleague, note=note)

    @app.view(blocks.DECLINE_VIEW)
    def decline(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason, errors = forms.optional_text(view, "reason", limit=1000)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "declining a handoff"):
            handoff_id = int(forms.metadata(view).get("handoff") or 0)
            defuse.decline_handoff(handoff_id, user=user_id(body), reason=reason)

    @app.view(blocks.ESCALATE_VIEW)
    def escalate(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        need, errors = forms.required_text(view, "need")
        raw, more = forms.required_text(view, "timeframe", limit=40)
        errors.update(more)
        severity = _choice(view, "severity", texts.SEVERITIES, errors)
        expected_by = None
        if raw and "timeframe" not in errors:
            person = defuse.people.cached(user_id(body))  # the database only: no Web API call before ack
            try:
                expected_by = parse_timeframe(raw, defuse.cases.clock(), person.tz if person else None)
            except TimeframeError as exc:
                errors["timeframe"] = TIMEFRAME_ERRORS[exc.reason]
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "escalating"):
            defuse.escalate(_case_id(view), user=user_id(body), need=need or "", expected_by=expected_by,
                            severity=severity or "normal")

    @app.view(blocks.ESC_UPDATE_VIEW)
    def escalation_update(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        text, errors = forms.required_text(view, "text", limit=2500)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "posting an escalation update"):
            defuse.escalation_update(_case_id(view), user=user_id(body), text=text or "")

    @app.view(blocks.RESOLVE_VIEW)
    def resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        fix, errors = forms.required_text(view, "fix")
        prevention, more = forms.optional_text(view, "prevention")
        errors.update(more)
        feedback = _choice(view, "feedback", texts.YES_NO, errors)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        details = {"fix": fix, "prevention": prevention, "feedback_asked": feedback == "yes"}
        with reported(dm(body), "closing a case"):
            defuse.close(_case_id(view), user=user_id(body), outcome="resolved", details=details)

    @app.view(blocks.UNRESOLVED_VIEW)
    def unresolved(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        explanation, errors = forms.required_text(view, "explanation", limit=2500)
        apologised = _choice(view, "apologised", texts.YES_NO, errors)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        details = {"explanation": explanation, "apologised": apologised == "yes"}
        with reported(dm(body), "closing a case"):
            defuse.close(_case_id(view), user=user_id(body), outcome="unresolved", details=details)

    @app.view(blocks.REVIEW_VIEW)
    def review(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        errors: dict[str, str] = {}
        cause = _choice(view, "cause", texts.CAUSES, errors)
        improve, more = forms.optional_text(view, "improve")
        errors.update(more)
        ux_issue, more = forms.optional_text(view, "ux")
        errors.update(more)
        if errors:
            return ack(response_action="errors", errors=errors)
        ack()
        with reported(dm(body), "saving a review"):
            defuse.review(_case_id(view), user=user_id(body), cause=cause or "other", improve=improve, ux_issue=ux_issue)
