"""Training and cross-validating the text model (scikit-learn; imported only here).

The model is fitted on rule assessments plus text (see :mod:`lurewatch.screen.textmodel`); its
probabilities are then calibrated on out-of-fold predictions of the training data itself (an inner
cross-validation), so the calibration never sees a record it was fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lurewatch.model import Approach, Assessment, Category
from lurewatch.screen.textmodel import (
    CLASSES,
    HASH_SIZE,
    THREATS,
    Batch,
    Featuriser,
    Hyper,
    TextModel,
    document_frequency,
    smoothed_idf,
)

if TYPE_CHECKING:
    import numpy as np

#: inverse regularisation strength of the logistic regression
DEFAULT_C = 16.0
DEFAULT_FOLDS = 5
#: fewest examples of every class needed to train (and to cross-validate with ``folds`` folds)
MIN_PER_CLASS = 3


class TrainingError(ValueError):
    """Training data that cannot produce a model (too few records, a class missing)."""


@dataclass(frozen=True, slots=True)
class Example:
    approach: Approach
    rules: Assessment
    label: Category


def check_examples(examples: Sequence[Example], folds: int = 0) -> None:
    counts = {c: 0 for c in CLASSES}
    for ex in examples:
        counts[ex.label] += 1
    need = max(MIN_PER_CLASS, folds)
    short = [f"{c.value} ({n})" for c, n in counts.items() if n < need]
    if short:
        raise TrainingError(
            f"every category needs at least {need} labelled examples; too few for: " + ", ".join(short)
        )


def _matrix(batch: Batch, width: int) -> Any:
    from scipy.sparse import csr_matrix

    matrix = csr_matrix((batch.val, (batch.doc, batch.col)), shape=(batch.size, width))
    matrix.sum_duplicates()
    return matrix


def _fit_linear(
    examples: Sequence[Example], indicator_ids: tuple[str, ...], hyper: Hyper, c: float, seed: int
) -> TextModel:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    pairs = [(ex.approach, ex.rules) for ex in examples]
    df, n = document_frequency(Featuriser(indicator_ids, hyper), pairs)
    idf = smoothed_idf(df, n)
    featuriser = Featuriser(indicator_ids, hyper, idf)
    width = featuriser.width
    x = _matrix(featuriser.batch(pairs), width)
    y = np.array([CLASSES.index(ex.label) for ex in examples])
    # Fit on the columns that occur (a few ten thousand of the hashed space): the optimiser's cost
    # per iteration grows with the number of parameters, and absent columns would stay zero anyway.
    used = np.unique(x.indices)
    clf = LogisticRegression(C=c, class_weight="balanced", solver="saga", max_iter=5000, random_state=seed)
    clf.fit(x[:, used], y)
    weights = np.zeros((width, len(CLASSES)), dtype=np.float32)
    for k, cls in enumerate(clf.classes_):
        weights[used, cls] = clf.coef_[k].astype(np.float32)
    intercept = np.full(len(CLASSES), -30.0)
    intercept[clf.classes_] = clf.intercept_
    return TextModel(indicator_ids=indicator_ids, hyper=hyper, weights=weights, intercept=intercept, idf=idf)


def _folds(labels: Sequence[Category], k: int, seed: int) -> list[tuple[list[int], list[int]]]:
    from sklearn.model_selection import StratifiedKFold

    y = [CLASSES.index(label) for label in labels]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(tr), list(te)) for tr, te in splitter.split(y, y)]


def _out_of_fold_logits(
    examples: Sequence[Example], indicator_ids: tuple[str, ...], hyper: Hyper, c: float, k: int, seed: int
) -> np.ndarray:
    import numpy as np

    out = np.zeros((len(examples), len(CLASSES)))
    for train_idx, test_idx in _folds([ex.label for ex in examples], k, seed):
        model = _fit_linear([examples[i] for i in train_idx], indicator_ids, hyper, c, seed)
        test = [examples[i] for i in test_idx]
        out[test_idx] = model.logits(model.featurise([(ex.approach, ex.rules) for ex in test]))
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the log-loss of softmax(logits / T)."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        z = logits / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    result = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(math.exp(result.x))


def fit_platt(threat_probability: np.ndarray, is_threat: np.ndarray) -> tuple[float, float]:
    """a, b of risk = sigmoid(a * logit(p) + b), fitted by (lightly regularised) logistic regression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if is_threat.min() == is_threat.max():
        return (1.0, 0.0)
    p = np.clip(threat_probability, 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p)).reshape(-1, 1)
    lr = LogisticRegression(C=100.0, max_iter=1000)
    lr.fit(z, is_threat.astype(int))
    return (float(lr.coef_[0, 0]), float(lr.intercept_[0]))


