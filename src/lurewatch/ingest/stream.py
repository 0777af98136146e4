"""Message streams for campaign detection: Parquet, CSV or JSON Lines in one documented column contract.

A platform writes its messages once in this shape and ``lurewatch campaigns`` reads them in bounded
Arrow batches, so memory does not grow with the file. The contract (names are kept stable):

=====================  ========  =================================================================
column                 required  meaning
=====================  ========  =================================================================
``message_id``         yes       unique id of the message
``sent_at``            yes       ISO 8601 time (``2026-03-18T16:32:46Z``; an offset or none = UTC)
``sender_id``          yes       the sending account (profile slug, member id or address)
``sender_name``        yes       display name of the sender
``recipient_id``       yes       the receiving account
``text``               yes       message body
``subject``            no        subject line (InMail, e-mail)
``channel``            no        linkedin, inmail, invitation, email, ...
``sender_headline``    no        the sender's headline
``sender_company``     no        the company the sender claims
``sender_location``    no        the sender's stated location
``sender_photo_hash``  no        64-bit perceptual hash of the profile photo, 16 hex digits
``sender_created_at``  no        when the sender's account was created (ISO 8601)
``sender_connections`` no        the sender's connection count (integer)
``recipient_org``      no        the recipient's organisation
``recipient_sector``   no        the recipient's sector
=====================  ========  =================================================================

Every value is read as text (``sender_connections`` as an integer); other columns are ignored. A
row without a ``message_id`` or ``sender_id`` cannot be attributed and is skipped, counted in
:class:`StreamStats`; an unreadable ``sent_at`` becomes null and is counted; over-long fields are cut
and counted. Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from lurewatch.errors import InputError

REQUIRED = ("message_id", "sent_at", "sender_id", "sender_name", "recipient_id", "text")
OPTIONAL = (
    "subject",
    "channel",
    "sender_headline",
    "sender_company",
    "sender_location",
    "sender_photo_hash",
    "sender_created_at",
    "sender_connections",
    "recipient_org",
    "recipient_sector",
)
COLUMNS = REQUIRED + OPTIONAL
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

#: the schema batches are delivered in; ``sent_at`` parsed to UTC seconds
SCHEMA = pa.schema(
    [pa.field(name, pa.string()) for name in COLUMNS if name not in {"sent_at", "sender_connections"}]
    + [pa.field("sent_at", pa.timestamp("s", tz="UTC")), pa.field("sender_connections", pa.int64())]
)
#: longest id and short field kept (characters); texts are cut at MAX_TEXT_CHARS
MAX_ID_CHARS = 256
MAX_FIELD_CHARS = 1_000
MAX_TEXT_CHARS = 20_000
BATCH_ROWS = 65_536


@dataclass(slots=True)
class StreamStats:
    """What reading a stream saw and set aside."""

    rows_read: int = 0
    rows_kept: int = 0
    skipped_no_message_id: int = 0
    skipped_no_sender: int = 0
    bad_sent_at: int = 0
    truncated_fields: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def stream_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            str(path),
            f"unknown stream format {path.suffix or '(no extension)'!r}: use .parquet, .csv or .jsonl",
        )
    return fmt


def read_stream(
    path: str | Path, stats: StreamStats | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """Batches of the stream at ``path`` in :data:`SCHEMA`, checked against the contract as they come."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    fmt = stream_format(path)
    stats = stats if stats is not None else StreamStats()
    try:
        for raw in _raw_batches(path, fmt, batch_rows):
            if raw.num_rows:
                yield conform(raw, str(path), stats)
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(str(path), f"cannot read the {fmt} stream: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _raw_batches(path: Path, fmt: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        names = set(pf.schema_arrow.names)
        _check_columns(names, str(path))
        yield from pf.iter_batches(batch_size=batch_rows, columns=[c for c in COLUMNS if c in names])
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        with path.open("rb") as fh:
            header = fh.readline().decode("utf-8-sig", "replace")
        names = {h.strip().strip('"') for h in header.rstrip("\r\n").split(",")}
        _check_columns(names, str(path))
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=1 << 24),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS if c != "sender_connections"},
                include_columns=[c for c in COLUMNS if c in names],
                strings_can_be_null=True,
            ),
        )
        yield from reader
    else:
        import pyarrow.json as pj

        reader = pj.open_json(
            path,
            read_options=pj.ReadOptions(block_size=1 << 24),
            parse_options=pj.ParseOptions(
                explicit_schema=pa.schema(
                    [pa.field(c, pa.int64() if c == "sender_connections" else pa.string()) for c in COLUMNS]
                ),
                unexpected_field_behavior="ignore",
            ),
        )
        first = True
        for batch in reader:
            if first:
                present = {
                    c
                    for c in REQUIRED
                    if batch.column(batch.schema.get_field_index(c)).null_count < batch.num_rows
                }
                _check_columns(present | set(OPTIONAL), str(path))
                first = False
            yield batch


