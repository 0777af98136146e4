"""Case management over a workspace: the triage inbox, case state, notes, reporters and the audit log.

Who may see what is decided here, not in the web layer, so every adapter (web pages, JSON API,
exports) applies the same rule: admins and analysts see every case; a reporter sees only the cases
they reported themselves.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Float, Integer, Select, Text, bindparam, exists, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from lurewatch.errors import StoreError
from lurewatch.model import CASE_STATUSES, CaseNote, CaseState, Category
from lurewatch.store.tables import (
    AccountRecord,
    ApproachRecord,
    AuditRecord,
    CampaignMemberRecord,
    CaseNoteRecord,
    CaseReportRecord,
)
from lurewatch.store.workspace import VERDICTS, Workspace, clean_key, clean_text

#: Longest note kept, in characters; longer notes are refused rather than cut.
MAX_NOTE_CHARS: Final = 20_000
#: Most rows one inbox page returns.
MAX_PAGE: Final = 500
SEVERITIES: Final = ("high", "medium", "low")
#: Seconds the inbox's filter values are reused before they are read again.
FACETS_TTL_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: their username and role (admin, analyst or reporter)."""

    username: str
    role: str

    @property
    def sees_all(self) -> bool:
        return self.role in ("admin", "analyst")


@dataclass(frozen=True, slots=True)
class InboxFilter:
    category: str | None = None
    status: str | None = None
    severity: str | None = None
    #: the recipient's sector
    sector: str | None = None
    campaign: str | None = None
    reporter: str | None = None
    assignee: str | None = None
    min_risk: float = 0.0


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: str
    category: str
    risk: float
    severity: str
    sender_name: str
    sender_key: str
    recipient_name: str
    recipient_key: str
    recipient_sector: str | None
    channel: str
    sent_at: datetime | None
    top_signals: str
    status: str
    verdict: str | None
    assignee: str | None


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: tuple[InboxRow, ...]
    offset: int
    limit: int
    #: whether another page follows (the inbox does not count every match: on a large workspace a
    #: count costs more than the page itself)
    has_more: bool


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    username: str | None
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]


