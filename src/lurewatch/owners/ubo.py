"""Ultimate owners with effective ownership as an interval, through chains, joint holdings and cycles.

Definitions
-----------
``W[v, u]`` is the fraction of ``v`` that ``u`` holds directly (an interval ``[lo, hi]``: registers
publish bands; an unknown interest is ``[0, 1]``). Parallel holdings of ``u`` in ``v`` are summed, and
each node's direct holdings are made consistent first (:func:`lurewatch.owners.graph.tighten`: a holder
can own at most what the others' minimum shares leave).

An **ultimate owner** of ``v`` is a node with no ownership holders of its own (a root: a person, a
state, or an entity whose owners nobody declared) from which an ownership path leads to ``v``. Its
**effective ownership** of ``v`` is the sum over all paths of the product of the shares along each
path (multiplied along chains, summed across paths). The interval comes from doing this once with
every ``lo`` and once with every ``hi``: products and sums of non-negative numbers are monotone, so
the true value lies between the two (the bounds are sound, and exact when every share is exact).
Both are capped at 100% (an owner cannot own more than all of a company; with consistent data the
lower bound never needs the cap).

Cycles (circular ownership)
---------------------------
With cycles the paths are infinitely many walks. Their sum is the Leontief (Neumann-series) solution
used for integrated ownership in economics and by the OECD/Eurostat ownership registers: for the
nodes of one strongly connected component ``C`` (found with SciPy's
``scipy.sparse.csgraph.connected_components(connection="strong")``), with ``A = W[C, C]`` the holdings
inside the component and ``B`` the ownership flowing in from outside (already computed, because
components are processed in topological order of the condensation)::

    X = B + A X   =>   X = (I - A)^-1 B = B + AB + A^2 B + ...

The series converges exactly when the spectral radius of ``A`` is below 1. That is decided first
with Collatz-Wielandt bounds tightened by power iteration (:func:`spectral_radius_side`). At or above
1 (a closed loop held 100% round, or upper bounds of bands and unknown interests that add up to more
than the whole), the component is irreducible, so by Perron-Frobenius every walk sum fed from
outside diverges and its capped value is exactly 100%: that is the answer, at once. Below 1, for
components of up to :data:`DENSE_MAX` parties, it is taken from the dense inverse (``I - A`` is then a
non-singular M-matrix, and a non-negative inverse is checked); up to :data:`RESOLVENT_MAX` parties, the
resolvent ``R = I + A + A^2 + ...`` is summed (``R = I + A R`` until it settles) and ``X = R B`` (each
round costs the component's links times its size, whatever the number of owners flowing in, and ``B``
is sparse); larger components sum the series directly (``X = B + A X`` repeated until it settles). A case left undecided sums the series by fixed-point iteration ``X_{k+1} = min(1, B + A X_k)`` from ``X_0 = 0``, stopping when no
entry moves by more than :data:`TOLERANCE` or after :data:`MAX_ITERATIONS`. The iterates rise
monotonically, so a lower bound cut off early is still a lower bound; for the upper bound, entries
still moving when the iterations run out are set to 100% (sound, if loose). A closed cycle that no
one outside holds has no ultimate owner; :mod:`lurewatch.owners.flags` reports it.

Whole-graph computation
-----------------------
:func:`all_ultimate_owners` computes every node's ultimate owners at once: components are levelled
by Kahn's algorithm on the condensation (vectorised, one NumPy pass per level), and each level's rows
are formed by gathering the owners' rows and summing duplicates (sort-based), so the work is the size
of the output, not levels times nodes. Entries whose upper bound is below :data:`PRUNE` (one in a
billion) are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from lurewatch.owners.graph import OwnershipGraph

DENSE_MAX = 1500
#: largest component whose resolvent ``(I - A)^-1`` is summed as a dense matrix (128 MiB)
RESOLVENT_MAX = 4096
#: entries gathered at once while a level's rows are formed (bounds the temporary arrays)
GATHER_CHUNK = 4_000_000
TOLERANCE = 1e-12
MAX_ITERATIONS = 10_000
PRUNE = 1e-9


@dataclass(slots=True)
class UltimateOwners:
    """Every node's ultimate owners: row ``v`` is ``cols[ptr[v]:ptr[v] + length[v]]`` with bounds
    ``lo``/``hi`` (fractions). Roots list themselves with 1.0."""

    start: np.ndarray
    length: np.ndarray
    cols: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    #: component label per node and the size of each component (cycles are components of size > 1)
    component: np.ndarray
    component_size: np.ndarray
    levels: int

    def of(self, v: int) -> list[tuple[int, float, float]]:
        s, n = int(self.start[v]), int(self.length[v])
        return [
            (int(c), float(a), float(b))
            for c, a, b in zip(self.cols[s : s + n], self.lo[s : s + n], self.hi[s : s + n], strict=True)
        ]

    @property
    def nnz(self) -> int:
        return int(self.length.sum())


class _Buffer:
    """Growable row store for the result (rows appended level by level)."""

    def __init__(self, n: int, capacity: int) -> None:
        self.start = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)
        self.cols = np.empty(capacity, dtype=np.int32)
        self.lo = np.empty(capacity, dtype=np.float64)
        self.hi = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def append(
        self, rows: np.ndarray, row_of: np.ndarray, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> None:
        """``row_of``/``cols``/``lo``/``hi`` sorted by row; ``rows`` maps local row numbers to nodes."""
        k = len(cols)
        need = self.size + k
        if need > len(self.cols):
            cap = max(need, int(len(self.cols) * 1.5) + 1024)
            # grown in place (realloc remaps large blocks): no second copy of the rows at the peak;
            # no view of these arrays is alive while rows are appended
            self.cols.resize(cap, refcheck=False)
            self.lo.resize(cap, refcheck=False)
            self.hi.resize(cap, refcheck=False)
        self.cols[self.size : need] = cols
        self.lo[self.size : need] = lo
        self.hi[self.size : need] = hi
        counts = np.bincount(row_of, minlength=len(rows))
        offsets = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        self.start[rows] = self.size + offsets
        self.length[rows] = counts
        self.size = need


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for every pair, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(starts - ends + lengths, lengths) + np.arange(total, dtype=np.int64)


def _levels(n: int, comp: np.ndarray, n_comp: int, held: np.ndarray, holder: np.ndarray) -> np.ndarray:
    """Level of every component in the condensation: roots 0, else 1 + the highest level of a holder."""
    cs, ct = comp[holder], comp[held]
    cross = cs != ct
    cs, ct = cs[cross], ct[cross]
    indeg = np.bincount(ct, minlength=n_comp).astype(np.int64)
    order = np.argsort(cs, kind="stable")
    targets = ct[order]
    indptr = np.zeros(n_comp + 1, dtype=np.int64)
    np.cumsum(np.bincount(cs, minlength=n_comp), out=indptr[1:])
    level = np.full(n_comp, -1, dtype=np.int64)
    frontier = np.flatnonzero(indeg == 0)
    depth = 0
    while len(frontier):
        level[frontier] = depth
        reached = targets[_ranges(indptr[frontier], indptr[frontier + 1] - indptr[frontier])]
        if len(reached) == 0:
            break
        dec = np.bincount(reached, minlength=n_comp)
        indeg -= dec
        touched = np.flatnonzero(dec)
        frontier = touched[indeg[touched] == 0]
        depth += 1
    return level


def _aggregate(
    row_of: np.ndarray, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    key = row_of.astype(np.int64) * n + cols
    uniq, inverse = np.unique(key, return_inverse=True)
    slo = np.minimum(np.bincount(inverse, lo, len(uniq)), 1.0)
    shi = np.minimum(np.bincount(inverse, hi, len(uniq)), 1.0)
    keep = shi >= PRUNE
    uniq, slo, shi = uniq[keep], slo[keep], shi[keep]
    return uniq // n, uniq % n, slo, shi


def _chunks(rows: np.ndarray, in_ptr: np.ndarray, in_holder: np.ndarray, buf: _Buffer) -> list[np.ndarray]:
    """``rows`` split so that each part gathers about :data:`GATHER_CHUNK` entries (rows of one level
    depend only on earlier levels, so the parts are independent)."""
    if len(rows) == 0:
        return []
    degree = in_ptr[rows + 1] - in_ptr[rows]
    gathered = buf.length[in_holder[_ranges(in_ptr[rows], degree)]]
    cost = np.cumsum(np.add.reduceat(gathered, np.cumsum(degree) - degree) if len(gathered) else degree)
    if cost[-1] <= GATHER_CHUNK:
        return [rows]
    cuts = np.searchsorted(cost, np.arange(GATHER_CHUNK, int(cost[-1]), GATHER_CHUNK), side="right")
    return [part for part in np.split(rows, np.unique(cuts)) if len(part)]


def _gather(
    rows: np.ndarray,
    in_ptr: np.ndarray,
    in_holder: np.ndarray,
    in_lo: np.ndarray,
    in_hi: np.ndarray,
    buf: _Buffer,
    edge_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum over each row's holders of (direct share x the holder's ultimate owners), unaggregated."""
    e = _ranges(in_ptr[rows], in_ptr[rows + 1] - in_ptr[rows])
    row_of_e = np.repeat(np.arange(len(rows), dtype=np.int64), in_ptr[rows + 1] - in_ptr[rows])
    if edge_mask is not None:
        keep = edge_mask[e]
        e, row_of_e = e[keep], row_of_e[keep]
    owners = in_holder[e]
    lengths = buf.length[owners]
    p = _ranges(buf.start[owners], lengths)
    rep = np.repeat(np.arange(len(e), dtype=np.int64), lengths)
    return row_of_e[rep], buf.cols[p].astype(np.int64), in_lo[e][rep] * buf.lo[p], in_hi[e][rep] * buf.hi[p]


