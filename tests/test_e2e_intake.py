"""/angry intake end to end: real signed requests to `python app.py`, Web API calls to the stand-in.

Covers what tests/test_e2e_core.py does not: parsing and escaping as seen in Slack, the intake modal,
help/unknown/too-long answers, step modals, undo, joining channels, the "Post it again" path,
rate limits and Web API failures.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest

from bot.core import playbook
from tests.harness import SlackSender

BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam)", re.IGNORECASE)


# --- fixtures and helpers --------------------------------------------------------------------
@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'e2e.db'}"


@pytest.fixture
def app(start_app, db_url):  # overrides conftest's `app` so the test knows the database
    return start_app(db_url)


def history(db_url: str, case_id: int) -> list[dict[str, Any]]:
    from bot.cases import Cases
    from storage.db import Database

    db = Database(db_url, pool_size=1)
    try:
        return Cases(db).history(case_id)
    finally:
        db.dispose()


def case_count(db_url: str) -> int:
    from sqlalchemy import text

    from storage.db import Database

    db = Database(db_url, pool_size=1)
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    finally:
        db.dispose()


def top_level(standin, channel: str) -> list[dict[str, Any]]:
    return [m for m in standin.messages(channel) if m.get("thread_ts") in (None, m["ts"])]


def case_message(standin, channel: str = "CSUPPORT", index: int = 0, timeout: float = 5.0) -> dict[str, Any]:
    return standin.wait_for(lambda: top_level(standin, channel)[index], timeout=timeout)


def checklist_of(standin, parent: dict[str, Any], channel: str = "CSUPPORT", timeout: float = 5.0) -> dict[str, Any]:
    return standin.wait_for(lambda: standin.thread(channel, parent["ts"])[0], timeout=timeout)


def current(standin, channel: str, ts: str) -> dict[str, Any]:
    return next(m for m in standin.messages(channel) if m["ts"] == ts)


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False)


def fields_text(message: dict[str, Any]) -> str:
    return " ".join(f["text"] for b in message["blocks"] for f in b.get("fields", []))


def case_id_of(checklist: dict[str, Any]) -> int:
    value = next(b["accessory"]["value"] for b in checklist["blocks"] if b.get("accessory"))
    return int(value.split(":")[0])


def step_block(message: dict[str, Any], number: int) -> dict[str, Any]:
    blocks = [b for b in message["blocks"] if b.get("accessory", {}).get("action_id") == "step_set"]
    return blocks[number - 1]


def in_channel(message: dict[str, Any], channel: str) -> dict[str, Any]:
    return {**message, "channel": channel}


def press_step(slack: SlackSender, standin, checklist_ts: str, case_id: int, number: int, action: str = "done",
               channel: str = "CSUPPORT", user: str = "UAGENT"):
    message = in_channel(current(standin, channel, checklist_ts), channel)
    value = step_block(message, number)["accessory"]["value"]  # a Mark done button also says what it asks
    assert value.split(":")[:3] == [str(case_id), str(number), action], value
    return slack.click(message, "step_set", value, user=user)


def view_by_callback(standin, callback_id: str, index: int = -1) -> dict[str, Any]:
    views = [v for v in standin.views().values() if v["callback_id"] == callback_id]
    return views[index]


def initial_values(view: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        if "initial_value" in element:
            out[block["block_id"]] = element["initial_value"]
        elif element.get("initial_option"):
            out[block["block_id"]] = element["initial_option"]["value"]
        elif element.get("initial_conversation"):
            out[block["block_id"]] = element["initial_conversation"]
    return out


def open_case(slack: SlackSender, standin, text: str = "Acme Corp: charged twice", channel: str = "CSUPPORT"):
    before = len(top_level(standin, channel))
    reply = slack.command(text, channel=channel)
    assert reply.status == 200
    parent = case_message(standin, channel, before)
    checklist = checklist_of(standin, parent, channel)
    return parent, checklist


def responses_with(standin, needle: str) -> list[dict[str, Any]]:
    return [r for r in standin.responses() if needle in json.dumps(r, ensure_ascii=False)]


def posted(standin, method: str = "chat.postMessage", channel: str | None = None) -> list:
    return [c for c in standin.calls_to(method) if c.status == 200 and c.response.get("ok")
            and (channel is None or c.response.get("channel") == channel)]


def ack_text(reply) -> str:
    """The text of an ack body: Bolt sends a bare string for text-only acks, JSON otherwise."""
    body = reply.text.strip()
    if body.startswith("{"):
        data = json.loads(body)
        assert data.get("response_type", "ephemeral") == "ephemeral", data
        return data["text"]
    return body


def retry_button(message: dict[str, Any]) -> dict[str, Any]:
    return next(e for b in message.get("blocks") or [] for e in b.get("elements") or []
                if e.get("action_id") == "case_retry_post")


# --- the case message and checklist ----------------------------------------------------------
def test_case_message_and_checklist_say_everything(slack: SlackSender, standin):
    reply = slack.command("Acme Corp: charged twice, threatening to cancel")
    assert reply.status == 200 and reply.elapsed < 1.0
    assert not reply.body.strip()  # a plain ack: nothing extra shown to the agent
    parent = case_message(standin)
    header = parent["blocks"][0]
    assert header["type"] == "header" and "Acme Corp" in header["text"]["text"]
    text = blocks_text(parent)
    assert "charged twice, threatening to cancel" in text
    fields = fields_text(parent)
    assert "<@UAGENT>" in fields and "Open" in fields and "0/6" in fields
    assert "Acme Corp" in parent["text"]  # notification fallback
    checklist = checklist_of(standin, parent)
    assert checklist["thread_ts"] == parent["ts"]
    for step in playbook.built_in().steps:
        block = step_block(checklist, step.number)
        body = block["text"]["text"]
        assert step.title in body and step.say[0] in body  # the why is in the guide, a click away
        assert block["accessory"]["text"]["text"] == "Mark done"
        assert block["accessory"]["value"] == f"{case_id_of(checklist)}:{step.number}:done:{step.asks or '-'}"
        assert block["accessory"].get("style") == ("primary" if step.number == 1 else None)  # one primary: the next step
    assert len(standin.thread("CSUPPORT", parent["ts"])) == 1
    assert standin.responses() == []  # the customer was given: no hint


def test_why_and_what_to_say_opens_the_full_guide(slack: SlackSender, standin):
    parent, checklist = open_case(slack, standin)
    reply = slack.click(in_channel(checklist, "CSUPPORT"), "checklist_guide")
    assert reply.status == 200 and reply.elapsed < 1.0 and not reply.body.strip()
    call = standin.wait_for(lambda: standin.calls_to("views.open"))[0]
    assert call.status == 200 and call.response.get("ok") and call.args["trigger_id"] == slack.last_trigger_id
    guide = json.dumps(view_by_callback(standin, "checklist_guide")["blocks"], ensure_ascii=False)
    for step in playbook.built_in().steps:
        assert step.title in guide and step.why in guide and step.say[0] in guide
    # a read-only guide: nothing ticked, nothing posted
    assert "0/6" in fields_text(current(standin, "CSUPPORT", parent["ts"]))
    assert standin.responses() == []


def test_ack_stays_fast_while_slack_is_slow(slack: SlackSender, standin):
    standin.set_delay("chat.postMessage", 1.5)
    reply = slack.command("Acme Corp: charged twice")
    assert reply.status == 200
    assert reply.elapsed < 1.0
    parent = case_message(standin, timeout=10)
    checklist_of(standin, parent, timeout=10)


def test_without_customer_the_agent_is_told_to_use_edit_case(slack: SlackSender, standin):
    slack.command("charged twice and wants a refund today")
    parent = case_message(standin)
    assert "name not given" in parent["blocks"][0]["text"]["text"]
    assert "charged twice and wants a refund today" in blocks_text(parent)
    hint = standin.wait_for(lambda: responses_with(standin, "Edit case"))[0]
    assert hint.get("response_type") == "ephemeral"
    assert "Case #1" in hint["text"]
    assert hint["response_url"] == slack.last_response_url
    assert any(e.get("action_id") == "case_edit" for b in parent["blocks"] for e in b.get("elements", []))


@pytest.mark.parametrize(
    "text, customer, summary_part",
    [
        ("see <https://acme.com/t/1> they are furious", None, "<https://acme.com/t/1>"),
        ("see https://acme.com/t/1 they are furious", None, "https://acme.com/t/1"),
        ("Acme - see <https://acme.com/t/1|ticket>", "Acme", "<https://acme.com/t/1|ticket>"),
        ("Acme: see https://acme.com/t/1", "Acme", "see https://acme.com/t/1"),
    ],
)
def test_url_scheme_is_not_a_separator(slack: SlackSender, standin, text, customer, summary_part):
    slack.command(text)
    parent = case_message(standin)
    header = parent["blocks"][0]["text"]["text"]
    what = parent["blocks"][1]["text"]["text"]
    assert summary_part in what
    if customer:
        assert header.endswith(f": {customer}")
        assert customer not in what.split("\n", 1)[1].split(" ")[0]
    else:
        assert "name not given" in header
        assert "https" not in header
        standin.wait_for(lambda: responses_with(standin, "Edit case"))


def test_user_text_cannot_ping_or_break_markup(slack: SlackSender, standin):
    text = (
        "Acme &amp; Sons: <!channel> <!here> <!everyone> <!subteam^S0SUPPORT|@support> "
        "<@UCUSTOMER|jane> said in <#CSUPPORT|support> that <https://acme.com/t/1|ticket 1> is wrong; "
        "stray < and > and & and &lt;!here&gt; <b>bold</b>"
    )
    parent, checklist = open_case(slack, standin, text)
    for message in (parent, checklist):
        dumped = json.dumps({"text": message["text"], "blocks": message["blocks"]}, ensure_ascii=False)
        assert not BROADCAST.search(dumped), dumped
    what = parent["blocks"][1]["text"]["text"]
    assert "<@UCUSTOMER|jane>" in what
    assert "<#CSUPPORT|support>" in what
    assert "<https://acme.com/t/1|ticket 1>" in what
    assert "stray &lt; and &gt; and &amp; and &lt;!here&gt; &lt;b&gt;bold&lt;/b&gt;" in what
    visible = what.replace("\u2060", "")
    assert "@channel" in visible and "@here" in visible and "@everyone" in visible and "@support" in visible
    assert parent["blocks"][0]["text"]["text"].endswith("Acme & Sons")


def test_customer_cannot_ping_through_the_notification_text(slack: SlackSender, standin):
    parent, _ = open_case(slack, standin, "&lt;!here&gt; &lt;!channel&gt;: they typed a broadcast as the name")
    assert not BROADCAST.search(parent["text"]), parent["text"]


# --- help, unknown words, too long -----------------------------------------------------------
@pytest.mark.parametrize("text", ["help", "HELP", "?"])
def test_help_is_answered_in_the_ack(slack: SlackSender, standin, text):
    reply = slack.command(text)
    assert reply.status == 200 and reply.elapsed < 1.0
    assert "/angry Customer name: what happened" in ack_text(reply)
    assert not standin.calls_to("chat.postMessage") and not standin.calls_to("views.open")


def nothing_was_created(slack: SlackSender, standin, db_url: str) -> None:
    """Flag a real case afterwards: it is case #1, so the refused command created nothing."""
    assert not standin.calls_to("views.open")
    parent, _ = open_case(slack, standin, "Proof Ltd: second command")
    assert "Case #1 " in blocks_text(parent)
    assert len(top_level(standin, "CSUPPORT")) == 1
    assert case_count(db_url) == 1


