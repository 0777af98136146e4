"""Text to LSH band keys: lurewatch's NumPy MinHash against datasketch MinHash + MinHashLSH.

Synthetic short approach messages (a few templates of interchangeable sentences, names, numbers and
links, a quarter of the words drawn from a 4,096-word vocabulary), with planted campaigns: each campaign is one base message sent to several people with two or
three words changed, a different greeting name, number and link. In the same run, on the same texts,
with the same normalisation, shingles (character 5-grams), ``num_perm`` and Jaccard threshold:

* lurewatch: ``normalise`` + ``signatures`` + ``bands`` in 2 worker processes (texts to band keys), then
  ``candidate_pairs`` in this process;
* datasketch: ``MinHash.bulk`` in 2 worker processes (texts to MinHash), then ``MinHashLSH.insert``
  (one index, one process: it is a Python dict per band), then ``query`` for the campaign members.

Both pick ``(b, r)`` by the same criterion (here 14 x 9 at 0.7), so recall differences come from the
hashing only. Recall is over all planted pairs and over those whose true shingle Jaccard is at least
the threshold. Results go to ``benchmarks/results/signatures.json``.

datasketch is not a lurewatch dependency; install it for this benchmark only:

    .venv/bin/pip install datasketch
    .venv/bin/python benchmarks/bench_signatures.py                # 200,000 messages
    .venv/bin/python benchmarks/bench_signatures.py --n 20000      # quicker

Without datasketch the lurewatch half still runs and the peer is recorded as skipped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from lurewatch.campaigns.signatures import (  # noqa: E402
    bands,
    candidate_pairs,
    choose_bands,
    collision_probability,
    normalise,
    signatures,
)

try:  # the peer, optional
    import datasketch

    HAVE_DATASKETCH = True
except ImportError:  # pragma: no cover
    HAVE_DATASKETCH = False

FIRST = [
    "Anna",
    "Ben",
    "Chen",
    "Dmitri",
    "Eva",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kim",
    "Lena",
    "Maya",
    "Noah",
    "Olga",
    "Pavel",
    "Wei",
    "Sara",
    "Tom",
    "Yuki",
]
LAST = [
    "Li",
    "Smith",
    "Wang",
    "Müller",
    "Dubois",
    "Kowalski",
    "Tanaka",
    "Novak",
    "Garcia",
    "Jensen",
    "Zhang",
    "Brown",
    "Ivanova",
    "Rossi",
]
GREET = ["Hi", "Hello", "Dear", "Hey", "Good morning"]
SIGN = ["Best regards", "Kind regards", "Thanks", "Cheers", "Best"]
OPEN = [
    "I came across your profile and was impressed by your work on {topic}.",
    "I lead a small consultancy that advises clients in the {sector} sector.",
    "Our think tank is preparing a report on {topic} for senior policy makers.",
    "I am recruiting for a confidential role at a fast growing {sector} company.",
    "We met briefly at the {event} conference last year, I hope you remember.",
    "I saw your recent talk about {topic} and wanted to reach out directly.",
    "My client, a leading {sector} investor, asked me to contact a few experts.",
    "I am a research fellow working on {topic} and would value your opinion.",
]
MIDDLE = [
    "We would pay {num} dollars for a short paper of about {num2} pages.",
    "The position is remote and the package starts at {num} per year plus bonus.",
    "Could we have a quick call this week to discuss a possible collaboration?",
    "The work is flexible and would not conflict with your current employer.",
    "Several of your colleagues have already agreed to join the advisory panel.",
    "We can also cover travel to {city} for a workshop with our partners.",
    "Details are in the attached brief, or see {url} for more about us.",
    "Please keep this opportunity between us for now as it is not yet public.",
    "I would be happy to share more about the team and the project timeline.",
    "Our partners are especially interested in your view on {topic}.",
]
ASK = [
    "Are you free for a short call on {day}?",
    "Would you be open to a chat? You can also reach me at {email}.",
    "Let me know if this sounds interesting, my WhatsApp is {phone}.",
    "Happy to send more details if you are interested.",
    "Could you reply with a good time to talk?",
]
TOPIC = [
    "quantum sensing",
    "battery chemistry",
    "semiconductor lithography",
    "satellite navigation",
    "protein design",
    "drone autonomy",
    "grid security",
    "advanced materials",
    "machine learning",
    "export controls",
]
SECTOR = ["energy", "defence", "aerospace", "biotech", "semiconductor", "finance", "telecom", "automotive"]
EVENT = ["Munich", "Photonics West", "NeurIPS", "RSA", "Farnborough", "SPIE"]
CITY = ["Singapore", "Dubai", "Vienna", "Istanbul", "Hong Kong", "Geneva"]
DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
SWAP = [
    "really",
    "very",
    "quite",
    "truly",
    "recently",
    "soon",
    "gladly",
    "kindly",
    "also",
    "just",
    "perhaps",
    "certainly",
]


def _fill(rng: random.Random, s: str) -> str:
    return s.format(
        topic=rng.choice(TOPIC),
        sector=rng.choice(SECTOR),
        event=rng.choice(EVENT),
        city=rng.choice(CITY),
        day=rng.choice(DAY),
        num=rng.randint(500, 90000),
        num2=rng.randint(3, 40),
        url=f"https://{rng.choice(['insight', 'global', 'bridge', 'nova'])}-{rng.randint(1, 999)}.com/p/{rng.randint(1, 10**6)}",
        email=f"{rng.choice(FIRST).lower()}.{rng.randint(1, 999)}@mail{rng.randint(1, 99)}.com",
        phone=f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}",
    )


_SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "de", "ba", "ze", "po", "ul", "an", "is", "or"]
VOCAB = sorted({a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES})  # 4,096 words


def _body(rng: random.Random) -> list[str]:
    """One message from the sentence pools, with about a quarter of its words replaced by words of a
    4,096-word vocabulary, so that two messages are only as alike as their sentences' skeletons."""
    parts = [_fill(rng, rng.choice(OPEN))]
    parts += [_fill(rng, s) for s in rng.sample(MIDDLE, rng.randint(2, 3))]
    parts.append(_fill(rng, rng.choice(ASK)))
    words = " ".join(parts).split(" ")
    return [rng.choice(VOCAB) if rng.random() < 0.25 else w for w in words]


