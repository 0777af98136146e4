"""The rule engine: runs the indicator catalogue over an Approach and turns what fired into an Assessment.

Speed comes from doing the expensive part once per message: every pattern registers the literals it
must contain (see :func:`~lurewatch.screen.matchers.anchors_of`); one compiled trie of all of them is
run over the lower-cased message, and a pattern is then tried only where its literal occurs (or, when
its literal is not at its start, searched only in messages that contain it). Patterns without any
literal run on every message; they should start with a rare character, which the regex engine scans
for quickly.

Scoring is isolated behind :class:`Scorer` so that a statistical model can replace
:class:`NoisyOrScorer` without touching the matching.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol

from lurewatch.model import Account, Approach, Assessment, Category, Channel, Evidence, Signal
from lurewatch.screen.advice import advice_for
from lurewatch.screen.catalogue import Catalogue, Indicator, load_catalogue
from lurewatch.screen.language import detect_language_of
from lurewatch.screen.matchers import (
    AttachmentMatcher,
    EvidenceTuple,
    FieldMatcher,
    Scope,
    SequenceMatcher,
    TemplateMatcher,
    TextMatcher,
    TextProbe,
    ValueMatcher,
    evidence_span,
    fold,
)
from lurewatch.screen.persona import classify_persona
from lurewatch.settings import Settings

if TYPE_CHECKING:
    from lurewatch.screen.textmodel import TextModel

#: evidence items kept per signal (the earliest ones)
MAX_EVIDENCE = 3
#: approaches the text model scores at once
MODEL_BATCH = 256
#: approaches buffered by assess_many before they are scored (the template tracker's window)
DEFAULT_TEMPLATE_WINDOW = 2048
#: senders whose profile signals are remembered (campaigns reuse personas), and advice texts cached
PROFILE_CACHE = 4096
ADVICE_CACHE = 4096
#: scorer verdicts remembered per distinct set of fired indicators and weights
SCORE_CACHE = 8192
#: attachments of one message looked at, and the longest attachment name kept
MAX_ATTACHMENTS = 100
MAX_ATTACHMENT_NAME = 1000

NON_BENIGN: tuple[Category, ...] = (
    Category.STATE_APPROACH,
    Category.MALWARE_LURE,
    Category.SCAM,
    Category.COMMERCIAL,
)


# --------------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True, slots=True)
class Scores:
    category: Category
    risk: float
    by_category: dict[Category, float]


class Scorer(Protocol):
    """Turns the fired indicators (with their effective weights) into a category, a risk and scores."""

    def score(self, fired: Sequence[tuple[Indicator, float]]) -> Scores: ...


class NoisyOrScorer:
    """Noisy-OR per category, damped by legitimacy cues; the risk is the threat share of the evidence.

    For each non-benign category c: ``s_c = (1 - Π(1 - w_i)) · Π_b(1 - w_b)`` over the fired indicators
    supporting c and the benign cues damping c. The category is the highest ``s_c`` (ties go to the more
    serious category) when it reaches ``decision_floor``; otherwise the approach is benign.

    The risk is the noisy-OR ``p`` of the indicators supporting either threat category (state approach,
    malware lure), each counted once and damped like the categories; a competing non-threat
    explanation (``o = 1 - (1 - s_scam)(1 - s_commercial)``) explains away only the uncertain part:
    ``risk = p · (1 - o · (1 - p))``. It is non-decreasing in every threat weight, never below the
    threat share alone would give when nothing competes, and stays in [0, 1].
    """

    __slots__ = ("_plans", "decision_floor")

    def __init__(self, decision_floor: float = 0.35) -> None:
        if not 0.0 < decision_floor <= 1.0:
            raise ValueError("decision_floor must be in (0, 1]")
        self.decision_floor = decision_floor
        # id(indicator) -> (indicator, is benign cue, category positions it feeds or damps)
        self._plans: dict[int, tuple[Indicator, bool, tuple[int, ...]]] = {}

    def _plan(self, indicator: Indicator) -> tuple[bool, tuple[int, ...]]:
        plan = self._plans.get(id(indicator))
        if plan is None or plan[0] is not indicator:
            benign = indicator.is_benign_cue
            cats = indicator.dampens if benign else indicator.supports
            plan = (indicator, benign, tuple(_POSITION[c] for c in cats if c in _POSITION))
            if len(self._plans) > 4096:
                self._plans.clear()
            self._plans[id(indicator)] = plan
        return plan[1], plan[2]

    def score(self, fired: Sequence[tuple[Indicator, float]]) -> Scores:
        keep = [1.0, 1.0, 1.0, 1.0]
        damp = [1.0, 1.0, 1.0, 1.0]
        threat_keep = 1.0  # indicators supporting either threat category, each counted once
        threat_damp = 1.0
        benign_keep = 1.0
        for indicator, weight in fired:
            if weight <= 0.0:
                continue
            miss = 1.0 - weight
            benign, positions = self._plan(indicator)
            if benign:
                benign_keep *= miss
                for i in positions:
                    damp[i] *= miss
                if 0 in positions or 1 in positions:
                    threat_damp *= miss
            else:
                for i in positions:
                    keep[i] *= miss
                if 0 in positions or 1 in positions:
                    threat_keep *= miss
        values = [_clamp((1.0 - keep[i]) * damp[i]) for i in range(4)]
        best = 0
        for i in (1, 2, 3):
            if values[i] > values[best] + 1e-12:
                best = i
        top = values[best]
        category = NON_BENIGN[best] if top >= self.decision_floor else Category.BENIGN
        threat = _clamp((1.0 - threat_keep) * threat_damp)
        other = 1.0 - (1.0 - values[2]) * (1.0 - values[3])
        risk = _clamp(threat * (1.0 - other * (1.0 - threat)))
        scores = dict(zip(NON_BENIGN, values, strict=True))
        scores[Category.BENIGN] = _clamp(max(1.0 - benign_keep, 1.0 - top))
        return Scores(category=category, risk=risk, by_category=scores)


_POSITION = {cat: i for i, cat in enumerate(NON_BENIGN)}


def _clamp(x: float) -> float:
    if x != x or x <= 0.0:
        return 0.0
    return 1.0 if x >= 1.0 else x


# --------------------------------------------------------------------------------------------------
# M9: the same first message to many recipients


_T_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening|day)|greetings|hallo|guten tag|liebe[rs]?|"
    r"sehr geehrte[rs]?|bonjour|bonsoir|cher|chère|madame|monsieur)\b[^\n,:;!]{0,60}[,:;!\n]"
)
_T_MARKS = ("@", "/", "{", "[", "%", "www.")
# A whitespace-separated token holding one of @ / { [ % or "www." (links, addresses, placeholders) is
# dropped whole; NUL joins the class because earlier versions marked those characters with it.
_T_MARKED = re.compile(r"\S*(?:[@/{\[%\x00]|www\.)\S*")
_T_PUNCTUATION = (
    "0123456789!\"#$&'()*+,-.:;<=>?\\]^_`|}~\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u00ab\u00bb"
    "\u00b7\u2022"
)
# The words: runs of anything but whitespace, digits and the punctuation above (one pass in C; the
# str.translate + split it replaces goes through a per-character dictionary lookup).
_T_WORDS = re.compile("[^\\s" + re.escape(_T_PUNCTUATION) + "]+")


class TemplateTracker:
    """Counts how many distinct recipients got the same first message, wording normalised.

    Normalisation lower-cases the text, drops the greeting, drops links, e-mail addresses and
    mail-merge placeholders, keeps only the words (so numbers and punctuation go), replaces the
    sender's and recipient's names with one token, and hashes the result with BLAKE2b. Messages
    shorter than ``min_chars`` after this are ignored, so one-line connection notes ("Happy to
    connect!") are not counted as campaigns.
    Memory is bounded: at most ``max_templates`` texts are tracked (oldest forgotten first), each with at
    most ``min_recipients`` recipient keys.
    """

    __slots__ = ("_seen", "max_templates", "min_chars", "min_recipients")

    def __init__(self, min_recipients: int = 3, max_templates: int = 200_000, min_chars: int = 60) -> None:
        if min_recipients < 2:
            raise ValueError("min_recipients must be at least 2")
        self.min_recipients = min_recipients
        self.max_templates = max(1, max_templates)
        self.min_chars = min_chars
        self._seen: OrderedDict[bytes, set[str] | int] = OrderedDict()

    def key(self, approach: Approach) -> bytes | None:
        """The template key of the approach's first inbound message, or None when it is too short."""
        message = None
        for m in approach.conversation.messages:
            if m.inbound:
                message = m
                break
        if message is None or not isinstance(message.text, str) or not message.text:
            return None
        text = message.text[:4000].lower()
        if len(text) < self.min_chars:
            return None
        greeting = _T_GREETING.match(text)
        if greeting is not None:
            text = " " + text[greeting.end() :]
        if any(mark in text for mark in _T_MARKS):
            text = _T_MARKED.sub(" ", text)
        words = _T_WORDS.findall(text)
        names = set(_T_WORDS.findall(f"{approach.sender.name} {approach.recipient.name}".lower()))
        if not names.isdisjoint(words):
            words = ["n" if w in names else w for w in words]
        normalised = " ".join(words)
        if len(normalised) < self.min_chars:
            return None
        return hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def add(self, approach: Approach) -> bytes | None:
        key = self.key(approach)
        if key is None:
            return None
        recipient = approach.recipient.key or approach.id
        entry = self._seen.get(key)
        if entry is None:
            self._seen[key] = {recipient}
            if len(self._seen) > self.max_templates:
                self._seen.popitem(last=False)
        elif isinstance(entry, set):
            entry.add(recipient)
            if len(entry) >= self.min_recipients:
                self._seen[key] = len(entry)
        return key

    def recipients(self, key: bytes | None) -> int:
        """Distinct recipients seen for ``key`` (capped at ``min_recipients`` once reached)."""
        if key is None:
            return 0
        entry = self._seen.get(key)
        if entry is None:
            return 0
        return entry if isinstance(entry, int) else len(entry)


# --------------------------------------------------------------------------------------------------
# The engine


# what a probe is for, folding its role and scope: the engine decides per message which kinds run
_K_TEXT, _K_FIRST, _K_LATER, _K_SUBJECT, _K_SEQ, _K_AFTER, _K_ATTACH = range(7)

#: an inbound message as the engine reads it: (index in the conversation, text cut at
#: max_field_chars, subject, attachments or None)
Inbound = tuple[int, str, str, Any]
#: one approach's input to matching: the sender's Account fields (in dataclass order), its inbound
#: messages, and how many recipients its wording reached in the batch. Plain data, cheap to pickle.
#: The recipient's sector (for indicators about whom the sender approaches) comes last.
Case = tuple[tuple[Any, ...], tuple[Inbound, ...], int, str | None]
#: a scored approach before its objects are built: category, risk, category scores (rounded),
#: risk_rose_at, and per signal (indicator position, rounded weight, evidence tuples), in final order
Result = tuple[
    Category,
    float,
    tuple[tuple[Category, float], ...],
    int | None,
    tuple[tuple[int, float, tuple[EvidenceTuple, ...]], ...],
]

_ACCOUNT_FIELDS = tuple(f.name for f in dataclass_fields(Account))
_account_values = attrgetter(*_ACCOUNT_FIELDS)


@dataclass(frozen=True, slots=True)
class _Probe:
    slot: int
    kind: int
    scope: Scope
    probe: TextProbe


@dataclass(frozen=True, slots=True)
class _Slot:
    indicator: int
    weight: float


class _Candidates:
    """What the gate found in one text: positions to try per probe, and other patterns to search."""

    __slots__ = ("lowered", "positions", "rest", "run_rest", "skip", "text")

    def __init__(
        self,
        text: str,
        lowered: str,
        positions: dict[int, list[tuple[int, int]]] | None,
        rest: dict[int, tuple[int, ...]],
        run_rest: dict[int, tuple[int, ...]],
        skip: frozenset[int],
    ) -> None:
        self.text = text
        self.lowered = lowered
        #: None when lower-casing changed the text's length, so that positions would not line up
        self.positions = positions
        #: probe -> indexes of its ``rests`` patterns that are candidates (a pattern may be listed twice)
        self.rest = rest
        #: the same without the unanchored patterns that the gate proved cannot match
        self.run_rest = run_rest
        #: probes with nothing left to run
        self.skip = skip

    def ids(self) -> set[int]:
        """The candidate probes.

        The engine visits them in this set's iteration order, and that order decides the order in
        which signals reach the scorer, whose products depend on it in the last bit: keep it.
        """
        ids = set(self.rest)
        if self.positions is not None:
            ids.update(self.positions)
        return ids


class _Gate:
    """Decides which probes to run on a text, and where, from one trie of all their word-start literals.

    Patterns with no usable literal (they start with ``%``, ``@``, ``{``, ``.exe`` ...) are candidates
    on every text; one combined regex of all of them tells, in a single scan, whether any can match,
    so that ordinary text skips them all.
    """

    __slots__ = (
        "_always",
        "_always_only",
        "_always_rx",
        "_always_subject",
        "_always_subject_only",
        "_always_subject_rx",
        "_prefilter",
        "_probes",
        "_rest_of",
        "_start_of",
    )

    def __init__(self, probes: Sequence[TextProbe], subject_only: Sequence[bool]) -> None:
        self._probes = tuple(probes)
        start_by: dict[str, set[tuple[int, int]]] = {}
        rest_by: dict[str, set[tuple[int, int]]] = {}
        always: list[tuple[int, int]] = []
        always_subject: list[tuple[int, int]] = []
        for pid, probe in enumerate(self._probes):
            for i, anchors in enumerate(probe.start_anchors):
                for anchor in anchors:
                    start_by.setdefault(anchor, set()).add((pid, i))
            for j, anchors in enumerate(probe.rest_anchors):
                if anchors is None:
                    (always_subject if subject_only[pid] else always).append((pid, j))
                else:
                    for anchor in anchors:
                        rest_by.setdefault(anchor, set()).add((pid, j))
        # The trie reports the longest literal at a position; shorter literals that are its prefixes
        # occur there too, so each literal maps to the patterns of all its prefixes.
        self._start_of: dict[str, tuple[tuple[int, int], ...]] = {}
        self._rest_of: dict[str, tuple[tuple[int, int], ...]] = {}
        for text in set(start_by) | set(rest_by):
            starts: set[tuple[int, int]] = set()
            rests: set[tuple[int, int]] = set()
            for i in range(1, len(text) + 1):
                starts |= start_by.get(text[:i], set())
                rests |= rest_by.get(text[:i], set())
            self._start_of[text] = tuple(sorted(starts))
            if rests:
                self._rest_of[text] = tuple(sorted(rests))
        self._always = _group(always)
        self._always_subject = _group(always_subject)
        self._always_rx, self._always_only = self._unanchored(always)
        self._always_subject_rx, self._always_subject_only = self._unanchored(always_subject)
        literals = self._start_of.keys()
        self._prefilter = re.compile(r"\b(?=(" + _trie_regex(literals) + "))") if literals else None

    def _unanchored(self, pairs: Sequence[tuple[int, int]]) -> tuple[re.Pattern[str] | None, frozenset[int]]:
        """One regex of the unanchored patterns, and the probes that have no other pattern.

        Only patterns run on the folded text qualify (the same compiled source, case-sensitive, on the
        same text, so "the combined regex finds nothing" proves "none of them matches"). None when
        some probe does not qualify: its patterns then always run, as the combined regex would not
        speak for them.
        """
        if not pairs:
            return None, frozenset()
        sources = []
        for pid, j in pairs:
            probe = self._probes[pid]
            if not probe.on_lower:
                return None, frozenset()
            sources.append(f"(?:{probe.rests[j].pattern})")
        try:
            combined = re.compile("|".join(sources))
        except re.error:
            return None, frozenset()
        only = frozenset(
            pid
            for pid, _ in pairs
            if not self._probes[pid].starts and all(a is None for a in self._probes[pid].rest_anchors)
        )
        return combined, only

    def candidates(self, text: str, subject: bool) -> _Candidates:
        """Where to try start-anchored patterns and which other patterns to search, per probe.

        Everything runs on the folded text (lower-cased, typographic apostrophes made plain). When
        folding changed the text's length (a handful of Unicode characters do), positions would no
        longer line up: ``positions`` is then None and every candidate probe is searched
        case-insensitively in the original text instead.
        """
        positions: dict[int, list[tuple[int, int]]] = {}
        always = self._always_subject if subject else self._always
        rest = always.copy()
        extra: dict[int, tuple[int, ...]] = {}
        lowered = fold(text)
        if self._prefilter is not None:
            start_of, rest_of = self._start_of, self._rest_of
            get = positions.get
            # the hot loop of the engine: kept flat, with tuples for the rarely-grown rest lists
            for m in self._prefilter.finditer(lowered):
                anchor = m[1]
                entries = start_of[anchor]
                if entries:
                    pos = m.start()
                    for pid, i in entries:
                        found = get(pid)
                        if found is None:
                            positions[pid] = [(pos, i)]
                        else:
                            found.append((pos, i))
                more = rest_of.get(anchor)
                if more:
                    for pid, j in more:
                        rest[pid] = (*rest.get(pid, ()), j)
                        extra[pid] = (*extra.get(pid, ()), j)
        if len(lowered) != len(text):
            for pid in positions:
                rest.setdefault(pid, ())
            return _Candidates(text, lowered, None, rest, rest, _NOTHING)
        if not always:
            return _Candidates(text, lowered, positions, rest, rest, _NOTHING)
        rx = self._always_subject_rx if subject else self._always_rx
        if rx is None or rx.search(lowered) is not None:
            return _Candidates(text, lowered, positions, rest, rest, _NOTHING)
        only = self._always_subject_only if subject else self._always_only
        return _Candidates(text, lowered, positions, rest, extra, only)

    def run(self, pid: int, c: _Candidates) -> re.Match[str] | None:
        """The first match of probe ``pid``; its span is valid in the original text."""
        probe = self._probes[pid]
        if c.positions is None:
            return probe.search(c.text, 0, c.lowered)
        target = c.lowered if probe.on_lower else c.text
        tries = c.positions.get(pid)
        m = probe.match_at(target, tries) if tries else None
        if m is None:
            which = c.run_rest.get(pid)
            if which:
                m = probe.search_rest(target, which)
        return m


_NOTHING: frozenset[int] = frozenset()


def _group(pairs: Sequence[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    grouped: dict[int, tuple[int, ...]] = {}
    for pid, j in pairs:
        grouped[pid] = (*grouped.get(pid, ()), j)
    return grouped


class Screener:
    """Scores approaches with a catalogue.

    Holds small bounded caches (profile signals per sender, scores, advice texts), so one instance
    should not be shared between threads without a lock; create one per thread instead (construction
    is cheap once the catalogue is loaded). For many approaches, :meth:`assess_many` can spread the
    work over worker processes.
    """

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        settings: Settings | None = None,
        *,
        scorer: Scorer | None = None,
        template_window: int = DEFAULT_TEMPLATE_WINDOW,
        model: TextModel | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.catalogue = catalogue if catalogue is not None else load_catalogue(self.settings.catalogue)
        self.scorer: Scorer = scorer or NoisyOrScorer()
        self.template_window = max(1, template_window)
        #: the text model that combines the rules' verdict with the wording; None: rules alone
        self.model = model
        self._compile()

    # -- plan ------------------------------------------------------------------------------------

    def _compile(self) -> None:
        self._indicators: tuple[Indicator, ...] = self.catalogue.indicators
        #: indicator id -> its position in the catalogue (what the scorer's cache keys use)
        self.positions: dict[str, int] = {ind.id: i for i, ind in enumerate(self._indicators)}
        slots: list[_Slot] = []
        probes: list[_Probe] = []
        self._profile: list[tuple[int, FieldMatcher | ValueMatcher]] = []
        self._attach_any: list[tuple[int, AttachmentMatcher]] = []
        self._sequence_after: dict[int, int] = {}  # sequence slot -> its after-probe id
        # field-matcher slot -> (sensitive recipient sectors, slot used for other sectors or None)
        self._recipient_routes: dict[int, tuple[frozenset[str], int | None]] = {}
        template_slots: list[tuple[int, int]] = []
        for ind_pos, indicator in enumerate(self._indicators):
            for matcher in indicator.matchers:
                slot = len(slots)
                weight = indicator.weight if matcher.weight is None else matcher.weight
                slots.append(_Slot(ind_pos, weight))
                if isinstance(matcher, TextMatcher):
                    kind = {
                        Scope.INBOUND: _K_TEXT,
                        Scope.FIRST: _K_FIRST,
                        Scope.LATER: _K_LATER,
                        Scope.SUBJECT: _K_SUBJECT,
                    }[matcher.scope]
                    probes.append(_Probe(slot, kind, matcher.scope, matcher.probe))
                elif isinstance(matcher, SequenceMatcher):
                    probes.append(_Probe(slot, _K_SEQ, Scope.LATER, matcher.probe))
                    if matcher.after is not None:
                        self._sequence_after[slot] = len(probes)
                        probes.append(_Probe(slot, _K_AFTER, Scope.INBOUND, matcher.after))
                elif isinstance(matcher, AttachmentMatcher):
                    if matcher.probe is not None:
                        probes.append(_Probe(slot, _K_ATTACH, Scope.INBOUND, matcher.probe))
                    if matcher.any_attachment or matcher.names is not None:
                        self._attach_any.append((slot, matcher))
                elif isinstance(matcher, FieldMatcher | ValueMatcher):
                    self._profile.append((slot, matcher))
                    if isinstance(matcher, FieldMatcher) and matcher.recipient_sectors is not None:
                        elsewhere = None
                        if matcher.otherwise_weight is not None:
                            elsewhere = len(slots)
                            slots.append(_Slot(ind_pos, min(matcher.otherwise_weight, weight)))
                        self._recipient_routes[slot] = (matcher.recipient_sectors, elsewhere)
                elif isinstance(matcher, TemplateMatcher):
                    template_slots.append((slot, matcher.min_recipients))
        self._slots: tuple[_Slot, ...] = tuple(slots)
        self._probes: tuple[_Probe, ...] = tuple(probes)
        self._template_slots = tuple(template_slots)
        self._template_min = min((m for _, m in template_slots), default=0)

        self._gate = _Gate([p.probe for p in probes], [p.scope is Scope.SUBJECT for p in probes])
        self._has_subject_probes = any(p.scope is Scope.SUBJECT for p in probes)
        self._kind = tuple(p.kind for p in probes)
        self._slot_of = tuple(p.slot for p in probes)
        kinds = self._kind
        # probes that cannot fire on the first inbound message, and on the later ones
        self._skip_first = frozenset(
            pid for pid, k in enumerate(kinds) if k in (_K_LATER, _K_SEQ, _K_SUBJECT)
        )
        self._skip_later = frozenset(pid for pid, k in enumerate(kinds) if k in (_K_FIRST, _K_SUBJECT))
        self._subject_probes = frozenset(pid for pid, k in enumerate(kinds) if k == _K_SUBJECT)
        self._profile_cache: OrderedDict[Account, tuple[tuple[int, EvidenceTuple], ...]] = OrderedDict()
        self._advice_cache: dict[tuple[Category, Channel, frozenset[str]], tuple[str, ...]] = {}
        # scores are memoised only for the built-in scorer, whose result depends on its input and
        # its decision floor alone
        self._score_cache: dict[tuple[tuple[int, float], ...], Scores] = {}
        self._score_floor: float | None = None

    # -- assessing -------------------------------------------------------------------------------

    def assess(self, approach: Approach) -> Assessment:
        """Score one approach. The batch signal (the same wording to many recipients) needs assess_many."""
        return self._assess_batch([(approach, 0)])[0]

    def assess_many(
        self, approaches: Iterable[Approach], workers: int = 0, *, chunk_size: int = 256
    ) -> Iterator[tuple[Approach, Assessment]]:
        """Score a stream of approaches, including templated wording sent to many recipients (M9).

        Bounded two-pass: approaches are read in windows of ``template_window``; each window is first
        added to a :class:`TemplateTracker` (which keeps counts from all earlier windows too), then
        scored and yielded in input order. An approach therefore counts every copy of its wording seen
        up to the end of its own window; copies that arrive in a later window raise M9 for those later
        approaches only. Memory stays bounded whatever the stream length.

        ``workers`` is the number of worker processes that score while this process reads (see
        :mod:`lurewatch.screen.parallel`): the same results in the same order. 0 scores here. A stream
        shorter than one window is always scored here, since starting workers would cost more than it
        saves.
        """
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, got {workers}")
        if workers:
            from lurewatch.screen.parallel import assess_parallel

            return assess_parallel(self, approaches, workers, chunk_size=chunk_size)
        return self._assess_serial(approaches)

    def _assess_serial(self, approaches: Iterable[Approach]) -> Iterator[tuple[Approach, Assessment]]:
        if not self._template_slots and self.model is None:
            for approach in approaches:
                yield approach, self._assess(approach, 0)
            return
        for items in self._windows(approaches):
            yield from zip([a for a, _ in items], self._assess_batch(items), strict=True)

    def _windows(self, approaches: Iterable[Approach]) -> Iterator[list[tuple[Approach, int]]]:
        """The stream in windows of ``template_window`` approaches, each with its template count.

        Every approach of a window is added to the template tracker before any count is read, so an
        approach counts every copy of its wording up to the end of its own window (see assess_many).
        """
        tracker = TemplateTracker(min_recipients=self._template_min) if self._template_slots else None
        add = tracker.add if tracker is not None else _no_key
        count = tracker.recipients if tracker is not None else _no_template
        window: list[tuple[Approach, bytes | None]] = []
        for approach in approaches:
            window.append((approach, add(approach)))
            if len(window) >= self.template_window:
                yield [(a, count(key)) for a, key in window]
                window = []
        if window:
            yield [(a, count(key)) for a, key in window]

    def _assess_batch(self, items: Sequence[tuple[Approach, int]]) -> list[Assessment]:
        """Rules for each approach, then (when there is one) the text model over the whole batch."""
        rules = [self._assess(approach, recipients) for approach, recipients in items]
        if self.model is None:
            return rules
        from lurewatch.screen.combine import combine

        # The model's feature arrays grow with the batch: a few hundred approaches keep them small.
        if len(items) <= MODEL_BATCH:
            return combine(self, items, rules)
        out: list[Assessment] = []
        for start in range(0, len(items), MODEL_BATCH):
            end = start + MODEL_BATCH
            out += combine(self, items[start:end], rules[start:end])
        return out

    def _assess(self, approach: Approach, template_recipients: int) -> Assessment:
        inbound = self._inbound(approach)
        result = self._screen(approach.sender, inbound, template_recipients, approach.recipient.sector)
        return self._build(approach.id, approach.channel, result, approach.sender, inbound)

    # -- the three steps: what to read, what fired and how it scores, the objects ----------------

    def _inbound(self, approach: Approach) -> tuple[Inbound, ...]:
        """The inbound messages of the approach's thread, each field checked and cut to its limit."""
        limit = self.settings.max_field_chars
        out = []
        for index, message in enumerate(approach.conversation.messages):
            if not message.inbound:
                continue
            text = message.text if isinstance(message.text, str) else ""
            if len(text) > limit:
                text = text[:limit]
            subject = message.subject if isinstance(message.subject, str) else ""
            if len(subject) > limit:
                subject = subject[:limit]
            out.append((index, text, subject, message.attachments or None))
        return tuple(out)

    def _case(self, approach: Approach, template_recipients: int) -> Case:
        """The plain-data form of an approach that :meth:`_screen_case` reads (in a worker process)."""
        return (
            _account_values(approach.sender),
            self._inbound(approach),
            template_recipients,
            approach.recipient.sector,
        )

    def _screen_case(self, case: Case) -> Result:
        sender_values, inbound, template_recipients, sector = case
        return self._screen(Account(*sender_values), inbound, template_recipients, sector)

    def _screen(
        self,
        sender: Account,
        inbound: Sequence[Inbound],
        template_recipients: int,
        recipient_sector: str | None = None,
    ) -> Result:
        """Run every matcher over the sender and the inbound messages, and score what fired."""
        # slot -> list of (message index or -1 for the profile/batch, evidence)
        hits: dict[int, list[tuple[int, EvidenceTuple]]] = {}
        routes = self._recipient_routes
        for slot, evidence in self._profile_hits(sender):
            route = routes.get(slot) if routes else None
            if route is not None:
                routed = _route(route, slot, evidence, recipient_sector)
                if routed is None:
                    continue
                slot, evidence = routed
            hits[slot] = [(-1, evidence)]

        after_at: dict[int, int] = {}
        previous_subject = ""
        for position, (index, text, subject, attachments) in enumerate(inbound):
            if text:
                self._scan_text(text, index, position, hits, after_at)
            if attachments:
                self._scan_attachments(attachments, index, hits)
            if subject and subject != previous_subject and self._has_subject_probes:
                previous_subject = subject
                self._scan_subject(subject, index, hits)

        first_index = inbound[0][0] if inbound else -1
        if template_recipients and self._template_slots and first_index >= 0:
            first_text = inbound[0][1]
            for slot, minimum in self._template_slots:
                if template_recipients >= minimum:
                    evidence = (
                        f"message[{first_index}].text",
                        "the same wording (names, numbers and links masked) reached "
                        f"{template_recipients}+ recipients in this batch",
                        0,
                        len(first_text),
                        first_index,
                    )
                    hits[slot] = [(-1, evidence)]
        return self._conclude(hits, max(first_index, 0))

    def _scan_text(
        self,
        text: str,
        index: int,
        position: int,
        hits: dict[int, list[tuple[int, EvidenceTuple]]],
        after_at: dict[int, int],
    ) -> None:
        gate = self._gate
        cand = gate.candidates(text, False)
        skip = self._skip_later if position else self._skip_first
        gated = cand.skip
        kinds, slot_of = self._kind, self._slot_of
        for pid in cand.ids():
            if pid in skip or pid in gated:
                continue
            kind = kinds[pid]
            if kind == _K_AFTER:
                if pid not in after_at and gate.run(pid, cand) is not None:
                    after_at[pid] = index
                continue
            slot = slot_of[pid]
            if slot in hits:
                continue
            if kind == _K_SEQ:
                after_pid = self._sequence_after.get(slot)
                if after_pid is not None:
                    # the earlier, low-sensitivity ask must come in an earlier message; probes of
                    # this message run in any order, so an ask recorded here does not count
                    seen = after_at.get(after_pid)
                    if seen is None or seen >= index:
                        continue
            m = gate.run(pid, cand)
            if m is not None:
                hits[slot] = [
                    (index, evidence_span(f"message[{index}].text", text, m.start(), m.end(), index))
                ]

    def _scan_attachments(
        self, names: Any, index: int, hits: dict[int, list[tuple[int, EvidenceTuple]]]
    ) -> None:
        """Attachment matchers; evidence spans index into the names joined with ", "."""
        if not self._attach_any:
            return
        field = f"message[{index}].attachments"
        kept = [n[:MAX_ATTACHMENT_NAME] for n in names[:MAX_ATTACHMENTS] if isinstance(n, str)]
        joined = ", ".join(kept)
        for slot, matcher in self._attach_any:
            if slot in hits:
                continue
            if matcher.names is not None:
                offset = 0
                for name in kept:
                    m = matcher.names.search(name)
                    if m is not None:
                        ev = evidence_span(field, joined, offset + m.start(), offset + m.end(), index)
                        hits[slot] = [(index, ev)]
                        break
                    offset += len(name) + 2
            elif matcher.any_attachment and joined:
                hits[slot] = [(index, evidence_span(field, joined, 0, len(joined), index))]

    def _scan_subject(
        self, subject: str, index: int, hits: dict[int, list[tuple[int, EvidenceTuple]]]
    ) -> None:
        gate = self._gate
        cand = gate.candidates(subject, True)
        wanted, gated, slot_of = self._subject_probes, cand.skip, self._slot_of
        for pid in cand.ids():
            if pid not in wanted or pid in gated:
                continue
            slot = slot_of[pid]
            if slot in hits:
                continue
            m = gate.run(pid, cand)
            if m is not None:
                hits[slot] = [
                    (index, evidence_span(f"message[{index}].subject", subject, m.start(), m.end(), index))
                ]

    def _profile_hits(self, sender: Account) -> tuple[tuple[int, EvidenceTuple], ...]:
        """(slot, evidence) of the profile matchers that fire for ``sender``, cached per account."""
        cache = self._profile_cache
        try:
            found = cache.get(sender)
        except TypeError:  # an Account holding an unhashable value: evaluate without the cache
            found = None
            cache = None
        if found is not None and cache is not None:
            cache.move_to_end(sender)
            return found
        out = []
        folded: dict[str, str] = {}
        for slot, matcher in self._profile:
            if isinstance(matcher, FieldMatcher):
                evidence = matcher.match(sender, folded)
            else:
                evidence = matcher.match(sender)
            if evidence is not None:
                out.append(
                    (
                        slot,
                        (evidence.field, evidence.text, evidence.start, evidence.end, evidence.message_index),
                    )
                )
        result = tuple(out)
        if cache is not None:
            cache[sender] = result
            if len(cache) > PROFILE_CACHE:
                cache.popitem(last=False)
        return result

    def _conclude(self, hits: dict[int, list[tuple[int, EvidenceTuple]]], first_index: int) -> Result:
        if not hits:
            scores = self._score(())
            return (scores.category, round(scores.risk, 4), _rounded(scores.by_category), None, ())
        indicators = self._indicators
        slots = self._slots
        # indicator position -> list of (index at which the matcher fired, matcher weight, evidence)
        per_indicator: dict[int, list[tuple[int, float, EvidenceTuple]]] = {}
        for slot_id, found in hits.items():
            slot = slots[slot_id]
            entries = per_indicator.get(slot.indicator)
            if entries is None:
                entries = per_indicator[slot.indicator] = []
            for at, evidence in found:
                entries.append((first_index if at < 0 else at, slot.weight, evidence))

        fired: list[tuple[int, float]] = []
        signals: list[tuple[int, float, tuple[EvidenceTuple, ...]]] = []
        cuts: set[int] = set()
        for ind_pos, found in per_indicator.items():
            indicator = indicators[ind_pos]
            if len(found) > 1:
                found.sort(key=_first)
                weight = _combine(indicator.weight, [w for _, w, _ in found])
                # several matchers of one indicator may point at the same span: show it once
                unique = {(ev[0], ev[2], ev[3]): ev for _, _, ev in reversed(found)}
                evidence = tuple(sorted(unique.values(), key=_evidence_order))[:MAX_EVIDENCE]
                for at, _, _ in found:
                    cuts.add(at)
            else:
                at, w, ev = found[0]
                weight = w if w < indicator.weight else indicator.weight
                evidence = (ev,)
                cuts.add(at)
            fired.append((ind_pos, weight))
            signals.append((ind_pos, round(weight, 4), evidence))
        scores = self._score(tuple(fired))
        risk_rose_at = self._risk_rose_at(per_indicator, cuts, scores.risk) if cuts else None
        if len(signals) > 1:
            signals.sort(key=self._signal_order)
        return (
            scores.category,
            round(scores.risk, 4),
            _rounded(scores.by_category),
            risk_rose_at,
            tuple(signals),
        )

    def _signal_order(self, signal: tuple[int, float, tuple[EvidenceTuple, ...]]) -> tuple[bool, float, str]:
        indicator = self._indicators[signal[0]]
        return (indicator.supports == _BENIGN_ONLY, -signal[1], indicator.id)

    def _score(self, fired: tuple[tuple[int, float], ...]) -> Scores:
        """The scorer's verdict on (indicator position, weight) pairs, memoised for the built-in scorer.

        The key keeps the order of ``fired``: the scorer's products depend on it in the last bit.
        """
        scorer = self.scorer
        if type(scorer) is not NoisyOrScorer:
            return scorer.score([(self._indicators[i], w) for i, w in fired])
        cache = self._score_cache
        if scorer.decision_floor != self._score_floor:
            cache.clear()
            self._score_floor = scorer.decision_floor
        scores = cache.get(fired)
        if scores is None:
            scores = scorer.score([(self._indicators[i], w) for i, w in fired])
            if len(cache) >= SCORE_CACHE:
                cache.clear()
            cache[fired] = scores
        return scores

    def _risk_rose_at(
        self,
        per_indicator: dict[int, list[tuple[int, float, EvidenceTuple]]],
        cuts: set[int],
        final_risk: float,
    ) -> int | None:
        """The message index at which the risk first reached the alert threshold.

        The risk can only change where a signal fired, so it is recomputed for the prefixes ending at
        those messages only; with one such message the answer is immediate.
        """
        threshold = self.settings.alert_threshold
        if not cuts:
            return None
        if len(cuts) == 1:
            return next(iter(cuts)) if final_risk >= threshold else None
        indicators = self._indicators
        ordered = sorted(cuts)
        for cut in ordered[:-1]:
            prefix = []
            for ind_pos, found in per_indicator.items():
                weights = [w for at, w, _ in found if at <= cut]
                if weights:
                    prefix.append((ind_pos, _combine(indicators[ind_pos].weight, weights)))
            if self._score(tuple(prefix)).risk >= threshold:
                return cut
        return ordered[-1] if final_risk >= threshold else None

    def _build(
        self,
        approach_id: str,
        channel: Channel,
        result: Result,
        sender: Account | None = None,
        inbound: Sequence[Inbound] = (),
    ) -> Assessment:
        """The Assessment of a scored approach, with its Signal and Evidence objects.

        With the ``sender`` and the ``inbound`` messages it also reports the language of the inbound
        text and the persona type the sender presents (both left None without them).
        """
        category, risk, by_category, risk_rose_at, compact = result
        language = persona = None
        if sender is not None:
            language = detect_language_of(m[1] for m in inbound)[0]
            persona = classify_persona(sender.headline, sender.company, inbound[0][1] if inbound else None)
        indicators = self._indicators
        signals = []
        for ind_pos, weight, evidence in compact:
            indicator = indicators[ind_pos]
            signals.append(
                Signal(
                    indicator.id,
                    indicator.title,
                    weight,
                    tuple([Evidence(*ev) for ev in evidence]),
                    indicator.sources,
                    indicator.supports,
                )
            )
        return Assessment(
            approach_id,
            category,
            risk,
            tuple(signals),
            self._advice(category, signals, channel),
            dict(by_category),
            self.catalogue.version,
            risk_rose_at,
            language=language,
            persona=persona,
        )

    def _advice(self, category: Category, signals: Sequence[Signal], channel: Channel) -> tuple[str, ...]:
        key = (category, channel, frozenset(s.indicator_id for s in signals))
        cached = self._advice_cache.get(key)
        if cached is None:
            cached = advice_for(category, signals, channel)
            if len(self._advice_cache) >= ADVICE_CACHE:
                self._advice_cache.clear()
            self._advice_cache[key] = cached
        return cached


def _no_template(key: bytes | None) -> int:
    return 0


def _no_key(approach: Approach) -> bytes | None:
    return None


def _route(
    route: tuple[frozenset[str], int | None], slot: int, evidence: EvidenceTuple, sector: object
) -> tuple[int, EvidenceTuple] | None:
    """The slot (and evidence) of a profile hit that depends on whom the sender approaches.

    A recipient in one of the route's sectors, or of unknown sector, keeps the matcher's own slot; a
    recipient known to work elsewhere gets the route's other slot, or no hit when it has none.
    """
    sectors, elsewhere = route
    known = sector.strip().casefold() if isinstance(sector, str) else ""
    if not known:
        return slot, evidence
    if known in sectors:
        field, text, start, end, index = evidence
        return slot, (field, f"{text} (approaching someone in {known})", start, end, index)
    return None if elsewhere is None else (elsewhere, evidence)


def _rounded(by_category: dict[Category, float]) -> tuple[tuple[Category, float], ...]:
    return tuple([(cat, round(value, 4)) for cat, value in by_category.items()])


def _first(item: tuple[int, float, EvidenceTuple]) -> int:
    return item[0]


def _evidence_order(ev: EvidenceTuple) -> tuple[int, int, str]:
    return (-1 if ev[4] is None else ev[4], ev[2], ev[0])


_BENIGN_ONLY = (Category.BENIGN,)


def _combine(cap: float, weights: Sequence[float]) -> float:
    """Several matchers of one indicator: noisy-OR of their weights, never above the indicator's weight."""
    keep = 1.0
    for w in weights:
        keep *= 1.0 - w
    return min(cap, 1.0 - keep)


def _trie_regex(words: Iterable[str]) -> str:
    """A regex alternation of ``words`` arranged as a trie, preferring the longest match at a position."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(root)
