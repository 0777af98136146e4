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
from typing import Protocol

from lurewatch.model import Account, Approach, Assessment, Category, Channel, Evidence, Signal
from lurewatch.screen.advice import advice_for
from lurewatch.screen.catalogue import Catalogue, Indicator, load_catalogue
from lurewatch.screen.matchers import (
    AttachmentMatcher,
    FieldMatcher,
    Scope,
    SequenceMatcher,
    TemplateMatcher,
    TextMatcher,
    TextProbe,
    ValueMatcher,
    fold,
    make_evidence,
)
from lurewatch.settings import Settings

#: evidence items kept per signal (the earliest ones)
MAX_EVIDENCE = 3
#: approaches buffered by assess_many before they are scored (the template tracker's window)
DEFAULT_TEMPLATE_WINDOW = 2048
#: senders whose profile signals are remembered (campaigns reuse personas), and advice texts cached
PROFILE_CACHE = 4096
ADVICE_CACHE = 4096
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
# Tokens holding one of @ / { [ % (links, addresses, placeholders) are marked with NUL and dropped;
# digits and punctuation become spaces, so only words remain. Each is one pass of str.translate.
_T_MARKS = ("@", "/", "{", "[", "%", "www.")
_T_MARK = str.maketrans(dict.fromkeys("@/{[%", "\x00"))
_T_PUNCT = str.maketrans(
    dict.fromkeys(
        "0123456789!\"#$&'()*+,-.:;<=>?\\]^_`|}~\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u00ab\u00bb\u00b7\u2022",
        " ",
    )
)


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
        message = next((m for m in approach.conversation.messages if m.inbound), None)
        if message is None or not isinstance(message.text, str) or not message.text:
            return None
        text = message.text[:4000].lower()
        if len(text) < self.min_chars:
            return None
        text = _T_GREETING.sub(" ", text, count=1)
        if any(mark in text for mark in _T_MARKS):
            text = " ".join(
                tok for tok in text.translate(_T_MARK).split() if "\x00" not in tok and "www." not in tok
            )
        words = text.translate(_T_PUNCT).split()
        names = set(f"{approach.sender.name} {approach.recipient.name}".lower().translate(_T_PUNCT).split())
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


# roles of a text probe
_TEXT, _SEQ, _AFTER, _ATTACH = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Probe:
    slot: int
    role: int
    scope: Scope
    probe: TextProbe


@dataclass(frozen=True, slots=True)
class _Slot:
    indicator: int
    weight: float


class _Gate:
    """Decides which probes to run on a text, and where, from one trie of all their word-start literals."""

    __slots__ = ("_always", "_always_subject", "_prefilter", "_probes", "_rest_of", "_start_of")

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
        literals = self._start_of.keys()
        self._prefilter = re.compile(r"\b(?=(" + _trie_regex(literals) + "))") if literals else None

    def candidates(self, text: str, subject: bool) -> _Candidates:
        """Where to try start-anchored patterns and which other patterns to search, per probe.

        Everything runs on the folded text (lower-cased, typographic apostrophes made plain). When
        folding changed the text's length (a handful of Unicode characters do), positions would no
        longer line up: ``positions`` is then None and every candidate probe is searched
        case-insensitively in the original text instead.
        """
        positions: dict[int, list[tuple[int, int]]] = {}
        rest = (self._always_subject if subject else self._always).copy()
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
        if len(lowered) != len(text):
            for pid in positions:
                rest.setdefault(pid, ())
            return _Candidates(text, lowered, None, rest)
        return _Candidates(text, lowered, positions, rest)

    def run(self, pid: int, c: _Candidates) -> re.Match[str] | None:
        """The first match of probe ``pid``; its span is valid in the original text."""
        probe = self._probes[pid]
        if c.positions is None:
            return probe.search(c.text)
        target = c.lowered if probe.on_lower else c.text
        tries = c.positions.get(pid)
        m = probe.match_at(target, tries) if tries else None
        if m is None:
            which = c.rest.get(pid)
            if which:
                m = probe.search_rest(target, which)
        return m


def _group(pairs: Sequence[tuple[int, int]]) -> dict[int, tuple[int, ...]]:
    grouped: dict[int, tuple[int, ...]] = {}
    for pid, j in pairs:
        grouped[pid] = (*grouped.get(pid, ()), j)
    return grouped


