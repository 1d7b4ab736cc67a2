"""The posting process (handlers/slack/posting.py): `python app.py` starts a child that posts the cases it
saves, restarts it when it dies alone, and takes it down when it is killed itself. On SQLite and PostgreSQL.

Which process posted a case is read off its delivery lease while the post is on its way (the stand-in
holds chat.postMessage for a while): the lease names the holder's pid."""

from __future__ import annotations

import os
import re
import signal
import time

from sqlalchemy import select

from storage.models import Case, CaseEvent, CaseStep
from tests.harness import AppProcess, SlackSender
from tests.test_e2e_durable import all_delivered, case_rows, dead_writes_settled, posts_and_checklists, read
from tests.test_e2e_intake import blocks_text, case_message, checklist_of, current


def posting_pids(app: AppProcess) -> list[int]:
    """Every posting process the app has reported ready, in order."""
    return [int(pid) for pid in re.findall(r"posting process (\d+) is ready", app.log())]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0): count it as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def holders(url: str) -> list[str | None]:
    return read(url, lambda s: list(s.scalars(select(Case.c.sync_by).order_by(Case.c.id))))


def command_line(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read().decode().split("\0")[:-1]


def pid_of(holder: str | None) -> int | None:
    parts = (holder or "").split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def started(start_app, standin, database_url) -> tuple[AppProcess, SlackSender, int]:  # type: ignore[no-untyped-def]
    app = start_app(database_url)
    (child,) = standin.wait_for(lambda: posting_pids(app), timeout=30)
    return app, SlackSender(app.url, standin), child


def test_a_new_case_is_posted_by_the_posting_process(start_app, standin, database_url):
    app, slack, child = started(start_app, standin, database_url)
    assert child != app.proc.pid and alive(child)
    # Forked at boot, sharing the app's imported pages: the same command line, not `app.py posting`.
    assert command_line(child) == command_line(app.proc.pid)
    standin.set_delay("chat.postMessage", 1.0)  # long enough to see who holds the case while it is posted

    assert slack.command("Initech: the export lost half the rows").status == 200
    holder = standin.wait_for(lambda: [h for h in holders(database_url) if h], timeout=10)[0]
    assert pid_of(holder) == child
    standin.wait_for(lambda: all_delivered(database_url), timeout=30)
    posts, checklists = posts_and_checklists(standin)
    assert posts == checklists == {1: 1}
    assert not [r for r in standin.responses() if "is posted now" in r["text"]]  # posted as usual, not recovered


def test_killing_the_posting_process_alone_loses_no_case_and_starts_another(start_app, standin, database_url):
    app, slack, child = started(start_app, standin, database_url)
    standin.set_delay("chat.postMessage", 1.0)
    for n in range(3):
        assert slack.command(f"Customer {n}: order {n} arrived broken").status == 200
    standin.wait_for(lambda: len([h for h in holders(database_url) if pid_of(h) == child]) == 3, timeout=10)

    os.kill(child, signal.SIGKILL)  # mid-post: at most one case message is on its way
    standin.set_delay("chat.postMessage", 0)
    pids = standin.wait_for(lambda: (p := posting_pids(app)) and len(p) == 2 and p, timeout=30)
    assert pids[1] != child and alive(pids[1]) and app.proc.poll() is None
    assert command_line(pids[1])[-2:] == ["posting", str(app.proc.pid)]  # started fresh

    standin.wait_for(lambda: len(case_rows(database_url)) == 3 and all_delivered(database_url), timeout=60)
    assert slack.command("Customer 3: and now the invoice").status == 200  # the new child takes new cases
    standin.wait_for(lambda: len(case_rows(database_url)) == 4 and all_delivered(database_url), timeout=30)
    posts, checklists = posts_and_checklists(standin)
    assert posts == checklists == {1: 1, 2: 1, 3: 1, 4: 1}  # none lost, none doubled
    # The cases the dead child never finished were finished by the sweep, and their agents were told.
    told = standin.wait_for(lambda: (t := [r for r in standin.responses() if "is posted now" in r["text"]])
                            and len(t) >= 3 and t, timeout=10)
    assert len(told) == 3


def step_done(url: str, case_id: int, number: int) -> bool:
    return bool(read(url, lambda s: s.scalar(select(CaseStep.c.done).where(CaseStep.c.case_id == case_id,
                                                                           CaseStep.c.step == number))))


def step_done_events(url: str, case_id: int) -> int:
    return len(read(url, lambda s: list(s.scalars(select(CaseEvent.c.id).where(CaseEvent.c.case_id == case_id,
                                                                             CaseEvent.c.kind == "step_done")))))


def test_a_tick_the_killed_posting_process_never_reported_is_run_again_by_the_app_once(
        start_app, standin, database_url):
    app, slack, child = started(start_app, standin, database_url)
    assert slack.command("Initech: the export lost half the rows").status == 200
    standin.wait_for(lambda: all_delivered(database_url), timeout=30)
    parent = case_message(standin)
    checklist = checklist_of(standin, parent)
    standin.set_delay("chat.update", 1.5)  # the tick is saved, then shown: it is killed while showing it

    assert slack.click({**checklist, "channel": "CSUPPORT"}, "step_set", "1:1:done:-").status == 200
    standin.wait_for(lambda: step_done(database_url, 1, 1), timeout=10)
    os.kill(child, signal.SIGKILL)
    standin.set_delay("chat.update", 0)

    standin.wait_for(lambda: "without reporting 1 job(s) finished; running them here" in app.log(), timeout=30)
    standin.wait_for(lambda: "1/6" in blocks_text(current(standin, "CSUPPORT", checklist["ts"])), timeout=30)
    assert step_done_events(database_url, 1) == 1  # run twice, recorded once
    assert app.proc.poll() is None


def test_kill_9_of_the_app_takes_its_posting_process_with_it(start_app, standin, database_url):
    app, slack, child = started(start_app, standin, database_url)
    standin.set_delay("chat.postMessage", 0.5)
    assert slack.command("Globex: invoice sent to the wrong address").status == 200
    app.stop(signal.SIGKILL)
    assert standin.wait_for(lambda: not alive(child), timeout=10)
    standin.wait_for(lambda: dead_writes_settled(database_url), timeout=30)

    app.start()  # the next run finishes the case, posted exactly once
    standin.wait_for(lambda: all_delivered(database_url), timeout=60)
    posts, checklists = posts_and_checklists(standin)
    assert posts == checklists == {1: 1}


def test_sigterm_stops_both_processes_in_time(start_app, standin, database_url):
    app, slack, child = started(start_app, standin, database_url)
    assert slack.command("Hooli: the login page loops").status == 200
    standin.wait_for(lambda: all_delivered(database_url), timeout=30)
    began = time.monotonic()
    assert app.stop(signal.SIGTERM) == 0
    assert time.monotonic() - began < 10
    assert standin.wait_for(lambda: not alive(child), timeout=5)