class Cases:
    """Case management on one :class:`~lurewatch.store.workspace.Workspace`."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._engine = workspace.engine
        self._facets: dict[str, tuple[float, dict[str, list[str]]]] = {}
        self._statements: dict[frozenset[str], Select[Any]] = {}

    # -- the inbox ---------------------------------------------------------------------------------

    def inbox(self, viewer: Viewer, where: InboxFilter, *, limit: int = 50, offset: int = 0) -> InboxPage:
        """Approaches the viewer may see, riskiest first, then most recent."""
        if limit < 1 or offset < 0:
            raise ValueError("limit must be positive and offset not negative")
        limit = min(limit, MAX_PAGE)
        values: dict[str, Any] = {"limit": limit + 1, "offset": offset}
        if where.min_risk > 0:
            values["min_risk"] = where.min_risk
        for name in ("category", "status", "severity", "sector", "assignee", "reporter"):
            if getattr(where, name):
                values[name] = getattr(where, name)
        if where.campaign:
            values["campaign"] = clean_key(where.campaign)
        if not viewer.sees_all:
            values["viewer"] = viewer.username
        stmt = self._inbox_statement(frozenset(values))
        with self._reading("read the inbox") as session:
            found = [InboxRow(*row) for row in session.execute(stmt, values)]
        return InboxPage(tuple(found[:limit]), offset, limit, len(found) > limit)

    def _inbox_statement(self, given: frozenset[str]) -> Select[Any]:
        """The inbox query for one combination of filters, built once: values are bound at execution,
        so SQLAlchemy's compiled cache serves every later page (building a select costs more than running it)."""
        held = self._statements.get(given)
        if held is not None:
            return held
        a = ApproachRecord
        sender = aliased(AccountRecord)
        recipient = aliased(AccountRecord)
        stmt: Select[Any] = (
            select(
                a.id,
                a.category,
                a.risk,
                a.severity,
                sender.name,
                a.sender_key,
                recipient.name,
                a.recipient_key,
                recipient.sector,
                a.channel,
                a.sent_at,
                a.top_signals,
                a.status,
                a.verdict,
                a.assignee,
            )
            .join(sender, sender.key == a.sender_key)
            .join(recipient, recipient.key == a.recipient_key)
            .order_by(*self._inbox_order())
            .offset(bindparam("offset", type_=Integer))
            .limit(bindparam("limit", type_=Integer))
        )
        if "min_risk" in given:
            stmt = stmt.where(a.risk >= bindparam("min_risk", type_=Float))
        for name, column in (
            ("category", a.category),
            ("status", a.status),
            ("severity", a.severity),
            ("sector", recipient.sector),
            ("assignee", a.assignee),
        ):
            if name in given:
                stmt = stmt.where(column == bindparam(name, type_=Text))
        if "campaign" in given:
            stmt = stmt.where(
                exists().where(
                    CampaignMemberRecord.campaign_id == bindparam("campaign", type_=Text),
                    CampaignMemberRecord.message_id == a.id,
                )
            )
        for name in ("reporter", "viewer"):
            if name in given:
                stmt = stmt.where(
                    exists().where(
                        CaseReportRecord.approach_id == a.id,
                        CaseReportRecord.username == bindparam(name, type_=Text),
                    )
                )
        self._statements[given] = stmt
        return stmt

    def _inbox_order(self) -> tuple[Any, ...]:
        a = ApproachRecord
        if self._engine.dialect.name == "sqlite":
            # SQLite already puts NULLs last in a descending order; saying so would stop it reading the
            # order off the (risk, sent_at, id) indexes.
            return a.risk.desc(), a.sent_at.desc(), a.id.desc()
        return a.risk.desc(), a.sent_at.desc().nulls_last(), a.id.desc()

    def facets(self, viewer: Viewer) -> dict[str, list[str]]:
        """The values the inbox filters offer (sectors and reporters as found in the workspace).

        Kept for :data:`FACETS_TTL_S`: they change rarely, and every inbox page asks for them.
        """
        now = time.monotonic()
        key = "all" if viewer.sees_all else f"user:{viewer.username}"
        held = self._facets.get(key)
        if held is not None and now - held[0] < FACETS_TTL_S:
            return held[1]
        found = self._read_facets(viewer)
        if len(self._facets) > 1000:
            self._facets.clear()
        self._facets[key] = (now, found)
        return found

    def _read_facets(self, viewer: Viewer) -> dict[str, list[str]]:
        with self._reading("read the inbox filters") as session:
            sectors = session.scalars(
                select(AccountRecord.sector)
                .where(AccountRecord.sector.is_not(None))
                .distinct()
                .order_by(AccountRecord.sector)
                .limit(200)
            ).all()
            reporters = (
                session.scalars(
                    select(CaseReportRecord.username)
                    .distinct()
                    .order_by(CaseReportRecord.username)
                    .limit(500)
                ).all()
                if viewer.sees_all
                else [viewer.username]
            )
        return {
            "category": [c.value for c in Category],
            "status": list(CASE_STATUSES),
            "severity": list(SEVERITIES),
            "sector": [s for s in sectors if s],
            "reporter": list(reporters),
        }

    # -- one case ----------------------------------------------------------------------------------

    def can_view(self, viewer: Viewer, approach_id: str) -> bool:
        """Whether the approach exists and the viewer may see it."""
        key = clean_key(approach_id)
        stmt = select(ApproachRecord.id).where(ApproachRecord.id == key)
        if not viewer.sees_all:
            stmt = stmt.where(_reported_by(viewer.username))
        with self._reading("read a case") as session:
            return session.scalar(stmt) is not None

    def campaigns_of(self, approach_id: str) -> list[str]:
        """Ids of the stored campaigns this approach belongs to."""
        with self._reading("read a case") as session:
            return list(
                session.scalars(
                    select(CampaignMemberRecord.campaign_id)
                    .where(CampaignMemberRecord.message_id == clean_key(approach_id))
                    .order_by(CampaignMemberRecord.campaign_id)
                )
            )

    def state(self, approach_id: str) -> CaseState | None:
        key = clean_key(approach_id)
        with self._reading("read a case") as session:
            rec = session.get(ApproachRecord, key)
            if rec is None:
                return None
            reporters = session.scalars(
                select(CaseReportRecord.username)
                .where(CaseReportRecord.approach_id == key)
                .order_by(CaseReportRecord.reported_at, CaseReportRecord.username)
            ).all()
            notes = session.scalars(
                select(CaseNoteRecord).where(CaseNoteRecord.approach_id == key).order_by(CaseNoteRecord.id)
            ).all()
            return CaseState(
                approach_id=rec.id,
                status=rec.status,
                verdict=rec.verdict,
                assignee=rec.assignee,
                reporters=tuple(reporters),
                notes=tuple(CaseNote(n.author, n.text, n.created_at) for n in notes),
                updated_at=rec.updated_at,
            )

    def update(
        self,
        actor: str,
        approach_id: str,
        *,
        status: str | None = None,
        verdict: str | None = None,
        assignee: str | None = None,
        clear_assignee: bool = False,
    ) -> CaseState:
        """Change a case's status, verdict or assignee and log the change; a verdict marks it triaged."""
        if status is not None and status not in CASE_STATUSES:
            raise StoreError(f"unknown status {status!r}; use one of: {', '.join(CASE_STATUSES)}")
        if verdict is not None and verdict not in VERDICTS:
            raise StoreError(f"unknown verdict {verdict!r}; use one of: {', '.join(VERDICTS)}")
        key = clean_key(approach_id)
        now = datetime.now(UTC)
        try:
            with Session(self._engine) as session, session.begin():
                rec = session.get(ApproachRecord, key, with_for_update=True)
                if rec is None:
                    raise StoreError(f"no approach {approach_id!r}")
                changes: dict[str, Any] = {}
                if verdict is not None and verdict != rec.verdict:
                    changes["verdict"] = [rec.verdict, verdict]
                    rec.verdict = verdict
                    # A verdict on a new case triages it, also when a form re-sent the unchanged "new".
                    if rec.status == "new" and status in (None, "new"):
                        status = "triaged"
                if status is not None and status != rec.status:
                    changes["status"] = [rec.status, status]
                    rec.status = status
                new_assignee = None if clear_assignee else assignee
                if (clear_assignee or assignee is not None) and new_assignee != rec.assignee:
                    changes["assignee"] = [rec.assignee, new_assignee]
                    rec.assignee = new_assignee
                if changes:
                    rec.updated_at = now
                    session.add(audit_record(now, actor, "change", "approach", key, changes))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot update case {approach_id!r}: {exc.__class__.__name__}") from exc
        state = self.state(key)
        assert state is not None
        return state

    def add_note(self, actor: str, approach_id: str, text: str) -> CaseNote:
        body = clean_text(text).strip()
        if not body:
            raise StoreError("a note needs some text")
        if len(body) > MAX_NOTE_CHARS:
            raise StoreError(f"a note holds at most {MAX_NOTE_CHARS:,} characters")
        key = clean_key(approach_id)
        now = datetime.now(UTC)
        try:
            with Session(self._engine) as session, session.begin():
                if session.get(ApproachRecord, key) is None:
                    raise StoreError(f"no approach {approach_id!r}")
                session.add(CaseNoteRecord(approach_id=key, author=actor, text=body, created_at=now))
                session.execute(update(ApproachRecord).where(ApproachRecord.id == key).values(updated_at=now))
                session.add(audit_record(now, actor, "note", "approach", key, {"chars": len(body)}))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot add a note to {approach_id!r}: {exc.__class__.__name__}") from exc
        return CaseNote(actor, body, now)

    # -- the audit log -----------------------------------------------------------------------------

    def audit(
        self,
        actor: str | None,
        action: str,
        object_type: str,
        object_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one line to the audit log (its own transaction)."""
        try:
            with Session(self._engine) as session, session.begin():
                session.execute(
                    insert(AuditRecord).values(
                        at=datetime.now(UTC),
                        username=actor,
                        action=action[:32],
                        object_type=object_type[:32],
                        object_id=None if object_id is None else clean_key(object_id),
                        detail=detail or {},
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write the audit log: {exc.__class__.__name__}") from exc

    def audit_log(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """Audit lines, newest first."""
        stmt = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(min(max(limit, 1), 1000))
        if object_type:
            stmt = stmt.where(AuditRecord.object_type == object_type)
        if object_id:
            stmt = stmt.where(AuditRecord.object_id == clean_key(object_id))
        if before_id is not None:
            stmt = stmt.where(AuditRecord.id < before_id)
        with self._reading("read the audit log") as session:
            return [
                AuditEntry(r.id, r.at, r.username, r.action, r.object_type, r.object_id, dict(r.detail or {}))
                for r in session.scalars(stmt)
            ]

    def audit_count(self) -> int:
        with self._reading("count the audit log") as session:
            return session.scalar(select(func.count()).select_from(AuditRecord)) or 0

    # -- internals ---------------------------------------------------------------------------------

    def _reading(self, what: str) -> AbstractContextManager[Session]:
        # The workspace's own read session: one error wording (StoreError naming the workspace) for both.
        return self._workspace._reading(what)


def _reported_by(username: str) -> Any:
    return exists().where(
        CaseReportRecord.approach_id == ApproachRecord.id, CaseReportRecord.username == username
    )


def audit_record(
    at: datetime,
    actor: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: dict[str, Any],
) -> AuditRecord:
    """One audit-log row, to add in the same transaction as the change it records."""
    return AuditRecord(
        at=at, username=actor, action=action, object_type=object_type, object_id=object_id, detail=detail
    )