def spectral_radius_side(a: sparse.csr_matrix, rounds: int = 2000) -> str:
    """Whether the spectral radius of the irreducible non-negative ``a`` is ``"below"`` 1, ``"above"``
    (at least 1) or ``"unknown"``, from Collatz-Wielandt bounds ``min (Ax)_i / x_i <= rho <= max (Ax)_i
    / x_i`` (valid for any positive ``x``) tightened by power iteration."""
    m = a.shape[0]
    x = np.ones(m)
    for _ in range(rounds):
        y = a @ x
        ratio = y / x
        if ratio.max() < 1.0 - 1e-12:
            return "below"
        if ratio.min() >= 1.0:
            return "above"
        # a lazy step (x + Ax) keeps x positive and converges on periodic matrices too
        x = x + y
        x /= x.max()
        x = np.maximum(x, 1e-300)
    return "unknown"


def _resolvent_series(a: sparse.csr_matrix) -> np.ndarray | None:
    """``sum_k A^k`` (``A`` with spectral radius below 1) by ``R = I + A R``, or None if it does not
    settle within :data:`MAX_ITERATIONS` rounds."""
    m = a.shape[0]
    eye = np.eye(m)
    r = eye.copy()
    for k in range(MAX_ITERATIONS):
        nxt = a @ r
        nxt += eye
        if k % 8 == 7 and np.max(np.abs(nxt - r), initial=0.0) <= TOLERANCE:
            return nxt
        r = nxt
    return None