def test_unknown_single_word_is_refused_clearly(slack: SlackSender, standin, db_url):
    reply = slack.command("stats")
    assert reply.status == 200 and reply.elapsed < 1.0
    text = ack_text(reply)
    assert "/angry stats" in text and "/angry help" in text
    nothing_was_created(slack, standin, db_url)


def test_unknown_word_echo_is_escaped(slack: SlackSender, standin):
    reply = slack.command("stats<!here>&lt;!channel&gt;")
    assert reply.status == 200
    text = ack_text(reply)
    assert "stats" in text
    assert not BROADCAST.search(text), text
    assert not standin.calls_to("chat.postMessage")


def test_too_long_text_is_refused_clearly(slack: SlackSender, standin, db_url):
    reply = slack.command("Acme: " + "x" * 2995)
    assert reply.status == 200 and reply.elapsed < 1.0
    text = ack_text(reply)
    assert "3,001" in text and "3,000" in text and "Nothing was created" in text
    nothing_was_created(slack, standin, db_url)


# --- the intake modal ------------------------------------------------------------------------
def test_no_text_opens_the_intake_modal(slack: SlackSender, standin):
    reply = slack.command("")
    assert reply.status == 200 and reply.elapsed < 1.0
    call = standin.wait_for(lambda: standin.calls_to("views.open"))[0]
    assert call.status == 200 and call.args["trigger_id"] == slack.last_trigger_id
    view = view_by_callback(standin, "intake")
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["customer", "summary", "mood", "link", "channel"]
    channel = view["blocks"][4]["element"]
    assert channel["type"] == "conversations_select" and channel["initial_conversation"] == "CSUPPORT"
    assert not standin.calls_to("chat.postMessage")


