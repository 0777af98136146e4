"""The rule engine: which indicators fire on hand-written messages, scoring, trajectories and advice.

The messages here are written for these tests, in the phrasing public guidance describes (not copied
from the labelled corpus), in English, German and French.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lurewatch.model import Account, Approach, Assessment, Category, Channel, Conversation, Message, Signal
from lurewatch.screen.advice import advice_for
from lurewatch.screen.catalogue import Indicator, load_catalogue
from lurewatch.screen.engine import NoisyOrScorer, Scores, Screener, TemplateTracker
from lurewatch.screen.matchers import SequenceMatcher, TextMatcher
from lurewatch.settings import Settings

THREATS = {Category.STATE_APPROACH, Category.MALWARE_LURE}


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener()


def account(key: str = "linkedin:sender", **fields: object) -> Account:
    return Account(key=key, **fields)  # type: ignore[arg-type]


def approach(
    *texts: str | tuple[str, bool],
    sender: Account | None = None,
    recipient: Account | None = None,
    channel: Channel = Channel.LINKEDIN_MESSAGE,
    subject: str = "",
    attachments: dict[int, tuple[str, ...]] | None = None,
    approach_id: str = "a1",
) -> Approach:
    """An approach whose messages are ``texts``; a (text, False) pair is the recipient's reply."""
    sender = sender or account(name="Sender Person")
    recipient = recipient or account("linkedin:recipient", name="Robin Recipient")
    messages = []
    for i, item in enumerate(texts):
        text, inbound = item if isinstance(item, tuple) else (item, True)
        messages.append(
            Message(
                id=f"{approach_id}:{i}",
                conversation_id=approach_id,
                sender_key=sender.key if inbound else recipient.key,
                sent_at=None,
                text=text,
                subject=subject if i == 0 else "",
                inbound=inbound,
                channel=channel,
                attachments=(attachments or {}).get(i, ()),
            )
        )
    conversation = Conversation(id=approach_id, messages=tuple(messages), channel=channel)
    return Approach(
        id=approach_id, sender=sender, recipient=recipient, conversation=conversation, channel=channel
    )


def fired(assessment: Assessment) -> dict[str, Signal]:
    return {s.indicator_id: s for s in assessment.signals}


def span_text(a: Approach, signal: Signal) -> str:
    """The exact text an evidence span points at, read back from the approach."""
    ev = signal.evidence[0]
    m = re.fullmatch(r"message\[(\d+)\]\.(text|subject|attachments)", ev.field)
    if m:
        msg = a.conversation.messages[int(m.group(1))]
        value = {"text": msg.text, "subject": msg.subject, "attachments": ", ".join(msg.attachments)}[
            m.group(2)
        ]
    else:
        value = getattr(a.sender, ev.field.removeprefix("sender."))
    return value[ev.start : ev.end]


# -- specific indicators with their evidence ------------------------------------------------------

PAID_REPORTS = (
    "Dear Dr. Fischer, I lead a consultancy that prepares research for private clients in Asia. "
    "We would like to commission short reports from you on trade policy, USD 2,500 per report. "
    "Given the subject, it is easier to continue on WhatsApp or by personal e-mail."
)


def test_english_paid_report_offer(screener: Screener) -> None:
    a = approach(
        PAID_REPORTS, sender=account(name="Alan Lee", headline="Senior Consultant | Policy research")
    )
    result = screener.assess(a)
    signals = fired(result)
    assert {"M3", "M6", "M7", "P1"} <= signals.keys()
    assert result.category is Category.STATE_APPROACH
    assert result.risk >= 0.5 and result.severity in {"medium", "high"}
    assert "report" in span_text(a, signals["M3"]).lower()
    assert span_text(a, signals["M7"]).lower().startswith("clients in asia")
    assert signals["M6"].evidence[0].field == "message[0].text"
    assert signals["P1"].evidence[0].field == "sender.headline"
    assert span_text(a, signals["P1"]) == "Consultant"
    # the evidence text shows the span with a little context, whitespace collapsed, bounded
    for s in result.signals:
        for ev in s.evidence:
            assert len(ev.text) <= 260 and "\n" not in ev.text


