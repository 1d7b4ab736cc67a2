"""Intake's listeners (handlers/intake/listeners.py) called directly: /angry, the intake form, the message
shortcut and Post it again."""

from __future__ import annotations

import pickle

import pytest

from bot import texts
from bot.core.textutil import quote, safe
from handlers.intake import ids, listeners
from handlers.intake.views import intake_modal
from tests.handlers.kit import AGENT, CHANNEL, NASTY, SHARED, STRANGER, World, assert_escaped, content

GOOD_FORM = {"customer": "Acme Corp", "summary": "charged twice, threatening to cancel", "mood": "angry",
             "link": "https://tickets.example.com/42", "channel": CHANNEL}


def form(world: World, **answers: str | None) -> dict:
    modal = intake_modal(channel_id=CHANNEL, metadata={"source_channel": CHANNEL})
    return world.submission(modal, {**GOOD_FORM, **answers})


# --- /angry -----------------------------------------------------------------------------------
def test_angry_with_text_saves_the_case_before_the_ack_and_posts_it_after(world: World) -> None:
    call = world.call(listeners.angry, world.command("Acme Corp: charged twice"))
    call.ack.assert_plain()
    case = world.case(1)
    assert (case.customer, case.summary, case.flagged_by, case.owner_id) == ("Acme Corp", "charged twice", AGENT, AGENT)
    assert case.message_ts and case.checklist_ts and case.intake["via"] == "command"
    top, checklist = world.slack.posts(CHANNEL)
    assert "case #1" in top.message.text and "Acme Corp" in content(top)
    assert checklist.thread_ts == top.ts and "case #1" in checklist.message.text
    assert call.respond.calls == []  # posted where it was flagged: nothing more to say


def test_angry_without_a_customer_asks_for_one(world: World) -> None:
    call = world.call(listeners.angry, world.command("charged twice and furious"))
    call.ack.assert_plain()
    assert world.case(1).customer is None
    assert call.respond.texts == [texts.ASK_FOR_CUSTOMER.format(number=1)]


def test_angry_echoes_user_text_escaped_in_the_case_message(world: World) -> None:
    world.call(listeners.angry, world.command(f"Acme: {NASTY}")).ack.assert_plain()
    assert world.case(1).summary == NASTY  # stored as typed
    assert_escaped(content(world.slack.posts(CHANNEL)[0]))


def test_angry_help_answers_in_the_ack_and_saves_nothing(world: World) -> None:
    call = world.call(listeners.angry, world.command("help"))
    assert call.ack.only == {"text": texts.HELP}
    assert world.case_count() == 0 and world.slack.sent == []


def test_angry_unknown_word_is_echoed_escaped(world: World) -> None:
    call = world.call(listeners.angry, world.command("frob<!channel>&"))
    text = call.ack.only["text"]
    assert text == texts.UNKNOWN_SUBCOMMAND.format(word=safe("frob<!channel>&"))
    assert "<!channel>" not in text and "&amp;" in text
    assert world.case_count() == 0 and world.slack.sent == []


def test_angry_too_long_is_refused_with_nothing_created(world: World) -> None:
    call = world.call(listeners.angry, world.command("Acme: " + "x" * 3000))
    assert call.ack.only == {"text": texts.TOO_LONG.format(length=3006, limit=3000)}
    assert world.case_count() == 0 and world.slack.sent == []


def test_angry_alone_opens_the_form(world: World) -> None:
    call = world.call(listeners.angry, world.command(""))
    call.ack.assert_plain()
    ((trigger, view),) = world.slack.views
    assert trigger == call.body["trigger_id"] and view["callback_id"] == ids.INTAKE_VIEW
    assert world.case_count() == 0


def test_angry_form_that_slack_will_not_open_is_told_not_raised(world: World) -> None:
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.angry, world.command(""))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.GENERIC_FAILURE]
    assert call.respond.calls[0]["response_type"] == "ephemeral"


def test_angry_not_saved_in_time_gives_the_words_back_then_posts_when_the_save_lands(world: World) -> None:
    world.worker.slow_saves = True
    call = world.call(listeners.angry, world.command(f"Acme: {NASTY}"))
    text = call.ack.only["text"]
    assert text == texts.CASE_NOT_SAVED.format(echo=quote(safe(f"Acme: {NASTY}")))
    assert_escaped(text)
    assert world.slack.sent == [] and world.case_count() == 0
    world.worker.finish_late()  # the database answers after all
    assert call.respond.texts[0] == texts.SAVED_LATE.format(number=1)
    assert world.case(1).message_ts is not None


def test_angry_in_a_conversation_the_customer_reads_opens_nothing_and_gives_the_words_back(world: World) -> None:
    call = world.call(listeners.angry, world.command(f"Acme: {NASTY}", channel=SHARED))
    call.ack.assert_plain()  # saved first; publishing finds the customer can read the channel
    (told,) = call.respond.texts
    assert told == texts.NEEDS_CASES_CHANNEL.format(echo=quote(safe(f"Acme: {NASTY}")))
    assert_escaped(told)
    assert world.slack.posts() == []  # nothing reached the shared conversation
    assert world.case_count() == 0  # withdrawn: no case is left open


