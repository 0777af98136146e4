"""Language of the inbound text and persona type of the sender, per approach.

Both columns are nullable: approaches imported before this revision keep NULL (not determined), and
new imports fill them from the assessment.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column is an in-place ALTER on SQLite and PostgreSQL alike.
    op.add_column("approaches", sa.Column("language", sa.String(length=16), nullable=True))
    op.add_column("approaches", sa.Column("persona", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approaches") as batch:
        batch.drop_column("persona")
        batch.drop_column("language")
