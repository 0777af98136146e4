"""Matchers: the compiled form of the ``matchers`` tables of the indicator catalogue.

A matcher says *where* an indicator can be seen: a regular expression over message text (``text``), over
a later message of the thread (``sequence``), over a sender field (``field``), a sender value in a set or
past a threshold (``value``), an attachment or a file/repository/command in the text (``attachment``), or
the same wording reaching many recipients (``template``, evaluated across a batch by the engine).

Everything here is built once, when the catalogue loads; the engine calls the compiled objects on every
approach, so they keep their per-call work small. Bad specs raise :class:`SpecError`, which the catalogue
loader turns into a :class:`~lurewatch.errors.CatalogueError` naming the file and the indicator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from lurewatch.model import Account, Evidence

#: longest regex source accepted in a catalogue, and most patterns per matcher (typo guards, not tuning)
MAX_PATTERN_CHARS = 4_000
MAX_PATTERNS = 400
#: characters of context kept either side of a match in Evidence.text, and the longest match kept
CONTEXT_CHARS = 40
MAX_MATCH_CHARS = 120
#: characters before a match searched for a negation cue ("do not share confidential ...", "must not
#: share confidential information ... or any material non-public information"), within its sentence
NEGATION_WINDOW = 100

FLAGS = re.IGNORECASE

# Used when a catalogue sets `negate = true` on a matcher and gives no `negation_cues` of its own.
DEFAULT_NEGATION_CUES: tuple[str, ...] = (
    r"\b(?:not|no|never|nothing|without|avoid|exclude|excluding|neither|nor|none)\b",
    r"\b(?:don'?t|doesn'?t|won'?t|can'?t|cannot|shouldn'?t|mustn'?t|isn'?t|aren'?t)\b",
    r"\b(?:nicht|kein(?:e[nmrs]?)?|niemals|ohne)\b",
    r"\b(?:ne|n'|pas|jamais|sans|aucun(?:e)?)\b",
)


class SpecError(ValueError):
    """A matcher table that cannot be compiled; the message says what is wrong."""


class Scope(StrEnum):
    FIRST = "first"  # the first inbound message
    INBOUND = "inbound"  # any inbound message
    LATER = "later"  # inbound messages after the first
    SUBJECT = "subject"  # subject lines of inbound messages


TEXT_FIELDS = ("name", "headline", "company", "location", "email", "email_domain", "profile_url")
VALUE_FIELDS = ("photo", "connections", "account_age_days", *TEXT_FIELDS)
NUMERIC_FIELDS = frozenset({"connections", "account_age_days"})


def sender_field(account: Account, name: str) -> Any:
    """The value of a sender field by catalogue name (``email_domain`` is derived from ``email``)."""
    if name == "email_domain":
        email = account.email or ""
        return email.rpartition("@")[2].lower() if "@" in email else None
    return getattr(account, name)


_TYPOGRAPHIC = ("\u2019", "\u2018", "\u02bc")


def fold(text: str) -> str:
    """Lower-case ``text`` and make typographic apostrophes plain ("don’t", "d’analyse"), as patterns expect.

    Apostrophes are replaced one for one, so positions in the result line up with ``text`` whenever
    lower-casing did not change its length.
    """
    lowered = text.lower()
    # str.replace is several times faster than str.translate with a mapping, and most text has none
    for typographic in _TYPOGRAPHIC:
        if typographic in lowered:
            lowered = lowered.replace(typographic, "'")
    return lowered


# --------------------------------------------------------------------------------------------------
# Evidence


#: the fields of an :class:`~lurewatch.model.Evidence` as a plain tuple: (field, text, start, end,
#: message_index). The engine carries evidence in this form until it builds the Assessment, so that
#: worker processes can hand results back cheaply.
EvidenceTuple = tuple[str, str, int, int, int | None]


def evidence_span(field: str, text: str, start: int, end: int, message_index: int | None) -> EvidenceTuple:
    """The span ``text[start:end]`` plus a little context, whitespace collapsed, ~200 chars, as a tuple."""
    match_end = min(end, start + MAX_MATCH_CHARS)
    lo = max(0, start - CONTEXT_CHARS)
    hi = min(len(text), match_end + CONTEXT_CHARS)
    snippet = " ".join(text[lo:hi].split())
    if lo > 0:
        snippet = "…" + snippet
    if hi < len(text):
        snippet += "…"
    return (field, snippet, start, end, message_index)


def make_evidence(field: str, text: str, start: int, end: int, message_index: int | None) -> Evidence:
    """Evidence for ``text[start:end]``: the span plus a little context, whitespace collapsed, ~200 chars."""
    return Evidence(*evidence_span(field, text, start, end, message_index))


# --------------------------------------------------------------------------------------------------
# Required literals of a regex, for the engine's one-pass keyword prefilter


@dataclass(frozen=True, slots=True)
class Anchor:
    """A lower-case literal every match contains; ``bounded`` when it always starts at a word boundary."""

    text: str
    bounded: bool


_PREFIX_LIMIT = 64
_COMMON_WORDS = frozenset(
    (  # noqa: SIM905 - one line of words reads better than fifty lines of one word
        "a an and are as at be by can could do for from have i if in is it me my not of on or our please "
        "the their they this to us we will with would you your"
    ).split()
)
_MIN_ANCHOR = 2
_MIN_UNBOUNDED_ANCHOR = 3

try:  # the parser is private API; without it every pattern simply runs on every message
    from re import _constants as _sre_c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - CPython 3.11+ has both
    _sre_parse = None  # type: ignore[assignment]
    _sre_c = None  # type: ignore[assignment]

_REPEATS = (
    ()
    if _sre_c is None
    else tuple(
        {_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, getattr(_sre_c, "POSSESSIVE_REPEAT", _sre_c.MAX_REPEAT)}
    )
)


def anchors_of(pattern: str) -> tuple[frozenset[Anchor], bool] | None:
    """Literals one of which every match of ``pattern`` must contain, and whether a match starts with it.

    Derived from the parsed regex: from each top-level position, literals, small character classes,
    alternations, optional parts and groups are followed until something open-ended (``\\w+``, ``.``).
    Every such set is a necessary condition, so the prefilter never hides a match. Word-start literals
    at the start of the pattern are preferred (the engine then tries the pattern only where they
    occur); otherwise the set whose shortest literal is longest is kept. None when nothing was found:
    the pattern then runs on every message.
    """
    if _sre_parse is None:
        return None
    try:
        items = list(_sre_parse.parse(pattern, FLAGS))
        best: tuple[int, frozenset[Anchor], bool] | None = None
        for k in range(len(items)):
            after_space = k > 0 and _is_space(items[k - 1])
            heads, _ = _walk(items[k:], {("", after_space)})
            normalised = _normalise_heads(heads)
            if normalised is None:
                continue
            found, exact = normalised
            bounded = all(a.bounded for a in found)
            if k == 0 and bounded and exact:
                return found, True
            if any(a.text.strip() in _COMMON_WORDS for a in found):
                continue  # gated by "the" or "your", a pattern would be searched in nearly every message
            shortest = min(len(a.text) for a in found)
            score = shortest + (100 if bounded else 0)
            if best is None or score > best[0]:
                best = (score, found, False)
    except Exception:  # any surprise in private structures means "no prefilter", never a failure
        return None
    return None if best is None else (best[1], best[2])


def _normalise_heads(heads: set[tuple[str, bool]]) -> tuple[frozenset[Anchor], bool] | None:
    """The anchors, and whether each is exactly where its match begins (no leading space was cut)."""
    out: set[Anchor] = set()
    exact = True
    for text, bounded in heads:
        stripped = text.lstrip()
        if stripped != text:
            # a literal after whitespace starts a word when it begins with a word character
            bounded = bool(stripped) and (stripped[0].isalnum() or stripped[0] == "_")
            text = stripped
            exact = False
        if len(text) < (_MIN_ANCHOR if bounded else _MIN_UNBOUNDED_ANCHOR):
            return None
        out.add(Anchor(text, bounded))
    return (frozenset(out), exact) if out else None


def _is_space(item: Any) -> bool:
    c = _sre_c
    op, av = item
    if op is c.LITERAL:
        return chr(av).isspace()
    if op is c.IN:
        return all(
            (o is c.CATEGORY and a in (c.CATEGORY_SPACE, c.CATEGORY_UNI_SPACE))
            or (o is c.LITERAL and chr(a).isspace())
            for o, a in av
        )
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
        return all(_is_space(sub) for sub in av[2])
    return False


def _walk(items: list[Any], heads: set[tuple[str, bool]]) -> tuple[set[tuple[str, bool]], bool]:
    """Extend ``heads`` through ``items``; the flag says whether the whole sequence was consumed."""
    c = _sre_c
    for op, av in items:
        if op is c.AT:
            if av in (c.AT_BOUNDARY, c.AT_UNI_BOUNDARY, c.AT_LOC_BOUNDARY):
                heads = {(text, bounded or text == "") for text, bounded in heads}
            continue
        if op in (c.ASSERT, c.ASSERT_NOT):
            continue  # zero-width: consumes nothing
        if op is c.LITERAL:
            ch = chr(av).lower()
            heads = {(text + ch, bounded) for text, bounded in heads}
            continue
        if op is c.IN:
            chars = _class_chars(av)
            if chars is None or len(heads) * len(chars) > _PREFIX_LIMIT:
                return heads, False
            heads = {(text + ch, bounded) for text, bounded in heads for ch in chars}
            continue
        if op is c.SUBPATTERN:
            heads, complete = _walk(list(av[-1]), heads)
            if not complete:
                return heads, False
            continue
        if op is c.ATOMIC_GROUP:
            heads, complete = _walk(list(av), heads)
            if not complete:
                return heads, False
            continue
        if op is c.BRANCH:
            merged: set[tuple[str, bool]] = set()
            complete_all = True
            for alternative in av[1]:
                sub, complete = _walk(list(alternative), heads)
                merged |= sub
                complete_all = complete_all and complete
                if len(merged) > _PREFIX_LIMIT:
                    return heads, False
            heads = merged
            if not complete_all:
                return heads, False
            continue
        if op in _REPEATS:
            lo, hi, sub = av
            if lo == 0 and hi == 1:
                # optional part: every continuation either includes it or skips it
                extended, complete = _walk(list(sub), heads)
                if not complete or len(extended) + len(heads) > _PREFIX_LIMIT:
                    return heads, False
                heads = heads | extended
                continue
            if lo == 0:
                return heads, False
            extended, complete = _walk(list(sub), heads)
            if lo == hi == 1 and complete:
                heads = extended
                continue
            return extended, False
        return heads, False
    return heads, True


def _class_chars(items: list[Any]) -> list[str] | None:
    c = _sre_c
    chars: set[str] = set()
    for op, av in items:
        if op is c.LITERAL:
            chars.add(chr(av).lower())
        elif op is c.RANGE and av[1] - av[0] <= 4:
            chars.update(chr(code).lower() for code in range(av[0], av[1] + 1))
        else:
            return None
        if len(chars) > 6:
            return None
    return sorted(chars)


# --------------------------------------------------------------------------------------------------
# Compiled matchers


@dataclass(frozen=True, slots=True)
class TextProbe:
    """The patterns of one matcher, split by how the engine can gate them.

    ``starts`` are the patterns whose every match begins with one of their word-start literals
    (``start_anchors[i]`` for ``starts[i]``): the engine tries each only at the positions where one of
    its literals occurs. ``rests`` are the other patterns; ``rests[j]`` is searched when one of
    ``rest_anchors[j]`` occurs, or always when that is None. ``regex`` is all patterns together,
    case-insensitive, for plain searching.

    When ``on_lower`` is true, ``starts`` and ``rests`` are compiled from lower-cased pattern
    sources without IGNORECASE and must be run on the lower-cased text: the same matches, two to three
    times faster, because case-insensitive alternatives defeat the regex engine's literal fast paths.
    """

    regex: re.Pattern[str]
    starts: tuple[re.Pattern[str], ...]
    start_anchors: tuple[frozenset[str], ...]
    rests: tuple[re.Pattern[str], ...]
    rest_anchors: tuple[frozenset[str] | None, ...]
    negation: re.Pattern[str] | None
    on_lower: bool = False
    #: all patterns, lower-cased and case-sensitive (None when ``on_lower`` is false)
    lower_regex: re.Pattern[str] | None = None

    def search(self, text: str, start: int = 0, lowered: str | None = None) -> re.Match[str] | None:
        """First match at or after ``start`` that no negation cue precedes in its sentence.

        ``lowered`` is ``fold(text)`` when the caller already has it.
        """
        if self.lower_regex is not None:
            if lowered is None:
                lowered = fold(text)
            if len(lowered) == len(text):
                return self._search(self.lower_regex, lowered, start)
        return self._search(self.regex, text, start)

    def search_rest(self, text: str, which: Iterable[int]) -> re.Match[str] | None:
        """The earliest match of the ``rests`` patterns numbered ``which``."""
        best: re.Match[str] | None = None
        for j in set(which):
            m = self._search(self.rests[j], text, 0)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best

    def match_at(self, text: str, tries: Iterable[tuple[int, int]]) -> re.Match[str] | None:
        """The earliest match of a start-anchored pattern among ``tries``: (position, pattern index) pairs."""
        starts = self.starts
        if not isinstance(tries, list) or len(tries) > 1:
            tries = sorted(set(tries))  # text order, each (position, pattern) once
        for pos, i in tries:
            m = starts[i].match(text, pos)
            if m is not None and not self._negated(text, m):
                return m
        return None

    def _search(self, regex: re.Pattern[str], text: str, start: int) -> re.Match[str] | None:
        pos = start
        while True:
            m = regex.search(text, pos)
            if m is None or not self._negated(text, m):
                return m
            pos = m.end() if m.end() > m.start() else m.start() + 1
            if pos > len(text):
                return None

    def _negated(self, text: str, m: re.Match[str]) -> bool:
        """A negation cue between the start of the match's sentence (at most NEGATION_WINDOW back) and it."""
        if self.negation is None:
            return False
        lo = max(0, m.start() - NEGATION_WINDOW)
        before = text[lo : m.start()]
        cut = max(before.rfind("."), before.rfind("!"), before.rfind("?"), before.rfind("\n"))
        if cut >= 0:
            before = before[cut + 1 :]
        return self.negation.search(before.lower()) is not None


