"""What a rule's pattern needs from a text before it can match, read from the pattern itself.

A personal-data or credential pattern that must consume a digit cannot match a text without one, so the
scanner skips it there: prose costs nothing for the always-on phone, card, SSN and IBAN patterns. The
analysis is conservative: anything it does not understand counts as "needs nothing".
"""

from __future__ import annotations

import re
from typing import Any

try:  # the standard library's parser (3.11+); patterns it cannot read (regex-only syntax) are not gated
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - very old or very new interpreters
    parser = None

_DIGITS = frozenset(range(ord("0"), ord("9") + 1))


def needs_digit(pattern: str) -> bool:
    """True when every match of `pattern` (or a positive look-around it requires) contains a digit."""
    if parser is None:
        return False
    try:
        tree = parser.parse(pattern, 0)
    except (re.error, ValueError, OverflowError, RecursionError):
        return False
    try:
        return _seq_needs(tree)
    except RecursionError:
        return False


def _seq_needs(seq: Any) -> bool:
    return any(_node_needs(op, av) for op, av in seq)


def _node_needs(op: Any, av: Any) -> bool:
    if op is C.LITERAL:
        return av in _DIGITS
    if op is C.IN:
        return _class_is_digits(av)
    if op is C.SUBPATTERN:
        return _seq_needs(av[-1])
    if op is C.ATOMIC_GROUP:
        return _seq_needs(av)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, _high, item = av
        return low >= 1 and _seq_needs(item)
    if op is C.BRANCH:
        return all(_seq_needs(alt) for alt in av[1])
    if op is C.ASSERT:  # a positive look-ahead or look-behind: the text holds a digit there
        return _seq_needs(av[1])
    if op is C.GROUPREF_EXISTS:
        _group, yes, no = av
        return no is not None and _seq_needs(yes) and _seq_needs(no)
    return False


def _class_is_digits(items: Any) -> bool:
    if not items:
        return False
    for op, av in items:
        if op is C.LITERAL and av in _DIGITS:
            continue
        if op is C.RANGE and av[0] >= ord("0") and av[1] <= ord("9"):
            continue
        if op is C.CATEGORY and av is C.CATEGORY_DIGIT:
            continue
        return False
    return True


def has_digit(text: str) -> bool:
    """Whether `text` holds any decimal digit (Unicode ones included, as `\\d` matches them)."""
    if text.isascii():
        return any(d in text for d in "0123456789")
    return _ANY_DIGIT.search(text) is not None


_ANY_DIGIT = re.compile(r"\d")