def test_customer_only_opens_the_modal_prefilled(slack: SlackSender, standin):
    slack.command("Acme Corp:")
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "intake")
    assert initial_values(view).get("customer") == "Acme Corp"
    assert "summary" not in initial_values(view)
    assert not standin.calls_to("chat.postMessage")


def test_prefilled_customer_is_readable(slack: SlackSender, standin):
    slack.command("Tom &amp; Jerry &lt;billing&gt;:")
    standin.wait_for(lambda: standin.calls_to("views.open"))
    assert initial_values(view_by_callback(standin, "intake")).get("customer") == "Tom & Jerry <billing>"


def test_modal_submission_opens_the_case_in_the_chosen_channel(slack: SlackSender, standin, db_url):
    slack.command("")
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "intake")
    reply = slack.submit(view, {
        "customer": "Globex <@UCUSTOMER>",
        "summary": "Export broke twice & data lost <!channel>",
        "mood": "furious",
        "link": "https://globex.zendesk.com/agent/tickets/77",
        "channel": "CESCALATE",
    })
    assert reply.status == 200 and reply.elapsed < 1.0
    assert not reply.body.strip()
    parent = case_message(standin, "CESCALATE")
    fields = fields_text(parent)
    assert "Furious" in fields
    assert "<https://globex.zendesk.com/agent/tickets/77|" in fields
    assert "<@UAGENT>" in fields and "0/6" in fields
    assert "Globex" in parent["blocks"][0]["text"]["text"]
    assert not BROADCAST.search(json.dumps(parent))
    assert "data lost" in blocks_text(parent)
    checklist_of(standin, parent, "CESCALATE")
    assert top_level(standin, "CSUPPORT") == []
    opened = history(db_url, 1)[0]
    assert opened["kind"] == "case_opened" and opened["data"]["mood"] == "furious"


