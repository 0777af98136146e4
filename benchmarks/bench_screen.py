"""Scoring speed of rules plus text model, and `lurewatch check` latency including start-up.

1. Batch scoring: conversations per second of ``Screener.assess_many`` (rules and the bundled text
   model) over approaches already parsed from a synthetic LinkedIn export, in this process
   (``workers=0``) and with 1 and 2 worker processes, so that parsing is not counted. In the same
   run, the peer a data scientist would otherwise pick: a scikit-learn pipeline (TF-IDF over word
   1-2-grams and character 3-5-grams, logistic regression) trained on the same corpus and applied to
   the same texts with ``predict_proba`` (no rules, no evidence, no explanation).
2. ``lurewatch check``: wall time of a fresh process scoring one pasted message, 15 runs.

Results go to ``benchmarks/results/screen.json``.

    .venv/bin/python benchmarks/bench_screen.py              # 20,000 conversations
    .venv/bin/python benchmarks/bench_screen.py --n 5000     # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
MESSAGE = (
    "Dear Dr Weber, I lead research at the Eurasia Strategic Horizons Institute. Your work on quantum "
    "sensing is impressive. Our client would pay EUR 2,000 for a short report on your lab's plans. "
    "Could we continue on WeChat? Please keep this confidential."
)


def approaches(n: int) -> list:
    """``n`` approaches: a synthetic export's conversations, and the training corpus mixed in."""
    from lurewatch.ingest.read import iter_approaches
    from lurewatch.model import IngestStats
    from lurewatch.settings import Settings
    from lurewatch.synth.linkedin_export import write_large_export

    out: list = []
    with tempfile.TemporaryDirectory() as tmp:
        write_large_export(Path(tmp), n * 5, seed=5)
        for approach in iter_approaches(Path(tmp), Settings(), IngestStats()):
            out.append(approach)
            if len(out) >= n:
                break
    corpus = sorted((ROOT / "training" / "corpus").glob("*.jsonl"))
    for path in corpus:
        out[:0] = list(iter_approaches(path, Settings(), IngestStats()))
    return out[:n]


def time_scoring(items: list, workers: int) -> float:
    from lurewatch.core import Lurewatch

    screener = Lurewatch().screener
    start = time.perf_counter()
    for _ in screener.assess_many(items, workers):
        pass
    return time.perf_counter() - start


def time_peer(items: list) -> tuple[float, float]:
    """(training seconds, scoring seconds) of the scikit-learn TF-IDF + logistic regression pipeline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    from lurewatch.core import Lurewatch
    from lurewatch.screen.textmodel import inbound_text

    corpus = sorted(str(p) for p in (ROOT / "training" / "corpus").glob("*.jsonl"))
    examples = Lurewatch().training_examples(corpus)
    texts = [inbound_text(e.approach) for e in examples]
    labels = [e.label.value for e in examples]
    peer = make_pipeline(
        FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
            ]
        ),
        LogisticRegression(C=16.0, max_iter=2000),
    )
    start = time.perf_counter()
    peer.fit(texts, labels)
    trained = time.perf_counter() - start
    batch = [inbound_text(a) for a in items]
    start = time.perf_counter()
    peer.predict_proba(batch)
    return trained, time.perf_counter() - start


def time_check(runs: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUREWATCH_")}
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lurewatch", "check"],
            input=MESSAGE,
            text=True,
            capture_output=True,
            check=True,
            env=env,
        )
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="conversations to score")
    parser.add_argument("--check-runs", type=int, default=15)
    args = parser.parse_args()

    items = approaches(args.n)
    results: dict = {"conversations": len(items)}
    for workers in (0, 1, 2):
        best = min(time_scoring(items, workers) for _ in range(2))
        results[f"workers_{workers}"] = {
            "seconds": round(best, 2),
            "conversations_per_second": round(len(items) / best),
        }
        print(f"workers={workers}: {len(items) / best:,.0f} conversations/s", file=sys.stderr)
    trained, scored = time_peer(items)
    results["peer_sklearn_tfidf_logreg"] = {
        "train_seconds": round(trained, 2),
        "seconds": round(scored, 2),
        "conversations_per_second": round(len(items) / scored),
    }
    fastest = max(v["conversations_per_second"] for k, v in results.items() if k.startswith("workers_"))
    results["lurewatch_over_peer_speed"] = round(
        fastest / results["peer_sklearn_tfidf_logreg"]["conversations_per_second"], 2
    )
    print(f"peer: {len(items) / scored:,.0f} conversations/s", file=sys.stderr)
    checks = time_check(args.check_runs)
    results["check_seconds"] = {
        "median": round(statistics.median(checks), 3),
        "p90": round(sorted(checks)[int(0.9 * (len(checks) - 1))], 3),
        "max": round(max(checks), 3),
    }
    print(f"check: median {statistics.median(checks):.3f} s", file=sys.stderr)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    record = {
        "benchmark": "screen",
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "screen.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
