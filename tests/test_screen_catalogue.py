"""The indicator catalogue: bundled content, extra-catalogue merging and malformed files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.errors import CatalogueError
from lurewatch.model import Category
from lurewatch.screen.catalogue import Catalogue, Indicator, load_catalogue, parse_catalogue
from lurewatch.screen.matchers import (
    AttachmentMatcher,
    FieldMatcher,
    SequenceMatcher,
    TemplateMatcher,
    TextMatcher,
    ValueMatcher,
    anchors_of,
    lower_pattern,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
REDFLAGS = SHARED / "reference" / "redflags.md"

PUBLIC_IDS = [f"P{i}" for i in range(1, 9)] + [f"M{i}" for i in range(1, 11)] + [f"C{i}" for i in range(1, 7)]
MATCHER_TYPES = (TextMatcher, SequenceMatcher, AttachmentMatcher, FieldMatcher, ValueMatcher, TemplateMatcher)

MINIMAL = """
version = "test.1"

[[indicator]]
id = "Z1"
title = "A test indicator"
sources = ["Somewhere — https://example.org/z1"]
weight = 0.5
supports = ["scam"]

[[indicator.matchers]]
kind = "text"
patterns = ['\\bzebra\\b']
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def write(tmp_path: Path, text: str, name: str = "extra.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- bundled content ------------------------------------------------------------------------------


def test_version_and_size(catalogue: Catalogue) -> None:
    assert catalogue.version == "2026.11.2"
    assert len(catalogue) == len(catalogue.indicators) >= len(PUBLIC_IDS)
    assert len(set(catalogue.ids)) == len(catalogue.ids), "indicator ids must be unique"


def test_every_public_indicator_is_present(catalogue: Catalogue) -> None:
    missing = [i for i in PUBLIC_IDS if i not in catalogue]
    assert not missing


@pytest.mark.skipif(not REDFLAGS.exists(), reason="../shared/reference/redflags.md is not present")
def test_ids_match_the_public_red_flag_list(catalogue: Catalogue) -> None:
    text = REDFLAGS.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| ([PMC]\d{1,2}) \|", text, flags=re.MULTILINE))
    assert listed == set(PUBLIC_IDS)
    assert listed <= set(catalogue.ids)


def test_project_categories_are_covered(catalogue: Catalogue) -> None:
    prefixes = {ind.id[0] for ind in catalogue}
    assert {"S", "K", "B"} <= prefixes
    by_category = {cat: [ind.id for ind in catalogue if cat in ind.supports] for cat in Category}
    for cat in Category:
        assert by_category[cat], f"no indicator supports {cat}"


def test_every_indicator_is_well_formed(catalogue: Catalogue) -> None:
    for ind in catalogue:
        assert isinstance(ind, Indicator)
        assert ind.title.strip(), ind.id
        assert ind.sources, ind.id
        assert all(isinstance(s, str) and s.strip() for s in ind.sources), ind.id
        assert 0.0 <= ind.weight <= 1.0, ind.id
        assert ind.supports and all(isinstance(c, Category) for c in ind.supports), ind.id
        assert ind.matchers and all(isinstance(m, MATCHER_TYPES) for m in ind.matchers), ind.id
        for matcher in ind.matchers:
            assert matcher.weight is None or 0.0 <= matcher.weight <= ind.weight, ind.id
        if ind.is_benign_cue:
            assert ind.dampens and Category.BENIGN not in ind.dampens
        else:
            assert not ind.dampens


def test_public_indicators_cite_a_public_url(catalogue: Catalogue) -> None:
    for indicator_id in PUBLIC_IDS:
        ind = catalogue.get(indicator_id)
        assert ind is not None
        assert any("http" in source for source in ind.sources), indicator_id


def test_scam_and_commercial_indicators_cite_consumer_guidance(catalogue: Catalogue) -> None:
    scam_sources = " ".join(s for ind in catalogue if ind.id.startswith("S") for s in ind.sources)
    assert "ftc.gov" in scam_sources and "ic3.gov" in scam_sources
    assert "Action Fraud" in scam_sources
    commercial_sources = " ".join(s for ind in catalogue if ind.id.startswith("K") for s in ind.sources)
    assert "can-spam" in commercial_sources.lower()


def test_trajectory_indicators_use_sequence_matchers(catalogue: Catalogue) -> None:
    for i in range(1, 7):
        ind = catalogue.get(f"C{i}")
        assert ind is not None and any(isinstance(m, SequenceMatcher) for m in ind.matchers), ind


def test_m9_has_a_batch_matcher_and_p5_never_argues_for_benign(catalogue: Catalogue) -> None:
    m9 = catalogue.get("M9")
    assert m9 is not None and any(
        isinstance(m, TemplateMatcher) and m.min_recipients == 3 for m in m9.matchers
    )
    p5 = catalogue.get("P5")
    assert p5 is not None and Category.BENIGN not in p5.supports and p5.weight >= 0.0


def test_german_and_french_cues_are_in_the_catalogue(catalogue: Catalogue) -> None:
    sources = " ".join(
        p.probe.regex.pattern
        for ind in catalogue
        for p in ind.matchers
        if isinstance(p, TextMatcher | SequenceMatcher | AttachmentMatcher) and p.probe is not None
    )
    for word in (
        "Probearbeit",
        "Lebenslauf",
        "Honorar",
        "vertraulich",
        "d'analyse",
        "rémunér",
        "cv",
        "chiffrée",
    ):
        assert word.lower() in sources.lower(), word


def test_bundled_catalogue_is_loaded_once(catalogue: Catalogue) -> None:
    assert load_catalogue() is catalogue


# -- extra catalogues -----------------------------------------------------------------------------


def test_extra_replaces_adds_and_disables(tmp_path: Path, catalogue: Catalogue) -> None:
    extra = write(
        tmp_path,
        """
version = "acme.3"

[[indicator]]
id = "M1"
title = "Flattery, our stricter version"
sources = ["Internal security guidance"]
weight = 0.2
supports = ["state_approach"]
[[indicator.matchers]]
kind = "text"
scope = "first"
patterns = ['\\byou are a genius\\b']

[[indicator]]
id = "ACME1"
title = "Mentions our secret project"
sources = ["Internal"]
weight = 0.7
supports = ["state_approach"]
[[indicator.matchers]]
kind = "text"
patterns = ['\\bproject bluebird\\b']

[[indicator]]
id = "K5"
enabled = false
""",
    )
    merged = load_catalogue(extra)
    assert merged.version == "2026.11.2+acme.3"
    m1 = merged.get("M1")
    assert m1 is not None and m1.title == "Flattery, our stricter version" and m1.weight == 0.2
    assert merged.ids.index("M1") == catalogue.ids.index("M1"), "a replacement keeps its place"
    assert merged.ids[-1] == "ACME1"
    assert "K5" not in merged
    assert len(merged) == len(catalogue)  # one added, one removed
    assert load_catalogue() is catalogue, "merging must not alter the bundled catalogue"


def test_extra_without_version_is_named_after_the_file(tmp_path: Path) -> None:
    merged = load_catalogue(
        write(tmp_path, MINIMAL.replace('version = "test.1"', ""), name="site-rules.toml")
    )
    assert merged.version == "2026.11.2+site-rules"
    assert "Z1" in merged


def test_parse_catalogue_builds_a_standalone_catalogue() -> None:
    cat = parse_catalogue(MINIMAL)
    assert cat.version == "test.1" and cat.ids == ("Z1",)


# -- malformed files ------------------------------------------------------------------------------


def expect_error(tmp_path: Path, text: str, *fragments: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_bad_toml(tmp_path: Path) -> None:
    expect_error(tmp_path, "version = \n[[indicator]", "not valid TOML")


def test_invalid_regex_is_caught_at_load(tmp_path: Path) -> None:
    expect_error(
        tmp_path,
        MINIMAL.replace("'\\bzebra\\b'", "'(unclosed'"),
        "indicator Z1",
        "not a valid regular expression",
    )


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("weight = 0.5", "weight = 1.5", "weight"),
        ("weight = 0.5", "weight = true", "weight"),
        ('supports = ["scam"]', 'supports = ["espionage"]', "unknown category"),
        ('supports = ["scam"]', "supports = []", "at least one category"),
        ('sources = ["Somewhere — https://example.org/z1"]', "sources = []", "sources"),
        ('title = "A test indicator"', 'title = ""', "title"),
        ('kind = "text"', 'kind = "telepathy"', "matcher kind"),
        ('kind = "text"', 'kind = "text"\nscope = "everywhere"', "scope"),
        ('kind = "text"', 'kind = "text"\ncolour = "blue"', "unknown key"),
        ('id = "Z1"', 'id = "not an id!"', "`id`"),
        ("'\\bzebra\\b'", "'(?P<animal>zebra)'", "named group"),
        ("'\\bzebra\\b'", "'z?'", "empty string"),
        ("'\\bzebra\\b'", "'(a)\\1'", "back-reference"),
        ('kind = "text"', 'kind = "text"\nweight = 0.9', "exceeds the indicator weight"),
        ('kind = "text"', 'kind = "text"\nnegate = "yes"', "negate"),
    ],
)
def test_malformed_indicator(tmp_path: Path, old: str, new: str, fragment: str) -> None:
    assert old in MINIMAL
    expect_error(tmp_path, MINIMAL.replace(old, new), fragment)


