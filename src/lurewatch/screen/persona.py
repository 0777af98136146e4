"""What kind of sender an approach comes from, as the recipient sees it: the persona type.

:func:`classify_persona` reads what a recipient can see before replying: the sender's headline and
company and the way the first message introduces the sender ("I am a partner at an executive search
firm", "ich bin Personalberaterin", "je suis chercheur au ..."), in English, German and French. It
returns one of :data:`PERSONAS` or None when nothing says it clearly.

The persona types are the covers public guidance names (recruiters and talent agents, consultancies,
think tanks, research fellows and university leaders, conference organisers, local-government and
talent-programme officials: P1 of ``shared/reference/redflags.md``) and the look-alikes a recipient
meets every week (investors, journalists, salespeople). A persona type is context, not a verdict:
real headhunters write far more messages than fake ones.

Rules, in order:

1. a job title or organisation type in the **headline** (the earliest one: "Recruiter, Institute for
   Social Studies" presents as a recruiter),
2. else one in the **company** field,
3. else one in a **self-introduction** near the start of the first message ("I am a ...", "we are
   an ...", "on behalf of the ...", "ich bin ...", "je suis ..."), unless it is about the recipient
   ("I enjoyed your university's ..."),
4. else a generic word ("consultant", "adviser", "institute") in any of them, in the same order.

Matching works on words looked up in a table (a few microseconds per approach), not on regular
expressions, which cost ten times more over a whole first message.
"""

from __future__ import annotations

import re
from functools import lru_cache

PERSONAS: tuple[str, ...] = (
    "headhunter",
    "consultancy",
    "think_tank",
    "research_fellow",
    "conference_organiser",
    "investor",
    "journalist",
    "sales",
    "government_official",
)

#: plain words for explanations ("Sender presents as: a headhunter")
PERSONA_WORDS: dict[str, str] = {
    "headhunter": "a headhunter",
    "consultancy": "a consultancy",
    "think_tank": "a think tank",
    "research_fellow": "a research fellow or academic",
    "conference_organiser": "a conference organiser",
    "investor": "an investor",
    "journalist": "a journalist",
    "sales": "a salesperson",
    "government_official": "a government official",
}

#: the longest headline or company looked at, and how far into the first message introductions are sought
MAX_FIELD_CHARS = 300
MAX_INTRO_CHARS = 400
#: words after an introduction cue that may name the role (the rest of the sentence, at most)
INTRO_REACH = 16

# --------------------------------------------------------------------------------------------------
# The lexicon: phrase -> persona, strong (a job title or organisation type) or weak (a generic word).
# Words are lower-case; "word*" matches any word starting with "word"; a final "$" means the phrase
# must end its field or be followed by a separator ("Meridian Peak Search | ..."). A phrase with
# persona None only stops shorter phrases inside it from matching ("human capital" is not an investor).
# Where phrases start with the same word, the longer one is tried first.

_STRONG = "strong"
_WEAK = "weak"

_GOVERNMENT_PLACES = [
    "municipal",
    "city",
    "district",
    "provincial",
    "province",
    "county",
    "prefectural",
    "state",
    "federal",
    "local",
    "regional",
    "people's",
    "metropolitan",
]
_GOVERNMENT_BODIES = ["government", "administration", "authority", "bureau", "commission"]

