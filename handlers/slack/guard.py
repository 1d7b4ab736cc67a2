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

import hmac
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.context.ack import Ack
from slack_bolt.response import BoltResponse

from bot import texts
from bot.core.textutil import quote, safe_limited_echo
from handlers.slack.incoming import (
    MAX_BODY_BYTES,
    SIGNATURE_WINDOW_SECONDS,
    TIMESTAMP_RE,
    Incoming,
    Memory,
    Refusal,
    first_input_block,
    out_of_date_view,
    read_body,
    signature,
    unreadable_metadata,
)

log = logging.getLogger("defuse.guard")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
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
        if not TIMESTAMP_RE.match(timestamp):
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
