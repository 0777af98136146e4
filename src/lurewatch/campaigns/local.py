"""The local campaign backend: NumPy arrays per message, SciPy components, DuckDB aggregates.

Per message it keeps about 250 bytes (ids as integers, time, the exact key, the LSH band keys and a
64-byte b-bit sketch), so 10 million messages fit in a few gigabytes; texts are not kept but read again
from the source for the few messages shown or screened. The map step (sketches and contact keys) runs
in worker processes, one Arrow batch at a time.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lurewatch.campaigns import persona_keys as pk
from lurewatch.campaigns.backend import CampaignBackend, Progress, StreamSource
from lurewatch.campaigns.signatures import SketchParams, sketch_batch

#: b-bit rows kept per message for verifying candidate pairs (of the sketch's num_perm)
VERIFY_ROWS = 64
#: a wording sent by more accounts than this is a stock phrase: it does not pair with a name (name_text)
NAME_TEXT_MAX_ACCOUNTS = 50
#: rows allocated up front when the stream does not say how many it has
BATCH_CAPACITY = 1 << 16
_PROFILE = ("sender_name", "sender_headline", "sender_company", "sender_location", "sender_photo_hash", "sender_created_at", "sender_connections")  # fmt: skip


def is_sensitive_sector(sector: str | None) -> bool:
    """Whether a recipient sector is one state approaches target (the catalogue's P1 list, by word stem)."""
    if not sector:
        return False
    words = sector.casefold().replace("-", " ").replace("/", " ").split()
    text = " ".join(words)
    if any(phrase in text for phrase in _SENSITIVE_PHRASES):
        return True
    return any(w.startswith(stem) for w in words for stem in _SENSITIVE_STEMS)


# the stems of indicator P1's recipient_sectors (src/lurewatch/data/indicators.toml), plus the long forms
_SENSITIVE_STEMS = ("government", "policy", "academ", "defen", "aerospace", "space", "financ", "econom", "quantum", "biotech", "materials", "semiconductor", "cyber", "energy", "nuclear", "telecom", "robot", "ai")  # fmt: skip
_SENSITIVE_PHRASES = ("artificial intelligence", "machine learning", "synthetic biology", "life sciences", "national security")  # fmt: skip


class _Interner:
    """Strings to dense integer ids, batch by batch (Python touches each distinct value once per batch)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.values: list[str] = []

    def encode(self, col: pa.Array) -> np.ndarray:
        enc = pc.dictionary_encode(col.fill_null(""))
        dictionary = enc.dictionary.to_pylist()
        ids = self.ids
        values = self.values
        mapping = np.empty(len(dictionary), dtype=np.int32)
        for i, value in enumerate(dictionary):
            got = ids.get(value)
            if got is None:
                got = ids[value] = len(values)
                values.append(value)
            mapping[i] = got
        return mapping[enc.indices.to_numpy(zero_copy_only=False)]


def _map_batch(
    args: tuple[pa.Array, pa.Array, SketchParams],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pa.Table]:
    texts, names, params = args
    sk = sketch_batch(texts, names, params)
    contacts = pk.contact_keys_batch(texts)
    return sk.exact, sk.bands, np.ascontiguousarray(sk.bbit[:, :VERIFY_ROWS]), sk.empty, contacts


class _Columns:
    """Per-message arrays filled batch by batch in place.

    With the row count known up front (Parquet metadata) each array is allocated once at its final
    size; otherwise it grows by half when full. Either way there is no end-of-stream concatenation,
    which would briefly hold every array twice.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1)
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, offset: int, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            need = offset + values.shape[0]
            held = self.arrays.get(name)
            if held is None or need > held.shape[0]:
                size = max(need, self.capacity if held is None else int(held.shape[0] * 1.5) + 1)
                grown = np.empty((size, *values.shape[1:]), dtype=values.dtype)
                if held is not None:
                    grown[:offset] = held[:offset]
                held = self.arrays[name] = grown
            held[offset:need] = values

    def get(self, name: str, n: int, dtype: type | np.dtype, tail: tuple[int, ...] = ()) -> np.ndarray:
        held = self.arrays.pop(name, None)
        if held is None:
            return np.zeros((0, *tail), dtype=dtype)
        return held[:n] if held.shape[0] == n else held[:n].copy()


