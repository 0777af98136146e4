"""The Spark campaign backend: the same steps as the local one, as DataFrame jobs on a cluster.

:func:`lurewatch.campaigns.engine.find_campaigns` runs unchanged above it; only where the per-message
work happens differs. Every step keeps the local backend's rules, so both engines find the same
campaigns on the same stream:

- **Map.** The stream is read by Spark (Parquet, any path Spark reads: local, ``hdfs://``,
  ``s3a://``...). Each Arrow batch goes through the stream contract (:func:`conform`), the text
  sketch (:func:`sketch_batch`: exact key, LSH band keys, b-bit rows) and the contact-key extractor
  in Python workers with ``mapInArrow``: vectorised, batch by batch, never row by row.
- **Wording.** Exact duplicates collapse to one representative (the first message with that key).
  Band keys are exploded to ``(band, key)`` buckets; within a bucket, representatives in exact-key
  order are paired with the next one (a window ``lead``: a sort per bucket, linear in its size where a
  self-join would be quadratic in a popular template's variants), exactly the pairs the local backend
  verifies. Pairs are verified on the b-bit rows with :func:`bbit_agree`, then joined by connected
  components.
- **Evidence and groups.** Shared values are grouped per ``(kind, value)`` with Spark aggregations;
  photo hashes are paired by the pigeonhole blocks of :func:`photo_hash_matches`; account groups are
  connected components of the engine's links.
- **Connected components** run as alternating large-star / small-star rounds (Kiveris et al.,
  "Connected Components in MapReduce and Beyond", SoCC 2014) over DataFrames, checkpointed each
  round: O(log^2 n) rounds, no edge list on the driver.

Only what the interface returns reaches the driver: the shared values used as evidence, group
summaries, the screened sample with its texts, the members of reported campaigns.

Identifiers: a message's position is ``file ordinal << 40 | row index in the file`` (files in path
order), which orders messages as the local backend numbers them; an account is named by the
position of its first message; a wording by the position of its first representative; a group by
its smallest account. The numbers differ from the local backend's dense ones, the order does not.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from lurewatch.campaigns import persona_keys as pk
from lurewatch.campaigns.backend import CampaignBackend, Progress, StreamSource
from lurewatch.campaigns.local import (
    NAME_TEXT_MAX_ACCOUNTS,
    VERIFY_ROWS,
    account_company_key,
    account_name_keys,
    bbit_agree,
    has_initial,
    is_sensitive_sector,
)
from lurewatch.campaigns.signatures import SketchParams, sketch_batch
from lurewatch.errors import InputError
from lurewatch.ingest.stream import COLUMNS, REQUIRED, SCHEMA, StreamStats, conform

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_log = logging.getLogger(__name__)
#: bits of a message position given to the row within its file (2^40 rows per file, 2^23 files)
ROW_BITS = 40
#: most large-star / small-star rounds before giving up (they converge in O(log^2 n))
MAX_COMPONENT_ROUNDS = 64
#: rows per Arrow batch handed to the Python workers (sketching amortises per-batch set-up)
ARROW_BATCH_ROWS = 16_384
_PROFILE = ("sender_name", "sender_headline", "sender_company", "sender_location", "sender_photo_hash", "sender_created_at", "sender_connections")  # fmt: skip
_STATS = ("rows_read", "rows_kept", "skipped_no_message_id", "skipped_no_sender", "bad_sent_at", "truncated_fields")  # fmt: skip
_SIGN = np.uint64(1 << 63)
_MAPPED = (
    "_row long, message_id string, sent long, sender_id string, recipient string, org string, "
    "sector string, exact long, bands array<long>, bbit binary, empty boolean, "
    "contacts array<struct<kind:string,value:string>>, sender_name string, sender_headline string, "
    "sender_company string, sender_location string, sender_photo_hash string, sender_created_at string, "
    "sender_connections long"
)


# -- the session ------------------------------------------------------------------------------------


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """The active Spark session, or a new one.

    ``master`` (e.g. ``local[4]``, ``spark://host:7077``, ``yarn``) wins; otherwise a session started by
    ``spark-submit`` keeps the master it was given, and a plain Python process runs ``local[*]``. Every
    other setting comes the usual Spark ways (``spark-defaults.conf``, ``--conf`` of ``spark-submit``,
    ``PYSPARK_SUBMIT_ARGS``) or ``conf``. In local mode the Python workers run this interpreter.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InputError(
            "engine spark", "pyspark is not installed: pip install 'lurewatch[spark]' (Java 17 or later)"
        ) from exc
    active = SparkSession.getActiveSession()
    if active is not None and master is None and not conf:
        return active
    builder = SparkSession.builder.appName("lurewatch")
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started the JVM with its own master
    if master:
        builder = builder.master(master)
    elif not submitted:
        builder = builder.master("local[*]")
    effective = master or ("" if submitted else "local[*]")
    if effective.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # the workers must import lurewatch: in local mode they run this very interpreter
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Java missing, bad master URL: one line, not a JVM trace
        raise InputError("engine spark", f"cannot start Spark: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# -- sources ----------------------------------------------------------------------------------------


class SparkStream(StreamSource):
    """Parquet message streams at paths Spark reads (files, folders, globs; ``hdfs://``, ``s3a://``...).

    Files are taken in path order and rows in file order, which is the order the local engine reads a
    single file in. :meth:`batches` reads local paths with PyArrow (for the local engine); the Spark
    backend reads every path itself.
    """

    def __init__(self, paths: str | Sequence[str]) -> None:
        self.paths = [paths] if isinstance(paths, str) else list(paths)
        if not self.paths:
            raise InputError("stream", "no path given")
        self.name = ",".join(self.paths)
        self.stats = StreamStats()

    def local_files(self) -> list[Path]:
        files: list[Path] = []
        for text in self.paths:
            if "://" in text and not text.startswith("file://"):
                raise InputError(text, "only the spark engine reads this path")
            path = Path(text.removeprefix("file://"))
            if path.is_dir():
                files.extend(sorted(p for p in path.rglob("*.parquet") if p.is_file()))
            elif path.is_file():
                files.append(path)
            else:
                raise InputError(text, "no such file or folder")
        return sorted(files, key=lambda p: p.as_uri())

    def batches(self) -> Iterator[pa.RecordBatch]:
        from lurewatch.ingest.stream import read_stream

        for path in self.local_files():
            yield from read_stream(path, self.stats)


def _is_local_master(spark: SparkSession) -> bool:
    return spark.sparkContext.master.startswith("local")


# -- the map step (runs in the Python workers) ---------------------------------------------------------


class _StatsParam:
    """Sums the contract's counters across tasks (a Spark accumulator parameter)."""

    def zero(self, value: list[int]) -> list[int]:
        return [0] * len(_STATS)

    def addInPlace(self, a: list[int], b: list[int]) -> list[int]:
        return [x + y for x, y in zip(a, b, strict=True)]


def _binary_rows(rows: np.ndarray) -> pa.Array:
    n, width = rows.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(rows).tobytes())]
    )


