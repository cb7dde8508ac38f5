"""Request-driven replies for `scripts/doctor`: the client shapes the stream with one header.

    x-llmwall-probe: events=5; gap_ms=400; first_ms=0; pause_after=2; pause_ms=30000

on an OpenAI chat-completions request (`stream: true`) makes the fake provider answer, when no scripted
reply is queued, with `events` text deltas "probe 1. ", "probe 2. ", ... :

    first_ms     wait before the first event (the body starts late: a slow first chunk)
    gap_ms       wait between two text deltas
    pause_after  after this many deltas, wait `pause_ms` more (one long idle pause)
    empty        (no value) no text at all: role event, finish, [DONE] (an empty stream)
    cut_after    abort the connection after this many deltas (a broken stream)

The reply carries the response header `x-llmwall-probe: ok`, so the doctor knows its probe was understood
(a real provider ignores the header and answers normally). A scripted reply (`fake.script(...)`) wins over a
probe. Non-stream requests with the header get the text "probe ok".
"""

from __future__ import annotations

from .server import OPENAI_CHAT, RecordedRequest, Reply

HEADER = "x-llmwall-probe"
MAX_EVENTS = 1000
MAX_MS = 600_000


def parse_probe(value: str) -> dict[str, int]:
    """`events=5; gap_ms=400; empty` -> {"events": 5, "gap_ms": 400, "empty": 1}. Unknown keys are kept."""
    out: dict[str, int] = {}
    for part in value.replace(",", ";").split(";"):
        key, sep, val = part.strip().partition("=")
        key = key.strip().lower()
        if not key:
            continue
        try:
            out[key] = int(float(val)) if sep else 1
        except ValueError:
            continue
    return out


def probe_reply(req: RecordedRequest) -> Reply | None:
    """The reply a probe header asks for, or None when the request carries no probe header."""
    value = req.header(HEADER)
    if value is None:
        return None
    spec = parse_probe(value)
    headers = {HEADER: "ok"}
    body = req.json if isinstance(req.json, dict) else {}
    if req.endpoint != OPENAI_CHAT or not body.get("stream"):
        return Reply(text=["probe ok"], headers=headers)
    events = max(0, min(MAX_EVENTS, spec.get("events", 5)))
    gap = min(MAX_MS, max(0, spec.get("gap_ms", 0))) / 1000
    first = min(MAX_MS, max(0, spec.get("first_ms", 0))) / 1000
    pause_after = spec.get("pause_after", 0)
    pause = min(MAX_MS, max(0, spec.get("pause_ms", 0))) / 1000
    if spec.get("empty"):
        events = 0
    text = [f"probe {i}. " for i in range(1, events + 1)]
    # OpenAI chat stream layout (server.build_openai_chat): event 0 = role, events 1..N = the deltas,
    # then the finish event and [DONE].
    pauses: dict[int, float] = {}
    if first:
        pauses[0] = first
    for n in range(2, events + 1):
        pauses[n] = gap
    if pause and 1 <= pause_after <= events:
        pauses[pause_after + 1] = pauses.get(pause_after + 1, 0.0) + pause
    cut = spec.get("cut_after")
    return Reply(text=text, pauses=pauses, headers=headers,
                 disconnect_after=None if cut is None else max(0, cut) + 1)
