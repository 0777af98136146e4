"""Flags of a screening, each explained as a path with its shares.

========================= ========= ===================================================================
kind                      severity  fires when
========================= ========= ===================================================================
``state_ownership``       high      a state, state body or state-owned enterprise (BODS ``state`` /
                                    ``stateBody``, FtM ``gov.*`` topics, a PSC legal person whose legal
                                    form is a government) holds an ownership share of the subject
``state_control``         high      such a party controls the subject (votes, board, influence) along
                                    a path of control or majority ownership
``listed_entity``         high      a party of the structure matches a list entry and holds an
                                    effective share of at least the threshold, or the subject is owned
                                    50% or more in aggregate by listed parties (the OFAC / BIS
                                    aggregate 50% rule, applied through entities that are themselves
                                    50%-owned by listed parties); medium when only the upper bound of
                                    the interval reaches the rule
``listed_subject``        high      the subject itself matches a list entry
``long_chain``            medium    an ownership path has more links than the maximum chain length
``circular_ownership``    medium    the structure contains a cycle (a strongly connected component)
``nominee``               medium    a nominee arrangement or nominee/nominator interest is on a path
``unknown_owner``         medium    an anonymous or unknown party (BODS anonymous/unknown persons and
                                    entities, PSC super-secure, unspecified parties) holds an interest
``undeclared_owners``     low       an ultimate owner is an entity with no declared owners of its own
``no_owner_statement``    medium    a statement that no owner is (or can be) named: PSC "no individual
                                    or entity with significant control", details not confirmed, ...
``secrecy_jurisdiction``  medium    a party is registered in a jurisdiction of the secrecy list
``recent_change``         low       an interest on a path began, or an interest in the subject or an
                                    ancestor ceased, within ``recent_days`` of the data's latest date
``exempt_from_disclosure``low       the subject or an ancestor is exempt from naming its owners
                                    (shares admitted to a regulated market)
========================= ========= ===================================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lurewatch.model import Path
from lurewatch.owners.graph import (
    C_NOMINATOR,
    C_NOMINEE,
    KIND_STATE,
    N_ANONYMOUS,
    N_EXEMPT,
    N_NO_OWNER_STATEMENT,
    N_NOMINEE,
    N_STATE,
    N_SUBJECT_RECORD,
    day_text,
)
from lurewatch.owners.screen import Flag, ScreeningResult, party_label
from lurewatch.owners.ubo import UltimateOwners, all_ultimate_owners

MAX_SHARE_TARGETS = 64


def _best(paths: Sequence[Path]) -> Path | None:
    return max(paths, key=lambda p: (p.share_max, p.share_min, -len(p.nodes))) if paths else None


def _fmt(lo: float, hi: float) -> str:
    if abs(hi - lo) < 1e-6:
        return f"{lo:.4g}%"
    return f"{lo:.4g}-{hi:.4g}%"


def _path_text(result: ScreeningResult, path: Path | None) -> str:
    if path is None:
        return ""
    g = result.graph
    index = g.index_of
    parts = [g.name_of(index(path.nodes[0])) or path.nodes[0]]  # type: ignore[arg-type]
    for i, (lo, hi, kinds) in enumerate(path.steps):
        name = g.name_of(index(path.nodes[i + 1])) or path.nodes[i + 1]  # type: ignore[arg-type]
        what = []
        if hi > 0:
            what.append(_fmt(lo, hi))
        what.extend(kinds)
        parts.append(f"<-[{', '.join(what) or 'interest'}]- {name}")
    return " ".join(parts)


def effective_shares(result: ScreeningResult, targets: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Effective ownership (percent) of each target in the subject, counting paths up to the target
    (the target is treated as a root: its own owners are cut off)."""
    g = result.graph
    out: dict[int, tuple[float, float]] = {}
    has_owners = np.zeros(g.n, dtype=bool)
    _, _, held, _ = g.ownership_edges()
    has_owners[held] = True
    roots = {o.node: (o.share_min, o.share_max) for o in result.ultimate_owners}
    for t in list(targets)[:MAX_SHARE_TARGETS]:
        if t == result.subject:
            continue
        if not has_owners[t]:
            # a root: its share is the ultimate owner's, already computed
            if t in roots:
                out[t] = roots[t]
            continue
        cut = np.zeros(g.n, dtype=bool)
        cut[t] = True
        u = all_ultimate_owners(g, cut=cut)
        for c, lo, hi in u.of(result.subject):
            if c == t:
                out[t] = (lo * 100, hi * 100)
    return out


