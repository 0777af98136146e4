"""The statistical text model that complements the indicator catalogue.

A multinomial logistic regression over hashed features of what a recipient sees:

* the words and word pairs of the inbound messages (subjects included), digits folded to ``0``,
  term frequency dampened (``1 + log tf``), weighted by inverse document frequency, L2-normalised;
* character 4-grams inside those words, the same way (they carry German and French inflections,
  misspellings and obfuscations that whole words miss);
* the words of the sender's headline, company and location;
* the rule engine's verdict: the weight of every catalogue indicator that fired, the rules' five
  category scores and their risk.

Features are hashed with CRC-32 into a fixed space, so the model needs no vocabulary and an
unseen word costs nothing. Inference is plain NumPy (no scikit-learn or SciPy import, so that
``lurewatch check`` stays well under a second); training (``lurewatch.screen.training``) uses
scikit-learn and produces the arrays stored here.

The class probabilities are temperature-scaled and the risk (the probability of a state approach or
malware lure) Platt-scaled, both fitted on out-of-fold predictions, so that a risk of 0.8 means
about 8 in 10.

A model is one ``.npz`` file (``numpy.load`` with ``allow_pickle=False``: nothing in it executes).
"""

from __future__ import annotations

import itertools
import json
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lurewatch.errors import LurewatchError
from lurewatch.model import Approach, Assessment, Category

if TYPE_CHECKING:
    import numpy as np

#: format of the features; a model trained with another is refused
FEATURE_VERSION = 1
HASH_BITS = 18
HASH_SIZE = 1 << HASH_BITS
#: characters of inbound text and of sender fields looked at
MAX_TEXT_CHARS = 6_000
MAX_SENDER_CHARS = 600
#: the model's classes, in the order of its weight columns (the Category enum's order; a saved
#: model records it, and a model in another order is refused)
CLASSES: tuple[Category, ...] = tuple(Category)
THREATS = (0, 1)
#: feature blocks: hashing seeds keep their features apart in the one hashed space
_SEED_WORD = 0x5EED0001
_SEED_PAIR = 0x5EED0002
_SEED_CHAR = 0x5EED0003
_SEED_SENDER = 0x5EED0004
BLOCKS = ("words", "chars", "sender")

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


class ModelError(LurewatchError):
    """A model file that cannot be used (missing, damaged, or made for another feature format)."""


@dataclass(frozen=True, slots=True)
class Hyper:
    """Training choices that inference must repeat; stored in the model file."""

    char_ngrams: bool = True
    #: multipliers of each block after its L2 normalisation (the rule block is not normalised).
    #: Chosen by 5-fold cross-validation on training/corpus plus ../shared/eval (training/results):
    #: the rules carry public-source knowledge the text cannot learn from a few hundred examples
    #: (without them threat recall at 2% benign FPR falls from 0.96 to 0.85), but weighted
    #: higher they override the wording on styles they were not written for.
    word_weight: float = 1.0
    char_weight: float = 1.5
    sender_weight: float = 0.5
    rule_weight: float = 0.25

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


# --------------------------------------------------------------------------------------------------
# Features


def inbound_text(approach: Approach) -> str:
    """Subjects and texts of the inbound messages."""
    parts: list[str] = []
    size = 0
    for message in approach.conversation.messages:
        if not message.inbound:
            continue
        for piece in (message.subject, message.text):
            if piece and isinstance(piece, str):
                parts.append(piece)
                size += len(piece)
        if size >= MAX_TEXT_CHARS:
            break
    return "\n".join(parts)[:MAX_TEXT_CHARS]


def sender_text(approach: Approach) -> str:
    s = approach.sender
    return " ".join(v for v in (s.headline, s.company, s.location) if v)[:MAX_SENDER_CHARS]


def words(text: str) -> list[str]:
    return _WORD.findall(_DIGITS.sub("0", text.lower()))


#: indicators the model does not read, nor the rule scores it reads (see combine.model_view): those
#: that depend on the number of connections. A learned weight could turn a large network into
#: reassurance, and a large network must never lower the risk; combine adds them back monotonically.
MODEL_IGNORES = frozenset({"P5", "S10"})

_GOLDEN = 0x9E3779B1


