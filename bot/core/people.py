"""What we know about Slack users: bot or person, time zone, breather. users.info is cached."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import Unknown
from bot.core.ports import Slack, SlackFailure
from bot.core.snapshot import Clock, utcnow
from storage import repositories as repo
from storage.db import Database
from storage.errors import Conflict

log = logging.getLogger(__name__)
CACHE_FOR = timedelta(hours=12)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str | None
    is_bot: bool
    deleted: bool
    tz: str | None
    breather_until: datetime | None

    def on_breather(self, now: datetime) -> bool:
        return self.breather_until is not None and self.breather_until > now


def valid_tz(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError):
        return None


class People:
    def __init__(self, db: Database, slack: Slack, clock: Clock = utcnow):
        self.db = db
        self.slack = slack
        self.clock = clock
        self._zones: dict[str, tuple[str | None, float]] = {}  # user -> (tz, monotonic expiry)
        self._zones_lock = threading.Lock()

    def tz(self, user_id: str) -> str | None:
        """The user's time zone, from memory for 10 minutes, else the database or users.info."""
        now = time.monotonic()
        with self._zones_lock:
            hit = self._zones.get(user_id)
        if hit and hit[1] > now:
            return hit[0]
        person = self.lookup(user_id)
        zone = person.tz if person else None
        self._remember(user_id, zone)
        return zone

    def _remember(self, user_id: str, zone: str | None) -> None:
        with self._zones_lock:
            if len(self._zones) > 50_000:
                self._zones.clear()
            self._zones[user_id] = (zone, time.monotonic() + 600)

    def remembered_tz(self, user_id: str) -> tuple[bool, str | None]:
        """(known, tz) from memory only: for checks that run before ack() and may not wait for the database."""
        with self._zones_lock:
            hit = self._zones.get(user_id)
        if hit and hit[1] > time.monotonic():
            return True, hit[0]
        return False, None

    def cached(self, user_id: str) -> Person | None:
        with self.db.session() as session:
            agent = repo.get_agent(session, user_id)
            if agent is None:
                return None
            person = Person(agent.user_id, agent.name, agent.is_bot, agent.deleted, agent.tz, agent.breather_until)
        self._remember(user_id, person.tz)
        return person

    def lookup(self, user_id: str, *, refresh: bool = False) -> Person | None:
        """From the cache if fresh, else users.info. None if Slack can't tell us (logged)."""
        now = self.clock()
        with self.db.session() as session:
            agent = repo.get_agent(session, user_id)
            if agent and agent.tz_fetched_at and now - agent.tz_fetched_at < CACHE_FOR and not refresh:
                self._remember(user_id, agent.tz)
                return Person(agent.user_id, agent.name, agent.is_bot, agent.deleted, agent.tz, agent.breather_until)
        try:
            user = self.slack.user(user_id)
        except SlackFailure as exc:
            log.warning("users.info %s failed: %s", user_id, exc.code)
            return self.cached(user_id)
        profile = user.get("profile") or {}
        zone = valid_tz(user.get("tz"))
        fields = dict(
            name=(profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")),
            is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            tz=zone,
            tz_fetched_at=now,
        )
        for attempt in range(2):  # two first lookups of one user at once: the loser updates
            try:
                self._remember(user_id, zone)
                with self.db.session() as session:
                    agent = repo.upsert_agent(session, user_id, **fields)
                    return Person(agent.user_id, agent.name, agent.is_bot, agent.deleted, agent.tz, agent.breather_until)
            except Conflict:
                if attempt:
                    raise
        return None


class DmChannels:
    """The bot's DM channel with each person, kept so that a DM's history can be read later."""

    def __init__(self, db: Database, slack: Slack):
        self.db = db
        self.slack = slack
        self._known: dict[str, str] = {}

    def remember(self, user: str, channel: str) -> None:
        if channel == user or self._known.get(user) == channel:
            return
        self._known[user] = channel
        with self.db.session() as session:
            agent = repo.get_agent(session, user)
            if agent is None:
                repo.add_agent_if_missing(session, user, dm_channel=channel)
            elif agent.dm_channel != channel:
                repo.upsert_agent(session, user, dm_channel=channel)

    def of(self, user: str) -> str:
        """The DM channel with `user` (stored, or conversations.open); raises Unknown if not known."""
        with self.db.session() as session:
            agent = repo.get_agent(session, user)
            if agent is not None and agent.dm_channel:
                return str(agent.dm_channel)
        try:
            channel = self.slack.open_dm(user)
        except SlackFailure as exc:
            raise Unknown(f"no DM channel for {user}: {exc.code}") from None
        self.remember(user, channel)
        return channel
