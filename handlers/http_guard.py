"""The first thing every HTTP request from Slack meets, before Bolt.

Bolt checks signatures, but a request it cannot read (a timestamp that is not a number, a body that is
not UTF-8, a payload that is not a JSON object) makes it raise, and the server answers 500 with a
traceback in the log. This guard answers such requests itself and keeps Bolt's answers within what
Slack expects:

- 401 for anything not signed with our secret within Slack's 5-minute window (missing or non-numeric
  timestamp included); 400 for a signed body that cannot be read; 413 for an oversized one.
- The same request delivered twice (same signature, trigger_id or event_id within the window) is
  applied once: the repeat gets 200 with an empty body. A modal whose submission was accepted is not
  applied again when it arrives a second time (Slack resends after a slow answer; an agent presses
  Submit again after "trouble connecting").
- A request from a workspace other than ours (auth.test at start) is refused: a slash command gets an
  ephemeral one-liner, anything else 200 and is ignored; each foreign team is logged once.
- Private metadata of a submitted modal that is not ours to read gets a clear "form out of date" modal.
- Whatever fails inside, Slack gets an answer and the log gets one line: a slash command its words
  back, a modal an inline "submit again" (the text stays in the form), anything else an empty 200.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.context.ack import Ack
from slack_bolt.response import BoltResponse

from bot import texts
from bot.textutil import quote, safe_limited_echo

log = logging.getLogger("defuse.guard")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SIGNATURE_WINDOW_SECONDS = 300  # Slack's: older (or newer) timestamps are refused
MAX_BODY_BYTES = 1 << 20  # a big modal's state is tens of KB
REMEMBERED_KEYS = 50_000  # replay memory bound (one key is ~100 bytes)
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
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
    """Keys seen within a time window, oldest forgotten first, never more than `limit`."""

    def __init__(self, window: float, limit: int = REMEMBERED_KEYS, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.limit = limit
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._seen and (len(self._seen) > self.limit or next(iter(self._seen.values())) <= now):
            self._seen.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            self._forget_old(self.clock())
            return key in self._seen

    def add(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._seen.pop(key, None)
            self._seen[key] = now + self.window
            self._forget_old(now)

    def first_time(self, keys: list[str]) -> bool:
        """True (and remember them all) unless one of `keys` was seen: one atomic check-and-set."""
        with self._lock:
            now = self.clock()
            self._forget_old(now)
            if any(key in self._seen for key in keys):
                return False
            for key in keys:
                self._seen[key] = now + self.window
            self._forget_old(now)
            return True

    def __len__(self) -> int:
        return len(self._seen)


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


class _StickyAck(Ack):
    """Bolt resets an ack to "not acknowledged" when the listener raises right after ack() (the response
    is then lost and Slack shows an error). Once a listener has acked, the answer stays."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return self.__dict__.get("_response")

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None and self.__dict__.get("_response") is not None:
            return
        self.__dict__["_response"] = value


def protect_bolt(bolt: App) -> None:
    """Bolt-side half of the guard: acks that stick (works in Socket Mode too)."""

    @bolt.middleware
    def sticky_ack(context: Any, next: Callable[[], Any]) -> Any:  # Bolt passes `next` by that name
        context["ack"] = _StickyAck()
        return next()