def aggregate_rule(result: ScreeningResult, listed: Sequence[int]) -> tuple[set[int], set[int]]:
    """Nodes owned 50% or more in aggregate by listed parties, directly or through entities that are
    themselves so owned: (definitely, possibly) by the lower and upper share bounds."""
    g = result.graph
    lo, hi, held, holder = g.ownership_edges()
    out = []
    for weights in (lo, hi):
        blocked = set(listed)
        changed = True
        while changed:
            changed = False
            mask = np.fromiter((h in blocked for h in holder.tolist()), dtype=bool, count=len(holder))
            total = np.bincount(held[mask], weights[mask], g.n) if mask.any() else np.zeros(g.n)
            for v in np.flatnonzero(total >= 0.5 - 1e-12).tolist():
                if v not in blocked:
                    blocked.add(v)
                    changed = True
        out.append(blocked)
    return out[0], out[1]


def flags_for(
    result: ScreeningResult,
    *,
    uo: UltimateOwners,
    max_chain: int,
    recent_days: int,
    as_of_day: int,
    secrecy: frozenset[str],
    matched_nodes: Sequence[int],
) -> list[Flag]:
    g = result.graph
    s = result.subject
    flags: list[Flag] = []
    paths = result.paths_to
    subject_name = g.name_of(s) or g.id_of(s)

    # State ownership and control
    state_nodes = [i for i in range(g.n) if i != s and (g.kind[i] == KIND_STATE or g.flags[i] & N_STATE)]
    shares = effective_shares(result, state_nodes + [i for i in matched_nodes if i not in state_nodes])
    result.shares = shares
    for i in state_nodes:
        own = [p for p in paths.get(i, []) if p.share_max > 0]
        if i in shares and shares[i][1] > 0:
            lo, hi = shares[i]
            best = _best(own)
            flags.append(
                Flag(
                    "state_ownership",
                    "high",
                    f"{party_label(g, i)} owns {_fmt(lo, hi)} of {subject_name} "
                    f"({len(own)} ownership path{'s' if len(own) != 1 else ''}): {_path_text(result, best)}",
                    best,
                    rule="effective share through all paths",
                )
            )
        control = [p for p in paths.get(i, []) if any(st[2] for st in p.steps) and p not in own]
        if control:
            best = min(control, key=lambda p: len(p.nodes))
            flags.append(
                Flag(
                    "state_control",
                    "high",
                    f"{party_label(g, i)} controls {subject_name}: {_path_text(result, best)}",
                    best,
                )
            )

    # Listed parties
    matches_by_node: dict[str, list] = {}
    for m in result.matches:
        matches_by_node.setdefault(m.node, []).append(m)
    threshold = result.threshold
    if s in matched_nodes:
        m = max(matches_by_node.get(g.id_of(s), []), key=lambda m: m.score, default=None)
        if m is not None:
            flags.append(
                Flag(
                    "listed_subject",
                    "high",
                    f"{subject_name} itself matches {m.list_name} entry {m.entry_name!r} (score {m.score:.2f}: {m.reason})",
                )
            )
    definite, possible = aggregate_rule(result, matched_nodes) if matched_nodes else (set(), set())
    for i in matched_nodes:
        if i == s:
            continue
        m = max(matches_by_node.get(g.id_of(i), []), key=lambda m: m.score)
        lo, hi = shares.get(i, (0.0, 0.0))
        best = _best([p for p in paths.get(i, []) if p.share_max > 0]) or _best(paths.get(i, []))
        hit = f"{party_label(g, i)} matches {m.list_name} entry {m.entry_name!r} (score {m.score:.2f}: {m.reason})"
        if lo >= threshold:
            flags.append(
                Flag(
                    "listed_entity",
                    "high",
                    f"{hit} and owns {_fmt(lo, hi)} of {subject_name}: {_path_text(result, best)}",
                    best,
                    rule=f"effective share >= {threshold:g}%",
                )
            )
        elif hi >= threshold:
            flags.append(
                Flag(
                    "listed_entity",
                    "medium",
                    f"{hit} and may own up to {_fmt(lo, hi)} of {subject_name}: {_path_text(result, best)}",
                    best,
                    rule=f"effective share may reach {threshold:g}% (upper bound)",
                )
            )
        elif best is not None:
            flags.append(
                Flag(
                    "listed_entity",
                    "medium",
                    f"{hit} and has an interest in {subject_name} ({_fmt(lo, hi)}): {_path_text(result, best)}",
                    best,
                    rule="path to a listed party",
                )
            )
    if matched_nodes and s in definite and s not in matched_nodes:
        flags.append(
            Flag(
                "listed_entity",
                "high",
                f"{subject_name} is owned 50% or more in aggregate by listed parties "
                f"({', '.join(party_label(g, i) for i in matched_nodes if i != s)}), directly or through entities they so own",
                None,
                rule="aggregate 50% rule",
            )
        )
    elif matched_nodes and s in possible and s not in matched_nodes:
        flags.append(
            Flag(
                "listed_entity",
                "medium",
                f"{subject_name} may be owned 50% or more in aggregate by listed parties "
                "(upper bounds of the share bands)",
                None,
                rule="aggregate 50% rule (upper bound)",
            )
        )

    # Opacity
    longest = max(
        (p for ps in paths.values() for p in ps if p.share_max > 0), key=lambda p: len(p.nodes), default=None
    )
    if longest is not None and len(longest.steps) > max_chain:
        flags.append(
            Flag(
                "long_chain",
                "medium",
                f"an ownership chain of {len(longest.steps)} links (more than {max_chain}): "
                f"{_path_text(result, longest)}",
                longest,
                rule=f"chain longer than {max_chain}",
            )
        )
    sizes = uo.component_size
    for c in np.flatnonzero(sizes > 1).tolist():
        members = np.flatnonzero(uo.component == c).tolist()
        cycle = _cycle_path(result, members)
        flags.append(
            Flag(
                "circular_ownership",
                "medium",
                f"circular ownership among {len(members)} parties: "
                + ", ".join(g.name_of(x) or g.id_of(x) for x in members[:10])
                + (f"; {_path_text(result, cycle)}" if cycle else ""),
                cycle,
                rule="strongly connected component of the ownership graph",
            )
        )
    nominee_paths = {
        i
        for i, ps in paths.items()
        if any(k in {"nominee", "nominator"} for p in ps for st in p.steps for k in st[2])
    }
    for i in range(g.n):
        if i == s:
            continue
        via = _best(paths.get(i, []))
        if g.flags[i] & N_NOMINEE or i in nominee_paths:
            flags.append(
                Flag(
                    "nominee",
                    "medium",
                    f"{party_label(g, i)} is a nominee arrangement or acts through one: {_path_text(result, via)}",
                    via,
                )
            )
        if g.flags[i] & N_ANONYMOUS:
            flags.append(
                Flag(
                    "unknown_owner",
                    "medium",
                    f"{party_label(g, i)} is anonymous or unknown: {_path_text(result, via)}",
                    via,
                )
            )
        j = g.jurisdiction_of(i).upper()
        if j and j in secrecy:
            flags.append(
                Flag(
                    "secrecy_jurisdiction",
                    "medium",
                    f"{party_label(g, i)} is registered in {j}, on the secrecy list: {_path_text(result, via)}",
                    via,
                )
            )
    if (g.bits & (C_NOMINEE | C_NOMINATOR)).any() and not any(f.kind == "nominee" for f in flags):
        flags.append(Flag("nominee", "medium", "a nominee or nominator interest appears in the structure"))
    for o in result.ultimate_owners:
        i = o.node
        if g.kind[i] == 0 and not g.flags[i] & (N_STATE | N_ANONYMOUS) and not g.flags[i] & N_EXEMPT:
            flags.append(
                Flag(
                    "undeclared_owners",
                    "low",
                    f"ownership ends at {party_label(g, i)} ({_fmt(o.share_min, o.share_max)}), "
                    "whose own owners are not in the data",
                    _best(o.paths),
                )
            )
    for i in range(g.n):
        for statement in g.statements.get(i, ()):
            code = statement.split(":")[0]
            if (
                g.flags[i] & N_NO_OWNER_STATEMENT
                and not statement.startswith("psc-exempt")
                and code != "subjectExemptFromDisclosure"
            ):
                flags.append(
                    Flag(
                        "no_owner_statement",
                        "medium",
                        f"{party_label(g, i)}: statement {statement!r}",
                        _best(paths.get(i, [])),
                    )
                )
            elif g.flags[i] & N_EXEMPT:
                flags.append(
                    Flag(
                        "exempt_from_disclosure",
                        "low",
                        f"{party_label(g, i)}: {statement}",
                        _best(paths.get(i, [])),
                    )
                )
    if as_of_day >= 0:
        since = as_of_day - recent_days
        seen = set()
        edge_days = {}
        for h, v, d in zip(g.holder.tolist(), g.held.tolist(), g.start_day.tolist(), strict=True):
            if d >= since:
                edge_days[(h, v)] = max(d, edge_days.get((h, v), -1))
        for (h, v), d in sorted(edge_days.items(), key=lambda x: -x[1]):
            if (h, v) in seen:
                continue
            seen.add((h, v))
            flags.append(
                Flag(
                    "recent_change",
                    "low",
                    f"{party_label(g, h)} acquired its interest in "
                    f"{g.name_of(v) or g.id_of(v)} on {day_text(d)} (within {recent_days} days of {day_text(as_of_day)})",
                    _best(paths.get(h, [])),
                )
            )
        for i in range(g.n):
            d = int(g.last_change_day[i])
            if d >= since and g.flags[i] & N_SUBJECT_RECORD:
                flags.append(
                    Flag(
                        "recent_change",
                        "low",
                        f"an interest in {g.name_of(i) or g.id_of(i)} ceased on {day_text(d)} "
                        f"(within {recent_days} days of {day_text(as_of_day)})",
                        _best(paths.get(i, [])),
                    )
                )
    order = {"high": 0, "medium": 1, "low": 2}
    flags.sort(key=lambda f: order[f.severity])
    return flags