_LEXICON: tuple[tuple[str, str | None, str], ...] = (
    # -- government officials: local and talent-programme officials, ministries, diplomats
    *(
        (f"{place} {body}", "government_official", _STRONG)
        for place in _GOVERNMENT_PLACES
        for body in _GOVERNMENT_BODIES
    ),
    ("investment promotion", "government_official", _STRONG),
    ("foreign expert", "government_official", _STRONG),
    ("foreign experts", "government_official", _STRONG),
    ("foreign talent", "government_official", _STRONG),
    ("foreign talents", "government_official", _STRONG),
    ("overseas talent", "government_official", _STRONG),
    ("high-level talent", "government_official", _STRONG),
    ("talent office", "government_official", _STRONG),
    ("talent bureau", "government_official", _STRONG),
    ("talent affairs", "government_official", _STRONG),
    ("talent service", "government_official", _STRONG),
    ("talent programme", "government_official", _STRONG),
    ("talent program", "government_official", _STRONG),
    ("talent work", "government_official", _STRONG),
    ("new area administration", "government_official", _STRONG),
    ("new area", "government_official", _STRONG),
    ("new district", "government_official", _STRONG),
    ("administrative committee", "government_official", _STRONG),
    ("high-tech zone", "government_official", _STRONG),
    ("innovation zone", "government_official", _STRONG),
    ("development zone", "government_official", _STRONG),
    ("free trade zone", "government_official", _STRONG),
    ("science city", "government_official", _STRONG),
    ("science park administration", "government_official", _STRONG),
    ("ministry", "government_official", _STRONG),
    ("minister", "government_official", _STRONG),
    ("embassy", "government_official", _STRONG),
    ("consulate", "government_official", _STRONG),
    ("brand ambassador", "sales", _STRONG),
    ("ambassador", "government_official", _STRONG),
    ("diplomat*", "government_official", _STRONG),
    ("attaché", "government_official", _STRONG),
    ("civil servant", "government_official", _STRONG),
    ("public servant", "government_official", _STRONG),
    ("government official", "government_official", _STRONG),
    ("government affairs", "sales", _WEAK),  # a lobbying or sales function, not an official
    ("government", "government_official", _WEAK),
    ("ministerium", "government_official", _STRONG),
    ("bundesministerium", "government_official", _STRONG),
    ("ministère", "government_official", _STRONG),
    ("botschaft", "government_official", _STRONG),
    ("konsulat", "government_official", _STRONG),
    ("ambassade", "government_official", _STRONG),
    ("behörde", "government_official", _STRONG),
    ("stadtverwaltung", "government_official", _STRONG),
    ("beamter", "government_official", _STRONG),
    ("beamtin", "government_official", _STRONG),
    ("fonctionnaire", "government_official", _STRONG),
    ("préfecture", "government_official", _STRONG),
    ("mairie", "government_official", _STRONG),
    # -- headhunters: recruiters, talent agents, executive search
    ("recruit*", "headhunter", _STRONG),
    ("headhunt*", "headhunter", _STRONG),
    ("head-hunt*", "headhunter", _STRONG),
    ("head hunter", "headhunter", _STRONG),
    *(
        (f"talent {w}", "headhunter", _STRONG)
        for w in [
            "acquisition",
            "partner",
            "scout",
            "agent",
            "agency",
            "sourcer",
            "sourcing",
            "lead",
            "director",
            "team",
            "manager",
            "consultant",
            "specialist",
            "coordinator",
            "advisor",
            "solutions",
            "search",
            "hunter",
            "partners",
            "group",
            "bridge",
            "consulting",
            "consultancy",
        ]
    ),
    ("talent $", "headhunter", _STRONG),
    ("head of talent", "headhunter", _STRONG),
    ("head of people", "headhunter", _STRONG),
    *(
        (f"{w} search", "headhunter", _STRONG)
        for w in ["executive", "board", "retained", "leadership", "talent"]
    ),
    *(
        (f"search {w}", "headhunter", _STRONG)
        for w in [
            "firm",
            "partner",
            "partners",
            "consultant",
            "consultants",
            "group",
            "associates",
            "international",
        ]
    ),
    ("search $", "headhunter", _STRONG),
    ("human capital", None, _WEAK),
    ("hr consulting", "headhunter", _STRONG),
    ("hr consultancy", "headhunter", _STRONG),
    ("hr consultant", "headhunter", _STRONG),
    ("hr business partner", "headhunter", _STRONG),
    ("hr manager", "headhunter", _STRONG),
    ("hr director", "headhunter", _STRONG),
    ("hr", "headhunter", _WEAK),
    ("human-resources", "headhunter", _WEAK),
    ("human resources", "headhunter", _WEAK),
    ("staffing", "headhunter", _STRONG),
    ("sourcer", "headhunter", _STRONG),
    ("technical sourcer", "headhunter", _STRONG),
    ("placement consultant", "headhunter", _STRONG),
    ("resourcing", "headhunter", _STRONG),
    ("hiring", "headhunter", _STRONG),
    ("personalberat*", "headhunter", _STRONG),
    ("personalvermittl*", "headhunter", _STRONG),
    ("personaldienstl*", "headhunter", _STRONG),
    ("personalreferent*", "headhunter", _STRONG),
    ("chasseur de têtes", "headhunter", _STRONG),
    ("chasseuse de têtes", "headhunter", _STRONG),
    ("chasseur de tetes", "headhunter", _STRONG),
    ("recrut*", "headhunter", _STRONG),
    # -- conference organisers
    ("conference", "conference_organiser", _STRONG),
    ("conferences", "conference_organiser", _STRONG),
    ("summit", "conference_organiser", _STRONG),
    ("congress", "conference_organiser", _STRONG),
    ("symposium", "conference_organiser", _STRONG),
    ("expo", "conference_organiser", _STRONG),
    ("convention", "conference_organiser", _STRONG),
    ("colloqui*", "conference_organiser", _STRONG),
    ("organising committee", "conference_organiser", _STRONG),
    ("organizing committee", "conference_organiser", _STRONG),
    ("programme committee", "conference_organiser", _STRONG),
    ("program committee", "conference_organiser", _STRONG),
    ("steering committee", "conference_organiser", _STRONG),
    ("organising chair", "conference_organiser", _STRONG),
    ("organizing chair", "conference_organiser", _STRONG),
    ("programme chair", "conference_organiser", _STRONG),
    ("program chair", "conference_organiser", _STRONG),
    ("general chair", "conference_organiser", _STRONG),
    ("workshop committee", "conference_organiser", _STRONG),
    ("workshop chair", "conference_organiser", _STRONG),
    ("secretariat", "conference_organiser", _STRONG),
    ("event manager", "conference_organiser", _STRONG),
    ("events manager", "conference_organiser", _STRONG),
    ("event director", "conference_organiser", _STRONG),
    ("events director", "conference_organiser", _STRONG),
    ("event producer", "conference_organiser", _STRONG),
    ("speaker relations", "conference_organiser", _STRONG),
    ("konferenz*", "conference_organiser", _STRONG),
    ("kongress*", "conference_organiser", _STRONG),
    ("tagung*", "conference_organiser", _STRONG),
    ("conférence", "conference_organiser", _STRONG),
    ("congrès", "conference_organiser", _STRONG),
    ("colloque", "conference_organiser", _STRONG),
    ("comité d'organisation", "conference_organiser", _STRONG),
    # -- journalists
    ("journalist*", "journalist", _STRONG),
    ("correspondent", "journalist", _STRONG),
    ("reporter", "journalist", _STRONG),
    ("editor", "journalist", _STRONG),
    ("editor-in-chief", "journalist", _STRONG),
    ("editorial office", "journalist", _STRONG),
    ("editorial board", "journalist", _STRONG),
    ("columnist", "journalist", _STRONG),
    ("podcast*", "journalist", _STRONG),
    ("newsletter", "journalist", _STRONG),
    ("redakteur*", "journalist", _STRONG),
    ("redaktion*", "journalist", _STRONG),
    ("korrespondent*", "journalist", _STRONG),
    ("rédacteur", "journalist", _STRONG),
    ("rédactrice", "journalist", _STRONG),
    ("correspondant", "journalist", _STRONG),
    ("correspondante", "journalist", _STRONG),
    # -- research fellows, academics, university leaders
    ("fellow", "research_fellow", _STRONG),
    ("professor*", "research_fellow", _STRONG),
    ("lecturer", "research_fellow", _STRONG),
    ("researcher", "research_fellow", _STRONG),
    ("research scientist", "research_fellow", _STRONG),
    ("scientist", "research_fellow", _STRONG),
    ("postdoc*", "research_fellow", _STRONG),
    ("post-doc*", "research_fellow", _STRONG),
    ("phd student", "research_fellow", _STRONG),
    ("phd candidate", "research_fellow", _STRONG),
    ("doctoral", "research_fellow", _STRONG),
    ("dean", "research_fellow", _STRONG),
    ("rector", "research_fellow", _STRONG),
    ("provost", "research_fellow", _STRONG),
    ("vice-chancellor", "research_fellow", _STRONG),
    ("vice chancellor", "research_fellow", _STRONG),
    ("university", "research_fellow", _STRONG),
    ("academy of sciences", "research_fellow", _STRONG),
    ("institute of technology", "research_fellow", _STRONG),
    ("college of", "research_fellow", _STRONG),
    ("universität", "research_fellow", _STRONG),
    ("wissenschaftl*", "research_fellow", _STRONG),
    ("forscher*", "research_fellow", _STRONG),
    ("hochschul*", "research_fellow", _STRONG),
    ("dozent*", "research_fellow", _STRONG),
    ("chercheur", "research_fellow", _STRONG),
    ("chercheuse", "research_fellow", _STRONG),
    ("professeur", "research_fellow", _STRONG),
    ("professeure", "research_fellow", _STRONG),
    ("maître de conférences", "research_fellow", _STRONG),
    ("université", "research_fellow", _STRONG),
    ("research associate", "research_fellow", _WEAK),
    ("research assistant", "research_fellow", _WEAK),
    ("research director", "research_fellow", _WEAK),
    # -- think tanks and policy institutes
    ("think tank", "think_tank", _STRONG),
    ("think-tank", "think_tank", _STRONG),
    ("thinktank", "think_tank", _STRONG),
    *(
        (f"{a} {b}", "think_tank", _STRONG)
        for a in ["policy", "strategic", "security", "governance", "foresight", "strategy"]
        for b in ["institute", "centre", "center", "forum", "circle", "lab", "dialogue", "network", "council"]
    ),
    ("studies", "think_tank", _STRONG),
    ("research centre", "think_tank", _STRONG),
    ("research center", "think_tank", _STRONG),
    ("cooperation centre", "think_tank", _STRONG),
    ("cooperation center", "think_tank", _STRONG),
    ("observatory", "think_tank", _STRONG),
    ("forum", "think_tank", _STRONG),
    ("denkfabrik", "think_tank", _STRONG),
    ("stiftung", "think_tank", _STRONG),
    ("groupe de réflexion", "think_tank", _STRONG),
    ("prospective", "think_tank", _STRONG),
    ("institute", "think_tank", _WEAK),
    ("institut", "think_tank", _WEAK),
    ("council", "think_tank", _WEAK),
    ("foundation", "think_tank", _WEAK),
    ("fondation", "think_tank", _WEAK),
    ("fundación", "think_tank", _WEAK),
    ("centre for", "think_tank", _WEAK),
    ("center for", "think_tank", _WEAK),
    # -- investors
    ("investor", "investor", _STRONG),
    ("investors", None, _WEAK),  # "connects founders with investors": about others
    ("venture*", "investor", _STRONG),
    ("capital markets", None, _WEAK),
    ("capital", "investor", _STRONG),
    ("fund", "investor", _STRONG),
    ("private equity", "investor", _STRONG),
    ("family office", "investor", _STRONG),
    ("angel", "investor", _STRONG),
    ("angels", "investor", _STRONG),
    ("portfolio manager", "investor", _STRONG),
    ("investment manager", "investor", _STRONG),
    ("investment director", "investor", _STRONG),
    ("investment partner", "investor", _STRONG),
    ("investment firm", "investor", _STRONG),
    ("investments", "investor", _STRONG),
    ("investisseur", "investor", _STRONG),
    ("investisseuse", "investor", _STRONG),
    ("capital-risque", "investor", _STRONG),
    ("fonds d'investissement", "investor", _STRONG),
    ("beteiligung*", "investor", _STRONG),
    ("risikokapital", "investor", _STRONG),
    ("wagniskapital", "investor", _STRONG),
    # -- sales
    ("sales", "sales", _STRONG),
    ("business development", "sales", _STRONG),
    ("account executive", "sales", _STRONG),
    ("account manager", "sales", _STRONG),
    ("account director", "sales", _STRONG),
    ("account development", "sales", _STRONG),
    ("bdr", "sales", _STRONG),
    ("sdr", "sales", _STRONG),
    ("lead generation", "sales", _STRONG),
    ("marketing", "sales", _STRONG),
    ("customer success", "sales", _STRONG),
    ("growth", "sales", _WEAK),
    ("vertrieb*", "sales", _STRONG),
    ("verkauf*", "sales", _STRONG),
    ("außendienst", "sales", _STRONG),
    ("directeur commercial", "sales", _STRONG),
    ("directrice commerciale", "sales", _STRONG),
    ("ingénieur commercial", "sales", _STRONG),
    ("développement commercial", "sales", _STRONG),
    ("chargé d'affaires", "sales", _STRONG),
    ("chargée d'affaires", "sales", _STRONG),
    # -- consultancies
    ("consultancy", "consultancy", _STRONG),
    ("consulting", "consultancy", _STRONG),
    ("advisory", "consultancy", _STRONG),
    ("strategy group", "consultancy", _STRONG),
    ("expert network", "consultancy", _STRONG),
    ("unternehmensberat*", "consultancy", _STRONG),
    ("wirtschaftsberat*", "consultancy", _STRONG),
    ("beratung*", "consultancy", _STRONG),
    ("conseil", "consultancy", _STRONG),
    ("cabinet de conseil", "consultancy", _STRONG),
    ("cabinet", "consultancy", _WEAK),
    ("consultant", "consultancy", _WEAK),
    ("consultants", "consultancy", _WEAK),
    ("consultante", "consultancy", _WEAK),
    ("advisor", "consultancy", _WEAK),
    ("adviser", "consultancy", _WEAK),
    ("advisors", "consultancy", _WEAK),
    ("advisers", "consultancy", _WEAK),
    ("berater", "consultancy", _WEAK),
    ("beraterin", "consultancy", _WEAK),
    ("conseiller", "consultancy", _WEAK),
    ("conseillère", "consultancy", _WEAK),
    ("analyst", "consultancy", _WEAK),
)

