"""The labelled approach corpus (JSON Lines, shared/eval/SCHEMA.md)."""

from __future__ import annotations

import copy
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.errors import InputError
from lurewatch.identity import account_key
from lurewatch.ingest.corpus import approach_from_record, iter_corpus, looks_like_corpus
from lurewatch.model import Category, Channel, IngestStats
from lurewatch.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
EVAL_FILES = sorted((SHARED / "eval").glob("*.jsonl")) if SHARED.exists() else []

RECORD: dict[str, Any] = {
    "id": "t-0001",
    "label": "state_approach",
    "channel": "linkedin_inmail",
    "sender": {
        "name": "Brandon Lyle",
        "profile_url": "https://www.linkedin.com/in/Brandon-Lyle-CapitolInsight/",
        "email": None,
        "headline": "Senior Recruiter | Capitol Insight Partners",
        "company": "Capitol Insight Partners",
        "location": "Washington, DC",
        "connections": 518,
        "account_age_days": 63,
        "photo": "Stock",
    },
    "recipient": {"name": "Karen Whitaker", "headline": "Former analyst", "sector": "government"},
    "connected": False,
    "messages": [
        {"from": "sender", "date": "2025-04-14 15:20:08 UTC", "subject": "Consulting", "text": "Hi Karen"},
        {"from": "recipient", "date": "2025-04-16 17:45:10 UTC", "subject": "", "text": "Hi Brandon"},
        {"from": "sender", "date": None, "text": "Send a CV?"},
    ],
    "indicators": ["P1", "M3"],
    "basis": "generic",
}


def write_lines(folder: Path, lines: list[str | bytes], name: str = "c.jsonl") -> Path:
    path = folder / name
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


def read_all(path: Path, cfg: Settings | None = None) -> tuple[list, IngestStats]:
    stats = IngestStats()
    return list(iter_corpus(path, cfg or Settings(), stats)), stats


# --- the shared development corpus -------------------------------------------------------------


@pytest.mark.skipif(not EVAL_FILES, reason="../shared/eval is not present")
@pytest.mark.parametrize("path", EVAL_FILES, ids=lambda p: p.name)
def test_every_shared_record_parses_and_maps(path: Path) -> None:
    raw_records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert looks_like_corpus(path)
    approaches, stats = read_all(path)
    assert len(approaches) == len(raw_records) == stats.rows_read
    assert stats.messages == sum(len(r["messages"]) for r in raw_records)
    for raw, a in zip(raw_records, approaches, strict=True):
        assert a.id == raw["id"]
        assert a.label is Category(raw["label"])
        assert a.channel is Channel(raw["channel"])
        assert a.sender_is_connection is raw["connected"]
        assert a.source == str(path)
        s = raw["sender"]
        assert a.sender.key == account_key(profile_url=s["profile_url"], email=s["email"], name=s["name"])
        assert a.sender.name == s["name"]
        assert (a.sender.connections, a.sender.account_age_days) == (s["connections"], s["account_age_days"])
        assert a.recipient.sector == raw["recipient"]["sector"]
        assert a.recipient.name == raw["recipient"]["name"]
        messages = a.conversation.messages
        assert len(messages) == len(raw["messages"])
        assert [m.inbound for m in messages] == [m["from"] == "sender" for m in raw["messages"]]
        for m, rm in zip(messages, raw["messages"], strict=True):
            assert m.sender_key == (a.sender.key if rm["from"] == "sender" else a.recipient.key)
            assert m.conversation_id == a.id
            assert m.channel is a.channel
            assert m.sent_at is not None and m.sent_at.tzinfo is not None
            assert m.sent_at.strftime("%Y-%m-%d %H:%M:%S UTC") == rm["date"]
            assert m.text == rm["text"].strip()
    assert len({a.id for a in approaches}) == len(approaches)


# --- mapping -----------------------------------------------------------------------------------


