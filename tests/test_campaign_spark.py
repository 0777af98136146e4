"""The Spark backend: the same campaigns as the local backend on the same streams (Spark in local mode)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lurewatch.campaigns.engine import CampaignOptions, campaign_record, find_campaigns
from lurewatch.campaigns.evaluation import read_truth, score
from lurewatch.campaigns.local import LocalBackend
from lurewatch.core import Lurewatch
from lurewatch.errors import InputError
from lurewatch.ingest.stream import FileStream, RowsStream
from lurewatch.settings import Settings
from lurewatch.synth.stream import write_stream
from test_campaign_engine import _background, _operation, _row

pytest.importorskip("pyspark")


@pytest.fixture(scope="module")
def screener():
    return Lurewatch(Settings()).screener


def _both(source_for, screener, spark, **options):  # type: ignore[no-untyped-def]
    from lurewatch.campaigns.spark import SparkBackend

    opts = CampaignOptions(**options)
    with LocalBackend() as backend:
        local = find_campaigns(source_for(), backend, screener, opts)
    with SparkBackend(spark) as backend:
        distributed = find_campaigns(source_for(), backend, screener, opts)
    return local, distributed


def _canonical(run) -> set[str]:  # type: ignore[no-untyped-def]
    """Each campaign's JSON record with its evidence links as a set (their order among equals is free)."""
    import json

    out = set()
    for c in run.campaigns:
        record = campaign_record(c)
        record["links"] = sorted(json.dumps(link, sort_keys=True) for link in record["links"])
        out.add(json.dumps(record, sort_keys=True))
    return out


def _members(run) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(c.message_ids) for c in run.campaigns}


def test_same_campaigns_as_the_local_engine_on_a_synthetic_stream(tmp_path: Path, spark, screener) -> None:
    path, truth_path = tmp_path / "s.parquet", tmp_path / "t.jsonl"
    write_stream(10_000, path, seed=3, campaigns=5, truth=truth_path)
    from lurewatch.campaigns.spark import SparkBackend, SparkStream

    opts = CampaignOptions(include_benign=True)
    with LocalBackend() as backend:
        local = find_campaigns(FileStream(path), backend, screener, opts)
    source = SparkStream(str(path))
    with SparkBackend(spark) as backend:
        distributed = find_campaigns(source, backend, screener, opts)
    assert len(local.campaigns) >= 5
    assert _members(distributed) == _members(local)
    assert _canonical(distributed) == _canonical(local)
    for key in (
        "messages",
        "wordings_repeated",
        "links_by_kind",
        "stock_values_ignored",
        "account_groups",
        "candidates",
    ):
        assert distributed.stats[key] == local.stats[key], key
    assert source.stats.rows_kept == 10_000
    truth, sequences = read_truth(truth_path)
    assert score(distributed.campaigns, truth, sequences).recall == 1.0


def test_hand_made_operations_agree(spark, screener) -> None:
    personas = [("wang-jianguo-1", "Wang Jianguo"), ("cathy-wong-2", "Cathy Wong"), ("j-wang-3", "J. Wang")]
    rows = (
        _operation(0, personas, "WeChat: cathywon67", 12)
        + _operation(30, [("op2-a", "David Chen"), ("op2-b", "Chen Wei")], "WeChat: dchen88", 10)
        + _operation(60, [("lone-operator", "Grace Lee")], "Telegram @gracelee_consult", 8)
        + _background(100, 60)
        + [
            _row(
                200 + i,
                f"person-{i}",
                f"Person {i}",
                f"u{i}",
                f"Hi, slides at https://www.slides-hub.com/deck{i} thanks",
            )
            for i in range(60)
        ]
    )
    rows[0]["text"] = '=HYPERLINK("x") \x00\u202e' + "A" * 30_000 + rows[0]["text"]
    local, distributed = _both(lambda: RowsStream("test", lambda: [rows]), screener, spark)
    assert len(local.campaigns) == 3
    assert _canonical(distributed) == _canonical(local)
    assert distributed.stats["stock_values_ignored"] == local.stats["stock_values_ignored"]


def test_empty_stream(tmp_path: Path, spark, screener) -> None:
    from lurewatch.ingest.stream import SCHEMA

    path = tmp_path / "empty.parquet"
    pq.write_table(SCHEMA.empty_table(), path)
    local, distributed = _both(lambda: FileStream(path), screener, spark)
    assert local.campaigns == distributed.campaigns == []
    assert distributed.stats["messages"] == 0


def test_contract_is_enforced_and_set_aside_rows_counted(tmp_path: Path, spark, screener) -> None:
    from lurewatch.campaigns.spark import SparkBackend, SparkStream

    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"message_id": ["1"], "text": ["hi"]}), bad)
    with SparkBackend(spark) as backend, pytest.raises(InputError, match="missing column"):
        backend.ingest(SparkStream(str(bad)))
    with SparkBackend(spark) as backend, pytest.raises(InputError, match="cannot read"):
        backend.ingest(SparkStream(str(tmp_path / "nowhere")))
    rows = _background(0, 10)
    table = pa.Table.from_pylist([{**r, "sent_at": r["sent_at"].isoformat()} for r in rows])
    table = table.set_column(0, "message_id", pa.array([None, *table.column("message_id").to_pylist()[1:]]))
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(table.slice(0, 4), folder / "a.parquet")
    pq.write_table(table.slice(4), folder / "b.parquet")
    source = SparkStream(str(folder))
    with SparkBackend(spark) as backend:
        assert backend.ingest(source) == 9
    assert source.stats.skipped_no_message_id == 1
    assert source.stats.rows_read == 10


def _components_reference(n: int, edges: list[tuple[int, int]]) -> dict[int, int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: min(y for y in range(n) if find(y) == find(x)) for x in range(n)}


def test_connected_components_on_paths_stars_and_random_graphs(spark) -> None:
    from lurewatch.campaigns.spark import connected_components

    rng = random.Random(7)
    n = 600
    # a long path in shuffled order (the worst case for label propagation), a star, random edges
    path = list(range(0, 300))
    rng.shuffle(path)
    edges = list(itertools.pairwise(path))
    edges += [(300, k) for k in range(301, 400)]
    edges += [(rng.randrange(400, 600), rng.randrange(400, 600)) for _ in range(120)]
    frame = spark.createDataFrame(
        pa.table(
            {
                "a": pa.array([a for a, _ in edges], pa.int64()),
                "b": pa.array([b for _, b in edges], pa.int64()),
            }
        )
    )
    got = {r["node"]: r["label"] for r in connected_components(frame).collect()}
    expected = _components_reference(n, edges)
    in_edges = {x for e in edges for x in e}
    assert {x: got.get(x, x) for x in in_edges} == {x: expected[x] for x in in_edges}
    assert all(got[x] != x for x in got)  # component minima are never listed


@pytest.mark.slow
def test_same_membership_on_200k_messages(tmp_path: Path, spark, screener) -> None:
    from lurewatch.campaigns.spark import SparkBackend, SparkStream

    path = tmp_path / "s.parquet"
    write_stream(200_000, path, seed=1, campaigns=10, truth=tmp_path / "t.jsonl")
    with LocalBackend(workers=2) as backend:
        local = find_campaigns(FileStream(path), backend, screener)
    with SparkBackend(spark) as backend:
        distributed = find_campaigns(SparkStream(str(path)), backend, screener)
    assert len(local.campaigns) >= 10
    assert _members(distributed) == _members(local)
