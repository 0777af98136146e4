"""Ownership benchmark: a generated national-scale PSC snapshot loaded and every ultimate owner computed.

Generates (outside the timed part) a Companies House-shaped PSC snapshot in JSON Lines under
``benchmarks/out/``: ``--companies`` companies and ``--records`` PSC records with the register's mix of
kinds (individuals, corporate PSCs pointing at other companies by registration number, some with the
leading zero dropped, legal persons including government bodies, super-secure PSCs, statements,
ceased records, the totals line), a shallow shape (most companies owned by people or one or two
holding tiers), a few thousand long chains and a dense core of cross-holding companies (strongly
connected components). Then, in a fresh child process (peak RSS from ``wait4``, like
bench_campaigns.py):

1. load the snapshot (``lurewatch.owners.psc.load_psc``; parsing counts) and build the graph;
2. compute every node's ultimate owners with interval shares (``all_ultimate_owners``);
3. screen single companies (``lurewatch.owners.screen.screen``) and report the median and worst latency.

Peer, in the same run, on a slice of the same file (``--peer-records``): what a user would otherwise
write - ``json`` + networkx (a DiGraph, condensation for cycles, effective shares summed over the
condensation in topological order with exact shares from the band midpoints); the ratio of times is
reported. Results go to ``benchmarks/results/owners.json`` with the machine and its load.

    .venv/bin/python benchmarks/bench_owners.py --companies 6000000 --records 13000000
"""

# ruff: noqa: UP031  (%-formatting: the fastest way to write millions of JSON lines)
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

# Wall time and peak RSS of a child process tree, measured as bench_campaigns does (this folder is sys.path[0]).
from bench_campaigns import run_measured

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
RESULTS = ROOT / "results"

