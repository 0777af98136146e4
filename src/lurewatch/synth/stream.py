"""Synthetic message streams for tests and benchmarks of campaign detection (issue 4, item 4).

:func:`generate` yields Arrow record batches in the stream contract of ``lurewatch campaigns``
(:data:`SCHEMA`): ordinary traffic (colleagues, alumni, students, genuine recruiters with concrete
roles) with planted groups laid over it:

- **campaigns** (``state_approach``, ``malware_lure``, ``scam``): one operator sends paraphrased
  templates (several phrasings, names, numbers and URLs varying, small edits) to many recipients over
  weeks, rotating through personas that differ in name (order swaps, romanisation variants, English
  names, initials) and profile slug but reuse a photo hash, a messaging handle or an e-mail address
  and claim look-alikes of real companies. State approaches target sensitive sectors.
- **sequences** (genuine recruiter and sales sequences): one sender, one template and follow-ups to
  many recipients. They are *not* campaigns; the ground truth lists them so that a test can check
  that none is merged into one.

Everything is a function of the seed: the plan of planted groups is drawn first (its size is bounded,
independent of N beyond a cap), then rows are generated in batches of :data:`BATCH_ROWS` with NumPy
and Arrow compute kernels (no Python object per row), each batch from its own seeded generator, so
memory stays flat in N and the same seed gives the same bytes. :func:`write_stream` writes Parquet,
CSV or JSON Lines (by the file extension) and the ground truth as JSON Lines.

Everything is invented: no person, profile, handle or message in the output exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BATCH_ROWS = 65_536
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
START = np.datetime64("2026-01-05T00:00:00", "s")
SPAN_SECONDS = 182 * 86_400

SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("sent_at", pa.string(), nullable=False),
        pa.field("sender_id", pa.string(), nullable=False),
        pa.field("sender_name", pa.string(), nullable=False),
        pa.field("recipient_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("subject", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("sender_headline", pa.string()),
        pa.field("sender_company", pa.string()),
        pa.field("sender_location", pa.string()),
        pa.field("sender_photo_hash", pa.string()),
        pa.field("sender_created_at", pa.string()),
        pa.field("sender_connections", pa.int32()),
        pa.field("recipient_org", pa.string()),
        pa.field("recipient_sector", pa.string()),
    ]
)
CHANNELS = ("linkedin", "inmail", "email")

# --- pools -------------------------------------------------------------------------------------------
FIRST = (
    "James", "Emma", "Oliver", "Sophie", "Thomas", "Laura", "Daniel", "Hannah", "Michael", "Sarah",
    "Lukas", "Anna", "Jonas", "Lena", "Felix", "Julia", "Maximilian", "Katrin", "Jürgen", "Sabine",
    "Julien", "Camille", "Mathieu", "Chloé", "Antoine", "Élodie", "Nicolas", "Manon", "Pierre", "Inès",
    "Priya", "Arjun", "Mei", "Kenji", "Fatima", "Omar", "Elena", "Marco", "Ana", "Pavel",
    "Rachel", "David", "Grace", "Ben", "Olivia", "Henry", "Alice", "Samuel", "Zoe", "Ethan",
)  # fmt: skip
LAST = (
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Clarke",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Wagner", "Koch", "Richter",
    "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fournier", "Mercier",
    "Patel", "Sharma", "Tanaka", "Nakamura", "Haddad", "Rossi", "Romano", "Novak", "Kowalski", "Silva",
    "Andersen", "Nilsen", "O'Brien", "Murphy", "Kelly", "Campbell", "Stewart", "Young", "King", "Scott",
)  # fmt: skip
BG_COMPANIES = (
    "Siemens", "Bosch", "Airbus", "Capgemini", "Infineon", "Fraunhofer IIS", "University of Cambridge",
    "TU München", "Sorbonne Université", "Imperial College London", "ETH Zürich", "Thales", "Dassault Systèmes",
    "SAP", "Deutsche Telekom", "Orange", "BAE Systems", "Rolls-Royce", "AstraZeneca", "ARM",
    "Oxford Instruments", "CNRS", "Max Planck Society", "Zeiss", "Safran",
)  # fmt: skip
ROLES = (
    "Software Engineer", "Research Scientist", "Project Manager", "PhD Candidate", "Senior Engineer",
    "Talent Acquisition Partner", "Account Executive", "Professor", "Postdoctoral Researcher", "Product Manager",
    "Doktorand", "Ingénieure R&D", "Head of Operations", "Data Scientist", "Technical Recruiter",
)  # fmt: skip
LOCATIONS = (
    "London, UK", "Cambridge, UK", "Munich, Germany", "Berlin, Germany", "Paris, France", "Lyon, France",
    "Toulouse, France", "Zurich, Switzerland", "Amsterdam, Netherlands", "Stuttgart, Germany",
    "Manchester, UK", "Grenoble, France", "Dublin, Ireland", "Vienna, Austria", "Brussels, Belgium",
)  # fmt: skip
SECTORS = (
    # the first ten are sensitive: the sectors state approaches target
    "semiconductors", "quantum computing", "aerospace", "defence", "artificial intelligence",
    "biotechnology", "advanced materials", "nuclear energy", "telecommunications", "government",
    "retail", "banking", "education", "marketing", "hospitality", "logistics", "media", "insurance",
)  # fmt: skip
N_SENSITIVE = 10
ORGS = (
    "Northbridge Semiconductors", "Helix Microdevices", "Quantix Labs", "Qubitwerk GmbH", "AeroVanta",
    "Skyforge Aviation", "Bastion Defence Systems", "Aegis Land Systems", "Cortexa AI", "DeepFjord Research",
    "GenoRiva Therapeutics", "BioNordic Labs", "Graphenix Materials", "Metallum Advanced", "Atomis Energie",
    "Fusionwerk", "Telcora Networks", "Stratalink Telecom", "Ministry of Innovation", "Federal Research Office",
    "ShopRight", "Maison Dupré", "Hanseatic Bank", "Crédit Lumière", "Riverside College", "Lycée Voltaire",
    "BrightFunnel Agency", "Werbewerk", "Grand Hotel Alpina", "Hôtel du Parc", "Cargoline", "TransAlpes",
    "Morning Ledger", "Radio Nord", "SafeHarbour Insurance", "Assurances Mistral",
)  # fmt: skip
TOPICS_BY_LANG = {
    "en": (
        "the Q3 budget review", "Thursday's team offsite", "the grant report", "the thesis draft", "our alumni dinner",
        "the hiring panel", "the lab safety audit", "the conference poster", "the reading group", "the migration plan",
        "the onboarding checklist", "the summer school", "the customer workshop", "the code review", "the dataset release",
    ),
    "de": (
        "das Projekttreffen", "den Quartalsbericht", "die Abschlussarbeit", "den Förderantrag", "das Laborseminar",
        "die Sommerschule", "den Code-Review", "die Messevorbereitung",
    ),
    "fr": (
        "le séminaire de mardi", "le rapport annuel", "la soutenance", "le dossier de financement", "l'atelier client",
        "la revue de code", "le pot de départ",
    ),
}  # fmt: skip
TOPICS_BG = tuple(t for topics in TOPICS_BY_LANG.values() for t in topics)
_LANGS = tuple(TOPICS_BY_LANG)
_TOPIC_START = np.cumsum([0] + [len(v) for v in TOPICS_BY_LANG.values()])[:-1]
_TOPIC_COUNT = np.array([len(v) for v in TOPICS_BY_LANG.values()])
TOPICS_TECH = (
    "EUV lithography process control", "superconducting qubit coherence", "hypersonic thermal protection",
    "GaN power electronics", "solid-state battery cathodes", "quantum error correction", "radar signal processing",
    "CRISPR delivery vectors", "satellite attitude control", "large language model alignment", "carbon fibre layup",
    "small modular reactor safety", "5G core network security", "MEMS inertial sensors", "post-quantum cryptography",
)  # fmt: skip
BG_DOMAINS = (
    "teams.microsoft.com/l/meetup-join", "docs.google.com/document/d", "zoom.us/j", "github.com/lab-group/pr",
    "www.eventbrite.co.uk/e", "careers.siemens.com/job", "jobs.infineon.com/job", "calendly.com/meet",
)  # fmt: skip
COMPANY_LOOKALIKES = (
    "Collinsford Aerospace", "Raytheon Tecnologies Advisory", "Deloite Strategic Advisory",
    "McKinsey & Partners Asia", "Acccenture Strategy Group", "Boeing Talent Partners", "Thales Groupe Conseil",
    "Siemenss Energy Consulting", "Lockheed Martine Associates", "Baird & Haldane Strategy",
    "Sino-European Innovation Centre", "Horizon Global Policy Institute", "Asia-Europe Technology Forum",
    "Northgate Research Fellowship", "Pacific Bridge Consulting",
)  # fmt: skip
CN_FAMILY = (
    ("Zhang", "Chang"), ("Wang", "Wong"), ("Li", "Lee"), ("Liu", "Lau"), ("Chen", "Chan"),
    ("Zhou", "Chou"), ("Xu", "Hsu"), ("Zhao", "Chao"), ("Wu", "Woo"), ("Yang", "Yeung"),
)  # fmt: skip
CN_GIVEN = (
    ("Wei", "Wei"), ("Xiaoming", "Hsiao-ming"), ("Jun", "Chun"), ("Zhiwei", "Chih-wei"), ("Xin", "Hsin"),
    ("Jie", "Chieh"), ("Qiang", "Chiang"), ("Yifan", "I-fan"), ("Jianguo", "Chien-kuo"), ("Lihua", "Li-hua"),
)  # fmt: skip
EN_NAMES = ("David", "Kevin", "Linda", "Grace", "Jason", "Vivian", "Eric", "Helen", "Tony", "Cathy")
PERSONA_LOCATIONS = (
    "Hong Kong",
    "Singapore",
    "London, UK",
    "Shenzhen, China",
    "Beijing, China",
    "Munich, Germany",
)
LURE_DOMAINS = (
    "talent-portal-hr.com", "careers-collinsford.net", "secure-docsview.io", "jobbriefing-cloud.com",
    "recruit-assess.app", "pay-verify-center.com", "global-policy-forum.org", "expertbridge-consult.com",
)  # fmt: skip
MAIL_DOMAINS = ("gmail.com", "protonmail.com", "outlook.com", "163.com", "qq.com")

# --- templates ---------------------------------------------------------------------------------------
# Slots: {rname} recipient's first name, {topic}, {num}, {url}, {contact}, {sname} sender's first name.
_BG = {
    "colleague": [
        (
            "en",
            "Quick question",
            "Hi {rname}, do you have ten minutes today to go over {topic}? I booked room B{num} for it. {sname}",
        ),
        (
            "en",
            "Re: {topic}",
            "Hey {rname} - thanks for the notes on {topic}. I pushed my changes here: {url}. Cheers, {sname}",
        ),
        (
            "en",
            "Running late",
            "Morning {rname}, running about {num} minutes late for {topic}, start without me. {sname}",
        ),
        (
            "de",
            "Kurze Frage",
            "Hallo {rname}, hast du heute kurz Zeit für {topic}? Ich habe Raum B{num} gebucht. Grüße, {sname}",
        ),
        (
            "de",
            "Unterlagen",
            "Hi {rname}, die Unterlagen für {topic} liegen jetzt hier: {url}. Viele Grüße {sname}",
        ),
        (
            "fr",
            "Question rapide",
            "Bonjour {rname}, as-tu un moment pour parler de {topic} ? J'ai réservé la salle B{num}. {sname}",
        ),
        (
            "fr",
            "Documents",
            "Salut {rname}, les documents pour {topic} sont ici : {url}. Bonne journée, {sname}",
        ),
    ],
    "alumni": [
        (
            "en",
            "Long time!",
            "Hi {rname}! Saw your post about {topic}, congratulations. We should catch up - are you coming to the reunion? {num} of us have signed up already. {sname}",
        ),
        (
            "en",
            "Alumni network",
            "Hello {rname}, we were in the same cohort. I'm organising {topic} this year, details: {url}. Hope to see you, {sname}",
        ),
        (
            "de",
            "Lange nicht gesehen",
            "Hallo {rname}, ich habe deinen Beitrag zu {topic} gesehen. Kommst du zum Jahrgangstreffen? Wir sind schon {num} Leute. {sname}",
        ),
        (
            "fr",
            "Anciens élèves",
            "Coucou {rname}, ça fait longtemps ! Tu viens à la soirée des anciens ? On est déjà {num} inscrits. Bises, {sname}",
        ),
    ],
    "student": [
        (
            "en",
            "Question about your work",
            "Dear {rname}, I am a master's student and read your paper on {topic}. Would you have {num} minutes for two questions about your method? Best regards, {sname}",
        ),
        (
            "en",
            "Internship",
            "Dear {rname}, I am applying for the summer internship in your group; my CV is here: {url}. Thank you for your time, {sname}",
        ),
        (
            "de",
            "Frage zu Ihrer Arbeit",
            "Sehr geehrte/r {rname}, hätten Sie {num} Minuten Zeit für eine Frage zu {topic}? Mit freundlichen Grüßen, {sname}",
        ),
        (
            "fr",
            "Stage",
            "Bonjour {rname}, je suis étudiant et je cherche un stage sur {topic} (offre n° {num}). Mon CV : {url}. Cordialement, {sname}",
        ),
    ],
    "recruiter": [
        (
            "en",
            "Senior Embedded Engineer - Munich",
            "Hi {rname}, I'm hiring a Senior Embedded Engineer (C++, AUTOSAR) for our Munich site, EUR {num}k plus bonus, hybrid three days. Job spec: {url}. Open to a chat? {sname}, Talent Acquisition",
        ),
        (
            "en",
            "Data Engineer role",
            "Hello {rname}, we have a permanent Data Engineer opening in our Leeds office (Python, Spark), salary GBP {num}k, reporting to the Head of Analytics. Details: {url}. Best, {sname}",
        ),
        (
            "de",
            "Stelle als Entwickler/in",
            "Hallo {rname}, wir suchen eine/n Softwareentwickler/in (Java, Kubernetes) in Stuttgart, {num}k EUR, 30 Tage Urlaub. Ausschreibung: {url}. Viele Grüße, {sname}",
        ),
        (
            "fr",
            "Poste d'ingénieur",
            "Bonjour {rname}, nous recrutons un ingénieur qualité en CDI à Toulouse, {num}k EUR brut annuel. Fiche de poste : {url}. Bien à vous, {sname}",
        ),
    ],
}
_SEQ = {
    "recruiter": [
        (
            "en",
            "FPGA Design Engineer at {topic}",
            "Hi {rname}, I'm recruiting an FPGA Design Engineer (VHDL, Xilinx UltraScale) at {topic}, Cambridge, permanent, GBP {num}k. Full spec: {url}. Would you be open to a 15-minute call? {sname}",
        ),
        (
            "en",
            "Following up",
            "Hi {rname}, just following up on the FPGA role at {topic} (GBP {num}k). Happy to send the spec again: {url}. {sname}",
        ),
        (
            "en",
            "Last note",
            "Hi {rname}, last note from me on this one - if the timing isn't right, no problem at all. {sname}",
        ),
    ],
    "sales": [
        (
            "en",
            "{topic} + your data pipeline",
            "Hi {rname}, teams like yours cut pipeline costs by {num}% with {topic}. Worth a 20-minute demo? Book here: {url}. {sname}",
        ),
        (
            "en",
            "Re: {topic}",
            "Hi {rname}, bumping this to the top of your inbox - {num}% lower pipeline cost, 20 minutes: {url}. {sname}",
        ),
        (
            "en",
            "Should I close your file?",
            "Hi {rname}, I haven't heard back, so I'll assume {topic} isn't a priority right now. {sname}",
        ),
    ],
    "vertrieb": [
        (
            "de",
            "{topic} für Ihr Team",
            "Guten Tag {rname}, mit {topic} sparen Teams wie Ihres {num}% Zeit bei der Reisekostenabrechnung. Demo-Termin: {url}. Beste Grüße, {sname}",
        ),
        (
            "de",
            "Kurze Erinnerung",
            "Guten Tag {rname}, ich wollte kurz nachhaken: {num}% weniger Aufwand mit {topic}. {url} {sname}",
        ),
        (
            "de",
            "Letzte Nachricht",
            "Hallo {rname}, ich melde mich ein letztes Mal zu {topic}. Beste Grüße, {sname}",
        ),
    ],
}
SEQ_COMPANIES = {
    "recruiter": ("ARM", "Graphcore", "Imagination Technologies", "Cambridge Consultants"),
    "sales": ("Pipewise", "DataHarbor", "Streamloom", "Flowmetric"),
    "vertrieb": ("Spesenfix", "ReiseKostenPro", "Belegblitz", "Kostenklar"),
}
# Each family: paraphrases of one operator's template.
_CAMPAIGN = {
    "state_approach": [
        [
            (
                "en",
                "Consulting opportunity",
                "Dear {rname}, I came across your impressive profile. I represent a client who is keen to understand developments in {topic}. They offer a paid consultation of USD {num} for a short report. Please add me on {contact} to discuss. Best regards, {sname}",
            ),
            (
                "en",
                "Paid consultation",
                "Hello {rname}, your background in {topic} is exactly what my client is looking for. We can offer USD {num} for a brief written overview, no confidential material needed. It's easier to talk on {contact}. Regards, {sname}",
            ),
            (
                "en",
                "Short paid report",
                "Hi {rname}, I was impressed by your experience. A client of ours would like a short report on {topic} and pays USD {num}. Could we continue on {contact}? Kind regards, {sname}",
            ),
            (
                "de",
                "Beratungsanfrage",
                "Sehr geehrte/r {rname}, Ihr Profil hat mich beeindruckt. Mein Mandant interessiert sich für Entwicklungen im Bereich {topic} und bietet USD {num} für einen kurzen Bericht. Gerne auf {contact} weiter. Beste Grüße, {sname}",
            ),
        ],
        [
            (
                "en",
                "Invitation: expert roundtable",
                "Dear {rname}, on behalf of our institute I would like to invite you to a closed expert roundtable on {topic}. Travel and an honorarium of EUR {num} are covered. Programme: {url}. Please reach me on {contact}. {sname}",
            ),
            (
                "en",
                "Expert roundtable invitation",
                "Dear {rname}, our think tank is convening a small roundtable on {topic} and your name was recommended. We cover flights, hotel and EUR {num}. Details at {url}; my {contact}. Sincerely, {sname}",
            ),
            (
                "fr",
                "Invitation à une table ronde",
                "Madame, Monsieur {rname}, notre institut organise une table ronde fermée sur {topic}. Voyage et honoraires de {num} EUR pris en charge. Programme : {url}. Contact : {contact}. {sname}",
            ),
        ],
        [
            (
                "en",
                "Research fellowship",
                "Dear Dr {rname}, our centre offers a visiting research fellowship in {topic} with a stipend of EUR {num} per month and flexible remote work. Brief application: {url}. For questions, {contact}. {sname}",
            ),
            (
                "en",
                "Visiting fellowship",
                "Hi {rname}, we are looking for experts in {topic} for a remote visiting fellowship (EUR {num} monthly stipend). More at {url}, or contact me directly: {contact}. Best, {sname}",
            ),
            (
                "de",
                "Forschungsstipendium",
                "Hallo {rname}, unser Zentrum vergibt ein Gaststipendium im Bereich {topic}, EUR {num} im Monat, ortsunabhängig. Bewerbung: {url}. Fragen gerne über {contact}. {sname}",
            ),
        ],
    ],
    "malware_lure": [
        [
            (
                "en",
                "Job offer - please review",
                "Hi {rname}, following our screening, please find the role description and salary package (USD {num}k) for the {topic} position. Open the document here: {url} and enable editing to view. Questions: {contact}. {sname}",
            ),
            (
                "en",
                "Role description attached",
                "Hello {rname}, as discussed, the offer for the {topic} lead role (USD {num}k) is in this secure viewer: {url}. You may need to enable content. Reply to {contact}. Regards, {sname}",
            ),
            (
                "en",
                "Skills assessment",
                "Hi {rname}, next step for the {topic} role: please download and run the technical assessment from {url} within {num} hours and send the result to {contact}. Thanks, {sname}",
            ),
        ],
    ],
    "scam": [
        [
            (
                "en",
                "Remote part-time opportunity",
                "Hi {rname}! Earn USD {num} a day from home, no experience needed, just rating products. Contact my assistant on {contact} or register at {url}. {sname}",
            ),
            (
                "en",
                "Flexible income",
                "Hello {rname}, our company offers flexible online work paying USD {num} daily. Message me on {contact} to start today: {url}. {sname}",
            ),
            (
                "fr",
                "Travail à domicile",
                "Bonjour {rname}, gagnez {num} USD par jour depuis chez vous. Écrivez à mon assistante sur {contact} : {url}. {sname}",
            ),
        ],
    ],
}
_FOLLOW_UP = (
    ("en", "Following up", "Hi {rname}, just following up on my previous message. My client is still very interested - {contact}. {sname}"),
    ("en", "Checking in", "Dear {rname}, did you have a chance to look at my note about {topic}? {contact}. Best, {sname}"),
)  # fmt: skip
_SLOTS = ("rname", "topic", "num", "url", "contact", "sname")
_MAX_PIECES = 9


@dataclass
class _Templates:
    """Every template parsed into literal pieces and slot codes, as Arrow arrays indexed by template."""

    langs: list[str] = field(default_factory=list)
    subjects: list[tuple[str, list[int]]] = field(default_factory=list)
    bodies: list[tuple[list[str], list[int]]] = field(default_factory=list)
    groups: dict[str, list[int]] = field(default_factory=dict)

    def add(self, group: str, lang: str, subject: str, body: str) -> int:
        self.langs.append(lang)
        self.bodies.append(_parse(body))
        self.subjects.append(_parse(subject))
        self.groups.setdefault(group, []).append(len(self.bodies) - 1)
        return len(self.bodies) - 1

    def arrays(self, which: str) -> tuple[list[pa.Array], list[pa.Array]]:
        parsed = self.bodies if which == "body" else self.subjects
        lits = [pa.array([p[0][i] if i < len(p[0]) else "" for p in parsed]) for i in range(_MAX_PIECES + 1)]
        codes = [
            pa.array([p[1][i] if i < len(p[1]) else 0 for p in parsed], pa.int8()) for i in range(_MAX_PIECES)
        ]
        return lits, codes


def _parse(template: str) -> tuple[list[str], list[int]]:
    parts = re.split(r"\{(\w+)\}", template)
    literals, codes = parts[0::2], [_SLOTS.index(name) + 1 for name in parts[1::2]]
    assert len(codes) <= _MAX_PIECES, template
    return literals, codes


def _build_templates() -> _Templates:
    t = _Templates()
    for kind, items in _BG.items():
        for lang, subject, body in items:
            t.add(f"bg:{kind}", lang, subject, body)
    for kind, items in _SEQ.items():
        for step, (lang, subject, body) in enumerate(items):
            t.add(f"seq:{kind}:{step}", lang, subject, body)
    for category, families in _CAMPAIGN.items():
        for f, family in enumerate(families):
            for lang, subject, body in family:
                t.add(f"camp:{category}:{f}", lang, subject, body)
    for lang, subject, body in _FOLLOW_UP:
        t.add("camp:follow_up", lang, subject, body)
    return t


TEMPLATES = _build_templates()
_TEMPLATE_LANG = np.array([_LANGS.index(lang) for lang in TEMPLATES.langs])
_BG_KINDS = ("colleague", "alumni", "student", "recruiter")
_BG_WEIGHTS = np.array([0.5, 0.2, 0.15, 0.15])


# --- vectorised helpers ----------------------------------------------------------------------------------
def _mix(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of ``x`` with a salt: a stateless per-entity hash (uint64)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (salt + 1)) & 0xFFFFFFFFFFFFFFFF)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint16)


def _hex(values: np.ndarray, digits: int = 16) -> pa.Array:
    """Lower-case hex of uint64 values, ``digits`` wide (the low digits), as an Arrow string array."""
    n = len(values)
    raw = np.ascontiguousarray(values.astype(">u8")).view(np.uint8).reshape(n, 8)
    chars = np.ascontiguousarray(_HEX[raw]).view(np.uint8).reshape(n, 16)[:, 16 - digits :]
    offsets = np.arange(0, n * digits + 1, digits, dtype=np.int32)
    data = np.ascontiguousarray(chars).tobytes()
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _take(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    return pool.take(pa.array(idx, pa.int32()))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _iso(seconds: np.ndarray) -> pa.Array:
    """ISO 8601 UTC timestamps (``YYYY-MM-DDTHH:MM:SSZ``) of Unix seconds, built digit by digit."""
    secs = seconds.astype(np.int64)
    days, rem = np.divmod(secs, 86_400)
    # civil_from_days (H. Hinnant), vectorised
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    n = len(secs)
    out = np.empty((n, 20), np.uint8)
    out[:, [4, 7]] = ord("-")
    out[:, 10] = ord("T")
    out[:, [13, 16]] = ord(":")
    out[:, 19] = ord("Z")
    for col, value, width in (
        (0, year, 4), (5, month, 2), (8, day, 2), (11, rem // 3600, 2), (14, rem // 60 % 60, 2), (17, rem % 60, 2),
    ):  # fmt: skip
        for k in range(width):
            out[:, col + width - 1 - k] = 48 + (value // 10**k) % 10
    offsets = np.arange(0, n * 20 + 1, 20, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(out.tobytes())])


def _render(
    which: str, template: np.ndarray, slots: dict[str, pa.Array], n: int, cache: dict[str, tuple]
) -> pa.Array:
    if which not in cache:
        cache[which] = TEMPLATES.arrays(which)
    lits, codes = cache[which]
    t = pa.array(template, pa.int32())
    empty = pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())
    values = [empty, *(slots[name] for name in _SLOTS)]
    parts: list[pa.Array] = [lits[0].take(t)]
    for i in range(_MAX_PIECES):
        parts.append(pc.choose(codes[i].take(t), *values))
        parts.append(lits[i + 1].take(t))
    return _join(*parts)


# --- the plan: planted campaigns and sequences ----------------------------------------------------------
@dataclass
class Persona:
    sender_id: str
    name: str
    company: str
    headline: str
    location: str
    photo_hash: str
    handles: list[str]
    created_at: str
    connections: int


@dataclass
class Plan:
    """The planted groups (bounded in size) and, per planted row, what to write there."""

    n: int
    seed: int
    campaigns: list[dict]
    sequences: list[dict]
    senders: list[Persona]  # explicit senders: personas and sequence senders
    contacts: list[str]
    # per planted row, sorted by position
    pos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sender: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    template: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    recipient: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    topic: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    num: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    url: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    contact: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    channel: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    edit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    urls: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)


def _population(n: int) -> tuple[int, int]:
    """Background senders and recipients for a stream of n messages."""
    return max(200, n // 8), max(300, n // 20)


def _message_id(index: np.ndarray) -> pa.Array:
    return _join("msg-", pc.utf8_lpad(_str(index), width=10, padding="0"))


def _recipient_id(r: np.ndarray) -> pa.Array:
    return _join("u", pc.utf8_lpad(_str(r), width=8, padding="0"))


def _sensitive_recipients(rng: np.random.Generator, n_recipients: int, k: int) -> np.ndarray:
    out: list[np.ndarray] = []
    have = 0
    while have < k:
        cand = rng.integers(0, n_recipients, 4 * k + 16)
        cand = cand[(_mix(cand, 20) % np.uint64(len(SECTORS))) < N_SENSITIVE]
        out.append(cand)
        have += len(cand)
    pool = np.unique(np.concatenate(out))
    return rng.permutation(pool)[:k] if len(pool) >= k else rng.choice(pool, k)


def _persona_names(
    rng: np.random.Generator, category: str, count: int, identity: tuple[int, int]
) -> list[tuple[str, str]]:
    """(display name, slug core) per persona: variants of one name.

    ``identity`` picks the operation's name (surname and English alias, or first and last name) from the
    plan's draw without replacement: independent operations do not share a cover identity, so the
    ground truth never calls two operations with one name, alias and company different campaigns.
    """
    if category == "state_approach":
        fam, fam_alt = CN_FAMILY[identity[0] % len(CN_FAMILY)]
        giv, giv_alt = CN_GIVEN[rng.integers(len(CN_GIVEN))]
        eng = EN_NAMES[identity[1] % len(EN_NAMES)]
        variants = [
            (f"{giv} {fam}", f"{giv}-{fam}"), (f"{fam} {giv}", f"{fam}-{giv}"), (f"{giv_alt} {fam_alt}", f"{giv_alt}-{fam_alt}"),
            (f"{eng} {fam}", f"{eng}-{fam}"), (f"{fam} {giv} ({eng})", f"{fam}{giv}"), (f"{giv[0]}. {fam}", f"{giv[0]}{fam}"),
            (f"{fam_alt} {giv_alt}", f"{fam_alt}-{giv_alt}"), (f"{eng} {fam_alt}", f"{eng}-{fam_alt}"),
        ]  # fmt: skip
    else:
        first = ("Sarah", "Emily", "Jessica", "Anna", "Linda")[identity[0] % 5]
        last = ("Mitchell", "Carter", "Bennett", "Hayes", "Morgan")[identity[1] % 5]
        variants = [
            (f"{first} {last}", f"{first}-{last}"), (f"{last} {first}", f"{last}-{first}"),
            (f"{first[0]}. {last}", f"{first[0]}{last}"), (f"{first} {last}-Brooks", f"{first}-{last}-brooks"),
            (f"{first}a {last}", f"{first}a-{last}"), (f"{first} {last[:-1]}", f"{first}-{last[:-1]}"),
        ]  # fmt: skip
    order = rng.permutation(len(variants))
    return [variants[order[i % len(variants)]] for i in range(count)]


def make_plan(n: int, seed: int = 0, campaigns: int = 10) -> Plan:
    """Draw the planted campaigns and benign sequences of a stream of ``n`` rows."""
    if n < 1:
        raise ValueError("the number of messages must be at least 1")
    if campaigns < 0:
        raise ValueError("the number of campaigns cannot be negative")
    per_campaign = int(min(2000, max(5, n * 0.02 / max(campaigns, 1))))
    if campaigns * per_campaign > n // 2:
        raise ValueError(
            f"{campaigns} campaigns of at least {per_campaign} messages do not fit in {n} messages "
            f"(they may take at most half): ask for fewer campaigns or more messages"
        )
    rng = np.random.default_rng([seed, 0])
    _, n_recipients = _population(n)
    senders: list[Persona] = []
    contacts: list[str] = []
    urls: list[str] = []
    topics: list[str] = list(TOPICS_BG) + list(TOPICS_TECH)
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("pos", "sender", "template", "recipient", "topic", "num", "url", "contact", "channel", "edit", "group")}  # fmt: skip
    campaign_truth: list[dict] = []
    sequence_truth: list[dict] = []
    categories = ("state_approach", "state_approach", "malware_lure", "state_approach", "scam")
    lure_domains = [LURE_DOMAINS[i] for i in rng.permutation(len(LURE_DOMAINS))]
    company_order = rng.permutation(len(COMPANY_LOOKALIKES))
    family_order, alias_order = rng.permutation(len(CN_FAMILY)), rng.permutation(len(EN_NAMES))
    western_order = rng.permutation(25)
    n_state = n_other = 0

    def add_rows(group: int, pos: np.ndarray, **cols: np.ndarray) -> None:
        rows["pos"].append(pos.astype(np.int64))
        rows["group"].append(np.full(len(pos), group, np.int32))
        for key in ("sender", "template", "recipient", "topic", "num", "url", "contact", "channel", "edit"):
            rows[key].append(np.broadcast_to(cols.get(key, 0), len(pos)).astype(np.int64))

    def window(weeks: float, count: int) -> np.ndarray:
        width = min(n, max(count, int(n * weeks * 7 * 86_400 / SPAN_SECONDS)))
        lo = int(rng.integers(0, n - width + 1))
        if width < 4 * count:
            return np.sort(rng.choice(np.arange(lo, lo + width), count, replace=False))
        # a sparse draw: memory in the count, not in the width of the window
        drawn = np.unique(rng.integers(lo, lo + width, 2 * count + 8))
        while len(drawn) < count:
            drawn = np.unique(np.concatenate([drawn, rng.integers(lo, lo + width, count)]))
        return np.sort(rng.choice(drawn, count, replace=False))

    for c in range(campaigns):
        category = categories[c % len(categories)]
        families = TEMPLATES.groups
        fam_keys = [k for k in families if k.startswith(f"camp:{category}:")]
        templates = np.array(families[fam_keys[c // len(categories) % len(fam_keys)]])
        count = per_campaign
        n_personas = int(min(count, rng.integers(3, 9 if category == "state_approach" else 7)))
        photo = int(_mix(np.array([seed * 1000 + c]), 77)[0])
        base_suffix = int(rng.integers(0x100000, 0xFFFFFF))
        # cover companies, names and aliases are each operation's own while the pools last
        companies = [COMPANY_LOOKALIKES[company_order[(2 * c + i) % len(company_order)]] for i in range(2)]
        if category == "state_approach":
            identity = (
                int(family_order[n_state % len(family_order)]),
                int(alias_order[n_state % len(alias_order)]),
            )
            n_state += 1
        else:
            pick = int(western_order[n_other % len(western_order)])
            identity = (pick // 5, pick % 5)
            n_other += 1
        names = _persona_names(rng, category, n_personas, identity)
        handle_core = re.sub(r"[^a-z]", "", names[0][1].lower())[:8] + str(int(rng.integers(10, 99)))
        shared = [
            f"WeChat: {handle_core}", f"WhatsApp +852 5{int(rng.integers(1000000, 9999999))}",
            f"Telegram @{handle_core}_consult", f"{handle_core}@{MAIL_DOMAINS[int(rng.integers(len(MAIL_DOMAINS)))]}",
        ]  # fmt: skip
        # the channel an operator moves to: WeChat for state approaches, e-mail for lures, Telegram for scams
        rotate = {"state_approach": 0, "malware_lure": 3, "scam": 2}[category]
        shared = shared[rotate:] + shared[:rotate]
        first_sender = len(senders)
        personas_truth = []
        for p in range(n_personas):
            display, core = names[p]
            slug_core = re.sub(r"[^a-z0-9-]", "", core.lower().replace(" ", "-"))
            suffix = base_suffix + p * int(rng.choice([1, 16, 256]))
            slug = f"{slug_core}-{suffix:06x}"
            fresh_photo = p > 0 and rng.random() < 0.3
            photo_p = int(_mix(np.array([photo, p]), 78)[0]) if fresh_photo else photo
            # persona 0 carries both the photo and the first handle; a persona with a fresh photo
            # always carries a shared handle, so every persona is linked to the others
            own = (
                [shared[0]]
                if p == 0 or fresh_photo or rng.random() < 0.5
                else [shared[int(rng.integers(1, 4))]]
            )
            if rng.random() < 0.4:
                own.append(shared[int(rng.integers(0, 4))])
            own = list(dict.fromkeys(own))
            company = companies[p % len(companies)]
            role = (
                "Senior Talent Partner",
                "Research Director",
                "Managing Consultant",
                "Fellowship Coordinator",
            )[p % 4]
            created = START + np.timedelta64(int(rng.integers(-200, 20)) * 86_400, "s")
            senders.append(
                Persona(
                    sender_id=slug, name=display, company=company, headline=f"{role} at {company}",
                    location=PERSONA_LOCATIONS[int(rng.integers(len(PERSONA_LOCATIONS)))],
                    photo_hash=f"{photo_p:016x}", handles=own, created_at=str(created) + "Z",
                    connections=int(rng.choice([int(rng.integers(20, 60)), 500, int(rng.integers(800, 3000))])),
                )
            )  # fmt: skip
            personas_truth.append(senders[-1])
        contact_base = len(contacts)
        contacts.extend(shared)
        url_base = len(urls)
        # each operation registers its own lure domain: a shared one would make two campaigns one
        domain = lure_domains[c % len(lure_domains)]
        if c >= len(lure_domains):
            stem, _, tld = domain.rpartition(".")
            domain = f"{stem}-{c // len(lure_domains) + 1}.{tld}"
        for path in ("apply", "brief", "doc", "register", "view"):
            urls.append(f"https://{domain}/{path}?ref=")
        # message rows: first contacts, then ~20% follow-ups to the same recipients
        n_follow = count // 5 if category == "state_approach" else 0
        n_first = count - n_follow
        pos = window(float(rng.uniform(3, 10)), count)
        targets = (
            _sensitive_recipients(rng, n_recipients, n_first)
            if category == "state_approach"
            else rng.choice(n_recipients, n_first, replace=n_first > n_recipients)
        )
        persona = rng.integers(0, n_personas, n_first)
        follow_of = (
            np.sort(rng.choice(n_first, n_follow, replace=False)) if n_follow else np.zeros(0, np.int64)
        )
        # follow-ups take the later positions, so each comes after some first contact in time
        recip = np.concatenate([targets, targets[follow_of]])
        pers = np.concatenate([persona, persona[follow_of]])
        tmpl = np.concatenate(
            [rng.choice(templates, n_first), rng.choice(TEMPLATES.groups["camp:follow_up"], n_follow)]
        )
        handle_pick = np.array(
            [contact_base + shared.index(senders[first_sender + q].handles[0]) for q in range(n_personas)]
        )
        tech = len(TOPICS_BG) + rng.integers(0, len(TOPICS_TECH), count)
        add_rows(
            c, pos, sender=first_sender + pers, template=tmpl, recipient=recip, topic=tech,
            num=rng.integers(6, 60, count) * 50 if category != "malware_lure" else rng.integers(90, 250, count),
            url=url_base + rng.integers(0, 5, count), contact=handle_pick[pers],
            channel=rng.choice(3, count, p=[0.6, 0.3, 0.1]), edit=rng.integers(0, 8, count),
        )  # fmt: skip
        campaign_truth.append(
            {"campaign_id": f"C{c + 1:03d}", "category": category, "personas": personas_truth, "_pos": pos}
        )

    n_seq = int(min(200, max(4, n // 25_000)))
    kinds = ("recruiter", "sales", "recruiter", "vertrieb")
    for s in range(n_seq):
        kind = kinds[s % len(kinds)]
        company = SEQ_COMPANIES[kind][s // len(kinds) % len(SEQ_COMPANIES[kind])]
        recipients = int(min(max(3, n // (4 * n_seq * 3)), rng.integers(10, 80)))
        steps = int(rng.integers(1, 4))
        count = recipients * steps
        if count > max(1, n // 4):
            continue
        first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
        slug = f"{_ascii(first)}-{_ascii(last)}" + f"-{int(rng.integers(0x100000, 0xFFFFFF)):06x}"
        role = "Technical Recruiter" if kind == "recruiter" else "Account Executive"
        senders.append(
            Persona(
                sender_id=slug, name=f"{first} {last}", company=company, headline=f"{role} at {company}",
                location=LOCATIONS[int(rng.integers(len(LOCATIONS)))], photo_hash=f"{int(_mix(np.array([seed, s]), 91)[0]):016x}",
                handles=[], created_at=str(START - np.timedelta64(int(rng.integers(400, 4000)) * 86_400, "s")) + "Z",
                connections=int(rng.integers(300, 4000)),
            )
        )  # fmt: skip
        topics.append(company)
        pos = window(float(rng.uniform(2, 6)), count)
        who = rng.choice(n_recipients, recipients, replace=recipients > n_recipients)
        step = np.repeat(np.arange(steps), recipients)
        tmpl = np.array([TEMPLATES.groups[f"seq:{kind}:{k}"][0] for k in range(3)])[step]
        urls.append(f"https://calendly.com/{slug}/intro?c=")
        add_rows(
            campaigns + s, pos, sender=len(senders) - 1, template=tmpl, recipient=np.tile(who, steps),
            topic=len(topics) - 1, num=int(rng.integers(8, 40)) * (5 if kind == "recruiter" else 1),
            url=len(urls) - 1, contact=0, channel=1 if kind == "recruiter" else 2,
        )  # fmt: skip
        sequence_truth.append({"sequence_id": f"S{s + 1:03d}", "kind": "recruiter" if kind == "recruiter" else "sales", "sender_ids": [slug], "_pos": pos})  # fmt: skip

    plan = Plan(
        n=n,
        seed=seed,
        campaigns=campaign_truth,
        sequences=sequence_truth,
        senders=senders,
        contacts=contacts or [""],
    )
    plan.urls, plan.topics = urls or [""], topics
    if rows["pos"]:
        pos = np.concatenate(rows["pos"])
        _, first = np.unique(pos, return_index=True)  # a position drawn twice keeps its first group
        keep = np.sort(first)
        order = keep[np.argsort(pos[keep], kind="stable")]
        for key, parts in rows.items():
            setattr(plan, key, np.concatenate(parts)[order])
        groups = campaign_truth + sequence_truth
        for g, entry in enumerate(groups):
            mine = plan.pos[plan.group == g]
            entry["message_ids"] = _message_id(mine).to_pylist()
            sender_idx = np.unique(plan.sender[plan.group == g])
            if "personas" in entry:
                entry["sender_ids"] = [senders[i].sender_id for i in sender_idx]
                entry["personas"] = [p for p in entry["personas"] if p.sender_id in entry["sender_ids"]]
            entry.pop("_pos")
    return plan


def truth_records(plan: Plan) -> Iterator[dict]:
    """The ground truth as JSON-ready records: one per campaign, then one per benign sequence."""
    for c in plan.campaigns:
        yield {
            "type": "campaign", "campaign_id": c["campaign_id"], "category": c["category"],
            "sender_ids": c.get("sender_ids", []), "message_ids": c.get("message_ids", []),
            "personas": [
                {"sender_id": p.sender_id, "sender_name": p.name, "sender_company": p.company,
                 "sender_photo_hash": p.photo_hash, "handles": p.handles}
                for p in c["personas"]
            ],
        }  # fmt: skip
    for s in plan.sequences:
        yield {"type": "sequence", "sequence_id": s["sequence_id"], "kind": s["kind"],
               "sender_ids": s["sender_ids"], "message_ids": s.get("message_ids", [])}  # fmt: skip


# --- rows ---------------------------------------------------------------------------------------------------
class _Pools:
    def __init__(self, plan: Plan) -> None:
        self.first = pa.array(FIRST)
        self.last = pa.array(LAST)
        self.first_slug = pa.array([_ascii(x) for x in FIRST])
        self.last_slug = pa.array([_ascii(x) for x in LAST])
        self.companies = pa.array(BG_COMPANIES)
        self.roles = pa.array(ROLES)
        self.locations = pa.array(LOCATIONS)
        self.sectors = pa.array(SECTORS)
        self.orgs = pa.array(ORGS)
        self.topics = pa.array(plan.topics)
        self.bg_domains = pa.array(BG_DOMAINS)
        self.urls = pa.array(plan.urls)
        self.contacts = pa.array(plan.contacts)
        self.channels = pa.array(CHANNELS)
        s = plan.senders or [Persona("", "", "", "", "", "", [], "", 0)]
        self.s_id = pa.array([p.sender_id for p in s])
        self.s_name = pa.array([p.name for p in s])
        self.s_first = pa.array([p.name.split(" ")[1] if p.name.split(" ")[0].endswith(".") else p.name.split(" ")[0] for p in s])  # fmt: skip
        self.s_company = pa.array([p.company for p in s])
        self.s_headline = pa.array([p.headline for p in s])
        self.s_location = pa.array([p.location for p in s])
        self.s_photo = pa.array([p.photo_hash for p in s])
        self.s_created = pa.array([p.created_at for p in s])
        self.s_conn = pa.array([p.connections for p in s], pa.int32())
        self.bg_templates = {k: np.array(TEMPLATES.groups[f"bg:{k}"]) for k in _BG_KINDS}
        self.render_cache: dict[str, tuple] = {}


def _ascii(name: str) -> str:
    table = str.maketrans("üéèÉöäçô'", "ueeEoacoo")
    return re.sub(r"[^a-z]", "", name.translate(table).lower())


_EDITS = (
    ("impressive", "impresive"), ("client", "customer"), ("Best regards", "Best"), (" to discuss", ""),
    ("short", "brief"), ("please", "kindly"), ("Dear", "Hi"),
)  # fmt: skip


def _batch(plan: Plan, pools: _Pools, lo: int, hi: int, n_senders: int, n_recipients: int) -> pa.RecordBatch:
    n = hi - lo
    rng = np.random.default_rng([plan.seed, 1, lo // BATCH_ROWS])
    index = np.arange(lo, hi, dtype=np.int64)
    # background
    kind = rng.choice(len(_BG_KINDS), n, p=_BG_WEIGHTS)
    template = np.empty(n, np.int64)
    for k, name in enumerate(_BG_KINDS):
        mask = kind == k
        template[mask] = rng.choice(pools.bg_templates[name], int(mask.sum()))
    sender = (n_senders * rng.random(n) ** 2.5).astype(np.int64)  # a few busy senders, many quiet ones
    recipient = rng.integers(0, n_recipients, n)
    lang = _TEMPLATE_LANG[template]
    topic = _TOPIC_START[lang] + (rng.random(n) * _TOPIC_COUNT[lang]).astype(np.int64)
    num = rng.integers(2, 60, n)
    num[kind == 3] = rng.integers(45, 120, int((kind == 3).sum()))
    url_id = rng.integers(0, 1 << 40, n)
    channel = rng.choice(3, n, p=[0.7, 0.05, 0.25])
    when = (index + rng.random(n)) * (SPAN_SECONDS / plan.n)
    # planted rows
    a, b = np.searchsorted(plan.pos, [lo, hi])
    at = plan.pos[a:b] - lo
    planted = np.zeros(n, bool)
    planted[at] = True
    explicit = np.zeros(n, np.int64)
    explicit[at] = plan.sender[a:b]
    template[at] = plan.template[a:b]
    recipient[at] = plan.recipient[a:b]
    topic[at] = plan.topic[a:b]
    num[at] = plan.num[a:b]
    channel[at] = plan.channel[a:b]
    url_pick = np.zeros(n, np.int64)
    url_pick[at] = plan.url[a:b]
    contact = np.zeros(n, np.int64)
    contact[at] = plan.contact[a:b]
    pm = pa.array(planted)

    def merge(explicit_pool: pa.Array, background: pa.Array) -> pa.Array:
        if not len(at):
            return background
        return pc.if_else(pm, _take(explicit_pool, explicit), background)

    h1, h2, h3 = _mix(sender, 1), _mix(sender, 2), _mix(sender, 3)
    fi = (h1 % np.uint64(len(FIRST))).astype(np.int64)
    la = (h2 % np.uint64(len(LAST))).astype(np.int64)
    bg_first = _take(pools.first, fi)
    sender_name = merge(pools.s_name, _join(bg_first, " ", _take(pools.last, la)))
    sender_id = merge(
        pools.s_id,
        _join(_take(pools.first_slug, fi), "-", _take(pools.last_slug, la), "-", _hex(h3, 6)),
    )
    sname = merge(pools.s_first, bg_first)
    company = _take(pools.companies, (h1 >> np.uint64(20)) % np.uint64(len(BG_COMPANIES)))
    role = _take(pools.roles, (h2 >> np.uint64(20)) % np.uint64(len(ROLES)))
    role = pc.if_else(pa.array(kind == 3), pa.scalar("Technical Recruiter"), role)
    headline = merge(pools.s_headline, _join(role, " at ", company))
    sender_company = merge(pools.s_company, company)
    location = merge(
        pools.s_location, _take(pools.locations, (h3 >> np.uint64(20)) % np.uint64(len(LOCATIONS)))
    )
    photo = merge(pools.s_photo, _hex(_mix(sender, 4)))
    created_s = START.astype(np.int64) - 86_400 * (30 + (h1 >> np.uint64(40)) % np.uint64(4000)).astype(
        np.int64
    )
    created = merge(pools.s_created, _iso(created_s))
    connections = merge(
        pools.s_conn, pa.array(((h2 >> np.uint64(40)) % np.uint64(1500)).astype(np.int32) + 5)
    )
    # sparse profile fields: some senders show no photo or location, some counts are hidden
    hide = _mix(sender, 5)
    no_photo = pa.array(((hide % np.uint64(10)) == 0) & ~planted)
    no_loc = pa.array((((hide >> np.uint64(8)) % np.uint64(20)) == 0) & ~planted)
    photo = pc.if_else(no_photo, pa.scalar(None, pa.string()), photo)
    location = pc.if_else(no_loc, pa.scalar(None, pa.string()), location)

    rfi = (_mix(recipient, 10) % np.uint64(len(FIRST))).astype(np.int64)
    sector = (_mix(recipient, 20) % np.uint64(len(SECTORS))).astype(np.int64)
    org = sector * 2 + (_mix(recipient, 21) % np.uint64(2)).astype(np.int64)
    bg_url = _join(
        "https://", _take(pools.bg_domains, url_id % len(BG_DOMAINS)), "/", _hex(url_id.astype(np.uint64), 10)
    )
    url = (
        bg_url
        if not len(at)
        else pc.if_else(pm, _join(_take(pools.urls, url_pick), _hex(_mix(index, 30), 8)), bg_url)
    )
    contact_s = _take(pools.contacts, contact)
    slots = {
        "rname": _take(pools.first, rfi), "topic": _take(pools.topics, topic), "num": _str(num),
        "url": url, "contact": contact_s, "sname": sname,
    }  # fmt: skip
    text = _render("body", template, slots, n, pools.render_cache)
    subject = _render("subject", template, slots, n, pools.render_cache)
    if len(at):
        # small edits of the operators' templates: one of a few word swaps or typos per message
        sub = text.take(pa.array(at))
        edit = plan.edit[a:b]
        for e, (old, new) in enumerate(_EDITS):
            sub = pc.if_else(
                pa.array(edit == e), pc.replace_substring(sub, old, new, max_replacements=1), sub
            )
        where = np.zeros(n, np.int64)
        where[at] = np.arange(len(at))
        text = pc.if_else(pm, sub.take(pa.array(where)), text)
    channel_s = _take(pools.channels, channel)
    subject = pc.if_else(pa.array(channel == 0), pa.scalar(None, pa.string()), subject)
    columns = [
        _message_id(index), _iso(START.astype(np.int64) + when.astype(np.int64)), sender_id, sender_name,
        _recipient_id(recipient), text, subject, channel_s, headline, sender_company, location, photo, created,
        connections, _take(pools.orgs, org), _take(pools.sectors, sector),
    ]  # fmt: skip
    return pa.RecordBatch.from_arrays(columns, schema=SCHEMA)


def generate(plan: Plan) -> Iterator[pa.RecordBatch]:
    """The rows of the stream that ``plan`` describes, in batches of at most :data:`BATCH_ROWS`."""
    pools = _Pools(plan)
    n_senders, n_recipients = _population(plan.n)
    for lo in range(0, plan.n, BATCH_ROWS):
        yield _batch(plan, pools, lo, min(plan.n, lo + BATCH_ROWS), n_senders, n_recipients)


# --- writing ------------------------------------------------------------------------------------------------
def output_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{path}: unknown output format {path.suffix or '(none)'}; use .parquet, .csv or .jsonl"
        )
    return fmt


def _json_lines(batch: pa.RecordBatch) -> bytes:
    """JSON Lines for a batch, built with Arrow kernels (strings escaped, nulls as null)."""
    parts: list[pa.Array | str] = []
    for i, f in enumerate(SCHEMA):
        col = batch.column(i)
        if pa.types.is_string(f.type):
            s = col
            for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
                s = pc.replace_substring(s, old, new)
            s = _join('"', s, '"')
        else:
            s = pc.cast(col, pa.string())
        s = pc.fill_null(s, "null")
        parts.extend([("{" if i == 0 else ",") + json.dumps(f.name) + ":", s])
    parts.append("}\n")
    return _concat_bytes(_join(*parts))


def _concat_bytes(arr: pa.Array) -> bytes:
    offsets = np.frombuffer(arr.buffers()[1], np.int32, len(arr) + 1, arr.offset * 4)
    return arr.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def write_stream(
    n: int,
    out: Path,
    *,
    seed: int = 0,
    campaigns: int = 10,
    truth: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Plan:
    """Write a stream of ``n`` rows to ``out`` (format by extension) and its ground truth to ``truth``."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fmt = output_format(out)
    plan = make_plan(n, seed, campaigns)
    tmp = out.with_name(out.name + ".part")
    try:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
                _pump(plan, writer.write_batch, on_progress)
        elif fmt == "csv":
            with pacsv.CSVWriter(tmp, SCHEMA) as writer:
                _pump(plan, writer.write_batch, on_progress)
        else:
            with tmp.open("wb") as fh:
                _pump(plan, lambda b: fh.write(_json_lines(b)), on_progress)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    if truth is not None:
        tmp = truth.with_name(truth.name + ".part")
        with tmp.open("w", encoding="utf-8") as fh:
            for record in truth_records(plan):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(truth)
    return plan


def _pump(
    plan: Plan, write: Callable[[pa.RecordBatch], object], on_progress: Callable[[int], None] | None
) -> None:
    done = 0
    for batch in generate(plan):
        write(batch)
        done += batch.num_rows
        if on_progress is not None:
            on_progress(done)


def default_truth_path(out: Path) -> Path:
    return out.with_name(out.stem + ".truth.jsonl")


__all__ = ["BATCH_ROWS", "SCHEMA", "Plan", "default_truth_path", "generate", "make_plan", "output_format", "truth_records", "write_stream"]  # fmt: skip
