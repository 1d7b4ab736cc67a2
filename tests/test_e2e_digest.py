"""End to end: `python app.py` posts the weekly digest once when it is due, with two processes on one
database and after a restart; a private channel's case is only counted in it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.core.settings import WEEKDAYS
from storage.db import Database
from storage.models import Case
from tests.harness import SlackSender

DIGEST = "CDIGEST"


def due_schedule(now: datetime) -> str:
    """Today's weekday (UTC) and a time that has just passed, so the digest is due at once."""
    just_before = now - timedelta(minutes=1)
    return f"{WEEKDAYS[just_before.weekday()]} {just_before:%H:%M}"


def seed_open_cases(url: str, now: datetime) -> None:
    db = Database(url, pool_size=1)
    db.migrate()
    try:
        with db.session() as session:
            for channel, visibility, customer in (("CSUPPORT", "public", "Visible Inc"),
                                                  ("GPRIVATE", "private", "Secret Corp")):
                session.execute(insert(Case).values(
                    channel_id=channel, summary=f"{customer} waits", customer=customer, flagged_by="UAGENT",
                    owner_id="UAGENT", status="open", visibility=visibility, opened_at=now - timedelta(days=5),
                    updated_at=now, permalink=f"https://standin.slack.com/archives/{channel}/p1"))
    finally:
        db.dispose()


def digests(standin) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in standin.messages(DIGEST) if (m.get("metadata") or {}).get("event_type") == "defuse_digest"]


def test_digest_posted_once_by_two_processes_and_not_again_after_restart(start_app, standin, database_url: str):
    standin.add_channel(DIGEST, "support-digest", bot_member=False)  # public, not yet joined
    now = datetime.now(UTC)
    url = database_url
    seed_open_cases(url, now)
    env = dict(database_url=url, DIGEST_CHANNEL=DIGEST, DIGEST_SCHEDULE=due_schedule(now), DIGEST_TIMEZONE="UTC")
    first, second = start_app(**env), start_app(**env)

    def both_decided() -> bool:
        logs = [first.log(), second.log()]
        return all("digest for the week of" in log for log in logs)

    standin.wait_for(both_decided, timeout=40)
    [posted] = standin.wait_for(lambda: digests(standin), timeout=5)
    week = posted["metadata"]["event_payload"]["week"]
    assert sum("posted to CDIGEST" in log for log in (first.log(), second.log())) == 1
    dumped = json.dumps(posted["blocks"])
    assert "Visible Inc" in dumped and "Secret Corp" not in dumped and "GPRIVATE" not in dumped
    assert "Cases open more than 3 days:* 2" in dumped and "1 of them from private channels" in dumped
    [chart] = standin.wait_for(lambda: standin.files(DIGEST), timeout=20)  # the trend chart, drawn once
    assert chart["filename"] == "defuse-trend.png" and chart["content"].startswith(b"\x89PNG\r\n")

    standin.wait_for(lambda: any("is on App Home" in p.log() for p in (first, second)), timeout=20)
    SlackSender(first.url, standin).event({"type": "app_home_opened", "user": "UAGENT", "tab": "home"})
    home = standin.wait_for(lambda: standin.home("UAGENT"), timeout=20)
    assert {"id": chart["id"]} in [b.get("slack_file") for b in home["blocks"]]  # App Home shows the latest chart

    first.stop()
    second.stop()
    third = start_app(**env)
    standin.wait_for(lambda: f"digest for the week of {week}: already posted" in third.log(), timeout=20)
    assert len(digests(standin)) == 1 and len(standin.files(DIGEST)) == 1
