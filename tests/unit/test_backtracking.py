"""Every rule's pattern stays linear on text built to make a regex backtrack: each of its own examples cut
short and repeated, the shape that once sent `kubernetes-secret-data` into exponential backtracking (a
1.5 KB body never finished) and made the curl rules quadratic (128 KB on one line: ~24 s on the event
loop). A catastrophic pattern makes this test hang, so CI fails; no stopwatch is involved."""

import pytest

from llmwall_core.model import Phase


def adversarial_texts(rule, size: int = 4096):
    for example in rule.examples_match[:3]:
        for cut in (2 / 3, 1 / 2):
            unit = example[: max(8, int(len(example) * cut))] + " "
            yield (unit * (size // len(unit) + 1))[:size]


def test_every_pattern_finishes_on_its_own_near_misses(rules):
    checked = 0
    for rule in rules.rules:
        if rule.kind != "pattern" or rule.finder is None:
            continue
        for text in adversarial_texts(rule):
            list(rule.finder.finditer(text))
            checked += 1
    assert checked > 300


@pytest.mark.parametrize("text", [
    "data:\n  username: YBlfTEz5KYWuBcn+QThKiWJf=\n  password: ZWDfksx " * 64,
    'curl -XPOST -H "Token: 2ec533f4833c6 ' * 400,
])
def test_known_backtracking_shapes_scan_like_any_text(rules, text):
    """The two inputs that used to hang the scan now give an ordinary result (nothing to redact here)."""
    findings = rules.scan_text(text, Phase.REQUEST)
    assert all(f.rule_id not in ("kubernetes-secret-data", "curl-auth-header") for f in findings)
