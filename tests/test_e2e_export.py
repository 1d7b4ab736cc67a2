"""End to end: `/angry export` for leads (files in their DM), refusals, `python app.py export`, retention."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import texts
from tests.harness import ROOT
from tests.test_e2e_casefile import World, attempt

LEADS_ENV = {"LEADS": "UAGENT,SLEADS"}


@pytest.fixture
def plain_world(start_app, standin) -> Iterator[World]:  # type: ignore[no-untyped-def]
    w = World(start_app(), standin)  # no LEADS
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def leads_world(start_app, standin) -> Iterator[World]:  # type: ignore[no-untyped-def]
    standin.add_usergroup("SLEADS", ["UTHIRD"])
    w = World(start_app(**LEADS_ENV), standin)
    try:
        yield w
    finally:
        w.close()


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def exported(world: World, user: str) -> dict[str, list[dict[str, str]]]:
    files = world.standin.wait_for(lambda: len(world.standin.files("D" + user)) == 2 and world.standin.files("D" + user))
    return {f["filename"].split("-")[1]: rows(f["content"]) for f in files}


def ack_text(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200 and reply.elapsed < 2.0, reply
    return reply.text


def test_a_lead_gets_both_files_in_a_dm_matching_what_was_done(leads_world: World):
    world = leads_world
    posted = world.open_case("Acme Corp: charged twice")
    world.click(world.checklist(posted), "step_set", value=f"{posted.id}:1:done:-")
    world.wait_case(posted, lambda text: "1/6" in text)
    attempt(world, posted, "=refund offered", "calmer now", "helped")

    assert ack_text(world.slack.command("export 30")) == texts.EXPORT_PREPARING.format(days=30)
    files = exported(world, "UAGENT")
    (case,) = files["cases"]
    assert (case["case_id"], case["status"], case["owner"], case["flagged_by"]) == (str(posted.id), "open", "UAGENT",
                                                                                 "UAGENT")
    assert (case["steps_done_count"], case["steps_done"], case["attempts"], case["attempts_helped"]) == ("1", "1", "1", "1")
    assert "Acme" not in str(files)  # never the customer's name or the summary
    (row,) = files["activity"]
    assert (row["case_id"], row["kind"], row["author"], row["text"], row["result"], row["outcome"]) == (
        str(posted.id), "attempt", "UAGENT", "'=refund offered", "calmer now", "helped")

    world.wait_response("The export is in your DM")
    opened = world.standin.calls_to("conversations.open")
    assert any(c.args.get("users") == "UAGENT" for c in opened)
    assert len(world.standin.calls_to("files.getUploadURLExternal")) == 2
    (complete,) = world.standin.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "DUAGENT" and "last 30 days" in complete.args["initial_comment"]
    assert not world.standin.calls_to("usergroups.users.list")  # a listed user needs no lookup


def test_a_member_of_a_lead_group_may_export(leads_world: World):
    world = leads_world
    world.open_case("Globex: invoice wrong")
    assert ack_text(world.slack.command("export", user="UTHIRD")) == texts.EXPORT_PREPARING.format(days=90)
    files = exported(world, "UTHIRD")
    assert len(files["cases"]) == 1 and files["activity"] == []
    assert [c.args.get("usergroup") for c in world.standin.calls_to("usergroups.users.list")] == ["SLEADS"]


def test_others_are_refused_and_told_who_can_export(leads_world: World):
    world = leads_world
    world.open_case("Initech: printer on fire")
    ack_text(world.slack.command("export 7", user="UCOLLEAGUE"))  # the group must be looked up first
    refusal = world.wait_response("Only team leads")
    assert "<@UAGENT>" in refusal["text"] and "<!subteam^SLEADS>" in refusal["text"]
    # Now the group is cached: the refusal comes with the ack itself.
    assert "Only team leads" in ack_text(world.slack.command("export", user="UCOLLEAGUE"))
    world.settle()
    assert not world.standin.calls_to("files.getUploadURLExternal") and not world.standin.files()


def test_a_failed_group_lookup_denies_with_a_reason(leads_world: World):
    world = leads_world
    world.standin.fail_next("usergroups.users.list", "missing_scope")
    ack_text(world.slack.command("export", user="UCOLLEAGUE"))
    assert "usergroups:read" in world.wait_response("couldn't check")["text"]
    assert not world.standin.files()


@pytest.mark.parametrize("word", ["0", "3651", "-5", "12x"])
def test_bad_days_get_a_clear_message(leads_world: World, word: str):
    text = ack_text(leads_world.slack.command(f"export {word}"))
    assert "whole number from 1 to 3650" in text
    leads_world.settle(0.2)
    assert not leads_world.standin.files()


def test_without_leads_nobody_may_export(plain_world: World):
    assert ack_text(plain_world.slack.command("export")) == texts.EXPORT_NO_LEADS


def test_a_refused_upload_is_reported(leads_world: World):
    world = leads_world
    world.standin.fail_next("files.getUploadURLExternal", "missing_scope")
    ack_text(world.slack.command("export"))
    assert "files:write" in world.wait_response("could not be sent")["text"]


# --- python app.py export ---------------------------------------------------------------------
def run_cli(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, str(ROOT / "app.py"), "export", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_command_line_export_writes_both_files(plain_world: World, tmp_path: Path):
    world = plain_world
    posted = world.open_case("Acme Corp: charged twice")
    attempt(world, posted, "called back", "fine", "partly")
    done = run_cli("--days", "30", "--out", str(tmp_path / "out"), database_url=world.app.env["DATABASE_URL"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    paths = [Path(line) for line in done.stdout.split()]
    assert [p.name for p in paths] == ["cases.csv", "activity.csv"] and all(p.is_absolute() for p in paths)
    (case,) = rows(paths[0].read_bytes())
    assert case["case_id"] == str(posted.id) and case["attempts"] == "1"
    (row,) = rows(paths[1].read_bytes())
    assert (row["kind"], row["text"], row["outcome"]) == ("attempt", "called back", "partly")


@pytest.mark.parametrize("args, needle", [(("--days", "0"), "--days '0'"), (("--what",), "unknown argument"),
                                          (("--out",), "needs a value")])
def test_command_line_mistakes_are_one_line(tmp_path: Path, args: tuple[str, ...], needle: str):
    done = run_cli(*args, database_url=f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr and "Traceback" not in done.stderr


# --- retention ----------------------------------------------------------------------------------
def test_retention_erases_old_cases_from_the_running_app(start_app, standin, tmp_path: Path):
    from bot.cases import Cases
    from storage.db import Database

    url = f"sqlite:///{tmp_path / 'retention.db'}"
    db = Database(url, pool_size=2)
    db.migrate()
    long_ago = datetime.now(UTC) - timedelta(days=45)
    cases = Cases(db, clock=lambda: long_ago)
    old = cases.open(team_id="T", channel_id="CSUPPORT", flagged_by="UAGENT", summary="charged twice", customer="Jane")
    cases.add_note(old.id, user="UAGENT", text="Jane's number")
    cases.close(old.id, user="UAGENT", outcome="resolved", details={"fix": "refund for Jane"})
    recent = Cases(db).open(team_id="T", channel_id="CSUPPORT", flagged_by="UAGENT", summary="late", customer="Bob")
    try:
        start_app(database_url=url, RETENTION_DAYS="30")
        erased = standin.wait_for(lambda: (c := Cases(db).require(old.id)).summary != "charged twice" and c, timeout=10)
        assert erased.customer is None and erased.summary == texts.ERASED_SUMMARY.format(days=30)
        assert [n.text for n in erased.notes] == [texts.ERASED_TEXT]
        assert Cases(db).require(recent.id).customer == "Bob"
    finally:
        db.dispose()
