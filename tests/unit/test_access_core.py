import pytest

from llmwall_core.apikeys import find_key, fingerprint, preview
from llmwall_core.identity import Client, parse_selector
from llmwall_core.ratelimit import RateLimiter, parse_rate


def test_selectors_by_name_and_cidr():
    alice = Client("alice", "10.1.2.3")
    anon = Client(None, "192.168.7.9")
    assert parse_selector("alice").matches(alice) and not parse_selector("bob").matches(alice)
    assert parse_selector("10.0.0.0/8").matches(alice) and not parse_selector("10.0.0.0/8").matches(anon)
    assert parse_selector("192.168.7.9").matches(anon)
    assert parse_selector("::1/128").matches(Client(None, "::1"))
    with pytest.raises(ValueError):
        parse_selector("two words")


def test_rate_parse_and_bucket():
    with pytest.raises(ValueError):
        parse_rate("ten per minute")
    now = [0.0]
    limiter = RateLimiter(parse_rate("3/s"), clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    wait = limiter.take("a")
    assert 0 < wait <= 1 / 3 + 1e-9
    assert limiter.take("b") == 0  # per client
    now[0] += 1 / 3
    assert limiter.take("a") == 0  # refilled one token
    assert RateLimiter.retry_after(0.2) == "1"


def test_keys_found_fingerprinted_and_never_shown():
    key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
    assert find_key({"authorization": f"Bearer {key}"}, "/v1/x") == key
    assert find_key({"x-api-key": key}, "/v1/messages") == key
    assert find_key({}, f"/v1beta/models/m:generateContent?key={key}") == key
    assert find_key({}, "/v1/x") is None
    assert len(fingerprint(key)) == 64
    shown = preview(key)
    assert key not in shown and shown.startswith("sk-pro")


def test_rules_scoped_to_clients(tmp_path):
    from llmwall_core.model import Phase, TextPiece
    from llmwall_core.rules import load_rules

    path = tmp_path / "r.yaml"
    path.write_text("""
rules:
  - id: no-projects-for-interns
    description: interns may not mention project names
    applies_to: request
    pattern: 'project (?:falcon|osprey)'
    action: block
    severity: medium
    clients: [intern1, 10.9.0.0/16]
  - id: contractors-openai-only
    description: contractors use OpenAI only
    kind: provider_allowlist
    applies_to: request
    allow: [openai]
    action: block
    severity: medium
    clients: [contractor]
""")
    rules = load_rules([str(path)])
    piece = [TextPiece("user", (), "status of project falcon?")]
    assert rules.scan_pieces(piece, Phase.REQUEST, client=Client("intern1", "1.2.3.4"))
    assert rules.scan_pieces(piece, Phase.REQUEST, client=Client(None, "10.9.3.4"))
    assert not rules.scan_pieces(piece, Phase.REQUEST, client=Client("staff", "1.2.3.4"))
    hello = [TextPiece("user", (), "hello")]
    assert rules.scan_pieces(hello, Phase.REQUEST, provider="anthropic", client=Client("contractor", "x"))
    assert not rules.scan_pieces(hello, Phase.REQUEST, provider="openai", client=Client("contractor", "x"))
    assert not rules.scan_pieces(hello, Phase.REQUEST, provider="anthropic", client=Client("staff", "x"))
