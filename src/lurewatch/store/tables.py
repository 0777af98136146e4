"""The workspace schema as SQLAlchemy 2 typed ORM models.

Portable across SQLite and PostgreSQL: every free-text column is unbounded ``TEXT`` (PostgreSQL would
enforce a ``VARCHAR(n)`` that SQLite ignores; only enum-like columns are bounded), JSON becomes
``JSONB`` on PostgreSQL, and datetimes go through :class:`UTCDateTime` so that both back-ends hand
back timezone-aware UTC values. Keep this file and ``migrations/versions`` in step: a test compares
the migrated schema with this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Alembic's bookkeeping table; named for the project so a shared PostgreSQL database stays tidy.
VERSION_TABLE = "lurewatch_alembic_version"

#: Values of ``approaches.status``.
STATUSES: tuple[str, ...] = ("new", "triaged", "closed")

# Deterministic constraint names, so later migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Year 1 with a positive offset (or 9999 with a negative one) has no UTC equivalent.
        return datetime.min.replace(tzinfo=UTC) if value.year < 2 else datetime.max.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every back-end.

    SQLite has no timezone support and SQLAlchemy silently drops ``tzinfo`` when writing, so values are
    converted to UTC and stored naive there; PostgreSQL keeps ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as-is
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        str: Text(),
    }


class ImportRecord(Base):
    """One input file (or paste) handed to the workspace; ``(digest, kind)`` makes re-imports no-ops."""

    __tablename__ = "imports"
    __table_args__ = (
        UniqueConstraint("digest", "kind"),
        Index(None, "imported_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str]
    digest: Mapped[str]
    kind: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime]
    owner_key: Mapped[str | None] = mapped_column(ForeignKey("accounts.key", ondelete="SET NULL"))
    owner_name: Mapped[str | None]
    counts: Mapped[dict[str, Any]]
    approaches_added: Mapped[int] = mapped_column(Integer, default=0)
    approaches_duplicate: Mapped[int] = mapped_column(Integer, default=0)


class AccountRecord(Base):
    """A person or persona; fields are filled in as imports reveal them, never erased."""

    __tablename__ = "accounts"
    __table_args__ = (Index(None, "email"),)

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    profile_url: Mapped[str | None]
    email: Mapped[str | None]
    headline: Mapped[str | None]
    company: Mapped[str | None]
    location: Mapped[str | None]
    connections: Mapped[int | None] = mapped_column(Integer)
    account_age_days: Mapped[int | None] = mapped_column(Integer)
    photo: Mapped[str | None]
    sector: Mapped[str | None]


class ApproachRecord(Base):
    """An approach with its latest assessment denormalised, so listing never touches signals."""

    __tablename__ = "approaches"
    __table_args__ = (
        CheckConstraint("status IN ('new', 'triaged', 'closed')", name="status"),
        Index(None, "category"),
        Index(None, "status"),
        Index(None, "import_id"),
        Index(None, "sender_key"),
        Index(None, "recipient_key"),
        Index(None, "assignee"),
        Index(None, "risk", "sent_at", "id"),
        Index(None, "status", "risk", "sent_at", "id"),
        Index(None, "category", "risk", "sent_at", "id"),
        Index(None, "severity", "risk", "sent_at", "id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    sender_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"))
    recipient_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"))
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str]
    conversation_title: Mapped[str]
    conversation_channel: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime | None]
    sender_is_connection: Mapped[bool | None] = mapped_column(Boolean)
    label: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str]
    # Latest assessment.
    category: Mapped[str] = mapped_column(String(32))
    risk: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    category_scores: Mapped[dict[str, Any]]
    advice: Mapped[list[Any]]
    catalogue_version: Mapped[str]
    risk_rose_at: Mapped[int | None] = mapped_column(Integer)
    top_signals: Mapped[str]
    #: ISO 639-1 code of the inbound text ("und": undetermined); NULL for approaches assessed before
    #: languages were detected (migration 0002)
    language: Mapped[str | None] = mapped_column(String(16))
    #: persona type the sender presents (lurewatch.screen.persona.PERSONAS); NULL when unclear
    persona: Mapped[str | None] = mapped_column(String(32))
    #: the rules' own risk and the text model that combined it with the wording (NULL: rules alone, or
    #: assessed before migration 0003); the model's most weighed words as [[term, weight], ...]
    rule_risk: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    model_terms: Mapped[list[Any] | None]
    # Triage.
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    verdict: Mapped[str | None]
    #: username of the analyst handling the case (migration 0005)
    assignee: Mapped[str | None]
    #: when the triage state last changed (migration 0005)
    updated_at: Mapped[datetime | None]

    messages: Mapped[list[MessageRecord]] = relationship(
        order_by="MessageRecord.position", cascade="all, delete-orphan", passive_deletes=True
    )
    signals: Mapped[list[SignalRecord]] = relationship(
        order_by="SignalRecord.position", cascade="all, delete-orphan", passive_deletes=True
    )


class MessageRecord(Base):
    """One message of an approach's thread, at ``position`` in the conversation."""

    __tablename__ = "messages"
    __table_args__ = (Index(None, "sender_key"),)

    approach_id: Mapped[str] = mapped_column(
        ForeignKey("approaches.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str]
    conversation_id: Mapped[str]
    sender_key: Mapped[str]
    sent_at: Mapped[datetime | None]
    inbound: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(32))
    folder: Mapped[str | None]
    subject: Mapped[str]
    text: Mapped[str]
    recipient_keys: Mapped[list[Any]]
    attachments: Mapped[list[Any]]


class SignalRecord(Base):
    """An indicator that fired for an approach, with its evidence spans and sources."""

    __tablename__ = "signals"
    __table_args__ = (Index(None, "indicator_id"),)

    approach_id: Mapped[str] = mapped_column(
        ForeignKey("approaches.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str]
    title: Mapped[str]
    weight: Mapped[float] = mapped_column(Float)
    #: list of {field, text, start, end, message_index}
    evidence: Mapped[list[Any]]
    sources: Mapped[list[Any]]
    supports: Mapped[list[Any]]


class CampaignRecord(Base):
    """A campaign found by ``lurewatch campaigns``; ``record`` holds its whole JSON form.

    A run over one source replaces that source's campaigns in one transaction, so the table always
    holds complete results of the latest run per source.
    """

    __tablename__ = "campaigns"
    __table_args__ = (Index(None, "risk"), Index(None, "source"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str]
    found_at: Mapped[datetime]
    category: Mapped[str] = mapped_column(String(32))
    risk: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    messages: Mapped[int] = mapped_column(Integer)
    accounts: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    exemplar_text: Mapped[str]
    record: Mapped[dict[str, Any]]

    members: Mapped[list[CampaignMemberRecord]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class CampaignMemberRecord(Base):
    """One message of a campaign (an approach id when the campaign was found in the workspace)."""

    __tablename__ = "campaign_members"
    __table_args__ = (Index(None, "account_id"), Index(None, "message_id"))

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    account_id: Mapped[str]
    recipient_id: Mapped[str]


#: Values of ``users.role``: admins manage users and settings, analysts triage every case, reporters
#: report messages and see only their own reports.
ROLES: tuple[str, ...] = ("admin", "analyst", "reporter")


class UserRecord(Base):
    """A person who signs in to the web dashboard."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'analyst', 'reporter')", name="role"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: argon2id hash in PHC string form
    password_hash: Mapped[str]
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSessionRecord(Base):
    """A signed-in browser session; the cookie holds the token, the table only its SHA-256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "username"), Index(None, "expires_at"))

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class CaseReportRecord(Base):
    """Who reported an approach: duplicate reports of one message become one case with many reporters."""

    __tablename__ = "case_reports"
    __table_args__ = (Index(None, "username"),)

    approach_id: Mapped[str] = mapped_column(
        ForeignKey("approaches.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    reported_at: Mapped[datetime]


class CaseNoteRecord(Base):
    """An analyst's note on a case."""

    __tablename__ = "case_notes"
    __table_args__ = (Index(None, "approach_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    approach_id: Mapped[str] = mapped_column(ForeignKey("approaches.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str]
    created_at: Mapped[datetime]


class AuditRecord(Base):
    """One line of the append-only audit log: who viewed or changed what, when.

    Database triggers (migration 0005) refuse UPDATE and DELETE on this table on both back-ends.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "object_type", "object_id"), Index(None, "username"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None]
    detail: Mapped[dict[str, Any]]
