"""Loaders: BODS 0.4 (the 19 official examples), PSC snapshots, FtM entities, CSV; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lurewatch.errors import InputError
from lurewatch.owners import detect_format, load_graph
from lurewatch.owners.bods import load_bods, validate_bods
from lurewatch.owners.graph import (
    KIND_STATE,
    N_ANONYMOUS,
    N_NO_OWNER_STATEMENT,
    N_PUBLIC,
    N_STATE,
    GraphBuilder,
)
from lurewatch.owners.psc import load_psc, normalise_company_number
from lurewatch.owners.screen import screen

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
BODS = SHARED / "bods-0.4"
PSC = SHARED / "psc"
FIXTURES = Path(__file__).parent / "fixtures" / "owners"
needs_bods = pytest.mark.skipif(not BODS.is_dir(), reason="../shared/data/bods-0.4 absent")
needs_psc = pytest.mark.skipif(not PSC.is_dir(), reason="../shared/data/psc absent")

# Hand-computed expected ultimate owners (percent) of each example's main subject.
BODS_EXPECTED = {
    "bods-package.json": ("c359f58d2977", {"10478c6cf6de": (100, 100)}),
    "bods-package-entity-owning-entity.json": ("12b7dd0770ce", {"e83cce729ada": (75, 100)}),
    "bods-package-linking-annotations.json": ("a01c1a0863e2", {"0fc263ba4126": (25, 50)}),
    "simple-pep-declaration.json": ("841083ba86e3", {"c9ceb68d7241": (25, 50)}),
    "joint-ownership.json": ("31c55e425764", {"1accb8b18b99": (50, 50), "f040df24d9ec": (50, 50)}),
    # Person 1 holds B with an unknown interest (0-100%) and B 60% of A: [0, 60], narrowed by the
    # declared indirect 30%
    "indirect-ownership.json": ("ad3f6c2fcc9e", {"c25d4d612c2c": (30, 30)}),
    "mutilple-indirect-ownership-2.json": ("1e049760d6c7", {"731c7a8e7601": (60, 60)}),
    # 50% direct + 50% via B (declared): 100%
    "mixed-direct-and-indirect-ownership.json": ("9bfe59b6a869", {"53508b65253f": (100, 100)}),
    # the ministry holds 76.5% via Suomen Kaasuverkko (100% of it) and 23.5% directly; the state's
    # 100% is its own declared indirect figure (it controls the ministry)
    "bods-package-fi-soe.json": ("19f1c5afe9d7", {"7ff95ba3682c": (100, 100), "05ce06ec97b1": (100, 100)}),
    # after the updates: Riyadh and Declan closed, Patrick's 50% raised to 100%
    "fermcat.json": ("ent-93c75c87ab28f889", {"per-41c0bb0cef246f7c": (100, 100)}),
    # Maria's interest closed; Shear Trust raised to 80%
    "tecido.json": ("01B68D7633", {"033E84672B": (80, 80)}),
    "nomination.json": ("104AB1984C", {}),
    "levent.json": ("8e40d059", {}),
    "listed-company-exempt-from-disclosure.json": ("4c7ea3bfbe6c", {}),
}


@needs_bods
def test_all_19_examples_validate_and_load() -> None:
    examples = sorted((BODS / "examples").glob("*.json"))
    assert len(examples) == 19
    for path in examples:
        assert validate_bods(path, BODS / "schema") == [], path.name
        b = GraphBuilder()
        stats = load_bods(path, b)
        assert stats["statements"] > 0
        assert b.build().n > 0


@needs_bods
@pytest.mark.parametrize("name", sorted(BODS_EXPECTED))
def test_bods_ultimate_owners_by_hand(name: str) -> None:
    subject, expected = BODS_EXPECTED[name]
    b = GraphBuilder()
    load_bods(BODS / "examples" / name, b)
    g = b.build()
    r = screen(g, g.index_of(subject))
    got = {r.graph.id_of(o.node): (o.share_min, o.share_max) for o in r.ultimate_owners}
    assert got.keys() == expected.keys()
    for key, interval in expected.items():
        assert got[key] == pytest.approx(interval)


@needs_bods
def test_bods_state_nominee_and_exemption_flags() -> None:
    def flags(name: str, subject: str) -> set[str]:
        b = GraphBuilder()
        load_bods(BODS / "examples" / name, b)
        g = b.build()
        return {f.kind for f in screen(g, g.index_of(subject)).flags}

    assert {"state_ownership", "state_control"} <= flags("bods-package-fi-soe.json", "19f1c5afe9d7")
    assert "nominee" in flags("nomination.json", "104AB1984C")
    assert "unknown_owner" in flags("levent.json", "8e40d059")
    assert "exempt_from_disclosure" in flags("listed-company-exempt-from-disclosure.json", "4c7ea3bfbe6c")


@needs_bods
def test_bods_json_lines_reads_like_the_array(tmp_path: Path) -> None:
    src = BODS / "examples" / "bods-package-fi-soe.json"
    lines = tmp_path / "fi.jsonl"
    lines.write_text("\n".join(json.dumps(s) for s in json.loads(src.read_text())) + "\n")
    assert detect_format(lines) == "bods"
    a, b = GraphBuilder(), GraphBuilder()
    load_bods(src, a)
    load_bods(lines, b)
    assert a.build().ids.to_pylist() == b.build().ids.to_pylist()


@needs_psc
def test_every_psc_record_kind() -> None:
    b = GraphBuilder()
    stats = [load_psc(p, b) for p in sorted(PSC.rglob("psc*.json"))]
    g = b.build()
    assert sum(s["unknown_kinds"] for s in stats) == 1
    assert any(s["totals"] and s["totals"]["persons_of_significant_control_count"] == 12799821 for s in stats)
    safe = g.index_of("GB-COH-07102351")
    holders = [g.holder[e] for e in range(g.m) if g.held[e] == safe]
    assert [g.kind[h] for h in holders] == [KIND_STATE]
    assert g.flags[holders[0]] & N_STATE
    assert g.flags[g.index_of("psc-super-secure:02443921")] & N_ANONYMOUS
    company = g.index_of("GB-COH-01234567")  # "1234567" with its leading zero restored
    assert g.flags[company] & N_NO_OWNER_STATEMENT and g.flags[company] & N_PUBLIC
    corp = g.index_of("GB-COH-07434180")
    edge = next(e for e in range(g.m) if g.held[e] == corp)
    assert g.id_of(g.holder[edge]) == "GB-COH-00686734"
    assert (g.lo[edge], g.hi[edge]) == (0.75, 1.0)


def test_psc_chain_bands_and_history() -> None:
    b = GraphBuilder()
    stats = load_psc(FIXTURES / "psc.jsonl", b)
    assert stats["unknown_kinds"] == 1 and stats["ceased"] == 1 and stats["totals"]["statements_count"] == 1
    g = b.build()
    r = screen(g, g.index_of("GB-COH-00345678"), as_of_day=20089)
    owners = {r.graph.name_of(o.node): (o.share_min, o.share_max) for o in r.ultimate_owners}
    # Parent 75-100% x (Ministry 50-75%, Ada Byron 25-50%)
    assert owners == {"Ministry Of Industry": (37.5, 75.0), "Ada Byron": (18.75, 50.0)}
    kinds = {f.kind for f in r.flags}
    assert {"state_ownership", "recent_change"} <= kinds
    scottish = screen(g, g.index_of("GB-COH-SC012345"))
    assert {"unknown_owner", "no_owner_statement"} <= {f.kind for f in scottish.flags}


def test_company_numbers_are_normalised() -> None:
    assert normalise_company_number("1234567") == "01234567"
    assert normalise_company_number(" sc12345 ") == "SC012345"
    assert normalise_company_number("OE031044") == "OE031044"


def test_ftm_entities_and_ended_ownership() -> None:
    g, report = load_graph([FIXTURES / "entities.ftm.json"], max_file_bytes=10**9)
    assert report[str(FIXTURES / "entities.ftm.json")]["ended"] == 1
    r = screen(g, g.index_of("co-target"))
    owners = {r.graph.id_of(o.node): (o.share_min, o.share_max) for o in r.ultimate_owners}
    assert owners.keys() == {"soe-1"} and owners["soe-1"] == pytest.approx((35.7, 35.7))
    assert "state_ownership" in {f.kind for f in r.flags}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("subject_id,owner_id,share\nA,B,150\n", "between 0 and 100"),
        ("subject_id,owner_id,share\nA,B,lots\n", "not a number"),
        ("subject_id,owner_id,owner_kind\nA,B,robot\n", "owner_kind"),
        ("name,value\nx,y\n", "missing column"),
    ],
)
def test_bad_csv_is_one_clear_error(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=problem):
        load_graph([path], max_file_bytes=10**9)


def test_bad_json_inputs(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"statementId": "x", "recordId": "a", "recordType": "entity", "recordDetails": {}},')
    with pytest.raises(InputError, match="invalid JSON"):
        load_graph([broken], max_file_bytes=10**9)
    psc = tmp_path / "psc.jsonl"
    psc.write_text(
        '{"company_number": "1", "data": {"kind": "individual-person-with-significant-control"}}\n{oops\n'
    )
    with pytest.raises(InputError, match="PSC"):
        load_graph([psc], max_file_bytes=10**9)
    with pytest.raises(InputError, match="LUREWATCH_OWNERS_MAX_FILE_BYTES"):
        load_graph([psc], max_file_bytes=10)
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="unrecognised"):
        load_graph([other], max_file_bytes=10**9)