@dataclass(frozen=True, slots=True)
class TextMatcher:
    kind = "text"
    scope: Scope
    probe: TextProbe
    weight: float | None


@dataclass(frozen=True, slots=True)
class SequenceMatcher:
    """Fires on an inbound message after the first one, optionally only once ``after`` matched earlier."""

    kind = "sequence"
    probe: TextProbe
    after: TextProbe | None
    weight: float | None


@dataclass(frozen=True, slots=True)
class AttachmentMatcher:
    """Fires on attachments (any, or names matching ``names``) or on file/repo/command text (``probe``)."""

    kind = "attachment"
    names: re.Pattern[str] | None
    any_attachment: bool
    probe: TextProbe | None
    weight: float | None


#: sender fields are short; anything longer is cut before matching
MAX_FIELD_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class FieldCondition:
    field: str
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class FieldMatcher:
    """A sender field matching ``probe`` or resembling a known firm.

    With ``recipient_sectors`` the matcher is about whom the sender approaches (P1: a persona type
    approaching someone in a sensitive field): it fires with its weight when the recipient works in one
    of those sectors or the recipient's sector is unknown (lurewatch is run for staff whose work makes
    them targets), and with ``otherwise_weight`` (None: not at all) when the recipient's sector is
    known to be another one. The engine applies that part; :meth:`match` reads the sender only.
    """

    kind = "field"
    fields: tuple[str, ...]
    probe: TextProbe | None
    lookalike: LookalikeIndex | None
    requires: tuple[FieldCondition, ...]
    weight: float | None
    recipient_sectors: frozenset[str] | None = None
    otherwise_weight: float | None = None

    def match(self, account: Account, folded: dict[str, str] | None = None) -> Evidence | None:
        """Evidence from the first of ``fields`` that matches.

        ``folded`` memoises ``fold`` of the (cut) field values by field name, so that several matchers
        over one account lower-case each field once.
        """
        for cond in self.requires:
            value = sender_field(account, cond.field)
            if not isinstance(value, str) or not cond.regex.search(value[:MAX_FIELD_CHARS]):
                return None
        for name in self.fields:
            value = sender_field(account, name)
            if not value or not isinstance(value, str):
                continue
            value = value[:MAX_FIELD_CHARS]
            if self.probe is not None:
                lowered = None
                if folded is not None:
                    lowered = folded.get(name)
                    if lowered is None:
                        lowered = folded[name] = fold(value)
                m = self.probe.search(value, 0, lowered)
                if m is not None:
                    return make_evidence(f"sender.{name}", value, m.start(), m.end(), None)
            if self.lookalike is not None:
                hit = self.lookalike.find(value)
                if hit is not None:
                    ev = make_evidence(f"sender.{name}", value, 0, len(value), None)
                    return Evidence(
                        field=ev.field,
                        text=f"{ev.text} (resembles {hit})",
                        start=ev.start,
                        end=ev.end,
                        message_index=None,
                    )
        return None


