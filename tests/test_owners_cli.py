"""`lurewatch owners screen` and `lurewatch lists` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from lurewatch.cli import app
from lurewatch.owners import find_subject, load_graph, make_matcher
from lurewatch.owners.lists import load_lists
from lurewatch.owners.screen import graph_view, screen

FIXTURES = Path(__file__).parent / "fixtures" / "owners"
runner = CliRunner()


def test_screen_json_has_the_documented_shape() -> None:
    result = runner.invoke(
        app,
        [
            "owners",
            "screen",
            "Target Robotics Ltd",
            "--data",
            str(FIXTURES / "structure.csv"),
            "--list",
            str(FIXTURES),
            "--json",
            "--as-of",
            "2025-01-01",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["subject"]["id"] == "T" and record["subject"]["name"] == "Target Robotics Ltd"
    owners = {o["id"]: o for o in record["ultimate_owners"]}
    assert owners["S1"]["kind"] == "state" and owners["S1"]["share_min"] == 20.0
    assert owners["P1"]["paths"][0]["steps"][0]["holder"] in {"A", "B"}
    kinds = {f["kind"] for f in record["flags"]}
    assert {"state_ownership", "listed_entity", "nominee"} <= kinds
    rules = {f["rule"] for f in record["flags"] if f["kind"] == "listed_entity"}
    assert "aggregate 50% rule" in rules and any(r.startswith("effective share") for r in rules)
    assert all({"score", "reason", "list"} <= m.keys() for m in record["matches"])


def test_screen_tree_in_the_terminal() -> None:
    result = runner.invoke(
        app, ["owners", "screen", "X", "--data", str(FIXTURES / "cycle.csv"), "--threshold", "10"]
    )
    assert result.exit_code == 0, result.output
    assert "Patricia Quinn" in result.stdout and "66.67%" in result.stdout
    assert "circular_ownership" in result.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("subject_id,owner_id,share\nA,B,x\n")
    proc = subprocess.run(
        [sys.executable, "-m", "lurewatch", "owners", "screen", "A", "--data", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "bad.csv" in proc.stderr
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "lurewatch",
            "owners",
            "screen",
            "Nobody",
            "--data",
            str(FIXTURES / "cycle.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_graph_view_for_the_dashboard() -> None:
    g, _ = load_graph([FIXTURES / "structure.csv"], max_file_bytes=10**9)
    matcher = make_matcher(load_lists([FIXTURES / "csl.csv"]), 0.9)
    view = graph_view(screen(g, find_subject(g, "Target Robotics Ltd")[0], matcher=matcher))
    json.dumps(view)
    nodes = {n["id"]: n for n in view["nodes"]}
    assert nodes["T"]["subject"] and nodes["S1"]["ultimate_owner"] and nodes["B"]["matched"]
    edge = next(e for e in view["edges"] if e["source"] == "A" and e["target"] == "T")
    assert (edge["share_min"], edge["share_max"]) == (60.0, 60.0)
    board = next(e for e in view["edges"] if e["source"] == "D1")
    assert board["share_min"] is None and board["control"] == ["board"]
    assert any(p["edges"] for p in view["flagged_paths"])
