"""The workspace store: migrations, atomic idempotent imports, round-trips and listing.

Runs against SQLite always and also against PostgreSQL when LUREWATCH_TEST_POSTGRES_URL is set
(the database there is wiped of lurewatch tables before each test).
"""

from __future__ import annotations

import itertools
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError

from lurewatch.errors import InputError, StoreError
from lurewatch.model import (
    Account,
    Approach,
    Assessment,
    Category,
    Channel,
    Conversation,
    Evidence,
    IngestStats,
    Message,
    Signal,
)
from lurewatch.store import IMPORT_KINDS, ApproachRow, ImportSummary, Workspace, clean_key
from lurewatch.store.tables import VERSION_TABLE, AccountRecord, ApproachRecord, Base

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("LUREWATCH_TEST_POSTGRES_URL")
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
TABLES = (
    "accounts",
    "imports",
    "approaches",
    "messages",
    "signals",
    "campaigns",
    "campaign_members",
    VERSION_TABLE,
)
HEAD = "0005"


# -- factories -------------------------------------------------------------------------------------


def make_account(key: str, name: str = "", **fields: Any) -> Account:
    return Account(key=key, name=name, **fields)


def make_pair(
    n: int,
    *,
    risk: float = 0.5,
    category: Category = Category.SCAM,
    sent_at: datetime | str | None = "auto",
    sender: Account | None = None,
    recipient: Account | None = None,
    text: str | None = None,
    approach_id: str | None = None,
    source: str = "test.csv",
) -> tuple[Approach, Assessment]:
    """A one-message approach with one signal; ``n`` makes the id and the content unique."""
    sender = sender or make_account(f"linkedin:sender-{n % 97}", f"Sender {n % 97}", headline="Recruiter")
    recipient = recipient or make_account("linkedin:owner", "Olive Owner", sector="quantum")
    when = T0 + timedelta(minutes=n) if isinstance(sent_at, str) else sent_at
    aid = approach_id or f"approach-{n}"
    body = f"Hello, opportunity number {n}" if text is None else text
    message = Message(
        id=f"msg-{n}",
        conversation_id=f"conv-{n}",
        sender_key=sender.key,
        sent_at=when,
        text=body,
        subject=f"Subject {n}",
        recipient_keys=(recipient.key,),
    )
    approach = Approach(
        id=aid,
        sender=sender,
        recipient=recipient,
        conversation=Conversation(id=f"conv-{n}", messages=(message,), title=f"Title {n}"),
        channel=Channel.LINKEDIN_MESSAGE,
        sender_is_connection=False,
        source=source,
    )
    sig = Signal(
        indicator_id="RF-001",
        title="Unsolicited consultancy offer",
        weight=1.5,
        evidence=(
            Evidence(
                field="message[0].text", text=body[:10], start=0, end=min(10, len(body)), message_index=0
            ),
        ),
        sources=("https://example.org/think-before-you-link",),
        supports=(Category.STATE_APPROACH,),
    )
    assessment = Assessment(
        approach_id=aid,
        category=category,
        risk=risk,
        signals=(sig,),
        advice=("Do not reply.",),
        category_scores={category: risk, Category.BENIGN: 1 - risk},
        catalogue_version="2026.1",
    )
    return approach, assessment


def pairs(ns: Any, **kw: Any) -> list[tuple[Approach, Assessment]]:
    return [make_pair(n, **kw) for n in ns]