def _mapper(params: SketchParams, source: str, stats_acc: Any):  # type: ignore[no-untyped-def]
    """The function ``mapInArrow`` runs: contract, sketch and contact keys of each batch."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        contact_type = pa.struct([("kind", pa.string()), ("value", pa.string())])
        for raw in batches:
            stats = StreamStats()
            batch = conform(raw, source, stats, extra=("_row",))
            stats_acc.add([getattr(stats, name) for name in _STATS])
            n = batch.num_rows
            if n == 0:
                continue
            texts = batch.column("text")
            sk = sketch_batch(texts, batch.column("sender_name"), params)
            contacts = pk.contact_keys_batch(texts)
            b = sk.bands.shape[1]
            # the low 32 bits of each band key, as the local backend keeps them (same buckets)
            bands = pa.ListArray.from_arrays(
                pa.array(np.arange(0, (n + 1) * b, b, dtype=np.int32)),
                pa.array(sk.bands.astype(np.uint32).astype(np.int64).ravel()),
            )
            c_rows = contacts.column("row").to_numpy()
            offsets = np.searchsorted(c_rows, np.arange(n + 1)).astype(np.int32)
            contact_list = pa.ListArray.from_arrays(
                pa.array(offsets),
                pa.StructArray.from_arrays(
                    [contacts.column("kind").combine_chunks(), contacts.column("value").combine_chunks()],
                    fields=list(contact_type),
                ),
            )
            sent = batch.column("sent_at").cast(pa.int64())
            out = {
                "_row": batch.column("_row").cast(pa.int64()),
                "message_id": batch.column("message_id"),
                "sent": sent,
                "sender_id": batch.column("sender_id"),
                # null and "" are one value, as the local backend interns them
                "recipient": batch.column("recipient_id").fill_null(""),
                "org": batch.column("recipient_org").fill_null(""),
                "sector": batch.column("recipient_sector").fill_null(""),
                # unsigned keys in signed columns, order kept: flip the sign bit
                "exact": pa.array((sk.exact ^ _SIGN).view(np.int64)),
                "bands": bands,
                "bbit": _binary_rows(sk.bbit[:, :VERIFY_ROWS]),
                "empty": pa.array(sk.empty),
                "contacts": contact_list,
                **{name: batch.column(name) for name in _PROFILE},
            }
            yield pa.RecordBatch.from_pydict(out)

    return run


def _verify_pairs(cutoff: float):  # type: ignore[no-untyped-def]
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            n = batch.num_rows
            if n == 0:
                continue
            left = np.frombuffer(batch.column("bbit_a").buffers()[2], np.uint8)
            right = np.frombuffer(batch.column("bbit_b").buffers()[2], np.uint8)
            a_off = batch.column("bbit_a").offset * VERIFY_ROWS
            b_off = batch.column("bbit_b").offset * VERIFY_ROWS
            left = left[a_off : a_off + n * VERIFY_ROWS].reshape(n, VERIFY_ROWS)
            right = right[b_off : b_off + n * VERIFY_ROWS].reshape(n, VERIFY_ROWS)
            ok = pa.array(bbit_agree(left, right, cutoff))
            yield pa.RecordBatch.from_pydict(
                {"a": batch.column("a").filter(ok), "b": batch.column("b").filter(ok)}
            )

    return run


def _profile_keys(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Per account: its photo hash (if usable), its own name key and the variants, its company key."""
    for batch in batches:
        accs = batch.column("acc").to_pylist()
        ids = batch.column("sender_id").to_pylist()
        names = batch.column("sender_name").to_pylist()
        companies = batch.column("sender_company").to_pylist()
        photos = batch.column("sender_photo_hash").to_pylist()
        photo_out: list[str | None] = []
        bits_out: list[int | None] = []
        full_out: list[str] = []
        variants_out: list[list[str]] = []
        company_out: list[str] = []
        for account, name, company, photo in zip(ids, names, companies, photos, strict=True):
            value = pk.parse_photo_hash(photo) if photo else None
            usable = value is not None and value not in pk.COMMON_PHOTO_HASHES
            photo_out.append(f"{value:016x}" if usable else None)
            # the 64 bits in a signed column (Spark has no unsigned one); only the bits matter
            bits_out.append((value - (1 << 64) if value >= 1 << 63 else value) if usable else None)  # type: ignore[operator]
            full, variants = account_name_keys(account, name)
            full_out.append(full)
            variants_out.append(sorted(variants))
            company_out.append(account_company_key(company))
        yield pa.RecordBatch.from_pydict(
            {
                "acc": pa.array(accs, pa.int64()),
                "sender_id": pa.array(ids, pa.string()),
                "photo": pa.array(photo_out, pa.string()),
                "photo_bits": pa.array(bits_out, pa.int64()),
                "full": pa.array(full_out, pa.string()),
                "full_initial": pa.array([has_initial(f) for f in full_out], pa.bool_()),
                "variants": pa.array(
                    [[{"v": v, "initial": has_initial(v)} for v in vs] for vs in variants_out],
                    pa.list_(pa.struct([("v", pa.string()), ("initial", pa.bool_())])),
                ),
                "company": pa.array(company_out, pa.string()),
            }
        )


