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

from lurewatch.campaigns import signatures as sig_module
from lurewatch.campaigns.signatures import (
    EMPTY_SIGNATURE_VALUE,
    MAX_CHARS,
    Sketches,
    SketchParams,
    bands,
    bbit_similarity,
    candidate_pairs,
    choose_bands,
    collision_probability,
    exact_hashes,
    exact_key,
    jaccard_estimate,
    normalise,
    shingle_hashes,
    signatures,
    sketch_batch,
)

needs_numba = pytest.mark.skipif(not sig_module._use_numba(), reason="numba absent or LUREWATCH_NO_NUMBA set")

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


@needs_numba
def test_the_compiled_kernel_and_numpy_give_identical_signatures() -> None:
    """With numba installed the MinHash loop is compiled; both paths must agree bit for bit."""
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


def test_name_tokens_of_one_length_apply_in_a_fixed_order() -> None:
    # "a-b" and "b-c" overlap in "a-b-c": which one is masked must not depend on set order (hash())
    assert normalise("see a-b-c now", sender_name="A-B B-C") == "see <name>-c now"
    code = (
        "from lurewatch.campaigns.signatures import normalise\n"
        "print(normalise('see a-b-c now', sender_name='A-B B-C'))\n"
    )
    for seed in ("1", "2", "3"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "", "LUREWATCH_NO_NUMBA": "1"},
        )
        assert out.stdout.strip() == "see <name>-c now"


def test_normalise_output_is_bounded_after_masking() -> None:
    text = "a1 " * 2000  # each "1" becomes " <num> ": the masked text is longer than the input
    out = normalise(text, max_chars=1000)
    assert len(out) <= 1000 and out == out.strip()
    assert out.startswith("a <num> a <num>")


# --- the batch API: sketch_batch --------------------------------------------------------------------

CASES = [
    APPROACH,
    "Hi Anna,\nWe pay 500 USD per page. Mail me: a.b@x.com or www.alpha.io\nThanks,\nBob",
    "Hello Chen!  We pay 9,000 USD per page.\nMail me: zz@y.org or https://beta.co.uk/x\n\nCheers\nTom Li",
    "ＰＡＹ\u00a0ｗｏｒｌｄ\tﬁne   １２３",
    "Hello",
    "",
    "Thanks for connecting! I would like to offer you a role. Thanks, Bob",
    "Li wrote to Lisa about the list.",
    "word " * 2000,
    "x" * 50_000,
    "a1 " * 3000,
    "Sehr geehrte Frau Braun, ein wichtiger Kunde sucht eine bezahlte Probearbeit. Mit freundlichen Grüßen\nJürgen",
    "Bonjour Élodie, gagnez 300 USD par jour : https://pay-verify-center.com/register?ref=1a2b. Bien à vous, Manon",
    "İSTANBUL ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ e\u0301 𝐁𝐨𝐥𝐝 𠀀 😀 \ud800 \x00 中文 Ǆ ﬃ",
    "@handle. and @a.b.c, x@y@z.com, a.com.foo www. http://, 12 (34) +44 20 7946 0958",
    "best regards",
    "Dear Dr. Wei (David) Zhang: thanks!\n\nBest,\nWei",
    "Hi\n" * 100 + "Cheers",
]
NAMES = [
    "Anna Lee",
    "John Smith",
    None,
    "",
    "Li",
    "Jürgen Müller",
    "Wei (David) Zhang",
    "A-B B-C",
    "Name Num",
]


def _reference(texts: list, names: list, params: SketchParams | None = None) -> tuple[list[str], Sketches]:
    params = params or SketchParams()
    norm = [normalise(t, sender_name=s) for t, s in zip(texts, names, strict=True)]
    sig = signatures(norm, params.num_perm, params.k, params.seed, normalised=True)
    b, r = params.bands
    return norm, Sketches(
        exact=np.array([exact_key(t) for t in norm], dtype=np.uint64),
        bands=bands(sig, b, r),
        bbit=(sig & 0xFF).astype(np.uint8),
        empty=np.array([not t for t in norm], dtype=bool),
    )