def test_angry_when_slack_refuses_the_post_offers_post_it_again(world: World) -> None:
    world.slack.fail("post", "not_in_channel")
    world.slack.fail("post", "not_in_channel")  # after joining, still refused
    call = world.call(listeners.angry, world.command("Acme: charged twice"))
    call.ack.assert_plain()
    (answer,) = call.respond.calls
    assert answer["text"] == texts.NOT_IN_CHANNEL.format(number=1, channel=CHANNEL)
    button = answer["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == (ids.RETRY_POST_ACTION, "1")
    assert world.case(1).message_ts is None  # saved, not posted


# --- the intake form --------------------------------------------------------------------------
def test_form_submission_saves_and_posts_the_case(world: World) -> None:
    call = world.call(listeners.submitted, form(world))
    call.ack.assert_plain()
    case = world.case(1)
    assert (case.customer, case.mood, case.link, case.channel_id) == ("Acme Corp", "angry", GOOD_FORM["link"], CHANNEL)
    assert case.message_ts and "case #1" in world.slack.posts(CHANNEL)[0].message.text


def test_form_text_is_echoed_escaped(world: World) -> None:
    world.call(listeners.submitted, form(world, customer="Acme", summary=NASTY)).ack.assert_plain()
    assert_escaped(content(world.slack.posts(CHANNEL)[0]))


@pytest.mark.parametrize("answers, block, message", [
    ({"customer": ""}, "customer", texts.ERR_REQUIRED),
    ({"customer": "   "}, "customer", texts.ERR_REQUIRED),
    ({"summary": None}, "summary", texts.ERR_REQUIRED),
    ({"customer": "x" * 151}, "customer", texts.ERR_TOO_LONG.format(limit=150)),
    ({"summary": "x" * 3001}, "summary", texts.ERR_TOO_LONG.format(limit=3000)),
    ({"link": "tickets.example.com/42"}, "link", texts.ERR_NOT_URL),
    ({"link": "javascript:alert(1)"}, "link", texts.ERR_NOT_URL),
    ({"channel": None}, "channel", texts.ERR_NO_CHANNEL),
])
def test_form_with_a_bad_answer_shows_the_error_and_saves_nothing(world: World, answers, block, message) -> None:
    call = world.call(listeners.submitted, form(world, **answers))
    assert call.ack.errors == {block: message}
    assert world.case_count() == 0 and world.slack.sent == [] and world.worker.jobs == 0


def test_form_not_saved_in_time_stays_open(world: World) -> None:
    world.worker.slow_saves = True
    call = world.call(listeners.submitted, form(world))
    assert call.ack.errors == {"summary": texts.FORM_NOT_SAVED}
    assert world.slack.sent == [] and world.case_count() == 0


def test_form_submitted_twice_opens_one_case(world: World) -> None:
    body = form(world)
    world.call(listeners.submitted, body).ack.assert_plain()
    world.call(listeners.submitted, body).ack.assert_plain()
    assert world.case_count() == 1
    assert len([s for s in world.slack.posts(CHANNEL) if s.thread_ts is None]) == 1


def test_form_whose_post_fails_dms_the_agent_a_retry(world: World) -> None:
    world.slack.fail("post", "is_archived")
    world.call(listeners.submitted, form(world)).ack.assert_plain()
    (dm,) = world.slack.posts(f"D{AGENT}")
    assert dm.message.text == texts.CHANNEL_UNREACHABLE.format(number=1, error="is_archived")
    assert ids.RETRY_POST_ACTION in content(dm)


# --- the message shortcut ----------------------------------------------------------------------
def shortcut_body(world: World, text: str, author: str = STRANGER) -> dict:
    return {"type": "message_action", "callback_id": ids.SHORTCUT_CALLBACK, "user": {"id": AGENT},
            "team": {"id": "T0001"}, "trigger_id": world.trigger(), "channel": {"id": CHANNEL},
            "message": {"ts": "1700000000.000900", "text": text, "user": author},
            "response_url": "https://hooks.slack.test/actions/2"}


def test_shortcut_opens_the_form_quoting_the_message_then_fills_in_link_and_author(world: World) -> None:
    call = world.call(listeners.shortcut, shortcut_body(world, "This is the *third* time!"))
    call.ack.assert_plain()
    (_, opened), (view_id, filled) = world.slack.views
    summary = next(b for b in opened["blocks"] if b.get("block_id") == "summary")["element"]["initial_value"]
    assert summary.startswith(texts.INTAKE_QUOTE_PREFIX) and "> This is the *third* time!" in summary
    assert view_id == "V1"  # views.update of the form just opened
    initial = {b["block_id"]: b["element"].get("initial_value") for b in filled["blocks"] if b["type"] == "input"}
    assert initial["customer"] == "jane"
    assert initial["link"] == f"https://example.slack.com/archives/{CHANNEL}/p1700000000000900"
    assert world.case_count() == 0  # nothing is saved until the form is submitted


def test_shortcut_that_cannot_open_the_form_says_so(world: World) -> None:
    world.slack.fail("open_view", "expired_trigger_id")
    call = world.call(listeners.shortcut, shortcut_body(world, "angry words"))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.GENERIC_FAILURE]
    assert world.worker.jobs == 0 and world.slack.views == []


