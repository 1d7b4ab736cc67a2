"""What Defuse does in Slack: post and keep the case message and checklist up to date, send DMs.

Handlers call these methods after ack(); nothing here runs inside Slack's 3-second window.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks, texts
from bot.cases import Cases, CaseSnapshot
from bot.config import Config
from bot.slack import CHANNEL_ERRORS, error_code

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    ok: bool
    case_id: int
    error: str | None = None
    message: str | None = None  # what to tell the agent when not ok


class CaseLocks:
    """One lock per case, so that concurrent updates render and send in order."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}

    def __call__(self, case_id: int) -> threading.Lock:
        with self._guard:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(case_id, threading.Lock())


class Defuse:
    def __init__(self, config: Config, cases: Cases, client: WebClient):
        self.config = config
        self.cases = cases
        self.client = client
        self.lock = CaseLocks()

    # --- posting the case ------------------------------------------------------------------
    def publish(self, case_id: int) -> PublishResult:
        """Post the case message and its checklist thread (or refresh them if already posted)."""
        with self.lock(case_id):
            case = self.cases.require(case_id)
            if case.message_ts:
                self._refresh_locked(case)
                return PublishResult(True, case_id)
            try:
                response = self._post_case(case)
            except SlackApiError as exc:
                return self._publish_failed(case, error_code(exc))
            except (SlackClientError, OSError) as exc:
                log.warning("posting case %s failed: %s", case_id, exc)
                return self._publish_failed(case, error_code(exc))
            message_ts = response["ts"]
            channel = response.get("channel") or case.channel_id
            permalink = self._permalink(channel, message_ts)
            self.cases.set_posted(case_id, message_ts=message_ts, permalink=permalink)
            case = self.cases.require(case_id)
            self._post_checklist(case)
            return PublishResult(True, case_id)

    def _post_case(self, case: CaseSnapshot) -> Any:
        kwargs = dict(
            channel=case.channel_id,
            text=blocks.case_fallback(case),
            blocks=blocks.case_message(case),
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": "defuse_case", "event_payload": {"case_id": case.id}},
        )
        try:
            return self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            if error_code(exc) not in ("not_in_channel", "channel_not_found"):
                raise
            if not self._join(case.channel_id):
                raise
        return self.client.chat_postMessage(**kwargs)

    def _join(self, channel_id: str) -> bool:
        if not channel_id.startswith("C"):
            return False
        try:
            self.client.conversations_join(channel=channel_id)
            log.info("joined channel %s to post a case", channel_id)
            return True
        except SlackApiError as exc:
            log.info("could not join %s: %s", channel_id, error_code(exc))
            return False

    def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, exc)
            return None

    def _post_checklist(self, case: CaseSnapshot) -> None:
        if not case.message_ts:
            return
        try:
            response = self.client.chat_postMessage(
                channel=case.channel_id,
                thread_ts=case.message_ts,
                text=blocks.checklist_fallback(case),
                blocks=blocks.checklist(case),
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            # The next refresh posts it; the case message is already there.
            log.warning("posting checklist of case %s failed: %s", case.id, error_code(exc))
            return
        self.cases.set_posted(case.id, checklist_ts=response["ts"])

    def _publish_failed(self, case: CaseSnapshot, error: str) -> PublishResult:
        log.info("case %s not posted in %s: %s", case.id, case.channel_id, error)
        if error == "not_in_channel" or (error == "channel_not_found" and case.channel_id.startswith("C")):
            text = texts.NOT_IN_CHANNEL.format(number=case.id, channel=case.channel_id)
        elif error in CHANNEL_ERRORS:
            text = texts.CHANNEL_UNREACHABLE.format(number=case.id, error=error)
        else:
            text = texts.POST_FAILED.format(number=case.id, error=error)
        return PublishResult(False, case.id, error, text)

    # --- keeping it current ----------------------------------------------------------------
    def refresh(self, case_id: int) -> None:
        """Re-render the case message and checklist from the database."""
        with self.lock(case_id):
            case = self.cases.get(case_id)
            if case is not None:
                self._refresh_locked(case)

    def _refresh_locked(self, case: CaseSnapshot) -> None:
        if not case.message_ts:
            return
        try:
            self.client.chat_update(
                channel=case.channel_id, ts=case.message_ts, text=blocks.case_fallback(case), blocks=blocks.case_message(case)
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("updating case %s failed: %s", case.id, error_code(exc))
        if not case.checklist_ts:
            self._post_checklist(case)
            return
        try:
            self.client.chat_update(
                channel=case.channel_id, ts=case.checklist_ts, text=blocks.checklist_fallback(case), blocks=blocks.checklist(case)
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("updating checklist of case %s failed: %s", case.id, error_code(exc))

    # --- messages to people ----------------------------------------------------------------
    def dm(self, user_id: str, text: str, blocks_: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
        """Send a DM; raises SlackApiError so callers can report a failure to the right person."""
        return self.client.chat_postMessage(channel=user_id, text=text, blocks=blocks_, unfurl_links=False, **extra)

    def tell(self, user_id: str, text: str, blocks_: list[dict[str, Any]] | None = None) -> bool:
        """Best-effort DM; logs and returns False instead of raising."""
        try:
            self.dm(user_id, text, blocks_)
            return True
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("DM to %s failed: %s", user_id, error_code(exc))
            return False

    def thread_note(self, case: CaseSnapshot, text: str, blocks_: list[dict[str, Any]] | None = None) -> bool:
        """Post a line in the case thread (attempts, notes, handoffs...)."""
        if not case.message_ts:
            return False
        try:
            self.client.chat_postMessage(
                channel=case.channel_id, thread_ts=case.message_ts, text=text, blocks=blocks_, unfurl_links=False
            )
            return True
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("thread post for case %s failed: %s", case.id, error_code(exc))
            return False
