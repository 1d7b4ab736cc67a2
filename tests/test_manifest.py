"""Both manifests validate against Slack's official schema (vendored) and declare what the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "vendor" / "slack_manifest_schema" / "manifest.schema.1.0.0.json"
MANIFESTS = ["manifest.yml", "manifest.http.yml"]


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_against_slack_schema(name: str, schema: dict[str, Any]) -> None:
    jsonschema.validate(load(name), schema)


def test_schema_rejects_a_broken_manifest(schema: dict[str, Any]) -> None:
    broken = load("manifest.yml")
    broken["features"]["slash_commands"][0]["unknown_key"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_quick_start_manifest_is_socket_mode_without_urls() -> None:
    manifest = load("manifest.yml")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "example.com" not in (ROOT / "manifest.yml").read_text()


def test_http_manifest_points_every_surface_at_slack_events() -> None:
    manifest = load("manifest.http.yml")
    assert manifest["settings"]["socket_mode_enabled"] is False
    urls = [
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["features"]["slash_commands"][0]["url"],
    ]
    assert all(url.startswith("https://") and url.endswith("/slack/events") for url in urls)


def _without_urls(manifest: dict[str, Any]) -> dict[str, Any]:
    copy = json.loads(json.dumps(manifest))
    copy["settings"].pop("socket_mode_enabled")
    copy["settings"]["interactivity"].pop("request_url", None)
    copy["settings"]["event_subscriptions"].pop("request_url", None)
    for command in copy["features"]["slash_commands"]:
        command.pop("url", None)
    return copy


def test_both_manifests_declare_the_same_surfaces_and_scopes() -> None:
    assert _without_urls(load("manifest.yml")) == _without_urls(load("manifest.http.yml"))


@pytest.mark.parametrize("name", MANIFESTS)
def test_surfaces_match_the_code(name: str) -> None:
    manifest = load(name)
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == ["/angry"]
    shortcut_ids = {s["callback_id"] for s in manifest["features"]["shortcuts"]}
    source = "".join(p.read_text() for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py"))
    for callback_id in shortcut_ids:
        assert callback_id in source, f"no handler for shortcut {callback_id}"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


# Which Web API method needs which scope; a scope is declared exactly when the code calls its methods.
SCOPE_FOR_METHOD = {
    r"conversations_join": "channels:join",
    r"users_info": "users:read",
    r"conversations_history": "im:history",
    r"conversations_open": "im:write",
    r"files_upload_v2": "files:write",
    r"usergroups_users_list": "usergroups:read",
}


# conversations.info and conversations.members need the read scope of each kind of conversation.
CONVERSATION_READ = {"channels:read", "groups:read", "im:read", "mpim:read"}


def test_bot_scopes_are_exactly_the_ones_used() -> None:
    scopes = set(load("manifest.yml")["oauth_config"]["scopes"]["bot"])
    source = "".join(p.read_text() for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py"))
    needed = {"commands", "chat:write"}
    needed |= {scope for pattern, scope in SCOPE_FOR_METHOD.items() if re.search(pattern, source)}
    if re.search(r"conversations_info|conversations_members", source):
        needed |= CONVERSATION_READ
    if re.search(r'"case", "case_id"', source):  # unconfirmed case messages are looked for in their channel
        needed |= {"channels:history", "groups:history"}
    assert scopes == needed