# Phrases by their first word (stems separately), longest first: (rest of the phrase, needs a field
# end after it, persona, strength).
_Entry = tuple[tuple[str, ...], bool, "str | None", str]


def _build() -> tuple[dict[str, list[_Entry]], tuple[str, ...], dict[str, list[_Entry]]]:
    exact: dict[str, list[_Entry]] = {}
    stems: dict[str, list[_Entry]] = {}
    for phrase, persona, strength in _LEXICON:
        words = phrase.split()
        at_end = words[-1] == "$"
        if at_end:
            words = words[:-1]
        head, rest = words[0], tuple(words[1:])
        table = stems if head.endswith("*") else exact
        table.setdefault(head.rstrip("*"), []).append((rest, at_end, persona, strength))
    for table in (exact, stems):
        for entries in table.values():
            entries.sort(key=lambda e: (-len(e[0]), not e[1]))
    return exact, tuple(sorted(stems, key=len, reverse=True)), stems


_EXACT, _STEMS, _STEM_ENTRIES = _build()

# Words (letters first; apostrophes and hyphens inside) and the separators that end a phrase.
_TOKENS = re.compile(r"[^\W\d_][\w'-]*|[|,;:(\[@·•/–—]|[.!?\n]")
_SEPARATORS = frozenset("|,;:([@·•/–—.!?\n")
_SENTENCE_END = frozenset(".!?\n")
_PUNCTUATION = "\"'“”‘’«»()[]{}<>.,;:!?|·•/–—*"

