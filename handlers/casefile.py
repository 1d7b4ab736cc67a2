"""Buttons on the case message beyond the checklist: case file, second contact, escalation, closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, forms, modals, texts
from bot.cases import Cases
from bot.core import mrkdwn
from bot.core.snapshot import CaseSnapshot
from bot.service import Defuse
from handlers.common import action_value, ephemeral, later, parse_id, reported, user_id

# button -> (modal builder, ownership action or None, must the case be open?)
CASE_BUTTONS: dict[str, tuple[Callable[[int], dict[str, Any]], str | None, bool | None]] = {
    blocks.ATTEMPT_ACTION: (modals.attempt_modal, None, None),
    blocks.NOTE_ACTION: (modals.note_modal, None, None),
    blocks.HANDOFF_ACTION: (modals.handoff_modal, "handoff", True),
    blocks.ESCALATE_ACTION: (modals.escalate_modal, "escalate", True),
    blocks.RESOLVE_ACTION: (modals.resolve_modal, "close", True),
    blocks.UNRESOLVED_ACTION: (modals.unresolved_modal, "close", True),
    blocks.REVIEW_ACTION: (modals.review_modal, None, False),
}

# Modals whose content is posted outside the case's channel: they say where before sending (who sees what).
SAYS_WHERE = {blocks.ESCALATE_ACTION: "escalate", blocks.REVIEW_ACTION: "review"}


def _allowed(case: CaseSnapshot, user: str, action: str | None, must_be_open: bool | None) -> None:
    if must_be_open:
        Cases.check_open(case)
    if action == "review":
        return
    if action:
        Cases.check_owner(case, user, action)


def register(app: App, defuse: Defuse) -> None:
    def open_case_modal(action_id: str) -> None:
        builder, ownership, must_be_open = CASE_BUTTONS[action_id]

        @app.action(action_id)
        def handler(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            ack()
            tell = ephemeral(respond)
            with reported(tell, action_id):
                case = defuse.cases.require(parse_id(action_value(body)) or 0)
                user = user_id(body)
                _allowed(case, user, ownership, must_be_open)
                if must_be_open is False and case.is_open:
                    tell(texts.CASE_NOT_CLOSED.format(number=case.id))
                    return
                if action_id == blocks.REVIEW_ACTION and user not in (case.owner_id, case.closed_by):
                    Cases.check_owner(case, user, "review")
                notice = defuse.where_it_goes(case, SAYS_WHERE[action_id]) if action_id in SAYS_WHERE else None
                view = builder(case.id, notice) if notice else builder(case.id)  # type: ignore[call-arg]
                client.views_open(trigger_id=body["trigger_id"], view=view)

    for action_id in CASE_BUTTONS:
        open_case_modal(action_id)

    @app.action(blocks.REOPEN_ACTION)
    def reopen(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            defuse.reopen(parse_id(action_value(body)) or 0, user=user_id(body))
        later(defuse, ephemeral(respond), "reopen", work)

    @app.action(blocks.HANDOFF_PICK_ACTION)
    def handoff_pick(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A colleague was picked in the handoff modal: say at once if that is a bot or someone on a breather."""
        ack()
        view = body.get("view") or {}
        meta = forms.metadata(view)
        picked = (body.get("actions") or [{}])[0].get("selected_user")
        if not picked or not meta.get("case"):
            return
        with reported(lambda text: defuse.tell(user_id(body), text), "checking a colleague"):
            person = defuse.people.lookup(picked)
            checked = dict(meta.get("checked") or {})
            warning = None
            if picked == user_id(body):
                warning = texts.HANDOFF_SELF
            elif person is not None and person.is_bot:
                checked[picked], warning = "bot", texts.HANDOFF_BOT
            elif person is not None and person.deleted:
                checked[picked], warning = "deleted", texts.HANDOFF_DELETED
            elif defuse.audiences_say_outsider(picked):
                checked[picked], warning = "outsider", texts.HANDOFF_OUTSIDER_PICKED
            else:
                checked[picked] = "ok"
                if person is not None and person.on_breather(defuse.cases.clock()):
                    until = mrkdwn.slack_date(person.breather_until, "{time}")  # type: ignore[arg-type]
                    warning = texts.HANDOFF_BREATHER_WARNING.format(user=mrkdwn.mention(picked), until=until)
            updated = modals.handoff_modal(int(meta["case"]), warning=warning, checked=checked, selected=picked)
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)

    @app.action(blocks.HANDOFF_ACCEPT_ACTION)
    def accept(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            defuse.accept_handoff(parse_id(action_value(body)) or 0, user=user_id(body))
        later(defuse, ephemeral(respond), "accepting a handoff", work)

    @app.action(blocks.HANDOFF_DECLINE_ACTION)
    def decline(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(ephemeral(respond), "declining a handoff"):
            handoff_id = parse_id(action_value(body)) or 0
            handoff = defuse.handoffs.get(handoff_id)
            if handoff is None or handoff.to_user != user_id(body):
                ephemeral(respond)(texts.HANDOFF_NOT_YOURS.format(user=mrkdwn.mention(handoff.to_user if handoff else None)))
                return
            client.views_open(trigger_id=body["trigger_id"], view=modals.decline_modal(handoff_id))

    @app.action(blocks.ESC_UPDATE_ACTION)
    def escalation_update(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with reported(ephemeral(respond), "escalation update"):
            case = defuse.cases.require(parse_id(action_value(body)) or 0)
            client.views_open(trigger_id=body["trigger_id"], view=modals.escalation_update_modal(case.id))

    @app.action(blocks.ESC_FIXED_ACTION)
    def escalation_fixed(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        tell = ephemeral(respond)

        def work() -> None:
            if not defuse.escalation_fixed(parse_id(action_value(body)) or 0, user=user_id(body)):
                tell(texts.ESC_ALREADY_FIXED)
        later(defuse, tell, "escalation fixed", work)
