"""Ollama native API (`/api/chat`, `/api/generate`, `/api/embed`); its `/v1/...` OpenAI-compatible
endpoints are handed to the openai format.

Ollama streams by default: a missing `stream` means true for /api/chat and /api/generate.
"""

from __future__ import annotations

from typing import Any, Hashable

from ..framing import reframe_ndjson
from ..jsonpath import Path
from ..model import ParsedRequest, TextPiece
from . import openai
from .base import Decoded, Delta, Event, StreamCodec
from ._util import (
    Pieces,
    as_dict,
    as_list,
    dumps,
    dumps_bytes,
    get_dict,
    get_list,
    loads,
    model_of,
    split_path,
    walk_strings,
)


def _is_openai(path: str) -> bool:
    return split_path(path)[0].startswith("/v1/")


def _parse_chat(body: dict[str, Any], p: Pieces) -> None:
    for i, msg in enumerate(as_list(body.get("messages", []), "messages")):  # [] loads the model
        if not isinstance(msg, dict):
            raise ValueError(f"messages[{i}] is not an object")
        role = openai.CHAT_ROLES.get(msg.get("role"), "other")
        base: Path = ("messages", i)
        p.add(role, base + ("content",), msg.get("content"))
        p.add("assistant", base + ("thinking",), msg.get("thinking"))
        for j, call in enumerate(get_list(msg, "tool_calls")):
            fn = get_dict(call, "function")
            args = fn.get("arguments")
            p.add_all("assistant", walk_strings(args, base + ("tool_calls", j, "function", "arguments")))
    openai.add_tools(p, body.get("tools"), "tools")


class OllamaFormat:
    name = "ollama"

    def parse_request(self, path: str, body: Any) -> ParsedRequest:
        if _is_openai(path):
            return openai.FORMAT.parse_request(path, body)
        body = as_dict(body, "body")
        url = split_path(path)[0].rstrip("/")
        p = Pieces()
        streams = url.endswith(("/api/chat", "/api/generate"))
        if url.endswith("/api/generate"):
            p.add("system", ("system",), body.get("system"))
            p.add("user", ("prompt",), body.get("prompt"))
            p.add("user", ("suffix",), body.get("suffix"))
            p.add("other", ("template",), body.get("template"))
        elif url.endswith(("/api/embed", "/api/embeddings")):
            p.add("user", ("prompt",), body.get("prompt"))
            inp = body.get("input")
            p.add("user", ("input",), inp)
            for k, item in enumerate(inp if isinstance(inp, list) else []):
                p.add("user", ("input", k), item)
        elif url.endswith("/api/chat") or "messages" in body:
            _parse_chat(body, p)
        # other endpoints (pull, show, create, copy...) carry no prompt text
        stream = body.get("stream", streams) is True
        return ParsedRequest(model=model_of(body), stream=stream, pieces=p.items)

    def response_pieces(self, path: str, body: Any) -> list[TextPiece]:
        if _is_openai(path):
            return openai.FORMAT.response_pieces(path, body)
        p = Pieces()
        if not isinstance(body, dict):
            return p.items
        msg = get_dict(body, "message")
        p.add("assistant", ("message", "content"), msg.get("content"))
        p.add("assistant", ("message", "thinking"), msg.get("thinking"))
        for j, call in enumerate(get_list(msg, "tool_calls")):
            args = get_dict(call, "function").get("arguments")
            p.add_all("tool_call", walk_strings(args, ("message", "tool_calls", j, "function", "arguments")))
        p.add("assistant", ("response",), body.get("response"))
        p.add("assistant", ("thinking",), body.get("thinking"))
        return p.items

    def error_body(self, status: int, message: str, code: str) -> bytes:
        return dumps_bytes({"error": message})

    def stream_codec(self, path: str, content_type: str) -> StreamCodec | None:
        if _is_openai(path):
            return openai.FORMAT.stream_codec(path, content_type)
        ct = content_type.lower()
        if "ndjson" in ct or "jsonl" in ct:
            return OllamaCodec()
        return None


FORMAT = OllamaFormat()


class OllamaCodec:
    """NDJSON lines: `message.content` / `response` on channel "content", `message.thinking` /
    `thinking` on "thinking", tool-call argument strings on f"tool{j}" (role tool_call; calls arrive
    whole). `done: true` ends every channel."""

    framing = "ndjson"

    def __init__(self) -> None:
        self._open: dict[Hashable, None] = {}

    def is_final(self, event: Event) -> bool:
        doc = loads(event.data)
        return isinstance(doc, dict) and doc.get("done") is True

    def decode(self, event: Event) -> Decoded | None:
        data = event.data
        if not data:
            return None
        doc = loads(data)
        if not isinstance(doc, dict):
            return None
        dec = Decoded(doc=doc)
        msg = get_dict(doc, "message")
        self._add(dec, "content", msg.get("content"), ("message", "content"))
        self._add(dec, "thinking", msg.get("thinking"), ("message", "thinking"))
        for j, call in enumerate(get_list(msg, "tool_calls")):
            args = get_dict(call, "function").get("arguments")
            base: Path = ("message", "tool_calls", j, "function", "arguments")
            for path, text in walk_strings(args, base):
                self._add(dec, f"tool{j}", text, path, "tool_call")
        self._add(dec, "content", doc.get("response"), ("response",))
        self._add(dec, "thinking", doc.get("thinking"), ("thinking",))
        if doc.get("done") is True:
            dec.ends_channels.extend(self._open)
            self._open.clear()
        if not dec.deltas and not dec.ends_channels:
            return None
        return dec

    def _add(self, dec: Decoded, channel: str, text: Any, path: Path, role: str = "assistant") -> None:
        if isinstance(text, str) and text:
            dec.deltas.append(Delta(channel, text, path, role))
            self._open[channel] = None

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        return reframe_ndjson(event.raw, dumps(decoded.doc))

    def error_event(self, message: str, code: str) -> bytes:
        return dumps_bytes({"error": message}) + b"\n"