def test_german_approach_in_the_bfv_pattern(screener: Screener) -> None:
    text = (
        "Sehr geehrte Frau Weber, ich bin Beraterin einer Agentur in Shanghai und habe großes Interesse an "
        "Ihrem Fachgebiet. Für eine bezahlte Probearbeit (Honorar 2.000 Euro) bitte ich Sie, mir Ihren "
        "Lebenslauf an meine private E-Mail-Adresse zu senden. Unser Auftraggeber ist ein wichtiger Kunde, "
        "die Angelegenheit ist vertraulich."
    )
    a = approach(text)
    signals = fired(screener.assess(a))
    assert {"M3", "M5", "M6", "M7"} <= signals.keys()
    assert "probearbeit" in span_text(a, signals["M3"]).lower()
    assert "lebenslauf" in span_text(a, signals["M5"]).lower()
    assert "private e-mail" in span_text(a, signals["M6"]).lower()
    assert screener.assess(a).category is Category.STATE_APPROACH


def test_french_approach_in_the_dgsi_pattern(screener: Screener) -> None:
    text = (
        "Madame, notre cabinet recherche des experts pour rédiger des notes d’analyse sur la politique "
        "européenne, très bien rémunérées. Pour des raisons de confidentialité, nous utilisons une "
        "messagerie chiffrée. Pourriez-vous m’envoyer votre CV à jour ?"
    )
    a = approach(text)
    result = screener.assess(a)
    signals = fired(result)
    assert {"M2", "M3", "M5", "M6"} <= signals.keys()
    assert span_text(a, signals["M3"]).lower().startswith("notes d")
    assert result.category is Category.STATE_APPROACH


def test_named_cover_organisation_and_lookalike(screener: Screener) -> None:
    a = approach(
        "Hello, happy to connect.", sender=account(company="RiseHR Consulting", headline="Headhunter")
    )
    p2 = fired(screener.assess(a))["P2"]
    assert p2.weight == pytest.approx(0.9)
    assert p2.evidence[0].field == "sender.company" and span_text(a, p2).lower() == "risehr"
    lookalike = approach("Hello.", sender=account(company="General Dynamix Mission Systems"))
    signal = fired(screener.assess(lookalike)).get("P2")
    assert signal is not None and "General Dynamics" in signal.evidence[0].text
    real = approach("Hello.", sender=account(company="General Dynamics Mission Systems"))
    assert "P2" not in fired(screener.assess(real))


def test_free_mail_address_for_a_corporate_role(screener: Screener) -> None:
    corporate = account("email:a@163.com", email="a.recruiter@163.com", company="Huaxin Consulting Co.")
    assert "P2" in fired(screener.assess(approach("Dear sir, a question.", sender=corporate)))
    student = account("email:s@gmail.com", email="student@gmail.com")
    assert "P2" not in fired(screener.assess(approach("Dear professor, a question.", sender=student)))


def test_profile_values(screener: Screener) -> None:
    fake = account(photo="ai-generated", connections=12, account_age_days=20)
    signals = fired(screener.assess(approach("Hi, let's connect.", sender=fake)))
    assert {"P4", "P6"} <= signals.keys()
    assert signals["P4"].evidence[0].field == "sender.photo"
    established = account(photo="real", connections=300, account_age_days=3000)
    assert not {"P4", "P5", "P6"} & fired(screener.assess(approach("Hi.", sender=established))).keys()
    assert "P5" in fired(screener.assess(approach("Hi.", sender=account(connections=900))))


def test_malware_lure_with_an_attachment_and_a_repository(screener: Screener) -> None:
    a = approach(
        "Hi, we are hiring flight-control engineers. I have attached the job description; please open it on "
        "your work computer and click Enable Content to see the salary table.",
        attachments={0: ("JD_FlightControl.zip",)},
    )
    result = screener.assess(a)
    m10 = fired(result)["M10"]
    assert result.category is Category.MALWARE_LURE and result.risk >= 0.5
    attached = [ev for ev in m10.evidence if ev.field == "message[0].attachments"]
    assert attached and all("JD_FlightControl.zip" in ev.text for ev in attached)
    assert {span_text(a, dataclasses.replace(m10, evidence=(ev,))) for ev in attached} <= {
        "JD_FlightControl.zip",
        ".zip",
    }
    two = approach("See the files.", attachments={0: ("notes.pdf", "setup.exe")})
    m10_two = fired(screener.assess(two))["M10"]
    assert ".exe" in {span_text(two, dataclasses.replace(m10_two, evidence=(ev,))) for ev in m10_two.evidence}
    spans = [span_text(a, dataclasses.replace(m10, evidence=(ev,))).lower() for ev in m10.evidence]
    assert any(s.endswith(("attached", "work computer", "enable content")) for s in spans), spans
    assert len({(ev.field, ev.start, ev.end) for ev in m10.evidence}) == len(m10.evidence), (
        "no duplicate spans"
    )
    repo = approach(
        "Great call. Next step is a quick take-home: git clone our repo from github.com/acme-web3/dashboard, "
        "run npm install and npm start, and fix the bug. Please run it directly, not in a container."
    )
    assert screener.assess(repo).category is Category.MALWARE_LURE


