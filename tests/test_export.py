"""Unit tests: export cells and rows on hand-made histories, CSV injection, LEADS and RETENTION_DAYS."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError

from bot import texts
from bot.core.config import ConfigError, load_config
from bot.core.ports import SlackFailure
from bot.core.settings import Leads, parse_leads, parse_retention_days
from bot.core.textutil import parse_command
from bot.learning import export, export_columns
from bot.learning.leads import GROUP_CACHE_SECONDS, LeadCheck
from bot.learning.retention import scrub
from storage.export_queries import CaseBatch

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OPENED = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)


def case(**fields):  # a row as storage.export_queries.case_page returns it
    base = dict(
        id=7, opened_at=OPENED, closed_at=None, status="open", owner_id="UOWNER", flagged_by="UFLAG", closed_by=None,
        mood=None, close_mood=None, later_mood=None, severity=None, expected_by=None, fixed_at=None, erased_at=None, repeat=False, playbook=None,
    )
    base.update(fields)
    return SimpleNamespace(**base)


def batch(row, **parts) -> CaseBatch:
    empty = dict(steps_done={}, counts={}, handoffs={}, reviews={}, last_follow_up={}, attempt_outcomes={}, apology={})
    empty.update(parts)
    return CaseBatch(cases=[row], **empty)


def as_dict(cells: list[str]) -> dict[str, str]:
    names = [c.name for c in export_columns.CASE_COLUMNS]
    assert len(cells) == len(names)
    return dict(zip(names, cells, strict=True))


# --- cells ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["=SUM(A1:A2)", "+1", "-2+3", "@cmd", "\tx", "\rx", "=cmd|' /C calc'!A0"])
def test_formula_starts_are_quoted(text):
    assert export.cell(text) == "'" + text


@pytest.mark.parametrize("text", ["refund", "1 = 1", "a-b", "mail@x.com", "'quoted", ""])
def test_other_text_is_kept(text):
    assert export.cell(text) == text


def test_cells_for_none_bools_numbers_and_times():
    assert export.cell(None) == ""
    assert export.cell(True) == "yes" and export.cell(False) == "no"
    assert export.cell(0) == "0" and export.cell(7200) == "7200"
    assert export.cell(OPENED) == "2026-11-20T09:00:00Z"
    assert export.iso("2026-11-20T10:00:00+01:00") == "2026-11-20T09:00:00Z"
    assert export.iso("not a time") == ""


def test_injection_survives_the_csv_round_trip():
    text = export.to_text(export_columns.ACTIVITY_COLUMNS, [[export.cell("=HYPERLINK(\"http://x\")"), export.cell('a,"b"\nc')]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", 'a,"b"\nc']


# --- cases.csv, column by column ------------------------------------------------------------------
def test_an_open_case_with_nothing_done():
    row = as_dict(export.case_row(case(), batch(case()), NOW))
    assert row["case_id"] == "7"
    assert row["opened_at"] == "2026-11-20T09:00:00Z"
    assert row["closed_at"] == row["outcome"] == row["closed_by"] == ""
    assert row["status"] == "open"
    assert (row["owner"], row["flagged_by"]) == ("UOWNER", "UFLAG")
    assert row["steps_done_count"] == "0" and row["steps_done"] == ""
    assert row["time_to_resolve_seconds"] == row["time_to_close_seconds"] == ""
    assert row["cause"] == row["ux_issue"] == ""
    for name in ("attempts", "attempts_helped", "attempts_failed", "notes", "handoffs", "escalations", "reopened",
                 "follow_ups_done", "follow_ups_skipped"):
        assert row[name] == "0", name
    assert row["escalation_severity"] == row["escalation_timeframe_met"] == ""
    assert row["repeat_customer"] == "no"
    assert row["erased_at"] == row["mood_at_close"] == row["mood_latest"] == row["mood_change"] == ""
    assert row["playbook"] == "Six steps"  # a row from before playbooks were recorded: the built-in one


def test_a_resolved_case_with_its_whole_history():
    closed = OPENED + timedelta(hours=2, minutes=30)
    row_in = case(status="resolved", closed_at=closed, closed_by="UCLOSER", mood="furious", close_mood="calm",
                  severity="high", expected_by=(OPENED + timedelta(hours=3)).isoformat(),
                  fixed_at=(OPENED + timedelta(hours=1)).isoformat(), repeat=True)
    parts = dict(
        steps_done={7: [1, 2, 4]}, counts={7: {"attempt": 3, "note": 2, "escalated": 1, "reopened": 1, "follow_up": 2,
                                              "follow_up_skipped": 1}},
        handoffs={7: 2}, reviews={7: ("ux", True)}, last_follow_up={7: "happy"},
        attempt_outcomes={7: {"helped": 1, "failed": 2}}, apology={7: "accepted"},
    )
    row = as_dict(export.case_row(row_in, batch(row_in, **parts), NOW))
    assert row["closed_at"] == "2026-11-20T11:30:00Z"
    assert (row["status"], row["outcome"], row["closed_by"]) == ("resolved", "resolved", "UCLOSER")
    assert (row["steps_done_count"], row["steps_done"], row["apology_accepted"]) == ("3", "1;2;4", "accepted")
    assert (row["mood_at_flagging"], row["mood_at_close"]) == ("furious", "calm")
    assert (row["mood_latest"], row["mood_change"]) == ("calm", "calmer")
    assert row["time_to_resolve_seconds"] == row["time_to_close_seconds"] == str(2 * 3600 + 30 * 60)
    assert (row["cause"], row["ux_issue"]) == ("ux", "yes")
    assert (row["attempts"], row["attempts_helped"], row["attempts_failed"]) == ("3", "1", "2")
    assert (row["notes"], row["handoffs"], row["escalations"], row["reopened"]) == ("2", "2", "1", "1")
    assert (row["escalation_severity"], row["escalation_timeframe_met"]) == ("high", "yes")
    assert (row["follow_ups_done"], row["follow_ups_skipped"], row["last_follow_up_outcome"]) == ("2", "1", "happy")
    assert row["repeat_customer"] == "yes"


def test_an_unresolved_case_has_a_close_time_but_no_resolve_time():
    row_in = case(status="unresolved", closed_at=OPENED + timedelta(minutes=10))
    row = as_dict(export.case_row(row_in, batch(row_in, reviews={7: ("bug", False)}), NOW))
    assert row["outcome"] == "unresolved"
    assert row["time_to_resolve_seconds"] == "" and row["time_to_close_seconds"] == "600"
    assert (row["cause"], row["ux_issue"]) == ("bug", "no")


def test_an_erased_case_says_when():
    erased = NOW - timedelta(days=1)
    row_in = case(status="resolved", closed_at=OPENED, erased_at=erased.replace(tzinfo=None))  # naive = UTC
    assert as_dict(export.case_row(row_in, batch(row_in), NOW))["erased_at"] == "2026-11-30T12:00:00Z"


@pytest.mark.parametrize(
    "fixed, promised, expected",
    [
        (NOW - timedelta(hours=2), NOW - timedelta(hours=1), "yes"),
        (NOW - timedelta(hours=1), NOW - timedelta(hours=1), "yes"),
        (NOW - timedelta(minutes=30), NOW - timedelta(hours=1), "no"),
        (None, NOW - timedelta(minutes=1), "no"),
        (None, NOW + timedelta(hours=1), "pending"),
    ],
)
def test_escalation_timeframe(fixed, promised, expected):
    assert export.escalation_met(promised.isoformat(), fixed.isoformat() if fixed else None, NOW) == expected


def test_no_escalation_no_timeframe():
    assert export.escalation_met(None, None, NOW) is None


# --- activity.csv (the query picks each kind's fields out of the event's JSON) --------------------------
@pytest.fixture
def events_db(sqlite_url):  # type: ignore[no-untyped-def]
    from storage.db import Database

    database = Database(sqlite_url, pool_size=2)
    database.migrate()
    yield database
    database.dispose()


def activity(db, kind: str, data: dict) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from bot.cases import Cases
    from storage import repositories as repo

    case_id = Cases(db, clock=lambda: OPENED).open(team_id="T", channel_id="C1", flagged_by="UA", summary="s").id
    with db.session() as session:
        repo.add_event(session, case_id, actor="UA", kind=kind, now=OPENED, data=data)
    (row,) = [r for r in export.activity_rows(db, OPENED - timedelta(days=1)) if r[1] == str(case_id)]
    return dict(zip([c.name for c in export_columns.ACTIVITY_COLUMNS], row, strict=True))


def test_activity_attempt_row(events_db):
    row = activity(events_db, "attempt", {"what": "=refund", "result": "calmer", "outcome": "helped"})
    assert {k: v for k, v in row.items() if k not in ("event_id", "case_id")} == {
        "at": "2026-11-20T09:00:00Z", "kind": "attempt", "author": "UA", "text": "'=refund", "result": "calmer",
        "outcome": "helped", "colleague": ""}


@pytest.mark.parametrize(
    "kind, data, expected",
    [
        ("note", {"text": "called back"}, {"text": "called back"}),
        ("handoff_requested", {"to": "UB", "note": "please"}, {"text": "please", "colleague": "UB"}),
        ("handoff_accepted", {"from": "UA", "to": "UB"}, {"colleague": "UA"}),
        ("handoff_declined", {"from": "UA", "reason": "busy"}, {"text": "busy", "colleague": "UA"}),
        ("handoff_failed", {"to": "UB", "error": "user_not_found"}, {"outcome": "user_not_found", "colleague": "UB"}),
        ("escalated", {"need": "a fix", "severity": "high", "expected_by": "2026-11-21T10:00:00+01:00"},
         {"text": "a fix", "result": "2026-11-21T09:00:00Z", "outcome": "high"}),
        ("escalation_update", {"text": "on it"}, {"text": "on it"}),
        ("escalation_fixed", {}, {}),
        ("resolved", {"fix": "refund", "prevention": "docs"}, {"text": "refund", "result": "docs", "outcome": "resolved"}),
        ("unresolved", {"explanation": "no stock"}, {"text": "no stock", "outcome": "unresolved"}),
        ("reviewed", {"cause": "ux", "improve": "faster", "ux_issue": "menu"},
         {"text": "faster", "result": "menu", "outcome": "ux"}),
        ("follow_up", {"outcome": "happy", "note": "all good"}, {"text": "all good", "outcome": "happy"}),
        ("follow_up_skipped", {"reminder": 3}, {"outcome": "skipped"}),
        ("follow_up_snoozed", {"until": "2026-11-22T09:00:00+00:00", "choice": "tomorrow"},
         {"result": "2026-11-22T09:00:00Z", "outcome": "tomorrow"}),
        ("reopened", {"was": "resolved"}, {"outcome": "resolved"}),
    ],
)
def test_activity_kinds(events_db, kind, data, expected):
    row = activity(events_db, kind, data)
    assert row["kind"] == kind
    for column in ("text", "result", "outcome", "colleague"):
        assert row[column] == expected.get(column, ""), column


def test_every_activity_kind_is_tested():
    tested = {"attempt", "note", "handoff_requested", "handoff_accepted", "handoff_declined", "handoff_failed",
              "escalated", "escalation_update", "escalation_fixed", "resolved", "unresolved", "reviewed", "follow_up",
              "follow_up_skipped", "follow_up_snoozed", "reopened"}
    assert set(export_columns.ACTIVITY_KINDS) == tested


def test_other_events_are_not_exported(events_db):
    from bot.cases import Cases

    case_id = Cases(events_db, clock=lambda: OPENED).open(team_id="T", channel_id="C1", flagged_by="UA", summary="s").id
    Cases(events_db, clock=lambda: OPENED).set_step(case_id, 1, done=True, user="UA")
    assert list(export.activity_rows(events_db, OPENED - timedelta(days=1))) == []  # case_opened, step_done


def test_readme_tables_document_every_column_and_kind():
    tables = export_columns.readme_tables()
    for column in (*export_columns.CASE_COLUMNS, *export_columns.ACTIVITY_COLUMNS):
        assert f"| `{column.name}` |" in tables
    for kind in export_columns.ACTIVITY_KINDS:
        assert f"| `{kind}` |" in tables


@pytest.mark.parametrize("raw, days", [(None, 90), ("", 90), ("30", 30), ("30d", 30), ("1", 1), ("3650", 3650)])
def test_days(raw, days):
    assert export.parse_days(raw) == days


@pytest.mark.parametrize("raw", ["0", "3651", "-5", "1.5", "abc", "30w"])
def test_bad_days(raw):
    assert export.parse_days(raw) is None


@pytest.mark.parametrize("text, word", [("export", None), ("EXPORT 30", "30"), ("export  7d", "7d"), ("export -1", "-1")])
def test_export_command(text, word):
    parsed = parse_command(text)
    assert (parsed.kind, parsed.word) == ("export", word)


@pytest.mark.parametrize("text", ["export failed", "export: it broke", "Export team: cannot download"])
def test_export_words_in_a_case_stay_a_case(text):
    assert parse_command(text).kind == "case"


# --- LEADS ------------------------------------------------------------------------------------
def test_leads_parse_users_and_groups():
    leads, problems = parse_leads(" U01ABC, W02DEF ,S03GHI,,U01ABC, S03GHI")
    assert problems == []
    assert leads.users == frozenset({"U01ABC", "W02DEF"}) and leads.groups == ("S03GHI",)


def test_leads_one_line_per_mistake():
    _, problems = parse_leads("U01ABC,bob,@alice,C0123,s03lower")
    assert len(problems) == 4
    assert all(p.startswith("LEADS: ") and "\n" not in p for p in problems)
    assert "'bob'" in problems[0] and "'@alice'" in problems[1]


def test_leads_in_config(tmp_path):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "LEADS": "U01ABC,S02",
           "RETENTION_DAYS": "30"}
    config = load_config(env)
    assert config.leads == Leads(frozenset({"U01ABC"}), ("S02",)) and config.retention_days == 30
    assert load_config({k: v for k, v in env.items() if k not in ("LEADS", "RETENTION_DAYS")}).retention_days is None
    with pytest.raises(ConfigError) as err:
        load_config({**env, "LEADS": "nobody", "RETENTION_DAYS": "0"})
    assert [p.split(" ")[0] for p in err.value.problems] == ["LEADS:", "RETENTION_DAYS"]


@pytest.mark.parametrize("raw, days", [(None, None), ("1", 1), ("365", 365), ("3650", 3650)])
def test_retention_days(raw, days):
    assert parse_retention_days(raw) == (days, None)


@pytest.mark.parametrize("raw", ["0", "3651", "30d", "-1", "x"])
def test_bad_retention_days(raw):
    days, problem = parse_retention_days(raw)
    assert days is None and problem and problem.startswith("RETENTION_DAYS") and "1 to 3650" in problem


class FakeGroups:
    def __init__(self, groups: dict[str, list[str]], fail: set[str] | None = None):
        self.groups, self.fail, self.calls = groups, fail or set(), []

    def group_members(self, group: str) -> list[str]:  # the Slack port's usergroups.users.list
        self.calls.append(group)
        if group in self.fail:
            raise SlackFailure("missing_scope", method="usergroups.users.list")
        return self.groups.get(group, [])


def test_listed_users_are_leads_without_calling_slack():
    client = FakeGroups({})
    check = LeadCheck(Leads(frozenset({"UL"}), ("SG",)), client)  # type: ignore[arg-type]
    assert check.quick("UL").allowed and check.check("UL").allowed
    assert client.calls == []


def test_nobody_is_a_lead_when_none_are_set():
    verdict = LeadCheck(Leads(), FakeGroups({})).check("UX")  # type: ignore[arg-type]
    assert not verdict.allowed and verdict.message == texts.EXPORT_NO_LEADS


def test_group_members_are_leads_and_the_group_is_cached():
    clock = [0.0]
    client = FakeGroups({"SG": ["UM"]})
    check = LeadCheck(Leads(frozenset(), ("SG",)), client, clock=lambda: clock[0])  # type: ignore[arg-type]
    assert check.quick("UM") is None  # unknown until looked up
    assert check.check("UM").allowed
    refused = check.check("UOTHER")
    assert not refused.allowed and "<!subteam^SG>" in (refused.message or "")
    assert check.quick("UOTHER") is not None and client.calls == ["SG"]  # from the cache
    client.groups["SG"] = ["UOTHER"]
    clock[0] += GROUP_CACHE_SECONDS + 1
    assert check.check("UOTHER").allowed and client.calls == ["SG", "SG"]


def test_a_failed_group_lookup_denies_with_the_reason():
    client = FakeGroups({"SOK": ["UA"]}, fail={"SBAD"})
    check = LeadCheck(Leads(frozenset(), ("SBAD", "SOK")), client)  # type: ignore[arg-type]
    verdict = check.check("UB")
    assert not verdict.allowed and "missing_scope" in (verdict.message or "") and "usergroups:read" in (verdict.message or "")
    assert check.check("UA").allowed  # a member of a group that did answer


# --- retention scrub ---------------------------------------------------------------------------------
def test_scrub_keeps_choices_and_times_and_erases_text():
    record = {"what": "called Jane", "result": "calm", "outcome": "helped", "step": 4, "apology": "accepted",
              "note": "", "feedback_asked": True, "expected_by": "2026-11-21T09:00:00+00:00", "customer": {"from": "a"}}
    assert scrub(record) == {"what": texts.ERASED_TEXT, "result": texts.ERASED_TEXT, "outcome": "helped", "step": 4,
                             "apology": "accepted", "feedback_asked": True, "expected_by": "2026-11-21T09:00:00+00:00"}


# --- the stand-in's files and user groups ---------------------------------------------------------
def test_standin_takes_a_v2_upload_and_lists_group_members(standin):
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test", base_url=standin.url)
    dm = client.conversations_open(users="UAGENT")["channel"]["id"]
    done = client.files_upload_v2(
        file_uploads=[{"content": b"a,b\n1,2\n", "filename": "one.csv", "title": "One"},
                      {"content": "x\n", "filename": "two.csv"}],
        channel=dm, initial_comment="here",
    )
    assert [f["name"] for f in done["files"]] == ["one.csv", "two.csv"]
    files = standin.files(dm)
    assert [(f["filename"], f["title"], f["content"]) for f in files] == [("one.csv", "One", b"a,b\n1,2\n"),
                                                                           ("two.csv", "two.csv", b"x\n")]
    assert files[0]["initial_comment"] == "here" and standin.dm_messages("UAGENT")[-1]["files"][0]["name"] == "one.csv"
    with pytest.raises(SlackApiError) as err:  # completing an id twice, or one never uploaded
        client.files_completeUploadExternal(files=[{"id": files[0]["id"]}], channel_id=dm)
    assert err.value.response["error"] == "file_not_found"
    half = client.files_getUploadURLExternal(filename="x.csv", length=10)
    with pytest.raises(SlackApiError) as err:
        client.files_completeUploadExternal(files=[{"id": half["file_id"]}], channel_id=dm)
    assert err.value.response["error"] == "file_upload_incomplete"

    standin.add_usergroup("SLEADS", ["UAGENT", "UTHIRD"])
    assert client.usergroups_users_list(usergroup="SLEADS")["users"] == ["UAGENT", "UTHIRD"]
    with pytest.raises(SlackApiError) as err:
        client.usergroups_users_list(usergroup="SNONE")
    assert err.value.response["error"] == "no_such_subteam"
