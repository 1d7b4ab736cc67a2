"""Team leads (`LEADS`): who may export the team's records, and the retention setting.

A lead is a user listed in `LEADS` or a member of a user group listed there. Group membership is
read with `usergroups.users.list` (scope `usergroups:read`) and cached for a few minutes; when the
lookup fails, the answer is "no" with the reason, never a guess.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.core.ports import Slack, SlackFailure

log = logging.getLogger(__name__)

_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_RE = re.compile(r"^S[A-Z0-9]{2,}$")
GROUP_CACHE_SECONDS = 300.0
RETENTION_RANGE = (1, 3650)


@dataclass(frozen=True)
class Leads:
    users: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.users or self.groups)

    def named(self) -> str:
        """Who can export, as Slack mrkdwn (mentions render as names, groups as @group)."""
        names = [f"<@{u}>" for u in sorted(self.users)] + [f"<!subteam^{g}>" for g in self.groups]
        return ", ".join(names)


def parse_leads(raw: str | None) -> tuple[Leads, list[str]]:
    """`U01,W02,S03` -> Leads; one problem line per entry that is not a user or user-group ID."""
    if not raw:
        return Leads(), []
    users: set[str] = set()
    groups: list[str] = []
    problems: list[str] = []
    for part in raw.split(","):
        entry = part.strip()
        if not entry:
            continue
        if _USER_RE.match(entry):
            users.add(entry)
        elif _GROUP_RE.match(entry):
            if entry not in groups:
                groups.append(entry)
        else:
            problems.append(
                f"LEADS: {entry[:40]!r} is not a Slack user ID (U… or W…, from the person's profile > ⋮ > "
                "Copy member ID) or user-group ID (S…, from the group's page); separate IDs with commas."
            )
    return Leads(frozenset(users), tuple(groups)), problems


def parse_retention_days(raw: str | None) -> tuple[int | None, str | None]:
    """RETENTION_DAYS: a whole number of days from 1 to 3650, or unset (kept forever)."""
    if raw is None:
        return None, None
    low, high = RETENTION_RANGE
    if raw.isdigit() and low <= int(raw) <= high:
        return int(raw), None
    return None, (
        f"RETENTION_DAYS {raw[:20]!r} must be a whole number of days from {low} to {high} "
        "(customer details of cases closed longer ago are erased); unset it to keep them."
    )


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str | None = None  # why not, for the user


class LeadCheck:
    """Answers "is this user a lead?", asking Slack for user-group members at most every few minutes."""

    def __init__(self, leads: Leads, slack: Slack, clock: Callable[[], float] = time.monotonic):
        self.leads = leads
        self.slack = slack
        self.clock = clock
        self._groups: dict[str, tuple[frozenset[str], float]] = {}
        self._lock = threading.Lock()

    def quick(self, user: str) -> Verdict | None:
        """The verdict without calling Slack, or None if a user group must be looked up first."""
        if not self.leads.configured:
            return Verdict(False, texts.EXPORT_NO_LEADS)
        if user in self.leads.users:
            return Verdict(True)
        unknown = False
        for group in self.leads.groups:
            members = self._cached(group)
            if members is None:
                unknown = True
            elif user in members:
                return Verdict(True)
        return None if unknown else self._refusal()

    def check(self, user: str) -> Verdict:
        """The verdict, looking up user groups as needed (a Web API call: after the ack only)."""
        verdict = self.quick(user)
        if verdict is not None:
            return verdict
        failed: list[str] = []
        for group in self.leads.groups:
            members = self._cached(group)
            if members is None:
                try:
                    members = self._fetch(group)
                except SlackFailure as exc:
                    log.warning("usergroups.users.list %s failed: %s", group, exc.code)
                    failed.append(f"<!subteam^{group}> ({exc.code})")
                    continue
            if user in members:
                return Verdict(True)
        if failed:
            return Verdict(False, texts.EXPORT_GROUP_LOOKUP_FAILED.format(groups=", ".join(failed)))
        return self._refusal()

    def _refusal(self) -> Verdict:
        return Verdict(False, texts.EXPORT_NOT_A_LEAD.format(leads=self.leads.named()))

    def _cached(self, group: str) -> frozenset[str] | None:
        with self._lock:
            hit = self._groups.get(group)
        if hit and hit[1] > self.clock():
            return hit[0]
        return None

    def _fetch(self, group: str) -> frozenset[str]:
        members = frozenset(self.slack.group_members(group))
        with self._lock:
            self._groups[group] = (members, self.clock() + GROUP_CACHE_SECONDS)
        return members
