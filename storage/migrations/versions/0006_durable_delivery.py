"""Durable intake and delivery: case post state, lease, intake key; unconfirmed DM markers; API budget.

Revision ID: 0006_durable_delivery
Revises: 0005_case_playbook
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_durable_delivery'
down_revision = '0005_case_playbook'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_state', sa.String(length=16), nullable=False, server_default='done'))
        batch_op.add_column(sa.Column('posting_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('checklist_posting_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('rendered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('intake_key', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('intake', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sync_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('sync_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_cases_post_state'), ['post_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_updated_at'), ['updated_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_cases_intake_key'), ['intake_key'])
    # Cases from before this revision: whatever is in Slack stays as it is; none is swept.
    op.execute("UPDATE cases SET rendered_at = updated_at")
    op.execute("UPDATE cases SET post_state = 'failed' WHERE message_ts IS NULL")
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dm_sending_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_by', sa.String(length=80), nullable=True))
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('maybe_sent_at', sa.DateTime(), nullable=True))
    op.create_table('api_budget',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_api_budget'))
    )


def downgrade() -> None:
    op.drop_table('api_budget')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_column('maybe_sent_at')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('sync_by')
        batch_op.drop_column('sync_until')
        batch_op.drop_column('dm_sending_at')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_cases_intake_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_cases_updated_at'))
        batch_op.drop_index(batch_op.f('ix_cases_post_state'))
        for column in ('sync_attempts', 'sync_by', 'sync_until', 'intake', 'intake_key', 'rendered_at',
                       'checklist_posting_at', 'posting_at', 'post_state'):
            batch_op.drop_column(column)
