"""The ownership graph: integer node ids and flat NumPy arrays, so that a national register fits.

A node is a company, person, state or arrangement; an edge says that ``holder`` has an interest in
``held``. Every edge carries an ownership share interval ``[lo, hi]`` as fractions (``NaN`` when the
interest is control alone) and a bit set of control kinds (:data:`CONTROL_BITS`). Ownership and
control are kept apart: only ownership is multiplied along chains (:mod:`lurewatch.owners.ubo`);
control is followed as paths.

Loaders do not build the arrays themselves: they hand rows (or whole Arrow columns, for the PSC
snapshot) to a :class:`GraphBuilder`, which interns every node key once with Arrow's dictionary
encoding (C++, no Python dict of millions of strings) and merges the attributes of rows that name
the same node (bit flags are OR-ed, the first non-empty name wins).

Node keys are strings a user can type: ``GB-COH-01234567`` for a UK company number, BODS record ids,
FtM entity ids, ``psc:<company>:<name>|<birth month>`` for PSC individuals (registers publish no
identifier for a person, so the same name and birth month is the same person), ``name:<key>`` when
nothing better is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse

from lurewatch.model import Entity, Interest, PartyKind, Person

# Node kinds (uint8)
KIND_ENTITY, KIND_PERSON, KIND_STATE = 0, 1, 2
KIND_NAMES = {KIND_ENTITY: PartyKind.ENTITY, KIND_PERSON: PartyKind.PERSON, KIND_STATE: PartyKind.STATE}

# Node flags (uint32)
N_STATE = 1 << 0  # a state, state body or state-owned enterprise (BODS state/stateBody, FtM gov.*)
N_ANONYMOUS = 1 << 1  # anonymous or unknown person/entity, PSC super-secure, unspecified party
N_NOMINEE = 1 << 2  # nominee arrangement, nominee director/shareholder
N_TRUST = 1 << 3  # trust or similar arrangement
N_PUBLIC = 1 << 4  # shares listed on a public market (exempt from disclosing owners)
N_NO_OWNER_STATEMENT = 1 << 5  # a PSC statement or BODS reason that no owner is (or can be) named
N_SANCTION_TOPIC = 1 << 6  # FtM topic sanction / sanction.linked
N_MILITARY_TOPIC = 1 << 7  # FtM topic mil
N_EXEMPT = 1 << 8  # exempt from disclosing its owners (listed company, BODS subjectExemptFromDisclosure)
N_ARRANGEMENT = 1 << 9
N_SUBJECT_RECORD = 1 << 10  # the data has a record for the node itself (not only a mention as holder)

NODE_FLAG_NAMES = {
    N_STATE: "state",
    N_ANONYMOUS: "anonymous",
    N_NOMINEE: "nominee",
    N_TRUST: "trust",
    N_PUBLIC: "publicly listed",
    N_NO_OWNER_STATEMENT: "no-owner statement",
    N_SANCTION_TOPIC: "sanctioned (source topic)",
    N_MILITARY_TOPIC: "military (source topic)",
    N_EXEMPT: "exempt from disclosure",
    N_ARRANGEMENT: "arrangement",
}

# Control bits of an edge (uint16)
C_OWNERSHIP = 1 << 0  # the edge carries a shareholding (its interval is lo..hi)
C_UNKNOWN = 1 << 1  # the nature of the interest is unknown: 0-100% ownership assumed
C_VOTES = 1 << 2
C_BOARD = 1 << 3
C_OTHER = 1 << 4  # other significant influence or control
C_NOMINEE = 1 << 5
C_NOMINATOR = 1 << 6
C_TRUST = 1 << 7  # settlor, trustee, protector, beneficiary of a legal arrangement
C_ECONOMIC = 1 << 8  # rights to profit, income or surplus assets without a stated share
C_INFERRED = 1 << 9  # a share inferred from a register's threshold (a PSC without a share band: < 25%)

CONTROL_BITS = {
    "votes": C_VOTES,
    "board": C_BOARD,
    "other influence or control": C_OTHER,
    "nominee": C_NOMINEE,
    "nominator": C_NOMINATOR,
    "trust role": C_TRUST,
    "economic rights": C_ECONOMIC,
    "unknown interest": C_UNKNOWN,
}
CONTROL_MASK = C_VOTES | C_BOARD | C_OTHER | C_NOMINEE | C_NOMINATOR | C_TRUST

#: BODS interest types -> edge bits (shareholding is ownership and handled apart)
INTEREST_BITS = {
    "votingRights": C_VOTES,
    "appointmentOfBoard": C_BOARD,
    "boardMember": C_BOARD,
    "boardChair": C_BOARD,
    "otherInfluenceOrControl": C_OTHER,
    "seniorManagingOfficial": C_OTHER,
    "controlViaCompanyRulesOrArticles": C_OTHER,
    "controlByLegalFramework": C_OTHER,
    "rightsGrantedByContract": C_OTHER,
    "conditionalRightsGrantedByContract": C_OTHER,
    "nominee": C_NOMINEE,
    "nominator": C_NOMINATOR,
    "settlor": C_TRUST,
    "trustee": C_TRUST,
    "protector": C_TRUST,
    "beneficiaryOfLegalArrangement": C_TRUST,
    "enjoymentAndUseOfAssets": C_ECONOMIC,
    "rightToProfitOrIncomeFromAssets": C_ECONOMIC,
    "rightsToSurplusAssetsOnDissolution": C_ECONOMIC,
    "rightsToProfitOrIncome": C_ECONOMIC,
    "unknownInterest": C_UNKNOWN,
    "unpublishedInterest": C_UNKNOWN,
    "": C_UNKNOWN,
}


def control_names(bits: int) -> tuple[str, ...]:
    return tuple(name for name, bit in CONTROL_BITS.items() if bits & bit)


_EPOCH = date(1970, 1, 1).toordinal()
_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")


def day_number(text: str | None) -> int:
    """Days since 1970-01-01 of an ISO date (``YYYY-MM`` counts as the 1st); -1 when absent or bad."""
    if not text:
        return -1
    m = _DATE.match(text)
    if not m:
        return -1
    try:
        return date(int(m[1]), int(m[2]), int(m[3] or 1)).toordinal() - _EPOCH
    except ValueError:
        return -1


def day_text(day: int) -> str:
    return "" if day < 0 else date.fromordinal(day + _EPOCH).isoformat()


@dataclass(slots=True)
class Declared:
    """A BODS declared indirect interest: the source's own figure for ``party`` in ``subject``."""

    subject: int
    party: int
    lo: float
    hi: float
    via: tuple[int, ...]