@pytest.mark.parametrize(
    "values, bad",
    [
        ({"customer": "", "summary": "", "link": "", "channel": "CSUPPORT"}, {"customer", "summary"}),
        ({"customer": "Acme", "summary": "x", "link": "not a url", "channel": "CSUPPORT"}, {"link"}),
        ({"customer": "Acme", "summary": "x", "link": "acme.zendesk.com/t/1", "channel": "CSUPPORT"}, {"link"}),
        ({"customer": "Acme", "summary": "x", "link": "javascript:alert(1)", "channel": "CSUPPORT"}, {"link"}),
        ({"customer": "   ", "summary": "x", "link": None, "channel": "CSUPPORT"}, {"customer"}),
        ({"customer": "C" * 151, "summary": "x" * 3001, "link": None, "channel": "CSUPPORT"}, {"customer", "summary"}),
        ({"customer": "Acme", "summary": "x", "link": None, "channel": None}, {"channel"}),
    ],
)
def test_invalid_modal_input_is_answered_inline_and_creates_nothing(slack: SlackSender, standin, db_url, values, bad):
    slack.command("")
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "intake")
    reply = slack.submit(view, values)
    assert reply.status == 200 and reply.elapsed < 1.0
    body = reply.json
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == bad
    assert all(isinstance(m, str) and m for m in body["errors"].values())
    if "link" in bad:
        assert "http" in body["errors"]["link"]
    assert case_count(db_url) == 0
    # fixing the form then works, and it is the first case
    reply = slack.submit(view, {"customer": "Acme", "summary": "fixed", "link": "https://acme.com/t/1", "channel": "CSUPPORT"})
    assert reply.status == 200 and not reply.body.strip()
    parent = case_message(standin)
    assert "Case #1 " in blocks_text(parent)


