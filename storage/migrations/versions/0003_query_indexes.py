"""Indexes for the App Home tab and the repeat-customer lookup, so their cost does not grow with history.

Revision ID: 0003_query_indexes
Revises: 0002_case_audience
Create Date: 2026-12-01
"""
from alembic import op

revision = "0003_query_indexes"
down_revision = "0002_case_audience"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_cases_owner_status_opened", "cases", ["owner_id", "status", "opened_at"]),
    ("ix_cases_opened_at", "cases", ["opened_at"]),
    ("ix_cases_closed_status_opened", "cases", ["closed_at", "status", "opened_at"]),
    ("ix_case_events_case_kind", "case_events", ["case_id", "kind", "id"]),
    ("ix_reviews_reviewed_cause", "reviews", ["reviewed_at", "cause"]),
    ("ix_reminders_recipient_status_due", "reminders", ["recipient", "status", "due_at"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
