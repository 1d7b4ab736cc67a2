"""bot.delivery (history, leases), the surface's unclear answers and Worker.within without Slack: what counts as an unclear answer, dead lease holders,
the shared history budget and page coverage (controlled clock), and the deadline on writes before an ack."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.core.errors import Unknown
from bot.core.ports import tag
from bot.delivery.history import HISTORY_INTERVAL, HistoryCheck
from bot.delivery.leases import is_dead, process_name
from handlers.slack.surface import is_ambiguous
from handlers.slack.worker import Worker
from storage.db import Database
from tests.support import Clock


def api_error(status: int, error: str = "internal_error") -> SlackApiError:
    response = SlackResponse(client=None, http_verb="POST", api_url="x", req_args={}, data={"ok": False, "error": error},
                             headers={}, status_code=status)
    return SlackApiError("failed", response)


@pytest.mark.parametrize("exc, unclear", [
    (api_error(500), True), (api_error(503), True), (api_error(200, "fatal_error"), False),
    (api_error(200, "channel_not_found"), False), (api_error(429, "ratelimited"), False),
    (TimeoutError("read timed out"), True), (ConnectionResetError(), True),
    (URLError(ConnectionRefusedError()), False),
])
def test_unclear_answers_are_5xx_and_transport_errors_after_sending(exc, unclear):
    assert is_ambiguous(exc) is unclear


def test_dead_holders_are_told_from_live_ones():
    me = process_name()
    host, pid, _ = me.split(":")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert is_dead(f"{host}:{child.pid}:abcd1234", me)  # exited
    assert is_dead(f"{host}:{pid}:00000000", me)  # an earlier run with our pid (a restarted container)
    assert not is_dead(me, me)
    assert not is_dead(f"{host}:{os.getppid()}:abcd1234", me)  # alive
    assert not is_dead(f"elsewhere:{child.pid}:abcd1234", me)  # another host: its lease must expire


class FakeHistory:
    """conversations.history (the Slack port's `history`) over a list of messages, newest first, 15 a page,
    ts-based cursor."""

    def __init__(self, messages: list[dict[str, Any]]):
        self.messages = sorted(messages, key=lambda m: float(m["ts"]), reverse=True)
        self.calls: list[dict[str, Any]] = []

    def history(self, channel: str, **args: Any) -> dict[str, Any]:
        self.calls.append(args)
        oldest = float(args.get("oldest") or 0)
        before = float(args.get("cursor") or "inf")
        window = [m for m in self.messages if oldest < float(m["ts"]) < before]
        page = window[: args["limit"]]
        more = len(window) > len(page)
        return {"messages": page, "has_more": more, "response_metadata": {"next_cursor": page[-1]["ts"] if more else ""}}


@pytest.fixture
def sqlite_db(tmp_path):  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'budget.db'}", pool_size=2)
    database.migrate()
    yield database
    database.dispose()


def ours(ts: float, case_id: int) -> dict[str, Any]:
    return {"ts": f"{ts:.6f}", "user": "UBOT", "metadata": tag("case", case_id=case_id)}


def test_history_is_read_once_a_minute_and_a_page_answers_several_questions(sqlite_db):
    clock = Clock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    sent = clock.now - timedelta(seconds=30)
    base = sent.timestamp()
    client = FakeHistory([ours(base + 0.1, 1), ours(base + 0.2, 2), {"ts": f"{base + 0.3:.6f}", "user": "UHUMAN"}])
    check = HistoryCheck(sqlite_db, client, clock)  # type: ignore[arg-type]
    assert check.find("C1", "case", "case_id", 2, sent) == f"{base + 0.2:.6f}"
    assert check.find("C1", "case", "case_id", 1, sent) == f"{base + 0.1:.6f}"  # same page, no new call
    assert check.find("C1", "case", "case_id", 3, sent) is None  # covered: certainly not there
    assert len(client.calls) == 1
    other = HistoryCheck(sqlite_db, client, clock)  # type: ignore[arg-type]  # another process, same budget
    with pytest.raises(Unknown) as waited:
        other.find("C1", "case", "case_id", 3, sent)
    assert waited.value.retry_at == clock.now + HISTORY_INTERVAL
    clock.now += HISTORY_INTERVAL
    assert other.find("C1", "case", "case_id", 3, sent) is None
    assert len(client.calls) == 2


def test_a_long_window_is_read_page_by_page_before_saying_absent(sqlite_db):
    clock = Clock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    sent = clock.now - timedelta(seconds=30)
    base = sent.timestamp()
    client = FakeHistory([ours(base + n / 100, n) for n in range(1, 21)])  # 20 posts after ours was sent
    check = HistoryCheck(sqlite_db, client, clock)  # type: ignore[arg-type]
    with pytest.raises(Unknown):  # the newest 15 do not reach back far enough
        check.find("C1", "case", "case_id", 99, sent)
    assert check.find("C1", "case", "case_id", 18, sent) == f"{base + 0.18:.6f}"  # but what they show counts
    clock.now += HISTORY_INTERVAL
    assert check.find("C1", "case", "case_id", 99, sent) is None  # second page: now covered
    assert check.find("C1", "case", "case_id", 2, sent) == f"{base + 0.02:.6f}"
    assert [c.get("cursor") for c in client.calls] == [None, f"{base + 0.06:.6f}"]


def test_a_write_before_the_ack_waits_at_most_its_deadline():
    worker = Worker(threads=1, intake_threads=1)
    try:
        assert worker.within(lambda: 42, 1.0) == 42
        release = threading.Event()
        late: list[Any] = []
        started = time.monotonic()
        assert worker.within(lambda: release.wait(5) and "saved", 0.2, late.append) is None
        assert time.monotonic() - started < 0.5
        ran: list[int] = []
        assert worker.within(lambda: ran.append(1), 0.1) is None  # queued behind the slow one, gave up
        release.set()
        deadline = time.monotonic() + 5
        while not late and time.monotonic() < deadline:
            time.sleep(0.01)
        assert late == ["saved"]  # the slow write finished after all: its result is handed on
        assert worker.within(lambda: "probe", 2.0) == "probe"  # one intake thread: the queue is through
        assert ran == []  # the one that never started never runs
    finally:
        worker.drain(1.0)