@dataclass(frozen=True, slots=True)
class ValueMatcher:
    kind = "value"
    field: str
    values: frozenset[str] | None
    lt: float | None
    gt: float | None
    weight: float | None

    def match(self, account: Account) -> Evidence | None:
        value = sender_field(account, self.field)
        if value is None:
            return None
        if self.values is not None and str(value).strip().lower() not in self.values:
            return None
        if self.lt is not None or self.gt is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            if self.lt is not None and not value < self.lt:
                return None
            if self.gt is not None and not value > self.gt:
                return None
        text = f"{self.field}: {value}"
        return Evidence(
            field=f"sender.{self.field}", text=text, start=0, end=len(str(value)), message_index=None
        )


@dataclass(frozen=True, slots=True)
class TemplateMatcher:
    """Same normalised first message to ``min_recipients`` or more recipients (see engine.TemplateTracker)."""

    kind = "template"
    min_recipients: int
    weight: float | None


Matcher = TextMatcher | SequenceMatcher | AttachmentMatcher | FieldMatcher | ValueMatcher | TemplateMatcher


# --------------------------------------------------------------------------------------------------
# Look-alike organisation names (typo-squats of well-known firms)

_CORP_WORDS = re.compile(
    r"\b(?:inc|ltd|llc|llp|plc|gmbh|ag|sa|sas|bv|co|corp|corporation|company|limited|group|holdings?|the)\b\.?"
)
_NON_WORD = re.compile(r"[^\w\s]+")


