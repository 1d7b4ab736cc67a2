"""Follow-ups and breathers (bot/followups/ through the services app.py wires), on SQLite and PostgreSQL:
what closing, reopening and handing off schedule or cancel, the DMs and the agent's answers to them,
breathers, the long-open nudge and working hours at delivery. The clock is explicit; the engine is
ticked with explicit datetimes and delivers to the Slack stand-in."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Row, event, select

from bot import texts
from bot.core.config import load_config
from bot.core.errors import CaseError
from bot.core.reminders import Due, ReminderEngine
from bot.followups.schedule import snooze_until
from handlers.followups import ids as followups_ids
from storage import repositories as repo
from storage.models import Agent, Reminder
from storage.sql import row_by_key
from tests.support import wired

UTC = UTC
TOKEN = "xoxb-test-token"
AGENT, COLLEAGUE, THIRD = "UAGENT", "UCOLLEAGUE", "UTHIRD"  # Berlin, New York, Tokyo
OPENED = datetime(2026, 6, 3, 11, 50, tzinfo=UTC)
CLOSED = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)  # Wednesday: Berlin 14:00, New York 08:00, Tokyo 21:00


class World:
    def __init__(self, db, standin, **env: str):  # type: ignore[no-untyped-def]
        self.db, self.standin, self.now = db, standin, OPENED
        self.config = load_config({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "secret",
                                   "SLACK_API_URL": standin.url, **env})
        self.services, self.sender = wired(self.config, db, standin.url, lambda: self.now)
        self.cases = self.services.cases
        self.engine = ReminderEngine(db, self.sender.deliver, clock=lambda: self.now, worker="test")

    # --- driving ---
    def at(self, when: datetime) -> World:
        self.now = when
        return self

    def tick(self, when: datetime | None = None):  # type: ignore[no-untyped-def]
        if when is not None:
            self.now = when
        return self.engine.tick(self.now)

    def open(self, owner: str = AGENT, **kw: Any) -> int:
        fields = dict(customer="Acme Corp", summary="charged twice, threatening to cancel")
        fields.update(kw)
        case = self.cases.open(team_id="T0001", channel_id="CSUPPORT", flagged_by=owner, **fields)
        assert self.services.publisher.publish(case.id).ok
        return case.id

    def close(self, case_id: int, user: str = AGENT, when: datetime = CLOSED) -> None:
        self.now = when
        assert self.services.closing.close(case_id, user=user, outcome="resolved",
                                 details={"fix": "refunded the second charge", "feedback_asked": True})

    # --- looking ---
    def reminders(self, case_id: int | None = None, kind: str | None = None, status: str | None = None) -> list[Row[Any]]:
        with self.db.session() as session:
            stmt = select(Reminder).order_by(Reminder.c.due_at, Reminder.c.id)
            if case_id is not None:
                stmt = stmt.where(Reminder.c.case_id == case_id)
            if kind is not None:
                stmt = stmt.where(Reminder.c.kind == kind)
            if status is not None:
                stmt = stmt.where(Reminder.c.status == status)
            rows = list(session.execute(stmt).all())
            return rows

    def reminder(self, rid: int) -> Row[Any]:
        (row,) = [r for r in self.reminders() if r.id == rid]
        return row

    def dms(self, user: str = AGENT, kind: str | None = None) -> list[dict[str, Any]]:
        out = []
        for m in self.standin.dm_messages(user):
            meta = m.get("metadata") or {}
            if meta.get("event_type") == "defuse_reminder" and kind in (None, meta["event_payload"]["kind"]):
                out.append(m)
        return out

    def dm_for(self, rid: int, user: str = AGENT) -> dict[str, Any]:
        (dm,) = [m for m in self.dms(user) if m["metadata"]["event_payload"]["reminder_id"] == rid]
        return dm

    def events(self, case_id: int, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.cases.history(case_id) if not kinds or e["kind"] in kinds]

    def agent(self, user: str = AGENT) -> Row[Any] | None:
        with self.db.session() as session:
            return row_by_key(session, Agent, user)

    def first_follow_up(self, case_id: int) -> int:
        """Deliver the first follow-up of a closed case; its reminder id."""
        first = self.reminders(case_id, "follow_up", "pending")[0]
        stats = self.tick(max(first.due_at, self.now))
        assert stats.sent >= 1
        assert self.reminder(first.id).status == "sent"
        return first.id


@pytest.fixture
def world(db, standin) -> World:  # type: ignore[no-untyped-def]
    return World(db, standin)


@pytest.fixture
def off(db, standin) -> World:  # type: ignore[no-untyped-def]
    """Working hours off: reminders go out at the exact offset."""
    return World(db, standin, FOLLOW_UP_WORKING_HOURS="off")


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False) + message.get("text", "")


def action_ids(message: dict[str, Any]) -> list[str]:
    return [e.get("action_id") for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def last_context(message: dict[str, Any]) -> str:
    block = message["blocks"][-1]
    assert block["type"] == "context", message["blocks"]
    return block["elements"][0]["text"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- scheduling on close ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "owner, expected",
    [
        (AGENT, [utc(2026, 6, 4, 12, 0), utc(2026, 6, 10, 12, 0), utc(2026, 7, 3, 12, 0)]),      # Berlin 14:00
        (COLLEAGUE, [utc(2026, 6, 4, 13, 0), utc(2026, 6, 10, 13, 0), utc(2026, 7, 3, 13, 0)]),  # NY 08:00 -> 09:00
        (THIRD, [utc(2026, 6, 5, 0, 0), utc(2026, 6, 11, 0, 0), utc(2026, 7, 6, 0, 0)]),         # Tokyo 21:00 -> 09:00
    ],
)
def test_close_schedules_three_follow_ups_for_the_owner_in_their_zone(world: World, owner, expected):
    case_id = world.open(owner)
    world.close(case_id, user=owner)
    follow_ups = world.reminders(case_id, "follow_up")
    assert [r.due_at for r in follow_ups] == expected
    assert {r.recipient for r in follow_ups} == {owner}
    assert {r.status for r in follow_ups} == {"pending"}
    assert [r.payload for r in follow_ups] == [{"index": i, "of": 3} for i in range(3)]
    assert len({r.dedupe_key for r in follow_ups}) == 3
    # Nothing is due yet but the breather offered on close.
    stats = world.tick(CLOSED)
    assert stats.sent == 1 and len(world.dms(owner, "breather")) == 1 and world.dms(owner, "follow_up") == []
    for due in expected:
        assert world.tick(due - timedelta(seconds=1)).sent == 0
        assert world.tick(due).sent == 1
    assert len(world.dms(owner, "follow_up")) == 3


def test_follow_ups_across_the_end_of_dst_keep_the_agents_wall_time(db, standin):
    world = World(db, standin, FOLLOW_UP_SCHEDULE="7d,168h", FOLLOW_UP_WORKING_HOURS="off")
    world.at(utc(2026, 10, 19, 7, 50))
    case_id = world.open()
    world.close(case_id, when=utc(2026, 10, 19, 8, 0))  # Monday 10:00 CEST in Berlin
    by_days, by_hours = sorted(world.reminders(case_id, "follow_up"), key=lambda r: r.payload["index"])
    assert by_days.due_at == utc(2026, 10, 26, 9, 0)   # 10:00 CET
    assert by_hours.due_at == utc(2026, 10, 26, 8, 0)  # 09:00 CET


def test_a_repeated_close_schedules_nothing_more(world: World):
    case_id = world.open()
    world.close(case_id)
    assert not world.services.closing.close(case_id, user=AGENT, outcome="resolved", details={"fix": "again"})
    assert len(world.reminders(case_id, "follow_up")) == 3
    assert len(world.reminders(case_id, "breather", "pending")) == 1


def test_follow_up_schedule_from_the_configuration(db, standin):
    world = World(db, standin, FOLLOW_UP_SCHEDULE="2h,3d", FOLLOW_UP_WORKING_HOURS="off")
    case_id = world.open()
    world.close(case_id)
    assert [r.due_at for r in world.reminders(case_id, "follow_up")] == [CLOSED + timedelta(hours=2), utc(2026, 6, 6, 12, 0)]


def test_no_follow_ups_when_the_schedule_is_off(db, standin):
    world = World(db, standin, FOLLOW_UP_SCHEDULE="off")
    case_id = world.open()
    world.close(case_id)
    assert world.reminders(case_id, "follow_up") == []
    assert len(world.reminders(case_id, "breather", "pending")) == 1


def test_step_6_custom_first_date_moves_the_first_follow_up(world: World):
    case_id = world.open()
    world.cases.set_step(case_id, 6, done=True, user=AGENT,
                         details={"plan": "call her after the refund lands", "first_date": "2026-06-09"})
    world.close(case_id)
    assert [r.due_at for r in world.reminders(case_id, "follow_up")] == [
        utc(2026, 6, 9, 7, 0), utc(2026, 6, 10, 12, 0), utc(2026, 7, 3, 12, 0)]  # 09:00 Berlin on the chosen day
    first = world.first_follow_up(case_id)
    assert "call her after the refund lands" in text_of(world.dm_for(first))


@pytest.mark.parametrize(
    "raw, problem",
    [(None, None), ("", None), ("2026-06-04", None), ("2026-10-01", None), ("2026-06-03", texts.ERR_DATE_PAST),
     ("2026-05-01", texts.ERR_DATE_PAST), ("2026-10-02", texts.ERR_DATE_FAR), ("not a date", texts.ERR_REQUIRED)],
)
def test_step_6_first_date_validation(world: World, raw, problem):
    chosen, error = world.services.reminders.check_plan_date(raw)
    assert error == problem
    assert chosen == (date.fromisoformat(raw) if raw and not problem else None)


def _check_plan_date_for(world: World, raw: str, user: str):  # type: ignore[no-untyped-def]
    """Call check_plan_date the way a fix might take the agent (user or time zone); today it takes neither."""
    params = inspect.signature(world.services.reminders.check_plan_date).parameters
    if "user" in params:
        return world.services.reminders.check_plan_date(raw, user=user)
    if "tz" in params:
        person = world.services.people.cached(user)
        return world.services.reminders.check_plan_date(raw, tz=person.tz if person else None)
    return world.services.reminders.check_plan_date(raw)


def test_step_6_first_date_is_checked_against_the_agents_own_today(world: World):
    world.at(utc(2026, 6, 4, 1, 0))  # 3 June, 21:00 in New York
    world.services.people.lookup(COLLEAGUE)
    assert _check_plan_date_for(world, "2026-06-04", COLLEAGUE) == (date(2026, 6, 4), None)


# --- the DM -------------------------------------------------------------------------------------
def test_follow_up_dm_says_who_what_happened_what_was_done_and_links_the_case(world: World):
    case_id = world.open(customer="Acme Corp", summary="charged twice, threatening to cancel")
    world.cases.set_step(case_id, 5, done=True, user=AGENT, details={"action": "refund issued"})
    world.cases.set_step(case_id, 6, done=True, user=AGENT, details={"plan": "check the refund arrived"})
    world.close(case_id)
    rid = world.first_follow_up(case_id)
    dm = world.dm_for(rid)
    body = text_of(dm)
    case = world.cases.require(case_id)
    for part in ("Acme Corp", f"#{case_id}", "charged twice, threatening to cancel", "refund issued",
                 "refunded the second charge", "check the refund arrived", case.permalink):
        assert part in body, part
    assert action_ids(dm) == [followups_ids.FOLLOWED_UP_ACTION, followups_ids.SNOOZE_ACTION, followups_ids.SKIP_ACTION]
    actions = next(b for b in dm["blocks"] if b["type"] == "actions")
    assert actions["block_id"] == f"reminder_{rid}"
    snooze = next(e for e in actions["elements"] if e["action_id"] == followups_ids.SNOOZE_ACTION)
    assert [o["value"] for o in snooze["options"]] == ["hour", "tomorrow", "week"]
    assert "Acme Corp" in dm["text"]
    row = world.reminder(rid)
    assert (row.dm_channel, row.dm_ts) == (f"D{AGENT}", dm["ts"])


# --- reopen and handoff -------------------------------------------------------------------------
def test_reopen_cancels_pending_follow_ups_and_a_new_close_schedules_new_ones(world: World):
    case_id = world.open()
    world.close(case_id)
    first = world.first_follow_up(case_id)
    world.at(utc(2026, 6, 5, 9, 0))
    assert world.services.closing.reopen(case_id, user=AGENT)
    follow_ups = {r.id: r for r in world.reminders(case_id, "follow_up")}
    assert follow_ups[first].status == "sent"
    cancelled = [r for r in follow_ups.values() if r.id != first]
    assert [(r.status, r.last_error) for r in cancelled] == [("cancelled", "case reopened")] * 2
    world.tick(utc(2026, 7, 31, 9, 0))
    assert len(world.dms(kind="follow_up")) == 1
    # Closing again (Monday 12:00 in Berlin) schedules a fresh set from the new close.
    world.close(case_id, when=utc(2026, 8, 3, 10, 0))
    fresh = world.reminders(case_id, "follow_up", "pending")
    assert [r.due_at for r in fresh] == [utc(2026, 8, 4, 10, 0), utc(2026, 8, 10, 10, 0), utc(2026, 9, 2, 10, 0)]


def test_a_follow_up_for_a_case_open_again_is_cancelled_at_delivery(world: World):
    case_id = world.open()
    world.close(case_id)
    first = world.reminders(case_id, "follow_up")[0]
    with world.db.session() as session:  # reopened behind the hooks' back (e.g. by an older version)
        repo.update_case(session, case_id, world.now, status="open", closed_at=None)
    world.tick(first.due_at)
    assert world.reminder(first.id).status == "cancelled"
    assert world.dms(kind="follow_up") == []


def test_a_batch_reads_its_cases_at_once_and_a_stale_read_ahead_is_not_trusted(world: World):
    ids = [world.open(customer=f"Customer {n}") for n in range(4)]
    for case_id in ids:
        world.close(case_id)
    firsts = [world.reminders(case_id, "follow_up")[0] for case_id in ids]
    reads: list[str] = []
    listener = lambda conn, cursor, statement, *rest: reads.append(statement)  # noqa: E731
    engine = ReminderEngine(world.db, world.sender.deliver, clock=lambda: world.now, worker="ahead",
                            prepare=world.sender.prepare)
    with world.db.session() as session:  # one case is reopened behind the hooks' back, before the batch
        repo.update_case(session, ids[3], world.now, status="open", closed_at=None)
    event.listen(world.db.engine, "before_cursor_execute", listener)
    try:
        stats = engine.tick(firsts[0].due_at)  # breathers and first follow-ups of all four, due together
    finally:
        event.remove(world.db.engine, "before_cursor_execute", listener)
    assert len(world.dms(kind="follow_up")) == 3 and world.reminder(firsts[3].id).status == "cancelled"
    assert stats.claimed == 8
    assert sum(1 for sql in reads if sql.lstrip().upper().startswith("SELECT") and "FROM cases" in sql) == 1

    second = world.reminders(ids[0], "follow_up")[1]
    world.sender.prepare([Due(second.id, "follow_up", ids[0], AGENT, second.due_at, 1, {}, "k", None)])
    with world.db.session() as session:  # read ahead as closed, then reopened ...
        repo.update_case(session, ids[0], world.now, status="open", closed_at=None)
    world.sender._read_at -= 60  # ... long before the send (a slow Slack): the case is read again
    world.tick(second.due_at)
    assert world.reminder(second.id).status == "cancelled"


def test_accepted_handoff_moves_pending_reminders_to_the_new_owner(world: World):
    case_id = world.open(AGENT)
    (nudge,) = world.reminders(case_id, "breather")
    assert nudge.recipient == AGENT and nudge.due_at == OPENED + timedelta(minutes=30)
    world.at(OPENED + timedelta(minutes=5))
    handoff, _ = world.services.handoffs.request(case_id, requester=AGENT, colleague=COLLEAGUE, note=None)
    assert world.reminder(nudge.id).recipient == AGENT  # only asked so far
    changed, _ = world.services.handoffs.accept(handoff.id, user=COLLEAGUE)
    assert changed
    assert world.reminder(nudge.id).recipient == COLLEAGUE
    world.tick(OPENED + timedelta(minutes=30))
    assert len(world.dms(COLLEAGUE, "breather")) == 1 and world.dms(AGENT) == []
    # The new owner closes: follow-ups are theirs, in New York time.
    world.close(case_id, user=COLLEAGUE, when=OPENED + timedelta(minutes=31))
    assert [(r.recipient, r.due_at) for r in world.reminders(case_id, "follow_up")] == [
        (COLLEAGUE, utc(2026, 6, 4, 13, 0)), (COLLEAGUE, utc(2026, 6, 10, 13, 0)), (COLLEAGUE, utc(2026, 7, 3, 13, 0))]


def test_declined_handoff_moves_nothing(world: World):
    case_id = world.open(AGENT)
    handoff, _ = world.services.handoffs.request(case_id, requester=AGENT, colleague=COLLEAGUE, note=None)
    world.services.handoffs.decline(handoff.id, user=COLLEAGUE, reason="busy")
    assert {r.recipient for r in world.reminders(case_id)} == {AGENT}


# --- answers to a follow-up ---------------------------------------------------------------------
def _closed_with_first_follow_up(world: World) -> tuple[int, int]:
    case_id = world.open()
    world.close(case_id)
    return case_id, world.first_follow_up(case_id)


@pytest.mark.parametrize("outcome", ["happy", "no_answer"])
def test_followed_up_updates_the_dm_in_place_and_the_case_record(world: World, standin, outcome):
    case_id, rid = _closed_with_first_follow_up(world)
    dm = world.dm_for(rid)
    world.services.answers.followed_up(rid, user=AGENT, outcome=outcome, note="spoke on the phone")
    assert world.reminder(rid).status == "done"
    updated = world.dm_for(rid)
    assert updated["ts"] == dm["ts"] and "edited" in updated
    assert action_ids(updated) == []
    assert "Followed up by <@UAGENT>" in last_context(updated)
    assert texts.FOLLOWED_UP_OUTCOMES[outcome] in last_context(updated)
    (event,) = world.events(case_id, "follow_up")
    assert event["actor"] == AGENT
    assert event["data"] == {"reminder": rid, "outcome": outcome, "note": "spoke on the phone"}
    case = world.cases.require(case_id)
    assert case.status == "resolved"
    thread = standin.thread("CSUPPORT", case.message_ts)
    assert any("followed up with the customer" in m["text"] and "spoke on the phone" in m["text"] for m in thread)
    # The later follow-ups still come.
    assert len(world.reminders(case_id, "follow_up", "pending")) == 2


def test_still_unhappy_reopens_the_case_and_cancels_the_rest(world: World):
    case_id, rid = _closed_with_first_follow_up(world)
    world.services.answers.followed_up(rid, user=AGENT, outcome="unhappy", note=None)
    case = world.cases.require(case_id)
    assert case.is_open
    assert [e["kind"] for e in world.events(case_id, "follow_up", "reopened")] == ["follow_up", "reopened"]
    assert world.reminders(case_id, "follow_up", "pending") == []
    assert len(world.reminders(case_id, "follow_up", "cancelled")) == 2
    # A double click: nothing more happens.
    world.services.answers.followed_up(rid, user=AGENT, outcome="unhappy", note=None)
    world.services.answers.followed_up(rid, user=AGENT, outcome="happy", note=None)
    assert [e["kind"] for e in world.events(case_id, "follow_up", "reopened")] == ["follow_up", "reopened"]
    assert world.reminder(rid).status == "done"


def test_double_clicks_change_nothing_in_the_record(world: World):
    case_id, rid = _closed_with_first_follow_up(world)
    world.services.answers.skip(rid, user=AGENT)
    before = (world.cases.history(case_id), [(r.id, r.status, r.due_at) for r in world.reminders()])
    world.services.answers.skip(rid, user=AGENT)
    world.services.answers.snooze(rid, user=AGENT, choice="hour")
    world.services.answers.followed_up(rid, user=AGENT, outcome="unhappy", note="late click")
    after = (world.cases.history(case_id), [(r.id, r.status, r.due_at) for r in world.reminders()])
    assert after == before
    assert world.cases.require(case_id).status == "resolved"


def test_a_double_click_leaves_the_dm_showing_the_first_answer(world: World):
    _, rid = _closed_with_first_follow_up(world)
    world.services.answers.followed_up(rid, user=AGENT, outcome="happy", note=None)
    world.services.answers.followed_up(rid, user=AGENT, outcome="happy", note=None)
    assert "Followed up by <@UAGENT>" in last_context(world.dm_for(rid))


def test_skip(world: World):
    case_id, rid = _closed_with_first_follow_up(world)
    world.services.answers.skip(rid, user=AGENT)
    assert world.reminder(rid).status == "skipped"
    assert last_context(world.dm_for(rid)) == texts.SKIPPED.format(user="<@UAGENT>")
    assert action_ids(world.dm_for(rid)) == []
    assert [e["data"] for e in world.events(case_id, "follow_up_skipped")] == [{"reminder": rid}]
    assert len(world.reminders(case_id, "follow_up", "pending")) == 2  # only this one is skipped


@pytest.mark.parametrize("choice", ["hour", "tomorrow", "week"])
def test_snooze_reschedules_a_copy_and_sends_it_then(world: World, choice):
    case_id, rid = _closed_with_first_follow_up(world)
    world.at(world.now + timedelta(minutes=3))  # Thursday 14:03 in Berlin
    expected = snooze_until(world.now, choice, "Europe/Berlin", world.config.working_hours)
    world.services.answers.snooze(rid, user=AGENT, choice=choice)
    assert world.reminder(rid).status == "snoozed"
    assert "Snoozed until" in last_context(world.dm_for(rid))
    copies = [r for r in world.reminders(case_id, "follow_up") if r.payload.get("snoozed_from") == rid]
    assert len(copies) == 1 and copies[0].due_at == expected and copies[0].recipient == AGENT
    (event,) = world.events(case_id, "follow_up_snoozed")
    assert event["data"] == {"reminder": rid, "until": expected.isoformat(), "choice": choice}
    # A double click snoozes once.
    world.services.answers.snooze(rid, user=AGENT, choice=choice)
    assert len([r for r in world.reminders(case_id) if r.payload.get("snoozed_from") == rid]) == 1
    assert len(world.events(case_id, "follow_up_snoozed")) == 1
    # Due then, not before.
    world.tick(expected - timedelta(seconds=1))
    assert copies[0].id not in [m["metadata"]["event_payload"]["reminder_id"] for m in world.dms(kind="follow_up")]
    world.tick(expected)
    again = world.dm_for(copies[0].id)
    assert action_ids(again) == [followups_ids.FOLLOWED_UP_ACTION, followups_ids.SNOOZE_ACTION, followups_ids.SKIP_ACTION]


def test_snooze_tomorrow_is_the_agents_tomorrow_morning(world: World):
    case_id = world.open(THIRD)
    world.close(case_id, user=THIRD)
    rid = world.first_follow_up(case_id)  # Friday 09:00 in Tokyo
    world.services.answers.snooze(rid, user=THIRD, choice="tomorrow")
    copy = [r for r in world.reminders(case_id) if r.payload.get("snoozed_from") == rid][0]
    assert copy.due_at == utc(2026, 6, 8, 0, 0)  # Saturday -> Monday 09:00 JST


def test_only_the_recipient_can_answer(world: World):
    case_id, rid = _closed_with_first_follow_up(world)
    for act in (lambda: world.services.answers.skip(rid, user=COLLEAGUE),
                lambda: world.services.answers.snooze(rid, user=COLLEAGUE, choice="hour"),
                lambda: world.services.answers.followed_up(rid, user=COLLEAGUE, outcome="unhappy", note=None)):
        with pytest.raises(CaseError):
            act()
    assert world.reminder(rid).status == "sent"
    assert world.events(case_id, "follow_up", "follow_up_skipped", "follow_up_snoozed", "reopened") == []


def test_an_answer_before_the_reminder_was_sent_changes_nothing(world: World):
    case_id = world.open()
    world.close(case_id)
    pending = world.reminders(case_id, "follow_up")[0]
    world.services.answers.skip(pending.id, user=AGENT)
    assert world.reminder(pending.id).status == "pending"


def test_many_snoozes_of_one_follow_up(request, db, standin):
    world = World(db, standin, FOLLOW_UP_WORKING_HOURS="off")
    case_id = world.open()
    world.close(case_id)
    rid = world.first_follow_up(case_id)
    for _ in range(25):
        world.services.answers.snooze(rid, user=AGENT, choice="hour")
        (copy,) = [r for r in world.reminders(case_id) if r.payload.get("snoozed_from") == rid]
        world.tick(copy.due_at)
        assert world.reminder(copy.id).status == "sent"
        rid = copy.id


# --- breathers ----------------------------------------------------------------------------------
def test_close_offers_a_breather_at_once_with_a_calmer_task(world: World):
    case_id = world.open()
    world.close(case_id)
    (offer,) = world.reminders(case_id, "breather", "pending")
    assert offer.due_at == CLOSED and offer.payload["reason"] == "closed"
    world.tick(CLOSED)
    dm = world.dm_for(offer.id)
    assert texts.BREATHER_DM_CLOSED in dm["text"]
    assert any(task in text_of(dm) for task in texts.BREATHER_TASKS)
    assert action_ids(dm) == [followups_ids.BREATHER_START_ACTION, followups_ids.BREATHER_SKIP_ACTION]
    assert "Start breather (15 min)" in text_of(dm)


def test_a_furious_case_gets_the_hard_case_breather(world: World):
    case_id = world.open(mood="furious")
    world.close(case_id)
    world.tick(CLOSED)
    (dm,) = world.dms(kind="breather")
    assert dm["text"] == texts.BREATHER_DM_HARD.format(why=texts.BREATHER_WHY_FURIOUS)


def test_a_case_closed_after_a_long_time_gets_the_hard_case_breather(world: World):
    case_id = world.open()
    world.close(case_id, when=OPENED + timedelta(minutes=45))
    world.tick()
    assert [m["text"] for m in world.dms(kind="breather")][-1].startswith("🌿 That was a hard one (open for")


def test_start_breather_sets_breather_until_and_welcome_back_ends_it(db, standin):
    world = World(db, standin, BREATHER_MINUTES="20")
    case_id = world.open()
    world.close(case_id)
    world.tick(CLOSED)
    (offer,) = world.reminders(case_id, "breather", "sent")
    world.at(CLOSED + timedelta(minutes=1))
    world.services.answers.start_breather(offer.id, user=AGENT)
    until = CLOSED + timedelta(minutes=21)
    assert world.reminder(offer.id).status == "accepted"
    agent = world.agent()
    assert agent.breather_until == until and agent.breather_task
    assert world.services.people.cached(AGENT).on_breather(world.now)
    assert "Breather started" in last_context(world.dm_for(offer.id))
    assert action_ids(world.dm_for(offer.id)) == []
    # A double click starts nothing more.
    world.services.answers.start_breather(offer.id, user=AGENT)
    (end,) = world.reminders(kind="breather_end")
    assert end.due_at == until and end.recipient == AGENT
    world.tick(until - timedelta(seconds=1))
    assert world.dms(kind="breather_end") == [] and world.agent().breather_until == until
    world.tick(until)
    (welcome,) = world.dms(kind="breather_end")
    assert welcome["text"] == texts.BREATHER_WELCOME_BACK
    assert world.agent().breather_until is None and world.agent().breather_task is None
    assert not world.services.people.cached(AGENT).on_breather(world.now)


def test_not_now_declines_the_breather(world: World):
    case_id = world.open()
    world.close(case_id)
    world.tick(CLOSED)
    (offer,) = world.reminders(case_id, "breather", "sent")
    world.services.answers.skip_breather(offer.id, user=AGENT)
    assert world.reminder(offer.id).status == "declined"
    assert last_context(world.dm_for(offer.id)) == texts.BREATHER_SKIPPED
    world.services.answers.start_breather(offer.id, user=AGENT)  # too late: already answered
    assert world.reminder(offer.id).status == "declined"
    assert world.agent().breather_until is None
    assert world.reminders(kind="breather_end") == []


def test_a_replaced_breather_does_not_say_welcome_back_early(world: World):
    first_case, second_case = world.open(), world.open(customer="Globex")
    world.close(first_case)
    world.close(second_case, when=CLOSED + timedelta(minutes=1))
    world.tick()
    (offer_a,) = world.reminders(first_case, "breather", "sent")
    (offer_b,) = world.reminders(second_case, "breather", "sent")
    world.services.answers.start_breather(offer_a.id, user=AGENT)          # until 12:16
    world.at(CLOSED + timedelta(minutes=6))
    world.services.answers.start_breather(offer_b.id, user=AGENT)          # until 12:21
    world.tick(CLOSED + timedelta(minutes=16))
    assert world.services.people.cached(AGENT).on_breather(world.now)
    assert world.dms(kind="breather_end") == []


def test_a_case_open_for_30_minutes_gets_the_long_open_nudge(world: World):
    case_id = world.open(AGENT)
    assert world.tick(OPENED + timedelta(minutes=29, seconds=59)).sent == 0
    world.tick(OPENED + timedelta(minutes=30))
    (dm,) = world.dms(kind="breather")
    # (The duration in it is rendered from the wall clock, not the engine's `now`: not checked here.)
    assert dm["text"].startswith(f"🌿 Case #{case_id} has been open for ")
    assert action_ids(dm) == [followups_ids.BREATHER_START_ACTION, followups_ids.BREATHER_SKIP_ACTION]


def test_closing_cancels_the_long_open_nudge(world: World):
    case_id = world.open(AGENT)
    world.close(case_id, when=OPENED + timedelta(minutes=10))
    (nudge,) = [r for r in world.reminders(case_id, "breather") if r.payload.get("reason") == "long"]
    assert nudge.status == "cancelled"
    world.tick(OPENED + timedelta(minutes=31))
    (offer,) = world.dms(kind="breather")  # only the offer made on close
    assert offer["metadata"]["event_payload"]["reminder_id"] != nudge.id
    assert "has been open for" not in offer["text"]


# --- working hours at delivery ------------------------------------------------------------------
def test_a_follow_up_found_outside_working_hours_is_deferred_not_sent(world: World):
    case_id = world.open()
    world.close(case_id)
    first = world.reminders(case_id, "follow_up")[0]
    assert first.due_at == utc(2026, 6, 4, 12, 0)  # Thursday 14:00 Berlin
    world.tick(CLOSED)  # the breather offer goes out at once
    # The app was down until Thursday 17:30 in Berlin: too late to bother the agent today.
    stats = world.tick(utc(2026, 6, 4, 15, 30))
    assert stats.deferred == 1 and stats.sent == 0
    row = world.reminder(first.id)
    assert (row.status, row.due_at, row.attempts) == ("pending", utc(2026, 6, 5, 7, 0), 0)
    assert world.dms(kind="follow_up") == []
    assert world.tick(utc(2026, 6, 5, 6, 59)).sent == 0
    assert world.tick(utc(2026, 6, 5, 7, 0)).sent == 1
    assert len(world.dms(kind="follow_up")) == 1


def test_a_follow_up_after_the_agent_moved_zone_waits_for_their_new_morning(world: World, standin):
    case_id = world.open()
    world.close(case_id)
    first = world.reminders(case_id, "follow_up")[0]  # Thursday 14:00 Berlin = 21:00 Tokyo
    standin.add_user(AGENT, "alex", tz="Asia/Tokyo")
    world.at(first.due_at)
    world.services.people.lookup(AGENT, refresh=True)
    assert world.tick().deferred == 1
    assert world.reminder(first.id).due_at == utc(2026, 6, 5, 0, 0)  # Friday 09:00 Tokyo
    assert world.tick(utc(2026, 6, 5, 0, 0)).sent == 1


def test_a_follow_up_due_on_the_weekend_with_hours_off_goes_out_at_once(off: World):
    case_id = off.open()
    off.close(case_id, when=utc(2026, 6, 5, 20, 0))  # Friday evening
    first = off.reminders(case_id, "follow_up")[0]
    assert first.due_at == utc(2026, 6, 6, 20, 0)
    off.tick(first.due_at - timedelta(seconds=1))
    assert off.dms(kind="follow_up") == []
    off.tick(first.due_at)
    assert len(off.dms(kind="follow_up")) == 1
