"""Beneficial Ownership Data Standard 0.4: JSON (an array of statements) and JSON Lines.

Statements are read as a stream (``ijson`` for an array, one line at a time for JSON Lines), each
bounded in size. Records change over time: a later statement about the same ``recordId`` replaces an
earlier one (ordered by ``statementDate``, then by position in the file) and ``recordStatus: closed``
removes the record. Interests with an ``endDate`` have ended and are left out.

Relationships become edges. BODS describes an indirect chain twice: as component relationships
(``isComponent: true``) that are the links of the chain, and as one summary relationship whose
``componentRecords`` name them. The links are what the graph is built from; the summary's indirect
interests are kept as **declared** figures for that (subject, party) pair, which narrow the computed
interval when the links leave it open (an unknown interest in a chain is 0-100%), see
:func:`lurewatch.owners.screen.screen`. Its direct interests are ordinary edges. An indirect interest
without component records is an edge of its own (the chain is unknown).

An ``interestedParty`` that is not a record (an unspecified reason) becomes an anonymous party, except
``subjectExemptFromDisclosure``, which is recorded as a statement about the subject (a listed company).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lurewatch.errors import InputError
from lurewatch.model import Entity, Interest, Person
from lurewatch.owners.graph import GraphBuilder

MAX_RECORD_BYTES = 16 * 1024 * 1024


def iter_statements(path: Path, max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[dict[str, Any]]:
    """Statements of a BODS JSON array or JSON Lines file, one at a time."""
    with open(path, "rb") as f:
        first = _first_byte(f)
        if first == b"[":
            yield from _iter_array(f, path)
        elif first == b"{":
            yield from _iter_lines(f, path, max_record_bytes)
        elif first == b"":
            return
        else:
            raise InputError(str(path), "not BODS JSON: expected an array of statements or JSON Lines")


def _first_byte(f: BinaryIO) -> bytes:
    while True:
        b = f.read(1)
        if b not in (b" ", b"\n", b"\r", b"\t", b"\xef", b"\xbb", b"\xbf"):
            f.seek(f.tell() - len(b))
            return b


def _iter_array(f: BinaryIO, path: Path) -> Iterator[dict[str, Any]]:
    import ijson

    try:
        for item in ijson.items(f, "item", use_float=True):
            if not isinstance(item, dict):
                raise InputError(str(path), "a BODS statement must be a JSON object")
            yield item
    except ijson.JSONError as exc:
        raise InputError(str(path), f"invalid JSON: {str(exc)[:200]}") from None


def _iter_lines(f: BinaryIO, path: Path, max_record_bytes: int) -> Iterator[dict[str, Any]]:
    import orjson

    for number, line in enumerate(_bounded_lines(f, path, max_record_bytes), 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(str(path), f"line {number}: invalid JSON ({str(exc)[:120]})") from None
        if not isinstance(item, dict):
            raise InputError(str(path), f"line {number}: a BODS statement must be a JSON object")
        yield item


def _bounded_lines(f: BinaryIO, path: Path, limit: int) -> Iterator[bytes]:
    number = 0
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            raise InputError(str(path), f"line {number} is longer than {limit:,} bytes")
        yield line


def _share(share: dict[str, Any] | None) -> tuple[float | None, float | None]:
    if not isinstance(share, dict):
        return None, None

    def num(key: str) -> float | None:
        value = share.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
            return float(value)
        return None

    exact = num("exact")
    if exact is not None:
        return exact, exact
    # exclusive bounds are kept as closed ones: the interval stays a sound outer bound
    lo = num("minimum")
    lo = num("exclusiveMinimum") if lo is None else lo
    hi = num("maximum")
    hi = num("exclusiveMaximum") if hi is None else hi
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return lo, hi


def _name_of_person(details: dict[str, Any]) -> str:
    for name in details.get("names") or []:
        if isinstance(name, dict):
            full = name.get("fullName") or " ".join(
                str(name[k]) for k in ("givenName", "patronymicName", "familyName") if name.get(k)
            )
            if full:
                return str(full)
    return ""


def _identifiers(details: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    out = []
    for ident in details.get("identifiers") or []:
        if isinstance(ident, dict) and ident.get("id"):
            out.append((str(ident.get("scheme") or ident.get("schemeName") or ""), str(ident["id"])))
    return tuple(out)


def _jurisdiction(details: dict[str, Any]) -> str:
    j = details.get("jurisdiction") or details.get("incorporatedInJurisdiction")
    if isinstance(j, dict):
        return str(j.get("code") or j.get("name") or "")
    return ""


def load_bods(
    path: Path | str, builder: GraphBuilder, max_record_bytes: int = MAX_RECORD_BYTES
) -> dict[str, int]:
    """Read a BODS 0.4 file into ``builder``; returns counts of what was read and set aside."""
    path = Path(path)
    latest: dict[str, tuple[str, int, dict[str, Any]]] = {}
    stats = {
        "statements": 0,
        "entities": 0,
        "persons": 0,
        "relationships": 0,
        "closed": 0,
        "ended_interests": 0,
    }
    for position, st in enumerate(iter_statements(path, max_record_bytes)):
        stats["statements"] += 1
        record_id = st.get("recordId")
        record_type = st.get("recordType")
        if not isinstance(record_id, str) or record_type not in {"entity", "person", "relationship"}:
            raise InputError(
                str(path), f"statement {position + 1} is not a BODS 0.4 statement (no recordId/recordType)"
            )
        if not isinstance(st.get("recordDetails"), dict):
            raise InputError(str(path), f"statement {position + 1} has no recordDetails")
        date = str(st.get("statementDate") or "")
        key = f"{record_type}:{record_id}"
        previous = latest.get(key)
        if previous is None or (date, position) >= (previous[0], previous[1]):
            latest[key] = (date, position, st)
    for _, _, st in sorted(latest.values(), key=lambda t: t[1]):
        if st.get("recordStatus") == "closed":
            stats["closed"] += 1
            continue
        details = st["recordDetails"]
        record_id = st["recordId"]
        source = str(path)
        if st["recordType"] == "entity":
            stats["entities"] += 1
            etype = details.get("entityType") or {}
            listing = details.get("publicListing") or {}
            unspecified = details.get("unspecifiedEntityDetails") or {}
            builder.add_record(
                Entity(
                    id=record_id,
                    name=str(details.get("name") or ""),
                    entity_type=str(etype.get("type") or "registeredEntity"),
                    subtype=str(etype.get("subtype") or ""),
                    jurisdiction=_jurisdiction(details),
                    identifiers=_identifiers(details),
                    aliases=tuple(str(a) for a in details.get("alternateNames") or [] if isinstance(a, str)),
                    publicly_listed=bool(listing.get("hasPublicListing")),
                    statements=(str(unspecified["reason"]),) if unspecified.get("reason") else (),
                    source=source,
                )
            )
        elif st["recordType"] == "person":
            stats["persons"] += 1
            unspecified = details.get("unspecifiedPersonDetails") or {}
            nationalities = tuple(
                str(c.get("code") or c.get("name"))
                for c in details.get("nationalities") or []
                if isinstance(c, dict)
            )
            builder.add_record(
                Person(
                    id=record_id,
                    name=_name_of_person(details) or str(unspecified.get("description") or ""),
                    person_type=str(details.get("personType") or "knownPerson"),
                    nationalities=nationalities,
                    birth_date=str(details.get("birthDate") or ""),
                    jurisdiction=nationalities[0] if nationalities else "",
                    identifiers=_identifiers(details),
                    source=source,
                )
            )
        else:
            stats["relationships"] += 1
            _relationship(record_id, details, builder, stats, source)
    return stats


def _relationship(
    record_id: str, details: dict[str, Any], builder: GraphBuilder, stats: dict[str, int], source: str
) -> None:
    subject = details.get("subject")
    party = details.get("interestedParty")
    if isinstance(subject, dict) or not isinstance(subject, str):
        return  # an unspecified subject says nothing about whom to screen
    if isinstance(party, dict):
        reason = str(party.get("reason") or "unknown")
        description = str(party.get("description") or "")
        statement = f"{reason}: {description}" if description else reason
        builder.add_statement(subject, statement)
        if reason == "subjectExemptFromDisclosure":
            return
        party = f"unspecified:{record_id}"
        builder.add_record(
            Person(id=party, name=f"unspecified party ({reason})", person_type="unknownPerson", source=source)
        )
    if not isinstance(party, str):
        return
    components = [c for c in details.get("componentRecords") or [] if isinstance(c, str)]
    direct: list[Interest] = []
    declared: tuple[float, float] | None = None
    for item in details.get("interests") or []:
        if not isinstance(item, dict):
            continue
        if item.get("endDate"):
            stats["ended_interests"] += 1
            continue
        lo, hi = _share(item.get("share"))
        interest = Interest(
            subject_id=subject,
            party_id=party,
            interest_type=str(item.get("type") or ""),
            share_min=lo,
            share_max=hi,
            direct=item.get("directOrIndirect") != "indirect",
            start_date=str(item.get("startDate") or ""),
            details=str(item.get("details") or ""),
            source=source,
        )
        if not interest.direct and components:
            if interest.interest_type == "shareholding":
                a, b = interest.share
                declared = (a, b) if declared is None else (declared[0] + a, declared[1] + b)
            continue
        direct.append(interest)
    if declared is not None:
        # the declared figure covers the whole pair: add the relationship's direct shareholdings
        for it in direct:
            if it.interest_type == "shareholding":
                a, b = it.share
                declared = (declared[0] + a, declared[1] + b)
        builder.add_declared(
            subject, party, min(declared[0], 100) / 100, min(declared[1], 100) / 100, tuple(components)
        )
    if not direct and not components and not details.get("interests"):
        direct.append(
            Interest(subject_id=subject, party_id=party, interest_type="unknownInterest", source=source)
        )
    if direct:
        builder.add_interests(direct)


def validate_bods(path: Path | str, schema_dir: Path | str) -> list[str]:
    """Validation errors of a BODS file against the 0.4 JSON schema (``statement.json`` and the record
    schemas it refers to by ``urn:``). Needs the ``jsonschema`` package."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema_dir = Path(schema_dir)
    resources = []
    for file in sorted(schema_dir.glob("*.json")):
        contents = json.loads(file.read_text(encoding="utf-8"))
        if "$id" in contents:
            resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    schema = json.loads((schema_dir / "statement.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(
        schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    statements = list(iter_statements(Path(path)))
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:200]}"
        for e in validator.iter_errors(statements)
    ]