# Short names sit within one edit of ordinary words ("Boeing"/"Boring"), so they are not compared.
_MIN_LOOKALIKE = 8


def _norm_org(name: str) -> str:
    name = _NON_WORD.sub(" ", name.casefold())
    name = _CORP_WORDS.sub(" ", name)
    return " ".join(name.split())


class LookalikeIndex:
    """Finds organisation names within a small edit distance of (but not equal to) a known firm's name."""

    __slots__ = ("_by_first", "_cache", "max_distance", "references")

    def __init__(self, references: Iterable[str], max_distance: int) -> None:
        self.max_distance = max_distance
        self.references: dict[str, str] = {}
        for ref in references:
            norm = _norm_org(ref)
            if len(norm) < _MIN_LOOKALIKE:
                raise SpecError(
                    f"look-alike reference {ref!r} is too short to compare safely "
                    f"(under {_MIN_LOOKALIKE} letters)"
                )
            self.references[norm] = ref
        self._by_first: dict[str, list[tuple[str, int]]] = {}
        for norm in self.references:
            self._by_first.setdefault(norm[0], []).append((norm, len(norm.split())))
        self._cache = lru_cache(maxsize=8192)(self._find)

    # Pickled to reach worker processes (lurewatch.screen.parallel): the cache is rebuilt, not sent.
    def __getstate__(self) -> tuple[int, dict[str, str], dict[str, list[tuple[str, int]]]]:
        return (self.max_distance, self.references, self._by_first)

    def __setstate__(self, state: tuple[int, dict[str, str], dict[str, list[tuple[str, int]]]]) -> None:
        self.max_distance, self.references, self._by_first = state
        self._cache = lru_cache(maxsize=8192)(self._find)

    def find(self, value: str) -> str | None:
        """The firm ``value`` imitates, or None. Equal names are the real firm, not a look-alike."""
        return self._cache(value[:200])

    def _find(self, value: str) -> str | None:
        norm = _norm_org(value)
        if not norm:
            return None
        words = norm.split()
        for ref, n_words in self._by_first.get(norm[0], ()):
            head = " ".join(words[:n_words])
            if head == ref:
                return None
            limit = 1 if len(ref) < 12 else self.max_distance
            if abs(len(head) - len(ref)) <= limit and _within(head, ref, limit):
                return self.references[ref]
            if n_words > 1 and _extends_brand(words[:n_words], ref.split()):
                return self.references[ref]
        return None


