"""Bad requests end to end, through signed HTTP against `python app.py`: each gets 401 or 400 (never a
500 or a traceback), a replay is applied once, another workspace is refused, unreadable modal metadata
gets a clear answer at once, and control characters in what an agent types are stored cleanly."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot import texts
from tests.harness import SECRET, http, sign
from tests.test_e2e_casefile import ENV, World, flat


@pytest.fixture
def world(start_app, standin) -> Iterator[World]:  # type: ignore[no-untyped-def]
    w = World(start_app(**ENV), standin)
    try:
        yield w
    finally:
        w.close()


def raw_post(world: World, body: bytes, content_type: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return http("POST", world.app.url + "/slack/events", body, {"Content-Type": content_type, **headers})


def assert_no_traceback(world: World) -> None:
    log = world.app.log()
    assert "Traceback" not in log and " 500 " not in log, log[-3000:]


# --- 401 and 400 ------------------------------------------------------------------------------
@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "12 34"])
def test_non_numeric_or_missing_timestamp_is_401_without_a_traceback(world: World, timestamp: str):
    body = b"command=%2Fangry&text=Acme%3A+x&team_id=T0001&user_id=UAGENT&channel_id=CSUPPORT"
    headers = {"X-Slack-Signature": "v0=" + "0" * 64}
    if timestamp:
        headers["X-Slack-Request-Timestamp"] = timestamp
    reply = raw_post(world, body, "application/x-www-form-urlencoded", headers)
    assert reply.status == 401 and reply.elapsed < 1.0
    assert_no_traceback(world)
    assert not world.standin.calls_to("chat.postMessage")


@pytest.mark.parametrize("body, content_type", [
    (b"{this is not json", "application/json"),
    (b'[{"type": "event_callback"}]', "application/json"),
    (b"payload=%FF%FE" + b"\xff\xfe", "application/x-www-form-urlencoded"),
    (urllib.parse.urlencode({"payload": "{not json"}).encode(), "application/x-www-form-urlencoded"),
    (urllib.parse.urlencode({"payload": "[1, 2]"}).encode(), "application/x-www-form-urlencoded"),
    (b"token=x&team_id=T0001", "application/x-www-form-urlencoded"),
])
def test_signed_but_malformed_bodies_are_400_without_a_traceback(world: World, body: bytes, content_type: str):
    reply = raw_post(world, body, content_type, sign(body, secret=SECRET))
    assert reply.status == 400 and reply.elapsed < 1.0
    assert_no_traceback(world)


def test_a_command_mentioning_payload_opens_a_case(world: World):
    posted = world.open_case("Acme Corp: the webhook payload never arrived")
    assert "the webhook payload never arrived" in flat(world.message(posted))


# --- replays ----------------------------------------------------------------------------------
def test_the_same_signed_view_submission_twice_is_applied_once(world: World):
    posted = world.open_case()
    view = world.case_modal(posted, "case_note", "note")
    state = {"values": {"text": {"value": {"type": "plain_text_input", "value": "Called her back, calmer now"}}}}
    payload = {**world.slack._base("view_submission", "UAGENT"), "view": {**view, "state": state}, "response_urls": []}
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    headers = sign(body, secret=SECRET)
    for _ in range(2):  # Slack (or anyone who saw it) delivers the very same request twice
        reply = raw_post(world, body, "application/x-www-form-urlencoded", headers)
        assert reply.status == 200 and reply.body == b"" and reply.elapsed < 1.0
    world.wait_thread(posted, "Called her back, calmer now")
    # pressing Submit again on the same modal (a new trigger_id and signature) is not a second note either
    assert world.submit(view, {"text": "Called her back, calmer now"}).body == b""
    world.settle(0.5)
    assert [m for m in world.thread(posted) if "Called her back" in flat(m)].__len__() == 1
    assert world.kinds(posted.id).count("note") == 1


# --- another workspace ------------------------------------------------------------------------
def test_requests_from_another_workspace_are_refused(world: World):
    posted = world.open_case()
    world.slack.team = "TFOREIGN"
    reply = world.slack.command("Other Corp: should not open a case")
    assert reply.status == 200 and reply.json == {"response_type": "ephemeral", "text": texts.OTHER_WORKSPACE}
    reply = world.slack.click(world.message(posted), "case_note", channel=posted.channel)
    assert reply.status == 200 and reply.body == b""
    world.settle(0.5)
    assert not world.standin.calls_to("views.open"), "a click from another workspace opened a modal"
    assert len(world.bot_top_level()) == 1
    assert world.app.log().count("refusing requests from team TFOREIGN") == 1


# --- unreadable metadata ----------------------------------------------------------------------
@pytest.mark.parametrize("metadata", ['{"case": "not-a-number"}', "not json at all", "[7]"])
def test_edit_case_with_unreadable_metadata_gets_a_clear_answer_at_once(world: World, metadata: str):
    posted = world.open_case()
    view = world.case_modal(posted, "case_edit", "case_edit")
    reply = world.slack.submit({**view, "private_metadata": metadata},
                               {"customer": "Acme", "summary": "changed", "mood": None, "link": None})
    assert reply.status == 200 and reply.elapsed < 1.0
    assert reply.json["response_action"] == "update" and texts.FORM_UNREADABLE in flat(reply.json["view"])
    assert_no_traceback(world)
    assert "changed" not in flat(world.message(posted))


# --- control characters -----------------------------------------------------------------------
def test_nul_and_control_characters_in_angry_text_are_stored_cleanly(start_app, standin, database_url):
    world = World(start_app(database_url=database_url), standin)
    try:
        posted = world.open_case("Acme\x00 Corp: charged\x00 twice\x07, line\r\nbreak\ttab")
        message = flat(world.message(posted))
        assert "Acme Corp" in message and "charged twice, line" in message
        from storage.models import Case

        with world.db.session() as session:
            case = session.execute(select(Case).where(Case.c.id == posted.id)).one()
            assert case.customer == "Acme Corp"
            assert case.summary == "charged twice, line\nbreak\ttab"
        assert not [r for r in standin.responses() if "Nothing was lost" in flat(r)]
        # the same in a modal: a note with a NUL is saved too
        view = world.case_modal(posted, "case_note", "note")
        world.submit(view, {"text": "called\x00 back\x1b[31m"})
        world.wait_thread(posted, "called back[31m")
    finally:
        world.close()


def test_healthz_answers_fast(world: World):
    started = time.perf_counter()
    assert http("GET", world.app.url + "/healthz").status == 200
    assert time.perf_counter() - started < 2.0
