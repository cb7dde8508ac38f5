"""A local fake LLM provider: HTTPS (and plain HTTP) on 127.0.0.1, speaking each provider's wire format.

    fake = FakeProvider(certdir).start()          # background thread with its own asyncio loop
    fake.script(Reply(text=["Hel", "lo"]))        # what the model "says" on the next LLM request
    ... drive a client through mitmdump (route_to_fake.py sends api.openai.com:443 to fake.tls_port) ...
    fake.requests[-1].host == "api.openai.com"
    fake.stop()

Endpoints, chosen by path (any Host): OpenAI chat completions (`.../chat/completions`), OpenAI Responses
(`.../responses`), Anthropic (`.../v1/messages`), Gemini (`...:generateContent`, `...:streamGenerateContent`
with `?alt=sse` = SSE with CRLF, without = the incremental JSON array), Ollama (`/api/chat`, `/api/generate`,
NDJSON unless `"stream": false`). Any other path answers 200 `{"ok": true, "path": ...}`.

Streams are HTTP/1.1 chunked, one event per chunk, flushed one by one. Connections are kept alive.

Replies come from a FIFO queue of `Reply` objects (`script()`); when the queue has no matching reply the
default reply says "Hello from the fake provider." in three deltas and echoes every `<LABEL_N>` placeholder
found in the request, each split across two deltas (for pseudonym-restore tests).

Ordering proof (`Reply(gated=True)`): after each gate point (a text delta, a tool-argument fragment, or a raw
chunk) the server waits until the test calls `fake.ack(k)` / `reply.ack(k)` for that gate. A proxy that
buffers the response never lets the client see gate 0, so the server gives up after `gate_timeout`,
records a failure (see `take_failures()`), stops gating and sends the rest: the test fails, it does not hang.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import itertools
import json
import re
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .certs import CertPaths, make_certs

WIRE_DIR = Path(__file__).resolve().parents[3] / "shared" / "wire"

DEFAULT_TEXT: tuple[str, ...] = ("Hello", " from the", " fake provider.")
PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z0-9_]*_[0-9]+>")
CREATED = 1_700_000_000
READ_LIMIT = 16 * 1024 * 1024

# Endpoint kinds
OPENAI_CHAT = "openai_chat"
OPENAI_RESPONSES = "openai_responses"
ANTHROPIC = "anthropic"
GEMINI = "gemini"
OLLAMA_CHAT = "ollama_chat"
OLLAMA_GENERATE = "ollama_generate"
GENERIC = "generic"
LLM_ENDPOINTS = (OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, GEMINI, OLLAMA_CHAT, OLLAMA_GENERATE)


def endpoint_of(path: str) -> str:
    """The endpoint kind for a request path (query ignored)."""
    p = urlsplit(path).path.rstrip("/")
    if p.endswith("/chat/completions"):
        return OPENAI_CHAT
    if p.endswith("/responses"):
        return OPENAI_RESPONSES
    if p.endswith("/v1/messages"):
        return ANTHROPIC
    if ":generateContent" in p or ":streamGenerateContent" in p:
        return GEMINI
    if p == "/api/chat":
        return OLLAMA_CHAT
    if p == "/api/generate":
        return OLLAMA_GENERATE
    return GENERIC


# ----------------------------------------------------------------------------------------------- API types


@dataclass
class ToolCall:
    """A tool/function call the model makes. `arguments` is the JSON text, or its streamed fragments."""

    name: str
    arguments: str | Sequence[str] = "{}"
    id: str | None = None

    @property
    def fragments(self) -> list[str]:
        return [self.arguments] if isinstance(self.arguments, str) else list(self.arguments)

    @property
    def arguments_json(self) -> str:
        return "".join(self.fragments)

    def arguments_obj(self) -> Any:
        text = self.arguments_json
        return json.loads(text) if text.strip() else {}


@dataclass(eq=False)
class Reply:
    """One scripted answer. Fields left at their defaults give a normal provider-shaped reply.

    text            text deltas the model streams (joined for non-stream replies); None = default text
    tool_calls      ToolCall list (after the text); streamed as argument fragments where the format does
    status, error   non-2xx reply with a provider-shaped error body (error set and status 200 -> 400)
    body            exact response body bytes (Content-Length), e.g. a recorded fixture
    raw_chunks      exact response body as these chunks (chunked transfer encoding), each one a gate point
    content_type    overrides the Content-Type (default from endpoint/stream kind)
    headers         extra response headers
    stream          force stream / non-stream; None follows the request (`stream: true`, Gemini URL, ...)
    finish_reason   overrides the provider's stop reason ("length", "max_tokens", "SAFETY", ...)
    delay           seconds slept before every event after the first (no sleeps in assertions, please)
    content_encoding  "gzip", "deflate", "br" or "zstd": compress the body; streams flush every event
    disconnect_after  abort the connection after this many stream events/chunks (0: right after the
                    headers); a non-stream reply with any value is aborted right after its headers
    gated, gate_timeout  ordering proof: wait for ack(k) after gate point k (see module docstring)
    path            only for requests whose path contains this string (also matches non-LLM paths);
                    None = the next LLM-endpoint request
    usage           overrides the usage numbers: {"input": n, "output": m}
    stamp           benchmarks: prefix every stream event, when it is written, with the SSE comment line
                    `: t=<time.perf_counter_ns()>` (SSE streams only; clients ignore comments)
    hold_after      after this many stream events, keep the stream open until `release()` (at least the
                    number of events: all are sent, the end of the body is held)
    pauses          {n: seconds}: sleep this long before stream event n (0: the first event, after the
                    headers), on top of `delay`; the doctor's probes (probe.py) use it
    """

    text: Sequence[str] | None = None
    tool_calls: Sequence[ToolCall] = ()
    status: int = 200
    error: str | None = None
    body: bytes | str | None = None
    raw_chunks: Sequence[bytes | str] | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: bool | None = None
    finish_reason: str | None = None
    delay: float = 0.0
    content_encoding: str | None = None
    disconnect_after: int | None = None
    gated: bool = False
    gate_timeout: float = 10.0
    path: str | None = None
    usage: Mapping[str, int] | None = None
    stamp: bool = False
    hold_after: int | None = None
    pauses: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._acked: set[int] = set()
        self._aborted = False
        self.served = threading.Event()  # set when the reply has been fully written (or aborted)
        self.request: RecordedRequest | None = None  # the request this reply answered
        self.gates_passed = 0  # gate points released by an ack in time
        self.gate_timed_out: int | None = None  # the gate index that timed out, if any
        self._released = False
        self._holders: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.peer_closed = threading.Event()  # the proxy closed the connection while the stream was held

    # -- ordering control -------------------------------------------------------------------------------
    def ack(self, k: int) -> None:
        """The client has received gate point k: let the server send what follows it."""
        with self._cond:
            self._acked.add(k)
            self._cond.notify_all()

    def _wait_ack(self, k: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while k not in self._acked and not self._aborted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def _abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._cond.notify_all()
        self.release()

    # -- held streams (benchmarks) ----------------------------------------------------------------------
    def release(self) -> None:
        """Let a stream held by `hold_after` continue (thread-safe; also before the hold is reached)."""
        with self._cond:
            self._released = True
            holders, self._holders = self._holders, []
        for loop, fut in holders:
            loop.call_soon_threadsafe(lambda f=fut: f.done() or f.set_result(None))

    async def _hold(self, writer: asyncio.StreamWriter | None = None) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self._released:
                return
            self._holders.append((loop, fut))
        while not fut.done():  # also notice the proxy closing the connection while held
            await asyncio.wait([fut], timeout=0.05)
            if writer is not None and writer.transport.is_closing():
                self.peer_closed.set()
                raise _Abort

    # -- recorded fixtures ------------------------------------------------------------------------------
    @classmethod
    def fixture(cls, name: str | Path, *, split_every: int | None = None, **kw: Any) -> Reply:
        """A reply that replays a recorded transcript from /work/shared/wire byte for byte.

        `name` is relative to the wire folder ("openai-chat/openaipy_gpt4o_parallel_tool_calls.sse") or an
        absolute path. Status and Content-Type come from the sidecar .meta.json. Streams (SSE, NDJSON, the
        Gemini JSON array) become `raw_chunks`, one event per chunk, or `split_every` bytes per chunk.
        """
        path = Path(name)
        if not path.is_absolute():
            path = WIRE_DIR / path
        data = path.read_bytes()
        meta_path = path.with_name(path.name.rsplit(".", 1)[0] + ".meta.json")
        meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        response = meta.get("response") or {}
        framing = (meta.get("analysis") or {}).get("format", "")
        ctype = str(response.get("content_type") or "").split(" (")[0].strip()
        if not ctype or "REDACTED" in ctype or " " in ctype.replace("; ", ";"):
            ctype = {"sse": "text/event-stream", "ndjson": "application/x-ndjson"}.get(
                framing, "application/json"
            )
        kw.setdefault("status", int(response.get("status") or 200))
        kw.setdefault("content_type", ctype)
        if split_every:
            kw["raw_chunks"] = [data[i : i + split_every] for i in range(0, len(data), split_every)]
        elif framing in ("sse", "ndjson", "json-array-stream"):
            kw["raw_chunks"] = split_events(data, framing)
        else:
            kw["body"] = data
        return cls(**kw)


def split_events(data: bytes, framing: str) -> list[bytes]:
    """Cut a stream body after each event (SSE blank line, NDJSON line, Gemini array element)."""
    if framing == "sse":
        parts = re.split(rb"(?<=\r\n\r\n)|(?<=\n\n)|(?<=\r\r)", data)
    elif framing == "ndjson":
        parts = re.split(rb"(?<=\n)", data)
    else:  # json-array-stream: `[{...}\n,\r\n{...}\n]`
        parts = re.split(rb"(?=\n,\r\n)|(?=\n\]$)", data)
    return [p for p in parts if p]


@dataclass
class RecordedRequest:
    """One request exactly as the fake provider received it."""

    method: str
    path: str  # request target, with the query string
    host: str  # the Host header ("" when absent)
    headers: list[tuple[str, str]]  # as received, in order, original case
    body: bytes  # de-chunked, still content-encoded if the client compressed it
    tls: bool
    sni: str | None
    conn_id: int  # which TCP connection carried it (keep-alive checks)
    endpoint: str  # endpoint kind (OPENAI_CHAT, ..., GENERIC)
    time: float = 0.0

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    @property
    def decoded_body(self) -> bytes:
        enc = (self.header("content-encoding") or "").lower()
        if enc == "gzip":
            return gzip.decompress(self.body)
        if enc == "deflate":
            return zlib.decompress(self.body)
        return self.body

    @property
    def json(self) -> Any:
        """The parsed JSON body (None when the body is empty or not JSON)."""
        try:
            return json.loads(self.decoded_body)
        except ValueError:
            return None

    @property
    def strings(self) -> list[str]:
        """Every string value in the JSON body, in document order (what the model would "read")."""
        return list(_json_strings(self.json))

    @property
    def all_text(self) -> str:
        return "\n".join(self.strings)


def _json_strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _json_strings(v)


def default_deltas(request: RecordedRequest) -> list[str]:
    """The default reply text: fixed deltas plus every placeholder of the request, each split in two."""
    deltas = list(DEFAULT_TEXT)
    seen: list[str] = []
    for s in request.strings or [request.decoded_body.decode("utf-8", "replace")]:
        for m in PLACEHOLDER_RE.findall(s):
            if m not in seen:
                seen.append(m)
    for p in seen:
        cut = max(2, len(p) // 2)
        deltas += [f" You said {p[:cut]}", f"{p[cut:]}."]
    return deltas


# ------------------------------------------------------------------------------------------ wire builders


@dataclass
class Event:
    data: bytes
    gate: bool = False  # a gate point: text delta, tool argument fragment or raw chunk


@dataclass
class Built:
    status: int
    content_type: str
    body: bytes | None = None
    events: list[Event] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _sse(data: Any, event: str | None = None, eol: str = "\n") -> bytes:
    text = data if isinstance(data, str) else _dumps(data)
    head = f"event: {event}{eol}" if event else ""
    return f"{head}data: {text}{eol}{eol}".encode()


class _Ctx:
    """What a builder needs to know about the request and reply."""

    def __init__(self, req: RecordedRequest, reply: Reply, seq: int):
        self.req = req
        self.reply = reply
        self.seq = seq
        body = req.json
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        self.text: list[str] = list(reply.text) if reply.text is not None else default_deltas(req)
        self.tools: list[ToolCall] = [
            replace(tc, id=tc.id or f"call_fake{seq}_{i}") for i, tc in enumerate(reply.tool_calls)
        ]
        self.joined = "".join(self.text)
        self.n_out = max(1, len(self.text) + sum(len(t.fragments) for t in self.tools))
        usage = reply.usage or {}
        self.in_tokens = int(usage.get("input", 11))
        self.out_tokens = int(usage.get("output", self.n_out))

    def model(self, default: str) -> str:
        m = self.body.get("model")
        return m if isinstance(m, str) and m else default

    def stream(self, requested: bool) -> bool:
        return requested if self.reply.stream is None else self.reply.stream


def build_openai_chat(c: _Ctx) -> Built:
    model = c.model("gpt-fake")
    cid = f"chatcmpl-fake{c.seq}"
    finish = c.reply.finish_reason or ("tool_calls" if c.tools else "stop")
    usage = {"prompt_tokens": c.in_tokens, "completion_tokens": c.out_tokens,
             "total_tokens": c.in_tokens + c.out_tokens}
    if not c.stream(bool(c.body.get("stream"))):
        message: dict[str, Any] = {"role": "assistant", "content": c.joined if (c.text or not c.tools) else None,
                                   "refusal": None, "annotations": []}
        if c.tools:
            message["tool_calls"] = [
                {"id": t.id, "type": "function", "function": {"name": t.name, "arguments": t.arguments_json}}
                for t in c.tools
            ]
        obj = {"id": cid, "object": "chat.completion", "created": CREATED, "model": model,
               "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
               "usage": usage, "service_tier": "default", "system_fingerprint": "fp_fake"}
        return Built(200, "application/json", body=json.dumps(obj, indent=2).encode() + b"\n")

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
                "service_tier": "default", "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}

    ev = [Event(_sse(chunk({"role": "assistant", "content": "" if c.text else None, "refusal": None})))]
    ev += [Event(_sse(chunk({"content": t})), gate=True) for t in c.text]
    for i, t in enumerate(c.tools):
        first = {"index": i, "id": t.id, "type": "function", "function": {"name": t.name, "arguments": ""}}
        ev.append(Event(_sse(chunk({"tool_calls": [first]}))))
        ev += [Event(_sse(chunk({"tool_calls": [{"index": i, "function": {"arguments": f}}]})), gate=True)
               for f in t.fragments]
    ev.append(Event(_sse(chunk({}, finish))))
    if (c.body.get("stream_options") or {}).get("include_usage"):
        last = chunk({})
        last["choices"] = []
        last["usage"] = usage
        ev.append(Event(_sse(last)))
    ev.append(Event(b"data: [DONE]\n\n"))
    return Built(200, "text/event-stream; charset=utf-8", events=ev)


def build_openai_responses(c: _Ctx) -> Built:
    model = c.model("gpt-fake")
    rid = f"resp_fake{c.seq}"
    msg_id = f"msg_fake{c.seq}"
    usage = {"input_tokens": c.in_tokens, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": c.out_tokens, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": c.in_tokens + c.out_tokens}

    def part(text: str) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    def message(status: str, text: str | None) -> dict[str, Any]:
        return {"id": msg_id, "type": "message", "status": status,
                "content": [] if text is None else [part(text)], "role": "assistant"}

    def fcall(i: int, t: ToolCall, status: str, args: str) -> dict[str, Any]:
        return {"id": f"fc_fake{c.seq}_{i}", "type": "function_call", "status": status,
                "arguments": args, "call_id": t.id, "name": t.name}

    has_msg = bool(c.text) or not c.tools
    output: list[dict[str, Any]] = ([message("completed", c.joined)] if has_msg else [])
    output += [fcall(i, t, "completed", t.arguments_json) for i, t in enumerate(c.tools)]
    status = "completed"
    incomplete = None
    if c.reply.finish_reason and c.reply.finish_reason not in ("stop", "completed"):
        status, incomplete = "incomplete", {"reason": c.reply.finish_reason}

    def response(st: str, out: list[Any], use: Any) -> dict[str, Any]:
        return {"id": rid, "object": "response", "created_at": CREATED, "status": st, "background": False,
                "error": None, "incomplete_details": incomplete if st != "in_progress" else None,
                "instructions": c.body.get("instructions"), "max_output_tokens": None, "model": model,
                "output": out, "parallel_tool_calls": True, "previous_response_id": None,
                "reasoning": {"effort": None, "summary": None}, "service_tier": "default", "store": False,
                "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
                "tools": c.body.get("tools") or [], "top_p": 1.0, "truncation": "disabled", "usage": use,
                "user": None, "metadata": {}}

    if not c.stream(bool(c.body.get("stream"))):
        obj = response(status, output, usage)
        return Built(200, "application/json", body=json.dumps(obj, indent=2).encode() + b"\n")

    seq = itertools.count()
    ev: list[Event] = []

    def add(kind: str, payload: dict[str, Any], gate: bool = False) -> None:
        ev.append(Event(_sse({"type": kind, **payload, "sequence_number": next(seq)}, event=kind), gate=gate))

    add("response.created", {"response": response("in_progress", [], None)})
    add("response.in_progress", {"response": response("in_progress", [], None)})
    idx = 0
    if has_msg:
        add("response.output_item.added", {"output_index": idx, "item": message("in_progress", None)})
        base = {"item_id": msg_id, "output_index": idx, "content_index": 0}
        add("response.content_part.added", {**base, "part": part("")})
        for t in c.text:
            add("response.output_text.delta", {**base, "delta": t, "logprobs": []}, gate=True)
        add("response.output_text.done", {**base, "text": c.joined, "logprobs": []})
        add("response.content_part.done", {**base, "part": part(c.joined)})
        add("response.output_item.done", {"output_index": idx, "item": message("completed", c.joined)})
        idx += 1
    for i, t in enumerate(c.tools):
        item_id = f"fc_fake{c.seq}_{i}"
        add("response.output_item.added", {"output_index": idx, "item": fcall(i, t, "in_progress", "")})
        for f in t.fragments:
            add("response.function_call_arguments.delta",
                {"item_id": item_id, "output_index": idx, "delta": f}, gate=True)
        add("response.function_call_arguments.done",
            {"item_id": item_id, "output_index": idx, "arguments": t.arguments_json})
        add("response.output_item.done", {"output_index": idx, "item": fcall(i, t, "completed", t.arguments_json)})
        idx += 1
    final = "response.completed" if status == "completed" else "response.incomplete"
    add(final, {"response": response(status, output, usage)})
    return Built(200, "text/event-stream; charset=utf-8", events=ev)


def build_anthropic(c: _Ctx) -> Built:
    model = c.model("claude-fake")
    mid = f"msg_fake{c.seq}"
    stop = c.reply.finish_reason or ("tool_use" if c.tools else "end_turn")
    tool_ids = [t.id if (t.id or "").startswith("toolu_") else f"toolu_fake{c.seq}_{i}"
                for i, t in enumerate(c.tools)]
    has_text = bool(c.text) or not c.tools
    if not c.stream(bool(c.body.get("stream"))):
        content: list[dict[str, Any]] = [{"type": "text", "text": c.joined}] if has_text else []
        content += [{"type": "tool_use", "id": tool_ids[i], "name": t.name, "input": t.arguments_obj()}
                    for i, t in enumerate(c.tools)]
        obj = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": content,
               "stop_reason": stop, "stop_sequence": None,
               "usage": {"input_tokens": c.in_tokens, "output_tokens": c.out_tokens}}
        return Built(200, "application/json", body=_dumps(obj).encode())

    ev = [Event(_sse({"type": "message_start", "message": {
        "id": mid, "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": c.in_tokens, "output_tokens": 1}}}, "message_start"))]
    index = 0
    pinged = False

    def ping() -> None:
        nonlocal pinged
        if not pinged:
            ev.append(Event(b'event: ping\ndata: {"type": "ping"}\n\n'))
            pinged = True

    if has_text:
        ev.append(Event(_sse({"type": "content_block_start", "index": index,
                              "content_block": {"type": "text", "text": ""}}, "content_block_start")))
        ping()
        ev += [Event(_sse({"type": "content_block_delta", "index": index,
                           "delta": {"type": "text_delta", "text": t}}, "content_block_delta"), gate=True)
               for t in c.text]
        ev.append(Event(_sse({"type": "content_block_stop", "index": index}, "content_block_stop")))
        index += 1
    for i, t in enumerate(c.tools):
        ev.append(Event(_sse({"type": "content_block_start", "index": index, "content_block": {
            "type": "tool_use", "id": tool_ids[i], "name": t.name, "input": {}}}, "content_block_start")))
        ping()
        ev.append(Event(_sse({"type": "content_block_delta", "index": index,
                              "delta": {"type": "input_json_delta", "partial_json": ""}}, "content_block_delta")))
        ev += [Event(_sse({"type": "content_block_delta", "index": index,
                           "delta": {"type": "input_json_delta", "partial_json": f}}, "content_block_delta"),
                     gate=True)
               for f in t.fragments if f]
        ev.append(Event(_sse({"type": "content_block_stop", "index": index}, "content_block_stop")))
        index += 1
    ev.append(Event(_sse({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                          "usage": {"output_tokens": c.out_tokens}}, "message_delta")))
    ev.append(Event(_sse({"type": "message_stop"}, "message_stop")))
    return Built(200, "text/event-stream; charset=utf-8", events=ev)


def _gemini_dumps(obj: Any, indent: int | None = None) -> str:
    if indent:
        return json.dumps(obj, indent=indent, ensure_ascii=False)
    return json.dumps(obj, separators=(",", ": "), ensure_ascii=False)


def build_gemini(c: _Ctx) -> Built:
    path = urlsplit(c.req.path).path
    m = re.search(r"/models/([^/:]+):", path)
    model = m.group(1) if m else "gemini-fake"
    finish = c.reply.finish_reason or "STOP"
    rid = f"fakeResponse{c.seq}"

    def usage(out: int) -> dict[str, Any]:
        return {"promptTokenCount": c.in_tokens, "candidatesTokenCount": out,
                "totalTokenCount": c.in_tokens + out}

    def fcall_parts() -> list[dict[str, Any]]:
        return [{"functionCall": {"name": t.name, "args": t.arguments_obj()}} for t in c.tools]

    def chunk(parts: list[dict[str, Any]], fin: str | None, out: int) -> dict[str, Any]:
        cand: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if fin:
            cand["finishReason"] = fin
        cand["index"] = 0
        return {"candidates": [cand], "usageMetadata": usage(out), "modelVersion": model, "responseId": rid}

    streaming = c.stream(":streamGenerateContent" in path)
    if not streaming:
        parts = ([{"text": c.joined}] if c.text or not c.tools else []) + fcall_parts()
        obj = chunk(parts, finish, c.out_tokens)
        return Built(200, "application/json; charset=UTF-8",
                     body=(_gemini_dumps(obj, indent=2) + "\n").encode())

    # one chunk per text delta, the function calls whole in one chunk, finishReason on the last chunk
    chunks: list[tuple[dict[str, Any], bool]] = []
    for i, t in enumerate(c.text):
        chunks.append((chunk([{"text": t}], None, i + 1), True))
    if c.tools:
        chunks.append((chunk(fcall_parts(), None, c.out_tokens), True))
    if not chunks:
        chunks.append((chunk([{"text": ""}], None, 0), False))
    last, gate = chunks[-1]
    last["candidates"][0]["finishReason"] = finish
    last["candidates"][0]["index"] = 0
    last["usageMetadata"] = usage(c.out_tokens)

    if "sse" in c.req.query.get("alt", []):
        ev = [Event(_sse(_gemini_dumps(obj), eol="\r\n"), gate=g) for obj, g in chunks]
        return Built(200, "text/event-stream", events=ev)
    # the JSON array stream: `[{...}\n,\r\n{...}\n]`, pretty-printed elements, no trailing newline
    ev = []
    for i, (obj, g) in enumerate(chunks):
        prefix = "[" if i == 0 else "\n,\r\n"
        ev.append(Event((prefix + _gemini_dumps(obj, indent=2)).encode(), gate=g))
    ev.append(Event(b"\n]"))
    return Built(200, "application/json; charset=UTF-8", events=ev)


def build_ollama(c: _Ctx, chat: bool) -> Built:
    model = c.model("llama-fake")
    created = "2025-01-01T00:00:00.000000Z"
    finish = c.reply.finish_reason or "stop"
    stats = {"total_duration": 1_000_000, "load_duration": 100_000, "prompt_eval_count": c.in_tokens,
             "prompt_eval_duration": 200_000, "eval_count": c.out_tokens, "eval_duration": 500_000}
    tool_calls = [{"function": {"name": t.name, "arguments": t.arguments_obj()}} for t in c.tools]

    def line(obj: dict[str, Any]) -> bytes:
        return (_dumps(obj) + "\n").encode()

    def piece(text: str, tools: list[Any] | None = None) -> dict[str, Any]:
        if chat:
            msg: dict[str, Any] = {"role": "assistant", "content": text}
            if tools:
                msg["tool_calls"] = tools
            return {"model": model, "created_at": created, "message": msg, "done": False}
        return {"model": model, "created_at": created, "response": text, "done": False}

    def final(text: str, tools: list[Any] | None = None) -> dict[str, Any]:
        obj = piece(text, tools)
        del obj["done"]
        if chat:  # /api/chat puts done_reason before done, /api/generate after (and adds context)
            obj.update({"done_reason": finish, "done": True, **stats})
        else:
            obj.update({"done": True, "done_reason": finish, "context": [1, 2, 3], **stats})
        return obj

    if not c.stream(c.body.get("stream", True) is not False):
        return Built(200, "application/json; charset=utf-8",
                     body=_dumps(final(c.joined, tool_calls or None)).encode())
    ev = [Event(line(piece(t)), gate=True) for t in c.text]
    if tool_calls:
        ev.append(Event(line(piece("", tool_calls)), gate=True))
    ev.append(Event(line(final(""))))
    return Built(200, "application/x-ndjson", events=ev)


def build_error(endpoint: str, status: int, message: str) -> Built:
    if endpoint in (OPENAI_CHAT, OPENAI_RESPONSES):
        etype = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "invalid_request_error")
        if status >= 500:
            etype = "server_error"
        obj: Any = {"error": {"message": message, "type": etype, "param": None, "code": None}}
        return Built(status, "application/json; charset=utf-8", body=json.dumps(obj, indent=2).encode() + b"\n")
    if endpoint == ANTHROPIC:
        etype = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "invalid_request_error")
        if status >= 500 and status != 529:
            etype = "api_error"
        obj = {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_fake"}
        return Built(status, "application/json", body=_dumps(obj).encode())
    if endpoint == GEMINI:
        gstatus = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                   429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
        obj = {"error": {"code": status, "message": message, "status": gstatus}}
        return Built(status, "application/json; charset=UTF-8", body=(json.dumps(obj, indent=2) + "\n").encode())
    return Built(status, "application/json; charset=utf-8", body=_dumps({"error": message}).encode())


def build_reply(req: RecordedRequest, reply: Reply, seq: int) -> Built:
    """The full response for `req` as scripted by `reply`."""
    ep = req.endpoint
    extra = dict(reply.headers)
    if reply.error is not None or reply.status >= 400 and reply.body is None and reply.raw_chunks is None:
        status = reply.status if reply.status >= 400 else 400
        built = build_error(ep, status, reply.error or f"fake provider error {status}")
    elif reply.raw_chunks is not None:
        chunks = [x.encode() if isinstance(x, str) else bytes(x) for x in reply.raw_chunks]
        default_ct = {OLLAMA_CHAT: "application/x-ndjson", OLLAMA_GENERATE: "application/x-ndjson",
                      GENERIC: "application/octet-stream"}.get(ep, "text/event-stream")
        if ep == GEMINI and "sse" not in req.query.get("alt", []):
            default_ct = "application/json; charset=UTF-8"
        built = Built(reply.status, default_ct, events=[Event(x, gate=True) for x in chunks])
    elif reply.body is not None:
        body = reply.body.encode() if isinstance(reply.body, str) else bytes(reply.body)
        built = Built(reply.status, "application/json", body=body)
    else:
        c = _Ctx(req, reply, seq)
        if ep == OPENAI_CHAT:
            built = build_openai_chat(c)
        elif ep == OPENAI_RESPONSES:
            built = build_openai_responses(c)
        elif ep == ANTHROPIC:
            built = build_anthropic(c)
        elif ep == GEMINI:
            built = build_gemini(c)
        elif ep in (OLLAMA_CHAT, OLLAMA_GENERATE):
            built = build_ollama(c, chat=ep == OLLAMA_CHAT)
        else:
            body = _dumps({"ok": True, "path": req.path, "host": req.host, "method": req.method}).encode()
            built = Built(200, "application/json", body=body)
        if reply.status != 200:
            built.status = reply.status
    if reply.content_type:
        built.content_type = reply.content_type
    built.headers.update(extra)
    return built


# ------------------------------------------------------------------------------------------- compression


class _Encoder:
    def __init__(self, name: str):
        self.name = name.lower()
        if self.name == "gzip":
            self._z: Any = zlib.compressobj(wbits=31)
        elif self.name == "deflate":
            self._z = zlib.compressobj(wbits=15)
        elif self.name == "br":
            import brotli

            self._z = brotli.Compressor()
        elif self.name == "zstd":
            import zstandard

            self._z = zstandard.ZstdCompressor().compressobj()
        else:
            raise ValueError(f"unsupported content_encoding {name!r}")

    def chunk(self, data: bytes) -> bytes:
        """Compress and flush, so that every event can be decoded as soon as it arrives."""
        if self.name in ("gzip", "deflate"):
            return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)
        if self.name == "br":
            return self._z.process(data) + self._z.flush()
        import zstandard

        return self._z.compress(data) + self._z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    def finish(self) -> bytes:
        if self.name == "br":
            return self._z.finish()
        return self._z.flush()

    def whole(self, data: bytes) -> bytes:
        return self.chunk(data) + self.finish()


# ---------------------------------------------------------------------------------------------- server


class _Abort(Exception):
    pass


class FakeProvider:
    """The fake provider. `start()` runs it in a daemon thread; every public method is thread-safe."""

    def __init__(
        self,
        certdir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        tls_port: int = 0,
        plain_port: int = 0,
        certs: CertPaths | None = None,
    ):
        if certs is None:
            if certdir is None:
                raise ValueError("FakeProvider needs certdir (where the test CA is written) or certs")
            certs = make_certs(certdir)
        self.certs = certs
        self.host = host
        self.tls_port = tls_port
        self.plain_port = plain_port
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._ws_messages: list[str] = []
        self._ws_replies: list[dict[str, Any]] = []
        self._queue: list[Reply] = []
        self._failures: list[str] = []
        self._served: list[Reply] = []
        self._active_gated: Reply | None = None
        self._seq = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._new_request = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._conn_tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------------------
    @property
    def ca_path(self) -> Path:
        """The test CA that signed the server certificate (give it to ssl_verify_upstream_trusted_ca)."""
        return self.certs.ca_cert

    def start(self) -> FakeProvider:
        ready = threading.Event()
        error: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_servers())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                error.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-provider", daemon=True)
        self._thread.start()
        ready.wait(30)
        if error:
            raise error[0]
        return self

    async def _start_servers(self) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs.cert, self.certs.key)
        ctx.set_alpn_protocols(["http/1.1"])

        def on_sni(sslobj: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
            try:
                sslobj.fake_sni = name
            except AttributeError:  # pragma: no cover
                pass

        ctx.sni_callback = on_sni
        tls = await asyncio.start_server(
            lambda r, w: self._spawn(r, w, True), self.host, self.tls_port, ssl=ctx, limit=READ_LIMIT
        )
        plain = await asyncio.start_server(
            lambda r, w: self._spawn(r, w, False), self.host, self.plain_port, limit=READ_LIMIT
        )
        self._servers = [tls, plain]
        self.tls_port = tls.sockets[0].getsockname()[1]
        self.plain_port = plain.sockets[0].getsockname()[1]

    def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool) -> None:
        task = asyncio.ensure_future(self._connection(reader, writer, tls))
        self._conn_tasks.add(task)
        task.add_done_callback(self._conn_tasks.discard)

    async def _shutdown(self) -> None:
        for s in self._servers:
            s.close()
        for t in list(self._conn_tasks):
            t.cancel()
        if self._conn_tasks:
            await asyncio.gather(*self._conn_tasks, return_exceptions=True)

    def stop(self) -> None:
        with self._lock:
            replies = list(self._queue) + list(self._served)
        for r in replies:
            r._abort()
        if self._loop and self._thread and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- scripting and inspection -----------------------------------------------------------------------
    def script(self, *replies: Reply, **kw: Any) -> Reply:
        """Queue replies (FIFO) for the next matching requests; or build one from keyword arguments:
        `fake.script(text=["a", "b"])`. Returns the last queued reply."""
        if kw:
            replies = (*replies, Reply(**kw))
        if not replies:
            raise ValueError("script() needs a Reply or keyword arguments")
        with self._lock:
            self._queue.extend(replies)
        return replies[-1]

    @property
    def pending(self) -> list[Reply]:
        """Scripted replies not used yet."""
        with self._lock:
            return list(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def ws_reply(self, event: dict[str, Any]) -> None:
        """Queue a server event to answer the next client message of a WebSocket session with."""
        with self._lock:
            self._ws_replies.append(event)

    @property
    def ws_messages(self) -> list[str]:
        """Text messages received from WebSocket clients, in order."""
        with self._lock:
            return list(self._ws_messages)

    def llm_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint != GENERIC]

    def wait_for_requests(self, n: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until at least n requests were received (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._new_request:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake provider saw {len(self._requests)} requests, expected {n}")
                self._new_request.wait(left)
            return list(self._requests)

    @property
    def failures(self) -> list[str]:
        with self._lock:
            return list(self._failures)

    def take_failures(self) -> list[str]:
        """Return and clear the recorded failures (gate timeouts, handler errors)."""
        with self._lock:
            out, self._failures = self._failures, []
        return out

    def fail(self, message: str) -> None:
        with self._lock:
            self._failures.append(message)

    def ack(self, k: int) -> None:
        """Ack gate point k of the gated reply being served (the most recent one)."""
        with self._lock:
            reply = self._active_gated
            if reply is None:
                reply = next((r for r in self._queue if r.gated), None)
        if reply is None:
            raise RuntimeError("ack(): no gated reply is scripted or being served")
        reply.ack(k)

    def clear(self) -> None:
        """Forget requests, queued replies and failures (between tests)."""
        with self._lock:
            for r in self._queue + self._served:
                r._abort()
            self._requests.clear()
            self._ws_messages.clear()
            self._ws_replies.clear()
            self._queue.clear()
            self._failures.clear()
            self._served.clear()
            self._active_gated = None

    def _take_reply(self, req: RecordedRequest) -> Reply:
        with self._lock:
            for i, r in enumerate(self._queue):
                if (r.path is None and req.endpoint != GENERIC) or (r.path is not None and r.path in req.path):
                    reply = self._queue.pop(i)
                    break
            else:
                from .probe import probe_reply  # the doctor's x-llmwall-probe header (probe.py)

                reply = probe_reply(req) or Reply()
            reply.request = req
            self._served.append(reply)
            if reply.gated:
                self._active_gated = reply
            return reply

    # -- HTTP/1.1 ---------------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool) -> None:
        conn_id = next(self._conn_ids)
        sslobj = writer.get_extra_info("ssl_object")
        sni = getattr(sslobj, "fake_sni", None) if sslobj is not None else None
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                except asyncio.LimitOverrunError:
                    self.fail("request head too large")
                    return
                req, keep_alive = await self._read_request(head, reader, writer, tls, sni, conn_id)
                with self._new_request:
                    self._requests.append(req)
                    self._new_request.notify_all()
                if (req.header("upgrade") or "").lower() == "websocket":
                    await self._websocket(req, reader, writer)
                    return
                reply = self._take_reply(req)
                try:
                    await self._respond(req, reply, writer)
                except _Abort:
                    return
                finally:
                    reply.served.set()
                if not keep_alive:
                    return
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded so that the test fails
            self.fail(f"fake provider handler error: {exc!r}")
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    async def _websocket(self, req: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A Realtime-API-like WebSocket session: every text message from the client is recorded
        (`ws_messages`) and answered with the next event queued by `ws_reply`, or else with a
        `response.output_text.done` event whose `text` joins the strings the message carried, so a test sees
        what reached the provider from both ends."""
        accept = base64.b64encode(hashlib.sha1(((req.header("sec-websocket-key") or "") + _WS_GUID).encode()).digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        writer.write(_ws_frame(1, json.dumps({"type": "session.created", "event_id": "evt_0",
                                              "session": {"id": "sess_fake", "object": "realtime.session"}}).encode()))
        await writer.drain()
        count = 0
        while True:
            opcode, payload = await _read_ws_message(reader)
            if opcode == 8:  # close: answer and end
                writer.write(_ws_frame(8, payload[:2]))
                await writer.drain()
                return
            if opcode == 9:
                writer.write(_ws_frame(10, payload))
            elif opcode == 1:
                text = payload.decode("utf-8")
                with self._lock:
                    self._ws_messages.append(text)
                count += 1
                with self._lock:
                    scripted = self._ws_replies.pop(0) if self._ws_replies else None
                if scripted is None:
                    try:
                        carried = " ".join(_strings(json.loads(text)))
                    except ValueError:
                        carried = text
                    scripted = {"type": "response.output_text.done", "event_id": f"evt_{count}",
                                "response_id": "resp_fake", "item_id": "item_fake", "output_index": 0,
                                "content_index": 0, "text": carried}
                writer.write(_ws_frame(1, json.dumps(scripted).encode()))
            await writer.drain()

    async def _read_request(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool,
        sni: str | None, conn_id: int,
    ) -> tuple[RecordedRequest, bool]:
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if not line:
                continue
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        hmap = {k.lower(): v for k, v in headers}
        if hmap.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if "chunked" in hmap.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await reader.readexactly(int(hmap.get("content-length", "0") or 0))
        conn_hdr = hmap.get("connection", "").lower()
        keep_alive = "close" not in conn_hdr and (version != "HTTP/1.0" or "keep-alive" in conn_hdr)
        req = RecordedRequest(
            method=method, path=target, host=hmap.get("host", ""), headers=headers, body=body, tls=tls,
            sni=sni, conn_id=conn_id, endpoint=endpoint_of(target), time=time.time(),
        )
        return req, keep_alive

    async def _respond(self, req: RecordedRequest, reply: Reply, writer: asyncio.StreamWriter) -> None:
        seq = next(self._seq)
        built = build_reply(req, reply, seq)
        enc = _Encoder(reply.content_encoding) if reply.content_encoding else None
        headers: dict[str, str] = {
            "Date": formatdate(usegmt=True),
            "Content-Type": built.content_type,
            "x-request-id": f"req_fake{seq}",
            "Connection": "keep-alive",
        }
        if enc:
            headers["Content-Encoding"] = enc.name
        if built.events is None:
            body = built.body or b""
            if enc:
                body = enc.whole(body)
            headers["Content-Length"] = str(len(body))
        else:
            headers["Transfer-Encoding"] = "chunked"
            if built.content_type.startswith("text/event-stream"):
                headers["Cache-Control"] = "no-cache"
        for k, v in built.headers.items():
            for existing in [h for h in headers if h.lower() == k.lower()]:
                del headers[existing]
            headers[k] = v
        reason = _REASONS.get(built.status, "Status")
        head = f"HTTP/1.1 {built.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode("latin-1") + b"\r\n")
        limit = reply.disconnect_after
        if built.events is None:
            if limit is not None:
                await writer.drain()
                writer.transport.abort()
                raise _Abort
            writer.write(body)
            await writer.drain()
            return
        await writer.drain()
        gate_index = 0
        gating = reply.gated
        for n, event in enumerate(built.events):
            if limit is not None and n >= limit:
                writer.transport.abort()
                raise _Abort
            if n and reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.pauses.get(n):
                await asyncio.sleep(reply.pauses[n])
            if reply.hold_after is not None and n == reply.hold_after:
                await reply._hold(writer)
            data = event.data
            if reply.stamp:
                data = b": t=%d\n" % time.perf_counter_ns() + data
            data = enc.chunk(data) if enc else data
            if data:
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
            if event.gate:
                k = gate_index
                gate_index += 1
                if gating and n < len(built.events) - 1:
                    ok = await asyncio.to_thread(reply._wait_ack, k, reply.gate_timeout)
                    if ok:
                        reply.gates_passed += 1
                    else:
                        reply.gate_timed_out = k
                        gating = False
                        self.fail(
                            f"gate {k}: the client did not receive event {k} of {req.method} {req.host}{req.path}"
                            f" within {reply.gate_timeout}s (the proxy buffers the stream?)"
                        )
        if limit is not None and len(built.events) >= limit:
            writer.transport.abort()
            raise _Abort
        if reply.hold_after is not None and reply.hold_after >= len(built.events):
            await reply._hold(writer)  # every event sent, the end of the body held back
        tail = enc.finish() if enc else b""
        if tail:
            writer.write(b"%x\r\n%s\r\n" % (len(tail), tail))
        writer.write(b"0\r\n\r\n")
        await writer.drain()


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 413: "Payload Too Large",
            422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded"}


def iter_acks(fake: FakeProvider | Reply, items: Iterable[Any], is_gate: Callable[[Any], bool]) -> Iterable[Any]:
    """Yield `items` (e.g. SDK stream events) and ack every gate point as the client receives it.

        for chunk in iter_acks(fake, stream, lambda ch: bool(ch.choices and ch.choices[0].delta.content)):
            ...
    """
    k = 0
    for item in items:
        if is_gate(item):
            fake.ack(k)
            k += 1
        yield item


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


def _ws_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final WebSocket frame (server to client)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 127]) + n.to_bytes(8, "big")
    return head + payload


async def _read_ws_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The next whole message (continuation frames joined) as (opcode, payload); client frames are masked."""
    opcode, parts = 0, []
    while True:
        b1, b2 = await reader.readexactly(2)
        n = b2 & 0x7F
        if n == 126:
            n = int.from_bytes(await reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await reader.readexactly(8), "big")
        mask = await reader.readexactly(4) if b2 & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(n)))
        if b1 & 0x0F:
            opcode = b1 & 0x0F
        parts.append(data)
        if b1 & 0x80:
            return opcode, b"".join(parts)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