def _assert_same(got: Sketches, want: Sketches) -> None:
    for field in ("exact", "bands", "bbit", "empty"):
        a, b = getattr(got, field), getattr(want, field)
        assert a.dtype == b.dtype and a.shape == b.shape, field
        assert np.array_equal(a, b), field


def _check(texts: list, names: list, params: SketchParams | None = None) -> None:
    norm, want = _reference(texts, names, params)
    assert sig_module._normalised_texts(texts, names) == norm
    _assert_same(sketch_batch(texts, names, params or SketchParams()), want)


@pytest.fixture(scope="module")
def synth_stream():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    from lurewatch.synth.stream import generate, make_plan

    plan = make_plan(6000, seed=1, campaigns=4)
    return plan, pa.Table.from_batches(list(generate(plan)))


def test_sketch_batch_equals_the_reference_pipeline_on_the_synth_stream(synth_stream) -> None:  # type: ignore[no-untyped-def]
    _, table = synth_stream
    texts, names = table.column("text"), table.column("sender_name")
    norm, want = _reference(texts.to_pylist(), names.to_pylist())
    assert sig_module._normalised_texts(texts, names) == norm
    _assert_same(sketch_batch(texts, names), want)  # Arrow in
    _assert_same(sketch_batch(texts.to_pylist(), names.to_pylist()), want)  # lists in
    # MinHash once per distinct normalised text changes nothing
    _assert_same(sig_module._sketch_batch(texts, names, SketchParams(), dedupe=False), want)


def test_planted_campaign_messages_collide_and_background_rarely_does(synth_stream) -> None:  # type: ignore[no-untyped-def]
    plan, table = synth_stream
    sk = sketch_batch(table.column("text"), table.column("sender_name"))
    pos, group, template = plan.pos, plan.group, plan.template
    same = (group[:, None] == group[None, :]) & (template[:, None] == template[None, :])
    i, j = np.nonzero(np.triu(same, 1))
    share = (sk.bands[pos[i]] == sk.bands[pos[j]]).any(axis=1)
    assert share.mean() > 0.5  # paraphrases with a different topic, number, URL and handle
    est = bbit_similarity(sk.bbit[pos[i]], sk.bbit[pos[j]])
    assert np.median(est) > 0.6


def test_sketch_batch_equals_the_reference_on_the_hand_written_cases() -> None:
    texts = [t for t in CASES for _ in NAMES]
    names = [n for _ in CASES for n in NAMES]
    _check(texts, names)
    _check(texts, names, SketchParams(num_perm=64, k=3, threshold=0.5, seed=7))


def test_sketch_batch_shapes_params_and_empty_batch() -> None:
    params = SketchParams()
    assert params.bands == choose_bands(0.7, 128) == (14, 9)
    sk = sketch_batch([])
    assert len(sk) == 0
    assert sk.exact.shape == (0,) and sk.exact.dtype == np.uint64
    assert sk.bands.shape == (0, 14) and sk.bands.dtype == np.uint64
    assert sk.bbit.shape == (0, 128) and sk.bbit.dtype == np.uint8
    assert sk.empty.shape == (0,) and sk.empty.dtype == bool
    sk = sketch_batch(["one message here", "another one"], params=SketchParams(num_perm=64, threshold=0.5))
    b, _ = choose_bands(0.5, 64)
    assert sk.bands.shape == (2, b) and sk.bbit.shape == (2, 64)
    with pytest.raises(ValueError):
        SketchParams(threshold=1.0)
    with pytest.raises(ValueError):
        SketchParams(num_perm=0)
    with pytest.raises(ValueError):
        sketch_batch(["a", "b"], ["only one name"])


