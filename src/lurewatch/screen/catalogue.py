"""The red-flag catalogue: a versioned TOML file of indicators, loaded, validated and compiled once.

The bundled catalogue (``lurewatch/data/indicators.toml``) implements the P/M/C indicators of the public
red-flag list plus project-defined scam (S), commercial (K), benign (B) and extra state-approach (X)
indicators. Users extend it with their own TOML file: an indicator with an existing id replaces the
bundled one, a new id is added, and ``enabled = false`` removes one. Anything malformed raises
:class:`~lurewatch.errors.CatalogueError` naming the file, the indicator and the problem.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lurewatch.errors import CatalogueError
from lurewatch.model import Category
from lurewatch.screen.matchers import (
    DEFAULT_NEGATION_CUES,
    Matcher,
    SpecError,
    build_matcher,
    compile_negation,
    trusted_patterns,
)

BUNDLED = "data/indicators.toml"
#: an extra catalogue larger than this is refused (it is hand-written rules, not data)
MAX_CATALOGUE_BYTES = 8 * 1024 * 1024

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
_TOP_KEYS = frozenset({"version", "description", "negation_cues", "indicator"})
_INDICATOR_KEYS = frozenset(
    {"id", "title", "description", "sources", "weight", "supports", "dampens", "matchers", "enabled"}
)
#: categories a benign cue damps when its entry does not say otherwise
DEFAULT_DAMPENS: tuple[Category, ...] = (Category.STATE_APPROACH, Category.MALWARE_LURE, Category.SCAM)


@dataclass(frozen=True, slots=True)
class Indicator:
    """One red flag (or, for ``supports = ["benign"]``, one legitimacy cue) with its compiled matchers.

    ``weight`` is the most the indicator can contribute; a matcher may carry a smaller weight of its
    own, and several matchers of one indicator firing together combine up to that cap.
    """

    id: str
    title: str
    description: str
    sources: tuple[str, ...]
    weight: float
    supports: tuple[Category, ...]
    matchers: tuple[Matcher, ...]
    dampens: tuple[Category, ...] = ()

    @property
    def is_benign_cue(self) -> bool:
        return self.supports == (Category.BENIGN,)


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: str
    indicators: tuple[Indicator, ...]
    _by_id: dict[str, Indicator] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update((ind.id, ind) for ind in self.indicators)

    def get(self, indicator_id: str) -> Indicator | None:
        return self._by_id.get(indicator_id)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(ind.id for ind in self.indicators)


_bundled: tuple[Catalogue, Any] | None = None


def load_catalogue(extra: Path | None = None) -> Catalogue:
    """The bundled catalogue, with ``extra`` (a TOML file) merged over it when given."""
    base, base_negation = _load_bundled()
    if extra is None:
        return base
    return merge(base, _read_extra(Path(extra)), str(extra), base_negation)


def _load_bundled() -> tuple[Catalogue, Any]:
    """The bundled catalogue and its negation cues, built once per process (it is immutable)."""
    global _bundled
    if _bundled is not None:
        return _bundled
    source = resources.files("lurewatch").joinpath(BUNDLED)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"bundled catalogue {BUNDLED} cannot be read: {exc}") from None
    doc = _parse(text, BUNDLED)
    if not isinstance(doc.get("version"), str):
        raise CatalogueError(f"{BUNDLED}: top-level `version` must be a string")
    # The bundled patterns are checked one by one by the test suite; skipping that here saves a
    # third of the start-up of `lurewatch check`.
    with trusted_patterns():
        _bundled = (_build(doc, BUNDLED, negation_cues=None), doc.get("negation_cues"))
    return _bundled


def parse_catalogue(text: str, source: str = "<catalogue>") -> Catalogue:
    """A catalogue built from TOML text alone (no bundled base); used for tests and tooling."""
    doc = _parse(text, source)
    if not isinstance(doc.get("version"), str):
        raise CatalogueError(f"{source}: top-level `version` must be a string")
    return _build(doc, source, negation_cues=None)


def merge(base: Catalogue, doc: Mapping[str, Any], source: str, base_negation: Any = None) -> Catalogue:
    """``base`` with the indicators of the parsed TOML ``doc`` merged over it (same id replaces)."""
    version = doc.get("version")
    if version is not None and not isinstance(version, str):
        raise CatalogueError(f"{source}: top-level `version` must be a string")
    overlay = _build(doc, source, negation_cues=doc.get("negation_cues", base_negation), allow_disabled=True)
    disabled = _disabled_ids(doc)
    replaced = {ind.id: ind for ind in overlay.indicators}
    merged: list[Indicator] = []
    for ind in base.indicators:
        if ind.id in disabled:
            continue
        merged.append(replaced.pop(ind.id, ind))
    merged.extend(ind for ind in overlay.indicators if ind.id in replaced)
    suffix = version if version else Path(source).stem or "local"
    return Catalogue(version=f"{base.version}+{suffix}", indicators=tuple(merged))


def _read_extra(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_CATALOGUE_BYTES:
            raise CatalogueError(
                f"{path}: catalogue file is {size:,} bytes, more than {MAX_CATALOGUE_BYTES:,}"
            )
        text = path.read_text(encoding="utf-8")
    except CatalogueError:
        raise
    except FileNotFoundError:
        raise CatalogueError(f"{path}: catalogue file not found") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: catalogue file is not UTF-8 text") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: catalogue file cannot be read ({exc.strerror or exc})") from None
    return _parse(text, str(path))


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: not valid TOML ({exc})") from None
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise CatalogueError(f"{source}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    return doc


def _disabled_ids(doc: Mapping[str, Any]) -> set[str]:
    return {
        entry["id"]
        for entry in doc.get("indicator", [])
        if isinstance(entry, Mapping) and entry.get("enabled") is False and isinstance(entry.get("id"), str)
    }


def _build(
    doc: Mapping[str, Any], source: str, negation_cues: Any, *, allow_disabled: bool = False
) -> Catalogue:
    cues = doc.get("negation_cues", negation_cues)
    try:
        negation = compile_negation(list(DEFAULT_NEGATION_CUES) if cues is None else cues)
    except SpecError as exc:
        raise CatalogueError(f"{source}: negation_cues: {exc}") from None
    entries = doc.get("indicator", [])
    if not isinstance(entries, list):
        raise CatalogueError(f"{source}: `indicator` must be an array of tables ([[indicator]])")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for pos, entry in enumerate(entries):
        where = f"{source}: indicator #{pos + 1}"
        if not isinstance(entry, Mapping):
            raise CatalogueError(f"{where}: must be a table")
        ind_id = entry.get("id")
        if not isinstance(ind_id, str) or not _ID.match(ind_id):
            raise CatalogueError(f"{where}: `id` must be a short identifier such as M3 or S1, got {ind_id!r}")
        where = f"{source}: indicator {ind_id}"
        if ind_id in seen:
            raise CatalogueError(f"{where}: duplicate id")
        seen.add(ind_id)
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise CatalogueError(f"{where}: `enabled` must be true or false")
        if not enabled:
            if not allow_disabled:
                raise CatalogueError(f"{where}: `enabled = false` is only meaningful in an extra catalogue")
            continue
        try:
            indicators.append(_indicator(entry, negation))
        except SpecError as exc:
            raise CatalogueError(f"{where}: {exc}") from None
    return Catalogue(version=str(doc.get("version", "")), indicators=tuple(indicators))


def _indicator(entry: Mapping[str, Any], negation: re.Pattern[str]) -> Indicator:
    unknown = set(entry) - _INDICATOR_KEYS
    if unknown:
        raise SpecError(f"unknown key(s): {', '.join(sorted(unknown))}")
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip():
        raise SpecError("`title` must be a non-empty string")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise SpecError("`description` must be a string")
    sources = entry.get("sources")
    if (
        not isinstance(sources, list)
        or not sources
        or not all(isinstance(s, str) and s.strip() for s in sources)
    ):
        raise SpecError("`sources` must be a non-empty list of citations (strings)")
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise SpecError(f"`weight` must be a number from 0 to 1, got {weight!r}")
    supports = _categories(entry.get("supports"), "supports")
    if not supports:
        raise SpecError("`supports` must list at least one category")
    benign = Category.BENIGN in supports
    if benign and len(supports) > 1:
        raise SpecError("a benign cue must support only `benign` (it damps the other categories instead)")
    dampens_raw = entry.get("dampens")
    if dampens_raw is not None and not benign:
        raise SpecError("only benign cues (supports = ['benign']) may have `dampens`")
    dampens = (
        _categories(dampens_raw, "dampens")
        if dampens_raw is not None
        else (DEFAULT_DAMPENS if benign else ())
    )
    if Category.BENIGN in dampens:
        raise SpecError("`dampens` cannot include benign")
    raw_matchers = entry.get("matchers")
    if not isinstance(raw_matchers, list) or not raw_matchers:
        raise SpecError("`matchers` must be a non-empty array of tables ([[indicator.matchers]])")
    matchers = []
    for i, spec in enumerate(raw_matchers):
        try:
            matcher = build_matcher(spec, negation)
        except SpecError as exc:
            raise SpecError(f"matchers[{i}]: {exc}") from None
        if matcher.weight is not None and matcher.weight > weight:
            raise SpecError(f"matchers[{i}]: weight {matcher.weight} exceeds the indicator weight {weight}")
        matchers.append(matcher)
    return Indicator(
        id=entry["id"],
        title=title.strip(),
        description=" ".join(description.split()),
        sources=tuple(s.strip() for s in sources),
        weight=float(weight),
        supports=supports,
        matchers=tuple(matchers),
        dampens=dampens,
    )


def _categories(raw: Any, key: str) -> tuple[Category, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise SpecError(f"`{key}` must be a list of category names")
    out: list[Category] = []
    for name in raw:
        try:
            cat = Category(name)
        except ValueError:
            valid = ", ".join(c.value for c in Category)
            raise SpecError(f"`{key}` has unknown category {name!r}; use {valid}") from None
        if cat not in out:
            out.append(cat)
    return tuple(out)
