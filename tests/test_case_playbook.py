"""Cases keep the playbook they were opened with: its steps drive rendering and what ticking asks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from bot.cases import Cases
from bot.core import playbook
from bot.core.playbook_file import MAX_SAY, MAX_SAY_LINES, MAX_TITLE, MAX_WHY, Playbook, PlaybookStep
from bot.core.snapshot import StepState
from handlers.checklist import case_message as case_view
from handlers.checklist import views as checklist_views
from handlers.followups import views as followups_views
from handlers.handoff import views as handoff_views
from storage.db import MIGRATIONS, Database
from tests.test_blocks import assert_valid_message, assert_valid_modal, snapshot, visible_chars

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def book(count: int, *, long: bool = False, asks: dict[int, str] | None = None, name: str = "Ours") -> Playbook:
    """A playbook of `count` steps; `long`: every text at the longest the file allows."""
    asks = asks or {}
    steps = tuple(
        PlaybookStep(
            number=n,
            title=(f"{n} " + "T" * MAX_TITLE)[:MAX_TITLE] if long else f"Step {n}",
            why="W " * (MAX_WHY // 2) if long else f"Because {n}.",
            say=tuple("<!here> & S " * (MAX_SAY // 12) for _ in range(MAX_SAY_LINES)) if long else (f"Say {n}.",),
            asks=asks.get(n),
        )
        for n in range(1, count + 1)
    )
    return Playbook(name=name, language="en", steps=steps)


def case_with(pb: Playbook, done: set[int] = frozenset(), details: dict[int, dict] | None = None):  # type: ignore[assignment]
    details = details or {}
    states = tuple(
        StepState(s.number, s.number in done, "UAGENT" if s.number in done else None, T0 if s.number in done else None,
                  details.get(s.number) if s.number in done else None)
        for s in pb.steps
    )
    return snapshot(steps=states, playbook=pb)


@pytest.mark.parametrize("count", [3, 10])
@pytest.mark.parametrize("long", [False, True])
@pytest.mark.parametrize("done", ["none", "all"])
def test_short_and_long_playbooks_render_within_slacks_limits(count: int, long: bool, done: str) -> None:
    pb = book(count, long=long, asks={count: "plan", 1: "action"})
    details = {1: {"action": "x" * 2000, "offer": "y" * 2000}, count: {"plan": "z" * 2000}}
    case = case_with(pb, set(range(1, count + 1)) if done == "all" else set(), details)
    checklist = checklist_views.checklist(case)
    assert_valid_message(checklist)
    assert len([b for b in checklist if b.get("block_id", "").startswith("step_")]) == count
    assert f"{case.done_count}/{count} done" in str(checklist)
    message = case_view.case_message(case)
    assert_valid_message(message)
    assert f"{case.done_count}/{count}" in str(message) and "Playbook: Ours" in str(message)
    guide = checklist_views.guide_modal(pb)
    assert_valid_modal(guide)
    assert all(s.title in str(guide) for s in pb.steps)
    assert visible_chars(checklist) <= 350 * count + 1000  # a phone screen per few steps, not a wall of text
    if long:  # the file's text is shown as text: its <!here> pings nobody
        assert "<!here>" not in str(checklist) + str(guide) and "&amp; S" in str(guide)


def test_the_built_in_playbook_needs_no_label_on_the_case() -> None:
    assert "Playbook:" not in str(case_view.case_message(snapshot()))
    renamed = replace(playbook.built_in(), name="Our six")
    assert "Playbook: Our six" in str(case_view.case_message(snapshot(playbook=renamed)))


def test_ticking_asks_by_kind_not_by_number() -> None:
    pb = book(5, asks={3: "action", 5: "plan"})
    assert playbook.step_asking(pb, "action").number == 3
    assert playbook.step_asking(pb, "plan").number == 5
    assert playbook.step_asking(pb, "apology") is None
    buttons = [b["accessory"]["value"] for b in checklist_views.checklist(case_with(pb)) if b.get("accessory")]
    assert buttons == ["42:1:done:-", "42:2:done:-", "42:3:done:action", "42:4:done:-", "42:5:done:plan"]
    case = case_with(pb, {3, 5}, {3: {"action": "Refunded"}, 5: {"plan": "Call Friday", "first_date": "2026-12-04"}})
    assert case.answer("action", "action") == "Refunded" and case.answer("plan", "first_date") == "2026-12-04"
    assert case.answer("apology", "apology") is None
    assert "Refunded" in followups_views.what_was_done(case)


def test_a_playbook_without_a_plan_step_has_no_plan() -> None:
    case = case_with(book(3), {1, 2, 3}, {3: {"plan": "should not be read"}})
    assert case.step_asking("plan") is None and case.answer("plan", "plan") is None
    assert "should not be read" not in str(followups_views.follow_up_dm(case, 7))


def test_handoff_lists_the_cases_own_steps() -> None:
    case = case_with(book(4), {2, 4})
    text = str(handoff_views.handoff_dm(case, 1, "UAGENT", None))
    assert "(2/4)" in text and "2. Step 2; 4. Step 4" in text


def test_the_record_round_trips() -> None:
    pb = book(4, asks={2: "apology"}, name="Round trip")
    record = playbook.to_record(pb)
    assert playbook.from_record(record["playbook_name"], record["playbook_language"], record["playbook_steps"]) == pb
    assert playbook.from_record(None, None, None) == playbook.built_in()


def test_cases_open_with_the_configured_playbook_and_keep_it(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}", pool_size=1)
    db.migrate()
    try:
        pb = book(4, asks={4: "plan"}, name="Four")
        opened = Cases(db, clock=lambda: T0, playbook=pb).open(team_id="T1", channel_id="C1", flagged_by="U1", summary="x")
        assert len(opened.steps) == 4 and opened.playbook == pb
        later = Cases(db, clock=lambda: T0)  # the file changed back to the built-in one
        kept = later.require(opened.id)
        assert kept.playbook == pb and [s.number for s in kept.steps] == [1, 2, 3, 4]
        with pytest.raises(ValueError):
            later.set_step(opened.id, 5, done=True, user="U1")
        assert len(later.open(team_id="T1", channel_id="C1", flagged_by="U1", summary="y").steps) == 6
    finally:
        db.dispose()


def test_rows_from_before_the_migration_read_as_the_six_steps(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}", pool_size=1)
    try:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003_query_indexes")
            conn.execute(text(
                "INSERT INTO cases (id, channel_id, summary, flagged_by, owner_id, status, opened_at, updated_at, hard_nudged)"
                " VALUES (1, 'C1', 'old', 'U1', 'U1', 'open', '2026-11-01 09:00:00', '2026-11-01 09:00:00', 0)"))
            conn.execute(text("INSERT INTO case_steps (case_id, step, done) VALUES "
                              + ", ".join(f"(1, {n}, {1 if n == 5 else 0})" for n in range(1, 7))))
        db.migrate()
        old = Cases(db).require(1)
        assert old.playbook == playbook.built_in() and len(old.steps) == 6 and old.total == 6
        assert old.step_asking("action").number == 5 and old.step_asking("action").done
        assert "1/6" in str(case_view.case_message(old)) and "Playbook:" not in str(case_view.case_message(old))
    finally:
        db.dispose()


def test_app_home_counts_each_case_against_its_own_playbook(tmp_path) -> None:
    from bot.home.data import home_data
    from handlers.home.views import home_view

    db = Database(f"sqlite:///{tmp_path / 'h.db'}", pool_size=1)
    db.migrate()
    try:
        four = Cases(db, clock=lambda: T0, playbook=book(4, name="Four"))
        opened = four.open(team_id="T1", channel_id="C1", flagged_by="UAGENT", summary="x", customer="Acme")
        four.set_step(opened.id, 2, done=True, user="UAGENT")
        Cases(db, clock=lambda: T0).open(team_id="T1", channel_id="C1", flagged_by="UAGENT", summary="y", customer="Globex")
        view = str(home_view(home_data(Cases(db, clock=lambda: T0), "UAGENT")))
        assert "1/4" in view and "0/6" in view
    finally:
        db.dispose()
