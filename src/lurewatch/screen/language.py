"""The language of inbound text: an ISO 639-1 code and a confidence, from py3langid's bundled model.

:func:`detect_language` is a pure function of its text. It looks at a bounded sample, the first
:data:`MAX_CHARS` characters with links, e-mail addresses and handles removed, and reads as little of it
as it needs: the opening 128 bytes settle almost every message, 512 most of the rest (:data:`PASSES`),
and the whole sample is read only when those leave the answer open. Text with fewer than
:data:`MIN_LETTERS` letters, or whose best language stays below :data:`MIN_CONFIDENCE`, is
``("und", 0.0)`` (ISO 639 "undetermined").

The model is py3langid's naive Bayes over byte n-grams (142 languages, shipped inside the package: no
download). Classification is restricted to :data:`LANGUAGES`, the ISO 639-1 languages a professional
message is plausibly written in: dialects and small neighbours (Luxembourgish, Aragonese, Walloon,
Occitan, Latin ...) otherwise win one- or two-sentence German, French or Spanish messages, and a
restricted model is also faster.

The model is loaded once, on first use. Unpacking py3langid's xz-compressed file takes over a second,
too long for ``lurewatch check``; the unpacked and restricted arrays are therefore kept in the
cache directory (``LUREWATCH_CACHE_DIR``, by default ``$XDG_CACHE_HOME/lurewatch`` or
``~/.cache/lurewatch``) and memory-mapped from there afterwards. The cache is only an accelerator: when
it cannot be read or written the model is unpacked in memory as before.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import sys
import threading
import unicodedata
from array import array
from collections import Counter
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

#: ISO 639-1 languages classification may choose from (py3langid knows more; see the module doc)
LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et",
    "eu", "fa", "fi", "fr", "ga", "gl", "gu", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka",
    "kk", "km", "kn", "ko", "lt", "lv", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "no", "pa",
    "pl", "ps", "pt", "ro", "ru", "si", "sk", "sl", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr",
    "uk", "ur", "uz", "vi", "zh",
)  # fmt: skip

#: English names for display ("Language: German")
LANGUAGE_NAMES: dict[str, str] = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian",
    "bg": "Bulgarian", "bn": "Bengali", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh",
    "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian",
    "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician",
    "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "hy": "Armenian",
    "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese", "ka": "Georgian",
    "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay",
    "mt": "Maltese", "my": "Burmese", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi",
    "pl": "Polish", "ps": "Pashto", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala",
    "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian",
    "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "zh": "Chinese", "und": "undetermined",
}  # fmt: skip

UNDETERMINED = ("und", 0.0)
#: the most characters of a text ever looked at (hostile input is bounded before anything else)
MAX_CHARS = 3000
#: prefixes classified in turn (in UTF-8 bytes) until one settles the language, then the whole sample
PASSES = (128, 512)
#: confidence at which a prefix settles the language
SETTLED = 0.98
#: below this many letters a text is too short to tell
MIN_LETTERS = 10
#: below this confidence the answer is "und"
MIN_CONFIDENCE = 0.6
#: distinct samples (and openings) whose answer is remembered: templated messages repeat
RESULT_CACHE = 8192
# an opening of this many characters fits in the first of PASSES for most text
_HEAD_CHARS = PASSES[0] - 8

# Links, e-mail addresses and @handles are not language; they are removed before classifying.
_NOISE = re.compile(r"(?:https?://|www\.)\S*|\S+@\S+|@\w+", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def detect_language(text: str) -> tuple[str, float]:
    """The ISO 639-1 code of ``text``'s language and a confidence in [0, 1]; ``("und", 0.0)`` if unclear."""
    if not isinstance(text, str) or not text:
        return UNDETERMINED
    sample = _clean(text[:MAX_CHARS])
    if not _has_letters(sample, MIN_LETTERS):
        return UNDETERMINED
    # Messages that open the same way (templates, greetings, campaigns) are settled by their opening:
    # its answer is remembered on its own, and the whole sample is classified only when it is not enough.
    head = sample[:_HEAD_CHARS]
    if len(sample) > len(head):
        space = head.rfind(" ", _HEAD_CHARS // 2)
        head = head[:space] if space > 0 else head
    code, confidence = _classify(head) if len(sample) > len(head) else (None, 0.0)
    if code is None or confidence < SETTLED:
        code, confidence = _classify(sample)
    if confidence < MIN_CONFIDENCE:
        return UNDETERMINED
    return code, confidence


def detect_language_of(texts: Any) -> tuple[str, float]:
    """:func:`detect_language` of several texts (a conversation's inbound messages) read in order."""
    parts: list[str] = []
    size = 0
    for text in texts:
        if not isinstance(text, str) or not text:
            continue
        parts.append(text)
        size += len(text) + 1
        if size >= MAX_CHARS:
            break
    if not parts:
        return UNDETERMINED
    return detect_language(parts[0] if len(parts) == 1 else "\n".join(parts))


def language_name(code: str | None) -> str:
    """``"German"`` for ``"de"``; unknown codes are returned as they are."""
    if not code:
        return LANGUAGE_NAMES["und"]
    return LANGUAGE_NAMES.get(code, code)


def _has_letters(text: str, count: int) -> bool:
    """``text`` holds at least ``count`` letters (the scan stops at the count-th)."""
    return next(islice(_LETTER.finditer(text), count - 1, None), None) is not None


def _clean(text: str) -> str:
    if "@" in text or "://" in text or "www." in text or "WWW." in text:
        text = _NOISE.sub(" ", text)
    return text


@lru_cache(maxsize=RESULT_CACHE)
def _classify(sample: str) -> tuple[str, float]:
    try:
        code, confidence = _model().detect(sample, PASSES, SETTLED)
    except IndexError:  # a cached automaton damaged on disk after it was written: unpack afresh
        _discard_cache()
        code, confidence = _model().detect(sample, PASSES, SETTLED)
    return code, round(min(1.0, max(0.0, confidence)), 4)


class Model:
    """py3langid's classifier over arrays prepared once (see :func:`load_model`).

    :meth:`classify` computes what ``LanguageIdentifier.classify`` with ``norm_probs=True`` computes
    (the same automaton walk, log-count naive Bayes score, length temperature and merged script
    variants; a test pins the equality) in fewer NumPy calls: each costs a microsecond or two, which
    is most of the time on a one-sentence message.
    """

    __slots__ = ("_aliases", "_nextmove", "_out", "_pc", "_rowbase", "_table", "classes")

    def __init__(self, table: Any, pc: Any, classes: list[str], nextmove: Any, row: Any, out: list[int]):
        import numpy as np

        # a plain array over the mapped file: indexing a np.memmap goes through its subclass hooks
        self._table = np.asarray(table)
        self._pc = np.asarray(pc, dtype=np.float32)
        self.classes = classes
        self._nextmove = nextmove
        self._rowbase = [r << 8 for r in row]
        self._out = out
        first: dict[str, int] = {}
        pairs = []
        for i, label in enumerate(classes):
            if label in first:
                pairs.append((first[label], i))
            else:
                first.setdefault(label, i)
        self._aliases = (
            (np.array([a for a, _ in pairs], dtype=np.intp), np.array([b for _, b in pairs], dtype=np.intp))
            if pairs
            else None
        )

    def classify(self, text: str) -> tuple[str, float]:
        """The language of the whole of ``text`` and its probability (py3langid's ``classify``)."""
        return self.detect(text, (), 2.0)

    def detect(self, text: str, stops: tuple[int, ...], settled: float) -> tuple[str, float]:
        """Classify growing prefixes of ``text``; stop at the first whose confidence reaches ``settled``.

        The prefixes end at the byte offsets in ``stops`` (moved back to a space, so no word is cut),
        then at the end of the text. The automaton walks on from where the last prefix ended, so the
        bytes of the text are read once however many prefixes are scored; each score is exactly what
        :meth:`classify` gives for that prefix.
        """
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf-8", "surrogatepass")
        nextmove, rowbase, out = self._nextmove, self._rowbase, self._out
        size = len(data)
        state = start = 0
        features: list[int] = []
        append = features.append
        result = ("und", 0.0)
        for stop in (*(s for s in stops if s < size), size):
            if stop < size:
                space = data.rfind(b" ", start + 1, stop)
                stop = space if space > start else stop
            for byte in data[start:stop]:
                state = nextmove[rowbase[state] + byte]
                feature = out[state]
                if feature >= 0:
                    append(feature)
            start = stop
            if features:
                result = self._score(features, stop)
                if result[1] >= settled:
                    break
        return result

    def _score(self, features: list[int], size: int) -> tuple[str, float]:
        import numpy as np

        if len(set(features)) == len(features):  # each n-gram once (usual in a short text): log(1 + 1) each
            scores = self._table[np.array(features, dtype=np.intp)].sum(axis=0)
            scores *= _LN2
        else:
            counts = Counter(features)
            n = len(counts)
            weights = np.fromiter(counts.values(), dtype=np.float32, count=n)
            np.log1p(weights, out=weights)
            scores = weights @ self._table[np.fromiter(counts, dtype=np.intp, count=n)]
        scores += self._pc
        scores *= 1.0 / math.sqrt(size)
        scores -= scores.max()
        np.exp(scores, out=scores)
        if self._aliases is not None:
            keep, fold = self._aliases
            scores[keep] += scores[fold]
            scores[fold] = 0.0
        best = int(scores.argmax())
        return self.classes[best], float(scores[best] / scores.sum())


# --------------------------------------------------------------------------------------------------
# The model: loaded once, from the cache directory when it is there


_FORMAT = 1
_LN2 = math.log1p(1.0)
_lock = threading.Lock()
_loaded: Model | None = None


def _model() -> Model:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = load_model(default_cache_dir())
    return _loaded


def _discard_cache() -> None:
    """Forget the loaded model and remove its cache, so that the next use unpacks py3langid's file."""
    global _loaded
    with _lock:
        _loaded = None
        cache_dir = default_cache_dir()
        if cache_dir is not None:
            shutil.rmtree(cache_dir / f"langid-{_cache_key(_model_file())}", ignore_errors=True)


def default_cache_dir() -> Path | None:
    """``LUREWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/lurewatch``, else ``~/.cache/lurewatch``."""
    from lurewatch.errors import LurewatchError
    from lurewatch.settings import Settings

    try:
        configured = Settings.from_env().cache_dir
    except LurewatchError:
        configured = None
    if configured is not None:
        return configured
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "lurewatch"
    try:
        return Path.home() / ".cache" / "lurewatch"
    except RuntimeError:  # no home directory
        return None


def load_model(cache_dir: Path | None) -> Model:
    """py3langid's model restricted to :data:`LANGUAGES`, from ``cache_dir`` when possible."""
    source = _model_file()
    target = cache_dir / f"langid-{_cache_key(source)}" if cache_dir is not None else None
    if target is not None and target.is_dir():
        try:
            return _read(target)
        except (OSError, ValueError, KeyError, TypeError):
            shutil.rmtree(target, ignore_errors=True)
    arrays = _unpack(source)
    if target is not None:
        _write(target, arrays)
    return _model_from(arrays)


def _model_file() -> Path:
    """py3langid's bundled model file, found without importing py3langid when it is where it usually is."""
    from importlib.util import find_spec

    spec = find_spec("py3langid")
    if spec is not None and spec.origin:
        usual = Path(spec.origin).parent / "data" / "model.npz.xz"
        if usual.is_file():
            return usual
    from py3langid import langid

    return Path(langid.MODEL_DIR) / langid.MODEL_FILE


def _cache_key(source: Path) -> str:
    """Changes with the model file's content (a new py3langid brings a new file), the languages and this
    format. The content, not the path: several installations of the same py3langid (virtual
    environments, a fresh clone) share one cache instead of evicting each other's."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    parts = (_FORMAT, digest, LANGUAGES, sys.byteorder)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _unpack(source: Path) -> dict[str, Any]:
    import numpy as np
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, out = load_model(source)
    keep = [i for i, label in enumerate(classes) if label in LANGUAGES]
    return {
        "ptc": np.ascontiguousarray(np.asarray(ptc)[:, keep], dtype=np.float32),
        "pc": np.ascontiguousarray(np.asarray(pc)[keep], dtype=np.float32),
        "classes": [str(classes[i]) for i in keep],
        "nextmove": nextmove,
        "row": row,
        "out": out,
    }


def _model_from(arrays: dict[str, Any]) -> Model:
    return Model(
        arrays["ptc"], arrays["pc"], arrays["classes"], arrays["nextmove"], arrays["row"], arrays["out"]
    )


def _write(target: Path, arrays: dict[str, Any]) -> None:
    """Write the unpacked model under ``target`` atomically; any failure leaves no cache behind."""
    import numpy as np

    temporary = target.with_name(f"{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary.mkdir(mode=0o700)
        np.save(temporary / "ptc.npy", arrays["ptc"], allow_pickle=False)
        np.save(temporary / "pc.npy", arrays["pc"], allow_pickle=False)
        for name in ("nextmove", "row"):
            values = arrays[name]
            np.save(temporary / f"{name}.npy", np.frombuffer(values, dtype=f"=u{values.itemsize}"))
        np.save(temporary / "out.npy", np.asarray(arrays["out"], dtype=np.int32), allow_pickle=False)
        (temporary / "classes.json").write_text(json.dumps(arrays["classes"]), encoding="utf-8")
        os.rename(temporary, target)
        _remove_stale(target)
    except OSError:
        pass  # read-only, full, or another process got there first: the cache is optional
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)


def _remove_stale(current: Path) -> None:
    """Remove the caches of earlier py3langid models or languages (60 MB each) beside ``current``."""
    for path in current.parent.glob("langid-*"):
        if path != current and ".tmp-" not in path.name and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _read(target: Path) -> Model:
    import numpy as np

    classes = json.loads((target / "classes.json").read_text(encoding="utf-8"))
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise ValueError("bad classes")
    # The feature table is memory-mapped (only the rows a text uses are read); the automaton is
    # walked byte by byte in Python, where a stdlib array is faster to index than a NumPy one.
    ptc = np.load(target / "ptc.npy", mmap_mode="r", allow_pickle=False)
    pc = np.load(target / "pc.npy", allow_pickle=False)
    out = np.load(target / "out.npy", allow_pickle=False)
    row = np.load(target / "row.npy", allow_pickle=False)
    nextmove = np.load(target / "nextmove.npy", mmap_mode="r", allow_pickle=False)
    # A damaged file should fail here rather than in the middle of a scan. The automaton's 39 MB are
    # not scanned (that would make them all resident); a bad state in it raises IndexError while
    # walking, and _classify then unpacks the model afresh.
    if (
        ptc.dtype != np.float32
        or ptc.ndim != 2
        or ptc.shape[1] != len(classes)
        or pc.shape != (len(classes),)
    ):
        raise ValueError("inconsistent feature table")
    if out.ndim != 1 or row.shape != out.shape or nextmove.ndim != 1 or not len(out) or not len(nextmove):
        raise ValueError("inconsistent automaton")
    if int(out.max()) >= ptc.shape[0]:
        raise ValueError("automaton points outside its tables")
    if (int(row.max()) << 8) + 255 >= len(nextmove):
        raise ValueError("automaton rows out of range")
    return _model_from(
        {
            "ptc": ptc,
            "pc": pc,
            "classes": classes,
            # a view of the mapped file: nothing is copied, and worker processes share its pages
            "nextmove": _view(nextmove),
            "row": _to_array(row),
            "out": out.tolist(),
        }
    )


def _view(values: Any) -> Any:
    """A memoryview of unsigned integers over a NumPy array (indexed as fast as a stdlib array)."""
    if values.dtype.kind != "u" or not values.dtype.isnative or not values.flags.c_contiguous:
        return _to_array(values)
    typecode = next((t for t in "BHILQ" if array(t).itemsize == values.dtype.itemsize), None)
    if typecode is None:
        return _to_array(values)
    return memoryview(values).cast("B").cast(typecode)


def _to_array(values: Any) -> array:
    """A NumPy unsigned integer array as a stdlib array of the same item size."""
    import numpy as np

    if values.dtype.kind != "u":
        raise ValueError(f"unexpected automaton type {values.dtype}")
    typecode = next((t for t in "BHILQ" if array(t).itemsize == values.dtype.itemsize), None)
    if typecode is None:
        raise ValueError(f"no array type for {values.dtype}")
    native = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
    out = array(typecode)
    out.frombytes(memoryview(native).cast("B"))
    return out