@dataclass(slots=True)
class OwnershipGraph:
    ids: pa.Array
    names: pa.Array
    kind: np.ndarray  # uint8 per node
    flags: np.ndarray  # uint32 per node
    jurisdiction: np.ndarray  # int32 index into ``jurisdictions`` (-1 unknown)
    jurisdictions: list[str]
    holder: np.ndarray  # int32 per edge
    held: np.ndarray  # int32 per edge
    lo: np.ndarray  # float64 per edge, fraction; NaN when no ownership
    hi: np.ndarray
    bits: np.ndarray  # uint16 per edge
    start_day: np.ndarray  # int32 per edge, -1 unknown
    #: per node: day of the latest ceased interest (a change of owner or controller), -1 none
    last_change_day: np.ndarray
    #: statements about a node's owners (PSC statements, BODS unspecified reasons, exemptions)
    statements: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: full records of nodes from small sources (BODS, FtM, CSV), for display and matching
    records: dict[int, Entity | Person] = field(default_factory=dict)
    declared: list[Declared] = field(default_factory=list)
    #: latest date seen in the data (the snapshot date), the reference for "recent"
    as_of_day: int = -1
    _in_csr: tuple[np.ndarray, np.ndarray] | None = None
    _out_csr: tuple[np.ndarray, np.ndarray] | None = None
    _index: dict[str, int] | None = None
    _name_keys: pa.Array | None = None
    _id_list: list[str] | None = None
    _name_list: list[str] | None = None
    _ownership: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def m(self) -> int:
        return len(self.holder)

    def id_of(self, i: int) -> str:
        if self._id_list is None and self.n <= 100_000:
            # a screening's subgraph: its keys as Python strings once, not one Arrow scalar per call
            self._id_list = [str(x) for x in self.ids.to_pylist()]
        if self._id_list is not None:
            return self._id_list[i]
        return str(self.ids[i].as_py())

    def name_of(self, i: int) -> str:
        if self._name_list is None and self.n <= 100_000:
            self._name_list = [str(x or "") for x in self.names.to_pylist()]
        if self._name_list is not None:
            return self._name_list[i]
        return str(self.names[i].as_py() or "")

    def kind_of(self, i: int) -> PartyKind:
        return KIND_NAMES[int(self.kind[i])]

    def jurisdiction_of(self, i: int) -> str:
        j = int(self.jurisdiction[i])
        return self.jurisdictions[j] if j >= 0 else ""

    def index_of(self, node_id: str) -> int | None:
        """The node with this exact key, or None."""
        if self._index is not None:
            return self._index.get(node_id)
        if self.n <= 1_000_000:
            self._index = {k: i for i, k in enumerate(self.ids.to_pylist())}
            return self._index.get(node_id)
        found = pc.index(self.ids, pa.scalar(node_id, self.ids.type)).as_py()
        return None if found is None or found < 0 else int(found)

    def name_key_array(self) -> pa.Array:
        if self._name_keys is None:
            self._name_keys = pc.utf8_lower(pc.utf8_trim_whitespace(self.names))
        return self._name_keys

    def in_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR of edges by held node: ``indptr`` (n + 1) and the edge numbers, so the holders of ``v``
        are ``holder[order[indptr[v]:indptr[v + 1]]]``."""
        if self._in_csr is None:
            self._in_csr = _csr(self.held, self.n)
        return self._in_csr

    def out_edges(self) -> tuple[np.ndarray, np.ndarray]:
        if self._out_csr is None:
            self._out_csr = _csr(self.holder, self.n)
        return self._out_csr

    def ancestors(self, start: int, limit: int) -> tuple[np.ndarray, bool]:
        """Nodes from which an edge path leads to ``start`` (``start`` included), sorted, breadth first,
        at most ``limit`` of them; the flag says whether the limit cut the search."""
        nodes, _, truncated = self._ancestors(start, limit)
        return nodes, truncated

    def _ancestors(self, start: int, limit: int) -> tuple[np.ndarray, np.ndarray, bool]:
        indptr, order = self.in_edges()
        seen = {start}
        edges: list[int] = []
        frontier = [start]
        truncated = False
        while frontier and not truncated:
            nxt: list[int] = []
            for v in frontier:
                for e in order[indptr[v] : indptr[v + 1]].tolist():
                    u = int(self.holder[e])
                    if u not in seen:
                        if len(seen) >= limit:
                            truncated = True
                            break
                        seen.add(u)
                        nxt.append(u)
                    edges.append(e)
            frontier = nxt
        nodes = np.fromiter(sorted(seen), dtype=np.int64, count=len(seen))
        return nodes, np.array(sorted(set(edges)), dtype=np.int64), truncated

    def subgraph(
        self, nodes: np.ndarray, edges: np.ndarray | None = None
    ) -> tuple[OwnershipGraph, np.ndarray]:
        """The graph induced by the sorted ``nodes`` (renumbered 0..k-1 in that order) and the edge numbers
        kept. ``edges``: candidate edges (all edges between the nodes among them), so that a subgraph
        of a few nodes does not scan every edge of a national register."""
        nodes = np.asarray(nodes, dtype=np.int64)
        if edges is None:
            edges = np.arange(self.m, dtype=np.int64)
        lh = _lookup(nodes, self.holder[edges].astype(np.int64))
        lv = _lookup(nodes, self.held[edges].astype(np.int64))
        ok = (lh >= 0) & (lv >= 0)
        keep = edges[ok]
        lh, lv = lh[ok], lv[ok]
        take = pa.array(nodes)
        sub = OwnershipGraph(
            ids=self.ids.take(take),
            names=self.names.take(take),
            kind=self.kind[nodes],
            flags=self.flags[nodes],
            jurisdiction=self.jurisdiction[nodes],
            jurisdictions=self.jurisdictions,
            holder=lh.astype(np.int32),
            held=lv.astype(np.int32),
            lo=self.lo[keep],
            hi=self.hi[keep],
            bits=self.bits[keep],
            start_day=self.start_day[keep],
            last_change_day=self.last_change_day[nodes],
            as_of_day=self.as_of_day,
        )
        position = {int(g): i for i, g in enumerate(nodes.tolist())}
        for g_node, i in position.items():
            if g_node in self.statements:
                sub.statements[i] = self.statements[g_node]
            if g_node in self.records:
                sub.records[i] = self.records[g_node]
        sub.declared = [
            Declared(
                position[d.subject],
                position[d.party],
                d.lo,
                d.hi,
                tuple(position[x] for x in d.via if x in position),
            )
            for d in self.declared
            if d.subject in position and d.party in position
        ]
        return sub, keep

    def ownership_matrix(self, bound: str) -> sparse.csr_matrix:
        """``W[held, holder]``: the ownership fraction of each holder in each held node, parallel edges
        summed, then tightened so that no node is owned more than 100% (:func:`tighten`). ``bound`` is
        ``"lo"`` or ``"hi"``."""
        lo, hi, held, holder = self.ownership_edges()
        values = lo if bound == "lo" else hi
        return sparse.csr_matrix((values, (held, holder)), shape=(self.n, self.n))

    def ownership_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ownership edges merged per (held, holder) pair and tightened: (lo, hi, held, holder), computed
        once for a small graph such as a screening's, which asks several times (the arrays are then
        shared: do not modify them); a register's are not kept, they would double its edge memory."""
        if self._ownership is not None:
            return self._ownership
        edges = self._ownership_edges()
        if self.n <= 100_000:
            self._ownership = edges
        return edges

    def _ownership_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        own = np.flatnonzero(~np.isnan(self.lo) & (self.holder != self.held) & (self.hi > 0))
        held = self.held[own].astype(np.int64)
        holder = self.holder[own].astype(np.int64)
        key = held * self.n + holder
        uniq, inverse = np.unique(key, return_inverse=True)
        lo = np.minimum(np.bincount(inverse, self.lo[own], len(uniq)), 1.0)
        hi = np.minimum(np.bincount(inverse, self.hi[own], len(uniq)), 1.0)
        held_u = uniq // self.n
        holder_u = uniq % self.n
        lo, hi = tighten(held_u, lo, hi, self.n)
        return lo, hi, held_u, holder_u


