"""The dashboard's inbox under load: latency percentiles at 50 concurrent clients over 100,000 approaches.

1. Builds (once, cached under ``benchmarks/out/``) a workspace of N approaches: a seeded
   ``lurewatch synth`` stream, each message screened by the bundled screener and imported, plus users.
2. Starts ``lurewatch serve`` (uvicorn, ``--workers`` processes) on loopback and signs in.
3. Drives it with wrk (Debian's ``wrk``, 50 connections) against the inbox page and its JSON twin, first
   page and a filtered page, twice: 50 clients that each load the page once a second (a team at work), and
   50 clients sending back to back, each its next request as soon as the last is answered (saturation: the
   latency is then mostly queueing, 50 requests deep); wrk's latency percentiles are read for both.
4. In the same run, the peer a team would otherwise point at the same SQLite file: Datasette's table view
   of ``approaches`` sorted by risk, 50 rows, HTML and JSON (``pip install datasette``; skipped if absent).

    .venv/bin/python benchmarks/bench_web.py                     # 100k approaches, 20 s per target
    .venv/bin/python benchmarks/bench_web.py --approaches 20000 --seconds 5

Results go to ``benchmarks/results/web.json`` with the machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "results"
PASSWORD = "benchmark password"

BUILD = r"""
import sys, time
import pyarrow.parquet as pq
from lurewatch.campaigns.engine import approach_from_row
from lurewatch.core import Lurewatch
from lurewatch.ingest.stream import parse_time
from lurewatch.model import IngestStats
from lurewatch.settings import Settings
from lurewatch.store.users import Users
from lurewatch.store.workspace import Workspace

stream, target = sys.argv[1], sys.argv[2]
core = Lurewatch(Settings())

def approaches():
    for batch in pq.ParquetFile(stream).iter_batches(batch_size=20_000):
        for row in batch.to_pylist():
            row["sent_at"] = parse_time(row["sent_at"])
            yield approach_from_row(row)

started = time.perf_counter()
with Workspace.open(target) as ws:
    items = core.screener.assess_many(approaches(), core.workers)
    summary = ws.import_approaches(stream, "bench", "corpus", items, IngestStats())
    users = Users(ws)
    users.add("bench-admin", "benchmark password", "admin")
    users.add("bench-analyst", "benchmark password", "analyst")
    print(summary.approaches_added, round(time.perf_counter() - started, 1))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def build_workspace(n: int) -> Path:
    OUT.mkdir(exist_ok=True)
    target = OUT / f"web-{n}.sqlite"
    if target.exists():
        return target
    stream = OUT / f"web-{n}.parquet"
    lurewatch = [sys.executable, "-m", "lurewatch"]
    subprocess.run([*lurewatch, "synth", str(n), str(stream), "--seed", "5"], check=True)
    partial = target.with_suffix(".partial.sqlite")
    partial.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(stream), str(partial)], check=True, capture_output=True, text=True
    )
    print(f"built {partial.name}: {done.stdout.strip()} (approaches, seconds)", file=sys.stderr)
    partial.rename(target)
    return target


def sign_in(base: str) -> str:
    import httpx

    with httpx.Client(base_url=base) as client:
        token = client.get("/api/login-token").json()["csrf_token"]
        response = client.post(
            "/api/login",
            json={"username": "bench-analyst", "password": PASSWORD},
            headers={"X-CSRF-Token": token},
        )
        response.raise_for_status()
        return str(client.cookies["lurewatch_session"])


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int, headers: list[str], think_ms: int = 0) -> dict[str, float]:
    """wrk's latency percentiles; with ``think_ms`` each client waits that long between requests."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if think_ms:
        script = OUT / f"think-{think_ms}.lua"
        # Random waits (mean think_ms) so the 50 clients do not fire in lock-step waves.
        script.write_text(
            f"function delay()\n  return math.random(0, {2 * think_ms})\nend\n", encoding="utf-8"
        )
        cmd += ["-s", str(script)]
    for h in headers:
        cmd += ["-H", h]
    text = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    out: dict[str, float] = {}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            out[f"p{pct}_ms"] = round(float(m.group(1)) * UNITS[m.group(2)], 2)
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["requests_per_s"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = m.group(1).strip() if m else "none"  # type: ignore[assignment]
    return out


def serve(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approaches", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    workspace = build_workspace(args.approaches)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LUREWATCH_WORKSPACE": str(workspace)}
    env.pop("LUREWATCH_DATABASE_URL", None)
    server = serve(
        [sys.executable, "-m", "lurewatch", "serve", "--port", str(port), "--workers", str(args.workers)], env
    )
    results: dict[str, object] = {}
    try:
        wait_for(f"{base}/login")
        cookie = f"Cookie: lurewatch_session={sign_in(base)}"
        targets = {
            "inbox page (HTML)": "/inbox",
            "inbox JSON twin": "/api/inbox",
            "inbox page, filtered (state approaches, new)": "/inbox?category=state_approach&status=new",
            "inbox JSON, filtered, page 20": "/api/inbox?category=state_approach&status=new&offset=1000",
        }
        for name, path in targets.items():
            wrk(base + path, 3, args.connections, [cookie])  # warm-up
            results[name] = {
                "clients_each_one_request_per_second": wrk(
                    base + path, args.seconds, args.connections, [cookie], think_ms=1000
                ),
                "clients_back_to_back": wrk(base + path, args.seconds, args.connections, [cookie]),
            }
            print(name, results[name], file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)

    peer: dict[str, object] = {}
    if shutil.which("datasette") or _has_module("datasette"):
        port = free_port()
        peer_base = f"http://127.0.0.1:{port}"
        proc = serve(
            [sys.executable, "-m", "datasette", "serve", "-i", str(workspace), "--port", str(port)],
            dict(os.environ),
        )
        try:
            wait_for(f"{peer_base}/")
            db = workspace.stem
            for name, path in {
                # No count and no facet suggestions: the fairest setting for the peer (it does neither
                # by default, and both cost it more than the page).
                "datasette table (HTML)": f"/{db}/approaches?_sort_desc=risk&_size=50&_nocount=1&_nofacet=1",
                "datasette table (JSON)": f"/{db}/approaches.json?_sort_desc=risk&_size=50&_nocount=1&_nofacet=1",
            }.items():
                wrk(peer_base + path, 3, args.connections, [])
                peer[name] = {
                    "clients_each_one_request_per_second": wrk(
                        peer_base + path, args.seconds, args.connections, [], think_ms=1000
                    ),
                    "clients_back_to_back": wrk(peer_base + path, args.seconds, args.connections, []),
                }
                print(name, peer[name], file=sys.stderr)
        finally:
            proc.kill()
            proc.wait(timeout=30)

    record = {
        "approaches": args.approaches,
        "connections": args.connections,
        "seconds_per_target": args.seconds,
        "server_workers": args.workers,
        "lurewatch": results,
        "peer": peer,
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "note": "wrk runs on the same 2-core machine as the server, so it takes CPU from it.",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    main()
