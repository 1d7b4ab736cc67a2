"""What listeners judge before ack() without the database (handlers/casefile_views.timeframe_problem,
FollowUps.check_plan_date): exact where the agent's time zone is in memory, otherwise refusing only
what is wrong in every time zone; a database that is down is never touched."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import texts
from handlers.escalation.listeners import timeframe_problem
from tests.test_followups import COLLEAGUE, THIRD, World


@pytest.fixture
def world(db, standin) -> World:  # type: ignore[no-untyped-def]
    return World(db, standin)

UTC = UTC
# 22:00 UTC on 3 June: 4 June 12:00 in UTC+14, 3 June 10:00 in UTC-12, 23:00 in London, 18:00 in New York.
LATE = datetime(2026, 6, 3, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw, known, problem", [
    ("soon", (False, None), "format"),
    ("2020-01-01", (False, None), "past"),
    ("200 days", (False, None), "far"),
    ("2 days", (False, None), None),
    ("today", (False, None), None),  # 17:00 today is still ahead somewhere: judged exactly after the ack
    ("today", (True, "Europe/London"), "past"),  # 23:00 in London: today's 17:00 has gone
    ("today", (True, "America/Los_Angeles"), None),  # 15:00 there
    ("2026-06-03", (True, None), "past"),  # known to have no zone: UTC
])
def test_timeframe_before_ack(raw, known, problem):
    assert timeframe_problem(raw, LATE, known) == problem


def test_plan_date_uses_a_remembered_zone_and_is_lenient_without_one(world: World):
    world.at(LATE)
    # Zone not in memory: 4 June is still tomorrow somewhere (UTC-12), so it is not refused by mistake;
    # 3 June is today or past everywhere.
    assert world.services.reminders.check_plan_date("2026-06-04", user="UNKNOWN") == (date(2026, 6, 4), None)
    assert world.services.reminders.check_plan_date("2026-06-03", user="UNKNOWN")[1] == texts.ERR_DATE_PAST
    world.services.people.lookup(THIRD)  # Tokyo, remembered: already 07:00 on 4 June there
    assert world.services.reminders.check_plan_date("2026-06-04", user=THIRD)[1] == texts.ERR_DATE_PAST
    world.services.people.lookup(COLLEAGUE)  # New York, remembered: 18:00 on 3 June there
    assert world.services.reminders.check_plan_date("2026-06-03", user=COLLEAGUE)[1] == texts.ERR_DATE_PAST
    assert world.services.reminders.check_plan_date("2026-06-04", user=COLLEAGUE) == (date(2026, 6, 4), None)


def test_plan_date_check_reads_no_database(world: World, monkeypatch):
    world.at(LATE)
    world.services.people.lookup(COLLEAGUE)

    def no_database(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("the database was read before ack()")

    monkeypatch.setattr(world.services.people.db, "session", no_database)
    monkeypatch.setattr(world.cases.db, "session", no_database)
    assert world.services.reminders.check_plan_date("2026-06-04", user=COLLEAGUE) == (date(2026, 6, 4), None)
    assert world.services.reminders.check_plan_date("2026-06-04", user="USTRANGER") == (date(2026, 6, 4), None)
