"""Properties every default rule pack must keep, beyond each rule's own examples."""

from pathlib import Path

import pytest

from llmwall_core.model import Phase
from llmwall_core.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules([str(ROOT / "rules")])

# Text that ends like ordinary prose must never be held back in a stream: a pattern may not start by
# consuming whitespace or punctuation (use \b or a look-behind instead).
ENDINGS = [" ", ". ", ", ", "\n", "\n\n", "! ", "? ", ": ", ") ", "; "]


@pytest.mark.parametrize("rule", [r for r in RULES.pattern_rules(Phase.RESPONSE)], ids=lambda r: r.id)
def test_prose_endings_are_never_held_in_streams(rule):
    for ending in ENDINGS:
        text = "The answer is simple" + ending
        match = rule.pattern.search(text, partial=True)
        held = match is not None and match.partial and match.start() < len(text)
        assert not held, f"{rule.id} would hold back {text[match.start():]!r} in a stream"
