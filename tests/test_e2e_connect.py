"""Slack Connect, outsiders and who sees what, end to end through signed HTTP against `python app.py`.

The stand-in holds a channel shared with the customer's organisation (Acme, team TACME), a group DM with
someone from Acme, a private channel, and an internal cases channel. Nothing Defuse writes may reach a
conversation the customer can read, except ephemeral answers to the agent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_e2e_casefile import BOT, Posted, World, attempt, flat

SHARED = "CSHARED"
CASES = "CCASES"
CUSTOMER = "UACME"
BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam)", re.IGNORECASE)


def seed(standin: Any) -> None:
    standin.add_user(CUSTOMER, "wile", team_id="TACME", tz="America/Phoenix")
    standin.add_channel(SHARED, "acme-support", shared_with=["TACME"])
    standin.add_channel(CASES, "support-cases")
    standin.add_channel("GPRIVATE", "vip-support", is_private=True, bot_member=True)
    standin.add_mpim("GMPIMACME", ["UAGENT", CUSTOMER])
    standin.add_mpim("GMPIMTEAM", ["UAGENT", "UCOLLEAGUE"])


@pytest.fixture
def world(start_app, standin, database_url) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """CASES_CHANNEL, escalation and product channels set; on SQLite and PostgreSQL."""
    seed(standin)
    env = {"CASES_CHANNEL": CASES, "ESCALATION_CHANNEL": "CESCALATE", "PRODUCT_FEEDBACK_CHANNEL": "CPRODUCT"}
    w = World(start_app(database_url=database_url, **env), standin)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def bare_world(start_app, standin) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """CASES_CHANNEL not set."""
    seed(standin)
    w = World(start_app(), standin)
    try:
        yield w
    finally:
        w.close()


def bot_posts(world: World, channel: str) -> list[dict[str, Any]]:
    """Everything the bot posted in `channel` (top level and threads)."""
    return [m for m in world.standin.messages(channel) if m.get("user") == BOT]


def posted_in_calls(world: World, channel: str) -> list[str]:
    """Web API calls that would put something non-ephemeral into `channel`."""
    writes = ("chat.postMessage", "chat.update", "chat.scheduleMessage", "conversations.join", "files.completeUploadExternal")
    return [c.method for c in world.standin.calls if c.method in writes and c.args.get("channel") == channel]


def case_rows(world: World) -> int:
    from sqlalchemy import text

    with world.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM cases")).scalar_one()


def reminder_rows(world: World) -> int:
    from sqlalchemy import text

    with world.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM reminders")).scalar_one()


def customer_message(world: World, text: str = "Your product charged us twice. Unacceptable.") -> dict[str, Any]:
    ts = world.standin.add_message(SHARED, text, user=CUSTOMER)
    return {"type": "message", "ts": ts, "user": CUSTOMER, "text": text}


def with_notice(world: World, view: dict[str, Any]) -> dict[str, Any]:
    """The intake form once the post-open update has said where the case will go."""
    def noticed() -> dict[str, Any] | None:
        current = world.view(view["id"])
        return current if "where_notice" in json.dumps(current) else None

    return world.standin.wait_for(noticed)


# --- /angry in a Slack Connect channel ---------------------------------------------------------
def test_angry_in_a_shared_channel_opens_the_case_in_cases_channel(world: World):
    reply = world.slack.command("Acme Corp: charged twice, threatening to cancel", channel=SHARED)
    assert reply.status == 200 and reply.elapsed < 2.0
    posted = world._posted(CASES, set())
    case_text = flat(world.message(posted))
    assert "Acme Corp" in case_text and "charged twice" in case_text
    assert "Flagged in" in case_text and f"<#{SHARED}>" in case_text  # the link back to the conversation
    assert "De-escalation checklist" in flat(world.checklist(posted))

    told = world.wait_response("Only you can see this")
    assert told.get("response_type") == "ephemeral"
    assert f"<#{CASES}>" in told["text"] and world.case(posted.id).permalink in told["text"]

    case = world.case(posted.id)
    assert case.channel_id == CASES and case.source_channel_id == SHARED
    assert bot_posts(world, SHARED) == [] and posted_in_calls(world, SHARED) == []


def test_every_update_of_a_moved_case_stays_in_cases_channel(world: World):
    world.slack.command("Acme Corp: charged twice", channel=SHARED)
    posted = world._posted(CASES, set())
    attempt(world, posted, "Refund via Stripe", "Declined by the bank", "failed")
    note = world.case_modal(posted, "case_note", "note")
    world.submit(note, {"text": "They want a call back"})
    world.wait_thread(posted, "call back")
    step = world.checklist(posted)
    world.click(step, "step_set", value=f"{posted.id}:1:done:-")
    world.wait_case(posted, lambda t: "1/6" in t)
    assert bot_posts(world, SHARED) == [] and posted_in_calls(world, SHARED) == []
    assert not world.standin.ephemerals(SHARED, CUSTOMER)


def test_angry_form_opened_in_a_shared_channel_says_where_the_case_goes(world: World):
    view = world.modal(lambda: world.slack.command("", channel=SHARED), "intake")
    updated = with_notice(world, view)
    notice = flat(next(b for b in updated["blocks"] if b.get("block_id") == "where_notice"))
    assert f"<#{SHARED}>" in notice and f"<#{CASES}>" in notice
    channel = next(b for b in updated["blocks"] if b.get("block_id") == "channel")["element"]
    assert channel["initial_conversation"] == CASES and channel["filter"]["exclude_external_shared_channels"] is True
    # Even a form still pointing at the shared channel (sent before the update) ends up in CASES_CHANNEL.
    world.submit(view, {"customer": "Acme Corp", "summary": "charged twice", "mood": "angry", "channel": SHARED})
    posted = world._posted(CASES, set())
    assert world.case(posted.id).source_channel_id == SHARED
    told = world.standin.wait_for(lambda: world.standin.ephemerals(SHARED, "UAGENT"))[0]
    assert f"<#{CASES}>" in told["text"]
    assert bot_posts(world, SHARED) == [] and posted_in_calls(world, SHARED) == []


# --- the message shortcut on a customer's message in a shared channel -------------------------------
def test_shortcut_on_a_customers_message_keeps_everything_out_of_the_shared_channel(world: World):
    message = customer_message(world)
    view = world.modal(lambda: world.slack.message_shortcut("handle_angry_customer", channel=SHARED, message=message),
                       "intake")
    updated = with_notice(world, view)
    assert f"<#{CASES}>" in flat(updated)
    permalink = world.standin.calls_to("chat.getPermalink")[-1].response["permalink"]
    values = {"customer": "wile", "summary": "charged twice", "mood": "furious", "link": permalink, "channel": CASES}
    world.submit(updated, values)
    posted = world._posted(CASES, set())
    case_text = flat(world.message(posted))
    assert "*Original message*" in case_text and permalink in case_text  # the link back to their message
    told = world.standin.wait_for(lambda: world.standin.ephemerals(SHARED, "UAGENT"))
    assert f"<#{CASES}>" in told[0]["text"] and len(told) == 1
    assert world.case(posted.id).source_permalink == permalink
    assert [m["user"] for m in world.standin.messages(SHARED)] == [CUSTOMER]  # only their own message
    assert posted_in_calls(world, SHARED) == [] and not world.standin.ephemerals(SHARED, CUSTOMER)


# --- without CASES_CHANNEL ---------------------------------------------------------------------------
def test_without_cases_channel_angry_in_a_shared_channel_is_refused_with_the_words_back(bare_world: World):
    world = bare_world
    reply = world.slack.command("Acme <!channel>: charged *twice* & <@UCOLLEAGUE> knows", channel=SHARED)
    assert reply.status == 200 and reply.elapsed < 2.0
    told = world.wait_response("CASES_CHANNEL")
    assert told.get("response_type") == "ephemeral" and "Only you can see this" in told["text"]
    assert "charged *twice* &amp; " in told["text"] and "channel" in told["text"]  # their words, escaped
    assert not BROADCAST.search(told["text"]) and "case_retry_post" not in json.dumps(told)  # no ping
    world.settle()
    assert [c for c in world.standin.calls if c.method == "chat.postMessage"] == []
    assert case_rows(world) == 0 and reminder_rows(world) == 0  # nothing left half-open


def test_without_cases_channel_the_shortcut_form_warns_and_the_submission_is_refused(bare_world: World):
    world = bare_world
    message = customer_message(world, "You people are useless")
    view = world.modal(lambda: world.slack.message_shortcut("handle_angry_customer", channel=SHARED, message=message),
                       "intake")
    updated = with_notice(world, view)
    assert "CASES_CHANNEL" in flat(updated)
    world.submit(updated, {"customer": "wile", "summary": "useless <!here>", "mood": "angry", "channel": SHARED})
    told = world.standin.wait_for(lambda: world.standin.ephemerals(SHARED, "UAGENT"))[0]
    assert "CASES_CHANNEL" in told["text"] and "useless" in told["text"] and not BROADCAST.search(told["text"])
    world.settle()
    assert world.standin.calls_to("chat.postMessage") == [] and case_rows(world) == 0


# --- group DMs and DMs ---------------------------------------------------------------------------------
def test_group_dm_with_someone_from_outside_goes_to_cases_channel(world: World):
    world.slack.command("Acme Corp: angry in our group DM", channel="GMPIMACME")
    posted = world._posted(CASES, set())
    assert world.case(posted.id).source_channel_id == "GMPIMACME"
    world.wait_response("Only you can see this")
    assert bot_posts(world, "GMPIMACME") == [] and posted_in_calls(world, "GMPIMACME") == []


def test_group_dm_among_colleagues_keeps_its_case(world: World):
    world.slack.command("Acme Corp: discussed among us", channel="GMPIMTEAM")
    posted = world._posted("GMPIMTEAM", set())
    assert world.case(posted.id).visibility == "private"
    assert bot_posts(world, CASES) == []


def test_a_dm_the_bot_cannot_see_gets_nothing_posted(world: World):
    world.slack.command("Acme Corp: in a DM between two people", channel="DUAGENTUACME")
    told = world.standin.wait_for(lambda: [r for r in world.standin.responses() if "Post it again" in flat(r)])[0]
    assert told.get("response_type") == "ephemeral"
    world.settle()
    assert world.standin.calls_to("chat.postMessage") == []


def test_an_unchecked_conversation_gets_nothing_posted_until_it_can_be_checked(world: World):
    world.standin.fail_next("conversations.info", "missing_scope")
    world.slack.command("Acme Corp: charged twice", channel=SHARED)
    told = world.standin.wait_for(lambda: [r for r in world.standin.responses() if "couldn't check" in r["text"]])[0]
    assert "missing_scope" in told["text"] and told.get("response_type") == "ephemeral"
    assert world.standin.calls_to("chat.postMessage") == []
    world.click({**told, "ts": "1700000000.000001", "channel": SHARED}, "case_retry_post")
    posted = world._posted(CASES, set())  # checked this time: shared, so CASES_CHANNEL
    assert world.case(posted.id).source_channel_id == SHARED
    assert posted_in_calls(world, SHARED) == []


# --- who sees what: repeat customers -------------------------------------------------------------
def private_case_with_a_failed_attempt(world: World) -> Posted:
    first = world.open_case("Acme Corp: charged twice", channel="GPRIVATE")
    attempt(world, first, "Refund via Stripe", "Declined", "failed")
    return first


def test_private_case_shows_only_a_count_in_a_public_channel(world: World):
    first = private_case_with_a_failed_attempt(world)
    second = world.open_case("acme corp: charged twice again")
    shown = flat(world.message(second))
    assert "1 earlier case elsewhere" in shown
    assert "Refund via Stripe" not in shown and "GPRIVATE" not in shown
    assert world.case(first.id).permalink not in shown and f"#{first.id} " not in shown


def test_private_case_shows_its_details_in_the_same_private_channel(world: World):
    first = private_case_with_a_failed_attempt(world)
    second = world.open_case("Acme Corp: back again", channel="GPRIVATE")
    shown = flat(world.message(second))
    assert "Refund via Stripe" in shown and world.case(first.id).permalink in shown
    assert "elsewhere" not in shown


def test_a_private_case_is_counted_not_shown_in_cases_channel(world: World):
    private_case_with_a_failed_attempt(world)
    world.slack.command("Acme Corp: now in the shared channel", channel=SHARED)
    moved = world._posted(CASES, set())
    shown = flat(world.message(moved))
    assert "1 earlier case elsewhere" in shown and "Refund via Stripe" not in shown


# --- who sees what: posts that leave a private case -------------------------------------------------
def test_escalate_and_review_modals_of_a_private_case_say_where_they_post(world: World):
    private = world.open_case("Acme Corp: charged twice", channel="GPRIVATE")
    view = world.case_modal(private, "case_escalate", "escalate")
    assert "<#CESCALATE>" in flat(view) and "outside this private channel" in flat(view)
    world.submit(view, {"need": "refund approval", "timeframe": "2 days", "severity": "high"})
    world.wait_thread(private, "escalated this case")
    public = world.open_case("Globex: slow exports")
    assert "where_notice" not in json.dumps(world.case_modal(public, "case_escalate", "escalate"))

    view = world.case_modal(private, "case_resolve", "resolve")
    world.submit(view, {"fix": "refunded", "feedback": "yes"})
    world.wait_case(private, lambda t: "🟢 Resolved" in t)
    review = world.case_modal(private, "case_review", "review")
    assert "<#CPRODUCT>" in flat(review) and "outside this private channel" in flat(review)


# --- outsiders never get case content ----------------------------------------------------------------
def test_handoff_to_someone_from_outside_is_refused(world: World):
    from bot import texts

    posted = world.open_case()
    view = world.case_modal(posted, "case_handoff", "handoff")
    warned = world.pick_user(view, CUSTOMER)
    assert texts.HANDOFF_OUTSIDER_PICKED in flat(warned["blocks"])
    reply = world.submit(warned, {"colleague": CUSTOMER, "note": "please call"})
    assert reply.json == {"response_action": "errors", "errors": {"colleague": texts.HANDOFF_OUTSIDER_PICKED}}
    # A submission that skipped the picker check is refused after the ack too.
    world.submit(view, {"colleague": CUSTOMER, "note": "please call"})
    world.wait_dm("UAGENT", "from outside your organisation")
    assert not world.dms(CUSTOMER) and "handoff_requested" not in world.kinds(posted.id)


def test_a_shared_escalation_channel_keeps_the_escalation_in_the_case(start_app, standin):  # type: ignore[no-untyped-def]
    seed(standin)
    standin.add_channel("CVENDOR", "vendor-experts", shared_with=["TVENDOR"])
    world = World(start_app(CASES_CHANNEL=CASES, ESCALATION_CHANNEL="CVENDOR"), standin)
    try:
        posted = world.open_case()
        view = world.case_modal(posted, "case_escalate", "escalate")
        world.submit(view, {"need": "refund approval", "timeframe": "2 days", "severity": "high"})
        world.wait_thread(posted, "Escalation: case")
        world.wait_dm("UAGENT", "ESCALATION_CHANNEL")
        assert world.standin.messages("CVENDOR") == [] and posted_in_calls(world, "CVENDOR") == []
    finally:
        world.close()
