"""The message-stream reader of `lurewatch campaigns`: formats, the column contract, bad rows counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from lurewatch.errors import InputError
from lurewatch.ingest.stream import (
    SCHEMA,
    FileStream,
    RowsStream,
    StreamStats,
    parse_time,
    read_stream,
)

ROWS = [
    {"message_id": "m1", "sent_at": "2026-03-18T16:32:46Z", "sender_id": "a", "sender_name": "Ann", "recipient_id": "r1", "text": "hello", "sender_connections": 12},
    {"message_id": "m2", "sent_at": "2026-03-18T17:32:46+01:00", "sender_id": "b", "sender_name": "Bo", "recipient_id": "r2", "text": "=cmd|x", "recipient_sector": "quantum computing"},
    {"message_id": "", "sent_at": "2026-03-18T16:32:46Z", "sender_id": "c", "sender_name": "C", "recipient_id": "r3", "text": "no id"},
    {"message_id": "m4", "sent_at": "yesterday", "sender_id": "d", "sender_name": "D", "recipient_id": "r4", "text": "bad time"},
    {"message_id": "m5", "sent_at": "2026-03-18", "sender_id": None, "sender_name": "E", "recipient_id": "r5", "text": "no sender"},
]  # fmt: skip


def _write(tmp_path, fmt: str) -> object:
    path = tmp_path / f"s.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    else:
        cols = sorted({k for r in ROWS for k in r})
        table = pa.table({c: pa.array([r.get(c) for r in ROWS]) for c in cols})
        if fmt == "parquet":
            pq.write_table(table, path)
        else:
            pcsv.write_csv(table, path)
    return path


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_every_format_reads_to_the_schema_and_counts_what_it_sets_aside(tmp_path, fmt) -> None:
    stats = StreamStats()
    batches = list(read_stream(_write(tmp_path, fmt), stats))
    table = pa.Table.from_batches(batches, schema=SCHEMA)
    assert table.column("message_id").to_pylist() == ["m1", "m2", "m4"]
    times = table.column("sent_at").to_pylist()
    assert times[0] == datetime(2026, 3, 18, 16, 32, 46, tzinfo=UTC)
    assert times[1] == datetime(2026, 3, 18, 16, 32, 46, tzinfo=UTC)  # the offset is applied
    assert times[2] is None
    assert table.column("sender_connections").to_pylist()[0] == 12
    assert table.column("recipient_sector").to_pylist()[1] == "quantum computing"
    assert table.column("text").to_pylist()[1] == "=cmd|x"  # kept verbatim; exports neutralise
    assert stats.rows_read == 5
    assert stats.rows_kept == 3
    assert stats.skipped_no_message_id == 1
    assert stats.skipped_no_sender == 1
    assert stats.bad_sent_at == 1


def test_a_stream_without_the_required_columns_is_refused_by_name(tmp_path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"message_id": ["1"], "text": ["hi"]}), path)
    with pytest.raises(InputError, match=r"missing column.*sent_at.*sender_id"):
        list(read_stream(path))


def test_unknown_extension_and_missing_file_are_input_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="unknown stream format"):
        FileStream(tmp_path / "x.xlsx")
    with pytest.raises(InputError, match="no such file"):
        FileStream(tmp_path / "missing.parquet")


def test_a_corrupt_parquet_file_is_an_input_error(tmp_path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match="cannot read"):
        list(read_stream(path))


def test_over_long_fields_are_cut_and_counted(tmp_path) -> None:
    path = tmp_path / "long.jsonl"
    row = dict(ROWS[0], text="x" * 50_000, sender_id="s" * 1000)
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    stats = StreamStats()
    table = pa.Table.from_batches(list(read_stream(path, stats)))
    assert len(table.column("text")[0].as_py()) == 20_000
    assert len(table.column("sender_id")[0].as_py()) == 256
    assert stats.truncated_fields == 2


def test_file_stream_rereads_without_counting_twice(tmp_path) -> None:
    src = FileStream(_write(tmp_path, "parquet"))
    assert src.size_hint() == 5
    first = sum(b.num_rows for b in src.batches())
    second = sum(b.num_rows for b in src.batches())
    assert first == second == 3
    assert src.stats.rows_read == 5


def test_rows_stream_conforms_python_rows() -> None:
    rows = [dict(r) for r in ROWS[:2]]
    rows[0]["sent_at"] = datetime(2026, 1, 1, 12, 0)  # naive: taken as UTC
    rows[1]["sent_at"] = None
    src = RowsStream("ws", lambda: [rows])
    table = pa.Table.from_batches(list(src.batches()))
    assert table.column("sent_at").to_pylist() == [datetime(2026, 1, 1, 12, 0, tzinfo=UTC), None]
    assert table.schema == SCHEMA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-18T16:32:46Z", datetime(2026, 3, 18, 16, 32, 46, tzinfo=UTC)),
        ("2026-03-18T16:32:46.999+02:00", datetime(2026, 3, 18, 14, 32, 46, tzinfo=UTC)),
        ("2026-03-18", datetime(2026, 3, 18, tzinfo=UTC)),
        ("2026-03-18 16:32", datetime(2026, 3, 18, 16, 32, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        ("9" * 100, None),
    ],
)
def test_parse_time(text, expected) -> None:
    assert parse_time(text) == expected