def tighten(held: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Make the direct shares of each held node consistent: no holder can own more than what the
    others' minimum shares leave (``hi_i <= 1 - sum_{j != i} lo_j``). Where the minima alone add up to
    more than 100% (inconsistent data) they are scaled down to sum to 100%."""
    total_lo = np.bincount(held, lo, n)
    over = total_lo > 1.0
    if over.any():
        scale = np.ones(n)
        scale[over] = 1.0 / total_lo[over]
        lo = lo * scale[held]
        total_lo = np.bincount(held, lo, n)
    hi = np.minimum(hi, np.maximum(1.0 - (total_lo[held] - lo), lo))
    return lo, np.maximum(hi, lo)


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return indptr, order


def _lookup(sorted_nodes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted array ``sorted_nodes``, -1 when absent."""
    if not len(sorted_nodes):
        return np.full(len(values), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_nodes, values), len(sorted_nodes) - 1)
    return np.where(sorted_nodes[pos] == values, pos, -1)


_NODE_SCHEMA = pa.schema(
    [
        ("key", pa.large_string()),
        ("name", pa.large_string()),
        ("kind", pa.uint8()),
        ("flags", pa.uint32()),
        ("jurisdiction", pa.large_string()),
        ("subject", pa.bool_()),
    ]
)
_EDGE_SCHEMA = pa.schema(
    [
        ("holder", pa.large_string()),
        ("held", pa.large_string()),
        ("lo", pa.float64()),
        ("hi", pa.float64()),
        ("bits", pa.uint16()),
        ("start_day", pa.int32()),
    ]
)


