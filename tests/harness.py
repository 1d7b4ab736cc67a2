"""End-to-end harness: run `python app.py` for real and talk to it the way Slack does.

`AppProcess` starts the app as a subprocess against the Slack stand-in; `SlackSender` sends
signed slash commands, interactivity payloads and events to it over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: bytes
    elapsed: float

    @property
    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode()


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 10) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=timeout) as response:
            return Reply(response.status, response.read(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), time.perf_counter() - started)


class AppProcess:
    """`python app.py` on a free port, pointed at the stand-in (HTTP mode; Socket Mode with
    SLACK_APP_TOKEN set, where PORT serves only /healthz). Pass NAME=None to leave a variable unset."""

    def __init__(self, standin: Any, database_url: str, tmp: Path, *, script: Path | None = None, **env: str | None):
        self.script = script or ROOT / "app.py"  # benchmarks also run bench/bare_app.py or another checkout's app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"app-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": standin.url,
            "PORT": str(self.port),
            "DATABASE_URL": database_url,
            "FOLLOW_UP_WORKING_HOURS": "off",
            "SCHEDULER_TICK_SECONDS": "0.2",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.env = {k: v for k, v in self.env.items() if v is not None}  # None: leave the variable unset
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> AppProcess:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script)], cwd=self.tmp, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if http("GET", self.url + "/healthz", timeout=1).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"app did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest}


def state_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The view.state.values entry Slack sends for an element of this type holding `value`."""
    kind = element["type"]
    if kind in ("static_select", "radio_buttons"):
        option = next((o for o in element.get("options", []) if o["value"] == value), None)
        if value is not None and option is None:
            option = {"value": value, "text": {"type": "plain_text", "text": str(value)}}
        return {"type": kind, "selected_option": option}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    if kind == "channels_select":
        return {"type": kind, "selected_channel": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": [{"value": v} for v in value or []]}
    return {"type": kind, "value": value}


class SlackSender:
    """Builds and signs requests as Slack would send them to the app."""

    def __init__(self, app_url: str, standin: Any, team: str = "T0001"):
        self.url = app_url + "/slack/events"
        self.standin = standin
        self.team = team

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Reply:
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        return http("POST", self.url, body, all_headers)

    def form(self, fields: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        return self.post(urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded", headers)

    def interactive(self, payload: dict[str, Any]) -> Reply:
        return self.form({"payload": json.dumps(payload)})

    # --- slash command ---------------------------------------------------------------------
    def command(self, text: str, *, user: str = "UAGENT", channel: str = "CSUPPORT", command: str = "/angry") -> Reply:
        self.last_response_url = self.standin.new_response_url()
        self.last_trigger_id = self.standin.new_trigger_id()
        return self.form(
            {
                "token": "legacy-verification-token",
                "team_id": self.team,
                "team_domain": "example",
                "channel_id": channel,
                "channel_name": "support",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0DEFUSE",
                "response_url": self.last_response_url,
                "trigger_id": self.last_trigger_id,
            }
        )

    # --- interactivity ---------------------------------------------------------------------
    def _base(self, kind: str, user: str) -> dict[str, Any]:
        return {
            "type": kind,
            "team": {"id": self.team, "domain": "example"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team},
            "api_app_id": "A0DEFUSE",
            "token": "legacy-verification-token",
            "trigger_id": self.standin.new_trigger_id(),
        }

    def click(self, message: dict[str, Any], action_id: str, value: str | None = None, *, user: str = "UAGENT",
              channel: str | None = None) -> Reply:
        """Press a button found in `message` (as stored by the stand-in) by action_id and optional value."""
        for block in message.get("blocks") or []:
            elements = block.get("elements") or ([block["accessory"]] if block.get("accessory") else [])
            for element in elements:
                if element.get("action_id") == action_id and (value is None or element.get("value") == value):
                    return self.press(message, block, element, user=user, channel=channel)
        raise AssertionError(f"no button {action_id}={value} in message: {json.dumps(message.get('blocks'))[:2000]}")

    def press(self, message: dict[str, Any], block: dict[str, Any], element: dict[str, Any], *, user: str,
              channel: str | None) -> Reply:
        payload = self._base("block_actions", user)
        channel_id = channel or message.get("channel")
        payload.update(
            {
                "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel_id, "is_ephemeral": False},
                "channel": {"id": channel_id, "name": "support"},
                "message": {"ts": message["ts"], "text": message.get("text"), "blocks": message.get("blocks")},
                "response_url": self.standin.new_response_url(),
                "actions": [
                    {
                        "type": element.get("type", "button"),
                        "action_id": element["action_id"],
                        "block_id": block.get("block_id", "b"),
                        "value": element.get("value"),
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )
        self.last_trigger_id = payload["trigger_id"]
        return self.interactive(payload)

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str = "UAGENT") -> Reply:
        """Submit a modal (as stored by the stand-in) with {block_id: value} for its inputs."""
        state: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            state[block["block_id"]] = {element.get("action_id", "value"): state_value(element, value)}
        payload = self._base("view_submission", user)
        payload["view"] = {**view, "state": {"values": state}}
        payload["response_urls"] = []
        return self.interactive(payload)

    def message_shortcut(self, callback_id: str, *, channel: str, message: dict[str, Any], user: str = "UAGENT") -> Reply:
        payload = self._base("message_action", user)
        payload.update(
            {
                "callback_id": callback_id,
                "channel": {"id": channel, "name": "support"},
                "message": message,
                "message_ts": message["ts"],
                "response_url": self.standin.new_response_url(),
            }
        )
        self.last_trigger_id = payload["trigger_id"]
        return self.interactive(payload)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None) -> Reply:
        body = {
            "token": "legacy-verification-token",
            "team_id": self.team,
            "api_app_id": "A0DEFUSE",
            "type": "event_callback",
            "event_id": event_id or ("Ev" + uuid.uuid4().hex[:10].upper()),
            "event_time": int(time.time()),
            "event": event,
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(body).encode(), "application/json", headers)
