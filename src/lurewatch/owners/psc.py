"""UK Companies House "persons with significant control" (PSC) snapshot.

The snapshot is JSON Lines, one record per line: ``{"company_number": ..., "data": {"kind": ...}}``,
ending with a totals line (``kind: totals#persons-of-significant-control-snapshot``) that has no
company number. The same records also come as a JSON array or pretty-printed objects (the fixtures
of Open Ownership's pipelines); all three are read.

The file is parsed by DuckDB's JSON reader (C++, two threads, streaming, each record bounded by
``maximum_object_size``) with a fixed schema, and the fields are turned into graph columns in SQL and
Arrow: no Python work per record. ``natures_of_control`` comes out as its JSON text and is decoded once per
distinct list (a register uses a few hundred), far cheaper than list lambdas and regular expressions
evaluated for every record.

What each record kind becomes
-----------------------------
``individual-person-with-significant-control``, ``individual-beneficial-owner``
    a person (key: name from ``name_elements`` without title, and birth month) holding the company.
``corporate-entity-person-with-significant-control``, ``corporate-entity-beneficial-owner``
    a company; a UK registration number links it to that company's own node (``GB-COH-<number>``),
    so chains follow; otherwise it is keyed by name and country of registration.
``legal-person-person-with-significant-control``, ``legal-person-beneficial-owner``
    a legal person (government, corporation sole); a legal form or name saying government, ministry
    or state makes it a **state** node.
``super-secure-person-with-significant-control``, ``super-secure-beneficial-owner``
    an anonymous person (protected from disclosure), interest unknown (0-100%).
``persons-with-significant-control-statement``
    a statement about the company (``no-individual-or-entity-with-signficant-control``, ...).
``exemptions``
    the company is exempt (shares admitted to a market): a statement, and the company is marked listed.
``totals#persons-of-significant-control-snapshot``
    the snapshot's own counts, reported beside what was read.
anything else
    counted as an unknown kind, not guessed at.

Records with ``ceased_on`` (or ``ceased: true``) are history: not edges, but a change of control on
that date (for the recent-change flag).

Ownership bands (``natures_of_control``) become share intervals in percent: ``25-to-50`` [25, 50],
``50-to-75`` [50, 75], ``75-to-100`` [75, 100], ``more-than-25`` (overseas entities) [25, 100]; the
same for ``right-to-share-surplus-assets`` of LLPs and the ``-as-trust``/``-as-firm`` variants. A PSC
with no ownership nature holds less than 25% of the shares (25% is the register's threshold), so
its interval is [0, 25]. Voting rights, the right to appoint directors and significant influence are
control, kept apart. Company numbers are normalised to the register's eight characters
(``1234567`` -> ``01234567``, ``sc12345`` -> ``SC012345``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lurewatch.errors import InputError
from lurewatch.owners.graph import (
    C_BOARD,
    C_INFERRED,
    C_OTHER,
    C_OWNERSHIP,
    C_TRUST,
    C_UNKNOWN,
    C_VOTES,
    KIND_ENTITY,
    KIND_PERSON,
    KIND_STATE,
    N_ANONYMOUS,
    N_STATE,
    N_SUBJECT_RECORD,
    N_TRUST,
    GraphBuilder,
)

_COLUMNS = {
    "company_number": "VARCHAR",
    "data": (
        "STRUCT(kind VARCHAR, name VARCHAR, "
        "name_elements STRUCT(title VARCHAR, forename VARCHAR, middle_name VARCHAR, surname VARCHAR), "
        "natures_of_control VARCHAR[], "
        "identification STRUCT(country_registered VARCHAR, registration_number VARCHAR, legal_form VARCHAR, "
        "legal_authority VARCHAR, place_registered VARCHAR), "
        'date_of_birth STRUCT(month INTEGER, "year" INTEGER), nationality VARCHAR, '
        "country_of_residence VARCHAR, notified_on VARCHAR, ceased_on VARCHAR, ceased BOOLEAN, "
        "statement VARCHAR, exemptions JSON, persons_of_significant_control_count BIGINT, "
        "statements_count BIGINT, exemptions_count BIGINT, generated_at VARCHAR)"
    ),
}

KNOWN_KINDS = (
    "individual-person-with-significant-control",
    "individual-beneficial-owner",
    "corporate-entity-person-with-significant-control",
    "corporate-entity-beneficial-owner",
    "legal-person-person-with-significant-control",
    "legal-person-beneficial-owner",
    "super-secure-person-with-significant-control",
    "super-secure-beneficial-owner",
    "persons-with-significant-control-statement",
    "exemptions",
)

_UK = (
    r"(united kingdom|england|wales|scotland|northern ireland|great britain|companies house|"
    r"companies act|^uk$|^uk | uk$|^gb$|registrar of companies for)"
)
_STATE = (
    r"(government|ministry|ministerio|state administration|state council|sovereign|crown|"
    r"secretary of state|public authority|state-owned|state owned|people's republic|municipal)"
)


def normalise_company_number(raw: str | None) -> str:
    """Companies House numbers as the register writes them: eight characters, zero-padded after any
    two-letter prefix (``1234567`` -> ``01234567``, ``sc12345`` -> ``SC012345``)."""
    if not raw:
        return ""
    c = re.sub(r"\s+", "", raw).upper()
    if c.isdigit():
        return c.rjust(8, "0")
    m = re.fullmatch(r"([A-Z]{2})(\d+)", c)
    if m:
        return m[1] + m[2].rjust(6, "0")
    return c


_NUMBER_SQL = """CASE
    WHEN regexp_full_match({x}, '[0-9]+') THEN lpad({x}, 8, '0')
    WHEN regexp_full_match({x}, '[A-Z]{{2}}[0-9]+') THEN substr({x}, 1, 2) || lpad(substr({x}, 3), 6, '0')
    ELSE {x} END"""


def _number_sql(expr: str) -> str:
    x = f"upper(regexp_replace({expr}, '\\s', '', 'g'))"
    return _NUMBER_SQL.format(x=x)


_OWNERSHIP_BAND = re.compile(r"^(ownership-of-shares|right-to-share-surplus-assets)-[0-9]+-to-[0-9]+-percent")
_BAND_BOUNDS = re.compile(r"-([0-9]+)-to-([0-9]+)-percent")
_MORE_THAN_25 = re.compile(r"^(ownership-of-shares|right-to-share-surplus-assets)-more-than-25-percent")
_CONTROL_NATURES = (
    (re.compile(r"^voting-rights"), C_VOTES),
    (re.compile(r"^right-to-appoint-and-remove"), C_BOARD),
    (re.compile(r"^significant-influence-or-control"), C_OTHER),
    (re.compile(r"as-trust"), C_TRUST),
)


def _bound(text: str) -> float:
    value = float(text)
    return value if value < float("inf") else float("nan")


def _fmax(a: float, b: float) -> float:
    """The larger of two bounds, ignoring a missing (``NaN``) one, like SQL's ``max``."""
    return b if a != a or b > a else a