def test_job_scam_is_a_scam_not_a_state_approach(screener: Screener) -> None:
    result = screener.assess(
        approach(
            "Congratulations, you have been selected for the remote data entry role, $35/hr. No interview is "
            "necessary. To start, you need to pay a one-time registration fee of $120 and send your bank "
            "account and routing numbers for direct deposit."
        )
    )
    assert result.category is Category.SCAM
    assert {"S1", "S7", "S8"} <= fired(result).keys()
    assert result.risk < 0.3


def test_legitimate_recruiter_is_not_a_state_approach(screener: Screener) -> None:
    recruiter = account(
        name="Jane Smith",
        headline="Technical Recruiter at Example Robotics",
        company="Example Robotics",
        connections=900,
    )
    result = screener.assess(
        approach(
            "Hi Robin, I recruit for Example Robotics' perception team in Munich. We have a Senior SLAM "
            "Engineer opening (requisition R-20931), posted on our careers page at "
            "example-robotics.com/careers. Your paper on loop closure at ICRA is very relevant. "
            "Would you be open to a call?",
            sender=recruiter,
        )
    )
    assert result.category not in THREATS
    assert "B1" in fired(result)
    assert result.risk < 0.3


def test_sales_pitch_is_commercial(screener: Screener) -> None:
    seller = account(headline="Account Executive | CloudLab LIMS for biotech startups", photo="ai-generated")
    result = screener.assess(
        approach(
            "Hi Robin, we help biotech startups replace spreadsheets with a LIMS. Free 14-day trial, no "
            "credit card, and 20% off the first year. Would a 15-minute demo next week work?",
            "Just following up in case this got buried. Happy to send our pricing sheet.",
            sender=seller,
        )
    )
    assert result.category is Category.COMMERCIAL
    assert {"K1", "K3"} <= fired(result).keys()
    assert result.risk < 0.3


def test_conference_invitation_with_public_programme_is_damped(screener: Screener) -> None:
    base = (
        "Dear Professor, we would like to invite you as a keynote speaker at our conference. Flights "
        "and hotel are covered and we offer an honorarium."
    )
    public = base + " The call for papers, the programme and last year's recordings are on our website."
    bare, verified = screener.assess(approach(base)), screener.assess(approach(public))
    assert "M4" in fired(bare) and "B2" in fired(verified)
    assert verified.risk < bare.risk


def test_negated_requests_do_not_fire(screener: Screener) -> None:
    careful = screener.assess(
        approach(
            "This is a paid expert survey. Please do not share confidential information or anything "
            "classified; you must not share material non-public information."
        )
    )
    assert "X1" not in fired(careful)
    assert "B5" in fired(careful)
    blunt = screener.assess(approach("Could you send us the internal documents on the programme?"))
    assert "X1" in fired(blunt)


def test_unfilled_mail_merge_placeholders(screener: Screener) -> None:
    result = screener.assess(approach("Dear {FirstName}, I am impressed by your work in [FIELD]."))
    assert "M9" in fired(result)


# -- trajectory -----------------------------------------------------------------------------------

FIRST = (
    "Hello, I run a small research network on Europe-Asia trade and would value your views. Glad to connect."
)
ESCALATION = (
    FIRST,
    ("Happy to talk in general terms.", False),
    "Thanks. To start, a short paper from public sources is fine, EUR 800.",
    ("Sent.", False),
    "Excellent. Next, our client would like the internal planning documents your team prepared, and to know "
    "who else in your office has access to them. Could you introduce me to them?",
)


