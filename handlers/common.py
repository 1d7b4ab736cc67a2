"""Shared bits for listeners: payload helpers and the safety net around post-ack work."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import texts
from bot.core.errors import CaseError
from bot.core.ports import SlackFailure
from bot.core.rules import check_may
from handlers.slack.surface import error_code
from storage.errors import DatabaseError

log = logging.getLogger("defuse.handlers")
Listener = Callable[..., Any]  # a Bolt listener: takes the arguments it names (ack, body, context...)


def user_id(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return user.get("id") or body.get("user_id") or ""


def team_id(body: dict[str, Any]) -> str | None:
    team = body.get("team") or {}
    return team.get("id") or body.get("team_id")


def action_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or actions[0].get("selected_option", {}).get("value") or "")


def parse_id(value: str) -> int | None:
    try:
        return int(value.split(":", 1)[0])
    except ValueError:
        return None


@contextmanager
def reported(tell: Callable[[str], Any], what: str) -> Iterator[None]:
    """Run post-ack work; a domain refusal or any failure reaches the user as a message, never silence."""
    try:
        yield
    except CaseError as exc:
        _safe_tell(tell, exc.message)
    except (SlackApiError, SlackFailure) as exc:
        log.warning("%s: Slack said %s", what, error_code(exc))
        _safe_tell(tell, texts.GENERIC_FAILURE)
    except DatabaseError as exc:  # the database is down or hung: expected, one line is enough
        log.warning("%s: database unavailable: %s", what, " ".join(str(exc).split())[:200])
        _safe_tell(tell, texts.GENERIC_FAILURE)
    except Exception:
        log.exception("%s failed", what)
        _safe_tell(tell, texts.GENERIC_FAILURE)


def _safe_tell(tell: Callable[[str], Any], text: str) -> None:
    try:
        tell(text)
    except Exception as exc:  # the user can't be reached either; the log has it
        log.warning("could not report a failure to the user: %s", exc)


def ephemeral(respond: Callable[..., Any]) -> Callable[[str], Any]:
    return lambda text: respond(text=text, response_type="ephemeral", replace_original=False)


def later(defuse: Any, tell: Callable[[str], Any], what: str, work: Callable[[], Any]) -> None:
    """Run `work` on the post-ack worker, reporting any failure to the user."""

    def job() -> None:
        with reported(tell, what):
            work()

    defuse.worker.submit(job)


def accepted(ack: Callable[..., Any], errors: dict[str, str]) -> bool:
    """Answer a modal submission: show `errors` inline and keep it open, or close it (True)."""
    if errors:
        ack(response_action="errors", errors=errors)
        return False
    ack()
    return True


def open_case_form(body: dict[str, Any], context: Any, respond: Callable[..., Any], what: str,
                   build: Callable[[int, str | None], dict[str, Any]], action: str | None = None,
                   says_where: str | None = None) -> None:
    """A case button that opens a form: check that the person may (`action`, bot.core.rules.check_may),
    then open it. `says_where`: the form's content leaves the case's channel, so it says where first."""
    from handlers.services import of

    services, tell = of(context), ephemeral(respond)
    with reported(tell, what):
        case = services.cases.require(context.get("case_id") or 0)
        if action:
            check_may(case, context["user_id"], action)
        notice = services.router.where_it_goes(case, says_where) if says_where else None
        services.slack.open_view(body["trigger_id"], build(case.id, notice))