def test_duplicate_ids(tmp_path: Path) -> None:
    body = MINIMAL.split("[[indicator]]", 1)[1]
    expect_error(tmp_path, MINIMAL + "\n[[indicator]]" + body, "indicator Z1", "duplicate id")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    expect_error(tmp_path, "indicators = []\n" + MINIMAL, "unknown top-level key")


@pytest.mark.parametrize(
    ("matcher", "fragment"),
    [
        ('kind = "field"\nfields = ["shoe_size"]\npatterns = ["x"]', "unknown sender field"),
        ('kind = "field"\nfields = ["headline"]', "needs `patterns` or `lookalike_of`"),
        ('kind = "field"\nfields = ["company"]\nlookalike_of = ["IBM"]', "too short"),
        ('kind = "value"\nfield = "photo"', "needs `in`, `lt` or `gt`"),
        ('kind = "value"\nfield = "headline"\nlt = 3', "numeric field"),
        ('kind = "value"\nfield = "connections"\nlt = "many"', "must be a number"),
        ('kind = "template"\nmin_recipients = 1', "min_recipients"),
        ('kind = "attachment"\nany = false', "needs `names`, `patterns` or `any = true`"),
        ('kind = "sequence"\npatterns = []', "non-empty list"),
    ],
)
def test_malformed_matchers(tmp_path: Path, matcher: str, fragment: str) -> None:
    text = MINIMAL.replace("kind = \"text\"\npatterns = ['\\bzebra\\b']", matcher)
    assert text != MINIMAL
    expect_error(tmp_path, text, "indicator Z1", fragment)