def test_escalation_scores_higher_than_the_first_message(screener: Screener) -> None:
    alone = screener.assess(approach(FIRST))
    whole = screener.assess(approach(*ESCALATION))
    assert {"C1", "C4"} <= fired(whole).keys()
    assert not {"C1", "C4"} & fired(alone).keys()
    assert whole.risk > alone.risk
    assert whole.category is Category.STATE_APPROACH
    assert alone.risk_rose_at is None
    assert whole.risk_rose_at == 4, "the risk crossed the alert threshold at the escalating message"
    assert fired(whole)["C1"].weight == pytest.approx(0.6), "the earlier public-sources ask strengthens C1"


def test_sequence_indicators_need_a_later_message(screener: Screener) -> None:
    # the same non-public ask in the very first message is X1, not the C1 escalation
    first_only = screener.assess(approach(ESCALATION[-1]))  # type: ignore[arg-type]
    assert "C1" not in fired(first_only) and "X1" in fired(first_only)
    # replies from the recipient are never scanned
    reply = screener.assess(approach(FIRST, ("Please send the internal planning documents.", False)))
    assert "C1" not in fired(reply)


def test_risk_rose_at_is_the_first_inbound_message_for_profile_signals(screener: Screener) -> None:
    a = approach(("Hello?", False), PAID_REPORTS, sender=account(company="Data 31 Consulting"))
    result = screener.assess(a)
    assert result.risk >= 0.5 and result.risk_rose_at == 1


# -- properties -----------------------------------------------------------------------------------

WORDS = [
    "report",
    "paid",
    "client",
    "Asia",
    "confidential",
    "WhatsApp",
    "internal",
    "documents",
    "CV",
    "send",
    "keynote",
    "expenses",
    "covered",
    "colleagues",
    "access",
    "fee",
    "cash",
    "crypto",
    "not",
    "please",
    "Probearbeit",
    "Lebenslauf",
    "rémunéré",
    "chiffrée",
    "unsubscribe",
    "demo",
    "attached",
    "npm install",
]
texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=40).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(texts, min_size=1, max_size=4),
    st.one_of(st.none(), st.sampled_from(["stock", "real", "ai-generated", "model-like"])),
    st.one_of(st.none(), st.integers(min_value=0, max_value=50_000)),
)
def test_risk_and_scores_stay_in_range(
    screener: Screener, bodies: list[str], photo: str | None, conns: int | None
) -> None:
    result = screener.assess(approach(*bodies, sender=account(photo=photo, connections=conns)))
    assert 0.0 <= result.risk <= 1.0
    assert all(0.0 <= v <= 1.0 for v in result.category_scores.values())
    assert set(result.category_scores) == set(Category)
    assert result.risk_rose_at is None or 0 <= result.risk_rose_at < len(bodies)
    assert result.advice and result.catalogue_version == screener.catalogue.version


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts,
    st.one_of(st.none(), st.integers(min_value=50, max_value=5_000)),
    st.integers(min_value=0, max_value=100_000),
    st.one_of(st.none(), st.integers(min_value=0, max_value=5_000)),
)
def test_a_larger_network_never_lowers_risk(
    screener: Screener, body: str, before: int | None, extra: int, age: int | None
) -> None:
    """P5: connections are borrowed legitimacy. (Below 50 a count is the thin-profile signal P6.)"""
    small = account(connections=before, account_age_days=age, headline="Consultant")
    large = dataclasses.replace(small, connections=(before or 50) + extra)
    risk_small = screener.assess(approach(body, sender=small)).risk
    risk_large = screener.assess(approach(body, sender=large)).risk
    assert risk_large >= risk_small


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_prefilter_never_hides_a_match(screener: Screener, body: str) -> None:
    """Gated matching (anchors, positions, lower-cased text) finds what a plain search finds."""
    gate = screener._gate
    cand = gate.candidates(body, False)
    for pid, probe in enumerate(p.probe for p in screener._probes):
        plain = probe.search(body)
        gated = gate.run(pid, cand) if pid in cand.ids() else None
        assert (plain is None) == (gated is None), probe.regex.pattern[:80]


def test_prefilter_handles_text_whose_length_changes_when_lower_cased(screener: Screener) -> None:
    text = "İstanbul office: we commission short reports, USD 2,000 per report, for clients in Asia."
    assert len(text.lower()) != len(text)
    signals = fired(screener.assess(approach(text)))
    assert {"M3", "M7"} <= signals.keys()


# -- scoring --------------------------------------------------------------------------------------


