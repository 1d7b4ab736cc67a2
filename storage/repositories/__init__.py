"""Queries and writes, one function per need, in a module per room. Callers own the session and its
transaction and read them here as `repo.<function>`; each module says which room it serves."""

from __future__ import annotations

from storage.repositories.agents import add_agent_if_missing, get_agent, upsert_agent
from storage.repositories.cases import (
    CASES,
    STEPS,
    case_exists,
    count_prior_cases,
    count_prior_cases_seen,
    create_case,
    delete_unposted_case,
    get_case,
    get_cases,
    prior_cases,
    set_step,
    step_done,
    update_case,
    update_case_if,
)
from storage.repositories.delivery import (
    UNFINISHED_POSTS,
    api_budget_next,
    case_id_for_intake,
    case_lease_holders,
    claim_case_delivery,
    claim_unconfirmed_handoffs,
    claim_unfinished_cases,
    release_leases_of,
    reminder_maybe_sent_at,
    route_held_case,
    route_held_unchanged,
    set_case_delivery,
    set_handoff_delivery,
    set_reminder_maybe_sent,
    take_api_budget,
)
from storage.repositories.events import add_event, events, events_for_cases
from storage.repositories.handoffs import answer_handoff, create_handoff, get_handoff, pending_handoffs
from storage.repositories.home import open_cases_for, status_counts, team_numbers
from storage.repositories.opening import OpeningEvent, OpeningReminder, open_case
from storage.repositories.reminders import (
    REMINDER_OPEN,
    add_reminder,
    cancel_reminders,
    claim_due,
    finish_reminder,
    get_reminder,
    home_follow_ups,
    reassign_reminders,
    reminders_for,
    renew_leases,
    set_reminder_status,
)
from storage.repositories.reviews import cause_counts, get_review, save_review, set_review_forwarded
from storage.repositories.rows import CaseRow, HandoffRow, ReminderRow, ReviewRow

__all__ = ['set_review_forwarded', 'CaseRow', 'HandoffRow', 'ReminderRow', 'ReviewRow', 'create_case', 'open_case', 'OpeningEvent', 'OpeningReminder', 'get_case', 'get_cases', 'update_case', 'update_case_if', 'set_step', 'step_done', 'case_exists', 'prior_cases', 'count_prior_cases', 'count_prior_cases_seen', 'delete_unposted_case', 'CASES', 'STEPS', 'add_event', 'events', 'events_for_cases', 'create_handoff', 'get_handoff', 'answer_handoff', 'pending_handoffs', 'save_review', 'get_review', 'cause_counts', 'get_agent', 'upsert_agent', 'add_agent_if_missing', 'add_reminder', 'claim_due', 'renew_leases', 'finish_reminder', 'get_reminder', 'set_reminder_status', 'cancel_reminders', 'reassign_reminders', 'reminders_for', 'home_follow_ups', 'REMINDER_OPEN', 'open_cases_for', 'status_counts', 'team_numbers', 'case_id_for_intake', 'claim_case_delivery', 'set_case_delivery', 'route_held_case', 'route_held_unchanged', 'claim_unfinished_cases', 'case_lease_holders', 'release_leases_of', 'claim_unconfirmed_handoffs', 'set_handoff_delivery', 'set_reminder_maybe_sent', 'reminder_maybe_sent_at', 'take_api_budget', 'api_budget_next', 'UNFINISHED_POSTS']
