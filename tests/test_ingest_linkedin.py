"""LinkedIn export reader: every header era and quirk against hand-written fixtures, plus fuzzing."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.errors import InputError
from lurewatch.ingest import linkedin_export as le
from lurewatch.ingest.linkedin_export import is_linkedin_export, iter_linkedin_export, parse_linkedin_date
from lurewatch.model import Approach, Channel, IngestStats
from lurewatch.settings import Settings
from lurewatch.synth.linkedin_export import write_large_export

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin"
ZIP_FOLDER = "Basic_LinkedInDataExport_01-02-2026"

ADA = "linkedin:ada-fictional-2b9a1c"
MEI = "linkedin:mei-lin-zhao-7b21"
TOM = "linkedin:tom-recruiter-88"
CAROL = "linkedin:carol-colleague"
VICTOR = "linkedin:victor-invite-5"
JOHN = "linkedin:john-smith-jr"
BOB = "linkedin:bob-example"

MEI_OPEN = (
    "Dear Dr Fictional, I am a research director at the Orion Policy Institute in Singapore. We are "
    "preparing a confidential report on quantum sensing and would value your insight. The fee is 2,000 USD "
    "per short paper."
)
ADA_TO_MEI = "Thanks Mei, who else works at your institute?"
MEI_WHATSAPP = "Could we continue on WhatsApp? My number is +65 5550 1234."
TOM_TEXT = (
    "Hi Ada, a client of mine is building a quantum lab and is looking for a principal scientist. "
    "Relocation and a generous package."
)
CAROL_TEXT = "Ada, can you review my grant draft by Friday?"
ADA_TO_CAROL = "Sure, send it over."
VICTOR_NOTE = "Hi Ada! I invest in deep-tech spin-outs and would love to connect."
VICTOR_TEXT = "Thanks for accepting! Our fund invests in quantum start-ups; could I send you our term sheet?"
NADIA_NOTE = (
    "Hello Ada, I lead partnerships at a consultancy in Dubai. We have a paid advisory opportunity for you."
)
JOHN_TEXT = "Welcome both, this is the group for the workshop."

MSG, INMAIL, INVITE = "linkedin_message", "linkedin_inmail", "linkedin_invitation"
T, F = True, False


def read(path: Path, **overrides: int) -> tuple[list[Approach], IngestStats]:
    stats = IngestStats()
    approaches = list(iter_linkedin_export(path, Settings(**overrides), stats))  # type: ignore[arg-type]
    return approaches, stats


def summary(approaches: list[Approach]) -> dict[str, tuple[object, ...]]:
    """id -> (sender key, channel, texts, inbound flags, connection flag); invitation ids by sender."""
    out: dict[str, tuple[object, ...]] = {}
    for a in approaches:
        key = a.id
        if key.startswith("li-inv:"):
            assert re.fullmatch(r"li-inv:[0-9a-f]{16}", key)
            key = f"li-inv:{a.sender.key}"
        msgs = a.conversation.messages
        out[key] = (
            a.sender.key,
            a.channel.value,
            [m.text for m in msgs],
            [m.inbound for m in msgs],
            a.sender_is_connection,
        )
    return out


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"{prefix}{file.name}")
    return target


def copy_era(era: str, tmp_path: Path) -> Path:
    target = tmp_path / f"era-{era}"
    shutil.copytree(FIXTURES / f"era-{era}", target)
    return target


def export_in_form(era: str, form: str, tmp_path: Path) -> Path:
    folder = FIXTURES / f"era-{era}"
    if form == "folder":
        return folder
    if form == "subfolder":
        outer = tmp_path / "Downloads"
        shutil.copytree(folder, outer / ZIP_FOLDER)
        return outer
    if form == "zip":
        return zip_folder(folder, tmp_path / f"{ZIP_FOLDER}.zip")
    return zip_folder(folder, tmp_path / f"{ZIP_FOLDER}.zip", prefix=f"{ZIP_FOLDER}/")


FORMS = ["folder", "subfolder", "zip", "zip-subfolder"]

ERA_2020 = {
    "li:2-TUVJMjA=": (MEI, MSG, [MEI_OPEN, ADA_TO_MEI, MEI_WHATSAPP], [T, F, T], False),
    "li:2-VE9NMjA=": (TOM, INMAIL, [TOM_TEXT], [T], False),
    "li:2-Q0FST0wyMA==": (CAROL, MSG, [CAROL_TEXT, ADA_TO_CAROL], [T, F], True),
    "li:2-VklDMjA=": (VICTOR, INVITE, [VICTOR_NOTE, VICTOR_TEXT], [T, T], False),
    "li-inv:name:nadia notes": ("name:nadia notes", INVITE, [NADIA_NOTE], [T], False),
}
ERA_2022 = {
    "li:2-R1JQMjI=": (JOHN, MSG, [JOHN_TEXT, "Thanks John!"], [T, T], False),
    # Mei became a connection a week after her first message: not a connection at the time.
    "li:2-TUVJMjI=": (MEI, MSG, [MEI_OPEN, ADA_TO_MEI, MEI_WHATSAPP], [T, F, T], False),
    "li:2-VE9NMjI=": (TOM, INMAIL, [TOM_TEXT], [T], False),
    "li:2-VklDMjI=": (VICTOR, INVITE, [VICTOR_NOTE, VICTOR_TEXT], [T, T], False),
    "li-inv:name:nadia notes": ("name:nadia notes", INVITE, [NADIA_NOTE], [T], False),
}
ERA_2023 = {
    "li:2-Q0FST0wyMw==": (CAROL, MSG, [CAROL_TEXT, ""], [T, T], True),
    "li:2-TUVJMjM=": (MEI, MSG, [MEI_OPEN, MEI_WHATSAPP], [T, T], False),
    "li:2-VE9NMjM=": (TOM, INMAIL, [TOM_TEXT], [T], False),
}
ERA_2024 = {
    "li:2-TUVJMjQ=": (MEI, MSG, [MEI_OPEN, ADA_TO_MEI, MEI_WHATSAPP], [T, F, T], False),
    "li:2-VE9NMjQ=": (TOM, INMAIL, [TOM_TEXT], [T], False),
    "li:2-VklDMjQ=": (VICTOR, INVITE, [VICTOR_NOTE, VICTOR_TEXT], [T, T], False),
}
ERA_2025 = {
    "li:2-R1JQMjU=": (JOHN, MSG, [JOHN_TEXT, "Thanks John!"], [T, T], False),
    "li:2-Q0FST0wyNQ==": (CAROL, MSG, [CAROL_TEXT, ADA_TO_CAROL], [T, F], True),
    "li:2-TUVJMjU=": (MEI, MSG, [MEI_OPEN, ADA_TO_MEI, MEI_WHATSAPP], [T, F, T], False),
    "li:2-VE9NMjU=": (TOM, INMAIL, [TOM_TEXT], [T], False),
    "li:2-VklDMjU=": (VICTOR, INVITE, [VICTOR_NOTE, VICTOR_TEXT], [T, T], False),
    "li-inv:linkedin:nadia-notes": ("linkedin:nadia-notes", INVITE, [NADIA_NOTE], [T], False),
}
MEI_OPEN_2026 = (
    'Dear Dr Fictional,\n\nI am a research director at the "Orion Policy Institute" in Singapore.\n'
    "We are preparing a confidential report on quantum sensing and would value your insight. "
    "The fee is 2,000 USD per short paper.\n\nBest regards,\nMei"
)
ERA_2026 = {
    # Connected on the day of her first message: the same day counts as already connected.
    "li:2-TUVJMjY=": (
        MEI,
        MSG,
        [MEI_OPEN_2026, ADA_TO_MEI, "Could we continue on WhatsApp?\nMy number is +65 5550 1234."],
        [T, F, T],
        True,
    ),
    "li:2-VE9NMjY=": (
        TOM,
        INMAIL,
        [
            "Hi Ada,\na client of mine is building a quantum lab and is looking for a principal scientist.\n"
            "Relocation and a generous package."
        ],
        [T],
        False,
    ),
    "li-inv:linkedin:nadia-notes": (
        "linkedin:nadia-notes",
        INVITE,
        ["Hello Ada,\nI lead partnerships at a consultancy in Dubai. " + NADIA_NOTE.split("Dubai. ")[1]],
        [T],
        False,
    ),
}
EXPECTED = {
    "2020": ERA_2020,
    "2022": ERA_2022,
    "2023": ERA_2023,
    "2024": ERA_2024,
    "2025": ERA_2025,
    "2026": ERA_2026,
}
STATS = {
    "2020": dict(rows_read=16, messages=9, invitations=2, sponsored_filtered=1, system_filtered=1,
                 drafts_dropped=1, outbound_skipped=2, empty_skipped=1, connections=3),
    "2022": dict(rows_read=13, messages=9, invitations=2, sponsored_filtered=1, system_filtered=1,
                 drafts_dropped=0, outbound_skipped=1, empty_skipped=0, connections=3),
    "2023": dict(rows_read=8, messages=6, invitations=0, sponsored_filtered=1, system_filtered=0,
                 drafts_dropped=0, outbound_skipped=2, empty_skipped=0, connections=2),
    "2024": dict(rows_read=12, messages=7, invitations=1, sponsored_filtered=1, system_filtered=1,
                 drafts_dropped=2, outbound_skipped=1, empty_skipped=0, connections=2),
    "2025": dict(rows_read=18, messages=11, invitations=2, sponsored_filtered=1, system_filtered=1,
                 drafts_dropped=1, outbound_skipped=2, empty_skipped=1, connections=3),
    "2026": dict(rows_read=8, messages=6, invitations=1, sponsored_filtered=1, system_filtered=0,
                 drafts_dropped=0, outbound_skipped=1, empty_skipped=0, connections=2),
}  # fmt: skip
for _era_stats in STATS.values():
    # Nothing in the era fixtures is long enough to cut or numerous enough to drop.
    _era_stats.update(truncated_fields=0, messages_dropped=0, too_large_skipped=0)


# --- one test per header era, in each form an export arrives in ----------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_era_2020_no_recipient_urls_no_connection_urls(form: str, tmp_path: Path) -> None:
    approaches, stats = read(export_in_form("2020", form, tmp_path))
    assert summary(approaches) == ERA_2020
    assert stats.as_dict() == STATS["2020"]
    mei = next(a for a in approaches if a.sender.key == MEI)
    # Without recipient URLs the owner's reply is addressed by name, resolved to Mei's slug in the thread.
    assert mei.conversation.messages[1].recipient_keys == (MEI,)
    assert mei.conversation.messages[0].recipient_keys == (ADA,)


@pytest.mark.parametrize("form", FORMS)
def test_era_2022_recipient_urls_group_chat_and_comma_names(form: str, tmp_path: Path) -> None:
    approaches, stats = read(export_in_form("2022", form, tmp_path))
    assert summary(approaches) == ERA_2022
    assert stats.as_dict() == STATS["2022"]
    group = next(a for a in approaches if a.id == "li:2-R1JQMjI=")
    assert group.sender.name == "Smith, Jr., John"
    assert group.sender.profile_url == "https://www.linkedin.com/in/john-smith-jr"
    assert group.conversation.title == "Workshop planning"
    assert group.conversation.messages[0].recipient_keys == (ADA, BOB)
    assert group.conversation.messages[1].sender_key == BOB


@pytest.mark.parametrize("form", FORMS)
def test_era_2023_attachments(form: str, tmp_path: Path) -> None:
    approaches, stats = read(export_in_form("2023", form, tmp_path))
    assert summary(approaches) == ERA_2023
    assert stats.as_dict() == STATS["2023"]
    carol = next(a for a in approaches if a.sender.key == CAROL)
    assert carol.conversation.messages[0].attachments == ()
    assert carol.conversation.messages[1].attachments == (
        "https://www.linkedin.com/dms/prv/vid/v2/D4E10AQ/grant-draft.pdf",
    )


@pytest.mark.parametrize("form", FORMS)
def test_era_2024_draft_columns_and_slashed_dates(form: str, tmp_path: Path) -> None:
    approaches, stats = read(export_in_form("2024", form, tmp_path))
    assert summary(approaches) == ERA_2024
    assert stats.as_dict() == STATS["2024"]
    mei = next(a for a in approaches if a.sender.key == MEI)
    assert mei.sent_at == datetime(2024, 3, 2, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize("form", FORMS)
def test_era_2025_full_export(form: str, tmp_path: Path) -> None:
    approaches, stats = read(export_in_form("2025", form, tmp_path))
    assert summary(approaches) == ERA_2025
    assert stats.as_dict() == STATS["2025"]
    owner = approaches[0].recipient
    assert owner.key == ADA
    assert owner.name == "Ada Fictional"
    assert owner.profile_url == "https://www.linkedin.com/in/ada-fictional-2b9a1c"
    assert owner.headline == "Quantum sensing researcher at Northbridge University"
    assert owner.location == "Cambridge, United Kingdom"
    assert all(a.recipient == owner for a in approaches)
    tom = next(a for a in approaches if a.sender.key == TOM)
    assert tom.first_message.subject == "Senior role in Singapore"
    assert tom.first_message.sent_at == datetime(2025, 1, 20, 14, 3, 22, tzinfo=UTC)
    victor = next(a for a in approaches if a.sender.key == VICTOR)
    assert victor.first_message.channel is Channel.LINKEDIN_INVITATION
    assert victor.conversation.messages[1].channel is Channel.LINKEDIN_MESSAGE
    assert victor.first_message.sent_at == datetime(2025, 1, 10, 9, 5, tzinfo=UTC)


@pytest.mark.parametrize("form", FORMS)
def test_era_2026_all_quoted_with_line_breaks(form: str, tmp_path: Path) -> None:
    approaches, stats = read(export_in_form("2026", form, tmp_path))
    assert summary(approaches) == ERA_2026
    assert stats.as_dict() == STATS["2026"]


def test_every_approach_has_source_and_stable_unique_ids(tmp_path: Path) -> None:
    folder = FIXTURES / "era-2025"
    first, _ = read(folder)
    again, _ = read(folder)
    zipped, _ = read(zip_folder(folder, tmp_path / "e.zip"))
    ids = [(a.id, [m.id for m in a.conversation.messages]) for a in first]
    assert ids == [(a.id, [m.id for m in a.conversation.messages]) for a in again]
    assert ids == [(a.id, [m.id for m in a.conversation.messages]) for a in zipped]
    assert [a.fingerprint for a in first] == [a.fingerprint for a in again]
    message_ids = [m.id for a in first for m in a.conversation.messages]
    assert len(message_ids) == len(set(message_ids))
    assert {a.source for a in first} == {str(folder)}
    for a in first:
        assert all(m.conversation_id == a.conversation.id for m in a.conversation.messages)
        dates = [m.sent_at for m in a.conversation.messages]
        assert dates == sorted(dates)  # type: ignore[type-var]


# --- encodings and spreadsheet re-saves ---------------------------------------------------------------------


def transform_files(folder: Path, change: object) -> None:
    for file in folder.glob("*.csv"):
        file.write_bytes(change(file.read_bytes()))  # type: ignore[operator]


def redelimit(data: bytes, delimiter: str, encoding: str) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("quirk", "change"),
    [
        ("utf8-bom", lambda b: b"\xef\xbb\xbf" + b),
        ("crlf", lambda b: b.replace(b"\n", b"\r\n")),
        ("mac-cr", lambda b: b.replace(b"\n", b"\r")),
        ("excel-unicode-text", lambda b: redelimit(b, "\t", "utf-16")),
        ("utf16-le-no-bom", lambda b: redelimit(b, "\t", "utf-16-le")),
        ("utf16-be", lambda b: b"\xfe\xff" + redelimit(b, "\t", "utf-16-be")),
        ("european-semicolons", lambda b: redelimit(b, ";", "utf-8")),
        ("excel-sep-line", lambda b: b"sep=;\r\n" + redelimit(b, ";", "utf-8")),
    ],
)
@pytest.mark.parametrize("era", ["2020", "2025", "2026"])
def test_spreadsheet_resaves_read_the_same(era: str, quirk: str, change: object, tmp_path: Path) -> None:
    folder = copy_era(era, tmp_path)
    transform_files(folder, change)
    approaches, stats = read(folder)
    assert summary(approaches) == EXPECTED[era], quirk
    assert stats.as_dict() == STATS[era]
    zipped, _ = read(zip_folder(folder, tmp_path / "x.zip", prefix=f"{ZIP_FOLDER}/"))
    assert summary(zipped) == EXPECTED[era]


def test_literal_european_excel_resave(tmp_path: Path) -> None:
    folder = FIXTURES / "quirks" / "excel-semicolon"
    approaches, stats = read(folder)
    assert summary(approaches) == {
        "li:2-TUVJ": (
            MEI,
            MSG,
            [
                "Dear Dr Fictional; the fee is 2.000 EUR per paper.",
                "Thanks Mei; who else works at your institute?",
                "Could we continue on WhatsApp?",
            ],
            [T, F, T],
            None,
        ),
        "li:2-VE9N": (TOM, INMAIL, ["Hi Ada, a client of mine is hiring."], [T], None),
        "li-inv:name:nadia notes": (
            "name:nadia notes",
            INVITE,
            ["Hello Ada, we have a paid advisory opportunity for you."],
            [T],
            None,
        ),
    }
    assert stats.empty_skipped == 1
    by_id = {a.id: a for a in approaches}
    assert by_id["li:2-TUVJ"].sent_at == datetime(2025, 3, 2, 8, 15, tzinfo=UTC)
    assert by_id["li:2-VE9N"].sent_at == datetime(2025, 1, 20, 14, 3, tzinfo=UTC)


def test_literal_windows_1252_file(tmp_path: Path) -> None:
    folder = FIXTURES / "quirks" / "windows-1252"
    with pytest.raises(InputError) as exc:
        read(folder)
    assert exc.value.source == str(folder)
    assert exc.value.problem == "messages.csv: not UTF-8 text (re-save it as 'CSV UTF-8')"


def test_not_utf8_names_the_file_inside_the_zip(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    text = (folder / "messages.csv").read_text(encoding="utf-8").replace("Mei Lin Zhao", "Zoë Müller")
    (folder / "messages.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError) as exc:
        read(folder)
    assert exc.value.problem == "messages.csv: not UTF-8 text (re-save it as 'CSV UTF-8')"
    path = zip_folder(folder, tmp_path / "x.zip", prefix=f"{ZIP_FOLDER}/")
    with pytest.raises(InputError) as exc:
        read(path)
    assert exc.value.source == str(path)
    assert exc.value.problem == f"{ZIP_FOLDER}/messages.csv: not UTF-8 text (re-save it as 'CSV UTF-8')"


def test_not_utf8_far_into_a_file_is_caught_while_streaming(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    header, _, rest = (folder / "messages.csv").read_bytes().partition(b"\n")
    filler = b"".join(
        b"2-FILL%d,,Pat Filler,https://www.linkedin.com/in/pat-filler,Ada Fictional,,"
        b"2025-01-01 10:00:00 UTC,,Just some ordinary text to pad the file out,INBOX,,No,No\n" % i
        for i in range(20_000)
    )
    (folder / "messages.csv").write_bytes(header + b"\n" + rest + filler + b"2-BAD,,Caf\xe9,,,,,,x,INBOX\n")
    with pytest.raises(InputError, match=r"messages\.csv: not UTF-8 text"):
        read(folder)


def test_invitations_not_utf8(tmp_path: Path) -> None:
    folder = copy_era("2020", tmp_path)
    (folder / "Invitations.csv").write_bytes(
        "From,To,Sent At,Message,Direction\nRené,Ada,,,\n".encode("cp1252")
    )
    with pytest.raises(InputError, match=r"^.*: Invitations\.csv: not UTF-8 text"):
        read(folder)


# --- header mapping --------------------------------------------------------------------------------------


def test_columns_are_mapped_by_name_in_any_case_order_and_with_extras(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    rows = list(csv.reader(io.StringIO((folder / "messages.csv").read_text(encoding="utf-8"), newline="")))
    header = [h.lower().replace(" ", "_") for h in rows[0]] + ["SOME FUTURE COLUMN"]
    body = [[*row, "ignored"] for row in rows[1:]]
    order = list(reversed(range(len(header))))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header[i] for i in order])
    writer.writerows([[row[i] for i in order] for row in body])
    (folder / "messages.csv").write_text(out.getvalue(), encoding="utf-8")
    approaches, _ = read(folder)
    assert summary(approaches) == ERA_2025


def test_missing_required_columns(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "messages.csv").write_text("CONVERSATION ID,FROM,TO,SUBJECT,CONTENT\nc1,Mei,Ada,,hello\n")
    with pytest.raises(InputError) as exc:
        read(folder)
    assert exc.value.problem == "messages.csv: missing column(s) DATE; is this a LinkedIn export?"


def test_a_csv_that_is_not_an_export(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "messages.csv").write_text("name,amount\nalice,3\n")
    with pytest.raises(InputError) as exc:
        read(folder)
    assert exc.value.problem == (
        "messages.csv: missing column(s) CONVERSATION ID, FROM, DATE, CONTENT; is this a LinkedIn export?"
    )


def test_connections_without_preamble_and_with_a_wrapped_note(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    lines = (folder / "Connections.csv").read_text(encoding="utf-8").splitlines()
    (folder / "Connections.csv").write_text("\n".join(lines[3:]) + "\n", encoding="utf-8")
    assert summary(read(folder)[0]) == ERA_2025
    wrapped = [
        "Notes:",
        '"When exporting your connection data,',
        'some e-mail addresses are missing."',
        "",
        *lines[3:],
    ]
    (folder / "Connections.csv").write_text("\n".join(wrapped) + "\n", encoding="utf-8")
    assert summary(read(folder)[0]) == ERA_2025
    # Excel pads every row of a re-saved file to the same width, the preamble included.
    padded = ["Notes:,,,,,,", f"{lines[1]},,,,,,", ",,,,,,", *lines[3:], ",,,,,,"]
    (folder / "Connections.csv").write_text("\r\n".join(padded) + "\r\n", encoding="utf-8")
    assert summary(read(folder)[0]) == ERA_2025


def test_without_connections_the_flag_is_unknown(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    (folder / "Connections.csv").unlink()
    approaches, stats = read(folder)
    assert {a.sender_is_connection for a in approaches} == {None}
    assert stats.connections == 0


def test_empty_files_give_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "messages.csv").write_bytes(b"")
    (folder / "Invitations.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    approaches, stats = read(folder)
    assert approaches == []
    assert stats.rows_read == 0


# --- filtered rows ------------------------------------------------------------------------------------------


def test_system_texts_constant_lists_the_notices() -> None:
    assert "message request accepted" in le.SYSTEM_MESSAGE_TEXTS
    assert "linkedin member" in le.SPONSORED_SENDER_NAMES


HEADER_2025 = (
    "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,"
    "CONTENT,FOLDER,ATTACHMENTS,IS MESSAGE DRAFT,IS CONVERSATION DRAFT\n"
)
ADA_URL = "https://www.linkedin.com/in/ada-fictional-2b9a1c"


def row(
    cid: str,
    sender: str,
    slug: str,
    when: str,
    content: str,
    *,
    subject: str = "",
    folder: str = "INBOX",
    draft: str = "No",
    to: str = "Ada Fictional",
    to_url: str = ADA_URL,
) -> str:
    url = f"https://www.linkedin.com/in/{slug}" if slug else ""
    cells = [cid, "", sender, url, to, to_url, when, subject, content, folder, "", draft, "No"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def write_messages(tmp_path: Path, *rows: str) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "messages.csv").write_text(HEADER_2025 + "".join(rows), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("content", "counted"),
    [
        ("Message request accepted", "system_filtered"),
        ("  message request accepted.  ", "system_filtered"),
        ("Ada Fictional accepted your invitation", "system_filtered"),
        ("Mei Lin Zhao left the conversation", "system_filtered"),
        ("", "system_filtered"),
        ("Message request accepted? Great, so here is our offer", "messages"),
    ],
)
def test_system_rows(tmp_path: Path, content: str, counted: str) -> None:
    folder = write_messages(
        tmp_path, row("c1", "Mei Lin Zhao", "mei-lin-zhao-7b21", "2025-03-02 08:15:00 UTC", content)
    )
    approaches, stats = read(folder)
    assert getattr(stats, counted) == 1
    assert len(approaches) == (1 if counted == "messages" else 0)


def test_sponsored_only_without_a_url(tmp_path: Path) -> None:
    folder = write_messages(
        tmp_path,
        row("c1", "LinkedIn Member", "", "2025-01-18 07:00:00 UTC", "Executive MBA", subject="MBA"),
        row(
            "c2",
            "LinkedIn Member",
            "real-person-called-that",
            "2025-01-19 07:00:00 UTC",
            "Hello",
            subject="Hi",
        ),
    )
    approaches, stats = read(folder)
    assert stats.sponsored_filtered == 1
    assert [(a.sender.key, a.channel) for a in approaches] == [
        ("linkedin:real-person-called-that", Channel.LINKEDIN_INMAIL)
    ]


@pytest.mark.parametrize(("draft", "folder_name"), [("Yes", "INBOX"), ("true", "INBOX"), ("No", "DRAFT")])
def test_drafts_are_dropped(tmp_path: Path, draft: str, folder_name: str) -> None:
    folder = write_messages(
        tmp_path,
        row("c1", "Mei Lin Zhao", "mei-lin-zhao-7b21", "2025-03-02 08:15:00 UTC", "Hello Ada"),
        row("c1", "Ada Fictional", "ada-fictional-2b9a1c", "2025-03-03 08:15:00 UTC", "Half-writ",
            draft=draft, folder=folder_name, to="Mei Lin Zhao", to_url="https://www.linkedin.com/in/mei-lin-zhao-7b21"),
    )  # fmt: skip
    approaches, stats = read(folder)
    assert stats.drafts_dropped == 1
    assert [m.text for m in approaches[0].conversation.messages] == ["Hello Ada"]


def test_nul_characters_and_carriage_returns_never_reach_the_text(tmp_path: Path) -> None:
    content = "Hel\x00lo\r\nAda\rX"
    folder = write_messages(
        tmp_path, row("c1", "Mei\x00 Lin Zhao", "mei-lin-zhao-7b21", "2025-03-02 08:15:00 UTC", content)
    )
    approach = read(folder)[0][0]
    assert approach.first_message.text == "Hello\nAda\nX"
    assert approach.sender.name == "Mei Lin Zhao"


def test_inmail_folder_sets_the_channel(tmp_path: Path) -> None:
    folder = write_messages(
        tmp_path,
        row("c1", "Tom Recruiter", "tom-recruiter-88", "2025-01-20 14:03:22 UTC", "Hi", folder="INMAIL"),
    )
    assert read(folder)[0][0].channel is Channel.LINKEDIN_INMAIL


# --- dates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08 Feb 2026", datetime(2026, 2, 8, tzinfo=UTC)),
        ("8-Feb-26", datetime(2026, 2, 8, tzinfo=UTC)),
        ("2025-06-01 14:03:22 UTC", datetime(2025, 6, 1, 14, 3, 22, tzinfo=UTC)),
        ("1/29/26, 2:37 PM", datetime(2026, 1, 29, 14, 37, tzinfo=UTC)),
        ("1/29/26, 12:05 AM", datetime(2026, 1, 29, 0, 5, tzinfo=UTC)),
        ("12/1/25, 12:00 PM", datetime(2025, 12, 1, 12, 0, tzinfo=UTC)),
        ("2024/02/01 15:02:55 UTC", datetime(2024, 2, 1, 15, 2, 55, tzinfo=UTC)),
        ("1/29/2026 14:37", datetime(2026, 1, 29, 14, 37, tzinfo=UTC)),
        ("29/01/2026 14:37", datetime(2026, 1, 29, 14, 37, tzinfo=UTC)),
        ("2025-06-01 14:03", datetime(2025, 6, 1, 14, 3, tzinfo=UTC)),
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01T14:03:22+02:00", datetime(2025, 6, 1, 12, 3, 22, tzinfo=UTC)),
        ("2025/6/1 4:03:22 PM", datetime(2025, 6, 1, 16, 3, 22, tzinfo=UTC)),
        ("Feb 8, 2026", datetime(2026, 2, 8, tzinfo=UTC)),
        ("", None),
        ("yesterday", None),
        ("2025-13-01 10:00:00 UTC", None),
        ("2/30/25, 1:00 PM", None),
        ("1/29/26, 13:37 PM", None),
        ("31 Foo 2026", None),
        ("9" * 500, None),
    ],
)
def test_dates(text: str, expected: datetime | None) -> None:
    assert parse_linkedin_date(text) == expected


def test_unparseable_dates_keep_the_message(tmp_path: Path) -> None:
    folder = write_messages(
        tmp_path,
        row("c1", "Mei Lin Zhao", "mei-lin-zhao-7b21", "not a date", "Second, undated"),
        row("c1", "Mei Lin Zhao", "mei-lin-zhao-7b21", "2025-03-02 08:15:00 UTC", "First"),
    )
    approaches, stats = read(folder)
    assert stats.messages == 2
    assert [(m.text, m.sent_at) for m in approaches[0].conversation.messages] == [
        ("First", datetime(2025, 3, 2, 8, 15, tzinfo=UTC)),
        ("Second, undated", None),
    ]


def test_excel_resaved_dates_in_an_export(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    text = (folder / "messages.csv").read_text(encoding="utf-8")
    text = re.sub(
        r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):\d{2} UTC",
        lambda m: f"{int(m[2])}/{int(m[3])}/{m[1]} {int(m[4])}:{m[5]}",
        text,
    )
    (folder / "messages.csv").write_text(text, encoding="utf-8")
    approaches, _ = read(folder)
    assert summary(approaches) == ERA_2025
    tom = next(a for a in approaches if a.sender.key == TOM)
    assert tom.sent_at == datetime(2025, 1, 20, 14, 3, tzinfo=UTC)


# --- owner -------------------------------------------------------------------------------------------------


def test_owner_found_without_profile(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    (folder / "Profile.csv").unlink()
    approaches, _ = read(folder)
    assert summary(approaches) == ERA_2025
    assert approaches[0].recipient.key == ADA
    assert approaches[0].recipient.headline is None


def test_owner_found_when_profile_name_differs(tmp_path: Path) -> None:
    folder = copy_era("2020", tmp_path)
    (folder / "Profile.csv").write_text(
        "First Name,Last Name,Headline\nAda,Lovelace-Fictional,Quantum sensing researcher\n", encoding="utf-8"
    )
    approaches, _ = read(folder)
    assert summary(approaches) == ERA_2020
    assert approaches[0].recipient.key == ADA
    assert approaches[0].recipient.headline == "Quantum sensing researcher"


def test_owner_slug_from_recipient_urls_when_owner_never_wrote(tmp_path: Path) -> None:
    folder = write_messages(
        tmp_path,
        row("c1", "Mei Lin Zhao", "mei-lin-zhao-7b21", "2025-03-02 08:15:00 UTC", "Hello"),
        row("c2", "Tom Recruiter", "tom-recruiter-88", "2025-03-03 08:15:00 UTC", "Hi"),
    )
    approaches, _ = read(folder)
    assert {a.recipient.key for a in approaches} == {ADA}
    assert {a.sender.key for a in approaches} == {MEI, TOM}


def test_owner_started_conversation_with_a_prior_invitation_is_an_approach(tmp_path: Path) -> None:
    folder = write_messages(
        tmp_path,
        row("c1", "Ada Fictional", "ada-fictional-2b9a1c", "2025-03-03 08:15:00 UTC", "Thanks for the invite",
            to="Mei Lin Zhao", to_url="https://www.linkedin.com/in/mei-lin-zhao-7b21"),
    )  # fmt: skip
    (folder / "Invitations.csv").write_text(
        "From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl\n"
        f'Mei Lin Zhao,Ada Fictional,"3/1/25, 9:00 AM",Let us connect.,INCOMING,{MEI.replace("linkedin:", "https://www.linkedin.com/in/")},{ADA_URL}\n',
        encoding="utf-8",
    )  # fmt: skip
    approaches, stats = read(folder)
    assert summary(approaches) == {
        "li:c1": (MEI, INVITE, ["Let us connect.", "Thanks for the invite"], [T, F], None)
    }
    assert stats.outbound_skipped == 0


# --- streaming, limits and scattered rows ------------------------------------------------------------------


def interleave_messages(folder: Path) -> None:
    """Rewrite messages.csv taking a row from each conversation in turn, scattering every conversation."""
    rows = list(csv.reader(io.StringIO((folder / "messages.csv").read_text(encoding="utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    by_conversation: dict[str, list[list[str]]] = {}
    for r in body:
        by_conversation.setdefault(r[0], []).append(r)
    queues = list(by_conversation.values())
    mixed: list[list[str]] = []
    while any(queues):
        for q in queues:
            if q:
                mixed.append(q.pop(0))
    assert mixed != body
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *mixed])
    (folder / "messages.csv").write_text(out.getvalue(), encoding="utf-8")


def test_scattered_rows_are_regrouped(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    interleave_messages(folder)
    approaches, stats = read(folder)
    assert summary(approaches) == ERA_2025
    assert stats.as_dict() == STATS["2025"]


def test_scattered_rows_past_the_open_limit_become_continuations(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    interleave_messages(folder)
    approaches, stats = read(folder, max_open_conversations=1)
    ids = [a.id for a in approaches]
    assert len(ids) == len(set(ids))
    assert any("~" in i for i in ids)
    assert stats.messages == STATS["2025"]["messages"]


def test_messages_per_conversation_keep_the_earliest(tmp_path: Path) -> None:
    approaches, stats = read(FIXTURES / "era-2025", max_messages_per_conversation=2)
    mei = next(a for a in approaches if a.sender.key == MEI)
    assert [m.text for m in mei.conversation.messages] == [MEI_OPEN, ADA_TO_MEI]
    kept = sum(len(a.conversation.messages) for a in approaches)
    assert stats.messages_dropped > 0
    # a dropped row moves from ``messages`` to ``messages_dropped``: the row partition still adds up
    assert stats.messages + stats.messages_dropped == STATS["2025"]["messages"]
    assert kept <= stats.messages
    assert stats.truncated_fields == 0


def test_messages_dropped_are_counted_once_when_rows_are_scattered(tmp_path: Path) -> None:
    folder = copy_era("2025", tmp_path)
    interleave_messages(folder)
    _, stats = read(folder, max_messages_per_conversation=1)
    _, plain = read(FIXTURES / "era-2025", max_messages_per_conversation=1)
    assert stats.messages_dropped == plain.messages_dropped > 0
    assert stats.messages + stats.messages_dropped == STATS["2025"]["messages"]


def test_long_fields_are_truncated(tmp_path: Path) -> None:
    approaches, stats = read(FIXTURES / "era-2025", max_field_chars=20)
    mei = next(a for a in approaches if a.sender.key == MEI)
    assert mei.first_message.text == MEI_OPEN[:20]
    assert all(len(m.text) <= 20 for a in approaches for m in a.conversation.messages)
    # over 20 characters: 8 kept message texts (the system, draft and sponsored rows are not kept) and
    # both invitation notes; over 100: the 213- and 127-character messages and the 102-character note
    assert stats.truncated_fields == 10
    _, wide = read(FIXTURES / "era-2025", max_field_chars=100)
    assert wide.truncated_fields == 3
    assert stats.messages_dropped == stats.too_large_skipped == 0


def test_a_runaway_quoted_field_is_refused(tmp_path: Path) -> None:
    folder = write_messages(
        tmp_path, 'c1,,Mei,,Ada,,2025-01-01 10:00:00 UTC,,"never closed' + "x" * 300_000 + "\n"
    )
    with pytest.raises(InputError, match=r"messages\.csv line \d+: "):
        read(folder, max_field_chars=1000)


# --- recognising an export --------------------------------------------------------------------------------


def test_is_linkedin_export(tmp_path: Path) -> None:
    assert is_linkedin_export(FIXTURES / "era-2025")
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "MESSAGES.CSV").write_text(HEADER_2025, encoding="utf-8")
    assert is_linkedin_export(upper)
    only_invites = tmp_path / "invites"
    only_invites.mkdir()
    (only_invites / "invitations.csv").write_text("From,To,Sent At,Message,Direction\n", encoding="utf-8")
    assert is_linkedin_export(only_invites)
    nested = tmp_path / "Downloads"
    shutil.copytree(FIXTURES / "era-2020", nested / ZIP_FOLDER)
    assert is_linkedin_export(nested)
    deeper = tmp_path / "deeper"
    shutil.copytree(FIXTURES / "era-2020", deeper / "a" / "b")
    assert not is_linkedin_export(deeper)
    assert not is_linkedin_export(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_linkedin_export(empty)
    assert is_linkedin_export(zip_folder(FIXTURES / "era-2025", tmp_path / "a.zip", prefix=f"{ZIP_FOLDER}/"))
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("Connections.csv", "x")
        zf.writestr("a/b/messages.csv", "x")
    assert not is_linkedin_export(other)
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK\x03\x04 but not really a zip")
    assert not is_linkedin_export(fake)
    text = tmp_path / "messages.txt"
    text.write_text("hello")
    assert not is_linkedin_export(text)


def test_a_folder_without_an_export(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no LinkedIn messages\.csv or Invitations\.csv"):
        read(tmp_path)


# --- fuzzing -----------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def consume(path: Path) -> None:
    """Read an export; it may be refused with InputError, but whatever comes out must be well formed."""
    ids: set[str] = set()
    try:
        for approach in iter_linkedin_export(path, Settings(max_field_chars=2000), IngestStats()):
            assert approach.id not in ids
            ids.add(approach.id)
            assert approach.conversation.messages
            assert approach.first_message.inbound
            assert approach.first_message.sender_key == approach.sender.key
            for m in approach.conversation.messages:
                assert m.sent_at is None or m.sent_at.tzinfo is not None
                assert "\x00" not in m.text and "\r" not in m.text
            assert "\x00" not in approach.sender.name
    except InputError:
        pass


def fuzz_export(tmp_path: Path, data: bytes, as_zip: bool) -> Path:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "messages.csv").write_bytes(data)
    if not as_zip:
        return folder
    return zip_folder(folder, tmp_path / "fuzz.zip")


@FUZZ
@given(data=st.binary(max_size=2000), as_zip=st.booleans())
def test_fuzz_arbitrary_bytes(tmp_path: Path, data: bytes, as_zip: bool) -> None:
    consume(fuzz_export(tmp_path, data, as_zip))


@FUZZ
@given(
    member=st.sampled_from(["Invitations.csv", "Connections.csv", "Profile.csv"]),
    data=st.one_of(
        st.binary(max_size=1500), st.text(max_size=1500).map(lambda t: t.encode("utf-8", "replace"))
    ),
    as_zip=st.booleans(),
)
def test_fuzz_the_other_files(tmp_path: Path, member: str, data: bytes, as_zip: bool) -> None:
    folder = tmp_path / "other"
    shutil.copytree(FIXTURES / "era-2025", folder, dirs_exist_ok=True)
    (folder / member).write_bytes(data)
    consume(zip_folder(folder, tmp_path / "other.zip") if as_zip else folder)


CELL = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "c1", "c2", "LinkedIn Member", "Ada Fictional", "Mei Lin Zhao", "Yes", "DRAFT",
                     "Message request accepted", "INMAIL", "2025-06-01 14:03:22 UTC", "1/29/26, 2:37 PM",
                     "31 Foo 2026", "https://www.linkedin.com/in/x",
                     "https://www.linkedin.com/in/ada;https://linkedin.com/in/y",
                     '"', '""', "\r\n", "a,b;c\td", "\ufeff", "\x00"]),
)  # fmt: skip
OPTIONAL_COLUMNS = [c for c in le.MESSAGE_COLUMNS if c not in le.MESSAGE_REQUIRED]


@st.composite
def headers(draw: st.DrawFn) -> list[str]:
    """Mostly valid headers (all required columns, some optional, any order), sometimes broken ones."""
    columns = list(le.MESSAGE_REQUIRED)
    columns += draw(st.lists(st.sampled_from([*OPTIONAL_COLUMNS, "junk"]), unique=True, max_size=10))
    if draw(st.integers(0, 9)) == 0:
        columns.pop(draw(st.integers(0, len(columns) - 1)))
    return list(draw(st.permutations(columns)))


@FUZZ
@given(
    columns=headers(),
    rows=st.lists(st.lists(CELL, min_size=3, max_size=15), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    as_zip=st.booleans(),
)
def test_fuzz_csv_shaped_input(
    tmp_path: Path, columns: list[str], rows: list[list[str]], delimiter: str, encoding: str, as_zip: bool
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    try:
        data = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = out.getvalue().encode("utf-8", "surrogatepass")
    consume(fuzz_export(tmp_path, data, as_zip))


# --- memory and speed -----------------------------------------------------------------------------------

_MEASURE = """
import json, os, sys, time
from pathlib import Path
from lurewatch.ingest.linkedin_export import iter_linkedin_export
from lurewatch.model import IngestStats
from lurewatch.settings import Settings

