"""Test doubles every unit test shares: a clock the test moves, and a fake of the Slack port that records
what the domain and the listeners asked of Slack (bot.core.ports.Slack; answers like Slack, fails on demand)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.ports import Message, Posted, SlackFailure, Tag


class Clock:
    """`clock()` is now; `advance(minutes=5)` moves it. No test waits for real time to pass."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 6, 3, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Sent:
    method: str
    channel: str
    message: Message | None = None
    thread_ts: str | None = None
    ts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    """The Slack port in memory. `fail("post", "not_in_channel")` makes the next post fail like Slack would."""

    def __init__(self, team: str = "T0001") -> None:
        self.sent: list[Sent] = []
        self.views: list[tuple[str, Mapping[str, Any]]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[SlackFailure]] = {}
        self._ts = itertools.count(1)
        self._team = team

    # --- arranging ---------------------------------------------------------------------------
    def fail(self, method: str, code: str, *, ambiguous: bool = False, retry_after: float | None = None) -> None:
        self._failures.setdefault(method, []).append(SlackFailure(code, ambiguous=ambiguous, retry_after=retry_after,
                                                                  method=method))

    def _maybe_fail(self, method: str) -> None:
        queued = self._failures.get(method)
        if queued:
            raise queued.pop(0)

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    # --- reading what happened ------------------------------------------------------------------
    def posts(self, channel: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.method == "post" and (channel is None or s.channel == channel)]

    def texts(self, method: str = "post") -> list[str]:
        return [s.message.text for s in self.sent if s.method == method and s.message is not None]

    # --- the port ------------------------------------------------------------------------------
    def post(self, channel: str, message: Message, *, thread_ts: str | None = None, tag: Tag | None = None,
             once: bool = False) -> Posted:
        self._maybe_fail("post")
        ts = self._next_ts()
        landed = f"D{channel}" if channel.startswith(("U", "W")) else channel
        self.sent.append(Sent("post", landed, message, thread_ts, ts, {"tag": tag, "once": once, "to": channel}))
        return Posted(landed, ts)

    def update(self, channel: str, ts: str, message: Message) -> None:
        self._maybe_fail("update")
        self.sent.append(Sent("update", channel, message, ts=ts))

    def ephemeral(self, channel: str, user: str, message: Message) -> None:
        self._maybe_fail("ephemeral")
        self.sent.append(Sent("ephemeral", channel, message, extra={"user": user}))

    def respond(self, response_url: str, message: Message, *, replace_original: bool = False) -> None:
        self._maybe_fail("respond")
        self.sent.append(Sent("respond", response_url, message, extra={"replace_original": replace_original}))

    def join(self, channel: str) -> bool:
        self.sent.append(Sent("join", channel))
        return channel.startswith("C")

    def permalink(self, channel: str, ts: str, *, top_level: bool = False) -> str | None:
        return f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def open_dm(self, user: str) -> str:
        self._maybe_fail("open_dm")
        return f"D{user}"

    def upload(self, channel: str, files: Sequence[tuple[str, str]], *, comment: str) -> list[str]:
        self._maybe_fail("upload")
        ids = [f"F{len(self.sent):05d}{n}" for n in range(len(files))]
        self.sent.append(Sent("upload", channel, Message(comment), extra={"files": list(files), "file_ids": ids}))
        return ids

    def team_id(self) -> str | None:
        return self._team

    def conversation(self, channel: str) -> Mapping[str, Any]:
        self._maybe_fail("conversation")
        if channel not in self.conversations:
            raise SlackFailure("channel_not_found", method="conversations.info")
        return self.conversations[channel]

    def members(self, channel: str, cursor: str | None = None) -> tuple[list[str], str | None]:
        return list(self.conversations.get(channel, {}).get("members", [])), None

    def user(self, user: str) -> Mapping[str, Any]:
        self._maybe_fail("user")
        if user not in self.users:
            raise SlackFailure("user_not_found", method="users.info")
        return self.users[user]

    def group_members(self, group: str) -> list[str]:
        return []

    def history(self, channel: str, *, oldest: str | None = None, latest: str | None = None,
                limit: int = 15, cursor: str | None = None, inclusive: bool = False) -> Mapping[str, Any]:
        self._maybe_fail("history")
        messages = [{"ts": s.ts, "text": s.message.text if s.message else "", "metadata": s.extra.get("tag")}
                    for s in reversed(self.posts(channel)) if s.thread_ts is None]
        return {"ok": True, "messages": messages[:limit], "has_more": False}

    def replies(self, channel: str, ts: str, *, oldest: str | None = None, limit: int = 15) -> Mapping[str, Any]:
        self._maybe_fail("replies")
        messages = [{"ts": s.ts, "thread_ts": ts, "metadata": s.extra.get("tag")}
                    for s in self.posts(channel) if s.thread_ts == ts]
        return {"ok": True, "messages": messages[:limit], "has_more": False}

    # --- the listeners' extras (views) ---------------------------------------------------------
    def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> Mapping[str, Any]:
        self._maybe_fail("open_view")
        self.views.append((trigger_id, view))
        return {"id": f"V{len(self.views)}", "hash": "h"}

    def update_view(self, view_id: str, view: Mapping[str, Any], *, hash_: str | None = None) -> None:
        self.views.append((view_id, view))

    def publish_home(self, user: str, view: Mapping[str, Any]) -> None:
        self.views.append((f"home:{user}", view))


def _conforms(fake: FakeSlack) -> None:
    """mypy checks that the fake keeps up with the port (this function is never called)."""
    from bot.core.ports import Slack

    port: Slack = fake
    del port


def wired(config: Any, db: Any, api_url: str, clock: Callable[[], datetime]) -> tuple[Any, Any]:
    """Every move's service as app.py wires them, against the Slack stand-in at `api_url`, on `clock`:
    (services, the reminder sender)."""
    from app import wire
    from handlers.slack.surface import SlackSurface, make_client
    from handlers.slack.worker import Worker

    token = config.bot_token
    services, _sweep, sender = wire(config, db, SlackSurface(make_client(token, api_url)),
                                    SlackSurface(make_client(token, api_url, retries=False)), Worker(threads=1), clock)
    return services, sender
