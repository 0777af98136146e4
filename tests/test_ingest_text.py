"""Pasted text: decoding piped bytes and reading one pasted message as an approach."""

from __future__ import annotations

import codecs
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.errors import InputError
from lurewatch.ingest.text import approach_from_text, clean_text, decode_input_bytes
from lurewatch.model import Channel
from lurewatch.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "email"


# --- decode_input_bytes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "Grüße, 你好".encode(),
        codecs.BOM_UTF8 + "Grüße, 你好".encode(),
        "Grüße, 你好".encode("utf-16"),  # native order, with BOM
        codecs.BOM_UTF16_LE + "Grüße, 你好".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Grüße, 你好".encode("utf-16-be"),
    ],
)
def test_decode_accepts_utf8_and_utf16_with_bom(data: bytes) -> None:
    assert decode_input_bytes(data, "<stdin>") == "Grüße, 你好"


@pytest.mark.parametrize(
    "data",
    [
        "Grüße".encode("latin-1"),
        "Grüße".encode("utf-16-le"),  # UTF-16 without a BOM is not guessed
        b"\xff\xfe\x00\xd8",  # BOM then a lone surrogate
        b"ok\x80",
    ],
)
def test_decode_rejects_other_bytes(data: bytes) -> None:
    with pytest.raises(InputError) as info:
        decode_input_bytes(data, "paste.txt")
    assert info.value.source == "paste.txt"
    assert "UTF-" in info.value.problem


def test_decode_empty_is_empty_text() -> None:
    assert decode_input_bytes(b"", "<stdin>") == ""


# --- approach_from_text ------------------------------------------------------------------------


def test_plain_paste_is_one_inbound_message_from_an_unknown_sender() -> None:
    text = "Hello Dr. Costa,\n\nI am recruiting for a think tank.\tPaid reports, remote.\n"
    a = approach_from_text(text)
    cleaned = text.strip()
    assert a.id == "pasted:" + hashlib.sha256(cleaned.encode()).hexdigest()[:16]
    assert a.channel is Channel.PASTED
    assert a.source == "<stdin>"
    assert a.sender.key == "unknown:"
    assert a.label is None and a.sender_is_connection is None
    (m,) = a.conversation.messages
    assert m.text == cleaned
    assert m.inbound is True
    assert m.channel is Channel.PASTED
    assert m.conversation_id == a.id == a.conversation.id
    assert m.sent_at is None
    assert m.subject == ""


def test_same_paste_same_id_and_different_paste_different_id() -> None:
    assert approach_from_text("one message").id == approach_from_text("one message\r\n").id
    assert approach_from_text("one message").id != approach_from_text("another message").id


@pytest.mark.parametrize("text", ["", "   ", "\n\t\r\n", "\x00\x01\x02", "\u0085\x7f"])
def test_empty_paste_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError) as info:
        approach_from_text(text)
    assert (info.value.source, info.value.problem) == ("<stdin>", "no message text given")


def test_control_characters_removed_newlines_and_tabs_kept() -> None:
    a = approach_from_text("line\x00one\x1b[0m\r\nline\ttwo\x07\rthree\ud800")
    assert a.first_message.text == "lineone[0m\nline\ttwo\nthree\ufffd"


def test_paste_bounded_by_max_field_chars() -> None:
    a = approach_from_text("x" * 10_000, settings=Settings(max_field_chars=100))
    assert a.first_message.text == "x" * 100


def test_email_like_headers_are_used() -> None:
    text = (
        "From: Jane Roe <jane.roe@talent-partners.example>\n"
        "Sent: Monday, March 3, 2025 10:15 AM\n"
        "To: Ana Costa <ana.costa@lab.example.org>\n"
        "Subject: Confidential advisory role\n"
        "\n"
        "Dear Ana, our client would like a short paper from you.\n"
    )
    a = approach_from_text(text, source="clipboard")
    assert a.source == "clipboard"
    assert a.sender.key == "email:jane.roe@talent-partners.example"
    assert a.sender.name == "Jane Roe"
    assert a.recipient.key == "email:ana.costa@lab.example.org"
    m = a.first_message
    assert m.subject == "Confidential advisory role"
    assert m.sent_at == datetime(2025, 3, 3, 10, 15, tzinfo=UTC)
    assert m.text == "Dear Ana, our client would like a short paper from you."
    assert m.recipient_keys == ("email:ana.costa@lab.example.org",)


