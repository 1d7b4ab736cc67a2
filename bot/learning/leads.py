"""Team leads (`LEADS`): who may export the team's records, and the retention setting.

A lead is a user listed in `LEADS` or a member of a user group listed there. Group membership is
read with `usergroups.users.list` (scope `usergroups:read`) and cached for a few minutes; when the
lookup fails, the answer is "no" with the reason, never a guess.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.core.ports import Slack, SlackFailure
from bot.core.settings import Leads

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300.0


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