def test_nothing_fired_is_benign(screener: Screener) -> None:
    result = screener.assess(approach("Thanks for the great talk yesterday, see you next year!"))
    assert result.category is Category.BENIGN and result.risk == 0.0
    assert result.category_scores[Category.BENIGN] == 1.0


def test_noisy_or_scorer_rules() -> None:
    cat = load_catalogue()
    scorer = NoisyOrScorer(decision_floor=0.35)

    def get(i: str) -> Indicator:
        ind = cat.get(i)
        assert ind is not None
        return ind

    weak = scorer.score([(get("P1"), 0.1)])
    assert weak.category is Category.BENIGN and 0 < weak.risk < 0.2
    strong = scorer.score([(get("M3"), 0.35), (get("M7"), 0.4), (get("C4"), 0.5)])
    assert strong.category is Category.STATE_APPROACH
    assert strong.by_category[Category.STATE_APPROACH] == pytest.approx(1 - 0.65 * 0.6 * 0.5)
    damped = scorer.score([(get("M3"), 0.35), (get("M7"), 0.4), (get("C4"), 0.5), (get("B1"), 0.45)])
    assert damped.risk < strong.risk
    # a scam explanation lowers the risk of the same threat evidence, but never raises it
    explained = scorer.score([(get("M3"), 0.35), (get("S1"), 0.6), (get("S2"), 0.7)])
    alone = scorer.score([(get("M3"), 0.35)])
    assert explained.risk <= alone.risk and explained.category is Category.SCAM
    with pytest.raises(ValueError):
        NoisyOrScorer(decision_floor=0)


def test_a_custom_scorer_can_replace_the_rules() -> None:
    class AlwaysCommercial:
        def score(self, fired: Sequence[tuple[Indicator, float]]) -> Scores:
            return Scores(Category.COMMERCIAL, 0.0, {c: 0.0 for c in Category})

    result = Screener(scorer=AlwaysCommercial()).assess(approach(PAID_REPORTS))
    assert result.category is Category.COMMERCIAL and result.risk == 0.0
    assert fired(result), "signals are still reported with a custom scorer"


def test_alert_threshold_comes_from_settings() -> None:
    lax = Screener(settings=Settings(alert_threshold=0.99))
    assert lax.assess(approach(*ESCALATION)).risk_rose_at is None


def test_extra_catalogue_from_settings(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        """
[[indicator]]
id = "ACME1"
title = "Mentions project bluebird"
sources = ["Internal guidance"]
weight = 0.8
supports = ["state_approach"]
[[indicator.matchers]]
kind = "text"
patterns = ['\\bproject bluebird\\b']
""",
        encoding="utf-8",
    )
    screener = Screener(settings=Settings(catalogue=extra))
    result = screener.assess(approach("Tell me about Project Bluebird."))
    assert "ACME1" in fired(result) and result.catalogue_version.startswith("2026.11.2+")


def test_subject_scope_and_after_ordering(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        r"""
[[indicator]]
id = "ZS"
title = "Urgent subject line"
sources = ["Internal guidance"]
weight = 0.3
supports = ["scam"]
[[indicator.matchers]]
kind = "text"
scope = "subject"
patterns = ['\burgent\b']

[[indicator]]
id = "ZQ"
title = "Second ask after a first one"
sources = ["Internal guidance"]
weight = 0.5
supports = ["state_approach"]
[[indicator.matchers]]
kind = "sequence"
after = ['\bfirst ask\b']
patterns = ['\bsecond ask\b']
""",
        encoding="utf-8",
    )
    screener = Screener(settings=Settings(catalogue=extra))
    subject = fired(screener.assess(approach("Please reply.", subject="URGENT: your application")))
    assert "ZS" in subject and subject["ZS"].evidence[0].field == "message[0].subject"
    assert "ZS" not in fired(screener.assess(approach("This is urgent.")))
    in_order = screener.assess(approach("Hello.", "Here is the first ask.", "And now the second ask."))
    assert fired(in_order)["ZQ"].evidence[0].message_index == 2
    same_message = screener.assess(approach("Hello.", "The first ask, then the second ask."))
    assert "ZQ" not in fired(same_message), "the earlier ask must be in an earlier message"
    reversed_order = screener.assess(approach("Hello.", "The second ask.", "The first ask."))
    assert "ZQ" not in fired(reversed_order)


# -- batch: templated wording (M9) ----------------------------------------------------------------

