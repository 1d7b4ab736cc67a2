"""Case file, second contact, escalation, closing and review, end to end.

Signed requests go to the real app (`python app.py`); every Web API call lands in the Slack stand-in,
and the assertions read what the stand-in received and, where useful, the app's event log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import texts
from tests.harness import SlackSender

BOT = "UBOT"  # the stand-in's bot user
ENV = {"ESCALATION_CHANNEL": "CESCALATE", "PRODUCT_FEEDBACK_CHANNEL": "CPRODUCT"}


def flat(obj: Any) -> str:
    """Every piece of text in a message or view (its fallback text and every "text" in its blocks)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(obj)
    return "\n".join(out)


def action_ids(message: dict[str, Any]) -> list[str]:
    return [e.get("action_id") for b in message.get("blocks") or [] for e in (b.get("elements") or []) if e.get("action_id")]


@dataclass
class Posted:
    id: int
    channel: str
    ts: str


class World:
    """The running app, the stand-in and the sender, with the small steps every flow is made of."""

    def __init__(self, app: Any, standin: Any):
        self.app = app
        self.standin = standin
        self.slack = SlackSender(app.url, standin)
        self._db = None

    # --- database --------------------------------------------------------------------------
    @property
    def db(self):  # type: ignore[no-untyped-def]
        if self._db is None:
            from storage.db import Database

            self._db = Database(self.app.env["DATABASE_URL"], pool_size=2)
        return self._db

    def history(self, case_id: int) -> list[dict[str, Any]]:
        from bot.cases import Cases

        return Cases(self.db).history(case_id)

    def kinds(self, case_id: int) -> list[str]:
        return [e["kind"] for e in self.history(case_id)]

    def case(self, case_id: int):  # type: ignore[no-untyped-def]
        from bot.cases import Cases

        return Cases(self.db).require(case_id)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    # --- the case message -------------------------------------------------------------------
    def bot_top_level(self, channel: str = "CSUPPORT") -> list[dict[str, Any]]:
        return [m for m in self.standin.messages(channel) if m["thread_ts"] in (None, m["ts"]) and m.get("user") == BOT]

    def open_case(self, text: str = "Acme Corp: charged twice, threatening to cancel", *, user: str = "UAGENT",
                  channel: str = "CSUPPORT") -> Posted:
        before = {m["ts"] for m in self.bot_top_level(channel)}
        reply = self.slack.command(text, user=user, channel=channel)
        assert reply.status == 200 and reply.elapsed < 2.0
        return self._posted(channel, before)

    def _posted(self, channel: str, before: set[str]) -> Posted:
        message = self.standin.wait_for(
            lambda: [m for m in self.bot_top_level(channel) if m["ts"] not in before and "case_" in json.dumps(m["blocks"])][0]
        )
        block_id = next(b["block_id"] for b in message["blocks"] if (b.get("block_id") or "").startswith("case_"))
        posted = Posted(int(block_id[len("case_"):]), channel, message["ts"])
        self.standin.wait_for(lambda: self.thread(posted))  # the checklist
        return posted

    def message(self, posted: Posted) -> dict[str, Any]:
        found = next(m for m in self.standin.messages(posted.channel) if m["ts"] == posted.ts)
        return {**found, "channel": posted.channel}

    def wait_case(self, posted: Posted, predicate: Callable[[str], bool]) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            message = self.message(posted)
            return message if predicate(flat(message)) else None

        return self.standin.wait_for(check)

    def thread(self, posted: Posted) -> list[dict[str, Any]]:
        return self.standin.thread(posted.channel, posted.ts)

    def wait_thread(self, posted: Posted, needle: str) -> dict[str, Any]:
        return self.standin.wait_for(lambda: [m for m in self.thread(posted) if needle in flat(m)][0])

    def checklist(self, posted: Posted) -> dict[str, Any]:
        return {**self.thread(posted)[0], "channel": posted.channel}

    # --- DMs and ephemeral answers ------------------------------------------------------------
    def dms(self, user: str) -> list[dict[str, Any]]:
        return [{**m, "channel": "D" + user} for m in self.standin.dm_messages(user)]

    def wait_dm(self, user: str, needle: str) -> dict[str, Any]:
        return self.standin.wait_for(lambda: [m for m in self.dms(user) if needle in flat(m)][0])

    def wait_response(self, needle: str) -> dict[str, Any]:
        return self.standin.wait_for(lambda: [r for r in self.standin.responses() if needle in flat(r)][0])

    # --- buttons and modals -----------------------------------------------------------------
    def click(self, message: dict[str, Any], action_id: str, *, user: str = "UAGENT", value: str | None = None):  # type: ignore[no-untyped-def]
        reply = self.slack.click(message, action_id, value, user=user, channel=message.get("channel"))
        assert reply.status == 200 and reply.elapsed < 2.0, reply
        return reply

    def modal(self, do: Callable[[], Any], callback_id: str) -> dict[str, Any]:
        """Run `do` (a click, a command, a shortcut) and return the modal it opened."""
        before = set(self.standin.views())
        do()
        return self.standin.wait_for(
            lambda: [v for vid, v in self.standin.views().items() if vid not in before and v["callback_id"] == callback_id][0]
        )

    def case_modal(self, posted: Posted, action_id: str, callback_id: str, *, user: str = "UAGENT") -> dict[str, Any]:
        return self.modal(lambda: self.click(self.message(posted), action_id, user=user), callback_id)

    def view(self, view_id: str) -> dict[str, Any]:
        return self.standin.views()[view_id]

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str = "UAGENT"):  # type: ignore[no-untyped-def]
        reply = self.slack.submit(view, values, user=user)
        assert reply.status == 200 and reply.elapsed < 2.0, reply
        return reply

    def pick_user(self, view: dict[str, Any], picked: str, *, user: str = "UAGENT") -> dict[str, Any]:
        """Pick someone in the handoff modal's user select (dispatch_action); returns the updated view."""
        old_hash = view["hash"]
        payload = self.slack._base("block_actions", user)
        payload.update({
            "container": {"type": "view", "view_id": view["id"]},
            "view": {**view, "state": {"values": {"colleague": {"handoff_pick": {"type": "users_select", "selected_user": picked}}}}},
            "actions": [{"type": "users_select", "action_id": "handoff_pick", "block_id": "colleague",
                         "selected_user": picked, "action_ts": f"{time.time():.6f}"}],
        })
        reply = self.slack.interactive(payload)
        assert reply.status == 200 and reply.elapsed < 2.0, reply
        return self.standin.wait_for(lambda: (v := self.view(view["id"]))["hash"] != old_hash and v)

    def settle(self, seconds: float = 0.3) -> None:
        """Let post-ack work that should NOT happen have a chance to show up."""
        time.sleep(seconds)