#: a brand word lengthened by at most this many letters still reads as the brand ("Collinsford")
_MAX_BRAND_SUFFIX = 5
_MIN_BRAND_WORD = 6


def _extends_brand(words: list[str], ref_words: list[str]) -> bool:
    """The firm's distinctive first word with letters added, the rest of its name kept word for word.

    "Collinsford Aerospace" imitates "Collins Aerospace" without being within a couple of edits of it.
    Only the first word may change, and only by growing at its end, so real firms that share a brand
    word but not the rest of the name ("Collins Pharmaceuticals") are not caught.
    """
    if len(words) != len(ref_words) or words[1:] != ref_words[1:]:
        return False
    first, brand = words[0], ref_words[0]
    return (
        len(brand) >= _MIN_BRAND_WORD
        and first != brand
        and first.startswith(brand)
        and len(first) - len(brand) <= _MAX_BRAND_SUFFIX
    )


def _within(a: str, b: str, k: int) -> bool:
    """Levenshtein distance of ``a`` and ``b`` is at most ``k`` (banded, early exit)."""
    if a == b:
        return True
    n, m = len(a), len(b)
    if abs(n - m) > k:
        return False
    inf = k + 1
    prev = [j if j <= k else inf for j in range(m + 1)]
    for i in range(1, n + 1):
        lo = max(1, i - k)
        hi = min(m, i + k)
        cur = [inf] * (m + 1)
        cur[0] = i if i <= k else inf
        best = cur[0]
        ai = a[i - 1]
        for j in range(lo, hi + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j - 1] + cost, prev[j] + 1, cur[j - 1] + 1)
            cur[j] = v if v <= k else inf
            if cur[j] < best:
                best = cur[j]
        if best > k:
            return False
        prev = cur
    return prev[m] <= k


