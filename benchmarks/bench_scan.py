"""Parse and screen synthetic LinkedIn exports end to end; messages per second and peak memory.

Runs ``lurewatch scan --json EXPORT`` (``--repeat`` times, fastest kept) in a fresh process for exports of several sizes (so that peak
memory can be compared across sizes: it must stay flat), and in the same run a peer a security
officer would otherwise script: Python's csv module over messages.csv with one keyword regex
(no threading of conversations, no evidence, no scoring). Results go to
``benchmarks/results/scan.json`` and are printed as a table.

    .venv/bin/python benchmarks/bench_scan.py                 # 100k, 300k and 1M messages
    .venv/bin/python benchmarks/bench_scan.py --sizes 100000  # quicker

Each size is measured with the bundled text model (rules and model, what lurewatch ships) and with
``LUREWATCH_MODEL=off`` (the rule engine alone), with the default worker processes
(``LUREWATCH_WORKERS=-1``: one per core). Peak memory is that of the largest single process (the
kernel's ru_maxrss over the process tree), not their sum.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "results"

PEER = r"""
import csv, io, re, sys, zipfile
KEYWORDS = re.compile(r"\b(consult\w*|report|white paper|wechat|whatsapp|telegram|all expenses|cv|resume|"
                      r"crypto|usdt|confidential\w*|trip|invite\w*|honorarium|paid)\b", re.I)
hits = rows = 0
with zipfile.ZipFile(sys.argv[1]) as zf:
    name = next(n for n in zf.namelist() if n.lower().endswith("messages.csv"))
    with zf.open(name) as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")):
            rows += 1
            if KEYWORDS.search(row.get("CONTENT") or ""):
                hits += 1
print(rows, hits)
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    """Wall seconds and peak resident memory (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdout_chunks = []
    assert proc.stdout is not None
    lines = 0
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
        lines += chunk.count(b"\n")
        if len(stdout_chunks) < 1:
            stdout_chunks.append(chunk[:2000])
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {stderr.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss, str(lines).encode()


def count_messages(export: Path) -> int:
    import csv
    import io

    with zipfile.ZipFile(export) as zf:
        name = next(n for n in zf.namelist() if n.lower().endswith("messages.csv"))
        with zf.open(name) as raw:
            return sum(1 for _ in csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))) - 1


def _row(
    messages: int, runs: list, seconds: float, peak_kib: int, peer_seconds: float, peer_kib: int
) -> dict:
    return {
        "messages": messages,
        "approaches": int(runs[0][2]),
        "seconds": round(seconds, 2),
        "all_seconds": [round(r[0], 2) for r in runs],
        "messages_per_second": round(messages / seconds),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "peer_seconds": round(peer_seconds, 2),
        "peer_messages_per_second": round(messages / peer_seconds),
        "peer_peak_rss_mib": round(peer_kib / 1024, 1),
        "lurewatch_time_over_peer": round(seconds / peer_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size; the fastest is reported (shared VMs are noisy)"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="LUREWATCH_MODEL values to measure, each its own row (default: bundled and off)",
    )
    parser.add_argument("--workers", default="-1", help="LUREWATCH_WORKERS for the lurewatch runs")
    parser.add_argument("--out", default="scan.json", help="result file name under benchmarks/results")
    args = parser.parse_args()

    from lurewatch.synth.linkedin_export import write_large_export

    OUT.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    lurewatch = [sys.executable, "-m", "lurewatch"]
    results = []
    for size in args.sizes:
        export = OUT / f"export-{size}.zip"
        if not export.exists():
            t = time.perf_counter()
            write_large_export(export, size, args.seed)
            print(f"wrote {export.name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        messages = count_messages(export)
        peers = [run_measured([sys.executable, "-c", PEER, str(export)]) for _ in range(args.repeat)]
        peer_seconds, peer_kib = min(r[0] for r in peers), max(r[1] for r in peers)
        for model in args.model or ["bundled", "off"]:
            env = {k: v for k, v in os.environ.items() if not k.startswith("LUREWATCH_")}
            env.update(LUREWATCH_MODEL=model, LUREWATCH_WORKERS=args.workers)
            command = [*lurewatch, "scan", "--json", str(export)]
            runs = [run_measured(command, env) for _ in range(args.repeat)]
            seconds, peak_kib = min(r[0] for r in runs), max(r[1] for r in runs)
            row = _row(messages, runs, seconds, peak_kib, peer_seconds, peer_kib)
            row = {"model": model, "workers": args.workers, **row}
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    record = {"benchmark": "scan", "date": time.strftime("%Y-%m-%d"), "machine": machine, "results": results}
    (RESULTS / args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"{'model':>8} {'messages':>10} {'msg/s':>9} {'peak MiB':>9} {'peer msg/s':>11} {'time/peer':>9}")
    for r in results:
        print(
            f"{r['model']:>8} {r['messages']:>10,} {r['messages_per_second']:>9,} {r['peak_rss_mib']:>9} "
            f"{r['peer_messages_per_second']:>11,} {r['lurewatch_time_over_peer']:>9}"
        )


if __name__ == "__main__":
    main()
