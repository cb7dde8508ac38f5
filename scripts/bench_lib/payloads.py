"""Deterministic, benign, English-like payloads: prompts of a given size, request bodies, stream events."""

from __future__ import annotations

import itertools
import json
import random
from functools import lru_cache

HOST = "api.openai.com"
CHAT_PATH = "/v1/chat/completions"
MODEL = "gpt-4o-mini"

_SUBJECTS = """the team|our customer|the new intern|a project manager|the support desk|my neighbour|the city council|
the research group|a small bakery|the quarterly report|the museum guide|the delivery driver|our landlord|
the school board|a local farmer|the travel agency|the hospital staff|the football coach|an old friend|the editor""".split("|")
_VERBS = """reviewed|described|planned|questioned|summarised|painted|delivered|organised|measured|compared|postponed|
translated|improved|explained|rescheduled|prepared|discussed|published|repaired|recommended""".split("|")
_OBJECTS = """the budget for next spring|a short history of the harbour|three options for the garden|the schedule of the
conference|a recipe for lentil soup|the results of the survey|an outline for the annual meeting|the weather for the
weekend|the layout of the new office|a list of books for the library|the train timetable|the menu for the wedding|
the design of the bridge|a plan for the charity run|the notes from the workshop|the map of the hiking trail|the
draft of the newsletter|the colours for the kitchen|the rules of the chess club|the route along the river""".split("|")
_TAILS = """before the meeting|after lunch|with great care|in simple words|for the second time|during the
holidays|without much fuss|as quickly as possible|with a few diagrams|for the whole family|in the morning|on a rainy
afternoon|at the end of the month|together with the volunteers|in a friendly tone|for the visitors""".split("|")
_WORDS = """apple river window garden morning quiet gentle bright harbour valley market letter summer winter
journey candle pocket meadow orchard violin lantern teacher student kitchen bicycle mountain forest island
village painter story wonder yellow silver copper marble velvet thunder sunrise evening breakfast library
museum bakery station ticket travel simple careful honest patient curious cheerful steady""".split()


def _clean(s: str) -> str:
    return " ".join(s.split())


def sentence(rng: random.Random) -> str:
    s = f"{_clean(rng.choice(_SUBJECTS))} {rng.choice(_VERBS).strip()} {_clean(rng.choice(_OBJECTS))}"
    if rng.random() < 0.7:
        s += " " + _clean(rng.choice(_TAILS))
    if rng.random() < 0.5:
        s += ", and " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 8)))
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])


@lru_cache(maxsize=64)
def prompt(n_bytes: int, seed: int = 7) -> str:
    """About `n_bytes` of varied English-like prose (ASCII, so bytes == characters), deterministic."""
    rng = random.Random(seed * 1_000_003 + n_bytes)
    parts: list[str] = []
    size = 0
    while size < n_bytes:
        para = " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
        parts.append(para)
        size += len(para) + 2
    return "\n\n".join(parts)[:n_bytes].rstrip()


_nonce = itertools.count(1)


def fresh(text: str) -> str:
    """`text` made unique (a few words in front, as many characters cut at the end): llmwall caches
    findings per text, and a benchmark that resends the same prompt would measure cache hits."""
    k = next(_nonce)
    words = []
    while True:
        k, r = divmod(k, len(_WORDS))
        words.append(_WORDS[r])
        if not k:
            break
    head = "Memo " + " ".join(words) + ". "
    return head + text[: max(0, len(text) - len(head))]


def chat_body(text: str, stream: bool) -> bytes:
    doc = {"model": MODEL, "stream": stream, "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
        {"role": "user", "content": text}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def chat_history(n_bytes: int, turns: int = 8) -> list[dict[str, str]]:
    """A fixed conversation of about `n_bytes` (user and assistant turns alternating), the same every call."""
    per = max(64, n_bytes // turns)
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": prompt(per, seed=100 + i)} for i in range(turns)]


def chat_turn_body(history: list[dict[str, str]], text: str, stream: bool) -> bytes:
    """The next request of a conversation: the system prompt, the whole history again, one new message."""
    doc = {"model": MODEL, "stream": stream, "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."}, *history,
        {"role": "user", "content": text}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def deltas(n: int, seed: int = 11) -> list[str]:
    """n token-like text deltas (" word", "," ...) of a benign reply."""
    rng = random.Random(seed * 7919 + n)
    out: list[str] = []
    while len(out) < n:
        out += [" " + w for w in sentence(rng).split(" ")]
    out[0] = out[0].lstrip()
    return out[:n]


def openai_stream_events(n_deltas: int) -> list[bytes]:
    """The SSE events the fake provider sends for a chat completion with `n_deltas` text deltas
    (role event, deltas, finish event, [DONE]): built by the fake's own builder, so byte-identical."""
    from tests.fakeprovider.server import OPENAI_CHAT, RecordedRequest, Reply, build_reply

    body = chat_body("stream please", True)
    req = RecordedRequest(method="POST", path=CHAT_PATH, host=HOST, headers=[], body=body, tls=True, sni=HOST,
                          conn_id=0, endpoint=OPENAI_CHAT)
    built = build_reply(req, Reply(text=deltas(n_deltas)), 1)
    assert built.events is not None
    return [e.data for e in built.events]
