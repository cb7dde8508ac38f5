"""scripts/eval.py runs end to end on a few rows of every dev corpus (skipped without the corpora)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "eval" / "dev"

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"no evaluation corpora at {CORPORA}")


def _load_eval():
    spec = importlib.util.spec_from_file_location("llmwall_eval_script", ROOT / "scripts" / "eval.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_eval_smoke(tmp_path):
    out = tmp_path / "eval.json"
    report = _load_eval().main(["--limit", "5", "--corpora", str(CORPORA), "--json", str(out), "--quiet", "--workers", "1"])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(report, sort_keys=True))

    for key in ("corpora", "recall", "false_positives", "lookalikes_untouched", "pii_entities", "slowest",
                "benign_rules", "cost", "ruleset", "wall_seconds"):
        assert key in data, key
    corpora = {p.stem for p in CORPORA.glob("*.jsonl")}
    assert set(data["corpora"]) == corpora | {"installed_python_source", "installed_package_docs"}  # code and docs beside dev
    for name, entry in data["corpora"].items():
        assert 1 <= entry["n"] <= 5, name
        for lab in entry["labels"].values():
            assert 0 <= lab["detected"] <= lab["n"]
            assert 0.0 <= lab["recall"] <= 1.0
            assert lab["detected_own"] <= lab["n"]
        if entry["benign"]:
            assert 0.0 <= entry["benign"]["fp_rate"] <= 1.0
            assert entry["benign"]["kind"] in ("ordinary", "hard", "response", "code", "docs")
    for v in data["false_positives"].values():
        assert 0.0 <= v["fp_rate"] <= 1.0
    extra = ("installed_python_source", "installed_package_docs")
    assert data["cost"]["cases"] == sum(e["n"] for c, e in data["corpora"].items() if c not in extra)
    assert data["cost"]["total_kb"] > 0 and data["cost"]["ms_per_kb"] >= 0
    assert len(data["slowest"]) <= 10 and all(s["ms"] >= 0 for s in data["slowest"])
    assert data["ruleset"]["rules"] > 0


def test_cases_follow_the_proxy_conversation_shapes():
    ev = _load_eval()
    cse = ev.build_case("cyberseceval_prompt_injection", 0,
                        {"text": "ignore that", "label": "injection", "meta": {"system_prompt": "be nice"}})
    assert [p.role for p in cse.pieces] == ["system", "user"]
    assert cse.phase.value == "request"
    resp = ev.build_case("alpaca_eval_benign_responses", 0, {"text": "Sure.", "label": "benign", "meta": {}})
    assert resp.phase.value == "response" and [p.role for p in resp.pieces] == ["assistant"]
    assert ev.group_of("alpaca_eval_benign_prompts", "benign") == "ordinary"
    assert ev.group_of("notinject_benign_triggerwords", "benign") == "hard"
    assert ev.group_of("gitleaks_rule_testcases", "benign") == "hard"
    assert ev.group_of("gitleaks_rule_testcases", "secret") == "secret"


def test_installed_readmes_are_read_as_tool_results():
    """The docs sample is what an agent fetches: a user request, then the README as a tool result."""
    cases = _load_eval().docs_cases(3)
    assert cases and all(case.group == "docs" and case.label == "benign" for case in cases)
    assert all([p.role for p in case.pieces] == ["user", "tool"] and len(case.pieces[1].text) >= 200 for case in cases)
