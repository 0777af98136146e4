"""Synthetic LinkedIn exports: exact era formats, and a round trip through the reader in every era."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lurewatch.identity import normalise_name
from lurewatch.ingest.linkedin_export import iter_linkedin_export
from lurewatch.model import Approach, IngestStats
from lurewatch.settings import Settings
from lurewatch.synth.linkedin_export import (
    ERAS,
    EXCEL_VARIANTS,
    SPONSORED,
    ExportConnection,
    ExportConversation,
    ExportInvitation,
    ExportMessage,
    Person,
    era_text,
    write_export,
    write_large_export,
)

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin"


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


ADA = Person(
    "Ada",
    "Fictional",
    "ada-fictional-2b9a1c",
    headline="Quantum sensing researcher at Northbridge University",
    location="Cambridge, United Kingdom",
)
MEI = Person("Mei Lin", "Zhao", "mei-lin-zhao-7b21", company="Orion Policy Institute")
TOM = Person("Tom", "Recruiter", "tom-recruiter-88")
BOB = Person("Bob", "Example", "bob-example", email="bob@example.org", company="Northbridge University")
CAROL = Person("Carol", "Colleague", "carol-colleague")
VICTOR = Person("Victor", "Invite", "victor-invite-5")
NADIA = Person("Nadia", "Notes", "nadia-notes")
PAUL = Person("Paul", "Blank", "paul-blank")
QUENTIN = Person("Quentin", "Out", "quentin-out")
JOHN = Person("John", "Smith, Jr.", "john-smith-jr")
ZOE = Person("Zoë", "Müller", "zoe-mueller")

CONVERSATIONS = (
    ExportConversation(
        "2-TUVJ",
        (MEI,),
        (
            ExportMessage(
                MEI,
                at(2, 8, 15, 5),
                "Dear Dr Fictional,\n\nI am a research director at a policy institute in Singapore.\n"
                "The fee is 2,000 USD per short paper.",
            ),
            ExportMessage(ADA, at(4, 9, 12), "Thanks Mei, who else works at your institute?"),
            ExportMessage(
                MEI, at(5, 10, 1, 30), "Could we continue on WhatsApp?\nMy number is +65 5550 1234."
            ),
        ),
    ),
    ExportConversation(
        "2-Qk9C",
        (BOB,),
        (
            ExportMessage(ADA, at(10, 11, month=2), "Hi Bob, are you at the conference next week?"),
            ExportMessage(BOB, at(10, 12, 30, month=2), "Yes, see you there!"),
            ExportMessage(ADA, at(11, 8, month=2), "Great, let's meet at the", draft=True),
        ),
    ),
    ExportConversation(
        "2-VE9N",
        (TOM,),
        (
            ExportMessage(
                TOM, at(20, 14, 3, 22, month=1), "Hi Ada, a client of mine is hiring.", subject="Senior role"
            ),
        ),
    ),
    ExportConversation(
        "2-U1BP",
        (),
        (
            ExportMessage(
                SPONSORED, at(18, 7, month=1), "Discover our executive MBA.", subject="Grow your career"
            ),
        ),
    ),
    ExportConversation(
        "2-Q0FS",
        (CAROL,),
        (
            ExportMessage(CAROL, at(1, 15, month=4), "Ada, can you review my grant draft by Friday?"),
            ExportMessage(
                CAROL, at(1, 15, 5, month=4), "", attachments=("https://www.linkedin.com/dms/draft.pdf",)
            ),
            ExportMessage(ADA, at(1, 16, 20, month=4), "Sure, send it over."),
        ),
    ),
    ExportConversation(
        "2-VklD",
        (VICTOR,),
        (
            ExportMessage(
                VICTOR, at(15, 10, month=1), "Thanks for accepting! Could I send you our term sheet?"
            ),
        ),
    ),
    ExportConversation(
        "2-R1JQ",
        (JOHN, BOB),
        (
            ExportMessage(JOHN, at(1, 9, month=5), "Welcome both, this is the group for the workshop."),
            ExportMessage(BOB, at(1, 9, 30, month=5), "Thanks John!"),
        ),
        title="Workshop planning",
    ),
    ExportConversation(
        "2-Wk9F",
        (ZOE,),
        (ExportMessage(ZOE, at(3, 18, month=6), 'She said "hi", then left; odd\tbut true.'),),
    ),
)
INVITATIONS = (
    ExportInvitation(VICTOR, at(10, 9, 5, month=1), "Hi Ada! I invest in deep-tech spin-outs."),
    ExportInvitation(
        NADIA, at(14, 8, 47, month=2), "Hello Ada,\nwe have a paid advisory opportunity for you."
    ),
    ExportInvitation(PAUL, at(1, 18, month=2), ""),
    ExportInvitation(QUENTIN, at(2, 15, 15, month=4), "", incoming=False),
)
CONNECTIONS = (
    ExportConnection(BOB, date(2019, 9, 3)),
    ExportConnection(CAROL, date(2018, 6, 17)),
    ExportConnection(VICTOR, date(2025, 1, 12)),
    ExportConnection(ZOE, date(2025, 6, 3)),
)


def expected_approaches(era: str) -> dict[str, tuple[object, ...]]:
    """What the reader must find, worked out from the scenario alone (not from any file)."""
    has_attachments = era not in {"2020", "2022"}
    invitation_urls = era in {"2025", "2026"}
    connected = {c.person: c.connected_on for c in CONNECTIONS}
    used: set[ExportInvitation] = set()

    def is_connection(sender: Person, first: datetime, channel: str) -> bool:
        day = connected.get(sender)
        if day is None:
            return False
        return day < first.date() if channel == "linkedin_invitation" else day <= first.date()

    out: dict[str, tuple[object, ...]] = {}
    for conv in CONVERSATIONS:
        kept = [
            m
            for m in sorted(conv.messages, key=lambda m: m.sent_at)
            if not m.draft
            and m.sender != SPONSORED
            and (m.content.strip() or m.subject or (m.attachments and has_attachments))
        ]
        if not kept or kept[0].sender == ADA:
            continue
        first = kept[0]
        invite = next(
            (
                i
                for i in INVITATIONS
                if i.incoming and i.message and i.counterpart == first.sender and i.sent_at <= first.sent_at
            ),
            None,
        )
        texts = [era_text(era, m.content) for m in kept]
        inbound = [m.sender != ADA for m in kept]
        channel = "linkedin_inmail" if first.subject else "linkedin_message"
        start = first.sent_at
        if invite is not None:
            used.add(invite)
            texts.insert(0, era_text(era, invite.message))
            inbound.insert(0, True)
            channel, start = "linkedin_invitation", invite.sent_at
        sender_key = f"linkedin:{first.sender.slug}"
        out[f"li:{conv.id}"] = (
            sender_key,
            channel,
            texts,
            inbound,
            is_connection(first.sender, start, channel),
        )
    for inv in INVITATIONS:
        if inv in used or not inv.incoming or not inv.message:
            continue
        key = (
            f"linkedin:{inv.counterpart.slug}"
            if invitation_urls
            else f"name:{normalise_name(inv.counterpart.name)}"
        )
        conn = is_connection(inv.counterpart, inv.sent_at, "linkedin_invitation")
        out[f"li-inv:{key}"] = (key, "linkedin_invitation", [era_text(era, inv.message)], [True], conn)
    return out


def summary(approaches: list[Approach]) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for a in approaches:
        key = f"li-inv:{a.sender.key}" if a.id.startswith("li-inv:") else a.id
        msgs = a.conversation.messages
        out[key] = (
            a.sender.key,
            a.channel.value,
            [m.text for m in msgs],
            [m.inbound for m in msgs],
            a.sender_is_connection,
        )
    return out


def write(tmp_path: Path, era: str, as_zip: bool, excel: str | None = None) -> Path:
    target = tmp_path / (f"Basic_LinkedInDataExport_{era}.zip" if as_zip else f"export-{era}")
    return write_export(target, era, ADA, CONVERSATIONS, INVITATIONS, CONNECTIONS, as_zip=as_zip, excel=excel)


def read(path: Path) -> tuple[list[Approach], IngestStats]:
    stats = IngestStats()
    return list(iter_linkedin_export(path, Settings(), stats)), stats


@pytest.mark.parametrize("as_zip", [False, True])
@pytest.mark.parametrize("era", ERAS)
def test_round_trip_in_every_era(tmp_path: Path, era: str, as_zip: bool) -> None:
    approaches, stats = read(write(tmp_path, era, as_zip))
    assert summary(approaches) == expected_approaches(era)
    assert stats.connections == len(CONNECTIONS)
    assert stats.drafts_dropped == 1
    assert stats.sponsored_filtered == 1
    assert stats.invitations == 2
    owner = approaches[0].recipient
    assert (owner.key, owner.name, owner.headline) == (
        "linkedin:ada-fictional-2b9a1c",
        ADA.name,
        ADA.headline,
    )
    group = next(a for a in approaches if a.sender.key == "linkedin:john-smith-jr")
    assert group.sender.name == "John Smith, Jr."
    assert group.conversation.title == "Workshop planning"
    mei = next(a for a in approaches if a.sender.key == "linkedin:mei-lin-zhao-7b21")
    assert mei.first_message.sent_at == at(2, 8, 15, 5)


@pytest.mark.parametrize("excel", EXCEL_VARIANTS)
@pytest.mark.parametrize("era", ["2020", "2026"])
def test_round_trip_through_spreadsheet_resaves(tmp_path: Path, era: str, excel: str) -> None:
    approaches, _ = read(write(tmp_path, era, as_zip=True, excel=excel))
    assert summary(approaches) == expected_approaches(era)


def test_ids_are_stable_across_writes_and_forms(tmp_path: Path) -> None:
    first, _ = read(write(tmp_path / "a", "2025", as_zip=False))
    second, _ = read(write(tmp_path / "b", "2025", as_zip=True))
    assert [(a.id, [m.id for m in a.conversation.messages]) for a in first] == [
        (a.id, [m.id for m in a.conversation.messages]) for a in second
    ]


# --- the exact format of each era ---------------------------------------------------------------------------

_BASE = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO"
_WITH_URLS = f"{_BASE},RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER"
MESSAGE_HEADERS = {
    "2020": f"{_BASE},DATE,SUBJECT,CONTENT,FOLDER",
    "2022": _WITH_URLS,
    "2023": f"{_WITH_URLS},ATTACHMENTS",
    "2024": f"{_WITH_URLS},ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT",
    "2025": f"{_WITH_URLS},ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT",
    "2026": ",".join(
        f'"{c}"' for c in f"{_WITH_URLS},ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT".split(",")
    ),
}
MESSAGE_DATE = {
    "2024": r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} UTC",
    **{era: r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC" for era in ("2020", "2022", "2023", "2025", "2026")},
}


@pytest.mark.parametrize("era", ERAS)
def test_era_formats(tmp_path: Path, era: str) -> None:
    folder = write(tmp_path, era, as_zip=False)
    messages = (folder / "messages.csv").read_text(encoding="utf-8")
    assert messages.splitlines()[0] == MESSAGE_HEADERS[era]
    # The writer and the hand-written fixtures of the same era agree on the header.
    assert (FIXTURES / f"era-{era}" / "messages.csv").read_text(encoding="utf-8").splitlines()[0] == (
        MESSAGE_HEADERS[era]
    )
    rows = list(csv.DictReader(io.StringIO(messages, newline="")))
    assert all(re.fullmatch(MESSAGE_DATE[era], r["DATE"]) for r in rows)
    multiline = [r for r in rows if "\n" in r["CONTENT"]]
    assert bool(multiline) == (era == "2026")
    assert (era == "2026") == (folder / "messages.csv").read_bytes().endswith(b"\r\n")
    # Rows of a conversation are together and newest first.
    ids = [r["CONVERSATION ID"] for r in rows]
    assert ids == sorted(ids, key=ids.index)
    for conv_id in set(ids):
        dates = [r["DATE"] for r in rows if r["CONVERSATION ID"] == conv_id]
        assert dates == sorted(dates, reverse=True)
    invitations = list(csv.DictReader(io.StringIO((folder / "Invitations.csv").read_text(encoding="utf-8"))))
    assert all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2} [AP]M", r["Sent At"]) for r in invitations)
    assert ("inviterProfileUrl" in invitations[0]) == (era in {"2025", "2026"})
    connections = (folder / "Connections.csv").read_text(encoding="utf-8").splitlines()
    assert connections[0] == "Notes:"
    assert connections[1].startswith('"When exporting your connection data')
    assert connections[2] == ""
    conn_rows = list(csv.DictReader(io.StringIO("\n".join(connections[3:]))))
    assert ("URL" in conn_rows[0]) == (era != "2020")
    assert all(re.fullmatch(r"\d{2} [A-Z][a-z]{2} \d{4}", r["Connected On"]) for r in conn_rows)
    profile = list(csv.DictReader(io.StringIO((folder / "Profile.csv").read_text(encoding="utf-8"))))
    assert profile[0]["Headline"] == ADA.headline
    assert "URL" not in profile[0]


def test_excel_variants_are_encoded_as_spreadsheets_write_them(tmp_path: Path) -> None:
    utf16 = write_export(tmp_path / "u16", "2025", ADA, CONVERSATIONS, excel="utf16-tab")
    data = (utf16 / "messages.csv").read_bytes()
    assert data.startswith(b"\xff\xfe")
    assert data.decode("utf-16").startswith("CONVERSATION ID\tCONVERSATION TITLE\t")
    semi = write_export(tmp_path / "semi", "2025", ADA, CONVERSATIONS, excel="semicolon")
    assert (
        (semi / "messages.csv").read_text(encoding="utf-8").startswith("CONVERSATION ID;CONVERSATION TITLE;")
    )
    bom = write_export(tmp_path / "bom", "2025", ADA, CONVERSATIONS, excel="utf8-bom")
    assert (bom / "messages.csv").read_bytes().startswith(b"\xef\xbb\xbfCONVERSATION ID,")
    with pytest.raises(ValueError, match="unknown excel variant"):
        write_export(tmp_path / "x", "2025", ADA, excel="lotus-123")
    with pytest.raises(ValueError, match="unknown era"):
        write_export(tmp_path / "x", "1999", ADA)


def test_era_text() -> None:
    assert era_text("2020", "Hi,\r\n  there\n") == "Hi, there"
    assert era_text("2026", "Hi,\r\n  there\n") == "Hi,\n  there"


# --- the benchmark export ---------------------------------------------------------------------------------

SUSPICIOUS_MARKERS = ("think tank", "advisory role", "password", "expert workshop", "Discretion")


def test_large_export_shape_and_determinism(tmp_path: Path) -> None:
    write_large_export(tmp_path / "a", 4000, seed=11)
    write_large_export(tmp_path / "b", 4000, seed=11)
    write_large_export(tmp_path / "c", 4000, seed=12)
    data = (tmp_path / "a" / "messages.csv").read_bytes()
    assert data == (tmp_path / "b" / "messages.csv").read_bytes()
    assert data != (tmp_path / "c" / "messages.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) == 4000
    sizes = Counter(r["CONVERSATION ID"] for r in rows)
    assert set(sizes.values()) <= set(range(1, 7))
    assert len(set(sizes.values())) == 6
    firsts: dict[str, str] = {}
    for r in rows:  # newest first: the last row seen of a conversation is its first message
        firsts[r["CONVERSATION ID"]] = r["CONTENT"]
    suspicious = sum(any(m in text for m in SUSPICIOUS_MARKERS) for text in firsts.values())
    assert 0.01 <= suspicious / len(firsts) <= 0.08
    for name in ("Invitations.csv", "Connections.csv", "Profile.csv"):
        assert (tmp_path / "a" / name).stat().st_size > 0


def test_large_export_as_zip_reads_back(tmp_path: Path) -> None:
    target = tmp_path / "bench.zip"
    write_large_export(target, 6000, seed=3)
    with zipfile.ZipFile(target) as zf:
        assert sorted(zf.namelist()) == ["Connections.csv", "Invitations.csv", "Profile.csv", "messages.csv"]
    approaches, stats = read(target)
    assert stats.messages == 6000
    assert stats.invitations > 0
    assert stats.outbound_skipped > 0
    assert {a.recipient.key for a in approaches} == {"linkedin:alex-benchmark-0001"}
    assert any(a.sender_is_connection for a in approaches)
    assert any(a.channel.value == "linkedin_invitation" for a in approaches)
