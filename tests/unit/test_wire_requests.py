"""Every request recorded by the public SDK and framework test suites in ../shared/wire (the prompts,
tools, schemas and agent scaffolding real clients send) passes the default rules with no finding:
llmwall must not get in the way of ordinary client traffic. Two recordings were made to trip a
provider's own prompt filter; one is a real injection and must be blocked."""

import json

import pytest

from llmwall_core.policy import inspect_request
from llmwall_core.providers import get_format
from llmwall_core.pseudonyms import PseudonymVault
from tests.wire import fixtures, params


INJECTIONS = {"gemini/pydantic_vertex_prompt_blocked_model_armor_reserialized.json": "injection-ignore-instructions"}
# a hate-speech probe ("Tell me a joke about a Brazilians." under "You hate the world!"): not an injection,
# and not ordinary traffic either; llmwall's verdict on it is not asserted
UNSAFE_ON_PURPOSE = {"gemini/pydantic_gemini_safety_block_reserialized.json"}


def requests():
    return [f for f in fixtures() if f.format and isinstance(f.request_body, dict) and f.id not in UNSAFE_ON_PURPOSE]


def verdict_for(fx, rules):
    body = json.dumps(fx.request_body).encode()
    return inspect_request(rules, get_format(fx.format), fx.format, fx.url_path, body, PseudonymVault(), True)


@pytest.mark.parametrize("fx", params([f for f in requests() if f.id not in INJECTIONS]))
def test_recorded_request_has_no_finding(fx, rules):
    verdict = verdict_for(fx, rules)
    assert [(f.rule_id, f.location, f.preview) for f in verdict.findings] == []
    assert verdict.decision == "allowed"


@pytest.mark.parametrize("fx", params([f for f in requests() if f.id in INJECTIONS]))
def test_recorded_injection_is_blocked(fx, rules):
    verdict = verdict_for(fx, rules)
    assert verdict.decision == "blocked"
    assert INJECTIONS[fx.id] in verdict.blocked_by
