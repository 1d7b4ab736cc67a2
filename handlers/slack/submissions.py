"""Post-ack work for a form submission: if the database fails it, the agent gets their words back by DM,
so nothing they typed is lost."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import texts
from bot.core.errors import CaseError
from bot.core.textutil import quote, safe_limited_echo
from handlers.common import ephemeral, later, log
from handlers.services import Services, of
from handlers.slack import forms
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


@dataclass(frozen=True)
class Form:
    """What a modal asks for and how it is checked before the ack (bot-side rules run after it):
    {block: max length} for texts, {block: allowed labels} for choices. `words` names the blocks that
    hold the agent's own writing, given back by DM if saving fails after the modal closed."""

    required: Mapping[str, int] = field(default_factory=dict)
    optional: Mapping[str, int] = field(default_factory=dict)
    choices: Mapping[str, dict[str, str]] = field(default_factory=dict)
    maybe: Mapping[str, dict[str, str]] = field(default_factory=dict)
    words: tuple[str, ...] = ()

    def read(self, view: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return forms.check(view, required=dict(self.required), optional=dict(self.optional), choices=dict(self.choices),
                           maybe=dict(self.maybe))


@dataclass(frozen=True)
class FromContext:
    """Who sent a request, the ids its button or view carried, and the services (Bolt's context)."""

    context: Any

    @property
    def services(self) -> Services:
        return of(self.context)

    @property
    def user(self) -> str:
        return str(self.context["user_id"])

    @property
    def case_id(self) -> int:
        return int(self.context.get("case_id") or 0)

    @property
    def handoff_id(self) -> int:
        return int(self.context.get("handoff_id") or 0)

    @property
    def reminder_id(self) -> int:
        return int(self.context.get("reminder_id") or 0)


@dataclass(frozen=True)
class Click(FromContext):
    """A button whose work runs after the ack; a refusal or a failure reaches the clicker ephemerally."""

    respond: Any

    def later(self, what: str, work: Callable[[], Any]) -> None:
        later(self.services, ephemeral(self.respond), what, work)


def clicked(ack: Callable[..., Any], context: Any, respond: Any) -> Click:
    ack()
    return Click(context, respond)


@dataclass(frozen=True)
class Submission(FromContext):
    """An accepted submission: its values, on top of who sent it and the ids its view carried."""

    form: Form
    values: dict[str, Any]

    def __getitem__(self, block: str) -> Any:
        return self.values[block]

    def later(self, what: str, work: Callable[[], Any], *, words: list[str | None] | None = None) -> None:
        """Do `work` after the ack, keeping the agent's words (the form's, or `words`) if it fails."""
        kept = words if words is not None else [self.values.get(block) for block in self.form.words]
        later_keeping_words(self.services, self.user, what, work, kept)


def take(ack: Callable[..., Any], view: dict[str, Any], context: Any, form: Form,
         more: Callable[[dict[str, Any], dict[str, str]], None] | None = None) -> Submission | None:
    """Check the form and answer Slack: errors keep the modal open (None), else it closes. `more` may add
    errors of its own (values, errors) before the answer."""
    values, errors = form.read(view)
    if more is not None:
        more(values, errors)
    if errors:
        ack(response_action="errors", errors=errors)
        return None
    ack()
    return Submission(context, form, values)
