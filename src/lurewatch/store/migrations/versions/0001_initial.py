"""Initial workspace schema: imports, accounts, approaches, messages, signals.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision: migrations must not follow later
# edits of tables.py.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("profile_url", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("connections", sa.Integer(), nullable=True),
        sa.Column("account_age_days", sa.Integer(), nullable=True),
        sa.Column("photo", sa.Text(), nullable=True),
        sa.Column("sector", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_accounts"),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"])

    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("imported_at", _TS, nullable=False),
        sa.Column("owner_key", sa.Text(), nullable=True),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("counts", _JSON, nullable=False),
        sa.Column("approaches_added", sa.Integer(), nullable=False),
        sa.Column("approaches_duplicate", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_key"], ["accounts.key"], name="fk_imports_owner_key_accounts", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
        sa.UniqueConstraint("digest", "kind", name="uq_imports_digest_kind"),
    )
    op.create_index("ix_imports_imported_at", "imports", ["imported_at"])

    op.create_table(
        "approaches",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("sender_key", sa.Text(), nullable=False),
        sa.Column("recipient_key", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("conversation_title", sa.Text(), nullable=False),
        sa.Column("conversation_channel", sa.String(length=32), nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("sender_is_connection", sa.Boolean(), nullable=True),
        sa.Column("label", sa.String(length=32), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("category_scores", _JSON, nullable=False),
        sa.Column("advice", _JSON, nullable=False),
        sa.Column("catalogue_version", sa.Text(), nullable=False),
        sa.Column("risk_rose_at", sa.Integer(), nullable=True),
        sa.Column("top_signals", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("verdict", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('new', 'triaged', 'closed')", name=op.f("ck_approaches_status")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name="fk_approaches_import_id_imports", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sender_key"], ["accounts.key"], name="fk_approaches_sender_key_accounts"),
        sa.ForeignKeyConstraint(
            ["recipient_key"], ["accounts.key"], name="fk_approaches_recipient_key_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_approaches"),
        sa.UniqueConstraint("fingerprint", name="uq_approaches_fingerprint"),
    )
    op.create_index("ix_approaches_risk_sent_at", "approaches", ["risk", "sent_at"])
    op.create_index("ix_approaches_category", "approaches", ["category"])
    op.create_index("ix_approaches_status", "approaches", ["status"])
    op.create_index("ix_approaches_import_id", "approaches", ["import_id"])
    op.create_index("ix_approaches_sender_key", "approaches", ["sender_key"])
    op.create_index("ix_approaches_recipient_key", "approaches", ["recipient_key"])

    op.create_table(
        "messages",
        sa.Column("approach_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Text(), nullable=False),
        sa.Column("sender_key", sa.Text(), nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("inbound", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("folder", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recipient_keys", _JSON, nullable=False),
        sa.Column("attachments", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["approach_id"], ["approaches.id"], name="fk_messages_approach_id_approaches", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("approach_id", "position", name="pk_messages"),
    )
    op.create_index("ix_messages_sender_key", "messages", ["sender_key"])

    op.create_table(
        "signals",
        sa.Column("approach_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("sources", _JSON, nullable=False),
        sa.Column("supports", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["approach_id"], ["approaches.id"], name="fk_signals_approach_id_approaches", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("approach_id", "position", name="pk_signals"),
    )
    op.create_index("ix_signals_indicator_id", "signals", ["indicator_id"])


def downgrade() -> None:
    op.drop_table("signals")
    op.drop_table("messages")
    op.drop_table("approaches")
    op.drop_table("imports")
    op.drop_table("accounts")
