"""StreamGuard semantics with a minimal SSE codec: {"t": "<delta>"} events, one channel."""

import json
import random

import pytest
from hypothesis import given, settings, strategies as st

from llmwall_core.framing import SSEFramer
from llmwall_core.providers.base import Decoded, Delta, Event
from llmwall_core.pseudonyms import PseudonymVault
from llmwall_core.rules import load_rules

RULES = """
rules:
  - id: demo-token
    description: demo secret
    applies_to: both
    pattern: '\\b(tok_[a-z0-9]{16})\\b'
    secret_group: 1
    keywords: [tok_]
    action: redact
    severity: high
    tags: [secret]
  - id: bad-word
    description: a word that blocks the stream
    applies_to: response
    pattern: 'KABOOM'
    action: block
    severity: high
  - id: pem-key
    description: private key
    applies_to: response
    pattern: '-----BEGIN PRIVATE KEY-----[\\s\\S]*?-----END PRIVATE KEY-----'
    action: redact
    severity: critical
    tags: [secret]
"""

SECRET = "tok_0123456789abcdef"


class DemoCodec:
    framing = "sse"

    def decode(self, event: Event):
        if not event.data or not event.data.startswith("{"):
            return None
        doc = json.loads(event.data)
        return Decoded(doc, [Delta("c0", doc["t"], ("t",))])

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        return b"data: " + json.dumps(decoded.doc).encode() + b"\n\n"

    def error_event(self, message: str, code: str) -> bytes:
        return b"data: " + json.dumps({"error": {"message": message, "code": code}}).encode() + b"\n\n"

    def is_final(self, event) -> bool:
        return event.data == "[END]"


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    path = tmp_path_factory.mktemp("r") / "rules.yaml"
    path.write_text(RULES)
    return load_rules([str(path)])


def sse(deltas):
    return b"".join(b"data: " + json.dumps({"t": d}).encode() + b"\n\n" for d in deltas) + b"data: [DONE]\n\n"


def run(rules, wire: bytes, chunks: list[int] | None = None, vault=None, holdback=512, enforce=True):
    from llmwall_core.stream_guard import StreamGuard

    guard = StreamGuard(DemoCodec(), SSEFramer(), rules, vault, holdback, enforce)
    out = []
    pos = 0
    for size in chunks or [len(wire)]:
        out.extend(guard.feed(wire[pos : pos + size]))
        pos += size
    if pos < len(wire):
        out.extend(guard.feed(wire[pos:]))
    out.extend(guard.finish())
    return b"".join(out), guard


def texts(wire: bytes) -> str:
    result = ""
    for block in wire.split(b"\n\n"):
        if block.startswith(b"data: {"):
            doc = json.loads(block[6:])
            if "t" in doc:
                result += doc["t"]
    return result


def split_into(text: str, parts: int) -> list[str]:
    cuts = sorted(random.Random(parts).sample(range(1, len(text)), parts - 1))
    return [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]


def test_clean_stream_is_byte_identical(rules):
    wire = sse(["Hello", " there", ", how", " are you?"])
    out, guard = run(rules, wire)
    assert out == wire
    assert guard.findings == []