# --------------------------------------------------------------------------------------------------
# Building matchers from catalogue tables

_KEYS: dict[str, frozenset[str]] = {
    "text": frozenset({"kind", "scope", "patterns", "weight", "negate"}),
    "sequence": frozenset({"kind", "patterns", "after", "weight", "negate"}),
    "attachment": frozenset({"kind", "names", "patterns", "any", "weight", "negate"}),
    "field": frozenset(
        {
            "kind",
            "fields",
            "patterns",
            "lookalike_of",
            "max_distance",
            "requires",
            "weight",
            "recipient_sectors",
            "otherwise_weight",
        }
    ),
    "value": frozenset({"kind", "field", "in", "lt", "gt", "weight"}),
    "template": frozenset({"kind", "min_recipients", "weight"}),
}


def compile_negation(cues: Sequence[str]) -> re.Pattern[str]:
    """The negation cues as one regex, applied to lower-cased context (case-sensitive when it can be)."""
    patterns = _string_list(cues, "negation_cues")
    _compile(patterns, "negation_cues")  # validates and reports errors against the patterns as written
    lowered = [lower_pattern(p) for p in patterns]
    if all(p is not None for p in lowered):
        return _compile([p for p in lowered if p is not None], "negation_cues", 0)
    return _compile(patterns, "negation_cues")


def build_matcher(spec: Mapping[str, Any], negation: re.Pattern[str]) -> Matcher:
    """Compile one ``[[indicator.matchers]]`` table; raise :class:`SpecError` on anything malformed."""
    if not isinstance(spec, Mapping):
        raise SpecError("each matcher must be a table")
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise SpecError(f"matcher kind must be one of {', '.join(sorted(_KEYS))}, got {kind!r}")
    unknown = set(spec) - _KEYS[kind]
    if unknown:
        raise SpecError(f"{kind} matcher has unknown key(s): {', '.join(sorted(unknown))}")
    weight = _weight(spec.get("weight"))
    neg = negation if _bool(spec.get("negate", False), "negate") else None
    if kind == "text":
        scope_raw = spec.get("scope", "inbound")
        try:
            scope = Scope(scope_raw)
        except ValueError:
            raise SpecError(
                f"text matcher scope must be one of {', '.join(s.value for s in Scope)}, got {scope_raw!r}"
            ) from None
        return TextMatcher(scope=scope, probe=_probe(spec.get("patterns"), "patterns", neg), weight=weight)
    if kind == "sequence":
        after = spec.get("after")
        return SequenceMatcher(
            probe=_probe(spec.get("patterns"), "patterns", neg),
            after=None if after is None else _probe(after, "after", None),
            weight=weight,
        )
    if kind == "attachment":
        names = spec.get("names")
        patterns = spec.get("patterns")
        any_attachment = _bool(spec.get("any", names is None and patterns is None), "any")
        if names is None and patterns is None and not any_attachment:
            raise SpecError("attachment matcher needs `names`, `patterns` or `any = true`")
        return AttachmentMatcher(
            names=None if names is None else _compile(_string_list(names, "names"), "names"),
            any_attachment=any_attachment,
            probe=None if patterns is None else _probe(patterns, "patterns", neg),
            weight=weight,
        )
    if kind == "field":
        fields = _string_list(spec.get("fields"), "fields")
        for name in fields:
            if name not in TEXT_FIELDS:
                raise SpecError(f"unknown sender field {name!r}; use one of {', '.join(TEXT_FIELDS)}")
        patterns = spec.get("patterns")
        refs = spec.get("lookalike_of")
        if patterns is None and refs is None:
            raise SpecError("field matcher needs `patterns` or `lookalike_of`")
        distance = spec.get("max_distance", 2)
        if isinstance(distance, bool) or not isinstance(distance, int) or not 1 <= distance <= 3:
            raise SpecError(f"max_distance must be an integer from 1 to 3, got {distance!r}")
        sectors = spec.get("recipient_sectors")
        otherwise = _weight(spec.get("otherwise_weight"))
        if otherwise is not None and sectors is None:
            raise SpecError("`otherwise_weight` needs `recipient_sectors`")
        return FieldMatcher(
            fields=tuple(fields),
            probe=None if patterns is None else _probe(patterns, "patterns", None),
            lookalike=None if refs is None else LookalikeIndex(_string_list(refs, "lookalike_of"), distance),
            requires=_conditions(spec.get("requires", [])),
            weight=weight,
            recipient_sectors=None
            if sectors is None
            else frozenset(v.strip().casefold() for v in _string_list(sectors, "recipient_sectors")),
            otherwise_weight=otherwise,
        )
    if kind == "value":
        field = spec.get("field")
        if field not in VALUE_FIELDS:
            raise SpecError(f"value matcher field must be one of {', '.join(VALUE_FIELDS)}, got {field!r}")
        values = spec.get("in")
        lt, gt = _number(spec.get("lt"), "lt"), _number(spec.get("gt"), "gt")
        if values is None and lt is None and gt is None:
            raise SpecError("value matcher needs `in`, `lt` or `gt`")
        if (lt is not None or gt is not None) and field not in NUMERIC_FIELDS:
            raise SpecError(
                f"`lt`/`gt` need a numeric field ({', '.join(sorted(NUMERIC_FIELDS))}), got {field!r}"
            )
        return ValueMatcher(
            field=field,
            values=None
            if values is None
            else frozenset(v.strip().lower() for v in _string_list(values, "in")),
            lt=lt,
            gt=gt,
            weight=weight,
        )
    minimum = spec.get("min_recipients", 3)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or not 2 <= minimum <= 1_000_000:
        raise SpecError(f"min_recipients must be an integer of at least 2, got {minimum!r}")
    return TemplateMatcher(min_recipients=minimum, weight=weight)


