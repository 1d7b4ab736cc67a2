"""Tests for the local Slack Web API stand-in, driven through the real slack_sdk clients."""

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

sys.path.insert(0, os.path.dirname(__file__))
from slack_standin import SlackStandIn  # noqa: E402


@pytest.fixture
def slack():
    standin = SlackStandIn().start()
    standin.add_channel("C1", "general")
    standin.add_channel("C2", "random", bot_member=False)
    standin.add_channel("G1", "secret", is_private=True, bot_member=False)
    standin.add_channel("C3", "old", archived=True)
    standin.add_user("U1", "alice")
    standin.add_user("U2", "bob", tz="Asia/Tokyo")
    yield standin
    standin.stop()


@pytest.fixture
def client(slack):
    return WebClient(token="xoxb-test", base_url=slack.url, timeout=5)


def api_error(call, *args, **kwargs):
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    return info.value.response


def raw_post(url, data: bytes, content_type: str, headers=None):
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# ---------------------------------------------------------------- basics and auth
def test_url_shape_and_auth_test(slack, client):
    assert slack.url == slack.root + "/api/" and slack.root.startswith("http://127.0.0.1:")
    resp = client.auth_test()
    assert (resp["user_id"], resp["team_id"], resp["bot_id"]) == ("UBOT", "T0001", "B0001")
    assert resp["url"].startswith("https://")
    assert [(c.method, c.status) for c in slack.calls] == [("auth.test", 200)]


def test_missing_and_bad_tokens(slack):
    assert api_error(WebClient(base_url=slack.url).auth_test)["error"] == "not_authed"
    assert api_error(WebClient(token="bogus", base_url=slack.url).auth_test)["error"] == "invalid_auth"
    # a token in the form body is accepted too
    status, body = raw_post(slack.url + "auth.test", b"token=xoxp-123", "application/x-www-form-urlencoded")
    assert status == 200 and json.loads(body)["ok"] is True


def test_unknown_method_is_404(slack, client):
    resp = api_error(client.api_call, "nope.nothing")
    assert resp.status_code == 404 and resp["error"] == "unknown_method"
    assert slack.calls_to("nope.nothing")[0].status == 404


def test_proxy_env_vars_do_not_affect_loopback(slack, monkeypatch):
    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there
    client = WebClient(token="xoxb-test", base_url=slack.url, timeout=5)
    assert client.proxy == "http://127.0.0.1:9"
    assert client.auth_test()["ok"] is True


# ---------------------------------------------------------------- messages
def test_post_update_thread_delete(slack, client):
    first = client.chat_postMessage(channel="C1", text="hello", metadata={
        "event_type": "standup", "event_payload": {"id": 7}})
    assert first["channel"] == "C1" and first["message"]["text"] == "hello"
    assert first["message"]["user"] == "UBOT" and first["message"]["metadata"]["event_payload"] == {"id": 7}
    reply = client.chat_postMessage(channel="C1", text="in thread", thread_ts=first["ts"])
    assert float(reply["ts"]) > float(first["ts"]) and reply["message"]["thread_ts"] == first["ts"]

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*edited*"}}]
    updated = client.chat_update(channel="C1", ts=first["ts"], text="edited", blocks=blocks)
    assert updated["ts"] == first["ts"] and updated["message"]["blocks"] == blocks

    parent = slack.messages("C1")[0]
    assert (parent["text"], parent["blocks"], parent["thread_ts"], parent["reply_count"]) == (
        "edited", blocks, first["ts"], 1)
    assert [m["text"] for m in slack.thread("C1", first["ts"])] == ["in thread"]

    client.chat_delete(channel="C1", ts=reply["ts"])
    assert slack.thread("C1", first["ts"]) == [] and slack.messages("C1")[0]["reply_count"] == 0
    assert api_error(client.chat_update, channel="C1", ts=reply["ts"], text="x")["error"] == "message_not_found"
    assert api_error(client.chat_delete, channel="C1", ts="1.000000")["error"] == "message_not_found"