def test_record_maps_every_field() -> None:
    a = approach_from_record(copy.deepcopy(RECORD), "c.jsonl", 7)
    assert a.id == "t-0001"
    assert a.label is Category.STATE_APPROACH
    assert a.channel is Channel.LINKEDIN_INMAIL
    assert a.sender_is_connection is False
    assert a.source == "c.jsonl"
    s = a.sender
    assert s.key == "linkedin:brandon-lyle-capitolinsight"
    assert (s.name, s.profile_url, s.email) == (
        "Brandon Lyle",
        "https://www.linkedin.com/in/Brandon-Lyle-CapitolInsight/",
        None,
    )
    assert (s.headline, s.company, s.location) == (
        "Senior Recruiter | Capitol Insight Partners",
        "Capitol Insight Partners",
        "Washington, DC",
    )
    assert (s.connections, s.account_age_days, s.photo) == (518, 63, "stock")
    r = a.recipient
    assert (r.key, r.name, r.headline, r.sector) == (
        "name:karen whitaker",
        "Karen Whitaker",
        "Former analyst",
        "government",
    )
    m0, m1, m2 = a.conversation.messages
    assert (m0.id, m1.id, m2.id) == ("t-0001#0", "t-0001#1", "t-0001#2")
    assert (m0.inbound, m1.inbound, m2.inbound) == (True, False, True)
    assert (m0.sender_key, m1.sender_key) == (s.key, r.key)
    assert (m0.recipient_keys, m1.recipient_keys) == ((r.key,), (s.key,))
    assert m0.sent_at == datetime(2025, 4, 14, 15, 20, 8, tzinfo=UTC)
    assert m2.sent_at is None
    assert (m0.subject, m1.subject, m2.subject) == ("Consulting", "", "")
    assert a.conversation.title == "Consulting"
    assert a.conversation.channel is Channel.LINKEDIN_INMAIL


def test_optional_fields_may_be_missing() -> None:
    record = {
        "id": "x",
        "channel": "email",
        "sender": {"email": "Recruiter@Firm.Example"},
        "messages": [{"from": "sender", "text": "hello"}],
    }
    a = approach_from_record(record, "c.jsonl", 1)
    assert a.label is None
    assert a.sender_is_connection is None
    assert a.sender.key == "email:recruiter@firm.example"
    assert a.recipient.key == "unknown:"
    assert a.first_message.text == "hello"


def test_iso_dates_with_offsets_accepted() -> None:
    record = copy.deepcopy(RECORD)
    record["messages"][0]["date"] = "2025-04-14T17:20:08+02:00"
    assert approach_from_record(record, "c", 1).first_message.sent_at == datetime(
        2025, 4, 14, 15, 20, 8, tzinfo=UTC
    )


def test_text_cleaned_and_bounded() -> None:
    record = copy.deepcopy(RECORD)
    record["messages"][0]["text"] = "a\x00b\r\nc" + "x" * 500
    record["sender"]["name"] = "Brandon\x1b  Lyle\n"
    a = approach_from_record(record, "c", 1, Settings(max_field_chars=20))
    assert a.first_message.text == "ab\nc" + "x" * 16
    assert a.sender.name == "Brandon Lyle"


def test_messages_past_the_conversation_limit_are_dropped() -> None:
    record = copy.deepcopy(RECORD)
    a = approach_from_record(record, "c", 1, Settings(max_messages_per_conversation=2))
    assert len(a.conversation.messages) == 2


def test_file_reading_blank_lines_bom_and_stats(tmp_path: Path) -> None:
    second = dict(copy.deepcopy(RECORD), id="t-0002", channel="linkedin_invitation", label="benign")
    path = write_lines(
        tmp_path, [b"\xef\xbb\xbf" + json.dumps(RECORD).encode(), "", "   ", json.dumps(second)]
    )
    approaches, stats = read_all(path)
    assert [a.id for a in approaches] == ["t-0001", "t-0002"]
    assert [a.label for a in approaches] == [Category.STATE_APPROACH, Category.BENIGN]
    assert (stats.rows_read, stats.messages, stats.invitations) == (2, 6, 1)


# --- malformed input ---------------------------------------------------------------------------


