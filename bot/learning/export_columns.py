"""What an export contains, column by column: the documented columns of cases.csv and activity.csv, and
the kinds of activity with what their text and result mean. The README's tables are generated from
these (readme_tables), so the documentation cannot drift from the files."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    doc: str


CASE_COLUMNS: tuple[Column, ...] = (
    Column("case_id", "Defuse's case number (the #N shown in Slack)."),
    Column("opened_at", "When the case was flagged, UTC, ISO 8601 (`2026-12-01T09:30:00Z`)."),
    Column("closed_at", "When it was closed, UTC ISO 8601; empty while open. A case reopened and closed again shows its last close."),
    Column("status", "`open`, `escalated` (open, waiting for experts), `resolved` or `unresolved`."),
    Column("outcome", "How it was closed: `resolved`, `unresolved`; empty while open."),
    Column("owner", "Slack user ID of the agent who owns the case now (after any handoff)."),
    Column("flagged_by", "Slack user ID of the agent who flagged it."),
    Column("closed_by", "Slack user ID of the agent who closed it; empty while open."),
    Column("playbook", "Name of the playbook the case was opened with (cases from before playbooks were recorded: the built-in `Six steps`)."),
    Column("steps_done_count", "How many checklist steps are ticked."),
    Column("steps_done", "Which steps are ticked, by number in checklist order, separated by `;` (e.g. `1;2;4`)."),
    Column("apology_accepted", "The answer on the step that asks whether the apology was accepted (step 4 of the built-in playbook): `accepted`, `not_yet` or `refused`; empty if not recorded."),
    Column("mood_at_flagging", "The customer's mood recorded on the case (`calm`, `upset`, `angry`, `furious`); empty if not given."),
    Column("mood_at_close", "The customer's mood recorded when closing (one tap on the close form); empty if not given."),
    Column("mood_latest", "The latest mood recorded after flagging: at the last follow-up answer that gave one, else at closing; empty if none."),
    Column("mood_change", "From `mood_at_flagging` to `mood_latest`: `calmer`, `same` or `worse` (moods run calm, upset, angry, furious); empty unless both are known. The headline outcome of a case."),
    Column("time_to_resolve_seconds", "Seconds from flagging to closing (the last close), for resolved cases; empty otherwise."),
    Column("time_to_close_seconds", "Seconds from flagging to closing, for any closed case; empty while open."),
    Column("cause", "Cause chosen in the review: `bug`, `ux`, `support`, `outside`, `other`; empty if not reviewed."),
    Column("ux_issue", "`yes` if the review reported a UX issue for the product team, `no` if reviewed without one, empty if not reviewed."),
    Column("attempts", "Number of attempts logged (what was tried)."),
    Column("attempts_helped", "Of those, how many were marked as having helped."),
    Column("attempts_failed", "Of those, how many were marked as not having helped."),
    Column("notes", "Number of notes added to the case file."),
    Column("handoffs", "Number of handoff requests to a colleague (whatever their answer)."),
    Column("escalations", "Number of times the case was escalated to experts."),
    Column("escalation_severity", "Severity of the latest escalation: `low`, `normal`, `high`, `critical`; empty if never escalated."),
    Column("escalation_timeframe_met", "Latest escalation: `yes` if marked fixed by the time promised to the customer, `no` if fixed later or not fixed and the time has passed, `pending` if not fixed and the time has not come; empty if never escalated."),
    Column("reopened", "Number of times the case was reopened after closing."),
    Column("follow_ups_done", "Follow-ups the agent recorded as done."),
    Column("follow_ups_skipped", "Follow-up reminders the agent skipped."),
    Column("last_follow_up_outcome", "Outcome of the latest follow-up: `happy`, `unhappy`, `no_answer`; empty if none."),
    Column("repeat_customer", "`yes` if an earlier case has the same customer (by name, e-mail or Slack user); `no` otherwise. Unknown (`no`) once the earlier case's customer details were erased."),
    Column("erased_at", "When retention erased the case's customer details and texts (UTC ISO 8601); empty if not erased."),
)


ACTIVITY_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "Unique number of the record (increases with time)."),
    Column("case_id", "The case it belongs to (cases.csv `case_id`)."),
    Column("at", "When it happened, UTC ISO 8601."),
    Column("kind", "What it is (see the table of kinds)."),
    Column("author", "Slack user ID of who did it (`defuse` for the app itself)."),
    Column("text", "The words typed in Defuse for it (see the table of kinds); `(erased)` or empty after retention."),
    Column("result", "A second text or value (see the table of kinds)."),
    Column("outcome", "A fixed value (see the table of kinds)."),
    Column("colleague", "For handoffs: the other agent's Slack user ID."),
)


@dataclass(frozen=True)
class Kind:
    """Which keys of an event's data fill the text, result, outcome and colleague columns."""

    doc: str
    text: str | None = None
    result: str | None = None
    outcome: str | None = None
    colleague: str | None = None
    fixed_outcome: str | None = None