# Introduction cues: the words the sender uses about themselves, then what may follow them.
_ARTICLES = frozenset(["a", "an", "the", "one", "part", "head", "member", "founder", "in", "responsible"])
_VERBS = frozenset(
    ["recruiting", "hiring", "headhunting", "organising", "organizing", "investing", "writing"]
)
_CUE_WORDS = frozenset(
    [
        "i",
        "i'm",
        "we",
        "we're",
        "this",
        "my",
        "on",
        "our",
        "ich",
        "wir",
        "im",
        "unser",
        "unsere",
        "je",
        "nous",
        "au",
        "notre",
    ]
)
_ABOUT_RECIPIENT = frozenset(
    [
        "you",
        "your",
        "yours",
        "ihr",
        "ihre",
        "ihrem",
        "ihren",
        "ihrer",
        "ihres",
        "sie",
        "dich",
        "dein",
        "deine",
        "vous",
        "votre",
        "vos",
        "tu",
        "ton",
        "ta",
        "tes",
    ]
)


def classify_persona(
    headline: str | None = None, company: str | None = None, introduction: str | None = None
) -> str | None:
    """The persona type the sender presents (one of :data:`PERSONAS`), or None when unclear.

    ``introduction`` is the text of the first inbound message; only its opening is read.
    """
    found = _profile_persona(_field(headline), _field(company))
    if found is not None and found[1] == _STRONG:
        return found[0]
    weak = found[0] if found is not None else None
    if isinstance(introduction, str) and introduction:
        intro = _introduced(introduction[:MAX_INTRO_CHARS])
        if intro is not None and (intro[1] == _STRONG or weak is None):
            return intro[0]
    return weak


