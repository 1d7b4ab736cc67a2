"""A local stand-in for Slack's Web API, for end-to-end tests.

Runs a real HTTP server on 127.0.0.1 (standard library only) that answers like
Slack does: JSON bodies with ``ok``/``error``, HTTP 429 + Retry-After for rate
limits, Block Kit limit checks, trigger_id expiry, view hashes, response_url
use limits.  Point the app at it with ``WebClient(base_url=standin.url)``.

    standin = SlackStandIn().start()
    standin.add_channel("C1", "general")
    client = WebClient(token="xoxb-test", base_url=standin.url)
    client.chat_postMessage(channel="C1", text="hi")
    assert standin.messages("C1")[0]["text"] == "hi"
    standin.stop()
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
BLOCK_TYPES = {"section", "divider", "header", "context", "actions", "input", "image",
               "rich_text", "markdown", "video", "file"}
OPTION_ELEMENTS = {"static_select", "multi_static_select", "checkboxes", "radio_buttons", "overflow"}
MAX_TEXT = 40_000
RESPONSE_URL_USES = 5
APP_LEVEL_METHODS = {"apps.connections.open"}  # these take an app-level token (xapp-)


@dataclass
class Call:
    method: str
    args: dict
    time: float
    status: int
    response: dict


class SlackError(Exception):
    """Raised by method handlers; becomes {"ok": false, "error": ..., **extra}."""

    def __init__(self, error: str, status: int = 200, **extra):
        super().__init__(error)
        self.error, self.status, self.extra = error, status, extra


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _bypass_proxy_for_loopback() -> None:
    """slack_sdk picks up HTTP(S)_PROXY from the environment; make sure requests to
    127.0.0.1 never go through a proxy (urllib honours no_proxy at request time)."""
    for var in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(var, "").split(",") if h.strip()]
        if "127.0.0.1" not in hosts:
            os.environ[var] = ",".join(hosts + ["127.0.0.1", "localhost"])


# --------------------------------------------------------------------------- Block Kit
class _BlockChecker:
    """Collects Slack-style error strings: "<problem> [json-pointer:/blocks/0/text]"."""

    def __init__(self):
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def err(self, ptr: str, msg: str) -> None:
        self.errors.append(f"{msg} [json-pointer:{ptr}]")

    def maxlen(self, ptr, value, limit) -> None:
        if value is not None and not isinstance(value, str):
            self.err(ptr, "must be a string")
        elif value is not None and len(value) > limit:
            self.err(ptr, f"must be less than {limit + 1} characters")

    def text(self, ptr, obj, limit, plain_only=False, required=True) -> None:
        if obj is None:
            if required:
                self.err(ptr, "must provide an object")
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if not isinstance(obj, dict) or obj.get("type") not in kinds:
            self.err(ptr + "/type", "must be a valid enum value")
            return
        if not isinstance(obj.get("text"), str) or not obj["text"]:
            self.err(ptr + "/text", "must be more than 0 characters")
            return
        self.maxlen(ptr + "/text", obj["text"], limit)

    def items(self, ptr, value, limit, minimum=0) -> list:
        if not isinstance(value, list):
            self.err(ptr, "must be an array")
            return []
        if len(value) > limit:
            self.err(ptr, f"must be less than {limit + 1} items")
        elif len(value) < minimum:
            self.err(ptr, f"must be more than {minimum - 1} items")
        return value

    def blocks(self, ptr, blocks, limit) -> None:
        for i, block in enumerate(self.items(ptr, blocks, limit)):
            self.block(f"{ptr}/{i}", block)

    def block(self, p, b) -> None:
        if not isinstance(b, dict) or b.get("type") not in BLOCK_TYPES:
            self.err(p + "/type", "must be a valid enum value")
            return
        bid = b.get("block_id")
        if bid is not None:
            self.maxlen(p + "/block_id", bid, 255)
            if bid in self.block_ids:
                self.err(p + "/block_id", f"duplicate block_id {bid!r}")
            self.block_ids.add(bid)
        kind = b["type"]
        if kind == "section":
            if "text" not in b and "fields" not in b:
                self.err(p, "must define either `text` or `fields`")
            if "text" in b:
                self.text(p + "/text", b["text"], 3000)
            if "fields" in b:
                for i, f in enumerate(self.items(p + "/fields", b["fields"], 10, 1)):
                    self.text(f"{p}/fields/{i}", f, 2000)
            if "accessory" in b:
                self.element(p + "/accessory", b["accessory"])
        elif kind == "header":
            self.text(p + "/text", b.get("text"), 150, plain_only=True)
        elif kind == "context":
            for i, el in enumerate(self.items(p + "/elements", b.get("elements"), 10, 1)):
                if not (isinstance(el, dict) and el.get("type") == "image"):
                    self.text(f"{p}/elements/{i}", el, 3000)
        elif kind == "actions":
            for i, el in enumerate(self.items(p + "/elements", b.get("elements"), 25, 1)):
                self.element(f"{p}/elements/{i}", el)
        elif kind == "input":
            self.text(p + "/label", b.get("label"), 2000, plain_only=True)
            self.text(p + "/hint", b.get("hint"), 2000, plain_only=True, required=False)
            self.element(p + "/element", b.get("element"))
        elif kind == "image":
            if "image_url" not in b and "slack_file" not in b:
                self.err(p, "must provide either `image_url` or `slack_file`")
            self.maxlen(p + "/alt_text", b.get("alt_text", ""), 2000)
            self.text(p + "/title", b.get("title"), 2000, plain_only=True, required=False)

    def element(self, p, e) -> None:
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            self.err(p + "/type", "must be a valid enum value")
            return
        self.maxlen(p + "/action_id", e.get("action_id"), 255)
        self.text(p + "/placeholder", e.get("placeholder"), 150, plain_only=True, required=False)
        if e["type"] == "button":
            self.text(p + "/text", e.get("text"), 75, plain_only=True)
            self.maxlen(p + "/value", e.get("value"), 2000)
            self.maxlen(p + "/url", e.get("url"), 3000)
        if e["type"] in OPTION_ELEMENTS or "options" in e or "option_groups" in e:
            plain = e["type"] not in ("checkboxes", "radio_buttons")
            if "option_groups" in e:
                for g, group in enumerate(self.items(p + "/option_groups", e["option_groups"], 100)):
                    gp = f"{p}/option_groups/{g}"
                    self.text(gp + "/label", (group or {}).get("label"), 75, plain_only=True)
                    self.options(gp + "/options", (group or {}).get("options"), plain)
            elif "options" in e or e["type"] in ("checkboxes", "radio_buttons", "overflow"):
                self.options(p + "/options", e.get("options"), plain)

    def options(self, p, options, plain) -> None:
        for i, opt in enumerate(self.items(p, options, 100, 1)):
            if not isinstance(opt, dict):
                self.err(f"{p}/{i}", "must be an object")
                continue
            self.text(f"{p}/{i}/text", opt.get("text"), 75, plain_only=plain)
            self.maxlen(f"{p}/{i}/value", opt.get("value"), 150)


def _view_errors(view, allowed_types: tuple) -> list[str]:
    c = _BlockChecker()
    if not isinstance(view, dict):
        return ["[ERROR] missing required field: view"]
    if view.get("type") not in allowed_types:
        c.err("/view/type", "must be a valid enum value")
    if view.get("type") == "modal":
        c.text("/view/title", view.get("title"), 24, plain_only=True)
        c.text("/view/submit", view.get("submit"), 24, plain_only=True, required=False)
        c.text("/view/close", view.get("close"), 24, plain_only=True, required=False)
        blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and "submit" not in view:
            c.err("/view/submit", "must provide `submit` when blocks contain an input block")
    c.maxlen("/view/private_metadata", view.get("private_metadata"), 3000)
    c.maxlen("/view/callback_id", view.get("callback_id"), 255)
    c.maxlen("/view/external_id", view.get("external_id"), 255)
    c.blocks("/view/blocks", view.get("blocks", []), 100)
    return ["[ERROR] " + e for e in c.errors]


# --------------------------------------------------------------------------- HTTP plumbing
class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackStandIn/1.0"
    protocol_version = "HTTP/1.1"  # keeps connections open between calls, as Slack does

    def setup(self):
        super().setup()
        # Headers and body leave in two writes; on a kept connection Nagle would hold the body back until
        # the client's delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.standin._connections.add(self.connection)

    def finish(self):
        self.server.standin._connections.discard(self.connection)
        super().finish()

    def do_POST(self):
        self.server.standin._handle(self)

    do_GET = do_POST

    def log_message(self, *args):  # keep test output quiet
        pass

    def reply(self, status: int, body, headers: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            data, ctype = json.dumps(body).encode(), "application/json; charset=utf-8"
        else:
            data, ctype = str(body).encode(), "text/html"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


# --------------------------------------------------------------------------- the stand-in
class SlackStandIn:
    def __init__(self, bot_user_id="UBOT", team_id="T0001", *, bot_id="B0001", domain="example"):
        self.bot_user_id, self.team_id, self.bot_id, self.domain = bot_user_id, team_id, bot_id, domain
        self.trigger_ttl = 3.0          # seconds a trigger_id stays valid (Slack: 3 s)
        self.response_url_ttl = 1800.0  # Slack: 30 minutes, 5 uses
        self.url = self.root = ""
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._users: dict[str, dict] = {}
        self._channels: dict[str, dict] = {}
        self._delays: dict[str, float] = {}
        self._methods = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "apps.connections.open": self._apps_connections_open,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "usergroups.users.list": self._usergroups_users_list,
        }
        self.socket_mode = None  # a tests.socket_standin.SocketModeStandIn, set by its attach()
        self._usergroups: dict[str, list[str]] = {}
        self.add_user(bot_user_id, "standin-bot", is_bot=True)
        self.reset()

    # ---- lifecycle
    def start(self) -> SlackStandIn:
        _bypass_proxy_for_loopback()
        self._connections: set = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self
        self.root = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = self.root + "/api/"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="slack-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            for connection in list(self._connections):  # a stopped Slack answers nothing, kept connections too
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self) -> None:
        """Clear messages, calls, views, injections and delays; keep users and channels."""
        with self._lock:
            self._calls: list[Call] = []
            self._messages: dict[str, list[dict]] = {}
            self._ephemerals: list[dict] = []
            self._responses: list[dict] = []
            self._response_urls: dict[str, dict] = {}
            self._triggers: dict[str, dict] = {}
            self._views: dict[str, dict] = {}
            self._homes: dict[str, dict] = {}
            self._injections: dict[str, list[tuple]] = {}
            self._after_effects: dict[str, list[tuple]] = {}
            self._delays.clear()
            self._uploads: dict[str, dict] = {}  # file id -> filename, length, bytes, then channel

    # ---- workspace fixtures
    def add_channel(self, channel_id, name, *, is_private=False, bot_member=True, archived=False,
                    shared_with=(), org_shared=False, pending_shared=False, members=None) -> None:
        """`shared_with`: team ids of other organisations (Slack Connect: is_ext_shared, connected_team_ids);
        `org_shared`: shared across our own Enterprise org; `members`: user ids for conversations.members."""
        with self._lock:
            self._channels[channel_id] = {"id": channel_id, "name": name, "is_private": is_private,
                                          "is_im": False, "is_mpim": False, "is_archived": archived,
                                          "member": bot_member, "created": int(time.time()),
                                          "shared_with": list(shared_with), "org_shared": org_shared,
                                          "pending_shared": pending_shared, "members": list(members or [])}

    def add_mpim(self, channel_id, members, *, bot_member=True, flag_shared=True) -> None:
        """A group DM between `members` (the bot is in it if `bot_member`). With a stranger in it Slack flags
        it is_ext_shared; `flag_shared=False` leaves the flags off so only its members tell."""
        strangers = {self._users[u]["team_id"] for u in members if u in self._users and self._users[u]["is_stranger"]}
        self.add_channel(channel_id, "mpdm-" + "--".join(members) + "-1", is_private=True, bot_member=bot_member,
                         shared_with=sorted(strangers) if flag_shared else (),
                         members=list(members) + ([self.bot_user_id] if bot_member else []))
        with self._lock:
            self._channels[channel_id]["is_mpim"] = True

    def add_user(self, user_id, name, *, tz="America/New_York", is_bot=False, deleted=False,
                 real_name=None, team_id=None) -> None:
        """`team_id` other than the stand-in's own: someone from another organisation (is_stranger)."""
        with self._lock:
            team = team_id or self.team_id
            self._users[user_id] = {"id": user_id, "name": name, "real_name": real_name or name, "tz": tz,
                                    "is_bot": is_bot, "deleted": deleted, "team_id": team,
                                    "is_stranger": team != self.team_id}

    def add_usergroup(self, group_id, users) -> None:
        with self._lock:
            self._usergroups[group_id] = list(users)

    def add_message(self, channel_id, text, *, user, thread_ts=None, blocks=None) -> str:
        """Put a message written by someone else (e.g. a human) into a channel; returns its ts."""
        with self._lock:
            return self._store_message(channel_id, {"text": text, "blocks": blocks or [], "user": user,
                                                    "thread_ts": thread_ts})["ts"]

    def new_trigger_id(self) -> str:
        with self._lock:
            trigger = f"{next(self._ids)}.{int(time.time())}.{uuid.uuid4().hex[:16]}"
            self._triggers[trigger] = {"issued": time.monotonic(), "used": False}
            return trigger

    def new_response_url(self) -> str:
        with self._lock:
            key = uuid.uuid4().hex
            self._response_urls[key] = {"issued": time.monotonic(), "uses": 0}
            return f"{self.root}/response/{key}"

    # ---- failure injection
    def _inject(self, method, times, entry, after=0) -> None:
        with self._lock:
            self._injections.setdefault(method, []).extend([None] * after + [entry] * times)

    def fail_next(self, method: str, error: str, times: int = 1, *, after: int = 0, **extra) -> None:
        """The next `times` calls (after `after` answered normally) are refused with `error`."""
        self._inject(method, times, (200, {}, {"ok": False, "error": error, **extra}), after)

    def rate_limit_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        self._inject(method, times, (429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}))

    def server_error_next(self, method: str, times: int = 1, status: int = 500) -> None:
        self._inject(method, times, (status, {}, {"ok": False, "error": "internal_error"}))

    def take_then_fail_next(self, method: str, times: int = 1, status: int = 500, *, after: int = 0) -> None:
        """The call takes effect (the message is posted), then the answer is an HTTP error; `after` calls that
        succeed are answered normally first."""
        with self._lock:
            self._after_effects.setdefault(method, []).extend([("pass", 0)] * after + [("fail", status)] * times)

    def take_then_delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The call takes effect at once; the answer only comes `seconds` later (past a client timeout)."""
        with self._lock:
            self._after_effects.setdefault(method, []).extend([("late", seconds)] * times)

    def set_delay(self, method: str, seconds: float) -> None:
        with self._lock:
            self._delays[method] = seconds

    # ---- inspection
    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel_id) -> list[dict]:
        """All messages in the channel (top-level and thread replies), oldest first.
        Every message has a "thread_ts" key: None for plain top-level messages, its own
        ts for a thread parent, the parent's ts for replies."""
        with self._lock:
            return copy.deepcopy(self._messages.get(channel_id, []))

    def thread(self, channel_id, thread_ts) -> list[dict]:
        return [m for m in self.messages(channel_id) if m["thread_ts"] == thread_ts and m["ts"] != thread_ts]

    def dm_messages(self, user_id) -> list[dict]:
        return self.messages(self._im_id(user_id))

    def ephemerals(self, channel_id=None, user_id=None) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals
                    if channel_id in (None, e["channel"]) and user_id in (None, e["user"])]

    def responses(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._responses)

    def views(self) -> dict[str, dict]:
        with self._lock:
            return {vid: copy.deepcopy(v) for vid, v in self._views.items() if v["type"] == "modal"}

    def files(self, channel_id=None) -> list[dict]:
        """Files whose upload was completed (optionally shared into channel_id), oldest first:
        id, filename, title, content (the uploaded bytes), channel, initial_comment."""
        with self._lock:
            done = [copy.deepcopy(f) for f in self._uploads.values() if f.get("completed")]
        return [f for f in done if channel_id in (None, f.get("channel"))]

    def home(self, user_id) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._homes.get(user_id))

    def wait_for(self, predicate, timeout=5.0):
        """Poll predicate() every 20 ms until it returns something truthy and return that.
        IndexError/KeyError inside the predicate count as "not yet"."""
        deadline, last = time.monotonic() + timeout, None
        while True:
            try:
                last = predicate()
            except (IndexError, KeyError) as exc:
                last = exc
            else:
                if last:
                    return last
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        recent = ", ".join(f"{c.method}->{c.status}:{c.response.get('error', 'ok')}" for c in self.calls[-10:])
        name = getattr(predicate, "__qualname__", repr(predicate))
        raise AssertionError(f"wait_for({name}) timed out after {timeout}s; last value {last!r}; "
                             f"last calls: [{recent or 'none'}]")

    # ---- request handling
    def _handle(self, req: _Handler) -> None:
        parts = urlsplit(req.path)
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if parts.path.startswith("/response/"):
            return self._handle_response_url(req, parts.path.rsplit("/", 1)[-1], body)
        if parts.path.startswith("/upload/"):
            return self._handle_upload(req, parts.path.rsplit("/", 1)[-1], body)
        if not parts.path.startswith("/api/"):
            return req.reply(404, "not found")
        method = parts.path[len("/api/"):]
        with self._lock:
            delay = self._delays.get(method, 0)
        if delay:
            time.sleep(delay)
        args, status, headers = {}, 200, {}
        try:
            args, form_token = self._parse_args(parts.query, req.headers, body)
            status, headers, payload = self._dispatch(method, args, form_token, req.headers)
        except SlackError as e:
            status, payload = e.status, {"ok": False, "error": e.error, **e.extra}
        except Exception as e:  # a bug in the stand-in: make it visible to the test
            status, payload = 500, {"ok": False, "error": "standin_bug", "detail": repr(e)}
        effect = None
        with self._lock:
            queue = self._after_effects.get(method)
            if queue and status == 200 and payload.get("ok"):
                effect = queue.pop(0)
            if effect and effect[0] == "fail":
                payload = {"ok": False, "error": "internal_error", "taken": True}
                status = effect[1]
            self._calls.append(Call(method, args, time.time(), status, payload))
        if effect and effect[0] == "late":
            time.sleep(effect[1])
        try:
            req.reply(status, payload, headers)
        except OSError:  # the client gave up waiting
            pass

    @staticmethod
    def _parse_args(query, headers, body) -> tuple[dict, str | None]:
        args = dict(parse_qsl(query, keep_blank_values=True))
        token = args.pop("token", None)
        ctype = headers.get_content_type()
        if body and ctype == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(data, dict):
                raise SlackError("invalid_json")
            data.pop("token", None)  # Slack ignores tokens inside JSON bodies
            args.update(data)
        elif body and ctype == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            token = form.pop("token", token)
            args.update(form)
        for key in JSON_FIELDS:
            if isinstance(args.get(key), str) and args[key].strip():
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass  # left as a string; the handler reports the format error
        return args, token

    def _dispatch(self, method, args, form_token, headers) -> tuple[int, dict, dict]:
        with self._lock:
            queue = self._injections.get(method)
            entry = queue.pop(0) if queue else None
            if entry is not None:
                status, extra_headers, payload = entry
                return status, dict(extra_headers), copy.deepcopy(payload)
        handler = self._methods.get(method)
        if handler is None:
            raise SlackError("unknown_method", status=404)
        auth = headers.get("Authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else form_token
        if not token:
            raise SlackError("not_authed")
        if method in APP_LEVEL_METHODS:
            if not token.startswith("xapp-"):
                raise SlackError("not_allowed_token_type")
            if self.socket_mode is not None and self.socket_mode.is_refused(token):
                raise SlackError("invalid_auth")
        elif not token.startswith(("xoxb-", "xoxp-")):
            raise SlackError("invalid_auth")
        with self._lock:
            return 200, {}, {"ok": True, **handler(args)}

    def _handle_response_url(self, req: _Handler, key: str, body: bytes) -> None:
        with self._lock:
            entry = self._response_urls.get(key)
            if entry is None:
                return req.reply(404, "no_service")
            if time.monotonic() - entry["issued"] > self.response_url_ttl:
                return req.reply(404, "expired_url")
            if entry["uses"] >= RESPONSE_URL_USES:
                return req.reply(404, "used_url")
            try:
                if req.headers.get_content_type() == "application/json":
                    payload = json.loads(body)
                else:  # legacy form post: payload=<json>
                    payload = json.loads(dict(parse_qsl(body.decode())).get("payload", ""))
            except ValueError:
                return req.reply(400, "invalid_payload")
            if not isinstance(payload, dict):
                return req.reply(400, "invalid_payload")
            if not _truthy(payload.get("delete_original", False)):
                if not payload.get("text") and not payload.get("blocks") and not payload.get("attachments"):
                    return req.reply(400, "no_text")
                checker = _BlockChecker()
                checker.blocks("/blocks", payload.get("blocks") or [], 50)
                if checker.errors:
                    return req.reply(400, "invalid_blocks")
            entry["uses"] += 1
            self._responses.append({**payload, "response_url": f"{self.root}/response/{key}"})
        req.reply(200, "ok")

    def _handle_upload(self, req: _Handler, file_id: str, body: bytes) -> None:
        """The upload URL from files.getUploadURLExternal: takes the file's bytes (POST), once."""
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None or upload.get("content") is not None or req.command != "POST":
                return req.reply(404, "not found")
            upload["content"] = body
        req.reply(200, "OK - " + str(len(body)))

    # ---- state helpers (called with the lock held)
    def _new_ts(self) -> str:
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _im_id(self, user_id) -> str:
        return "D" + user_id

    def _ensure_im(self, user_id) -> dict:
        im_id = self._im_id(user_id)
        if im_id not in self._channels:
            self._channels[im_id] = {"id": im_id, "name": im_id, "is_private": True, "is_im": True,
                                     "is_archived": False, "member": True, "user": user_id,
                                     "created": int(time.time())}
        return self._channels[im_id]

    def _lookup_channel(self, channel_id) -> dict:
        """A channel the bot can see (private channels only if it is a member)."""
        channel = self._channels.get(channel_id or "")
        if channel is None and (channel_id or "").startswith("D") and channel_id[1:] in self._users:
            channel = self._ensure_im(channel_id[1:])
        if channel is None or (channel["is_private"] and not channel["member"]):
            raise SlackError("channel_not_found")
        return channel

    def _postable_channel(self, channel_id) -> dict:
        """Resolve chat.post* targets: channel id, #name, IM id, or a user id (→ bot's IM)."""
        channel_id = channel_id or ""
        if channel_id[:1] in ("U", "W") and channel_id not in self._channels:
            user = self._users.get(channel_id)
            if user is None:
                raise SlackError("channel_not_found")
            if user["deleted"]:
                raise SlackError("user_disabled")
            return self._ensure_im(channel_id)
        by_name = {c["name"]: cid for cid, c in self._channels.items() if not c["is_im"]}
        channel = self._lookup_channel(by_name.get(channel_id.lstrip("#"), channel_id))
        if channel["is_archived"]:
            raise SlackError("is_archived")
        if not channel["member"]:
            raise SlackError("not_in_channel")
        return channel

    def _find_message(self, channel_id, ts) -> dict:
        for message in self._messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def _store_message(self, channel_id, fields: dict) -> dict:
        ts = self._new_ts()
        message = {"type": "message", "ts": ts, "text": "", "blocks": [], "thread_ts": None, "user": None,
                   "metadata": None, **fields}
        messages = self._messages.setdefault(channel_id, [])
        parent = next((m for m in messages if m["ts"] == message["thread_ts"]), None)
        if parent is not None:
            message["thread_ts"] = parent["thread_ts"] or parent["ts"]  # replying to a reply joins the thread
            root = self._find_message(channel_id, message["thread_ts"])
            root["thread_ts"] = root["ts"]
            root["reply_count"] = root.get("reply_count", 0) + 1
            root["latest_reply"] = ts
            root["reply_users"] = list(dict.fromkeys([*root.get("reply_users", []), message.get("user")]))
        messages.append(message)
        return message

    @staticmethod
    def _public(message: dict) -> dict:
        return {k: v for k, v in message.items() if v is not None and k != "reply_broadcast"}

    @staticmethod
    def _check_content(args, *, require=True) -> tuple[str, list]:
        text, blocks = str(args.get("text") or ""), args.get("blocks")
        if blocks in (None, ""):
            blocks = []
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        if require and not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        checker = _BlockChecker()
        checker.blocks("/blocks", blocks, 50)
        if checker.errors:
            raise SlackError("invalid_blocks", errors=checker.errors,
                             response_metadata={"messages": ["[ERROR] " + e for e in checker.errors]})
        return text, blocks

    @staticmethod
    def _check_metadata(metadata):
        if metadata in (None, ""):
            return None
        if not isinstance(metadata, dict):
            raise SlackError("invalid_metadata_format")
        if not isinstance(metadata.get("event_type"), str) or not isinstance(metadata.get("event_payload"), dict):
            raise SlackError("invalid_metadata_schema")
        return metadata

    def _channel_object(self, c: dict) -> dict:
        shared_with = c.get("shared_with") or []
        if c["is_im"]:
            other = self._users[c["user"]]
            shared_with = [other["team_id"]] if other["is_stranger"] else []
        obj = {"id": c["id"], "created": c["created"], "is_archived": c["is_archived"], "is_im": c["is_im"],
               "is_mpim": c.get("is_mpim", False), "is_private": c["is_private"],
               "is_ext_shared": bool(shared_with), "is_org_shared": bool(c.get("org_shared")),
               "is_shared": bool(shared_with) or bool(c.get("org_shared")),
               "is_pending_ext_shared": bool(c.get("pending_shared"))}
        if shared_with:
            obj["connected_team_ids"] = [self.team_id, *shared_with]
        if c["is_im"]:
            return {**obj, "user": c["user"], "is_user_deleted": self._users[c["user"]]["deleted"]}
        return {**obj, "name": c["name"], "is_channel": not c["is_private"] and not c.get("is_mpim"),
                "is_group": c["is_private"] and not c.get("is_mpim"), "is_member": c["member"], "is_general": False}

    # ---- Web API methods (called with the lock held; return the fields besides "ok")
    def _auth_test(self, args):
        return {"url": f"https://{self.domain}.slack.com/", "team": "Stand-in Workspace",
                "user": self._users[self.bot_user_id]["name"], "team_id": self.team_id,
                "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False}

    def _chat_post_message(self, args):
        channel = self._postable_channel(args.get("channel"))
        text, blocks = self._check_content(args)
        metadata = self._check_metadata(args.get("metadata"))
        message = self._store_message(channel["id"], {
            "text": text, "blocks": blocks, "user": self.bot_user_id, "bot_id": self.bot_id,
            "thread_ts": args.get("thread_ts") or None, "metadata": metadata,
            "reply_broadcast": _truthy(args.get("reply_broadcast", False))})
        return {"channel": channel["id"], "ts": message["ts"], "message": self._public(message)}

    def _chat_update(self, args):
        channel = self._lookup_channel(args.get("channel"))
        message = self._find_message(channel["id"], args.get("ts"))
        if message["user"] != self.bot_user_id:
            raise SlackError("cant_update_message")
        if not any(args.get(k) not in (None, "") for k in ("text", "blocks", "attachments", "metadata")):
            raise SlackError("no_text")
        text, blocks = self._check_content(args, require=False)
        if "text" in args:
            message["text"] = text
        if "blocks" in args:
            message["blocks"] = blocks
        if args.get("metadata"):
            message["metadata"] = self._check_metadata(args["metadata"])
        message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {"channel": channel["id"], "ts": message["ts"], "text": message["text"],
                "message": self._public(message)}

    def _chat_delete(self, args):
        channel = self._lookup_channel(args.get("channel"))
        message = self._find_message(channel["id"], args.get("ts"))
        if message["user"] != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self._messages[channel["id"]].remove(message)
        if message["thread_ts"] not in (None, message["ts"]):
            for parent in self._messages[channel["id"]]:
                if parent["ts"] == message["thread_ts"]:
                    parent["reply_count"] = max(parent.get("reply_count", 1) - 1, 0)
        return {"channel": channel["id"], "ts": message["ts"]}

    def _chat_post_ephemeral(self, args):
        channel = self._postable_channel(args.get("channel"))
        user = args.get("user")
        if user not in self._users:
            raise SlackError("user_not_found")
        text, blocks = self._check_content(args)
        ts = self._new_ts()
        self._ephemerals.append({"channel": channel["id"], "user": user, "text": text, "blocks": blocks,
                                 "thread_ts": args.get("thread_ts") or None, "message_ts": ts})
        return {"message_ts": ts}

    def _chat_get_permalink(self, args):
        channel = self._lookup_channel(args.get("channel"))
        message = self._find_message(channel["id"], args.get("message_ts"))
        link = f"https://{self.domain}.slack.com/archives/{channel['id']}/p{message['ts'].replace('.', '')}"
        if message["thread_ts"] not in (None, message["ts"]):
            link += f"?thread_ts={message['thread_ts']}&cid={channel['id']}"
        return {"channel": channel["id"], "permalink": link}

    def _conversations_join(self, args):
        channel = self._channels.get(args.get("channel") or "")
        if channel is None:
            raise SlackError("channel_not_found")
        if channel["is_private"]:  # private channels and IMs need an invitation
            raise SlackError("method_not_supported_for_channel_type")
        if channel["is_archived"]:
            raise SlackError("is_archived")
        already = channel["member"]
        channel["member"] = True
        result = {"channel": self._channel_object(channel)}
        if already:
            result.update(warning="already_in_channel", response_metadata={"warnings": ["already_in_channel"]})
        return result

    def _conversations_open(self, args):
        if args.get("channel"):
            channel = self._lookup_channel(args["channel"])
            users = [channel.get("user")]
        else:
            users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_supported_by_standin", detail="multi-person DMs are not simulated")
        if users[0] not in self._users or users[0] == self.bot_user_id:
            raise SlackError("user_not_found")
        already = self._im_id(users[0]) in self._channels
        channel = self._ensure_im(users[0])
        body = self._channel_object(channel) if _truthy(args.get("return_im", False)) else {"id": channel["id"]}
        return {"channel": body, **({"no_op": True, "already_open": True} if already else {})}

    def _conversations_info(self, args):
        return {"channel": self._channel_object(self._lookup_channel(args.get("channel")))}

    def _conversations_members(self, args):
        """Members of a conversation the bot can see (pages of `limit`, like Slack's cursor)."""
        channel = self._lookup_channel(args.get("channel"))
        if channel["is_im"]:
            members = [channel["user"], self.bot_user_id]
        else:
            members = channel.get("members") or ([self.bot_user_id] if channel["member"] else [])
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = members[start:start + limit]
        more = start + limit < len(members)
        return {"members": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conversations_history(self, args):
        """Top-level messages newest first between `oldest` and `latest` (`inclusive` takes the bounds
        too), `limit` per page with `has_more` and a cursor; metadata only with include_all_metadata."""
        channel = self._lookup_channel(args.get("channel"))
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        inclusive = _truthy(args.get("inclusive", False))
        limit = int(args.get("limit") or 100)
        before = float(args.get("cursor") or "inf")  # the cursor is the ts the last page ended at
        want_meta = _truthy(args.get("include_all_metadata"))
        window = []
        for message in reversed(self._messages.get(channel["id"], [])):
            ts = float(message["ts"])
            if message["thread_ts"] not in (None, message["ts"]):
                continue
            if ts < oldest or ts > latest or ts >= before or (not inclusive and ts in (oldest, latest)):
                continue
            item = {k: v for k, v in message.items() if k != "metadata" or want_meta}
            if not want_meta or not message.get("metadata"):
                item.pop("metadata", None)
            window.append(copy.deepcopy(item))
        page = window[:limit]
        more = len(window) > limit
        result = {"messages": page, "has_more": more, "pin_count": 0}
        if more:
            result["response_metadata"] = {"next_cursor": page[-1]["ts"]}
        return result

    def _conversations_replies(self, args):
        """A thread, parent first then replies oldest first; metadata only with include_all_metadata."""
        channel = self._lookup_channel(args.get("channel"))
        parent = self._find_message(channel["id"], args.get("ts"))
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        want_meta = _truthy(args.get("include_all_metadata"))
        root = parent["thread_ts"] or parent["ts"]
        found = []
        for message in self._messages.get(channel["id"], []):
            if message["ts"] != root and (message["thread_ts"] != root or float(message["ts"]) <= oldest):
                continue
            item = {k: v for k, v in message.items() if k != "metadata" or (want_meta and v)}
            found.append(copy.deepcopy(item))
        return {"messages": found[:limit], "has_more": len(found) > limit}

    def _users_info(self, args):
        user = self._users.get(args.get("user") or "")
        if user is None:
            raise SlackError("user_not_found")
        now = datetime.now(ZoneInfo(user["tz"]))
        return {"user": {
            "id": user["id"], "team_id": user["team_id"], "is_stranger": user["is_stranger"],
            "name": user["name"], "real_name": user["real_name"],
            "deleted": user["deleted"], "is_bot": user["is_bot"], "is_admin": False, "tz": user["tz"],
            "tz_label": now.tzname(), "tz_offset": int(now.utcoffset().total_seconds()),
            "profile": {"display_name": user["name"], "real_name": user["real_name"],
                        "real_name_normalized": user["real_name"]}}}

    def _validate_view(self, view, allowed_types) -> dict:
        if isinstance(view, str) or view is None:
            raise SlackError("invalid_arguments",
                             response_metadata={"messages": ["[ERROR] missing or malformed field: view"]})
        errors = _view_errors(view, allowed_types)
        if errors:
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        return view

    def _use_trigger(self, trigger_id, view) -> None:
        trigger = self._triggers.get(trigger_id or "")
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger["used"]:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger["issued"] > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        self._validate_view(view, ("modal",))
        external_id = view.get("external_id")
        if external_id and any(v.get("external_id") == external_id for v in self._views.values()):
            raise SlackError("duplicate_external_id")
        trigger["used"] = True

    def _build_view(self, view, *, view_id=None, root_view_id=None, previous_view_id=None) -> dict:
        view_id = view_id or f"V{next(self._ids):09d}"
        built = {"type": view["type"], "blocks": [], "private_metadata": "", "callback_id": "",
                 "external_id": "", "clear_on_close": False, "notify_on_close": False,
                 **copy.deepcopy(view),
                 "id": view_id, "team_id": self.team_id, "state": {"values": {}},
                 "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
                 "root_view_id": root_view_id or view_id, "previous_view_id": previous_view_id,
                 "app_id": "A0001", "bot_id": self.bot_id}
        self._views[view_id] = built
        return built

    def _views_open(self, args):
        self._use_trigger(args.get("trigger_id"), args.get("view"))
        return {"view": copy.deepcopy(self._build_view(args["view"]))}

    def _views_push(self, args):
        self._use_trigger(args.get("trigger_id"), args.get("view"))
        return {"view": copy.deepcopy(self._build_view(args["view"]))}

    def _views_update(self, args):
        if args.get("view_id"):
            current = self._views.get(args["view_id"])
        else:
            current = next((v for v in self._views.values()
                            if args.get("external_id") and v.get("external_id") == args["external_id"]), None)
        if current is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._validate_view(args.get("view"), (current["type"],))
        if current.get("external_id") and "external_id" not in view:
            view = {**view, "external_id": current["external_id"]}  # the view keeps its external_id
        built = self._build_view(view, view_id=current["id"], root_view_id=current["root_view_id"],
                                 previous_view_id=current["previous_view_id"])
        for user_id, home in list(self._homes.items()):
            if home["id"] == built["id"]:
                self._homes[user_id] = built
        return {"view": copy.deepcopy(built)}

    def _apps_connections_open(self, args):
        if self.socket_mode is None:  # no Socket Mode server in this test: as before, unknown
            raise SlackError("unknown_method", status=404)
        return {"url": self.socket_mode.issue_url()}

    def _views_publish(self, args):
        user_id = args.get("user_id")
        if user_id not in self._users:
            raise SlackError("user_not_found")
        view = self._validate_view(args.get("view"), ("home",))
        current = self._homes.get(user_id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        built = self._build_view(view, view_id=current["id"] if current else None)
        self._homes[user_id] = built
        return {"view": copy.deepcopy(built)}

    # ---- files and user groups
    def _files_get_upload_url(self, args):
        filename, length = args.get("filename"), str(args.get("length") or "")
        if not filename or not length.isdigit():
            raise SlackError("invalid_arguments")
        file_id = f"F{next(self._ids):08d}"
        self._uploads[file_id] = {"id": file_id, "filename": filename, "length": int(length), "content": None}
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args):
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                raise SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel = args.get("channel_id") or None
        if channel:
            self._postable_channel(channel)
        for item in files:
            upload = self._uploads.get((item or {}).get("id", ""))
            if upload is None or upload.get("completed"):
                raise SlackError("file_not_found")
            if upload["content"] is None or len(upload["content"]) != upload["length"]:
                raise SlackError("file_upload_incomplete")  # stand-in's name: bytes missing or length differs
        shared = []
        for item in files:
            upload = self._uploads[item["id"]]
            upload.update(completed=True, title=item.get("title") or upload["filename"], channel=channel,
                          initial_comment=args.get("initial_comment"))
            shared.append({"id": upload["id"], "name": upload["filename"], "title": upload["title"],
                           "size": upload["length"]})
        if channel:
            self._store_message(channel, {"text": args.get("initial_comment") or "", "blocks": [], "user": self.bot_user_id,
                                          "thread_ts": args.get("thread_ts") or None, "files": copy.deepcopy(shared)})
        return {"files": shared}

    def _usergroups_users_list(self, args):
        group = args.get("usergroup") or ""
        if group not in self._usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self._usergroups[group])}