FIRST = ["Ada", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jun", "Kai", "Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tao", "Uma", "Vik", "Wen", "Xia", "Yara", "Zoe"]  # fmt: skip
LAST = ["Smith", "Jones", "Wang", "Li", "Patel", "Khan", "Brown", "Taylor", "Zhang", "Liu", "Evans", "Murphy", "Chen", "Singh", "Walker", "Wright", "Roberts", "Green", "Hall", "Wood"]  # fmt: skip

CHILD = r"""
import json, sys, time
import numpy as np
from lurewatch.owners.graph import GraphBuilder
from lurewatch.owners.psc import load_psc
from lurewatch.owners.ubo import all_ultimate_owners
from lurewatch.owners.screen import screen
t0 = time.perf_counter()
b = GraphBuilder()
stats = load_psc(sys.argv[1], b, memory_limit=sys.argv[3])
t1 = time.perf_counter()
g = b.build()
g.in_edges()  # the holders index that screenings walk: built once, as part of loading
t2 = time.perf_counter()
u = all_ultimate_owners(g)
t3 = time.perf_counter()
rng = np.random.default_rng(1)
companies = [i for i in rng.integers(0, g.n, 400).tolist() if g.id_of(i).startswith("GB-COH-")][:60]
core = g.index_of("GB-COH-" + sys.argv[4])
if core is not None:
    companies.append(core)
lat = []
for c in companies:
    s = time.perf_counter(); r = screen(g, c, whole=u); lat.append(time.perf_counter() - s)
    whole = {g.id_of(x) for x, lo, hi in u.of(c) if x != c}
    assert {r.graph.id_of(o.node) for o in r.ultimate_owners if not o.declared} == whole
    if len(lat) <= 5:  # the reused row equals a fresh computation on the subject's ancestors
        fresh = screen(g, c)
        assert [(o.node, round(o.share_min, 4), round(o.share_max, 4)) for o in fresh.ultimate_owners] == [
            (o.node, round(o.share_min, 4), round(o.share_max, 4)) for o in r.ultimate_owners]
with open(sys.argv[2], "w") as fh:
    json.dump({"load_seconds": t1 - t0, "build_seconds": t2 - t1, "ubo_seconds": t3 - t2,
               "nodes": g.n, "edges": g.m, "ubo_entries": u.nnz, "levels": u.levels,
               "cyclic_components": int((u.component_size > 1).sum()),
               "largest_component": int(u.component_size.max()),
               "screen_ms_median": 1000 * float(np.median(lat)), "screen_ms_max": 1000 * float(np.max(lat)),
               "screen_core_ms": 1000 * lat[-1] if core is not None else None,
               "screenings": len(lat), "psc_stats": stats}, fh, default=str)
"""

PEER = r"""
import json, sys, time
import networkx as nx
t0 = time.perf_counter()
g = nx.DiGraph()
band = {"25": 0.375, "50": 0.625, "75": 0.875}
with open(sys.argv[1]) as fh:
    for n, line in enumerate(fh):
        if n >= int(sys.argv[2]):
            break
        r = json.loads(line)
        d = r["data"]
        if "company_number" not in r or d.get("ceased_on") or "natures_of_control" not in d:
            continue
        held = r["company_number"].zfill(8)
        ident = d.get("identification") or {}
        holder = ident.get("registration_number", "").zfill(8) if d["kind"].startswith("corporate") and ident.get("registration_number") else d.get("name", "")
        w = 0.125
        for x in d["natures_of_control"]:
            if x.startswith("ownership-of-shares-"):
                w = band.get(x.split("-")[3], 0.5)
        g.add_edge(holder, held, w=w)
t1 = time.perf_counter()
cond = nx.condensation(g)
members = cond.graph["mapping"]
owners = {}
for c in nx.topological_sort(cond):
    nodes = cond.nodes[c]["members"]
    for v in nodes:
        preds = [u for u in g.predecessors(v) if members[u] != c]
        if not preds and not any(members[u] == c for u in g.predecessors(v)):
            owners[v] = {v: 1.0}
            continue
        acc = {}
        for u in preds:
            for r, s in owners[u].items():
                acc[r] = acc.get(r, 0.0) + g[u][v]["w"] * s
        owners[v] = acc
t2 = time.perf_counter()
print(json.dumps({"load_seconds": t1 - t0, "ubo_seconds": t2 - t1, "nodes": g.number_of_nodes(), "edges": g.number_of_edges()}))
"""


def _number(i: np.ndarray) -> list[str]:
    return [f"{x:08d}" for x in i.tolist()]


def generate(path: Path, companies: int, records: int, seed: int, core: int, chains: int) -> dict[str, int]:
    """Write a PSC-shaped snapshot; returns what it planted."""
    rng = np.random.default_rng(seed)
    # tiers: 0 = top holding companies (owned by people), higher tiers owned by lower ones
    tier = rng.choice(4, size=companies, p=[0.80, 0.14, 0.05, 0.01])
    by_tier = [np.flatnonzero(tier == t) for t in range(4)]
    core_ids = rng.choice(by_tier[0], size=min(core, len(by_tier[0])), replace=False)
    persons = max(1, int(records * 0.55))
    written = 0
    counts: dict[str, int] = {
        "individual": 0,
        "corporate": 0,
        "legal": 0,
        "state": 0,
        "super_secure": 0,
        "statement": 0,
        "ceased": 0,
    }
    with open(path, "w", encoding="utf-8") as out:

        def company_line(c: int, holder_number: int, band: str, notified: str, drop_zero: bool) -> str:
            reg = str(holder_number) if drop_zero else f"{holder_number:08d}"
            return (
                '{"company_number":"%08d","data":{"address":{"address_line_1":"1 Example Street","country":"England",'
                '"locality":"London","postal_code":"EC1A 1AA","premises":"1"},"etag":"%032x","identification":'
                '{"country_registered":"England And Wales","legal_authority":"Companies Act 2006","legal_form":'
                '"Private Limited Company","place_registered":"Companies House","registration_number":"%s"},'
                '"kind":"corporate-entity-person-with-significant-control","links":{"self":"/company/%08d/persons-'
                'with-significant-control/corporate-entity/x"},"name":"Holding %d Limited","natures_of_control":'
                '["ownership-of-shares-%s-percent","voting-rights-%s-percent"],"notified_on":"%s"}}\n'
                % (c, c * 7919 + holder_number, reg, c, holder_number, band, band, notified)
            )

        def person_line(c: int, p: int, band: str, notified: str, ceased: bool) -> str:
            first, last = FIRST[p % len(FIRST)], LAST[(p // len(FIRST)) % len(LAST)]
            tail = ',"ceased_on":"2023-05-01"' if ceased else ""
            return (
                '{"company_number":"%08d","data":{"address":{"address_line_1":"2 Sample Road","country":"England",'
                '"locality":"Leeds","postal_code":"LS1 1AA","premises":"2"},"country_of_residence":"England",'
                '"date_of_birth":{"month":%d,"year":%d},"etag":"%032x","kind":"individual-person-with-significant-'
                'control","links":{"self":"/company/%08d/persons-with-significant-control/individual/y"},'
                '"name":"%s %s %d","name_elements":{"forename":"%s","surname":"%s %d"},"nationality":"British",'
                '"natures_of_control":["ownership-of-shares-%s-percent"],"notified_on":"%s"%s}}\n'
                % (
                    c,
                    p % 12 + 1,
                    1940 + p % 60,
                    c * 104729 + p,
                    c,
                    first,
                    last,
                    p,
                    first,
                    last,
                    p,
                    band,
                    notified,
                    tail,
                )
            )

        bands = np.array(["25-to-50", "50-to-75", "75-to-100"])
        batch = 1_000_000
        corporate_share = 0.22
        while written < records:
            n = min(batch, records - written)
            c = rng.integers(0, companies, n)
            kind = rng.random(n)
            band = bands[rng.choice(3, n, p=[0.45, 0.15, 0.40])]
            lines = []
            day = rng.integers(1, 28, n)
            month = rng.integers(1, 13, n)
            year = rng.integers(2016, 2025, n)
            for i in range(n):
                ci = int(c[i])
                k = kind[i]
                notified = f"{year[i]}-{month[i]:02d}-{day[i]:02d}"
                t = int(tier[ci])
                if k < corporate_share and t > 0:
                    parent = int(rng.choice(by_tier[t - 1]))
                    lines.append(company_line(ci, parent, str(band[i]), notified, k < 0.02))
                    counts["corporate"] += 1
                elif k < 0.955:
                    p = int(rng.integers(0, persons))
                    ceased = k > 0.90
                    lines.append(person_line(ci, p, str(band[i]), notified, ceased))
                    counts["individual" if not ceased else "ceased"] += 1
                elif k < 0.975:
                    lines.append(
                        '{"company_number":"%08d","data":{"kind":"persons-with-significant-control-statement",'
                        '"statement":"no-individual-or-entity-with-signficant-control","notified_on":"%s"}}\n'
                        % (ci, notified)
                    )
                    counts["statement"] += 1
                elif k < 0.985:
                    state = k < 0.977
                    name = "Ministry Of Finance" if state else f"Trust Corporation {ci % 5000}"
                    form = "Government Department" if state else "Corporation Sole"
                    lines.append(
                        '{"company_number":"%08d","data":{"identification":{"legal_authority":"Examplia","legal_form":"%s"},'
                        '"kind":"legal-person-person-with-significant-control","name":"%s","natures_of_control":'
                        '["ownership-of-shares-%s-percent"],"notified_on":"%s"}}\n'
                        % (ci, form, name, band[i], notified)
                    )
                    counts["state" if state else "legal"] += 1
                else:
                    lines.append(
                        '{"company_number":"%08d","data":{"kind":"super-secure-person-with-significant-control",'
                        '"description":"super-secure-persons-with-significant-control"}}\n' % ci
                    )
                    counts["super_secure"] += 1
            out.write("".join(lines))
            written += n
        # the dense core: each core company holds 25-50% of three others in the core
        core_lines = []
        for ci in core_ids.tolist():
            for parent in rng.choice(core_ids, 3, replace=False).tolist():
                if parent != ci:
                    core_lines.append(company_line(ci, parent, "25-to-50", "2020-01-01", False))
        # long chains: companies beyond the main numbering, each held 75-100% by the next
        base = companies
        for ch in range(chains):
            for step in range(15):
                a = base + ch * 16 + step
                core_lines.append(company_line(a, a + 1, "75-to-100", "2021-01-01", False))
        out.write("".join(core_lines))
        out.write(
            '{"data":{"kind":"totals#persons-of-significant-control-snapshot","persons_of_significant_control_count":%d,'
            '"statements_count":%d,"exemptions_count":0,"generated_at":"2024-11-22T03:43:03Z"}}\n'
            % (written + len(core_lines) - counts["statement"], counts["statement"])
        )
    counts["core_companies"] = len(core_ids)
    counts["core_example"] = f"{int(core_ids[0]):08d}" if len(core_ids) else ""  # type: ignore[assignment]
    counts["core_records"] = len(core_lines) - chains * 15
    counts["chains"] = chains
    counts["records"] = written + len(core_lines)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=6_000_000)
    parser.add_argument("--records", type=int, default=13_000_000)
    parser.add_argument("--core", type=int, default=2_000, help="companies in the cross-holding core")
    parser.add_argument("--chains", type=int, default=2_000, help="chains of 15 companies")
    parser.add_argument("--peer-records", type=int, default=300_000)
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit while parsing")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", default="owners.json")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    snapshot = OUT / f"psc-{args.companies}-{args.records}-{args.seed}.jsonl"
    meta = snapshot.with_suffix(".planted.json")
    if not snapshot.exists() or not meta.exists():
        started = time.perf_counter()
        planted = generate(snapshot, args.companies, args.records, args.seed, args.core, args.chains)
        planted["generation_seconds"] = round(time.perf_counter() - started, 1)
        meta.write_text(json.dumps(planted))
    planted = json.loads(meta.read_text())
    load_before = os.getloadavg()
    report = OUT / "owners-child.json"
    core_number = planted.get("core_example")
    wall, peak_kib, _ = run_measured(
        [sys.executable, "-c", CHILD, str(snapshot), str(report), args.memory_limit, core_number or "x"]
    )
    child = json.loads(report.read_text())
    # peer and lurewatch on the same slice
    slice_path = OUT / f"psc-slice-{args.peer_records}.jsonl"
    with open(snapshot, encoding="utf-8") as src, open(slice_path, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n >= args.peer_records:
                break
            dst.write(line)
    _, peer_kib, peer_out = run_measured(
        [sys.executable, "-c", PEER, str(slice_path), str(args.peer_records)]
    )
    peer = json.loads(peer_out)
    slice_report = OUT / "owners-slice-child.json"
    _, ours_kib, _ = run_measured(
        [sys.executable, "-c", CHILD, str(slice_path), str(slice_report), args.memory_limit, "x"]
    )
    ours = json.loads(slice_report.read_text())
    ours_total = ours["load_seconds"] + ours["build_seconds"] + ours["ubo_seconds"]
    peer_total = peer["load_seconds"] + peer["ubo_seconds"]
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    total = child["load_seconds"] + child["build_seconds"] + child["ubo_seconds"]
    record = {
        "benchmark": "owners",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "input": {"companies": args.companies, "file_bytes": snapshot.stat().st_size, **planted},
        "result": {
            "load_build_ubo_seconds": round(total, 1),
            "load_seconds": round(child["load_seconds"], 1),
            "build_seconds": round(child["build_seconds"], 1),
            "ubo_seconds": round(child["ubo_seconds"], 1),
            "wall_seconds_including_start_and_screenings": round(wall, 1),
            "peak_rss_mib": round(peak_kib / 1024),
            **{
                k: child[k]
                for k in (
                    "nodes",
                    "edges",
                    "ubo_entries",
                    "levels",
                    "cyclic_components",
                    "largest_component",
                    "screenings",
                )
            },
            "screen_ms_median": round(child["screen_ms_median"], 1),
            "screen_ms_max": round(child["screen_ms_max"], 1),
            "screen_core_ms": round(child["screen_core_ms"], 1) if child["screen_core_ms"] else None,
            "psc_stats": child["psc_stats"],
        },
        "peer": {
            "what": "json module + networkx DiGraph, condensation, owners summed in topological order (exact midpoints, no intervals)",
            "records": args.peer_records,
            "networkx_seconds": round(peer_total, 2),
            "networkx_peak_rss_mib": round(peer_kib / 1024),
            "lurewatch_seconds": round(ours_total, 2),
            "lurewatch_peak_rss_mib": round(ours_kib / 1024),
            "speedup": round(peer_total / ours_total, 1),
        },
    }
    (RESULTS / args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