@dataclass(frozen=True, slots=True)
class _Candidates:
    """What the gate found in one text: positions to try per probe, and other patterns to search."""

    text: str
    lowered: str
    positions: dict[int, list[tuple[int, int]]] | None
    #: probe -> indexes of its ``rests`` patterns to search (a pattern may be listed more than once)
    rest: dict[int, tuple[int, ...]]

    def ids(self) -> set[int]:
        ids = set(self.rest)
        if self.positions is not None:
            ids.update(self.positions)
        return ids


class Screener:
    """Scores approaches with a catalogue.

    Holds small bounded caches (profile signals per sender, advice texts), so one instance should not
    be shared between threads without a lock; create one per thread instead (construction is cheap
    once the catalogue is loaded).
    """

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        settings: Settings | None = None,
        *,
        scorer: Scorer | None = None,
        template_window: int = DEFAULT_TEMPLATE_WINDOW,
    ) -> None:
        self.settings = settings or Settings()
        self.catalogue = catalogue if catalogue is not None else load_catalogue(self.settings.catalogue)
        self.scorer: Scorer = scorer or NoisyOrScorer()
        self.template_window = max(1, template_window)
        self._compile()

    # -- plan ------------------------------------------------------------------------------------

    def _compile(self) -> None:
        self._indicators: tuple[Indicator, ...] = self.catalogue.indicators
        slots: list[_Slot] = []
        probes: list[_Probe] = []
        self._profile: list[tuple[int, FieldMatcher | ValueMatcher]] = []
        self._attach_any: list[tuple[int, AttachmentMatcher]] = []
        self._sequence_after: dict[int, int] = {}  # sequence slot -> its after-probe id
        template_slots: list[tuple[int, int]] = []
        for ind_pos, indicator in enumerate(self._indicators):
            for matcher in indicator.matchers:
                slot = len(slots)
                weight = indicator.weight if matcher.weight is None else matcher.weight
                slots.append(_Slot(ind_pos, weight))
                if isinstance(matcher, TextMatcher):
                    probes.append(_Probe(slot, _TEXT, matcher.scope, matcher.probe))
                elif isinstance(matcher, SequenceMatcher):
                    probes.append(_Probe(slot, _SEQ, Scope.LATER, matcher.probe))
                    if matcher.after is not None:
                        self._sequence_after[slot] = len(probes)
                        probes.append(_Probe(slot, _AFTER, Scope.INBOUND, matcher.after))
                elif isinstance(matcher, AttachmentMatcher):
                    if matcher.probe is not None:
                        probes.append(_Probe(slot, _ATTACH, Scope.INBOUND, matcher.probe))
                    if matcher.any_attachment or matcher.names is not None:
                        self._attach_any.append((slot, matcher))
                elif isinstance(matcher, FieldMatcher | ValueMatcher):
                    self._profile.append((slot, matcher))
                elif isinstance(matcher, TemplateMatcher):
                    template_slots.append((slot, matcher.min_recipients))
        self._slots: tuple[_Slot, ...] = tuple(slots)
        self._probes: tuple[_Probe, ...] = tuple(probes)
        self._template_slots = tuple(template_slots)
        self._template_min = min((m for _, m in template_slots), default=0)

        self._gate = _Gate([p.probe for p in probes], [p.scope is Scope.SUBJECT for p in probes])
        self._has_subject_probes = any(p.scope is Scope.SUBJECT for p in probes)
        self._role = tuple(p.role for p in probes)
        self._scope = tuple(p.scope for p in probes)
        self._slot_of = tuple(p.slot for p in probes)
        self._profile_cache: OrderedDict[Account, tuple[tuple[int, Evidence], ...]] = OrderedDict()
        self._advice_cache: dict[tuple[Category, Channel, frozenset[str]], tuple[str, ...]] = {}

    # -- assessing -------------------------------------------------------------------------------

    def assess(self, approach: Approach) -> Assessment:
        """Score one approach. The batch signal (the same wording to many recipients) needs assess_many."""
        return self._assess(approach, 0)

    def assess_many(self, approaches: Iterable[Approach]) -> Iterator[tuple[Approach, Assessment]]:
        """Score a stream of approaches, including templated wording sent to many recipients (M9).

        Bounded two-pass: approaches are read in windows of ``template_window``; each window is first
        added to a :class:`TemplateTracker` (which keeps counts from all earlier windows too), then
        scored and yielded in input order. An approach therefore counts every copy of its wording seen
        up to the end of its own window; copies that arrive in a later window raise M9 for those later
        approaches only. Memory stays bounded whatever the stream length.
        """
        if not self._template_slots:
            for approach in approaches:
                yield approach, self._assess(approach, 0)
            return
        tracker = TemplateTracker(min_recipients=self._template_min)
        window: list[tuple[Approach, bytes | None]] = []
        for approach in approaches:
            window.append((approach, tracker.add(approach)))
            if len(window) >= self.template_window:
                yield from self._flush(window, tracker)
                window = []
        if window:
            yield from self._flush(window, tracker)

    def _flush(
        self, window: list[tuple[Approach, bytes | None]], tracker: TemplateTracker
    ) -> Iterator[tuple[Approach, Assessment]]:
        for approach, key in window:
            yield approach, self._assess(approach, tracker.recipients(key))

    def _profile_hits(self, sender: Account) -> tuple[tuple[int, Evidence], ...]:
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
        for slot, matcher in self._profile:
            evidence = matcher.match(sender)
            if evidence is not None:
                out.append((slot, evidence))
        result = tuple(out)
        if cache is not None:
            cache[sender] = result
            if len(cache) > PROFILE_CACHE:
                cache.popitem(last=False)
        return result

    def _assess(self, approach: Approach, template_recipients: int) -> Assessment:
        limit = self.settings.max_field_chars
        # slot -> list of (message index or -1 for the profile/batch, Evidence)
        hits: dict[int, list[tuple[int, Evidence]]] = {}
        for slot, evidence in self._profile_hits(approach.sender):
            hits[slot] = [(-1, evidence)]

        first_index = -1
        first_text = ""
        after_at: dict[int, int] = {}
        gate = self._gate
        roles, scopes, slot_of = self._role, self._scope, self._slot_of
        sequence_after = self._sequence_after
        position = 0
        previous_subject = ""
        for index, message in enumerate(approach.conversation.messages):
            if not message.inbound:
                continue
            if first_index < 0:
                first_index = index
            text = message.text if isinstance(message.text, str) else ""
            if len(text) > limit:
                text = text[:limit]
            if not position:
                first_text = text
            if text:
                cand = gate.candidates(text, False)
                field = f"message[{index}].text"
                for pid in cand.ids():
                    role = roles[pid]
                    if role == _AFTER:
                        if pid not in after_at and gate.run(pid, cand) is not None:
                            after_at[pid] = index
                        continue
                    slot = slot_of[pid]
                    if slot in hits:
                        continue
                    if role == _TEXT:
                        scope = scopes[pid]
                        if scope is not Scope.INBOUND and (
                            scope is Scope.SUBJECT
                            or (scope is Scope.FIRST and position)
                            or (scope is Scope.LATER and not position)
                        ):
                            continue
                    elif role == _SEQ:
                        if not position:
                            continue
                        after_pid = sequence_after.get(slot)
                        if after_pid is not None:
                            # the earlier, low-sensitivity ask must come in an earlier message; probes of
                            # this message run in any order, so an ask recorded here does not count
                            seen = after_at.get(after_pid)
                            if seen is None or seen >= index:
                                continue
                    m = gate.run(pid, cand)
                    if m is not None:
                        hits[slot] = [(index, make_evidence(field, text, m.start(), m.end(), index))]
            if message.attachments:
                self._scan_attachments(message.attachments, index, hits)
            subject = message.subject if isinstance(message.subject, str) else ""
            if subject and subject != previous_subject and self._has_subject_probes:
                previous_subject = subject
                self._scan_subject(subject[:limit], index, hits)
            position += 1

        if template_recipients and self._template_slots and first_index >= 0:
            for slot, minimum in self._template_slots:
                if template_recipients >= minimum:
                    evidence = Evidence(
                        field=f"message[{first_index}].text",
                        text=(
                            "the same wording (names, numbers and links masked) reached "
                            f"{template_recipients}+ recipients in this batch"
                        ),
                        start=0,
                        end=len(first_text),
                        message_index=first_index,
                    )
                    hits[slot] = [(-1, evidence)]
        return self._conclude(approach, hits, max(first_index, 0))

    def _scan_attachments(
        self, names: tuple[str, ...], index: int, hits: dict[int, list[tuple[int, Evidence]]]
    ) -> None:
        """Attachment matchers; evidence spans index into the names joined with ", "."""
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
                        ev = make_evidence(field, joined, offset + m.start(), offset + m.end(), index)
                        hits[slot] = [(index, ev)]
                        break
                    offset += len(name) + 2
            elif matcher.any_attachment and joined:
                hits[slot] = [(index, make_evidence(field, joined, 0, len(joined), index))]

    def _scan_subject(self, subject: str, index: int, hits: dict[int, list[tuple[int, Evidence]]]) -> None:
        gate = self._gate
        cand = gate.candidates(subject, True)
        for pid in cand.ids():
            slot = self._slot_of[pid]
            if self._role[pid] != _TEXT or self._scope[pid] is not Scope.SUBJECT or slot in hits:
                continue
            m = gate.run(pid, cand)
            if m is not None:
                hits[slot] = [
                    (index, make_evidence(f"message[{index}].subject", subject, m.start(), m.end(), index))
                ]

    def _conclude(
        self, approach: Approach, hits: dict[int, list[tuple[int, Evidence]]], first_index: int
    ) -> Assessment:
        indicators = self._indicators
        slots = self._slots
        # indicator position -> list of (index at which the matcher fired, matcher weight, evidence)
        per_indicator: dict[int, list[tuple[int, float, Evidence]]] = {}
        for slot_id, found in hits.items():
            slot = slots[slot_id]
            entries = per_indicator.get(slot.indicator)
            if entries is None:
                entries = per_indicator[slot.indicator] = []
            for at, evidence in found:
                entries.append((first_index if at < 0 else at, slot.weight, evidence))

        fired: list[tuple[Indicator, float]] = []
        signals: list[Signal] = []
        cuts: set[int] = set()
        for ind_pos, found in per_indicator.items():
            indicator = indicators[ind_pos]
            if len(found) > 1:
                found.sort(key=_first)
                weight = _combine(indicator.weight, [w for _, w, _ in found])
                # several matchers of one indicator may point at the same span: show it once
                unique = {(ev.field, ev.start, ev.end): ev for _, _, ev in reversed(found)}
                evidence = tuple(sorted(unique.values(), key=_evidence_order))[:MAX_EVIDENCE]
                for at, _, _ in found:
                    cuts.add(at)
            else:
                at, w, ev = found[0]
                weight = w if w < indicator.weight else indicator.weight
                evidence = (ev,)
                cuts.add(at)
            fired.append((indicator, weight))
            signals.append(
                Signal(
                    indicator.id,
                    indicator.title,
                    round(weight, 4),
                    evidence,
                    indicator.sources,
                    indicator.supports,
                )
            )
        scores = self.scorer.score(fired)
        risk_rose_at = self._risk_rose_at(per_indicator, cuts, scores.risk) if cuts else None
        if len(signals) > 1:
            signals.sort(key=_signal_order)
        category = scores.category
        return Assessment(
            approach.id,
            category,
            round(scores.risk, 4),
            tuple(signals),
            self._advice(category, signals, approach.channel),
            {cat: round(value, 4) for cat, value in scores.by_category.items()},
            self.catalogue.version,
            risk_rose_at,
        )

    def _risk_rose_at(
        self, per_indicator: dict[int, list[tuple[int, float, Evidence]]], cuts: set[int], final_risk: float
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
                    indicator = indicators[ind_pos]
                    prefix.append((indicator, _combine(indicator.weight, weights)))
            if self.scorer.score(prefix).risk >= threshold:
                return cut
        return ordered[-1] if final_risk >= threshold else None

    def _advice(self, category: Category, signals: Sequence[Signal], channel: Channel) -> tuple[str, ...]:
        key = (category, channel, frozenset(s.indicator_id for s in signals))
        cached = self._advice_cache.get(key)
        if cached is None:
            cached = advice_for(category, signals, channel)
            if len(self._advice_cache) >= ADVICE_CACHE:
                self._advice_cache.clear()
            self._advice_cache[key] = cached
        return cached


def _first(item: tuple[int, float, Evidence]) -> int:
    return item[0]


def _evidence_order(ev: Evidence) -> tuple[int, int, str]:
    return (-1 if ev.message_index is None else ev.message_index, ev.start, ev.field)


def _signal_order(signal: Signal) -> tuple[bool, float, str]:
    return (signal.supports == _BENIGN_ONLY, -signal.weight, signal.indicator_id)


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