def persona_words(persona: str | None) -> str:
    """``"a headhunter"`` for ``"headhunter"``; unknown values are shown as they are."""
    if not persona:
        return "unclear"
    return PERSONA_WORDS.get(persona, persona.replace("_", " "))


def _field(value: object) -> str:
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


@lru_cache(maxsize=4096)
def _profile_persona(headline: str, company: str) -> tuple[str, str] | None:
    """(persona, strength) from the headline, then the company; senders repeat, so it is cached."""
    weak: tuple[str, str] | None = None
    for value in (headline, company):
        if not value:
            continue
        tokens = _tokens(value)
        found = _scan(tokens, 0, len(tokens))
        if found is not None:
            if found[1] == _STRONG:
                return found[0], found[1]
            if weak is None:
                weak = (found[0], found[1])
    return weak


@lru_cache(maxsize=4096)
def _introduced(text: str) -> tuple[str, str] | None:
    """(persona, strength) named right after the sender's self-introduction, if any.

    The message is split at whitespace (a regex tokenizer costs ten times more over a whole opening);
    only the few words after a cue are cleaned of punctuation and looked up.
    """
    text = text.replace("\u2019", "'")
    words = text.lower().split()
    original = text.split()
    if len(original) != len(words):
        original = words
    weak: tuple[str, str] | None = None
    for i, word in enumerate(words):
        if word not in _CUE_WORDS:
            continue
        start = _cue_end(words, original, i, word)
        if start is None:
            continue
        window = _window(words, start)
        found = _scan(window, 0, len(window))
        if found is None:
            continue
        persona, strength, at = found
        if any(t in _ABOUT_RECIPIENT for t in window[:at]):
            continue
        if strength == _STRONG:
            return persona, strength
        if weak is None:
            weak = (persona, strength)
    return weak


