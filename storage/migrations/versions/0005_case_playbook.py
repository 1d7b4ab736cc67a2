"""Cases keep the playbook they were opened with: its name, language and steps.

Revision ID: 0005_case_playbook
Revises: 0004_retention
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_case_playbook"
down_revision = "0004_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before stay NULL: they read as the built-in six steps, which is what they were opened with.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("playbook_name", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("playbook_language", sa.String(length=35), nullable=True))
        batch.add_column(sa.Column("playbook_steps", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("playbook_steps")
        batch.drop_column("playbook_language")
        batch.drop_column("playbook_name")