ACTIVITY_KINDS: dict[str, Kind] = {
    "attempt": Kind("An attempt: text = what was tried, result = what happened, outcome = `helped`, `partly` or `failed`.",
                    text="what", result="result", outcome="outcome"),
    "note": Kind("A note in the case file: text = the note.", text="text"),
    "handoff_requested": Kind("Handoff asked of a colleague: text = the note for them, colleague = who was asked.",
                              text="note", colleague="to"),
    "handoff_accepted": Kind("The colleague took the case over: colleague = who asked.", colleague="from"),
    "handoff_declined": Kind("The colleague declined: text = their reason, colleague = who asked.",
                             text="reason", colleague="from"),
    "handoff_failed": Kind("The request could not be delivered: outcome = Slack's error, colleague = who was asked.",
                           outcome="error", colleague="to"),
    "escalated": Kind("Escalated to experts: text = what is needed, result = time promised to the customer (UTC ISO 8601), "
                      "outcome = severity.", text="need", result="expected_by", outcome="severity"),
    "escalation_update": Kind("An expert's update on the escalation: text = the update.", text="text"),
    "escalation_fixed": Kind("The escalation was marked fixed."),
    "resolved": Kind("Closed as resolved: text = the fix, result = advice to prevent it, outcome = `resolved`.",
                     text="fix", result="prevention", fixed_outcome="resolved"),
    "unresolved": Kind("Closed as not resolved: text = the explanation given, outcome = `unresolved`.",
                       text="explanation", fixed_outcome="unresolved"),
    "reopened": Kind("Reopened after closing: outcome = the status it had.", outcome="was"),
    "reviewed": Kind("The review: text = what could be improved, result = the UX issue reported, outcome = the cause.",
                     text="improve", result="ux_issue", outcome="cause"),
    "follow_up": Kind("A follow-up done: text = the agent's note, outcome = `happy`, `unhappy` or `no_answer`.",
                      text="note", outcome="outcome"),
    "follow_up_skipped": Kind("A follow-up reminder skipped: outcome = `skipped`.", fixed_outcome="skipped"),
    "follow_up_snoozed": Kind("A follow-up reminder snoozed: result = until when (UTC ISO 8601), outcome = the choice.",
                              result="until", outcome="choice"),
}


# --- README ---------------------------------------------------------------------------------
def readme_tables() -> str:
    """The column tables for the README, generated so they cannot drift from the code."""
    lines = ["**cases.csv**", "", "| column | meaning |", "| --- | --- |"]
    lines += [f"| `{c.name}` | {c.doc} |" for c in CASE_COLUMNS]
    lines += ["", "**activity.csv**", "", "| column | meaning |", "| --- | --- |"]
    lines += [f"| `{c.name}` | {c.doc} |" for c in ACTIVITY_COLUMNS]
    lines += ["", "Kinds of activity rows:", "", "| kind | meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {kind.doc} |" for name, kind in ACTIVITY_KINDS.items()]
    return "\n".join(lines) + "\n"
