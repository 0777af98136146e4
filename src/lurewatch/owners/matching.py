"""Matching names and identifiers of an ownership structure to list entries, with a score and why.

Identifiers match exactly after normalisation (upper case, spaces and separators dropped): LEI (20
characters), Chinese Unified Social Credit Code (18), company numbers (UK numbers padded to eight);
an identifier match scores 1.0 whatever the names.

Names are compared by kind:

* **People** with :func:`lurewatch.campaigns.persona_keys.name_similarity` (Hanzi, pinyin,
  Wade-Giles and Cantonese romanisations, swapped order, honorifics, diacritics).
* **Entities** by an entity key: :func:`~lurewatch.campaigns.persona_keys.company_key` (legal forms in
  English, German, French, Dutch, Nordic, Iberian, Italian and Asian languages, ``&``/``and``,
  punctuation) after Hanzi are read as pinyin (pypinyin), other scripts transliterated to Latin
  (ICU through ``normality``, e.g. ``Газпром`` -> ``gazprom``) and romanised Chinese legal forms
  (``youxian gongsi``, ``gufen``, ``jituan``) and Russian ones (``OOO``, ``AO``, ``PAO``) dropped too.
  The same key read as a romanised Chinese name (syllables folded to pinyin, any order) catches
  Wade-Giles and Cantonese spellings and spacing (``Hua Wei`` / ``Huawei`` / ``华为``).
  Score: 1.0 for equal keys, 0.97 for equal keys without spaces, 0.95 for the same pinyin syllables,
  otherwise RapidFuzz ``token_sort_ratio``.

Candidates come from an index of key tokens (a list entry is scored only against names sharing a
token with it), so screening a structure against a list of tens of thousands of entries takes
milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from lurewatch.campaigns.persona_keys import company_key, name_key, name_similarity

_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_EXTRA_FORMS = frozenset(
    [
        "youxian",
        "gongsi",
        "youxiangongsi",
        "zeren",
        "gufen",
        "jituan",
        "konggu",
        "ooo",
        "oao",
        "zao",
        "pao",
        "ao",
        "zat",
        "tov",
        "pjsc",
        "ojsc",
        "cjsc",
        "jsc",
        "llc",
        "ltd",
        "limited",
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "spa",
        "srl",
        "bv",
        "nv",
        "kk",
        "pte",
        "pty",
    ]
)


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of a screening list."""

    list_name: str
    entry_id: str
    name: str
    kind: str = "entity"  # person | entity
    aliases: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()
    country: str = ""
    programs: str = ""
    #: what the list says the entry is for (state-owned, military end user, sanctioned ...)
    topics: tuple[str, ...] = ()


def normalise_identifier(value: str) -> str:
    v = re.sub(r"[\s\-./]", "", unicodedata.normalize("NFKC", value)).upper()
    if v.isdigit() and len(v) < 8:
        v = v.rjust(8, "0")
    return v


@lru_cache(maxsize=200_000)
def entity_key(name: str) -> str:
    """The comparison key of an entity name (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name or "")
    if _HANZI.search(text):
        from pypinyin import lazy_pinyin

        # legal suffixes (有限公司, 集团) go before the reading, each Hanzi run reads as one word
        text = " ".join("".join(lazy_pinyin(tok)) for tok in company_key(text).split())
    if any(ord(ch) > 0x24F for ch in text):
        from normality import ascii_text

        text = ascii_text(text) or text
    key = company_key(text)
    tokens = key.split()
    while len(tokens) > 1 and tokens[-1] in _EXTRA_FORMS:
        tokens.pop()
    # "youxian gongsi" split over two tokens, and legal forms before a bracketed place
    out = [t for t in tokens if t not in {"youxian", "gongsi", "youxiangongsi"} or len(tokens) == 1]
    return " ".join(out)


@lru_cache(maxsize=200_000)
def _pinyin_key(key: str) -> str:
    k = name_key(key)
    return k if k and k != key else ""


def entity_similarity(a: str, b: str) -> tuple[float, str]:
    ka, kb = entity_key(a), entity_key(b)
    if not ka or not kb:
        return 0.0, "no name"
    if ka == kb:
        if a.strip().casefold() == b.strip().casefold():
            return 1.0, "same name"
        return 1.0, f"same name once legal forms, case, punctuation and script are ignored ({ka!r})"
    if ka.replace(" ", "") == kb.replace(" ", ""):
        return 0.97, f"same name spaced differently ({ka!r})"
    pa, pb = _pinyin_key(ka), _pinyin_key(kb)
    if pa and pa == pb:
        return 0.95, f"same Chinese name in another romanisation or order (pinyin {pa!r})"
    score = fuzz.token_sort_ratio(ka, kb) / 100
    return score, f"fuzzy {score:.2f} (rapidfuzz token_sort_ratio of {ka!r} and {kb!r})"


@dataclass(slots=True)
class ListIndex:
    entries: list[ListEntry] = field(default_factory=list)
    _by_identifier: dict[str, list[int]] = field(default_factory=dict)
    _by_token: dict[str, list[int]] = field(default_factory=dict)

    def add(self, entries: Iterable[ListEntry]) -> None:
        for entry in entries:
            i = len(self.entries)
            self.entries.append(entry)
            for _, value in entry.identifiers:
                v = normalise_identifier(value)
                if len(v) >= 5:
                    self._by_identifier.setdefault(v, []).append(i)
            for token in self._tokens(entry):
                self._by_token.setdefault(token, []).append(i)

    @staticmethod
    def _tokens(entry: ListEntry | None = None, names: Sequence[str] = (), kind: str = "entity") -> set[str]:
        out: set[str] = set()
        if entry is not None:
            names, kind = (entry.name, *entry.aliases), entry.kind
        for name in names:
            key = entity_key(name)
            out.update(t for t in key.split() if len(t) > 1)
            if key:
                out.add(key.replace(" ", ""))
            pk = _pinyin_key(key)
            out.update(pk.split())
            if kind == "person":
                out.update(name_key(name).split())
        return out

    def __len__(self) -> int:
        return len(self.entries)

    def match(
        self,
        names: Sequence[str],
        identifiers: Sequence[tuple[str, str]] = (),
        kind: str = "entity",
        threshold: float = 0.9,
    ) -> list[tuple[ListEntry, float, str]]:
        """Entries matching a party, best first: ``(entry, score, reason)``."""
        found: dict[int, tuple[float, str]] = {}
        for scheme, value in identifiers:
            v = normalise_identifier(value)
            for i in self._by_identifier.get(v, ()):
                found[i] = (1.0, f"same identifier {scheme or 'id'} {value}")
        candidates: set[int] = set()
        tokens = self._tokens(names=names, kind=kind)
        for t in tokens:
            hits = self._by_token.get(t, ())
            if len(hits) <= 5000:
                candidates.update(hits)
        for i in candidates:
            if i in found:
                continue
            entry = self.entries[i]
            best = (0.0, "")
            for name in names:
                if not name:
                    continue
                for other in (entry.name, *entry.aliases):
                    if kind == "person" and entry.kind == "person":
                        score, why = name_similarity(name, other)
                    elif kind != entry.kind and (kind == "person" or entry.kind == "person"):
                        continue
                    else:
                        score, why = entity_similarity(name, other)
                    if score > best[0]:
                        alias = "" if other == entry.name else f" (alias {other!r})"
                        best = (score, f"{why}{alias}")
            if best[0] >= threshold:
                found[i] = best
        return sorted(((self.entries[i], s, r) for i, (s, r) in found.items()), key=lambda t: -t[1])
