"""Text similarity for campaign detection: normalisation, exact keys, MinHash, LSH banding.

Pure functions over lists of strings and NumPy arrays; no I/O, no global state, no Python ``hash()``
(so every result is the same across runs, processes and machines).

Pipeline::

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
* Exact key: BLAKE2b with a 16-byte digest of the UTF-8 normalised text.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

__all__ = [
    "DEFAULT_SEED",
    "EMPTY_SIGNATURE_VALUE",
    "MAX_CHARS",
    "bands",
    "candidate_pairs",
    "choose_bands",
    "collision_probability",
    "exact_hash",
    "exact_hashes",
    "jaccard_estimate",
    "normalise",
    "shingle_hashes",
    "signatures",
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

_TLDS = "com|org|net|io|co|cn|ru|de|fr|uk|info|biz|me|ly|gl|xyz|app|ai|edu|gov|eu|ch|nl|jp|kr|in|ir|hk|sg|tw"
_URL_SCHEME = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")
_URL_DOMAIN = re.compile(r"\b(?:[a-z0-9-]++\.)+(?:" + _TLDS + r")\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?")
_TLD_HINT = re.compile(r"\.(?:" + _TLDS + r")\b")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@[\w.]*\w")
_NUMBER = re.compile(r"\+?\d(?:[\d().,/:-]|[ \t](?=[\d(]))*+")
_DIGIT = re.compile(r"\d")
_GREETING = re.compile(
    r"\s*(?:hi|hello|hey|dear|greetings|good\s+(?:morning|afternoon|evening|day)|"
    r"hallo|guten\s+(?:tag|morgen|abend)|sehr\s+geehrte[rs]?|liebe[rs]?|bonjour|bonsoir|salut|cher|chère)\b"
    r"(?:(?:[ \t]+[^\s,!:;.]+\.?){0,4}[ \t]*[,!:;\n]|[ \t]*[,!:;.]?)"
)
_SIGNOFF_TAIL = 240
_SIGNOFF = re.compile(
    r"(?:^|\n|[.!?][ \t])[ \t]*(?:best\s+regards|kind\s+regards|warm(?:est)?\s+regards|regards|"
    r"best\s+wishes|best|many\s+thanks|thanks|thank\s+you|cheers|(?:yours\s+)?sincerely|"
    r"yours\s+faithfully|yours|respectfully|mit\s+freundlichen\s+grüßen|freundliche\s+grüße|"
    r"viele\s+grüße|beste\s+grüße|cordialement|bien\s+à\s+vous|salutations)\b[^\n]{0,60}(?:\n[\s\S]*)?$"
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
    return sorted(out, key=len, reverse=True)


def normalise(
    text: str,
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
    return " ".join(text.split())


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
