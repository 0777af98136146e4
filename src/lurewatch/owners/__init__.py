"""Investor and partner screening (issue 6): ownership chains to state-linked and listed entities.

:func:`load_graph` reads ownership files of any supported format into one graph; :func:`find_subject`
finds the counterparty by key, identifier or name; :func:`lurewatch.owners.screen.screen` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lurewatch.errors import InputError
from lurewatch.owners.graph import KIND_PERSON, GraphBuilder, OwnershipGraph
from lurewatch.owners.matching import ListIndex, normalise_identifier
from lurewatch.owners.psc import normalise_company_number
from lurewatch.owners.screen import Match

FORMATS = ("bods", "psc", "ftm", "csv")


def detect_format(path: Path) -> str:
    """``bods``, ``psc``, ``ftm`` or ``csv``, from the name and the first 64 KiB."""
    if path.suffix.lower() in {".csv", ".tsv"}:
        return "csv"
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    if b'"recordType"' in head or b'"statementId"' in head:
        return "bods"
    if (
        b'"company_number"' in head
        or b"persons-of-significant-control" in head
        or b"significant-control" in head
    ):
        return "psc"
    if b'"schema"' in head and b'"properties"' in head:
        return "ftm"
    raise InputError(
        str(path), "unrecognised ownership format: expected BODS 0.4, a PSC snapshot, FtM entities or CSV"
    )


def load_graph(
    paths: Sequence[Path],
    *,
    max_file_bytes: int,
    progress: Callable[[str, int], None] | None = None,
) -> tuple[OwnershipGraph, dict[str, Any]]:
    from lurewatch.owners.bods import load_bods
    from lurewatch.owners.csvload import load_csv
    from lurewatch.owners.ftm import load_ftm
    from lurewatch.owners.psc import load_psc

    builder = GraphBuilder()
    report: dict[str, Any] = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise InputError(str(path), "no such file")
        size = path.stat().st_size
        if size > max_file_bytes:
            raise InputError(
                str(path), f"{size:,} bytes is more than LUREWATCH_OWNERS_MAX_FILE_BYTES ({max_file_bytes:,})"
            )
        fmt = detect_format(path)
        if fmt == "psc":
            stats = load_psc(
                path, builder, progress=(lambda n, p=str(path): progress(p, n)) if progress else None
            )
        elif fmt == "bods":
            stats = load_bods(path, builder)
        elif fmt == "ftm":
            stats = load_ftm(path, builder)
        else:
            stats = load_csv(path, builder)
        report[str(path)] = {"format": fmt, **stats}
    return builder.build(), report


def find_subject(graph: OwnershipGraph, query: str) -> list[int]:
    """Nodes the user may mean by ``query``: an exact key, a UK company number, an identifier of a
    record, or a name (case-insensitive exact; then the best fuzzy names on graphs small enough)."""
    q = query.strip()
    if not q:
        return []
    for key in (q, f"GB-COH-{normalise_company_number(q)}"):
        i = graph.index_of(key)
        if i is not None:
            return [i]
    ident = normalise_identifier(q)
    hits = [
        i for i, r in graph.records.items() if any(normalise_identifier(v) == ident for _, v in r.identifiers)
    ]
    if hits:
        return sorted(hits)
    keys = graph.name_key_array()
    exact = np.flatnonzero(
        pc.fill_null(pc.equal(keys, pa.scalar(q.casefold(), keys.type)), False).to_numpy(zero_copy_only=False)
    )
    if len(exact):
        return exact.tolist()
    if graph.n <= 200_000:
        from lurewatch.owners.matching import entity_similarity

        names = graph.names.to_pylist()
        scored = sorted(
            ((entity_similarity(q, name)[0], i) for i, name in enumerate(names) if name),
            reverse=True,
        )
        return [i for score, i in scored[:5] if score >= 0.85]
    return []


def make_matcher(
    index: ListIndex, threshold: float
) -> Callable[[OwnershipGraph, Sequence[int]], list[tuple[int, Match]]]:
    """Match every party of a (sub)graph against ``index``: names, aliases and identifiers."""

    def matcher(g: OwnershipGraph, nodes: Sequence[int]) -> list[tuple[int, Match]]:
        out = []
        if not len(index):
            return out
        for i in nodes:
            record = g.records.get(i)
            name = g.name_of(i)
            names = [n for n in (name, *(record.aliases if record else ())) if n]
            identifiers = list(record.identifiers) if record else []
            node_id = g.id_of(i)
            if node_id.startswith("GB-COH-"):
                identifiers.append(("GB-COH", node_id[7:]))
            kind = "person" if g.kind[i] == KIND_PERSON else "entity"
            for entry, score, reason in index.match(names, identifiers, kind=kind, threshold=threshold):
                out.append(
                    (
                        i,
                        Match(
                            node=node_id,
                            node_name=name or node_id,
                            list_name=entry.list_name,
                            entry_id=entry.entry_id,
                            entry_name=entry.name,
                            score=score,
                            reason=reason,
                            programs=entry.programs,
                        ),
                    )
                )
        return out

    return matcher


def load_secrecy_list(path: Path | None = None) -> frozenset[str]:
    """ISO codes of the secrecy-jurisdiction list (the bundled one unless ``path`` is given)."""
    if path is None:
        from importlib.resources import files

        text = files("lurewatch").joinpath("data/secrecy_jurisdictions.csv").read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(str(path), f"cannot read the secrecy list ({exc.strerror})") from None
    codes = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.lower().startswith("code"):
            continue
        code, _, name = line.partition(",")
        for value in (code, name):
            if value.strip():
                codes.add(value.strip().upper())
    return frozenset(codes)