class GraphBuilder:
    """Collects nodes and interests from any number of sources and builds one :class:`OwnershipGraph`."""

    def __init__(self) -> None:
        self._node_rows: list[tuple[str, str, int, int, str, bool]] = []
        self._edge_rows: list[tuple[str, str, float, float, int, int]] = []
        self._node_tables: list[pa.Table] = []
        self._edge_tables: list[pa.Table] = []
        self._statements: list[tuple[str, str]] = []
        self._changes: list[tuple[str, int]] = []
        self._statement_tables: list[pa.Table] = []
        self._change_tables: list[pa.Table] = []
        self._records: dict[str, Entity | Person] = {}
        self._declared: list[tuple[str, str, float, float, tuple[str, ...]]] = []
        self.as_of_day = -1

    # -- rows from the small loaders --------------------------------------------------------------
    def add_node(
        self, key: str, name: str, kind: int, flags: int = 0, jurisdiction: str = "", subject: bool = True
    ) -> None:
        self._node_rows.append(
            (key, name, kind, flags | (N_SUBJECT_RECORD if subject else 0), jurisdiction, subject)
        )

    def add_record(self, record: Entity | Person) -> None:
        """A full record (kept for display and matching) and its node."""
        self._records[record.id] = record
        self.add_node(record.id, record.name, *node_kind_and_flags(record), jurisdiction=record.jurisdiction)
        for statement in getattr(record, "statements", ()):
            self._statements.append((record.id, statement))

    def add_edge(self, holder: str, held: str, lo: float, hi: float, bits: int, start_day: int = -1) -> None:
        self._edge_rows.append((holder, held, lo, hi, bits, start_day))
        self.as_of_day = max(self.as_of_day, start_day)

    def add_interests(self, interests: Iterable[Interest]) -> None:
        """Interests of one holder in one held node (one BODS relationship or PSC record) as one edge:
        shareholdings summed into the ownership interval, everything else as control bits."""
        groups: dict[tuple[str, str], list[Interest]] = {}
        for interest in interests:
            groups.setdefault((interest.party_id, interest.subject_id), []).append(interest)
        for (holder, held), items in groups.items():
            lo = hi = 0.0
            bits = 0
            owned = False
            start = -1
            for it in items:
                start = max(start, day_number(it.start_date))
                if it.interest_type == "shareholding":
                    a, b = it.share
                    lo, hi, owned = lo + a, hi + b, True
                    bits |= C_OWNERSHIP
                else:
                    bit = INTEREST_BITS.get(it.interest_type, C_OTHER)
                    bits |= bit
                    if bit == C_UNKNOWN and (it.share_min is not None or it.share_max is not None):
                        a, b = it.share
                        lo, hi, owned = lo + a, hi + b, True
            if not owned and bits & C_UNKNOWN:
                lo, hi, owned = 0.0, 100.0, True
            if owned:
                self.add_edge(holder, held, min(lo, 100.0) / 100, min(hi, 100.0) / 100, bits, start)
            else:
                self.add_edge(holder, held, float("nan"), float("nan"), bits, start)

    def add_statement(self, key: str, statement: str) -> None:
        self._statements.append((key, statement))

    def add_change(self, key: str, day: int) -> None:
        if day >= 0:
            self._changes.append((key, day))
            self.as_of_day = max(self.as_of_day, day)

    def add_declared(self, subject: str, party: str, lo: float, hi: float, via: tuple[str, ...]) -> None:
        self._declared.append((subject, party, lo, hi, via))

    # -- whole columns from the PSC snapshot --------------------------------------------------------
    def add_tables(
        self,
        nodes: pa.Table | None,
        edges: pa.Table | None,
        changes: pa.Table | None = None,
        statements: pa.Table | None = None,
    ) -> None:
        """Whole columns: ``nodes`` and ``edges`` in the builder's schemas, ``changes`` (``key``, ``day``)
        and ``statements`` (``key``, ``statement``)."""
        if statements is not None and statements.num_rows:
            self._statement_tables.append(statements)
        if nodes is not None and nodes.num_rows:
            self._node_tables.append(nodes.select(_NODE_SCHEMA.names).cast(_NODE_SCHEMA))
        if edges is not None and edges.num_rows:
            self._edge_tables.append(edges.select(_EDGE_SCHEMA.names).cast(_EDGE_SCHEMA))
            latest = pc.max(edges["start_day"]).as_py()
            if latest is not None:
                self.as_of_day = max(self.as_of_day, int(latest))
        if changes is not None and changes.num_rows:
            self._change_tables.append(changes)
            latest = pc.max(changes["day"]).as_py()
            if latest is not None:
                self.as_of_day = max(self.as_of_day, int(latest))

    def build(self) -> OwnershipGraph:
        # Rows from the small loaders first (sorted so that a node's own record names it before a mention
        # as a holder does); whole tables from the PSC snapshot after them, unsorted (they are large).
        node_tables = []
        if self._node_rows:
            self._node_rows.sort(key=lambda r: not r[5])
            node_tables.append(
                pa.Table.from_pylist(
                    [dict(zip(_NODE_SCHEMA.names, r, strict=True)) for r in self._node_rows], _NODE_SCHEMA
                )
            )
        edge_tables = list(self._edge_tables)
        if self._edge_rows:
            edge_tables.append(
                pa.Table.from_pylist(
                    [dict(zip(_EDGE_SCHEMA.names, r, strict=True)) for r in self._edge_rows], _EDGE_SCHEMA
                )
            )
        node_tables.extend(self._node_tables)
        nodes = pa.concat_tables(node_tables) if node_tables else _NODE_SCHEMA.empty_table()
        edges = pa.concat_tables(edge_tables) if edge_tables else _EDGE_SCHEMA.empty_table()
        self._node_tables = self._edge_tables = []
        self._node_rows, self._edge_rows = [], []
        del node_tables, edge_tables

        statements = [
            *self._statement_tables,
            pa.table(
                {
                    "key": pa.array([s[0] for s in self._statements], pa.large_string()),
                    "statement": pa.array([s[1] for s in self._statements], pa.large_string()),
                }
            ),
        ]
        st_keys = [c for t in statements for c in t["key"].cast(pa.large_string()).chunks]
        change_keys = [
            pa.array([c[0] for c in self._changes], pa.large_string()),
            *(c for t in self._change_tables for c in t["key"].cast(pa.large_string()).chunks),
        ]
        change_days = np.concatenate(
            [
                np.array([c[1] for c in self._changes], dtype=np.int32),
                *(t["day"].to_numpy().astype(np.int32) for t in self._change_tables),
            ]
        )
        self._statement_tables, self._change_tables = [], []
        # One pass interns every key. Statement and change keys come last: codes follow first
        # appearance, so the nodes are exactly the codes below the count of node and edge keys, and a
        # statement about a key no node has gets a code at or above it (no second hash table of ids).
        k, m = nodes.num_rows, edges.num_rows
        all_keys = pa.chunked_array(
            [c for col in (nodes["key"], edges["holder"], edges["held"]) for c in col.chunks]
            + st_keys
            + change_keys,
            pa.large_string(),
        )
        encoded = pc.dictionary_encode(all_keys).combine_chunks()
        del all_keys, st_keys, change_keys
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        n = int(codes[: k + 2 * m].max(initial=-1)) + 1
        ids = encoded.dictionary.slice(0, n)
        del encoded
        node_codes = codes[:k]
        holder = np.ascontiguousarray(codes[k : k + m], dtype=np.int32)
        held = np.ascontiguousarray(codes[k + m : k + 2 * m], dtype=np.int32)
        n_st = sum(len(t) for t in statements)
        st_codes = codes[k + 2 * m : k + 2 * m + n_st].astype(np.int64)
        change_codes = codes[k + 2 * m + n_st :].astype(np.int64)
        # the interned keys were the largest part of the loaded tables: drop them before the rest
        edges = edges.select(["lo", "hi", "bits", "start_day"])
        nodes = nodes.select(["name", "kind", "flags", "jurisdiction"])
        pa.default_memory_pool().release_unused()

        kind = np.zeros(n, dtype=np.uint8)
        flags = np.zeros(n, dtype=np.uint32)
        jurisdiction = np.full(n, -1, dtype=np.int32)
        names = pa.nulls(n, pa.large_string())
        jurisdictions: list[str] = []
        if k:
            first = np.unique(node_codes, return_index=True)
            kind[first[0]] = nodes["kind"].to_numpy()[first[1]]
            np.bitwise_or.at(flags, node_codes, nodes["flags"].to_numpy().astype(np.uint32))
            # a node named in no row of its own keeps a null name; named nodes take their first name
            name_col = nodes["name"].combine_chunks()
            valid = (
                pc.fill_null(pc.not_equal(name_col, ""), False).to_numpy(zero_copy_only=False).astype(bool)
            )
            named_codes = node_codes[valid]
            named_rows = np.flatnonzero(valid)
            order = np.unique(named_codes[::-1], return_index=True)
            # the first row in order wins: reversing then unique keeps the last of the reversed = first
            firsts = named_rows[::-1][order[1]]
            name_values = np.full(n, -1, dtype=np.int64)
            name_values[order[0]] = firsts
            take = pa.array(name_values, mask=name_values < 0)
            names = name_col.take(take)
            jur_col = nodes["jurisdiction"].combine_chunks()
            jur_enc = pc.dictionary_encode(jur_col)
            jurisdictions = [str(x) for x in jur_enc.dictionary.to_pylist()]
            jur_idx = jur_enc.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            empty = [i for i, s in enumerate(jurisdictions) if not s]
            has = np.ones(k, dtype=bool) if not empty else jur_idx != empty[0]
            jurisdiction[node_codes[has][::-1]] = jur_idx[has][::-1]
        np.bitwise_or.at(flags, held, np.uint32(N_SUBJECT_RECORD))
        # a UK company number is a UK company, whether or not a row of its own said so
        unset = pc.starts_with(ids, "GB-COH-").to_numpy(zero_copy_only=False) & (jurisdiction < 0)
        if unset.any():
            if "GB" not in jurisdictions:
                jurisdictions.append("GB")
            jurisdiction[unset] = jurisdictions.index("GB")
        graph = OwnershipGraph(
            ids=ids,
            names=names,
            kind=kind,
            flags=flags,
            jurisdiction=jurisdiction,
            jurisdictions=jurisdictions,
            holder=holder,
            held=held,
            lo=edges["lo"].to_numpy(),
            hi=edges["hi"].to_numpy(),
            bits=edges["bits"].to_numpy().astype(np.uint16),
            start_day=edges["start_day"].to_numpy().astype(np.int32),
            last_change_day=np.full(n, -1, dtype=np.int32),
            as_of_day=self.as_of_day,
        )
        del edges, nodes
        lookup = graph.index_of
        if n_st:
            texts = pa.chunked_array(
                [t["statement"].cast(pa.large_string()) for t in statements], pa.large_string()
            ).to_pylist()
            for i, text in zip(st_codes.tolist(), texts, strict=True):
                if i < n and text:
                    graph.statements[i] = (*graph.statements.get(i, ()), text)
                    flags[i] |= statement_flag(text)
        if len(change_codes):
            ok = change_codes < n
            np.maximum.at(graph.last_change_day, change_codes[ok], change_days[ok])
        del statements
        pa.default_memory_pool().release_unused()
        for key, record in self._records.items():
            i = lookup(key)
            if i is not None:
                graph.records[i] = record
        for subject, party, lo, hi, via in self._declared:
            s, p = lookup(subject), lookup(party)
            if s is not None and p is not None:
                graph.declared.append(
                    Declared(s, p, lo, hi, tuple(x for x in (lookup(v) for v in via) if x is not None))
                )
        return graph