def test_nulls_and_empty_texts_are_empty_with_key_zero() -> None:
    import pyarrow as pa

    texts = ["Hi Bob, the report is ready.", None, "", "Hello", "  \n\t ", "Hi Bob, the report is ready."]
    names = ["Bob Li", None, "x", None, None, None]
    for t, n in (
        (texts, names),
        (pa.array(texts), pa.array(names)),
        (pa.array(texts, pa.large_string()), None),
    ):
        sk = sketch_batch(t, n)
        assert sk.empty.tolist() == [False, True, True, True, True, False]
        assert (sk.exact[1:5] == 0).all() and (sk.exact[[0, 5]] != 0).all()
        assert (sk.bbit[1:5] == 0xFF).all()  # EMPTY_SIGNATURE_VALUE's low byte
        assert (sk.bands[1] == sk.bands[2]).all()
        assert (sk.bands[0] == sk.bands[5]).all() and sk.exact[0] == sk.exact[5]
    _check(texts, names)


def test_arrow_inputs_chunked_sliced_and_large_give_the_same_sketches() -> None:
    import pyarrow as pa

    # Arrow strings are UTF-8: no lone surrogates
    texts = [t for t in CASES if "\ud800" not in t for _ in range(3)]
    names = [NAMES[i % len(NAMES)] for i in range(len(texts))]
    want = sketch_batch(texts, names)
    arrow = pa.array([*texts[:-1], None]).slice(0, len(texts) - 1)
    sliced = pa.array(["padding", *texts]).slice(1)  # a slice: an offset into the buffers
    chunked = pa.chunked_array(
        [pa.array(texts[:7]), pa.array(texts[7:20], pa.string()), pa.array(texts[20:])]
    )
    large = pa.array(texts, pa.large_string())
    name_arr = pa.chunked_array([pa.array(names[:5]), pa.array(names[5:])])
    for t in (sliced, chunked, large):
        _assert_same(sketch_batch(t, name_arr), want)
    part = sketch_batch(arrow, pa.array(names[:-1]))
    _assert_same(part, sketch_batch(texts[:-1], names[:-1]))
    with pytest.raises(TypeError):
        sketch_batch(pa.array([1, 2]))


def test_exact_keys_equal_exactly_for_equal_normalised_texts() -> None:
    texts = [
        "Hi Anna, we pay 500 USD per page. Thanks, Bob",
        "Hello Chen! We pay 9,000 USD per page. Cheers, Tom",
        "We   pay 1 USD per page.",
        "we pay 1 usd per page!",
        "We pay 1 USD per pages.",
        "",
        None,
    ]
    sk = sketch_batch(texts)
    norm = [normalise(t) for t in texts]
    for i in range(len(texts)):
        assert int(sk.exact[i]) == exact_key(norm[i])
        for j in range(len(texts)):
            assert (sk.exact[i] == sk.exact[j]) == (norm[i] == norm[j]), (norm[i], norm[j])
    assert exact_key("") == 0 and exact_key("a") != 0
    # one position changed: every step of the key is a bijection of its state, so keys differ
    rng = random.Random(1)
    base = "".join(rng.choice("abc <>") for _ in range(200))
    keys = {exact_key(base[:i] + c + base[i + 1 :]) for i in range(200) for c in "xyz"}
    assert len(keys) == 600 and exact_key(base) not in keys


@needs_numba
def test_a_64_bit_key_collision_never_shares_a_sketch() -> None:
    # force every text onto one key: the batch compares the texts themselves before sharing MinHash
    texts = ["alpha beta gamma", "delta epsilon", "alpha beta gamma", "zeta eta theta"]
    cps, starts, lens = sig_module._normalise_batch(sig_module._Texts(texts), None)
    rep = sig_module._nb_representatives(cps, starts, lens, np.zeros(4, dtype=np.int64))
    assert rep.tolist() == [0, 1, 0, 3]


def _jaccard_pair(rng: random.Random, size: int, shared: int) -> tuple[str, str, float]:
    """Two texts of distinct 5-character words with a known shingle Jaccard."""
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5)) for _ in range(2 * size)]
    a = " ".join(words[:size])
    b = " ".join(words[:shared] + words[size : 2 * size - shared])
    return a, b, _true_jaccard(a, b)