def _check_columns(names: set[str], source: str) -> None:
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(
            source,
            "not a message stream: missing column(s) "
            + ", ".join(missing)
            + " (required: "
            + ", ".join(REQUIRED)
            + ")",
        )


def _string(col: pa.Array, limit: int, stats: StreamStats) -> pa.Array:
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        col = pc.cast(col, pa.string())
    long = pc.greater(pc.utf8_length(col), limit)
    n_long = pc.sum(long).as_py() or 0
    if n_long:
        stats.truncated_fields += n_long
        col = pc.utf8_slice_codeunits(col, 0, limit)
    return col.cast(pa.string())


def parse_times(col: pa.Array) -> tuple[pa.Array, int]:
    """ISO 8601 strings to UTC seconds; returns the array and how many non-null values were unreadable."""
    if pa.types.is_timestamp(col.type):
        return pc.cast(col, pa.timestamp("s", tz="UTC")), 0
    col = col.cast(pa.string())
    fast = pc.strptime(col, format="%Y-%m-%dT%H:%M:%S%z", unit="s", error_is_null=True)
    missed = pc.and_(pc.is_null(fast), pc.is_valid(col))
    if not pc.any(missed).as_py():
        return fast, 0
    values = fast.to_pylist()
    raw = col.to_pylist()
    bad = 0
    for i in pc.indices_nonzero(missed).to_pylist():
        parsed = parse_time(raw[i])
        if parsed is None:
            bad += 1
        values[i] = parsed
    return pa.array(values, pa.timestamp("s", tz="UTC")), bad


def parse_time(value: str | None) -> datetime | None:
    """One ISO 8601 time (date only, fractions, offsets, ``Z``); naive times are taken as UTC."""
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except (OverflowError, ValueError):
        return None