def _cycle_path(result: ScreeningResult, members: list[int]) -> Path | None:
    """One cycle through the component, as a path that starts and ends at the same party."""
    g = result.graph
    inside = set(members)
    lo, hi, held, holder = g.ownership_edges()
    owners: dict[int, list[int]] = {}
    share: dict[tuple[int, int], tuple[float, float]] = {}
    for v, h, a, b in zip(held.tolist(), holder.tolist(), lo.tolist(), hi.tolist(), strict=True):
        if v in inside and h in inside:
            owners.setdefault(v, []).append(h)
            share[(v, h)] = (a, b)
    start = members[0]
    prev: dict[int, int] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for h in owners.get(v, []):
                if h == start:
                    seq = [v]
                    while seq[-1] != start:
                        seq.append(prev[seq[-1]])
                    seq.reverse()
                    seq.append(start)
                    steps = []
                    lo_p = hi_p = 1.0
                    for k in range(len(seq) - 1):
                        a, b = share[(seq[k], seq[k + 1])]
                        steps.append((round(a * 100, 6), round(b * 100, 6), ()))
                        lo_p, hi_p = lo_p * a, hi_p * b
                    return Path(
                        tuple(g.id_of(x) for x in seq),
                        tuple(steps),
                        round(lo_p * 100, 6),
                        round(hi_p * 100, 6),
                    )
                if h not in prev and h != start:
                    prev[h] = v
                    nxt.append(h)
        frontier = nxt
    return None
