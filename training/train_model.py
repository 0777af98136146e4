"""Train the text model bundled with lurewatch (src/lurewatch/data/model.npz) and record its numbers.

    .venv/bin/python training/train_model.py            # training/corpus/*.jsonl (+ ../shared/eval if present)
    .venv/bin/python training/train_model.py --no-shared

Steps, all recorded in training/results/bundled-model.json:
1. Held-out check: a model trained on lurewatch's own corpus (training/corpus, written for this
   project from the public sources, never from ../shared/eval) is scored on ../shared/eval, which it
   has never seen.
2. Cross-validation (5 folds, stratified) over everything the bundled model learns from.
3. The bundled model: fitted on everything, calibrated on inner out-of-fold predictions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "training" / "corpus"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
RESULTS = ROOT / "training" / "results"
BUNDLED = ROOT / "src" / "lurewatch" / "data" / "model.npz"


def summary(labels, predicted, risks, probabilities=None) -> dict:
    """The evaluation as JSON, with a headline of the numbers the issue's targets name."""
    from lurewatch.evaluation import evaluate
    from lurewatch.screen.textmodel import CLASSES

    scores = None if probabilities is None else [[p[c] for c in CLASSES] for p in probabilities]
    ev = evaluate(labels, predicted, risks, scores)
    full = ev.to_dict()
    headline = {
        "records": ev.records,
        "macro_f1": round(ev.macro_f1 or 0.0, 4),
        "ece": round(ev.calibration.ece, 4),
        "per_label": {
            m.label: {"precision": m.precision, "recall": m.recall, "fpr": m.fpr, "f1": m.f1}
            for m in ev.per_label
        },
    }
    for point in ev.operating_points:
        if point.target_fpr is not None:
            headline[f"{point.positives}_recall_at_{point.target_fpr:.0%}_benign_fpr"] = point.recall
    return {"summary": headline, "full": full}


def by_language(examples, cv) -> dict:
    """The cross-validated metrics per detected language of the inbound text (English, German, French)."""
    from lurewatch.evaluation import evaluate
    from lurewatch.screen.language import detect_language
    from lurewatch.screen.textmodel import inbound_text

    langs = [detect_language(inbound_text(e.approach))[0] for e in examples]
    out = {}
    for lang in ("en", "de", "fr"):
        idx = [i for i, code in enumerate(langs) if code == lang]
        if not idx:
            continue
        ev = evaluate([cv.labels[i] for i in idx], [cv.predicted[i] for i in idx], [cv.risks[i] for i in idx])
        at_2 = next(p for p in ev.operating_points if p.positives == "threat" and p.target_fpr == 0.02)
        out[lang] = {
            "records": len(idx),
            "macro_f1": ev.macro_f1,
            "threat_precision": ev.threat.precision,
            "threat_recall": ev.threat.recall,
            "threat_recall_at_2%_benign_fpr": at_2.recall,
            "ece": ev.calibration.ece,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-shared", action="store_true", help="do not learn from ../shared/eval")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from lurewatch.core import Lurewatch
    from lurewatch.screen.training import cross_validate, train

    core = Lurewatch()
    own = sorted(str(p) for p in CORPUS.glob("*.jsonl"))
    shared = (
        []
        if args.no_shared or not SHARED_EVAL.is_dir()
        else sorted(str(p) for p in SHARED_EVAL.glob("*.jsonl"))
    )
    if not own:
        sys.exit(f"no training corpus in {CORPUS}")
    ids = [i.id for i in core.screener.catalogue.indicators]
    record: dict = {"date": time.strftime("%Y-%m-%d"), "own_corpus": [Path(p).name for p in own]}

    own_examples = core.training_examples(own)
    if shared:
        shared_examples = core.training_examples(shared)
        t = time.perf_counter()
        held_model = train(own_examples, ids, seed=args.seed)
        probs, risks, _ = held_model.predict([(e.approach, e.rules) for e in shared_examples])
        from lurewatch.screen.textmodel import CLASSES

        predicted = [CLASSES[int(p.argmax())] for p in probs]
        record["held_out_shared_eval"] = {
            "trained_on": len(own_examples),
            "scored": len(shared_examples),
            "seconds": round(time.perf_counter() - t, 1),
            "metrics": summary([e.label for e in shared_examples], predicted, [float(r) for r in risks]),
        }
        print("held-out on ../shared/eval:", json.dumps(record["held_out_shared_eval"]["metrics"]["summary"]))
    else:
        shared_examples = []

    everything = own_examples + shared_examples
    cv = cross_validate(everything, ids, folds=args.folds, seed=args.seed)
    record["cross_validation"] = {
        "folds": args.folds,
        "examples": len(everything),
        "metrics": summary(cv.labels, cv.predicted, cv.risks, cv.probabilities),
    }
    print("cross-validated:", json.dumps(record["cross_validation"]["metrics"]["summary"]))
    record["cross_validation"]["by_language"] = by_language(everything, cv)
    print("by language:", json.dumps(record["cross_validation"]["by_language"]))

    sources = [Path(p).name for p in own + shared]
    model = train(everything, ids, seed=args.seed, metadata={"sources": sources, "bundled": True})
    tmp = BUNDLED.with_name("model.new.npz")
    model.save(tmp)
    shutil.move(tmp, BUNDLED)
    record["bundled_model"] = {
        "version": model.version,
        "examples": model.metadata["examples"],
        "bytes": BUNDLED.stat().st_size,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bundled-model.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {BUNDLED} ({BUNDLED.stat().st_size:,} bytes), version {model.version}")


if __name__ == "__main__":
    main()
