"""Retention: cases.erased_at, and job_runs (one claim row per daily job and day).

Revision ID: 0004_retention
Revises: 0003_query_indexes
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_retention'
down_revision = '0003_query_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job', 'day', name='uq_job_runs_job_day')
    )


def downgrade() -> None:
    op.drop_table('job_runs')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('erased_at')
