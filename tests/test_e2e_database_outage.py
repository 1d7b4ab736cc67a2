"""PostgreSQL hung (SIGSTOP on the postmaster and every backend) and then stopped (`pg_ctl stop -m
immediate`) under a running `python app.py`: every request is still acked within Slack's 3 s, /healthz
says 503 within 2 s, the agent is told what did not go through (with their words), and after recovery
nothing is applied twice. The cluster is a throwaway one started by the test on a free port."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.harness import http
from tests.pg_cluster import PgCluster, unavailable_reason
from tests.test_e2e_casefile import BOT, ENV, World, flat

ACK_LIMIT = 3.0
HEALTH_LIMIT = 2.0


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"database outage test skipped: {reason}")
    pg = PgCluster().start()
    try:
        yield pg
    finally:
        pg.destroy()


class Stopwatch:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def ack(self, name: str, reply) -> None:  # type: ignore[no-untyped-def]
        self.times.setdefault(name, []).append(reply.elapsed)
        assert reply.status == 200, f"{name}: {reply.status} {reply.body[:200]!r}"
        assert reply.elapsed < ACK_LIMIT, f"{name} acked after {reply.elapsed:.2f} s"

    def health(self, name: str, url: str) -> None:
        reply = http("GET", url + "/healthz", timeout=10)
        self.times.setdefault(name, []).append(reply.elapsed)
        assert reply.status == 503 and reply.json["database"] == "unreachable", reply
        assert reply.elapsed < HEALTH_LIMIT, f"/healthz answered after {reply.elapsed:.2f} s"

    def report(self) -> str:
        return ", ".join(f"{name} max {max(values):.2f} s" for name, values in self.times.items())


def wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http("GET", url + "/healthz", timeout=5).status == 200:
            return
        time.sleep(0.2)
    raise AssertionError("the app did not become healthy again after the database came back")


def escalation_posts(world: World) -> list[dict]:
    return [m for m in world.standin.messages("CESCALATE") if m.get("user") == BOT]


def test_hung_then_stopped_postgres_every_request_acked_nothing_doubled(start_app, standin, cluster: PgCluster):
    world = World(start_app(database_url=cluster.url, **ENV), standin)
    watch = Stopwatch()
    try:
        posted = world.open_case("Acme Corp: charged twice")
        escalate = world.case_modal(posted, "case_escalate", "escalate")
        note = world.case_modal(posted, "case_note", "note")
        late_note = world.case_modal(posted, "case_note", "note")
        checklist = world.checklist(posted)
        need = {"need": "Approve a manual refund", "timeframe": "2 days", "severity": "high"}

        # --- hung: connections stay open, nothing answers -------------------------------------------
        cluster.hang()
        try:
            watch.health("healthz hung", world.app.url)
            watch.ack("escalate hung", world.slack.submit(escalate, need))
            watch.ack("escalate resent", world.slack.submit(escalate, need))  # the agent presses Submit again
            watch.ack("note hung", world.slack.submit(note, {"text": "Called her back"}))
            angry = world.slack.command("Globex: invoice wrong")
            watch.ack("/angry hung", angry)
            watch.ack("step hung", world.slack.click(checklist, "step_set", f"{posted.id}:1:done:-"))
            watch.ack("button hung", world.slack.click(world.message(posted), "case_attempt"))
            watch.health("healthz hung", world.app.url)
            # The agent hears what did not go through, with their words, while the database is still hung.
            told = world.standin.wait_for(
                lambda: [m for m in world.dms("UAGENT") if "Approve a manual refund" in flat(m)][0], timeout=20)
            assert "did not go through" in flat(told)
            world.standin.wait_for(lambda: [m for m in world.dms("UAGENT") if "Called her back" in flat(m)][0], timeout=20)
            # /angry saves before its ack (bot.delivery): a save that misses its deadline answers in the ack itself.
            assert "invoice wrong" in angry.text and "not saved" in angry.text, angry.text
        finally:
            cluster.resume()
        wait_healthy(world.app.url)

        # --- stopped: connections refused ---------------------------------------------------------------
        cluster.stop_immediate()
        watch.health("healthz stopped", world.app.url)
        watch.ack("note stopped", world.slack.submit(late_note, {"text": "Left a voicemail"}))
        watch.ack("/angry stopped", world.slack.command("Initech: stapler missing"))
        world.standin.wait_for(lambda: [m for m in world.dms("UAGENT") if "Left a voicemail" in flat(m)][0], timeout=20)
        cluster.start()
        wait_healthy(world.app.url)

        # --- after recovery: the agent resends what failed, and each thing happens once -------------------
        world.settle(1.0)  # anything still queued from the outage would show up now
        assert escalation_posts(world) == [], "an escalation the agent was told had failed was applied anyway"
        again = world.case_modal(posted, "case_escalate", "escalate")
        world.submit(again, need)
        world.standin.wait_for(lambda: escalation_posts(world))
        world.submit(world.case_modal(posted, "case_note", "note"), {"text": "Called her back"})
        world.wait_thread(posted, "Called her back")
        world.settle(1.0)
        assert len(escalation_posts(world)) == 1
        kinds = world.kinds(posted.id)
        assert kinds.count("escalated") == 1 and kinds.count("note") == 1, kinds
        assert [m for m in world.thread(posted) if "Called her back" in flat(m)].__len__() == 1
        assert "Left a voicemail" not in flat(world.thread(posted))
        log = world.app.log()
        assert "Exception while serving" not in log and "500 Internal" not in log
    finally:
        print(f"\ndatabase outage timings: {watch.report()}")
        world.close()
