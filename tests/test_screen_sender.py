"""Sender signals (P1-P6, S10), and the language and persona every assessment reports.

What is tested is what a recipient can see of the sender: headline, company, location, photo, network size,
account age, and the recipient's own sector. The messages are written for these tests.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.display import approach_json, explain_lines
from lurewatch.errors import CatalogueError
from lurewatch.model import Account, Approach, Assessment, Category, Channel, Conversation, Message, Signal
from lurewatch.screen.catalogue import load_catalogue, parse_catalogue
from lurewatch.screen.engine import Screener
from lurewatch.screen.persona import PERSONAS

THREATS = {Category.STATE_APPROACH, Category.MALWARE_LURE}


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener()


def make(
    *texts: str,
    sender: Account | None = None,
    recipient: Account | None = None,
    connected: bool | None = None,
) -> Approach:
    sender = sender or Account(key="linkedin:sender", name="Sam Sender")
    recipient = recipient or Account(key="linkedin:recipient", name="Robin Recipient")
    messages = tuple(
        Message(id=f"m{i}", conversation_id="c", sender_key=sender.key, sent_at=None, text=text)
        for i, text in enumerate(texts)
    )
    return Approach(
        id="a1",
        sender=sender,
        recipient=recipient,
        conversation=Conversation(id="c", messages=messages),
        channel=Channel.LINKEDIN_MESSAGE,
        sender_is_connection=connected,
    )


def fired(assessment: Assessment) -> dict[str, Signal]:
    return {s.indicator_id: s for s in assessment.signals}


# -- language and persona on every assessment ------------------------------------------------------

GERMAN = (
    "Sehr geehrte Frau Dr. Krüger, ich bin Personalberaterin und suche für einen wichtigen Kunden Experten, "
    "die kurze, gut bezahlte Berichte zur Halbleiterpolitik schreiben. Können wir auf WeChat weitersprechen?"
)
FRENCH = (
    "Bonjour Madame, je suis chercheur dans un institut de prospective stratégique. Nous vous proposons une "
    "collaboration rémunérée sous forme de notes d'analyse. Continuons sur WhatsApp."
)


def test_assessment_reports_language_and_persona(screener: Screener) -> None:
    german = screener.assess(make(GERMAN))
    assert (german.language, german.persona) == ("de", "headhunter")
    french = screener.assess(make(FRENCH))
    assert (french.language, french.persona) == ("fr", "research_fellow")
    english = screener.assess(
        make(
            "Hello, thanks for the talk yesterday. Could you share the slides?",
            sender=Account(key="linkedin:x", headline="Programme Chair, Quantum Summit 2026"),
        )
    )
    assert (english.language, english.persona) == ("en", "conference_organiser")
    short = screener.assess(make("ok"))
    assert (short.language, short.persona) == ("und", None)


def test_language_is_read_from_inbound_messages_only(screener: Screener) -> None:
    sender = Account(key="linkedin:s")
    recipient = Account(key="linkedin:r")
    messages = (
        Message(
            id="0", conversation_id="c", sender_key="linkedin:r", sent_at=None, text=FRENCH, inbound=False
        ),
        Message(id="1", conversation_id="c", sender_key="linkedin:s", sent_at=None, text=GERMAN),
    )
    approach = Approach(
        id="a",
        sender=sender,
        recipient=recipient,
        conversation=Conversation("c", messages),
        channel=Channel.EMAIL,
    )
    assert screener.assess(approach).language == "de"


def test_language_and_persona_are_the_last_fields_and_survive_pickling(screener: Screener) -> None:
    names = [f.name for f in dataclasses.fields(Assessment)]
    assert names[-2:] == ["language", "persona"]
    result = screener.assess(make(GERMAN))
    again = pickle.loads(pickle.dumps(result))
    assert again == result and again.language == "de" and again.persona == "headhunter"
    # positional construction without them still works
    bare = Assessment("x", Category.BENIGN, 0.0, (), ())
    assert bare.language is None and bare.persona is None


def test_assess_many_and_workers_report_them_too(screener: Screener) -> None:
    approaches = [dataclasses.replace(make(GERMAN if i % 2 else FRENCH), id=f"a{i}") for i in range(6)]
    serial = [a.language for _, a in screener.assess_many(approaches)]
    assert serial == ["fr", "de"] * 3


def test_json_and_explanation_show_them(screener: Screener) -> None:
    approach = make(GERMAN)
    assessment = screener.assess(approach)
    record = approach_json(approach, assessment)
    assert record["language"] == "de" and record["persona"] == "headhunter"
    lines = [line for line, _ in explain_lines(approach, assessment)]
    assert "Language: German" in lines
    assert "Sender presents as: a headhunter" in lines
    unclear = screener.assess(make("ok"))
    lines = [line for line, _ in explain_lines(make("ok"), unclear)]
    assert "Language: not determined (too short or unclear)" in lines
    assert not any(line.startswith("Sender presents as") for line in lines)
    # assessments stored before languages were detected show neither line
    old = dataclasses.replace(assessment, language=None, persona=None)
    assert not any(line.startswith(("Language", "Sender")) for line, _ in explain_lines(approach, old))
    assert approach_json(approach, old)["language"] is None


def test_build_without_the_approach_leaves_them_unset(screener: Screener) -> None:
    result = screener._screen(Account(key="k"), ((0, GERMAN, "", None),), 0)
    built = screener._build("id", Channel.PASTED, result)
    assert built.language is None and built.persona is None


# -- P1: a persona type approaching someone in a sensitive field ---------------------------------


def recruiter_to(sector: str | None) -> Approach:
    sender = Account(key="linkedin:rec", headline="Senior Recruiter | Executive Search")
    recipient = Account(key="linkedin:me", sector=sector)
    return make("Hello, I would like to discuss an opportunity with you.", sender=sender, recipient=recipient)


def test_p1_full_weight_for_a_sensitive_or_unknown_field(screener: Screener) -> None:
    p1 = screener.catalogue.get("P1")
    assert p1 is not None
    quantum = fired(screener.assess(recruiter_to("quantum")))["P1"]
    assert quantum.weight == p1.weight
    assert "approaching someone in quantum" in quantum.first_evidence
    unknown = fired(screener.assess(recruiter_to(None)))["P1"]
    assert unknown.weight == p1.weight
    assert "approaching" not in unknown.first_evidence


def test_p1_less_weight_for_a_field_known_to_be_elsewhere(screener: Screener) -> None:
    p1 = screener.catalogue.get("P1")
    assert p1 is not None
    elsewhere = screener.assess(recruiter_to("other"))
    assert 0 < fired(elsewhere)["P1"].weight < p1.weight
    assert elsewhere.risk <= screener.assess(recruiter_to("quantum")).risk
    assert fired(screener.assess(recruiter_to(" Quantum ")))["P1"].weight == p1.weight


def test_recipient_sectors_in_a_catalogue() -> None:
    base = """