TEMPLATE = (
    "Dear {name}, our institute prepares confidential briefings for partners across the region and is "
    "looking for experienced practitioners to contribute on a flexible basis from home."
)


def campaign(names: Sequence[str]) -> list[Approach]:
    return [
        approach(
            TEMPLATE.format(name=name.split()[0]) + f" Reference {i * 7919}.",
            recipient=account(f"linkedin:r{i}", name=name),
            approach_id=f"c{i}",
        )
        for i, name in enumerate(names)
    ]


def test_template_fires_at_three_recipients(screener: Screener) -> None:
    three = list(screener.assess_many(campaign(["Ann Lee", "Bo Chen", "Cy Diaz"])))
    assert all("M9" in fired(a) for _, a in three)
    assert "recipients" in fired(three[0][1])["M9"].evidence[0].text
    two = list(screener.assess_many(campaign(["Ann Lee", "Bo Chen"])))
    assert not any("M9" in fired(a) for _, a in two)
    assert "M9" not in fired(screener.assess(campaign(["Ann Lee"])[0]))


def test_template_needs_distinct_recipients(screener: Screener) -> None:
    same = campaign(["Ann Lee", "Ann Lee", "Ann Lee"])
    same = [dataclasses.replace(a, recipient=same[0].recipient) for a in same]
    assert not any("M9" in fired(a) for _, a in screener.assess_many(same))


def test_template_window_is_bounded_and_keeps_order() -> None:
    screener = Screener(template_window=2)
    items = campaign(["Ann Lee", "Bo Chen", "Cy Diaz", "Di Evans"])
    results = list(screener.assess_many(iter(items)))
    assert [a.id for a, _ in results] == ["c0", "c1", "c2", "c3"]
    # the first window (c0, c1) is scored before the third copy arrives; later windows see the count
    assert [("M9" in fired(r)) for _, r in results] == [False, False, True, True]


def test_template_tracker_normalisation_and_bounds() -> None:
    tracker = TemplateTracker(min_recipients=2, max_templates=2)
    a, b = campaign(["Ann Lee", "Bo Chen"])
    assert tracker.key(a) == tracker.key(b), "names, numbers and greeting do not change the template"
    short = approach("Happy to connect!")
    assert tracker.key(short) is None
    tracker.add(a)
    tracker.add(b)
    assert tracker.recipients(tracker.key(a)) == 2
    for i in range(3):  # pushes the first template out
        tracker.add(
            approach(
                f"A completely different message number {'x' * (40 + i)} about {i} topics.",
                approach_id=f"o{i}",
            )
        )
    assert tracker.recipients(tracker.key(a)) == 0
    with pytest.raises(ValueError):
        TemplateTracker(min_recipients=1)


# -- hostile and odd input ------------------------------------------------------------------------


def test_huge_and_odd_messages() -> None:
    screener = Screener(settings=Settings(max_field_chars=5_000))
    huge = "report paid client Asia " * 50_000 + " send your CV"
    result = screener.assess(approach(huge, "\x00\ud800 weird \u202e text", ""))
    assert 0.0 <= result.risk <= 1.0
    assert "M5" not in fired(result), "text past max_field_chars is not read"
    empty = Approach(
        id="e",
        sender=account(),
        recipient=account("linkedin:r"),
        conversation=Conversation(id="e", messages=()),
        channel=Channel.PASTED,
    )
    assert screener.assess(empty).category is Category.BENIGN
    outbound_only = screener.assess(approach(("I sent this myself: paid reports for clients in Asia", False)))
    assert outbound_only.category is Category.BENIGN


HOSTILE = {
    "digit run": "report " + "1," * 50_000,
    "anchor flood": "paid report client Asia confidential send your CV " * 2_000,
    "negation flood": "do not share confidential information " * 2_500,
    "unclosed placeholders": "{name " * 20_000,
    "one long word": "remunerat" + "x" * 100_000,
    "punctuation": "%@/{[." * 15_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_is_bounded_in_time(screener: Screener, name: str) -> None:
    text = HOSTILE[name]
    hostile_sender = account(
        headline=text[:2_000], company=text[:2_000], location=text[:500], email="x@" + "y" * 300
    )
    start = time.perf_counter()
    result = screener.assess(approach(text, text[:50_000], sender=hostile_sender))
    assert time.perf_counter() - start < 3.0, name
    assert 0.0 <= result.risk <= 1.0


def test_many_messages_are_bounded_in_time(screener: Screener) -> None:
    bodies = [
        f"Message {i}: we pay well for short reports for clients in Asia, please reply." for i in range(2_000)
    ]
    start = time.perf_counter()
    result = screener.assess(approach(*bodies))
    assert time.perf_counter() - start < 5.0
    assert all(len(s.evidence) <= 3 for s in result.signals)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.text(max_size=200), st.text(max_size=60), st.text(max_size=60))
