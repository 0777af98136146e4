"""Screening lists in their official formats, and ``lurewatch lists update``.

====================== ===================================================================================
list                   format read (detected from the file's name and first bytes)
====================== ===================================================================================
US Consolidated        ``consolidated.csv`` or ``consolidated.json`` of the International Trade
Screening List (CSL)   Administration's CSL (columns ``source``, ``name``, ``alt_names``, ``ids``,
                       ``programs``, ``type``, ``addresses``...): the Entity List, the NS-CMIC list
                       (Non-SDN Chinese Military-Industrial Complex Companies), the Military End User
                       list, SDN and the others it consolidates; ``source`` names the list of each entry.
US DoD 1260H list      the Department of Defense's PDF "Entities Identified as Chinese Military
                       Companies Operating in the United States" (text extracted with ``pypdf`` when it
                       is installed) or the same text saved as ``.txt``: numbered entries, aliases in
                       brackets.
UK sanctions list      the FCDO UK Sanctions List CSV and OFSI's consolidated list ``ConList.csv`` (columns
                       ``Name 6`` (surname or entity name), ``Name 1``-``Name 5``, ``Group Type``, ``Group
                       ID`` / ``Unique ID``, ``Regime``, ``Country``); rows of one group are one entry
                       with its aliases.
OpenSanctions          an FtM export (``entities.ftm.json``, JSON Lines): every ``Person`` and
                       ``LegalEntity`` with its names, identifiers and topics (``sanction``, ``gov.soe``,
                       ``mil``, ``export.control``, ``debarment``...).
your own watchlist     CSV with columns ``name`` (required), ``aliases`` (``;``-separated), ``identifiers``
                       (``scheme:value;...``), ``kind`` (``person`` or ``entity``), ``country``, ``list``,
                       ``reason``, ``id``.
====================== ===================================================================================

Official sources (fetched by ``lurewatch lists update``; see :data:`SOURCES`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lurewatch.errors import InputError
from lurewatch.ingest.csvio import header_key, open_csv
from lurewatch.owners.matching import ListEntry, ListIndex

#: file name -> (URL, what it is). Public, no key needed.
SOURCES: dict[str, tuple[str, str]] = {
    "consolidated.csv": (
        "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv",
        "US Consolidated Screening List (International Trade Administration): Entity List, NS-CMIC, MEU, SDN, ...",
    ),
    "UK-Sanctions-List.csv": (
        "https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv",
        "UK Sanctions List (Foreign, Commonwealth and Development Office)",
    ),
    "1260H.pdf": (
        "https://media.defense.gov/2025/Jan/07/2003625471/-1/-1/1/"
        "ENTITIES-IDENTIFIED-AS-CHINESE-MILITARY-COMPANIES-OPERATING-IN-THE-UNITED-STATES.PDF",
        "US DoD section 1260H list of Chinese military companies (January 2025 edition)",
    ),
    "opensanctions-default.ftm.json": (
        "https://data.opensanctions.org/datasets/latest/default/entities.ftm.json",
        "OpenSanctions default collection, FollowTheMoney JSON Lines (free for non-commercial use)",
    ),
}
LIST_SUFFIXES = (".csv", ".json", ".jsonl", ".txt", ".pdf")


def _split(text: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(sep) if p.strip())


def _identifier_scheme(kind: str) -> str:
    k = kind.casefold()
    if "unified social credit" in k or "uscc" in k:
        return "CN-USCC"
    if "lei" in k.split() or "legal entity identifier" in k:
        return "XI-LEI"
    return kind.strip()


def _csv_rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    with open(path, "rb") as raw:
        reader = open_csv(
            raw,
            source=str(path),
            file_name=path.name,
            columns=columns,
            required=required,
            max_field_chars=100_000,
        )
        if reader.blank:
            return
        header = [header_key(h) for h in reader.header]
        for row in reader:
            yield {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}


def load_csl_csv(path: Path) -> Iterator[ListEntry]:
    cols = ("source", "name", "alt_names", "ids", "programs", "type", "addresses", "entity_number", "_id")
    for row in _csv_rows(path, cols, ("source", "name")):
        ids = []
        for part in _split(row.get("ids", "")):
            pieces = [p.strip() for p in part.split(",")]
            if len(pieces) >= 2 and pieces[1]:
                ids.append((_identifier_scheme(pieces[0]), pieces[1]))
        country = ""
        addresses = _split(row.get("addresses", ""))
        if addresses:
            country = addresses[0].rsplit(",", 1)[-1].strip()
        yield ListEntry(
            list_name=row["source"],
            entry_id=row.get("id") or row.get("entitynumber") or row["name"],
            name=row["name"],
            kind="person" if row.get("type", "").casefold() == "individual" else "entity",
            aliases=_split(row.get("altnames", "")),
            identifiers=tuple(ids),
            country=country,
            programs=row.get("programs", ""),
        )


def load_csl_json(path: Path) -> Iterator[ListEntry]:
    import orjson

    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON ({str(exc)[:120]})") from None
    results = data.get("results") if isinstance(data, dict) else data
    if not isinstance(results, list):
        raise InputError(str(path), "not a Consolidated Screening List JSON file (no results array)")
    for r in results:
        if not isinstance(r, dict) or not r.get("name"):
            continue
        ids = tuple(
            (_identifier_scheme(str(i.get("type") or "")), str(i.get("number")))
            for i in r.get("ids") or []
            if isinstance(i, dict) and i.get("number")
        )
        addresses = [a for a in r.get("addresses") or [] if isinstance(a, dict)]
        yield ListEntry(
            list_name=str(r.get("source") or "CSL"),
            entry_id=str(r.get("id") or r.get("entity_number") or r["name"]),
            name=str(r["name"]),
            kind="person" if str(r.get("type") or "").casefold() == "individual" else "entity",
            aliases=tuple(str(a) for a in r.get("alt_names") or [] if a),
            identifiers=ids,
            country=str(addresses[0].get("country") or "") if addresses else "",
            programs="; ".join(str(p) for p in r.get("programs") or []),
        )


_ENTRY = re.compile(r"^\s*(\d{1,3})[.)]\s+(.+)$")


def parse_1260h_text(text: str, source: str = "1260H") -> Iterator[ListEntry]:
    """Numbered entries of the 1260H list; a bracketed part holds aliases (``(a.k.a. X; Y)``) and an
    entry may continue on the next lines until the next number."""
    current: list[str] = []
    number = ""

    def emit() -> ListEntry | None:
        if not current:
            return None
        line = " ".join(current)
        line = re.sub(r"\s+", " ", line).strip()
        aliases: list[str] = []
        for inner in re.findall(r"\(([^()]*)\)", line):
            inner = re.sub(
                r"^(a\.?k\.?a\.?|also known as|formerly|f\.?k\.?a\.?)[:\s]*", "", inner.strip(), flags=re.I
            )
            aliases.extend(a.strip() for a in re.split(r";|,\s*(?:a\.?k\.?a\.?)", inner) if a.strip())
        name = re.sub(r"\s*\([^()]*\)", "", line).strip(" ;,")
        return ListEntry(
            list_name="DoD 1260H Chinese military companies",
            entry_id=f"1260H-{number}",
            name=name,
            aliases=tuple(aliases),
            programs="NDAA FY2021 section 1260H",
            topics=("mil",),
        )

    for raw in text.splitlines():
        m = _ENTRY.match(raw)
        if m:
            entry = emit()
            if entry is not None:
                yield entry
            number, current = m[1], [m[2]]
        elif current and raw.strip() and not raw.strip().isdigit():
            if re.match(r"^(page \d|entities identified|\d+ of \d+)", raw.strip(), re.I):
                continue
            current.append(raw.strip())
    entry = emit()
    if entry is not None:
        yield entry


def load_1260h(path: Path) -> Iterator[ListEntry]:
    if path.suffix.lower() == ".pdf":
        try:
            from pypdf import PdfReader
        except ImportError:
            raise InputError(
                str(path), "reading the 1260H PDF needs pypdf (pip install pypdf), or save its text as .txt"
            ) from None
        try:
            text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        except Exception as exc:  # pypdf raises many kinds of errors on damaged files
            raise InputError(str(path), f"not a readable PDF ({str(exc)[:120]})") from None
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
    yield from parse_1260h_text(text, str(path))


def load_uk_sanctions(path: Path) -> Iterator[ListEntry]:
    cols = (
        "Name 6",
        "Name 1",
        "Name 2",
        "Group Type",
        "Group ID",
        "Unique ID",
        "Regime",
        "Country",
        "Regime Name",
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in _csv_rows(path, cols, ("Name 6",)):
        gid = row.get("groupid") or row.get("uniqueid") or row.get("ofsigroupid") or row["name6"]
        given = " ".join(row.get(f"name{i}", "") for i in range(1, 6) if row.get(f"name{i}"))
        name = f"{given} {row['name6']}".strip()
        if not name:
            continue
        g = groups.setdefault(
            gid,
            {
                "names": [],
                "kind": "person"
                if (row.get("grouptype") or row.get("designationtype") or "").casefold() == "individual"
                else "entity",
                "regime": row.get("regime") or row.get("regimename") or "",
                "country": row.get("country", ""),
                "ids": [],
            },
        )
        primary = (row.get("nametype") or row.get("aliastype") or "").casefold() in {"primary name", ""}
        if primary:
            g["names"].insert(0, name)
        else:
            g["names"].append(name)
        for key in ("businessregistrationnumbers", "nationalidentificationnumber"):
            if row.get(key):
                g["ids"].append((key, row[key]))
    for gid, g in groups.items():
        names = list(dict.fromkeys(g["names"]))
        yield ListEntry(
            list_name="UK sanctions list",
            entry_id=gid,
            name=names[0],
            kind=g["kind"],
            aliases=tuple(names[1:]),
            identifiers=tuple(g["ids"]),
            country=g["country"],
            programs=g["regime"],
        )


def load_opensanctions(path: Path) -> Iterator[ListEntry]:
    from lurewatch.owners.ftm import identifiers_of, iter_entities

    for proxy in iter_entities(path):
        if not (proxy.schema.is_a("LegalEntity")):
            continue
        names = proxy.get("name", quiet=True)
        if not names:
            continue
        topics = tuple(proxy.get("topics", quiet=True))
        yield ListEntry(
            list_name="OpenSanctions",
            entry_id=str(proxy.id),
            name=proxy.caption or names[0],
            kind="person" if proxy.schema.is_a("Person") else "entity",
            aliases=tuple(n for n in names if n != proxy.caption) + tuple(proxy.get("alias", quiet=True)),
            identifiers=identifiers_of(proxy),
            country=(proxy.get("country", quiet=True) or proxy.get("jurisdiction", quiet=True) or [""])[0],
            programs=", ".join(proxy.get("program", quiet=True) or topics),
            topics=topics,
        )


def load_watchlist(path: Path) -> Iterator[ListEntry]:
    cols = ("name", "aliases", "identifiers", "kind", "country", "list", "reason", "id")
    for n, row in enumerate(_csv_rows(path, cols, ("name",)), 1):
        if not row.get("name"):
            continue
        ids = []
        for part in _split(row.get("identifiers", "")):
            scheme, _, value = part.partition(":")
            if value.strip():
                ids.append((scheme.strip(), value.strip()))
        kind = (row.get("kind") or "entity").casefold()
        if kind not in {"person", "entity"}:
            raise InputError(str(path), f"row {n}: kind must be person or entity, not {kind[:20]!r}")
        yield ListEntry(
            list_name=row.get("list") or f"watchlist {path.name}",
            entry_id=row.get("id") or f"{path.name}:{n}",
            name=row["name"],
            kind=kind,
            aliases=_split(row.get("aliases", "")),
            identifiers=tuple(ids),
            country=row.get("country", ""),
            programs=row.get("reason", ""),
        )


def _csv_header(path: Path) -> set[str]:
    with open(path, "rb") as f:
        head = f.read(64 * 1024).decode("utf-8-sig", errors="replace")
    keys: set[str] = set()
    for line in head.splitlines()[:5]:
        for delimiter in (",", ";", "\t"):
            try:
                keys.update(header_key(c) for c in next(csv.reader(io.StringIO(line), delimiter=delimiter)))
            except (StopIteration, csv.Error):
                continue
    return keys


def loader_for(path: Path) -> Callable[[Path], Iterator[ListEntry]]:
    suffix = path.suffix.lower()
    if suffix in {".pdf", ".txt"}:
        return load_1260h
    if suffix in {".json", ".jsonl", ".ftm"}:
        with open(path, "rb") as f:
            head = f.read(4096).lstrip()
        if head.startswith(b"{") and b'"schema"' in head.split(b"\n", 1)[0]:
            return load_opensanctions
        if head.startswith(b"[") or b'"results"' in head:
            return load_csl_json
        raise InputError(str(path), "unrecognised list JSON: expected CSL JSON or FtM entities")
    if suffix in {".csv", ".tsv"}:
        header = _csv_header(path)
        if {"source", "altnames"} <= header:
            return load_csl_csv
        if "name6" in header:
            return load_uk_sanctions
        if "name" in header:
            return load_watchlist
        raise InputError(str(path), "unrecognised list CSV: expected CSL, UK sanctions or watchlist columns")
    raise InputError(
        str(path), f"unrecognised list file type {suffix or '(none)'}: use .csv, .json, .txt or .pdf"
    )


def load_lists(paths: list[Path]) -> ListIndex:
    index = ListIndex()
    for path in paths:
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.suffix.lower() in LIST_SUFFIXES and not child.name.startswith("."):
                    try:
                        loader = loader_for(child)
                    except InputError:
                        continue  # a folder may hold other files; named files must be lists
                    index.add(loader(child))
        elif path.exists():
            index.add(loader_for(path)(path))
        else:
            raise InputError(str(path), "no such list file")
    return index


def update_lists(
    directory: Path,
    names: list[str] | None = None,
    *,
    max_bytes: int = 2 * 1024**3,
    timeout: float = 60.0,
    opener: Callable[..., Any] = urllib.request.urlopen,
) -> list[tuple[str, int]]:
    """Download the official files into ``directory`` (atomically: a failed download leaves the
    previous copy). Returns (file name, bytes) per file."""
    directory.mkdir(parents=True, exist_ok=True)
    done = []
    for name in names or list(SOURCES):
        if name not in SOURCES:
            raise InputError(name, f"unknown list; choose from {', '.join(SOURCES)}")
        url = SOURCES[name][0]
        request = urllib.request.Request(url, headers={"User-Agent": "lurewatch lists update"})
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out, opener(request, timeout=timeout) as response:
                while chunk := response.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise InputError(url, f"larger than {max_bytes:,} bytes; refused")
                    out.write(chunk)
            os.replace(tmp, directory / name)
        except OSError as exc:
            raise InputError(url, f"download failed ({str(exc)[:160]})") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        done.append((name, size))
    return done
