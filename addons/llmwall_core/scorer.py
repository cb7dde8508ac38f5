"""A small learned scorer for prompt injection and jailbreak text: pure Python, stdlib only.

The model is a logistic regression over word unigrams and bigrams of a normalised text:

* normalisation: NFKC, zero-width and bidi controls removed, lower-cased, digits folded to ``0``,
  typographic quotes and dashes folded to ASCII;
* tokens: runs of letters/marks/digits split on white space; every ASCII punctuation or symbol
  character is a token of its own (so ``<|im_start|>`` and ``###`` are visible); every Chinese,
  Japanese kana and Thai character is a token of its own (these scripts do not separate words);
* features of a token span: ``count(feature) / n_tokens ** alpha`` for every unigram ``t`` and
  bigram ``"t u"`` in the span; the logit is ``bias + sum(weight * value)``.

Features are looked up by their string in an explicit vocabulary (the pruned non-zero weights the
trainer kept), which is what a hashing vectoriser would give without collisions and without a
hash call per feature: Python's ``dict`` lookup is exact and its result never depends on the
interpreter's hash seed.

Because the model is linear and the features are plain counts scaled by the span length, the
logit of any window is a difference of prefix sums over token positions: the text is tokenised
once and every window costs O(1). A long text is scored as the maximum over windows of about
``window`` characters moved by ``stride`` characters, so an attack buried in a long document is
not diluted by the benign text around it; a text no longer than a window is scored whole.

Model file (JSON, optionally zlib-compressed and base64-encoded under ``"zlib_b64"``)::

    {"format": "llmwall-scorer", "version": 1, "alpha": 0.5, "bias": -1.2,
     "window": 512, "stride": 256, "threshold": 0.5, "weights": {"ignore": 1.3, "ignore all": 2.1}}

``scripts/train_scorer.py`` writes it.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import operator
import unicodedata
import zlib
from pathlib import Path

FORMAT = "llmwall-scorer"
VERSION = 1

# Chinese (CJK ideographs incl. extension A and compatibility), Japanese kana, Thai, CJK punctuation:
# one token per character.
_CHAR_TOKEN_RANGES = (
    (0x0E00, 0x0E7F),  # Thai
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
)
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b"
    "\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c"
    "\u206d\u206e\u206f\u3164\ufeff\uffa0"
)
_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
}


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for lo, hi in _CHAR_TOKEN_RANGES:
        for cp in range(lo, hi + 1):
            table[cp] = f" {chr(cp)} "
    for ch in _INVISIBLE:
        table[ord(ch)] = None
    for cp in range(0x21, 0x7F):
        ch = chr(cp)
        if not ch.isalnum():
            table[cp] = f" {ch} "
    for src, dst in _FOLD.items():
        table[ord(src)] = " ".join(f" {c} " for c in dst)
    for cp in range(0x30, 0x3A):
        table[cp] = "0"
    # A few more symbols that delimit or fake roles: treat them as punctuation tokens.
    for ch in "\u00a7\u00b6\u2022\u25cf\u25a0\u2588\u2192\u21d2\u27e8\u27e9\u3010\u3011\uff5c":
        table[ord(ch)] = f" {ch} "
    return table


_TABLE = _build_table()


def tokenize(text: str) -> list[str]:
    """The scorer's tokens of `text` (see the module docstring)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.lower().translate(_TABLE).split()


def bigrams(tokens: list[str]) -> list[str]:
    """``"a b"`` for each adjacent token pair."""
    return list(map(operator.add, map(operator.add, tokens, itertools.repeat(" ")), tokens[1:]))


