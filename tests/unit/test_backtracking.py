"""Every rule's pattern is tried on text built to make a regex backtrack: its own examples cut short and
repeated. That shape sent `kubernetes-secret-data` into exponential backtracking (a 1.5 KB body never
finished), so such a pattern makes this test hang and CI fail; no stopwatch is involved. The same shapes at
4 and 16 KB also showed the curl, jdbc and markdown-image rules growing quadratically (128 KB on one line:
up to ~56 s on the event loop); all are linear now, but at 4 KB this test cannot tell quadratic from linear."""

import pytest

from llmwall_core.model import Phase


def adversarial_texts(rule, size: int = 4096):
    units = []
    for example in rule.examples_match[:3]:
        units += [example[: max(8, int(len(example) * cut))] + " " for cut in (2 / 3, 1 / 2)]
        units += [example[: max(4, len(example) // 3)] + " ", example[:-1] + "\n",
                  example.replace("\n", " ")[: max(8, len(example) * 3 // 4)]]
    for unit in units:
        yield (unit * (size // len(unit) + 1))[:size]


def test_every_pattern_finishes_on_its_own_near_misses(rules):
    checked = 0
    for rule in rules.rules:
        if rule.kind != "pattern" or rule.finder is None:
            continue
        for text in adversarial_texts(rule):
            list(rule.finder.finditer(text))
            checked += 1
    assert checked > 700


@pytest.mark.parametrize("text", [
    "data:\n  username: YBlfTEz5KYWuBcn+QThKiWJf=\n  password: ZWDfksx " * 64,
    'curl -XPOST -H "Token: 2ec533f4833c6 ' * 400,
])
def test_known_backtracking_shapes_scan_like_any_text(rules, text):
    """The two inputs that used to hang the scan now give an ordinary result (nothing to redact here)."""
    findings = rules.scan_text(text, Phase.REQUEST)
    assert all(f.rule_id not in ("kubernetes-secret-data", "curl-auth-header") for f in findings)
