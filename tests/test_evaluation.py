"""The metrics of lurewatch.evaluation against small hand-computed cases, properties, and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.evaluation import LABELS, Evaluation, OperatingPoint, calibration, evaluate
from lurewatch.model import Category

S, M, SC, CO, B = (c.value for c in LABELS)
APPROX = pytest.approx


def point(ev: Evaluation, positives: str, target: float) -> OperatingPoint:
    return ev.operating_point(positives, target)


# --- per-label counts, rates, macro F1, confusion ------------------------------------------------------------

TRUTH = [S, S, M, SC, CO, B, B, B]
PRED = [S, B, M, SC, SC, B, S, B]


def test_per_label_metrics_by_hand() -> None:
    ev = evaluate(TRUTH, PRED, [0.5] * 8)
    s, m, sc, co, b = ev.per_label
    assert (s.tp, s.fp, s.fn, s.tn, s.support, s.predicted) == (1, 1, 1, 5, 2, 2)
    assert (s.precision, s.recall, s.fpr, s.f1) == (0.5, 0.5, APPROX(1 / 6), 0.5)
    assert (m.precision, m.recall, m.fpr, m.f1) == (1.0, 1.0, 0.0, 1.0)
    assert (sc.tp, sc.fp, sc.fn, sc.tn) == (1, 1, 0, 6)
    assert (sc.precision, sc.recall, sc.fpr, sc.f1) == (0.5, 1.0, APPROX(1 / 7), APPROX(2 / 3))
    # commercial: present but never predicted: precision undefined, recall and F1 zero
    assert (co.precision, co.recall, co.fpr, co.f1) == (None, 0.0, 0.0, 0.0)
    assert (b.tp, b.fp, b.fn, b.tn) == (2, 1, 1, 4)
    assert (b.precision, b.recall, b.fpr, b.f1) == (APPROX(2 / 3), APPROX(2 / 3), 0.2, APPROX(2 / 3))
    assert ev.macro_f1 == APPROX((0.5 + 1 + 2 / 3 + 0 + 2 / 3) / 5)
    assert ev.macro_f1_labels == (S, M, SC, CO, B)
    # threat: truth in {S, M} = records 0, 1, 2; predicted in {S, M} = records 0, 2, 6
    t = ev.threat
    assert (t.tp, t.fp, t.fn, t.tn) == (2, 1, 1, 4)
    assert (t.precision, t.recall, t.fpr) == (APPROX(2 / 3), APPROX(2 / 3), 0.2)


def test_confusion_matrix_rows_are_truth_columns_prediction() -> None:
    ev = evaluate(TRUTH, PRED, [0.5] * 8)
    assert ev.confusion == (
        (1, 0, 0, 0, 1),
        (0, 1, 0, 0, 0),
        (0, 0, 1, 0, 0),
        (0, 0, 1, 0, 0),
        (1, 0, 0, 0, 2),
    )
    assert ev.labels == (S, M, SC, CO, B)


def test_absent_labels_give_null_not_a_crash() -> None:
    ev = evaluate([B, B], [B, S], [0.0, 0.6])
    s, m = ev.label(S), ev.label(Category.MALWARE_LURE)
    # state_approach: never true, predicted once
    assert (s.support, s.predicted, s.precision, s.recall, s.fpr, s.f1) == (0, 1, 0.0, None, 0.5, 0.0)
    # malware_lure: neither true nor predicted: every ratio with a zero denominator is null
    assert (m.precision, m.recall, m.f1) == (None, None, None)
    assert m.fpr == 0.0
    # macro F1 over the labels that occur (state_approach 0, benign 2/3), like scikit-learn's default
    assert ev.macro_f1_labels == (S, B)
    assert ev.macro_f1 == APPROX(1 / 3)
    data = ev.to_dict()
    assert data["per_label"][M]["recall"] is None


def test_all_benign_input() -> None:
    ev = evaluate([B] * 4, [B, B, B, CO], [0.0, 0.1, 0.2, 0.3])
    assert ev.label(B).recall == 0.75
    assert ev.label(B).fpr is None  # no record outside benign
    assert ev.label(S).recall is None
    for p in ev.operating_points:
        assert p.recall is None and p.positives_total == 0
    # the threshold is still chosen: 1 benign in 4 is over 2%, so only "nothing flagged" fits
    at2 = point(ev, "threat", 0.02)
    assert at2.threshold is None and at2.benign_fpr == 0.0 and at2.note
    assert ev.calibration.ece == APPROX((0.0 + 0.1 + 0.2 + 0.3) / 4)


def test_single_record() -> None:
    ev = evaluate([S], [S], [0.7])
    s = ev.label(S)
    assert (s.precision, s.recall, s.fpr, s.f1) == (1.0, 1.0, None, 1.0)
    assert ev.macro_f1 == 1.0
    assert sum(map(sum, ev.confusion)) == 1
    at1 = point(ev, "state_approach", 0.01)
    assert (at1.threshold, at1.recall, at1.benign_fpr) == (None, None, None)
    assert "no benign" in at1.note
    assert ev.calibration.ece == APPROX(0.3)
    assert ev.calibration.brier == APPROX(0.09)


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no records"):
        evaluate([], [], [])
    with pytest.raises(ValueError, match="not one of"):
        evaluate(["spam"], [B], [0.1])
    with pytest.raises(ValueError, match="risks"):
        evaluate([B, B], [B, B], [0.1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate([B], [B], [1.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate([B], [B], [math.nan])
    with pytest.raises(ValueError, match="scores"):
        evaluate([B], [B], [0.1], [[0.1, 0.2]])


# --- operating points: recall at a benign false-positive rate ------------------------------------------------


def test_threshold_is_the_lowest_that_keeps_the_rate_and_ties_are_all_flagged() -> None:
    truth = [B, B, B, B, S, S, S, S]
    risk = [0.8, 0.5, 0.2, 0.1, 0.8, 0.6, 0.5, 0.3]
    ev = evaluate(truth, [B] * 8, risk, target_fprs=(0.0, 0.25, 0.5))
    # 0.25: one benign of four may be flagged. 0.6 flags one (0.8); 0.5 would flag the benign tied at 0.5
    at25 = point(ev, "state_approach", 0.25)
    assert at25.threshold == 0.6
    assert (at25.recall, at25.true_positives, at25.benign_flagged, at25.benign_fpr) == (0.5, 2, 1, 0.25)
    # 0.5: two benign; the lowest such threshold is 0.3 (nothing benign between 0.5 and 0.3)
    at50 = point(ev, "state_approach", 0.5)
    assert (at50.threshold, at50.recall, at50.benign_flagged, at50.flagged) == (0.3, 1.0, 2, 6)
    # 0.0: the highest risk is shared by a benign record, so no threshold flags anything
    at0 = point(ev, "state_approach", 0.0)
    assert (at0.threshold, at0.recall, at0.benign_fpr, at0.flagged) == (None, 0.0, 0.0, 0)
    assert "nothing is flagged" in at0.note


def test_a_rate_exactly_at_the_target_is_allowed() -> None:
    truth = [B] * 100 + [S, M, SC]
    risk = [0.95] + [0.0] * 99 + [0.95, 0.5, 0.7]
    ev = evaluate(truth, [B] * 103, risk)
    at1 = point(ev, "threat", 0.01)
    # 1 benign in 100 = 0.01 <= 0.01; at 0.0 all 100 benign would be flagged
    assert (at1.threshold, at1.recall, at1.benign_flagged, at1.benign_fpr) == (0.5, 1.0, 1, 0.01)
    assert at1.flagged == 4  # benign, state, malware and the scam at 0.7 (which counts neither way)
    state = point(ev, "state_approach", 0.01)
    assert (state.threshold, state.recall, state.positives_total) == (0.5, 1.0, 1)


def test_fixed_thresholds_flag_risks_at_or_above() -> None:
    ev = evaluate([B, B, S, M], [B] * 4, [0.5, 0.2, 0.5, 0.49], fixed_thresholds=(0.5,))
    fixed = [p for p in ev.operating_points if p.target_fpr is None]
    assert [(p.positives, p.threshold, p.recall, p.benign_fpr) for p in fixed] == [
        ("state_approach", 0.5, 1.0, 0.5),
        ("threat", 0.5, 0.5, 0.5),
    ]


def test_threshold_rows_list_every_rate_change() -> None:
    ev = evaluate([B, S, M, SC, B], [B] * 5, [0.1, 0.9, 0.5, 0.7, 0.5])
    rows = [
        (r.threshold, r.flagged, r.benign_flagged, r.state_recall, r.threat_recall) for r in ev.threshold_rows
    ]
    # the scam's 0.7 changes no rate, so it is not a row; the tie at 0.5 is one row
    assert rows == [(0.9, 1, 0, 1.0, 0.5), (0.5, 4, 1, 1.0, 1.0), (0.1, 5, 2, 1.0, 1.0)]


# --- calibration ---------------------------------------------------------------------------------------------


def test_ece_is_zero_when_perfectly_calibrated() -> None:
    risk = [0.3] * 10 + [0.75] * 4 + [0.0] * 2 + [1.0]
    outcome = [1] * 3 + [0] * 7 + [1] * 3 + [0] + [0, 0] + [1]
    cal = calibration(risk, outcome)
    assert cal.ece == APPROX(0.0, abs=1e-12)
    assert cal.brier == APPROX((3 * 0.49 + 7 * 0.09 + 3 * 0.0625 + 0.5625) / 17)
    counts = [b.count for b in cal.bins]
    assert counts == [2, 0, 0, 10, 0, 0, 0, 3 + 1, 0, 1]
    assert cal.bins[1].mean_risk is None and cal.bins[1].observed is None
    assert cal.bins[3].observed == APPROX(0.3)


def test_ece_of_a_badly_calibrated_set() -> None:
    # two threats scored 0.1 (gap 0.9), two non-threats scored 0.85 (gap 0.85)
    cal = calibration([0.1, 0.1, 0.85, 0.85], [1, 1, 0, 0])
    assert cal.ece == APPROX(0.5 * 0.9 + 0.5 * 0.85)
    assert cal.brier == APPROX((2 * 0.81 + 2 * 0.7225) / 4)
    overconfident = calibration([0.9] * 5, [0] * 5)
    assert (overconfident.ece, overconfident.brier) == (APPROX(0.9), APPROX(0.81))


def test_bin_edges_are_closed_on_the_left_and_one_is_in_the_last_bin() -> None:
    cal = calibration([0.0, 0.1, 0.29999, 0.3, 0.7, 0.99999, 1.0], [0] * 7)
    assert [b.count for b in cal.bins] == [1, 1, 1, 1, 0, 0, 0, 1, 0, 2]
    assert (cal.bins[0].lower, cal.bins[0].upper, cal.bins[9].upper) == (0.0, 0.1, 1.0)


def test_evaluate_calibrates_against_state_approach_or_malware_lure() -> None:
    ev = evaluate([S, M, SC, CO, B], [B] * 5, [1.0, 1.0, 0.0, 0.0, 0.0])
    assert ev.calibration.ece == 0.0 and ev.calibration.brier == 0.0


# --- AUC from per-category scores ----------------------------------------------------------------------------


def test_auc_counts_ties_as_half() -> None:
    scores = np.zeros((4, 5))
    scores[:, 0] = [0.9, 0.5, 0.5, 0.1]
    ev = evaluate([S, S, B, B], [B] * 4, [0.0] * 4, scores)
    # pairs (S, not S): (0.9, 0.5) win, (0.9, 0.1) win, (0.5, 0.5) tie, (0.5, 0.1) win -> 3.5 / 4
    assert ev.label(S).auc == APPROX(0.875)
    assert ev.label(M).auc is None  # no malware lure
    assert evaluate([S], [S], [0.5]).label(S).auc is None  # no scores given


# --- properties and scikit-learn -----------------------------------------------------------------------------

labels = st.sampled_from([c.value for c in LABELS])
# a few repeated values make ties common
risks = st.one_of(st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.9, 1.0]), st.floats(0.0, 1.0))


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[str], list[str], list[float], list[float]]:
    n = draw(st.integers(1, 40))
    truth = draw(st.lists(labels, min_size=n, max_size=n))
    predicted = draw(st.lists(labels, min_size=n, max_size=n))
    risk = draw(st.lists(risks, min_size=n, max_size=n))
    targets = draw(st.lists(st.sampled_from([0.0, 0.01, 0.02, 0.1, 0.5, 1.0]), min_size=1, max_size=3))
    return truth, predicted, risk, targets


def _in_unit(value: float | None) -> bool:
    return value is None or 0.0 <= value <= 1.0


@settings(max_examples=300, deadline=None)
@given(datasets())
def test_metrics_stay_in_range_and_counts_add_up(
    data: tuple[list[str], list[str], list[float], list[float]],
) -> None:
    truth, predicted, risk, targets = data
    ev = evaluate(truth, predicted, risk, target_fprs=targets)
    n = len(truth)
    assert sum(map(sum, ev.confusion)) == n == ev.records
    for i, m in enumerate(ev.per_label):
        assert m.tp + m.fp + m.fn + m.tn == n
        assert sum(ev.confusion[i]) == m.support
        assert sum(row[i] for row in ev.confusion) == m.predicted
        for value in (m.precision, m.recall, m.fpr, m.f1):
            assert _in_unit(value)
    assert _in_unit(ev.macro_f1) and ev.macro_f1 is not None
    assert 0.0 <= ev.calibration.ece <= 1.0 and 0.0 <= ev.calibration.brier <= 1.0
    assert sum(b.count for b in ev.calibration.bins) == n
    r = np.array(risk)
    benign = np.array(truth) == B
    for p in ev.operating_points:
        assert _in_unit(p.recall) and _in_unit(p.benign_fpr)
        if p.threshold is None or p.target_fpr is None or p.benign_fpr is None:
            continue
        assert p.benign_fpr <= p.target_fpr
        # no lower risk value of the data would also keep the rate
        for lower in set(r[r < p.threshold].tolist()):
            assert np.sum(benign & (r >= lower)) / benign.sum() > p.target_fpr


@settings(max_examples=150, deadline=None)
@given(datasets())
def test_agrees_with_scikit_learn(data: tuple[list[str], list[str], list[float], list[float]]) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    truth, predicted, risk, _ = data
    ev = evaluate(truth, predicted, risk)
    order = [c.value for c in LABELS]
    np.testing.assert_array_equal(
        np.array(ev.confusion), metrics.confusion_matrix(truth, predicted, labels=order)
    )
    present = [label for label in order if label in truth or label in predicted]
    assert ev.macro_f1 == APPROX(metrics.f1_score(truth, predicted, labels=present, average="macro"))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        truth, predicted, labels=order, zero_division=np.nan
    )
    for i, m in enumerate(ev.per_label):
        assert m.support == support[i]
        for ours, theirs in ((m.precision, precision[i]), (m.recall, recall[i])):
            assert (ours is None and np.isnan(theirs)) or ours == APPROX(theirs)
        if m.f1 is not None and m.precision is not None and m.recall is not None:
            assert m.f1 == APPROX(f1[i])
    y = np.isin(truth, [S, M])
    assert ev.calibration.brier == APPROX(metrics.brier_score_loss(y, risk, pos_label=True))


def test_bins_and_auc_agree_with_scikit_learn_away_from_bin_edges() -> None:
    calibration_mod = pytest.importorskip("sklearn.calibration")
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    risk = rng.uniform(0, 1, 500)
    y = rng.uniform(0, 1, 500) < risk**2
    cal = calibration(risk, y)
    observed, mean_risk = calibration_mod.calibration_curve(y, risk, n_bins=10, strategy="uniform")
    ours = [(b.observed, b.mean_risk) for b in cal.bins if b.count]
    np.testing.assert_allclose([o for o, _ in ours], observed)
    np.testing.assert_allclose([m for _, m in ours], mean_risk)
    counts = np.array([b.count for b in cal.bins if b.count])
    assert cal.ece == APPROX(float(np.sum(counts / 500 * np.abs(np.array(mean_risk) - observed))))
    truth = np.where(y, S, B)
    scores = np.zeros((500, 5))
    scores[:, 0] = np.round(risk, 1)  # coarse scores: many ties
    assert evaluate(list(truth), [B] * 500, risk, scores).label(S).auc == APPROX(
        metrics.roc_auc_score(y, scores[:, 0])
    )