@pytest.fixture
def world(start_app, standin, database_url) -> Iterator[World]:  # type: ignore[no-untyped-def]
    w = World(start_app(database_url=database_url, **ENV), standin)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def plain_world(start_app, standin) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """No escalation or product feedback channel configured."""
    w = World(start_app(), standin)
    try:
        yield w
    finally:
        w.close()


def attempt(world: World, posted: Posted, what: str, result: str, outcome: str, *, user: str = "UAGENT") -> None:
    view = world.case_modal(posted, "case_attempt", "attempt", user=user)
    world.submit(view, {"what": what, "result": result, "outcome": outcome}, user=user)
    world.wait_thread(posted, what)


def request_handoff(world: World, posted: Posted, colleague: str = "UCOLLEAGUE", note: str = "she wants a call back") -> dict:
    view = world.case_modal(posted, "case_handoff", "handoff")
    view = world.pick_user(view, colleague)
    world.submit(view, {"colleague": colleague, "note": note})
    return world.wait_dm(colleague, "asks you to take over")


# --- case file -------------------------------------------------------------------------------
def test_log_attempt_and_note_by_anyone_land_in_thread_and_event_log(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_attempt", "attempt", user="UCOLLEAGUE")
    assert [b.get("block_id") for b in view["blocks"]] == ["what", "result", "outcome"]
    reply = world.submit(view, {"what": "Refund through Stripe", "result": "Card was declined", "outcome": "failed"},
                         user="UCOLLEAGUE")
    assert reply.body in (b"", b"null") or not reply.json
    line = world.wait_thread(posted, "Refund through Stripe")
    text = flat(line)
    assert "*Attempt* by <@UCOLLEAGUE>" in text and "<!date^" in text
    assert "Card was declined" in text and "It did not help" in text

    view = world.case_modal(posted, "case_note", "note", user="UTHIRD")
    world.submit(view, {"text": "Customer prefers e-mail <b>only</b>"}, user="UTHIRD")
    note = flat(world.wait_thread(posted, "prefers e-mail"))
    assert "*Note* by <@UTHIRD>" in note and "<!date^" in note
    assert "<b>" not in note and "&lt;b&gt;" in note  # user text is escaped

    history = world.history(posted.id)
    attempts = [e for e in history if e["kind"] == "attempt"]
    notes = [e for e in history if e["kind"] == "note"]
    assert attempts[0]["actor"] == "UCOLLEAGUE" and attempts[0]["data"] == {
        "what": "Refund through Stripe", "result": "Card was declined", "outcome": "failed"}
    assert notes[0]["actor"] == "UTHIRD" and notes[0]["data"] == {"text": "Customer prefers e-mail <b>only</b>"}
    assert world.case(posted.id).owner_id == "UAGENT"


def test_attempt_modal_validation_errors_inline(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_attempt", "attempt")
    reply = world.submit(view, {"what": "   ", "result": "nothing", "outcome": None})
    assert reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"what", "outcome"}
    assert reply.json["errors"]["what"] == texts.ERR_REQUIRED
    view = world.case_modal(posted, "case_note", "note")
    reply = world.submit(view, {"text": "x" * 2901})
    assert reply.json == {"response_action": "errors", "errors": {"text": texts.ERR_TOO_LONG.format(limit=2900)}}
    world.settle()
    assert len(world.thread(posted)) == 1  # only the checklist
    assert "attempt" not in world.kinds(posted.id) and "note" not in world.kinds(posted.id)


def test_intake_form_keeps_the_mood(world: World):
    before = {m["ts"] for m in world.bot_top_level()}
    view = world.modal(lambda: world.slack.command(""), "intake")
    world.submit(view, {"customer": "Globex", "summary": "Export broke twice", "mood": "furious", "channel": "CSUPPORT"})
    posted = world._posted("CSUPPORT", before)
    text = flat(world.message(posted))
    assert "*Mood at intake*\n🤬 Furious" in text
    assert world.case(posted.id).mood == "furious"
    assert world.history(posted.id)[0]["data"]["mood"] == "furious"


# --- repeat customers --------------------------------------------------------------------------
def test_repeat_customer_shown_at_once_with_outcomes_links_and_failed_attempts(world: World):
    first = world.open_case("Acme Corp: charged twice")
    attempt(world, first, "Restarted the billing sync", "Still charged twice", "failed")
    attempt(world, first, "Cleared the cache", "Looked better", "partly")
    view = world.case_modal(first, "case_unresolved", "unresolved")
    world.submit(view, {"explanation": "Billing bug, fix next quarter", "apologised": "yes"})
    world.wait_case(first, lambda t: "Closed, not resolved" in t)
    first_link = world.case(first.id).permalink
    assert first_link

    second = world.open_case("acme CORP: charged twice again")
    # the very first post of the new case already says so: no later update needed
    post = next(c for c in world.standin.calls_to("chat.postMessage")
                if c.args.get("channel") == "CSUPPORT" and not c.args.get("thread_ts") and c.response.get("ts") == second.ts)
    text = flat(post.args["blocks"])
    assert "Repeat customer" in text and "1 earlier case" in text
    assert f"#{first.id}" in text and "Closed, not resolved" in text and first_link in text
    assert "Restarted the billing sync" in text and "Cleared the cache" not in text

    other = world.open_case("Initech: slow exports")
    assert "Repeat customer" not in flat(world.message(other))


def test_repeat_customer_matched_on_email(world: World):
    world.open_case("Jane Roe jane.roe@example.com: login loop")
    second = world.open_case("J. Roe (JANE.ROE@example.com): locked out")
    assert "Repeat customer" in flat(world.message(second))


# --- message shortcut ----------------------------------------------------------------------------
def test_message_shortcut_prefills_quote_then_permalink_and_links_back(world: World):
    ts = world.standin.add_message("CSUPPORT", "Your app ate my invoice & I'm furious!\nFix it today.", user="UCUSTOMER")
    message = {"type": "message", "ts": ts, "user": "UCUSTOMER", "text": "Your app ate my invoice & I'm furious!\nFix it today."}
    before = {m["ts"] for m in world.bot_top_level()}
    opened = world.modal(
        lambda: world.slack.message_shortcut("handle_angry_customer", channel="CSUPPORT", message=message), "intake")
    world.standin.wait_for(lambda: world.standin.calls_to("chat.getPermalink"))
    calls = [c.method for c in world.standin.calls]
    assert calls.index("views.open") < calls.index("chat.getPermalink")  # opened first, inside the trigger window
    open_call = world.standin.calls_to("views.open")[-1]
    assert open_call.status == 200 and open_call.response["ok"]
    summary = next(b for b in open_call.args["view"]["blocks"] if b.get("block_id") == "summary")
    initial = summary["element"]["initial_value"]
    assert initial.startswith(texts.INTAKE_QUOTE_PREFIX)
    assert "> Your app ate my invoice & I'm furious!\n> Fix it today." in initial

    world.standin.wait_for(lambda: world.standin.calls_to("views.update"))
    updated = world.view(opened["id"])
    permalink = world.standin.calls_to("chat.getPermalink")[-1].response["permalink"]
    assert world.standin.calls_to("views.update")[-1].args["view_id"] == opened["id"]
    link_block = next(b for b in updated["blocks"] if b.get("block_id") == "link")
    assert link_block["element"]["initial_value"] == permalink
    customer_block = next(b for b in updated["blocks"] if b.get("block_id") == "customer")
    assert customer_block["element"].get("initial_value") == "jane"

    world.submit(updated, {"customer": "jane", "summary": initial, "mood": "angry", "link": permalink, "channel": "CSUPPORT"})
    posted = world._posted("CSUPPORT", before)
    case_text = flat(world.message(posted))
    assert "*Original message*" in case_text and permalink in case_text
    assert "furious" in case_text
    case = world.case(posted.id)
    assert case.source_permalink == permalink and case.customer == "jane"


def test_message_shortcut_without_permalink_still_opens_the_form(world: World):
    ts = world.standin.add_message("CSUPPORT", "this is broken", user="UCUSTOMER")
    world.standin.fail_next("chat.getPermalink", "message_not_found")
    message = {"type": "message", "ts": ts, "user": "UCUSTOMER", "text": "this is broken"}
    view = world.modal(
        lambda: world.slack.message_shortcut("handle_angry_customer", channel="CSUPPORT", message=message), "intake")
    summary = next(b for b in view["blocks"] if b.get("block_id") == "summary")
    assert "> this is broken" in summary["element"]["initial_value"]
    world.settle()
    assert not world.standin.calls_to("views.update")


def test_repeat_customer_found_by_slack_user_from_the_shortcut(world: World):
    for text in ("first complaint", "second complaint"):
        ts = world.standin.add_message("CSUPPORT", text, user="UCUSTOMER")
        message = {"type": "message", "ts": ts, "user": "UCUSTOMER", "text": text}
        before = {m["ts"] for m in world.bot_top_level()}
        opened = world.modal(
            lambda: world.slack.message_shortcut("handle_angry_customer", channel="CSUPPORT", message=message), "intake")
        world.standin.wait_for(lambda: [c for c in world.standin.calls_to("views.update") if c.args["view_id"] == opened["id"]])
        view = world.view(opened["id"])
        world.submit(view, {"customer": "jane", "summary": text, "channel": "CSUPPORT"})
        posted = world._posted("CSUPPORT", before)
    assert world.case(posted.id).prior_count == 1
    assert "Repeat customer" in flat(world.message(posted))


# --- ownership ---------------------------------------------------------------------------------
@pytest.mark.parametrize("action_id, what", [
    ("case_resolve", "close this case"),
    ("case_unresolved", "close this case"),
    ("case_escalate", "escalate this case"),
    ("case_handoff", "hand this case to someone else"),
])
def test_non_owner_is_refused_with_an_ephemeral_naming_the_owner(world: World, action_id, what):
    posted = world.open_case()
    views_before = len(world.standin.calls_to("views.open"))
    world.click(world.message(posted), action_id, user="UCOLLEAGUE")
    response = world.wait_response("Only the case owner")
    assert response["response_type"] == "ephemeral" and response.get("replace_original") in (False, "false", None)
    assert "<@UAGENT>" in response["text"] and what in response["text"]
    world.settle()
    assert len(world.standin.calls_to("views.open")) == views_before
    assert world.case(posted.id).status == "open"


# --- second contact ----------------------------------------------------------------------------
def test_handoff_picker_refuses_bots_and_yourself_inline(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_handoff", "handoff")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "colleague")
    assert picker.get("dispatch_action") is True and picker["element"]["type"] == "users_select"

    warned = world.pick_user(view, "UBOTTY")
    assert texts.HANDOFF_BOT in flat(warned["blocks"])
    reply = world.submit(warned, {"colleague": "UBOTTY", "note": "x"})
    assert reply.json == {"response_action": "errors", "errors": {"colleague": texts.HANDOFF_BOT}}

    self_warned = world.pick_user(warned, "UAGENT")
    assert texts.HANDOFF_SELF in flat(self_warned["blocks"])
    reply = world.submit(self_warned, {"colleague": "UAGENT"})
    assert reply.json == {"response_action": "errors", "errors": {"colleague": texts.HANDOFF_SELF}}

    reply = world.submit(self_warned, {"colleague": None})
    assert reply.json["errors"] == {"colleague": texts.ERR_REQUIRED}

    fine = world.pick_user(self_warned, "UCOLLEAGUE")
    assert "pick_warning" not in [b.get("block_id") for b in fine["blocks"]]
    world.settle()
    assert not world.dms("UBOTTY") and not world.dms("UCOLLEAGUE")
    assert "handoff_requested" not in world.kinds(posted.id)


def test_handoff_accept_moves_the_case_and_tells_everyone(world: World):
    posted = world.open_case("Acme Corp: charged twice")
    world.click(world.checklist(posted), "step_set", value=f"{posted.id}:1:done:-")
    world.wait_case(posted, lambda t: "1/6" in t)
    attempt(world, posted, "Refund via Stripe", "Declined", "failed")

    dm = request_handoff(world, posted, note="She wants a call back before 5")
    text = flat(dm)
    assert "<@UAGENT> asks you to take over" in text
    assert "*Customer:* Acme Corp" in text and "charged twice" in text
    assert "Steps done (1/6)" in text and "Thank them for the feedback" in text
    assert "Refund via Stripe" in text and "Declined" in text
    assert "*Escalation:* not escalated" in text
    assert "She wants a call back before 5" in text
    assert world.case(posted.id).permalink in text
    assert action_ids(dm) == ["handoff_accept", "handoff_decline"]
    world.wait_thread(posted, "asked <@UCOLLEAGUE> to take over")
    world.wait_dm("UAGENT", "I've asked <@UCOLLEAGUE>")
    world.wait_case(posted, lambda t: "*Second contact*\nasked <@UCOLLEAGUE>" in t)

    world.click(dm, "handoff_accept", user="UCOLLEAGUE")
    world.wait_case(posted, lambda t: "*Owner*\n<@UCOLLEAGUE>" in t and "Second contact*\nasked" not in t)
    world.wait_thread(posted, "<@UCOLLEAGUE> took over this case from <@UAGENT>")
    world.wait_dm("UAGENT", "<@UCOLLEAGUE> accepted case")
    answered = world.standin.wait_for(
        lambda: [m for m in world.dms("UCOLLEAGUE") if m["ts"] == dm["ts"] and "You accepted" in flat(m)][0])
    assert "handoff_accept" not in action_ids(answered)
    assert world.case(posted.id).owner_id == "UCOLLEAGUE"
    log = [e for e in world.history(posted.id) if e["kind"].startswith("handoff")]
    assert [e["kind"] for e in log] == ["handoff_requested", "handoff_accepted"]
    assert log[0]["data"]["to"] == "UCOLLEAGUE" and log[0]["data"]["note"] == "She wants a call back before 5"

    # the old owner is now refused, by name of the new one
    world.click(world.message(posted), "case_resolve", user="UAGENT")
    assert "<@UCOLLEAGUE>" in world.wait_response("Only the case owner")["text"]
    # a second Accept click changes nothing
    world.click(dm, "handoff_accept", user="UCOLLEAGUE")
    world.settle()
    assert world.kinds(posted.id).count("handoff_accepted") == 1


def test_handoff_decline_with_reason_keeps_the_case(world: World):
    posted = world.open_case()
    dm = request_handoff(world, posted)
    view = world.modal(lambda: world.click(dm, "handoff_decline", user="UCOLLEAGUE"), "handoff_decline")
    world.submit(view, {"reason": "On holiday from tomorrow"}, user="UCOLLEAGUE")
    told = world.wait_dm("UAGENT", "declined case")
    assert "<@UCOLLEAGUE>" in flat(told) and "On holiday from tomorrow" in flat(told) and "still yours" in flat(told)
    world.wait_thread(posted, "declined the second contact")
    world.standin.wait_for(lambda: [m for m in world.dms("UCOLLEAGUE") if m["ts"] == dm["ts"] and "You declined" in flat(m)])
    world.wait_case(posted, lambda t: "Second contact*\nasked" not in t)
    assert world.case(posted.id).owner_id == "UAGENT"
    assert "*Owner*\n<@UAGENT>" in flat(world.message(posted))
    declined = [e for e in world.history(posted.id) if e["kind"] == "handoff_declined"]
    assert len(declined) == 1 and declined[0]["data"]["reason"] == "On holiday from tomorrow"

    # Accept on the (old copy of the) DM after declining is refused
    world.click(dm, "handoff_accept", user="UCOLLEAGUE")
    world.standin.wait_for(lambda: [m for m in world.dms("UCOLLEAGUE") if m["ts"] == dm["ts"] and "no longer open" in flat(m)])
    assert world.case(posted.id).owner_id == "UAGENT"
    assert "handoff_accepted" not in world.kinds(posted.id)


def test_decline_without_reason_and_by_someone_else(world: World):
    posted = world.open_case()
    dm = request_handoff(world, posted)
    world.click(dm, "handoff_decline", user="UTHIRD")
    assert "<@UCOLLEAGUE>" in world.wait_response("only they can answer")["text"]
    view = world.modal(lambda: world.click(dm, "handoff_decline", user="UCOLLEAGUE"), "handoff_decline")
    world.submit(view, {"reason": ""}, user="UCOLLEAGUE")
    told = flat(world.wait_dm("UAGENT", "declined case"))
    assert "()" not in told


def test_handoff_dm_failure_is_reported_to_the_requester(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_handoff", "handoff")
    view = world.pick_user(view, "UCOLLEAGUE")
    world.settle(0.2)  # nothing else is on its way to chat.postMessage
    world.standin.fail_next("chat.postMessage", "user_disabled")
    world.submit(view, {"colleague": "UCOLLEAGUE", "note": "please"})
    told = flat(world.wait_dm("UAGENT", "couldn't reach <@UCOLLEAGUE>"))
    assert "user_disabled" in told and "still yours" in told
    assert not [m for m in world.dms("UCOLLEAGUE") if "take over" in flat(m)]
    world.standin.wait_for(lambda: "handoff_failed" in world.kinds(posted.id))
    failed = [e for e in world.history(posted.id) if e["kind"] == "handoff_failed"][0]
    assert failed["data"]["error"] == "user_disabled" and failed["data"]["to"] == "UCOLLEAGUE"
    assert world.case(posted.id).owner_id == "UAGENT" and world.case(posted.id).pending_handoff_to is None
    assert not [m for m in world.thread(posted) if "asked <@UCOLLEAGUE>" in flat(m)]


def test_handoff_to_someone_who_does_not_exist_is_reported(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_handoff", "handoff")
    world.submit(view, {"colleague": "UNOBODY"})
    told = flat(world.wait_dm("UAGENT", "couldn't reach <@UNOBODY>"))
    assert "channel_not_found" in told or "user_not_found" in told
    world.standin.wait_for(lambda: "handoff_failed" in world.kinds(posted.id))
    assert world.case(posted.id).owner_id == "UAGENT"


# --- escalation --------------------------------------------------------------------------------
def test_escalation_modal_rejects_bad_timeframes_inline(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_escalate", "escalate")
    cases = [
        ({"need": "refund", "timeframe": "soon", "severity": "high"}, {"timeframe": texts.ERR_TIMEFRAME}),
        ({"need": "refund", "timeframe": "2020-01-01", "severity": "high"}, {"timeframe": texts.ERR_TIMEFRAME_PAST}),
        ({"need": "refund", "timeframe": "200 days", "severity": "high"}, {"timeframe": texts.ERR_TIMEFRAME_FAR}),
        ({"need": "", "timeframe": "", "severity": "high"}, {"need": texts.ERR_REQUIRED, "timeframe": texts.ERR_REQUIRED}),
    ]
    for values, errors in cases:
        reply = world.submit(view, values)
        assert reply.json == {"response_action": "errors", "errors": errors}, values
    world.settle()
    assert not world.standin.messages("CESCALATE")
    assert world.case(posted.id).status == "open" and "escalated" not in world.kinds(posted.id)


def test_escalation_to_experts_updates_and_fix(world: World):
    posted = world.open_case("Acme Corp: charged twice")
    attempt(world, posted, "Refund via Stripe", "Card declined", "failed")
    attempt(world, posted, "Manual credit note", "Customer still waiting", "partly")
    view = world.case_modal(posted, "case_escalate", "escalate")
    world.submit(view, {"need": "Approve a manual refund", "timeframe": "2 days", "severity": "high"})

    post = world.standin.wait_for(lambda: [m for m in world.standin.messages("CESCALATE") if m.get("user") == BOT][0])
    post = {**post, "channel": "CESCALATE"}
    text = flat(post)
    assert f"case #{posted.id} (High)" in text and "Acme Corp" in text and "Approve a manual refund" in text
    assert "Refund via Stripe" in text and "Card declined" in text and "Manual credit note" in text
    assert "Customer still waiting" in text and world.case(posted.id).permalink in text
    assert action_ids(post) == ["escalation_update", "escalation_fixed"]
    world.wait_thread(posted, "escalated this case to the experts")
    assert "<#CESCALATE>" in flat(world.wait_thread(posted, "escalated this case"))
    case_msg = world.wait_case(posted, lambda t: "Escalated" in t and "*Escalation*\nexpected by" in t)
    assert "case_escalate" not in action_ids(case_msg)
    case = world.case(posted.id)
    assert case.status == "escalated" and case.escalation["severity"] == "high"
    assert case.escalation["channel"] == "CESCALATE" and case.escalation["ts"] == post["ts"]
    expected = datetime.fromisoformat(case.escalation["expected_by"])
    assert abs(expected - (datetime.now(UTC) + timedelta(days=2))) < timedelta(minutes=1)

    update = world.modal(lambda: world.click(post, "escalation_update", user="UEXPERT"), "escalation_update")
    world.submit(update, {"text": "Refund approved, processing tonight"}, user="UEXPERT")
    world.wait_thread(posted, "Refund approved, processing tonight")
    assert "<@UEXPERT>" in flat(world.wait_dm("UAGENT", "Refund approved, processing tonight"))

    world.click(post, "escalation_fixed", user="UEXPERT")
    world.wait_thread(posted, "<@UEXPERT> marked the escalation fixed")
    world.wait_dm("UAGENT", "marked the escalation of case")
    fixed_post = world.standin.wait_for(
        lambda: [m for m in world.standin.messages("CESCALATE") if m["ts"] == post["ts"] and "Marked fixed by" in flat(m)][0])
    assert action_ids(fixed_post) == []
    world.wait_case(posted, lambda t: "*Escalation*\nfixed" in t and "🟠 Open" in t)

    world.click(post, "escalation_fixed", user="UTHIRD")  # a second click, from the old copy
    world.wait_response(texts.ESC_ALREADY_FIXED)
    log = world.kinds(posted.id)
    assert log.count("escalated") == 1 and log.count("escalation_update") == 1 and log.count("escalation_fixed") == 1


def test_escalation_stays_in_the_thread_without_a_channel(plain_world: World):
    world = plain_world
    posted = world.open_case()
    view = world.case_modal(posted, "case_escalate", "escalate")
    world.submit(view, {"need": "Check the ledger", "timeframe": "tomorrow", "severity": "normal"})
    post = {**world.wait_thread(posted, "Escalation: case"), "channel": posted.channel}
    assert "Check the ledger" in flat(post) and action_ids(post) == ["escalation_update", "escalation_fixed"]
    world.click(post, "escalation_fixed", user="UEXPERT")
    world.wait_thread(posted, "marked the escalation fixed")
    assert world.case(posted.id).status == "open"


def test_escalation_falls_back_to_the_thread_when_the_channel_refuses(start_app, standin):
    world = World(start_app(ESCALATION_CHANNEL="GPRIVATE"), standin)  # the bot is not in that channel
    try:
        posted = world.open_case()
        view = world.case_modal(posted, "case_escalate", "escalate")
        world.submit(view, {"need": "Check the ledger", "timeframe": "4 hours", "severity": "critical"})
        post = world.wait_thread(posted, "Escalation: case")
        assert "Critical" in flat(post)
        world.wait_thread(posted, "escalated this case to the experts")  # written after the post is recorded
        escalation = world.case(posted.id).escalation
        assert escalation["channel"] == "CSUPPORT" and escalation["ts"] == post["ts"]
    finally:
        world.close()


# --- closing, reopening, review -------------------------------------------------------------------
def test_resolve_then_review_with_ux_issue_to_product_channel(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_resolve", "resolve")
    reply = world.submit(view, {"fix": "", "prevention": "", "feedback": None})
    assert reply.json == {"response_action": "errors", "errors": {"fix": texts.ERR_REQUIRED, "feedback": texts.ERR_REQUIRED}}
    world.submit(view, {"fix": "Refunded the double charge", "prevention": "Turn on billing alerts", "feedback": "yes"})
    line = flat(world.wait_thread(posted, "closed the case as resolved"))
    assert "<@UAGENT>" in line and "Refunded the double charge" in line and "Turn on billing alerts" in line
    assert "feedback: yes" in line
    msg = world.wait_case(posted, lambda t: "🟢 Resolved" in t)
    text = flat(msg)
    assert "*Closed*\nby <@UAGENT> after" in text
    assert {"case_reopen", "case_review"} <= set(action_ids(msg)) and "case_resolve" not in action_ids(msg)
    case = world.case(posted.id)
    assert case.status == "resolved" and case.closed_by == "UAGENT"
    assert case.resolution == {"outcome": "resolved", "fix": "Refunded the double charge",
                               "prevention": "Turn on billing alerts", "feedback_asked": True}

    prompt = {**world.wait_thread(posted, "short review"), "channel": posted.channel}
    assert "review" in " ".join(action_ids(prompt))
    world.click(prompt, "case_review", user="UCOLLEAGUE")  # not the owner
    assert "<@UAGENT>" in world.wait_response("Only the case owner")["text"]

    review = world.modal(lambda: world.click(prompt, "case_review"), "review")
    reply = world.submit(review, {"cause": None})
    assert reply.json == {"response_action": "errors", "errors": {"cause": texts.ERR_REQUIRED}}
    world.submit(review, {"cause": "ux", "improve": "Explain double holds", "ux": "Pending charges look like real charges"})
    product = world.standin.wait_for(lambda: [m for m in world.standin.messages("CPRODUCT") if m.get("user") == BOT][0])
    ptext = flat(product)
    assert "Pending charges look like real charges" in ptext and case.permalink in ptext and f"#{posted.id}" in ptext
    saved = flat(world.wait_thread(posted, "Review by <@UAGENT>"))
    assert "Product UX" in saved and "Explain double holds" in saved and "<#CPRODUCT>" in saved
    world.standin.wait_for(lambda: "case_review" not in action_ids(world.message(posted)))
    with world.db.session() as session:
        from storage.models import Review
        from storage.sql import row_by_key

        row = row_by_key(session, Review, posted.id)
        assert (row.cause, row.improve, row.ux_issue, row.reviewed_by) == (
            "ux", "Explain double holds", "Pending charges look like real charges", "UAGENT")
        assert row.forwarded_ts == product["ts"]
    assert world.kinds(posted.id)[-1] == "reviewed"


def test_not_resolved_with_honest_apology_reminder_and_reopen(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_unresolved", "unresolved")
    assert "Be honest, and apologise sincerely" in flat(view["blocks"])
    reply = world.submit(view, {"explanation": " ", "apologised": "no"})
    assert reply.json == {"response_action": "errors", "errors": {"explanation": texts.ERR_REQUIRED}}
    world.submit(view, {"explanation": "Export to PDF is not supported", "apologised": "yes"})
    world.wait_thread(posted, "closed the case as not resolved")
    world.wait_case(posted, lambda t: "🔴 Closed, not resolved" in t)
    assert world.case(posted.id).resolution["apologised"] is True

    world.click(world.message(posted), "case_reopen", user="UCOLLEAGUE")
    world.wait_thread(posted, "<@UCOLLEAGUE> reopened the case")
    msg = world.wait_case(posted, lambda t: "🟠 Open" in t)
    assert "case_resolve" in action_ids(msg) and "case_reopen" not in action_ids(msg)
    assert "Closed*" not in flat(msg)
    case = world.case(posted.id)
    assert case.status == "open" and case.closed_at is None and case.owner_id == "UAGENT"
    assert world.kinds(posted.id)[-2:] == ["unresolved", "reopened"]


def test_double_submitted_close_is_recorded_once(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_resolve", "resolve")
    values = {"fix": "Refunded", "feedback": "no"}
    world.submit(view, values)
    world.submit(view, values)
    world.wait_thread(posted, "closed the case as resolved")
    world.settle(0.5)
    assert len([m for m in world.thread(posted) if "closed the case" in flat(m)]) == 1
    assert len([m for m in world.thread(posted) if "short review" in flat(m)]) == 1
    assert world.kinds(posted.id).count("resolved") == 1


def test_review_button_on_an_open_case_says_so(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_resolve", "resolve")
    world.submit(view, {"fix": "Refunded", "feedback": "no"})
    prompt = {**world.wait_thread(posted, "short review"), "channel": posted.channel}
    world.click(world.message(posted), "case_reopen")
    world.wait_case(posted, lambda t: "🟠 Open" in t)
    world.click(prompt, "case_review")
    world.wait_response(texts.CASE_NOT_CLOSED.format(number=posted.id))
    world.settle()
    assert not [v for v in world.standin.views().values() if v["callback_id"] == "review"]


def test_review_without_ux_issue_posts_nothing_to_product(world: World):
    posted = world.open_case()
    world.submit(world.case_modal(posted, "case_resolve", "resolve"), {"fix": "Refunded", "feedback": "no"})
    prompt = {**world.wait_thread(posted, "short review"), "channel": posted.channel}
    review = world.modal(lambda: world.click(prompt, "case_review"), "review")
    world.submit(review, {"cause": "outside"})
    world.wait_thread(posted, "Review by <@UAGENT>")
    world.settle()
    assert not world.standin.messages("CPRODUCT")
    with world.db.session() as session:
        from storage.models import Review
        from storage.sql import row_by_key

        row = row_by_key(session, Review, posted.id)
        assert row.cause == "outside" and row.ux_issue is None and row.forwarded_ts is None


# --- more edges ----------------------------------------------------------------------------------
def test_handoff_picker_refuses_a_deactivated_account(world: World):
    world.standin.add_user("UGONE", "gone", deleted=True)
    posted = world.open_case()
    view = world.pick_user(world.case_modal(posted, "case_handoff", "handoff"), "UGONE")
    assert texts.HANDOFF_DELETED in flat(view["blocks"])
    reply = world.submit(view, {"colleague": "UGONE"})
    assert reply.json == {"response_action": "errors", "errors": {"colleague": texts.HANDOFF_DELETED}}


def test_handoff_to_a_bot_not_checked_in_the_modal_is_refused_after_the_ack(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_handoff", "handoff")
    world.submit(view, {"colleague": "UBOTTY"})  # submitted before the picker's check came back
    world.wait_dm("UAGENT", texts.HANDOFF_BOT)
    world.settle()
    assert not world.dms("UBOTTY") and "handoff_requested" not in world.kinds(posted.id)


def test_user_text_cannot_ping_the_channel(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_attempt", "attempt")
    world.submit(view, {"what": "Tried <!channel> restart", "result": "no luck <!here>", "outcome": "failed"})
    line = flat(world.wait_thread(posted, "restart"))
    assert "<!channel>" not in line and "<!here>" not in line
    view = world.case_modal(posted, "case_escalate", "escalate")
    world.submit(view, {"need": "help <!everyone>", "timeframe": "1 week", "severity": "low"})
    post = world.standin.wait_for(lambda: [m for m in world.standin.messages("CESCALATE") if m.get("user") == BOT][0])
    assert "<!everyone>" not in flat(post) and "<!channel>" not in flat(post)
    update = world.modal(lambda: world.click({**post, "channel": "CESCALATE"}, "escalation_update", user="UEXPERT"),
                         "escalation_update")
    world.submit(update, {"text": "<!channel> fixed soon"}, user="UEXPERT")
    assert "<!channel>" not in flat(world.wait_thread(posted, "fixed soon"))
    assert "<!channel>" not in flat(world.wait_dm("UAGENT", "fixed soon"))


def test_second_contact_sees_escalation_status_and_can_close_after_accepting(world: World):
    posted = world.open_case()
    world.submit(world.case_modal(posted, "case_escalate", "escalate"),
                 {"need": "Ledger check", "timeframe": "3 business days", "severity": "normal"})
    world.wait_case(posted, lambda t: "Escalated" in t)
    dm = request_handoff(world, posted)
    assert "waiting on the experts, expected by" in flat(dm)
    world.click(dm, "handoff_accept", user="UCOLLEAGUE")
    world.wait_case(posted, lambda t: "*Owner*\n<@UCOLLEAGUE>" in t)
    # the escalation post now names the new owner's case; an expert update DMs the new owner
    post = {**world.standin.messages("CESCALATE")[0], "channel": "CESCALATE"}
    update = world.modal(lambda: world.click(post, "escalation_update", user="UEXPERT"), "escalation_update")
    world.submit(update, {"text": "ledger corrected"}, user="UEXPERT")
    world.wait_dm("UCOLLEAGUE", "ledger corrected")
    view = world.case_modal(posted, "case_resolve", "resolve", user="UCOLLEAGUE")
    world.submit(view, {"fix": "Ledger corrected", "feedback": "yes"}, user="UCOLLEAGUE")
    world.wait_case(posted, lambda t: "*Closed*\nby <@UCOLLEAGUE>" in t)
    prompt = {**world.wait_thread(posted, "short review"), "channel": posted.channel}
    assert "<@UCOLLEAGUE>" in flat(prompt)
    review = world.modal(lambda: world.click(prompt, "case_review", user="UCOLLEAGUE"), "review")
    world.submit(review, {"cause": "bug"}, user="UCOLLEAGUE")
    world.wait_thread(posted, "Review by <@UCOLLEAGUE>")


def test_shortcut_stops_cleanly_when_the_form_cannot_open(world: World):
    ts = world.standin.add_message("CSUPPORT", "angry words", user="UCUSTOMER")
    world.standin.fail_next("views.open", "expired_trigger_id")
    message = {"type": "message", "ts": ts, "user": "UCUSTOMER", "text": "angry words"}
    world.slack.message_shortcut("handle_angry_customer", channel="CSUPPORT", message=message)
    world.wait_response(texts.GENERIC_FAILURE)
    world.settle(0.5)
    assert not world.standin.calls_to("chat.getPermalink")
    assert "UnboundLocalError" not in world.app.log() and "Traceback" not in world.app.log()


def test_ux_issue_is_forwarded_once_per_case(world: World):
    posted = world.open_case()
    world.submit(world.case_modal(posted, "case_resolve", "resolve"), {"fix": "Refunded", "feedback": "no"})
    prompt = {**world.wait_thread(posted, "short review"), "channel": posted.channel}
    review = world.modal(lambda: world.click(prompt, "case_review"), "review")
    world.submit(review, {"cause": "ux", "ux": "The refund button is hidden"})
    world.wait_thread(posted, "Review by")
    # the prompt (an old copy of it, buttons and all) pressed again
    before = set(world.standin.views())
    responses = len(world.standin.responses())
    world.click(prompt, "case_review")
    opened = world.standin.wait_for(
        lambda: [v for vid, v in world.standin.views().items() if vid not in before and v["callback_id"] == "review"]
        or len(world.standin.responses()) > responses)
    if isinstance(opened, list):  # a second form opened: submitting it must not forward the issue again
        world.submit(opened[0], {"cause": "ux", "ux": "The refund button is hidden"})
        try:
            world.standin.wait_for(lambda: world.kinds(posted.id).count("reviewed") == 2, timeout=2)
        except AssertionError:
            pass  # refused the second review: fine too
    world.settle()
    assert len(world.standin.messages("CPRODUCT")) == 1


def test_asking_someone_else_withdraws_the_first_request(world: World):
    posted = world.open_case()
    first = request_handoff(world, posted, "UCOLLEAGUE")
    request_handoff(world, posted, "UTHIRD")
    world.standin.wait_for(lambda: [m for m in world.dms("UCOLLEAGUE") if m["ts"] == first["ts"] and "withdrawn" in flat(m)])
    world.wait_case(posted, lambda t: "*Second contact*\nasked <@UTHIRD>" in t)
    world.click(first, "handoff_accept", user="UCOLLEAGUE")  # the old copy, buttons and all
    world.standin.wait_for(lambda: [m for m in world.dms("UCOLLEAGUE") if m["ts"] == first["ts"] and "no longer open" in flat(m)])
    world.settle()
    assert world.case(posted.id).owner_id == "UAGENT"
    assert world.kinds(posted.id).count("handoff_requested") == 2 and "handoff_accepted" not in world.kinds(posted.id)


def test_accepting_after_the_case_was_closed_changes_nothing(world: World):
    posted = world.open_case()
    dm = request_handoff(world, posted)
    world.submit(world.case_modal(posted, "case_resolve", "resolve"), {"fix": "Sorted it myself", "feedback": "no"})
    world.wait_case(posted, lambda t: "🟢 Resolved" in t)
    world.click(dm, "handoff_accept", user="UCOLLEAGUE")
    world.standin.wait_for(lambda: [m for m in world.dms("UCOLLEAGUE") if m["ts"] == dm["ts"] and "no longer open" in flat(m)])
    assert world.case(posted.id).owner_id == "UAGENT"
    assert "handoff_accepted" not in world.kinds(posted.id)