def natures_of_control(natures: list[str | None]) -> tuple[float, float, int]:
    """Ownership band (percent, ``NaN`` when no nature states a share) and control bits of one record:
    the highest lower and upper bounds of its share natures, and the control natures as bits."""
    lo = hi = float("nan")
    bits = 0
    for x in natures:
        if not isinstance(x, str):
            continue
        if _OWNERSHIP_BAND.search(x):
            m = _BAND_BOUNDS.search(x)
            if m:
                lo, hi = _fmax(lo, _bound(m[1])), _fmax(hi, _bound(m[2]))
        elif _MORE_THAN_25.search(x):
            lo, hi = _fmax(lo, 25.0), _fmax(hi, 100.0)
        for pattern, bit in _CONTROL_NATURES:
            if pattern.search(x):
                bits |= bit
    return lo, hi, bits


def _natures_columns(natures: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(band_lo, band_hi, control bits) per row from the JSON text of ``natures_of_control``: a register
    uses a few hundred distinct lists, so each is decoded once, not once per record."""
    encoded = pc.dictionary_encode(natures)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks() if encoded.num_chunks else pa.array([], encoded.type)
    values = encoded.dictionary.to_pylist()
    lo = np.full(len(values) + 1, np.nan)  # the last slot is the row without natures
    hi = np.full(len(values) + 1, np.nan)
    bits = np.zeros(len(values) + 1, dtype=np.int64)
    for i, text in enumerate(values):
        try:
            parsed = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(parsed, list):
            lo[i], hi[i], bits[i] = natures_of_control(parsed)
    codes = pc.fill_null(encoded.indices, len(values)).to_numpy(zero_copy_only=False)
    return lo[codes], hi[codes], bits[codes]


def _query(path: str, max_object_size: int) -> str:
    company = _number_sql("r.company_number")
    reg = _number_sql("d.identification.registration_number")
    ident = (
        "lower(concat_ws(' ', d.identification.country_registered, d.identification.place_registered, "
        "d.identification.legal_authority))"
    )
    person_name = (
        "trim(CASE WHEN d.name_elements.surname IS NOT NULL THEN concat_ws(' ', d.name_elements.forename, "
        "d.name_elements.middle_name, d.name_elements.surname) ELSE d.name END)"
    )
    birth = (
        "coalesce(CAST(d.date_of_birth.\"year\" AS VARCHAR), '') || '-' || "
        "lpad(coalesce(CAST(d.date_of_birth.month AS VARCHAR), ''), 2, '0')"
    )
    kind = "d.kind"
    is_ind = f"{kind} IN ('individual-person-with-significant-control', 'individual-beneficial-owner')"
    is_corp = (
        f"{kind} IN ('corporate-entity-person-with-significant-control', 'corporate-entity-beneficial-owner')"
    )
    is_legal = f"{kind} IN ('legal-person-person-with-significant-control', 'legal-person-beneficial-owner')"
    is_secure = f"{kind} IN ('super-secure-person-with-significant-control', 'super-secure-beneficial-owner')"
    uk_corp = (
        f"({is_corp} AND regexp_matches({ident}, '{_UK}') "
        "AND regexp_full_match(upper(regexp_replace(d.identification.registration_number, '\\s', '', 'g')), "
        "'[A-Z]{0,2}[0-9]{1,8}'))"
    )
    state = (
        f"({is_legal} AND regexp_matches(lower(concat_ws(' ', d.identification.legal_form, d.name)), "
        f"'{_STATE.replace(chr(39), chr(39) * 2)}'))"
    )
    source = path.replace("'", "''")
    return f"""
    WITH r AS (
        SELECT company_number, data AS d FROM read_json('{source}', format = 'auto',
            columns = {_columns_sql()}, maximum_object_size = {int(max_object_size)})
    )
    SELECT
        {kind} AS kind,
        'GB-COH-' || {company} AS held,
        CASE
            WHEN {is_ind} THEN 'psc:' || lower({person_name}) || '|' || {birth}
            WHEN {uk_corp} THEN 'GB-COH-' || {reg}
            WHEN {is_secure} THEN 'psc-super-secure:' || {company}
            ELSE 'name:' || lower(trim(d.name)) || '|' || lower(coalesce(d.identification.country_registered,
                 d.identification.legal_authority, ''))
        END AS holder,
        CASE WHEN {is_ind} THEN {person_name} WHEN {is_secure} THEN 'super-secure person (details withheld)'
             ELSE trim(d.name) END AS holder_name,
        CASE WHEN {is_ind} OR {is_secure} THEN {KIND_PERSON} WHEN {state} THEN {KIND_STATE}
             ELSE {KIND_ENTITY} END AS holder_kind,
        (CASE WHEN {state} THEN {N_STATE} ELSE 0 END) | (CASE WHEN {is_secure} THEN {N_ANONYMOUS} ELSE 0 END)
            AS holder_flags,
        CASE WHEN {is_ind} THEN coalesce(d.nationality, d.country_of_residence, '')
             ELSE coalesce(d.identification.country_registered, d.identification.legal_authority, '') END
             AS holder_jurisdiction,
        to_json(d.natures_of_control) AS natures,
        coalesce(date_diff('day', DATE '1970-01-01', TRY_CAST(d.notified_on AS DATE)), -1) AS start_day,
        CASE WHEN d.ceased_on IS NOT NULL OR coalesce(d.ceased, false) THEN
             coalesce(date_diff('day', DATE '1970-01-01', TRY_CAST(d.ceased_on AS DATE)), -1) END AS ceased_day,
        d.statement AS statement,
        CASE WHEN {kind} = 'exemptions' THEN
             list_transform(json_keys(d.exemptions), lambda x: replace(x, '_', '-')) END AS exemptions,
        d.persons_of_significant_control_count AS total_pscs,
        d.statements_count AS total_statements,
        d.exemptions_count AS total_exemptions,
        r.company_number IS NULL AS no_company
    FROM r
    """


def _columns_sql() -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in _COLUMNS.items()) + "}"


def load_psc(
    path: Path | str,
    builder: GraphBuilder,
    *,
    max_object_size: int = 16 * 1024 * 1024,
    memory_limit: str = "2GB",
    threads: int = 2,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Read a PSC snapshot into ``builder``; returns what was read, set aside and what the totals line said."""
    import duckdb

    path = Path(path)
    # large Arrow buffers: the builder keeps large strings, so no column is copied to widen its offsets
    con = duckdb.connect(
        config={
            "threads": threads,
            "memory_limit": memory_limit,
            "arrow_large_buffer_size": True,
        }
    )
    con.execute("SET enable_progress_bar = false")
    stats: dict[str, Any] = {
        "records": 0,
        "interests": 0,
        "statements": 0,
        "exemptions": 0,
        "ceased": 0,
        "unknown_kinds": 0,
        "without_company_number": 0,
        "totals": None,
    }
    try:
        reader = con.sql(_query(str(path), max_object_size)).to_arrow_reader(1_000_000)
        for batch in reader:
            _take_batch(pa.Table.from_batches([batch]), builder, stats)
            if progress is not None:
                progress(stats["records"])
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(str(path), f"not a readable PSC snapshot: {message[:300]}") from None
    finally:
        con.close()
    return stats


def _take_batch(t: pa.Table, builder: GraphBuilder, stats: dict[str, Any]) -> None:
    stats["records"] += t.num_rows
    kind = t["kind"]
    totals = pc.fill_null(pc.starts_with(kind, "totals#"), False)
    if pc.any(totals).as_py():
        row = t.filter(totals).slice(0, 1).to_pylist()[0]
        stats["totals"] = {
            "persons_of_significant_control_count": row["total_pscs"],
            "statements_count": row["total_statements"],
            "exemptions_count": row["total_exemptions"],
        }
    known = pc.fill_null(pc.is_in(kind, value_set=pa.array(KNOWN_KINDS)), False)
    stats["unknown_kinds"] += int(pc.sum(pc.and_not(pc.invert(known), totals)).as_py() or 0)
    no_company = pc.and_(known, t["no_company"])
    stats["without_company_number"] += int(pc.sum(no_company).as_py() or 0)
    t = t.filter(pc.and_not(known, t["no_company"]))
    if not t.num_rows:
        return
    kind = t["kind"]
    ceased = pc.is_valid(t["ceased_day"])
    is_statement = pc.equal(kind, "persons-with-significant-control-statement")
    is_exemption = pc.equal(kind, "exemptions")
    is_interest = pc.and_not(pc.invert(pc.or_(is_statement, is_exemption)), ceased)

    # Changes of control: any ceased interest or statement, on the company it was about.
    changes = t.filter(pc.and_(ceased, pc.greater_equal(t["ceased_day"], 0)))
    stats["ceased"] += int(pc.sum(ceased).as_py() or 0)
    change_table = pa.table({"key": changes["held"], "day": changes["ceased_day"]})

    live_statements = t.filter(pc.and_not(is_statement, ceased))
    statement_table = pa.table({"key": live_statements["held"], "statement": live_statements["statement"]})
    stats["statements"] += live_statements.num_rows
    ex = t.filter(is_exemption)
    if ex.num_rows:
        flat = pc.list_flatten(ex["exemptions"])
        parents = pc.list_parent_indices(ex["exemptions"])
        statement_table = pa.concat_tables(
            [
                statement_table,
                pa.table({"key": ex["held"].take(parents), "statement": flat.cast(pa.large_string())}),
            ]
        )
        stats["exemptions"] += ex.num_rows

    e = t.filter(is_interest)
    stats["interests"] += e.num_rows
    band_lo, band_hi, natures_bits = _natures_columns(e["natures"])
    secure = pc.starts_with(e["holder"], "psc-super-secure:").to_numpy(zero_copy_only=False)
    has_band = ~np.isnan(band_lo)
    lo = np.where(has_band, band_lo / 100.0, 0.0)
    hi = np.where(has_band, band_hi / 100.0, np.where(secure, 1.0, 0.25))
    bits = natures_bits | np.where(has_band, C_OWNERSHIP, np.where(secure, C_UNKNOWN, C_INFERRED))
    holder_flags = e["holder_flags"].to_numpy(zero_copy_only=False).astype(np.uint32)
    holder_flags |= np.where(natures_bits & C_TRUST, N_TRUST, 0).astype(np.uint32)
    edges = pa.table(
        {
            "holder": e["holder"],
            "held": e["held"],
            "lo": lo,
            "hi": hi,
            "bits": bits.astype(np.uint16),
            "start_day": e["start_day"],
        }
    )
    # companies held by an interest are nodes through the edges; the others (statements, ceased
    # records only) need a row of their own
    t = t.filter(pc.invert(is_interest))
    n_t = t.num_rows
    companies = pa.table(
        {
            "key": t["held"],
            "name": pa.nulls(n_t, pa.large_string()),
            "kind": np.full(n_t, KIND_ENTITY, dtype=np.uint8),
            "flags": np.full(n_t, N_SUBJECT_RECORD, dtype=np.uint32),
            "jurisdiction": pa.DictionaryArray.from_arrays(np.zeros(n_t, dtype=np.int32), ["GB"]).cast(
                pa.large_string()
            ),
            "subject": np.ones(n_t, dtype=bool),
        }
    )
    holders = pa.table(
        {
            "key": e["holder"],
            "name": e["holder_name"],
            "kind": e["holder_kind"],
            "flags": holder_flags,
            "jurisdiction": pc.fill_null(e["holder_jurisdiction"], ""),
            "subject": np.zeros(e.num_rows, dtype=bool),
        }
    )
    nodes = pa.concat_tables([companies.cast(_node_schema()), holders.cast(_node_schema())])
    builder.add_tables(nodes, edges, change_table, statement_table)


def _node_schema() -> pa.Schema:
    return pa.schema(
        [
            ("key", pa.large_string()),
            ("name", pa.large_string()),
            ("kind", pa.uint8()),
            ("flags", pa.uint32()),
            ("jurisdiction", pa.large_string()),
            ("subject", pa.bool_()),
        ]
    )
