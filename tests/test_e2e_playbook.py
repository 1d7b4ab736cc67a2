"""A team's own playbook file end to end: `python app.py` with PLAYBOOK_FILE, real signed requests.

The checklist, the guide and the step forms follow the file; after a restart on the built-in playbook the
old case still shows the steps it was opened with, and a new case gets the six.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.core.playbook_file import BUILT_IN, load_playbook
from tests.harness import SlackSender
from tests.test_e2e_intake import (
    blocks_text,
    case_id_of,
    current,
    fake_button_message,
    fields_text,
    history,
    open_case,
    step_block,
    view_by_callback,
)

LISTEN_FIRST = BUILT_IN.parent / "listen-first.toml"


def step_titles(message: dict) -> list[str]:
    sections = [b for b in message["blocks"] if b.get("block_id", "").startswith("step_")]
    return [b["text"]["text"].split("\n")[0] for b in sections]


def context_text(message: dict) -> str:
    return json.dumps([b for b in message["blocks"] if b["type"] == "context"], ensure_ascii=False)


def test_a_playbook_file_drives_the_checklist_and_old_cases_keep_theirs(start_app, standin, tmp_path: Path):
    listen = load_playbook(LISTEN_FIRST)
    db_url = f"sqlite:///{tmp_path / 'playbook.db'}"
    app = start_app(db_url, PLAYBOOK_FILE=str(LISTEN_FIRST.resolve()))
    slack = SlackSender(app.url, standin)

    parent, checklist = open_case(slack, standin)
    case_id = case_id_of(checklist)
    titles = step_titles(checklist)
    assert len(titles) == 5
    for title, step in zip(titles, listen.steps):
        assert f"{step.number}. {step.title}" in title
    assert "0/5" in fields_text(parent) and "0/5 done" in blocks_text(checklist)
    assert "Playbook: Listen first" in context_text(parent)  # not the built-in one: say which

    # Step 3 is the one that asks what was done (in the six steps that is step 5).
    action_value = step_block(checklist, 3)["accessory"]["value"]
    assert action_value == f"{case_id}:3:done:action"
    assert slack.click({**checklist, "channel": "CSUPPORT"}, "step_set", action_value).status == 200
    standin.wait_for(lambda: standin.calls_to("views.open"))
    view = view_by_callback(standin, "step_action")
    assert json.loads(view["private_metadata"]) == {"case": case_id, "step": 3}
    reply = slack.submit(view, {"action": "Refunded the second charge", "offer": "A call next week"})
    assert reply.status == 200 and not reply.body.strip()
    updated = standin.wait_for(
        lambda: "Action: Refunded" in blocks_text(m := current(standin, "CSUPPORT", checklist["ts"])) and m)
    assert step_block(updated, 3)["accessory"]["value"] == f"{case_id}:3:undo"
    standin.wait_for(lambda: "1/5" in fields_text(current(standin, "CSUPPORT", parent["ts"])))
    done = [e["data"] for e in history(db_url, case_id) if e["kind"] == "step_done"]
    assert done == [{"step": 3, "action": "Refunded the second charge", "offer": "A call next week"}]

    # The guide shows this playbook's words.
    slack.click({**checklist, "channel": "CSUPPORT"}, "checklist_guide")
    guide = standin.wait_for(lambda: json.dumps(view_by_callback(standin, "checklist_guide")["blocks"], ensure_ascii=False))
    assert all(step.title in guide and step.why in guide for step in listen.steps)

    # --- restart on the built-in playbook -----------------------------------------------------------
    app.stop()
    app = start_app(db_url, PLAYBOOK_FILE=None)
    slack = SlackSender(app.url, standin)

    tick = step_block(current(standin, "CSUPPORT", checklist["ts"]), 1)["accessory"]["value"]
    assert slack.click({**checklist, "channel": "CSUPPORT"}, "step_set", tick).status == 200
    again = standin.wait_for(lambda: "2/5 done" in blocks_text(m := current(standin, "CSUPPORT", checklist["ts"])) and m)
    assert step_titles(again)[4].endswith(f"5. {listen.steps[4].title}*") and len(step_titles(again)) == 5
    old_parent = standin.wait_for(lambda: "2/5" in fields_text(m := current(standin, "CSUPPORT", parent["ts"])) and m)
    assert "Playbook: Listen first" in context_text(old_parent)

    new_parent, new_checklist = open_case(slack, standin, "Globex: invoice wrong")
    assert len(step_titles(new_checklist)) == 6 and "0/6" in fields_text(new_parent)
    assert "Playbook:" not in context_text(new_parent)  # the built-in playbook needs no label
    assert step_block(new_checklist, 5)["accessory"]["value"].endswith(":5:done:action")

    # A button posted before buttons said what they ask still opens the right form (the case is read after the ack).
    opened = len(standin.calls_to("views.open"))
    new_id = case_id_of(new_checklist)
    assert slack.click(fake_button_message(f"{new_id}:5:done"), "step_set").status == 200
    standin.wait_for(lambda: len(standin.calls_to("views.open")) > opened)
    assert json.loads(view_by_callback(standin, "step_action")["private_metadata"]) == {"case": new_id, "step": 5}
