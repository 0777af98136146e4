"""MISP export: template-valid objects and relations, TLP tag, analyst notes and opinions, stable UUIDs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pymisp
import pytest
from pymisp import MISPEvent, MISPObject

from export_samples import HOSTILE, T0, approach, assessment, campaign, case
from lurewatch.export.misp import misp_event
from lurewatch.model import Category, Channel

_MISP_OBJECTS = Path(pymisp.__file__).parent / "data" / "misp-objects"
RELATIONSHIPS = {
    v["name"] for v in json.loads((_MISP_OBJECTS / "relationships" / "definition.json").read_text())["values"]
}


def items() -> list:
    return [
        (approach(), assessment(), case()),
        (
            approach(
                "a2",
                sender_key="email:recruiter@evil-consult.co.uk",
                sender_name="Dr. Li",
                channel=Channel.EMAIL,
                recipient_key="email:alice@uni.example",
                text="Call +44 20 7946 0958 or write to talent@evil-consult.co.uk",
            ),
            assessment("a2", Category.SCAM, 0.55),
            case("a2", "benign", notes=()),
        ),
        (
            approach("a3", sender_key="name:bob", sender_name="Bob", when=None),
            assessment("a3", Category.BENIGN, 0.05),
            None,
        ),
    ]


def load(text: str) -> MISPEvent:
    event = MISPEvent()
    event.load(text)
    return event


def assert_template_valid(event: MISPEvent) -> None:
    """Every object re-validated against its bundled template, every reference a known MISP relationship."""
    uuids = {o.uuid for o in event.objects} | {a.uuid for a in event.attributes}
    for obj in event.objects:
        fresh = MISPObject(obj.name, strict=True)  # raises on an unknown template
        assert obj.template_uuid == fresh.template_uuid
        for attribute in obj.attributes:
            template = fresh._definition["attributes"].get(attribute.object_relation)
            assert template is not None, (obj.name, attribute.object_relation)
            assert attribute.type == template["misp-attribute"], (obj.name, attribute.object_relation)
            if "values_list" in template:
                assert attribute.value in template["values_list"], (obj.name, attribute.object_relation)
            fresh.add_attribute(attribute.object_relation, value=attribute.value)
        assert fresh._validate()  # required / requiredOneOf / non-multiple relations
        for reference in obj.references:
            assert reference.relationship_type in RELATIONSHIPS, reference.relationship_type
            assert reference.referenced_uuid in uuids


def test_event_loads_back_with_its_objects_tags_notes_and_opinions() -> None:
    text = misp_event(items(), [campaign()], tlp="amber+strict", producer="Institute Security Office", now=T0)
    raw = json.loads(text)
    assert set(raw) == {"Event"}
    event = load(text)
    assert_template_valid(event)
    assert [t.name for t in event.tags] == ["tlp:amber+strict"]
    assert event.Orgc.name == "Institute Security Office"
    assert event.threat_level_id == 1 and event.distribution == 0 and event.published is False
    names = [o.name for o in event.objects]
    for name in ("user-account", "impersonation", "person", "instant-message", "email", "annotation"):
        assert name in names, name
    targets = [o for o in event.objects if o.name == "person"]
    assert targets and all(o.get_attributes_by_relation("role")[0].value == "Target" for o in targets)
    persona = next(
        o
        for o in event.objects
        if o.name == "user-account" and o.get_attributes_by_relation("user-id")[0].value == "jane-smith-4b2"
    )
    assert persona.get_attributes_by_relation("account-type")[0].value == "linkedin"
    assert {r.relationship_type for r in persona.references} >= {"targets", "related-to"}
    impersonation = next(o for o in event.objects if o.name == "impersonation")
    assert impersonation.get_attributes_by_relation("type-of-account")[0].value == "LinkedIn"
    # the contacts a threat gave are attributes, IDS-flagged where MISP can match them
    attributes = {(a.type, a.value): a for a in event.attributes}
    assert attributes[("url", "https://evil-consult.co.uk/apply?id=7")].to_ids
    assert attributes[("domain", "evil-consult.co.uk")].to_ids
    # the analyst's note and verdict hang off the approach's assessment annotation
    annotations = [o for o in event.objects if o.name == "annotation" and o.notes]
    assert annotations[0].notes[0].note == "Reported by Alice."
    assert annotations[0].notes[0].authors == "sec-officer"
    opinions = sorted(int(op.opinion) for o in event.objects for op in getattr(o, "opinions", []))
    assert opinions == [25, 100]  # benign -> disagree, confirmed -> strongly agree


def test_benign_verdict_and_benign_senders_are_not_threats() -> None:
    event = load(misp_event(items(), now=T0))
    impersonated = {
        o.get_attributes_by_relation("account-name")[0].value
        for o in event.objects
        if o.name == "impersonation"
    }
    assert impersonated == {"Jane Smith"}
    # the contacts of a scam the analyst called benign are not exported as attributes to match on
    values = {str(a.value) for a in event.attributes}
    assert "cathy@evil-consult.co.uk" in values  # from the confirmed state approach
    assert not values & {"talent@evil-consult.co.uk", "recruiter@evil-consult.co.uk", "+442079460958"}


def test_same_selection_same_uuids_and_bytes() -> None:
    first = misp_event(items(), [campaign()], now=T0)
    assert misp_event(items(), [campaign()], now=T0) == first
    other = load(misp_event(items(), [campaign()], producer="Another Org", now=T0))
    assert load(first).uuid != other.uuid


@pytest.mark.parametrize("hostile", [HOSTILE, "x" * 100_000, "'\"]\\\n<script>"])
def test_hostile_content_loads_and_is_bounded(hostile: str) -> None:
    hostile_items = [
        (
            approach(
                "h1",
                sender_key="linkedin:" + hostile[:2000],
                sender_name=hostile,
                headline=hostile,
                text=hostile,
            ),
            assessment("h1"),
            case("h1", "confirmed", notes=(hostile,)),
        ),
        (
            approach(
                "h2",
                sender_key="email:" + hostile[:200],
                sender_name=hostile,
                channel=Channel.EMAIL,
                text=hostile,
            ),
            assessment("h2", Category.SCAM),
            replace(case("h2", "scam"), assignee=hostile),
        ),
    ]
    text = misp_event(hostile_items, [replace(campaign(), exemplar_text=hostile)], info=hostile, now=T0)
    assert len(text) < 300_000
    text.encode("utf-8")  # no lone surrogate survives
    event = load(text)
    assert_template_valid(event)
    assert len(event.info) <= 300


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="TLP"):
        misp_event(items(), tlp="purple")
    with pytest.raises(ValueError, match="distribution"):
        misp_event(items(), distribution=7)
