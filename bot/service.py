"""What Defuse does in Slack: post and keep the case message and checklist up to date, send DMs.

Handlers call these methods after ack(); nothing here runs inside Slack's 3-second window.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks, notices, texts
from bot.audience import EXTERNAL, PRIVATE, PUBLIC, Audiences, AudienceUnknown
from bot.cases import Cases
from bot.config import Config
from bot.core import mrkdwn
from bot.core.errors import CaseError
from bot.core.notify import Notify
from bot.core.ports import Message, Posted, Slack
from bot.core.snapshot import CaseSnapshot
from bot.delivery import HISTORY_INTERVAL, SETTLE, HistoryCheck, Unknown, is_ambiguous, post_client, process_name, tag
from bot.followups import FollowUps, ReminderView
from bot.handoffs import Handoffs, HandoffView
from bot.people import People
from bot.slack import CHANNEL_ERRORS, error_code
from bot.textutil import human_duration, quote, safe_limited_echo
from bot.worker import Worker

log = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(seconds=60)  # longer than a post can take (client timeout 10 s, a join, a retry)
CHECKLIST_RETRY = timedelta(seconds=30)


@dataclass(frozen=True)
class PublishResult:
    ok: bool
    case_id: int
    error: str | None = None
    message: str | None = None  # what to tell the agent when not ok (or where the case went)
    withdrawn: bool = False  # the case was taken back: there is nothing to post again
    moved_to: str | None = None  # the case lives in CASES_CHANNEL, not where it was flagged


@dataclass(frozen=True)
class Destination:
    """Where a case is posted, and who reads that channel."""

    channel_id: str
    visibility: str  # PUBLIC or PRIVATE
    moved: bool = False  # True: the source is readable by the customer, so the case goes to CASES_CHANNEL


@dataclass(frozen=True)
class Refusal:
    """Nowhere safe to post the case. `withdraw`: take the case back (it can never be posted as things are);
    otherwise it stays saved and the agent may press Post it again."""

    reason: str  # "no_cases_channel", "audience_unknown", "not_visible", "cases_channel_shared"
    error: str | None = None
    withdraw: bool = False


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
    def __init__(
        self,
        config: Config,
        cases: Cases,
        client: WebClient,
        reminder_client: WebClient | None = None,
        worker: Worker | None = None,
        *,
        slack: Slack,
    ):
        self.config = config
        self.cases = cases
        self.handoffs = Handoffs(cases)
        self.people = People(cases.db, client, cases.clock)
        self.followups = FollowUps(config, cases, self.people, reminder_client or client)
        self.client = client
        self.slack = slack
        self.notify = Notify(slack, self.followups.remember_dm_channel)
        self.worker = worker or Worker()
        self.lock = CaseLocks()
        self._joined: set[str] = set()
        self._home_team: str | None = None
        self.audiences = Audiences(client, self.home_team)
        self.me = process_name()  # holder name for delivery leases
        self.poster = post_client(client)  # no blind re-send after a 5xx or a timeout
        self.history = HistoryCheck(cases.db, client, cases.clock)

    def home_team(self) -> str | None:
        """This installation's team id (auth.test, once it answers), to tell colleagues from outsiders."""
        if self._home_team is None:
            try:
                self._home_team = self.client.auth_test().get("team_id") or None
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("auth.test failed; telling outsiders by is_stranger only: %s", error_code(exc))
        return self._home_team

    # --- where a case may be posted ----------------------------------------------------------
    def destination_for(self, source_channel: str) -> Destination | Refusal:
        """The one routing decision: post where it was flagged when only our organisation reads it; in
        CASES_CHANNEL when the customer can read it; nowhere when Slack can't say who reads it."""
        try:
            audience = self.audiences.of(source_channel)
        except AudienceUnknown as exc:
            # Never post into a conversation we could not check: it may be shared with the customer.
            return Refusal("not_visible" if exc.not_visible else "audience_unknown", exc.error)
        if not audience.external:
            return Destination(source_channel, audience.kind)
        log.info("%s is readable by another organisation (%s)", source_channel, audience.why)
        cases_channel = self.config.cases_channel
        if not cases_channel:
            return Refusal("no_cases_channel", withdraw=True)
        return self._cases_channel_destination(cases_channel)

    def intake_choice(self, source_channel: str | None) -> tuple[str | None, str | None]:
        """For the intake form opened in `source_channel`: the channel to preselect and a notice saying where
        the case will go, when the customer can read the conversation. Only a hint: publish decides again."""
        if not source_channel or not source_channel.startswith(("C", "G")):
            return source_channel, None
        route = self.destination_for(source_channel)
        if isinstance(route, Destination) and route.moved:
            return route.channel_id, texts.INTAKE_EXTERNAL_NOTICE.format(source=source_channel, channel=route.channel_id)
        if isinstance(route, Refusal) and route.reason == "no_cases_channel":
            return None, texts.INTAKE_EXTERNAL_REFUSED.format(source=source_channel)
        return source_channel, None

    def _cases_channel_destination(self, cases_channel: str) -> Destination | Refusal:
        try:
            audience = self.audiences.of(cases_channel)
        except AudienceUnknown as exc:
            # The operator named it as internal; posting there fails on its own if the bot isn't in it.
            log.info("could not check CASES_CHANNEL %s (%s); treating it as private", cases_channel, exc.error)
            return Destination(cases_channel, PRIVATE, moved=True)
        if audience.kind == EXTERNAL:
            log.error("CASES_CHANNEL %s is itself shared with another organisation (%s)", cases_channel, audience.why)
            return Refusal("cases_channel_shared")
        return Destination(cases_channel, audience.kind, moved=True)

    def _refused(self, case: CaseSnapshot, refusal: Refusal) -> PublishResult:
        if not refusal.withdraw:  # the agent is told and may press Post it again; the sweep leaves it alone
            self.cases.record_delivery(case.id, self.me, post_state="failed", sync_by=None, sync_until=None)
        if refusal.reason == "not_visible":
            return self._publish_failed(case, refusal.error or "channel_not_found")
        if refusal.withdraw:  # no CASES_CHANNEL: it can never be posted as things are
            echo = f"{case.customer}: {case.summary}" if case.customer else case.summary
            text = texts.NEEDS_CASES_CHANNEL.format(echo=quote(safe_limited_echo(echo, 2500)))
            self.cases.withdraw(case.id, reason="flagged where the customer can read it, and CASES_CHANNEL is not set")
            return PublishResult(False, case.id, refusal.reason, text, withdrawn=True)
        if refusal.reason == "cases_channel_shared":
            text = texts.CASES_CHANNEL_SHARED.format(number=case.id, channel=self.config.cases_channel)
        else:
            text = texts.AUDIENCE_UNKNOWN.format(number=case.id, error=refusal.error)
        return PublishResult(False, case.id, refusal.reason, text)

    def where_it_goes(self, case: CaseSnapshot, action: str) -> str | None:
        """Before an escalation or a UX issue leaves a case that not everyone can read: where it will be posted.
        None when it stays in the case's own channel, or the case lives in a public channel."""
        if action == "escalate":
            channel, private, unknown = self.config.escalation_channel, texts.ESCALATE_WHERE_PRIVATE, texts.ESCALATE_WHERE_UNKNOWN
        elif action == "review":
            channel, private, unknown = self.config.product_feedback_channel, texts.REVIEW_WHERE_PRIVATE, texts.REVIEW_WHERE_UNKNOWN
        else:
            return None
        if not channel or channel == case.channel_id or case.visibility == PUBLIC:
            return None
        return (private if case.visibility == PRIVATE else unknown).format(channel=channel)

    def audiences_say_outsider(self, user_id: str) -> bool:
        """For a warning while picking: True only when Slack says they are from another organisation."""
        try:
            return self.audiences.is_outsider(user_id)
        except AudienceUnknown:
            return False  # checked again, failing safe, before anything is sent

    def _configured_channel(self, name: str, channel: str | None, user: str) -> str | None:
        """A configured channel, unless Slack says another organisation reads it (then case content stays home).
        If Slack can't say, the operator's choice stands: it was named as an internal channel."""
        if not channel:
            return None
        try:
            if not self.audiences.of(channel).external:
                return channel
        except AudienceUnknown:
            return channel
        log.error("%s %s is shared with another organisation; not posting case content there", name, channel)
        self.tell(user, texts.CONFIGURED_CHANNEL_SHARED.format(name=name, channel=channel))
        return None

    def _is_colleague(self, user_id: str) -> bool:
        try:
            return not self.audiences.is_outsider(user_id)
        except AudienceUnknown as exc:
            if exc.error in ("user_not_found", "users_not_found"):
                return True  # nobody to leak to: the DM fails on its own and the requester is told why
            log.warning("could not tell whether %s is from another organisation (%s); not sending the case", user_id, exc.error)
            return False

    def tell_privately(self, user_id: str, channel_id: str | None, text: str,
                       blocks_: list[dict[str, Any]] | None = None) -> bool:
        """Only `user_id` sees it: an ephemeral in the conversation they are in, or a DM if that fails."""
        return self.notify.tell_privately(user_id, channel_id, Message(text, blocks_))

    # --- posting the case ------------------------------------------------------------------
    # Save-before-ack (handlers) leased the new case to this process; post-after-save is publish();
    # the sweep (bot.sweep) calls it again for whatever a crash or an unclear answer left unfinished.
    def publish(self, case_id: int, case: CaseSnapshot | None = None, *, again: bool = False) -> PublishResult:
        """Post the case message and its checklist thread (or refresh them if already posted).
        `again`: the agent pressed Post it again, so a post Slack never confirmed may be repeated
        (visibly, by their choice) when it cannot be checked now."""
        with self.lock(case_id):
            claimed = self.cases.claim_delivery(case_id, self.me, DELIVERY_LEASE)
            if claimed is None:
                if self.cases.get(case_id, full=False) is None:
                    raise CaseError(texts.CASE_NOT_FOUND)
                return PublishResult(False, case_id, "busy", texts.POST_BUSY.format(number=case_id))
            try:
                return self._publish_claimed(claimed, again)
            finally:  # whatever happened, a lease still held is handed back (no-op if already released)
                self.cases.record_delivery(case_id, self.me, sync_by=None, sync_until=None)

    def _publish_claimed(self, case: CaseSnapshot, again: bool) -> PublishResult:
        if case.message_ts and case.checklist_ts:
            error = self._refresh_locked(case)
            if error:
                return PublishResult(False, case.id, error, texts.UPDATE_FAILED.format(number=case.id, error=error))
            return PublishResult(True, case.id, moved_to=self._moved_to(case))
        route: Destination | None = None
        if not case.message_ts and case.post_state != "sending":
            # Nothing of it can be in Slack yet, so the channel is still open: decide it now. Once a post
            # may have reached Slack the channel is fixed (a repeat goes where the first one went).
            decided = self._route(case)
            if isinstance(decided, PublishResult):
                return decided
            case, route = decided
        if not case.message_ts:
            outcome = self._post_case_once(case, again)
            if isinstance(outcome, PublishResult):
                return outcome
            case = outcome
        error = self._post_checklist(case, again)
        if error == "unconfirmed":
            return PublishResult(False, case.id, error, texts.CHECKLIST_UNCONFIRMED.format(number=case.id))
        if error:
            return PublishResult(False, case.id, error, texts.CHECKLIST_FAILED.format(number=case.id, error=error))
        self._delivered(case)
        return PublishResult(True, case.id, moved_to=self._moved_to(case), message=self._where_text(case, route))

    def _route(self, case: CaseSnapshot) -> tuple[CaseSnapshot, Destination] | PublishResult:
        """Where the never-posted case goes (its source channel or CASES_CHANNEL), saved with who reads it;
        or the refusal to tell the agent."""
        route = self.destination_for(case.channel_id)
        if isinstance(route, Refusal):
            return self._refused(case, route)
        return self.cases.set_destination(case.id, channel_id=route.channel_id, visibility=route.visibility), route

    def _post_case_once(self, case: CaseSnapshot, again: bool) -> CaseSnapshot | PublishResult:
        """Get the case message into Slack exactly once; the case with its ts, or why not."""
        if case.post_state == "sending" and case.posting_at:  # an earlier post may have reached Slack
            try:
                found = self.history.find(case.channel_id, "case", "case_id", case.id, case.posting_at)
            except Unknown as exc:
                if not again:
                    return self._unconfirmed(case, exc)
                found = None  # the agent chose to post again; if the first one exists they will see both
            if found:
                return self._adopt_case_message(case, found)
        for _attempt in range(2):
            if not self.cases.record_delivery(case.id, self.me, post_state="sending", posting_at=self.cases.clock()):
                # The lease ran out (a very slow answer) and someone else may be posting: never post unmarked.
                return PublishResult(False, case.id, "busy", texts.POST_BUSY.format(number=case.id))
            try:
                response = self._post_case(case)
            except (SlackApiError, SlackClientError, OSError) as exc:
                if not is_ambiguous(exc):
                    log.warning("posting case %s failed: %s", case.id, error_code(exc))
                    self.cases.record_delivery(case.id, self.me, post_state="failed", sync_by=None, sync_until=None)
                    return self._publish_failed(case, error_code(exc))
                log.warning("posting case %s: unclear answer (%s); checking before posting again", case.id, error_code(exc))
                try:
                    time.sleep(SETTLE.total_seconds())
                    found = self.history.find(case.channel_id, "case", "case_id", case.id, self._posting_at(case))
                except Unknown as unknown:
                    return self._unconfirmed(case, unknown)
                if found:
                    return self._adopt_case_message(case, found)
                continue  # Slack certainly has no copy: posting again cannot double it
            return self._adopt_case_message(case, response["ts"], response.get("channel"))
        return self._unconfirmed(case, Unknown("two unclear answers"))

    def _posting_at(self, case: CaseSnapshot) -> datetime:
        fresh = self.cases.get(case.id, full=False)
        return (fresh.posting_at if fresh and fresh.posting_at else None) or self.cases.clock() - timedelta(minutes=1)

    def _adopt_case_message(self, case: CaseSnapshot, ts: str, channel: str | None = None) -> CaseSnapshot:
        self.cases.set_posted(case.id, message_ts=ts)  # first: a crash after this never posts it again
        permalink = self.permalink(channel or case.channel_id, ts)
        self.cases.set_posted(case.id, permalink=permalink)
        return replace(case, message_ts=ts, permalink=permalink, post_state="posted")

    def _unconfirmed(self, case: CaseSnapshot, why: Unknown) -> PublishResult:
        """Slack may have the message and we cannot look now: the sweep looks when the budget allows."""
        retry_at = why.retry_at or self.cases.clock() + HISTORY_INTERVAL
        log.warning("case %s: not sure Slack has the message (%s); checking again after %s", case.id, why.reason, retry_at)
        self.cases.record_delivery(case.id, self.me, sync_by=None, sync_until=retry_at)
        text = texts.POST_UNCONFIRMED.format(number=case.id, channel=case.channel_id)
        return PublishResult(False, case.id, "unconfirmed", text)

    def _delivered(self, case: CaseSnapshot) -> None:
        self.cases.record_delivery(
            case.id, self.me, post_state="done", rendered_at=case.updated_at, sync_by=None, sync_until=None,
            sync_attempts=0,
        )

    def release(self, case_id: int, after: timedelta) -> None:
        """Give the case back to the sweep, to be tried again after `after`."""
        self.cases.record_delivery(case_id, self.me, sync_by=None, sync_until=self.cases.clock() + after)

    @staticmethod
    def _moved_to(case: CaseSnapshot) -> str | None:
        source = case.source_channel_id
        return case.channel_id if source and source != case.channel_id else None

    def _where_text(self, case: CaseSnapshot, route: Destination | None) -> str | None:
        """What to tell the agent, privately, when the case lives elsewhere than where they flagged it.
        `route`: the decision made by this call; None when an earlier call made it (a finished retry)."""
        moved = route.moved if route is not None else bool(
            self._moved_to(case) and case.channel_id == self.config.cases_channel)
        if moved:
            return texts.CASE_MOVED.format(number=case.id, channel=case.channel_id, url=case.permalink or "")
        if self._moved_to(case):
            return texts.POSTED_ELSEWHERE.format(number=case.id, channel=case.channel_id, url=case.permalink or "")
        return None

    def _post_case(self, case: CaseSnapshot) -> Any:
        kwargs = dict(
            channel=case.channel_id,
            text=blocks.case_fallback(case),
            blocks=blocks.case_message(case),
            unfurl_links=False,
            unfurl_media=False,
            metadata=tag("case", case_id=case.id),
        )
        try:
            return self.poster.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            if error_code(exc) not in ("not_in_channel", "channel_not_found"):
                raise
            if not self._join(case.channel_id):
                raise
        return self.poster.chat_postMessage(**kwargs)

    def _ensure_member(self, channel_id: str) -> None:
        """Join a public configured channel (escalations, product feedback) once, if not in it yet."""
        if channel_id in self._joined:
            return
        if self._join(channel_id):
            self._joined.add(channel_id)

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

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("no permalink for %s/%s: %s", channel, ts, exc)
            return None

    def _post_checklist(self, case: CaseSnapshot, again: bool = False) -> str | None:
        """Post the checklist in the case thread once; Slack's error code if that failed."""
        if not case.message_ts:
            return None
        if case.checklist_posting_at:  # an earlier post may have reached Slack
            try:
                found = self.history.find_reply(case.channel_id, case.message_ts, "checklist", "case_id", case.id,
                                                case.checklist_posting_at)
            except Unknown as exc:
                if not again:
                    return self._checklist_unconfirmed(case, exc)
                found = None
            if found:
                self.cases.set_posted(case.id, checklist_ts=found)
                return None
        for _attempt in range(2):
            started = self.cases.clock()
            self.cases.record_delivery(case.id, None, checklist_posting_at=started)
            try:
                response = self.poster.chat_postMessage(
                    channel=case.channel_id,
                    thread_ts=case.message_ts,
                    text=blocks.checklist_fallback(case),
                    blocks=blocks.checklist(case),
                    metadata=tag("checklist", case_id=case.id),
                )
            except (SlackApiError, SlackClientError, OSError) as exc:
                if not is_ambiguous(exc):
                    # The sweep (or the next refresh) posts it; the case message is already there.
                    log.warning("posting checklist of case %s failed: %s", case.id, error_code(exc))
                    self.release(case.id, CHECKLIST_RETRY)
                    return error_code(exc)
                try:
                    time.sleep(SETTLE.total_seconds())
                    found = self.history.find_reply(case.channel_id, case.message_ts, "checklist", "case_id", case.id,
                                                    started)
                except Unknown as unknown:
                    return self._checklist_unconfirmed(case, unknown)
                if found:
                    self.cases.set_posted(case.id, checklist_ts=found)
                    return None
                continue
            self.cases.set_posted(case.id, checklist_ts=response["ts"])
            return None
        return self._checklist_unconfirmed(case, Unknown("two unclear answers"))

    def _checklist_unconfirmed(self, case: CaseSnapshot, why: Unknown) -> str:
        log.warning("case %s: not sure Slack has the checklist (%s)", case.id, why.reason)
        self.cases.record_delivery(case.id, self.me, sync_by=None,
                                   sync_until=why.retry_at or self.cases.clock() + HISTORY_INTERVAL)
        return "unconfirmed"

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
    def refresh(self, case_id: int) -> str | None:
        """Re-render the case message and checklist from the database; Slack's error code on failure."""
        with self.lock(case_id):
            case = self.cases.get(case_id)
            return self._refresh_locked(case) if case is not None else None

    def _refresh_locked(self, case: CaseSnapshot) -> str | None:
        error = self._render_locked(case)
        if error is None and case.message_ts:  # Slack shows this revision now; the sweep has nothing to do
            self.cases.record_delivery(case.id, None, rendered_at=case.updated_at, sync_attempts=0)
        return error

    def _render_locked(self, case: CaseSnapshot) -> str | None:
        if not case.message_ts:
            return None
        error = None
        try:
            self.client.chat_update(
                channel=case.channel_id, ts=case.message_ts, text=blocks.case_fallback(case), blocks=blocks.case_message(case)
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("updating case %s failed: %s", case.id, error_code(exc))
            error = error_code(exc)
        if not case.checklist_ts:
            return self._add_missing_checklist(case) or error
        try:
            self.client.chat_update(
                channel=case.channel_id, ts=case.checklist_ts, text=blocks.checklist_fallback(case), blocks=blocks.checklist(case)
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("updating checklist of case %s failed: %s", case.id, error_code(exc))
            error = error_code(exc)
        return error

    def _add_missing_checklist(self, case: CaseSnapshot) -> str | None:
        """A refresh found no checklist: post it, unless another worker (the sweep) is on it."""
        claimed = self.cases.claim_delivery(case.id, self.me, DELIVERY_LEASE)
        if claimed is None or claimed.checklist_ts:
            return None
        try:
            return self._post_checklist(claimed)
        finally:
            self.cases.record_delivery(case.id, self.me, sync_by=None, sync_until=None)

    # --- messages to people ----------------------------------------------------------------
    def dm(self, user_id: str, text: str, blocks_: list[dict[str, Any]] | None = None) -> Posted:
        """Send a DM; raises SlackFailure so callers can report a failure to the right person."""
        return self.notify.dm(user_id, Message(text, blocks_))

    def tell(self, user_id: str, text: str, blocks_: list[dict[str, Any]] | None = None) -> bool:
        """Best-effort DM; logs and returns False instead of raising."""
        return self.notify.tell(user_id, Message(text, blocks_))

    def thread_note(self, case: CaseSnapshot, text: str, blocks_: list[dict[str, Any]] | None = None) -> bool:
        """Post a line in the case thread (attempts, notes, handoffs...)."""
        return self.notify.thread_note(case, Message(text, blocks_))

    # --- case file ---------------------------------------------------------------------------
    def attempt_logged(self, case: CaseSnapshot) -> None:
        if case.attempts:
            self.thread_note(case, notices.attempt_line(case.attempts[-1]))

    def note_added(self, case: CaseSnapshot) -> None:
        if case.notes:
            self.thread_note(case, notices.note_line(case.notes[-1]))

    # --- second contact --------------------------------------------------------------------
    def request_handoff(self, case_id: int, *, requester: str, colleague: str, note: str | None) -> bool:
        """Ask a colleague by DM. Any failure is reported to the requester; True if the DM went out."""
        if not self._is_colleague(colleague):  # the DM carries the whole case: never to someone from outside
            self.tell(requester, texts.HANDOFF_OUTSIDER.format(user=mrkdwn.mention(colleague)))
            return False
        handoff, withdrawn = self.handoffs.request(case_id, requester=requester, colleague=colleague, note=note)
        case = self.cases.require(case_id)
        for old in withdrawn:
            self._close_handoff_dm(old, texts.HANDOFF_CANCELLED.format(number=case_id))
        return self._deliver_handoff_dm(case, handoff.id, requester, colleague, note)

    def _deliver_handoff_dm(self, case: CaseSnapshot, handoff_id: int, requester: str, colleague: str,
                            note: str | None, *, verify_first: bool = False) -> bool:
        person = self.people.cached(colleague)
        breather_until = person.breather_until if person and person.on_breather(self.cases.clock()) else None
        text, dm_blocks = notices.handoff_dm(case, handoff_id, requester, note, breather_until)
        outcome, detail = self._send_handoff_dm(handoff_id, colleague, text, dm_blocks, verify_first)
        if outcome == "unconfirmed":
            if not verify_first:  # first time: tell the requester we are on it (the sweep finishes it)
                self.tell(requester, texts.HANDOFF_DM_UNCONFIRMED.format(colleague=mrkdwn.mention(colleague), number=case.id))
            return False
        if outcome == "failed":
            self.handoffs.failed(handoff_id, detail)
            self.tell(requester, texts.HANDOFF_DM_FAILED.format(colleague=mrkdwn.mention(colleague), error=detail, number=case.id))
            self.refresh(case.id)
            return False
        self.thread_note(
            case, texts.HANDOFF_REQUESTED_THREAD.format(requester=mrkdwn.mention(requester), colleague=mrkdwn.mention(colleague))
        )
        sent_text = texts.HANDOFF_SENT.format(colleague=mrkdwn.mention(colleague), number=case.id)
        if breather_until:
            sent_text += texts.HANDOFF_COLLEAGUE_ON_BREATHER.format(
                user=mrkdwn.mention(colleague), until=mrkdwn.slack_date(breather_until, "{time}")
            )
        self.tell(requester, sent_text)
        self.refresh(case.id)
        return True

    def _send_handoff_dm(self, handoff_id: int, colleague: str, text: str, dm_blocks: list[dict[str, Any]],
                         verify_first: bool) -> tuple[str, str]:
        """("sent", ts) | ("failed", error) | ("unconfirmed", reason). Never sends twice blindly."""
        if verify_first:
            since = self.handoffs.dm_sending_at(handoff_id)
            if since is not None:
                found = self._find_handoff_dm(handoff_id, colleague, since)
                if found is not None:
                    return found
        for _attempt in range(2):
            started = self.cases.clock()
            self.handoffs.dm_sending(handoff_id, started)
            try:
                response = self.poster.chat_postMessage(
                    channel=colleague, text=text, blocks=dm_blocks, unfurl_links=False, metadata=tag("handoff", handoff_id=handoff_id)
                )
            except (SlackApiError, SlackClientError, OSError) as exc:
                if not is_ambiguous(exc):
                    return "failed", error_code(exc)
                log.warning("handoff DM %s: unclear answer (%s); checking before sending again", handoff_id, error_code(exc))
                time.sleep(SETTLE.total_seconds())
                found = self._find_handoff_dm(handoff_id, colleague, started)
                if found is not None:
                    return found
                continue
            if response.get("channel"):
                self.followups.remember_dm_channel(colleague, response["channel"])
            self.handoffs.set_dm(handoff_id, response["channel"], response["ts"])
            return "sent", response["ts"]
        self.handoffs.check_dm_later(handoff_id, self.cases.clock() + HISTORY_INTERVAL)
        return "unconfirmed", "two unclear answers"

    def _find_handoff_dm(self, handoff_id: int, colleague: str, since: datetime) -> tuple[str, str] | None:
        """("sent", ts) if the DM is there, ("unconfirmed", why) if we can't tell now, None if it is not there."""
        try:
            channel = self.followups.dm_channel_of(colleague)
            found = self.history.find(channel, "handoff", "handoff_id", handoff_id, since)
        except Unknown as exc:
            self.handoffs.check_dm_later(handoff_id, exc.retry_at or self.cases.clock() + HISTORY_INTERVAL)
            return "unconfirmed", exc.reason
        if found is None:
            return None
        self.handoffs.set_dm(handoff_id, channel, found)
        return "sent", found

    def finish_handoff_dm(self, handoff_id: int) -> None:
        """Sweep: a request DM that was started but never confirmed (crash, unclear answer)."""
        handoff = self.handoffs.get(handoff_id)
        if handoff is None or handoff.status != "pending" or handoff.dm_ts:
            return
        case = self.cases.get(handoff.case_id)
        if case is None:
            return
        try:
            self._deliver_handoff_dm(case, handoff.id, handoff.from_user, handoff.to_user, handoff.note, verify_first=True)
        except Exception:
            log.exception("finishing handoff DM %s failed", handoff_id)
            self.handoffs.check_dm_later(handoff_id, self.cases.clock() + HISTORY_INTERVAL)

    def _close_handoff_dm(self, handoff: HandoffView, outcome: str) -> None:
        if not (handoff.dm_channel and handoff.dm_ts):
            return
        case = self.cases.get(handoff.case_id)
        if case is None:
            return
        _, original = notices.handoff_dm(case, handoff.id, handoff.from_user, handoff.note)
        try:
            self.client.chat_update(
                channel=handoff.dm_channel, ts=handoff.dm_ts, text=outcome, blocks=notices.answered(original, outcome)
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("updating handoff DM %s failed: %s", handoff.id, error_code(exc))

    def accept_handoff(self, handoff_id: int, *, user: str) -> None:
        changed, handoff = self.handoffs.accept(handoff_id, user=user)
        if not changed:
            self._close_handoff_dm(handoff, texts.HANDOFF_STALE.format(status=handoff.status))
            return
        case = self.cases.require(handoff.case_id)
        who = dict(colleague=mrkdwn.mention(user), requester=mrkdwn.mention(handoff.from_user), number=case.id)
        self._close_handoff_dm(handoff, texts.HANDOFF_ACCEPTED_DM.format(number=case.id, url=case.permalink or ""))
        self.thread_note(case, texts.HANDOFF_ACCEPTED_THREAD.format(**who))
        self.tell(handoff.from_user, texts.HANDOFF_ACCEPTED_TELL.format(**who))
        self.refresh(case.id)

    def decline_handoff(self, handoff_id: int, *, user: str, reason: str | None) -> None:
        changed, handoff = self.handoffs.decline(handoff_id, user=user, reason=reason)
        if not changed:
            self._close_handoff_dm(handoff, texts.HANDOFF_STALE.format(status=handoff.status))
            return
        case = self.cases.require(handoff.case_id)
        because = f" ({mrkdwn.safe_limited(reason, 500)})" if reason else ""
        who = dict(colleague=mrkdwn.mention(user), requester=mrkdwn.mention(handoff.from_user), number=case.id, reason=because)
        self._close_handoff_dm(handoff, texts.HANDOFF_DECLINED_DM.format(number=case.id))
        self.tell(handoff.from_user, texts.HANDOFF_DECLINED_TELL.format(**who))
        self.thread_note(case, texts.HANDOFF_DECLINED_THREAD.format(**who))
        self.refresh(case.id)

    # --- escalation --------------------------------------------------------------------------
    def escalate(self, case_id: int, *, user: str, need: str, expected_by: Any, severity: str) -> None:
        channel = self._configured_channel("ESCALATION_CHANNEL", self.config.escalation_channel, user)
        case = self.cases.escalate(case_id, user=user, need=need, expected_by=expected_by, severity=severity, channel=channel)
        text, post = notices.escalation_post(case)
        target, thread_ts = (channel, None) if channel else (case.channel_id, case.message_ts)
        try:
            if channel:
                self._ensure_member(channel)
            response = self.client.chat_postMessage(channel=target, thread_ts=thread_ts, text=text, blocks=post, unfurl_links=False)
            self.cases.set_escalation_message(case_id, response["channel"], response["ts"])
            posted_elsewhere = bool(channel)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("posting escalation of case %s to %s failed: %s", case_id, target, error_code(exc))
            posted_elsewhere = False
            if channel:  # fall back to the case thread so the request is not lost
                try:
                    response = self.client.chat_postMessage(
                        channel=case.channel_id, thread_ts=case.message_ts, text=text, blocks=post, unfurl_links=False
                    )
                    self.cases.set_escalation_message(case_id, response["channel"], response["ts"])
                except (SlackApiError, SlackClientError, OSError):
                    self.tell(user, texts.POST_FAILED.format(number=case_id, error=error_code(exc)))
        esc = case.escalation or {}
        expected = mrkdwn.slack_date(expected_by)
        line = texts.ESCALATED_THREAD.format(
            user=mrkdwn.mention(user), severity=texts.SEVERITIES.get(severity, severity),
            need=mrkdwn.safe_limited(esc.get("need"), 1500), expected=expected,
        )
        if posted_elsewhere:
            line += texts.ESCALATED_ELSEWHERE.format(channel=channel)
        self.thread_note(case, line)
        self.refresh(case_id)

    def escalation_update(self, case_id: int, *, user: str, text: str) -> None:
        case = self.cases.escalation_update(case_id, user=user, text=text)
        safe_text = mrkdwn.safe_limited(text, 2500)
        self.thread_note(case, texts.ESC_UPDATE_THREAD.format(user=mrkdwn.mention(user), text=safe_text))
        if case.owner_id != user:
            self.tell(case.owner_id, texts.ESC_UPDATE_DM.format(
                user=mrkdwn.mention(user), number=case.id, text=safe_text, url=case.permalink or ""))

    def escalation_fixed(self, case_id: int, *, user: str) -> bool:
        changed, case = self.cases.escalation_fixed(case_id, user=user)
        if not changed:
            return False
        self.thread_note(case, texts.ESC_FIXED_THREAD.format(user=mrkdwn.mention(user)))
        if case.owner_id != user:
            self.tell(case.owner_id, texts.ESC_FIXED_DM.format(user=mrkdwn.mention(user), number=case.id, url=case.permalink or ""))
        esc = case.escalation or {}
        if esc.get("channel") and esc.get("ts"):
            text, post = notices.escalation_post(case)
            try:
                self.client.chat_update(channel=esc["channel"], ts=esc["ts"], text=text, blocks=post)
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("updating escalation post of case %s failed: %s", case_id, error_code(exc))
        self.refresh(case_id)
        return True

    # --- closing and review ----------------------------------------------------------------
    def close(self, case_id: int, *, user: str, outcome: str, details: dict[str, Any]) -> bool:
        self.people.lookup(user)  # the owner's time zone, cached, for scheduling the follow-ups
        pending = self.handoffs.pending_for(case_id)
        changed, case = self.cases.close(case_id, user=user, outcome=outcome, details=details)
        if not changed:
            return False
        for handoff in pending:  # closing withdrew these requests: take the buttons off their DMs
            self._close_handoff_dm(handoff, texts.HANDOFF_CANCELLED.format(number=case_id))
        duration = human_duration(((case.closed_at or case.opened_at) - case.opened_at).total_seconds())
        if outcome == "resolved":
            line = texts.RESOLVED_THREAD.format(user=mrkdwn.mention(user), duration=duration,
                                                fix=mrkdwn.safe_limited(details.get("fix"), 1500))
            if details.get("prevention"):
                line += "\n" + texts.RESOLVED_PREVENTION.format(advice=mrkdwn.safe_limited(details["prevention"], 1000))
            if details.get("feedback_asked") is not None:
                line += "\n" + texts.RESOLVED_FEEDBACK.format(answer="yes" if details["feedback_asked"] else "no")
        else:
            line = texts.UNRESOLVED_THREAD.format(user=mrkdwn.mention(user), duration=duration,
                                                  explanation=mrkdwn.safe_limited(details.get("explanation"), 2000))
        self.thread_note(case, line)
        self.refresh(case_id)
        text, prompt = notices.review_prompt(case)
        self.thread_note(case, text, prompt)
        return True

    def reopen(self, case_id: int, *, user: str) -> bool:
        changed, case = self.cases.reopen(case_id, user=user)
        if changed:
            self.thread_note(case, texts.REOPENED_THREAD.format(user=mrkdwn.mention(user)))
            self.refresh(case_id)
        return changed

    def review(self, case_id: int, *, user: str, cause: str, improve: str | None, ux_issue: str | None) -> None:
        already_forwarded = self.cases.review_forwarded(case_id)
        case = self.cases.save_review(case_id, user=user, cause=cause, improve=improve, ux_issue=ux_issue)
        line = texts.REVIEW_SAVED_THREAD.format(
            user=mrkdwn.mention(user), cause=texts.CAUSES.get(cause, cause),
            improve=texts.REVIEW_IMPROVE_LINE.format(text=mrkdwn.safe_limited(improve, 1200)) if improve else "",
        )
        if ux_issue:
            line += texts.REVIEW_UX_LINE.format(text=mrkdwn.safe_limited(ux_issue, 1200))
            channel = self._configured_channel("PRODUCT_FEEDBACK_CHANNEL", self.config.product_feedback_channel, user)
            if channel and not already_forwarded:
                try:
                    self._ensure_member(channel)
                    response = self.client.chat_postMessage(
                        channel=channel, text=notices.product_feedback(case, user, cause, ux_issue), unfurl_links=False
                    )
                    self.cases.set_review_forwarded(case_id, response["ts"])
                    line += texts.REVIEW_FORWARDED.format(channel=channel)
                except (SlackApiError, SlackClientError, OSError) as exc:
                    log.warning("forwarding UX issue of case %s failed: %s", case_id, error_code(exc))
                    self.tell(user, texts.FEEDBACK_FORWARD_FAILED.format(channel=channel, error=error_code(exc)))
        self.thread_note(case, line)
        self.refresh(case_id)

    # --- reminders -------------------------------------------------------------------------
    def _update_reminder_dm(self, reminder: ReminderView, line: str) -> None:
        if not (reminder.dm_channel and reminder.dm_ts):
            return
        case = self.cases.get(reminder.case_id or 0)
        if reminder.kind == "follow_up" and case is not None:
            _, original = notices.follow_up_dm(case, reminder.id)
        elif reminder.kind == "breather" and case is not None:
            _, original = notices.breather_dm(case, reminder.id, reminder.payload, self.config.breather_minutes)
        else:
            original = []
        try:
            self.client.chat_update(
                channel=reminder.dm_channel, ts=reminder.dm_ts, text=line, blocks=notices.answered(original, line)
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("updating reminder DM %s failed: %s", reminder.id, error_code(exc))

    def _stale_reminder(self, reminder: ReminderView) -> None:
        """A second click on an answered reminder: the DM already shows the first answer; keep it."""
        log.info("reminder %s was already %s; ignoring a repeated answer", reminder.id, reminder.status)

    def followed_up(self, reminder_id: int, *, user: str, outcome: str, note: str | None) -> None:
        changed, reminder = self.followups.followed_up(reminder_id, user=user, outcome=outcome, note=note)
        if not changed:
            return self._stale_reminder(reminder)
        label = texts.FOLLOWED_UP_OUTCOMES[outcome]
        self._update_reminder_dm(
            reminder, texts.FOLLOWED_UP_DONE.format(user=mrkdwn.mention(user), when=mrkdwn.slack_date(self.cases.clock()), outcome=label)
        )
        case = self.cases.get(reminder.case_id or 0)
        if case is not None:
            extra = f"\n{mrkdwn.safe_limited(note, 1500)}" if note else ""
            self.thread_note(case, texts.FOLLOWED_UP_THREAD.format(user=mrkdwn.mention(user), outcome=label.lower(), note=extra))
            if outcome == "unhappy":
                self.reopen(case.id, user=user)

    def snooze(self, reminder_id: int, *, user: str, choice: str) -> None:
        changed, reminder, until = self.followups.snooze(reminder_id, user=user, choice=choice)
        if not changed or until is None:
            return self._stale_reminder(reminder)
        self._update_reminder_dm(reminder, texts.SNOOZED.format(when=mrkdwn.slack_date(until)))

    def skip(self, reminder_id: int, *, user: str) -> None:
        changed, reminder = self.followups.skip(reminder_id, user=user)
        if not changed:
            return self._stale_reminder(reminder)
        self._update_reminder_dm(reminder, texts.SKIPPED.format(user=mrkdwn.mention(user)))

    def start_breather(self, reminder_id: int, *, user: str) -> None:
        changed, reminder, until = self.followups.start_breather(reminder_id, user=user)
        if not changed or until is None:
            return self._stale_reminder(reminder)
        self._update_reminder_dm(reminder, texts.BREATHER_STARTED.format(until=mrkdwn.slack_date(until, "{time}")))

    def skip_breather(self, reminder_id: int, *, user: str) -> None:
        changed, reminder = self.followups.skip_breather(reminder_id, user=user)
        if not changed:
            return self._stale_reminder(reminder)
        self._update_reminder_dm(reminder, texts.BREATHER_SKIPPED)
