"""Campaigns found by ``lurewatch campaigns`` and their member messages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they are at this revision (see 0001).
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("found_at", _TS, nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("first_seen", _TS, nullable=True),
        sa.Column("last_seen", _TS, nullable=True),
        sa.Column("exemplar_text", sa.Text(), nullable=False),
        sa.Column("record", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_risk"), "campaigns", ["risk"])
    op.create_index(op.f("ix_campaigns_source"), "campaigns", ["source"])
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("recipient_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_members_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "message_id", name=op.f("pk_campaign_members")),
    )
    op.create_index(op.f("ix_campaign_members_account_id"), "campaign_members", ["account_id"])
    op.create_index(op.f("ix_campaign_members_message_id"), "campaign_members", ["message_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_members_message_id"), table_name="campaign_members")
    op.drop_index(op.f("ix_campaign_members_account_id"), table_name="campaign_members")
    op.drop_table("campaign_members")
    op.drop_index(op.f("ix_campaigns_source"), table_name="campaigns")
    op.drop_index(op.f("ix_campaigns_risk"), table_name="campaigns")
    op.drop_table("campaigns")