#: PSC statements and BODS reasons that say a company's owners are not (all) named.
OPAQUE_STATEMENTS = (
    "no-individual-or-entity-with-signficant-control",
    "no-individual-or-entity-with-significant-control",
    "steps-to-find-psc-not-yet-completed",
    "psc-exists-but-not-identified",
    "psc-details-not-confirmed",
    "psc-contacted-but-no-response",
    "restrictions-notice-issued-to-psc",
    "psc-has-failed-to-confirm-changed-details",
    "no-registrable-beneficial-owner",
    "subjectUnableToConfirmOrIdentifyBeneficialOwner",
    "interestedPartyHasNotProvidedInformation",
    "subjectExemptFromDisclosure",
    "interestedPartyExemptFromDisclosure",
    "unknown",
)
LISTED_STATEMENTS = (
    "disclosure-transparency-rules-chapter-five-applies",
    "psc-exempt-as-shares-admitted-on-market",
    "psc-exempt-as-trading-on-regulated-market",
    "psc-exempt-as-trading-on-uk-regulated-market",
    "psc-exempt-as-trading-on-eea-regulated-market",
    "subjectExemptFromDisclosure",
)


def statement_flag(statement: str) -> int:
    code = statement.split(":", 1)[0].strip()
    bits = 0
    if code in LISTED_STATEMENTS:
        bits |= N_EXEMPT | N_PUBLIC
    elif code in OPAQUE_STATEMENTS or code.startswith("psc-") or code.startswith("no-"):
        bits |= N_NO_OWNER_STATEMENT
    return bits


