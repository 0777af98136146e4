"""Persona type of the sender from what the recipient sees: headline, company, self-introduction.

Headlines and messages are written for these tests in English, German and French.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.screen.persona import PERSONA_WORDS, PERSONAS, classify_persona, persona_words

HEADLINES: list[tuple[str, str | None, str]] = [
    # (headline, company, persona)
    ("Senior Recruiter | Defence & Aerospace", None, "headhunter"),
    ("Talent Acquisition Partner at Northwind Robotics", "Northwind Robotics", "headhunter"),
    ("Managing Director | Kestrel Executive Search", None, "headhunter"),
    ("Senior Consultant | Alpenrose Executive Search | Aerospace", None, "headhunter"),
    ("Partner", "Harcourt & Lane Search", "headhunter"),
    ("Head of Talent", "Meridex", "headhunter"),
    ("Personalberaterin bei Rhein-Main Executive Partners", None, "headhunter"),
    ("Chasseur de têtes | Cabinet Durand", None, "headhunter"),
    ("Chargée de recrutement", "Groupe Atlas", "headhunter"),
    ("Senior Consultant", "Brightpath HR Consulting", "headhunter"),
    ("Associate Director", "Falcon Ridge Risk Advisory", "consultancy"),
    ("Consultant", "Vector 21 Consulting", "consultancy"),
    ("Berater", "Rhein-Asia Wirtschaftsberatung", "consultancy"),
    ("Associé", "Cabinet Orient Conseil", "consultancy"),
    ("Director", "Northgate Expert Network", "consultancy"),
    (
        "Senior Fellow, Maritime Security Programme",
        "Straits Institute for Strategic Studies",
        "research_fellow",
    ),
    ("Programme Manager", "Nordic Innovation Observatory", "think_tank"),
    ("Director", "Institute for Global Governance Studies", "think_tank"),
    ("Research Director | Meridian Asia Policy Lab", None, "think_tank"),
    ("Referentin", "Stiftung für Internationale Politik", "think_tank"),
    ("Président", "Institut franco-chinois de prospective stratégique", "think_tank"),
    ("Research Fellow", "Centre for Global Health Security", "research_fellow"),
    ("Professor of Materials Science", "Eastern Lakes University", "research_fellow"),
    ("Vice President for Global Engagement", "Southern Bay University of Technology", "research_fellow"),
    ("Dean, School of Microelectronics", None, "research_fellow"),
    ("Wissenschaftliche Mitarbeiterin", "Technische Hochschule Nord", "research_fellow"),
    ("Chercheuse associée", "Université de Lyon", "research_fellow"),
    ("Programme Chair, Global Summit on Trusted AI", None, "conference_organiser"),
    ("General Chair | Asia Quantum Congress 2026", None, "conference_organiser"),
    ("Conference Secretariat", "IQST 2026", "conference_organiser"),
    ("Managing Partner", "Silverline Frontier Capital", "investor"),
    ("Principal", "Kaizen Semiconductor Ventures", "investor"),
    ("Investment Director", "Falcon Crest Investments", "investor"),
    ("Senior Correspondent | Asia Tech Policy Weekly", None, "journalist"),
    ("Host & Producer | Statecraft Unfiltered (podcast)", None, "journalist"),
    ("Redakteurin", "Handelsblatt-Verlag", "journalist"),
    ("Journaliste indépendant", None, "journalist"),
    ("Account Executive | decision intelligence", "Sentrix Analytics", "sales"),
    ("Business Development Representative", "LabelCraft AI", "sales"),
    ("Vertriebsleiter DACH", "Quantix GmbH", "sales"),
    ("Directrice commerciale", "Atelier Numérique", "sales"),
    ("Investment Promotion Officer", "Qiantang Bay New Area Administration", "government_official"),
    (
        "Deputy Director, Overseas Talent Office",
        "Xinhu High-Tech Zone Administrative Committee",
        "government_official",
    ),
    ("Foreign Talent Coordinator", "Jiangbei New Area Administration", "government_official"),
    ("Referent im Bundesministerium für Wirtschaft", None, "government_official"),
    ("Attaché scientifique, Ambassade de France", None, "government_official"),
]


@pytest.mark.parametrize(("headline", "company", "expected"), HEADLINES)
def test_persona_from_the_profile(headline: str, company: str | None, expected: str) -> None:
    assert classify_persona(headline, company) == expected


INTRODUCTIONS: list[tuple[str, str]] = [
    ("Dear Dr. Weber, I am a partner at a boutique executive search firm in Zurich.", "headhunter"),
    ("Hi Tom, I'm Anna, a senior recruiter with a defence electronics group.", "headhunter"),
    ("Dear Mr. Hale, I am recruiting a Vice President of Process Integration.", "headhunter"),
    ("Dear Sir, I am David from Huaxin Technology Consulting. We saw your profile.", "consultancy"),
    ("Hello, I lead a consultancy that prepares research for private clients.", "consultancy"),
    ("Dear Dr. Lambert, I am president of a think tank dedicated to strategic foresight.", "think_tank"),
    ("Dear Professor Engel, on behalf of the China-Global Policy Dialogue Forum I invite you.", "think_tank"),
    ("Dear Mr. Kessler, I am dean of an aeronautics college in Nanjing.", "research_fellow"),
    ("Hello, I'm a research fellow at a centre for maritime studies.", "research_fellow"),
    (
        "Dear Dr. Holt, on behalf of the organising committee I am pleased to invite you.",
        "conference_organiser",
    ),
    ("Hi, we are organising a summit on trusted AI in Singapore.", "conference_organiser"),
    ("Dr. Hartmann, I'm a partner at a deep-tech venture fund in Hong Kong.", "investor"),
    ("Hi Ruth, I'm a journalist writing a feature on regional air combat capability.", "journalist"),
    ("Hi Marcus, I'm an account executive at a data company.", "sales"),
    ("Dear Dr. Shah, I am an official of the new area administration in Hangzhou.", "government_official"),
    ("Sehr geehrte Frau Dr. Kraus, ich bin Personalberaterin und suche Experten.", "headhunter"),
    ("Guten Tag, wir sind eine Unternehmensberatung mit Kunden in Asien.", "consultancy"),
    ("Guten Tag Herr Brandt, ich arbeite als Redakteur für ein Wirtschaftsmagazin.", "journalist"),
    ("Hallo, ich bin Wissenschaftler an einer Hochschule in Shanghai.", "research_fellow"),
    ("Bonjour Madame, je suis chasseur de têtes pour un groupe industriel.", "headhunter"),
    ("Madame, notre cabinet accompagne des clients industriels asiatiques.", "consultancy"),
    ("Bonjour, je suis chercheuse dans un institut de prospective stratégique.", "research_fellow"),
    ("Bonjour Julien, je travaille pour un fonds d'investissement à Genève.", "investor"),
]


@pytest.mark.parametrize(("text", "expected"), INTRODUCTIONS)
def test_persona_from_the_self_introduction(text: str, expected: str) -> None:
    assert classify_persona(None, None, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi, great to meet you at the workshop last week!",
        "I'm impressed by your university's work on batteries.",
        "I am a big fan of your podcast and your newsletter.",
        "I'm happy to come to the ministry or meet somewhere public.",
        "We're offering a free assessment to local governments this quarter.",
        "Our alliance connects quantum founders with investors across Asia.",
        "Ich bin beeindruckt von Ihrer Forschung an der Universität.",
        "Je suis très intéressée par votre conférence.",
        "",
    ],
)
def test_no_persona_when_nothing_says_who_the_sender_is(text: str) -> None:
    assert classify_persona(None, None, text) is None


def test_nothing_visible_is_none() -> None:
    assert classify_persona() is None
    assert classify_persona("", "", "") is None
    assert classify_persona("CTO & Co-founder", "BlockHarbor", "Hi Ana, we're building a platform.") is None


def test_the_headline_comes_before_the_company_and_the_message() -> None:
    # a recruiter for a think tank presents as a recruiter
    assert classify_persona("Recruiter", "Shanghai Institute for Social Development Studies") == "headhunter"
    # the profile wins over what the message says
    assert (
        classify_persona("Research Fellow", None, "I'm a recruiter with a search firm.") == "research_fellow"
    )
    # a generic title gives way to a clear introduction
    assert (
        classify_persona("Consultant", None, "Hi, I am a partner at an executive search firm.")
        == "headhunter"
    )
    # and counts when nothing clearer is there
    assert classify_persona("Senior Consultant", None, "Hello there.") == "consultancy"


def test_the_earliest_role_in_the_headline_wins() -> None:
    assert classify_persona("Editor & Research Associate | Horizon Policy Circle") == "journalist"
    assert classify_persona("Delegate Sales | Quantum Business Summit Asia") == "sales"


def test_every_persona_has_words() -> None:
    assert set(PERSONA_WORDS) == set(PERSONAS)
    assert persona_words("headhunter") == "a headhunter"
    assert persona_words(None) == "unclear"
    assert persona_words("something_new") == "something new"
    found = {p for _, _, p in HEADLINES} | {p for _, p in INTRODUCTIONS}
    assert found == set(PERSONAS)


def test_odd_values_do_not_break_it() -> None:
    assert classify_persona(["Recruiter"], 7, b"I am a recruiter") is None  # type: ignore[arg-type]


def test_input_is_bounded_in_time() -> None:
    long_headline = "Recruiter " * 100_000
    long_message = "I am a " + "very " * 1_000_000 + "recruiter."
    start = time.perf_counter()
    assert classify_persona(long_headline) == "headhunter"
    assert classify_persona(None, None, long_message) is None  # the role is far beyond the opening
    assert time.perf_counter() - start < 0.5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.text(max_size=100), st.text(max_size=600))
def test_any_text_gives_a_persona_or_none(headline: str, company: str, text: str) -> None:
    assert classify_persona(headline, company, text) in (*PERSONAS, None)