def test_cannot_edit_or_delete_other_peoples_messages(slack, client):
    ts = slack.add_message("C1", "human text", user="U1")
    assert api_error(client.chat_update, channel="C1", ts=ts, text="x")["error"] == "cant_update_message"
    assert api_error(client.chat_delete, channel="C1", ts=ts)["error"] == "cant_delete_message"
    assert slack.messages("C1")[0]["text"] == "human text"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(slack, client):
    assert api_error(client.chat_postMessage, channel="C404", text="x")["error"] == "channel_not_found"
    assert api_error(client.chat_postMessage, channel="C3", text="x")["error"] == "is_archived"
    assert api_error(client.chat_postMessage, channel="C1")["error"] == "no_text"
    assert api_error(client.chat_postMessage, channel="C1", text="x" * 40_001)["error"] == "msg_too_long"
    assert client.chat_postMessage(channel="C1", text="x" * 40_000)["ok"]
    assert api_error(client.chat_postMessage, channel="C1", text="x", metadata={"event_type": "e"}
                     )["error"] == "invalid_metadata_schema"


def test_dm_by_user_id(slack, client):
    resp = client.chat_postMessage(channel="U1", text="psst")
    assert resp["channel"] == "DU1"
    assert [m["text"] for m in slack.dm_messages("U1")] == ["psst"]
    opened = client.conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1" and opened["already_open"] is True
    client.chat_postMessage(channel=opened["channel"]["id"], text="again")
    assert [m["text"] for m in slack.dm_messages("U1")] == ["psst", "again"]
    assert api_error(client.chat_postMessage, channel="U404", text="x")["error"] == "channel_not_found"
    assert api_error(client.conversations_open, users="U404")["error"] == "user_not_found"
    info = client.conversations_info(channel="DU1")["channel"]
    assert info["is_im"] is True and info["user"] == "U1"


def test_not_in_channel_then_join(slack, client):
    assert api_error(client.chat_postMessage, channel="C2", text="hi")["error"] == "not_in_channel"
    assert client.conversations_info(channel="C2")["channel"]["is_member"] is False
    joined = client.conversations_join(channel="C2")
    assert joined["channel"]["id"] == "C2" and joined["channel"]["is_member"] is True
    assert client.conversations_join(channel="C2")["warning"] == "already_in_channel"
    client.chat_postMessage(channel="C2", text="hi")
    assert [m["text"] for m in slack.messages("C2")] == ["hi"]


def test_private_and_archived_channels(slack, client):
    assert api_error(client.conversations_join, channel="G1")["error"] == "method_not_supported_for_channel_type"
    assert api_error(client.chat_postMessage, channel="G1", text="x")["error"] == "channel_not_found"
    assert api_error(client.conversations_info, channel="G1")["error"] == "channel_not_found"
    assert api_error(client.conversations_join, channel="C3")["error"] == "is_archived"
    assert api_error(client.conversations_join, channel="C999")["error"] == "channel_not_found"
    slack.add_channel("G2", "team", is_private=True)
    info = client.conversations_info(channel="G2")["channel"]
    assert (info["name"], info["is_private"], info["is_member"], info["is_archived"]) == ("team", True, True, False)


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_ephemeral(slack, client):
    resp = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert resp["message_ts"]
    assert [(e["user"], e["text"]) for e in slack.ephemerals("C1")] == [("U1", "only you")]
    assert slack.ephemerals(user_id="U2") == [] and slack.messages("C1") == []
    assert api_error(client.chat_postEphemeral, channel="C2", user="U1", text="x")["error"] == "not_in_channel"
    assert api_error(client.chat_postEphemeral, channel="C1", user="U1")["error"] == "no_text"