def _probe(raw: Any, key: str, negation: re.Pattern[str] | None) -> TextProbe:
    patterns = _string_list(raw, key)
    regex = _compile(patterns, key)
    lowered = [lower_pattern(p) for p in patterns]
    on_lower = all(p is not None for p in lowered)
    usable = [lp if on_lower and lp is not None else p for p, lp in zip(patterns, lowered, strict=True)]
    flags = 0 if on_lower else FLAGS
    starts: list[re.Pattern[str]] = []
    start_anchors: list[frozenset[str]] = []
    rests: list[re.Pattern[str]] = []
    rest_anchors: list[frozenset[str] | None] = []
    for pattern, source in zip(patterns, usable, strict=True):
        found = anchors_of(pattern)
        if found is not None and found[1]:
            starts.append(re.compile(source, flags))
            start_anchors.append(frozenset(a.text for a in found[0]))
            continue
        rests.append(re.compile(source, flags))
        bounded = found is not None and all(a.bounded for a in found[0])
        rest_anchors.append(frozenset(a.text for a in found[0]) if found is not None and bounded else None)
    return TextProbe(
        regex=regex,
        starts=tuple(starts),
        start_anchors=tuple(start_anchors),
        rests=tuple(rests),
        rest_anchors=tuple(rest_anchors),
        negation=negation,
        on_lower=on_lower,
        lower_regex=_compile(usable, key, 0) if on_lower else None,
    )


_UNSAFE_ESCAPES = frozenset("uUxN0123456789")


