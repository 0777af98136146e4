"""Text similarity for campaign detection: normalisation, exact keys, MinHash, LSH banding.

Pure functions over lists of strings (or Arrow string arrays) and NumPy arrays; no I/O, no global
state beyond caches of constant tables, no Python ``hash()`` (so every result is the same across
runs, processes and machines).

The campaign engine calls one function per batch of messages::

    sk = sketch_batch(texts, sender_names, SketchParams(threshold=0.7))
    sk.exact   # (n,) uint64 key of the normalised text: exact duplicates first (0: empty text)
    sk.bands   # (n, b) uint64 LSH band keys
    sk.bbit    # (n, num_perm) uint8 low bytes of the MinHash rows: bbit_similarity() verifies pairs
    sk.empty   # (n,) bool

It computes, in compiled loops (numba) and several times faster, exactly what the readable pieces
below compute, which stay the reference (tests hold the two equal) and the fallback without numba:

Reference pipeline::

    norm = [normalise(t) for t in texts]
    exact = exact_hashes(norm)                 # (n, 2) uint64, 128-bit key: exact duplicates first
    sig = signatures(norm, normalised=True)    # (n, num_perm) uint32 MinHash
    b, r = choose_bands(0.7, num_perm=128)
    keys = bands(sig, b, r)                    # (n, b) uint64 band keys
    pairs = candidate_pairs(keys)              # (p, 2) int64, i < j, unique
    est = jaccard_estimate(sig[pairs[:, 0]], sig[pairs[:, 1]])   # verify

Shingles are **character 5-grams** of the normalised text (code points, not bytes). Approaches are
short (a few hundred characters, 30-80 words) and campaigns paraphrase them: changing three words of a
49-word message leaves a word-5-gram Jaccard of 0.57 on average (each changed word breaks up to five
of the 45 shingles) but a character-5-gram Jaccard of 0.83 (measured over 200 random variants of the
test message), so near-duplicates stay well above a 0.5-0.8 threshold.
Character shingles also need no tokeniser (Chinese, Japanese, mixed scripts) and absorb inflection
and typos. The price is about five times more shingles per message than word shingles, which is what
the MinHash kernel spends its time on.

Hash family
-----------
* Shingle hash: polynomial hash of the k code points modulo 2**64 with a fixed odd base, then the
  splitmix64 finaliser (a bijection on 64 bits); its high 32 bits are the shingle key ``x``.
* Permutation ``i`` (of ``num_perm``): Dietzfelbinger's multiply-add-shift,
  ``h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32`` with ``a_i, b_i`` uniform 64-bit integers drawn from
  ``numpy.random.Generator(PCG64(seed))``. For 32-bit keys this family is strongly universal
  (pairwise independent) onto 32-bit values. It is computed for all permutations at once as one
  broadcast ``(num_perm, 1) * (1, m) + (num_perm, 1)`` over the batch's ``m`` shingles, then
  ``minimum.reduceat`` per text; the minimum over the full 64-bit value is taken before the shift,
  which gives the same minimum of the high 32 bits. Texts are processed in batches of whole texts of
  about 8,192 characters (a 128 x 8,192 uint64 work array), never one permutation at a time.
  Because shingle keys are themselves (pseudo-)random, each row's minimum falls on a uniformly
  random shingle of the union, so each row is an unbiased estimate of the Jaccard similarity.
  (Thorup, "High speed hashing for integers and strings", 2015, for multiply-add-shift with
  64-bit ``a, b`` and 32-bit keys.)
* Band key: splitmix64 chained over the band's r signature values, seeded with the band index.
* Exact key: :func:`exact_key`, 64 bits, for :func:`sketch_batch`; :func:`exact_hashes`, BLAKE2b with
  a 16-byte digest of the UTF-8 normalised text, where 128 bits are wanted.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DEFAULT_SEED",
    "EMPTY_SIGNATURE_VALUE",
    "MAX_CHARS",
    "SketchParams",
    "Sketches",
    "bands",
    "bbit_similarity",
    "candidate_pairs",
    "choose_bands",
    "collision_probability",
    "exact_hash",
    "exact_hashes",
    "exact_key",
    "jaccard_estimate",
    "normalise",
    "shingle_hashes",
    "signatures",
    "sketch_batch",
    "threshold_of",
]

MAX_CHARS = 4000
"""Texts are cut to this many characters before and after normalisation (hostile input is bounded)."""

DEFAULT_SEED = 0x5EED_1ACE
EMPTY_SIGNATURE_VALUE = np.uint32(0xFFFFFFFF)
"""Every row of the signature of a text with no shingles (empty after normalisation)."""

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
_POLY_BASE = 0x9E3779B97F4A7C15  # odd: the golden-ratio constant
_SM_C1 = _U64(0xBF58476D1CE4E5B9)
_SM_C2 = _U64(0x94D049BB133111EB)
_SM_GAMMA = 0x9E3779B97F4A7C15
_BATCH_SHINGLES = 1 << 13  # characters (about shingles) per kernel call: (128, 8192) uint64 = 8 MB

# --------------------------------------------------------------------------------------------------
# normalisation

# The word lists are the one source of both the regular expressions below (the readable reference)
# and the compiled batch scanner (:func:`sketch_batch`), so the two cannot drift apart. A space in a
# phrase stands for ``\s+``.
_TLD_LIST = (
    "com", "org", "net", "io", "co", "cn", "ru", "de", "fr", "uk", "info", "biz", "me", "ly", "gl", "xyz",
    "app", "ai", "edu", "gov", "eu", "ch", "nl", "jp", "kr", "in", "ir", "hk", "sg", "tw",
)  # fmt: skip
_GREETING_WORDS = (
    "hi", "hello", "hey", "dear", "greetings", "good morning", "good afternoon", "good evening",
    "good day", "hallo", "guten tag", "guten morgen", "guten abend", "sehr geehrter", "sehr geehrtes",
    "sehr geehrte", "lieber", "liebes", "liebe", "bonjour", "bonsoir", "salut", "cher", "chère",
)  # fmt: skip
_SIGNOFF_WORDS = (
    "best regards", "kind regards", "warm regards", "warmest regards", "regards", "best wishes", "best",
    "many thanks", "thanks", "thank you", "cheers", "yours sincerely", "sincerely", "yours faithfully",
    "yours", "respectfully", "mit freundlichen grüßen", "freundliche grüße", "viele grüße",
    "beste grüße", "cordialement", "bien à vous", "salutations",
)  # fmt: skip


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)


_TLDS = "|".join(_TLD_LIST)
_URL_SCHEME = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")
_URL_DOMAIN = re.compile(r"\b(?:[a-z0-9-]++\.)+(?:" + _TLDS + r")\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?")
_TLD_HINT = re.compile(r"\.(?:" + _TLDS + r")\b")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@[\w.]*\w")
_NUMBER = re.compile(r"\+?\d(?:[\d().,/:-]|[ \t](?=[\d(]))*+")
_DIGIT = re.compile(r"\d")
_GREETING = re.compile(
    r"\s*(?:" + _alternation(_GREETING_WORDS) + r")\b"
    r"(?:(?:[ \t]+[^\s,!:;.]+\.?){0,4}[ \t]*[,!:;\n]|[ \t]*[,!:;.]?)"
)
_SIGNOFF_TAIL = 240
_SIGNOFF = re.compile(
    r"(?:^|\n|[.!?][ \t])[ \t]*(?:" + _alternation(_SIGNOFF_WORDS) + r")\b[^\n]{0,60}(?:\n[\s\S]*)?$"
)


@lru_cache(maxsize=8192)
def _name_pattern(token: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(token) + r"(?!\w)")


@lru_cache(maxsize=65536)
def _tokens_of(name: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKC", name).lower()
    return tuple(tok for tok in re.split(r"[\s,.;()\"']+", text) if len(tok) >= 2 and not tok.isdigit())


def _name_tokens(names: Iterable[str | None]) -> list[str]:
    out: set[str] = set()
    for name in names:
        if name:
            out.update(_tokens_of(name[:200]))
    # longest first (a token inside a longer one must not break it up), then by code point: tokens of
    # one length can overlap ("a-b", "b-c"), so their order must not depend on set order (hash())
    return sorted(out, key=lambda tok: (-len(tok), tok))


def normalise(
    text: str | None,
    *,
    recipient_name: str | None = None,
    sender_name: str | None = None,
    max_chars: int = MAX_CHARS,
) -> str:
    """The comparable form of a message.

    NFKC, lower case; an opening greeting (with up to four words of name after it) and a closing
    sign-off (``Best regards``, ``Thanks``, ``Mit freundlichen Grüßen``, ...; only in the last
    characters, with the signature block after it) dropped; e-mail addresses, URLs and bare domains,
    messaging handles (``@name``) and numbers (including phone numbers and amounts) replaced by the
    fixed tokens ``<email>``, ``<url>``, ``<handle>``, ``<num>``; the recipient's and sender's names
    (when given: every token of two or more characters, as a whole word) replaced by ``<name>``;
    whitespace collapsed to single spaces. Input and output are cut to ``max_chars`` characters.

    This is the readable reference: :func:`sketch_batch` computes the same text with a compiled
    scanner (tests hold the two equal).
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text[:max_chars])[:max_chars].lower()
    m = _GREETING.match(text)
    if m:
        text = text[m.end() :]
    tail_at = max(0, len(text) - _SIGNOFF_TAIL)
    m = _SIGNOFF.search(text, tail_at)
    if m and m.start() > 0:
        text = text[: m.start() + (1 if text[m.start()] in ".!?" else 0)]
    if "@" in text:
        text = _EMAIL.sub(" <email> ", text)
        text = _HANDLE.sub(" <handle> ", text)
    if "://" in text or "www." in text:
        text = _URL_SCHEME.sub(" <url> ", text)
    if _TLD_HINT.search(text):
        text = _URL_DOMAIN.sub(" <url> ", text)
    if _DIGIT.search(text):
        text = _NUMBER.sub(" <num> ", text)
    for tok in _name_tokens((recipient_name, sender_name)):
        if tok in text:
            text = _name_pattern(tok).sub("<name>", text)
    out = " ".join(text.split())
    # masks can lengthen a text ("7" -> "<num>"): the output is bounded too
    return out[:max_chars].rstrip() if len(out) > max_chars else out


