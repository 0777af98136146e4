"""Ownership as a plain CSV: one row per interest (who holds what in whom).

Columns (mapped by name, case and punctuation ignored; comma, semicolon or TAB):

===================== =========================================================================
``subject_id``        required: the company held (any stable key; a UK company number works)
``subject_name``      its name
``owner_id``          required: the holder
``owner_name``        its name
``owner_kind``        ``person``, ``entity`` or ``state`` (default ``entity``)
``owner_type``        optional BODS entity/person type: ``stateBody``, ``arrangement``,
                      ``anonymousPerson``, ``nominee`` (a nominee arrangement), ...
``share``             exact share in percent, or use ``share_min`` and ``share_max`` (a band)
``interest``          BODS interest type (default ``shareholding``; ``votingRights``,
                      ``appointmentOfBoard``, ``otherInfluenceOrControl``, ``nominee``, ...)
``start_date``        ISO date the interest began (for the recent-change flag)
``end_date``          ISO date it ended: rows that ended are history, left out
``subject_jurisdiction``, ``owner_jurisdiction``   ISO country codes
``subject_identifiers``, ``owner_identifiers``     ``scheme:value`` pairs separated by ``;``
                      (``XI-LEI:5493001KJTIIGC8Y1R12;CN-USCC:91110000...``)
===================== =========================================================================
"""

from __future__ import annotations

from pathlib import Path

from lurewatch.errors import InputError
from lurewatch.ingest.csvio import header_key, open_csv
from lurewatch.model import Entity, Interest, Person
from lurewatch.owners.graph import GraphBuilder

COLUMNS = (
    "subject_id", "subject_name", "owner_id", "owner_name", "owner_kind", "owner_type", "share", "share_min",
    "share_max", "interest", "start_date", "end_date", "subject_jurisdiction", "owner_jurisdiction",
    "subject_identifiers", "owner_identifiers",
)  # fmt: skip


def _identifiers(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for part in text.split(";"):
        scheme, _, value = part.strip().partition(":")
        if value.strip():
            out.append((scheme.strip(), value.strip()))
    return tuple(out)


def _number(text: str, source: str, line: int, column: str) -> float | None:
    text = text.strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(source, f"line {line}: {column} {text[:40]!r} is not a number") from None
    if not 0 <= value <= 100:
        raise InputError(source, f"line {line}: {column} {value} is not a percentage between 0 and 100")
    return value


def load_csv(path: Path | str, builder: GraphBuilder, max_field_chars: int = 10_000) -> dict[str, int]:
    path = Path(path)
    source = str(path)
    stats = {"rows": 0, "ended": 0}
    with open(path, "rb") as raw:
        reader = open_csv(
            raw,
            source=source,
            file_name=path.name,
            columns=COLUMNS,
            required=("subject_id", "owner_id"),
            max_field_chars=max_field_chars,
            hint=" (see lurewatch.owners.csvload for the columns)",
        )
        if reader.blank:
            return stats
        idx = {c: reader.index(header_key(c)) for c in COLUMNS}
        for row in reader:
            line = reader.line_number

            def get(column: str, row: list[str] = row) -> str:
                i = idx[column]
                return row[i].strip() if i < len(row) else ""

            subject, owner = get("subject_id"), get("owner_id")
            if not subject or not owner:
                raise InputError(source, f"line {line}: subject_id and owner_id are required")
            stats["rows"] += 1
            if get("end_date"):
                stats["ended"] += 1
                continue
            builder.add_record(
                Entity(
                    id=subject,
                    name=get("subject_name") or subject,
                    jurisdiction=get("subject_jurisdiction"),
                    identifiers=_identifiers(get("subject_identifiers")),
                    source=source,
                )
            )
            kind, otype = get("owner_kind").lower() or "entity", get("owner_type")
            name = get("owner_name") or owner
            if kind == "person":
                record: Entity | Person = Person(
                    id=owner,
                    name=name,
                    person_type=otype if otype in {"anonymousPerson", "unknownPerson"} else "knownPerson",
                    jurisdiction=get("owner_jurisdiction"),
                    identifiers=_identifiers(get("owner_identifiers")),
                    source=source,
                )
            elif kind in {"entity", "state"}:
                etype = "state" if kind == "state" and not otype else (otype or "registeredEntity")
                record = Entity(
                    id=owner,
                    name=name,
                    entity_type="arrangement" if otype == "nominee" else etype,
                    subtype="nomination" if otype == "nominee" else "",
                    jurisdiction=get("owner_jurisdiction"),
                    identifiers=_identifiers(get("owner_identifiers")),
                    source=source,
                )
            else:
                raise InputError(
                    source, f"line {line}: owner_kind must be person, entity or state, not {kind[:20]!r}"
                )
            builder.add_record(record)
            exact = _number(get("share"), source, line, "share")
            lo = exact if exact is not None else _number(get("share_min"), source, line, "share_min")
            hi = exact if exact is not None else _number(get("share_max"), source, line, "share_max")
            if lo is not None and hi is not None and lo > hi:
                raise InputError(source, f"line {line}: share_min {lo} is above share_max {hi}")
            builder.add_interests(
                [
                    Interest(
                        subject_id=subject,
                        party_id=owner,
                        interest_type=get("interest") or "shareholding",
                        share_min=lo,
                        share_max=hi,
                        start_date=get("start_date"),
                        source=source,
                    )
                ]
            )
    return stats
