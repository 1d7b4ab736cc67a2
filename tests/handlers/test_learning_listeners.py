"""The learning loop's listener: `/angry export [days]` (handlers/intake/listeners.angry hands it to
handlers/learning/export.Exports), called directly; the export's own thread is run inline."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.core.textutil import safe
from handlers.intake import listeners
from tests.handlers.kit import AGENT, COLLEAGUE, World


class InlinePool:
    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def shutdown(self, wait: bool = True) -> None:
        pass


@pytest.fixture
def lead_world(make_world, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    world = make_world(LEADS=AGENT)
    monkeypatch.setattr(world.services.exports, "_pool", InlinePool())
    return world


def capture_uploads(world: World, monkeypatch) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The files' contents as they were uploaded (they live in a temporary folder until then)."""
    uploaded: list[dict[str, str]] = []
    upload = world.slack.upload

    def reading(channel: str, files, *, comment: str) -> None:  # type: ignore[no-untyped-def]
        uploaded.append({name: Path(path).read_text(encoding="utf-8-sig") for path, name in files})
        upload(channel, files, comment=comment)

    monkeypatch.setattr(world.slack, "upload", reading)
    return uploaded


def test_a_lead_gets_both_files_in_a_dm(lead_world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world = lead_world
    case_id = world.open_case(customer="Acme Corp")
    uploaded = capture_uploads(world, monkeypatch)
    call = world.call(listeners.angry, world.command("export 30"))
    assert call.ack.only == {"text": texts.EXPORT_PREPARING.format(days=30)}
    (sent,) = [s for s in world.slack.sent if s.method == "upload"]
    assert sent.channel == f"D{AGENT}" and "last 30 days" in sent.message.text
    (files,) = uploaded
    cases_file = next(text for name, text in files.items() if name.startswith("defuse-cases-"))
    (row,) = csv.DictReader(io.StringIO(cases_file))
    assert (row["case_id"], row["status"], row["owner"]) == (str(case_id), "open", AGENT)
    assert call.respond.texts[-1].startswith("The export is in your DM with me: 1 cases")


def test_someone_not_a_lead_is_refused_in_the_ack(lead_world: World) -> None:
    call = lead_world.call(listeners.angry, lead_world.command("export", user=COLLEAGUE))
    assert call.ack.only == {"text": texts.EXPORT_NOT_A_LEAD.format(leads=f"<@{AGENT}>")}
    assert lead_world.slack.sent == [] and call.respond.calls == []


def test_without_leads_nobody_may_export(make_world) -> None:  # type: ignore[no-untyped-def]
    world = make_world()
    call = world.call(listeners.angry, world.command("export"))
    assert call.ack.only == {"text": texts.EXPORT_NO_LEADS}
    assert world.slack.sent == []


@pytest.mark.parametrize("word", ["0", "3651", "3<!here>&"])
def test_a_bad_number_of_days_is_echoed_escaped(lead_world: World, word: str) -> None:
    call = lead_world.call(listeners.angry, lead_world.command(f"export {word}"))
    text = call.ack.only["text"]
    assert text == texts.EXPORT_BAD_DAYS.format(word=safe(word), low=1, high=3650, default=90)
    assert "<!here>" not in text
    assert lead_world.slack.sent == []


def test_an_upload_slack_refuses_is_told_with_a_hint(lead_world: World) -> None:
    lead_world.slack.fail("upload", "missing_scope")
    call = lead_world.call(listeners.angry, lead_world.command("export"))
    assert call.ack.only == {"text": texts.EXPORT_PREPARING.format(days=90)}
    assert call.respond.texts == [texts.EXPORT_FAILED.format(error="missing_scope",
                                                             hint=texts.EXPORT_FAILED_HINTS["missing_scope"])]


def test_a_member_of_no_lead_group_is_refused_after_the_ack(make_world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    world = make_world(LEADS="S0LEADS")
    monkeypatch.setattr(world.services.exports, "_pool", InlinePool())
    call = world.call(listeners.angry, world.command("export"))
    assert call.ack.only == {"text": texts.EXPORT_PREPARING.format(days=90)}  # the group is looked up after the ack
    assert call.respond.texts == [texts.EXPORT_NOT_A_LEAD.format(leads="<!subteam^S0LEADS>")]
    assert [s for s in world.slack.sent if s.method == "upload"] == []
