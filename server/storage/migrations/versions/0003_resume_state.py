"""Runs get `resume_state`: where the trainer a stopped run resumes from was saved (weights,
optimizer, random states, step), beside its weights' file.

Revision ID: 0003
May import: alembic, sqlalchemy.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("resume_state", sa.String(500)))


def downgrade() -> None:
    op.execute("ALTER TABLE runs DROP COLUMN resume_state")  # SQLite >= 3.35 and PostgreSQL