def _wrap(rng: random.Random, words: list[str]) -> tuple[str, str, str]:
    recipient = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    sender = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    text = (
        f"{rng.choice(GREET)} {recipient.split()[0]},\n\n{' '.join(words)}\n\n{rng.choice(SIGN)},\n{sender}"
    )
    return text, recipient, sender


def _variant(rng: random.Random, words: list[str], changes: int) -> list[str]:
    out = list(words)
    for _ in range(changes):
        i = rng.randrange(len(out))
        if rng.random() < 0.5:
            out[i] = rng.choice(SWAP)
        else:
            out.insert(i, rng.choice(SWAP))
    return out


def make_corpus(n: int, campaign_share: float = 0.2, seed: int = 7):
    """``(texts, recipients, senders, campaign_of)``: ``campaign_of[i]`` is -1 for background."""
    rng = random.Random(seed)
    texts, recips, senders, camp = [], [], [], []
    n_camp_msgs = int(n * campaign_share)
    cid = 0
    while len(texts) < n_camp_msgs:
        base = _body(rng)
        for _ in range(min(rng.randint(3, 12), n_camp_msgs - len(texts))):
            t, rc, sd = _wrap(rng, _variant(rng, base, rng.randint(2, 3)))
            texts.append(t), recips.append(rc), senders.append(sd), camp.append(cid)
        cid += 1
    while len(texts) < n:
        t, rc, sd = _wrap(rng, _body(rng))
        texts.append(t), recips.append(rc), senders.append(sd), camp.append(-1)
    order = list(range(n))
    rng.shuffle(order)
    return (
        [texts[i] for i in order],
        [recips[i] for i in order],
        [senders[i] for i in order],
        np.array([camp[i] for i in order]),
    )


# worker state (inherited by fork)
_TEXTS: list[str] = []
_RECIPS: list[str] = []
_SENDERS: list[str] = []


