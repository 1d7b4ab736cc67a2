"""Telling people things through the Slack port: DMs, the case thread, and messages only one person sees.

`tell`, `thread_note` and `tell_privately` are best effort (a failure is logged and answered False);
`dm` raises SlackFailure for callers that must tell someone else when it did not arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.core.ports import Message, Posted, Slack, SlackFailure
from bot.core.snapshot import CaseSnapshot

log = logging.getLogger(__name__)

Said = Message | str


def as_message(said: Said) -> Message:
    return said if isinstance(said, Message) else Message(said)


class Notify:
    def __init__(self, slack: Slack, remember_dm: Callable[[str, str], None] | None = None):
        self.slack = slack
        self._remember_dm = remember_dm  # the DM channel of a user, kept for reading its history later

    def dm(self, user_id: str, said: Said) -> Posted:
        posted = self.slack.post(user_id, as_message(said))
        if self._remember_dm is not None and posted.channel != user_id:
            self._remember_dm(user_id, posted.channel)
        return posted

    def tell(self, user_id: str, said: Said) -> bool:
        try:
            self.dm(user_id, said)
            return True
        except SlackFailure as exc:
            log.warning("DM to %s failed: %s", user_id, exc.code)
            return False

    def thread_note(self, case: CaseSnapshot, said: Said) -> bool:
        """A line in the case thread (attempts, notes, handoffs...); False if the case is not posted yet."""
        if not case.message_ts:
            return False
        try:
            self.slack.post(case.channel_id, as_message(said), thread_ts=case.message_ts)
            return True
        except SlackFailure as exc:
            log.warning("thread post for case %s failed: %s", case.id, exc.code)
            return False

    def tell_privately(self, user_id: str, channel_id: str | None, said: Said) -> bool:
        """Only `user_id` sees it: an ephemeral in the conversation they are in, or a DM if that fails."""
        if channel_id:
            try:
                self.slack.ephemeral(channel_id, user_id, as_message(said))
                return True
            except SlackFailure as exc:
                log.info("ephemeral to %s in %s failed (%s); sending a DM", user_id, channel_id, exc.code)
        return self.tell(user_id, said)