def test_bbit_similarity_is_close_to_the_true_jaccard() -> None:
    rng = random.Random(4)
    pairs = [_jaccard_pair(rng, 40, shared) for shared in range(0, 41, 4) for _ in range(6)]
    sk = sketch_batch([p[0] for p in pairs] + [p[1] for p in pairs], params=SketchParams(num_perm=128))
    m = len(pairs)
    est = bbit_similarity(sk.bbit[:m], sk.bbit[m:])
    true = np.array([p[2] for p in pairs])
    assert est.shape == (m,) and ((est >= 0) & (est <= 1)).all()
    # standard error at 128 rows is at most ~0.045; the estimate is unbiased over the pairs
    assert np.abs(est - true).max() < 0.2
    assert abs(float(np.mean(est - true))) < 0.02
    assert bbit_similarity(sk.bbit[0], sk.bbit[0]) == 1.0
    with pytest.raises(ValueError):
        bbit_similarity(sk.bbit[0], sk.bbit[0, :64])


def test_bbit_rows_are_the_low_bits_of_the_minhash_rows() -> None:
    texts = _corpus()
    sk = sketch_batch(texts)
    sig = signatures(texts, normalised=False)
    assert np.array_equal(sk.bbit, (sig & 0xFF).astype(np.uint8))
    assert np.array_equal(sk.bands, bands(sig, 14, 9))


# hypothesis: arbitrary strings (every plane, lone surrogates, NUL, combining marks) and strings built
# from the pieces the scanner looks for, so that every pass meets its edge cases
_PIECES = [
    "hi", "Hello", "dear", "good  morning", "Sehr geehrter", "liebe", "chère", "GUTEN\tTAG", " ", "\t", "\n",
    ",", "!", ":", ";", ".", "?", ". ", "Best regards", "regards", "Thanks", "thank\nyou", "cheers",
    "yours sincerely", "mit freundlichen grüßen", "bien à vous", "@", "a", "x1", "_", "-", "+", "www.",
    "http://", "https://", "ftp://", ".com", ".co", ".uk", "com", "io", "info", "/", "<", ">", '"', "'", ")",
    "]", "(", "1", "23", "٣", "+44 ", "5,000", "é", "ß", "İ", "Σ", "ς", "ﬁ", "Ａ", "１", "\u00a0", "\u2028",
    "\u3000", "😀", "\ud800", "\x00", "中文", "Ǆ", "e\u0301", "가", "\u1100\u1161", "anna", "smith", "li",
    "name", "num", "<name>", "o'brien", "jean-luc", "a.b", "x@y.com", "@handle", "me", "de", "𝐀", "𠀀",
]  # fmt: skip
_pieced = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)
_anything = st.text(st.characters(exclude_categories=()), max_size=80)
_a_name = st.one_of(
    st.none(), st.sampled_from(NAMES), st.text(st.characters(exclude_categories=()), max_size=12)
)


@needs_numba
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(_pieced, _anything, st.none()), _a_name), max_size=12))
def test_the_batch_scanner_equals_normalise_on_generated_texts(rows) -> None:  # type: ignore[no-untyped-def]
    texts = [t for t, _ in rows]
    names = [n for _, n in rows]
    want = [normalise(t, sender_name=n) for t, n in rows]
    assert sig_module._normalised_texts(texts, names) == want
    _check(texts, names)
    if not any(_has_surrogate(x) for x in texts + names):  # Arrow holds UTF-8: the byte decoder's path
        import pyarrow as pa

        assert (
            sig_module._normalised_texts(pa.array(texts, pa.string()), pa.array(names, pa.string())) == want
        )


def _has_surrogate(text: str | None) -> bool:
    return text is not None and any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