def test_arbitrary_sender_fields(
    screener: Screener, headline: str, company: str, location: str, email: str
) -> None:
    sender = account(headline=headline, company=company, location=location, email=email, name=headline[:30])
    result = screener.assess(approach("Hello", sender=sender))
    assert 0.0 <= result.risk <= 1.0


def test_odd_field_types_do_not_break_screening(screener: Screener) -> None:
    odd = account(headline=["not", "a", "string"], connections="many", photo=7)  # type: ignore[arg-type]
    result = screener.assess(approach("Hello, a paid report for clients in Asia?", sender=odd))
    assert 0.0 <= result.risk <= 1.0 and "M3" in fired(result)
    assert not {"P1", "P5", "P6"} & fired(result).keys()


def test_assess_many_streams_lazily(screener: Screener) -> None:
    seen: list[str] = []

    def source():
        for i in range(3):
            seen.append(f"a{i}")
            yield approach("Hello there, nice to meet you.", approach_id=f"a{i}")

    stream = screener.assess_many(source())
    assert seen == []
    assert next(stream)[0].id == "a0"


# -- advice ---------------------------------------------------------------------------------------


def sig(indicator_id: str) -> Signal:
    return Signal(indicator_id=indicator_id, title="t", weight=0.5, evidence=())


def test_advice_per_category_and_signal() -> None:
    state = " ".join(advice_for(Category.STATE_APPROACH, [sig("M6"), sig("M3")], Channel.LINKEDIN_MESSAGE))
    for phrase in (
        "Do not reply",
        "CV",
        "another app",
        "profile URL",
        "security contact",
        "Think Before You Link",
    ):
        assert phrase in state, phrase
    assert "WhatsApp, WeChat, Telegram" in state and "paid reports" in state
    assert "LinkedIn" in state
    email = " ".join(advice_for(Category.STATE_APPROACH, [], Channel.EMAIL))
    assert "Forward the e-mail as an attachment" in email
    malware = " ".join(advice_for(Category.MALWARE_LURE, [sig("M10")], Channel.EMAIL))
    assert "do not open the attachment" in malware.lower() and "IT security" in malware
    scam = " ".join(advice_for(Category.SCAM, [sig("S2")], Channel.LINKEDIN_MESSAGE))
    assert "Never pay" in scam and "bank details" in scam and "cheque" in scam
    commercial = " ".join(advice_for(Category.COMMERCIAL, [], Channel.EMAIL))
    assert "unsubscribe" in commercial
    benign = advice_for(Category.BENIGN, [sig("M6")], Channel.LINKEDIN_MESSAGE)
    assert any("verify the sender through another channel" in line for line in benign)
    assert any("WhatsApp" in line for line in benign)
    assert (
        len(
            advice_for(
                Category.STATE_APPROACH,
                [sig(i) for i in ("M3", "M4", "M5", "M6", "C1", "C2", "C3", "C4")],
                Channel.EMAIL,
            )
        )
        <= 10
    )


def test_assessment_carries_advice_for_its_category(screener: Screener) -> None:
    result = screener.assess(approach(PAID_REPORTS, channel=Channel.EMAIL))
    assert result.advice == advice_for(result.category, result.signals, Channel.EMAIL)


def test_signals_carry_sources_and_supports(screener: Screener) -> None:
    result = screener.assess(approach(*ESCALATION))
    for s in result.signals:
        assert s.sources and s.supports and 0 < s.weight <= 1
    order = [s.indicator_id for s in result.signals]
    benign_first = [i for i, s in enumerate(result.signals) if s.supports == (Category.BENIGN,)]
    assert all(i >= len(order) - len(benign_first) for i in benign_first), "benign cues are listed last"


def test_matcher_kinds_are_all_exercised(screener: Screener) -> None:
    kinds = {type(m) for ind in screener.catalogue for m in ind.matchers}
    assert {TextMatcher, SequenceMatcher} <= kinds