def train(
    examples: Sequence[Example],
    indicator_ids: Sequence[str],
    *,
    hyper: Hyper | None = None,
    c: float = DEFAULT_C,
    calibration_folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> TextModel:
    """Fit a calibrated model on ``examples`` (rule assessments already attached)."""
    import numpy as np

    check_examples(examples, calibration_folds)
    hyper = hyper or Hyper()
    ids = tuple(indicator_ids)
    model = _fit_linear(examples, ids, hyper, c, seed)
    y = np.array([CLASSES.index(ex.label) for ex in examples])
    if calibration_folds >= 2:
        oof = _out_of_fold_logits(examples, ids, hyper, c, calibration_folds, seed)
        model.temperature = fit_temperature(oof, y)
        probs = model.probabilities(oof)
        model.platt = fit_platt(probs[:, list(THREATS)].sum(axis=1), np.isin(y, THREATS))
    counts = {c_.value: int((y == k).sum()) for k, c_ in enumerate(CLASSES)}
    model.metadata = {
        "version": datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": counts,
        "c": c,
        "seed": seed,
        "hash_size": HASH_SIZE,
        **(metadata or {}),
    }
    return model


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-fold predictions: every example scored by a model that never saw it."""

    labels: list[Category]
    predicted: list[Category]
    risks: list[float]
    probabilities: list[dict[Category, float]]
    folds: int
    seed: int


def cross_validate(
    examples: Sequence[Example],
    indicator_ids: Sequence[str],
    *,
    folds: int = DEFAULT_FOLDS,
    hyper: Hyper | None = None,
    c: float = DEFAULT_C,
    seed: int = 0,
    on_fold: Callable[[int], None] | None = None,
) -> CrossValidation:
    """Stratified k-fold: each fold's model (calibration included) is trained on the other folds."""
    check_examples(examples, folds)
    hyper = hyper or Hyper()
    ids = tuple(indicator_ids)
    n = len(examples)
    predicted: list[Category | None] = [None] * n
    risks = [0.0] * n
    probabilities: list[dict[Category, float]] = [{} for _ in range(n)]
    for fold, (train_idx, test_idx) in enumerate(_folds([ex.label for ex in examples], folds, seed)):
        train_set = [examples[i] for i in train_idx]
        inner = min(DEFAULT_FOLDS, folds)
        model = train(train_set, ids, hyper=hyper, c=c, calibration_folds=inner, seed=seed)
        test = [examples[i] for i in test_idx]
        probs, risk, _ = model.predict([(ex.approach, ex.rules) for ex in test])
        for j, i in enumerate(test_idx):
            predicted[i] = CLASSES[int(probs[j].argmax())]
            risks[i] = float(risk[j])
            probabilities[i] = {c_: float(probs[j, k]) for k, c_ in enumerate(CLASSES)}
        if on_fold is not None:
            on_fold(fold + 1)
    return CrossValidation(
        labels=[ex.label for ex in examples],
        predicted=[p for p in predicted if p is not None],
        risks=risks,
        probabilities=probabilities,
        folds=folds,
        seed=seed,
    )
