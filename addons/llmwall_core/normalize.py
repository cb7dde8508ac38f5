"""Text views that defeat cheap evasions while keeping offsets into the original text.

`normalized`: NFKC (full-width forms, ligatures), invisible characters dropped (zero-width, bidi
controls, soft hyphen, variation selectors), Cyrillic/Greek homoglyphs folded to Latin, and Unicode tag
characters decoded to the ASCII they stand for: invisible to a person, a model reads them ("ASCII
smuggling"), so the rules must read them too.
`deobfuscated`: normalized, lower-cased, leetspeak folded (0->o, 1->i, 3->e, 4->a, 5->s, 7->t, @->a, $->s).

ASCII text (the common case) passes through with no copying and no offset table.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

INVISIBLE = frozenset(
    [chr(c) for c in (0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0)]
    + [chr(c) for c in range(0x200B, 0x2010)]  # zero-width space/joiners, LRM/RLM
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings and overrides
    + [chr(c) for c in range(0x2060, 0x2070)]  # word joiner, invisible operators, bidi isolates
    + [chr(c) for c in range(0xFE00, 0xFE10)]  # variation selectors
    + [chr(c) for c in range(0xE0000, 0xE0020)] + ["\U000E007F"]  # language tag, cancel tag
)
# tag space .. tag tilde: each hides the ASCII character 0xE0000 below it (a str.translate table)
TAGS_TO_ASCII = {cp: cp - 0xE0000 for cp in range(0xE0020, 0xE007F)}


def read_tags(text: str) -> str:
    """`text` with tag characters read as the ASCII they hide (same length, so offsets hold); cheap when
    there are none, as in nearly every text."""
    if text.isascii() or max(text) < "\U000E0020":
        return text
    return text.translate(TAGS_TO_ASCII)

# Letters that render like Latin ones. Not exhaustive: the scripts attackers use in practice.
HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ɡ": "g", "һ": "h",
    "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "χ": "x", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes and others
    "ı": "i", "ȷ": "j", "ℓ": "l", "ꞵ": "b", "ꓲ": "I", "ꓳ": "O",
}

_LEET_PAIRS = (("0", "o"), ("1", "i"), ("3", "e"), ("4", "a"), ("5", "s"), ("7", "t"), ("@", "a"), ("$", "s"))
LEET = str.maketrans(dict(_LEET_PAIRS))

_NON_ASCII = regex.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    hidden = TAGS_TO_ASCII.get(ord(ch))
    if hidden is not None:
        return chr(hidden)
    if ch in INVISIBLE or unicodedata.category(ch) == "Cf":
        return ""
    folded = unicodedata.normalize("NFKC", ch)
    return "".join(HOMOGLYPHS.get(c, c) for c in folded)


@dataclass(slots=True)
class View:
    """A transformed text and the way back to original offsets.

    `breaks` holds (view_index, original_index) pairs where the two drift apart; between breaks the
    offset difference is constant. Empty for an unchanged text.
    """

    text: str
    breaks: list[tuple[int, int]]

    def to_original(self, index: int) -> int:
        if not self.breaks:
            return index
        at = bisect.bisect_right(self.breaks, (index, float("inf"))) - 1
        if at < 0:
            return index
        view_at, orig_at = self.breaks[at]
        return orig_at + (index - view_at)

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        if not self.breaks:
            return start, end
        o_start = self.to_original(start)
        o_end = self.to_original(end - 1) + 1 if end > start else o_start
        return o_start, o_end


def normalized(text: str) -> View:
    """The normalized view. Cheap for ASCII: returns the same string object and no breaks."""
    if text.isascii():
        return View(text, [])
    out: list[str] = []
    breaks: list[tuple[int, int]] = []
    view_len = 0
    last = 0
    for run in _NON_ASCII.finditer(text):
        start, end = run.span()
        out.append(text[last:start])
        view_len += start - last
        for i in range(start, end):
            folded = _fold_char(text[i])
            if len(folded) != 1:
                out.append(folded)
                for k in range(len(folded)):  # every char of an expansion maps back to its source
                    breaks.append((view_len + k, i))
                view_len += len(folded)
                breaks.append((view_len, i + 1))
            else:
                out.append(folded)
                view_len += 1
        last = end
    out.append(text[last:])
    return View("".join(out), _compact(breaks))


def _compact(breaks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep the last break per view index, then only those that change the offset difference."""
    last: dict[int, int] = {}
    for view_at, orig_at in breaks:
        last[view_at] = orig_at
    result: list[tuple[int, int]] = []
    delta = 0
    for view_at in sorted(last):
        orig_at = last[view_at]
        if orig_at - view_at != delta:
            result.append((view_at, orig_at))
            delta = orig_at - view_at
    return result


def deobfuscated(view: View) -> View:
    """Lower-case and fold leetspeak on top of a normalized view (a 1:1 mapping: offsets unchanged)."""
    return View(fold_leet(lower_in_place(view.text)), view.breaks)


def fold_leet(text: str) -> str:
    """`text.translate(LEET)`, as a few C-speed str.replace passes: str.translate with a mapping runs
    character by character on non-ASCII text (128 KB: 37 ms against 0.03 ms). No target is a source, so
    the order of the passes does not matter."""
    for leet, letter in _LEET_PAIRS:
        if leet in text:
            text = text.replace(leet, letter)
    return text


def lower_in_place(text: str) -> str:
    """`text` lower-cased character for character: the few characters whose lower case is longer
    (e.g. "İ") stay as they are, so offsets into the result are offsets into `text`."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # U+0130 is the only character whose lower case is longer (Python 3.12/3.13 Unicode data)
    return "\u0130".join(part.lower() for part in text.split("\u0130"))