def _sector_flags(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        sectors = batch.column("sector").to_pylist()
        yield pa.RecordBatch.from_pydict(
            {
                "sector": pa.array(sectors, pa.string()),
                "sensitive": pa.array([is_sensitive_sector(s) for s in sectors], pa.bool_()),
                "known": pa.array([bool(s) for s in sectors], pa.bool_()),
            }
        )


# -- connected components ---------------------------------------------------------------------------


def connected_components(edges: DataFrame, checkpoint: Any = None) -> DataFrame:
    """``node``, ``label`` (the smallest node of its component) for every node of an edge ``a``, ``b``
    except the smallest of each component (its label is itself).

    Alternating large-star and small-star rounds until every edge points from a node to its
    component's smallest node; each round is checkpointed so the plan stays one round deep.
    """
    from pyspark.sql import functions as F

    keep = checkpoint or (lambda df: df.localCheckpoint(eager=True))
    e = keep(
        edges.filter(F.col("a") != F.col("b"))
        .select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v"))
        .distinct()
    )
    for rounds in range(1, MAX_COMPONENT_ROUNDS + 1):
        e = keep(_small_star(_large_star(e)))
        if _is_stars(e):
            _log.debug("connected components: %d rounds", rounds)
            return e.select(F.col("u").alias("node"), F.col("v").alias("label"))
    raise RuntimeError(f"connected components did not converge in {MAX_COMPONENT_ROUNDS} rounds")


def _large_star(e: DataFrame) -> DataFrame:
    """Every node's larger neighbours are attached to the smallest of its neighbourhood (itself included)."""
    from pyspark.sql import functions as F

    both = e.unionByName(e.select(F.col("v").alias("u"), F.col("u").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (
        both.join(smallest, "u")
        .filter(F.col("v") > F.col("u"))
        .select(F.col("v").alias("u"), F.col("m").alias("v"))
        .distinct()
    )


def _small_star(e: DataFrame) -> DataFrame:
    """Every node and its smaller neighbours are attached to the smallest of them (edges are u > v)."""
    from pyspark.sql import functions as F

    smallest = e.groupBy("u").agg(F.min("v").alias("m"))
    return (
        e.join(smallest, "u")
        .select(
            F.when(F.col("v") == F.col("m"), F.col("u")).otherwise(F.col("v")).alias("u"),
            F.col("m").alias("v"),
        )
        .distinct()
    )


def _is_stars(e: DataFrame) -> bool:
    """Every node has one edge, to a node that has none of its own (its component's smallest).

    One aggregation: per node, its edges out (as ``u``) and in (as ``v``); a node with two edges
    out, or with edges both out and in, means another round.
    """
    from pyspark.sql import functions as F

    ends = e.select(F.col("u").alias("x"), F.lit(1).alias("out"), F.lit(0).alias("in")).unionByName(
        e.select(F.col("v").alias("x"), F.lit(0).alias("out"), F.lit(1).alias("in"))
    )
    degrees = ends.groupBy("x").agg(F.sum("out").alias("out"), F.sum("in").alias("in"))
    return degrees.filter((F.col("out") > 1) | ((F.col("out") > 0) & (F.col("in") > 0))).isEmpty()


# -- the backend ------------------------------------------------------------------------------------


class SparkBackend(CampaignBackend):
    """Every step as Spark jobs on ``spark`` (see the module docstring)."""

    name = "spark"

    def __init__(self, spark: SparkSession | None = None, params: SketchParams | None = None) -> None:
        self.spark = spark or spark_session()
        self.params = params or SketchParams()
        self._cached: list[DataFrame] = []
        self._common: dict[str, int] = {}
        self._staging: tempfile.TemporaryDirectory[str] | None = None
        self.source: StreamSource | None = None
        self._keyed: DataFrame | None = None
        self.n = 0

    # -- plumbing -------------------------------------------------------------------------------------
    def _keep(self, df: DataFrame) -> DataFrame:
        """Materialise ``df`` (memory, spilling to disk) and remember it for :meth:`close`."""
        from pyspark import StorageLevel

        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        df.count()
        self._cached.append(df)
        return df

    def _drop(self, df: DataFrame | None) -> None:
        if df is not None:
            df.unpersist()
            if df in self._cached:
                self._cached.remove(df)

    def _checkpoint(self, df: DataFrame) -> DataFrame:
        # a reliable checkpoint when the cluster has a directory for it (survives losing an executor)
        if self.spark.sparkContext.getCheckpointDir():
            return df.checkpoint(eager=True)
        return df.localCheckpoint(eager=True)

    def _small_frame(self, table: pa.Table) -> DataFrame:
        return self.spark.createDataFrame(table)

    def _paths(self, source: StreamSource) -> tuple[list[str], str]:
        """Parquet paths Spark reads for ``source``; other sources are staged to a local Parquet file."""
        from lurewatch.ingest.stream import FileStream, stream_format

        if isinstance(source, SparkStream):
            return list(source.paths), source.name
        if isinstance(source, FileStream) and stream_format(source.path) == "parquet":
            return [str(source.path.resolve())], source.name
        if not _is_local_master(self.spark):
            raise InputError(
                source.name,
                "the spark engine on a cluster reads Parquet at paths the cluster can read; "
                "convert this stream to Parquet first",
            )
        import pyarrow.parquet as pq

        self._staging = tempfile.TemporaryDirectory(prefix="lurewatch-spark-")
        staged = Path(self._staging.name) / "stream.parquet"
        with pq.ParquetWriter(staged, SCHEMA) as writer:
            for batch in source.batches():
                writer.write_batch(batch)
        return [str(staged)], source.name

    def _read(self, paths: list[str], name: str) -> DataFrame:
        """The raw stream with ``_row``, each message's position (see the module docstring)."""
        from pyspark.errors import PySparkException
        from pyspark.sql import functions as F

        try:
            raw = self.spark.read.parquet(*paths)
            present = set(raw.columns)
            missing = [c for c in REQUIRED if c not in present]
            if missing:
                raise InputError(
                    name,
                    "not a message stream: missing column(s) "
                    + ", ".join(missing)
                    + " (required: "
                    + ", ".join(REQUIRED)
                    + ")",
                )
            located = raw.select(
                *[c for c in COLUMNS if c in present],
                F.col("_metadata.file_path").alias("_file"),
                F.col("_metadata.row_index").alias("_index"),
            )
            files = sorted(r[0] for r in located.select("_file").distinct().collect())
        except PySparkException as exc:
            raise InputError(name, f"cannot read the stream: {_first_line(exc)}") from exc
        if len(files) >= 1 << (63 - ROW_BITS):
            raise InputError(name, f"more than {1 << (63 - ROW_BITS):,} files")
        ordinals = self._small_frame(
            pa.table(
                {"_file": pa.array(files, pa.string()), "_ordinal": pa.array(range(len(files)), pa.int64())}
            )
        )
        return located.join(F.broadcast(ordinals), "_file").select(
            *[c for c in COLUMNS if c in present],
            (F.shiftleft(F.col("_ordinal"), ROW_BITS) + F.col("_index")).alias("_row"),
        )

    # -- 1. map ---------------------------------------------------------------------------------------
    def ingest(self, source: StreamSource, progress: Progress | None = None) -> int:
        from pyspark.accumulators import AccumulatorParam
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        self.source = source
        paths, name = self._paths(source)
        self._raw = self._read(paths, name)
        param: AccumulatorParam = _StatsParam()  # type: ignore[assignment]
        counts = self.spark.sparkContext.accumulator([0] * len(_STATS), param)
        mapped = self._raw.mapInArrow(_mapper(self.params, name, counts), _MAPPED)
        # an account is named by its first message; its profile is that message's
        with_acc = self._keep(mapped.withColumn("acc", F.min("_row").over(Window.partitionBy("sender_id"))))
        self.accounts = self._keep(
            with_acc.filter(F.col("_row") == F.col("acc")).select("acc", "sender_id", *_PROFILE)
        )
        self.messages = self._keep(
            with_acc.select(
                "_row",
                "acc",
                "sender_id",
                "message_id",
                "sent",
                "recipient",
                "org",
                "sector",
                "exact",
                "bands",
                "bbit",
                "empty",
                "contacts",
            )
        )
        self._drop(with_acc)
        self.n = self.messages.count()
        stats = getattr(source, "stats", None)
        if isinstance(source, SparkStream) and stats is not None:
            for field, value in zip(_STATS, counts.value, strict=True):
                setattr(stats, field, value)
        if progress:
            progress("sketching", self.n, self.n)
        return self.n

    # -- 2. text clusters ------------------------------------------------------------------------------
    def text_clusters(self, threshold: float) -> int:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        cutoff = max(0.0, threshold - 0.1)
        m = self.messages
        # exact duplicates first: one representative per normalised text, its first message
        reps = self._keep(
            m.filter(~F.col("empty"))
            .groupBy("exact")
            .agg(F.min_by(F.struct("_row", "bands", "bbit"), F.col("_row")).alias("r"))
            .select("exact", F.col("r._row").alias("rep"), "r.bands", "r.bbit")
        )
        # band buckets: each representative with the next in exact-key order (the local backend's pairs)
        buckets = reps.select("exact", F.posexplode("bands").alias("band", "key"))
        nxt = F.lead("exact").over(Window.partitionBy("band", "key").orderBy("exact"))
        pairs = (
            buckets.withColumn("next", nxt)
            .filter(F.col("next").isNotNull())
            .select(F.col("exact").alias("a"), F.col("next").alias("b"))
            .distinct()
        )
        sketches = reps.select("exact", "bbit")
        candidates = pairs.join(
            sketches.select(F.col("exact").alias("a"), F.col("bbit").alias("bbit_a")), "a"
        ).join(sketches.select(F.col("exact").alias("b"), F.col("bbit").alias("bbit_b")), "b")
        edges = candidates.select("a", "b", "bbit_a", "bbit_b").mapInArrow(
            _verify_pairs(cutoff), "a long, b long"
        )
        labels = connected_components(edges, self._checkpoint)
        # a wording is named by the first message of its smallest exact key
        named = reps.select("exact", "rep")
        wording = (
            named.join(labels, named.exact == labels.node, "left")
            .select("exact", F.coalesce("label", "exact").alias("root"))
            .join(named.select(F.col("exact").alias("root"), F.col("rep").alias("cluster")), "root")
            .select("exact", "cluster")
        )
        clustered = self._keep(
            m.join(wording, "exact", "left").select(
                "_row",
                "acc",
                "sender_id",
                "message_id",
                "sent",
                "recipient",
                "org",
                "sector",
                "contacts",
                F.when(F.col("empty") | F.col("cluster").isNull(), F.col("_row"))
                .otherwise(F.col("cluster"))
                .alias("cluster"),
            )
        )
        self._drop(reps)
        self._drop(m)
        self.messages = clustered
        return clustered.groupBy("cluster").count().filter(F.col("count") >= 2).count()

    # -- 3. evidence keys -------------------------------------------------------------------------------
    def account_keys(self, max_accounts: int) -> pa.Table:
        from pyspark.sql import functions as F

        m = self.messages
        contact_rows = m.select(
            "acc", "sender_id", F.explode("contacts").alias("c"), F.lit(1).cast("long").alias("messages")
        ).select("acc", "sender_id", "c.kind", "c.value", "messages")
        keyed = self._profile_keys()
        zero = F.lit(0).cast("long").alias("messages")
        photo_rows = keyed.filter(F.col("photo").isNotNull()).select(
            "acc", "sender_id", F.lit("photo_hash").alias("kind"), F.col("photo").alias("value"), zero
        )
        # initial forms ("j wang") count only where someone actually goes by one
        abbreviated = keyed.filter("full_initial").select(F.col("full").alias("v")).distinct()
        variants = keyed.select("acc", "sender_id", F.explode("variants").alias("x")).select(
            "acc", "sender_id", "x.v", "x.initial"
        )
        plain = variants.filter(~F.col("initial")).select("acc", "sender_id", "v")
        initials = (
            variants.filter("initial").join(abbreviated, "v", "left_semi").select("acc", "sender_id", "v")
        )
        own = keyed.filter(F.col("full") != "").select("acc", "sender_id", F.col("full").alias("v"))
        names = plain.unionByName(initials).unionByName(own).distinct()
        companies = keyed.filter(F.col("company") != "").select("acc", "company")
        name_company = names.join(companies, "acc").select(
            "acc", "sender_id", F.lit("name_company").alias("kind"),
            F.concat_ws(" | ", "v", "company").alias("value"), zero,
        )  # fmt: skip
        # wordings sent by a few accounts (not stock phrases) pair with each of their names
        per_cluster = m.groupBy("cluster").agg(
            F.count("*").alias("n"), F.countDistinct("acc").alias("accounts")
        )
        shared = per_cluster.filter(
            (F.col("n") >= 2) & (F.col("accounts") >= 2) & (F.col("accounts") <= NAME_TEXT_MAX_ACCOUNTS)
        ).select("cluster")
        used = m.join(shared, "cluster", "left_semi").select("acc", "cluster").distinct()
        name_text = names.join(used, "acc").select(
            "acc", "sender_id", F.lit("name_text").alias("kind"),
            F.concat(F.col("v"), F.lit(" | text:"), F.col("cluster").cast("string")).alias("value"), zero,
        )  # fmt: skip
        rows = contact_rows.unionByName(photo_rows).unionByName(name_company).unionByName(name_text)
        # each account once per value; a value's holders are counted before any are listed, so a
        # stock value held by millions (a webmail domain) is counted, never gathered into one row
        holders = self._keep(
            rows.groupBy("kind", "value", "acc", "sender_id").agg(F.sum("messages").alias("messages"))
        )
        per_value = self._keep(
            holders.groupBy("kind", "value")
            .agg(F.count("*").alias("n"), F.sum("messages").alias("messages"))
            .filter(F.col("n") >= 2)
        )
        self._common = {
            r["kind"]: int(r["count"])
            for r in per_value.filter(F.col("n") > max_accounts).groupBy("kind").count().collect()
        }
        evidence = per_value.filter(F.col("n") <= max_accounts)
        kept = (
            holders.join(evidence.select("kind", "value"), ["kind", "value"], "left_semi")
            .groupBy("kind", "value")
            .agg(F.sort_array(F.collect_list(F.struct("acc", "sender_id"))).alias("members"))
            .join(evidence.select("kind", "value", "messages"), ["kind", "value"])
            .select(
                "kind",
                "value",
                F.transform("members", lambda x: x["sender_id"]).alias("accounts"),
                F.col("messages").cast("long").alias("messages"),
            )
            .orderBy("kind", "value")
            .toArrow()
        )
        self._drop(per_value)
        self._drop(holders)
        return pa.table(
            {
                "kind": kept.column("kind").cast(pa.string()),
                "value": kept.column("value").cast(pa.string()),
                "accounts": kept.column("accounts").cast(pa.list_(pa.string())),
                "messages": kept.column("messages").cast(pa.int64()),
            }
        )

    @property
    def common_keys(self) -> dict[str, int]:
        return dict(self._common)

    def photo_pairs(self, max_distance: int) -> pa.Table:
        """As :func:`lurewatch.campaigns.persona_keys.photo_hash_matches`: distinct hashes agreeing on a
        pigeonhole block, groups larger than ``MAX_PHOTO_GROUP`` left out, verified by popcount."""
        from pyspark.sql import functions as F

        empty = pa.table({"account_a": pa.array([], pa.string()), "account_b": pa.array([], pa.string()), "distance": pa.array([], pa.int64())})  # fmt: skip
        if max_distance < 1:
            return empty
        limit = pk.MAX_PHOTO_GROUP
        photos = (
            self._profile_keys()
            .filter(F.col("photo_bits").isNotNull())
            .select("acc", "sender_id", F.col("photo_bits").alias("h"))
        )
        distinct = photos.groupBy("h").agg(F.count("*").alias("rows")).filter(F.col("rows") <= limit)
        k = max_distance + 1
        widths = [64 // k + (1 if i < 64 % k else 0) for i in range(k)]
        blocks = []
        shift = 64
        for block, width in enumerate(widths):
            shift -= width
            mask = (1 << width) - 1
            value = F.shiftrightunsigned("h", shift).bitwiseAND(F.lit(mask).cast("long"))
            blocks.append(distinct.select("h", F.lit(block).alias("block"), value.alias("value")))
        keyed = blocks[0]
        for more in blocks[1:]:
            keyed = keyed.unionByName(more)
        sizes = (
            keyed.groupBy("block", "value").count().filter((F.col("count") >= 2) & (F.col("count") <= limit))
        )
        keyed = keyed.join(sizes.select("block", "value"), ["block", "value"], "left_semi")
        left = keyed.select("block", "value", F.col("h").alias("ha"))
        right = keyed.select("block", "value", F.col("h").alias("hb"))
        near = (
            left.join(right, ["block", "value"])
            .filter(F.col("ha") < F.col("hb"))
            .select("ha", "hb")
            .distinct()
            .withColumn("distance", F.bit_count(F.col("ha").bitwiseXOR(F.col("hb"))).cast("long"))
            .filter(F.col("distance") <= max_distance)
        )
        a = photos.select(
            F.col("h").alias("ha"), F.col("acc").alias("acc_a"), F.col("sender_id").alias("id_a")
        )
        b = photos.select(
            F.col("h").alias("hb"), F.col("acc").alias("acc_b"), F.col("sender_id").alias("id_b")
        )
        pairs = (
            near.join(a, "ha")
            .join(b, "hb")
            .select(
                F.when(F.col("acc_a") < F.col("acc_b"), F.col("id_a"))
                .otherwise(F.col("id_b"))
                .alias("account_a"),
                F.when(F.col("acc_a") < F.col("acc_b"), F.col("id_b"))
                .otherwise(F.col("id_a"))
                .alias("account_b"),
                "distance",
                F.least("acc_a", "acc_b").alias("first"),
                F.greatest("acc_a", "acc_b").alias("second"),
            )
            .orderBy("distance", "first", "second")
            .select("account_a", "account_b", "distance")
            .toArrow()
        )
        if pairs.num_rows == 0:
            return empty
        return pa.table(
            {
                "account_a": pairs.column("account_a").cast(pa.string()),
                "account_b": pairs.column("account_b").cast(pa.string()),
                "distance": pairs.column("distance").cast(pa.int64()),
            }
        )

    def _profile_keys(self) -> DataFrame:
        """Per account (computed once): usable photo hash, own name key, name variants, company key."""
        if getattr(self, "_keyed", None) is None:
            profiles = self.accounts.select(
                "acc", "sender_id", "sender_name", "sender_company", "sender_photo_hash"
            )
            self._keyed = self._keep(
                profiles.mapInArrow(
                    _profile_keys,
                    "acc long, sender_id string, photo string, photo_bits long, full string, "
                    "full_initial boolean, variants array<struct<v:string,initial:boolean>>, company string",
                )
            )
        return self._keyed

    # -- 4. groups -------------------------------------------------------------------------------------
    def assign_groups(self, links: pa.Table) -> int:
        from pyspark.sql import functions as F

        accounts = self.accounts.select("acc", "sender_id")
        if links.num_rows:
            named = self._small_frame(links.select(["account_a", "account_b"]))
            edges = (
                named.join(accounts.select(F.col("sender_id").alias("account_a"), F.col("acc").alias("a")), "account_a")
                .join(accounts.select(F.col("sender_id").alias("account_b"), F.col("acc").alias("b")), "account_b")
                .select("a", "b")
            )  # fmt: skip
            labels = connected_components(edges, self._checkpoint)
            groups = accounts.join(labels, accounts.acc == labels.node, "left").select(
                "acc", F.coalesce("label", "acc").alias("grp")
            )
        else:
            groups = accounts.select("acc", F.col("acc").alias("grp"))
        old = getattr(self, "grouped", None)
        self.grouped = self._keep(self.messages.join(groups, "acc"))
        self._drop(old)
        self.groups = self._keep(groups)
        return self.groups.select("grp").distinct().count()

    # -- 5. summaries ----------------------------------------------------------------------------------
    def group_summaries(self, min_recipients: int, burst_window_s: int, max_accounts: int = 50) -> pa.Table:
        from pyspark.sql import functions as F

        mg = self.grouped
        # only groups that can qualify: several accounts, or one account repeating a wording of its
        # own; a wording sent by many accounts is a stock phrase, whose reach says nothing of one operator
        per_cluster = mg.groupBy("cluster").agg(F.count("*").alias("cn"), F.countDistinct("acc").alias("ca"))
        per_group = self.groups.groupBy("grp").agg(F.count("*").alias("group_accounts"))
        sectors = (
            mg.select("sector")
            .distinct()
            .mapInArrow(_sector_flags, "sector string, sensitive boolean, known boolean")
        )
        rows = self._keep(
            mg.join(per_cluster, "cluster")
            .join(per_group, "grp")
            .withColumn("rare", (F.col("cn") >= 2) & (F.col("ca") <= max_accounts))
            .filter((F.col("group_accounts") >= 2) | F.col("rare"))
            .join(F.broadcast(sectors), "sector")
            .select("grp", "cluster", "acc", "recipient", "sent", "sensitive", "known", "rare")
        )
        g = (
            rows.groupBy("grp")
            .agg(
                F.count("*").alias("messages"),
                F.countDistinct("acc").alias("accounts"),
                F.countDistinct("recipient").alias("recipients"),
                F.countDistinct(F.when(F.col("sensitive"), F.col("recipient"))).alias("sensitive_recipients"),
                F.countDistinct(F.when(F.col("known"), F.col("recipient"))).alias("known_sector_recipients"),
                F.min("sent").alias("first_seen"),
                F.max("sent").alias("last_seen"),
            )
            .filter(F.col("recipients") >= int(min_recipients))
        )
        chosen = g.select("grp")
        reach = (
            rows.filter("rare")
            .join(chosen, "grp", "left_semi")
            .groupBy("grp", "cluster")
            .agg(F.count("*").alias("n"), F.countDistinct("recipient").alias("r"))
            .groupBy("grp")
            .agg(
                F.max("r").alias("top_reach"),
                F.sum(F.when(F.col("n") >= 2, 1).otherwise(0)).cast("long").alias("templates"),
            )
        )
        burst = (
            rows.filter(F.col("sent").isNotNull())
            .join(chosen, "grp", "left_semi")
            .groupBy("grp", F.expr(f"sent div {int(burst_window_s)}").alias("w"))
            .count()
            .groupBy("grp")
            .agg(F.max("count").alias("max_burst"))
        )
        out = (
            g.join(reach, "grp", "left")
            .join(burst, "grp", "left")
            .select(
                F.col("grp").alias("group"),
                "accounts",
                "messages",
                "recipients",
                "sensitive_recipients",
                "known_sector_recipients",
                "top_reach",
                F.coalesce("templates", F.lit(0)).cast("long").alias("templates"),
                "first_seen",
                "last_seen",
                F.coalesce("max_burst", F.lit(0)).cast("long").alias("max_burst"),
            )
            .orderBy("group")
            .toArrow()
        )
        self._drop(rows)
        return out.cast(
            pa.schema(
                [pa.field(name, pa.int64()) for name in out.schema.names]  # every column is a count or time
            )
        )

    # -- 6. members ------------------------------------------------------------------------------------
    def group_messages(
        self, groups: Sequence[int], *, sample: int | None = None, with_text: bool = False
    ) -> pa.Table:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        wanted = self._small_frame(pa.table({"grp": pa.array(sorted({int(g) for g in groups}), pa.int64())}))
        rows = self.grouped.join(F.broadcast(wanted), "grp")
        extra: list[str] = []
        if sample is not None:
            wording = Window.partitionBy("grp", "cluster")
            first = Window.partitionBy("grp", "cluster").orderBy(F.col("sent").asc_nulls_first(), "_row")
            heads = (
                rows.withColumn("weight", F.count("*").over(wording))
                .withColumn("n", F.row_number().over(first))
                .filter(F.col("n") == 1)
            )
            by_size = Window.partitionBy("grp").orderBy(
                F.col("weight").desc(), F.col("sent").asc_nulls_first(), "cluster"
            )
            rows = (
                heads.withColumn("rank", (F.row_number().over(by_size) - 1).cast("long"))
                .filter(F.col("rank") < int(sample))
                .orderBy("grp", "rank")
            )
            extra = ["rank", "weight"]
        else:
            rows = rows.orderBy("_row")
        table = rows.select(
            F.col("grp").alias("group"), "cluster", F.col("_row").alias("row"), "message_id",
            F.timestamp_seconds("sent").alias("sent_at"), "sender_id",
            F.col("recipient").alias("recipient_id"),
            F.nullif(F.col("org"), F.lit("")).alias("recipient_org"),
            F.nullif(F.col("sector"), F.lit("")).alias("recipient_sector"),
            *[F.col(c).cast("long") for c in extra],
        ).toArrow()  # fmt: skip
        types = {"sent_at": pa.timestamp("s", tz="UTC"), "group": pa.int64(), "cluster": pa.int64(), "row": pa.int64(), "rank": pa.int64(), "weight": pa.int64()}  # fmt: skip
        table = pa.table(
            {name: table.column(name).cast(types.get(name, pa.string())) for name in table.schema.names}
        )
        if with_text:
            table = self._attach_text(table)
        return table

    def _attach_text(self, table: pa.Table) -> pa.Table:
        """Texts and profile fields of ``table``'s rows, read again from the source (texts are not kept)."""
        from pyspark.sql import functions as F

        names = ["text", "subject", "channel", *_PROFILE]
        if table.num_rows == 0:
            for name in names:
                table = table.append_column(name, pa.nulls(0, SCHEMA.field(name).type))
            return table
        keys = self._small_frame(pa.table({"_row": pa.array(np.unique(table.column("row").to_numpy()))}))
        raw = self._raw.join(F.broadcast(keys), "_row", "left_semi").toArrow()
        found = pa.Table.from_batches(
            [conform(b, "stream", StreamStats(), extra=("_row",)) for b in raw.to_batches() if b.num_rows]
        )
        index = {r: i for i, r in enumerate(found.column("_row").to_pylist())}
        try:
            take = pa.array([index[r] for r in table.column("row").to_pylist()], pa.int64())
        except KeyError:
            raise RuntimeError("the stream changed between reads: rows are missing") from None
        for name in names:
            table = table.append_column(name, found.column(name).take(take))
        return table

    def account_profiles(self, accounts: Iterable[str]) -> pa.Table:
        wanted = sorted(set(accounts))
        schema = pa.schema(
            [pa.field("sender_id", pa.string())]
            + [pa.field(c, pa.int64() if c == "sender_connections" else pa.string()) for c in _PROFILE]
        )
        if not wanted:
            return schema.empty_table()
        names = self._small_frame(pa.table({"sender_id": pa.array(wanted, pa.string())}))
        from pyspark.sql import functions as F

        table = self.accounts.join(F.broadcast(names), "sender_id").select("sender_id", *_PROFILE).toArrow()
        return pa.table({f.name: table.column(f.name).cast(f.type) for f in schema})

    def close(self) -> None:
        for df in list(self._cached):
            df.unpersist()
        self._cached.clear()
        if self._staging is not None:
            self._staging.cleanup()
            self._staging = None


__all__ = ["SparkBackend", "SparkStream", "connected_components", "spark_session"]
