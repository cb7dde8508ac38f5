"""Every recorded clean stream passes StreamGuard byte-identical with the default rules, whatever
the chunking (the promise of the README: a clean stream is untouched)."""

import json
import random

import pytest

from llmwall_core.providers import get_format
from llmwall_core.stream_guard import StreamGuard
from llmwall_core.framing import make_framer
from tests.unicode_tags import tags
from tests.wire import params, stream_fixtures


def guard_for(fx, rules):
    content_type = fx.content_type if "/" in fx.content_type else ""  # some recorders redacted it
    if not content_type:
        content_type = {"sse": "text/event-stream", "ndjson": "application/x-ndjson"}.get(fx.framing, "application/json")
    codec = get_format(fx.format).stream_codec(fx.url_path, content_type)
    assert codec is not None, f"no codec for {fx.id}"
    return StreamGuard(codec, make_framer(codec.framing), rules)


def chunkings(size: int, seed: int):
    yield [size]
    yield [7] * (size // 7 + 1)
    rng = random.Random(seed)
    sizes, total = [], 0
    while total < size:
        sizes.append(rng.randint(1, 64))
        total += sizes[-1]
    yield sizes


@pytest.mark.parametrize("fx", params([f for f in stream_fixtures() if f.format and not f.payloads_only]))
def test_recorded_stream_is_byte_identical(fx, rules):
    for sizes in chunkings(len(fx.body), len(fx.body)):
        guard = guard_for(fx, rules)
        out, pos = [], 0
        for size in sizes:
            out.extend(guard.feed(fx.body[pos : pos + size]))
            pos += size
        out.extend(guard.finish())
        assert [f.rule_id for f in guard.findings] == []
        assert b"".join(out) == fx.body
        assert all(part != b"" for part in out)


ENDS_IN_AN_ERROR = {"groq/pydantic_groq_gptoss_stream_error_event.sse", "ollama/ollama_docs_midstream_error.ndjson"}


def terminated(fx) -> bytes:
    """The recorded body with its last event terminated (a few recorders dropped the final line break)."""
    body = fx.body
    if fx.framing == "sse" and not body.endswith((b"\n\n", b"\r\n\r\n", b"\r\r")):
        body += b"\n" if body.endswith(b"\n") else b"\n\n"
    if fx.framing == "ndjson" and not body.endswith(b"\n"):
        body += b"\n"
    return body


@pytest.mark.parametrize("fx", params([f for f in stream_fixtures() if f.format and not f.payloads_only]))
def test_a_recorded_stream_is_complete_once_its_final_event_passed(fx, rules):
    """`complete` ([DONE], message_stop, response.completed, done: true, finishReason) tells a client that
    leaves early after the whole reply from one that leaves mid-stream."""
    body = terminated(fx)
    guard = guard_for(fx, rules)
    assert not guard.complete
    guard.feed(body[: len(body) // 2])
    assert not guard.complete
    guard.feed(body[len(body) // 2 :])
    assert guard.complete is (fx.id not in ENDS_IN_AN_ERROR)


def openai_chunks(deltas: list[str]) -> list[bytes]:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return [b"data: " + json.dumps({**head, "choices": [{"index": 0, "delta": {"content": d}, "finish_reason": None}]})
            .encode() + b"\n\n" for d in deltas] + [b"data: [DONE]\n\n"]


def stream_through_guard(rules, text: str, piece: int) -> tuple[str, StreamGuard]:
    """`text` streamed as OpenAI chat chunks of `piece` characters: the text the client receives, and the guard."""
    codec = get_format("openai").stream_codec("/v1/chat/completions", "text/event-stream")
    guard = StreamGuard(codec, make_framer(codec.framing), rules)
    out = b""
    for event in openai_chunks([text[i : i + piece] for i in range(0, len(text), piece)]):
        out += b"".join(guard.feed(event))
    out += b"".join(guard.finish())
    sent = "".join(json.loads(line[6:])["choices"][0]["delta"]["content"]
                   for line in out.split(b"\n\n") if line.startswith(b"data: {"))
    return sent, guard


def test_discord_token_streamed_in_pieces_keeps_its_secret_parts(rules):
    # the rule has no fixed prefix: the dot after the public user-id segment wakes it, so the id may pass
    # before the dot arrives; the timestamp and HMAC after it never reach the client
    user_id, stamp, hmac = "MTGFwsqOPv2hVR2CFZMBXdDG", "f3kcXo", "3jFUkVouw4k3NUd1B__t8PSjC6xXQcyy1qhiMR"
    for size in (1, 3, 8):
        sent, guard = stream_through_guard(rules, f"Use DISCORD_TOKEN={user_id}.{stamp}.{hmac} in the bot.", size)
        assert stamp not in sent and hmac[:8] not in sent
        assert "[REDACTED:discord-bot-token]" in sent and sent.endswith(" in the bot.")
        assert [f.rule_id for f in guard.findings] == ["discord-bot-token"]


def test_secret_spelled_in_invisible_tag_characters_is_redacted_in_a_stream(rules):
    hidden = tags("ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")
    sent, guard = stream_through_guard(rules, f"Here you go:{hidden} done.", 5)
    # as with a visible token, only characters of the keyword ("ghp_") may pass before it is complete
    assert hidden[4:] not in sent and sent.startswith("Here you go:")
    assert sent.endswith("[REDACTED:github-token] done.") and len(sent) <= len("Here you go:ghp[REDACTED:github-token] done.")
    assert [f.rule_id for f in guard.findings] == ["github-token"]