def _solve_component(a: sparse.csr_matrix, b: np.ndarray, upper: bool) -> np.ndarray:
    """``X = sum_k A^k B`` capped at 1 (see the module docstring for the method and its soundness)."""
    m = a.shape[0]
    side = spectral_radius_side(a)
    if side == "above":
        # Irreducible with spectral radius >= 1: every walk sum fed by a non-zero input diverges for
        # every member (Perron-Frobenius), so the capped value is 1 wherever anything flows in; with
        # consistent lower bounds this only happens to a closed loop, which nothing outside holds.
        fed = (b > 0).any(axis=0)
        x = np.zeros_like(b)
        x[:, fed] = 1.0
        return x
    if side == "below" and DENSE_MAX < m <= RESOLVENT_MAX:
        # the series summed once for the component, R = I + A + A^2 + ..., then X = R B: the rounds
        # cost the component's links times its size, not times the (many) owners flowing in, and B
        # is sparse (each member has a few outside holders)
        resolvent = _resolvent_series(a)
        if resolvent is not None:
            return np.clip((sparse.csr_matrix(b.T) @ resolvent.T).T, 0.0, 1.0)
    if side == "below" and m > DENSE_MAX:
        # the series itself, without the cap (it converges), checked for convergence every 8 rounds
        x = b.copy()
        for k in range(MAX_ITERATIONS):
            nxt = a @ x
            nxt += b
            if k % 8 == 7 and np.max(np.abs(nxt - x), initial=0.0) <= TOLERANCE:
                return np.clip(nxt, 0.0, 1.0)
            x = nxt
    if m <= DENSE_MAX:
        try:
            inv = np.linalg.inv(np.eye(m) - a.toarray())
            if np.all(np.isfinite(inv)) and inv.min() >= -1e-9:
                return np.clip(inv @ b, 0.0, 1.0)
        except np.linalg.LinAlgError:
            pass
    x = np.zeros_like(b)
    moving = np.ones(b.shape, dtype=bool)
    for _ in range(MAX_ITERATIONS):
        nxt = np.minimum(b + a @ x, 1.0)
        moving = np.abs(nxt - x) > TOLERANCE
        x = nxt
        if not moving.any():
            break
    if upper and moving.any():
        x[moving] = 1.0
    return x


