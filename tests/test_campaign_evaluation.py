"""B-cubed scoring of campaign membership, checked against hand-computed values."""

from __future__ import annotations

import json

import pytest

from lurewatch.campaigns.evaluation import bcubed, read_truth, read_truth_categories, score
from lurewatch.errors import InputError
from lurewatch.model import Campaign, Category


def test_perfect_and_empty() -> None:
    truth = {"a": "T1", "b": "T1", "c": "T2"}
    assert bcubed(dict(truth), truth) == (1.0, 1.0)
    assert bcubed({}, {}) == (1.0, 1.0)


def test_hand_computed_merge_and_split() -> None:
    truth = {"a": "T1", "b": "T1", "c": "T2", "d": "T2"}
    # T1 and T2 merged into one predicted cluster: precision 0.5 for each item, recall 1
    assert bcubed({k: "P" for k in truth}, truth) == (0.5, 1.0)
    # every item alone: precision 1, recall 0.5
    assert bcubed({k: k for k in truth}, truth) == (1.0, 0.5)


def test_extra_and_missing_items_are_singletons_on_the_other_side() -> None:
    truth = {"a": "T", "b": "T"}
    predicted = {"a": "P", "x": "P"}  # found half of T, plus one background message
    p, r = bcubed(predicted, truth)
    # a: |P ∩ T| = 1 of |P| = 2 -> 0.5; x: singleton in truth, 1 of 2 -> 0.5
    assert p == pytest.approx(0.5)
    # a: 1 of |T| = 2 -> 0.5; b: missed, singleton -> 1/2
    assert r == pytest.approx(0.5)


def test_score_reads_truth_and_reports_merged_sequences(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps({"type": "campaign", "campaign_id": "C1", "message_ids": ["m1", "m2"]})
        + "\n"
        + json.dumps({"type": "sequence", "sequence_id": "S1", "message_ids": ["s1", "s2"]})
        + "\n",
        encoding="utf-8",
    )
    truth, sequences = read_truth(path)
    found = Campaign("cmp-1", Category.STATE_APPROACH, 0.9, ("m1", "m2", "s1"), ("a",), ("r",), ())
    result = score([found], truth, sequences)
    assert result.sequences_merged == ["S1"]
    assert result.recall == 1.0
    assert result.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    assert result.per_campaign["C1"] == {"messages": 2, "found_in": "cmp-1", "recall": 1.0}


def test_score_checks_each_planted_category(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [
        {"type": "campaign", "campaign_id": "C1", "category": "state_approach", "message_ids": ["m1", "m2"]},
        {"type": "campaign", "campaign_id": "C2", "category": "scam", "message_ids": ["m3", "m4"]},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    truth, sequences = read_truth(path)
    found = [
        Campaign("cmp-1", Category.STATE_APPROACH, 0.9, ("m1", "m2"), ("a",), ("r",), ()),
        Campaign("cmp-2", Category.COMMERCIAL, 0.1, ("m3", "m4"), ("b",), ("r",), ()),
    ]
    result = score(found, truth, sequences, read_truth_categories(path))
    assert result.categories_matched == 1
    assert result.per_campaign["C2"]["found_category"] == "commercial"
    assert score(found, truth, sequences).categories_matched is None


def test_a_broken_truth_file_is_an_input_error(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a ground-truth file"):
        read_truth(path)
