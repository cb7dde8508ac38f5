"""A small learned scorer for prompt injection and jailbreak text: pure Python, stdlib only.

The model is a logistic regression over the word n-grams of a normalised text:

* normalisation: NFKC, Cyrillic/Greek homoglyphs folded to Latin (as the engine's ``normalized``
  view does, so scoring that view or the raw text gives the same tokens), zero-width and bidi
  controls removed, typographic quotes and dashes folded to ASCII, lower-cased;
* tokens: runs of letters (with their combining marks), runs of digits, and every other visible
  character alone (so ``<|im_start|>`` and ``###`` are visible); every Chinese, Japanese kana and
  Thai character is a token of its own (these scripts do not separate words);
* features of a token span: the *set* of its unigrams ``t``, bigrams ``"t u"`` and trigrams
  ``"t u v"`` (binary), each with value ``n_tokens ** -alpha``; the logit is
  ``bias + sum(weight[f] for f in features) / n_tokens ** alpha``.

Features are looked up by their string in an explicit vocabulary (the pruned non-zero weights the
trainer kept). That is what a hashing vectoriser gives, minus the collisions and the hash call per
feature. With ahocorasick_rs (a dependency of llmwall, see multimatch.py) every weighted feature is one
word ``" f "`` of a finder run once over the space-joined tokens, so the bigram and trigram strings of
the text are never built; without it, they are built and intersected with the vocabulary (the same
result, tested).
Sums use ``math.fsum``, so a score never depends on set order or the interpreter's hash seed.

A long text is scored as the maximum over windows: it is cut into blocks of about ``stride``
characters and every run of ``window / stride`` blocks (two by default: 512 characters, stride 256)
is a window, so an attack buried in a long document is not diluted by the benign text around it.
A text no longer than one window is scored whole. The text is tokenised once; a window's feature
set is the union of its blocks' sets.

Model file (JSON; a zlib-compressed JSON file loads too)::

    {"format": "llmwall-scorer", "version": 1, "alpha": 0.5, "bias": -1.2, "window": 512,
     "stride": 256, "threshold": 0.71, "meta": {...}, "weights": {"ignore": 1.3, "ignore all": 2.1}}

``scripts/train_scorer.py`` writes it; ``rules/injection.yaml`` runs it as the ``injection-scorer``
rule (the rule's ``threshold`` is the one that counts).
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import math
import re
import unicodedata
import zlib
from operator import itemgetter
from pathlib import Path

import regex

FORMAT = "llmwall-scorer"
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
VERSION = 1

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b"
    "\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c"
    "\u206d\u206e\u206f\u3164\ufeff\uffa0"
)
_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2033": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2026": "...",
}
try:  # fold Cyrillic/Greek look-alikes exactly as the engine's `normalized` view does
    from .normalize import HOMOGLYPHS as _HOMOGLYPHS
except Exception:  # noqa: BLE001 - the scorer also works alone
    _HOMOGLYPHS = {}
_UNICODE_TABLE: dict[int, str | None] = {ord(k): v for k, v in _HOMOGLYPHS.items() if len(k) == 1}
_UNICODE_TABLE.update({ord(c): None for c in _INVISIBLE})
_UNICODE_TABLE.update({ord(k): v for k, v in _FOLD.items()})
_NEEDS_FOLD = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_UNICODE_TABLE)) + "]")
# ASCII fast path: letters, digit runs, and every other visible character alone.
_ASCII_TOKEN = re.compile(r"[a-z]+|[0-9]+|[^a-z0-9\s]")
# Any script: one token per Chinese/Japanese/Thai character (no spaces between words there),
# letters with their combining marks, digit runs, every other visible character alone.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_ASCII_SPACE = re.compile(r"[ \t\n\r]")
_SPACE_DIFFERS = re.compile(r"[\x1c-\x1f]")  # whitespace to `re`, not to `regex`
_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]|[\p{L}\p{M}]+|\p{N}+|[^\p{L}\p{M}\p{N}\s]")


def tokenize(text: str) -> list[str]:
    """The scorer's tokens of `text` (see the module docstring).

    Idempotent on the engine's `normalized` view: NFKC and homoglyph folding are applied here too, so
    a raw text (training) and its normalized view (inference) give the same tokens."""
    if text.isascii():
        return _ASCII_TOKEN.findall(text.lower())
    text = _NEEDS_FOLD.sub(_fold, unicodedata.normalize("NFKC", text)).lower()
    if _SPACE_DIFFERS.search(text):  # where `re` and `regex` disagree on \s: the general tokenizer only
        return _TOKEN.findall(text)
    # Mostly-ASCII text (one curly quote, an accented name) keeps the fast path for its ASCII words: a token
    # never crosses whitespace, so the words around each non-ASCII run go to the general tokenizer alone.
    tokens: list[str] = []
    done = 0
    for run in _NON_ASCII_RUN.finditer(text):
        if run.end() <= done:
            continue
        start = max(text.rfind(" ", done, run.start()), text.rfind("\t", done, run.start()),
                    text.rfind("\n", done, run.start()), text.rfind("\r", done, run.start())) + 1
        if start <= 0:
            start = done
        stop = _ASCII_SPACE.search(text, run.end())
        end = stop.start() if stop else len(text)
        tokens += _ASCII_TOKEN.findall(text, done, start)
        tokens += _TOKEN.findall(text, start, end)
        done = end
    tokens += _ASCII_TOKEN.findall(text, done)
    return tokens


def _fold(match: re.Match) -> str:
    return _UNICODE_TABLE[ord(match.group())] or ""


def bigrams(tokens: list[str]) -> list[str]:
    """``"a b"`` for each adjacent token pair."""
    return list(map(" ".join, zip(tokens, tokens[1:])))


def trigrams(tokens: list[str]) -> list[str]:
    """``"a b c"`` for each run of three tokens."""
    return list(map(" ".join, zip(tokens, tokens[1:], tokens[2:])))


def span_features(tokens: list[str], start: int = 0, end: int | None = None) -> set[str]:
    """The features of the token span [start, end): its unigrams, and the bigrams and trigrams that
    start inside it (they may run past `end`), as a set -- features are binary."""
    n = len(tokens)
    end = n if end is None else end
    return set(tokens[start:end]) | set(bigrams(tokens[start : min(end + 1, n)])) | set(
        trigrams(tokens[start : min(end + 2, n)])
    )


class BoilerplateRemover:
    """Removes fixed sentences that agent harnesses put around every task before a text is scored.

    Claude Code wraps a project's CLAUDE.md in "These instructions OVERRIDE any default behavior and you MUST
    follow them exactly as written", which reads like an attack to a bag of n-grams and sits in nearly every
    request such an agent sends. Only these exact sentences go (whitespace may differ): an attack written
    around them is scored as before, and copying one buys an attacker nothing but the sentence itself.
    A cheap substring test on each sentence's longest word skips the regex for texts without it."""

    __slots__ = ("_phrases",)

    def __init__(self, phrases: list[str]) -> None:
        self._phrases = [(max(words, key=len), re.compile(r"\s+".join(map(re.escape, words))))
                         for words in (phrase.split() for phrase in phrases)]

    def __call__(self, text: str) -> str:
        for probe, pattern in self._phrases:
            if probe in text:
                text = pattern.sub(" ", text)
        return text


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Scorer:
    """A loaded model. `score(text)` gives the probability in [0, 1] that `text` is an attack."""

    __slots__ = ("weights", "bias", "alpha", "window", "stride", "threshold", "meta", "_finder")

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
        self._finder = None  # see _feature_finder

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

    def blocks(self, n_tokens: int, n_chars: int, window: int | None = None, stride: int | None = None):
        """``(bounds, k)``: a long text is cut into blocks of about `stride` characters (token
        boundaries ``bounds``, converted with the text's own tokens-per-character ratio) and every
        run of ``k = ceil(window / stride)`` adjacent blocks is a window. A text that fits in one
        window gives ``([0, n_tokens], 1)``."""
        window = window or self.window
        stride = min(stride or (self.stride if window == self.window else max(1, window // 2)), window)
        whole = ([0, n_tokens], 1)
        if n_chars <= window or n_tokens == 0:
            return whole
        s = max(4, round(stride * n_tokens / n_chars))
        k = max(1, -(-window // stride))
        bounds = list(range(0, n_tokens, s)) + [n_tokens]
        if len(bounds) - 1 <= k:
            return whole
        return bounds, k

    def spans(self, n_tokens: int, n_chars: int, window: int | None = None, stride: int | None = None):
        """The token spans ``(start, end)`` the text is scored in (see `blocks`)."""
        bounds, k = self.blocks(n_tokens, n_chars, window, stride)
        return [(bounds[i], bounds[i + k]) for i in range(len(bounds) - k)]

    def window_logits(self, text: str, window: int | None = None, stride: int | None = None) -> list[float]:
        """Logits of the windows the text is scored in (one for a short text)."""
        tokens = tokenize(text)
        n = len(tokens)
        if n == 0:
            return [self.bias]
        bounds, k = self.blocks(n, len(text), window, stride)
        finder = self._feature_finder()
        if finder is not None:
            return self._logits_by_finder(finder, tokens, bounds, k)
        block_hits = self._block_hits_by_sets(tokens, bounds)
        bias, alpha, get = self.bias, self.alpha, self.weights.__getitem__
        if len(bounds) == 2:
            return [bias + math.fsum(map(get, block_hits[0])) / n**alpha]
        if not any(block_hits):
            return [bias]
        # A window's binary feature set is the union of its blocks' (features start inside a block).
        out = []
        for i in range(len(bounds) - k):
            fs = block_hits[i].union(*block_hits[i + 1 : i + k])
            out.append(bias + math.fsum(map(get, fs)) / (bounds[i + k] - bounds[i]) ** alpha)
        return out

    def prepare(self) -> None:
        """Build what scoring needs up front (the feature finder, ~0.1 s for the default model)."""
        self._feature_finder()

    def _feature_finder(self):
        """A finder of every weighted feature as " f " in the space-joined tokens, its weight as the value;
        built on first use. None without ahocorasick_rs (the set-based path)."""
        if self._finder is None:
            try:
                from .multimatch import WordFinder
            except ImportError:
                self._finder = False
                return None
            self._finder = WordFinder({f" {feature} ": weight for feature, weight in self.weights.items()})
        return self._finder or None

    def _logits_by_finder(self, finder, tokens: list[str], bounds: list[int], k: int) -> list[float]:
        """Window logits from one compiled pass over the space-joined tokens: the bigram and trigram strings
        of the text are never built, and no Python code runs per feature occurrence (sort, slice, set and
        sum are C loops); only per window."""
        weights = finder.values
        joined = " " + " ".join(tokens) + " "
        matches = finder.find(joined)  # (feature index, start of " f ", end)
        bias, alpha, n = self.bias, self.alpha, len(tokens)
        if len(bounds) == 2:
            return [bias + math.fsum(map(weights.__getitem__, set(map(_FIRST, matches)))) / n**alpha]
        if not matches:
            return [bias]
        # " f " starts at the space before f's first token; the space before token b sits at the lengths
        # of the tokens before it plus one space each
        cut_at = []
        position, done = 0, 0
        for b in bounds:
            position += sum(map(len, tokens[done:b])) + (b - done)
            done = b
            cut_at.append(position)
        matches.sort(key=_SECOND)
        cut = list(map(bisect.bisect_left, itertools.repeat(list(map(_SECOND, matches))), cut_at))
        blocks = [set(map(_FIRST, matches[a:b])) for a, b in zip(cut, cut[1:])]
        if k == 2:  # the default: sum(A | B) = sum(A) + sum(B) - sum(A & B); A & B is small
            get = weights.__getitem__
            sums = [math.fsum(map(get, block)) for block in blocks]
            return [bias + (sums[i] + sums[i + 1] - math.fsum(map(get, blocks[i] & blocks[i + 1])))
                    / (bounds[i + 2] - bounds[i]) ** alpha for i in range(len(bounds) - 2)]
        out = []
        for i in range(len(bounds) - k):
            features = blocks[i].union(*blocks[i + 1 : i + k])
            out.append(bias + math.fsum(map(weights.__getitem__, features)) / (bounds[i + k] - bounds[i]) ** alpha)
        return out

    def _block_hits_by_sets(self, tokens: list[str], bounds: list[int]) -> list[set[str]]:
        """Without a finder: the weighted features starting in each block, from the built n-gram strings."""
        bi = bigrams(tokens)
        tri = trigrams(tokens)
        hits = self.weights.keys() & itertools.chain(tokens, bi, tri)
        if len(bounds) == 2:
            return [hits]
        return [hits.intersection(itertools.chain(tokens[a:b], bi[a:b], tri[a:b])) for a, b in zip(bounds, bounds[1:])]

    def score(self, text: str, window: int | None = None, stride: int | None = None) -> float:
        """Probability in [0, 1] that `text` carries an injection or jailbreak (max over windows)."""
        return _sigmoid(max(self.window_logits(text, window, stride)))

    def explain(self, text: str, top: int = 10) -> list[tuple[str, float]]:
        """The features of `text` that pushed its score most (for debugging and reports)."""
        get = self.weights.get
        contrib = [(f, get(f, 0.0)) for f in span_features(tokenize(text))]
        return sorted((c for c in contrib if c[1]), key=lambda kv: -abs(kv[1]))[:top]
