"""`lurewatch campaigns` from the command line: streams, the workspace, JSON, Parquet, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lurewatch.cli import app
from lurewatch.synth.stream import write_stream
from test_cli import run

runner = CliRunner()


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("stream")
    path, truth = folder / "s.parquet", folder / "s.truth.jsonl"
    write_stream(30_000, path, seed=5, campaigns=4, truth=truth)
    return path, truth


def test_json_lines_parquet_workspace_and_truth(stream, tmp_path: Path) -> None:
    path, truth = stream
    ws = tmp_path / "ws.sqlite"
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["campaigns", str(path), "--json", "--out", str(out), "--truth", str(truth), "-w", str(ws)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 4
    for record in lines:
        assert record["campaign_id"].startswith("cmp-")
        assert record["category"] in {"state_approach", "malware_lure", "scam"}
        assert 0 <= record["risk"] <= 1
        assert record["message_ids"] and record["account_ids"] and record["recipient_ids"]
        assert record["links"] and all(link["explanation"] for link in record["links"])
    assert "B-cubed precision 1.0000, recall 1.0000" in result.stderr
    campaigns = pq.read_table(out / "campaigns.parquet")
    members = pq.read_table(out / "campaign_members.parquet")
    assert sorted(campaigns.column("campaign_id").to_pylist()) == sorted(r["campaign_id"] for r in lines)
    assert members.num_rows == sum(len(r["message_ids"]) for r in lines)
    from lurewatch.store import Workspace

    with Workspace.open(ws) as workspace:
        stored = workspace.list_campaigns()
    assert sorted(c["campaign_id"] for c in stored) == sorted(r["campaign_id"] for r in lines)
    # the same run again replaces, never duplicates
    again = runner.invoke(app, ["campaigns", str(path), "--no-save", "-w", str(ws)])
    assert again.exit_code == 0, again.output
    assert "cmp-" in again.stdout


def test_the_workspace_is_the_default_source(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert runner.invoke(app, ["demo", "--dir", str(demo)]).exit_code == 0
    result = runner.invoke(app, ["campaigns", "--all", "--json", "-w", str(demo / "workspace.sqlite")])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    # the demo's staff exports hold ordinary colleagues and recruiters writing to several staff
    assert all(r["message_ids"] for r in records)
    assert "120 messages" in result.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p.with_suffix(".xlsx").write_bytes(b"x") or p.with_suffix(".xlsx"),
            "unknown stream format",
        ),
        (lambda p: p, "no such file"),
        (lambda p: (p.write_text("a,b\n1,2\n"), p)[1], "missing column"),
    ],
)
def test_bad_streams_are_one_line_and_exit_2(tmp_path: Path, make, message) -> None:
    bad = make(tmp_path / "bad.csv")
    result = run("campaigns", bad, "--no-save", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_workspace_is_explained(tmp_path: Path) -> None:
    result = run("campaigns", "-w", tmp_path / "none.sqlite", cwd=tmp_path)
    assert result.returncode == 2
    assert "no workspace here yet" in result.stderr


def test_unknown_engine_is_refused(stream, tmp_path: Path) -> None:
    result = run("campaigns", stream[0], "--engine", "nope", "--no-save", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown engine" in result.stderr


def test_spark_engine_finds_what_the_local_engine_finds(spark, tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    write_stream(6_000, path, seed=9, campaigns=3, truth=tmp_path / "t.jsonl")
    found = {}
    for engine in ("local", "spark"):
        result = runner.invoke(app, ["campaigns", str(path), "--json", "--no-save", "--engine", engine])
        assert result.exit_code == 0, result.output
        found[engine] = {
            (r["campaign_id"], tuple(r["message_ids"]))
            for r in map(json.loads, filter(str.strip, result.stdout.splitlines()))
        }
    assert found["spark"] == found["local"]
    assert len(found["local"]) == 3
    # a folder of Parquet files is one stream to Spark
    folder = tmp_path / "folder"
    folder.mkdir()
    path.rename(folder / "part-0.parquet")
    result = runner.invoke(app, ["campaigns", str(folder), "--json", "--no-save", "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stdout.splitlines() if line.strip()]) == 3


def test_engine_options_are_checked(tmp_path: Path) -> None:
    for args in (["--engine", "nope"], ["--spark-master", "local[1]"]):
        done = run("campaigns", tmp_path / "x.parquet", "--no-save", *args, cwd=tmp_path)
        assert done.returncode == 2
        assert "engine" in done.stderr


def test_spark_job_script_runs_the_campaigns_command_on_spark() -> None:
    from lurewatch.campaigns.spark_job import arguments

    assert arguments(["s3a://b/stream/", "--json"]) == [
        "campaigns",
        "s3a://b/stream/",
        "--json",
        "--engine",
        "spark",
    ]
    assert arguments(["x", "--engine", "local"]) == ["campaigns", "x", "--engine", "local"]
