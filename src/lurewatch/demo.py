"""The bundled demo: a fictional research organisation whose 25 staff each hand in a LinkedIn export.

Everything is generated deterministically from the text below (no download, no server): each staff
member's export is written in a different header era through :mod:`lurewatch.synth.linkedin_export`,
the exports are imported into a fresh workspace, and the CLI prints the report. A handful of planted
approaches (modelled on the public cases in the red-flag catalogue) sit among ordinary traffic:
colleagues, real-looking recruiters, conference organisers, students and sales pitches.

All people, firms and profiles here are invented.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lurewatch.core import Lurewatch
from lurewatch.errors import LurewatchError
from lurewatch.synth.linkedin_export import (
    ERAS,
    SPONSORED,
    ExportConnection,
    ExportConversation,
    ExportInvitation,
    ExportMessage,
    Person,
    write_export,
)

ORGANISATION = "Fenwick Institute for Quantum and Materials Research"
_MARKER = ".lurewatch-demo"

# (first, last, role, excel re-save variant or None)
STAFF: tuple[tuple[str, str, str, str | None], ...] = (
    ("Amelia", "Hart", "Group Leader, Quantum Error Correction", None),
    ("Tomasz", "Nowak", "Senior Research Engineer, Superconducting Qubits", None),
    ("Priya", "Raman", "Head of Research Security", None),
    ("Daniel", "Okafor", "Software Engineer, Control Systems", None),
    ("Sophie", "Laurent", "Postdoctoral Researcher, 2D Materials", "utf8-bom"),
    ("Markus", "Brandt", "Principal Scientist, Semiconductor Lithography", "semicolon"),
    ("Hannah", "Kim", "PhD Candidate, Photonic Quantum Computing", None),
    ("Oliver", "Grant", "Chief Technology Officer", None),
    ("Fatima", "Zahra", "Research Fellow, Synthetic Biology", None),
    ("Lucas", "Moreau", "Technology Transfer Manager", None),
    ("Eleanor", "Price", "Policy Adviser, Export Controls", None),
    ("Rahul", "Mehta", "Machine Learning Engineer", "crlf"),
    ("Grace", "Lindqvist", "Lab Manager, Cleanroom", None),
    ("Jonas", "Weber", "Research Engineer, Cryogenics", None),
    ("Chloe", "Bennett", "Communications Lead", None),
    ("Samuel", "Adeyemi", "Senior Scientist, Advanced Alloys", None),
    ("Isabel", "Cruz", "Grants and Partnerships Manager", None),
    ("Ethan", "Clarke", "Firmware Engineer", None),
    ("Mei", "Tanaka", "Research Scientist, Quantum Sensing", None),
    ("William", "Ashford", "Director of Operations", None),
    ("Nadia", "Petrova", "Computational Chemist", None),
    ("Benjamin", "Hale", "Electronics Technician", None),
    ("Laura", "Fischer", "Research Scientist, Ion Traps", "utf8-bom"),
    ("Kwame", "Mensah", "Data Engineer", None),
    ("Ruth", "Sullivan", "Chief Executive", None),
)

COLLEAGUE_LINES = (
    "Are you around for the group meeting on Thursday? I'd like to go through the cooldown schedule.",
    "Thanks for the slides yesterday, the calibration section was really clear.",
    "Could you review the draft abstract before Friday? No rush if you're busy.",
    "Coffee next week? I want to hear how the new fridge is behaving.",
    "The procurement form for the amplifiers is in the shared drive when you get a minute.",
)
REPLY_LINES = (
    "Sure, Thursday works for me.",
    "Thanks! Glad it helped.",
    "Happy to, I'll send comments tomorrow.",
    "Sounds good, Tuesday?",
)
ALUMNI_LINES = (
    "Hi {first}, we overlapped at Edinburgh during the MSc. Saw your post about the new lab, congratulations! Would be great to reconnect.",
    "Hello {first}, I'm organising the department alumni evening in March and wondered if you'd like to give a five-minute lightning talk about your career since graduating.",
)
STUDENT_LINES = (
    "Dear {first}, I'm a final-year physics undergraduate and read your group's paper on surface codes. Are there summer internship openings in your lab, and how should I apply through the university?",
)
RECRUITER_LINES = (
    "Hi {first}, I'm a recruiter at Brightline Photonics. We're hiring a Senior Optical Engineer (hybrid, Cambridge); the role and salary band are on our careers page at https://careers.brightline-photonics.example/jobs/4411. Happy to share more if it's of interest.",
)
SALES_LINES = (
    "Hi {first}, love what Fenwick is doing! We help research labs cut cloud GPU costs by 40% with reserved clusters. Worth a 15-minute demo next week? I can send our pricing sheet.",
    "Hello {first}, quick one: our lab inventory software saves teams 6 hours a week. Can I book you in for a short demo call? Reply STOP to unsubscribe.",
)


@dataclass(frozen=True, slots=True)
class DemoResult:
    workspace: Path
    exports_dir: Path
    staff: int
    eras: tuple[str, ...]
    approaches: int


def _person(first: str, last: str, headline: str, company: str = ORGANISATION, location: str = "") -> Person:
    slug = f"{first}-{last}".lower().replace(" ", "-").replace(".", "")
    return Person(
        first, last, slug=slug, headline=headline, company=company, position=headline, location=location
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, 0, tzinfo=UTC)


# Planted personas, modelled on the published cases (see shared reference: redflags.md).
HELEN = _person(
    "Helen", "Zhao", "Senior Consultant | Meridian Talent Partners | Strategic advisory for deep-tech leaders",
    company="Meridian Talent Partners", location="Singapore",
)  # fmt: skip
KEVIN = _person(
    "Kevin", "Wang", "Research Fellow | Centre for Euro-Asian Technology Policy Studies",
    company="Centre for Euro-Asian Technology Policy Studies", location="Hong Kong",
)  # fmt: skip
LOCKHAVEN = _person(
    "Ryan", "Mitchell", "Talent Acquisition Lead | Lockhaven Aerospace Systems",
    company="Lockhaven Aerospace Systems", location="Arlington, Virginia",
)  # fmt: skip
JESSICA = _person(
    "Jessica", "Li", "Headhunter | RiseHR Executive Search | Europe-Asia talent",
    company="RiseHR", location="Berlin",
)  # fmt: skip
SCAMMER = _person("Brenda", "Coleman", "HR Coordinator | Remote Jobs Hub", company="Remote Jobs Hub")

KEVIN_NOTE = (
    "Dear {first}, I was very impressed by your profile and your work on {topic}. Our centre commissions short "
    "analysis notes on European technology policy from leading experts; the honorarium is generous and we cover "
    "all expenses for an invited seminar in Beijing. May I share details by private email?"
)


def _planted(
    staff: dict[str, Person], start: date
) -> dict[str, tuple[list[ExportConversation], list[ExportInvitation]]]:
    """The planted approaches, by staff slug: (conversations, invitations)."""
    planted: dict[str, tuple[list[ExportConversation], list[ExportInvitation]]] = {}

    def add(slug: str, conv: ExportConversation | None = None, inv: ExportInvitation | None = None) -> None:
        convs, invs = planted.setdefault(slug, ([], []))
        if conv:
            convs.append(conv)
        if inv:
            invs.append(inv)

    amelia = staff["amelia-hart"]
    d = start + timedelta(days=40)
    add(
        amelia.slug or "",
        ExportConversation(
            "demo-helen-amelia",
            (HELEN, amelia),
            (
                ExportMessage(
                    HELEN,
                    _at(d, 9, 12),
                    "Hi Amelia, your profile is truly impressive. I advise a client building a quantum strategy in Asia and they would value your unique insight. This is a flexible, well-paid consultancy role. Could you send me your CV?",
                ),
                ExportMessage(
                    amelia, _at(d + timedelta(days=1), 18, 3), "Thanks Helen. Which client is this?"
                ),
                ExportMessage(
                    HELEN,
                    _at(d + timedelta(days=2), 8, 40),
                    "For confidentiality I cannot name the client yet. As a first step they would pay $2,500 for a short report on UK quantum funding priorities, public information only. Payment can be in USDT if easier. It is simpler to continue on WeChat: my ID is helenz_mtp.",
                ),
                ExportMessage(
                    HELEN,
                    _at(d + timedelta(days=20), 10, 5),
                    "They loved the report. The client invites you to speak at a closed symposium in Shanghai next month, all expenses paid with a generous speaker fee. They are curious about the unpublished roadmap and who in your group has access to the defence-funded project.",
                ),
            ),
        ),
    )
    # The same think-tank note to three researchers (templated wording at scale).
    for i, (slug, topic) in enumerate(
        (
            ("tomasz-nowak", "superconducting qubits"),
            ("markus-brandt", "EUV lithography"),
            ("mei-tanaka", "quantum sensing"),
        )
    ):
        add(
            slug,
            inv=ExportInvitation(
                KEVIN,
                _at(start + timedelta(days=55 + i), 7, 30 + i),
                KEVIN_NOTE.format(first=staff[slug].first_name, topic=topic),
            ),
        )
    daniel = staff["daniel-okafor"]
    d = start + timedelta(days=61)
    add(
        "daniel-okafor",
        ExportConversation(
            "demo-lockhaven-daniel",
            (LOCKHAVEN, daniel),
            (
                ExportMessage(
                    LOCKHAVEN,
                    _at(d, 14, 0),
                    "Hi Daniel, we have a Senior Flight Software role at Lockhaven with a salary well above market. The first step is a short technical assessment.",
                    subject="Senior Flight Software Engineer opportunity",
                ),
                ExportMessage(
                    daniel, _at(d, 16, 30), "Sounds interesting, what does the assessment involve?"
                ),
                ExportMessage(
                    LOCKHAVEN,
                    _at(d + timedelta(days=1), 9, 15),
                    "Please clone our repository from github.com/lockhaven-hiring/skills-test, run npm install and npm start, and fix the failing module within 24 hours. The job description is attached. We can talk on WhatsApp after.",
                    attachments=("Lockhaven_JD_Senior_Flight_Software.pdf",),
                ),
            ),
        ),
    )
    d = start + timedelta(days=70)
    add(
        "markus-brandt",
        ExportConversation(
            "demo-jessica-markus",
            (JESSICA, staff["markus-brandt"]),
            (
                ExportMessage(
                    JESSICA,
                    _at(d, 8, 0),
                    "Sehr geehrter Herr Brandt, ich habe ein Jahr in Deutschland studiert und Ihr Profil hat mich sehr beeindruckt. Ein wichtiger Kunde sucht einen Berater für Halbleiterpolitik. Als Probearbeit bietet er ein Honorar von 2.000 € für einen kurzen Bericht. Bitte senden Sie Ihren Lebenslauf an meine private E-Mail-Adresse.",
                ),
            ),
        ),
    )
    d = start + timedelta(days=75)
    add(
        "kwame-mensah",
        ExportConversation(
            "demo-scam-kwame",
            (SCAMMER, staff["kwame-mensah"]),
            (
                ExportMessage(
                    SCAMMER,
                    _at(d, 11, 0),
                    "Congratulations Kwame! You have been selected for a remote data entry position paying $45/hour, no interview needed. We will mail you a cheque to buy your home office equipment from our approved vendor; please send back the difference by gift cards.",
                ),
            ),
        ),
    )
    return planted


def _ordinary(
    rng: random.Random, me: Person, colleagues: list[Person], outsiders: list[Person], start: date, idx: int
) -> tuple[list[ExportConversation], list[ExportInvitation], list[ExportConnection]]:
    conversations: list[ExportConversation] = []
    invitations: list[ExportInvitation] = []
    connections = [ExportConnection(c, start - timedelta(days=rng.randint(30, 900))) for c in colleagues]
    for n in range(rng.randint(4, 7)):
        other = rng.choice(colleagues)
        day = start + timedelta(days=rng.randint(0, 90))
        first_from_me = rng.random() < 0.5
        a, b = (me, other) if first_from_me else (other, me)
        msgs = [ExportMessage(a, _at(day, 9 + n % 8, rng.randint(0, 59)), rng.choice(COLLEAGUE_LINES))]
        if rng.random() < 0.7:
            msgs.append(ExportMessage(b, _at(day, 17, rng.randint(0, 59)), rng.choice(REPLY_LINES)))
        conversations.append(ExportConversation(f"demo-{idx}-c{n}", (me, other), tuple(msgs)))
    # Inbound first contacts from outside the organisation: ordinary, mostly harmless traffic.
    for n, (template, sender) in enumerate(
        rng.sample(
            [(t, outsiders[0]) for t in ALUMNI_LINES]
            + [(t, outsiders[1]) for t in STUDENT_LINES]
            + [(t, outsiders[2]) for t in RECRUITER_LINES]
            + [(t, outsiders[3]) for t in SALES_LINES],
            k=2,
        )
    ):
        day = start + timedelta(days=rng.randint(5, 85))
        text = template.format(first=me.first_name)
        if rng.random() < 0.4:
            invitations.append(ExportInvitation(sender, _at(day, 10, n), text))
        else:
            conversations.append(
                ExportConversation(
                    f"demo-{idx}-o{n}", (sender, me), (ExportMessage(sender, _at(day, 10, n), text),)
                )
            )
    # A sponsored message and an outgoing invitation: set aside by the reader, counted.
    day = start + timedelta(days=rng.randint(0, 90))
    conversations.append(
        ExportConversation(
            f"demo-{idx}-s",
            (me,),
            (
                ExportMessage(
                    SPONSORED, _at(day, 12), "Upskill your team with LinkedIn Learning.", subject="Sponsored"
                ),
            ),
        )
    )
    invitations.append(ExportInvitation(rng.choice(colleagues), _at(day, 13), "", incoming=False))
    return conversations, invitations, connections


def build_demo(
    core: Lurewatch, directory: Path, on_approach: Callable[[int], None] | None = None
) -> DemoResult:
    """Write the 25 demo exports under ``directory`` and import them into a fresh workspace there."""
    directory = directory.expanduser()
    if directory.exists() and any(directory.iterdir()) and not (directory / _MARKER).exists():
        raise LurewatchError(
            f"{directory}: folder exists and is not a lurewatch demo; choose another with --dir"
        )
    if directory.exists():
        shutil.rmtree(directory)  # only ever our own earlier demo (marker checked above)
    exports = directory / "exports"
    exports.mkdir(parents=True)
    (directory / _MARKER).write_text("Built by `lurewatch demo`; safe to delete.\n", encoding="utf-8")

    rng = random.Random(20261123)
    start = date(2026, 6, 1)
    staff = {
        p.slug or "": p for p in (_person(f, last, f"{role} at {ORGANISATION}") for f, last, role, _ in STAFF)
    }
    people = list(staff.values())
    outsiders = [
        _person(
            "Callum",
            "Fraser",
            "Alumni Relations Officer | University of Edinburgh",
            company="University of Edinburgh",
        ),
        _person(
            "Aisha", "Bello", "Physics undergraduate | University of Leeds", company="University of Leeds"
        ),
        _person(
            "Megan", "Doyle", "Technical Recruiter | Brightline Photonics", company="Brightline Photonics"
        ),
        _person(
            "Jordan", "Blake", "Growth | NimbusCompute | GPU cloud for research", company="NimbusCompute"
        ),
    ]
    planted = _planted(staff, start)
    eras_used: list[str] = []
    for idx, (first, last, _role, excel) in enumerate(STAFF):
        me = staff[f"{first}-{last}".lower()]
        era = ERAS[idx % len(ERAS)]
        eras_used.append(era)
        colleagues = rng.sample([p for p in people if p is not me], k=8)
        conversations, invitations, connections = _ordinary(rng, me, colleagues, outsiders, start, idx)
        extra_convs, extra_invs = planted.get(me.slug or "", ([], []))
        write_export(
            exports / f"Basic_LinkedInDataExport_{first}_{last}.zip",
            era,
            me,
            conversations + extra_convs,
            invitations + extra_invs,
            connections,
            as_zip=True,
            excel=excel,
        )
    workspace_path = directory / "workspace.sqlite"
    total = 0
    with core.open_workspace(workspace_path) as ws:
        for export in sorted(exports.glob("*.zip")):
            progress = None if on_approach is None else (lambda n, base=total: on_approach(base + n))
            _report, summary = core.import_path(ws, str(export), progress)
            total += summary.approaches_added
    return DemoResult(workspace_path, exports, len(STAFF), tuple(dict.fromkeys(eras_used)), total)