def conform(
    batch: pa.RecordBatch, source: str, stats: StreamStats, extra: Sequence[str] = ()
) -> pa.RecordBatch:
    """One raw batch to :data:`SCHEMA`: missing optional columns null, rows without ids skipped.

    ``extra`` columns of ``batch`` (a row position, say) follow the contract's unchanged, filtered alike.
    """
    n = batch.num_rows
    stats.rows_read += n
    names = batch.schema.names
    cols: dict[str, pa.Array] = {}
    for name in COLUMNS:
        if name not in names:
            cols[name] = pa.nulls(n, SCHEMA.field(name).type)
            continue
        col = batch.column(names.index(name))
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if name == "sent_at":
            col, bad = parse_times(col)
            stats.bad_sent_at += bad
        elif name == "sender_connections":
            if not pa.types.is_integer(col.type):
                col = (
                    pc.cast(pc.cast(col, pa.string()), pa.int64(), safe=False)
                    if _all_digits(col)
                    else _ints(col)
                )
            col = col.cast(pa.int64())
        elif name == "text":
            col = _string(col, MAX_TEXT_CHARS, stats)
        elif name.endswith("_id"):
            col = _string(col, MAX_ID_CHARS, stats)
        else:
            col = _string(col, MAX_FIELD_CHARS, stats)
        cols[name] = col
    mid, sid = cols["message_id"], cols["sender_id"]
    # Kleene logic: a null compared with "" is null, and null OR true must be true
    no_mid = pc.fill_null(pc.or_kleene(pc.is_null(mid), pc.equal(pc.utf8_trim_whitespace(mid), "")), True)
    no_sid = pc.and_(
        pc.invert(no_mid),
        pc.fill_null(pc.or_kleene(pc.is_null(sid), pc.equal(pc.utf8_trim_whitespace(sid), "")), True),
    )
    skip = pc.or_(no_mid, no_sid)
    stats.skipped_no_message_id += pc.sum(no_mid).as_py() or 0
    stats.skipped_no_sender += pc.sum(no_sid).as_py() or 0
    schema = SCHEMA
    arrays = [cols[f.name] for f in SCHEMA]
    for name in extra:
        column = batch.column(names.index(name))
        arrays.append(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
        schema = schema.append(batch.schema.field(name))
    out = pa.RecordBatch.from_arrays(arrays, schema=schema)
    if pc.any(skip).as_py():
        out = out.filter(pc.invert(skip))
    stats.rows_kept += out.num_rows
    return out


def _all_digits(col: pa.Array) -> bool:
    s = pc.cast(col, pa.string())
    ok = pc.match_substring_regex(s, r"^\s*-?\d{1,18}\s*$")
    return bool(pc.all(pc.or_(ok, pc.is_null(s))).as_py())


def _ints(col: pa.Array) -> pa.Array:
    out: list[int | None] = []
    for v in pc.cast(col, pa.string()).to_pylist():
        try:
            out.append(int(str(v).strip().replace(",", "")) if v is not None else None)
        except ValueError:
            out.append(None)
    return pa.array(out, pa.int64())


__all__ = [
    "COLUMNS",
    "OPTIONAL",
    "REQUIRED",
    "SCHEMA",
    "FileStream",
    "RowsStream",
    "StreamStats",
    "conform",
    "parse_time",
    "parse_times",
    "read_stream",
    "stream_format",
]


class FileStream:
    """A stream file as a re-readable source of conformed batches (see :class:`lurewatch.campaigns.backend.StreamSource`)."""

    def __init__(self, path: str | Path, batch_rows: int = BATCH_ROWS) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.batch_rows = batch_rows
        self.stats = StreamStats()
        stream_format(self.path)
        if not self.path.is_file():
            raise InputError(str(self.path), "no such file")
        self._reads = 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        # the first read counts what was set aside; later reads (texts for screening) must not count twice
        self._reads += 1
        stats = self.stats if self._reads == 1 else StreamStats()
        return read_stream(self.path, stats, self.batch_rows)

    def size_hint(self) -> int | None:
        if stream_format(self.path) == "parquet":
            import pyarrow.parquet as pq

            try:
                return pq.ParquetFile(self.path).metadata.num_rows
            except (pa.ArrowException, OSError):
                return None
        return None


class RowsStream:
    """Rows (dicts in the contract's names) from a re-callable producer, as a source of conformed batches.

    The workspace hands its approaches to the campaign engine this way (``Workspace.stream_rows``).
    """

    def __init__(self, name: str, produce: Callable[[], Iterable[list[dict[str, object]]]]) -> None:
        self.name = name
        self._produce = produce
        self.stats = StreamStats()
        self._reads = 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        self._reads += 1
        stats = self.stats if self._reads == 1 else StreamStats()
        raw_schema = pa.schema(
            [pa.field(f.name, pa.timestamp("s", tz="UTC") if f.name == "sent_at" else f.type) for f in SCHEMA]
        )
        for rows in self._produce():
            if rows:
                batch = pa.RecordBatch.from_pylist(
                    [{k: (_aware(v) if k == "sent_at" else v) for k, v in r.items()} for r in rows],
                    schema=raw_schema,
                )
                yield conform(batch, self.name, stats)

    def size_hint(self) -> int | None:
        return None


def _aware(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
