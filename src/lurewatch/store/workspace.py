"""The workspace: one database holding every import, approach and assessment of an organisation.

SQLite (a file, the default) or PostgreSQL (a SQLAlchemy URL). The schema is created and upgraded by
the Alembic migrations shipped in ``store/migrations`` every time a workspace is opened.

Text is stored verbatim with two exceptions, because PostgreSQL and the SQLite driver cannot hold
them: NUL characters (``\\x00``) are removed and lone UTF-16 surrogates (which only arise from
undecodable input) become U+FFFD. Account keys and approach ids longer than 512 UTF-8 bytes are
shortened to a prefix plus a hash, because PostgreSQL cannot index longer keys; lookups apply the
same rule, so :meth:`Workspace.get_approach` still finds them by their original id.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    URL,
    BigInteger,
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, selectinload
from sqlalchemy.pool import StaticPool

from lurewatch.errors import StoreError
from lurewatch.model import (
    Account,
    Approach,
    Assessment,
    Campaign,
    Category,
    Channel,
    Conversation,
    Evidence,
    IngestStats,
    Message,
    Signal,
)
from lurewatch.store.tables import (
    STATUSES,
    VERSION_TABLE,
    AccountRecord,
    ApproachRecord,
    AuditRecord,
    Base,
    CampaignMemberRecord,
    CampaignRecord,
    CaseReportRecord,
    ImportRecord,
    MessageRecord,
    SignalRecord,
)

#: Values accepted for an import's ``kind``.
#: Every :class:`~lurewatch.ingest.read.InputKind` value, plus "email" and "pasted" (written by 0.1 imports).
IMPORT_KINDS: Final[frozenset[str]] = frozenset(
    {"linkedin_export", "eml", "eml_folder", "mbox", "corpus", "text", "email", "pasted"}
)

#: Rows per INSERT batch and ids per ``IN (...)`` look-up.
CHUNK: Final = 1000
#: How long a writer waits for another writer's lock before giving up (SQLite).
BUSY_TIMEOUT_MS: Final = 30_000
#: Longest account key / approach id stored as-is, in UTF-8 bytes (PostgreSQL b-tree entries are
#: limited to about 2.7 kB).
MAX_KEY_BYTES: Final = 512

MIGRATIONS_DIR: Final = Path(__file__).resolve().with_name("migrations")

_T = TypeVar("_T")
_WRITE_OPTION: Final = "lurewatch_write"
# Arbitrary constant naming lurewatch's transaction-level advisory lock on PostgreSQL.
_PG_LOCK_ID: Final = 0x6C757265_77617463
_TOP_SIGNALS: Final = 3
_TOP_SIGNALS_CHARS: Final = 200
_INT32_MAX: Final = 2**31 - 1
_ACCOUNT_CACHE_MAX: Final = 200_000
_SURROGATE = re.compile("[\ud800-\udfff]")
# Compact and not ASCII-escaped: smaller rows, and clean_text has already removed what UTF-8 cannot hold.
_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ACCOUNT_FIELDS: Final = (
    "name",
    "profile_url",
    "email",
    "headline",
    "company",
    "location",
    "connections",
    "account_age_days",
    "photo",
    "sector",
)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    #: id of the import written, or of the earlier import of the same file when ``already_imported``
    import_id: int | None
    approaches_added: int
    approaches_skipped_duplicate: int
    already_imported: bool


@dataclass(frozen=True, slots=True)
class ReportSummary:
    import_id: int
    #: every approach the report held, in order: new ones and the cases its duplicates merged into
    approach_ids: tuple[str, ...]
    added: int
    merged: int


@dataclass(frozen=True, slots=True)
class ApproachRow:
    """One line of the approach list: what a triage table shows, without messages or signals."""

    id: str
    category: str
    risk: float
    severity: str
    sender_name: str
    sender_key: str
    recipient_name: str
    recipient_key: str
    channel: str
    sent_at: datetime | None
    top_signals: str
    status: str
    source: str
    import_source: str


@dataclass(frozen=True, slots=True)
class ImportRow:
    id: int
    source: str
    digest: str
    kind: str
    imported_at: datetime
    owner_key: str | None
    owner_name: str | None
    counts: dict[str, int] = field(default_factory=dict)
    approaches_added: int = 0
    approaches_skipped_duplicate: int = 0


def clean_text(value: str) -> str:
    """``value`` as it can be stored on every back-end: without NUL, lone surrogates replaced."""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return value


def clean_key(value: str) -> str:
    """``value`` cleaned like :func:`clean_text` and shortened to an indexable length if needed."""
    value = clean_text(value)
    if len(value) * 4 <= MAX_KEY_BYTES:
        return value
    raw = value.encode("utf-8")
    if len(raw) <= MAX_KEY_BYTES:
        return value
    head = raw[: MAX_KEY_BYTES - 48].decode("utf-8", "ignore")
    return f"{head}…#{hashlib.sha256(raw).hexdigest()[:40]}"


class Workspace:
    """A lurewatch workspace database. Open with :meth:`open`; use as a context manager or :meth:`close`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write_engine = engine.execution_options(**{_WRITE_OPTION: True})
        self._postgres = engine.dialect.name == "postgresql"

    # -- opening -----------------------------------------------------------------------------------

    @classmethod
    def open(cls, url_or_path: str | Path, *, create: bool = True) -> Workspace:
        """Open (and with ``create``, create) the workspace at a file path or SQLAlchemy URL.

        The schema is brought to the latest migration; an existing schema without Alembic's version
        table is stamped. Raises :class:`~lurewatch.errors.StoreError` when the target cannot be used.
        """
        url = _to_url(url_or_path, create=create)
        try:
            engine = _make_engine(url)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open workspace {_display(url)}: {_describe(exc)}") from exc
        workspace = cls(engine)
        try:
            workspace._migrate(create=create)
        except BaseException:
            engine.dispose()
            raise
        return workspace

    def _migrate(self, *, create: bool) -> None:
        config = Config()
        # ConfigParser interpolates "%", which may occur in an install path.
        config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
        where = _display(self._engine.url)
        try:
            # Most opens find the schema current; checking that in a read transaction first means
            # opening never waits for the write lock held by a running import.
            heads = set(ScriptDirectory.from_config(config).get_heads())
            with self._engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
                if set(context.get_current_heads()) == heads:
                    return
            with self._write_engine.begin() as conn:
                self._lock(conn)
                present = set(inspect(conn).get_table_names())
                ours = set(Base.metadata.tables)
                config.attributes["connection"] = conn
                if VERSION_TABLE not in present:
                    if ours <= present:
                        command.stamp(config, "head")
                        return
                    if ours & present:
                        missing = ", ".join(sorted(ours - present))
                        raise StoreError(f"{where} holds a partial lurewatch schema (missing: {missing})")
                    if not create:
                        raise StoreError(f"{where} is not a lurewatch workspace")
                command.upgrade(config, "head")
        except CommandError as exc:
            raise StoreError(
                f"cannot migrate workspace {where}: {exc} (written by a newer lurewatch?)"
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open workspace {where}: {_describe(exc)}") from exc

    def _lock(self, conn: Connection) -> None:
        # SQLite writers are serialised by BEGIN IMMEDIATE; PostgreSQL needs an explicit lock so two
        # importers cannot both decide the same approach is new.
        if self._postgres:
            # BIGINT explicitly: a bare Python int is sent as INTEGER, too small for the lock id.
            conn.execute(select(func.pg_advisory_xact_lock(literal(_PG_LOCK_ID, BigInteger()))))

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return _display(self._engine.url)

    def session(self) -> Session:
        """A new ORM session on the workspace (for adapters such as the web app)."""
        return Session(self._engine, expire_on_commit=False)

    # -- importing ---------------------------------------------------------------------------------

    def import_approaches(
        self,
        source: str,
        digest: str,
        kind: str,
        items: Iterable[tuple[Approach, Assessment]],
        stats: IngestStats,
        owner: Account | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        """Store every assessed approach of one input, in one transaction.

        The same input (``digest`` and ``kind``) imported again writes nothing and does not consume
        ``items``. Approaches already in the workspace (same id or fingerprint), or repeated within
        this input, are skipped and counted. ``stats`` is read after ``items`` is exhausted, so a
        parser may fill it while streaming. ``progress`` is called with the number of items read so
        far after every batch. If ``items`` raises, the exception propagates and nothing is stored.

        The write lock is held for the whole import (that is what makes it atomic): readers are not
        blocked, but another writer waits up to :data:`BUSY_TIMEOUT_MS` and then gets a StoreError.
        """
        if kind not in IMPORT_KINDS:
            raise ValueError(f"unknown import kind {kind!r}; expected one of {sorted(IMPORT_KINDS)}")
        digest = clean_text(digest)
        try:
            with Session(self._write_engine, expire_on_commit=False) as session:
                self._lock(session.connection())
                earlier = session.scalar(
                    select(ImportRecord.id).where(ImportRecord.digest == digest, ImportRecord.kind == kind)
                )
                if earlier is not None:
                    return ImportSummary(earlier, 0, 0, already_imported=True)
                record, writer = _write_import(
                    session, source, digest, kind, datetime.now(UTC), items, stats, owner, progress
                )
                session.commit()
                return ImportSummary(record.id, writer.added, writer.duplicates, already_imported=False)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot import {source} into {self.url}: {_describe(exc)}") from exc

    def record_report(
        self,
        source: str,
        kind: str,
        items: Iterable[tuple[Approach, Assessment]],
        stats: IngestStats,
        reporter: str,
    ) -> ReportSummary:
        """Store what a user reported through the dashboard and record them as its reporter.

        Unlike :meth:`import_approaches`, reporting the same file or message twice is not a no-op:
        every report is an event. Approaches already held (same id or content) are not stored again;
        the reporter joins the existing case instead, so duplicate reports merge into one case. The
        approaches, the reporter links and their audit lines are written in one transaction.
        """
        if kind not in IMPORT_KINDS:
            raise ValueError(f"unknown import kind {kind!r}; expected one of {sorted(IMPORT_KINDS)}")
        now = datetime.now(UTC)
        try:
            with Session(self._write_engine, expire_on_commit=False) as session:
                self._lock(session.connection())
                record, writer = _write_import(
                    session, source, f"report:{uuid.uuid4().hex}", kind, now, items, stats
                )
                ids = list(dict.fromkeys(writer.resolved))
                user = clean_text(reporter)
                known: set[str] = set()
                for part in _slices(ids):
                    known.update(
                        session.scalars(
                            select(CaseReportRecord.approach_id).where(
                                CaseReportRecord.username == user, CaseReportRecord.approach_id.in_(part)
                            )
                        )
                    )
                fresh = [aid for aid in ids if aid not in known]
                for part in _slices(fresh):
                    session.execute(
                        insert(CaseReportRecord),
                        [{"approach_id": aid, "username": user, "reported_at": now} for aid in part],
                    )
                    session.execute(
                        insert(AuditRecord),
                        [
                            {
                                "at": now,
                                "username": user,
                                "action": "report",
                                "object_type": "approach",
                                "object_id": aid,
                                "detail": {"source": clean_text(str(source))[:200]},
                            }
                            for aid in part
                        ],
                    )
                session.commit()
                return ReportSummary(record.id, tuple(ids), writer.added, writer.duplicates)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store the report in {self.url}: {_describe(exc)}") from exc

    # -- reading -----------------------------------------------------------------------------------

    def list_approaches(
        self,
        *,
        category: str | None = None,
        min_risk: float = 0.0,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ApproachRow]:
        """Approaches, riskiest first, then most recent first (unknown dates last)."""
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError("limit and offset must not be negative")
        a = ApproachRecord
        sender = aliased(AccountRecord)
        recipient = aliased(AccountRecord)
        stmt = (
            select(
                a.id,
                a.category,
                a.risk,
                a.severity,
                sender.name,
                a.sender_key,
                recipient.name,
                a.recipient_key,
                a.channel,
                a.sent_at,
                a.top_signals,
                a.status,
                a.source,
                ImportRecord.source,
            )
            .join(sender, sender.key == a.sender_key)
            .join(recipient, recipient.key == a.recipient_key)
            .join(ImportRecord, ImportRecord.id == a.import_id)
            .where(a.risk >= min_risk)
            .order_by(a.risk.desc(), a.sent_at.desc().nulls_last(), a.id)
            .offset(offset)
        )
        if category is not None:
            stmt = stmt.where(a.category == str(category))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading("list approaches") as session:
            return [ApproachRow(*row) for row in session.execute(stmt)]

    def get_approach(self, approach_id: str) -> tuple[Approach, Assessment] | None:
        """The stored approach and its latest assessment, rebuilt as model objects; None if unknown.

        Datetimes come back as aware UTC, so an approach imported with naive or non-UTC datetimes
        has a different :attr:`~lurewatch.model.Approach.fingerprint` when rebuilt; the fingerprint
        recorded at import is the one used for de-duplication.
        """
        with self._reading("read approach") as session:
            rec = session.get(
                ApproachRecord,
                clean_key(approach_id),
                options=[selectinload(ApproachRecord.messages), selectinload(ApproachRecord.signals)],
            )
            if rec is None:
                return None
            accounts = {
                acc.key: _account_from(acc)
                for acc in session.scalars(
                    select(AccountRecord).where(AccountRecord.key.in_({rec.sender_key, rec.recipient_key}))
                )
            }
            return _approach_from(rec, accounts), _assessment_from(rec)

    def imports(self) -> list[ImportRow]:
        """Every import, oldest first."""
        with self._reading("list imports") as session:
            return [
                ImportRow(
                    id=r.id,
                    source=r.source,
                    digest=r.digest,
                    kind=r.kind,
                    imported_at=r.imported_at,
                    owner_key=r.owner_key,
                    owner_name=r.owner_name,
                    counts={str(k): int(v) for k, v in (r.counts or {}).items()},
                    approaches_added=r.approaches_added,
                    approaches_skipped_duplicate=r.approaches_duplicate,
                )
                for r in session.scalars(select(ImportRecord).order_by(ImportRecord.id))
            ]

    def counts(self) -> dict[str, int]:
        """Totals for a dashboard.

        Keys: ``approaches``, ``imports``, ``accounts``, ``messages``, ``signals``; one key per
        :class:`~lurewatch.model.Category` value (approaches in that category, zero included);
        ``severity_<high|medium|low>`` and ``status_<new|triaged|closed>``.
        """
        out: dict[str, int] = {}
        with self._reading("count") as session:
            for name, model in (
                ("approaches", ApproachRecord),
                ("imports", ImportRecord),
                ("accounts", AccountRecord),
                ("messages", MessageRecord),
                ("signals", SignalRecord),
            ):
                out[name] = session.scalar(select(func.count()).select_from(model)) or 0
            by_category = _grouped(session, ApproachRecord.category)
            by_severity = _grouped(session, ApproachRecord.severity)
            by_status = _grouped(session, ApproachRecord.status)
        for cat in Category:
            out[cat.value] = by_category.pop(cat.value, 0)
        # Categories this version does not know (written by a newer one) still count.
        for name, n in by_category.items():
            out[name] = n
        for sev in ("high", "medium", "low"):
            out[f"severity_{sev}"] = by_severity.get(sev, 0)
        for status in STATUSES:
            out[f"status_{status}"] = by_status.get(status, 0)
        return out

    # -- campaigns --------------------------------------------------------------------------------

    def stream_rows(self, batch_rows: int = CHUNK * 16) -> Iterator[list[dict[str, Any]]]:
        """Every approach as a row of the campaign stream contract (its opening message), in batches.

        ``message_id`` is the approach id, so campaigns found in the workspace name approaches.
        """
        a = ApproachRecord
        sender = aliased(AccountRecord)
        recipient = aliased(AccountRecord)
        m = MessageRecord
        stmt = (
            select(
                a.id, a.sent_at, a.sender_key, sender.name, a.recipient_key, m.text, m.subject, a.channel,
                sender.headline, sender.company, sender.location, sender.connections, sender.account_age_days,
                recipient.company, recipient.sector,
            )
            .join(sender, sender.key == a.sender_key)
            .join(recipient, recipient.key == a.recipient_key)
            .join(m, (m.approach_id == a.id) & (m.position == 0))
            .order_by(a.id)
        )  # fmt: skip
        with self._reading("read approaches") as session:
            batch: list[dict[str, Any]] = []
            for row in session.execute(stmt.execution_options(yield_per=batch_rows)):
                created = None
                if row[1] is not None and row[12] is not None:
                    created = (row[1] - timedelta(days=int(row[12]))).isoformat()
                batch.append(
                    {
                        "message_id": row[0], "sent_at": row[1], "sender_id": row[2], "sender_name": row[3] or "",
                        "recipient_id": row[4], "text": row[5] or "", "subject": row[6] or None, "channel": row[7],
                        "sender_headline": row[8], "sender_company": row[9], "sender_location": row[10],
                        "sender_connections": row[11], "sender_created_at": created,
                        "recipient_org": row[13], "recipient_sector": row[14],
                    }
                )  # fmt: skip
                if len(batch) >= batch_rows:
                    yield batch
                    batch = []
            if batch:
                yield batch

    def save_campaigns(
        self, campaigns: Sequence[Campaign], records: Sequence[dict[str, Any]], source: str
    ) -> None:
        """Replace the campaigns of ``source`` with these, in one transaction (all or nothing)."""
        now = datetime.now(UTC)
        try:
            with Session(self._engine) as session, session.begin():
                self._lock(session.connection())
                session.execute(delete(CampaignRecord).where(CampaignRecord.source == source))
                for campaign, record in zip(campaigns, records, strict=True):
                    session.execute(delete(CampaignRecord).where(CampaignRecord.id == campaign.campaign_id))
                    session.add(
                        CampaignRecord(
                            id=campaign.campaign_id,
                            source=source,
                            found_at=now,
                            category=campaign.category.value,
                            risk=_finite(campaign.risk, "risk"),
                            severity=campaign.severity,
                            messages=len(campaign.message_ids),
                            accounts=len(campaign.account_ids),
                            recipients=len(campaign.recipient_ids),
                            first_seen=campaign.first_seen,
                            last_seen=campaign.last_seen,
                            exemplar_text=clean_text(campaign.exemplar_text),
                            record=_clean_json(record),
                        )
                    )
                    session.flush()
                    rows = [
                        {"campaign_id": campaign.campaign_id, "message_id": clean_key(mid), "account_id": clean_key(acc), "recipient_id": clean_key(rcp)}
                        for mid, acc, rcp in _member_rows(campaign)
                    ]  # fmt: skip
                    for chunk in _slices(rows):
                        session.execute(insert(CampaignMemberRecord), list(chunk))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store campaigns in {self.url}: {_describe(exc)}") from exc

    def list_campaigns(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored campaigns, riskiest first, as their JSON records (with ``source`` and ``found_at``)."""
        stmt = select(CampaignRecord).order_by(
            CampaignRecord.risk.desc(), CampaignRecord.messages.desc(), CampaignRecord.id
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._reading("list campaigns") as session:
            return [_campaign_json(rec) for rec in session.scalars(stmt)]

    def get_campaign(self, campaign_id: str) -> dict[str, Any] | None:
        with self._reading("read campaign") as session:
            rec = session.get(CampaignRecord, clean_key(campaign_id))
            return None if rec is None else _campaign_json(rec)

    # -- verdicts ---------------------------------------------------------------------------------

    def set_verdict(self, approach_id: str, verdict: str) -> None:
        """Record an analyst's verdict (one of :data:`VERDICTS`) and mark the approach triaged."""
        if verdict not in VERDICTS:
            raise StoreError(f"unknown verdict {verdict!r}; use one of: {', '.join(VERDICTS)}")
        key = clean_key(approach_id)
        try:
            with Session(self._engine) as session, session.begin():
                done = session.execute(
                    update(ApproachRecord)
                    .where(ApproachRecord.id == key)
                    .values(verdict=verdict, status="triaged")
                )
                if done.rowcount != 1:
                    raise StoreError(f"no approach {clean_line_id(approach_id)} in {self.url}")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the verdict in {self.url}: {_describe(exc)}") from exc

    def labelled_approaches(self) -> Iterator[tuple[Approach, Category]]:
        """Approaches with a known category, for training: an analyst verdict, else an imported label.

        ``confirmed`` keeps the category the approach was given; ``benign`` and ``false_positive``
        make it benign; a category name sets that category.
        """
        with self._reading("read labelled approaches") as session:
            ids = session.scalars(
                select(ApproachRecord.id)
                .where((ApproachRecord.verdict.is_not(None)) | (ApproachRecord.label.is_not(None)))
                .order_by(ApproachRecord.id)
            ).all()
        for chunk in _slices(ids):
            with self._reading("read labelled approaches") as session:
                records = session.scalars(
                    select(ApproachRecord)
                    .where(ApproachRecord.id.in_(chunk))
                    .options(selectinload(ApproachRecord.messages))
                    .order_by(ApproachRecord.id)
                ).all()
                keys = {r.sender_key for r in records} | {r.recipient_key for r in records}
                accounts = {
                    acc.key: _account_from(acc)
                    for acc in session.scalars(select(AccountRecord).where(AccountRecord.key.in_(keys)))
                }
                for rec in records:
                    label = _label_of(rec)
                    if label is not None:
                        yield _approach_from(rec, accounts), label

    @contextmanager
    def _reading(self, what: str) -> Iterator[Session]:
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot {what} in {self.url}: {_describe(exc)}") from exc


def _write_import(
    session: Session,
    source: str,
    digest: str,
    kind: str,
    now: datetime,
    items: Iterable[tuple[Approach, Assessment]],
    stats: IngestStats,
    owner: Account | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ImportRecord, _ImportWriter]:
    """Add the import's record and write its items in batches, within the caller's transaction."""
    writer = _ImportWriter(session)
    owner_values = _account_values(owner) if owner is not None else None
    if owner_values is not None:
        writer.upsert_accounts({owner_values["key"]: owner_values})
    record = ImportRecord(
        source=clean_text(str(source)),
        digest=digest,
        kind=kind,
        imported_at=now,
        owner_key=owner_values["key"] if owner_values else None,
        owner_name=owner_values["name"] if owner_values else None,
        counts={},
        approaches_added=0,
        approaches_duplicate=0,
    )
    session.add(record)
    session.flush()
    writer.import_id = record.id
    for approach, assessment in items:
        writer.add(approach, assessment)
        if writer.pending >= CHUNK:
            writer.flush()
            if progress is not None:
                progress(writer.seen)
    writer.flush()
    if progress is not None and writer.seen % CHUNK:
        progress(writer.seen)
    record.counts = _clean_json(stats.as_dict())
    record.approaches_added = writer.added
    record.approaches_duplicate = writer.duplicates
    return record, writer


class _ImportWriter:
    """Buffers approaches and writes them in batches within the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.import_id = 0
        self._pending: list[tuple[Approach, Assessment]] = []
        # Account rows as they stand in the database after this import's writes, so the recipient
        # and repeat senders are not looked up once per batch.
        self._accounts: dict[str, dict[str, Any]] = {}
        self.seen = 0
        self.added = 0
        self.duplicates = 0
        #: the stored approach id of every item written so far, in order (a repeat maps to the held case)
        self.resolved: list[str] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, approach: Approach, assessment: Assessment) -> None:
        if not isinstance(approach, Approach) or not isinstance(assessment, Assessment):
            raise TypeError("items must be (Approach, Assessment) pairs")
        if assessment.approach_id != approach.id:
            raise ValueError(
                f"assessment for {assessment.approach_id!r} paired with approach {approach.id!r}"
            )
        self._pending.append((approach, assessment))
        self.seen += 1

    def flush(self) -> None:
        if not self._pending:
            return
        batch = [(clean_key(a.id), a.fingerprint, a, s) for a, s in self._pending]
        self._pending = []
        known_ids, known_fps = self._existing([b[0] for b in batch], [b[1] for b in batch])
        keep: list[tuple[str, str, Approach, Assessment]] = []
        for aid, fp, approach, assessment in batch:
            if aid in known_ids or fp in known_fps:
                self.duplicates += 1
                # A repeat is the case already held: the same id, else the one with this content.
                self.resolved.append(aid if aid in known_ids else known_fps[fp])
                continue
            known_ids.add(aid)
            known_fps[fp] = aid
            keep.append((aid, fp, approach, assessment))
            self.resolved.append(aid)
        if not keep:
            return

        accounts: dict[str, dict[str, Any]] = {}
        converted: set[Account] = set()
        for _, _, approach, _ in keep:
            for acc in (approach.sender, approach.recipient):
                # Parsers usually hand out the same Account object (the owner, a repeat sender)
                # many times; converting it once per batch is enough.
                if acc in converted:
                    continue
                converted.add(acc)
                values = _account_values(acc)
                held = accounts.get(values["key"])
                if held is None:
                    accounts[values["key"]] = values
                else:
                    held.update(_fill_missing(held, values))
        self.upsert_accounts(accounts)

        approach_rows: list[dict[str, Any]] = []
        message_rows: list[dict[str, Any]] = []
        signal_rows: list[dict[str, Any]] = []
        for aid, fp, approach, assessment in keep:
            approach_rows.append(_approach_values(aid, fp, self.import_id, approach, assessment))
            message_rows.extend(_message_values(aid, approach))
            signal_rows.extend(_signal_values(aid, assessment))
        self._insert(ApproachRecord, approach_rows)
        self._insert(MessageRecord, message_rows)
        self._insert(SignalRecord, signal_rows)
        self.added += len(approach_rows)

    def _existing(self, ids: list[str], fingerprints: list[str]) -> tuple[set[str], dict[str, str]]:
        """Which of ``ids`` are stored, and the stored approach id of each known fingerprint."""
        found_ids: set[str] = set()
        found_fps: dict[str, str] = {}
        for part in _slices(sorted(set(ids))):
            found_ids.update(
                self._session.scalars(select(ApproachRecord.id).where(ApproachRecord.id.in_(part)))
            )
        for part in _slices(sorted(set(fingerprints))):
            rows = self._session.execute(
                select(ApproachRecord.fingerprint, ApproachRecord.id).where(
                    ApproachRecord.fingerprint.in_(part)
                )
            )
            found_fps.update((fp, aid) for fp, aid in rows)
        return found_ids, found_fps

    def upsert_accounts(self, incoming: dict[str, dict[str, Any]]) -> None:
        """Insert new accounts; on known ones fill fields that are still empty, never overwrite."""
        if len(self._accounts) > _ACCOUNT_CACHE_MAX:
            self._accounts.clear()
        unknown = sorted(k for k in incoming if k not in self._accounts)
        table = AccountRecord.__table__
        for part in _slices(unknown):
            for row in self._session.execute(select(table).where(table.c.key.in_(part))).mappings():
                self._accounts[row["key"]] = dict(row)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for key, values in incoming.items():
            held = self._accounts.get(key)
            if held is None:
                inserts.append(values)
                self._accounts[key] = dict(values)
                continue
            changes = _fill_missing(held, values)
            if changes:
                held.update(changes)
                updates.append({"key": key, **changes})
        self._insert(AccountRecord, inserts)
        for part in _slices(updates):
            self._session.execute(update(AccountRecord), part)

    def _insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        # A Core insert on the Table goes straight to executemany; the ORM bulk path would spend
        # longer re-collecting each row than SQLite spends writing it.
        statement = insert(model.__table__)
        for part in _slices(rows):
            self._session.execute(statement, part)


# -- row conversion --------------------------------------------------------------------------------


def _account_values(acc: Account) -> dict[str, Any]:
    return {
        "key": clean_key(acc.key),
        "name": clean_text(acc.name or ""),
        "profile_url": _opt_text(acc.profile_url),
        "email": _opt_text(acc.email),
        "headline": _opt_text(acc.headline),
        "company": _opt_text(acc.company),
        "location": _opt_text(acc.location),
        "connections": _opt_int(acc.connections),
        "account_age_days": _opt_int(acc.account_age_days),
        "photo": _opt_text(acc.photo),
        "sector": _opt_text(acc.sector),
    }


def _fill_missing(held: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: values[name]
        for name in _ACCOUNT_FIELDS
        if held.get(name) in (None, "") and values.get(name) not in (None, "")
    }


def _approach_values(
    aid: str, fp: str, import_id: int, approach: Approach, assessment: Assessment
) -> dict[str, Any]:
    risk = _finite(assessment.risk, "risk")
    conv = approach.conversation
    top = sorted(assessment.signals, key=lambda s: -_finite(s.weight, "signal weight"))[:_TOP_SIGNALS]
    top_text = "; ".join(clean_text(f"{s.indicator_id} {s.title}") for s in top)
    if len(top_text) > _TOP_SIGNALS_CHARS:
        top_text = top_text[: _TOP_SIGNALS_CHARS - 1] + "…"
    return {
        "id": aid,
        "fingerprint": fp,
        "import_id": import_id,
        "sender_key": clean_key(approach.sender.key),
        "recipient_key": clean_key(approach.recipient.key),
        "channel": str(approach.channel),
        "conversation_id": clean_text(conv.id),
        "conversation_title": clean_text(conv.title),
        "conversation_channel": str(conv.channel),
        "sent_at": approach.sent_at,
        "sender_is_connection": approach.sender_is_connection,
        "label": str(approach.label) if approach.label is not None else None,
        "source": clean_text(approach.source),
        "category": str(assessment.category),
        # Engines may overshoot [0, 1] by a rounding error; the listing relies on the range.
        "risk": min(1.0, max(0.0, risk)),
        "severity": assessment.severity,
        "category_scores": {
            clean_text(str(k)): _finite(v, "category score") for k, v in assessment.category_scores.items()
        },
        "advice": [clean_text(a) for a in assessment.advice],
        "catalogue_version": clean_text(assessment.catalogue_version),
        "risk_rose_at": _opt_int(assessment.risk_rose_at),
        "top_signals": top_text,
        "language": _opt_code(assessment.language, 16),
        "persona": _opt_code(assessment.persona, 32),
        "rule_risk": None if assessment.rule_risk is None else _finite(assessment.rule_risk, "rule risk"),
        "model_version": clean_text(assessment.model_version)[:64] or None,
        "model_terms": [
            [clean_text(t)[:200], _finite(w, "model term weight")] for t, w in assessment.model_terms
        ][:20],
        "status": "new",
        "verdict": None,
    }


def _message_values(aid: str, approach: Approach) -> Iterator[dict[str, Any]]:
    for position, m in enumerate(approach.conversation.messages):
        yield {
            "approach_id": aid,
            "position": position,
            "message_id": clean_text(m.id),
            "conversation_id": clean_text(m.conversation_id),
            "sender_key": clean_key(m.sender_key),
            "sent_at": m.sent_at,
            "inbound": bool(m.inbound),
            "channel": str(m.channel),
            "folder": _opt_text(m.folder),
            "subject": clean_text(m.subject),
            "text": clean_text(m.text),
            "recipient_keys": [clean_key(k) for k in m.recipient_keys],
            "attachments": [clean_text(a) for a in m.attachments],
        }


def _signal_values(aid: str, assessment: Assessment) -> Iterator[dict[str, Any]]:
    for position, s in enumerate(assessment.signals):
        yield {
            "approach_id": aid,
            "position": position,
            "indicator_id": clean_text(s.indicator_id),
            "title": clean_text(s.title),
            "weight": _finite(s.weight, "signal weight"),
            "evidence": [
                {
                    "field": clean_text(e.field),
                    "text": clean_text(e.text),
                    "start": int(e.start),
                    "end": int(e.end),
                    "message_index": None if e.message_index is None else int(e.message_index),
                }
                for e in s.evidence
            ],
            "sources": [clean_text(x) for x in s.sources],
            "supports": [str(c) for c in s.supports],
        }


def _account_from(rec: AccountRecord) -> Account:
    return Account(
        key=rec.key,
        name=rec.name,
        profile_url=rec.profile_url,
        email=rec.email,
        headline=rec.headline,
        company=rec.company,
        location=rec.location,
        connections=rec.connections,
        account_age_days=rec.account_age_days,
        photo=rec.photo,
        sector=rec.sector,
    )


def _approach_from(rec: ApproachRecord, accounts: dict[str, Account]) -> Approach:
    messages = tuple(
        Message(
            id=m.message_id,
            conversation_id=m.conversation_id,
            sender_key=m.sender_key,
            sent_at=m.sent_at,
            text=m.text,
            subject=m.subject,
            inbound=m.inbound,
            recipient_keys=tuple(m.recipient_keys),
            channel=Channel(m.channel),
            folder=m.folder,
            attachments=tuple(m.attachments),
        )
        for m in rec.messages
    )
    return Approach(
        id=rec.id,
        sender=accounts.get(rec.sender_key, Account(key=rec.sender_key)),
        recipient=accounts.get(rec.recipient_key, Account(key=rec.recipient_key)),
        conversation=Conversation(
            id=rec.conversation_id,
            messages=messages,
            title=rec.conversation_title,
            channel=Channel(rec.conversation_channel),
        ),
        channel=Channel(rec.channel),
        sender_is_connection=rec.sender_is_connection,
        source=rec.source,
        label=Category(rec.label) if rec.label is not None else None,
    )


def _assessment_from(rec: ApproachRecord) -> Assessment:
    signals = tuple(
        Signal(
            indicator_id=s.indicator_id,
            title=s.title,
            weight=s.weight,
            evidence=tuple(
                Evidence(
                    field=e["field"],
                    text=e["text"],
                    start=e["start"],
                    end=e["end"],
                    message_index=e.get("message_index"),
                )
                for e in s.evidence
            ),
            sources=tuple(s.sources),
            supports=tuple(Category(c) for c in s.supports),
        )
        for s in rec.signals
    )
    return Assessment(
        approach_id=rec.id,
        category=Category(rec.category),
        risk=rec.risk,
        signals=signals,
        advice=tuple(rec.advice),
        category_scores={Category(k): float(v) for k, v in rec.category_scores.items()},
        catalogue_version=rec.catalogue_version,
        risk_rose_at=rec.risk_rose_at,
        language=rec.language,
        persona=rec.persona,
        model_terms=tuple((str(t), float(w)) for t, w in (rec.model_terms or ())),
        model_version=rec.model_version or "",
        rule_risk=rec.rule_risk,
    )


# -- helpers ---------------------------------------------------------------------------------------


#: verdicts an analyst can record: the category was right, the approach is benign, it was a false
#: alarm, or the category it should have had
VERDICTS: Final = ("confirmed", "benign", "false_positive", *(c.value for c in Category))


def _label_of(rec: ApproachRecord) -> Category | None:
    verdict = rec.verdict
    if verdict == "confirmed":
        return _category_or_none(rec.category)
    if verdict in ("benign", "false_positive"):
        return Category.BENIGN
    if verdict:
        return _category_or_none(verdict)
    return _category_or_none(rec.label)


def _category_or_none(value: str | None) -> Category | None:
    try:
        return Category(value) if value else None
    except ValueError:
        return None


def clean_line_id(value: str) -> str:
    return repr(value[:200])


def _grouped(session: Session, column: InstrumentedAttribute[str]) -> dict[str, int]:
    return {key: n for key, n in session.execute(select(column, func.count()).group_by(column))}


def _opt_text(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


def _opt_code(value: str | None, limit: int) -> str | None:
    """A short code (language, persona) as stored: cleaned, and None when absent or not a code."""
    if not isinstance(value, str) or not value:
        return None
    value = clean_text(value)
    return value if len(value) <= limit else None


def _opt_int(value: int | None) -> int | None:
    # A count beyond 32 bits is a parse artefact, not knowledge; PostgreSQL INTEGER would reject it.
    if value is None or not -_INT32_MAX <= value <= _INT32_MAX:
        return None
    return int(value)


def _finite(value: float, what: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    return value


def _slices(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _describe(exc: BaseException) -> str:
    # SQLAlchemy's message carries the whole statement and its parameters (possibly a thousand
    # rows); the driver's own message is the useful part.
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return (text[0] if text else type(inner).__name__)[:300]


def _display(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _to_url(url_or_path: str | Path, *, create: bool) -> URL:
    if isinstance(url_or_path, str) and "://" in url_or_path:
        try:
            url = make_url(url_or_path)
        except ArgumentError as exc:
            raise StoreError(f"not a database URL: {url_or_path!r}") from exc
        if url.get_backend_name() == "sqlite" and not _is_memory(url):
            _prepare_file(Path(str(url.database)), create=create)
        return url
    path = Path(url_or_path).expanduser()
    _prepare_file(path, create=create)
    return URL.create("sqlite", database=str(path))


def _prepare_file(path: Path, *, create: bool) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a workspace file")
    if path.exists():
        return
    if not create:
        raise StoreError(f"no workspace at {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create workspace directory {path.parent}: {exc.strerror or exc}") from exc


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", _postgres_connect)
        return engine
    connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000}
    if _is_memory(url):
        # Every new connection to ":memory:" would be a new, empty database.
        engine = create_engine(
            url,
            poolclass=StaticPool,
            connect_args={**connect_args, "check_same_thread": False},
            json_serializer=_json_dumps,
        )
    else:
        engine = create_engine(url, connect_args=connect_args, json_serializer=_json_dumps)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's implicit transactions skip SELECTs and DDL; SQLAlchemy emits BEGIN instead
    # (see _sqlite_begin), which makes migrations and imports truly atomic.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
    # Timestamps then arrive in UTC whatever the server's default zone, so values near the ends of
    # the datetime range cannot fall outside it when the driver converts them.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET TIME ZONE 'UTC'")
    finally:
        cursor.close()
    # Commit, or the pool's reset-on-return rollback would undo the SET.
    dbapi_connection.commit()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front: a deferred transaction that reads, then writes, fails
    # with SQLITE_BUSY instead of waiting when another writer got there in between.
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _member_rows(campaign: Campaign) -> Iterator[tuple[str, str, str]]:
    seen: set[str] = set()
    for mid, acc, rcp in zip(
        campaign.message_ids, campaign.member_accounts, campaign.member_recipients, strict=True
    ):
        if mid not in seen:
            seen.add(mid)
            yield mid, acc, rcp


def _campaign_json(rec: CampaignRecord) -> dict[str, Any]:
    out = dict(rec.record)
    out["source"] = rec.source
    out["found_at"] = rec.found_at.isoformat().replace("+00:00", "Z")
    return out
