"""Block Kit builders (bot.blocks) over realistic and extreme case snapshots.

Every rendering is re-parsed with slack_sdk's model classes (which check Slack's length limits),
checked by the stand-in's Block Kit checker, kept within the per-message block count, and its
mrkdwn text checked for escaping: nothing a user typed can ping a channel or break markup.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import blocks, playbook
from bot.cases import CaseSnapshot, Entry, PriorCase, StepState
from bot.textutil import is_url
from tests.slack_standin import _BlockChecker, _view_errors

OPENED = datetime(2024, 3, 5, 14, 30, tzinfo=timezone.utc)
NASTY = "<!channel> <!here> <!everyone> <!subteam^S0SUPPORT|@support> &lt;!here&gt; a < b > c & d <script>"
BROADCAST = re.compile(r"<!(?!date\^)")
ALLOWED_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>]*)?|#[CG][A-Z0-9]+(?:\|[^<>]*)?|(?:https?://|mailto:)[^\s|<>]+(?:\|[^<>]*)?"
    r"|!date\^\d+\^[^|<>]*\|[^<>]*)>"
)


def steps(done: set[int] | None = None, details: dict[int, dict[str, Any]] | None = None) -> tuple[StepState, ...]:
    done = done or set()
    details = details or {}
    return tuple(
        StepState(n, n in done, "UAGENT" if n in done else None, OPENED + timedelta(minutes=n) if n in done else None,
                  details.get(n) if n in done else None)
        for n in range(1, playbook.TOTAL + 1)
    )


def snapshot(**overrides: Any) -> CaseSnapshot:
    base = dict(
        id=42,
        team_id="T0001",
        channel_id="CSUPPORT",
        message_ts="1700000000.000100",
        checklist_ts="1700000000.000200",
        permalink="https://example.slack.com/archives/CSUPPORT/p1700000000000100",
        customer="Acme Corp",
        summary="Charged twice for the March invoice; threatening to cancel.",
        mood="angry",
        link="https://acme.zendesk.com/agent/tickets/123",
        source_permalink=None,
        flagged_by="UAGENT",
        owner_id="UAGENT",
        status="open",
        opened_at=OPENED,
        closed_at=None,
        closed_by=None,
        resolution=None,
        escalation=None,
        steps=steps(),
    )
    base.update(overrides)
    return CaseSnapshot(**base)


def priors(n: int, nasty: bool = False) -> tuple[PriorCase, ...]:
    return tuple(
        PriorCase(
            id=i,
            status=["resolved", "unresolved", "open", "escalated"][i % 4],
            opened_at=OPENED - timedelta(days=i),
            permalink=f"https://example.slack.com/archives/CSUPPORT/p170000000{i:07d}",
            summary=(NASTY * 40)[:3000] if nasty else f"earlier problem {i}",
            failed_attempts=((NASTY * 20)[:2000], "offered a voucher <!here>") if nasty else ("offered a voucher",),
        )
        for i in range(1, n + 1)
    )


LONG_DETAILS = {
    4: {"apology": "accepted", "note": (NASTY * 30)[:2000]},
    5: {"action": (NASTY * 30)[:2000], "offer": ("&<>" * 700)[:2000], "note": "x" * 2000},
    6: {"plan": (NASTY * 30)[:2000]},
}

SNAPSHOTS = {
    "realistic": snapshot(),
    "no_customer": snapshot(customer=None, mood=None, link=None),
    "extreme": snapshot(
        id=2_147_483_647,
        customer=("Tom &amp; Jerry &lt;billing&gt; " * 10)[:150],
        summary=("&<>" * 1000)[:3000],
        link="https://acme.com/?" + "a=1&b=2&" * 30,
        source_permalink="https://example.slack.com/archives/C1/p1?thread_ts=1.2&cid=C1",
        mood="furious",
        status="escalated",
        steps=steps(set(range(1, 7)), LONG_DETAILS),
        prior=priors(5, nasty=True),
        prior_count=57,
        attempts=tuple(Entry("attempt", "UAGENT", OPENED, NASTY, "failed") for _ in range(30)),
        notes=tuple(Entry("note", "UAGENT", OPENED, NASTY) for _ in range(30)),
    ),
    "broadcasts": snapshot(customer="<!channel> <!here>", summary=NASTY),
    "mentions_and_links": snapshot(
        customer="<@UCUSTOMER|jane>",
        summary="<@UCUSTOMER|jane> in <#CSUPPORT|support> says <https://acme.com/t/1|ticket 1> is wrong & late",
    ),
    "half_done_with_priors": snapshot(
        steps=steps({1, 3, 4}, {4: {"apology": "not_yet"}}), prior=priors(3), prior_count=3, status="resolved"
    ),
    "long_unicode": snapshot(customer="😠" * 150, summary="🧯" * 3000),
    "long_words": snapshot(customer="W" * 150, summary="W" * 3000),
}


# --- checking helpers ------------------------------------------------------------------------
def texts_of(obj: Any, key_types=("mrkdwn",)) -> list[str]:
    """All text objects of the given types anywhere in a rendered structure."""
    found: list[str] = []
    if isinstance(obj, dict):
        if obj.get("type") in key_types and isinstance(obj.get("text"), str):
            found.append(obj["text"])
        for value in obj.values():
            found.extend(texts_of(value, key_types))
    elif isinstance(obj, list):
        for value in obj:
            found.extend(texts_of(value, key_types))
    return found


def assert_escaped(rendered: Any) -> None:
    for text in texts_of(rendered):
        assert not BROADCAST.search(text), text[:300]
        rest = ALLOWED_TOKEN.sub("", text)
        assert "<" not in rest and ">" not in rest, text[:300]
        for m in re.finditer("&", rest):
            assert re.match(r"&(amp|lt|gt);", rest[m.start():]), text[max(0, m.start() - 20): m.start() + 20]


def assert_valid_message(rendered: list[dict[str, Any]]) -> None:
    assert isinstance(rendered, list) and rendered
    assert len(rendered) <= 50
    for block in rendered:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()  # raises SlackObjectFormationError on a broken limit
        if block["type"] == "section":
            for f in block.get("fields", []):
                assert len(f["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            for e in block["elements"]:
                assert len(e["text"]) <= 3000
    checker = _BlockChecker()
    checker.blocks("/blocks", rendered, 50)
    assert not checker.errors, checker.errors
    json.dumps(rendered)


def assert_valid_modal(view: dict[str, Any]) -> None:
    View(**view).to_dict()
    assert not _view_errors(view, ("modal",))
    assert len(view["blocks"]) <= 100
    assert len(view["title"]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    json.loads(view.get("private_metadata") or "{}")
    for block in view["blocks"]:
        element = block.get("element") or {}
        if element.get("type") == "plain_text_input" and element.get("initial_value") is not None:
            if element.get("max_length"):
                assert len(element["initial_value"]) <= element["max_length"], block["block_id"]
            assert len(element["initial_value"]) <= 3000


# --- case message ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_case_message_is_valid_and_escaped(name):
    case = SNAPSHOTS[name]
    rendered = blocks.case_message(case)
    assert_valid_message(rendered)
    assert_escaped(rendered)
    header = rendered[0]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150


def test_realistic_case_message_shows_the_case():
    rendered = blocks.case_message(SNAPSHOTS["realistic"])
    text = json.dumps(rendered, ensure_ascii=False)
    assert "Acme Corp" in rendered[0]["text"]["text"]
    assert "Charged twice for the March invoice" in text
    fields = " ".join(f["text"] for b in rendered for f in b.get("fields", []))
    assert "<@UAGENT>" in fields  # who flagged
    assert "Open" in fields  # status
    assert "0/6" in fields  # progress
    assert "<https://acme.zendesk.com/agent/tickets/123|" in fields
    assert "#42" in text
    actions = [e for b in rendered if b["type"] == "actions" for e in b["elements"]]
    assert any(e["action_id"] == blocks.EDIT_ACTION and e["value"] == "42" for e in actions)


def test_case_message_progress_counts_done_steps():
    case = SNAPSHOTS["half_done_with_priors"]
    fields = " ".join(f["text"] for b in blocks.case_message(case) for f in b.get("fields", []))
    assert "3/6" in fields
    assert "Resolved" in fields


def test_no_customer_is_said_plainly():
    rendered = blocks.case_message(SNAPSHOTS["no_customer"])
    assert "name not given" in rendered[0]["text"]["text"]
    assert "Edit case" in json.dumps(rendered)


def test_extreme_summary_is_escaped_and_shortened_to_fit():
    case = SNAPSHOTS["extreme"]
    rendered = blocks.case_message(case)
    what = next(b for b in rendered if b["type"] == "section" and "text" in b and "What happened" in b["text"]["text"])
    assert len(what["text"]["text"]) <= 3000
    assert "&amp;&lt;&gt;" in what["text"]["text"]
    # shortened, and the cut is never in the middle of an entity
    body = what["text"]["text"].split("\n", 1)[1].rstrip("…")
    assert re.fullmatch(r"(?:&amp;|&lt;|&gt;)+", body), body[-30:]


def test_long_customer_header_is_cut_to_150():
    case = SNAPSHOTS["extreme"]
    header = blocks.case_message(case)[0]["text"]["text"]
    assert len(header) <= 150
    assert header.startswith("🧯 Angry customer: Tom & Jerry <billing> Tom")  # plain text: readable, not entities
    long_header = blocks.case_message(SNAPSHOTS["long_words"])[0]["text"]["text"]
    assert len(long_header) == 150 and long_header.endswith("…") and long_header.startswith("🧯 Angry customer: WWW")


def test_broadcasts_in_customer_and_summary_are_inert():
    rendered = blocks.case_message(SNAPSHOTS["broadcasts"])
    dumped = json.dumps(rendered, ensure_ascii=False)
    for word in ("<!channel", "<!here", "<!everyone", "<!subteam"):
        assert word not in dumped
    what = next(b for b in rendered if b["type"] == "section" and "text" in b)
    visible = what["text"]["text"].replace("\u2060", "")
    assert "@channel" in visible and "@here" in visible and "@support" in visible
    assert "&lt;script&gt;" in visible


def test_mentions_and_links_survive():
    rendered = blocks.case_message(SNAPSHOTS["mentions_and_links"])
    dumped = json.dumps(rendered)
    assert "<@UCUSTOMER|jane>" in dumped
    assert "<#CSUPPORT|support>" in dumped
    assert "<https://acme.com/t/1|ticket 1>" in dumped
    assert "wrong &amp; late" in dumped
    assert rendered[0]["text"]["text"] == "🧯 Angry customer: jane"


def test_prior_cases_are_listed_with_links_and_failed_attempts_escaped():
    rendered = blocks.case_message(SNAPSHOTS["extreme"])
    repeat = next(b["text"]["text"] for b in rendered if b["type"] == "section" and "text" in b and "Repeat" in b["text"]["text"])
    assert "57" in repeat
    for prior in SNAPSHOTS["extreme"].prior:
        assert f"<{prior.permalink}|#{prior.id} " in repeat
    assert "offered a voucher" in repeat
    assert len(repeat) <= 3000


def test_prior_cases_without_permalink_are_plain_numbers():
    prior = (PriorCase(7, "resolved", OPENED, None, "x"),)
    rendered = blocks.case_message(snapshot(prior=prior, prior_count=1))
    repeat = next(b["text"]["text"] for b in rendered if b["type"] == "section" and "text" in b and "Repeat" in b["text"]["text"])
    assert "#7" in repeat and "<" not in repeat.replace("<https", "")


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_case_fallback_text_is_short(name):
    fallback = blocks.case_fallback(SNAPSHOTS[name])
    assert 0 < len(fallback) <= 300
    assert str(SNAPSHOTS[name].id) in fallback


@pytest.mark.parametrize("customer", ["&lt;!here&gt;", "&lt;!channel&gt; Ltd", "Acme &lt;!subteam^S1&gt;"])
def test_case_fallback_text_cannot_ping(customer):
    fallback = blocks.case_fallback(snapshot(customer=customer))
    assert "<!" not in fallback


def test_long_ticket_link_never_breaks_markup():
    link = "https://acme.com/search?" + "&".join(f"q{i}=v" for i in range(280))  # escapes to over 2,000 chars
    assert not is_url(link)  # the form refuses it: links are limited to MAX_LINK characters
    fields = [f["text"] for b in blocks.case_message(snapshot(link=link)) for f in b.get("fields", [])]
    ticket = next(f for f in fields if "Ticket" in f)
    assert len(ticket) <= 2000
    assert "<" not in ticket and ">" not in ticket  # shown as inert text, not a half-cut <url|label>
    short = "https://acme.com/t/1?a=1&b=2"
    fields = [f["text"] for b in blocks.case_message(snapshot(link=short)) for f in b.get("fields", [])]
    assert "<https://acme.com/t/1?a=1&amp;b=2|Open>" in next(f for f in fields if "Ticket" in f)


# --- checklist -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_checklist_is_valid_and_escaped(name):
    rendered = blocks.checklist(SNAPSHOTS[name])
    assert_valid_message(rendered)
    assert_escaped(rendered)


def test_checklist_has_all_six_steps_with_why_say_and_button():
    rendered = blocks.checklist(SNAPSHOTS["realistic"])
    step_blocks = [b for b in rendered if b.get("block_id", "").startswith("step_")]
    assert len(step_blocks) == 6
    for step, block in zip(playbook.STEPS, step_blocks):
        text = block["text"]["text"]
        assert step.title in text and step.why in text and step.say in text
        button = block["accessory"]
        assert button["type"] == "button" and button["text"]["text"] == "Mark done"
        assert button["value"] == f"42:{step.number}:done"
    assert "0/6" in json.dumps(rendered)


def test_checklist_all_done_with_long_details():
    case = SNAPSHOTS["extreme"]
    rendered = blocks.checklist(case)
    assert len(rendered) <= 50
    step_blocks = [b for b in rendered if b.get("block_id", "").startswith("step_")]
    assert all(b["accessory"]["value"].endswith(":undo") for b in step_blocks)
    contexts = [b for b in rendered if b["type"] == "context"]
    done_lines = [c for c in contexts if "Done by <@UAGENT>" in c["elements"][0]["text"]]
    assert len(done_lines) == 6
    for c in done_lines:
        assert "<!date^" in c["elements"][0]["text"]  # when, in the reader's time zone
    dumped = json.dumps(rendered, ensure_ascii=False)
    assert "Apology accepted: Yes, accepted" in dumped
    assert "Action: " in dumped and "Also offered: " in dumped and "Follow-up plan: " in dumped
    assert "6/6" in dumped


def test_checklist_shows_step_details_from_the_modals():
    details = {4: {"apology": "refused", "note": "wants a call"}, 5: {"action": "refunded €20 & apologised", "offer": "a month free"}}
    rendered = blocks.checklist(snapshot(steps=steps({4, 5}, details)))
    contexts = " | ".join(e["text"] for b in rendered if b["type"] == "context" for e in b["elements"])
    assert "Apology accepted: No, refused" in contexts
    assert "wants a call" in contexts
    assert "Action: refunded €20 &amp; apologised" in contexts
    assert "Also offered: a month free" in contexts
    assert "2/6" in contexts


# --- other messages --------------------------------------------------------------------------
def test_retry_post_message_has_the_button():
    rendered = blocks.retry_post("Case #42 is saved, but I can't post in <#GPRIVATE>. " + "x" * 4000, 42)
    assert_valid_message(rendered)
    buttons = [e for b in rendered if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("case_retry_post", "42")]


# --- modals ----------------------------------------------------------------------------------
def block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id") for b in view["blocks"]]


@pytest.mark.parametrize("channel", ["CSUPPORT", None])
@pytest.mark.parametrize("customer", [None, "Acme", "C" * 150, "Tom &amp; Jerry"])
def test_intake_modal(channel, customer):
    view = blocks.intake_modal(channel_id=channel, customer=customer)
    assert_valid_modal(view)
    assert view["callback_id"] == blocks.INTAKE_VIEW
    assert block_ids(view) == ["customer", "summary", "mood", "link", "channel"]
    customer_input = view["blocks"][0]["element"]
    assert customer_input.get("initial_value") == customer
    select = view["blocks"][4]["element"]
    assert select["type"] == "conversations_select"
    if channel:
        assert select["initial_conversation"] == channel
    else:
        assert "initial_conversation" not in select
    moods = [o["value"] for o in view["blocks"][2]["element"]["options"]]
    assert moods == ["calm", "upset", "angry", "furious"]


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_edit_modal(name):
    case = SNAPSHOTS[name]
    view = blocks.edit_modal(case)
    assert_valid_modal(view)
    assert json.loads(view["private_metadata"]) == {"case": case.id}
    assert block_ids(view) == ["customer", "summary", "mood", "link"]


def test_edit_modal_prefills_readable_text():
    view = blocks.edit_modal(snapshot(customer="Tom &amp; Jerry", summary="a &lt; b"))
    assert view["blocks"][0]["element"]["initial_value"] == "Tom & Jerry"
    assert view["blocks"][1]["element"]["initial_value"] == "a < b"
    mood = view["blocks"][2]["element"]
    assert mood["initial_option"]["value"] == "angry"


def test_edit_modal_shows_mentions_and_links_as_people_read_them():
    """The form shows readable text; saving a field unchanged keeps its markup (Cases.edit, and
    tests/test_e2e_intake.py::test_edit_case_keeps_mentions_and_links end to end)."""
    case = snapshot(customer="<@UCUSTOMER|jane>", summary="see <https://acme.com/t/1|ticket 1>, ask <@UCOLLEAGUE|sam>")
    view = blocks.edit_modal(case)
    assert view["blocks"][0]["element"]["initial_value"] == "jane"
    assert view["blocks"][1]["element"]["initial_value"] == "see ticket 1, ask sam"


@pytest.mark.parametrize("builder, callback", [(blocks.apology_modal, blocks.APOLOGY_VIEW), (blocks.action_modal, blocks.ACTION_VIEW)])
@pytest.mark.parametrize("case_id", [1, 2_147_483_647])
def test_step_modals(builder, callback, case_id):
    view = builder(case_id)
    assert_valid_modal(view)
    assert view["callback_id"] == callback
    assert json.loads(view["private_metadata"]) == {"case": case_id}


def test_apology_modal_asks_whether_accepted():
    view = blocks.apology_modal(3)
    radio = view["blocks"][0]
    assert radio["block_id"] == "apology" and radio["element"]["type"] == "radio_buttons"
    assert [o["value"] for o in radio["element"]["options"]] == ["accepted", "not_yet", "refused"]
    assert "accept" in radio["label"]["text"].lower()


def test_action_modal_asks_what_was_done_and_offered():
    view = blocks.action_modal(3)
    assert block_ids(view) == ["action", "offer"]
    assert view["blocks"][0].get("optional") in (None, False)
    assert view["blocks"][1]["optional"] is True


def test_message_builder_refuses_more_than_50_blocks():
    from slack_sdk.models.blocks import DividerBlock

    with pytest.raises(ValueError):
        blocks.message([DividerBlock() for _ in range(51)])
    assert len(blocks.message([DividerBlock() for _ in range(50)])) == 50


def test_snapshots_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SNAPSHOTS["realistic"].status = "resolved"  # type: ignore[misc]
