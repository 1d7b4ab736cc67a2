"""manifest.yml validates against Slack's official manifest schema and declares what the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slack_schema(manifest):
    if not SCHEMA.exists():
        pytest.fail(f"Slack's manifest schema is missing at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest, schema)


def test_schema_rejects_a_broken_manifest(manifest):
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(manifest))
    broken["features"]["slash_commands"][0]["unknown_key"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_surfaces_match_the_code(manifest):
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/angry"]
    shortcut_ids = {s["callback_id"] for s in manifest["features"]["shortcuts"]}
    handlers_src = "".join(p.read_text() for p in (ROOT / "handlers").glob("*.py"))
    blocks_src = (ROOT / "bot" / "blocks.py").read_text()
    for callback_id in shortcut_ids:
        assert callback_id in handlers_src + blocks_src, f"no handler for shortcut {callback_id}"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    for url in (manifest["settings"]["interactivity"]["request_url"], manifest["features"]["slash_commands"][0]["url"]):
        assert url.endswith("/slack/events")


def test_bot_scopes_are_exactly_the_ones_used(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    source = "".join(p.read_text() for d in ("bot", "handlers") for p in (ROOT / d).glob("*.py"))
    needed = {"commands", "chat:write"}
    if re.search(r"conversations_join", source):
        needed.add("channels:join")
    if re.search(r"users_info", source):
        needed.add("users:read")
    if re.search(r"conversations_history", source):
        needed.add("im:history")
    if re.search(r'"case", "case_id"', source):  # unconfirmed case messages are looked for in their channel
        needed.update({"channels:history", "groups:history"})
    if re.search(r"conversations_open", source):
        needed.add("im:write")
    assert scopes == needed
