"""Screening one counterparty: its ultimate owners and controllers, every path, flags and list matches.

:func:`screen` works on the part of the graph that can reach the subject (its ancestors, at most
``max_nodes`` of them), so one screening costs milliseconds whatever the size of the register.
:func:`result_json` is the ``--json`` record and :func:`graph_view` the drawable graph for the web
dashboard; both are plain JSON-able data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lurewatch.model import PartyKind, Path
from lurewatch.owners.graph import (
    C_OWNERSHIP,
    CONTROL_MASK,
    NODE_FLAG_NAMES,
    OwnershipGraph,
    control_names,
    day_text,
)
from lurewatch.owners.ubo import UltimateOwners, all_ultimate_owners

MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Match:
    """A party of the screened structure that matches a list entry."""

    node: str
    node_name: str
    list_name: str
    entry_id: str
    entry_name: str
    score: float
    reason: str
    programs: str = ""


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str
    severity: str
    explanation: str
    path: Path | None = None
    #: the rule applied, where there is one (``effective share >= 25%``, ``aggregate 50% rule``)
    rule: str = ""


@dataclass(slots=True)
class Owner:
    node: int
    share_min: float  # percent
    share_max: float
    paths: list[Path]
    #: the interval was narrowed (or given) by the source's own declared indirect figure
    declared: bool = False
    control: tuple[str, ...] = ()


@dataclass(slots=True)
class ScreeningResult:
    graph: OwnershipGraph  # the subject's ancestor subgraph (local node numbers)
    subject: int
    ultimate_owners: list[Owner]
    controllers: list[Owner]
    flags: list[Flag] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    truncated: bool = False
    paths_truncated: bool = False
    threshold: float = 25.0
    #: every enumerated ownership/control path, by the local node it ends at
    paths_to: dict[int, list[Path]] = field(default_factory=dict)
    #: effective share interval (percent) of every ancestor in the subject, first-holder semantics
    shares: dict[int, tuple[float, float]] = field(default_factory=dict)


def _edge_table(g: OwnershipGraph) -> dict[int, list[tuple[int, float, float, int]]]:
    """Holders of each node: (holder, lo, hi, bits); ownership merged and tightened, control kept."""
    lo, hi, held, holder = g.ownership_edges()
    # the bits of every (held, holder) pair OR-ed together, vectorised (a subgraph has thousands)
    pairs, inverse = np.unique(g.held.astype(np.int64) * g.n + g.holder, return_inverse=True)
    merged = np.zeros(len(pairs), dtype=np.int64)
    np.bitwise_or.at(merged, inverse, g.bits.astype(np.int64))
    owned = np.searchsorted(pairs, held * g.n + holder)
    table: dict[int, list[tuple[int, float, float, int]]] = {}
    for v, h, a, b, bits in zip(
        held.tolist(),
        holder.tolist(),
        lo.tolist(),
        hi.tolist(),
        (merged[owned] | C_OWNERSHIP).tolist(),
        strict=True,
    ):
        table.setdefault(v, []).append((h, a, b, bits))
    control = np.ones(len(pairs), dtype=bool)
    control[owned] = False
    control &= (merged & CONTROL_MASK) != 0
    control &= pairs // g.n != pairs % g.n
    nan = float("nan")
    for pair, bits in zip(pairs[control].tolist(), merged[control].tolist(), strict=True):
        table.setdefault(pair // g.n, []).append((pair % g.n, nan, nan, bits))
    for rows in table.values():
        rows.sort(key=lambda r: (-(r[2] if r[2] == r[2] else -1), r[0]))
    return table


def _paths(
    g: OwnershipGraph, subject: int, table: dict[int, list[tuple[int, float, float, int]]], max_paths: int
) -> tuple[dict[int, list[Path]], dict[int, list[Path]], bool]:
    """Simple paths from the subject up to every ancestor (depth first, strongest share first), and
    among them the paths of control (every step a control step, :func:`_is_control_step`)."""
    ids = [g.id_of(i) for i in range(g.n)]
    out: dict[int, list[Path]] = {}
    control_out: dict[int, list[Path]] = {}
    count = 0
    truncated = False

    def visit(
        v: int,
        nodes: list[int],
        steps: list[tuple[float, float, tuple[str, ...]]],
        lo: float,
        hi: float,
        control: bool,
    ) -> None:
        nonlocal count, truncated
        if len(nodes) > MAX_DEPTH:
            truncated = True
            return
        for h, a, b, bits in table.get(v, ()):
            if h in nodes:
                continue
            if count >= max_paths:
                truncated = True
                return
            own = a == a  # not NaN
            step = (
                round(a * 100, 6) if own else 0.0,
                round(b * 100, 6) if own else 0.0,
                control_names(bits & ~C_OWNERSHIP),
            )
            nlo = lo * a if own else 0.0
            nhi = hi * b if own else 0.0
            path_nodes = [*nodes, h]
            path = Path(
                nodes=tuple(ids[x] for x in path_nodes),
                steps=(*steps, step),
                share_min=round(nlo * 100, 6),
                share_max=round(nhi * 100, 6),
            )
            out.setdefault(h, []).append(path)
            control_path = control and _is_control_step(step)
            if control_path:
                control_out.setdefault(h, []).append(path)
            count += 1
            visit(h, path_nodes, [*steps, step], nlo, nhi, control_path)

    visit(subject, [subject], [], 1.0, 1.0, True)
    return out, control_out, truncated


def _is_control_step(step: tuple[float, float, tuple[str, ...]]) -> bool:
    lo, _, kinds = step
    return lo >= 50.0 or any(
        k in {"votes", "board", "other influence or control", "nominee", "nominator", "trust role"}
        for k in kinds
    )


def screen(
    graph: OwnershipGraph,
    subject: int,
    *,
    threshold: float = 25.0,
    max_chain: int = 4,
    max_nodes: int = 20_000,
    max_paths: int = 500,
    recent_days: int = 365,
    as_of_day: int | None = None,
    secrecy: frozenset[str] = frozenset(),
    matcher: Callable[[OwnershipGraph, Sequence[int]], list[tuple[int, Match]]] | None = None,
    whole: UltimateOwners | None = None,
) -> ScreeningResult:
    """Screen ``subject`` (a node number of ``graph``). Shares and ``threshold`` are in percent.

    ``whole``: the result of :func:`~lurewatch.owners.ubo.all_ultimate_owners` over ``graph``, when it
    has been computed already (a loaded register): the subject's shares are then read, not recomputed.
    """
    from lurewatch.owners import flags as flagging

    nodes, edges, truncated = graph._ancestors(subject, max_nodes)
    sub, _ = graph.subgraph(nodes, edges)
    s = int(np.searchsorted(nodes, subject))
    if whole is not None and not truncated:
        # the whole-graph result already holds the subject's row and the components: reuse them
        labels = np.unique(whole.component[nodes], return_inverse=True)[1]
        row = whole.of(subject)
        cols = np.searchsorted(nodes, np.array([c for c, _, _ in row], dtype=np.int64))
        uo = UltimateOwners(
            start=np.zeros(sub.n, dtype=np.int64),
            length=np.zeros(sub.n, dtype=np.int64),
            cols=cols.astype(np.int32),
            lo=np.array([a for _, a, _ in row]),
            hi=np.array([b for _, _, b in row]),
            component=labels,
            component_size=np.bincount(labels),
            levels=whole.levels,
        )
        uo.length[s] = len(row)
    else:
        uo = all_ultimate_owners(sub)
    table = _edge_table(sub)
    paths_to, control_to, paths_truncated = _paths(sub, s, table, max_paths)

    owners: dict[int, Owner] = {}
    for c, lo, hi in uo.of(s):
        if c == s:
            continue
        owners[c] = Owner(
            c, round(lo * 100, 6), round(hi * 100, 6), [p for p in paths_to.get(c, []) if p.share_max > 0]
        )
    for d in sub.declared:
        if d.subject != s:
            continue
        dlo, dhi = d.lo * 100, d.hi * 100
        current = owners.get(d.party)
        if current is None:
            owners[d.party] = Owner(
                d.party, round(dlo, 6), round(dhi, 6), paths_to.get(d.party, []), declared=True
            )
        else:
            lo, hi = max(current.share_min, dlo), min(current.share_max, dhi)
            if lo <= hi + 1e-9:
                current.share_min, current.share_max = round(lo, 6), round(max(lo, hi), 6)
            else:  # the source contradicts its own links: report its figure
                current.share_min, current.share_max = round(dlo, 6), round(dhi, 6)
            current.declared = True
    ultimate = sorted(owners.values(), key=lambda o: (-o.share_max, -o.share_min, sub.id_of(o.node)))

    controllers: list[Owner] = []
    for node in paths_to:
        control_paths = control_to.get(node, [])
        if not control_paths:
            continue
        has_parent_control = any(
            _is_control_step((a * 100 if a == a else 0.0, 0.0, control_names(b)))
            for _, a, _, b in table.get(node, ())
        )
        if has_parent_control:
            continue
        kinds = tuple(sorted({k for p in control_paths for st in p.steps for k in st[2]}))
        controllers.append(Owner(node, 0.0, 0.0, control_paths, control=kinds))
    controllers.sort(key=lambda o: sub.id_of(o.node))

    result = ScreeningResult(
        graph=sub,
        subject=s,
        ultimate_owners=ultimate,
        controllers=controllers,
        truncated=truncated,
        paths_truncated=paths_truncated,
        threshold=threshold,
        paths_to=paths_to,
    )
    hits = matcher(sub, range(sub.n)) if matcher is not None else []
    result.matches = [m for _, m in hits]
    matched_nodes = sorted({i for i, _ in hits})
    result.flags = flagging.flags_for(
        result,
        uo=uo,
        max_chain=max_chain,
        recent_days=recent_days,
        as_of_day=graph.as_of_day if as_of_day is None else as_of_day,
        secrecy=secrecy,
        matched_nodes=matched_nodes,
    )
    return result


# -- output -----------------------------------------------------------------------------------------


def _node_json(g: OwnershipGraph, i: int) -> dict[str, object]:
    flags = int(g.flags[i])
    return {
        "id": g.id_of(i),
        "name": g.name_of(i) or g.id_of(i),
        "kind": g.kind_of(i).value,
        "jurisdiction": g.jurisdiction_of(i),
        "tags": [name for bit, name in NODE_FLAG_NAMES.items() if flags & bit],
    }


def path_json(g: OwnershipGraph, path: Path | None) -> dict[str, object] | None:
    if path is None:
        return None
    index = {g.id_of(i): i for i in range(g.n)} if len(path.nodes) > 0 else {}
    return {
        "nodes": [{"id": n, "name": g.name_of(index[n]) if n in index else n} for n in path.nodes],
        "steps": [
            {
                "holder": path.nodes[i + 1],
                "held": path.nodes[i],
                "share_min": lo,
                "share_max": hi,
                "control": list(kinds),
            }
            for i, (lo, hi, kinds) in enumerate(path.steps)
        ],
        "share_min": path.share_min,
        "share_max": path.share_max,
    }


def result_json(result: ScreeningResult, max_paths_per_owner: int = 10) -> dict[str, object]:
    """The screening as one JSON-able object (the ``--json`` output of ``lurewatch owners screen``)."""
    g = result.graph

    def owner(o: Owner) -> dict[str, object]:
        return {
            **{
                k: v
                for k, v in _node_json(g, o.node).items()
                if k in {"id", "name", "kind", "jurisdiction", "tags"}
            },
            "share_min": o.share_min,
            "share_max": o.share_max,
            "declared": o.declared,
            "control": list(o.control),
            "paths": [path_json(g, p) for p in o.paths[:max_paths_per_owner]],
            "paths_total": len(o.paths),
        }

    return {
        "subject": _node_json(g, result.subject),
        "threshold": result.threshold,
        "ultimate_owners": [owner(o) for o in result.ultimate_owners],
        "owners_above_threshold": [
            g.id_of(o.node) for o in result.ultimate_owners if o.share_max >= result.threshold
        ],
        "controllers": [owner(o) for o in result.controllers],
        "flags": [
            {
                "kind": f.kind,
                "severity": f.severity,
                "explanation": f.explanation,
                "rule": f.rule,
                "path": path_json(g, f.path),
            }
            for f in result.flags
        ],
        "matches": [
            {
                "node": m.node,
                "node_name": m.node_name,
                "list": m.list_name,
                "entry_id": m.entry_id,
                "entry_name": m.entry_name,
                "programs": m.programs,
                "score": round(m.score, 4),
                "reason": m.reason,
            }
            for m in result.matches
        ],
        "graph_nodes": g.n,
        "truncated": result.truncated,
        "paths_truncated": result.paths_truncated,
        "as_of": day_text(g.as_of_day),
    }


def graph_view(result: ScreeningResult) -> dict[str, object]:
    """Everything the web dashboard needs to draw the ownership graph of one screening.

    Returns ``{"subject": id, "nodes": [...], "edges": [...], "flagged_paths": [...], "screening": {...}}``:

    * ``nodes``: ``{"id", "name", "kind": "person"|"entity"|"state", "jurisdiction", "tags": [...],
      "subject": bool, "ultimate_owner": bool, "share_min", "share_max" (effective share in the
      subject, percent, null when not an ultimate owner), "matched": bool}``;
    * ``edges``: one per holder -> held pair, ``{"source": holder id, "target": held id,
      "share_min", "share_max" (direct share in percent, null for control alone), "control": [kinds:
      "votes", "board", "other influence or control", "nominee", "nominator", "trust role",
      "economic rights", "unknown interest"], "cycle": bool (the edge is part of circular ownership)}``;
    * ``flagged_paths``: ``{"kind", "severity", "explanation", "edges": [[source, target], ...]}``,
      the edges of each flag's path, to highlight;
    * ``screening``: :func:`result_json` of the same result.

    Ids are the graph's node keys, unique within the view; every string is data from the input and
    must be escaped by whoever renders it.
    """
    g = result.graph
    uo = {o.node: o for o in result.ultimate_owners}
    matched = {m.node for m in result.matches}
    lo, hi, held, holder = g.ownership_edges()
    comp = all_ultimate_owners(g).component
    sizes = np.bincount(comp)
    nodes = []
    for i in range(g.n):
        item = _node_json(g, i)
        o = uo.get(i)
        item.update(
            subject=i == result.subject,
            ultimate_owner=o is not None,
            share_min=o.share_min if o else None,
            share_max=o.share_max if o else None,
            matched=item["id"] in matched,
        )
        nodes.append(item)
    bits: dict[tuple[int, int], int] = {}
    for h, v, b in zip(g.holder.tolist(), g.held.tolist(), g.bits.tolist(), strict=True):
        bits[(h, v)] = bits.get((h, v), 0) | int(b)
    shares = {(int(h), int(v)): (a, b) for v, h, a, b in zip(held, holder, lo, hi, strict=True)}
    edges = []
    for (h, v), b in sorted(bits.items()):
        share = shares.get((h, v))
        edges.append(
            {
                "source": g.id_of(h),
                "target": g.id_of(v),
                "share_min": round(share[0] * 100, 6) if share else None,
                "share_max": round(share[1] * 100, 6) if share else None,
                "control": list(control_names(b & ~C_OWNERSHIP)),
                "cycle": bool(comp[h] == comp[v] and sizes[comp[h]] > 1),
            }
        )
    flagged = [
        {
            "kind": f.kind,
            "severity": f.severity,
            "explanation": f.explanation,
            "edges": [[f.path.nodes[i + 1], f.path.nodes[i]] for i in range(len(f.path.nodes) - 1)]
            if f.path
            else [],
        }
        for f in result.flags
    ]
    return {
        "subject": g.id_of(result.subject),
        "nodes": nodes,
        "edges": edges,
        "flagged_paths": flagged,
        "screening": result_json(result),
    }


def party_label(g: OwnershipGraph, i: int) -> str:
    kind = g.kind_of(i)
    j = g.jurisdiction_of(i)
    what = {PartyKind.PERSON: "person", PartyKind.ENTITY: "entity", PartyKind.STATE: "state"}[kind]
    return f"{g.name_of(i) or g.id_of(i)} ({what}{', ' + j if j else ''})"
