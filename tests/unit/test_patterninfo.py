"""The digit gate: a pattern is skipped on digit-free text only when every match needs a digit."""

import pytest
import regex

from llmwall_core.patterninfo import has_digit, needs_digit
from llmwall_core.rules import load_rules


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d{3}-\d{2}-\d{4}",
        r"(?<![\w.])(\d{3}([- .])\d{2}\2\d{4})",
        r"(?i)phone[:\s]*(?:\+?1[ -])?[0-9]{3}",
        r"(?:abc|x)7",
        r"(?=\w*[0-9])[a-z0-9]{8}",  # a positive look-ahead that needs a digit in the text
        r"(?:tok|key)_(?:\d+|[0-9a-f]*5)",
        r"ghp_[A-Za-z]{4}\d{2,}",
    ],
)
def test_patterns_that_always_consume_a_digit(pattern: str) -> None:
    assert needs_digit(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"[0-9a-f]{32}",  # hex can be all letters
        r"\d*abc",  # zero digits allowed
        r"(?:\d{3}|abc)",  # one branch has none
        r"(?!\d)\w+",  # a negative look-ahead proves nothing
        r"[^0-9]{4}\d?",
        r"\p{N}+",  # regex-only syntax: not understood, so not gated
        r"(",  # broken: not gated (the loader reports it)
    ],
)
def test_patterns_that_may_match_without_a_digit(pattern: str) -> None:
    assert not needs_digit(pattern)


def test_has_digit_sees_ascii_and_unicode_digits() -> None:
    assert not has_digit("no numbers here at all")
    assert has_digit("room 101")
    assert has_digit("Zimmer \u0661\u0662")  # Arabic-Indic digits, which \d matches
    assert not has_digit("caf\u00e9 sans chiffres")


def test_every_gated_default_rule_matches_only_text_with_digits() -> None:
    """Cross-check the analysis on the shipped rules: a gated rule's match examples all hold digits,
    and none matches its examples once the digits are removed."""
    ruleset = load_rules(["rules"])
    gated = [r for r in ruleset.rules if r.kind == "pattern" and r.needs_digit]
    assert len(gated) >= 20  # phones, cards, SSN, IBAN, many credentials
    for rule in gated:
        for text in rule.examples_match:
            assert has_digit(text), rule.id
            assert rule.pattern.search(regex.sub(r"\d", "", text)) is None, rule.id


def test_anchored_matches_do_not_overlap_like_finditer() -> None:
    import re

    from llmwall_core.scan import _anchored_matches

    finder = re.compile(r"(?:reply|in) \w+ \w+")
    text = "keywords in your reply with emojis"
    starts = [m.start() for m in re.finditer(r"reply|in", text)]
    assert [m.group() for m in _anchored_matches(finder, text, starts)] == \
        [m.group() for m in finder.finditer(text)] == ["in your reply"]
