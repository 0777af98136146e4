"""Ultimate owners and effective-share intervals: hand-computed cases and properties."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.owners.csvload import load_csv
from lurewatch.owners.graph import C_OWNERSHIP, GraphBuilder, OwnershipGraph
from lurewatch.owners.screen import screen
from lurewatch.owners.ubo import all_ultimate_owners

FIXTURES = Path(__file__).parent / "fixtures" / "owners"


def _graph(*files: str) -> OwnershipGraph:
    b = GraphBuilder()
    for f in files:
        load_csv(FIXTURES / f, b)
    return b.build()


def _owners(g: OwnershipGraph, subject: str) -> dict[str, tuple[float, float]]:
    r = screen(g, g.index_of(subject))
    return {r.graph.id_of(o.node): (o.share_min, o.share_max) for o in r.ultimate_owners}


def test_multi_path_joint_and_state_shares_by_hand() -> None:
    # T <- A 60%, B 40%; A <- Wang 50%, nominee 50%; B <- A 50%, state body 50%
    # Wang: 0.6 * 0.5 + 0.4 * 0.5 * 0.5 = 0.4; the nominee the same; the state 0.4 * 0.5 = 0.2
    owners = _owners(_graph("structure.csv"), "T")
    assert owners == {"P1": (40.0, 40.0), "N1": (40.0, 40.0), "S1": (20.0, 20.0)}


def test_cycle_is_solved_as_a_geometric_series() -> None:
    # X <- P 50%, Y 50%; Y <- X 50%, Q 50%: P = 0.5 / (1 - 0.25) = 2/3, Q = 0.25 / 0.75 = 1/3
    owners = _owners(_graph("cycle.csv"), "X")
    assert owners["P"] == pytest.approx((200 / 3, 200 / 3), abs=1e-5)
    assert owners["Q"] == pytest.approx((100 / 3, 100 / 3), abs=1e-5)


def test_bands_are_tightened_against_each_other() -> None:
    # Z <- R 25-50%, S 50-75%: R can hold at most 100 - 50 = 50, S at most 100 - 25 = 75
    owners = _owners(_graph("cycle.csv"), "Z")
    assert owners == {"R": (25.0, 50.0), "S": (50.0, 75.0)}


def test_closed_loop_has_no_ultimate_owner_and_is_flagged() -> None:
    g = _graph("cycle.csv")
    r = screen(g, g.index_of("L1"))
    assert r.ultimate_owners == []
    assert any(f.kind == "circular_ownership" for f in r.flags)


def test_flags_on_the_structure() -> None:
    g = _graph("structure.csv")
    r = screen(g, g.index_of("T"), secrecy=frozenset({"VG", "PA"}), as_of_day=20089)  # 2025-01-01
    kinds = {f.kind for f in r.flags}
    assert {"state_ownership", "nominee", "secrecy_jurisdiction", "recent_change"} <= kinds
    state = next(f for f in r.flags if f.kind == "state_ownership")
    assert state.path is not None and state.path.nodes == ("T", "B", "S1")
    assert state.path.share_min == pytest.approx(20.0)
    assert next(c for c in r.controllers if r.graph.id_of(c.node) == "D1").control == ("board",)


def test_threshold_and_chain_length_are_configurable() -> None:
    g = _graph("structure.csv")
    assert any(f.kind == "long_chain" for f in screen(g, g.index_of("T"), max_chain=1).flags)
    assert not any(f.kind == "long_chain" for f in screen(g, g.index_of("T"), max_chain=4).flags)


def _random_graph(
    seed: int, n: int, m: int, order: list[int] | None = None, dag: bool = False
) -> OwnershipGraph:
    rng = random.Random(seed)
    edges = []
    for _ in range(m):
        u, v = rng.randrange(n), rng.randrange(n)
        if dag:
            u, v = min(u, v), max(u, v)
        lo = rng.choice([0.0, 0.1, 0.25, 0.5, 0.75])
        hi = min(1.0, lo + rng.choice([0.0, 0.25, 0.5]))
        edges.append((f"n{u}", f"n{v}", lo, hi))
    if order is not None:
        edges = [edges[i] for i in order]
    b = GraphBuilder()
    for i in range(n):
        b.add_node(f"n{i}", f"node {i}", 0)
    for u, v, lo, hi in edges:
        b.add_edge(u, v, lo, hi, C_OWNERSHIP)
    return b.build()


def _as_dict(g: OwnershipGraph) -> dict[tuple[str, str], tuple[float, float]]:
    u = all_ultimate_owners(g)
    return {(g.id_of(v), g.id_of(c)): (lo, hi) for v in range(g.n) for c, lo, hi in u.of(v)}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 12), m=st.integers(0, 30))
def test_effective_shares_are_intervals_within_100_percent(seed: int, n: int, m: int) -> None:
    g = _random_graph(seed, n, m)
    u = all_ultimate_owners(g)
    assert np.all(u.lo >= 0) and np.all(u.hi <= 1.0 + 1e-12) and np.all(u.lo <= u.hi + 1e-12)
    # what all roots own of one node together never exceeds the whole (lower bounds)
    for v in range(g.n):
        assert sum(lo for _, lo, _ in u.of(v)) <= 1.0 + 1e-9


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 10), m=st.integers(0, 25), shuffle=st.integers(0, 1000))
def test_results_do_not_depend_on_input_order(seed: int, n: int, m: int, shuffle: int) -> None:
    order = list(range(m))
    random.Random(shuffle).shuffle(order)
    a, b = _as_dict(_random_graph(seed, n, m)), _as_dict(_random_graph(seed, n, m, order))
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 10), m=st.integers(1, 25))
def test_screening_one_subject_agrees_with_the_whole_graph(seed: int, n: int, m: int) -> None:
    g = _random_graph(seed, n, m)
    whole = all_ultimate_owners(g)
    for v in range(g.n):
        r = screen(g, v)
        got = {r.graph.id_of(o.node): (o.share_min, o.share_max) for o in r.ultimate_owners}
        want = {g.id_of(c): (lo * 100, hi * 100) for c, lo, hi in whole.of(v) if c != v}
        assert got.keys() == want.keys()
        for k in got:
            assert got[k] == pytest.approx(want[k], abs=1e-4)


def test_exact_chain_products_match_networkx_path_sums() -> None:
    nx = pytest.importorskip("networkx")
    g = _random_graph(7, 9, 14, dag=True)
    lo, _hi, held, holder = g.ownership_edges()
    dg = nx.DiGraph()
    for v, h, w in zip(held.tolist(), holder.tolist(), lo.tolist(), strict=True):
        dg.add_edge(h, v, w=w)
    assert nx.is_directed_acyclic_graph(dg)
    u = all_ultimate_owners(g)
    roots = [x for x in dg if dg.in_degree(x) == 0]
    for v in dg:
        for r in roots:
            total = sum(
                float(np.prod([dg[a][b]["w"] for a, b in itertools.pairwise(p)]))
                for p in nx.all_simple_paths(dg, r, v)
            )
            got = dict((c, lo_) for c, lo_, _ in u.of(v)).get(r, 0.0)
            assert got == pytest.approx(total, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 10), m=st.integers(1, 25))
def test_screening_with_the_whole_graph_result_gives_the_same_answer(seed: int, n: int, m: int) -> None:
    g = _random_graph(seed, n, m)
    whole = all_ultimate_owners(g)
    for v in range(g.n):
        a, b = screen(g, v), screen(g, v, whole=whole)
        assert [o.node for o in a.ultimate_owners] == [o.node for o in b.ultimate_owners]
        for x, y in zip(a.ultimate_owners, b.ultimate_owners, strict=True):
            assert (x.share_min, x.share_max) == pytest.approx((y.share_min, y.share_max), abs=1e-4)
        assert sorted(f.kind for f in a.flags) == sorted(f.kind for f in b.flags)