_STATE_TOPICS = ("gov.soe", "gov.state", "gov.national", "gov.igo", "gov.muni", "gov")


def node_kind_and_flags(record: Entity | Person) -> tuple[int, int]:
    flags = 0
    topics = set(record.topics)
    if topics & {"sanction", "sanction.linked", "sanction.counter"}:
        flags |= N_SANCTION_TOPIC
    if "mil" in topics:
        flags |= N_MILITARY_TOPIC
    if any(t == s or t.startswith(s + ".") for t in topics for s in _STATE_TOPICS):
        flags |= N_STATE
    if isinstance(record, Person):
        if record.person_type in {"anonymousPerson", "unknownPerson"}:
            flags |= N_ANONYMOUS
        return KIND_PERSON, flags
    if record.entity_type in {"state", "stateBody"}:
        flags |= N_STATE
    if record.subtype in {"stateOwnedEnterprise"}:
        flags |= N_STATE
    if record.entity_type in {"anonymousEntity", "unknownEntity"}:
        flags |= N_ANONYMOUS
    if record.entity_type == "arrangement":
        flags |= N_ARRANGEMENT
    if record.subtype == "nomination":
        flags |= N_NOMINEE
    if record.subtype == "trust":
        flags |= N_TRUST
    if record.publicly_listed:
        flags |= N_PUBLIC
    kind = KIND_STATE if record.entity_type in {"state", "stateBody"} else KIND_ENTITY
    return kind, flags