def rss_kib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

base = peak = rss_kib()
stats = IngestStats()
start = time.perf_counter()
count = 0
for _ in iter_linkedin_export(Path(sys.argv[1]), Settings(), stats):
    count += 1
    if count % 2000 == 0:
        peak = max(peak, rss_kib())
elapsed = time.perf_counter() - start
peak = max(peak, rss_kib())
result = {"approaches": count, "messages": stats.messages, "seconds": elapsed, "grew_kib": peak - base}
print(json.dumps(result))
"""


def measure(target: Path, n: int) -> dict[str, float]:
    """Write an export of ``n`` messages, then read it in a fresh interpreter and report its peak memory."""
    write_large_export(target, n, seed=7)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(target)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc to read resident memory")
def test_memory_stays_flat_on_a_200k_message_export(tmp_path: Path) -> None:
    small = measure(tmp_path / "small.zip", 20_000)
    large = measure(tmp_path / "large.zip", 200_000)
    assert small["messages"] == 20_000
    assert large["messages"] == 200_000
    rate = large["messages"] / large["seconds"]
    grew, grew_small = large["grew_kib"] / 1024, small["grew_kib"] / 1024
    print(
        f"\n200k-message export: {large['seconds']:.1f} s, {rate:,.0f} messages/s, "
        f"peak RSS grew {grew:.1f} MiB (20k: {grew_small:.1f} MiB)"
    )
    # Holding 200k messages would take hundreds of MiB; streaming adds only a few over the small export.
    assert large["grew_kib"] < 64 * 1024
    assert large["grew_kib"] - small["grew_kib"] < 32 * 1024