def _window(words: list[str], start: int) -> list[str]:
    """Up to INTRO_REACH words from ``start`` to the end of the sentence, punctuation split off."""
    out: list[str] = []
    for word in words[start : start + INTRO_REACH]:
        core = word.strip(_PUNCTUATION)
        if core:
            out.append(core)
        if word[-1] in _SENTENCE_END:
            break
        if word[-1] in _SEPARATORS or not core:
            out.append(",")
    return out


def _cue_end(tokens: list[str], original: list[str], i: int, word: str) -> int | None:
    """Where the role may start when ``tokens[i]`` begins a self-introduction; None when it does not."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if word in ("i'm", "we're") or (word in ("i", "we") and nxt in ("am", "are")):
        j = i + 1 if word in ("i'm", "we're") else i + 2
        after = tokens[j] if j < len(tokens) else ""
        if after in _ARTICLES or after in _VERBS:
            return j
        # a role word straight away: "I am dean of ...", "I'm CTO at ..."
        if j + 1 < len(tokens) and tokens[j + 1] in ("at", "of", "with", "for", "in"):
            return j
        return _after_name(tokens, original, j)
    if word == "this" and nxt == "is":
        return _after_name(tokens, original, i + 2)
    if word == "i" and nxt in ("work", "lead", "head", "run", "manage", "represent"):
        return i + 2
    if word == "my" and nxt == "name" and i + 2 < len(tokens) and tokens[i + 2] == "is":
        return i + 3
    if word == "on" and nxt == "behalf":
        return i + 2
    if word in ("our", "my") and nxt in (
        "firm", "company", "team", "institute", "organisation", "organization", "centre", "center", "agency",
        "fund", "office", "journal", "publication", "practice", "group", "lab",
    ):  # fmt: skip
        return i + 1
    if word == "ich" and nxt in ("bin", "arbeite", "vertrete", "leite"):
        return i + 2
    if word == "wir" and nxt == "sind":
        return i + 2
    if word == "im" and nxt == "auftrag":
        return i + 2
    if word in ("unser", "unsere") and nxt in (
        "firma",
        "unternehmen",
        "institut",
        "kanzlei",
        "agentur",
        "team",
    ):
        return i + 1
    if word == "je" and nxt in ("suis", "travaille", "représente", "dirige"):
        return i + 2
    if word == "nous" and nxt == "sommes":
        return i + 2
    if word == "au" and nxt in ("nom",):
        return i + 2
    if word == "notre" and nxt in ("cabinet", "société", "institut", "agence", "équipe", "fonds", "centre"):
        return i + 1
    return None


def _after_name(words: list[str], original: list[str], j: int) -> int | None:
    """After a capitalised name and a joining word: "David from ...", "Anna, a partner at ..."."""
    if j >= len(original) or not original[j][:1].isupper() or words[j] == "i":
        return None
    k = j
    while k < len(original) and k < j + 3 and original[k][:1].isupper():
        if words[k].endswith(","):
            return k + 1
        k += 1
    if k < len(words) and words[k] in ("from", "at", "with", "of", "and"):
        return k + 1
    return None


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text.lower().replace("\u2019", "'"))


def _scan(tokens: list[str], start: int, stop: int) -> tuple[str, str, int] | None:
    """The first strong phrase in ``tokens[start:stop]`` as (persona, strength, position), else the first weak one."""
    weak: tuple[str, str, int] | None = None
    i = start
    while i < stop:
        word = tokens[i]
        entries = _EXACT.get(word)
        if entries is None and word.startswith(_STEMS):
            entries = _stem_entries(word)
        if entries is not None:
            matched = _match(tokens, i, stop, entries)
            if matched is not None:
                length, persona, strength = matched
                if persona is not None:
                    if strength == _STRONG:
                        return persona, strength, i
                    if weak is None:
                        weak = (persona, strength, i)
                i += length
                continue
        i += 1
    return weak


def _stem_entries(word: str) -> list[_Entry] | None:
    for stem in _STEMS:
        if word.startswith(stem):
            return _STEM_ENTRIES[stem]
    return None


def _match(tokens: list[str], i: int, stop: int, entries: list[_Entry]) -> tuple[int, str | None, str] | None:
    for rest, at_end, persona, strength in entries:
        end = i + 1 + len(rest)
        if end > stop:
            continue
        if rest and tuple(tokens[i + 1 : end]) != rest:
            continue
        if at_end and end < stop and tokens[end] not in _SEPARATORS:
            continue
        return end - i, persona, strength
    return None