def _word_columns(tokens: list[bytes], seed: int) -> list[int]:
    crc = zlib.crc32
    mask = HASH_SIZE - 1
    return [crc(t, seed) & mask for t in tokens]


def _pair_columns(tokens: list[bytes]) -> list[int]:
    crc = zlib.crc32
    mask = HASH_SIZE - 1
    return [crc(b, crc(a + b" ", _SEED_PAIR)) & mask for a, b in itertools.pairwise(tokens)]


def char_grams(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte 4-grams of ``data`` (documents as " word word ", joined by NUL): (start offsets, columns).

    The 4 bytes of a gram are packed into one number and spread over the hashed space by
    multiplication. Grams spanning two words (a space inside) or two documents (a NUL anywhere) are
    left out.
    """
    import numpy as np

    b = np.frombuffer(data, dtype=np.uint8)
    if len(b) < 4:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    inner_space = (b[1:-2] == 32) | (b[2:-1] == 32)
    nul = (b[:-3] == 0) | (b[1:-2] == 0) | (b[2:-1] == 0) | (b[3:] == 0)
    starts = np.flatnonzero(~(inner_space | nul))
    b64 = b.astype(np.uint64)
    code = (
        (b64[starts] << np.uint64(24))
        | (b64[starts + 1] << np.uint64(16))
        | (b64[starts + 2] << np.uint64(8))
    )
    code |= b64[starts + 3]
    hashed = ((code * np.uint64(_GOLDEN) + np.uint64(_SEED_CHAR)) & np.uint64(0xFFFFFFFF)) >> np.uint64(
        32 - HASH_BITS
    )
    return starts, hashed.astype(np.int64)


@dataclass(slots=True)
class Batch:
    """Weighted features of a batch of documents as coordinate lists (document, column, value)."""

    doc: np.ndarray
    col: np.ndarray
    val: np.ndarray
    size: int
    _order: np.ndarray | None = None
    _bounds: np.ndarray | None = None

    def row(self, k: int) -> dict[int, float]:
        """Column -> value of document ``k`` (the coordinates are sorted by document on first use)."""
        import numpy as np

        if self._order is None:
            self._order = np.argsort(self.doc, kind="stable")
            self._bounds = np.searchsorted(self.doc[self._order], np.arange(self.size + 1))
        assert self._bounds is not None
        sel = self._order[self._bounds[k] : self._bounds[k + 1]]
        out: dict[int, float] = {}
        for c, v in zip(self.col[sel].tolist(), self.val[sel].tolist(), strict=True):
            out[c] = out.get(c, 0.0) + v
        return out


class Featuriser:
    """Turns (approach, rule assessment) pairs into weighted feature coordinates, a batch at a time.

    Text blocks: counts per hashed column, sublinear tf (1 + log tf), times idf, L2-normalised per
    document and block, times the block weight. Sender block: binary, L2-normalised, weighted.
    Rule block: indicator weights, rule risk and rule category scores, times ``rule_weight``.
    """

    def __init__(self, indicator_ids: Sequence[str], hyper: Hyper, idf: np.ndarray | None = None) -> None:
        import numpy as np

        self.indicator_ids = tuple(indicator_ids)
        self.hyper = hyper
        self.columns = {
            ind: HASH_SIZE + i for i, ind in enumerate(self.indicator_ids) if ind not in MODEL_IGNORES
        }
        self.base = HASH_SIZE + len(self.indicator_ids)
        self.width = self.base + 1 + len(CLASSES)
        #: idf of every hashed column (a dense array: one gather per batch instead of a lookup per word)
        self.idf = idf if idf is not None else np.ones(HASH_SIZE, dtype=np.float32)

    def counts(self, pairs: Sequence[tuple[Approach, Assessment]]) -> tuple[Any, Any, Any, Any]:
        """Unweighted coordinates: (words, chars, sender) each as (doc, col, count), and rules."""
        import numpy as np

        w_doc: list[int] = []
        w_col: list[int] = []
        s_doc: list[int] = []
        s_col: list[int] = []
        r_doc: list[int] = []
        r_col: list[int] = []
        r_val: list[float] = []
        texts: list[bytes] = []
        chars = self.hyper.char_ngrams
        columns = self.columns
        base = self.base
        for k, (approach, assessment) in enumerate(pairs):
            tokens = words(inbound_text(approach))
            encoded = [t.encode("utf-8", "surrogatepass") for t in tokens]
            cols = _word_columns(encoded, _SEED_WORD)
            cols += _pair_columns(encoded)
            w_col += cols
            w_doc += [k] * len(cols)
            if chars:
                texts.append(b" " + b" ".join(encoded) + b" ")
            sender = set(
                _word_columns(
                    [t.encode("utf-8", "surrogatepass") for t in words(sender_text(approach))], _SEED_SENDER
                )
            )
            s_col += sender
            s_doc += [k] * len(sender)
            for signal in assessment.signals:
                col = columns.get(signal.indicator_id)
                if col is not None:
                    r_doc.append(k)
                    r_col.append(col)
                    r_val.append(float(signal.weight))
            # always present, so that every document has at least one coordinate
            r_doc.append(k)
            r_col.append(base)
            r_val.append(float(assessment.risk))
            scores = assessment.category_scores
            for j, category in enumerate(CLASSES):
                value = scores.get(category, 0.0)
                if value:
                    r_doc.append(k)
                    r_col.append(base + 1 + j)
                    r_val.append(float(value))
        if chars and texts:
            joined = b"\x00".join(texts)
            starts, c_col = char_grams(joined)
            # grams never span a NUL, so the NULs before a gram's start number its document
            c_doc = np.cumsum(np.frombuffer(joined, dtype=np.uint8) == 0)[starts]
        else:
            c_doc = np.zeros(0, dtype=np.int64)
            c_col = np.zeros(0, dtype=np.int64)
        return (
            (np.asarray(w_doc, dtype=np.int64), np.asarray(w_col, dtype=np.int64)),
            (c_doc.astype(np.int64), c_col),
            (np.asarray(s_doc, dtype=np.int64), np.asarray(s_col, dtype=np.int64)),
            (np.asarray(r_doc, dtype=np.int64), np.asarray(r_col, dtype=np.int64), np.asarray(r_val)),
        )

    def batch(self, pairs: Sequence[tuple[Approach, Assessment]]) -> Batch:
        import numpy as np

        n = len(pairs)
        words_, chars_, sender, rules = self.counts(pairs)
        docs: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for (doc, col), weight in ((words_, self.hyper.word_weight), (chars_, self.hyper.char_weight)):
            if not len(doc):
                continue
            d, c, tf = _unique_counts(doc, col)
            v = (1.0 + np.log(tf)) * self.idf[c]
            norm = np.sqrt(np.bincount(d, weights=v * v, minlength=n))
            scale = np.divide(weight, norm, out=np.zeros(n), where=norm > 0)
            docs.append(d)
            cols.append(c)
            vals.append(v * scale[d])
        s_doc, s_col = sender
        if len(s_doc):
            per_doc = np.bincount(s_doc, minlength=n)
            docs.append(s_doc)
            cols.append(s_col)
            vals.append(self.hyper.sender_weight / np.sqrt(per_doc[s_doc]))
        r_doc, r_col, r_val = rules
        docs.append(r_doc)
        cols.append(r_col)
        vals.append(r_val * self.hyper.rule_weight)
        return Batch(np.concatenate(docs), np.concatenate(cols), np.concatenate(vals).astype(np.float64), n)


def _unique_counts(doc: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    key = doc * (HASH_SIZE * 4) + col
    uniq, counts = np.unique(key, return_counts=True)
    return uniq // (HASH_SIZE * 4), uniq % (HASH_SIZE * 4), counts.astype(np.float64)


def document_frequency(
    featuriser: Featuriser, pairs: Sequence[tuple[Approach, Assessment]]
) -> tuple[np.ndarray, int]:
    """Documents containing each hashed column (words and characters), and the number of documents."""
    import numpy as np

    words_, chars_, _, _ = featuriser.counts(pairs)
    df = np.zeros(HASH_SIZE, dtype=np.int64)
    for doc, col in (words_, chars_):
        if len(doc):
            _d, c, _ = _unique_counts(doc, col)
            np.add.at(df, c, 1)
    return df, len(pairs)


def smoothed_idf(df: np.ndarray, n: int) -> np.ndarray:
    """scikit-learn's smoothed idf: ln((1 + n) / (1 + df)) + 1."""
    import numpy as np

    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# The model


@dataclass
class TextModel:
    """Learned parameters and the choices that produced them."""

    indicator_ids: tuple[str, ...]
    hyper: Hyper
    #: (width, 5) weights, dense float32; rows of never-seen hashed features are zero
    weights: np.ndarray
    intercept: np.ndarray
    #: idf of every hashed column
    idf: np.ndarray
    temperature: float = 1.0
    #: Platt scaling of the threat probability: risk = sigmoid(a * logit(p) + b)
    platt: tuple[float, float] = (1.0, 0.0)
    metadata: dict[str, Any] = field(default_factory=dict)
    featuriser: Featuriser = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.featuriser = Featuriser(self.indicator_ids, self.hyper, self.idf)
        if self.weights.shape != (self.featuriser.width, len(CLASSES)):
            raise ModelError(f"weights of shape {self.weights.shape}, expected ({self.featuriser.width}, 5)")

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    # -- inference ---------------------------------------------------------------------------

    def logits(self, batch: Batch) -> np.ndarray:
        import numpy as np

        out = np.empty((batch.size, len(CLASSES)))
        picked = self.weights[batch.col]
        for k in range(len(CLASSES)):
            out[:, k] = np.bincount(batch.doc, weights=picked[:, k] * batch.val, minlength=batch.size)
        return out + self.intercept

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        import numpy as np

        z = logits / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def risk(self, probs: np.ndarray) -> np.ndarray:
        import numpy as np

        p = np.clip(probs[:, list(THREATS)].sum(axis=1), 1e-6, 1 - 1e-6)
        a, b = self.platt
        return 1.0 / (1.0 + np.exp(-(a * np.log(p / (1 - p)) + b)))

    def featurise(self, pairs: Sequence[tuple[Approach, Assessment]]) -> Batch:
        return self.featuriser.batch(pairs)

    def predict(self, pairs: Sequence[tuple[Approach, Assessment]]) -> tuple[np.ndarray, np.ndarray, Batch]:
        """Calibrated class probabilities (n, 5), risks (n,) and the features used."""
        batch = self.featurise(pairs)
        probs = self.probabilities(self.logits(batch))
        return probs, self.risk(probs), batch

    def top_terms(
        self, approach: Approach, row: dict[int, float], category: Category, limit: int = 6
    ) -> tuple[tuple[str, float], ...]:
        """The words, word pairs and sender words that pushed most towards ``category``.

        Hashed columns are mapped back to the approach's own words (never to anything it does not
        contain); character n-grams are credited to the word they came from.
        """
        import numpy as np

        k = CLASSES.index(category)
        others = [j for j in range(len(CLASSES)) if j != k]
        tokens = words(inbound_text(approach))
        unique = list(dict.fromkeys(tokens))
        encoded = [t.encode("utf-8", "surrogatepass") for t in unique]
        # the approach's word pairs, each once, with the columns the featuriser gives them
        all_encoded = [t.encode("utf-8", "surrogatepass") for t in tokens]
        pair_cols = dict(zip(itertools.pairwise(tokens), _pair_columns(all_encoded), strict=True))
        sender = list(dict.fromkeys(words(sender_text(approach))))
        # (label, column) of every feature the approach has; character grams of all words at once
        labels: list[str] = [*unique, *(f"{a} {b}" for a, b in pair_cols), *(f"sender: {t}" for t in sender)]
        cols: list[int] = [
            *_word_columns(encoded, _SEED_WORD),
            *pair_cols.values(),
            *_word_columns([t.encode("utf-8", "surrogatepass") for t in sender], _SEED_SENDER),
        ]
        owner = list(range(len(labels)))
        if self.hyper.char_ngrams and encoded:
            joined = b" " + b" ".join(encoded) + b" "
            starts, gram_cols = char_grams(joined)
            word_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
            gram_owner = np.searchsorted(word_starts, starts, side="right") - 1
            # a gram starting at the space before a word belongs to that word, not the previous
            at_space = np.frombuffer(joined, dtype=np.uint8)[starts] == 32
            gram_owner = np.clip(gram_owner + at_space, 0, len(encoded) - 1)
            cols += gram_cols.tolist()
            owner += gram_owner.tolist()
        col_arr = np.asarray(cols, dtype=np.int64)
        values = np.asarray([row.get(c, 0.0) for c in cols])
        w = self.weights[col_arr].astype(np.float64)
        # pushed towards ``category`` relative to the mean of the others: a word common to all counts 0
        push = values * (w[:, k] - w[:, others].mean(axis=1))
        found = np.zeros(len(labels))
        np.add.at(found, np.asarray(owner, dtype=np.int64), push)
        order = np.argsort(-found, kind="stable")[:limit]
        return tuple((labels[i], round(float(found[i]), 3)) for i in order if found[i] > 0)

    # -- files -------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model (atomically: a crash leaves the previous file in place)."""
        import numpy as np

        nonzero = np.flatnonzero(np.abs(self.weights).sum(axis=1) > 0).astype(np.int32)
        # The idf of a column no training document held is the largest: store the others only.
        unseen = float(self.idf.max()) if len(self.idf) else 1.0
        idf_rows = np.flatnonzero(self.idf != np.float32(unseen)).astype(np.int32)
        header = {
            "feature_version": FEATURE_VERSION,
            "hash_bits": HASH_BITS,
            "classes": [c.value for c in CLASSES],
            "indicator_ids": list(self.indicator_ids),
            "hyper": self.hyper.as_dict(),
            "default_idf": unseen,
            "temperature": self.temperature,
            "platt": list(self.platt),
            "metadata": self.metadata,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as fh:
            np.savez_compressed(
                fh,
                header=np.array(json.dumps(header)),
                rows=nonzero,
                weights=self.weights[nonzero].astype(np.float32),
                intercept=self.intercept.astype(np.float64),
                idf_rows=idf_rows,
                idf_values=self.idf[idf_rows].astype(np.float32),
            )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TextModel:
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("feature_version") != FEATURE_VERSION or header.get("hash_bits") != HASH_BITS:
                    raise ModelError(
                        f"{path}: model made for feature format {header.get('feature_version')}, "
                        f"this lurewatch reads format {FEATURE_VERSION}; retrain it with `lurewatch train`"
                    )
                if header.get("classes") != [c.value for c in CLASSES]:
                    raise ModelError(f"{path}: model classes {header.get('classes')} are not lurewatch's")
                ids = tuple(str(i) for i in header["indicator_ids"])
                width = HASH_SIZE + len(ids) + 1 + len(CLASSES)
                weights = np.zeros((width, len(CLASSES)), dtype=np.float32)
                rows = data["rows"]
                if rows.size and (rows.min() < 0 or rows.max() >= width):
                    raise ModelError(f"{path}: damaged model (weight rows out of range)")
                weights[rows] = data["weights"]
                idf_rows = data["idf_rows"]
                if idf_rows.size and (idf_rows.min() < 0 or idf_rows.max() >= HASH_SIZE):
                    raise ModelError(f"{path}: damaged model (idf rows out of range)")
                idf = np.full(HASH_SIZE, float(header["default_idf"]), dtype=np.float32)
                idf[idf_rows] = data["idf_values"]
                intercept = np.asarray(data["intercept"], dtype=np.float64)
                if intercept.shape != (len(CLASSES),):
                    raise ModelError(f"{path}: damaged model (intercept shape {intercept.shape})")
                hyper = Hyper(**header["hyper"])
        except ModelError:
            raise
        except FileNotFoundError:
            raise ModelError(f"{path}: no such model file") from None
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{path}: not a lurewatch model ({type(exc).__name__})") from None
        return cls(
            indicator_ids=ids,
            hyper=hyper,
            weights=weights,
            intercept=intercept,
            idf=idf,
            temperature=float(header.get("temperature", 1.0)),
            platt=(float(header["platt"][0]), float(header["platt"][1])),
            metadata=dict(header.get("metadata") or {}),
        )


BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "data" / "model.npz"
#: name of the models `lurewatch train` writes: the version (UTC time stamp) sorts them in time
MODEL_GLOB = "model-*.npz"


def newest_model(folder: Path) -> Path | None:
    """The newest ``model-<version>.npz`` in ``folder``, or None."""
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.glob(MODEL_GLOB) if p.is_file())
    return found[-1] if found else None