def span_features(tokens: list[str]) -> list[str]:
    """Every feature (with repetition) of a token span, as the trainer counts them."""
    return tokens + bigrams(tokens)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Scorer:
    """A loaded model. `score(text)` gives the probability in [0, 1] that `text` is an attack."""

    __slots__ = ("weights", "bias", "alpha", "window", "stride", "threshold", "meta")

    def __init__(
        self,
        weights: dict[str, float],
        bias: float,
        *,
        alpha: float = 0.5,
        window: int = 512,
        stride: int | None = None,
        threshold: float = 0.5,
        meta: dict | None = None,
    ) -> None:
        if window < 16:
            raise ValueError("window must be at least 16 characters")
        self.weights = weights
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.window = int(window)
        self.stride = int(stride) if stride else max(1, self.window // 2)
        self.threshold = float(threshold)
        self.meta = meta or {}

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, doc: dict) -> "Scorer":
        if "zlib_b64" in doc:
            doc = json.loads(zlib.decompress(base64.b64decode(doc["zlib_b64"])).decode("utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"not an {FORMAT} model file")
        if int(doc.get("version", 0)) != VERSION:
            raise ValueError(f"unsupported scorer model version {doc.get('version')!r} (want {VERSION})")
        weights = doc["weights"]
        if not isinstance(weights, dict):
            raise ValueError("weights must be a mapping of feature to weight")
        return cls(
            {str(k): float(v) for k, v in weights.items()},
            doc["bias"],
            alpha=doc.get("alpha", 0.5),
            window=doc.get("window", 512),
            stride=doc.get("stride"),
            threshold=doc.get("threshold", 0.5),
            meta=doc.get("meta"),
        )

    @classmethod
    def load(cls, path: str | Path) -> "Scorer":
        raw = Path(path).read_bytes()
        if raw[:2] in (b"\x78\x9c", b"\x78\xda", b"\x78\x01"):
            raw = zlib.decompress(raw)
        return cls.from_dict(json.loads(raw.decode("utf-8")))

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "alpha": self.alpha,
            "bias": self.bias,
            "window": self.window,
            "stride": self.stride,
            "threshold": self.threshold,
            "meta": self.meta,
            "weights": self.weights,
        }

    # -- scoring -----------------------------------------------------------------------------

    def _prefix(self, tokens: list[str]) -> list[float]:
        """prefix[i] = summed weights of the features that start at token positions < i."""
        get = self.weights.get
        n = len(tokens)
        zeros = itertools.repeat(0.0)
        per_pos = list(map(get, tokens, zeros))
        bi = list(map(get, bigrams(tokens), zeros))
        bi.append(0.0)
        return [0.0, *itertools.accumulate(map(operator.add, per_pos, bi[:n]))]

    def span_logit(self, tokens: list[str]) -> float:
        """The logit of one token span scored whole (what the trainer fits)."""
        if not tokens:
            return self.bias
        return self.bias + self._prefix(tokens)[-1] / len(tokens) ** self.alpha

    def spans(self, n_tokens: int, n_chars: int, window: int | None = None, stride: int | None = None):
        """The token spans ``(start, end)`` a text of `n_chars` characters and `n_tokens` tokens is
        scored in: the whole text when it fits in one window, else windows of about `window`
        characters (converted with the text's own tokens-per-character ratio) every `stride`."""
        window = window or self.window
        stride = stride or (self.stride if window == self.window else max(1, window // 2))
        if n_chars <= window or n_tokens == 0:
            return [(0, n_tokens)]
        per_char = n_tokens / n_chars
        w = max(8, round(window * per_char))
        s = max(1, round(stride * per_char))
        if n_tokens <= w:
            return [(0, n_tokens)]
        starts = list(range(0, n_tokens - w + 1, s))
        if starts[-1] != n_tokens - w:
            starts.append(n_tokens - w)
        return [(a, a + w) for a in starts]

    def window_logits(self, text: str, window: int | None = None, stride: int | None = None) -> list[float]:
        """Logits of the windows the text is scored in (one for a short text)."""
        tokens = tokenize(text)
        n = len(tokens)
        if n == 0:
            return [self.bias]
        prefix = self._prefix(tokens)
        bias, alpha = self.bias, self.alpha
        return [bias + (prefix[b] - prefix[a]) / (b - a) ** alpha for a, b in self.spans(n, len(text), window, stride)]

    def score(self, text: str, window: int | None = None, stride: int | None = None) -> float:
        """Probability in [0, 1] that `text` carries an injection or jailbreak (max over windows)."""
        return _sigmoid(max(self.window_logits(text, window, stride)))

    def explain(self, text: str, top: int = 10) -> list[tuple[str, float]]:
        """The features of `text` that pushed its score most (for debugging and reports)."""
        tokens = tokenize(text)
        get = self.weights.get
        contrib: dict[str, float] = {}
        for f in span_features(tokens):
            w = get(f)
            if w:
                contrib[f] = contrib.get(f, 0.0) + w
        return sorted(contrib.items(), key=lambda kv: -abs(kv[1]))[:top]
