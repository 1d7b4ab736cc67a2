"""Who can read a conversation: only our own organisation (a public or a private channel), or the customer too.

Slack Connect channels (`is_ext_shared`), channels with a pending external invitation, and DMs or group DMs
that include someone from another organisation (`users.info` `is_stranger`, or a `team_id` that is not ours)
are readable by the customer. Answers are cached for a short while (bounded), because every case message
and every intake asks; failures are never cached, so the next try asks Slack again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from bot.core.ports import Slack, SlackFailure

log = logging.getLogger(__name__)

PUBLIC = "public"  # an internal public channel: anyone in our organisation may read it
PRIVATE = "private"  # an internal private channel, DM or group DM: only its members
EXTERNAL = "external"  # someone from another organisation (the customer) can read it

MEMBER_PAGES = 5  # group DMs have at most 9 people; channels never reach here
T = TypeVar("T")


@dataclass(frozen=True)
class Audience:
    channel_id: str
    kind: str  # PUBLIC, PRIVATE or EXTERNAL
    why: str  # for the log: which flag or person decided it

    @property
    def external(self) -> bool:
        return self.kind == EXTERNAL


class AudienceUnknown(Exception):
    """Slack could not tell us who reads the conversation; `error` is Slack's code."""

    def __init__(self, channel_id: str, error: str):
        super().__init__(f"{channel_id}: {error}")
        self.channel_id = channel_id
        self.error = error

    @property
    def not_visible(self) -> bool:
        """The bot can't see the conversation at all (private and not invited): it can't post there either."""
        return self.error in ("channel_not_found", "not_in_channel")


class TTLCache(Generic[T]):
    """A small thread-safe cache: entries expire after `ttl` seconds, the oldest go beyond `size`."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.size, self.clock = ttl, size, clock
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if self.clock() - item[0] > self.ttl:
                del self._items[key]
                return None
            return item[1]

    def put(self, key: str, value: T) -> None:
        with self._lock:
            self._items[key] = (self.clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def classify_channel(info: Mapping[str, Any]) -> tuple[str, str] | None:
    """The audience from conversations.info alone, or None when the members decide (a DM or group DM)."""
    if info.get("is_ext_shared") or info.get("is_pending_ext_shared"):
        return EXTERNAL, "is_ext_shared" if info.get("is_ext_shared") else "is_pending_ext_shared"
    if info.get("is_shared") and not info.get("is_org_shared"):
        # Shared with a workspace outside our Enterprise organisation: treat as another organisation.
        return EXTERNAL, "is_shared"
    if info.get("is_im") or info.get("is_mpim"):
        return None
    if info.get("is_private") or info.get("is_group"):
        return PRIVATE, "is_private"
    return PUBLIC, "public channel"


def is_outsider(user: Mapping[str, Any], home_team: str | None) -> bool:
    """Someone from another organisation: Slack marks them as strangers, and their team is not ours."""
    if user.get("is_stranger"):
        return True
    team = user.get("team_id")
    return bool(home_team and team and team != home_team)


class Audiences:
    """Looks up and caches who can read a conversation."""

    def __init__(self, slack: Slack, home_team: Callable[[], str | None], *, ttl: float = 60, size: int = 2000,
                 clock: Callable[[], float] = time.monotonic):
        self.slack = slack
        self.home_team = home_team
        self._channels: TTLCache[Audience] = TTLCache(ttl, size, clock)
        self._outsiders: TTLCache[bool] = TTLCache(ttl, size, clock)
        self._asking: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def of(self, channel_id: str) -> Audience:
        """Who can read `channel_id`; raises AudienceUnknown if Slack would not say."""
        cached = self._channels.get(channel_id)
        if cached is not None:
            return cached
        # A burst of cases in one channel asks Slack once; the others wait for that answer.
        with self._lock_for(channel_id):
            return self._channels.get(channel_id) or self._look_up(channel_id)

    def is_outsider(self, user_id: str) -> bool:
        """Whether someone is from another organisation; raises AudienceUnknown if Slack would not say."""
        return self._outsider(user_id, user_id, self.home_team())

    def _lock_for(self, channel_id: str) -> threading.Lock:
        with self._guard:
            if len(self._asking) > 1000:
                self._asking = {k: v for k, v in self._asking.items() if v.locked()}
            return self._asking.setdefault(channel_id, threading.Lock())

    def _look_up(self, channel_id: str) -> Audience:
        info = self._call(channel_id, lambda: self.slack.conversation(channel_id))
        decided = classify_channel(info or {})
        if decided is None:
            decided = self._by_members(channel_id, info or {})
        audience = Audience(channel_id, *decided)
        log.debug("audience of %s: %s (%s)", channel_id, audience.kind, audience.why)
        self._channels.put(channel_id, audience)
        return audience

    def _by_members(self, channel_id: str, info: Mapping[str, Any]) -> tuple[str, str]:
        members = [info["user"]] if info.get("is_im") and info.get("user") else self._members(channel_id)
        home = self.home_team()
        for user_id in members:
            if self._outsider(channel_id, user_id, home):
                return EXTERNAL, f"{user_id} is from another organisation"
        return PRIVATE, "direct message within the organisation"

    def _members(self, channel_id: str) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        for _ in range(MEMBER_PAGES):
            page, cursor = self._call(channel_id, partial(self.slack.members, channel_id, cursor))
            members += page
            if not cursor:
                return members
        raise AudienceUnknown(channel_id, "too_many_members")  # not a DM as we know it: don't guess

    def _outsider(self, channel_id: str, user_id: str, home: str | None) -> bool:
        known = self._outsiders.get(user_id)
        if known is not None:
            return known
        user = self._call(channel_id, lambda: self.slack.user(user_id))
        outsider = is_outsider(user or {}, home)
        self._outsiders.put(user_id, outsider)
        return outsider

    @staticmethod
    def _call(channel_id: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except SlackFailure as exc:
            log.warning("could not tell who reads %s: %s", channel_id, exc.code)
            raise AudienceUnknown(channel_id, exc.code) from exc
