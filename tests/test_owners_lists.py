"""List loaders in their official formats, matching of names and identifiers, `lists update`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lurewatch.errors import InputError
from lurewatch.owners.lists import SOURCES, load_lists, loader_for, update_lists
from lurewatch.owners.matching import ListEntry, ListIndex, entity_similarity

FIXTURES = Path(__file__).parent / "fixtures" / "owners"


def test_csl_csv_lists_and_identifiers() -> None:
    entries = list(loader_for(FIXTURES / "csl.csv")(FIXTURES / "csl.csv"))
    assert [e.list_name.split(" (")[0] for e in entries] == [
        "Entity List",
        "Non-SDN Chinese Military-Industrial Complex Companies List",
    ]
    assert entries[0].aliases == ("Meridian Capital Gesellschaft mit beschraenkter Haftung", "MCG")
    assert entries[1].identifiers == (("CN-USCC", "91110000MA01ABCD3X"),)
    assert entries[1].aliases == ("示例航天科技有限公司",)


def test_uk_sanctions_groups_aliases() -> None:
    entries = {
        e.entry_id: e for e in loader_for(FIXTURES / "uk_sanctions.csv")(FIXTURES / "uk_sanctions.csv")
    }
    assert entries["90001"].name == "NORTHWIND SHIPPING LLC" and entries["90001"].aliases == (
        "NORD VETER SHIPPING",
    )
    assert entries["90002"].name == "IVAN PETROV" and entries["90002"].kind == "person"


def test_1260h_text_with_continued_aliases() -> None:
    entries = list(loader_for(FIXTURES / "1260h.txt")(FIXTURES / "1260h.txt"))
    assert [e.name for e in entries] == [
        "Example Aerospace Technology Co. Ltd.",
        "Harbour Holdings Ltd",
        "Northern Instruments Group Corporation",
    ]
    assert entries[2].aliases == ("NIGC", "Northern Instruments")


def test_opensanctions_ftm_export() -> None:
    entries = list(loader_for(FIXTURES / "entities.ftm.json")(FIXTURES / "entities.ftm.json"))
    soe = next(e for e in entries if e.entry_id == "soe-1")
    assert "gov.soe" in soe.topics and ("XI-LEI", "5493001KJTIIGC8Y1R12") in soe.identifiers


def test_matching_scripts_romanisations_and_identifiers() -> None:
    index = load_lists([FIXTURES / "watchlist.csv", FIXTURES / "csl.csv"])
    hit = index.match(["Beijing Guoyou Zichan Co"])
    assert hit and hit[0][0].entry_id == "W1" and hit[0][1] >= 0.95  # Hanzi entry, pinyin name
    person = index.match(["Wang Jianguo"], kind="person")
    assert person and person[0][0].entry_id == "W2" and "romanisation" in person[0][2]  # Wade-Giles/Cantonese
    swapped = index.match(["Jianguo Wang"], kind="person")
    assert swapped and swapped[0][0].entry_id == "W2"
    ident = index.match(["Completely Different Name"], [("uscc", "91110000ma01abcd3x")])
    assert ident and ident[0][1] == 1.0 and "identifier" in ident[0][2]
    assert index.match(["Meridian Capital Gesellschaft mit beschraenkter Haftung"])[0][0].entry_id == "e1"
    assert not index.match(["Meridian Shipping Ltd"])


@pytest.mark.parametrize(
    ("a", "b", "at_least"),
    [
        ("Huawei Jishu Youxian Gongsi", "华为技术有限公司", 0.95),
        ("Siemens AG", "SIEMENS Aktiengesellschaft", 1.0),
        ("Газпром нефть ПАО", "Gazprom Neft PJSC", 1.0),
        ("ACME Holdings (UK) Ltd.", "acme holdings uk limited", 1.0),
    ],
)
def test_entity_names_across_legal_forms_and_scripts(a: str, b: str, at_least: float) -> None:
    score, reason = entity_similarity(a, b)
    assert score >= at_least, reason


def test_unrecognised_list_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("foo,bar\n1,2\n")
    with pytest.raises(InputError, match="unrecognised list CSV"):
        load_lists([bad])
    with pytest.raises(InputError, match="no such list"):
        load_lists([tmp_path / "missing.csv"])


def test_update_writes_atomically_and_keeps_the_old_copy_on_failure(tmp_path: Path) -> None:
    class Response(io.BytesIO):
        def __enter__(self) -> Response:
            return self

    calls = []

    def opener(request: object, timeout: float) -> Response:
        calls.append(request.full_url)  # type: ignore[attr-defined]
        return Response(b"source,name,alt_names\n")

    done = update_lists(tmp_path, ["consolidated.csv"], opener=opener)
    assert done == [("consolidated.csv", 22)] and calls == [SOURCES["consolidated.csv"][0]]
    assert (tmp_path / "consolidated.csv").read_bytes().startswith(b"source")

    def failing(request: object, timeout: float) -> Response:
        raise OSError("network unreachable")

    with pytest.raises(InputError, match="download failed"):
        update_lists(tmp_path, ["consolidated.csv"], opener=failing)
    assert (tmp_path / "consolidated.csv").read_bytes().startswith(b"source")
    assert [p.name for p in tmp_path.iterdir()] == ["consolidated.csv"]

    def huge(request: object, timeout: float) -> Response:
        return Response(b"x" * 100)

    with pytest.raises(InputError, match="larger than"):
        update_lists(tmp_path, ["consolidated.csv"], max_bytes=10, opener=huge)


def test_list_entry_kinds_are_kept_apart() -> None:
    index = ListIndex()
    index.add([ListEntry("L", "1", "Li Wei", kind="person")])
    assert not index.match(["Li Wei Ltd"], kind="entity")
    assert index.match(["Wei Li"], kind="person")
