"""The text-similarity core of campaign detection: normalisation, exact keys, MinHash, LSH banding."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lurewatch.campaigns.signatures import (
    EMPTY_SIGNATURE_VALUE,
    MAX_CHARS,
    bands,
    candidate_pairs,
    choose_bands,
    collision_probability,
    exact_hashes,
    jaccard_estimate,
    normalise,
    shingle_hashes,
    signatures,
)

APPROACH = (
    "Dear Anna,\n\nI am John Smith, a partner at Meridian Insight Consulting (www.meridian-insight.com). "
    "We advise clients on semiconductor supply chains and would pay 2,500 USD for a short report of "
    "about 10 pages on your recent work. Reach me at john.smith@meridian-insight.cn, on WhatsApp at "
    "+44 20 7946 0958 or WeChat @jsmith88, or see https://meridian-insight.com/experts?id=42.\n\n"
    "Best regards,\nJohn Smith\nSenior Partner, Meridian Insight"
)


def _shingles(text: str, k: int = 5) -> set[str]:
    if not text:
        return set()
    if len(text) < k:
        return {text}
    return {text[i : i + k] for i in range(len(text) - k + 1)}


def _true_jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


# --- normalisation ---------------------------------------------------------------------------------


def test_normalise_masks_contacts_numbers_names_greeting_and_signoff():
    out = normalise(APPROACH, recipient_name="Anna Lee", sender_name="John Smith")
    assert out == out.lower()
    assert "dear" not in out and "anna" not in out  # greeting with the name dropped
    assert "regards" not in out and "senior partner" not in out  # sign-off and signature block dropped
    assert "john" not in out and "smith" not in out  # names masked
    assert "<name>" in out
    for raw in ("meridian-insight.com", "@meridian", "7946", "2,500", "jsmith88", "https", "42"):
        assert raw not in out, raw
    for token in ("<url>", "<email>", "<handle>", "<num>"):
        assert token in out, token
    assert "  " not in out and "\n" not in out


def test_normalise_same_template_different_details_is_identical():
    a = "Hi Anna,\nWe pay 500 USD per page. Mail me: a.b@x.com or www.alpha.io\nThanks,\nBob"
    b = "Hello Chen!  We pay 9,000 USD per page.\nMail me: zz@y.org or https://beta.co.uk/x\n\nCheers\nTom Li"
    assert normalise(a) == normalise(b) == "we pay <num> usd per page. mail me: <email> or <url>"


def test_normalise_unicode_nfkc_and_whitespace():
    # full-width letters and digits, a ligature, non-breaking spaces and tabs
    assert normalise("ＰＡＹ\u00a0ｗｏｒｌｄ\tﬁne   １２３") == "pay world fine <num>"
    assert normalise("Hello") == ""  # a greeting alone
    assert normalise("") == ""


def test_normalise_keeps_a_thanks_that_opens_the_message():
    out = normalise("Thanks for connecting! I would like to offer you a role. Thanks, Bob")
    assert out == "thanks for connecting! i would like to offer you a role."


def test_normalise_names_only_as_whole_words():
    out = normalise("Li wrote to Lisa about the list.", sender_name="Li")
    assert out == "<name> wrote to lisa about the list."


def test_normalise_is_bounded():
    out = normalise("word " * 100_000)
    assert len(out) <= MAX_CHARS
    assert len(normalise("x" * 50_000, max_chars=100)) == 100


# --- exact keys ------------------------------------------------------------------------------------


def test_exact_hashes_128_bit_and_deterministic():
    keys = exact_hashes(["a b", "a b", "a c", ""])
    assert keys.shape == (4, 2) and keys.dtype == np.uint64
    assert (keys[0] == keys[1]).all() and not (keys[0] == keys[2]).all()
    pairs = candidate_pairs(keys[:, :1])
    assert pairs.tolist() == [[0, 1]]


# --- MinHash ---------------------------------------------------------------------------------------


def _variant(words: list[str], rng: random.Random, changes: int) -> str:
    out = list(words)
    for _ in range(changes):
        out[rng.randrange(len(out))] = rng.choice(["really", "quite", "also", "kindly", "soon"])
    return " ".join(out)


_BASE = (
    "i came across your profile and was impressed by your work on quantum sensing. my client, a "
    "leading defence investor, would pay for a short paper and cover travel to a workshop in vienna. "
    "please keep this between us for now, could we have a quick call this week?"
)


def _corpus():
    rng = random.Random(3)
    base = _BASE.split()
    near = [_variant(base, rng, 3) for _ in range(4)] + [_variant(base, rng, 1)]
    unrelated = [
        "our quarterly newsletter covers the new cafeteria menu, the parking changes and the summer party.",
        "reminder: the it department will patch all laptops on friday evening, please leave them on.",
        "congratulations on the work anniversary! it has been great working with you on the grid project.",
        "we are hiring a senior frontend engineer in berlin, react and typescript, hybrid working.",
    ]
    return [" ".join(base), *near, *unrelated]


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.7, 0.8])
def test_near_duplicates_are_candidates_unrelated_are_not(threshold):
    texts = _corpus()  # 0: base, 1-4: three words changed, 5: one word changed, 6-9: unrelated
    sig = signatures(texts, normalised=True)
    b, r = choose_bands(threshold, 128)
    pairs = {tuple(p) for p in candidate_pairs(bands(sig, b, r)).tolist()}
    near = range(6)
    assert (0, 5) in pairs  # one word changed: a candidate at every threshold
    for i in near:
        for j in near:
            true = _true_jaccard(texts[i], texts[j])
            if i < j and collision_probability(true, b, r) >= 0.99:
                assert (i, j) in pairs, (i, j, true, threshold)
    if threshold <= 0.7:  # three words changed in a 50-word message: Jaccard about 0.85
        assert {(0, 1), (0, 2), (0, 3), (0, 4)} <= pairs
    assert all(i in near and j in near for i, j in pairs), pairs


def test_identical_texts_collide_in_every_band():
    sig = signatures(["same text here", "same text here", "other words entirely"], normalised=True)
    keys = bands(sig, 16, 8)
    assert (keys[0] == keys[1]).all()
    assert not (keys[0] == keys[2]).any()
    assert candidate_pairs(keys).tolist() == [[0, 1]]
    assert jaccard_estimate(sig[0], sig[1]) == 1.0


def test_signature_shape_dtype_and_normalisation_by_default():
    sig = signatures([APPROACH, APPROACH.replace("Anna", "Chen")], num_perm=64)
    assert sig.shape == (2, 64) and sig.dtype == np.uint32
    assert (sig[0] == sig[1]).all()  # the greeting name is dropped by normalise


def test_empty_and_very_short_texts():
    texts = ["", "a", "ab", "abcd", "abcde", "", "abcd"]
    sig = signatures(texts, normalised=True)
    assert (sig[0] == EMPTY_SIGNATURE_VALUE).all() and (sig[5] == EMPTY_SIGNATURE_VALUE).all()
    assert not (sig[1:5] == EMPTY_SIGNATURE_VALUE).all(axis=1).any()
    assert (sig[3] == sig[6]).all()  # short texts are one shingle, themselves
    assert jaccard_estimate(sig[1], sig[2]) < 0.2
    keys = bands(sig, 16, 8)
    valid = np.array([bool(t) for t in texts])
    assert candidate_pairs(keys, valid).tolist() == [[3, 6]]
    assert signatures([]).shape == (0, 128)
    assert candidate_pairs(bands(signatures([]), 16, 8)).shape == (0, 2)


def test_shingle_hashes_count_and_match_a_text_alone():
    texts = ["hello world", "", "abc", "hello world and more"]
    keys, counts = shingle_hashes(texts, 5)
    assert counts.tolist() == [7, 0, 1, 16]
    alone, _ = shingle_hashes(["hello world and more"], 5)
    assert (keys[8:] == alone).all() and (keys < 2**32).all()
    assert (keys[:7] == keys[8:15]).all()  # the shared prefix "hello world"


def test_batches_do_not_change_results():
    rng = random.Random(5)
    texts = [
        " ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(rng.randint(0, 900)))
        for _ in range(120)
    ]
    together = signatures(texts, normalised=True)
    one_by_one = np.vstack([signatures([t], normalised=True) for t in texts])
    assert (together == one_by_one).all()


_words = st.lists(
    st.sampled_from(["ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "st", "uv", "wx"]),
    min_size=3,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(_words, _words, st.integers(0, 2**32 - 1))
def test_estimated_jaccard_is_close_to_true_jaccard(wa, wb, seed):
    a, b = " ".join(wa), " ".join(wa[: len(wa) // 2] + wb)
    sig = signatures([a, b], num_perm=256, seed=seed, normalised=True)
    true = _true_jaccard(a, b)
    est = jaccard_estimate(sig[0], sig[1])
    # standard error of the estimate is sqrt(J(1-J)/k) <= 0.031 at k=256: allow about five of them
    assert abs(est - true) <= 0.16, (est, true)


def test_estimate_is_unbiased_over_many_pairs():
    rng = random.Random(11)
    vocab = [f"w{i}" for i in range(40)]
    errors = []
    for _ in range(60):
        a = " ".join(rng.choice(vocab) for _ in range(30))
        b = " ".join(rng.choice(vocab) if rng.random() < 0.3 else w for w in a.split())
        sig = signatures([a, b], normalised=True)
        errors.append(jaccard_estimate(sig[0], sig[1]) - _true_jaccard(a, b))
    assert abs(np.mean(errors)) < 0.02
    assert np.std(errors) < 0.06


def test_jaccard_estimate_broadcasts_over_pairs():
    sig = signatures(_corpus(), normalised=True)
    pairs = candidate_pairs(bands(sig, 32, 4))
    est = jaccard_estimate(sig[pairs[:, 0]], sig[pairs[:, 1]])
    assert est.shape == (len(pairs),) and ((est >= 0) & (est <= 1)).all()
    with pytest.raises(ValueError):
        jaccard_estimate(sig[0], sig[0, :64])


# --- determinism -----------------------------------------------------------------------------------


def test_deterministic_across_processes():
    texts = _corpus()
    here = bands(signatures(texts, normalised=True), 16, 8)
    code = (
        "import json,sys\n"
        "from lurewatch.campaigns.signatures import bands, signatures\n"
        "t = json.loads(sys.stdin.read())\n"
        "print(json.dumps(bands(signatures(t, normalised=True), 16, 8).tolist()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert json.loads(out.stdout) == here.tolist()


def test_seed_changes_signatures_not_their_meaning():
    texts = _corpus()
    s1 = signatures(texts, seed=1, normalised=True)
    s2 = signatures(texts, seed=2, normalised=True)
    assert (s1 == signatures(texts, seed=1, normalised=True)).all()
    assert not (s1 == s2).all()
    assert abs(jaccard_estimate(s1[0], s1[1]) - jaccard_estimate(s2[0], s2[1])) < 0.2


# --- banding ---------------------------------------------------------------------------------------


def test_choose_bands_fits_and_puts_the_s_curve_at_the_threshold():
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        b, r = choose_bands(threshold, 128)
        assert b * r <= 128
        assert (
            collision_probability(threshold - 0.2, b, r)
            < 0.5
            < collision_probability(min(threshold + 0.15, 1.0), b, r)
        )
    assert choose_bands(0.7, 128) == (14, 9)  # the same choice as datasketch's MinHashLSH
    with pytest.raises(ValueError):
        choose_bands(1.0)


def test_bands_validate_and_differ_between_bands():
    sig = np.zeros((3, 16), dtype=np.uint32)
    keys = bands(sig, 4, 4)
    assert keys.shape == (3, 4) and keys.dtype == np.uint64
    assert len(set(keys[0].tolist())) == 4  # equal rows, different band keys
    with pytest.raises(ValueError):
        bands(sig, 5, 4)


def test_candidate_pairs_all_pairs_star_and_uniqueness():
    keys = np.array([[1, 9], [1, 8], [1, 9], [2, 7], [3, 7]], dtype=np.uint64)
    assert candidate_pairs(keys).tolist() == [[0, 1], [0, 2], [1, 2], [3, 4]]
    assert candidate_pairs(keys, star=True).tolist() == [[0, 1], [0, 2], [3, 4]]
    assert candidate_pairs(keys, valid=np.array([True, False, True, True, True])).tolist() == [[0, 2], [3, 4]]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=0, max_size=25))
def test_candidate_pairs_match_brute_force(rows):
    keys = np.array(rows, dtype=np.uint64).reshape(-1, 2)
    expected = sorted(
        (i, j)
        for i in range(len(rows))
        for j in range(i + 1, len(rows))
        if any(a == b for a, b in zip(rows[i], rows[j], strict=True))
    )
    assert [tuple(p) for p in candidate_pairs(keys).tolist()] == expected


def test_the_compiled_kernel_and_numpy_give_identical_signatures() -> None:
    """With numba installed the MinHash loop is compiled; both paths must agree bit for bit."""
    from lurewatch.campaigns import signatures as sig_module

    pytest.importorskip("numba")
    texts = [
        "Dear Dr Lee, our consultancy pays well for short reports on your lab's plans.",
        "",
        "hi",
        "Sehr geehrte Frau Braun, ein wichtiger Kunde sucht eine bezahlte Probearbeit.",
        "Dear Dr Lee, our consultancy pays well for short reports on your labs plans!",
    ] * 50
    saved = list(sig_module._KERNEL)
    try:
        sig_module._KERNEL[:] = []
        assert sig_module._compiled_kernel() is not None
        compiled = sig_module.signatures(texts, num_perm=64)
        sig_module._KERNEL[:] = [None]
        plain = sig_module.signatures(texts, num_perm=64)
    finally:
        sig_module._KERNEL[:] = saved
    assert compiled.dtype == plain.dtype and np.array_equal(compiled, plain)
