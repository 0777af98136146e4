"""`lurewatch synth`: synthetic message streams with planted campaigns and their ground truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lurewatch.cli import app
from lurewatch.synth.stream import SCHEMA, make_plan, write_stream

CONTRACT = {
    "message_id": pa.string(), "sent_at": pa.string(), "sender_id": pa.string(), "sender_name": pa.string(),
    "recipient_id": pa.string(), "text": pa.string(), "subject": pa.string(), "channel": pa.string(),
    "sender_headline": pa.string(), "sender_company": pa.string(), "sender_location": pa.string(),
    "sender_photo_hash": pa.string(), "sender_created_at": pa.string(), "sender_connections": pa.int32(),
    "recipient_org": pa.string(), "recipient_sector": pa.string(),
}  # fmt: skip
REQUIRED = ("message_id", "sent_at", "sender_id", "sender_name", "recipient_id", "text")


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, list[dict]]:
    out = tmp_path_factory.mktemp("synth") / "stream.parquet"
    truth = out.with_name("truth.jsonl")
    write_stream(150_000, out, seed=7, campaigns=8, truth=truth)
    records = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    return pq.read_table(out), records


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    for fmt, n in (("parquet", 70_000), ("csv", 5000), ("jsonl", 5000)):  # parquet: more than one batch
        a, b, c = (tmp_path / f"{name}.{fmt}" for name in "abc")
        write_stream(n, a, seed=3, truth=tmp_path / "ta.jsonl")
        write_stream(n, b, seed=3, truth=tmp_path / "tb.jsonl")
        write_stream(n, c, seed=4, truth=tmp_path / "tc.jsonl")
        assert a.read_bytes() == b.read_bytes(), fmt
        assert (tmp_path / "ta.jsonl").read_bytes() == (tmp_path / "tb.jsonl").read_bytes()
        assert a.read_bytes() != c.read_bytes()


def test_columns_and_types_match_the_contract(stream: tuple[pa.Table, list[dict]]) -> None:
    table, _ = stream
    assert table.schema.names == list(CONTRACT)
    assert [table.schema.field(n).type for n in CONTRACT] == list(CONTRACT.values())
    for name in REQUIRED:
        assert table[name].null_count == 0, name
    rows = table.slice(0, 2000).to_pylist()
    import re

    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["sent_at"])
        assert row["sender_photo_hash"] is None or re.fullmatch(r"[0-9a-f]{16}", row["sender_photo_hash"])
        assert row["channel"] in {"linkedin", "inmail", "email"}
        assert row["text"].strip()
    # sent_at is ISO 8601 that Arrow parses
    pa.compute.strptime(table["sent_at"], format="%Y-%m-%dT%H:%M:%SZ", unit="s")
    # some German and French traffic among the English
    texts = " ".join(r["text"] for r in rows)
    assert "Viele Grüße" in texts or "Grüße" in texts
    assert "Bonjour" in texts or "Salut" in texts


@pytest.mark.parametrize("n", [1, 999, 65_536, 65_537, 131_073])
def test_exactly_n_rows_with_unique_ids(tmp_path: Path, n: int) -> None:
    out = tmp_path / "s.parquet"
    write_stream(n, out, campaigns=0 if n < 50 else 3, truth=tmp_path / "t.jsonl")
    table = pq.read_table(out)
    assert table.num_rows == n
    assert len(set(table["message_id"].to_pylist())) == n


def test_csv_and_jsonl_hold_the_same_rows_as_parquet(tmp_path: Path) -> None:
    for fmt in ("parquet", "csv", "jsonl"):
        write_stream(3000, tmp_path / f"s.{fmt}", seed=2, truth=tmp_path / "t.jsonl")
    expected = pq.read_table(tmp_path / "s.parquet").to_pylist()
    lines = (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected
    options = pacsv.ConvertOptions(column_types=SCHEMA, strings_can_be_null=False)
    from_csv = pacsv.read_csv(tmp_path / "s.csv", convert_options=options).to_pylist()
    assert [r["text"] for r in from_csv] == [r["text"] for r in expected]
    assert [r["sent_at"] for r in from_csv] == [r["sent_at"] for r in expected]


def test_ground_truth_ids_exist_and_campaigns_are_disjoint(stream: tuple[pa.Table, list[dict]]) -> None:
    table, records = stream
    ids = set(table["message_id"].to_pylist())
    campaigns = [r for r in records if r["type"] == "campaign"]
    assert len(campaigns) == 8
    assert {c["category"] for c in campaigns} == {"state_approach", "malware_lure", "scam"}
    seen: set[str] = set()
    for c in campaigns:
        mine = set(c["message_ids"])
        assert len(mine) == len(c["message_ids"]) >= 50
        assert mine <= ids
        assert not mine & seen
        seen |= mine
    for s in (r for r in records if r["type"] == "sequence"):
        assert set(s["message_ids"]) <= ids
        assert not set(s["message_ids"]) & seen
        seen |= set(s["message_ids"])


def test_campaign_rows_come_from_its_personas(stream: tuple[pa.Table, list[dict]]) -> None:
    table, records = stream
    by_id = {
        r["message_id"]: r for r in table.select(["message_id", "sender_id", "recipient_sector"]).to_pylist()
    }
    sensitive = {"semiconductors", "quantum computing", "aerospace", "defence", "artificial intelligence",
                 "biotechnology", "advanced materials", "nuclear energy", "telecommunications", "government"}  # fmt: skip
    for c in (r for r in records if r["type"] == "campaign"):
        senders = {by_id[m]["sender_id"] for m in c["message_ids"]}
        assert senders == set(c["sender_ids"]) == {p["sender_id"] for p in c["personas"]}
        if c["category"] == "state_approach":
            assert all(by_id[m]["recipient_sector"] in sensitive for m in c["message_ids"])


def test_personas_of_a_campaign_share_identifiers(stream: tuple[pa.Table, list[dict]]) -> None:
    table, records = stream
    rows = table.select(["sender_id", "sender_name", "sender_photo_hash", "text"]).to_pylist()
    texts_by_sender: dict[str, str] = {}
    for r in rows:
        texts_by_sender.setdefault(r["sender_id"], "")
        if len(texts_by_sender[r["sender_id"]]) < 20_000:
            texts_by_sender[r["sender_id"]] += r["text"]
    for c in (r for r in records if r["type"] == "campaign"):
        personas = c["personas"]
        assert len(personas) >= 2
        assert len({p["sender_name"] for p in personas}) == len(personas)  # rotated names
        # every persona shares the photo hash or a handle with another persona: one connected group
        idents = [{p["sender_photo_hash"], *p["handles"]} for p in personas]
        reached, frontier = {0}, [0]
        while frontier:
            i = frontier.pop()
            for j in range(len(personas)):
                if j not in reached and idents[i] & idents[j]:
                    reached.add(j)
                    frontier.append(j)
        assert reached == set(range(len(personas))), c["campaign_id"]
        # the handles really are in the messages, and the photo hash in the rows
        for p in personas:
            photos = {r["sender_photo_hash"] for r in rows if r["sender_id"] == p["sender_id"]}
            assert photos == {p["sender_photo_hash"]}
            assert any(h.split()[-1].lstrip("@") in texts_by_sender[p["sender_id"]] for h in p["handles"])


def test_benign_sequences_are_present(stream: tuple[pa.Table, list[dict]]) -> None:
    table, records = stream
    sequences = [r for r in records if r["type"] == "sequence"]
    assert {s["kind"] for s in sequences} == {"recruiter", "sales"}
    sender_of = dict(zip(table["message_id"].to_pylist(), table["sender_id"].to_pylist(), strict=True))
    for s in sequences:
        assert len(s["message_ids"]) >= 3
        assert {sender_of[m] for m in s["message_ids"]} == set(s["sender_ids"])


def test_plan_is_bounded_whatever_n() -> None:
    small, large = make_plan(2_000_000, seed=1), make_plan(50_000_000, seed=1)
    assert len(large.pos) <= 2 * len(small.pos) < 200_000


_RSS = """
import resource, sys
from pathlib import Path
from lurewatch.synth.stream import write_stream
write_stream(int(sys.argv[1]), Path(sys.argv[2]), seed=1, truth=Path(sys.argv[2] + ".truth.jsonl"))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_memory_does_not_grow_with_n(tmp_path: Path) -> None:
    def peak_kib(n: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _RSS, str(n), str(tmp_path / f"s{n}.parquet")],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return int(done.stdout.split()[-1])

    small, large = peak_kib(200_000), peak_kib(1_000_000)
    assert pq.ParquetFile(tmp_path / "s1000000.parquet").metadata.num_rows == 1_000_000
    # five times the rows: peak memory within 80 MiB and 30% of the small run's
    assert large < small * 1.3 and large - small < 80 * 1024, (small, large)


def test_cli_writes_stream_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    result = CliRunner().invoke(app, ["synth", "2000", str(out), "--seed", "9", "--campaigns", "3"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2000
    truth = [json.loads(x) for x in (tmp_path / "s.truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(r["type"] == "campaign" for r in truth) == 3
    result = CliRunner().invoke(
        app, ["synth", "500", str(tmp_path / "p.parquet"), "--truth", str(tmp_path / "t.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.jsonl").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["0", "s.parquet"],
        ["-5", "s.parquet"],
        ["ten", "s.parquet"],
        ["100", "s.txt"],
        ["100", "s.parquet", "--campaigns", "-1"],
        ["100", "s.parquet", "--campaigns", "50"],
        ["100", "missing/s.parquet"],
        ["100", "s.parquet", "--truth", "s.parquet"],
    ],
)
def test_cli_bad_arguments_exit_2(tmp_path: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lurewatch", "synth", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())