@pytest.mark.parametrize("parts", [2, 7, 20])
def test_secret_split_over_events_is_redacted(rules, parts):
    text = f"Your key is {SECRET} and nothing else."
    wire = sse(split_into(text, parts))
    for chunking in (None, [1] * len(wire), [7] * (len(wire) // 7 + 1)):
        out, guard = run(rules, wire, chunking)
        assert SECRET not in out.decode()
        assert texts(out) == "Your key is [REDACTED:demo-token] and nothing else."
        assert [f.rule_id for f in guard.findings] == ["demo-token"]
        assert SECRET not in guard.findings[0].preview


def test_events_before_a_possible_match_are_released_at_once(rules):
    from llmwall_core.stream_guard import StreamGuard

    guard = StreamGuard(DemoCodec(), SSEFramer(), rules)
    first = guard.feed(sse(["Hello world. "])[:-len(b"data: [DONE]\n\n")])
    assert b"Hello world. " in b"".join(first)  # no partial match: out immediately
    held = guard.feed(b'data: {"t": "key tok_01"}\n\n')
    assert held == []  # could become a token: held
    released = guard.feed(b'data: {"t": "23 ok"}\n\n')
    assert b"tok_0123 ok" in b"".join(released).replace(b'", "', b"").replace(b'"}\n\ndata: {"t": "', b"")


def test_block_ends_stream_with_error_event(rules):
    wire = sse(["fine text ", "KAB", "OOM", " more text"])
    out, guard = run(rules, wire)
    assert b"KAB" not in out and b"more text" not in out
    assert out.endswith(b'"code": "llmwall_blocked"}}\n\n')
    assert guard.blocked_by == "bad-word"
    assert b"[DONE]" not in out


def test_monitor_mode_changes_nothing_but_records(rules):
    wire = sse([f"key {SECRET[:8]}", f"{SECRET[8:]} KABOOM end"])
    out, guard = run(rules, wire, enforce=False)
    assert out == wire
    assert {f.rule_id for f in guard.findings} == {"demo-token", "bad-word"}


def test_pseudonyms_restored_across_events(rules):
    vault = PseudonymVault()
    placeholder = vault.placeholder("EMAIL", "alice@example.com")
    wire = sse(["Write to ", placeholder[:3], placeholder[3:8], placeholder[8:] + " today", " <EMAIL_9> stays"])
    out, guard = run(rules, wire, vault=vault)
    assert texts(out) == "Write to alice@example.com today <EMAIL_9> stays"
    assert guard.restored == 1


def test_private_key_longer_than_holdback_is_fully_redacted(rules):
    body = "\n".join("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + str(i).zfill(32) for i in range(60))
    key = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"
    text = f"Here it is:\n{key}\nDone."
    wire = sse(split_into(text, 120))
    out, guard = run(rules, wire, holdback=128)
    got = texts(out)
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in got
    assert got.startswith("Here it is:\n[REDACTED:pem-key]")
    assert got.endswith("\nDone.")
    assert guard.max_held <= 128 + 64


def test_holdback_cap_releases_text_of_no_rule(rules):
    # a long run of text that keeps a token partial alive is impossible; plain text never waits
    wire = sse(["word " * 40])
    out, guard = run(rules, wire, holdback=32)
    assert out == wire


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=60), st.integers(1, 12))
def test_any_chunking_gives_the_same_output(rules, sizes, parts):
    text = f"Start {SECRET} middle <EMAIL_1> end. KABOOM? no"[: 40 + parts]
    wire = sse(split_into(text, min(parts, len(text) - 1)))
    vault = PseudonymVault()
    vault.placeholder("EMAIL", "bob@example.org")
    whole, _ = run(rules, wire, vault=vault)
    vault2 = PseudonymVault()
    vault2.placeholder("EMAIL", "bob@example.org")
    chunked, _ = run(rules, wire, sizes, vault=vault2)
    assert texts(chunked) == texts(whole)


def test_secret_split_inside_its_keyword_leaks_only_keyword_characters(rules):
    # "to" goes out before the keyword "tok_" is complete; everything after it is redacted
    wire = sse(["key to", "k_0123456789", "abcdef end"])
    out, guard = run(rules, wire)
    assert texts(out) == "key to[REDACTED:demo-token] end"
    assert [f.rule_id for f in guard.findings] == ["demo-token"]


def test_prose_is_not_held(rules):
    from llmwall_core.stream_guard import StreamGuard

    guard = StreamGuard(DemoCodec(), SSEFramer(), rules)
    for word in ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog"]:
        event = b"data: " + json.dumps({"t": word}).encode() + b"\n\n"
        assert guard.feed(event) == [event]
