"""Detection-quality metrics over labelled records: pure functions of plain arrays.

:func:`evaluate` takes, for each record, its true label, the predicted category, the risk (the score
that the record is a state approach or malware lure, in [0, 1]) and optionally the five per-category
scores, and returns an :class:`Evaluation`. It reads no files and knows nothing of the screener, so
the same function serves ``lurewatch eval`` (predictions of the current screener) and
cross-validation (out-of-fold predictions of models retrained per fold). :class:`Predictions`
collects those arrays from ``(approach, assessment)`` pairs.

Definitions (N records; the five labels are :data:`LABELS`, in that order everywhere)
-------------------------------------------------------------------------------------
Per label L, counting records by true label and predicted category:

- ``tp`` = true L and predicted L; ``fp`` = predicted L, true not L; ``fn`` = true L, predicted not L;
  ``tn`` = neither. ``support`` = tp + fn (records whose true label is L); ``predicted`` = tp + fp.
- ``precision`` = tp / (tp + fp), **null** when nothing was predicted L.
- ``recall`` = tp / (tp + fn), **null** when no record is labelled L.
- ``fpr`` (false-positive rate) = fp / (fp + tn): the share of records *not* labelled L that were
  predicted L; **null** when every record is labelled L.
- ``f1`` = 2 tp / (2 tp + fp + fn) (the harmonic mean of precision and recall when both are defined,
  0 when one of them is 0 or undefined while the other side has records), **null** when L is neither
  a true label nor a prediction of any record.
- ``auc`` (only when per-category scores are given): the one-vs-rest ROC AUC of the score for L, i.e.
  the probability that a record labelled L has a higher L-score than a record not labelled L, ties
  counting one half (the Mann-Whitney statistic). **null** when either group is empty.

``threat`` is the same set of counts for the merged class "state_approach or malware_lure" (true label
in that pair versus predicted category in that pair); its fpr is over scam, commercial and benign records.

``macro_f1`` is the unweighted mean of ``f1`` over the labels whose f1 is defined (labels that occur
as a true label or as a prediction; scikit-learn's ``f1_score(average="macro")`` with its default
labels). ``macro_f1_labels`` lists them.

``confusion[i][j]`` is the number of records with true label ``LABELS[i]`` predicted ``LABELS[j]``
(rows: truth, columns: prediction); it sums to N.

Operating points (recall at a benign false-positive rate). A threshold t *flags* every record whose
risk is >= t (ties at t are all flagged). For positives P (``state_approach``: records labelled
state_approach; ``threat``: records labelled state_approach or malware_lure) and a target rate a:

- ``benign_fpr(t)`` = (benign records with risk >= t) / (benign records); scam and commercial records
  are neither positives nor counted in this rate.
- the threshold chosen is the *smallest* risk value occurring among the N records whose
  benign_fpr(t) <= a (as a float division); it gives the highest recall at that rate.
- ``recall`` = (positives with risk >= t) / (positives), null when there are no positives.
- When even the highest risk value flags too many benign records, no threshold is possible: the
  threshold is null, nothing is flagged and recall is 0 (``note`` says so). Without benign records
  the rate is undefined and threshold, recall and rate are null.

Fixed thresholds (such as the alert threshold) are reported the same way with the threshold given.

Calibration of the risk against y = 1 when the true label is state_approach or malware_lure, else 0:

- 10 equal-width bins: bin k (k = 0..9) holds risks r with k/10 <= r < (k+1)/10, and bin 9 also
  holds r = 1.0 (k/10 is the double nearest to it, as Python computes ``k / 10``).
- per bin: ``count`` n_k, ``mean_risk`` (mean r), ``observed`` (mean y); null in an empty bin.
- ``ece`` = sum over non-empty bins of (n_k / N) * |mean_risk_k - observed_k|.
- ``brier`` = mean over records of (r - y)^2.

The threshold table (``threshold_rows``) lists, for every distinct risk value of a benign,
state_approach or malware_lure record (highest first; the values at which a rate above changes), how
many records that threshold flags and the resulting benign FPR, state-approach recall and threat recall.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lurewatch.errors import InputError
from lurewatch.model import THREAT_CATEGORIES, Category

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from lurewatch.model import Approach, Assessment

#: The five labels, in the order of every table, matrix row and column (the Category enum's order).
LABELS: tuple[Category, ...] = tuple(Category)
#: The benign false-positive rates at which recall is reported.
DEFAULT_TARGET_FPRS: tuple[float, ...] = (0.01, 0.02)
#: Equal-width calibration bins over [0, 1].
N_BINS = 10
#: Decimals of the risk and scores as ``lurewatch scan --json`` prints them.
RISK_DECIMALS = 4

_INDEX = {label: i for i, label in enumerate(LABELS)}
_STATE = _INDEX[Category.STATE_APPROACH]
_THREAT = sorted(_INDEX[c] for c in THREAT_CATEGORIES)
_BENIGN = _INDEX[Category.BENIGN]


@dataclass(frozen=True, slots=True)
class LabelMetrics:
    """Counts and rates of one label (see the module docstring for the definitions)."""

    label: str
    support: int
    predicted: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    fpr: float | None
    f1: float | None
    auc: float | None = None


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """Recall of ``positives`` (``state_approach`` or ``threat``) when flagging risk >= ``threshold``."""

    positives: str
    #: the benign false-positive rate the threshold was chosen for; None for a fixed threshold
    target_fpr: float | None
    threshold: float | None
    recall: float | None
    benign_fpr: float | None
    true_positives: int
    positives_total: int
    benign_flagged: int
    benign_total: int
    #: records of any label flagged at the threshold
    flagged: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    lower: float
    upper: float
    count: int
    mean_risk: float | None
    observed: float | None


@dataclass(frozen=True, slots=True)
class Calibration:
    ece: float
    brier: float
    bins: tuple[CalibrationBin, ...]


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    threshold: float
    flagged: int
    benign_flagged: int
    benign_fpr: float | None
    state_recall: float | None
    threat_recall: float | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    records: int
    per_label: tuple[LabelMetrics, ...]
    threat: LabelMetrics
    macro_f1: float | None
    macro_f1_labels: tuple[str, ...]
    #: rows: true label, columns: predicted category, both in :data:`LABELS` order
    confusion: tuple[tuple[int, ...], ...]
    operating_points: tuple[OperatingPoint, ...]
    calibration: Calibration
    threshold_rows: tuple[ThresholdRow, ...]
    labels: tuple[str, ...] = tuple(c.value for c in LABELS)

    def label(self, name: str | Category) -> LabelMetrics:
        return self.per_label[_INDEX[Category(name)]]

    def operating_point(self, positives: str, target_fpr: float) -> OperatingPoint:
        for point in self.operating_points:
            if point.positives == positives and point.target_fpr == target_fpr:
                return point
        raise KeyError((positives, target_fpr))

    def to_dict(self, threshold_report: bool = False) -> dict[str, Any]:
        """Everything as JSON-ready values (null for undefined rates)."""
        data: dict[str, Any] = {
            "records": self.records,
            "labels": list(self.labels),
            "per_label": {m.label: _metrics_dict(m) for m in self.per_label},
            "threat": _metrics_dict(self.threat),
            "macro_f1": self.macro_f1,
            "macro_f1_labels": list(self.macro_f1_labels),
            "confusion": {
                "rows": "true label",
                "columns": "predicted category",
                "labels": list(self.labels),
                "matrix": [list(row) for row in self.confusion],
            },
            "operating_points": [asdict(p) for p in self.operating_points],
            "calibration": {
                "target": "state_approach or malware_lure",
                "bins": N_BINS,
                "ece": self.calibration.ece,
                "brier": self.calibration.brier,
                "table": [asdict(b) for b in self.calibration.bins],
            },
        }
        if threshold_report:
            data["threshold_report"] = [asdict(r) for r in self.threshold_rows]
        return data


def _metrics_dict(m: LabelMetrics) -> dict[str, Any]:
    data = asdict(m)
    del data["label"]
    return data


def evaluate(
    truth: Sequence[str | Category],
    predicted: Sequence[str | Category],
    risk: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    target_fprs: Sequence[float] = DEFAULT_TARGET_FPRS,
    fixed_thresholds: Sequence[float] = (),
) -> Evaluation:
    """All metrics of the module docstring for N records.

    ``truth`` and ``predicted``: N labels (:class:`Category` or its value). ``risk``: N numbers in
    [0, 1]. ``scores``: optional N x 5 per-category scores in :data:`LABELS` order (only used for the
    per-label AUC). ``target_fprs``: benign false-positive rates for the operating points;
    ``fixed_thresholds``: thresholds (such as the alert threshold) reported as they are.
    Raises ``ValueError`` on empty or inconsistent input.
    """
    y = _label_indices(truth, "truth")
    p = _label_indices(predicted, "predicted")
    n = len(y)
    if n == 0:
        raise ValueError("no records to evaluate")
    if len(p) != n:
        raise ValueError(f"{n} true labels but {len(p)} predictions")
    r = np.asarray(risk, dtype=float).reshape(-1)
    if len(r) != n:
        raise ValueError(f"{n} true labels but {len(r)} risks")
    if not np.all(np.isfinite(r)) or np.any(r < 0.0) or np.any(r > 1.0):
        raise ValueError("every risk must be a number in [0, 1]")
    s: NDArray[np.float64] | None = None
    if scores is not None:
        s = np.asarray(scores, dtype=float)
        if s.shape != (n, len(LABELS)):
            raise ValueError(f"scores must be {n} x {len(LABELS)}, got {s.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError("every score must be a finite number")
    for a in target_fprs:
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"target false-positive rate {a} is not in [0, 1]")

    k = len(LABELS)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, p), 1)
    per_label = tuple(
        _label_metrics(
            label.value,
            y == i,
            p == i,
            None if s is None else _auc(s[:, i], y == i),
        )
        for i, label in enumerate(LABELS)
    )
    threat = _label_metrics("threat", np.isin(y, _THREAT), np.isin(p, _THREAT), None)
    defined = [m for m in per_label if m.f1 is not None]
    macro_f1 = float(np.mean([m.f1 for m in defined])) if defined else None

    benign = y == _BENIGN
    positives = {"state_approach": y == _STATE, "threat": np.isin(y, _THREAT)}
    points: list[OperatingPoint] = []
    for name, mask in positives.items():
        for a in target_fprs:
            points.append(_at_fpr(r, mask, benign, name, float(a)))
        for t in fixed_thresholds:
            points.append(_at_threshold(r, mask, benign, name, float(t), None))

    threat_y = np.isin(y, _THREAT).astype(float)
    return Evaluation(
        records=n,
        per_label=per_label,
        threat=threat,
        macro_f1=macro_f1,
        macro_f1_labels=tuple(m.label for m in defined),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        operating_points=tuple(points),
        calibration=calibration(r, threat_y),
        threshold_rows=_threshold_rows(r, y, benign),
    )


def _label_indices(labels: Sequence[str | Category], what: str) -> NDArray[np.int64]:
    out = np.empty(len(labels), dtype=np.int64)
    for i, label in enumerate(labels):
        try:
            out[i] = _INDEX[Category(label)]
        except ValueError:
            raise ValueError(f"{what}[{i}]: {label!r} is not one of {[c.value for c in LABELS]}") from None
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _label_metrics(
    label: str, is_true: NDArray[np.bool_], is_pred: NDArray[np.bool_], auc: float | None
) -> LabelMetrics:
    tp = int(np.sum(is_true & is_pred))
    fp = int(np.sum(~is_true & is_pred))
    fn = int(np.sum(is_true & ~is_pred))
    tn = int(np.sum(~is_true & ~is_pred))
    return LabelMetrics(
        label=label,
        support=tp + fn,
        predicted=tp + fp,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        fpr=_ratio(fp, fp + tn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        auc=auc,
    )


def _average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    # start of each run of equal values, and its length
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    mean_rank = starts + (lengths + 1) / 2.0
    ranks = np.empty(len(values), dtype=float)
    ranks[order] = np.repeat(mean_rank, lengths)
    return ranks


def _auc(score: NDArray[np.float64], is_true: NDArray[np.bool_]) -> float | None:
    n_pos = int(is_true.sum())
    n_neg = len(is_true) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(score)
    return float((ranks[is_true].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _at_threshold(
    r: NDArray[np.float64],
    positive: NDArray[np.bool_],
    benign: NDArray[np.bool_],
    name: str,
    threshold: float,
    target: float | None,
) -> OperatingPoint:
    flagged = r >= threshold
    tp, n_pos = int(np.sum(flagged & positive)), int(positive.sum())
    fb, n_benign = int(np.sum(flagged & benign)), int(benign.sum())
    return OperatingPoint(
        positives=name,
        target_fpr=target,
        threshold=threshold,
        recall=_ratio(tp, n_pos),
        benign_fpr=_ratio(fb, n_benign),
        true_positives=tp,
        positives_total=n_pos,
        benign_flagged=fb,
        benign_total=n_benign,
        flagged=int(flagged.sum()),
    )


def _at_fpr(
    r: NDArray[np.float64],
    positive: NDArray[np.bool_],
    benign: NDArray[np.bool_],
    name: str,
    target: float,
) -> OperatingPoint:
    n_benign, n_pos = int(benign.sum()), int(positive.sum())
    if n_benign == 0:
        return OperatingPoint(
            name, target, None, None, None, 0, n_pos, 0, 0, 0, "no benign records: the rate is undefined"
        )
    values = np.unique(r)[::-1]  # candidate thresholds, highest first
    benign_sorted = np.sort(r[benign])
    # benign records at or above each candidate: non-decreasing as the threshold falls
    benign_at = n_benign - np.searchsorted(benign_sorted, values, side="left")
    feasible = np.array([b / n_benign <= target for b in benign_at.tolist()])
    if not feasible[0]:
        return OperatingPoint(
            name,
            target,
            None,
            0.0 if n_pos else None,
            0.0,
            0,
            n_pos,
            0,
            n_benign,
            0,
            "every threshold flags too many benign records: nothing is flagged",
        )
    # feasible is True down to some candidate, then False: take the lowest feasible threshold
    last = int(np.flatnonzero(feasible)[-1])
    return _at_threshold(r, positive, benign, name, float(values[last]), target)


def calibration(risk: ArrayLike, outcome: ArrayLike, n_bins: int = N_BINS) -> Calibration:
    """Expected calibration error, Brier score and the reliability table of ``risk`` against a 0/1 ``outcome``."""
    r = np.asarray(risk, dtype=float).reshape(-1)
    o = np.asarray(outcome, dtype=float).reshape(-1)
    if len(r) == 0 or len(r) != len(o):
        raise ValueError("calibration needs as many outcomes as risks, and at least one")
    edges = np.arange(n_bins + 1) / n_bins
    index = np.clip(np.searchsorted(edges, r, side="right") - 1, 0, n_bins - 1)
    bins: list[CalibrationBin] = []
    ece = 0.0
    for k in range(n_bins):
        in_bin = index == k
        count = int(in_bin.sum())
        if count:
            mean_risk, observed = float(r[in_bin].mean()), float(o[in_bin].mean())
            ece += count / len(r) * abs(mean_risk - observed)
            bins.append(CalibrationBin(float(edges[k]), float(edges[k + 1]), count, mean_risk, observed))
        else:
            bins.append(CalibrationBin(float(edges[k]), float(edges[k + 1]), 0, None, None))
    brier = float(np.mean((r - o) ** 2))
    return Calibration(ece=float(ece), brier=brier, bins=tuple(bins))


def _threshold_rows(
    r: NDArray[np.float64], y: NDArray[np.int64], benign: NDArray[np.bool_]
) -> tuple[ThresholdRow, ...]:
    state = y == _STATE
    threat = np.isin(y, _THREAT)
    n_benign, n_state, n_threat = int(benign.sum()), int(state.sum()), int(threat.sum())
    rows = []
    for t in np.unique(r[benign | threat])[::-1].tolist():
        flagged = r >= t
        rows.append(
            ThresholdRow(
                threshold=float(t),
                flagged=int(flagged.sum()),
                benign_flagged=int(np.sum(flagged & benign)),
                benign_fpr=_ratio(int(np.sum(flagged & benign)), n_benign),
                state_recall=_ratio(int(np.sum(flagged & state)), n_state),
                threat_recall=_ratio(int(np.sum(flagged & threat)), n_threat),
            )
        )
    return tuple(rows)


@dataclass(slots=True)
class Predictions:
    """The arrays :func:`evaluate` takes, collected from screened labelled approaches.

    Risks and scores are kept as ``lurewatch scan --json`` prints them (rounded to
    :data:`RISK_DECIMALS` decimals), so a reported threshold can be checked against that output.
    """

    ids: list[str] = field(default_factory=list)
    truth: list[Category] = field(default_factory=list)
    predicted: list[Category] = field(default_factory=list)
    risk: list[float] = field(default_factory=list)
    scores: list[list[float]] = field(default_factory=list)
    #: how many records each catalogue / model version scored
    versions: Counter[str] = field(default_factory=Counter)

    def add(self, approach: Approach, assessment: Assessment) -> None:
        """Add one record; an approach without a label is an :class:`InputError` naming its file."""
        if approach.label is None:
            raise InputError(
                approach.source or "<input>",
                f"record {approach.id!r} has no 'label'; eval needs labelled corpus records "
                "(JSON Lines, see ../shared/eval/SCHEMA.md)",
            )
        version = f"catalogue {assessment.catalogue_version or 'unknown'}"
        if assessment.model_version:
            version += f", model {assessment.model_version}"
        self.add_values(
            approach.id,
            approach.label,
            assessment.category,
            assessment.risk,
            assessment.category_scores,
            version,
        )

    def add_values(
        self,
        record_id: str,
        truth: Category,
        predicted: Category,
        risk: float,
        scores: Mapping[Category, float],
        version: str,
    ) -> None:
        """Add one record's prediction given as values (out-of-fold predictions of a cross-validation)."""
        self.ids.append(record_id)
        self.truth.append(truth)
        self.predicted.append(predicted)
        self.risk.append(round(risk, RISK_DECIMALS))
        self.scores.append([round(scores.get(c, 0.0), RISK_DECIMALS) for c in LABELS])
        self.versions[version] += 1

    def extend(self, pairs: Iterable[tuple[Approach, Assessment]]) -> None:
        for approach, assessment in pairs:
            self.add(approach, assessment)

    def __len__(self) -> int:
        return len(self.ids)

    def evaluate(self, **options: Any) -> Evaluation:
        return evaluate(self.truth, self.predicted, self.risk, self.scores, **options)


def fmt(value: float | None, digits: int = 3) -> str:
    """A rate for tables: fixed decimals, or ``n/a`` when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"
