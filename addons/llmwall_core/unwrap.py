"""Text hidden in an encoding (base64, base32, hex, rot13), unwrapped so the rules can read it.

An attacker who writes "SWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM=" and asks the model to decode it
slips past every rule that reads only the visible text. The scanner therefore decodes what looks encoded
and scans the result too. A run counts only when it decodes to mostly printable UTF-8, so hashes, keys and
binary blobs (which decode to bytes, not text) cost one failed decode and raise nothing.

rot13 has no visible run: the whole text is read through rot13, but only when it names rot13, because
every word is valid rot13 input and decoding prose at random only makes noise.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from typing import NamedTuple

# base64's alphabet holds base32's and hex's, so one run pattern finds all three; base32 pads with up to six "="
_RUN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/]{24,}={0,6}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"(?:[0-9a-f]{2})+|(?:[0-9A-F]{2})+")
_BASE32 = re.compile(r"[A-Z2-7]+=*")
MAX_RUNS = 32  # decoded per text: a body of ten thousand runs cannot multiply the scan
# bytes.translate marks base64 characters "a", everything else " " (non-ASCII bytes too): a run of 24 "a"
# found by bytes.find (C speed) is the precondition for any _RUN match
_MARK = bytes(ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/") else ord(" ")
              for b in range(256))
_RUN_MARK = b"a" * 24
_ROT13_NAMES = ("rot13", "rot-13", "rot 13", "rot_13")


class Unwrapped(NamedTuple):
    """Text found inside `text[start:end]`, decoded by `scheme`."""

    scheme: str
    start: int
    end: int
    text: str


def may_hold_runs(text: str) -> bool:
    """Cheap pre-check: whether `text` has 24 base64 characters in a row (prose almost never does)."""
    return text.encode("utf-8", "surrogatepass").translate(_MARK).find(_RUN_MARK) >= 0


def find_runs(text: str) -> Iterator[re.Match[str]]:
    """The matches of the run pattern in `text`, as `finditer` would give them. On ASCII text (source code is
    full of long identifiers and paths, so the pre-check rarely rules it out) the pattern is tried only where
    a run of 24 base64 characters starts, found with bytes.find: 128 KB of asyncio's source, 2.5 -> 0.2 ms."""
    if not text.isascii():
        if may_hold_runs(text):
            yield from _RUN.finditer(text)
        return
    marks = text.encode("ascii").translate(_MARK)
    at = marks.find(_RUN_MARK)
    while at >= 0:
        match = _RUN.match(text, at)  # None when the run follows "_", "-" or "=": no match starts inside it either
        if match is not None:
            yield match
        end = marks.find(b" ", at)  # where this run of base64 characters ends (a match covers all of it)
        if end < 0:
            return
        at = marks.find(_RUN_MARK, match.end() if match is not None else end)


def run_pattern() -> re.Pattern[str]:
    """The pattern of an encoded run (for the pre-check's test)."""
    return _RUN


def unwrap(text: str, lowered: str | None = None) -> Iterator[Unwrapped]:
    """Every encoded run of `text` that decodes to text, at most MAX_RUNS tried; then, when `text` names
    rot13, the whole text read through rot13. `lowered`: the text lower-cased, when the caller has it."""
    for count, run in enumerate(find_runs(text)):
        if count >= MAX_RUNS:
            break
        found = decode_run(run.group())
        if found is not None:
            yield Unwrapped(found[0], run.start(), run.end(), found[1])
    lowered = text.lower() if lowered is None else lowered
    if any(name in lowered for name in _ROT13_NAMES):
        yield Unwrapped("rot13", 0, len(text), codecs.encode(text, "rot13"))


def decode_run(run: str) -> tuple[str, str] | None:
    """``(scheme, text)`` for a run that decodes to text as hex, base32 or base64 (tried in that order: each
    alphabet is a subset of the next), or None."""
    if _HEX.fullmatch(run):
        text = _as_text(binascii.unhexlify, run)
        if text is not None:
            return "hex", text
    if _BASE32.fullmatch(run) and len(run) % 8 == 0:
        text = _as_text(base64.b32decode, run)
        if text is not None:
            return "base32", text
    stripped = run.rstrip("=")
    text = _as_text(base64.b64decode, stripped + "=" * (-len(stripped) % 4))
    return ("base64", text) if text is not None else None


def _as_text(decode, run: str) -> str | None:
    """The decoded run as text, or None when it does not decode or is not mostly printable UTF-8."""
    try:
        text = decode(run).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    if len(text) < 8 or printable < 0.9 * len(text):
        return None
    return text
