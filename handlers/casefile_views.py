"""Modal submissions for the case file, second contact, escalation, closing and review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from sqlalchemy.exc import SQLAlchemyError

from bot import blocks, forms, texts
from bot.core.errors import CaseError
from bot.service import Defuse
from bot.textutil import quote, safe_limited_echo
from bot.timeframe import TimeframeError, parse_timeframe
from handlers.common import accepted, log, user_id

TIMEFRAME_ERRORS = {"format": texts.ERR_TIMEFRAME, "past": texts.ERR_TIMEFRAME_PAST, "far": texts.ERR_TIMEFRAME_FAR}
# The time zones furthest ahead and behind: a timeframe wrong in both is wrong wherever the agent is.
_EARLIEST_ZONE, _LATEST_ZONE = "Etc/GMT-14", "Etc/GMT+12"


def _meta_id(view: dict[str, Any], key: str) -> int:
    """An id from a modal's metadata; 0 (reported as "not found" after the ack) if unreadable."""
    value = forms.metadata(view).get(key)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _case_id(view: dict[str, Any]) -> int:
    return _meta_id(view, "case")


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


def _echo(words: list[str | None]) -> str:
    return quote(safe_limited_echo("\n".join(w for w in words if w), 2500))


def _tell(defuse: Defuse, user: str, text: str) -> None:
    try:
        defuse.tell(user, text)
    except Exception as exc:  # the DM may be out while recording its channel failed: the log has it
        log.warning("telling %s about a failure failed too: %s", user, type(exc).__name__)


def later_keeping_words(defuse: Defuse, user: str, what: str, work: Callable[[], Any], words: list[str | None]) -> None:
    """Post-ack work for a submission; if the database fails it, the agent gets their words back by DM."""

    def job() -> None:
        try:
            work()
        except CaseError as exc:
            _tell(defuse, user, exc.message)
        except SQLAlchemyError as exc:
            log.warning("%s failed in the database: %s", what, " ".join(str(exc).split())[:200])
            _tell(defuse, user, texts.NOT_SAVED.format(what=what, echo=_echo(words)) if any(words) else texts.GENERIC_FAILURE)
        except Exception:
            log.exception("%s failed", what)
            _tell(defuse, user, texts.GENERIC_FAILURE)

    defuse.worker.submit(job)


def register(app: App, defuse: Defuse) -> None:
    @app.view(blocks.ATTEMPT_VIEW)
    def attempt(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"what": 2000, "result": 2000}, choices={"outcome": texts.ATTEMPT_OUTCOMES})
        if not accepted(ack, errors):
            return

        def work() -> None:
            case = defuse.cases.log_attempt(_case_id(view), user=user_id(body), what=v["what"], result=v["result"],
                                            outcome=v["outcome"])
            defuse.attempt_logged(case)
        later_keeping_words(defuse, user_id(body), "logging the attempt", work, [v["what"], v["result"]])

    @app.view(blocks.NOTE_VIEW)
    def note(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"text": 2900})
        if not accepted(ack, errors):
            return

        def work() -> None:
            case = defuse.cases.add_note(_case_id(view), user=user_id(body), text=v["text"])
            defuse.note_added(case)
        later_keeping_words(defuse, user_id(body), "the note", work, [v["text"]])

    @app.view(blocks.HANDOFF_VIEW)
    def handoff(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = user_id(body)
        colleague = forms.values(view).get("colleague")
        v, errors = forms.check(view, optional={"note": 2000})
        note = v["note"]
        checked = forms.metadata(view).get("checked")
        checked = checked if isinstance(checked, dict) else {}
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
        later_keeping_words(defuse, user, "asking for a second contact", work, [note])

    @app.view(blocks.DECLINE_VIEW)
    def decline(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, optional={"reason": 1000})
        if not accepted(ack, errors):
            return

        def work() -> None:
            handoff_id = _meta_id(view, "handoff")
            defuse.decline_handoff(handoff_id, user=user_id(body), reason=v["reason"])
        later_keeping_words(defuse, user_id(body), "declining the handoff", work, [v["reason"]])

    @app.view(blocks.ESCALATE_VIEW)
    def escalate(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"need": 2000, "timeframe": 40}, choices={"severity": texts.SEVERITIES})
        raw = v["timeframe"]
        if raw and "timeframe" not in errors:
            problem = timeframe_problem(raw, defuse.cases.clock(), defuse.people.remembered_tz(user_id(body)))
            if problem:
                errors["timeframe"] = TIMEFRAME_ERRORS[problem]
        if not accepted(ack, errors):
            return
        user, case_id = user_id(body), _case_id(view)

        def work() -> None:
            person = defuse.people.cached(user)
            try:  # exactly, in the agent's own time zone
                expected_by = parse_timeframe(raw or "", defuse.cases.clock(), person.tz if person else None)
            except TimeframeError as exc:
                _tell(defuse, user, texts.ESCALATION_NOT_SENT.format(
                    number=case_id, problem=TIMEFRAME_ERRORS[exc.reason], echo=_echo([v["need"], raw])))
                return
            defuse.escalate(case_id, user=user, need=v["need"], expected_by=expected_by, severity=v["severity"])
        later_keeping_words(defuse, user, "the escalation", work, [v["need"], raw])

    @app.view(blocks.ESC_UPDATE_VIEW)
    def escalation_update(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"text": 2500})
        if not accepted(ack, errors):
            return

        def work() -> None:
            defuse.escalation_update(_case_id(view), user=user_id(body), text=v["text"])
        later_keeping_words(defuse, user_id(body), "the escalation update", work, [v["text"]])

    @app.view(blocks.RESOLVE_VIEW)
    def resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"fix": 2000}, optional={"prevention": 2000}, choices={"feedback": texts.YES_NO})
        if not accepted(ack, errors):
            return
        details = {"fix": v["fix"], "prevention": v["prevention"], "feedback_asked": v["feedback"] == "yes"}

        def work() -> None:
            defuse.close(_case_id(view), user=user_id(body), outcome="resolved", details=details)
        later_keeping_words(defuse, user_id(body), "closing the case", work, [v["fix"], v["prevention"]])

    @app.view(blocks.UNRESOLVED_VIEW)
    def unresolved(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, required={"explanation": 2500}, choices={"apologised": texts.YES_NO})
        if not accepted(ack, errors):
            return
        details = {"explanation": v["explanation"], "apologised": v["apologised"] == "yes"}

        def work() -> None:
            defuse.close(_case_id(view), user=user_id(body), outcome="unresolved", details=details)
        later_keeping_words(defuse, user_id(body), "closing the case", work, [v["explanation"]])

    @app.view(blocks.REVIEW_VIEW)
    def review(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        v, errors = forms.check(view, optional={"improve": 2000, "ux": 2000}, choices={"cause": texts.CAUSES})
        if not accepted(ack, errors):
            return

        def work() -> None:
            defuse.review(_case_id(view), user=user_id(body), cause=v["cause"], improve=v["improve"], ux_issue=v["ux"])
        later_keeping_words(defuse, user_id(body), "the review", work, [v["improve"], v["ux"]])