def all_ultimate_owners(graph: OwnershipGraph, cut: np.ndarray | None = None) -> UltimateOwners:
    """Ultimate owners and effective ownership intervals of every node of ``graph``.

    ``cut``: optional boolean mask of nodes treated as roots whatever holds them (used to measure the
    effective share of an intermediate holder, such as a listed entity, in a subject).
    """
    n = graph.n
    lo, hi, held, holder = graph.ownership_edges()
    if cut is not None:
        keep = ~cut[held]
        lo, hi, held, holder = lo[keep], hi[keep], held[keep], holder[keep]
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(held, minlength=n), out=in_ptr[1:])
    # ownership_edges returns edges sorted by (held, holder): already a CSR by held node
    pattern = sparse.csr_matrix((np.ones(len(held), dtype=np.int8), (held, holder)), shape=(n, n))
    n_comp, comp = connected_components(pattern, directed=True, connection="strong")
    comp_size = np.bincount(comp, minlength=n_comp)
    level = _levels(n, comp, n_comp, held, holder)
    node_level = level[comp]
    order = np.argsort(node_level, kind="stable")
    bounds = np.searchsorted(node_level[order], np.arange(int(node_level.max(initial=-1)) + 2))
    buf = _Buffer(n, max(2 * n, 1024))
    indeg = in_ptr[1:] - in_ptr[:-1]
    in_same = comp[holder] == comp[held]
    for lv in range(len(bounds) - 1):
        nodes = order[bounds[lv] : bounds[lv + 1]]
        roots = nodes[indeg[nodes] == 0]
        if len(roots):
            buf.append(roots, np.arange(len(roots)), roots, np.ones(len(roots)), np.ones(len(roots)))
        single = nodes[(indeg[nodes] > 0) & (comp_size[comp[nodes]] == 1)]
        for part in _chunks(single, in_ptr, holder, buf):
            r, c, a, b = _gather(part, in_ptr, holder, lo, hi, buf)
            r, c, a, b = _aggregate(r, c, a, b, n)
            buf.append(part, r, c, a, b)
        cyc = nodes[comp_size[comp[nodes]] > 1]
        if len(cyc):
            cyc = cyc[np.argsort(comp[cyc], kind="stable")]
            starts = np.flatnonzero(np.r_[True, comp[cyc][1:] != comp[cyc][:-1]])
            for s, t in zip(starts, np.r_[starts[1:], len(cyc)], strict=True):
                _component(cyc[s:t], in_ptr, holder, lo, hi, in_same, buf, n)
    return UltimateOwners(
        start=buf.start,
        length=buf.length,
        cols=buf.cols[: buf.size],
        lo=buf.lo[: buf.size],
        hi=buf.hi[: buf.size],
        component=comp,
        component_size=comp_size,
        levels=len(bounds) - 1,
    )


def _component(
    members: np.ndarray,
    in_ptr: np.ndarray,
    holder: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    in_same: np.ndarray,
    buf: _Buffer,
    n: int,
) -> None:
    m = len(members)
    local = {int(v): i for i, v in enumerate(members)}
    r, c, a, b = _gather(members, in_ptr, holder, lo, hi, buf, edge_mask=~in_same)
    r, c, a, b = _aggregate(r, c, a, b, n)
    cols, col_of = np.unique(c, return_inverse=True)
    b_lo = np.zeros((m, len(cols)))
    b_hi = np.zeros((m, len(cols)))
    b_lo[r, col_of] = a
    b_hi[r, col_of] = b
    e = _ranges(in_ptr[members], in_ptr[members + 1] - in_ptr[members])
    e = e[in_same[e]]
    rows = np.repeat(np.arange(m), (in_ptr[members + 1] - in_ptr[members]))
    rows = rows[in_same[_ranges(in_ptr[members], in_ptr[members + 1] - in_ptr[members])]]
    inner_cols = np.array([local[int(h)] for h in holder[e]], dtype=np.int64)
    a_lo = sparse.csr_matrix((lo[e], (rows, inner_cols)), shape=(m, m))
    a_hi = sparse.csr_matrix((hi[e], (rows, inner_cols)), shape=(m, m))
    x_lo = _solve_component(a_lo, b_lo, upper=False) if len(cols) else b_lo
    x_hi = _solve_component(a_hi, b_hi, upper=True) if len(cols) else b_hi
    x_lo = np.minimum(x_lo, x_hi)
    rr, cc = np.nonzero(x_hi >= PRUNE)
    buf.append(members, rr, cols[cc], x_lo[rr, cc], x_hi[rr, cc])
