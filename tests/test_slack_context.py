"""The middleware that gives listeners their services and the ids a payload carries."""

from __future__ import annotations

import json
from typing import Any

from handlers.slack.context import leading_id, names, parse_ids, provide, view_metadata

names("case", "test_case_button")
names("reminder", "test_reminder_button")


def click(action_id: str, value: str | None = None, option: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": action_id}
    if value is not None:
        action["value"] = value
    if option is not None:
        action["selected_option"] = {"value": option}
    return {"type": "block_actions", "user": {"id": "UAGENT"}, "actions": [action]}


def test_a_button_value_gives_the_id_its_action_names() -> None:
    assert parse_ids(click("test_case_button", "42:3:done")) == {"user_id": "UAGENT", "case_id": 42}
    assert parse_ids(click("test_reminder_button", option="9:hour")) == {"user_id": "UAGENT", "reminder_id": 9}


def test_an_undeclared_action_or_an_unreadable_value_gives_no_id() -> None:
    assert parse_ids(click("someone_elses_button", "42")) == {"user_id": "UAGENT"}
    assert parse_ids(click("test_case_button", "not-a-number")) == {"user_id": "UAGENT", "case_id": None}


def test_a_form_submission_reads_its_private_metadata() -> None:
    body = {"type": "view_submission", "user": {"id": "UAGENT"},
            "view": {"private_metadata": json.dumps({"case": 7, "handoff": "12"})}}
    assert parse_ids(body) == {"user_id": "UAGENT", "case_id": 7, "handoff_id": 12}


def test_broken_metadata_is_empty_not_an_error() -> None:
    assert view_metadata({"private_metadata": "{not json"}) == {}
    assert view_metadata({"private_metadata": "[1, 2]"}) == {}
    assert view_metadata(None) == {}
    assert leading_id("") is None and leading_id("-3") is None and leading_id("15:x") == 15


def test_a_slash_command_gives_the_user() -> None:
    assert parse_ids({"command": "/angry", "user_id": "UAGENT", "text": "x"}) == {"user_id": "UAGENT"}


def test_the_middleware_fills_the_context_then_calls_next() -> None:
    services = object()
    context: dict[str, Any] = {}
    called: list[bool] = []
    provide(services)(context, click("test_case_button", "5"), lambda: called.append(True))
    assert called == [True]
    assert context["services"] is services and context["case_id"] == 5 and context["user_id"] == "UAGENT"