class _Profiles:
    """The sender_* fields of each account as first seen, kept as Arrow columns (not Python objects)."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []
        self.table: pa.Table | None = None
        self.row_of = np.zeros(0, dtype=np.int64)
        self.seen = np.zeros(0, dtype=bool)

    def add(self, batch: pa.RecordBatch, sender: np.ndarray, n_accounts: int) -> None:
        if self.seen.size < n_accounts:
            self.seen = np.concatenate(
                [self.seen, np.zeros(max(n_accounts - self.seen.size, self.seen.size // 2), bool)]
            )
        accounts, first = np.unique(sender, return_index=True)
        new = ~self.seen[accounts]
        if not new.any():
            return
        self.seen[accounts[new]] = True
        part = (
            pa.Table.from_batches([batch]).select(list(_PROFILE)).take(pa.array(first[new].astype(np.int64)))
        )
        self.parts.append(part.append_column("account", pa.array(accounts[new].astype(np.int64))))

    def finish(self, n_accounts: int) -> None:
        schema = pa.schema([*(pa.field(c, pa.int64() if c == "sender_connections" else pa.string()) for c in _PROFILE), pa.field("account", pa.int64())])  # fmt: skip
        self.table = pa.concat_tables(self.parts).combine_chunks() if self.parts else schema.empty_table()
        self.parts = []
        self.row_of = np.full(n_accounts, -1, dtype=np.int64)
        self.row_of[self.table.column("account").to_numpy()] = np.arange(self.table.num_rows)

    def chunks(
        self, columns: Sequence[str], size: int = 100_000
    ) -> Iterator[tuple[list[int], list[list[object]]]]:
        """(accounts, [column values...]) in slices of ``size`` accounts, as Python values."""
        assert self.table is not None
        for lo in range(0, self.table.num_rows, size):
            part = self.table.slice(lo, size)
            yield part.column("account").to_pylist(), [part.column(c).to_pylist() for c in columns]

    def rows(self, accounts: Sequence[int]) -> pa.Table:
        assert self.table is not None
        rows = self.row_of[np.asarray(accounts, dtype=np.int64)] if len(accounts) else np.zeros(0, np.int64)
        return self.table.take(pa.array(rows))


class LocalBackend(CampaignBackend):
    """Runs every step in this process (and its map workers). ``workers`` 0 maps in-process."""

    name = "local"

    def __init__(self, params: SketchParams | None = None, workers: int = 0) -> None:
        self.params = params or SketchParams()
        self.workers = max(0, workers)
        self.source: StreamSource | None = None
        self.accounts = _Interner()
        self.recipients = _Interner()
        self.sectors = _Interner()
        self.orgs = _Interner()
        self._profiles = _Profiles()
        self.n = 0
        self._common: dict[str, int] = {}
        self.cluster = np.zeros(0, np.int64)
        self.group = np.zeros(0, np.int64)

    # -- 1. map ---------------------------------------------------------------------------------------
    def ingest(self, source: StreamSource, progress: Progress | None = None) -> int:
        self.source = source
        total = source.size_hint()
        columns = _Columns(total or BATCH_CAPACITY)
        profiles = self._profiles = _Profiles()
        contacts: list[pa.Table] = []
        message_ids: list[pa.Array] = []

        def jobs() -> Iterator[tuple[pa.Array, pa.Array, SketchParams]]:
            for batch in pending:
                yield batch.column("text"), batch.column("sender_name"), self.params

        pending: list[pa.RecordBatch] = []
        done = 0
        with _pool(self.workers) as pool:
            for batch_group in _groups(source.batches(), max(1, 2 * max(self.workers, 1))):
                pending = batch_group
                mapped = pool.imap(_map_batch, jobs()) if pool is not None else map(_map_batch, jobs())
                for batch, (exact, bands, bbit, empty, ck) in zip(pending, mapped, strict=True):
                    offset = self.n
                    rows = batch.num_rows
                    sender = self.accounts.encode(batch.column("sender_id"))
                    profiles.add(batch, sender, len(self.accounts.values))
                    sent = batch.column("sent_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
                    sent = (
                        np.where(np.isnan(sent), np.iinfo(np.int64).min, sent).astype(np.int64)
                        if sent.dtype.kind == "f"
                        else sent.astype(np.int64)
                    )
                    columns.put(
                        offset,
                        sender=sender,
                        recipient=self.recipients.encode(batch.column("recipient_id")),
                        sent=sent,
                        sector=self.sectors.encode(batch.column("recipient_sector")),
                        org=self.orgs.encode(batch.column("recipient_org")),
                        exact=exact,
                        # the low 32 bits of each band key: a bucket shared by chance is caught
                        # by the verification, and half the memory of the largest array
                        bands=bands.astype(np.uint32),
                        bbit=bbit,
                        empty=empty,
                    )
                    message_ids.append(batch.column("message_id"))
                    if ck.num_rows:
                        contacts.append(ck.set_column(0, "row", pc.add(ck.column("row"), offset)))
                    self.n += rows
                    done += rows
                    if progress:
                        progress("sketching", done, total)
        b, n = self.params.bands[0], self.n
        self.sender = columns.get("sender", n, np.int32)
        self.recipient = columns.get("recipient", n, np.int32)
        self.sent = columns.get("sent", n, np.int64)
        self.sector = columns.get("sector", n, np.int32)
        self.org = columns.get("org", n, np.int32)
        self.exact = columns.get("exact", n, np.uint64)
        self.bands = columns.get("bands", n, np.uint32, (b,))
        self.bbit = columns.get("bbit", n, np.uint8, (VERIFY_ROWS,))
        self.empty = columns.get("empty", n, bool)
        profiles.finish(len(self.accounts.values))
        self.message_ids = (
            pa.chunked_array(message_ids, pa.string()) if message_ids else pa.chunked_array([], pa.string())
        )
        self.contacts = (
            pa.concat_tables(contacts)
            if contacts
            else pa.table(
                {
                    "row": pa.array([], pa.int64()),
                    "kind": pa.array([], pa.string()),
                    "value": pa.array([], pa.string()),
                }
            )
        )
        sectors = self.sectors.values
        self.sector_sensitive = np.array([is_sensitive_sector(s) for s in sectors], dtype=bool)
        self.sector_known = np.array([bool(s) for s in sectors], dtype=bool)
        self.cluster = np.arange(self.n, dtype=np.int64)
        self.group = np.arange(len(self.accounts.values), dtype=np.int64)
        return self.n

    # -- 2. text clusters ------------------------------------------------------------------------------
    def text_clusters(self, threshold: float) -> int:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.n
        if n == 0:
            return 0
        valid = ~self.empty
        # exact duplicates first: one representative per normalised text
        order = np.flatnonzero(valid)
        _uniq, first, inverse = np.unique(self.exact[order], return_index=True, return_inverse=True)
        reps = order[first]
        label = np.arange(n, dtype=np.int64)
        label[order] = reps[inverse]
        # then near duplicates among the representatives, band by band: consecutive members of a bucket
        # (sorted by key) are verified on the b-bit sketch and joined; a pair already in one component
        # is skipped, so later bands cost little
        cutoff = max(0.0, threshold - 0.1)
        rep_label = np.arange(reps.size, dtype=np.int64)
        for j in range(self.bands.shape[1]):
            keys = self.bands[reps, j]
            srt = np.argsort(keys, kind="stable")
            same = keys[srt[1:]] == keys[srt[:-1]]
            left, right = srt[:-1][same], srt[1:][same]
            if left.size == 0:
                continue
            differ = rep_label[left] != rep_label[right]
            left, right = left[differ], right[differ]
            if left.size == 0:
                continue
            ok = _verify(self.bbit, reps[left], reps[right], cutoff)
            left, right = rep_label[left[ok]], rep_label[right[ok]]
            if left.size == 0:
                continue
            m = reps.size
            graph = coo_matrix((np.ones(left.size, np.int8), (left, right)), shape=(m, m))
            _, comp = connected_components(graph, directed=False)
            # relabel: each component takes the smallest representative index in it
            smallest = np.full(comp.max() + 1, m, dtype=np.int64)
            np.minimum.at(smallest, comp, np.arange(m))
            rep_label = smallest[comp[rep_label]]
        label[order] = reps[rep_label[inverse]]
        self.cluster = label
        counts = np.bincount(label, minlength=n)
        return int((counts >= 2).sum())

    # -- 3. evidence keys -------------------------------------------------------------------------------
    def _key_rows(self) -> pa.Table:
        """(account, kind, value, messages) rows of every evidence value, before the rarity filter."""
        tables: list[pa.Table] = []
        if self.contacts.num_rows:
            rows = self.contacts.column("row").to_numpy()
            tables.append(
                pa.table(
                    {
                        "account": pa.array(self.sender[rows].astype(np.int64)),
                        "kind": self.contacts.column("kind"),
                        "value": self.contacts.column("value"),
                        "messages": pa.array(np.ones(rows.size, np.int64)),
                    }
                )
            )
        acc, kind, value = [], [], []
        # wording an account's name is seen with: only wordings used by few accounts (not stock phrases)
        cluster_accounts = self._cluster_account_counts()
        per_account_clusters: dict[int, set[int]] = {}
        if cluster_accounts:
            sel = np.isin(self.cluster, np.fromiter(cluster_accounts, dtype=np.int64))
            for a, c in set(zip(self.sender[sel].tolist(), self.cluster[sel].tolist(), strict=True)):
                per_account_clusters.setdefault(a, set()).add(c)
        names_of: dict[int, tuple[str, set[str]]] = {}
        for accounts, (names,) in self._profiles.chunks(["sender_name"]):
            for a, name in zip(accounts, names, strict=True):
                names_of[a] = self._name_keys(a, name)
        # Initial forms ("j wang") count only where someone actually goes by one: two full names that
        # merely share an initial form ("Chou Hsiao-ming", "Chao Hsiao-ming") are different names.
        abbreviated = {full for full, _ in names_of.values() if _has_initial(full)}
        for accounts, (companies, photos) in self._profiles.chunks(["sender_company", "sender_photo_hash"]):
            for a, company, photo in zip(accounts, companies, photos, strict=True):
                photo_value = pk.parse_photo_hash(photo) if photo else None
                if photo_value is not None and photo_value not in pk.COMMON_PHOTO_HASHES:
                    acc.append(a), kind.append("photo_hash"), value.append(f"{photo_value:016x}")
                full, variants = names_of[a]
                keys = {full} if full else set()
                keys.update(v for v in variants if not _has_initial(v) or v in abbreviated)
                company_value = account_company_key(company)
                for nk in keys:
                    if company_value:
                        acc.append(a), kind.append("name_company"), value.append(f"{nk} | {company_value}")
                    for c in per_account_clusters.get(a, ()):
                        acc.append(a), kind.append("name_text"), value.append(f"{nk} | text:{c}")
            if len(acc) > 500_000:
                tables.append(_key_table(acc, kind, value))
                acc, kind, value = [], [], []
        del names_of
        if acc:
            tables.append(_key_table(acc, kind, value))
        if not tables:
            return pa.table({"account": pa.array([], pa.int64()), "kind": pa.array([], pa.string()), "value": pa.array([], pa.string()), "messages": pa.array([], pa.int64())})  # fmt: skip
        return pa.concat_tables(tables)

    def _name_keys(self, account: int, name: object) -> tuple[str, set[str]]:
        return account_name_keys(self.accounts.values[account], name)

    def _cluster_account_counts(self, max_accounts: int = NAME_TEXT_MAX_ACCOUNTS) -> dict[int, int]:
        """Wordings (clusters of two or more messages) sent by 2..max_accounts accounts."""
        multi = np.bincount(self.cluster, minlength=self.n) >= 2
        sel = multi[self.cluster]
        if not sel.any():
            return {}
        clusters, counts = _distinct_per(self.cluster[sel], self.sender[sel], len(self.accounts.values))
        keep = (counts >= 2) & (counts <= max_accounts)
        return dict(zip(clusters[keep].tolist(), counts[keep].tolist(), strict=True))

    def account_keys(self, max_accounts: int) -> pa.Table:
        rows = self._key_rows()
        con = _duckdb()
        try:
            con.register("k", rows)
            grouped = con.sql(
                """
                SELECT kind, value, list(DISTINCT account ORDER BY account) AS accounts, sum(messages)::BIGINT AS messages,
                       count(DISTINCT account) AS n
                FROM k GROUP BY kind, value HAVING count(DISTINCT account) >= 2
                """
            ).arrow()
        finally:
            con.close()
        if hasattr(grouped, "read_all"):
            grouped = grouped.read_all()
        n = grouped.column("n").to_numpy()
        common = grouped.filter(pc.greater(grouped.column("n"), max_accounts))
        self._common = {}
        for kind_value in common.column("kind").to_pylist():
            self._common[kind_value] = self._common.get(kind_value, 0) + 1
        kept = grouped.filter(pa.array(n <= max_accounts))
        names = self.accounts.values
        accounts = [[names[a] for a in lst] for lst in kept.column("accounts").to_pylist()]
        return pa.table(
            {
                "kind": kept.column("kind"),
                "value": kept.column("value"),
                "accounts": pa.array(accounts, pa.list_(pa.string())),
                "messages": kept.column("messages"),
            }
        )

    @property
    def common_keys(self) -> dict[str, int]:
        return dict(self._common)

    def photo_pairs(self, max_distance: int) -> pa.Table:
        ids, hashes = [], []
        for accounts, (photos,) in self._profiles.chunks(["sender_photo_hash"]):
            for a, photo in zip(accounts, photos, strict=True):
                value = pk.parse_photo_hash(photo) if photo else None
                if value is not None and value not in pk.COMMON_PHOTO_HASHES:
                    ids.append(a)
                    hashes.append(value)
        empty = pa.table({"account_a": pa.array([], pa.string()), "account_b": pa.array([], pa.string()), "distance": pa.array([], pa.int64())})  # fmt: skip
        if max_distance < 1 or len(hashes) < 2:
            return empty
        pairs = pk.photo_hash_pairs(np.array(hashes, dtype=np.uint64), max_distance=max_distance)
        pairs = pairs[pairs[:, 2] >= 1]
        if pairs.size == 0:
            return empty
        names = self.accounts.values
        ids_arr = np.array(ids)
        return pa.table(
            {
                "account_a": pa.array([names[i] for i in ids_arr[pairs[:, 0]]], pa.string()),
                "account_b": pa.array([names[i] for i in ids_arr[pairs[:, 1]]], pa.string()),
                "distance": pa.array(pairs[:, 2].astype(np.int64)),
            }
        )

    # -- 4. groups -------------------------------------------------------------------------------------
    def assign_groups(self, links: pa.Table) -> int:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        m = len(self.accounts.values)
        if links.num_rows:
            ids = self.accounts.ids
            a = np.fromiter((ids[x] for x in links.column("account_a").to_pylist()), np.int64, links.num_rows)
            b = np.fromiter((ids[x] for x in links.column("account_b").to_pylist()), np.int64, links.num_rows)
        else:
            a = b = np.zeros(0, np.int64)
        graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(m, m))
        count, comp = connected_components(graph, directed=False)
        self.group = comp.astype(np.int64)
        return int(count)

    # -- 5. summaries ----------------------------------------------------------------------------------
    def _message_table(self, rows: np.ndarray | None = None) -> pa.Table:
        sel = slice(None) if rows is None else rows
        sector = self.sector[sel]
        return pa.table(
            {
                "row": pa.array(np.arange(self.n, dtype=np.int64)[sel]),
                "grp": pa.array(self.group[self.sender[sel]]),
                "account": pa.array(self.sender[sel]),
                "recipient": pa.array(self.recipient[sel]),
                # unknown times keep the int64 minimum as a sentinel; the SQL leaves them out
                "sent": pa.array(self.sent[sel]),
                "sensitive": pa.array(self.sector_sensitive[sector]),
                "known": pa.array(self.sector_known[sector]),
                "cluster": pa.array(self.cluster[sel]),
            }
        )

    def group_summaries(self, min_recipients: int, burst_window_s: int, max_accounts: int = 50) -> pa.Table:
        # only groups that can qualify: several accounts, or one account repeating a wording of its
        # own; a wording sent by many accounts is a stock phrase, whose reach says nothing of one operator
        acc_per_group = np.bincount(self.group, minlength=int(self.group.max(initial=0)) + 1)
        multi = np.flatnonzero((np.bincount(self.cluster, minlength=self.n) >= 2)[self.cluster])
        cl, per_cluster = _distinct_per(self.cluster[multi], self.sender[multi], len(self.accounts.values))
        rare_cluster = np.zeros(self.n, dtype=bool)
        rare_cluster[cl[per_cluster <= max_accounts]] = True
        rare = np.zeros(self.n, dtype=bool)
        rare[multi] = rare_cluster[self.cluster[multi]]
        del multi, cl, per_cluster, rare_cluster
        rows = np.flatnonzero((acc_per_group[self.group[self.sender]] >= 2) | rare)
        table = self._message_table(rows).append_column("rare", pa.array(rare[rows]))
        del rare
        null_time = np.iinfo(np.int64).min
        con = _duckdb()
        try:
            con.register("m", table)
            out = con.sql(
                f"""
                WITH g AS (
                  SELECT grp, count(*) AS messages, count(DISTINCT account) AS accounts,
                         count(DISTINCT recipient) AS recipients,
                         count(DISTINCT recipient) FILTER (WHERE sensitive) AS sensitive_recipients,
                         count(DISTINCT recipient) FILTER (WHERE known) AS known_sector_recipients,
                         min(sent) FILTER (WHERE sent <> {null_time}) AS first_seen,
                         max(sent) FILTER (WHERE sent <> {null_time}) AS last_seen
                  FROM m GROUP BY grp HAVING count(DISTINCT recipient) >= {int(min_recipients)}
                ), reach AS (
                  SELECT grp, cluster, count(*) AS n, count(DISTINCT recipient) AS r FROM m
                  WHERE rare AND grp IN (SELECT grp FROM g) GROUP BY grp, cluster
                ), burst AS (
                  SELECT grp, max(n) AS max_burst FROM (
                    SELECT grp, sent // {int(burst_window_s)} AS w, count(*) AS n FROM m
                    WHERE sent <> {null_time} AND grp IN (SELECT grp FROM g) GROUP BY grp, w) GROUP BY grp
                )
                SELECT g.grp AS "group", accounts, messages, recipients, sensitive_recipients, known_sector_recipients,
                       (SELECT max(r) FROM reach WHERE reach.grp = g.grp) AS top_reach,
                       (SELECT count(*) FROM reach WHERE reach.grp = g.grp AND n >= 2) AS templates,
                       first_seen, last_seen, coalesce(burst.max_burst, 0) AS max_burst
                FROM g LEFT JOIN burst USING (grp) ORDER BY g.grp
                """
            ).arrow()
        finally:
            con.close()
        return out.read_all() if hasattr(out, "read_all") else out

    # -- 6. members ------------------------------------------------------------------------------------
    def group_messages(
        self, groups: Sequence[int], *, sample: int | None = None, with_text: bool = False
    ) -> pa.Table:
        wanted = np.zeros(int(self.group.max(initial=0)) + 1, dtype=bool)
        wanted[np.asarray(list(groups), dtype=np.int64)] = True
        rows = np.flatnonzero(wanted[self.group[self.sender]])
        rank = weight = None
        if sample is not None and rows.size:
            rows, rank, weight = self._sample(rows, sample)
        out = {
            "group": pa.array(self.group[self.sender[rows]]),
            "cluster": pa.array(self.cluster[rows]),
            "row": pa.array(rows.astype(np.int64)),
            "message_id": self.message_ids.take(pa.array(rows.astype(np.int64))),
            "sent_at": pa.array(
                np.where(
                    self.sent[rows] == np.iinfo(np.int64).min,
                    np.datetime64("NaT"),
                    self.sent[rows].astype("datetime64[s]"),
                )
            ).cast(pa.timestamp("s", tz="UTC")),
            "sender_id": pa.array([self.accounts.values[i] for i in self.sender[rows]], pa.string()),
            "recipient_id": pa.array([self.recipients.values[i] for i in self.recipient[rows]], pa.string()),
            "recipient_org": pa.array([self.orgs.values[i] or None for i in self.org[rows]], pa.string()),
            "recipient_sector": pa.array(
                [self.sectors.values[i] or None for i in self.sector[rows]], pa.string()
            ),
        }
        if rank is not None:
            out["rank"] = pa.array(rank)
            out["weight"] = pa.array(weight)
        table = pa.table(out)
        if with_text:
            table = self._attach_text(table)
        return table

    def _sample(self, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Up to ``k`` rows per group: the earliest message of each wording, most repeated wording first
        (rank 0), in that order; with the number of the group's messages in each one's wording."""
        grp = self.group[self.sender[rows]]
        clu = self.cluster[rows]
        sent = self.sent[rows]
        # earliest message per (group, cluster)
        order = np.lexsort((rows, sent, clu, grp))
        g_o, c_o = grp[order], clu[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (g_o[1:] != g_o[:-1]) | (c_o[1:] != c_o[:-1])
        heads = order[first]
        starts = np.flatnonzero(first)
        sizes = np.diff(np.append(starts, order.size))
        # per group, by wording size descending (then time)
        order2 = np.lexsort((sent[heads], -sizes, grp[heads]))
        heads, sizes = heads[order2], sizes[order2]
        g_h = grp[heads]
        start = np.ones(heads.size, dtype=bool)
        start[1:] = g_h[1:] != g_h[:-1]
        rank = np.arange(heads.size) - np.maximum.accumulate(np.where(start, np.arange(heads.size), 0))
        keep = rank < k
        return rows[heads[keep]], rank[keep].astype(np.int64), sizes[keep].astype(np.int64)

    def _attach_text(self, table: pa.Table) -> pa.Table:
        """Read the texts and profile fields of ``table``'s rows from the source (texts are not kept)."""
        assert self.source is not None
        rows = table.column("row").to_numpy()
        wanted = np.sort(np.unique(rows))
        names = ["text", "subject", "channel", "sender_name", "sender_headline", "sender_company", "sender_location", "sender_photo_hash", "sender_created_at", "sender_connections"]  # fmt: skip
        found: list[pa.Table] = []
        offset = 0
        pos = 0
        for batch in self.source.batches():
            end = offset + batch.num_rows
            hi = np.searchsorted(wanted, end, "left")
            if hi > pos:
                local = wanted[pos:hi] - offset
                part = pa.Table.from_batches([batch]).select(names).take(pa.array(local))
                found.append(part.append_column("row", pa.array(wanted[pos:hi])))
                pos = hi
            offset = end
            if pos >= wanted.size:
                break
        if not found:
            raise RuntimeError("the stream changed between reads: rows are missing")
        texts = pa.concat_tables(found)
        index = {r: i for i, r in enumerate(texts.column("row").to_pylist())}
        take = pa.array([index[r] for r in rows.tolist()], pa.int64())
        for name in names:
            table = table.append_column(name, texts.column(name).take(take))
        return table

    def account_profiles(self, accounts: Iterable[str]) -> pa.Table:
        ids = self.accounts.ids
        wanted = [a for a in accounts if a in ids]
        table = self._profiles.rows([ids[a] for a in wanted])
        return table.drop_columns(["account"]).add_column(0, "sender_id", pa.array(wanted, pa.string()))

    def close(self) -> None:
        self.bands = self.bbit = np.zeros(0)


#: DuckDB's working memory before it spills to disk: the per-message arrays stay in NumPy, beside it
DUCKDB_MEMORY = "1536MB"


def _duckdb():  # type: ignore[no-untyped-def]
    import tempfile

    import duckdb

    spill = Path(tempfile.gettempdir()) / f"lurewatch-duckdb-{os.getpid()}"
    return duckdb.connect(
        config={
            "memory_limit": DUCKDB_MEMORY,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    )


def _distinct_per(keys: np.ndarray, values: np.ndarray, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct key and how many distinct values it occurs with (one 1-D sort, not a row-wise unique)."""
    code = np.unique(keys.astype(np.int64) * np.int64(max(n_values, 1)) + values.astype(np.int64))
    return np.unique(code // np.int64(max(n_values, 1)), return_counts=True)


def _verify(bbit: np.ndarray, left: np.ndarray, right: np.ndarray, cutoff: float) -> np.ndarray:
    """b-bit Jaccard estimate of each pair at least ``cutoff`` (in chunks: bounded temporaries)."""
    out = np.empty(left.size, dtype=bool)
    step = 1 << 18
    for lo in range(0, left.size, step):
        hi = min(left.size, lo + step)
        out[lo:hi] = bbit_agree(bbit[left[lo:hi]], bbit[right[lo:hi]], cutoff)
    return out


def bbit_agree(a: np.ndarray, b: np.ndarray, cutoff: float) -> np.ndarray:
    """Whether each pair of b-bit rows (``(n, rows)`` uint8 each) estimates a Jaccard of at least ``cutoff``.

    Rows agree by chance one time in 256, so the agreement needed is ``cutoff`` corrected for that
    (the rule of :func:`lurewatch.campaigns.signatures.bbit_similarity`, without the division). Every
    backend verifies candidate pairs with this one function, so they agree on every pair.
    """
    need = cutoff * (1 - 1 / 256) + 1 / 256
    return np.count_nonzero(a == b, axis=1) >= need * a.shape[1]


def account_name_keys(account_id: str, name: object) -> tuple[str, set[str]]:
    """An account's own name key, and every variant of its display name and profile slug (two words or more)."""
    display = str(name)[:200] if name else ""
    return _names_of(display, _slug_name(account_id))


def account_company_key(company: object) -> str:
    """The key of the company an account claims, "" for none."""
    return _company_key(str(company)[:200]) if company else ""


def has_initial(key: str) -> bool:
    """Whether a name key has a one-letter word (an initial)."""
    return _INITIAL.search(key) is not None


@lru_cache(maxsize=1 << 18)
def _names_of(display: str, slug: str) -> tuple[str, set[str]]:
    # names repeat across accounts (and slugs once their suffix is dropped): computed once each
    full = pk.name_key(display) or pk.name_key(slug)
    variants = (pk.name_keys(display) | pk.name_keys(slug)) - {""}
    # a single word ("cathy", "xzhou") is no name to link people on
    return full if " " in full else "", {v for v in variants if " " in v}


_INITIAL = re.compile(r"(?:^| )\w(?: |$)")
_SLUG_SUFFIX = re.compile(r"(?:[-_]+[^-_]*\d[^-_]*)+[-_]*$")
_SLUG_SEPARATORS = re.compile(r"[-_]+")


def _key_table(acc: list[int], kind: list[str], value: list[str]) -> pa.Table:
    return pa.table(
        {
            "account": pa.array(acc, pa.int64()),
            "kind": pa.array(kind, pa.string()),
            "value": pa.array(value, pa.string()),
            "messages": pa.array(np.zeros(len(acc), np.int64)),
        }
    )


_has_initial = has_initial


@lru_cache(maxsize=1 << 16)
def _company_key(company: str) -> str:
    return pk.company_key(company)


def _slug_name(account_id: str) -> str:
    """The name part of a profile slug (``wang-jianguo-8ad655`` -> ``wang jianguo``), else ""."""
    if "@" in account_id or ":" in account_id or len(account_id) > 100:
        return ""
    core = _SLUG_SEPARATORS.sub(" ", _SLUG_SUFFIX.sub("", account_id)).strip()
    return core if len(core.replace(" ", "")) >= 3 and not any(ch.isdigit() for ch in core) else ""


def _groups(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[list[pa.RecordBatch]]:
    group: list[pa.RecordBatch] = []
    for batch in batches:
        group.append(batch)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


class _pool:
    """A process pool for the map step, or None in-process (fork on Linux: workers share the code)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.workers <= 0:
            return None
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self.pool = multiprocessing.get_context(method).Pool(self.workers)
        return self.pool

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            if exc[0] is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()


def default_workers() -> int:
    return min(8, os.cpu_count() or 1)


__all__ = [
    "NAME_TEXT_MAX_ACCOUNTS",
    "VERIFY_ROWS",
    "LocalBackend",
    "account_company_key",
    "account_name_keys",
    "bbit_agree",
    "default_workers",
    "has_initial",
    "is_sensitive_sector",
]