def lower_pattern(pattern: str) -> str | None:
    """``pattern`` with its literal characters lower-cased, for case-sensitive use on lower-cased text.

    Escapes (``\\W``, ``\\b``, ``\\S``, ...) are kept as written. None when lower-casing could change
    the meaning: character-code escapes (``\\u00C4``), inline flags (``(?-i:...)``), class ranges
    other than plain letter ranges (``[A-z]`` also holds ``_`` and ``^``), or a result that no longer
    compiles.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n or pattern[i + 1] in _UNSAFE_ESCAPES:
                return None
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]" and i > class_start:
                in_class = False
            elif ch == "-" and i > class_start and i + 1 < n and pattern[i + 1] != "]":
                low, high = pattern[i - 1], pattern[i + 1]
                changes = low.lower() != low or high.lower() != high
                if changes and not (low.isascii() and high.isascii() and low.isupper() and high.isupper()):
                    return None
        elif ch == "[":
            in_class = True
            class_start = i + 1
            if pattern.startswith("^", class_start):
                class_start += 1
        elif (
            ch == "("
            and pattern.startswith("(?", i)
            and i + 2 < n
            and (pattern[i + 2].isalpha() or pattern[i + 2] == "-")
        ):
            return None  # inline flags such as (?i) or (?-i:...) change how case is matched
        out.append(ch.lower())
        i += 1
    result = "".join(out)
    try:
        re.compile(result)
    except re.error:
        return None
    return result


_TRUSTED: ContextVar[bool] = ContextVar("lurewatch_trusted_patterns", default=False)


@contextmanager
def trusted_patterns() -> Iterator[None]:
    """Within this block, patterns are not validated one by one (for the bundled, tested catalogue)."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def _compile(patterns: Sequence[str], key: str, flags: int = FLAGS) -> re.Pattern[str]:
    """All ``patterns`` as one regex, case-insensitive by default (validated one by one for clear errors)."""
    bounded = True
    if _TRUSTED.get():
        bounded = all(_starts_with_boundary(p) for p in patterns)
        patterns_to_check: Sequence[str] = ()
    else:
        patterns_to_check = patterns
    for i, pattern in enumerate(patterns_to_check):
        if _BACKREF.search(pattern):
            raise SpecError(
                f"{key}[{i}] uses a back-reference, which cannot be combined with other patterns: {pattern!r}"
            )
        try:
            compiled = re.compile(pattern, flags)
        except re.error as exc:
            raise SpecError(f"{key}[{i}] is not a valid regular expression ({exc}): {pattern!r}") from None
        if compiled.groups and compiled.groupindex:
            raise SpecError(f"{key}[{i}] uses a named group; use (?:...) instead: {pattern!r}")
        if compiled.match(""):
            raise SpecError(
                f"{key}[{i}] matches the empty string, so it would fire on everything: {pattern!r}"
            )
        bounded = bounded and _starts_with_boundary(pattern)
    if bounded and len(patterns) > 1:
        # Factoring the shared leading \b out lets the regex engine reject every position inside a
        # word with one test instead of one per alternative.
        joined = r"\b(?:" + "|".join(f"(?:{p[2:]})" for p in patterns) + ")"
    else:
        joined = "|".join(f"(?:{p})" for p in patterns)
    try:
        return re.compile(joined, flags)
    except re.error as exc:
        raise SpecError(f"{key} cannot be combined into one expression ({exc})") from None


def _starts_with_boundary(pattern: str) -> bool:
    """The pattern is ``\\b`` then a sequence (no top-level alternation), so the ``\\b`` can be shared."""
    if not pattern.startswith(r"\b") or _sre_parse is None:
        return False
    try:
        items = list(_sre_parse.parse(pattern, FLAGS))
    except Exception:
        return False
    return bool(items) and items[0] == (_sre_c.AT, _sre_c.AT_BOUNDARY)


_BACKREF = re.compile(r"\\[1-9]|\(\?P=")


def _string_list(raw: Any, key: str) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"`{key}` must be a non-empty list of strings")
    if len(raw) > MAX_PATTERNS:
        raise SpecError(f"`{key}` has {len(raw)} entries, more than {MAX_PATTERNS}")
    for item in raw:
        if not isinstance(item, str) or not item:
            raise SpecError(f"`{key}` must hold non-empty strings, found {item!r}")
        if len(item) > MAX_PATTERN_CHARS:
            raise SpecError(f"an entry of `{key}` is {len(item)} characters, more than {MAX_PATTERN_CHARS}")
    return list(raw)


def _conditions(raw: Any) -> tuple[FieldCondition, ...]:
    if not isinstance(raw, list):
        raise SpecError("`requires` must be a list of {field, patterns} tables")
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or set(item) - {"field", "patterns"}:
            raise SpecError("each `requires` entry must be a table with `field` and `patterns`")
        field = item.get("field")
        if field not in TEXT_FIELDS:
            raise SpecError(f"unknown sender field {field!r} in `requires`")
        patterns = _string_list(item.get("patterns"), "patterns")
        out.append(FieldCondition(field=field, regex=_compile(patterns, "requires")))
    return tuple(out)


def _weight(raw: Any) -> float | None:
    if raw is None:
        return None
    value = _number(raw, "weight")
    if value is None or not 0.0 <= value <= 1.0:
        raise SpecError(f"weight must be a number from 0 to 1, got {raw!r}")
    return value


def _number(raw: Any, key: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise SpecError(f"`{key}` must be a number, got {raw!r}")
    return float(raw)


def _bool(raw: Any, key: str) -> bool:
    if not isinstance(raw, bool):
        raise SpecError(f"`{key}` must be true or false, got {raw!r}")
    return raw