def broken(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(RECORD)
    for dotted, value in changes.items():
        target = record
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return record


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (broken(label="spam"), "field 'label': unknown value 'spam'"),
        (broken(channel="fax"), "field 'channel': unknown value 'fax'"),
        (broken(channel=...), "field 'channel': missing"),
        (broken(id=...), "field 'id': missing"),
        (broken(id=12), "field 'id': expected a string, got a number"),
        (broken(id="  "), "field 'id': missing or empty"),
        (broken(messages=...), "field 'messages': expected a non-empty list"),
        (broken(messages=[]), "field 'messages': expected a non-empty list"),
        (broken(messages="hi"), "field 'messages': expected a non-empty list"),
        (broken(messages=["hi"]), "field 'messages[0]': expected an object"),
        (broken(messages__1__from="bot"), "field 'messages[1].from': expected 'sender' or 'recipient'"),
        (broken(messages__0__text=None), "field 'messages[0].text': expected a string, got null"),
        (
            broken(messages__0__date="14/04/2025"),
            "field 'messages[0].date': expected 'YYYY-MM-DD HH:MM:SS UTC'",
        ),
        (broken(messages__0__subject=5), "field 'messages[0].subject': expected a string"),
        (broken(sender=...), "field 'sender': expected an object, got null"),
        (broken(sender="Brandon"), "field 'sender': expected an object, got a string"),
        (broken(sender__connections="500+"), "field 'sender.connections': expected a whole number"),
        (broken(sender__connections=True), "field 'sender.connections': expected a whole number"),
        (broken(sender__connections=5.5), "field 'sender.connections': expected a whole number"),
        (broken(sender__account_age_days=-1), "field 'sender.account_age_days': out of range"),
        (broken(sender__name=["a"]), "field 'sender.name': expected a string, got a list"),
        (broken(recipient=[]), "field 'recipient': expected an object"),
        (broken(connected="no"), "field 'connected': expected true, false or null"),
    ],
)
def test_malformed_record_names_file_line_and_field(record: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError) as info:
        approach_from_record(record, "corpus.jsonl", 12)
    assert info.value.source == "corpus.jsonl:12"
    assert info.value.problem.startswith(problem)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"id": "x", ', "bad JSON"),
        ("not json at all", "bad JSON"),
        ("[1, 2]", "a JSON array; the corpus is JSON Lines"),
        ('"just a string"', "a record must be a JSON object, got a string"),
        ("null", "a record must be a JSON object, got null"),
        ('{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}", "bad JSON"),
        ('{"id": 1' + "0" * 5000 + "}", "bad JSON"),
        (b'{"id": "caf\xe9"}', "not UTF-8 text"),
    ],
)
def test_malformed_line_in_file_names_its_line(tmp_path: Path, line: str | bytes, problem: str) -> None:
    path = write_lines(tmp_path, [json.dumps(RECORD), "", line, json.dumps(RECORD)])
    stats = IngestStats()
    reader = iter_corpus(path, Settings(), stats)
    assert next(reader).id == "t-0001"  # records before the bad line stream out first
    with pytest.raises(InputError) as info:
        next(reader)
    assert info.value.source == f"{path}:3"
    assert info.value.problem.startswith(problem)


def test_overlong_line_is_refused(tmp_path: Path) -> None:
    record = dict(copy.deepcopy(RECORD), basis="b" * 5000)
    path = write_lines(tmp_path, [json.dumps(RECORD), json.dumps(record)])
    with pytest.raises(InputError) as info:
        read_all(path, Settings(max_email_bytes=2000))
    assert info.value.source == f"{path}:2"
    assert "line longer than 2,000 bytes" in info.value.problem


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [json.dumps(RECORD)])
    with pytest.raises(InputError, match="LUREWATCH_MAX_FILE_BYTES"):
        read_all(path, Settings(max_file_bytes=10))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        read_all(tmp_path / "absent.jsonl")


# --- sniffing ----------------------------------------------------------------------------------


def test_looks_like_corpus(tmp_path: Path) -> None:
    assert looks_like_corpus(write_lines(tmp_path, ["", "  ", json.dumps(RECORD)], "a.jsonl"))
    long_record = dict(copy.deepcopy(RECORD), basis="b" * (2 << 20))
    assert looks_like_corpus(write_lines(tmp_path, [json.dumps(long_record)], "long.jsonl"))
    assert not looks_like_corpus(write_lines(tmp_path, ['{"id": "x", "channel": "email"}'], "b.jsonl"))
    assert not looks_like_corpus(write_lines(tmp_path, [json.dumps([RECORD])], "c.json"))
    assert not looks_like_corpus(write_lines(tmp_path, ["From,To,Message", "a,b,c"], "d.csv"))
    assert not looks_like_corpus(write_lines(tmp_path, ["{not json"], "e.jsonl"))
    assert not looks_like_corpus(write_lines(tmp_path, [], "f.jsonl"))
    assert not looks_like_corpus(tmp_path / "missing.jsonl")


# --- property tests ----------------------------------------------------------------------------

_lines = st.one_of(
    st.binary(max_size=60),
    st.just(json.dumps(RECORD).encode()),
    st.builds(
        lambda key, value: json.dumps(dict(copy.deepcopy(RECORD), **{key: value})).encode(),
        st.sampled_from(["id", "label", "channel", "sender", "recipient", "connected", "messages"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        ),
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_lines, max_size=6))
def test_iter_corpus_yields_approaches_or_input_error(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_bytes(b"\n".join(lines))
        stats = IngestStats()
        got = []
        failed = False
        try:
            for approach in iter_corpus(path, Settings(), stats):
                got.append(approach)
        except InputError as exc:
            failed = True
            assert exc.source.startswith(f"{path}:")
        # a record that fails validation was read but not yielded
        assert len(got) <= stats.rows_read <= len(got) + failed
        assert stats.messages == sum(len(a.conversation.messages) for a in got)
        looks_like_corpus(path)  # never raises either
