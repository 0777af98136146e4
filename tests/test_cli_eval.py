"""``lurewatch eval``: the real entry point in a subprocess, over small labelled corpus files and ../shared/eval."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lurewatch.core import Lurewatch
from lurewatch.evaluation import LABELS, Predictions
from lurewatch.model import Category

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "eval_rules.py"

STATE_TEXT = (
    "Hello Dr Smith, I am a headhunter with a consulting firm working for a think tank client. We would "
    "pay you 3,000 USD for a short report on your research. There is also a trip to Beijing, all "
    "expenses paid. Let's continue on WeChat."
)
BENIGN_TEXT = "Hi Ada, lovely to meet you at the workshop yesterday. Here are the slides I mentioned."
SCAM_TEXT = (
    "Congratulations! You have been selected for a remote data entry job paying $900 a week. "
    "We will send you a cheque to buy equipment; deposit it and wire the difference to our vendor."
)


def record(rid: str, label: str | None, text: str) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": rid,
        "channel": "linkedin_message",
        "sender": {"name": f"Sender {rid}"},
        "recipient": {"name": "Ada Fictional"},
        "connected": False,
        "messages": [{"from": "sender", "date": "2025-03-01 09:00:00 UTC", "subject": "", "text": text}],
    }
    if label is not None:
        rec["label"] = label
    return rec


def write_corpus(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


SMALL = [
    record("s1", "state_approach", STATE_TEXT),
    record("s2", "state_approach", STATE_TEXT.replace("Beijing", "Shanghai")),
    record("b1", "benign", BENIGN_TEXT),
    record("b2", "benign", BENIGN_TEXT.replace("workshop", "seminar")),
    record("c1", "scam", SCAM_TEXT),
]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUREWATCH_") and k != "COLUMNS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "lurewatch", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lurewatch: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert result.stdout == ""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "small.jsonl", SMALL)


def test_eval_json_has_every_metric(corpus: Path, tmp_path: Path) -> None:
    result = run("eval", "--json", "--threshold-report", corpus, cwd=tmp_path)
    assert_ok(result)
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    labels = [c.value for c in LABELS]
    assert data["records"] == len(SMALL)
    assert data["labels"] == labels
    assert list(data["per_label"]) == labels
    for metrics in data["per_label"].values():
        assert set(metrics) == {
            "support",
            "predicted",
            "tp",
            "fp",
            "fn",
            "tn",
            "precision",
            "recall",
            "fpr",
            "f1",
            "auc",
        }
    # no malware lure and no commercial record in the file: their recall is null, not 0 and not a crash
    assert data["per_label"]["malware_lure"]["support"] == 0
    assert data["per_label"]["malware_lure"]["recall"] is None
    assert data["per_label"]["state_approach"]["support"] == 2
    assert set(data["threat"]) == set(data["per_label"]["scam"])
    assert 0.0 <= data["macro_f1"] <= 1.0 and data["macro_f1_labels"]
    matrix = data["confusion"]["matrix"]
    assert data["confusion"]["labels"] == labels and len(matrix) == 5 and all(len(r) == 5 for r in matrix)
    assert sum(map(sum, matrix)) == len(SMALL)
    points = {(p["positives"], p["target_fpr"]) for p in data["operating_points"]}
    assert points == {(pos, t) for pos in ("state_approach", "threat") for t in (0.01, 0.02, None)}
    assert all(p["threshold"] == 0.5 for p in data["operating_points"] if p["target_fpr"] is None)
    cal = data["calibration"]
    assert len(cal["table"]) == 10 and sum(b["count"] for b in cal["table"]) == len(SMALL)
    assert 0.0 <= cal["ece"] <= 1.0 and 0.0 <= cal["brier"] <= 1.0
    assert data["threshold_report"] and all("benign_fpr" in r for r in data["threshold_report"])
    assert data["versions"] and sum(data["versions"].values()) == len(SMALL)
    assert "plots" not in data
    # without --threshold-report the per-threshold table is left out
    plain = json.loads(run("eval", "--json", corpus, cwd=tmp_path).stdout)
    assert "threshold_report" not in plain
    assert {k: v for k, v in data.items() if k != "threshold_report"} == plain


def test_eval_prints_tables_and_a_summary_line(corpus: Path, tmp_path: Path) -> None:
    result = run("eval", "--threshold-report", corpus, cwd=tmp_path)
    assert_ok(result)
    text = result.stdout
    for heading in (
        "Per label",
        "Confusion matrix",
        "Recall at benign FPR",
        "Calibration",
        "Every threshold",
    ):
        assert heading in text, heading
    assert "macro F1" in text
    summary = text.splitlines()[-1]
    assert summary.startswith(f"{len(SMALL)} records; macro F1 ")
    assert "at benign FPR <= 1% / 2%" in summary and "ECE" in summary


def test_eval_writes_both_pictures(corpus: Path, tmp_path: Path) -> None:
    plots = tmp_path / "out" / "plots"  # created, parents included
    result = run("eval", "--json", "--plots", plots, corpus, cwd=tmp_path)
    assert_ok(result)
    data = json.loads(result.stdout)
    assert set(data["plots"]) == {"reliability", "confusion"}
    assert sorted(p.name for p in plots.iterdir()) == ["confusion.png", "reliability.png"]  # no temp files
    for name in ("reliability.png", "confusion.png"):
        content = (plots / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE) and len(content) > 5_000
    # writing again over an existing folder replaces the pictures
    assert_ok(run("eval", "--plots", plots, corpus, cwd=tmp_path))
    assert sorted(p.name for p in plots.iterdir()) == ["confusion.png", "reliability.png"]


def test_eval_refuses_a_plots_path_that_is_a_file(corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("mine", encoding="utf-8")
    result = run("eval", "--plots", target, corpus, cwd=tmp_path)
    assert_one_line_error(result, "taken", "not a folder")
    assert target.read_text(encoding="utf-8") == "mine"


def test_eval_rejects_records_without_labels(tmp_path: Path) -> None:
    path = write_corpus(tmp_path / "unlabelled.jsonl", [SMALL[0], record("x9", None, BENIGN_TEXT)])
    result = run("eval", path, cwd=tmp_path)
    assert_one_line_error(result, "unlabelled.jsonl", "'x9'", "no 'label'")


def test_eval_rejects_inputs_that_are_not_the_corpus(corpus: Path, tmp_path: Path) -> None:
    eml = tmp_path / "note.eml"
    eml.write_text("From: a@example.org\nTo: b@example.org\nSubject: hi\n\nHello there\n", encoding="utf-8")
    result = run("eval", corpus, eml, cwd=tmp_path)
    assert_one_line_error(result, "note.eml", "not a labelled corpus file")
    assert_one_line_error(run("eval", "absent.jsonl", cwd=tmp_path), "absent.jsonl", "no such file")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**SMALL[0], "label": "spy"}) + "\n", encoding="utf-8")
    assert_one_line_error(run("eval", bad, cwd=tmp_path), "bad.jsonl:1", "label")


def test_eval_help_lists_every_option(tmp_path: Path) -> None:
    result = run("eval", "--help", cwd=tmp_path)
    assert_ok(result)
    for option in ("--json", "--plots", "--threshold-report", "--catalogue"):
        assert option in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_cli_start_up_does_not_load_the_evaluation_stack() -> None:
    code = (
        "import sys, lurewatch.cli; "
        "print(' '.join(m for m in ('matplotlib', 'lurewatch.evaluation', 'lurewatch.plots') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


# --- the development corpus ----------------------------------------------------------------------------------


def test_eval_over_the_shared_corpus(shared_eval: list[Path], tmp_path: Path) -> None:
    lines = sum(
        1 for path in shared_eval for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )
    plots = tmp_path / "plots"
    result = run("eval", "--json", "--plots", plots, *shared_eval, cwd=tmp_path)
    assert_ok(result)
    data = json.loads(result.stdout)
    assert data["records"] == lines
    assert sum(map(sum, data["confusion"]["matrix"])) == lines
    assert all(data["per_label"][c.value]["support"] > 0 for c in Category)
    assert 0.0 < data["macro_f1"] <= 1.0
    for name in ("reliability.png", "confusion.png"):
        assert (plots / name).read_bytes().startswith(PNG_SIGNATURE)


def test_counts_agree_with_the_benchmark_script(shared_eval: list[Path]) -> None:
    """Two independent implementations of per-label counts over the same corpus give the same numbers."""
    spec = importlib.util.spec_from_file_location("eval_rules_for_eval_test", BENCHMARK)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    core = Lurewatch()
    try:
        spec.loader.exec_module(script)
        reference = script.evaluate(shared_eval, core.screener)  # the same screener, counted separately
    finally:
        del sys.modules[spec.name]
    predictions = Predictions()
    predictions.extend(core.scan([str(p) for p in shared_eval]))
    ev = predictions.evaluate()
    for label, stats in reference.per_label.items():
        ours = ev.label(label)
        assert (ours.tp, ours.fp, ours.fn, ours.tn) == (stats.tp, stats.fp, stats.fn, stats.tn), label
    t = ev.threat
    assert (t.tp, t.fp, t.fn, t.tn) == (
        reference.threat.tp,
        reference.threat.fp,
        reference.threat.fn,
        reference.threat.tn,
    )