def test_german_outlook_headers_and_bracketed_address() -> None:
    text = (
        "Von: Müller, Jörg [mailto:j.mueller@beratung.example]\n"
        "Betreff: Beiratsposition\n"
        "Datum: 14.03.2025 08:30\n\n"
        "Sehr geehrte Frau Costa, ...\n"
    )
    a = approach_from_text(text)
    assert a.sender.email == "j.mueller@beratung.example"
    assert a.sender.name == "Müller, Jörg"
    assert a.first_message.subject == "Beiratsposition"
    assert a.first_message.sent_at == datetime(2025, 3, 14, 8, 30, tzinfo=UTC)


def test_forwarded_message_headers_are_used() -> None:
    text = (
        "---------- Forwarded message ---------\n"
        "From: Think Tank Events <events@tt.example>\n"
        "Date: Thu, 13 Mar 2025 10:00:00 -0500\n"
        "Subject: Closed roundtable\n"
        "To: <ana.costa@lab.example.org>\n\n"
        "We would be honoured to host you.\n"
    )
    a = approach_from_text(text)
    assert a.sender.key == "email:events@tt.example"
    assert a.first_message.sent_at == datetime(2025, 3, 13, 15, 0, tzinfo=UTC)
    assert a.first_message.text == "We would be honoured to host you."


def test_headers_without_body_fall_back_to_the_whole_paste() -> None:
    a = approach_from_text("Subject: only a subject line\n\n")
    assert a.first_message.text == "Subject: only a subject line"
    assert a.first_message.subject == ""


def test_raw_email_source_is_parsed_as_email() -> None:
    raw = (FIXTURES / "attachment.eml").read_text()
    a = approach_from_text(raw)
    assert a.channel is Channel.PASTED
    assert a.id.startswith("pasted:")
    assert a.sender.key == "email:sarah.kim@dreamjob-recruit.example"
    assert a.first_message.subject == "Job description and skills test"
    assert a.first_message.attachments == ("Stellenbeschreibung Übersicht.pdf", "skills_test.zip")
    assert a.first_message.text.startswith("Hi Ana, the job description")
    assert "JVBERi0" not in a.first_message.text


def test_raw_html_email_source_is_rendered_as_text() -> None:
    a = approach_from_text((FIXTURES / "html_only.eml").read_text())
    assert "technical assessment" in a.first_message.text
    assert "SCRIPT_PAYLOAD" not in a.first_message.text


@pytest.mark.parametrize(
    "first_line",
    ["Jane Roe sent the following message at 10:32 AM", "Jane Roe · 2nd", "Jane Roe • 3rd+"],
)
def test_linkedin_web_view_names_the_sender(first_line: str) -> None:
    a = approach_from_text(f"{first_line}\nHi Ana, are you open to a paid report?\n")
    assert a.sender.name == "Jane Roe"
    assert a.sender.key == "name:jane roe"
    assert a.first_message.text == "Hi Ana, are you open to a paid report?"


def test_a_greeting_line_is_not_taken_for_a_sender_name() -> None:
    a = approach_from_text("Dear Sir\nWe have an opportunity for you.")
    assert a.sender.key == "unknown:"
    assert a.first_message.text == "Dear Sir\nWe have an opportunity for you."


def test_clean_text() -> None:
    assert clean_text("a\r\nb\rc\x00d\x9be\tf", 100) == "a\nb\ncde\tf"
    assert clean_text("abcdef", 3) == "abc"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600), st.integers(min_value=1, max_value=200))
def test_any_text_gives_an_approach_or_input_error(text: str, limit: int) -> None:
    try:
        a = approach_from_text(text, settings=Settings(max_field_chars=limit))
    except InputError as exc:
        assert exc.problem == "no message text given"
        return
    m = a.first_message
    assert len(m.text) <= limit
    assert not any(ch in m.text for ch in "\x00\r\x1b\x7f")
    assert a.channel is Channel.PASTED and m.inbound


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_input_bytes_returns_text_or_input_error(data: bytes) -> None:
    try:
        text = decode_input_bytes(data, "<stdin>")
    except InputError as exc:
        assert exc.source == "<stdin>"
        return
    assert isinstance(text, str)