def snapshot(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with ws.engine.connect() as conn:
        for name in TABLES:
            rows = conn.execute(text(f"SELECT * FROM {name}")).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def ws(workspace_url: str) -> Iterator[Workspace]:
    with Workspace.open(workspace_url) as workspace:
        yield workspace


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "ws" / "workspace.sqlite"


def do_import(
    ws: Workspace,
    items: Any,
    *,
    digest: str = "a" * 64,
    kind: str = "corpus",
    source: str = "file.csv",
    **kw: Any,
) -> ImportSummary:
    return ws.import_approaches(source, digest, kind, items, IngestStats(), **kw)


# -- migrations and connection settings -----------------------------------------------------------


def test_open_creates_schema_from_empty_and_is_idempotent(workspace_url: str) -> None:
    with Workspace.open(workspace_url) as ws:
        do_import(ws, pairs(range(3)))
        before = snapshot(ws)
    with Workspace.open(workspace_url) as ws:
        assert snapshot(ws) == before
        with ws.engine.connect() as conn:
            assert set(TABLES) <= set(inspect(conn).get_table_names())
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() == [HEAD]
            context = MigrationContext.configure(
                conn,
                opts={"compare_type": True, "target_metadata": Base.metadata, "version_table": VERSION_TABLE},
            )
            # The shipped migration builds exactly the schema the ORM models describe.
            assert compare_metadata(context, Base.metadata) == []


def test_path_parent_directories_are_created(sqlite_path: Path) -> None:
    assert not sqlite_path.parent.exists()
    with Workspace.open(sqlite_path) as ws:
        assert ws.counts()["approaches"] == 0
    assert sqlite_path.is_file()
    with Workspace.open(f"sqlite:///{sqlite_path}", create=False) as ws:
        assert ws.counts()["approaches"] == 0


def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_path: Path) -> None:
    with Workspace.open(sqlite_path) as ws, ws.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    raw = sqlite3.connect(sqlite_path)
    try:
        # WAL is a property of the file, so plain sqlite3 clients see it too.
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_foreign_keys_are_enforced(ws: Workspace) -> None:
    do_import(ws, pairs(range(1)))
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), ws.session() as session, session.begin():
        session.execute(update(ApproachRecord).values(sender_key="linkedin:nobody"))


