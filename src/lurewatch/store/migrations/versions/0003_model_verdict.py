"""The text model's part in an assessment: the rules' own risk, the model version and its top words.

All three are nullable: approaches assessed before this revision, or by the rules alone, keep NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("approaches", sa.Column("rule_risk", sa.Float(), nullable=True))
    op.add_column("approaches", sa.Column("model_version", sa.String(length=64), nullable=True))
    op.add_column(
        "approaches", sa.Column("model_terms", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("approaches") as batch:
        batch.drop_column("model_terms")
        batch.drop_column("model_version")
        batch.drop_column("rule_risk")
