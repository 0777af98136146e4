"""FollowTheMoney entities (JSON Lines, one entity per line, as OpenSanctions and Aleph export them).

Parsed with the ``followthemoney`` library, so every schema and property is checked against the model.
``Person`` becomes a :class:`~lurewatch.model.Person`; ``LegalEntity`` and its descendants
(``Company``, ``Organization``, ``PublicBody``) an :class:`~lurewatch.model.Entity` (``PublicBody`` is a
state body); ``Ownership`` (owner, asset, percentage) a shareholding; ``Directorship`` board control.
Topics (``gov.soe``, ``sanction``, ``mil``, ...) are kept: they mark state-owned and listed parties.
Relationships with an ``endDate`` in the past are history and left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from lurewatch.errors import InputError
from lurewatch.model import Entity, Interest, Person
from lurewatch.owners.bods import _bounded_lines
from lurewatch.owners.graph import GraphBuilder

#: FtM identifier properties -> org-id.guide style schemes used across lurewatch
IDENTIFIER_SCHEMES = {
    "leiCode": "XI-LEI",
    "uscCode": "CN-USCC",
    "innCode": "RU-INN",
    "ogrnCode": "RU-OGRN",
    "dunsCode": "DUNS",
    "cageCode": "CAGE",
    "isinCode": "ISIN",
    "swiftBic": "SWIFT",
    "taxNumber": "TAX",
    "vatCode": "VAT",
    "registrationNumber": "REG",
    "idNumber": "ID",
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def iter_entities(path: Path, max_record_bytes: int = 16 * 1024 * 1024) -> Iterator[Any]:
    """FtM entity proxies of a JSON Lines file, validated against the FtM model."""
    import orjson
    from followthemoney import model
    from followthemoney.exc import InvalidData

    with open(path, "rb") as f:
        for number, line in enumerate(_bounded_lines(f, path, max_record_bytes), 1):
            if not line.strip():
                continue
            try:
                data = orjson.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                yield model.get_proxy(data, cleaned=False)
            except (orjson.JSONDecodeError, ValueError, InvalidData, TypeError) as exc:
                raise InputError(
                    str(path), f"line {number}: not a FollowTheMoney entity ({str(exc)[:120]})"
                ) from None


def identifiers_of(proxy: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for prop, scheme in IDENTIFIER_SCHEMES.items():
        if prop in proxy.schema.properties:
            for value in proxy.get(prop, quiet=True):
                if scheme == "REG" and proxy.first("jurisdiction", quiet=True) == "gb":
                    out.append(("GB-COH", value))
                else:
                    out.append((scheme, value))
    return tuple(out)


def _percentage(text: str | None) -> float | None:
    if not text:
        return None
    m = _NUMBER.search(text)
    if not m:
        return None
    value = float(m[0].replace(",", "."))
    if "%" not in text and value <= 1.0 and "." in m[0]:
        value *= 100  # a fraction written as 0.51
    return value if 0 <= value <= 100 else None


def load_ftm(path: Path | str, builder: GraphBuilder, today: date | None = None) -> dict[str, int]:
    path = Path(path)
    today_text = (today or date.today()).isoformat()
    stats = {"entities": 0, "persons": 0, "ownerships": 0, "directorships": 0, "ended": 0, "other": 0}
    for proxy in iter_entities(path):
        schema = proxy.schema
        topics = tuple(proxy.get("topics", quiet=True))
        names = proxy.get("name", quiet=True)
        name = proxy.caption or (names[0] if names else "")
        aliases = tuple(proxy.get("alias", quiet=True)) + tuple(names[1:])
        jurisdiction = (proxy.get("jurisdiction", quiet=True) or proxy.get("country", quiet=True) or [""])[0]
        if schema.is_a("Person"):
            stats["persons"] += 1
            builder.add_record(
                Person(
                    id=proxy.id,
                    name=name,
                    nationalities=tuple(proxy.get("nationality", quiet=True)),
                    birth_date=(proxy.get("birthDate", quiet=True) or [""])[0],
                    jurisdiction=jurisdiction,
                    identifiers=identifiers_of(proxy),
                    aliases=aliases,
                    topics=topics,
                    source=str(path),
                )
            )
        elif schema.is_a("LegalEntity"):
            stats["entities"] += 1
            builder.add_record(
                Entity(
                    id=proxy.id,
                    name=name,
                    entity_type="stateBody" if schema.is_a("PublicBody") else "registeredEntity",
                    jurisdiction=jurisdiction,
                    identifiers=identifiers_of(proxy),
                    aliases=aliases,
                    topics=topics,
                    publicly_listed=bool(
                        proxy.get("ticker", quiet=True) or proxy.get("isinCode", quiet=True)
                    ),
                    source=str(path),
                )
            )
        elif schema.name in {"Ownership", "Directorship"}:
            end = (proxy.get("endDate", quiet=True) or [""])[0]
            if end and end <= today_text:
                stats["ended"] += 1
                continue
            start = (proxy.get("startDate", quiet=True) or [""])[0]
            if schema.name == "Ownership":
                party, subject = proxy.first("owner", quiet=True), proxy.first("asset", quiet=True)
                share = _percentage(proxy.first("percentage", quiet=True))
                kind = "shareholding"
                stats["ownerships"] += 1
            else:
                party, subject = proxy.first("director", quiet=True), proxy.first("organization", quiet=True)
                share, kind = None, "boardMember"
                stats["directorships"] += 1
            if party and subject:
                builder.add_interests(
                    [
                        Interest(
                            subject_id=subject,
                            party_id=party,
                            interest_type=kind,
                            share_min=share,
                            share_max=share,
                            start_date=start,
                            source=str(path),
                        )
                    ]
                )
        else:
            stats["other"] += 1
    return stats