version = "t.1"
[[indicator]]
id = "Z1"
title = "Recruiter"
sources = ["Somewhere — https://example.org/z1"]
weight = 0.5
supports = ["state_approach"]
[[indicator.matchers]]
kind = "field"
fields = ["headline"]
patterns = ['\\brecruiter\\b']
recipient_sectors = ["quantum"]
"""
    cat = parse_catalogue(base)
    screener = Screener(cat)
    assert "Z1" in fired(screener.assess(recruiter_to("quantum")))
    assert "Z1" in fired(screener.assess(recruiter_to(None)))
    assert "Z1" not in fired(screener.assess(recruiter_to("other")))  # no otherwise_weight: silent
    with_other = Screener(parse_catalogue(base + "otherwise_weight = 0.2\n"))
    assert fired(with_other.assess(recruiter_to("other")))["Z1"].weight == 0.2
    with pytest.raises(CatalogueError, match="otherwise_weight"):
        parse_catalogue(base.replace('recipient_sectors = ["quantum"]', "otherwise_weight = 0.2"))


# -- P2: invented names and look-alikes of real firms ---------------------------------------------


@pytest.mark.parametrize(
    ("company", "resembles"),
    [
        ("Collinsford Aerospace", "Collins Aerospace"),
        ("Oliver Wymann Partners", "Oliver Wyman"),
        ("Heidrik & Struggles", "Heidrick & Struggles"),
        ("Spencer Stewart", "Spencer Stuart"),
        ("Center for Strategic and Internationl Studies", "Center for Strategic and International Studies"),
    ],
)
def test_p2_lookalikes(screener: Screener, company: str, resembles: str) -> None:
    result = screener.assess(
        make("Hello, a quick question.", sender=Account(key="linkedin:x", company=company))
    )
    assert f"resembles {resembles}" in fired(result)["P2"].first_evidence


@pytest.mark.parametrize(
    "company",
    [
        "Collins Aerospace",
        "Collins Pharmaceuticals",
        "Spencer Stuart",
        "Korn Ferry",
        "Heidrick & Struggles",
        "Collinson",
    ],
)
def test_p2_leaves_real_firms_and_other_names_alone(screener: Screener, company: str) -> None:
    result = screener.assess(
        make("Hello, a quick question.", sender=Account(key="linkedin:x", company=company))
    )
    assert "P2" not in fired(result)


def test_p2_named_covers(screener: Screener) -> None:
    sender = Account(key="linkedin:x", company="Center for Sino-Europe Development Studies")
    assert fired(screener.assess(make("Hello.", sender=sender)))["P2"].weight >= 0.9


# -- P3: location versus claimed employer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("company", "location", "fires"),
    [
        ("Rhein-Asia Beratung", "Frankfurt am Main, Germany", True),
        ("Sino-Nordic Policy Exchange", "Oslo, Norway", True),
        ("LusoAsia Partners", "Lisbon, Portugal", True),
        ("Rhein-Asia Beratung", "Shanghai, China", False),
        ("Thames Analytics", "London, England, United Kingdom", False),
        ("Sino-Nordic Policy Exchange", None, False),
        ("Anything", "Hong Kong SAR", True),
        ("Anything", "Zug, Switzerland", True),
    ],
)
def test_p3(screener: Screener, company: str, location: str | None, fires: bool) -> None:
    sender = Account(key="linkedin:x", company=company, location=location)
    assert ("P3" in fired(screener.assess(make("Hello.", sender=sender)))) is fires


def test_p3_never_decides_alone(screener: Screener) -> None:
    sender = Account(key="linkedin:x", company="Rhein-Asia Beratung", location="Berlin, Germany")
    assert screener.assess(make("Hello.", sender=sender)).category is Category.BENIGN


# -- P4, P5, P6, S10 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("photo", "fires"),
    [
        ("stock", True),
        ("model-like", True),
        ("ai-generated", True),
        ("AI-Generated", True),
        ("stolen", True),
        ("real", False),
        ("none", False),
        ("unknown", False),
        (None, False),
    ],
)
def test_p4_photo_values(screener: Screener, photo: str | None, fires: bool) -> None:
    sender = Account(key="linkedin:x", photo=photo)
    assert ("P4" in fired(screener.assess(make("Hello.", sender=sender)))) is fires


def test_p6_is_a_new_profile_and_s10_a_thin_network(screener: Screener) -> None:
    new = fired(screener.assess(make("Hello.", sender=Account(key="linkedin:x", account_age_days=30))))
    assert "P6" in new and "S10" not in new
    thin = fired(screener.assess(make("Hello.", sender=Account(key="linkedin:x", connections=12))))
    assert "S10" in thin and "P6" not in thin
    s10 = screener.catalogue.get("S10")
    assert s10 is not None and s10.supports == (Category.SCAM,)
    old = fired(screener.assess(make("Hello.", sender=Account(key="linkedin:x", account_age_days=4000))))
    assert "P6" not in old


def test_p5_records_a_large_network_without_reassurance(screener: Screener) -> None:
    big = fired(screener.assess(make("Hello.", sender=Account(key="linkedin:x", connections=2400))))
    assert "P5" in big and big["P5"].supports == (Category.STATE_APPROACH,)
    catalogue = load_catalogue()
    # no indicator is evidence for "benign" from the network size
    for indicator in catalogue:
        if indicator.is_benign_cue:
            assert not any(getattr(m, "field", None) == "connections" for m in indicator.matchers)


SHARED_CONTACTS = (
    "We have 14 mutual connections, including your former director, and a shared contact suggested I reach out.",
    "Wir haben viele gemeinsame Kontakte.",
    "Nous avons plusieurs relations en commun.",
)


@pytest.mark.parametrize("mention", SHARED_CONTACTS)
def test_shared_contacts_never_lower_the_risk(screener: Screener, mention: str) -> None:
    offer = (
        "I lead a consultancy for private clients in Asia. We would pay USD 3,000 per short report on your "
        "ministry's policy. Let's continue on WeChat."
    )
    plain = screener.assess(make(offer))
    with_contacts = screener.assess(make(offer + " " + mention))
    assert with_contacts.risk >= plain.risk
    for connected in (True, False, None):
        assert screener.assess(make(offer, connected=connected)).risk == plain.risk


# -- property: more connections never lower the risk ----------------------------------------------

WORDS = [
    "report", "paid", "consultancy", "client", "confidential", "WeChat", "WhatsApp", "trip", "Shanghai",
    "expenses", "CV", "conference", "speaker", "job", "fee", "payment", "crypto", "webinar", "demo",
    "honorarium", "analysis", "non-public", "colleagues", "access", "Bericht", "Honorar", "rapport",
    "rémunérée", "we met at", "job posting", "do not share confidential information",
]  # fmt: skip
texts = st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(texts, min_size=1, max_size=3),
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=100_000),
    st.one_of(st.none(), st.integers(min_value=0, max_value=5_000)),
    st.one_of(st.none(), st.sampled_from(["stock", "real", "ai-generated", "none"])),
    st.one_of(st.none(), st.sampled_from(["Senior Recruiter", "Research Fellow", "Sales", "Engineer"])),
    st.one_of(st.none(), st.sampled_from(["quantum", "other", "government"])),
)
def test_raising_connections_never_lowers_the_risk(
    screener: Screener,
    bodies: list[str],
    first: int,
    second: int,
    age: int | None,
    photo: str | None,
    headline: str | None,
    sector: str | None,
) -> None:
    fewer, more = sorted((first, second))
    sender = Account(key="linkedin:p", headline=headline, account_age_days=age, photo=photo)
    recipient = Account(key="linkedin:r", sector=sector)
    low = screener.assess(
        make(*bodies, sender=dataclasses.replace(sender, connections=fewer), recipient=recipient)
    )
    high = screener.assess(
        make(*bodies, sender=dataclasses.replace(sender, connections=more), recipient=recipient)
    )
    assert high.risk >= low.risk
    assert high.category_scores[Category.STATE_APPROACH] >= low.category_scores[Category.STATE_APPROACH]


def test_persona_values_are_known(screener: Screener) -> None:
    for headline in ("Recruiter", "Research Fellow", "Journalist", None):
        persona = screener.assess(make("Hello.", sender=Account(key="k", headline=headline))).persona
        assert persona is None or persona in PERSONAS


def test_catalogue_documents_its_sender_signals() -> None:
    text = (Path(__file__).resolve().parents[1] / "src/lurewatch/data/indicators.toml").read_text(
        encoding="utf-8"
    )
    assert "recipient_sectors" in text and "otherwise_weight" in text
