"""/angry end to end: signed requests in, Web API calls out to the stand-in."""

from __future__ import annotations

import time

from tests.harness import SlackSender, http, sign


def case_message(standin, channel="CSUPPORT"):
    return standin.wait_for(lambda: [m for m in standin.messages(channel) if m.get("thread_ts") in (None, m["ts"])][0])


def checklist_of(standin, parent, channel="CSUPPORT"):
    return standin.wait_for(lambda: standin.thread(channel, parent["ts"])[0])


def test_slash_command_opens_case_and_checklist(slack: SlackSender, standin):
    reply = slack.command("Acme Corp: charged twice, threatening to cancel")
    assert reply.status == 200
    assert reply.elapsed < 1.0
    parent = case_message(standin)
    text = str(parent["blocks"])
    assert "Acme Corp" in text and "charged twice" in text and "0/6" in text and "<@UAGENT>" in text
    checklist = checklist_of(standin, parent)
    buttons = [b["accessory"]["value"] for b in checklist["blocks"] if b.get("accessory")]
    assert len(buttons) == 6 and all(":done" in v for v in buttons)


def test_mark_step_done_updates_in_place_and_is_idempotent(slack: SlackSender, standin):
    slack.command("Acme Corp: charged twice")
    parent = case_message(standin)
    checklist = checklist_of(standin, parent)
    case_id = checklist["blocks"][2]["accessory"]["value"].split(":")[0]
    for _ in range(2):  # a double click
        assert slack.click({**checklist, "channel": "CSUPPORT"}, "step_set", f"{case_id}:1:done:-").status == 200
    standin.wait_for(lambda: "1/6" in str(standin.messages("CSUPPORT")[0]["blocks"]))
    time.sleep(0.5)
    updates = [c for c in standin.calls_to("chat.update") if c.args.get("ts") == checklist["ts"]]
    assert len(updates) == 1
    done = standin.thread("CSUPPORT", parent["ts"])[0]
    step_1 = next(b for b in done["blocks"] if b.get("block_id") == "step_1")
    assert "<@UAGENT>" in step_1["text"]["text"] and step_1["accessory"]["value"].endswith(":1:undo")


def test_forged_and_stale_signatures_are_refused(app, standin):
    body = b"command=%2Fangry&text=help&user_id=U1&channel_id=C1"
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, secret="wrong")}
    assert http("POST", app.url + "/slack/events", body, headers).status == 401
    stale = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, timestamp=int(time.time()) - 600)}
    assert http("POST", app.url + "/slack/events", body, stale).status == 401
    assert not standin.calls_to("chat.postMessage")


def test_healthz(app):
    reply = http("GET", app.url + "/healthz")
    assert reply.status == 200 and reply.json["status"] == "ok"