def test_permalink(slack, client):
    parent = client.chat_postMessage(channel="C1", text="p")["ts"]
    reply = client.chat_postMessage(channel="C1", text="r", thread_ts=parent)["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=parent)["permalink"]
    assert link == f"https://example.slack.com/archives/C1/p{parent.replace('.', '')}"
    reply_link = client.chat_getPermalink(channel="C1", message_ts=reply)["permalink"]
    assert reply_link.endswith(f"/C1/p{reply.replace('.', '')}?thread_ts={parent}&cid=C1")
    assert api_error(client.chat_getPermalink, channel="C1", message_ts="9.000001")["error"] == "message_not_found"
    assert api_error(client.chat_getPermalink, channel="C404", message_ts=parent)["error"] == "channel_not_found"


def test_users_info(slack, client):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    user = client.users_info(user="U2")["user"]
    assert (user["id"], user["name"], user["tz"], user["is_bot"]) == ("U2", "bob", "Asia/Tokyo", False)
    assert user["tz_offset"] == 9 * 3600 and user["profile"]["display_name"] == "bob"
    ny = client.users_info(user="U1")["user"]
    assert ny["tz_offset"] == int(datetime.now(ZoneInfo("America/New_York")).utcoffset().total_seconds())
    assert client.users_info(user="UBOT")["user"]["is_bot"] is True
    assert api_error(client.users_info, user="U404")["error"] == "user_not_found"


# ---------------------------------------------------------------- Block Kit limits
def section(text, **extra):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def test_invalid_blocks_limits(slack, client):
    resp = api_error(client.chat_postMessage, channel="C1", text="x", blocks=[section("a")] * 51)
    assert resp["error"] == "invalid_blocks"
    assert resp["errors"] == ["must be less than 51 items [json-pointer:/blocks]"]
    assert resp["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert client.chat_postMessage(channel="C1", text="x", blocks=[section("a")] * 50)["ok"]

    resp = api_error(client.chat_postMessage, channel="C1", text="x", blocks=[section("y" * 3001)])
    assert resp["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]
    assert client.chat_postMessage(channel="C1", text="x", blocks=[section("y" * 3000)])["ok"]
    assert len(slack.messages("C1")) == 2  # rejected posts are not stored


@pytest.mark.parametrize("blocks, pointer", [
    ([{"type": "carousel"}], "/blocks/0/type"),
    ([{"type": "section", "text": {"type": "html", "text": "x"}}], "/blocks/0/text/type"),
    ([section("a", block_id="b"), section("c", block_id="b")], "/blocks/1/block_id"),
    ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
    ([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b" * 76},
                                        "action_id": "a"}]}], "/blocks/0/elements/0/text/text"),
    ([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "b"},
                                        "action_id": "a" * 256}]}], "/blocks/0/elements/0/action_id"),
    ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0/fields"),
    ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "/blocks/0/elements"),
    ([section("s", accessory={"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}]})],
     "/blocks/0/accessory/options/0/value"),
])
def test_invalid_block_shapes(client, blocks, pointer):
    resp = api_error(client.chat_postMessage, channel="C1", text="x", blocks=blocks)
    assert resp["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in resp["errors"]), resp["errors"]


def test_form_encoded_args_with_json_strings(slack):
    blocks = [section("from a form")]
    data = urlencode({"channel": "C1", "text": "fallback", "blocks": json.dumps(blocks)}).encode()
    status, body = raw_post(slack.url + "chat.postMessage?unfurl_links=false", data,
                            "application/x-www-form-urlencoded", {"Authorization": "Bearer xoxb-test"})
    assert status == 200 and json.loads(body)["ok"] is True
    assert slack.messages("C1")[0]["blocks"] == blocks
    assert slack.calls[-1].args["unfurl_links"] == "false"
    status, body = raw_post(slack.url + "chat.postMessage", b"channel=C1&blocks=not-json",
                            "application/x-www-form-urlencoded", {"Authorization": "Bearer xoxb-test"})
    assert json.loads(body)["error"] == "invalid_blocks_format"


# ---------------------------------------------------------------- views
MODAL = {"type": "modal", "callback_id": "cb", "title": {"type": "plain_text", "text": "Standup"},
         "submit": {"type": "plain_text", "text": "Save"},
         "blocks": [{"type": "input", "block_id": "b1", "label": {"type": "plain_text", "text": "What?"},
                     "element": {"type": "plain_text_input", "action_id": "a1"}}]}


def test_views_open_trigger_rules(slack, client):
    trigger = slack.new_trigger_id()
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["hash"] and view["state"] == {"values": {}}
    assert view["callback_id"] == "cb" and view["blocks"] == MODAL["blocks"]
    assert slack.views()[view["id"]]["title"]["text"] == "Standup"

    assert api_error(client.views_open, trigger_id=trigger, view=MODAL)["error"] == "exchanged_trigger_id"
    assert api_error(client.views_open, trigger_id="123.456.abc", view=MODAL)["error"] == "invalid_trigger_id"
    slack.trigger_ttl = 0.05
    stale = slack.new_trigger_id()
    time.sleep(0.1)
    assert api_error(client.views_open, trigger_id=stale, view=MODAL)["error"] == "expired_trigger_id"

    slack.trigger_ttl = 3.0
    pushed = client.views_push(trigger_id=slack.new_trigger_id(), view=MODAL)["view"]
    assert pushed["id"] != view["id"] and set(slack.views()) == {view["id"], pushed["id"]}


def test_views_open_validates_view(slack, client):
    trigger = slack.new_trigger_id()
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}}
    resp = api_error(client.views_open, trigger_id=trigger, view=long_title)
    assert resp["error"] == "invalid_arguments"
    assert resp["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
    too_many = {**MODAL, "blocks": [{"type": "divider"}] * 101}
    assert api_error(client.views_open, trigger_id=trigger, view=too_many)["error"] == "invalid_arguments"
    big_meta = {**MODAL, "private_metadata": "m" * 3001}
    assert api_error(client.views_open, trigger_id=trigger, view=big_meta)["error"] == "invalid_arguments"
    # a rejected view does not use up the trigger
    assert client.views_open(trigger_id=trigger, view={**MODAL, "blocks": [{"type": "divider"}] * 100})["ok"]


def test_views_update_hash(slack, client):
    opened = client.views_open(trigger_id=slack.new_trigger_id(), view={**MODAL, "external_id": "ext-1"})["view"]
    changed = {**MODAL, "title": {"type": "plain_text", "text": "Changed"}}
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert slack.views()[opened["id"]]["title"]["text"] == "Changed"
    assert api_error(client.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL
                     )["error"] == "hash_conflict"
    assert client.views_update(external_id="ext-1", view=MODAL)["view"]["id"] == opened["id"]
    assert api_error(client.views_update, view_id="V404", view=MODAL)["error"] == "not_found"


def test_views_publish(slack, client):
    home = {"type": "home", "blocks": [section("Welcome home")]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    assert first["type"] == "home" and slack.home("U1")["blocks"] == home["blocks"]
    second = client.views_publish(user_id="U1", view={**home, "blocks": [section("v2")]})["view"]
    assert second["id"] == first["id"] and slack.home("U1")["blocks"] == [section("v2")]
    assert slack.home("U2") is None and slack.views() == {}
    assert api_error(client.views_publish, user_id="U1", view=MODAL)["error"] == "invalid_arguments"
    assert api_error(client.views_publish, user_id="U404", view=home)["error"] == "user_not_found"


# ---------------------------------------------------------------- failure injection
def test_rate_limit_surfaces_as_429(slack, client):
    slack.rate_limit_next("chat.postMessage", retry_after=7)
    resp = api_error(client.chat_postMessage, channel="C1", text="x")
    assert resp.status_code == 429 and resp["error"] == "ratelimited"
    assert resp.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # the injection was used up
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]


def test_rate_limit_retry_handler_recovers(slack):
    slack.rate_limit_next("chat.postMessage", times=2, retry_after=0)
    client = WebClient(token="xoxb-test", base_url=slack.url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    assert client.chat_postMessage(channel="C1", text="eventually")["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m["text"] for m in slack.messages("C1")] == ["eventually"]


def test_fail_next_and_server_error(slack, client):
    slack.fail_next("chat.postMessage", "channel_not_found", times=2, needed="x")
    for _ in range(2):
        resp = api_error(client.chat_postMessage, channel="C1", text="x")
        assert resp.status_code == 200 and resp["error"] == "channel_not_found" and resp["needed"] == "x"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]

    slack.fail_next("reactions.add", "already_reacted")  # also works for methods not simulated
    assert api_error(client.reactions_add, channel="C1", timestamp="1.0", name="x")["error"] == "already_reacted"

    slack.server_error_next("auth.test", status=503)
    assert api_error(client.auth_test).status_code == 503
    assert client.auth_test()["ok"]


def test_set_delay(slack, client):
    slack.set_delay("auth.test", 0.3)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.3


def test_reset_keeps_workspace(slack, client):
    client.chat_postMessage(channel="C1", text="x")
    slack.fail_next("auth.test", "invalid_auth")
    slack.reset()
    assert slack.messages("C1") == [] and slack.calls == []
    assert client.auth_test()["ok"] and client.users_info(user="U1")["ok"]
    assert client.chat_postMessage(channel="C1", text="still here")["channel"] == "C1"


# ---------------------------------------------------------------- response_url and wait_for
def test_response_url_records_and_refuses_sixth_use(slack):
    url = slack.new_response_url()
    hook = WebhookClient(url)
    for i in range(5):
        resp = hook.send(text=f"reply {i}", replace_original=(i == 0))
        assert (resp.status_code, resp.body) == (200, "ok")
    sixth = hook.send(text="too many")
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    recorded = slack.responses()
    assert [r["text"] for r in recorded] == [f"reply {i}" for i in range(5)]
    assert recorded[0]["replace_original"] is True and all(r["response_url"] == url for r in recorded)
    assert WebhookClient(slack.root + "/response/unknown").send(text="x").status_code == 404
    assert slack.calls == []  # response_url posts are not Web API calls


def test_response_url_rejects_empty_payload(slack):
    url = slack.new_response_url()
    assert WebhookClient(url).send(text="").body == "no_text"
    assert WebhookClient(url).send(delete_original=True).status_code == 200
    assert slack.responses() == [{"delete_original": True, "response_url": url}]


def test_wait_for(slack, client):
    threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="later")).start()
    message = slack.wait_for(lambda: slack.messages("C1")[0])
    assert message["text"] == "later"
    with pytest.raises(AssertionError, match=r"timed out after 0.1s.*chat.postMessage->200"):
        slack.wait_for(lambda: slack.messages("C2"), timeout=0.1)


def test_bolt_app_end_to_end(slack):
    from slack_bolt import App, BoltRequest

    app = App(client=WebClient(token="xoxb-test", base_url=slack.url), signing_secret="unused",
              request_verification_enabled=False)
    assert slack.calls_to("auth.test")  # Bolt verifies the token at start-up

    @app.command("/standup")
    def standup(ack, say, respond):
        ack()
        say("Standup started")
        respond("Only you can see this")

    body = urlencode({"command": "/standup", "text": "", "user_id": "U1", "channel_id": "C1", "team_id": "T0001",
                      "response_url": slack.new_response_url(), "trigger_id": slack.new_trigger_id()})
    resp = app.dispatch(BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]}))
    assert resp.status == 200
    assert slack.wait_for(lambda: slack.messages("C1"))[0]["text"] == "Standup started"
    assert slack.wait_for(slack.responses)[0]["text"] == "Only you can see this"
