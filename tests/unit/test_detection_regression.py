"""A fixed sample of the labelled dev corpora (every 8th row by a stable hash), scanned by the same path
as scripts/eval.py: detection cannot regress silently. Floors sit a little under the measured rates so
that they catch a regression, not noise."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "eval" / "dev"
sys.path.insert(0, str(ROOT / "scripts"))

FLOORS = {"attack": 0.88, "secret": 0.95, "pii": 0.93}
CEILINGS = {"ordinary": 0.02, "hard": 0.06, "response": 0.01}


def sample_cases():
    from eval import PII_IN_SCOPE, _entities, build_case  # scripts/eval.py

    cases = []
    for path in sorted(DEV.glob("*.jsonl")):
        for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip() and hashlib.blake2b(line.encode(), digest_size=4).digest()[0] % 8 == 0:
                case = build_case(path.stem, index, json.loads(line))
                if case.label == "pii" and not any(e in PII_IN_SCOPE for e in _entities(case)):
                    continue  # entity types llmwall does not claim to detect
                cases.append(case)
    return cases


@pytest.mark.skipif(not DEV.is_dir(), reason=f"labelled corpora not found at {DEV}")
def test_detection_on_a_fixed_sample(rules):
    from llmwall_core.model import Action

    detecting = {Action.BLOCK, Action.REDACT, Action.PSEUDONYMIZE}
    totals: dict[str, list[int]] = {}
    for case in sample_cases():
        found = any(f.action in detecting for f in rules.scan_pieces(case.pieces, case.phase))
        hit_n = totals.setdefault(case.group, [0, 0])
        hit_n[0] += found
        hit_n[1] += 1
    rates = {group: hit / n for group, (hit, n) in totals.items() if n}
    assert totals["attack"][1] > 200 and totals["ordinary"][1] > 50
    for group, floor in FLOORS.items():
        assert rates[group] >= floor, (group, rates[group], totals[group])
    for group, ceiling in CEILINGS.items():
        assert rates[group] <= ceiling, (group, rates[group], totals[group])
