"""Post-ack work for a form submission: if the database fails it, the agent gets their words back by DM,
so nothing they typed is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import texts
from bot.core.errors import CaseError
from bot.core.textutil import quote, safe_limited_echo
from handlers.common import log
from storage.errors import DatabaseError


def echo(words: list[str | None]) -> str:
    return quote(safe_limited_echo("\n".join(w for w in words if w), 2500))


def tell_safely(services: Any, user: str, text: str) -> None:
    try:
        services.notify.tell(user, text)
    except Exception as exc:  # the DM may be out while recording its channel failed: the log has it
        log.warning("telling %s about a failure failed too: %s", user, type(exc).__name__)


def later_keeping_words(services: Any, user: str, what: str, work: Callable[[], Any], words: list[str | None]) -> None:
    """Run `work` after the ack; a refusal is told, a database failure gives the agent their words back."""

    def job() -> None:
        try:
            work()
        except CaseError as exc:
            tell_safely(services, user, exc.message)
        except DatabaseError as exc:
            log.warning("%s failed in the database: %s", what, " ".join(str(exc).split())[:200])
            tell_safely(services, user, texts.NOT_SAVED.format(what=what, echo=echo(words)) if any(words) else texts.GENERIC_FAILURE)
        except Exception:
            log.exception("%s failed", what)
            tell_safely(services, user, texts.GENERIC_FAILURE)

    services.worker.submit(job)
