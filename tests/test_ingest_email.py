"""E-mail readers (.eml, folder of .eml, mbox) and the HTML-to-text converter they use."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.errors import InputError
from lurewatch.ingest import email as em
from lurewatch.ingest.htmltext import html_to_text
from lurewatch.model import Approach, Channel, IngestStats
from lurewatch.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "email"
SETTINGS = Settings()


def read_eml(name: str, cfg: Settings = SETTINGS) -> tuple[list[Approach], IngestStats]:
    stats = IngestStats()
    return list(em.iter_eml_file(FIXTURES / name, cfg, stats)), stats


def read_mbox(path: Path, cfg: Settings = SETTINGS) -> tuple[list[Approach], IngestStats]:
    stats = IngestStats()
    return list(em.iter_mbox(path, cfg, stats)), stats


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- single messages ---------------------------------------------------------------------------


def test_plain_text_email() -> None:
    approaches, stats = read_eml("plain.eml")
    assert len(approaches) == 1
    a = approaches[0]
    assert a.id == "20250311.091402.4471@talent-bridge-partners.example"
    assert a.channel is Channel.EMAIL
    assert a.sender.key == "email:h.lindqvist@talent-bridge-partners.example"
    assert a.sender.name == "Henrik Lindqvist"
    assert a.sender.email == "h.lindqvist@talent-bridge-partners.example"
    assert a.recipient.key == "email:ana.costa@lab.example.org"
    assert a.recipient.name == "Dr. Ana Costa"
    assert a.source == str(FIXTURES / "plain.eml")
    m = a.first_message
    assert m.subject == "Advisory opportunity in quantum sensing"
    assert m.sent_at == datetime(2025, 3, 11, 8, 14, 2, tzinfo=UTC)
    assert m.inbound is True
    assert m.channel is Channel.EMAIL
    assert m.conversation_id == a.id
    assert m.sender_key == a.sender.key
    assert m.recipient_keys == ("email:ana.costa@lab.example.org",)
    assert "continue this on WhatsApp? My number is +44 7700 900123." in m.text
    assert m.text.startswith("Dear Dr. Costa,\n\nI represent a client")
    assert (stats.rows_read, stats.messages, stats.outbound_skipped) == (1, 1, 0)


def test_html_only_email_keeps_text_and_link_targets_but_no_active_content() -> None:
    (a,), _ = read_eml("html_only.eml")
    text = a.first_message.text
    assert "Dear candidate," in text
    assert "Please complete the technical assessment before Friday & send it back." in text
    # the visible URL and the real target differ: both must reach the screener
    assert (
        "https://careers.bigcorp.example/assessment [https://cdn.evil-files.example/assessment.zip]" in text
    )
    for hidden in (
        "HIDDEN_TITLE",
        "HIDDEN_STYLE",
        "SCRIPT_PAYLOAD",
        "steal.example",
        "ONLOAD_PAYLOAD",
        "ONERROR_PAYLOAD",
        "alert",
        "NOSCRIPT_TEXT",
        "SVG_TEXT",
        "TEMPLATE_TEXT",
        "SECOND_SCRIPT_PAYLOAD",
        "<",
    ):
        assert hidden not in text
    assert a.sender.name == "Global Talent Desk"
    assert a.recipient.name == ""  # the To header carries no display name


def test_multipart_alternative_prefers_plain_text() -> None:
    (a,), _ = read_eml("alternative.eml")
    assert a.first_message.text == "PLAIN VERSION: we would be honoured to host you at a closed roundtable."
    assert a.first_message.sent_at == datetime(2025, 3, 13, 15, 0, tzinfo=UTC)


def test_html_part_used_when_plain_part_is_empty() -> None:
    data = (
        b"From: a@x.example\r\nTo: b@y.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\n   \r\n"
        b"--B\r\nContent-Type: text/html\r\n\r\n<p>Only <i>HTML</i> here</p>\r\n--B--\r\n"
    )
    parsed = em.parse_email_bytes(data, "t", SETTINGS)
    assert parsed.text == "Only HTML here"


def test_encoded_headers_and_quoted_printable_body() -> None:
    (a,), _ = read_eml("encoded_headers.eml")
    assert a.sender.name == "Jörg Müller"
    assert a.sender.key == "email:j.mueller@beratung.example"
    assert a.recipient.name == "Ελένη Παπαδοπούλου"
    assert a.first_message.subject == "Einladung: Beiratsposition – vertraulich"
    assert "wir würden Sie gern für eine vertrauliche Beiratsposition gewinnen." in a.first_message.text
    assert a.first_message.text.endswith("Mit freundlichen Grüßen\nJörg Müller")


def test_attachment_names_recorded_and_payloads_not_decoded() -> None:
    (a,), _ = read_eml("attachment.eml")
    m = a.first_message
    assert m.attachments == ("Stellenbeschreibung Übersicht.pdf", "skills_test.zip")
    assert m.text.startswith("Hi Ana, the job description and a short skills test are attached.")
    assert "JVBERi0" not in m.text and "%PDF" not in m.text


def test_broken_date_missing_message_id_and_lying_charset() -> None:
    (a,), _ = read_eml("bad_date_wrong_charset.eml")
    raw = (FIXTURES / "bad_date_wrong_charset.eml").read_bytes()
    assert a.id == "eml:" + hashlib.sha256(raw).hexdigest()[:16]
    assert a.first_message.id == a.id
    assert a.first_message.sent_at is None
    # declared utf-8, actually Latin-1: decoded, not replaced with U+FFFD
    assert a.first_message.text.startswith("Grüße aus München!")
    assert a.sender.name == "Zhang Wei"


def test_utf8_mislabelled_as_latin1_is_read_as_utf8() -> None:
    data = (
        "From: x@y.example\nTo: z@y.example\nSubject: s\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: 8bit\n\nGrüße\n"
    ).encode()
    assert em.parse_email_bytes(data, "t", SETTINGS).text == "Grüße"


def test_unknown_charset_and_broken_encoded_words_do_not_raise() -> None:
    data = (
        b"From: =?x-unknown?q?J=F6rg?= <j@x.example>\nTo: a@b.example\n"
        b"Subject: =?utf-8?b?!!!notbase64?= and =?utf-8?q?ok=C3=A9?=\n"
        b"Content-Type: text/plain; charset=x-made-up\n\ncaf\xe9\n"
    )
    parsed = em.parse_email_bytes(data, "t", SETTINGS)
    assert parsed.text == "café"
    assert parsed.headers.sender is not None and parsed.headers.sender.email == "j@x.example"
    assert "ok" in parsed.headers.subject


def test_raw_utf8_headers_are_decoded() -> None:
    data = "From: Jörg Müller <j@x.example>\nTo: a@b.example\nSubject: Grüße\n\nbody\n".encode()
    parsed = em.parse_email_bytes(data, "t", SETTINGS)
    assert parsed.headers.subject == "Grüße"
    assert parsed.headers.sender == em.EmailAddress("Jörg Müller", "j@x.example")


def test_address_lists_and_groups() -> None:
    data = (
        b'From: "Doe, John" <john@x.example>\nTo: undisclosed-recipients:;\n'
        b"Cc: A <a@y.example>, b@y.example, =?utf-8?q?C=C3=A9line?= <c@y.example>\nSubject: s\n\nhi\n"
    )
    h = em.parse_email_bytes(data, "t", SETTINGS).headers
    assert h.sender == em.EmailAddress("Doe, John", "john@x.example")
    assert h.to == ()
    assert [(a.name, a.email) for a in h.cc] == [
        ("A", "a@y.example"),
        ("", "b@y.example"),
        ("Céline", "c@y.example"),
    ]


def test_long_and_hostile_address_headers_are_bounded() -> None:
    many = ", ".join(f'"Person (x) {i}" <p{i}@x.example>' for i in range(400))
    h = em.parse_email_bytes(f"From: a@b.example\nTo: {many}\n\nhi\n".encode(), "t", SETTINGS).headers
    assert len(h.to) == 200
    assert h.to[0] == em.EmailAddress("Person (x) 0", "p0@x.example")
    # nested comments make getaddresses recurse too deep: the bare addresses are still found
    nested = "(((" * 3000 + "a@b.example, c@d.example"
    h = em.parse_email_bytes(f"From: x@y.example\nTo: {nested}\n\nhi\n".encode(), "t", SETTINGS).headers
    assert [a.email for a in h.to] == ["a@b.example", "c@d.example"]
    start = time.perf_counter()
    for hostile in ('"' * 16_000, "\\" * 16_000, "@" * 16_000, "," * 16_000):
        em.parse_email_bytes(f"From: {hostile}\nTo: {hostile}\nCc: {hostile}\n\nhi\n".encode(), "t", SETTINGS)
    assert time.perf_counter() - start < 5


def test_control_characters_removed_from_text() -> None:
    data = b"From: a@x.example\nTo: b@x.example\nSubject: s\x07ub\n\nline one\x00\x1b[31m\ttab\nline two\n"
    parsed = em.parse_email_bytes(data, "t", SETTINGS)
    assert parsed.text == "line one[31m\ttab\nline two"
    assert parsed.headers.subject == "sub"


def test_references_and_in_reply_to_parsed() -> None:
    data = b"From: a@x.example\nMessage-ID: <m3@x>\nIn-Reply-To: <m2@x>\nReferences: <m1@x>\n <m2@x>\n\nhi\n"
    h = em.parse_email_bytes(data, "t", SETTINGS).headers
    assert (h.message_id, h.in_reply_to, h.references) == ("m3@x", ("m2@x",), ("m1@x", "m2@x"))


def test_not_an_email_and_empty_input_raise_input_error() -> None:
    with pytest.raises(InputError, match="no e-mail headers"):
        em.parse_email_bytes(b"just some words\nand more words\n", "x.eml", SETTINGS)
    with pytest.raises(InputError, match="empty"):
        em.parse_email_bytes(b" \n\n", "x.eml", SETTINGS)


def test_oversized_single_eml_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path / "big.eml", b"From: a@x.example\nSubject: s\n\n" + b"x" * 5000)
    with pytest.raises(InputError) as info:
        list(em.iter_eml_file(path, Settings(max_email_bytes=1000), IngestStats()))
    assert info.value.source == str(path)
    assert "1,000-byte limit" in info.value.problem


def test_empty_eml_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        list(em.iter_eml_file(write(tmp_path / "e.eml", b""), SETTINGS, IngestStats()))


def nested_multipart(depth: int) -> bytes:
    head = b"From: a@x.example\nTo: b@x.example\nSubject: nest\n"
    parts = [b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)]
    body = b"".join(parts) + b"Content-Type: text/plain\n\ndeep text\n"
    return head + body + b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))


def test_nested_multipart_read_to_a_bounded_depth() -> None:
    assert em.parse_email_bytes(nested_multipart(5), "t", SETTINGS).text == "deep text"
    # past the walk's depth bound the text is not reached, but the message still parses
    assert em.parse_email_bytes(nested_multipart(200), "t", SETTINGS).text == ""
    # nesting deep enough to exhaust the parser's recursion is refused, not a crash
    with pytest.raises(InputError, match="cannot parse"):
        em.parse_email_bytes(nested_multipart(3000), "t", SETTINGS)


def test_many_attachments_recorded_up_to_a_bound() -> None:
    parts = b"".join(
        b"--B\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="f%d.bin"\n\nx\n' % i
        for i in range(300)
    )
    data = (
        b'From: a@x.example\nSubject: s\nContent-Type: multipart/mixed; boundary="B"\n\n' + parts + b"--B--\n"
    )
    parsed = em.parse_email_bytes(data, "t", SETTINGS)
    assert 0 < len(parsed.attachments) <= 200
    assert parsed.attachments[0] == "f0.bin"


def test_text_is_truncated_to_max_field_chars() -> None:
    data = b"From: a@x.example\nSubject: s\n\n" + b"word " * 1000
    parsed = em.parse_email_bytes(data, "t", Settings(max_field_chars=100))
    assert len(parsed.text) <= 100
    assert parsed.truncated


def test_self_addressed_eml_is_outbound(tmp_path: Path) -> None:
    approaches, stats = read_eml("folder/sub/self-note.eml")
    assert approaches == []
    assert stats.outbound_skipped == 1


# --- folders -----------------------------------------------------------------------------------


def test_folder_of_eml_sorted_recursive_owner_per_file() -> None:
    stats = IngestStats()
    approaches = list(em.iter_eml_folder(FIXTURES / "folder", SETTINGS, stats))
    assert [a.id for a in approaches] == ["folder-a@consult.example", "folder-b@conference.example"]
    assert [Path(a.source).name for a in approaches] == ["a.eml", "b.eml"]
    assert all(a.recipient.key == "email:ana.costa@lab.example.org" for a in approaches)
    assert stats.rows_read == 3  # notes.txt is not an .eml
    assert stats.outbound_skipped == 1  # self-note.eml


def test_folder_does_not_follow_symlinks_and_skips_bad_files(tmp_path: Path) -> None:
    root = tmp_path / "mail"
    shutil.copytree(FIXTURES / "folder", root)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(FIXTURES / "plain.eml", outside / "secret.eml")
    os.symlink(outside, root / "linked-dir")
    os.symlink(outside / "secret.eml", root / "linked.eml")
    write(root / "broken.eml", b"no headers at all, just text\n")
    write(root / "UPPER.EML", (FIXTURES / "alternative.eml").read_bytes())
    write(root / "huge.eml", b"From: a@x.example\nSubject: s\n\n" + b"x" * 5000)
    stats = IngestStats()
    approaches = list(em.iter_eml_folder(root, Settings(max_email_bytes=4000), stats))
    ids = [a.id for a in approaches]
    assert ids == ["alt-001@think-tank.example", "folder-a@consult.example", "folder-b@conference.example"]
    assert "20250311.091402.4471@talent-bridge-partners.example" not in ids
    assert stats.empty_skipped == 1  # broken.eml
    assert stats.too_large_skipped == 1  # huge.eml
    assert (stats.truncated_fields, stats.messages_dropped) == (0, 0)


def test_folder_symlink_root_refused(tmp_path: Path) -> None:
    os.symlink(FIXTURES / "folder", tmp_path / "link")
    with pytest.raises(InputError):
        list(em.iter_eml_folder(tmp_path / "link", SETTINGS, IngestStats()))


# --- mbox --------------------------------------------------------------------------------------


def check_threads_mbox(approaches: list[Approach], stats: IngestStats) -> None:
    # Bob's "AW: Lunch on Friday?" has no In-Reply-To: only the subject fallback keeps it in the
    # owner-started thread; were it not grouped it would surface as a second approach.
    assert len(approaches) == 1
    a = approaches[0]
    assert a.id == "t1m1@talent-bridge-partners.example"
    assert a.sender.key == "email:h.lindqvist@talent-bridge-partners.example"
    assert a.recipient.key == "email:ana.costa@lab.example.org"
    assert a.recipient.name == "Ana Costa"
    messages = a.conversation.messages
    assert [m.id for m in messages] == [
        "t1m1@talent-bridge-partners.example",
        "t1m2@lab.example.org",
        "t1m3@talent-bridge-partners.example",
    ]
    assert [m.inbound for m in messages] == [True, False, True]
    assert [m.sent_at.day for m in messages if m.sent_at] == [3, 5, 6]
    assert all(m.conversation_id == a.id for m in messages)
    # ">From" un-quoted; an unquoted "From " inside a paragraph does not split the message
    assert messages[0].text == (
        "Dear Dr. Costa,\nFrom the outset I should say my client pays well.\n"
        "From what I hear your group is the best in Europe."
    )
    assert messages[1].sender_key == "email:ana.costa@lab.example.org"
    assert stats.rows_read == 5
    assert stats.messages == 3
    assert stats.outbound_skipped == 1


def test_mbox_threads_owner_and_from_quoting() -> None:
    check_threads_mbox(*read_mbox(FIXTURES / "threads.mbox"))


def test_mbox_with_crlf_line_endings(tmp_path: Path) -> None:
    data = (FIXTURES / "threads.mbox").read_bytes().replace(b"\n", b"\r\n")
    check_threads_mbox(*read_mbox(write(tmp_path / "crlf.mbox", data)))


def test_mbox_split_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tiny read chunks put every separator across a chunk boundary at some point
    monkeypatch.setattr(em, "_READ_CHUNK", 3)
    check_threads_mbox(*read_mbox(FIXTURES / "threads.mbox"))


def mbox_message(
    msg_id: str, sender: str, to: str, subject: str, day: int, refs: str = "", body: str = "hello"
) -> bytes:
    ref_headers = f"In-Reply-To: <{refs}>\nReferences: <{refs}>\n" if refs else ""
    return (
        f"From {sender} Mon Mar  3 09:00:00 2025\nMessage-ID: <{msg_id}>\n{ref_headers}"
        f"Date: Mon, {day:02d} Mar 2025 09:00:00 +0000\nFrom: {sender}\nTo: {to}\n"
        f"Subject: {subject}\n\n{body}\n\n"
    ).encode()


OWNER = "owner@lab.example"


def test_mbox_reply_before_parent_and_duplicates(tmp_path: Path) -> None:
    data = b"".join(
        [
            mbox_message("a2", OWNER, "x@ext.example", "Re: A", 2, refs="a1"),  # reply stored first
            mbox_message("a1", "x@ext.example", OWNER, "A", 1),
            mbox_message("a1", "x@ext.example", OWNER, "A", 1),  # duplicate copy
            mbox_message("b1", "y@ext.example", OWNER, "B", 3),
        ]
    )
    approaches, stats = read_mbox(write(tmp_path / "m.mbox", data))
    assert [a.id for a in approaches] == ["a1", "b1"]
    assert [m.id for m in approaches[0].conversation.messages] == ["a1", "a2"]
    assert [m.inbound for m in approaches[0].conversation.messages] == [True, False]
    assert stats.rows_read == 4


def test_mbox_open_thread_cap_closes_oldest(tmp_path: Path) -> None:
    data = b"".join(
        [
            mbox_message("a1", "x@ext.example", OWNER, "Alpha", 1),
            mbox_message("b1", "y@ext.example", OWNER, "Beta", 2),
            mbox_message("a2", "x@ext.example", OWNER, "Re: Alpha", 3, refs="a1"),
        ]
    )
    path = write(tmp_path / "m.mbox", data)
    grouped, _ = read_mbox(path)
    assert [len(a.conversation.messages) for a in grouped] == [2, 1]
    # with one open thread allowed, "a1" is closed when "b1" arrives and its late reply stands alone
    split, _ = read_mbox(path, Settings(max_open_conversations=1))
    assert [a.id for a in split] == ["a1", "b1", "a2"]


def test_mbox_oversized_and_empty_messages_are_counted(tmp_path: Path) -> None:
    data = b"".join(
        [
            mbox_message("big", "x@ext.example", OWNER, "Big", 1, body="x" * 5000),
            mbox_message("ok", "y@ext.example", OWNER, "Fine", 2),
            b"From nobody Mon Mar  3 09:00:00 2025\n\n\n",
            b"From junk Mon Mar  3 09:00:00 2025\nthis is no header block\n\n",
        ]
    )
    approaches, stats = read_mbox(write(tmp_path / "m.mbox", data), Settings(max_email_bytes=1000))
    assert [a.id for a in approaches] == ["ok"]
    assert stats.rows_read == 4
    assert stats.too_large_skipped == 1
    assert stats.empty_skipped == 2


def test_mbox_cut_texts_and_dropped_messages_are_counted(tmp_path: Path) -> None:
    data = b"".join(
        [
            mbox_message("a1", "x@ext.example", OWNER, "A", 1, body="word " * 100),
            mbox_message("a2", OWNER, "x@ext.example", "Re: A", 2, refs="a1"),
            mbox_message("a3", "x@ext.example", OWNER, "Re: A", 3, refs="a2", body="word " * 100),
            mbox_message("b1", "y@ext.example", OWNER, "B", 4),
        ]
    )
    cfg = Settings(max_field_chars=50, max_messages_per_conversation=2)
    approaches, stats = read_mbox(write(tmp_path / "m.mbox", data), cfg)
    assert [[m.id for m in a.conversation.messages] for a in approaches] == [["a1", "a2"], ["b1"]]
    assert stats.messages == 3
    assert stats.messages_dropped == 1  # a3: counted once, never also as a message
    assert stats.truncated_fields == 1  # a1 only; a3 was dropped before it counted
    assert stats.too_large_skipped == 0


def test_mbox_owner_is_the_most_frequent_recipient(tmp_path: Path) -> None:
    data = b"".join(
        [
            mbox_message("1", "a@ext.example", OWNER, "One", 1),
            mbox_message("2", "b@ext.example", OWNER, "Two", 2),
            mbox_message("3", OWNER, "c@ext.example", "Three", 3),
        ]
    )
    approaches, stats = read_mbox(write(tmp_path / "m.mbox", data))
    assert [a.id for a in approaches] == ["1", "2"]
    assert all(a.recipient.key == f"email:{OWNER}" for a in approaches)
    assert stats.outbound_skipped == 1


def test_mbox_must_start_with_from_line(tmp_path: Path) -> None:
    path = write(tmp_path / "x.mbox", (FIXTURES / "plain.eml").read_bytes())
    with pytest.raises(InputError, match="does not start with a 'From ' line"):
        read_mbox(path)


def test_mbox_over_file_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "x.mbox", (FIXTURES / "threads.mbox").read_bytes())
    with pytest.raises(InputError, match="LUREWATCH_MAX_FILE_BYTES"):
        read_mbox(path, Settings(max_file_bytes=100))


def test_mbox_reads_bounded_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a message body never passes through the splitter's buffer in full
    seen: list[int] = []
    original = em._mbox_spans

    class Recording:
        def __init__(self, fh: BinaryIO) -> None:
            self._fh = fh

        def read(self, n: int = -1) -> bytes:
            assert n != -1, "the splitter must never read a whole file"
            seen.append(n)
            return self._fh.read(n)

    def spying(fh: BinaryIO) -> Iterator[tuple[int, int]]:
        return original(Recording(fh))  # type: ignore[arg-type]

    monkeypatch.setattr(em, "_mbox_spans", spying)
    data = mbox_message("big", "x@ext.example", OWNER, "Big", 1, body="y" * 300_000)
    approaches, _ = read_mbox(write(tmp_path / "m.mbox", data))
    assert len(approaches) == 1 and len(approaches[0].first_message.text) == 100_000
    assert seen and max(seen) <= 1 << 20


# --- sniffers ----------------------------------------------------------------------------------


def test_sniffers(tmp_path: Path) -> None:
    assert em.looks_like_mbox(FIXTURES / "threads.mbox")
    assert not em.looks_like_eml(FIXTURES / "threads.mbox")
    for name in ("plain.eml", "html_only.eml", "attachment.eml", "bad_date_wrong_charset.eml"):
        assert em.looks_like_eml(FIXTURES / name), name
        assert not em.looks_like_mbox(FIXTURES / name), name
    assert not em.looks_like_eml(FIXTURES / "folder" / "notes.txt")
    assert not em.looks_like_eml(write(tmp_path / "c.csv", b"a,b,c\n1,2,3\n"))
    assert not em.looks_like_eml(write(tmp_path / "h.txt", b"Note: this is not mail\n\nbody\n"))
    assert not em.looks_like_mbox(tmp_path / "missing")
    assert not em.looks_like_eml(tmp_path / "missing")


# --- HTML to text ------------------------------------------------------------------------------


def test_html_blocks_entities_and_whitespace() -> None:
    html = (
        "<div>One&nbsp;&amp;   two</div>\n  <p>Three<br>Four</p><ul>\n<li>a</li> <li>b</li></ul>"
        "<table><tr><td>c</td><td>d</td></tr></table><p>x<br><br><br><br>y</p>"
    )
    assert html_to_text(html, 1000) == "One & two\n\nThree\nFour\n\na\nb\n\nc d\n\nx\n\ny"


def test_html_links() -> None:
    html = (
        '<a href="https://login.bank.example/">Your bank</a> '
        '<a href="https://same.example/">https://same.example</a> '
        '<a href="mailto:hr@corp.example">hr@corp.example</a> '
        '<a href="javascript:steal()">click</a> '
        '<a href="#top">top</a> '
        '<a href="https://img.example/x"><img src="x.png"></a>'
    )
    assert html_to_text(html, 1000) == (
        "Your bank [https://login.bank.example/] https://same.example hr@corp.example click top "
        "[https://img.example/x]"
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<head><title>T</title>visible<p>para", "visible\n\npara"),
        ("<html><head><meta charset=utf-8><div>body text</div>", "body text"),
        ("before<img src=x onerror=\"alert('x')", "before"),
        ('text <a title="x" y', "text"),
        ("keep<!-- hidden <script>X</script> never closed", "keep"),
        ("a<![foo[ bar ]]>b", "ab"),
        ("<script/>var secret = 1;</script>after", "after"),
        ("<SCRIPT type=text/javascript>x()</SCRIPT >shown", "shown"),
        ("<svg><svg></svg><text>in svg</text></svg>out", "out"),
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>"),
        ("x\u200by\u00adz\ufeff", "xyz"),
        ("a\x00b\x1bc", "abc"),
        ("", ""),
    ],
)
def test_html_malformed_inputs(html: str, expected: str) -> None:
    assert html_to_text(html, 1000) == expected


def test_html_output_and_work_are_bounded() -> None:
    assert len(html_to_text("<p>" + "word " * 100_000, 500)) <= 500
    start = time.perf_counter()
    for hostile in ("<" * 300_000, "<a " * 100_000, "</" * 150_000, "<!--" + "<a" * 150_000, "&#" * 150_000):
        assert len(html_to_text(hostile, 1000)) <= 1000
    assert time.perf_counter() - start < 10
    assert html_to_text("<p>x</p>", 0) == ""


# --- property tests ----------------------------------------------------------------------------

MARKER = "SCRIPTMARKER"
_filler_text = st.text(
    alphabet=st.characters(blacklist_characters="<>&\"'", blacklist_categories=("Cs",)), max_size=20
)
_filler_tags = st.sampled_from(
    [
        "<p>", "</p>", "<div class=\"x\">", "</div>", "<br>", "<br/>", "<b>", "</b>",
        "<a href=\"https://x.example\">", "</a>", "<svg>", "</svg>", "<!-- c -->", "<template>",
        "</template>",
        "&amp;", "&lt;", "<td>", "<table>", "</script>", "<style>p{}</style>", "<head>", "</head>", "<body>",
        "<noscript>", "</noscript>", "<img src=x>",
    ]
)  # fmt: skip
_script_open = st.sampled_from(
    [
        "<script>",
        "<SCRIPT type='text/javascript'>",
        "<script/>",
        "<script\nsrc=x>",
        "<svg><script>",
        "<scRipt >",
    ]
)
_script_close = st.sampled_from(["</script>", "</SCRIPT>", "</script >", ""])


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(st.one_of(_filler_text, _filler_tags), max_size=8),
    after=st.lists(st.one_of(_filler_text, _filler_tags), max_size=8),
    opening=_script_open,
    closing=_script_close,
    inner=_filler_text,
)
def test_html_never_returns_script_content(
    before: list[str], after: list[str], opening: str, closing: str, inner: str
) -> None:
    html = "".join(before) + opening + inner + MARKER + inner + closing + "".join(after)
    assert MARKER not in html_to_text(html, 10_000)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=1, max_value=300))
def test_html_arbitrary_text_never_raises(html: str, limit: int) -> None:
    out = html_to_text(html, limit)
    assert len(out) <= limit
    assert "\x00" not in out


_header_names = st.sampled_from(
    [b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"References", b"Content-Type",
     b"In-Reply-To", b"Content-Transfer-Encoding", b"MIME-Version", b"Delivered-To"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(_header_names, st.binary(max_size=60)), max_size=8),
    body=st.binary(max_size=300),
    raw=st.binary(max_size=300),
)
def test_parse_email_bytes_never_raises_anything_but_input_error(
    headers: list[tuple[bytes, bytes]], body: bytes, raw: bytes
) -> None:
    structured = b"".join(name + b": " + value + b"\n" for name, value in headers) + b"\n" + body
    for data in (structured, raw):
        try:
            parsed = em.parse_email_bytes(data, "fuzz", SETTINGS)
        except InputError:
            continue
        assert isinstance(parsed.text, str) and len(parsed.text) <= SETTINGS.max_field_chars
        assert parsed.headers.date is None or parsed.headers.date.tzinfo is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=80),
            st.sampled_from(
                [b"\n\nFrom x Mon\n", b"\r\n\r\nFrom y\r\n", b"Message-ID: <a@b>\n", b"References: <a@b>\n",
                 b"From: o@x.example\n", b"To: o@x.example\n", b"Subject: Re: hi\n", b"\n>From z\n", b"\n\n"]
            ),
        ),
        max_size=12,
    )
)  # fmt: skip
def test_iter_mbox_never_raises_anything_but_input_error(chunks: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "f.mbox", b"From fuzz Mon Jan  1 00:00:00 2024\n" + b"".join(chunks))
        stats = IngestStats()
        try:
            approaches = list(em.iter_mbox(path, SETTINGS, stats))
        except InputError:
            return
        assert all(a.channel is Channel.EMAIL for a in approaches)
        assert len(approaches) <= stats.rows_read