def test_disabling_is_only_for_extra_files() -> None:
    with pytest.raises(CatalogueError, match="only meaningful in an extra catalogue"):
        parse_catalogue(MINIMAL.replace('id = "Z1"', 'id = "Z1"\nenabled = false'))


def test_missing_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes("title = 'caf\xe9'".encode("latin-1"))
    with pytest.raises(CatalogueError, match="not UTF-8"):
        load_catalogue(bad)
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path)  # a directory


def test_parse_catalogue_requires_a_version() -> None:
    with pytest.raises(CatalogueError, match="version"):
        parse_catalogue(MINIMAL.replace('version = "test.1"', ""))


# -- pattern compilation helpers ------------------------------------------------------------------


def test_anchors_are_word_start_prefixes() -> None:
    found = anchors_of(r"\b(?:(?:very|really) )?impress(?:ed|ive)\b")
    assert found is not None
    anchors, at_start = found
    assert at_start
    assert {a.text for a in anchors} >= {"impressed", "impressive", "very impressed"}
    assert all(a.bounded for a in anchors)
    assert anchors_of(r"\w+") is None
    inner = anchors_of(r"\w+ing")
    assert inner is not None and not inner[1] and not any(a.bounded for a in inner[0])
    later = anchors_of(r"\b\d{1,3} ?% (?:returns?|profit)\b")
    assert (
        later is not None and not later[1] and {a.text for a in later[0]} == {"return", "returns", "profit"}
    )


def test_lower_pattern_keeps_escapes_and_refuses_unsafe_ones() -> None:
    assert lower_pattern(r"\bLebenslauf\W[A-Z]\S") == r"\blebenslauf\W[a-z]\S"
    assert lower_pattern(r"\u00C4rger") is None
    assert lower_pattern(r"(?-i:ABC)") is None
    assert lower_pattern(r"[A-z]") is None, "[A-z] also holds [ \\ ] ^ _ and the backtick"
    assert lower_pattern(r"[^A-Z_]x") == r"[^a-z_]x"
    assert lower_pattern(r"[]A]") == r"[]a]"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcXYZ ;.-'’ÄÖé")), max_size=40))
def test_lowered_patterns_match_like_case_insensitive_ones(text: str) -> None:
    pattern = r"\b(?:abc|x[yz]+|é\w*)\b"
    lowered = lower_pattern(pattern)
    assert lowered is not None
    expected = re.search(pattern, text, re.IGNORECASE)
    got = re.search(lowered, text.lower())
    assert (expected is None) == (got is None)
    if expected is not None and got is not None and len(text.lower()) == len(text):
        assert expected.span() == got.span()


def test_every_bundled_pattern_passes_the_checks_that_loading_skips() -> None:
    """The bundled catalogue is loaded without validating each pattern (start-up time); check it here."""
    from importlib import resources

    from lurewatch.screen.catalogue import BUNDLED, load_catalogue, parse_catalogue

    text = resources.files("lurewatch").joinpath(BUNDLED).read_text(encoding="utf-8")
    validated = parse_catalogue(text, BUNDLED)
    trusted = load_catalogue(None)
    assert [i.id for i in validated.indicators] == [i.id for i in trusted.indicators]