@needs_numba
@settings(max_examples=25, deadline=None)
@given(_pieced, st.integers(1, 400))
def test_the_batch_scanner_equals_normalise_on_very_long_texts(piece, times) -> None:  # type: ignore[no-untyped-def]
    texts = [piece * times, (piece + " 7") * times, "Dear Bob,\n" + piece * times + "\nBest regards,\nBob"]
    _check(texts, [None, "Bob", "Bob Li"])


@needs_numba
def test_arrow_texts_with_invalid_characters_fall_back_to_python() -> None:
    import pyarrow as pa

    texts = ["İSTANBUL office", "ΣΊΣΥΦΟΣ", "cafe\u0301 ﬁne", "𝐁𝐨𝐥𝐝 and 𠀀", "plain text"]
    arr = pa.array(texts)
    _, _, _, status = sig_module._kernel_normalise(
        *sig_module._utf8_of(arr), 0, sig_module._name_table(None, len(texts))
    )
    assert status.tolist() == [1, 1, 1, 1, 0]  # the first four need Python's NFKC and lower case
    _check(texts, [None] * len(texts))
    _assert_same(sketch_batch(arr), sketch_batch(texts))


@needs_numba
def test_texts_too_long_for_the_buffers_fall_back_to_normalise(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sig_module, "_out_capacity", lambda lens: 40)
    texts = ["short one", "a much longer message that cannot fit in forty code points at all", "tiny"]
    _check(texts, [None, None, None])
    _check(CASES, [None] * len(CASES))


@needs_numba
def test_the_fast_case_table_is_nfkc_and_lower_case() -> None:
    import unicodedata

    table = sig_module._fast_lower()
    fast = np.flatnonzero(table != sig_module._NOT_FAST)
    assert fast.size > 100_000 and 0x130 not in fast and 0x3A3 not in fast and 0x301 not in fast
    for c in fast[:: max(1, fast.size // 20_000)].tolist():
        ch = chr(c)
        assert unicodedata.normalize("NFKC", ch) == ch and ch.lower() == chr(int(table[c])), hex(c)
    rng = np.random.default_rng(3)
    for _ in range(200):  # strings of such characters are their own NFKC: nothing composes
        s = "".join(map(chr, rng.choice(fast, 40).tolist()))
        assert unicodedata.normalize("NFKC", s) == s
        assert s.lower() == "".join(chr(int(table[ord(ch)])) for ch in s)
    classes = sig_module._char_classes()
    for c in rng.integers(0, 0x110000, 5000).tolist() + list(range(256)):
        ch = chr(c)
        assert bool(classes[c] & 1) == (ch.isalnum() or ch == "_"), hex(c)
        assert bool(classes[c] & 2) == ch.isspace(), hex(c)
        assert bool(classes[c] & 4) == ch.isdecimal(), hex(c)


def test_sketch_batch_without_numba_is_identical_and_deterministic_across_processes() -> None:
    texts = [t for t in CASES[:14] for _ in range(2)] + _corpus()
    names = [NAMES[i % len(NAMES)] for i in range(len(texts))]
    here = sketch_batch(texts, names)
    code = (
        "import json, sys\n"
        "from lurewatch.campaigns.signatures import sketch_batch, _use_numba\n"
        "t, n = json.loads(sys.stdin.read())\n"
        "s = sketch_batch(t, n)\n"
        "print(json.dumps([not _use_numba(), s.exact.tolist(), s.bands.tolist(), s.bbit.tolist(), s.empty.tolist()]))\n"
    )
    for env in ({"LUREWATCH_NO_NUMBA": "1", "PYTHONHASHSEED": "1"}, {"PYTHONHASHSEED": "2"}):
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps([texts, names], ensure_ascii=True),
            capture_output=True,
            text=True,
            check=True,
            env={**env, "PATH": ""},
        )
        no_numba, exact, keys, bbit, empty = json.loads(out.stdout)
        assert no_numba == ("LUREWATCH_NO_NUMBA" in env)
        assert exact == here.exact.tolist() and keys == here.bands.tolist()
        assert bbit == here.bbit.tolist() and empty == here.empty.tolist()