# --- marking steps ---------------------------------------------------------------------------
def test_steps_in_any_order_and_undo_update_in_place(slack: SlackSender, standin, db_url):
    parent, checklist = open_case(slack, standin)
    case_id = case_id_of(checklist)
    for n, expected in ((3, "1/6"), (1, "2/6"), (2, "3/6")):
        reply = press_step(slack, standin, checklist["ts"], case_id, n)
        assert reply.status == 200 and reply.elapsed < 1.0
        standin.wait_for(lambda e=expected: e in fields_text(current(standin, "CSUPPORT", parent["ts"])))
        standin.wait_for(lambda e=expected: e in blocks_text(current(standin, "CSUPPORT", checklist["ts"])))
    now = current(standin, "CSUPPORT", checklist["ts"])
    for n in (1, 2, 3):
        assert step_block(now, n)["accessory"]["value"] == f"{case_id}:{n}:undo"
    for n in (4, 5, 6):
        assert step_block(now, n)["accessory"]["value"].startswith(f"{case_id}:{n}:done")
    done_lines = [step_block(now, n)["text"]["text"] for n in (1, 2, 3)]
    assert all("\n" not in line for line in done_lines)  # a done step folds to one line
    assert all("<@UAGENT>" in line and "<!date^" in line for line in done_lines)
    # still one checklist, edited in place; the case message too
    assert len(standin.thread("CSUPPORT", parent["ts"])) == 1
    assert len(top_level(standin, "CSUPPORT")) == 1
    assert {c.args["ts"] for c in standin.calls_to("chat.update")} == {parent["ts"], checklist["ts"]}

    press_step(slack, standin, checklist["ts"], case_id, 3, "undo")
    standin.wait_for(lambda: "2/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    undone = standin.wait_for(
        lambda: (m := current(standin, "CSUPPORT", checklist["ts"])) and step_block(m, 3)["accessory"]["value"].endswith(":3:done:-") and m
    )
    assert "2/6" in blocks_text(undone)
    log = [(e["kind"], e["data"].get("step")) for e in history(db_url, case_id)]
    assert log == [("case_opened", None), ("step_done", 3), ("step_done", 1), ("step_done", 2), ("step_undone", 3)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_simultaneous_double_click_is_recorded_once(start_app, standin, tmp_path, request, backend):
    url = f"sqlite:///{tmp_path / 'dc.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    app = start_app(url)
    slack = SlackSender(app.url, standin)
    parent, checklist = open_case(slack, standin)
    case_id = case_id_of(checklist)
    replies: list = []
    barrier = threading.Barrier(3)

    def click() -> None:
        barrier.wait(5)
        replies.append(press_step(slack, standin, checklist["ts"], case_id, 2))

    threads = [threading.Thread(target=click) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [r.status for r in replies] == [200, 200, 200]
    standin.wait_for(lambda: "1/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    # wait until the last click has surely been handled: a later, different click is processed after it
    press_step(slack, standin, checklist["ts"], case_id, 1)
    standin.wait_for(lambda: "2/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    done = [e for e in history(url, case_id) if e["kind"] == "step_done"]
    assert sorted(e["data"]["step"] for e in done) == [1, 2]
    updates = [c for c in standin.calls_to("chat.update") if c.args.get("ts") == checklist["ts"]]
    assert len(updates) == 2  # one for step 2, one for step 1


def test_step_4_asks_whether_the_apology_was_accepted(slack: SlackSender, standin, db_url):
    parent, checklist = open_case(slack, standin)
    case_id = case_id_of(checklist)
    reply = press_step(slack, standin, checklist["ts"], case_id, 4)
    assert reply.status == 200
    call = standin.wait_for(lambda: standin.calls_to("views.open"))[0]
    assert call.status == 200 and call.args["trigger_id"] == slack.last_trigger_id
    view = view_by_callback(standin, "step_apology")
    radio = next(b for b in view["blocks"] if b["block_id"] == "apology")
    assert {o["value"] for o in radio["element"]["options"]} == {"accepted", "not_yet", "refused"}
    # opening the modal does not tick the step
    assert "0/6" in fields_text(current(standin, "CSUPPORT", parent["ts"]))
    reply = slack.submit(view, {"apology": None, "note": "x"})
    assert reply.json["response_action"] == "errors" and set(reply.json["errors"]) == {"apology"}
    reply = slack.submit(view, {"apology": "accepted", "note": "She laughed & said thanks <!here>"})
    assert reply.status == 200 and not reply.body.strip() and reply.elapsed < 1.0
    updated = standin.wait_for(lambda: "Apology accepted" in blocks_text(m := current(standin, "CSUPPORT", checklist["ts"])) and m)
    dumped = blocks_text(updated)
    assert "Apology accepted: Yes, accepted" in dumped
    assert "She laughed &amp; said thanks" in dumped
    assert not BROADCAST.search(dumped)
    assert step_block(updated, 4)["accessory"]["value"].endswith(":4:undo")
    standin.wait_for(lambda: "1/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    done = [e for e in history(db_url, case_id) if e["kind"] == "step_done"]
    assert len(done) == 1 and done[0]["data"]["step"] == 4 and done[0]["data"]["apology"] == "accepted"


def test_step_5_asks_what_was_done_and_offered(slack: SlackSender, standin, db_url):
    parent, checklist = open_case(slack, standin)
    case_id = case_id_of(checklist)
    press_step(slack, standin, checklist["ts"], case_id, 5)
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "step_action")
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["action", "offer"]
    reply = slack.submit(view, {"action": "  ", "offer": "a free month"})
    assert reply.json["response_action"] == "errors" and set(reply.json["errors"]) == {"action"}
    reply = slack.submit(view, {"action": "Refunded the second charge (€49)", "offer": "A free month & a call"})
    assert reply.status == 200 and not reply.body.strip()
    updated = standin.wait_for(lambda: "Action:" in blocks_text(m := current(standin, "CSUPPORT", checklist["ts"])) and m)
    dumped = blocks_text(updated)
    assert "Action: Refunded the second charge (€49)" in dumped
    assert "Also offered: A free month &amp; a call" in dumped
    standin.wait_for(lambda: "1/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    # submitting the same modal again records nothing new
    slack.submit(view, {"action": "something else", "offer": None})
    press_step(slack, standin, checklist["ts"], case_id, 1)
    standin.wait_for(lambda: "2/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    done = [e for e in history(db_url, case_id) if e["kind"] == "step_done"]
    assert [e["data"]["step"] for e in done] == [5, 1]
    assert done[0]["data"]["action"] == "Refunded the second charge (€49)"
    assert done[0]["data"]["offer"] == "A free month & a call"
    assert "Action: Refunded the second charge" in blocks_text(current(standin, "CSUPPORT", checklist["ts"]))


# --- Edit case -------------------------------------------------------------------------------
def test_edit_case_adds_the_customer(slack: SlackSender, standin, db_url):
    parent, checklist = open_case(slack, standin, "refund failed twice")
    case_id = case_id_of(checklist)
    slack.click(in_channel(parent, "CSUPPORT"), "case_edit", str(case_id))
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "case_edit")
    values = initial_values(view)
    assert values["summary"] == "refund failed twice"
    reply = slack.submit(view, {**values, "customer": "Acme Corp"})
    assert reply.status == 200 and not reply.body.strip()
    updated = standin.wait_for(lambda: "Acme Corp" in (m := current(standin, "CSUPPORT", parent["ts"]))["blocks"][0]["text"]["text"] and m)
    assert "not given" not in blocks_text(updated)
    edits = [e for e in history(db_url, case_id) if e["kind"] == "case_edited"]
    assert len(edits) == 1 and edits[0]["data"] == {"customer": {"from": None, "to": "Acme Corp"}}


def test_edit_case_keeps_mentions_and_links(slack: SlackSender, standin, db_url):
    parent, checklist = open_case(slack, standin, "<@UCUSTOMER|jane> says <https://acme.com/t/1|the ticket> is ignored")
    case_id = case_id_of(checklist)
    slack.click(in_channel(parent, "CSUPPORT"), "case_edit", str(case_id))
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "case_edit")
    slack.submit(view, {**initial_values(view), "customer": "Jane"})
    standin.wait_for(lambda: "Jane" in current(standin, "CSUPPORT", parent["ts"])["blocks"][0]["text"]["text"])
    what = current(standin, "CSUPPORT", parent["ts"])["blocks"][1]["text"]["text"]
    assert "<@UCUSTOMER" in what and "https://acme.com/t/1" in what
    edits = [e for e in history(db_url, case_id) if e["kind"] == "case_edited"]
    assert set(edits[0]["data"]) == {"customer"}  # only what the agent changed


# --- channels the bot is not in --------------------------------------------------------------
def test_public_channel_is_joined_and_posted(slack: SlackSender, standin):
    slack.command("Acme Corp: charged twice", channel="CPUBLIC")
    parent = case_message(standin, "CPUBLIC")
    checklist_of(standin, parent, "CPUBLIC")
    joins = standin.calls_to("conversations.join")
    assert [c.args["channel"] for c in joins] == ["CPUBLIC"] and joins[0].status == 200
    assert standin.responses() == []


def test_private_channel_explains_invite_and_post_it_again_works(slack: SlackSender, standin, db_url):
    reply = slack.command("Acme Corp: charged twice", channel="GPRIVATE")
    assert reply.status == 200 and reply.elapsed < 1.0
    failure = standin.wait_for(lambda: responses_with(standin, "case_retry_post"))[0]
    assert "/invite @Defuse" in failure["text"]
    assert failure.get("response_type") == "ephemeral"
    assert failure["response_url"] == slack.last_response_url
    button = retry_button(failure)
    assert button["value"] == "1"
    assert standin.messages("GPRIVATE") == []
    assert case_count(db_url) == 1  # the case is saved

    # pressed before anyone invited the bot: told again, still nothing posted
    message = {**failure, "ts": "1700000000.000001", "channel": "GPRIVATE"}
    assert slack.click(message, "case_retry_post").status == 200
    again = standin.wait_for(lambda: len(responses_with(standin, "case_retry_post")) >= 2 and responses_with(standin, "case_retry_post"))[-1]
    assert again.get("replace_original") is True and "/invite @Defuse" in again["text"]
    assert standin.messages("GPRIVATE") == []

    standin.add_channel("GPRIVATE", "vip-support", is_private=True, bot_member=True)  # someone ran /invite
    slack.click(message, "case_retry_post")
    parent = case_message(standin, "GPRIVATE")
    assert "Acme Corp" in parent["blocks"][0]["text"]["text"]
    checklist_of(standin, parent, "GPRIVATE")
    done = standin.wait_for(lambda: responses_with(standin, "is posted"))[0]
    assert done.get("replace_original") is True and "Case #1" in done["text"]
    # pressing it once more does not post a second copy
    slack.click(message, "case_retry_post")
    standin.wait_for(lambda: len(responses_with(standin, "is posted")) == 2)
    assert len(top_level(standin, "GPRIVATE")) == 1
    assert len(standin.thread("GPRIVATE", parent["ts"])) == 1


def test_private_channel_with_c_id_asks_for_invite(slack: SlackSender, standin):
    standin.add_channel("CSECRET", "secret-support", is_private=True, bot_member=False)
    slack.command("Acme Corp: charged twice", channel="CSECRET")
    failure = standin.wait_for(lambda: responses_with(standin, "case_retry_post"))[0]
    assert "/invite @Defuse" in failure["text"] and "<#CSECRET>" in failure["text"]
    assert standin.messages("CSECRET") == []


def test_modal_path_failure_goes_to_the_user_by_dm(slack: SlackSender, standin):
    slack.command("")
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "intake")
    reply = slack.submit(view, {"customer": "Acme", "summary": "charged twice", "channel": "GPRIVATE"})
    assert reply.status == 200 and not reply.body.strip()
    dm = standin.wait_for(lambda: standin.dm_messages("UAGENT")[0])
    assert "/invite @Defuse" in json.dumps(dm)
    assert retry_button(dm)["value"] == "1"
    assert standin.messages("GPRIVATE") == []
    standin.add_channel("GPRIVATE", "vip-support", is_private=True, bot_member=True)
    assert slack.click(dm, "case_retry_post", channel="DUAGENT").status == 200
    parent = case_message(standin, "GPRIVATE")
    checklist_of(standin, parent, "GPRIVATE")
    standin.wait_for(lambda: responses_with(standin, "is posted"))


# --- Slack trouble ---------------------------------------------------------------------------
def test_rate_limited_post_is_retried(slack: SlackSender, standin):
    standin.rate_limit_next("chat.postMessage", times=2, retry_after=1)
    reply = slack.command("Acme Corp: charged twice")
    assert reply.status == 200 and reply.elapsed < 1.0
    parent = case_message(standin, timeout=10)
    checklist_of(standin, parent, timeout=5)
    statuses = [c.status for c in standin.calls_to("chat.postMessage")]
    assert statuses[:2] == [429, 429] and statuses[2:] == [200, 200]
    assert len(top_level(standin, "CSUPPORT")) == 1
    assert not responses_with(standin, "case_retry_post")


def test_views_open_failure_is_reported_not_silent(slack: SlackSender, standin):
    standin.fail_next("views.open", "internal_error")
    reply = slack.command("")
    assert reply.status == 200 and reply.elapsed < 1.0
    told = standin.wait_for(lambda: standin.responses())[0]
    assert told.get("response_type") == "ephemeral" and "went wrong" in told["text"]


def test_step_modal_failure_is_reported_not_silent(slack: SlackSender, standin):
    _, checklist = open_case(slack, standin)
    standin.fail_next("views.open", "expired_trigger_id")
    reply = press_step(slack, standin, checklist["ts"], case_id_of(checklist), 4)
    assert reply.status == 200
    told = standin.wait_for(lambda: standin.responses())[0]
    assert "went wrong" in told["text"] and told.get("replace_original") is False


@pytest.mark.parametrize("inject", ["error", "server_error"])
def test_refused_post_offers_post_it_again(slack: SlackSender, standin, inject):
    if inject == "error":
        standin.fail_next("chat.postMessage", "fatal_error")
    else:
        # A 500 is unclear (Slack may have posted it): one check, one more try, then the agent decides.
        standin.server_error_next("chat.postMessage", times=2)
    reply = slack.command("Acme Corp: charged twice")
    assert reply.status == 200 and reply.elapsed < 1.0
    failure = standin.wait_for(lambda: responses_with(standin, "case_retry_post"), timeout=10)[0]
    assert "Case #1" in failure["text"] and "Post it again" in failure["text"]
    assert top_level(standin, "CSUPPORT") == []
    slack.click({**failure, "ts": "1700000000.000001", "channel": "CSUPPORT"}, "case_retry_post")
    parent = case_message(standin)
    checklist_of(standin, parent)
    standin.wait_for(lambda: responses_with(standin, "is posted"))


def test_failed_checklist_update_is_not_silent(slack: SlackSender, standin):
    _, checklist = open_case(slack, standin)
    standin.fail_next("chat.update", "message_not_found", times=2)
    assert press_step(slack, standin, checklist["ts"], case_id_of(checklist), 1).status == 200
    standin.wait_for(lambda: standin.responses(), timeout=2)


def test_rate_limited_update_is_retried(slack: SlackSender, standin):
    parent, checklist = open_case(slack, standin)
    standin.rate_limit_next("chat.update", times=1, retry_after=1)
    reply = press_step(slack, standin, checklist["ts"], case_id_of(checklist), 1)
    assert reply.status == 200 and reply.elapsed < 1.0
    standin.wait_for(lambda: "1/6" in fields_text(current(standin, "CSUPPORT", parent["ts"])), timeout=8)
    standin.wait_for(lambda: step_block(current(standin, "CSUPPORT", checklist["ts"]), 1)["accessory"]["value"].endswith(":undo"),
                     timeout=8)
    assert standin.calls_to("chat.update")[0].status == 429


def fake_button_message(value: str, action_id: str = "step_set") -> dict[str, Any]:
    return {"ts": "1700000000.000009", "channel": "CSUPPORT", "text": "x", "blocks": [
        {"type": "section", "block_id": "step_1", "text": {"type": "mrkdwn", "text": "x"},
         "accessory": {"type": "button", "action_id": action_id, "value": value, "text": {"type": "plain_text", "text": "x"}}},
    ]}


@pytest.mark.parametrize("value, said", [("garbage", "went wrong"), ("999:1:done", "can't find that case"),
                                         ("999:1:undo", "can't find that case")])
def test_bad_or_stale_buttons_get_an_answer(slack: SlackSender, standin, value, said):
    reply = slack.click(fake_button_message(value), "step_set")
    assert reply.status == 200 and reply.elapsed < 1.0
    told = standin.wait_for(lambda: standin.responses())[0]
    assert said in told["text"] and told.get("response_type") == "ephemeral"
    assert not standin.calls_to("chat.update") and not standin.calls_to("chat.postMessage")


def test_retry_for_a_missing_case_gets_an_answer(slack: SlackSender, standin):
    reply = slack.click(fake_button_message("4242", "case_retry_post"), "case_retry_post")
    assert reply.status == 200
    told = standin.wait_for(lambda: standin.responses())[0]
    assert "can't find that case" in told["text"]


def test_failed_checklist_post_is_not_silent(slack: SlackSender, standin):
    standin.fail_next("chat.postMessage", "internal_error", after=1)  # the case message posts, the checklist fails
    slack.command("Acme Corp: charged twice")
    parent = case_message(standin)
    standin.wait_for(lambda: len(standin.calls_to("chat.postMessage")) >= 2)
    assert standin.calls_to("chat.postMessage")[1].response.get("error") == "internal_error"
    # either the checklist arrives after all, or the agent is told
    standin.wait_for(lambda: standin.thread("CSUPPORT", parent["ts"]) or standin.responses(), timeout=2)
