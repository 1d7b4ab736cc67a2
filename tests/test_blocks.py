"""Block Kit builders (bot.blocks) over realistic and extreme case snapshots.

Every rendering is re-parsed with slack_sdk's model classes (which check Slack's length limits),
checked by the stand-in's Block Kit checker, kept within the per-message block count, and its
mrkdwn text checked for escaping: nothing a user typed can ping a channel or break markup.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.core import playbook
from bot.core.settings import Offset
from bot.core.snapshot import CaseSnapshot, Entry, PriorCase, StepState
from bot.core.textutil import is_url
from handlers.casefile import ids as casefile_ids
from handlers.casefile import views as casefile_views
from handlers.checklist import case_message as case_view
from handlers.checklist import ids as checklist_ids
from handlers.checklist import views as checklist_views
from handlers.closing import views as closing_views
from handlers.escalation import views as escalation_views
from handlers.followups import views as followups_views
from handlers.handoff import views as handoff_views
from handlers.intake import ids as intake_ids
from handlers.intake import views as intake_views
from handlers.slack import blockkit as blocks
from tests.slack_standin import _BlockChecker, _view_errors

OPENED = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
NASTY = "<!channel> <!here> <!everyone> <!subteam^S0SUPPORT|@support> &lt;!here&gt; a < b > c & d <script>"
BROADCAST = re.compile(r"<!(?!date\^)")
ALLOWED_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>]*)?|#[CG][A-Z0-9]+(?:\|[^<>]*)?|(?:https?://|mailto:)[^\s|<>]+(?:\|[^<>]*)?"
    r"|!date\^\d+\^[^|<>]*\|[^<>]*)>"
)


BUILT_IN = playbook.built_in().steps
ASKS = {4: "apology", 5: "action", 6: "plan"}  # what ticking the built-in steps 4-6 asks


def done_value(case_id: int, number: int) -> str:
    """A step's Mark done button value: what the tick asks (or "-", nothing) rides along, so the click
    needs no read of the case."""
    return f"{case_id}:{number}:done:{ASKS.get(number, '-')}"


def steps(done: set[int] | None = None, details: dict[int, dict[str, Any]] | None = None) -> tuple[StepState, ...]:
    done = done or set()
    details = details or {}
    return tuple(
        StepState(n, n in done, "UAGENT" if n in done else None, OPENED + timedelta(minutes=n) if n in done else None,
                  details.get(n) if n in done else None)
        for n in range(1, len(BUILT_IN) + 1)
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
    rendered = case_view.case_message(case)
    assert_valid_message(rendered)
    assert_escaped(rendered)
    header = rendered[0]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150


def test_realistic_case_message_shows_the_case():
    rendered = case_view.case_message(SNAPSHOTS["realistic"])
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
    assert any(e["action_id"] == casefile_ids.EDIT_ACTION and e["value"] == "42" for e in actions)


def test_case_message_progress_counts_done_steps():
    case = SNAPSHOTS["half_done_with_priors"]
    fields = " ".join(f["text"] for b in case_view.case_message(case) for f in b.get("fields", []))
    assert "3/6" in fields
    assert "Resolved" in fields


def test_no_customer_is_said_plainly():
    rendered = case_view.case_message(SNAPSHOTS["no_customer"])
    assert "name not given" in rendered[0]["text"]["text"]
    assert "Edit case" in json.dumps(rendered)


def test_extreme_summary_is_escaped_and_shortened_to_fit():
    case = SNAPSHOTS["extreme"]
    rendered = case_view.case_message(case)
    what = next(b for b in rendered if b["type"] == "section" and "text" in b and "What happened" in b["text"]["text"])
    assert len(what["text"]["text"]) <= 3000
    assert "&amp;&lt;&gt;" in what["text"]["text"]
    # shortened, and the cut is never in the middle of an entity
    body = what["text"]["text"].split("\n", 1)[1].rstrip("…")
    assert re.fullmatch(r"(?:&amp;|&lt;|&gt;)+", body), body[-30:]


def test_long_customer_header_is_cut_to_150():
    case = SNAPSHOTS["extreme"]
    header = case_view.case_message(case)[0]["text"]["text"]
    assert len(header) <= 150
    assert header.startswith("🧯 Angry customer: Tom & Jerry <billing> Tom")  # plain text: readable, not entities
    long_header = case_view.case_message(SNAPSHOTS["long_words"])[0]["text"]["text"]
    assert len(long_header) == 150 and long_header.endswith("…") and long_header.startswith("🧯 Angry customer: WWW")


def test_broadcasts_in_customer_and_summary_are_inert():
    rendered = case_view.case_message(SNAPSHOTS["broadcasts"])
    dumped = json.dumps(rendered, ensure_ascii=False)
    for word in ("<!channel", "<!here", "<!everyone", "<!subteam"):
        assert word not in dumped
    what = next(b for b in rendered if b["type"] == "section" and "text" in b)
    visible = what["text"]["text"].replace("\u2060", "")
    assert "@channel" in visible and "@here" in visible and "@support" in visible
    assert "&lt;script&gt;" in visible


def test_mentions_and_links_survive():
    rendered = case_view.case_message(SNAPSHOTS["mentions_and_links"])
    dumped = json.dumps(rendered)
    assert "<@UCUSTOMER|jane>" in dumped
    assert "<#CSUPPORT|support>" in dumped
    assert "<https://acme.com/t/1|ticket 1>" in dumped
    assert "wrong &amp; late" in dumped
    assert rendered[0]["text"]["text"] == "🧯 Angry customer: jane"


def test_prior_cases_are_listed_with_links_and_failed_attempts_escaped():
    rendered = case_view.case_message(SNAPSHOTS["extreme"])
    repeat = next(b["text"]["text"] for b in rendered if b["type"] == "section" and "text" in b and "Repeat" in b["text"]["text"])
    assert "57" in repeat
    for prior in SNAPSHOTS["extreme"].prior:
        assert f"<{prior.permalink}|#{prior.id} " in repeat
    assert "offered a voucher" in repeat
    assert len(repeat) <= 3000


def test_prior_cases_without_permalink_are_plain_numbers():
    prior = (PriorCase(7, "resolved", OPENED, None, "x"),)
    rendered = case_view.case_message(snapshot(prior=prior, prior_count=1))
    repeat = next(b["text"]["text"] for b in rendered if b["type"] == "section" and "text" in b and "Repeat" in b["text"]["text"])
    assert "#7" in repeat and "<" not in repeat.replace("<https", "")


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_case_fallback_text_is_short(name):
    fallback = case_view.case_fallback(SNAPSHOTS[name])
    assert 0 < len(fallback) <= 300
    assert str(SNAPSHOTS[name].id) in fallback


@pytest.mark.parametrize("customer", ["&lt;!here&gt;", "&lt;!channel&gt; Ltd", "Acme &lt;!subteam^S1&gt;"])
def test_case_fallback_text_cannot_ping(customer):
    fallback = case_view.case_fallback(snapshot(customer=customer))
    assert "<!" not in fallback


def test_long_ticket_link_never_breaks_markup():
    link = "https://acme.com/search?" + "&".join(f"q{i}=v" for i in range(280))  # escapes to over 2,000 chars
    assert not is_url(link)  # the form refuses it: links are limited to MAX_LINK characters
    fields = [f["text"] for b in case_view.case_message(snapshot(link=link)) for f in b.get("fields", [])]
    ticket = next(f for f in fields if "Ticket" in f)
    assert len(ticket) <= 2000
    assert "<" not in ticket and ">" not in ticket  # shown as inert text, not a half-cut <url|label>
    short = "https://acme.com/t/1?a=1&b=2"
    fields = [f["text"] for b in case_view.case_message(snapshot(link=short)) for f in b.get("fields", [])]
    assert "<https://acme.com/t/1?a=1&amp;b=2|Open>" in next(f for f in fields if "Ticket" in f)


# --- checklist -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_checklist_is_valid_and_escaped(name):
    rendered = checklist_views.checklist(SNAPSHOTS[name])
    assert_valid_message(rendered)
    assert_escaped(rendered)


def step_sections(rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in rendered if b.get("block_id", "").startswith("step_")]


def test_open_steps_show_the_title_and_one_short_line():
    rendered = checklist_views.checklist(SNAPSHOTS["realistic"])
    step_blocks = step_sections(rendered)
    assert len(step_blocks) == 6
    for step, block in zip(BUILT_IN, step_blocks):
        text = block["text"]["text"]
        title, line = text.split("\n")  # exactly two lines
        assert step.title in title
        assert step.say[0] in line and len(line) <= checklist_views.SHORT_LINE + 10
        assert step.why not in text  # the why is a click away, in the guide
        button = block["accessory"]
        assert button["type"] == "button" and button["text"]["text"] == "Mark done"
        assert button["value"] == done_value(42, step.number)
    assert "0/6" in json.dumps(rendered)


def primaries(rendered: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(rendered, dict):
        if rendered.get("type") == "button" and rendered.get("style") == "primary":
            found.append(rendered)
        for value in rendered.values():
            found.extend(primaries(value))
    elif isinstance(rendered, list):
        for value in rendered:
            found.extend(primaries(value))
    return found


@pytest.mark.parametrize("done, expected_next", [(set(), 1), ({1}, 2), ({1, 3, 4}, 2), ({2, 3, 4, 5, 6}, 1), ({1, 2, 3, 4, 5}, 6)])
def test_exactly_one_primary_button_on_the_next_step(done, expected_next):
    rendered = checklist_views.checklist(snapshot(steps=steps(done)))
    [primary] = primaries(rendered)
    assert primary["value"] == done_value(42, expected_next) and primary["text"]["text"] == "Mark done"
    assert "danger" not in json.dumps(rendered)
    for block in step_sections(rendered):
        if block["accessory"] is not primary:
            assert "style" not in block["accessory"]


def test_all_done_has_no_primary_button():
    rendered = checklist_views.checklist(snapshot(steps=steps(set(range(1, 7)))))
    assert primaries(rendered) == []
    assert "6/6" in json.dumps(rendered)


def test_done_steps_collapse_to_one_line_with_who_when_and_undo():
    rendered = checklist_views.checklist(snapshot(steps=steps({1, 2, 3})))
    for step, block in zip(BUILT_IN[:3], step_sections(rendered)[:3]):
        text = block["text"]["text"]
        assert "\n" not in text
        assert text.startswith(f"✅ {step.number}. ") and "<@UAGENT>" in text and "<!date^" in text
        assert step.say[0] not in text and step.why not in text
        assert block["accessory"]["text"]["text"] == "Undo" and "style" not in block["accessory"]
        assert block["accessory"]["value"] == f"42:{step.number}:undo"
    assert len(checklist_views.shorten(BUILT_IN[1].title, checklist_views.DONE_TITLE)) <= checklist_views.DONE_TITLE
    assert not [b for b in rendered if b["type"] == "context" and "<@UAGENT>" in json.dumps(b)]  # no extra lines


def test_checklist_all_done_with_long_details():
    case = SNAPSHOTS["extreme"]
    rendered = checklist_views.checklist(case)
    step_blocks = step_sections(rendered)
    assert len(step_blocks) == 6
    assert all(b["accessory"]["value"].endswith(":undo") for b in step_blocks)
    for block in step_blocks:
        assert "<@UAGENT>" in block["text"]["text"] and "<!date^" in block["text"]["text"]  # who, and when in the reader's zone
    dumped = json.dumps(rendered, ensure_ascii=False)
    assert "Apology accepted: Yes, accepted" in dumped
    assert "Action: " in dumped and "Also offered: " in dumped and "Follow-up plan: " in dumped
    assert "6/6" in dumped
    # long answers are shortened in the checklist (the record keeps them whole)
    assert len(step_blocks[4]["text"]["text"]) <= 3 * checklist_views.DETAIL_LIMIT + 200  # action, offer, note
    assert len(rendered) <= 9 and visible_chars(rendered) <= 2000


def test_checklist_shows_step_details_from_the_modals():
    details = {4: {"apology": "refused", "note": "wants a call"}, 5: {"action": "refunded €20 & apologised", "offer": "a month free"}}
    rendered = checklist_views.checklist(snapshot(steps=steps({4, 5}, details)))
    text = " | ".join(b["text"]["text"] for b in step_sections(rendered))
    assert "Apology accepted: No, refused" in text
    assert "wants a call" in text
    assert "Action: refunded €20 &amp; apologised" in text
    assert "Also offered: a month free" in text
    assert "2/6" in json.dumps(rendered)


def test_guide_button_opens_every_step_in_full():
    rendered = checklist_views.checklist(SNAPSHOTS["realistic"])
    actions = [e for b in rendered if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"], e.get("style")) for e in actions] == [(checklist_ids.GUIDE_ACTION, "42", None)]
    view = checklist_views.guide_modal(playbook.built_in())
    assert_valid_modal(view)
    assert "submit" not in view  # read-only
    guide = "\n".join(b["text"]["text"] for b in view["blocks"])
    for step in BUILT_IN:
        assert step.title in guide and step.why in guide
        for line in checklist_views.say_lines(step):
            assert line in guide


def test_shorten_cuts_at_a_word():
    assert checklist_views.shorten("short", 10) == "short"
    assert checklist_views.shorten("Admit you don't have the details yet", 20) == "Admit you don't…"
    assert checklist_views.shorten("W" * 30, 10) == "W" * 9 + "…"


# --- rendering budget: what a phone has to show ----------------------------------------------
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|([^<>]*))?>")
DATE = re.compile(r"<!date\^[^|<>]*\|([^<>]*)>")
LINK = re.compile(r"<[^|<>]*\|([^<>]*)>")


def visible(text: str) -> str:
    """Text as a reader sees it: a mention as a ~10-character name, a date as its fallback
    (`2024-03-05 14:31 UTC`, longer than Slack's "Today at 2:31 PM"), a link as its label,
    entities as one character, no formatting marks."""
    text = MENTION.sub(lambda m: "@" + (m.group(1) or "agentname"), text)
    text = DATE.sub(r"\1", text)
    text = LINK.sub(r"\1", text)
    text = re.sub(r"&(?:amp|lt|gt);", "&", text)
    return re.sub(r"[*_~]", "", text)


def visible_chars(rendered: Any) -> int:
    return sum(len(visible(t)) for t in texts_of(rendered, ("mrkdwn", "plain_text")))


REALISTIC_DETAILS = {
    4: {"apology": "accepted", "note": "She laughed and said thanks"},
    5: {"action": "Refunded the second charge (€49)", "offer": "A free month and a call on Friday"},
    6: {"plan": "Call her on Friday to check the refund arrived"},
}
# (done steps, most blocks, most visible characters). Before these budgets the same states were
# 8 / 11 / 14 blocks and 1,442 / 1,614 / 1,877 visible characters, with six primary buttons at the start.
BUDGETS = {
    "none done": (set(), 9, 900),
    "some done": ({1, 3, 4}, 9, 800),
    "all done": (set(range(1, 7)), 9, 750),
}


@pytest.mark.parametrize("state", list(BUDGETS))
def test_checklist_fits_the_budget(state):
    done, most_blocks, most_chars = BUDGETS[state]
    rendered = checklist_views.checklist(snapshot(steps=steps(done, REALISTIC_DETAILS)))
    assert_valid_message(rendered)
    assert len(rendered) <= most_blocks, len(rendered)
    assert visible_chars(rendered) <= most_chars, visible_chars(rendered)
    assert len(primaries(rendered)) == (0 if len(done) == len(BUILT_IN) else 1)


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_checklist_never_exceeds_slacks_block_limit(name):
    assert len(checklist_views.checklist(SNAPSHOTS[name])) <= min(50, len(BUILT_IN) + 3)


@pytest.mark.parametrize("name, most_blocks, most_chars", [("realistic", 6, 450), ("half_done_with_priors", 6, 650)])
def test_case_message_fits_the_budget(name, most_blocks, most_chars):
    rendered = case_view.case_message(SNAPSHOTS[name])
    assert len(rendered) <= most_blocks, len(rendered)
    assert visible_chars(rendered) <= most_chars, visible_chars(rendered)
    assert len(primaries(rendered)) <= 1
    assert "danger" not in json.dumps(rendered)  # nothing on the case message deletes anything


# --- other messages --------------------------------------------------------------------------
def test_retry_post_message_has_the_button():
    rendered = intake_views.retry_blocks("Case #42 is saved, but I can't post in <#GPRIVATE>. " + "x" * 4000, 42)
    assert_valid_message(rendered)
    buttons = [e for b in rendered if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("case_retry_post", "42")]


# --- modals ----------------------------------------------------------------------------------
def block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id") for b in view["blocks"]]


@pytest.mark.parametrize("channel", ["CSUPPORT", None])
@pytest.mark.parametrize("customer", [None, "Acme", "C" * 150, "Tom &amp; Jerry"])
def test_intake_modal(channel, customer):
    view = intake_views.intake_modal(channel_id=channel, customer=customer)
    assert_valid_modal(view)
    assert view["callback_id"] == intake_ids.INTAKE_VIEW
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
    view = casefile_views.edit_modal(case)
    assert_valid_modal(view)
    assert json.loads(view["private_metadata"]) == {"case": case.id}
    assert block_ids(view) == ["customer", "summary", "mood", "link"]


def test_edit_modal_prefills_readable_text():
    view = casefile_views.edit_modal(snapshot(customer="Tom &amp; Jerry", summary="a &lt; b"))
    assert view["blocks"][0]["element"]["initial_value"] == "Tom & Jerry"
    assert view["blocks"][1]["element"]["initial_value"] == "a < b"
    mood = view["blocks"][2]["element"]
    assert mood["initial_option"]["value"] == "angry"


def test_edit_modal_shows_mentions_and_links_as_people_read_them():
    """The form shows readable text; saving a field unchanged keeps its markup (Cases.edit, and
    tests/test_e2e_intake.py::test_edit_case_keeps_mentions_and_links end to end)."""
    case = snapshot(customer="<@UCUSTOMER|jane>", summary="see <https://acme.com/t/1|ticket 1>, ask <@UCOLLEAGUE|sam>")
    view = casefile_views.edit_modal(case)
    assert view["blocks"][0]["element"]["initial_value"] == "jane"
    assert view["blocks"][1]["element"]["initial_value"] == "see ticket 1, ask sam"


@pytest.mark.parametrize("builder, callback", [(checklist_views.apology_modal, checklist_ids.APOLOGY_VIEW), (checklist_views.action_modal, checklist_ids.ACTION_VIEW)])
@pytest.mark.parametrize("case_id", [1, 2_147_483_647])
def test_step_modals(builder, callback, case_id):
    view = builder(case_id, 5)
    assert_valid_modal(view)
    assert view["callback_id"] == callback
    assert json.loads(view["private_metadata"]) == {"case": case_id, "step": 5}  # the submission ticks that step


def test_apology_modal_asks_whether_accepted():
    view = checklist_views.apology_modal(3, 4)
    radio = view["blocks"][0]
    assert radio["block_id"] == "apology" and radio["element"]["type"] == "radio_buttons"
    assert [o["value"] for o in radio["element"]["options"]] == ["accepted", "not_yet", "refused"]
    assert "accept" in radio["label"]["text"].lower()


def test_action_modal_asks_what_was_done_and_offered():
    view = checklist_views.action_modal(3, 5)
    assert block_ids(view) == ["action", "offer"]
    assert view["blocks"][0].get("optional") in (None, False)
    assert view["blocks"][1]["optional"] is True


def every_modal() -> dict[str, dict[str, Any]]:
    case = SNAPSHOTS["realistic"]
    return {
        "intake": intake_views.intake_modal(channel_id="CSUPPORT"),
        "edit": casefile_views.edit_modal(case),
        "apology": checklist_views.apology_modal(1, 4),
        "action": checklist_views.action_modal(1, 5),
        "guide": checklist_views.guide_modal(playbook.built_in()),
        "attempt": casefile_views.attempt_modal(1),
        "note": casefile_views.note_modal(1),
        "handoff": handoff_views.handoff_modal(1),
        "decline": handoff_views.decline_modal(1),
        "escalate": escalation_views.escalate_modal(1),
        "escalation_update": escalation_views.escalation_update_modal(1),
        "resolve": closing_views.resolve_modal(1),
        "unresolved": closing_views.unresolved_modal(1),
        "review": closing_views.review_modal(1),
        "plan": checklist_views.plan_modal(1, (Offset(1, "d"), Offset(7, "d"), Offset(30, "d"))),
        "followed_up": followups_views.followed_up_modal(1),
    }


@pytest.mark.parametrize("name", list(every_modal()))
def test_optional_inputs_do_not_say_optional_again(name):
    """Slack marks optional inputs itself; a label saying "(optional)" too reads twice."""
    view = every_modal()[name]
    assert_valid_modal(view)
    for block in view["blocks"]:
        if block["type"] == "input":
            assert "optional" not in block["label"]["text"].lower(), (name, block["block_id"])


@pytest.mark.parametrize("schedule, words", [
    ((Offset(1, "d"), Offset(7, "d"), Offset(30, "d")), "1 day, 7 days and 30 days after"),
    ((Offset(3, "s"), Offset(6, "s")), "3 seconds and 6 seconds after"),
    ((Offset(1, "w"),), "1 week after"),
    ((Offset(2, "h"), Offset(1, "m")), "2 hours and 1 minute after"),
])
def test_step_6_hint_names_the_schedule_in_words(schedule, words):
    view = checklist_views.plan_modal(7, schedule)
    hint = next(b for b in view["blocks"] if b["block_id"] == "first_date")["hint"]["text"]
    assert words in hint
    assert not re.search(r"\d[smhdw]\b", hint)  # no raw configuration like "3s" or "7d"


def test_step_6_hint_without_a_schedule():
    hint = next(b for b in checklist_views.plan_modal(7, ())["blocks"] if b["block_id"] == "first_date")["hint"]["text"]
    assert "no follow-up reminder" in hint


def test_message_builder_refuses_more_than_50_blocks():
    from slack_sdk.models.blocks import DividerBlock

    with pytest.raises(ValueError):
        blocks.message([DividerBlock() for _ in range(51)])
    assert len(blocks.message([DividerBlock() for _ in range(50)])) == 50


def test_snapshots_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SNAPSHOTS["realistic"].status = "resolved"  # type: ignore[misc]


# --- the model classes' checks: on in tests, off in the running app ---------------------------
@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_rendering_without_the_model_checks_gives_the_same_blocks(name):
    case = SNAPSHOTS[name]
    checked = (case_view.case_message(case), checklist_views.checklist(case))
    blocks.check_views(False)
    try:
        unchecked = (case_view.case_message(case), checklist_views.checklist(case))
    finally:
        blocks.check_views(True)
    assert unchecked == checked


def test_the_model_checks_can_be_turned_off_for_the_running_app_and_back_on():
    too_long = blocks.SectionBlock(text=blocks.mrkdwn("x" * 3001))  # past Slack's 3,000 for a section
    with pytest.raises(Exception, match="3000"):
        blocks.message([too_long])
    blocks.check_views(False)
    try:
        assert blocks.message([too_long])[0]["text"]["text"] == "x" * 3001  # Slack would say invalid_blocks
    finally:
        blocks.check_views(True)
    with pytest.raises(Exception, match="3000"):
        blocks.message([too_long])
