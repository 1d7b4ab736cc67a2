"""Cases remember where they were flagged and who can read the channel they live in.

Revision ID: 0002_case_audience
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_case_audience'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('source_channel_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('visibility', sa.String(length=16), nullable=True))
    # Rows from before: flagged where they live. Their visibility stays unknown, so their details are shown
    # only in their own channel (the safe reading) until nothing older than this remains.
    op.execute("UPDATE cases SET source_channel_id = channel_id")


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('visibility')
        batch.drop_column('source_channel_id')
