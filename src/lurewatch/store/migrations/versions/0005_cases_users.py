"""Case management and the web dashboard: users, sessions, reports, notes, assignee, audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they are at this revision (see 0001).
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)

# The audit log is append-only in the database itself, not only in the code that writes it.
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION lurewatch_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION lurewatch_audit_log_append_only()",
)


def upgrade() -> None:
    with op.batch_alter_table("approaches") as batch:
        batch.add_column(sa.Column("assignee", sa.Text(), nullable=True))
        batch.add_column(sa.Column("updated_at", _TS, nullable=True))
        batch.create_index(batch.f("ix_approaches_assignee"), ["assignee"])
        # The inbox sorts by risk, then date, then id, usually under one filter: with these it reads the
        # first page straight off an index instead of sorting every match.
        # (risk, sent_at, id) serves every query the older (risk, sent_at) did; one index less to maintain.
        batch.drop_index(batch.f("ix_approaches_risk_sent_at"))
        batch.create_index(batch.f("ix_approaches_risk_sent_at_id"), ["risk", "sent_at", "id"])
        batch.create_index(
            batch.f("ix_approaches_status_risk_sent_at_id"), ["status", "risk", "sent_at", "id"]
        )
        batch.create_index(
            batch.f("ix_approaches_category_risk_sent_at_id"), ["category", "risk", "sent_at", "id"]
        )
        batch.create_index(
            batch.f("ix_approaches_severity_risk_sent_at_id"), ["severity", "risk", "sent_at", "id"]
        )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'analyst', 'reporter')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_web_sessions_username_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_username"), "web_sessions", ["username"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "case_reports",
        sa.Column("approach_id", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reported_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["approach_id"],
            ["approaches.id"],
            name=op.f("fk_case_reports_approach_id_approaches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("approach_id", "username", name=op.f("pk_case_reports")),
    )
    op.create_index(op.f("ix_case_reports_username"), "case_reports", ["username"])
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("approach_id", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["approach_id"],
            ["approaches.id"],
            name=op.f("fk_case_notes_approach_id_approaches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_approach_id"), "case_notes", ["approach_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_object_type_object_id"), "audit_log", ["object_type", "object_id"])
    op.create_index(op.f("ix_audit_log_username"), "audit_log", ["username"])
    triggers = _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS lurewatch_audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("case_notes")
    op.drop_table("case_reports")
    op.drop_table("web_sessions")
    op.drop_table("users")
    with op.batch_alter_table("approaches") as batch:
        for name in (
            "risk_sent_at_id",
            "status_risk_sent_at_id",
            "category_risk_sent_at_id",
            "severity_risk_sent_at_id",
        ):
            batch.drop_index(batch.f(f"ix_approaches_{name}"))
        batch.drop_index(batch.f("ix_approaches_assignee"))
        batch.create_index(batch.f("ix_approaches_risk_sent_at"), ["risk", "sent_at"])
        batch.drop_column("updated_at")
        batch.drop_column("assignee")