class SlackGuard:
    """WSGI middleware in front of Bolt's handler for `path`; other paths pass straight through."""

    def __init__(
        self,
        inner: WsgiApp,
        *,
        signing_secret: str,
        team_id: str | None,
        enterprise_id: str | None = None,
        path: str = "/slack/events",
        clock: Callable[[], float] = time.time,
        view_wait_seconds: float = 2.0,
    ):
        self.inner = inner
        self.secret = signing_secret
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.path = path
        self.clock = clock
        self.view_wait_seconds = view_wait_seconds
        # A key stays for the signature window plus the allowed clock skew on either side.
        self.replays = Memory(2 * SIGNATURE_WINDOW_SECONDS + 60)
        self.accepted_views = Memory(24 * 3600.0)  # a modal can stay open for hours before its resend
        self._in_flight: set[str] = set()
        self._in_flight_done = threading.Condition()
        self._foreign_logged: set[str] = set()
        if not team_id:
            log.warning("this installation's team is not known (auth.test failed at start): requests from "
                        "other workspaces cannot be refused until a restart")

    # --- WSGI -----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "POST":
            return self.inner(environ, start_response)
        incoming: Incoming | None = None
        started: list[str] = []

        def tracked(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            started.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            body = self._read(environ)
            incoming, rewritten = self._verify_and_read(environ, body)
            return self._dispatch(environ, tracked, incoming, rewritten)
        except Refusal as refusal:
            log.info("refused a request to %s: %s (%s)", self.path, refusal.reason, refusal.status)
            return _answer(start_response, refusal.status, {"error": refusal.reason})
        except Exception as error:  # last resort: Slack gets an answer, the log one line
            log.error("request to %s failed: %s: %s", self.path, type(error).__name__, " ".join(str(error).split())[:200])
            if started:  # the answer is already on its way; nothing better can be said now
                return [b""]
            return self._failed(start_response, incoming)

    def _read(self, environ: dict[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise Refusal(400, "bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise Refusal(413, "body too large")
        stream = environ.get("wsgi.input")
        return stream.read(length) if stream is not None and length > 0 else b""

    def _verify_and_read(self, environ: dict[str, Any], body: bytes) -> tuple[Incoming, bytes | None]:
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "").strip()
        if not _TIMESTAMP_RE.match(timestamp):
            raise Refusal(401, "missing or non-numeric X-Slack-Request-Timestamp")
        if abs(self.clock() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            raise Refusal(401, "stale timestamp")
        sent = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        if not hmac.compare_digest(signature(self.secret, timestamp, body), sent):
            raise Refusal(401, "bad signature")
        incoming, rewritten = read_body(str(environ.get("CONTENT_TYPE") or ""), body)
        incoming.replay_keys.insert(0, f"sig:{sent}")
        new_body = rewritten if rewritten is not None else body
        environ["wsgi.input"] = io.BytesIO(new_body)  # Bolt reads the body again
        environ["CONTENT_LENGTH"] = str(len(new_body))
        if rewritten is not None:  # signed again with our own secret, so Bolt's own check still runs
            environ["HTTP_X_SLACK_SIGNATURE"] = signature(self.secret, timestamp, rewritten)
        return incoming, rewritten

    def _dispatch(self, environ: dict[str, Any], start_response: StartResponse, incoming: Incoming,
                  _rewritten: bytes | None) -> Iterable[bytes]:
        if self._foreign(incoming):
            if incoming.kind == "command":
                return _answer(start_response, 200, {"response_type": "ephemeral", "text": texts.OTHER_WORKSPACE})
            return _answer(start_response, 200, None)
        if not self.replays.first_time(incoming.replay_keys):
            log.info("ignored a redelivered %s request", incoming.kind)
            return _answer(start_response, 200, None)
        view = incoming.view
        if view is None:
            return self._inner(environ, start_response, incoming)
        if unreadable_metadata(view):
            log.info("a submitted modal (%s) carries metadata we did not write", view.get("callback_id"))
            return _answer(start_response, 200, {"response_action": "update", "view": out_of_date_view()})
        return self._submission(environ, start_response, incoming, view)

    def _foreign(self, incoming: Incoming) -> bool:
        if not self.team_id or incoming.kind == "ssl_check":
            return False
        team = incoming.team
        if team is None or team == self.team_id or self.team_id in incoming.authorized_teams:
            return False
        if self.enterprise_id and incoming.enterprise == self.enterprise_id:
            return False  # an org-wide install: every workspace of the organisation is ours
        if team not in self._foreign_logged and len(self._foreign_logged) < 1000:
            self._foreign_logged.add(team)
            log.warning("refusing requests from team %s: this installation is for team %s", team, self.team_id)
        return True

    def _submission(self, environ: dict[str, Any], start_response: StartResponse, incoming: Incoming,
                    view: dict[str, Any]) -> Iterable[bytes]:
        """One application per modal: a submission of a view that was accepted before is a repeat."""
        view_id = str(view.get("id") or "")
        if not view_id:
            return self._inner(environ, start_response, incoming)
        key = f"view:{view_id}"
        with self._in_flight_done:
            deadline = time.monotonic() + self.view_wait_seconds
            while key in self._in_flight and time.monotonic() < deadline:  # the first copy is still being answered
                self._in_flight_done.wait(max(0.0, deadline - time.monotonic()))
            if key in self.accepted_views or key in self._in_flight:
                log.info("ignored a second submission of modal %s (%s)", view_id, view.get("callback_id"))
                return _answer(start_response, 200, None)
            self._in_flight.add(key)
        status: list[str] = []
        try:
            chunks = list(self._inner(environ, _recording(start_response, status), incoming))
            if status and status[0].startswith("200") and _closes_modal(b"".join(chunks)):
                self.accepted_views.add(key)
            return chunks
        finally:
            with self._in_flight_done:
                self._in_flight.discard(key)
                self._in_flight_done.notify_all()

    def _inner(self, environ: dict[str, Any], start_response: StartResponse, incoming: Incoming) -> Iterable[bytes]:
        """Bolt's answer, unless it is a server error: then the same answer as any other failure."""
        status: list[str] = []
        headers: list[Any] = []

        def hold(code: str, response_headers: list[Any], exc_info: Any = None) -> Callable[[bytes], Any]:
            status.append(code)
            headers.append(response_headers)
            return lambda _data: None

        chunks = list(self.inner(environ, hold))
        if not status or int(status[0].split()[0]) >= 500:
            log.error("%s request: the listener failed before answering (%s)", incoming.kind, status[0] if status else "no answer")
            return self._failed(start_response, incoming)
        start_response(status[0], headers[0])
        return chunks

    def _failed(self, start_response: StartResponse, incoming: Incoming | None) -> Iterable[bytes]:
        if incoming is not None and incoming.kind == "command":
            echo = quote(safe_limited_echo(str(incoming.data.get("text") or ""), 2500))
            return _answer(start_response, 200, {"response_type": "ephemeral", "text": texts.REQUEST_FAILED.format(echo=echo)})
        view = incoming.view if incoming is not None else None
        block = first_input_block(view) if view else None
        if block:
            return _answer(start_response, 200, {"response_action": "errors", "errors": {block: texts.FORM_FAILED}})
        return _answer(start_response, 200, None)


def _recording(start_response: StartResponse, status: list[str]) -> StartResponse:
    def record(code: str, headers: list[Any], exc_info: Any = None) -> Any:
        status.append(code)
        return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

    return record


def _closes_modal(body: bytes) -> bool:
    """An empty ack or `clear` closes the modal; errors, update and push keep it open for another submit."""
    if not body.strip():
        return True
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("response_action") in (None, "clear")


def _answer(start_response: StartResponse, status: int, body: dict[str, Any] | None) -> list[bytes]:
    phrase = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 413: "Payload Too Large"}.get(status, "OK")
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [("Content-Length", str(len(payload)))]
    if body is not None:
        headers.append(("Content-Type", "application/json;charset=utf-8"))
    start_response(f"{status} {phrase}", headers)
    return [payload]
