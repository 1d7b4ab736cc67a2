"""Reading a request from Slack before Bolt does: the signature, the body in either of Slack's
encodings, the ids that make a repeat recognisable, and whether a modal's private metadata is ours.
Used by handlers.slack.guard, which decides what to answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bot import texts

SIGNATURE_WINDOW_SECONDS = 300  # Slack's: older (or newer) timestamps are refused
MAX_BODY_BYTES = 1 << 20  # a big modal's state is tens of KB
REMEMBERED_KEYS = 50_000  # replay memory bound (one key is ~100 bytes)
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
_ID_KEYS = ("case", "handoff", "reminder")  # ids our modals carry in private_metadata


class Refusal(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Incoming:
    """A verified, readable request: what kind it is and the keys that identify a redelivery."""

    kind: str  # command | interactive | event | ssl_check
    data: dict[str, Any]
    replay_keys: list[str] = field(default_factory=list)

    @property
    def team(self) -> str | None:
        team = self.data.get("team")
        if isinstance(team, dict):
            return team.get("id")
        return self.data.get("team_id") if isinstance(self.data.get("team_id"), str) else None

    @property
    def authorized_teams(self) -> set[str]:
        """Events from a Slack Connect channel may name the other organisation's team; their
        `authorizations` name the installations they are delivered for."""
        found = set()
        for entry in self.data.get("authorizations") or []:
            if isinstance(entry, dict) and isinstance(entry.get("team_id"), str):
                found.add(entry["team_id"])
        return found

    @property
    def enterprise(self) -> str | None:
        org = self.data.get("enterprise") or self.data.get("enterprise_id")
        if isinstance(org, dict):
            return org.get("id")
        return org if isinstance(org, str) else None

    @property
    def view(self) -> dict[str, Any] | None:
        if self.kind == "interactive" and self.data.get("type") == "view_submission":
            view = self.data.get("view")
            return view if isinstance(view, dict) else {}
        return None


class Memory:
    """Keys seen within a time window, oldest forgotten first, never more than `limit`.

    A key is kept as a 64-bit digest rather than its text (a signature is 71 characters): 140 bytes a key
    instead of 200, measured over 40,000 keys, and a busy app keeps two keys a request for eleven minutes.
    Two different keys share a digest with a chance of about one in 10^10 among 50,000 keys."""

    def __init__(self, window: float, limit: int = REMEMBERED_KEYS, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.limit = limit
        self.clock = clock
        self._seen: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._seen and (len(self._seen) > self.limit or next(iter(self._seen.values())) <= now):
            self._seen.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            self._forget_old(self.clock())
            return _digest(key) in self._seen

    def add(self, key: str) -> None:
        digest = _digest(key)
        with self._lock:
            now = self.clock()
            self._seen.pop(digest, None)
            self._seen[digest] = now + self.window
            self._forget_old(now)

    def first_time(self, keys: list[str]) -> bool:
        """True (and remember them all) unless one of `keys` was seen: one atomic check-and-set."""
        digests = [_digest(key) for key in keys]
        with self._lock:
            now = self.clock()
            self._forget_old(now)
            if any(digest in self._seen for digest in digests):
                return False
            for digest in digests:
                self._seen[digest] = now + self.window
            self._forget_old(now)
            return True

    def __len__(self) -> int:
        return len(self._seen)


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v0=" + mac.hexdigest()


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise Refusal(400, f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, f"{what} is not a JSON object")
    return data


def read_body(content_type: str, body: bytes) -> tuple[Incoming, bytes | None]:
    """Parse a signed body the way Bolt will, refusing what Bolt would choke on.

    Returns the request and, when Bolt would misread a correct body, a rewritten equivalent body.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "body is not UTF-8") from None
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or text.startswith("{"):
        data = _json_object(text, "body")
        kind = "event" if data.get("type") in ("event_callback", "url_verification", "app_rate_limited") else "interactive"
        incoming = Incoming(kind, data)
        if data.get("event_id"):
            incoming.replay_keys.append(f"event:{data['event_id']}")
        return incoming, None
    fields = dict(parse_qsl(text, keep_blank_values=True))
    rewritten = None
    if "payload" in fields:
        data = _json_object(fields["payload"], "payload")
        if not isinstance(data.get("type"), str):
            raise Refusal(400, "payload has no type")
        incoming = Incoming("interactive", data)
    elif "ssl_check" in fields:
        return Incoming("ssl_check", fields), None
    elif "command" in fields:
        incoming = Incoming("command", fields)
        if b"payload" in body:
            # Bolt reads any form body containing the word "payload" as interactivity and then finds no
            # payload field: `/angry Acme: payload lost` would be dropped. %70 decodes to the same "p".
            rewritten = body.replace(b"payload", b"%70ayload")
    else:
        raise Refusal(400, "form has neither payload nor command")
    trigger = incoming.data.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        incoming.replay_keys.append(f"trigger:{trigger}")
    return incoming, rewritten


def unreadable_metadata(view: dict[str, Any]) -> bool:
    """Our modals carry a JSON object whose ids are numbers; anything else was not written by us."""
    raw = view.get("private_metadata")
    if raw in (None, ""):
        return False
    if not isinstance(raw, str):
        return True
    try:
        data = json.loads(raw)
    except ValueError:
        return True
    if not isinstance(data, dict):
        return True
    for key in _ID_KEYS:
        value = data.get(key)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool)) and not (
            isinstance(value, str) and value.isdigit()
        ):
            return True
    return "checked" in data and not isinstance(data["checked"], dict)


def out_of_date_view() -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": texts.FORM_UNREADABLE_TITLE},
        "close": {"type": "plain_text", "text": texts.FORM_UNREADABLE_CLOSE},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": texts.FORM_UNREADABLE}}],
    }


def first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None
