"""Campaign detection end to end: quality on planted campaigns, time and peak memory as the stream grows.

For each size, ``lurewatch synth`` writes a seeded stream (Parquet) with planted campaigns and its
ground truth, then a fresh process runs the whole pipeline (read, sketch, wording groups, evidence
links, account groups, screening of candidates, report) on the local backend with the default
workers, and scores the result against the truth: B-cubed precision and recall of campaign
membership over messages, and the benign recruiter/sales sequences merged into a campaign (must be
none). Peak memory is the kernel's ru_maxrss over the process tree (the largest single process).

    .venv/bin/python benchmarks/bench_campaigns.py                      # 1M and 10M messages
    .venv/bin/python benchmarks/bench_campaigns.py --sizes 1000000      # quality only

Results go to ``benchmarks/results/campaigns.json`` with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "results"

CHILD = r"""
import json, sys, time
from lurewatch.campaigns.evaluation import read_truth, read_truth_categories, score
from lurewatch.core import Lurewatch
from lurewatch.ingest.stream import FileStream

core = Lurewatch()
started = time.perf_counter()
run = core.find_campaigns(FileStream(sys.argv[1]))
seconds = time.perf_counter() - started
truth, sequences = read_truth(sys.argv[2])
result = score(run.campaigns, truth, sequences, read_truth_categories(sys.argv[2])).as_dict()
per = result.pop("per_campaign")
# Per planted label: how many campaigns were found whole and given that label.
labels = {}
for item in per.values():
    row = labels.setdefault(item["category"], {"planted": 0, "category_matched": 0})
    row["planted"] += 1
    row["category_matched"] += int(item["found_category"] == item["category"])
result["per_label"] = labels
with open(sys.argv[3], "w", encoding="utf-8") as fh:
    json.dump({"pipeline_seconds": round(seconds, 2), "stats": run.stats, "score": result}, fh, default=str)
"""


def run_measured(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak resident memory (KiB) of the child's process tree, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:3]} failed: {stderr.decode(errors='replace')[-3000:]}")
    return elapsed, usage.ru_maxrss, stdout.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="comma-separated stream sizes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--out", default="campaigns.json", help="file name under benchmarks/results")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    exe = Path(sys.executable)
    lurewatch = exe.with_name("lurewatch")
    results = []
    for size in (int(s) for s in args.sizes.split(",") if s):
        stream = OUT / f"campaigns-{size}-{args.seed}.parquet"
        truth = OUT / f"campaigns-{size}-{args.seed}.truth.jsonl"
        if not stream.exists() or not truth.exists():
            subprocess.run(
                [str(lurewatch), "synth", str(size), str(stream), "--seed", str(args.seed), "--campaigns", str(args.campaigns), "--truth", str(truth)],
                check=True,
            )  # fmt: skip
        report = OUT / f"campaigns-{size}-{args.seed}.result.json"
        wall, peak_kib, _ = run_measured([str(exe), "-c", CHILD, str(stream), str(truth), str(report)])
        child = json.loads(report.read_text(encoding="utf-8"))
        row = {
            "messages": size,
            "campaigns_planted": args.campaigns,
            "wall_seconds_including_start": round(wall, 1),
            "pipeline_seconds": child["pipeline_seconds"],
            "messages_per_second": round(size / child["pipeline_seconds"]),
            "peak_rss_mib": round(peak_kib / 1024),
            "stage_seconds": child["stats"].get("seconds"),
            "candidates_screened": child["stats"].get("candidates"),
            "links_by_kind": child["stats"].get("links_by_kind"),
            "score": child["score"],
        }
        results.append(row)
        print(json.dumps(row), file=sys.stderr)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    record = {
        "benchmark": "campaigns",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "results": results,
    }
    (RESULTS / args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(
        f"{'messages':>11} {'seconds':>8} {'msg/s':>9} {'peak MiB':>9} {'B3 prec':>8} {'B3 rec':>7} {'seq merged':>10}"
    )
    for r in results:
        s = r["score"]
        print(
            f"{r['messages']:>11,} {r['pipeline_seconds']:>8} {r['messages_per_second']:>9,} "
            f"{r['peak_rss_mib']:>9} {s['bcubed_precision']:>8} {s['bcubed_recall']:>7} "
            f"{len(s['sequences_merged']):>10}"
        )


if __name__ == "__main__":
    main()
