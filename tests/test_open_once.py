"""A request delivered again (same trigger or view) finds its case instead of opening a second one."""

from __future__ import annotations

from bot.cases import Cases


def test_the_same_intake_key_opens_one_case(db) -> None:  # type: ignore[no-untyped-def]
    cases = Cases(db)
    fields = dict(team_id="T1", channel_id="C1", flagged_by="U1", customer="Acme", summary="charged twice")
    first = cases.open_once(intake_key="command:trigger-1", **fields)
    again = cases.open_once(intake_key="command:trigger-1", **fields)
    other = cases.open_once(intake_key="command:trigger-2", **fields)
    assert again.id == first.id and other.id != first.id
    assert cases.case_for_intake("command:trigger-1") == first.id