# --- Post it again ----------------------------------------------------------------------------
def test_post_again_posts_a_saved_case(world: World) -> None:
    world.slack.fail("post", "is_archived")
    world.call(listeners.angry, world.command("Acme: charged twice")).ack.assert_plain()
    assert world.case(1).message_ts is None
    call = world.call(listeners.post_again, world.action(ids.RETRY_POST_ACTION, "1"))
    call.ack.assert_plain()
    case = world.case(1)
    assert case.message_ts is not None
    assert call.respond.calls == [{"text": texts.POSTED_CASE.format(number=1, url=case.permalink),
                                   "replace_original": True}]


def test_post_again_still_refused_offers_the_button_again(world: World) -> None:
    world.slack.fail("post", "is_archived")
    world.call(listeners.angry, world.command("Acme: charged twice"))
    world.slack.fail("post", "is_archived")
    call = world.call(listeners.post_again, world.action(ids.RETRY_POST_ACTION, "1"))
    (answer,) = call.respond.calls
    assert answer["text"] == texts.CHANNEL_UNREACHABLE.format(number=1, error="is_archived")
    assert answer["replace_original"] is True and ids.RETRY_POST_ACTION in str(answer["blocks"])


def test_post_again_for_an_unknown_case_is_told(world: World) -> None:
    call = world.call(listeners.post_again, world.action(ids.RETRY_POST_ACTION, "999"))
    call.ack.assert_plain()
    assert call.respond.texts == [texts.CASE_NOT_FOUND]
    assert world.slack.sent == []


def test_angry_with_only_a_customer_opens_the_form_with_it_filled_in(world: World) -> None:
    call = world.call(listeners.angry, world.command("<@U1> & Co:"))
    call.ack.assert_plain()
    ((_, view),) = world.slack.views
    customer = next(b for b in view["blocks"] if b.get("block_id") == "customer")["element"]["initial_value"]
    assert customer == "@U1 & Co"  # the form shows plain text
    assert world.case_count() == 0


# --- the posting process: the case is handed over through a pickle -------------------------------------------------
class Answers:
    """Bolt's respond, as the posting process gets it: picklable; what it is told is kept on the class."""

    told: list[dict] = []

    def __init__(self, response_url: str) -> None:
        self.response_url = response_url

    def __call__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        Answers.told.append(kwargs)


class Loopback:
    """handlers.slack.posting.PostingProcess without the process: each job is pickled, unpickled and run on a
    second wiring of the app (same database, its own Slack and lease name)."""

    def __init__(self, other: World) -> None:
        self.other = other
        self.holder: str | None = other.services.publisher.me
        self.frames = 0

    def send(self, holder: str, fn, args) -> bool:  # type: ignore[no-untyped-def]
        fn, args = pickle.loads(pickle.dumps((fn, args)))
        self.frames += 1
        fn(self.other.services, *args)
        return True


def test_a_command_case_is_leased_to_the_posting_process_and_posted_there_once(world: World, other: World) -> None:
    loop = Loopback(other)
    world.services.posting.process = loop  # type: ignore[assignment]
    Answers.told = []
    call = world.call(listeners.angry, world.command("charged twice"), respond=Answers("https://hooks.slack.test/c/1"))
    call.ack.assert_plain()
    assert loop.frames == 1 and world.worker.jobs == 0  # nothing of it ran here
    case = world.case(1)
    assert case.message_ts and case.checklist_ts and case.post_state == "done"
    top, checklist = other.slack.posts(CHANNEL)
    assert "case #1" in top.message.text and checklist.thread_ts == top.ts
    assert world.slack.posts(CHANNEL) == []
    assert [t["text"] for t in Answers.told] == [texts.ASK_FOR_CUSTOMER.format(number=1)]


def test_a_form_case_is_posted_by_the_posting_process(world: World, other: World) -> None:
    loop = Loopback(other)
    world.services.posting.process = loop  # type: ignore[assignment]
    world.call(listeners.submitted, form(world)).ack.assert_plain()
    assert loop.frames == 1 and world.worker.jobs == 0
    case = world.case(1)
    assert case.summary == GOOD_FORM["summary"] and case.message_ts and case.checklist_ts
    top, checklist = other.slack.posts(CHANNEL)
    assert "Acme Corp" in content(top) and checklist.thread_ts == top.ts
    assert world.slack.posts(CHANNEL) == []
