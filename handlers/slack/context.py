"""Bolt middleware that hands every listener its services and the ids its payload carries.

Listeners are module-level functions (importable, unit-testable); they read what they need from Bolt's
`context` instead of closures: `context["services"]`, and the parsed `case_id`, `handoff_id`,
`reminder_id` and `user_id`. Each move declares which object its action values name with `names()`,
next to its action ids, so a payload is parsed in one place and never by hand in a listener.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

Target = Literal["case", "handoff", "reminder"]
_TARGETS: dict[str, Target] = {}  # action_id -> what the button's value names first


def names(target: Target, *action_ids: str) -> None:
    """Declare that these actions' values start with the id of a `target` (`12` or `12:more`)."""
    for action_id in action_ids:
        _TARGETS[action_id] = target


def leading_id(value: Any) -> int | None:
    """The number before the first `:`; None if there is none."""
    head = str(value or "").split(":", 1)[0]
    return int(head) if head.isdigit() else None


def view_metadata(view: Mapping[str, Any] | None) -> dict[str, Any]:
    """A modal's private_metadata as a dict; {} when missing or unreadable."""
    try:
        data = json.loads((view or {}).get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_ids(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ids a payload carries: who acts, and the case/handoff/reminder its button or form is about."""
    user = body.get("user") or {}
    found: dict[str, Any] = {"user_id": (user.get("id") if isinstance(user, dict) else None) or body.get("user_id") or ""}
    actions = body.get("actions") or []
    if actions and isinstance(actions[0], dict):
        action = actions[0]
        target = _TARGETS.get(str(action.get("action_id") or ""))
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        if target is not None:
            found[f"{target}_id"] = leading_id(value)
    view = body.get("view")
    if isinstance(view, dict) and body.get("type") in ("view_submission", "view_closed"):
        meta = view_metadata(view)
        for target in ("case", "handoff", "reminder"):
            if target in meta:
                found[f"{target}_id"] = leading_id(meta[target])
    return found


def provide(services: Any) -> Callable[..., None]:
    """The middleware: `app.use(provide(services))` in the composition root."""

    def middleware(context: dict[str, Any], body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's name)
        context["services"] = services
        context.update(parse_ids(body))
        next()

    return middleware