def exact_hash(normalised: str) -> bytes:
    """128-bit key (16 bytes, BLAKE2b) of an already normalised text."""
    return hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def exact_hashes(normalised: Sequence[str]) -> np.ndarray:
    """``(n, 2)`` uint64 exact keys (the 128-bit :func:`exact_hash` split little-endian)."""
    buf = b"".join(exact_hash(t) for t in normalised)
    return np.frombuffer(buf, dtype="<u8").reshape(len(normalised), 2).astype(np.uint64)


# --------------------------------------------------------------------------------------------------
# hashing helpers


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array (wraps modulo 2**64)."""
    z ^= z >> _U64(30)
    z *= _SM_C1
    z ^= z >> _U64(27)
    z *= _SM_C2
    z ^= z >> _U64(31)
    return z


def _poly_hash_py(text: str) -> int:
    h = 0
    for ch in text:
        h = (h * _POLY_BASE + ord(ch)) & _MASK64
    return h


def shingle_hashes(texts: Sequence[str], k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """32-bit keys of the character k-grams of every text, concatenated.

    Returns ``(keys, counts)``: ``keys`` uint64 values below 2**32 (text after text), ``counts``
    int64 shingles per text. A text shorter than ``k`` (but not empty) is one shingle, itself; an
    empty text has none. Repeated shingles are kept (they do not change a minimum).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    n = len(texts)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    counts = np.where(lengths >= k, lengths - k + 1, np.minimum(lengths, 1))
    total_chars = int(lengths.sum())
    if total_chars == 0:
        return np.zeros(0, dtype=np.uint64), counts
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    long_mask = lengths >= k
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    out = np.empty(int(counts.sum()), dtype=np.uint64)
    out_starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    if total_chars >= k and long_mask.any():
        span = total_chars - k + 1
        h = cps[:span] * _U64(_POLY_BASE)
        for j in range(1, k - 1):
            h += cps[j : span + j]
            h *= _U64(_POLY_BASE)
        h += cps[k - 1 : span + k - 1] if k > 1 else 0
        # keep the positions where a k-gram lies inside one text: drop each text's last k-1 starts,
        # and every start of a text shorter than k
        keep = np.ones(total_chars, dtype=bool)
        ends = starts + lengths
        if k > 1:
            tails = (ends[long_mask][:, None] - np.arange(1, k, dtype=np.int64)[None, :]).ravel()
            keep[tails] = False
        short_texts = np.flatnonzero((lengths > 0) & ~long_mask)
        for i in short_texts:
            keep[starts[i] : ends[i]] = False
        kept = h[keep[:span]]
        if short_texts.size:
            out[np.repeat(long_mask, counts)] = kept
        else:
            out = kept
    short = np.flatnonzero((lengths > 0) & ~long_mask)
    for i in short:
        out[out_starts[i]] = _U64(_poly_hash_py(texts[i]))
    _splitmix64(out)
    out >>= _U64(32)
    return out, counts


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)
    b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)
    return a.reshape(-1, 1), b.reshape(-1, 1)


# --------------------------------------------------------------------------------------------------
# MinHash


def signatures(
    texts: Sequence[str],
    num_perm: int = 128,
    k: int = 5,
    seed: int = DEFAULT_SEED,
    *,
    normalised: bool = False,
) -> np.ndarray:
    """MinHash signatures ``(n, num_perm)`` uint32 of the character k-gram sets of ``texts``.

    ``texts`` are normalised with :func:`normalise` first unless ``normalised=True``. A text with no
    shingles gets :data:`EMPTY_SIGNATURE_VALUE` in every row. Deterministic for a given ``seed``.
    """
    if num_perm < 1:
        raise ValueError("num_perm must be at least 1")
    texts = list(texts) if normalised else [normalise(t) for t in texts]
    n = len(texts)
    a, b = _permutations(num_perm, seed)
    out = np.full((num_perm, n), np.uint64(2**64 - 1), dtype=np.uint64)
    if n == 0:
        return np.zeros((0, num_perm), dtype=np.uint32)
    # chunks of whole texts of about _BATCH_SHINGLES characters, so that the shingle arrays and the
    # (num_perm, m) work array stay in cache
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    cum = np.cumsum(lengths)
    cuts = np.searchsorted(cum, np.arange(_BATCH_SHINGLES, int(cum[-1]) + 1, _BATCH_SHINGLES), "right")
    bounds = np.unique(np.concatenate(([0], cuts, [n])))
    kernel = _compiled_kernel()
    buf = np.empty(num_perm * _BATCH_SHINGLES * 2, dtype=np.uint64)
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        keys, counts = shingle_hashes(texts[lo:hi], k)
        if kernel is not None:
            kernel(keys, counts.astype(np.int64), a.reshape(-1), b.reshape(-1), out[:, lo:hi])
            continue
        nonempty = np.flatnonzero(counts > 0)
        if nonempty.size == 0:
            continue
        m = keys.size
        work = (
            buf[: num_perm * m].reshape(num_perm, m)
            if m <= 2 * _BATCH_SHINGLES
            else np.empty((num_perm, m), np.uint64)
        )
        np.multiply(a, keys, out=work)
        np.add(work, b, out=work)
        starts = (np.cumsum(counts) - counts)[nonempty]
        out[:, lo + nonempty] = np.minimum.reduceat(work, starts, axis=1)
    return np.ascontiguousarray((out >> _U64(32)).astype(np.uint32).T)


_KERNEL: list[object] = []


def _compiled_kernel():  # type: ignore[no-untyped-def]
    """The MinHash loop compiled with numba when it is installed, else None (the NumPy path above).

    Both compute the same 64-bit wrapping ``a * x + b`` and its minimum per text, so signatures are
    bit-for-bit identical either way (a test pins it); the compiled loop does it without the
    ``(num_perm, shingles)`` work array, several times faster. ``LUREWATCH_NO_NUMBA=1`` forces NumPy.
    """
    if _KERNEL:
        return _KERNEL[0]
    kernel = None
    if not os.environ.get("LUREWATCH_NO_NUMBA"):
        try:
            import numba
        except ImportError:
            numba = None
        if numba is not None:

            @numba.njit(cache=True, nogil=True)
            def _minhash(keys, counts, a, b, out):  # type: ignore[no-untyped-def]
                start = 0
                for t in range(counts.shape[0]):
                    stop = start + counts[t]
                    if stop > start:
                        for p in range(a.shape[0]):
                            ap = a[p]
                            bp = b[p]
                            best = ap * keys[start] + bp
                            for j in range(start + 1, stop):
                                v = ap * keys[j] + bp
                                if v < best:
                                    best = v
                            out[p, t] = best
                    start = stop

            kernel = _minhash
    _KERNEL.append(kernel)
    return kernel


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray | float:
    """Share of equal signature rows: the MinHash estimate of Jaccard similarity (broadcasts)."""
    sig_a = np.asarray(sig_a)
    sig_b = np.asarray(sig_b)
    if sig_a.shape[-1] != sig_b.shape[-1]:
        raise ValueError("signatures have different num_perm")
    est = np.mean(sig_a == sig_b, axis=-1)
    return float(est) if np.ndim(est) == 0 else est


# --------------------------------------------------------------------------------------------------
# LSH banding


def collision_probability(s: np.ndarray | float, b: int, r: int) -> np.ndarray | float:
    """The S-curve: probability that two sets of Jaccard ``s`` share at least one of ``b`` bands of ``r`` rows."""
    return 1.0 - (1.0 - np.power(s, r)) ** b


