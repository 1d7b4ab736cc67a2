"""Who sees what: a repeat customer's earlier cases show their details only where those cases' own readers are.

A public internal channel's cases are visible from any internal channel; a private channel's cases only in
that channel; a case of unknown visibility (from before this was recorded) only in its own channel. The rest
is a bare count. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cases import Cases
from bot.core.snapshot import CaseSnapshot, PriorCase
from handlers.checklist import case_message as case_view
from tests.test_blocks import snapshot

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def cases(db) -> Cases:  # type: ignore[no-untyped-def]
    ticks = iter(range(10_000))
    return Cases(db, clock=lambda: T0 + timedelta(minutes=next(ticks)))


def posted_case(cases: Cases, channel: str, visibility: str | None, *, customer: str = "Acme Corp",
                failed: str | None = None) -> CaseSnapshot:
    """A case flagged and posted in `channel` (visibility None: a row from before it was recorded)."""
    case = cases.open(team_id="T0001", channel_id=channel, flagged_by="UAGENT", summary=f"trouble in {channel}",
                      customer=customer)
    if visibility:
        cases.set_destination(case.id, channel_id=channel, visibility=visibility)
    cases.set_posted(case.id, message_ts=f"1.{case.id}", permalink=f"https://x.slack.com/archives/{channel}/p{case.id}")
    if failed:
        cases.log_attempt(case.id, user="UAGENT", what=failed, result="no", outcome="failed")
    return cases.require(case.id)


def text_of(case: CaseSnapshot) -> str:
    return str(case_view.case_message(case))


def test_private_case_is_only_counted_from_a_public_channel(cases: Cases):
    private = posted_case(cases, "GVIP", "private", failed="Refund via Stripe")
    public = posted_case(cases, "CSUPPORT", "public")
    assert public.prior_count == 1 and public.prior_elsewhere == 1 and public.prior == ()
    shown = text_of(public)
    assert "1 earlier case elsewhere" in shown
    assert "Refund via Stripe" not in shown and "trouble in GVIP" not in shown
    assert "GVIP" not in shown and private.permalink not in shown and f"#{private.id}" not in shown


def test_private_case_is_shown_in_full_in_the_same_private_channel(cases: Cases):
    first = posted_case(cases, "GVIP", "private", failed="Refund via Stripe")
    again = posted_case(cases, "GVIP", "private")
    assert again.prior_elsewhere == 0 and [p.id for p in again.prior] == [first.id]
    shown = text_of(again)
    assert "Refund via Stripe" in shown and first.permalink in shown and "elsewhere" not in shown


def test_private_case_is_only_counted_in_another_private_channel(cases: Cases):
    posted_case(cases, "GVIP", "private", failed="Refund via Stripe")
    other = posted_case(cases, "GOTHER", "private")
    assert other.prior == () and other.prior_elsewhere == 1
    assert "Refund via Stripe" not in text_of(other)


def test_public_case_is_shown_in_any_internal_channel(cases: Cases):
    first = posted_case(cases, "CSUPPORT", "public", failed="Clear the cache")
    for channel, visibility in (("GVIP", "private"), ("CBILLING", "public"), ("CCASES", "private")):
        later = cases.require(posted_case(cases, channel, visibility).id)
        assert first.id in [p.id for p in later.prior]
        assert "Clear the cache" in text_of(later)


def test_cases_kept_in_a_private_cases_channel_are_visible_there_only(cases: Cases):
    kept = posted_case(cases, "GCASES", "private", failed="Called them back")
    there = posted_case(cases, "GCASES", "private")
    assert [p.id for p in there.prior] == [kept.id]
    elsewhere = posted_case(cases, "CSUPPORT", "public")
    assert elsewhere.prior_elsewhere == 2 and elsewhere.prior == ()


def test_mixed_history_gives_details_and_a_count(cases: Cases):
    posted_case(cases, "GVIP", "private", failed="secret attempt")
    posted_case(cases, "GVIP", "private")
    seen = posted_case(cases, "CSUPPORT", "public", failed="public attempt")
    now = posted_case(cases, "CBILLING", "public")
    assert now.prior_count == 3 and now.prior_elsewhere == 2 and [p.id for p in now.prior] == [seen.id]
    shown = text_of(now)
    assert "1 earlier case(s)" in shown and "and 2 earlier cases elsewhere" in shown
    assert "public attempt" in shown and "secret attempt" not in shown


def test_rows_of_unknown_visibility_show_only_in_their_own_channel(cases: Cases):
    old = posted_case(cases, "CSUPPORT", None, failed="legacy attempt")
    same = posted_case(cases, "CSUPPORT", "public")
    assert [p.id for p in same.prior] == [old.id]
    other = posted_case(cases, "CBILLING", "public")
    assert other.prior_elsewhere == 1 and old.id not in [p.id for p in other.prior]


def test_newest_five_visible_are_shown_even_behind_many_hidden(cases: Cases):
    visible = posted_case(cases, "CSUPPORT", "public")
    for _ in range(7):
        posted_case(cases, "GVIP", "private")
    now = posted_case(cases, "CBILLING", "public")
    assert [p.id for p in now.prior] == [visible.id] and now.prior_elsewhere == 7


def test_moving_a_case_to_its_destination_recomputes_what_it_shows(cases: Cases):
    posted_case(cases, "GVIP", "private", failed="Refund via Stripe")
    new = cases.open(team_id="T0001", channel_id="GVIP", flagged_by="UAGENT", summary="again", customer="Acme Corp")
    assert new.prior and new.prior_elsewhere == 0  # before routing: as if it stayed where it was flagged
    moved = cases.set_destination(new.id, channel_id="CCASES", visibility="public")
    assert moved.prior == () and moved.prior_elsewhere == 1
    assert moved.channel_id == "CCASES" and moved.source_channel_id == "GVIP" and moved.visibility == "public"


def test_withdraw_removes_an_unposted_case_only(cases: Cases):
    unposted = cases.open(team_id="T0001", channel_id="CSHARED", flagged_by="UAGENT", summary="x", customer="Acme")
    cases.log_attempt(unposted.id, user="UAGENT", what="y", result="z", outcome="failed")
    assert cases.withdraw(unposted.id, reason="test")
    assert cases.get(unposted.id) is None
    posted = posted_case(cases, "CSUPPORT", "public")
    assert not cases.withdraw(posted.id, reason="test")
    assert cases.get(posted.id) is not None


# --- rendering ---------------------------------------------------------------------------------
def test_only_a_count_when_nothing_is_visible():
    rendered = str(case_view.case_message(snapshot(prior=(), prior_count=2, prior_elsewhere=2)))
    assert "2 earlier cases elsewhere" in rendered and "Repeat customer" in rendered


def test_count_never_exceeds_the_total():
    prior = (PriorCase(7, "resolved", T0, None, "x"),)
    rendered = str(case_view.case_message(snapshot(prior=prior, prior_count=1, prior_elsewhere=5)))
    assert "1 earlier case elsewhere" in rendered and "#7" not in rendered


def test_case_kept_elsewhere_links_back_to_where_it_was_flagged():
    rendered = str(case_view.case_message(snapshot(channel_id="CCASES", source_channel_id="CSHARED")))
    assert "Flagged in" in rendered and "<#CSHARED>" in rendered
    assert "Flagged in" not in str(case_view.case_message(snapshot(channel_id="CSUPPORT", source_channel_id="CSUPPORT")))
    dm = str(case_view.case_message(snapshot(channel_id="CCASES", source_channel_id="DOUTSIDE")))
    assert "Flagged in" in dm and "<#DOUTSIDE>" not in dm
