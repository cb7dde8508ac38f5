"""Identity and access through real mitmdump: proxy auth, per-client rules, approved keys, rate limits,
and an audit log that carries the identity and never the key."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import bcrypt
import openai
import pytest

from tests.e2e.harness import openai_client

ROOT = Path(__file__).resolve().parents[2]
INTERN_RULE = """
rules:
  - id: interns-no-project-names
    description: interns may not send internal project names to providers
    applies_to: request
    pattern: '(?i)project (?:falcon|osprey)'
    action: block
    severity: medium
    clients: [alice]
"""


@pytest.fixture
def htpasswd(tmp_path) -> Path:
    path = tmp_path / "htpasswd"
    lines = [f"{user}:{bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=4)).decode()}"
             for user, pw in (("alice", "alice-pw"), ("bob", "bob-pw"))]
    path.write_text("\n".join(lines) + "\n")
    return path


def as_user(monkeypatch, proxy, user: str, password: str) -> None:
    proxy.use_env(monkeypatch)
    url = proxy.url.replace("http://", f"http://{user}:{password}@")
    monkeypatch.setenv("HTTPS_PROXY", url)
    monkeypatch.setenv("HTTP_PROXY", url)


def ask(text: str, **client_kw):
    return openai_client(**client_kw).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}])


def test_proxy_auth_identity_per_client_rules_and_audit(proxy_factory, fake, monkeypatch, htpasswd, tmp_path):
    rules = tmp_path / "interns.yaml"
    rules.write_text(INTERN_RULE)
    audit = tmp_path / "audit.jsonl"
    proxy = proxy_factory(sets=[f"proxyauth=@{htpasswd}", f"llmwall_rules={ROOT / 'rules'}",
                                f"llmwall_rules={rules}", f"llmwall_audit_log={audit}"])
    # no credentials: 407 from the proxy itself
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_connect}", "--proxy", proxy.url,
                          "--cacert", str(proxy.ca_path), "https://api.openai.com/v1/models"],
                         capture_output=True, timeout=20)
    assert out.stdout.decode() == "407"
    assert fake.requests == []

    as_user(monkeypatch, proxy, "alice", "alice-pw")
    with pytest.raises(openai.PermissionDeniedError, match="interns-no-project-names"):
        ask("What is the status of Project Falcon?")
    assert fake.llm_requests() == []

    as_user(monkeypatch, proxy, "bob", "bob-pw")
    fake.script(text=["On track."])
    assert ask("What is the status of Project Falcon?").choices[0].message.content == "On track."

    proxy.stop()  # flushes the audit log
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    by_user = {r["client"]["user"]: r for r in records}
    assert by_user["alice"]["decision"] == "blocked"
    assert by_user["alice"]["findings"][0]["rule"] == "interns-no-project-names"
    assert by_user["bob"]["decision"] == "allowed"
    assert "alice-pw" not in audit.read_text() and "bob-pw" not in audit.read_text()


def test_only_approved_provider_keys_pass(proxy_factory, fake, monkeypatch, tmp_path):
    approved, personal = "sk-approved-0123456789abcdef", "sk-personal-fedcba9876543210"
    audit = tmp_path / "audit.jsonl"
    proxy = proxy_factory(sets=[f"llmwall_approved_keys={hashlib.sha256(approved.encode()).hexdigest()}",
                                f"llmwall_audit_log={audit}"])
    proxy.use_env(monkeypatch)
    with pytest.raises(openai.PermissionDeniedError, match="not approved") as caught:
        ask("hello", api_key=personal)
    assert personal not in str(caught.value)
    assert fake.llm_requests() == []
    fake.script(text=["hi"])
    assert ask("hello", api_key=approved).choices[0].message.content == "hi"
    proxy.stop()
    assert personal not in audit.read_text() and approved not in audit.read_text()
    assert personal not in proxy.log and approved not in proxy.log
    assert "sk-per" in proxy.log  # the first characters and the fingerprint identify it for the operator


def test_rate_limit_answers_429_then_recovers(proxy_factory, fake, monkeypatch):
    # 6/m: a token every 10 s, so the first six pass however slow the machine is, and the seventh is refused
    proxy = proxy_factory(sets=["llmwall_rate_limit=6/m"])
    proxy.use_env(monkeypatch)
    for _ in range(6):
        fake.script(text=["ok"])
        ask("hi")
    with pytest.raises(openai.RateLimitError) as caught:
        ask("hi")
    retry_after = int(caught.value.response.headers["retry-after"])
    assert retry_after >= 1
    assert len(fake.llm_requests()) == 6
    time.sleep(retry_after)
    fake.script(text=["back"])
    assert ask("hi").choices[0].message.content == "back"