def test_open_missing_workspace_without_create_fails(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no workspace"):
        Workspace.open(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


def test_open_rejects_non_database_and_directories(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(StoreError):
        Workspace.open(junk)
    assert junk.read_bytes().startswith(b"this is not a database")
    with pytest.raises(StoreError, match="directory"):
        Workspace.open(tmp_path)
    with pytest.raises(StoreError, match="nosuchdriver"):
        Workspace.open("nosuchdriver://x/y")


def test_existing_schema_without_version_table_is_stamped(sqlite_path: Path) -> None:
    sqlite_path.parent.mkdir(parents=True)
    engine = create_engine(f"sqlite:///{sqlite_path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    with Workspace.open(sqlite_path) as ws, ws.engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() == HEAD


def test_partial_schema_is_refused(sqlite_path: Path) -> None:
    sqlite_path.parent.mkdir(parents=True)
    engine = create_engine(f"sqlite:///{sqlite_path}")
    Base.metadata.tables["accounts"].create(engine)
    engine.dispose()
    with pytest.raises(StoreError, match="partial"):
        Workspace.open(sqlite_path)


def test_workspace_from_newer_version_is_refused(sqlite_path: Path) -> None:
    Workspace.open(sqlite_path).close()
    raw = sqlite3.connect(sqlite_path)
    with raw:
        raw.execute(f"UPDATE {VERSION_TABLE} SET version_num = '9999_future'")
    raw.close()
    with pytest.raises(StoreError, match="newer"):
        Workspace.open(sqlite_path)


def test_in_memory_workspace_keeps_its_data() -> None:
    with Workspace.open("sqlite://") as ws:
        do_import(ws, pairs(range(2)))
        assert ws.counts()["approaches"] == 2


# -- importing -------------------------------------------------------------------------------------


def test_reimporting_the_same_file_adds_nothing(ws: Workspace) -> None:
    first = do_import(ws, pairs(range(5)))
    assert first == ImportSummary(first.import_id, 5, 0, already_imported=False)
    before = snapshot(ws)

    def must_not_be_read() -> Iterator[tuple[Approach, Assessment]]:
        raise AssertionError("a file already imported must not be parsed again")
        yield  # pragma: no cover

    again = do_import(ws, must_not_be_read())
    assert again == ImportSummary(first.import_id, 0, 0, already_imported=True)
    assert snapshot(ws) == before
    # The same bytes under another kind are another import (though its approaches are duplicates).
    other = do_import(ws, pairs(range(5)), kind="pasted")
    assert other.already_imported is False
    assert other.import_id != first.import_id
    assert (other.approaches_added, other.approaches_skipped_duplicate) == (0, 5)
    assert len(ws.imports()) == 2


def test_same_approach_in_another_file_is_a_duplicate(ws: Workspace) -> None:
    do_import(ws, pairs(range(10)), digest="1" * 64)
    same_content_new_id = make_pair(0, approach_id="renamed-0")
    assert same_content_new_id[0].fingerprint == make_pair(0)[0].fingerprint
    same_id_new_content = make_pair(1, text="completely different text")
    assert same_id_new_content[0].fingerprint != make_pair(1)[0].fingerprint
    second_items = [
        *pairs(range(5, 15)),
        same_content_new_id,
        same_id_new_content,
        make_pair(20),
        make_pair(20),  # repeated within the same file
    ]
    summary = do_import(ws, second_items, digest="2" * 64, source="second.csv")
    assert summary.approaches_added == 6  # 10..14 and 20
    assert summary.approaches_skipped_duplicate == 5 + 2 + 1
    assert ws.counts()["approaches"] == 16
    stored = ws.get_approach("approach-1")
    assert stored is not None and stored[0].first_message.text == "Hello, opportunity number 1"
    assert ws.get_approach("renamed-0") is None
    by_id = {r.id: r for r in ws.list_approaches()}
    assert by_id["approach-12"].import_source == "second.csv"
    assert by_id["approach-2"].import_source == "file.csv"


def test_duplicates_across_batches_within_one_file(ws: Workspace) -> None:
    items = pairs(range(1500)) + pairs(range(1500))
    summary = do_import(ws, items)
    assert (summary.approaches_added, summary.approaches_skipped_duplicate) == (1500, 1500)
    assert ws.counts()["messages"] == 1500


def test_iterator_error_rolls_back_everything(ws: Workspace) -> None:
    do_import(ws, pairs(range(3)), digest="0" * 64)
    before = snapshot(ws)

    def failing() -> Iterator[tuple[Approach, Assessment]]:
        # Past two batches, so rows really were written inside the transaction before the failure.
        yield from pairs(range(100, 2600))
        raise InputError("bad.csv", "row 2601 is malformed")

    with pytest.raises(InputError, match="row 2601"):
        do_import(ws, failing(), digest="f" * 64, source="bad.csv")
    assert snapshot(ws) == before
    # The failed file was not recorded, so it can be imported once fixed.
    retry = do_import(ws, pairs(range(100, 110)), digest="f" * 64)
    assert (retry.already_imported, retry.approaches_added) == (False, 10)


def test_invalid_pair_rolls_back(ws: Workspace) -> None:
    before = snapshot(ws)
    approach, _ = make_pair(1)
    _, other_assessment = make_pair(2)
    with pytest.raises(ValueError, match="paired"):
        do_import(ws, [*pairs(range(10, 20)), (approach, other_assessment)])
    nan_risk = make_pair(3)
    with pytest.raises(ValueError, match="finite"):
        do_import(ws, [(nan_risk[0], replace(nan_risk[1], risk=float("nan")))])
    assert snapshot(ws) == before
    with pytest.raises(ValueError, match="kind"):
        do_import(ws, pairs(range(1)), kind="spreadsheet")
    assert "linkedin_export" in IMPORT_KINDS


_KILL_CHILD = r"""
import sys, time
from lurewatch.model import IngestStats
from lurewatch.store import Workspace
from tests.test_store import make_pair

def items():
    n = 10_000
    while True:
        n += 1
        yield make_pair(n)

def progress(count):
    print(count, flush=True)
    if count >= 3000:
        print("ready", flush=True)
        time.sleep(600)

ws = Workspace.open(sys.argv[1], create=False)
ws.import_approaches("killed.csv", "k" * 64, "corpus", items(), IngestStats(), progress=progress)
print("finished", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_import_leaves_workspace_unchanged(sqlite_path: Path) -> None:
    with Workspace.open(sqlite_path) as ws:
        do_import(ws, pairs(range(5)))
        before = snapshot(ws)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILL_CHILD, str(sqlite_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        # Raw reads with select: a buffered reader could hold "ready" while select waits on the fd.
        deadline = time.monotonic() + 60
        output = b""
        while b"ready\n" not in output:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([child.stdout], [], [], max(remaining, 0))
            chunk = os.read(child.stdout.fileno(), 4096) if readable else b""
            if not chunk:
                child.kill()
                child.wait()
                pytest.fail(f"child did not get half-way: {output!r} {child.stderr.read()!r}")
            output += chunk
        assert output.split()[:3] == [b"1000", b"2000", b"3000"]
        # While the import's transaction is open, readers still see the committed state.
        with Workspace.open(sqlite_path, create=False) as ws:
            assert snapshot(ws) == before
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with Workspace.open(sqlite_path, create=False) as ws:
        assert snapshot(ws) == before
        with ws.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        resumed = do_import(ws, pairs(range(10_001, 10_011)), digest="k" * 64)
        assert (resumed.already_imported, resumed.approaches_added) == (False, 10)


def test_stats_owner_and_progress_are_recorded(ws: Workspace) -> None:
    stats = IngestStats()
    seen: list[int] = []

    def streaming() -> Iterator[tuple[Approach, Assessment]]:
        for pair in pairs(range(2500)):
            stats.rows_read += 2
            stats.messages += 1
            yield pair
        stats.sponsored_filtered = 7

    owner = make_account("linkedin:owner", "Olive Owner", email="olive@example.org")
    summary = ws.import_approaches(
        "Basic_LinkedInDataExport_01-05-2026.zip",
        "b" * 64,
        "linkedin_export",
        streaming(),
        stats,
        owner=owner,
        progress=seen.append,
    )
    assert seen == [1000, 2000, 2500]
    exact: list[int] = []
    do_import(ws, pairs(range(5000, 7000)), digest="c" * 64, progress=exact.append)
    assert exact == [1000, 2000]
    row = ws.imports()[0]
    assert row.id == summary.import_id
    assert (row.source, row.digest, row.kind) == (
        "Basic_LinkedInDataExport_01-05-2026.zip",
        "b" * 64,
        "linkedin_export",
    )
    assert (row.owner_key, row.owner_name) == ("linkedin:owner", "Olive Owner")
    assert row.counts == {
        **IngestStats().as_dict(),
        "rows_read": 5000,
        "messages": 2500,
        "sponsored_filtered": 7,
    }
    assert (row.approaches_added, row.approaches_skipped_duplicate) == (2500, 0)
    assert row.imported_at.tzinfo is not None
    assert abs(row.imported_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_accounts_fill_missing_fields_and_never_erase(ws: Workspace) -> None:
    sparse = make_account("linkedin:spy", "", headline="Talent partner")
    do_import(ws, [make_pair(1, sender=sparse)], digest="1" * 64)
    fuller = make_account(
        "linkedin:spy", "Anna Spy", headline="Something else", company="Acme Consulting", connections=12
    )
    do_import(ws, [make_pair(2, sender=fuller)], digest="2" * 64)
    emptier = make_account("linkedin:spy", "")
    do_import(ws, [make_pair(3, sender=emptier)], digest="3" * 64)
    stored = ws.get_approach("approach-3")
    assert stored is not None
    assert stored[0].sender == Account(
        key="linkedin:spy",
        name="Anna Spy",
        headline="Talent partner",
        company="Acme Consulting",
        connections=12,
    )
    with ws.session() as session:
        assert (
            session.scalar(sa_select(AccountRecord.name).where(AccountRecord.key == "linkedin:spy"))
            == "Anna Spy"
        )


def test_bulk_import_is_fast(ws: Workspace) -> None:
    items = pairs(range(20_000))
    start = time.perf_counter()
    summary = do_import(ws, items)
    elapsed = time.perf_counter() - start
    assert summary.approaches_added == 20_000
    assert ws.counts()["signals"] == 20_000
    # About 10x headroom over a laptop; catches a regression to row-at-a-time inserts.
    assert elapsed < 20, f"20k approaches took {elapsed:.1f}s"


# -- reading back ----------------------------------------------------------------------------------


def _rich_pair() -> tuple[Approach, Assessment]:
    sender = make_account(
        "linkedin:jane-recruiter-1a2b",
        "Jane Recruiter",
        profile_url="https://www.linkedin.com/in/jane-recruiter-1a2b/",
        email="jane@talent.example",
        headline="Senior Partner | Global Advisory",
        company="Global Advisory Ltd",
        location="Singapore",
        connections=37,
        account_age_days=41,
        photo="ai-generated",
    )
    recipient = make_account("linkedin:olive", "Olive Owner", sector="ai", connections=500)
    m1 = Message(
        id="m1",
        conversation_id="c-1",
        sender_key=sender.key,
        sent_at=T0,
        text="Dear Olive,\nWe advise governments on AI policy.\r\nWould you write a short paper?",
        subject="Paid consultancy",
        recipient_keys=(recipient.key,),
        channel=Channel.LINKEDIN_INMAIL,
        folder="INBOX",
        attachments=("brief.pdf", "terms.docx"),
    )
    m2 = Message(
        id="m2",
        conversation_id="c-1",
        sender_key=recipient.key,
        sent_at=T0 + timedelta(hours=3),
        text="Who is the client?",
        inbound=False,
        recipient_keys=(sender.key,),
        channel=Channel.LINKEDIN_INMAIL,
        folder="SENT",
    )
    m3 = Message(
        id="m3",
        conversation_id="c-1",
        sender_key=sender.key,
        sent_at=None,
        text="Let's move to WhatsApp, I'll pay in cash.",
        channel=Channel.LINKEDIN_INMAIL,
    )
    approach = Approach(
        id="c-1",
        sender=sender,
        recipient=recipient,
        conversation=Conversation(
            id="c-1", messages=(m1, m2, m3), title="Paid consultancy", channel=Channel.LINKEDIN_INMAIL
        ),
        channel=Channel.LINKEDIN_INMAIL,
        sender_is_connection=None,
        source="messages.csv",
        label=Category.STATE_APPROACH,
    )
    signals = (
        Signal(
            indicator_id="RF-PAID-PAPER",
            title="Paid report for an unknown client",
            weight=2.25,
            evidence=(
                Evidence("message[0].text", "write a short paper", 63, 82, 0),
                Evidence("message[0].subject", "Paid consultancy", 0, 16, 0),
            ),
            sources=("MI5 Think Before You Link", "NCSC"),
            supports=(Category.STATE_APPROACH,),
        ),
        Signal(
            indicator_id="RF-OFF-PLATFORM",
            title="Move to an encrypted app",
            weight=1.0,
            evidence=(Evidence("message[2].text", "WhatsApp", 12, 20, 2),),
            supports=(Category.STATE_APPROACH, Category.SCAM),
        ),
        Signal(
            indicator_id="RF-PROFILE-NEW",
            title="Young profile",
            weight=0.5,
            evidence=(Evidence("sender.account_age_days", "41"),),
        ),
    )
    assessment = Assessment(
        approach_id="c-1",
        category=Category.STATE_APPROACH,
        risk=0.8734,
        signals=signals,
        advice=("Do not send anything.", "Report to your security officer."),
        category_scores={Category.STATE_APPROACH: 0.8, Category.SCAM: 0.15, Category.BENIGN: 0.05},
        catalogue_version="2026.05",
        risk_rose_at=2,
    )
    return approach, assessment


def test_get_approach_round_trips(ws: Workspace) -> None:
    original = _rich_pair()
    do_import(ws, [original])
    stored = ws.get_approach("c-1")
    assert stored == original
    assert stored[0].fingerprint == original[0].fingerprint
    assert ws.get_approach("no-such-approach") is None
    [row] = ws.list_approaches()
    assert row == ApproachRow(
        id="c-1",
        category="state_approach",
        risk=0.8734,
        severity="high",
        sender_name="Jane Recruiter",
        sender_key="linkedin:jane-recruiter-1a2b",
        recipient_name="Olive Owner",
        recipient_key="linkedin:olive",
        channel="linkedin_inmail",
        sent_at=T0,
        top_signals="RF-PAID-PAPER Paid report for an unknown client; RF-OFF-PLATFORM Move to an encrypted app; RF-PROFILE-NEW Young profile",
        status="new",
        source="messages.csv",
        import_source="file.csv",
    )


def test_datetimes_come_back_as_aware_utc(ws: Workspace) -> None:
    tokyo = timezone(timedelta(hours=9))
    do_import(
        ws,
        [
            make_pair(1, sent_at=datetime(2026, 3, 1, 18, 0, tzinfo=tokyo)),
            make_pair(2, sent_at=datetime(2026, 3, 1, 18, 0)),  # naive: taken as UTC
            make_pair(3, sent_at=datetime(1, 1, 1, 0, 0, tzinfo=tokyo)),  # no UTC equivalent
        ],
    )
    sent = {r.id: r.sent_at for r in ws.list_approaches()}
    assert sent["approach-1"] == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert sent["approach-1"].utcoffset() == timedelta(0)
    assert sent["approach-2"] == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    assert sent["approach-3"] == datetime.min.replace(tzinfo=UTC)
    stored = ws.get_approach("approach-1")
    assert stored is not None
    assert stored[0].first_message.sent_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert stored[0].first_message.sent_at.tzinfo is not None


def test_list_orders_by_risk_then_recency_and_filters(ws: Workspace) -> None:
    do_import(
        ws,
        [
            make_pair(1, risk=0.2, category=Category.BENIGN),
            make_pair(2, risk=0.9, category=Category.STATE_APPROACH, sent_at=T0),
            make_pair(3, risk=0.9, category=Category.MALWARE_LURE, sent_at=T0 + timedelta(days=1)),
            make_pair(4, risk=0.9, category=Category.STATE_APPROACH, sent_at=None),
            make_pair(5, risk=0.55, category=Category.SCAM),
            make_pair(6, risk=0.9, category=Category.STATE_APPROACH, sent_at=T0 - timedelta(days=1)),
        ],
    )
    ordered = [r.id for r in ws.list_approaches()]
    assert ordered == ["approach-3", "approach-2", "approach-6", "approach-4", "approach-5", "approach-1"]
    assert [r.id for r in ws.list_approaches(category="state_approach")] == [
        "approach-2",
        "approach-6",
        "approach-4",
    ]
    assert [r.id for r in ws.list_approaches(min_risk=0.55)] == ordered[:5]
    assert [r.id for r in ws.list_approaches(limit=2, offset=1)] == ordered[1:3]
    assert ws.list_approaches(category="commercial") == []
    assert [r.severity for r in ws.list_approaches()] == ["high"] * 4 + ["medium", "low"]
    with pytest.raises(ValueError):
        ws.list_approaches(offset=-1)


def test_counts(ws: Workspace) -> None:
    assert ws.counts()["approaches"] == 0
    do_import(
        ws,
        [
            make_pair(1, risk=0.9, category=Category.STATE_APPROACH),
            make_pair(2, risk=0.8, category=Category.STATE_APPROACH),
            make_pair(3, risk=0.1, category=Category.COMMERCIAL),
            make_pair(4, risk=0.5, category=Category.SCAM),
        ],
    )
    counts = ws.counts()
    assert counts["approaches"] == 4
    assert counts["imports"] == 1
    assert counts["messages"] == 4
    assert counts["signals"] == 4
    assert counts["accounts"] == 5  # four senders and the recipient
    assert (counts["state_approach"], counts["commercial"], counts["scam"], counts["benign"]) == (2, 1, 1, 0)
    assert (counts["severity_high"], counts["severity_medium"], counts["severity_low"]) == (2, 1, 1)
    assert (counts["status_new"], counts["status_triaged"]) == (4, 0)


# -- hostile text ----------------------------------------------------------------------------------

HOSTILE = [
    "Robert'); DROP TABLE approaches;--",
    '<script>alert(1)</script> =HYPERLINK("http://evil")',
    "\u202eevil.exe\u202c.pdf",
    "Zalgo: Z̸̢̛̖̈́a̶̡͔̓l̷͎̊g̵̱̈́o̶̧͗",
    "emoji 👩🏽‍💻 and CJK 北京 and Arabic مرحبا",
    "line\nbreaks\r\nand\ttabs\x0bvt",
    "trailing spaces   ",
    "",
]


def _expected(value: str) -> str:
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value if c != "\x00")


def test_hostile_text_is_stored_verbatim_except_nul(ws: Workspace) -> None:
    items = [make_pair(i, text=t, sender=make_account(f"name:{t}", t)) for i, t in enumerate(HOSTILE)]
    items.append(make_pair(99, text="nul\x00inside\x00", source="a\x00b"))
    items.append(make_pair(98, text="lone \udc80 surrogate"))
    do_import(ws, items)
    for i, t in enumerate(HOSTILE):
        stored = ws.get_approach(f"approach-{i}")
        assert stored is not None
        assert stored[0].first_message.text == t
        assert stored[0].sender.name == t
        assert stored[1].signals[0].evidence[0].text == t[:10]
    nul = ws.get_approach("approach-99")
    assert nul is not None
    assert nul[0].first_message.text == "nulinside"
    assert nul[0].source == "ab"
    surrogate = ws.get_approach("approach-98")
    assert surrogate is not None and surrogate[0].first_message.text == "lone \ufffd surrogate"


def test_overlong_keys_are_shortened_consistently(ws: Workspace) -> None:
    long_id = "conv-" + "x" * 5000
    long_sender = make_account("name:" + "é" * 3000, "Long Name")
    do_import(ws, [make_pair(1, approach_id=long_id, sender=long_sender)])
    stored = ws.get_approach(long_id)
    assert stored is not None
    assert stored[0].id == clean_key(long_id) != long_id
    assert len(stored[0].id.encode()) <= 512
    assert len(stored[0].sender.key.encode()) <= 512
    assert stored[0].sender.name == "Long Name"
    assert stored[0].first_message.sender_key == stored[0].sender.key
    # Distinct long keys stay distinct.
    assert clean_key("a" * 600 + "1") != clean_key("a" * 600 + "2")


_counter = itertools.count()
# Any code point, with NUL, lone surrogates and other troublemakers made frequent.
_any_text = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from(
            ["\x00", "\udc80", "\ud83d", "\ude00", "\u202e", "\ufeff", "é", "👩", "\u200d", "'", '"']
        ),
    ),
    max_size=200,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_any_text, subject=_any_text, name=_any_text)
def test_any_text_round_trips(ws: Workspace, body: str, subject: str, name: str) -> None:
    n = next(_counter)
    approach, assessment = make_pair(n, text=body, sender=make_account(f"linkedin:h{n}", name))
    message = replace(approach.first_message, subject=subject)
    approach = replace(approach, conversation=replace(approach.conversation, messages=(message,)))
    summary = do_import(ws, [(approach, assessment)], digest=f"{n:064x}")
    assert summary.approaches_added == 1
    stored = ws.get_approach(approach.id)
    assert stored is not None
    assert stored[0].first_message.text == _expected(body)
    assert stored[0].first_message.subject == _expected(subject)
    assert stored[0].sender.name == _expected(name)


# -- language and persona (migration 0002) ---------------------------------------------------------


def test_language_and_persona_round_trip(ws: Workspace) -> None:
    approach, assessment = _rich_pair()
    assessment = replace(assessment, language="de", persona="headhunter")
    do_import(ws, [(approach, assessment)])
    stored = ws.get_approach("c-1")
    assert stored is not None
    assert (stored[1].language, stored[1].persona) == ("de", "headhunter")
    assert stored[1] == assessment


def test_language_and_persona_may_be_unknown_or_odd(ws: Workspace) -> None:
    a1, s1 = make_pair(1)
    a2, s2 = make_pair(2)
    do_import(
        ws,
        [
            (a1, replace(s1, language=None, persona=None)),
            (a2, replace(s2, language="x" * 500, persona="p\x00")),
        ],
    )
    first, second = ws.get_approach("approach-1"), ws.get_approach("approach-2")
    assert first is not None and second is not None
    assert (first[1].language, first[1].persona) == (None, None)
    # an over-long code is not a code: stored as unknown, never rejected by the database
    assert (second[1].language, second[1].persona) == (None, "p")


def test_a_workspace_from_before_languages_is_upgraded(sqlite_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from lurewatch.store.workspace import MIGRATIONS_DIR

    sqlite_path.parent.mkdir(parents=True)
    engine = create_engine(f"sqlite:///{sqlite_path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    raw = sqlite3.connect(sqlite_path)
    with raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(approaches)")}
        assert "language" not in columns
        assert raw.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone() == ("0001",)
        # an approach imported by the earlier version
        raw.execute("INSERT INTO accounts (key, name) VALUES ('linkedin:s', 'S'), ('linkedin:r', 'R')")
        raw.execute(
            "INSERT INTO imports (source, digest, kind, imported_at, counts, approaches_added, approaches_duplicate)"
            " VALUES ('old.zip', 'd', 'corpus', '2025-01-01 00:00:00', '{}', 1, 0)"
        )
        raw.execute(
            "INSERT INTO approaches (id, fingerprint, import_id, sender_key, recipient_key, channel, conversation_id,"
            " conversation_title, conversation_channel, label, source, category, risk, severity, category_scores,"
            " advice, catalogue_version, top_signals, status) VALUES ('old-1', 'f', 1, 'linkedin:s', 'linkedin:r',"
            " 'email', 'c', '', 'email', NULL, 'old.zip', 'benign', 0.1, 'low', '{}', '[]', '2026.11.1', '', 'new')"
        )
    raw.close()
    with Workspace.open(sqlite_path) as ws:
        with ws.engine.connect() as conn:
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() == HEAD
        old = ws.get_approach("old-1")
        assert old is not None and (old[1].language, old[1].persona) == (None, None)
        approach, assessment = make_pair(7)
        do_import(ws, [(approach, replace(assessment, language="fr", persona="think_tank"))], digest="b" * 64)
        new = ws.get_approach("approach-7")
        assert new is not None and (new[1].language, new[1].persona) == ("fr", "think_tank")


# -- the text model's part and analyst verdicts (migration 0003) ------------------------------------


def test_model_fields_round_trip(ws: Workspace) -> None:
    approach, assessment = _rich_pair()
    assessment = replace(
        assessment, rule_risk=0.42, model_version="20261123T000000.000000Z", model_terms=(("wechat", 0.81),)
    )
    do_import(ws, [(approach, assessment)])
    stored = ws.get_approach("c-1")
    assert stored is not None
    assert stored[1] == assessment


def test_verdicts_label_approaches_for_training(ws: Workspace) -> None:
    pairs = [make_pair(n) for n in range(1, 5)]
    do_import(ws, pairs)
    ws.set_verdict("approach-1", "confirmed")
    ws.set_verdict("approach-2", "false_positive")
    ws.set_verdict("approach-3", "scam")
    labelled = dict((a.id, label) for a, label in ws.labelled_approaches())
    assert labelled == {
        "approach-1": pairs[0][1].category,
        "approach-2": Category.BENIGN,
        "approach-3": Category.SCAM,
    }
    assert ws.counts()["status_triaged"] == 3
    with pytest.raises(StoreError, match="unknown verdict"):
        ws.set_verdict("approach-4", "probably fine")
    with pytest.raises(StoreError, match="no approach"):
        ws.set_verdict("approach-99", "benign")


# -- campaigns (migration 0004) -----------------------------------------------------------------------


def make_campaign(cid: str, messages: int, risk: float = 0.8) -> tuple[Any, dict[str, Any]]:
    from lurewatch.model import Campaign, CampaignLink

    mids = tuple(f"{cid}-m{i}" for i in range(messages))
    campaign = Campaign(
        campaign_id=cid,
        category=Category.STATE_APPROACH,
        risk=risk,
        message_ids=mids,
        account_ids=("p1", "p2"),
        recipient_ids=tuple(f"r{i}" for i in range(messages)),
        links=(CampaignLink("wechat", "x1", 0.9, ("p1", "p2")),),
        member_accounts=tuple("p1" if i % 2 else "p2" for i in range(messages)),
        member_recipients=tuple(f"r{i}" for i in range(messages)),
        first_seen=T0,
        last_seen=T0 + timedelta(days=3),
        exemplar_text="Dear \x00colleague",
    )
    return campaign, {"campaign_id": cid, "risk": risk, "message_ids": list(mids)}


def test_campaigns_are_saved_listed_and_replaced_per_source(ws: Workspace) -> None:
    a, ra = make_campaign("cmp-a", 3, 0.9)
    b, rb = make_campaign("cmp-b", 2, 0.5)
    ws.save_campaigns([a, b], [ra, rb], "stream.parquet")
    listed = ws.list_campaigns()
    assert [c["campaign_id"] for c in listed] == ["cmp-a", "cmp-b"]
    assert listed[0]["source"] == "stream.parquet"
    assert ws.get_campaign("cmp-b")["message_ids"] == ["cmp-b-m0", "cmp-b-m1"]
    assert ws.get_campaign("nope") is None
    with ws.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT message_id, account_id FROM campaign_members ORDER BY message_id")
        ).all()
    assert [tuple(r) for r in rows][:2] == [("cmp-a-m0", "p2"), ("cmp-a-m1", "p1")]
    assert len(rows) == 5
    # a new run over the same source replaces its campaigns; another source's stay
    c, rc = make_campaign("cmp-c", 1)
    ws.save_campaigns([c], [rc], "stream.parquet")
    d, rd = make_campaign("cmp-d", 1)
    ws.save_campaigns([d], [rd], "workspace")
    assert sorted(x["campaign_id"] for x in ws.list_campaigns()) == ["cmp-c", "cmp-d"]
    with ws.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM campaign_members")).scalar() == 2


def test_a_failed_campaign_save_changes_nothing(ws: Workspace) -> None:
    a, ra = make_campaign("cmp-a", 3)
    ws.save_campaigns([a], [ra], "s")
    before = ws.list_campaigns()
    b, rb = make_campaign("cmp-b", 2, risk=float("nan"))
    c, rc = make_campaign("cmp-c", 2)
    with pytest.raises(ValueError, match="risk must be a finite number"):
        ws.save_campaigns([c, b], [rc, rb], "s")  # the first was written before the second failed
    assert ws.list_campaigns() == before


def test_stream_rows_give_each_approach_as_a_contract_row(ws: Workspace) -> None:
    sender = make_account(
        "linkedin:p", "Pat Persona", headline="Talent partner", company="Acme", account_age_days=10
    )
    do_import(ws, pairs(range(3), sender=sender))
    rows = [r for batch in ws.stream_rows(batch_rows=2) for r in batch]
    assert [r["message_id"] for r in rows] == ["approach-0", "approach-1", "approach-2"]
    first = rows[0]
    assert first["sender_id"] == "linkedin:p"
    assert first["sender_name"] == "Pat Persona"
    assert first["sender_company"] == "Acme"
    assert first["recipient_id"] == "linkedin:owner"
    assert first["recipient_sector"] == "quantum"
    assert first["text"] == "Hello, opportunity number 0"
    assert first["sender_created_at"] == (T0 - timedelta(days=10)).isoformat()
