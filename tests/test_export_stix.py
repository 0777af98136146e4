"""STIX 2.1 export: valid under the OASIS validator, hostile text included, TLP 2.0 everywhere, stable ids."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
import stix2
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_string

from export_samples import HOSTILE, T0, approach, assessment, campaign, case
from lurewatch.campaigns.engine import campaign_from_record, campaign_record
from lurewatch.export.common import verdict_opinion
from lurewatch.export.stix import TLP2_EXTENSION_ID, TLP2_MARKINGS, stix_bundle, tlp2_marking
from lurewatch.model import Category, Channel

# What the validator may warn about, and why each is accepted:
#  103: SDO/SRO ids are UUIDv5 of stable keys (re-exports must keep their ids), the spec RECOMMENDS v4;
#  244: account_type "linkedin", "email", "wechat", ... are not in the open account-type-ov vocabulary.
EXPECTED_WARNINGS = {"103", "244"}


def validate(bundle: str) -> list[str]:
    result = validate_string(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, result.as_dict()
    codes = [re.search(r"\{(\d+)\}", w).group(1) for w in result.warnings]  # type: ignore[union-attr]
    unexpected = [w for w, c in zip(result.warnings, codes, strict=True) if c not in EXPECTED_WARNINGS]
    assert not unexpected, unexpected
    for warning, code in zip(result.warnings, codes, strict=True):
        if code == "244":
            assert re.search(r"'(linkedin|email|wechat|whatsapp|telegram|signal)'", warning), warning
    return result.warnings


def objects(bundle: str) -> list[dict]:
    return json.loads(bundle)["objects"]


def by_type(bundle: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for obj in objects(bundle):
        out.setdefault(obj["type"], []).append(obj)
    return out


def items() -> list:
    return [
        (approach(), assessment(), case()),
        (
            approach(
                "a2",
                sender_key="email:recruiter@evil-consult.co.uk",
                sender_name="Dr. Li",
                channel=Channel.EMAIL,
                text="Please send your CV to talent@evil-consult.co.uk or www.evil-consult.co.uk/jobs",
            ),
            assessment("a2", Category.MALWARE_LURE, 0.74),
            case("a2", "false_positive"),
        ),
        (
            approach("a3", sender_key="name:bob", sender_name="Bob", when=None),
            assessment("a3", Category.BENIGN, 0.05),
            None,
        ),
    ]


def test_a_selection_validates_and_holds_every_kind_of_object() -> None:
    bundle = stix_bundle(items(), [campaign()], tlp="amber", producer="Institute Security Office", now=T0)
    validate(bundle)
    types = by_type(bundle)
    for kind in (
        "marking-definition",
        "identity",
        "campaign",
        "threat-actor",
        "user-account",
        "email-addr",
        "url",
        "domain-name",
        "indicator",
        "observed-data",
        "sighting",
        "note",
        "opinion",
        "relationship",
    ):
        assert kind in types, kind
    producer = next(o for o in types["identity"] if o["name"] == "Institute Security Office")
    assert producer["identity_class"] == "organization"
    linkedin = [u for u in types["user-account"] if u.get("account_type") == "linkedin"]
    assert {u.get("user_id") for u in linkedin} >= {"jane-smith-4b2", "smith-jane-99"}
    assert any(
        u.get("account_type") == "email" and u["user_id"] == "recruiter@evil-consult.co.uk"
        for u in types["user-account"]
    )
    relations = Counter(r["relationship_type"] for r in types["relationship"])
    assert {"attributed-to", "indicates", "based-on", "targets", "related-to"} <= set(relations)
    # the campaign is attributed to both personas, and the approach's indicators indicate the campaign
    camp = types["campaign"][0]
    attributed = {r["target_ref"] for r in types["relationship"] if r["relationship_type"] == "attributed-to"}
    assert {t["id"] for t in types["threat-actor"]} == attributed
    indicates_campaign = [
        r
        for r in types["relationship"]
        if r["relationship_type"] == "indicates" and r["target_ref"] == camp["id"]
    ]
    assert indicates_campaign
    for sighting in types["sighting"]:
        assert sighting["where_sighted_refs"] == [producer["id"]]
    # every object but the marking definition itself is created by the producer (SDO/SRO) and marked
    for obj in objects(bundle):
        if obj["type"] == "marking-definition":
            continue
        assert obj["object_marking_refs"] == [TLP2_MARKINGS["amber"]], obj["id"]
        if (
            obj["type"] not in {"user-account", "email-addr", "url", "domain-name"}
            and obj["id"] != producer["id"]
        ):
            assert obj["created_by_ref"] == producer["id"], obj["id"]
    # every reference resolves inside the bundle
    ids = {o["id"] for o in objects(bundle)}
    for obj in objects(bundle):
        for key, value in obj.items():
            refs = value if key.endswith("_refs") else [value] if key.endswith("_ref") else []
            for ref in refs:
                assert ref in ids, (obj["id"], key, ref)


def test_verdicts_become_opinions_about_the_assessment_note() -> None:
    bundle = stix_bundle(items(), now=T0)
    types = by_type(bundle)
    opinions = {o["opinion"] for o in types["opinion"]}
    assert opinions == {"strongly-agree", "strongly-disagree"}
    notes = {n["id"]: n for n in types["note"]}
    for opinion in types["opinion"]:
        (ref,) = opinion["object_refs"]
        assert notes[ref]["abstract"].startswith("lurewatch: ")
    # a false positive is exported as an individual, not a threat actor, and gets no indicator
    names = {t["name"] for t in types["threat-actor"]}
    assert "Dr. Li" not in names
    assert any(i["name"] == "Dr. Li" and i["identity_class"] == "individual" for i in types["identity"])
    assert not any("recruiter@evil-consult.co.uk" in i["pattern"] for i in types["indicator"])
    # the analyst's note is there with its author
    assert any(
        n.get("authors") == ["sec-officer"] and n["content"] == "Reported by Alice." for n in types["note"]
    )


@pytest.mark.parametrize(
    ("verdict", "assessed", "expected"),
    [
        ("confirmed", Category.STATE_APPROACH, "strongly-agree"),
        ("false_positive", Category.STATE_APPROACH, "strongly-disagree"),
        ("benign", Category.SCAM, "disagree"),
        ("state_approach", Category.STATE_APPROACH, "strongly-agree"),
        ("scam", Category.STATE_APPROACH, "agree"),
        ("commercial", Category.STATE_APPROACH, "disagree"),
        ("malware_lure", Category.BENIGN, "disagree"),
        ("commercial", Category.BENIGN, "agree"),
        (None, Category.BENIGN, None),
        ("nonsense", Category.BENIGN, None),
    ],
)
def test_verdict_mapping(verdict, assessed, expected) -> None:
    assert verdict_opinion(assessment(category=assessed), verdict) == expected


@pytest.mark.parametrize("level", ["clear", "green", "amber", "amber+strict", "red", "TLP:RED", "white"])
def test_tlp_2_markings_are_the_official_ones(level: str) -> None:
    bundle = stix_bundle(items()[:1], tlp=level, now=T0)
    validate(bundle)
    (marking,) = by_type(bundle)["marking-definition"]
    name = {"white": "clear", "TLP:RED": "red"}.get(level, level)
    assert marking["id"] == TLP2_MARKINGS[name]
    assert marking["name"] == f"TLP:{name.upper()}"
    assert marking["created"] == "2022-10-01T00:00:00.000Z"
    assert marking["extensions"] == {
        TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": name}
    }
    assert all(
        o.get("object_marking_refs") == [marking["id"]]
        for o in objects(bundle)
        if o["type"] != "marking-definition"
    )


def test_unknown_tlp_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown TLP level"):
        tlp2_marking("purple")


def test_the_same_selection_gives_the_same_bundle() -> None:
    first = stix_bundle(items(), [campaign()], now=T0)
    assert stix_bundle(items(), [campaign()], now=T0) == first
    # times in the data, not the export's clock, stamp the objects: ids stay put when the clock moves
    later = stix_bundle(items(), [campaign()], now=T0 + timedelta(days=30))
    stable = {o["id"] for o in objects(first) if o["type"] != "bundle"}
    assert {o["id"] for o in objects(later)} == stable
    # another producer makes its own objects
    other = stix_bundle(items(), [campaign()], producer="Another Org", now=T0)
    ours = {o["id"] for o in objects(first) if o["type"] in {"threat-actor", "indicator", "campaign"}}
    theirs = {o["id"] for o in objects(other) if o["type"] in {"threat-actor", "indicator", "campaign"}}
    assert not ours & theirs
    # an SCO's id is the spec's own deterministic id
    account = next(
        o for o in objects(first) if o["type"] == "user-account" and o.get("user_id") == "jane-smith-4b2"
    )
    assert stix2.UserAccount(account_type="linkedin", user_id="jane-smith-4b2").id == account["id"]


@pytest.mark.parametrize(
    "hostile",
    [
        HOSTILE,
        "jane'] OR [url:value = 'x",
        "back\\slash\\' and '\\\\",
        "<img src=x onerror=alert(1)>\n\n\r\t",
        "x" * 100_000,
        "\u202e\u2066\ufeff\u200b 王建国 \U0001f600",
    ],
)
def test_hostile_content_validates_and_is_bounded(hostile: str) -> None:
    hostile_items = [
        (
            approach(
                "h1",
                sender_key="linkedin:" + hostile[:2000],
                sender_name=hostile,
                headline=hostile,
                text=hostile + " wechat: evil_id9 https://evil.example/a'b]c?q=" + hostile[:50],
            ),
            assessment("h1"),
            case("h1", "confirmed", notes=(hostile,)),
        ),
        (
            approach(
                "h2",
                sender_key="email:" + hostile[:300] + "@evil.org",
                sender_name=hostile,
                channel=Channel.EMAIL,
                text=hostile,
            ),
            assessment("h2", Category.SCAM),
            replace(case("h2", "scam"), assignee=hostile),
        ),
    ]
    hostile_campaign = replace(
        campaign(),
        campaign_id="cmp-" + hostile[:40],
        exemplar_text=hostile,
        targets_by_org=((hostile, 3),),
        links=(*campaign().links, replace(campaign().links[0], kind="handle", value=hostile[:500])),
    )
    bundle = stix_bundle(hostile_items, [hostile_campaign], now=T0)
    validate(bundle)
    assert len(bundle) < 400_000  # 100,000-character inputs are cut, not copied into every object
    for obj in objects(bundle):
        for key in ("description", "content", "name", "explanation", "abstract"):
            if key in obj:
                assert len(obj[key]) <= 10_000
                assert "\x00" not in obj[key] and not re.search("[\ud800-\udfff]", obj[key])
    for indicator in by_type(bundle)["indicator"]:
        errors = run_validator(indicator["pattern"], stix_version="2.1")
        assert not errors, (indicator["pattern"], errors)


def test_pattern_literals_are_escaped() -> None:
    tricky = "o'neil\\x"
    bundle = stix_bundle([(approach(sender_key=f"linkedin:{tricky}"), assessment(), None)], now=T0)
    validate(bundle)
    patterns = [i["pattern"] for i in by_type(bundle)["indicator"]]
    assert "[user-account:account_type = 'linkedin' AND user-account:user_id = 'o\\'neil\\\\x']" in patterns


def test_empty_selection_is_a_valid_bundle() -> None:
    bundle = stix_bundle([], now=T0)
    validate(bundle)
    assert {o["type"] for o in objects(bundle)} == {"marking-definition", "identity"}


def test_benign_campaign_has_no_threat_actors_or_indicators() -> None:
    bundle = stix_bundle([], [replace(campaign(Category.BENIGN), campaign_id="cmp-benign")], now=T0)
    validate(bundle)
    types = by_type(bundle)
    assert "threat-actor" not in types and "indicator" not in types
    assert len(types["campaign"]) == 1


def test_campaign_record_round_trip() -> None:
    original = campaign()
    record = json.loads(json.dumps(campaign_record(original)))
    rebuilt = campaign_from_record(record | {"source": "workspace", "found_at": "2026-03-09T00:00:00Z"})
    # the record does not carry each message's sender and recipient
    assert rebuilt == replace(original, member_accounts=(), member_recipients=())
    with_members = campaign_from_record(
        record
        | {
            "member_accounts": list(original.member_accounts),
            "member_recipients": list(original.member_recipients),
        }
    )
    assert with_members == original
    with pytest.raises(ValueError, match="not a campaign record"):
        campaign_from_record({"category": "scam"})
    with pytest.raises(ValueError):
        campaign_from_record(record | {"category": "nonsense"})