def _integrate(f, lo: float, hi: float, steps: int = 200) -> float:
    if hi <= lo:
        return 0.0
    xs = np.linspace(lo, hi, steps + 1)
    ys = f(xs)
    return float(np.sum((ys[1:] + ys[:-1]) * 0.5) * (hi - lo) / steps)


def choose_bands(
    threshold: float,
    num_perm: int = 128,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """``(b, r)`` with ``b * r <= num_perm`` minimising the weighted area under the S-curve below
    ``threshold`` (false positives) plus the area above it missed (false negatives).

    The same criterion as datasketch's ``MinHashLSH`` and the usual treatment (Leskovec, Rajaraman,
    Ullman, *Mining of Massive Datasets*, ch. 3.4), so the two pick the same bands at equal settings.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be in (0, 1)")
    best: tuple[float, int, int] | None = None
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = _integrate(lambda s, b=b, r=r: collision_probability(s, b, r), 0.0, threshold)
            fn = _integrate(lambda s, b=b, r=r: 1.0 - collision_probability(s, b, r), threshold, 1.0)
            err = false_positive_weight * fp + false_negative_weight * fn
            if best is None or err < best[0] - 1e-12:
                best = (err, b, r)
    assert best is not None
    return best[1], best[2]


def bands(signatures: np.ndarray, b: int, r: int) -> np.ndarray:
    """``(n, b)`` uint64 band keys: band ``j`` hashes signature rows ``j*r .. j*r+r-1``.

    Two texts share band ``j``'s key exactly when those ``r`` rows are all equal (up to 64-bit hash
    collisions). Keys differ between bands for equal rows (the band index seeds the hash).
    """
    sig = np.asarray(signatures)
    if sig.ndim != 2:
        raise ValueError("signatures must be a 2-D array")
    if b < 1 or r < 1 or b * r > sig.shape[1]:
        raise ValueError(f"b * r = {b * r} must be between 1 and num_perm = {sig.shape[1]}")
    rows = sig[:, : b * r].astype(np.uint64).reshape(sig.shape[0], b, r)
    band_ids = (np.arange(b, dtype=np.uint64) + _U64(1)) * _U64(_SM_GAMMA)
    h = np.broadcast_to(band_ids, (sig.shape[0], b)).copy()
    for t in range(r):
        h ^= rows[:, :, t]
        h += _U64(_SM_GAMMA)
        _splitmix64(h)
    return h


def _pairs_in_groups(order: np.ndarray, sorted_keys: np.ndarray, star: bool) -> np.ndarray:
    n = sorted_keys.size
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, n))
    multi = sizes > 1
    if not multi.any():
        return np.zeros((0, 2), dtype=np.int64)
    starts, sizes = starts[multi], sizes[multi]
    if star:
        # every member joined to the group's first member: linear in the group size
        left = np.repeat(starts, sizes - 1)
        right = (
            left
            + (np.arange(int((sizes - 1).sum())) - np.repeat(np.cumsum(sizes - 1) - (sizes - 1), sizes - 1))
            + 1
        )
    else:
        # every position p in a group is paired with the positions after it in the group
        member = np.repeat(starts, sizes) + (
            np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        )
        after = np.repeat(starts + sizes, sizes) - member - 1
        left = np.repeat(member, after)
        right = left + 1 + (np.arange(int(after.sum())) - np.repeat(np.cumsum(after) - after, after))
    i, j = order[left], order[right]
    return np.stack((np.minimum(i, j), np.maximum(i, j)), axis=1)


def candidate_pairs(
    band_keys: np.ndarray, valid: np.ndarray | None = None, *, star: bool = False
) -> np.ndarray:
    """Unique pairs ``(i, j)``, ``i < j``, of rows sharing a key in at least one band.

    ``band_keys`` is ``(n, b)`` from :func:`bands` (or any per-band integer keys, e.g. the first half
    of :func:`exact_hashes` as a single column for exact duplicates). ``valid`` (bool ``(n,)``) leaves rows out, e.g. empty texts. ``star=True`` joins each
    group's members to its first member only: the same connected components with a number of pairs
    linear in the group size (a template sent to thousands of people makes quadratic all-pairs output).
    Returns an int64 array ``(p, 2)`` sorted by ``(i, j)``.
    """
    keys = np.asarray(band_keys)
    if keys.ndim == 1:
        keys = keys.reshape(-1, 1)
    n = keys.shape[0]
    rows = np.arange(n, dtype=np.int64) if valid is None else np.flatnonzero(np.asarray(valid, dtype=bool))
    parts = []
    for j in range(keys.shape[1]):
        col = keys[rows, j]
        order = np.argsort(col, kind="stable")
        parts.append(_pairs_in_groups(rows[order], col[order], star))
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(parts)
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    code = np.unique(pairs[:, 0].astype(np.uint64) * _U64(max(n, 1)) + pairs[:, 1].astype(np.uint64))
    return np.stack(((code // _U64(n)).astype(np.int64), (code % _U64(n)).astype(np.int64)), axis=1)


def threshold_of(b: int, r: int) -> float:
    """The similarity at which the S-curve is steepest, about ``(1/b) ** (1/r)``."""
    return math.pow(1.0 / b, 1.0 / r)


# --------------------------------------------------------------------------------------------------
# batch sketches: raw text to exact keys, band keys and b-bit rows in compiled loops
#
# Why a scanner and not the regular expressions: per message, ``normalise`` spends ~15-28 µs in
# Python calls, several times the whole compiled pipeline. The scanner below re-states each step of
# ``normalise`` as a loop over code points with the semantics of Python's ``re`` on ``str`` (``\w`` is
# ``str.isalnum()`` or ``_``, ``\s`` is ``str.isspace()``, ``\d`` is ``str.isdecimal()``, all read
# from a table built with ``re`` itself): one pass per substitution, in the same order, each pass
# reading the previous one's output as ``re.sub`` does, and a pass that finds nothing copies nothing.
# NFKC and ``str.lower()`` are a table lookup for the characters where they are plain per-character
# maps (NFKC-stable starters that compose with nothing, lower case of one character); a text with any
# other character (combining marks, compatibility forms, "İ", "Σ", planes 2 and up, lone surrogates)
# goes through Python's ``unicodedata.normalize`` and ``str.lower`` first, then the same scanner.

_W, _S, _D = 1, 2, 4  # character class bits: \w, \s, \d
_TABLE_SIZE = 0x20000  # planes 0 and 1 (BMP, emoji); beyond them Python normalises
_NOT_FAST = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=1)
def _char_classes() -> np.ndarray:
    """``(0x110000,)`` uint8: the ``\\w``/``\\s``/``\\d`` bits of every code point, as ``re`` sees them."""
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    table = np.zeros(0x110000, dtype=np.uint8)
    for pattern, bit in ((r"\w+", _W), (r"\s+", _S), (r"\d+", _D)):
        for m in re.finditer(pattern, every):
            table[m.start() : m.end()] |= bit
    return table


def _each_alone(form: str) -> tuple[np.ndarray, np.ndarray]:
    """``unicodedata.normalize(form, chr(c))`` for every code point ``1 <= c < _TABLE_SIZE`` at once:
    ``(lengths, flat code points)``. The characters are joined with NUL, which composes with nothing
    and reorders with nothing, so each piece is normalised as if alone."""
    cps = np.zeros(2 * (_TABLE_SIZE - 1) - 1, dtype="<u4")
    cps[0::2] = np.arange(1, _TABLE_SIZE, dtype="<u4")
    joined = cps.tobytes().decode("utf-32-le", "surrogatepass")
    done = np.frombuffer(
        unicodedata.normalize(form, joined).encode("utf-32-le", "surrogatepass"), dtype="<u4"
    )
    seps = np.flatnonzero(done == 0)
    bounds = np.concatenate(([-1], seps, [done.size]))
    assert bounds.size == _TABLE_SIZE  # one piece per character: no normal form contains NUL
    return np.diff(bounds) - 1, done


@lru_cache(maxsize=1)
def _fast_lower() -> np.ndarray:
    """``(_TABLE_SIZE,)`` uint32: for a character whose NFKC-then-lower-case is a per-character map
    (its NFKC quick check is Yes and it is a starter), the lower-case code point; else ``_NOT_FAST``.

    A string of such characters is its own NFKC (Unicode's quick-check guarantee, UAX #15), so
    ``normalize("NFKC", s).lower()`` is the lookup of each character. Quick check Yes is derived as:
    NFKC of the character alone is itself (rules out No) and it is no non-first character of any
    canonical decomposition (rules out Maybe: the characters that compose with what precedes them).
    """
    n = _TABLE_SIZE
    code = np.arange(n, dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    lens, flat = _each_alone("NFKC")
    starts = np.concatenate(([0], np.cumsum(lens + 1)[:-1]))
    ok[1:] = (lens == 1) & (flat[starts] == code[1:])
    lens, flat = _each_alone("NFD")
    starts = np.concatenate(([0], np.cumsum(lens + 1)[:-1]))
    for length in np.unique(lens[lens >= 2]).tolist():
        at = starts[lens == length]
        for j in range(1, length):
            ok[flat[at + j]] = False  # may compose with the character before it
    every = np.arange(n, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    ok &= np.fromiter((unicodedata.combining(ch) == 0 for ch in every), dtype=bool, count=n)
    ok[0xD800:0xE000] = False  # lone surrogates: never in UTF-8, and left to Python in a str
    ok[0x130] = ok[0x3A3] = False  # "İ" lowers to two characters, "Σ" by context (final sigma)
    lower = np.frombuffer(
        every.replace("\u0130", "\x00").lower().encode("utf-32-le", "surrogatepass"), dtype="<u4"
    )
    assert lower.size == n
    return np.where(ok, lower, _NOT_FAST).astype(np.uint32)


_WS_RUN = -1  # in a phrase: one or more whitespace characters (\s+)


def _phrases(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phrases for the scanner: ``(code points, offsets, by_first)``, sorted by first character, with
    ``by_first[c]:by_first[c + 1]`` the phrases that start with ``c`` (all start with ASCII). A space
    becomes ``_WS_RUN``. Their order does not matter: after each list's phrases comes ``\\b``, and at
    one position at most one greeting or TLD can match and end at a word boundary; sign-offs are only
    tested for whether any matches."""
    assert all(" " not in w[:1] and ord(w[0]) < 128 for w in words)
    ordered = sorted(words, key=lambda w: ord(w[0]))
    cps = [_WS_RUN if ch == " " else ord(ch) for w in ordered for ch in w]
    offs = np.cumsum([0, *(len(w) for w in ordered)]).astype(np.int64)
    by_first = np.searchsorted([ord(w[0]) for w in ordered], np.arange(129), side="left").astype(np.int64)
    return np.array(cps, dtype=np.int32), offs, by_first


_GREET = _phrases(_GREETING_WORDS)
_SIGN = _phrases(_SIGNOFF_WORDS)
_TLD = _phrases(_TLD_LIST)
_TOK_EMAIL = np.array([ord(c) for c in " <email> "], dtype=np.uint32)
_TOK_HANDLE = np.array([ord(c) for c in " <handle> "], dtype=np.uint32)
_TOK_URL = np.array([ord(c) for c in " <url> "], dtype=np.uint32)
_TOK_NUM = np.array([ord(c) for c in " <num> "], dtype=np.uint32)
_TOK_NAME = np.array([ord(c) for c in "<name>"], dtype=np.uint32)
_LIT_HTTP = np.array([ord(c) for c in "http://"], dtype=np.uint32)
_LIT_HTTPS = np.array([ord(c) for c in "https://"], dtype=np.uint32)
_LIT_FTP = np.array([ord(c) for c in "ftp://"], dtype=np.uint32)
_LIT_WWW = np.array([ord(c) for c in "www."], dtype=np.uint32)

_EXACT_SEED = 0x243F6A8885A308D3  # pi's fraction, any fixed value
_EXACT_MUL = 0xFF51AFD7ED558CCD  # odd: multiplying is a bijection modulo 2**64


def exact_key(normalised: str) -> int:
    """The 64-bit exact key of an already normalised text (0 for the empty text).

    Each code point goes through a bijection of the 64-bit state (xor, odd multiply, xorshift), so two
    texts of one length that differ anywhere have different states, and a splitmix64 finaliser with the
    length mixes the end. Not a cryptographic hash: it names texts, it does not authenticate them.
    This is the readable definition; :func:`sketch_batch` computes it in compiled code.
    """
    if not normalised:
        return 0
    h = _EXACT_SEED
    for ch in normalised:
        h = ((h ^ ord(ch)) * _EXACT_MUL) & _MASK64
        h ^= h >> 32
    h ^= len(normalised)
    h ^= h >> 30
    h = (h * int(_SM_C1)) & _MASK64
    h ^= h >> 27
    h = (h * int(_SM_C2)) & _MASK64
    h ^= h >> 31
    return h or 1


def _exact_keys_numpy(texts: Sequence[str]) -> np.ndarray:
    """:func:`exact_key` of many texts, one NumPy step per character position (the fallback path)."""
    n = len(texts)
    out = np.zeros(n, dtype=np.uint64)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    if n == 0 or int(lengths.max()) == 0:
        return out
    order = np.argsort(-lengths, kind="stable")  # longest first: the texts still going are a prefix
    lens = lengths[order]
    cps = np.frombuffer(
        "".join(texts[i] for i in order.tolist()).encode("utf-32-le", "surrogatepass"), dtype="<u4"
    ).astype(np.uint64)
    starts = np.cumsum(lens) - lens
    active = np.searchsorted(-lens, -np.arange(int(lens[0])), side="left")  # texts longer than j
    h = np.full(n, _U64(_EXACT_SEED), dtype=np.uint64)
    for j in range(int(lens[0])):
        m = int(active[j])
        x = h[:m] ^ cps[starts[:m] + j]
        x *= _U64(_EXACT_MUL)
        x ^= x >> _U64(32)
        h[:m] = x
    h ^= lens.astype(np.uint64)
    _splitmix64(h)
    h[h == 0] = 1
    h[lens == 0] = 0
    out[order] = h
    return out


_KERNELS: list[str] = []  # the functions below, compiled on first use
_COMPILED: list[bool] = []
_COMPILE_LOCK = threading.Lock()


def _njit(fn):  # type: ignore[no-untyped-def]
    """Mark ``fn`` for compilation by :func:`_use_numba` (numba is imported on first use, not with
    the module: ``normalise`` alone should not cost numba's import)."""
    _KERNELS.append(fn.__name__)
    return fn


def _use_numba() -> bool:
    """Whether the compiled kernels are in use; the first call swaps every marked function for its
    numba dispatcher (compiled lazily, cached on disk, GIL released), before any of them compiles,
    so that they call each other compiled. False without numba or with ``LUREWATCH_NO_NUMBA``."""
    if not _COMPILED:
        with _COMPILE_LOCK:
            if not _COMPILED:
                numba = None
                if not os.environ.get("LUREWATCH_NO_NUMBA"):
                    try:
                        import numba
                    except ImportError:
                        numba = None
                if numba is not None:
                    space = globals()
                    for name in _KERNELS:
                        space[name] = numba.njit(cache=True, nogil=True)(space[name])
                _COMPILED.append(numba is not None)
    return _COMPILED[0]


_OVERFLOW = -1  # a pass's result: the output did not fit
_SAME = -2  # a pass's result: nothing matched, the input stands

# kernel statuses per text
_DONE, _NEEDS_PYTHON_CASE, _NEEDS_PYTHON = 0, 1, 2


@_njit
def _nb_put(dst, o, tok):  # type: ignore[no-untyped-def]
    """Write ``tok`` at ``dst[o:]``: the new end, or -1 when ``dst`` is full (or ``o`` is -1)."""
    if o < 0 or o + tok.shape[0] > dst.shape[0]:
        return -1
    for t in range(tok.shape[0]):
        dst[o + t] = tok[t]
    return o + tok.shape[0]


@_njit
def _nb_put1(dst, o, c):  # type: ignore[no-untyped-def]
    if o < 0 or o >= dst.shape[0]:
        return -1
    dst[o] = c
    return o + 1


@_njit
def _nb_copy(dst, o, src, lo, hi):  # type: ignore[no-untyped-def]
    if o < 0 or o + hi - lo > dst.shape[0]:
        return -1
    for i in range(lo, hi):
        dst[o + i - lo] = src[i]
    return o + hi - lo


@_njit
def _nb_phrase(s, n, p, cps, lo, hi, cls):  # type: ignore[no-untyped-def]
    """End of the phrase ``cps[lo:hi]`` matched at ``s[p:]`` (-1 in a phrase is ``\\s+``), or -1."""
    for t in range(lo, hi):
        want = cps[t]
        if want == -1:
            if p >= n or not (cls[s[p]] & 2):
                return -1
            while p < n and (cls[s[p]] & 2):
                p += 1
        else:
            if p >= n or s[p] != want:
                return -1
            p += 1
    return p


@_njit
def _nb_phrase_word(s, n, p, cps, offs, by_first, cls):  # type: ignore[no-untyped-def]
    """End of a phrase matched at ``s[p:]`` and followed by ``\\b`` (phrases end in a word character,
    so: by a non-word character or the end), or -1."""
    if p >= n or s[p] >= 128:
        return -1
    for a in range(by_first[s[p]], by_first[s[p] + 1]):
        e = _nb_phrase(s, n, p, cps, offs[a], offs[a + 1], cls)
        if e >= 0 and (e == n or not (cls[s[e]] & 1)):
            return e
    return -1


@_njit
def _nb_greeting_end(s, n, cls, g_cps, g_offs, g_first, ends):  # type: ignore[no-untyped-def]
    """Where the text starts after ``_GREETING.match`` (0 when there is no greeting); ``ends`` is
    scratch space for five positions (an allocation per text would cost more than the scan)."""
    p = 0
    while p < n and (cls[s[p]] & 2):
        p += 1
    w = _nb_phrase_word(s, n, p, g_cps, g_offs, g_first, cls)
    if w < 0:
        return 0
    # (?:[ \t]+[^\s,!:;.]+\.?){0,4}[ \t]*[,!:;\n] -- greedy, so the most name words that still end
    # in one of ",!:;\n" win; backtracking inside a repetition cannot help (its parts exclude each
    # other's first characters), only giving back whole repetitions
    ends[0] = w
    reps = 0
    e = w
    while reps < 4:
        j = e
        while j < n and (s[j] == 32 or s[j] == 9):
            j += 1
        if j == e:
            break
        k = j
        while k < n:
            c = s[k]
            if (cls[c] & 2) or c == 44 or c == 33 or c == 58 or c == 59 or c == 46:
                break
            k += 1
        if k == j:
            break
        if k < n and s[k] == 46:
            k += 1
        e = k
        reps += 1
        ends[reps] = e
    for r in range(reps, -1, -1):
        j = ends[r]
        while j < n and (s[j] == 32 or s[j] == 9):
            j += 1
        if j < n:
            c = s[j]
            if c == 44 or c == 33 or c == 58 or c == 59 or c == 10:
                return j + 1
    # the second alternative: [ \t]*[,!:;.]?
    j = w
    while j < n and (s[j] == 32 or s[j] == 9):
        j += 1
    if j < n:
        c = s[j]
        if c == 44 or c == 33 or c == 58 or c == 59 or c == 46:
            j += 1
    return j


@_njit
def _nb_signoff_at(s, n, r, cls, w_cps, w_offs, first):  # type: ignore[no-untyped-def]
    """Whether ``[ \\t]*(?:words)\\b[^\\n]{0,60}(?:\\n[\\s\\S]*)?$`` matches at ``s[r:]``."""
    while r < n and (s[r] == 32 or s[r] == 9):
        r += 1
    if r >= n or s[r] >= 128:
        return False
    for a in range(first[s[r]], first[s[r] + 1]):
        w = _nb_phrase(s, n, r, w_cps, w_offs[a], w_offs[a + 1], cls)
        if w < 0 or (w < n and (cls[s[w]] & 1)):
            continue
        if n - w <= 60:
            return True
        for j in range(w, w + 61):
            if s[j] == 10:
                return True
    return False


@_njit
def _nb_signoff_cut(s, n, cls, w_cps, w_offs, first, tail):  # type: ignore[no-untyped-def]
    """The length left by the sign-off cut of ``normalise`` (``n`` when nothing is cut)."""
    for q in range(max(0, n - tail), n):
        c = s[q]
        found = False
        if q == 0:
            found = _nb_signoff_at(s, n, 0, cls, w_cps, w_offs, first)
        if not found and c == 10:
            found = _nb_signoff_at(s, n, q + 1, cls, w_cps, w_offs, first)
        if not found and (c == 46 or c == 33 or c == 63) and q + 1 < n and (s[q + 1] == 32 or s[q + 1] == 9):
            found = _nb_signoff_at(s, n, q + 2, cls, w_cps, w_offs, first)
        if found:
            # search() stops at the first match: one at the very start means no cut at all
            if q == 0:
                return n
            return q + 1 if (c == 46 or c == 33 or c == 63) else q
    return n


@_njit
def _nb_is_local(cls, c):  # type: ignore[no-untyped-def]
    return (cls[c] & 1) != 0 or c == 46 or c == 43 or c == 45  # [\w.+-]


@_njit
def _nb_email(s, n, d, cls):  # type: ignore[no-untyped-def]
    """``_EMAIL.sub(" <email> ", s)``: (?<![\\w.+-])[\\w.+-]++@[\\w-]+(?:\\.[\\w-]+)+."""
    i = 0
    o = 0
    started = False
    while i < n:
        c = s[i]
        if _nb_is_local(cls, c) and (i == 0 or not _nb_is_local(cls, s[i - 1])):
            j = i
            while j < n and _nb_is_local(cls, s[j]):
                j += 1
            if j < n and s[j] == 64:
                k = j + 1
                while k < n and ((cls[s[k]] & 1) or s[k] == 45):
                    k += 1
                if k > j + 1:
                    e = k
                    reps = 0
                    while e < n and s[e] == 46:
                        m = e + 1
                        while m < n and ((cls[s[m]] & 1) or s[m] == 45):
                            m += 1
                        if m == e + 1:
                            break
                        e = m
                        reps += 1
                    if reps > 0:
                        if not started:
                            o = _nb_copy(d, 0, s, 0, i)
                            started = True
                        o = _nb_put(d, o, _TOK_EMAIL)
                        i = e
                        continue
        if started:
            o = _nb_put1(d, o, c)
        i += 1
    return o if started else _SAME


@_njit
def _nb_handle(s, n, d, cls):  # type: ignore[no-untyped-def]
    """``_HANDLE.sub(" <handle> ", s)``: (?<![\\w@])@[\\w.]*\\w, i.e. up to the last \\w of the run."""
    i = 0
    o = 0
    started = False
    while i < n:
        c = s[i]
        if c == 64 and (i == 0 or not ((cls[s[i - 1]] & 1) or s[i - 1] == 64)):
            j = i + 1
            last = -1
            while j < n and ((cls[s[j]] & 1) or s[j] == 46):
                if cls[s[j]] & 1:
                    last = j
                j += 1
            if last >= 0:
                if not started:
                    o = _nb_copy(d, 0, s, 0, i)
                    started = True
                o = _nb_put(d, o, _TOK_HANDLE)
                i = last + 1
                continue
        if started:
            o = _nb_put1(d, o, c)
        i += 1
    return o if started else _SAME


@_njit
def _nb_url_end(s, n, j, cls):  # type: ignore[no-untyped-def]
    """``[^\\s<>"']*[^\\s<>"'.,;:!?)\\]]`` from ``j``: the end after its last allowed final character, or -1."""
    last = -1
    while j < n:
        c = s[j]
        if (cls[c] & 2) or c == 60 or c == 62 or c == 34 or c == 39:
            break
        if not (c == 46 or c == 44 or c == 59 or c == 58 or c == 33 or c == 63 or c == 41 or c == 93):
            last = j
        j += 1
    return last + 1 if last >= 0 else -1


@_njit
def _nb_starts_with(s, n, i, lit):  # type: ignore[no-untyped-def]
    if i + lit.shape[0] > n:
        return False
    for t in range(lit.shape[0]):  # noqa: SIM110 -- a loop numba compiles, not a generator
        if s[i + t] != lit[t]:
            return False
    return True


@_njit
def _nb_url_scheme(s, n, d, cls):  # type: ignore[no-untyped-def]
    """``_URL_SCHEME.sub(" <url> ", s)``."""
    i = 0
    o = 0
    started = False
    while i < n:
        c = s[i]
        p = -1
        if c == 104:  # h
            if _nb_starts_with(s, n, i, _LIT_HTTPS):
                p = i + 8
            elif _nb_starts_with(s, n, i, _LIT_HTTP):
                p = i + 7
        elif c == 102 and _nb_starts_with(s, n, i, _LIT_FTP):
            p = i + 6
        elif c == 119 and _nb_starts_with(s, n, i, _LIT_WWW):
            p = i + 4
        if p >= 0:
            e = _nb_url_end(s, n, p, cls)
            if e >= 0:
                if not started:
                    o = _nb_copy(d, 0, s, 0, i)
                    started = True
                o = _nb_put(d, o, _TOK_URL)
                i = e
                continue
        if started:
            o = _nb_put1(d, o, c)
        i += 1
    return o if started else _SAME


@_njit
def _nb_tld_hint(s, n, cls, t_cps, t_offs, t_first):  # type: ignore[no-untyped-def]
    """``_TLD_HINT.search(s)``: a "." and a listed TLD with \\b after it."""
    for i in range(n - 1):
        if s[i] == 46 and _nb_phrase_word(s, n, i + 1, t_cps, t_offs, t_first, cls) >= 0:
            return True
    return False


@_njit
def _nb_url_domain(s, n, d, cls, t_cps, t_offs, t_first, reps):  # type: ignore[no-untyped-def]
    """``_URL_DOMAIN.sub(" <url> ", s)``: \\b(?:[a-z0-9-]++\\.)+TLD\\b(?:/path)?."""
    i = 0
    o = 0
    started = False
    while i < n:
        c = s[i]
        left = i > 0 and (cls[s[i - 1]] & 1) != 0
        if left != ((cls[c] & 1) != 0):
            # the labels, each a maximal [a-z0-9-] run followed by "."; reps[k] is where label k+1 starts
            k = 0
            p = i
            while True:
                j = p
                while j < n and ((97 <= s[j] <= 122) or (48 <= s[j] <= 57) or s[j] == 45):
                    j += 1
                if j > p and j < n and s[j] == 46:
                    reps[k] = j + 1
                    k += 1
                    p = j + 1
                else:
                    break
            e = -1
            # the greedy repetition gives back labels one at a time until a TLD follows
            for r in range(k - 1, -1, -1):
                e = _nb_phrase_word(s, n, reps[r], t_cps, t_offs, t_first, cls)
                if e >= 0:
                    break
            if e >= 0:
                if e < n and s[e] == 47:
                    pe = _nb_url_end(s, n, e + 1, cls)
                    if pe >= 0:
                        e = pe
                if not started:
                    o = _nb_copy(d, 0, s, 0, i)
                    started = True
                o = _nb_put(d, o, _TOK_URL)
                i = e
                continue
            if k > 0:
                # every later start inside these labels sees a suffix of the same chain: it fails too
                if started:
                    o = _nb_copy(d, o, s, i, p)
                i = p
                continue
        if started:
            o = _nb_put1(d, o, c)
        i += 1
    return o if started else _SAME


@_njit
def _nb_number(s, n, d, cls):  # type: ignore[no-untyped-def]
    """``_NUMBER.sub(" <num> ", s)``: \\+?\\d(?:[\\d().,/:-]|[ \\t](?=[\\d(]))*+."""
    i = 0
    o = 0
    started = False
    while i < n:
        c = s[i]
        j = i + 1 if c == 43 else i
        if j < n and (cls[s[j]] & 4):
            j += 1
            while j < n:
                x = s[j]
                inside = (
                    (cls[x] & 4) or x == 40 or x == 41 or x == 46 or x == 44 or x == 47 or x == 58 or x == 45
                )
                blank_before_more = (
                    (x == 32 or x == 9) and j + 1 < n and ((cls[s[j + 1]] & 4) or s[j + 1] == 40)
                )
                if not (inside or blank_before_more):
                    break
                j += 1
            if not started:
                o = _nb_copy(d, 0, s, 0, i)
                started = True
            o = _nb_put(d, o, _TOK_NUM)
            i = j
            continue
        if started:
            o = _nb_put1(d, o, c)
        i += 1
    return o if started else _SAME


@_njit
def _nb_name(s, n, d, cls, tok, lo, hi):  # type: ignore[no-untyped-def]
    """``re.sub(r"(?<!\\w)" + re.escape(token) + r"(?!\\w)", "<name>", s)`` for ``tok[lo:hi]``."""
    m = hi - lo
    i = 0
    o = 0
    started = False
    while i < n:
        c = s[i]
        if c == tok[lo] and i + m <= n and (i == 0 or not (cls[s[i - 1]] & 1)):
            same = True
            for t in range(1, m):
                if s[i + t] != tok[lo + t]:
                    same = False
                    break
            if same and (i + m == n or not (cls[s[i + m]] & 1)):
                if not started:
                    o = _nb_copy(d, 0, s, 0, i)
                    started = True
                o = _nb_put(d, o, _TOK_NAME)
                i += m
                continue
        if started:
            o = _nb_put1(d, o, c)
        i += 1
    return o if started else _SAME


@_njit
def _nb_load(src, s0, length, mode, lower, a, max_chars):  # type: ignore[no-untyped-def]
    """Text ``t`` into ``a`` as code points after NFKC and lower case: its length, or -1 when a
    character needs Python for that (or the UTF-8 is invalid), or -2 when it does not fit.

    ``mode`` 0: raw UTF-8 bytes; 1: raw code points; 2: code points already NFKC and lower case.
    """
    not_fast = np.uint32(0xFFFFFFFF)
    if mode == 2:
        if length > a.shape[0]:
            return -2
        for i in range(length):
            a[i] = src[s0 + i]
        return length
    n = 0
    i = s0
    end = s0 + length
    while i < end and n < max_chars:
        c = np.uint32(src[i])
        if mode == 0 and c >= 0x80:
            # UTF-8: the lead byte says how many continuation bytes (10xxxxxx) follow
            if 0xC2 <= c <= 0xDF:
                need = 1
                c &= np.uint32(0x1F)
            elif 0xE0 <= c <= 0xEF:
                need = 2
                c &= np.uint32(0x0F)
            elif 0xF0 <= c <= 0xF4:
                need = 3
                c &= np.uint32(0x07)
            else:
                return -1
            if i + need >= end:
                return -1
            for j in range(1, need + 1):
                b = np.uint32(src[i + j])
                if (b & np.uint32(0xC0)) != np.uint32(0x80):
                    return -1
                c = (c << np.uint32(6)) | (b & np.uint32(0x3F))
            # overlong forms, surrogates, beyond U+10FFFF
            if (
                (need == 2 and c < 0x800)
                or (need == 3 and c < 0x10000)
                or 0xD800 <= c <= 0xDFFF
                or c > 0x10FFFF
            ):
                return -1
            i += need
        i += 1
        if c >= lower.shape[0]:
            return -1
        m = lower[c]
        if m == not_fast:
            return -1
        a[n] = m
        n += 1
    return n


@_njit
def _nb_normalise(  # type: ignore[no-untyped-def]
    src, starts, lens, mode, lower, tok_cps, tok_offs, tok_lo, tok_hi, cls, g_cps, g_offs, g_first,
    w_cps, w_offs, w_first, t_cps, t_offs, t_first, max_chars, tail, out, out_start, out_len, work,
):  # fmt: skip
    """``normalise(text, sender_name=...)`` of every text into ``out`` (``out_start``, ``out_len``).

    Returns a status per text: ``_DONE``, ``_NEEDS_PYTHON_CASE`` (NFKC and lower case must come from
    Python) or ``_NEEDS_PYTHON`` (too long for the buffers: ``normalise`` itself).
    """
    n_texts = starts.shape[0]
    status = np.zeros(n_texts, dtype=np.int8)
    reps = np.empty(work.shape[1] + 1, dtype=np.int64)
    o_all = 0
    for t in range(n_texts):
        a = work[0]
        b = work[1]
        out_start[t] = o_all
        out_len[t] = 0
        n0 = _nb_load(src, starts[t], lens[t], mode, lower, a, max_chars)
        if n0 < 0:
            status[t] = 1 if n0 == -1 else 2
            continue
        # greeting: the rest moves to the front, so that lookbehinds see the new start of the text
        g = _nb_greeting_end(a, n0, cls, g_cps, g_offs, g_first, reps)
        n = n0 - g
        if g > 0:
            for i in range(n):
                a[i] = a[i + g]
        n = _nb_signoff_cut(a, n, cls, w_cps, w_offs, w_first, tail)
        has_at = False
        has_digit = False
        has_scheme = False
        for i in range(n):
            c = a[i]
            if c == 64:
                has_at = True
            elif c == 46:
                if i >= 3 and a[i - 1] == 119 and a[i - 2] == 119 and a[i - 3] == 119:
                    has_scheme = True
            elif c == 58 and i + 2 < n and a[i + 1] == 47 and a[i + 2] == 47:
                has_scheme = True
            if cls[c] & 4:
                has_digit = True
        # the gates of normalise: each only skips a pass that could not match
        r = _SAME
        if has_at:
            r = _nb_email(a, n, b, cls)
            if r >= 0:
                n = r
                a, b = b, a
            if r != _OVERFLOW:
                r = _nb_handle(a, n, b, cls)
                if r >= 0:
                    n = r
                    a, b = b, a
        if r != _OVERFLOW and has_scheme:
            r = _nb_url_scheme(a, n, b, cls)
            if r >= 0:
                n = r
                a, b = b, a
        if r != _OVERFLOW and _nb_tld_hint(a, n, cls, t_cps, t_offs, t_first):
            r = _nb_url_domain(a, n, b, cls, t_cps, t_offs, t_first, reps)
            if r >= 0:
                n = r
                a, b = b, a
        if r != _OVERFLOW and has_digit:
            r = _nb_number(a, n, b, cls)
            if r >= 0:
                n = r
                a, b = b, a
        for k in range(tok_lo[t], tok_hi[t]):
            if r == _OVERFLOW:
                break
            r = _nb_name(a, n, b, cls, tok_cps, tok_offs[k], tok_offs[k + 1])
            if r >= 0:
                n = r
                a, b = b, a
        if r == _OVERFLOW:
            status[t] = 2
            continue
        # " ".join(text.split()), cut to max_chars with no trailing space
        o = o_all
        limit = o_all + max_chars
        if limit > out.shape[0]:
            limit = out.shape[0]
        pending = False
        i = 0
        while i < n and o < limit:
            c = a[i]
            if cls[c] & 2:
                pending = o > o_all
            else:
                if pending:
                    out[o] = 32
                    o += 1
                    pending = False
                    if o >= limit:
                        break
                out[o] = c
                o += 1
            i += 1
        if o >= out.shape[0] and i < n:
            status[t] = 2
            continue
        if o > o_all and out[o - 1] == 32:
            o -= 1
        out_len[t] = o - o_all
        o_all = o
    return status


@_njit
def _nb_exact(cps, starts, lens, exact):  # type: ignore[no-untyped-def]
    """:func:`exact_key` of every normalised text."""
    mul = np.uint64(_EXACT_MUL)
    for t in range(starts.shape[0]):
        s0 = starts[t]
        n = lens[t]
        if n == 0:
            exact[t] = 0
            continue
        h = np.uint64(_EXACT_SEED)
        for i in range(n):
            h = (h ^ np.uint64(cps[s0 + i])) * mul
            h ^= h >> np.uint64(32)
        h ^= np.uint64(n)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
        exact[t] = h if h != np.uint64(0) else np.uint64(1)


@_njit
def _nb_representatives(cps, starts, lens, first):  # type: ignore[no-untyped-def]
    """``rep[t]``: ``first[t]`` (the first text with the exact key of ``t``) when its normalised text
    is the same as that of ``t``, else ``t`` itself, so that a 64-bit key collision never makes one
    text stand for another (a colliding text just gets its own MinHash)."""
    n = first.shape[0]
    rep = np.empty(n, dtype=np.int64)
    for t in range(n):
        u = first[t]
        same = lens[u] == lens[t]
        if same and u != t:
            su = starts[u]
            st = starts[t]
            for c in range(lens[t]):
                if cps[su + c] != cps[st + c]:
                    same = False
                    break
        rep[t] = u if same else t
    return rep


@_njit
def _nb_sketch(cps, starts, lens, which, k, a, b, r, band_keys, bbit):  # type: ignore[no-untyped-def]
    """MinHash, band keys and b-bit rows of the normalised texts ``which``.

    The arithmetic of ``shingle_hashes``, ``signatures`` and ``bands``, without their intermediate
    arrays; the loop over permutations is innermost so that it vectorises.
    """
    num_perm = a.shape[0]
    n_bands = band_keys.shape[1]
    mins = np.empty(num_perm, dtype=np.uint64)
    sig = np.empty(num_perm, dtype=np.uint64)
    top = np.uint64(0xFFFFFFFFFFFFFFFF)
    base = np.uint64(_POLY_BASE)
    c1 = np.uint64(0xBF58476D1CE4E5B9)
    c2 = np.uint64(0x94D049BB133111EB)
    gamma = np.uint64(_SM_GAMMA)
    s30 = np.uint64(30)
    s27 = np.uint64(27)
    s31 = np.uint64(31)
    s32 = np.uint64(32)
    for q in range(which.shape[0]):
        t = which[q]
        s0 = starts[t]
        n = lens[t]
        for p in range(num_perm):
            mins[p] = top
        if n > 0:
            span = n - k + 1 if n >= k else 1
            width = k if n >= k else n
            for j in range(span):
                x = np.uint64(0)
                for i in range(width):
                    x = x * base + np.uint64(cps[s0 + j + i])
                x ^= x >> s30
                x *= c1
                x ^= x >> s27
                x *= c2
                x ^= x >> s31
                x >>= s32
                for p in range(num_perm):
                    v = a[p] * x + b[p]
                    mins[p] = v if v < mins[p] else mins[p]
        for p in range(num_perm):
            sig[p] = mins[p] >> s32
            bbit[t, p] = np.uint8(sig[p] & np.uint64(0xFF))
        for j in range(n_bands):
            h = np.uint64(j + 1) * gamma
            for q2 in range(r):
                h ^= sig[j * r + q2]
                h += gamma
                h ^= h >> s30
                h *= c1
                h ^= h >> s27
                h *= c2
                h ^= h >> s31
            band_keys[t, j] = h


# --------------------------------------------------------------------------------------------------
# the batch API


@lru_cache(maxsize=64)
def _bands_for(threshold: float, num_perm: int) -> tuple[int, int]:
    return choose_bands(threshold, num_perm)


@lru_cache(maxsize=16)
def _permutation_rows(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = _permutations(num_perm, seed)
    return np.ascontiguousarray(a.reshape(-1)), np.ascontiguousarray(b.reshape(-1))


@dataclass(frozen=True)
class SketchParams:
    """What :func:`sketch_batch` computes: ``num_perm`` MinHash rows of character ``k``-grams, banded
    for the Jaccard ``threshold`` (``bands`` is ``(b, r)`` from :func:`choose_bands`, computed once
    per distinct setting)."""

    num_perm: int = 128
    k: int = 5
    threshold: float = 0.7
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.num_perm < 1 or self.k < 1:
            raise ValueError("num_perm and k must be at least 1")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be in (0, 1)")

    @property
    def bands(self) -> tuple[int, int]:
        return _bands_for(self.threshold, self.num_perm)


@dataclass
class Sketches:
    """Per text: ``exact`` (uint64 key of the normalised text, :func:`exact_key`; 0 when it is empty),
    ``bands`` (``(n, b)`` uint64 LSH band keys), ``bbit`` (``(n, num_perm)`` uint8, the low 8 bits of
    each MinHash row, to verify candidate pairs with :func:`bbit_similarity`) and ``empty`` (no
    shingles after normalisation)."""

    exact: np.ndarray
    bands: np.ndarray
    bbit: np.ndarray
    empty: np.ndarray

    def __len__(self) -> int:
        return int(self.exact.shape[0])

    def __repr__(self) -> str:
        return f"Sketches(n={len(self)}, bands={self.bands.shape[1]}, num_perm={self.bbit.shape[1]})"


def bbit_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jaccard estimate from 8-bit MinHash rows (broadcasts over leading axes).

    Two rows agree when the minima agree (probability J) or, otherwise, by chance (1/256), so
    ``(P_equal - 1/256) / (1 - 1/256)`` is unbiased for J (Li & König, "b-Bit Minwise Hashing",
    2010, in its large-set form); clipped to [0, 1].
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError("b-bit rows have different num_perm")
    p = np.mean(a == b, axis=-1)
    c = 1.0 / 256.0
    return np.clip((p - c) / (1.0 - c), 0.0, 1.0)


if TYPE_CHECKING:
    TextColumn = Sequence[str | None] | pa.Array | pa.ChunkedArray


def _is_arrow(values: Any) -> bool:
    return hasattr(values, "to_pylist") and hasattr(values, "type")


def _check_arrow(values: Any) -> None:
    import pyarrow as pa  # only when an Arrow array is passed in

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"expected a string or large_string array, got {values.type}")


def _as_list(values: Any, n: int) -> list[str | None]:
    if values is None:
        return [None] * n
    if _is_arrow(values):
        _check_arrow(values)
        return values.to_pylist()
    return list(values)


class _Texts:
    """The texts of a batch as the kernel reads them, and as Python strings on demand."""

    def __init__(self, texts: Any) -> None:
        self.arrow = texts if _is_arrow(texts) else None
        if self.arrow is not None:
            _check_arrow(self.arrow)
            self.src, self.starts, self.lens = _utf8_of(self.arrow)
            self.mode = 0
            self.items: list[str | None] | None = None
        else:
            self.items = list(texts)
            strs = [t if isinstance(t, str) else "" for t in self.items]
            self.lens = np.fromiter(map(len, strs), dtype=np.int64, count=len(strs))
            self.starts = np.cumsum(self.lens) - self.lens
            self.src = np.frombuffer("".join(strs).encode("utf-32-le", "surrogatepass"), dtype="<u4")
            self.mode = 1

    def __len__(self) -> int:
        return int(self.lens.shape[0])

    def strings(self, rows: np.ndarray) -> list[str | None]:
        if self.items is not None:
            return [self.items[i] for i in rows.tolist()]
        assert self.arrow is not None
        return self.arrow.take(rows).to_pylist()


def _utf8_of(arr: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The UTF-8 bytes of an Arrow string array (zero-copy for one chunk), byte starts and lengths
    (0 for nulls)."""
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    datas, starts, lens = [], [], []
    base = 0
    for chunk in chunks:
        m = len(chunk)
        if m == 0:
            continue
        _, offsets_buf, data_buf = chunk.buffers()
        dtype = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        size = np.dtype(dtype).itemsize
        offs = np.frombuffer(offsets_buf, dtype=dtype, count=m + 1, offset=chunk.offset * size).astype(
            np.int64
        )
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        length = np.diff(offs)
        if chunk.null_count:
            length[chunk.is_null().to_numpy(zero_copy_only=False)] = 0
        datas.append(data)
        starts.append(offs[:-1] + base)
        lens.append(length)
        base += data.size
    if not datas:
        return np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64)
    src = datas[0] if len(datas) == 1 else np.concatenate(datas)
    return src, np.concatenate(starts), np.concatenate(lens)


def _name_table(names: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Name tokens of every distinct name once: ``(token code points, token offsets, first token,
    end token)`` with one ``[first, end)`` token range per text."""
    if names is None:
        z = np.zeros(n, dtype=np.int64)
        # read-only like the token array of real names (np.frombuffer): one compiled signature for both
        return np.frombuffer(b"", dtype="<u4"), np.zeros(1, dtype=np.int64), z, z.copy()
    if _is_arrow(names):
        import pyarrow.compute as pc

        _check_arrow(names)
        distinct = pc.unique(names)
        index = pc.fill_null(pc.index_in(names, value_set=distinct), -1)
        per_text = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64) + 1
        values: list[str | None] = [None, *distinct.to_pylist()]
    else:
        ids: dict[str | None, int] = {None: 0}
        values = [None]
        per_text = np.empty(n, dtype=np.int64)
        for i, name in enumerate(names):
            at = ids.get(name)
            if at is None:
                at = ids[name] = len(values)
                values.append(name)
            per_text[i] = at
    tokens: list[str] = []
    ranges = np.zeros((len(values), 2), dtype=np.int64)
    for v, name in enumerate(values):
        toks = _name_tokens((name,)) if isinstance(name, str) else []
        ranges[v] = (len(tokens), len(tokens) + len(toks))
        tokens.extend(toks)
    tok_cps = np.frombuffer("".join(tokens).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    tok_offs = np.cumsum([0, *(len(t) for t in tokens)]).astype(np.int64)
    return np.ascontiguousarray(tok_cps), tok_offs, ranges[per_text, 0], ranges[per_text, 1]


def _out_capacity(lens: np.ndarray) -> int:
    """Room for a batch's normalised texts: normalised texts are rarely longer than the raw ones (the
    greeting and sign-off go, masks replace longer strings); a text that does not fit is left to
    ``normalise``."""
    return int(lens.sum()) + 16 * int(lens.shape[0]) + 4096


def _kernel_normalise(src: np.ndarray, starts: np.ndarray, lens: np.ndarray, mode: int, names: tuple):  # type: ignore[no-untyped-def]
    n = starts.shape[0]
    longest = int(lens.max()) if n else 0
    # a pass at most about quadruples a text ("1a" -> " <num> a"); a text that still does not fit is
    # handed to normalise()
    cap = 8 * min(longest, 2 * MAX_CHARS) + 64
    work = np.empty((2, cap), dtype=np.uint32)
    out = np.empty(_out_capacity(lens), dtype=np.uint32)
    out_start = np.zeros(n, dtype=np.int64)
    out_len = np.zeros(n, dtype=np.int64)
    status = _nb_normalise(
        src, starts, lens, mode, _fast_lower(), *names, _char_classes(), *_GREET, *_SIGN, *_TLD,
        MAX_CHARS, _SIGNOFF_TAIL,
        out, out_start, out_len, work,
    )  # fmt: skip
    return out, out_start, out_len, status


def _normalise_batch(texts: _Texts, sender_names: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``normalise(t, sender_name=s)`` of every text as ``(code points, starts, lengths)``."""
    n = len(texts)
    tok_cps, tok_offs, tok_lo, tok_hi = _name_table(sender_names, n)
    out, out_start, out_len, status = _kernel_normalise(
        texts.src, texts.starts, texts.lens, texts.mode, (tok_cps, tok_offs, tok_lo, tok_hi)
    )
    if not status.any():
        return out, out_start, out_len
    used = int((out_start + out_len).max()) if n else 0
    pieces = [out[:used]]
    # texts with characters the table does not cover: NFKC and lower case in Python, then the scanner
    case = np.flatnonzero(status == _NEEDS_PYTHON_CASE)
    redo = np.flatnonzero(status == _NEEDS_PYTHON)
    if case.size:
        prepared = [
            unicodedata.normalize("NFKC", t[:MAX_CHARS])[:MAX_CHARS].lower() if t else ""
            for t in texts.strings(case)
        ]
        lens = np.fromiter(map(len, prepared), dtype=np.int64, count=len(prepared))
        src = np.frombuffer("".join(prepared).encode("utf-32-le", "surrogatepass"), dtype="<u4")
        names = (tok_cps, tok_offs, tok_lo[case], tok_hi[case])
        o2, s2, l2, st2 = _kernel_normalise(src, np.cumsum(lens) - lens, lens, 2, names)
        pieces.append(o2[: int((s2 + l2).max())])
        out_start[case] = s2 + used
        out_len[case] = l2
        used += pieces[-1].size
        redo = np.sort(np.concatenate((redo, case[st2 != _DONE])))
    if redo.size:
        name_list = _as_list(sender_names, n)
        extra = [
            normalise(t, sender_name=name_list[i])
            for t, i in zip(texts.strings(redo), redo.tolist(), strict=True)
        ]
        lens = np.fromiter(map(len, extra), dtype=np.int64, count=len(extra))
        pieces.append(np.frombuffer("".join(extra).encode("utf-32-le", "surrogatepass"), dtype="<u4"))
        out_start[redo] = used + np.cumsum(lens) - lens
        out_len[redo] = lens
    return np.concatenate(pieces), out_start, out_len


def _normalised_texts(texts: Any, sender_names: Any = None) -> list[str]:
    """The batch scanner's normalised texts as strings (tests hold them equal to :func:`normalise`)."""
    if not _use_numba():
        n = len(texts)
        return [
            normalise(t, sender_name=s)
            for t, s in zip(_as_list(texts, n), _as_list(sender_names, n), strict=True)
        ]
    batch = _Texts(texts)
    cps, starts, lens = _normalise_batch(batch, sender_names)
    return [
        cps[s : s + m].tobytes().decode("utf-32-le", "surrogatepass")
        for s, m in zip(starts.tolist(), lens.tolist(), strict=True)
    ]


def sketch_batch(
    texts: TextColumn, sender_names: TextColumn | None = None, params: SketchParams = SketchParams()
) -> Sketches:
    """Exact keys, LSH band keys and b-bit rows of raw texts, normalised with the sender's name.

    ``texts`` and ``sender_names`` are lists of strings (``None`` allowed) or pyarrow string or
    large_string arrays (nulls allowed); a null or empty text is ``empty``. The result equals the
    reference pipeline ``bands(signatures([normalise(t, sender_name=s) ...], normalised=True),
    *params.bands)``, with :func:`exact_key` of each normalised text. With numba (the usual case) it
    runs in compiled loops on one core with the GIL released, and computes MinHash once per distinct
    normalised text of the batch; without it (``LUREWATCH_NO_NUMBA=1``) it runs that reference.
    """
    return _sketch_batch(texts, sender_names, params)


def _sketch_batch(texts: Any, sender_names: Any, params: SketchParams, *, dedupe: bool = True) -> Sketches:
    n = len(texts)
    if sender_names is not None and len(sender_names) != n:
        raise ValueError(f"{n} texts but {len(sender_names)} sender names")
    if not _use_numba():
        return _sketch_batch_reference(_as_list(texts, n), _as_list(sender_names, n), params)
    batch = _Texts(texts)
    b, r = params.bands
    a_rows, b_rows = _permutation_rows(params.num_perm, params.seed)
    cps, starts, lens = _normalise_batch(batch, sender_names)
    exact = np.empty(n, dtype=np.uint64)
    _nb_exact(cps, starts, lens, exact)
    band_keys = np.empty((n, b), dtype=np.uint64)
    bbit = np.empty((n, params.num_perm), dtype=np.uint8)
    rows = np.arange(n, dtype=np.int64)
    # templates and mass mailings repeat: MinHash once per distinct normalised text
    if dedupe:
        _, first, inverse = np.unique(exact, return_index=True, return_inverse=True)
        rep = _nb_representatives(cps, starts, lens, first[inverse])
    else:
        rep = rows
    heads = np.flatnonzero(rep == rows)
    _nb_sketch(cps, starts, lens, heads, params.k, a_rows, b_rows, r, band_keys, bbit)
    if heads.size < n:
        copies = np.flatnonzero(rep != rows)
        band_keys[copies] = band_keys[rep[copies]]
        bbit[copies] = bbit[rep[copies]]
    return Sketches(exact=exact, bands=band_keys, bbit=bbit, empty=lens == 0)


def _sketch_batch_reference(
    texts: list[str | None], names: list[str | None], params: SketchParams
) -> Sketches:
    """:func:`sketch_batch` from the readable pieces: ``normalise``, ``signatures`` (NumPy MinHash
    when numba is absent), ``bands``, :func:`exact_key` (vectorised)."""
    b, r = params.bands
    norm = [normalise(t, sender_name=s) for t, s in zip(texts, names, strict=True)]
    sig = signatures(norm, params.num_perm, params.k, params.seed, normalised=True)
    return Sketches(
        exact=_exact_keys_numpy(norm),
        bands=bands(sig, b, r) if norm else np.zeros((0, b), dtype=np.uint64),
        bbit=(sig & np.uint32(0xFF)).astype(np.uint8),
        empty=np.fromiter((not t for t in norm), dtype=np.bool_, count=len(norm)),
    )
