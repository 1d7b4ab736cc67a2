"""The HTTP guard in front of Bolt (handlers/slack/guard.py), called as WSGI with a recording inner app."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import SignatureVerifier

from bot import texts
from handlers.slack import guard as http_guard
from handlers.slack.guard import Memory, SlackGuard, protect_bolt
from tests.harness import sign

SECRET = "guard-secret"
NOW = 1_800_000_000


class Inner:
    """Stands in for Bolt: records what reached it and answers as told."""

    def __init__(self, status: str = "200 OK", body: bytes = b"", delay: float = 0.0,
                 fail: Exception | None = None):
        self.calls: list[dict[str, Any]] = []
        self.status, self.body, self.delay, self.fail = status, body, delay, fail

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.calls.append({"body": body, "signature": environ.get("HTTP_X_SLACK_SIGNATURE"),
                           "timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")})
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise self.fail
        start_response(self.status, [("Content-Length", str(len(self.body)))])
        return [self.body]


def guard_for(inner: Inner, team: str | None = "T0001", **kw: Any) -> SlackGuard:
    return SlackGuard(inner, signing_secret=SECRET, team_id=team, clock=lambda: NOW, **kw)


def call(guard: SlackGuard, body: bytes, *, content_type: str = "application/x-www-form-urlencoded",
         headers: dict[str, str] | None = None, signed: bool = True) -> tuple[int, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
    }
    for name, value in ({**sign(body, NOW, SECRET)} if signed else {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: list[str] = []
    chunks = guard(environ, lambda status, _headers, exc_info=None: seen.append(status))
    assert len(seen) == 1, "start_response must be called exactly once"
    return int(seen[0].split()[0]), b"".join(chunks)


def command(text: str = "Acme: charged twice", team: str = "T0001", trigger: str = "13345.1") -> bytes:
    return urllib.parse.urlencode({"command": "/angry", "text": text, "team_id": team, "user_id": "UAGENT",
                                   "channel_id": "CSUPPORT", "trigger_id": trigger,
                                   "response_url": "http://x/r"}).encode()


def interactive(payload: dict[str, Any]) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def submission(view_id: str = "V1", trigger: str = "t-1", metadata: str = '{"case": 7}', team: str = "T0001") -> bytes:
    return interactive({
        "type": "view_submission", "team": {"id": team}, "user": {"id": "UAGENT", "team_id": team},
        "trigger_id": trigger,
        "view": {"id": view_id, "type": "modal", "hash": "h1", "callback_id": "case_note", "private_metadata": metadata,
                 "blocks": [{"type": "section", "block_id": "intro"}, {"type": "input", "block_id": "text"}],
                 "state": {"values": {"text": {"value": {"type": "plain_text_input", "value": "called back"}}}}},
    })


# --- who may talk to us -----------------------------------------------------------------------
@pytest.mark.parametrize("timestamp", [None, "", "abc", "1e9", "+1800000000", "1_800_000_000", "18e8", "-5",
                                       "١٨٠٠٠٠٠٠٠٠"])
def test_missing_or_non_numeric_timestamp_is_401_and_never_reaches_bolt(timestamp):
    inner = Inner()
    headers = {"X-Slack-Signature": "v0=00"}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    status, body = call(guard_for(inner), command(), headers=headers, signed=False)
    assert status == 401 and b"timestamp" in body.lower()
    assert inner.calls == []


def test_stale_timestamp_and_wrong_signature_are_401():
    inner = Inner()
    body = command()
    stale = sign(body, NOW - 301, SECRET)
    assert call(guard_for(inner), body, headers=stale, signed=False)[0] == 401
    forged = sign(body, NOW, "not-the-secret")
    assert call(guard_for(inner), body, headers=forged, signed=False)[0] == 401
    assert call(guard_for(inner), body, headers={"X-Slack-Request-Timestamp": str(NOW)}, signed=False)[0] == 401
    assert inner.calls == []


@pytest.mark.parametrize("body, content_type, reason", [
    (b"\xff\xfe\x00payload", "application/x-www-form-urlencoded", b"UTF-8"),
    (b"{not json", "application/json", b"not JSON"),
    (b"[1, 2]", "application/json", b"not a JSON object"),
    (b'"just a string"', "application/json; charset=utf-8", b"not a JSON object"),
    (urllib.parse.urlencode({"payload": "nope"}).encode(), "application/x-www-form-urlencoded", b"not JSON"),
    (urllib.parse.urlencode({"payload": "[1]"}).encode(), "application/x-www-form-urlencoded", b"not a JSON object"),
    (urllib.parse.urlencode({"payload": '{"no": "type"}'}).encode(), "application/x-www-form-urlencoded", b"no type"),
    (b"a=b&c=d", "application/x-www-form-urlencoded", b"neither payload nor command"),
    (b"", "application/x-www-form-urlencoded", b"neither payload nor command"),
])
def test_signed_but_unreadable_bodies_are_400(body, content_type, reason):
    inner = Inner()
    status, answer = call(guard_for(inner), body, content_type=content_type)
    assert status == 400 and reason in answer
    assert inner.calls == []


def test_oversized_body_is_413_without_reading_it():
    inner = Inner()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "CONTENT_LENGTH": str(10 << 20),
               "wsgi.input": io.BytesIO(b"")}
    seen: list[str] = []
    guard_for(inner)(environ, lambda status, _h, exc_info=None: seen.append(status))
    assert seen[0].startswith("413") and inner.calls == []


def test_a_good_command_reaches_bolt_unchanged():
    inner = Inner()
    body = command()
    assert call(guard_for(inner), body) == (200, b"")
    assert inner.calls[0]["body"] == body


def test_a_command_mentioning_payload_is_rewritten_so_bolt_reads_it_and_signed_again():
    inner = Inner()
    body = command("Acme: the payload never arrived")
    assert call(guard_for(inner), body)[0] == 200
    seen = inner.calls[0]
    assert b"payload" not in seen["body"]
    assert dict(urllib.parse.parse_qsl(seen["body"].decode())) == dict(urllib.parse.parse_qsl(body.decode()))
    verifier = SignatureVerifier(SECRET, clock=type("C", (), {"now": lambda self: NOW})())
    assert verifier.is_valid(seen["body"], seen["timestamp"], seen["signature"])


def test_ssl_check_passes():
    inner = Inner()
    assert call(guard_for(inner), b"ssl_check=1&token=x")[0] == 200 and len(inner.calls) == 1


# --- replays ----------------------------------------------------------------------------------
def test_the_same_signed_request_twice_is_applied_once():
    inner = Inner()
    guard = guard_for(inner)
    body = command()
    assert call(guard, body) == (200, b"")
    assert call(guard, body) == (200, b"")
    assert len(inner.calls) == 1


def test_a_redelivery_with_a_new_signature_is_known_by_trigger_id_or_event_id():
    inner = Inner()
    guard = guard_for(inner)
    assert call(guard, command("first", trigger="T-9"))[0] == 200
    assert call(guard, command("first again", trigger="T-9"))[0] == 200  # a new body: a new signature
    event = {"type": "event_callback", "team_id": "T0001", "event_id": "Ev1", "event": {"type": "app_home_opened"}}
    for retry in ("1", "2"):
        assert call(guard, json.dumps(event).encode(), content_type="application/json",
                    headers={"X-Slack-Retry-Num": retry})[0] == 200
        event["event_time"] = retry  # Slack signs each retry anew
    assert [c["body"] for c in inner.calls] == [command("first", trigger="T-9"), json.dumps({**event, "event_time": "1"}).encode()] or len(inner.calls) == 2


def test_memory_forgets_after_the_window_and_stays_bounded():
    now = [0.0]
    memory = Memory(window=10, limit=3, clock=lambda: now[0])
    assert memory.first_time(["a"]) and not memory.first_time(["a", "b"])
    now[0] = 11
    assert memory.first_time(["a"])
    for key in "bcdef":
        memory.add(key)
    assert len(memory) == 3 and "f" in memory and "b" not in memory


# --- one application per modal ----------------------------------------------------------------
def test_a_modal_accepted_once_is_not_applied_again_when_submitted_again():
    inner = Inner()
    guard = guard_for(inner)
    assert call(guard, submission(trigger="t-1")) == (200, b"")
    assert call(guard, submission(trigger="t-2")) == (200, b"")  # the agent pressed Submit again
    assert len(inner.calls) == 1


def test_a_modal_answered_with_errors_can_be_submitted_again():
    errors = json.dumps({"response_action": "errors", "errors": {"text": "Required"}}).encode()
    inner = Inner(body=errors)
    guard = guard_for(inner)
    assert call(guard, submission(trigger="t-1"))[1] == errors
    inner.body = b""
    assert call(guard, submission(trigger="t-2")) == (200, b"")
    assert call(guard, submission(trigger="t-3")) == (200, b"")
    assert len(inner.calls) == 2


def test_a_second_copy_arriving_while_the_first_is_answered_waits_and_is_dropped():
    inner = Inner(delay=0.3)
    guard = guard_for(inner)
    answers: list[tuple[int, bytes]] = []
    first = threading.Thread(target=lambda: answers.append(call(guard, submission(trigger="t-1"))))
    first.start()
    deadline = time.monotonic() + 5
    while not inner.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    answers.append(call(guard, submission(trigger="t-2")))
    first.join()
    assert len(inner.calls) == 1 and answers == [(200, b""), (200, b"")]


@pytest.mark.parametrize("metadata", ["not json", "[1]", '{"case": "seven"}', '{"case": {"id": 7}}',
                                      '{"handoff": true}', '{"checked": "bot"}', '"7"'])
def test_unreadable_private_metadata_gets_an_out_of_date_modal_at_once(metadata):
    inner = Inner()
    status, body = call(guard_for(inner), submission(metadata=metadata))
    answer = json.loads(body)
    assert status == 200 and answer["response_action"] == "update"
    assert texts.FORM_UNREADABLE in json.dumps(answer["view"])
    assert inner.calls == []


@pytest.mark.parametrize("metadata", ["", '{"case": 7}', '{"case": "7"}', '{"reminder": 3, "checked": {}}'])
def test_readable_private_metadata_passes(metadata):
    inner = Inner()
    assert call(guard_for(inner), submission(metadata=metadata)) == (200, b"")
    assert len(inner.calls) == 1


# --- other workspaces -------------------------------------------------------------------------
def test_another_workspace_is_refused_and_logged_once(caplog):
    inner = Inner()
    guard = guard_for(inner)
    with caplog.at_level(logging.WARNING, logger="defuse.guard"):
        status, body = call(guard, command(team="TOTHER", trigger="a"))
        assert status == 200 and json.loads(body) == {"response_type": "ephemeral", "text": texts.OTHER_WORKSPACE}
        assert call(guard, submission(team="TOTHER")) == (200, b"")
        click = {"type": "block_actions", "team": {"id": "TOTHER"}, "user": {"id": "U9"}, "trigger_id": "b",
                 "actions": [{"action_id": "step_set", "value": "1:1:done"}]}
        assert call(guard, interactive(click)) == (200, b"")
    assert inner.calls == []
    assert len([r for r in caplog.records if "TOTHER" in r.getMessage()]) == 1


def test_an_org_wide_install_accepts_every_workspace_of_its_enterprise():
    inner = Inner()
    guard = guard_for(inner, enterprise_id="E1")
    body = urllib.parse.urlencode({"command": "/angry", "text": "x: y", "team_id": "T2", "enterprise_id": "E1",
                                   "trigger_id": "z"}).encode()
    assert call(guard, body) == (200, b"") and len(inner.calls) == 1


def test_an_event_delivered_for_our_installation_from_a_shared_channel_passes():
    inner = Inner()
    event = {"type": "event_callback", "team_id": "TPARTNER", "event_id": "Ev9", "authorizations": [{"team_id": "T0001"}],
             "event": {"type": "app_home_opened", "user": "UAGENT"}}
    assert call(guard_for(inner), json.dumps(event).encode(), content_type="application/json") == (200, b"")
    assert len(inner.calls) == 1


def test_when_our_team_is_unknown_nothing_is_refused():
    inner = Inner()
    assert call(guard_for(inner, team=None), command(team="TOTHER")) == (200, b"")
    assert len(inner.calls) == 1


# --- whatever fails inside --------------------------------------------------------------------
def test_a_failure_inside_gives_the_agent_their_words_and_the_log_one_line(caplog):
    inner = Inner(fail=RuntimeError("boom\nsecond line"))
    with caplog.at_level(logging.INFO, logger="defuse.guard"):
        status, body = call(guard_for(inner), command("Acme: <!channel> charged twice"))
    answer = json.loads(body)
    assert status == 200 and answer["response_type"] == "ephemeral"
    assert "charged twice" in answer["text"] and "<!channel>" not in answer["text"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None and "\n" not in errors[0].getMessage()


def test_a_bolt_500_on_a_modal_keeps_the_modal_open_with_an_inline_message():
    inner = Inner(status="500 Internal Server Error")
    status, body = call(guard_for(inner), submission())
    assert status == 200 and json.loads(body) == {"response_action": "errors", "errors": {"text": texts.FORM_FAILED}}
    inner.status = "200 OK"
    assert call(guard_for(inner), submission(trigger="t-2"))[0] == 200  # not remembered as accepted


def test_other_paths_pass_through():
    inner = Inner()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/elsewhere", "wsgi.input": io.BytesIO(b"")}
    guard_for(inner)(environ, lambda *a: None)
    assert len(inner.calls) == 1


# --- with real Bolt ---------------------------------------------------------------------------
def test_a_listener_that_raises_right_after_ack_is_still_acked():
    """Bolt un-acks a request whose listener raises just after ack(); the sticky ack keeps the answer."""
    bolt = App(signing_secret=SECRET, authorize=lambda **_: AuthorizeResult(enterprise_id=None, team_id="T0001", bot_token="xoxb-x", bot_user_id="UBOT"))
    protect_bolt(bolt)

    @bolt.view("case_note")
    def note(ack):  # type: ignore[no-untyped-def]
        ack()
        raise ValueError("metadata was not what we wrote")

    guard = SlackGuard(SlackRequestHandler(bolt), signing_secret=SECRET, team_id="T0001")
    for attempt in range(20):  # Bolt's reset races with its own 10 ms poll: try often enough to meet it
        body = submission(view_id=f"V{attempt}", trigger=f"t-{attempt}")
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "SERVER_PROTOCOL": "HTTP/1.1",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
                   "wsgi.input": io.BytesIO(body)}
        for name, value in sign(body, secret=SECRET).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        seen: list[str] = []
        started = time.monotonic()
        chunks = guard(environ, lambda status, _h, exc_info=None: seen.append(status))
        assert seen == ["200 OK"] and b"".join(chunks) == b"", f"attempt {attempt}"
        assert time.monotonic() - started < 1.0, f"attempt {attempt} waited for an ack Bolt had thrown away"


def test_sticky_ack_keeps_its_answer():
    ack = http_guard._StickyAck()
    assert ack.response is None
    ack()
    kept = ack.response
    ack.response = None
    assert ack.response is kept and kept is not None
