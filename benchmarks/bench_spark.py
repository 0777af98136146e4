"""The Spark engine against the local one: same stream, same campaigns, time per stage as cores grow.

For each size, ``lurewatch synth`` writes a seeded stream (Parquet) with planted campaigns and its
ground truth. Then fresh processes run the whole pipeline on it: the local engine (NumPy / SciPy /
DuckDB, default workers), and the Spark engine in local mode with one core (``local[1]``) and with two
(``local[2]``). Each run records the engine's per-stage seconds, the peak memory of its process tree
(driver, JVM, Python workers, summed, sampled every 0.2 s), B-cubed precision and recall against the
truth, and whether its campaigns have exactly the local engine's membership. The load average before
and after each run is recorded too: the machine is shared.

    .venv/bin/python benchmarks/bench_spark.py                       # 1M and 5M messages
    .venv/bin/python benchmarks/bench_spark.py --sizes 200000 --out spark-200k.json

Results go to ``benchmarks/results/spark.json`` with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "results"

CHILD = r"""
import json, sys, time
from lurewatch.campaigns.engine import find_campaigns
from lurewatch.campaigns.evaluation import read_truth, score
from lurewatch.core import Lurewatch

stream, truth_path, report, engine = sys.argv[1:5]
core = Lurewatch()
options = core.campaign_options()
started = time.perf_counter()
if engine == "local":
    from lurewatch.ingest.stream import FileStream

    run = core.find_campaigns(FileStream(stream), options)
else:
    from lurewatch.campaigns.spark import SparkBackend, SparkStream, spark_session

    spark = spark_session(engine, {
        "spark.driver.memory": sys.argv[5],
        "spark.sql.shuffle.partitions": sys.argv[6],
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    })
    spark.sparkContext.setLogLevel("ERROR")
    session_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with SparkBackend(spark) as backend:
        run = find_campaigns(SparkStream(stream), backend, core.screener, options)
    run.stats["session_start_seconds"] = round(session_seconds, 2)
seconds = time.perf_counter() - started
truth, sequences = read_truth(truth_path)
result = score(run.campaigns, truth, sequences).as_dict()
result.pop("per_campaign")
members = sorted(sorted(c.message_ids) for c in run.campaigns)
with open(report, "w", encoding="utf-8") as fh:
    json.dump({"pipeline_seconds": round(seconds, 2), "stats": run.stats, "score": result, "members": members}, fh, default=str)
"""


def _tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (KiB), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            pid, ppid = int(entry), int(fields[1])
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            children.setdefault(ppid, []).append(pid)
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak summed resident memory (KiB) of the child's process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    code = proc.wait()
    done.set()
    sampler.join()
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{cmd[3:]} failed: {stderr.decode(errors='replace')[-3000:]}")
    return elapsed, peak[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,5000000", help="comma-separated stream sizes")
    parser.add_argument("--masters", default="local[1],local[2]", help="Spark masters to compare")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument(
        "--driver-memory", default="10g", help="spark.driver.memory (local mode: all of Spark)"
    )
    parser.add_argument("--out", default="spark.json", help="file name under benchmarks/results")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="keep the recorded results and replace only the runs made now (the local engine always runs, for "
        "the comparison; its row is replaced too)",
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    exe = Path(sys.executable)
    lurewatch = exe.with_name("lurewatch")
    results: list[dict] = []
    recorded = RESULTS / args.out
    if args.rerun and recorded.exists():
        results = json.loads(recorded.read_text(encoding="utf-8"))["results"]
    for size in (int(s) for s in args.sizes.split(",") if s):
        stream = OUT / f"campaigns-{size}-{args.seed}.parquet"
        truth = OUT / f"campaigns-{size}-{args.seed}.truth.jsonl"
        if not stream.exists() or not truth.exists():
            subprocess.run(
                [str(lurewatch), "synth", str(size), str(stream), "--seed", str(args.seed), "--campaigns", str(args.campaigns), "--truth", str(truth)],
                check=True,
            )  # fmt: skip
        # about 250k messages per shuffle partition, at least 8
        partitions = str(max(8, size // 250_000))
        local_members = None
        local_seconds = None
        for engine in ["local", *args.masters.split(",")]:
            report = OUT / f"spark-{size}-{args.seed}-{engine}.result.json"
            load_before = os.getloadavg()
            cmd = [
                str(exe),
                "-c",
                CHILD,
                str(stream),
                str(truth),
                str(report),
                engine,
                args.driver_memory,
                partitions,
            ]
            wall, peak_kib = run_measured(cmd)
            load_after = os.getloadavg()
            child = json.loads(report.read_text(encoding="utf-8"))
            members = child.pop("members")
            if engine == "local":
                local_members, local_seconds = members, child["pipeline_seconds"]
            row = {
                "messages": size,
                "engine": engine,
                "campaigns_planted": args.campaigns,
                "campaigns_found": child["stats"].get("campaigns"),
                "same_membership_as_local": members == local_members,
                "wall_seconds_including_start": round(wall, 1),
                "pipeline_seconds": child["pipeline_seconds"],
                "seconds_vs_local": round(child["pipeline_seconds"] / local_seconds, 2)
                if local_seconds
                else None,
                "messages_per_second": round(size / child["pipeline_seconds"]),
                "peak_rss_mib_process_tree": round(peak_kib / 1024),
                "stage_seconds": child["stats"].get("seconds"),
                "session_start_seconds": child["stats"].get("session_start_seconds"),
                "shuffle_partitions": int(partitions) if engine != "local" else None,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
                "score": child["score"],
            }
            results = [r for r in results if (r["messages"], r["engine"]) != (size, engine)] + [row]
            results.sort(key=lambda r: (r["messages"], r["engine"] != "local", r["engine"]))
            print(json.dumps(row), file=sys.stderr, flush=True)
            _write(args, results)
    _print(results)


def _write(args: argparse.Namespace, results: list[dict]) -> None:
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "java": _java_version(),
        "pyspark": _pyspark_version(),
    }
    record = {
        "benchmark": "spark",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "driver_memory": args.driver_memory,
        "results": results,
    }
    (RESULTS / args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    except OSError:
        return "absent"
    return (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) else "unknown"


def _pyspark_version() -> str:
    try:
        from importlib.metadata import version

        return version("pyspark")
    except Exception:
        return "absent"


def _print(results: list[dict]) -> None:
    print(
        f"{'messages':>10} {'engine':>9} {'seconds':>8} {'msg/s':>8} {'vs local':>8} {'peak MiB':>9} {'B3 P':>6} {'B3 R':>6} same"
    )
    for r in results:
        s = r["score"]
        print(
            f"{r['messages']:>10,} {r['engine']:>9} {r['pipeline_seconds']:>8} {r['messages_per_second']:>8,} "
            f"{r['seconds_vs_local'] or 1:>8} {r['peak_rss_mib_process_tree']:>9} {s['bcubed_precision']:>6} "
            f"{s['bcubed_recall']:>6} {r['same_membership_as_local']}"
        )


if __name__ == "__main__":
    main()