def _lw_chunk(args):
    lo, hi, num_perm, b, r, *seed = args
    norm = [normalise(_TEXTS[i], recipient_name=_RECIPS[i], sender_name=_SENDERS[i]) for i in range(lo, hi)]
    kw = {"seed": seed[0]} if seed else {}
    return bands(signatures(norm, num_perm, normalised=True, **kw), b, r)


def _ds_chunk(args):
    from datasketch import LeanMinHash, MinHash

    lo, hi, num_perm = args
    sets = []
    for i in range(lo, hi):
        s = normalise(_TEXTS[i], recipient_name=_RECIPS[i], sender_name=_SENDERS[i])
        sets.append([s[j : j + 5].encode("utf-8") for j in range(max(len(s) - 4, 1))] if s else [])
    return [LeanMinHash(m) for m in MinHash.bulk(sets, num_perm=num_perm)]


def _chunks(n: int, size: int):
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def planted_pairs(campaign_of: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(campaign_of >= 0)
    order = idx[np.argsort(campaign_of[idx], kind="stable")]
    pairs = []
    c = campaign_of[order]
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    for s, e in zip(starts, np.r_[starts[1:], len(order)], strict=False):
        m = order[s:e]
        for x in range(len(m)):
            for y in range(x + 1, len(m)):
                pairs.append((min(m[x], m[y]), max(m[x], m[y])))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def true_jaccard(a: str, b: str, k: int = 5) -> float:
    sa = {a[i : i + k] for i in range(max(len(a) - k + 1, 1))} if a else set()
    sb = {b[i : i + k] for i in range(max(len(b) - k + 1, 1))} if b else set()
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=4, help="further MinHash seeds for lurewatch's recall")
    ap.add_argument("--repeat", type=int, default=3, help="lurewatch runs; the fastest is kept")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "signatures.json")
    args = ap.parse_args()

    global _TEXTS, _RECIPS, _SENDERS
    t0 = time.perf_counter()
    _TEXTS, _RECIPS, _SENDERS, campaign_of = make_corpus(args.n)
    print(
        f"corpus: {args.n} messages in {time.perf_counter() - t0:.1f}s, "
        f"mean {np.mean([len(t) for t in _TEXTS]):.0f} characters",
        file=sys.stderr,
    )
    planted = planted_pairs(campaign_of)
    norm_all = None
    b, r = choose_bands(args.threshold, args.num_perm)
    ctx = mp.get_context("fork")
    chunk = 5000

    # lurewatch
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.workers, mp_context=ctx) as ex:
            keys = np.concatenate(
                list(ex.map(_lw_chunk, [(lo, hi, args.num_perm, b, r) for lo, hi in _chunks(args.n, chunk)]))
            )
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    t0 = time.perf_counter()
    cands = candidate_pairs(keys)
    dt_pairs = time.perf_counter() - t0
    t0 = time.perf_counter()
    _lw_chunk((0, min(args.n, 20000), args.num_perm, b, r))
    single = (time.perf_counter() - t0) / min(args.n, 20000)
    code = lambda p: p[:, 0] * args.n + p[:, 1]  # noqa: E731
    lw_found = np.isin(code(planted), code(cands))
    # recall moves by a few points from one MinHash seed to another (pairs of one campaign are
    # correlated): report it over several seeds too
    seed_recalls = []
    for seed in range(1, args.seeds + 1):
        with ProcessPoolExecutor(args.workers, mp_context=ctx) as ex:
            jobs = [(lo, hi, args.num_perm, b, r, seed) for lo, hi in _chunks(args.n, chunk)]
            k2 = np.concatenate(list(ex.map(_lw_chunk, jobs)))
        seed_recalls.append(float(np.isin(code(planted), code(candidate_pairs(k2))).mean()))

    # true Jaccard of the planted pairs (sample), to report recall among pairs at/above the threshold
    rng = np.random.default_rng(1)
    sample = rng.choice(len(planted), size=min(len(planted), 20000), replace=False)
    norm_all = {}

    def nz(i):
        if i not in norm_all:
            norm_all[i] = normalise(_TEXTS[i], recipient_name=_RECIPS[i], sender_name=_SENDERS[i])
        return norm_all[i]

    tj = np.array([true_jaccard(nz(int(i)), nz(int(j))) for i, j in planted[sample]])
    above = tj >= args.threshold

    res = {
        "messages": args.n,
        "mean_characters": round(float(np.mean([len(t) for t in _TEXTS])), 1),
        "planted_pairs": len(planted),
        # both sides are unbiased MinHash with the same (b, r): this is what either should find on average
        "expected_recall_from_s_curve": round(float(np.mean(collision_probability(tj, b, r))), 4),
        "planted_pairs_true_jaccard": {
            "sampled": len(sample),
            "mean": round(float(tj.mean()), 3),
            "share_at_or_above_threshold": round(float(above.mean()), 3),
        },
        "num_perm": args.num_perm,
        "threshold": args.threshold,
        "bands": b,
        "rows": r,
        "shingles": "character 5-grams of the normalised text",
        "lurewatch": {
            "workers": args.workers,
            "seconds_texts_to_band_keys": round(best, 3),
            "messages_per_second": round(args.n / best),
            "messages_per_second_one_process": round(1 / single),
            "candidate_pairs_seconds": round(dt_pairs, 3),
            "candidate_pairs": len(cands),
            "recall_planted": round(float(lw_found.mean()), 4),
            "recall_planted_true_jaccard_at_or_above_threshold": round(
                float(lw_found[sample][above].mean()), 4
            ),
            "recall_planted_other_seeds": [round(x, 4) for x in seed_recalls],
            "recall_planted_mean_over_seeds": round(float(np.mean([lw_found.mean(), *seed_recalls])), 4),
        },
    }
    print(json.dumps(res["lurewatch"]), file=sys.stderr)

    if HAVE_DATASKETCH:
        from datasketch import MinHashLSH

        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.workers, mp_context=ctx) as ex:
            mhs = [
                m
                for part in ex.map(_ds_chunk, [(lo, hi, args.num_perm) for lo, hi in _chunks(args.n, chunk)])
                for m in part
            ]
        dt_mh = time.perf_counter() - t0
        t0 = time.perf_counter()
        lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
        with lsh.insertion_session() as sess:
            for i, m in enumerate(mhs):
                sess.insert(i, m, check_duplication=False)
        dt_ins = time.perf_counter() - t0
        members = np.flatnonzero(campaign_of >= 0)
        t0 = time.perf_counter()
        found = set()
        for i in members:
            for j in lsh.query(mhs[i]):
                if j != i:
                    found.add((min(i, j), max(i, j)))
        dt_q = time.perf_counter() - t0
        fc = np.array(sorted(found), dtype=np.int64).reshape(-1, 2)
        ds_found = np.isin(code(planted), code(fc))
        ds_total = dt_mh + dt_ins
        res["datasketch"] = {
            "version": datasketch.__version__ if hasattr(datasketch, "__version__") else "?",
            "bands_rows": [lsh.b, lsh.r],
            "workers_minhash": args.workers,
            "seconds_minhash_bulk": round(dt_mh, 3),
            "seconds_lsh_insert": round(dt_ins, 3),
            "seconds_texts_to_index": round(ds_total, 3),
            "messages_per_second": round(args.n / ds_total),
            "query_seconds_campaign_members": round(dt_q, 3),
            "recall_planted": round(float(ds_found.mean()), 4),
            "recall_planted_true_jaccard_at_or_above_threshold": round(
                float(ds_found[sample][above].mean()), 4
            ),
        }
        res["speed_ratio_lurewatch_over_datasketch"] = round(ds_total / best, 1)
        print(json.dumps(res["datasketch"]), file=sys.stderr)
    else:
        res["datasketch"] = {"skipped": "datasketch not installed (.venv/bin/pip install datasketch)"}

    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = None
    doc = {
        "benchmark": "signatures",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
            "memory_gib": round(mem, 1) if mem else None,
            "numpy": np.__version__,
        },
        "results": res,
        "targets": {
            "messages_per_second": 100_000,
            "speed_ratio": 10,
            "recall": "equal or better than datasketch",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
