"""OpenAI wire format, also spoken by Azure OpenAI, OpenRouter, Groq, Mistral, DeepSeek, Together, xAI...

The endpoint is chosen by the URL path suffix (so `/openai/deployments/x/chat/completions`,
`/api/v1/chat/completions` and `/openai/v1/chat/completions` all work), falling back to the body shape.
"""

from __future__ import annotations

import re
from typing import Any, Hashable

from ..framing import reframe_sse
from ..jsonpath import Path
from ..model import ParsedRequest, TextPiece
from . import openai_responses
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
    schema_descriptions,
    split_path,
)

CHAT_ROLES = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
_AZURE_DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)/")
_RESPONSES = re.compile(r"(?:^|/)responses(?:/input_tokens|/compact)?$")


def endpoint(path: str, body: Any = None) -> str:
    """chat, responses, completions, embeddings, input, prompt or unknown."""
    p = split_path(path)[0].rstrip("/")
    if p.endswith("chat/completions"):
        return "chat"
    if _RESPONSES.search(p):
        return "responses"
    if p.endswith("completions"):
        return "completions"
    if p.endswith("embeddings"):
        return "embeddings"
    if p.endswith(("moderations", "audio/speech")):
        return "input"
    if p.endswith(("images/generations", "images/edits")):
        return "prompt"
    if isinstance(body, dict):  # unknown path (custom gateway): go by the body
        if "messages" in body:
            return "chat"
        if "instructions" in body or isinstance(body.get("input"), list):
            return "responses"
        if "prompt" in body:
            return "completions"
        if "input" in body:
            return "input"
    return "unknown"


def add_content(p: Pieces, role: str, content: Any, path: Path) -> None:
    """A message `content`: a string, or a list of parts (`text`, `input_text`, `output_text`, `refusal`)."""
    if isinstance(content, str):
        p.add(role, path, content)
        return
    for k, part in enumerate(content if isinstance(content, list) else []):
        if isinstance(part, str):
            p.add(role, path + (k,), part)
        elif isinstance(part, dict):
            p.add(role, path + (k, "text"), part.get("text"))
            p.add(role, path + (k, "refusal"), part.get("refusal"))
            if "type" not in part:  # malformed part (a nested message); the provider will reject it
                p.add(role, path + (k, "content"), part.get("content"))


def add_tools(p: Pieces, tools: Any, key: str) -> None:
    """Tool/function descriptions and every description inside their parameter schemas."""
    for k, tool in enumerate(tools if isinstance(tools, list) else []):
        if not isinstance(tool, dict):
            continue
        for sub in ((), ("function",), ("custom",)):
            holder = tool if not sub else get_dict(tool, sub[0])
            base = (key, k) + sub
            p.add("tool_definition", base + ("description",), holder.get("description"))
            p.add_all("tool_definition", schema_descriptions(holder.get("parameters"), base + ("parameters",)))


def parse_chat(body: dict[str, Any], p: Pieces) -> None:
    for i, msg in enumerate(as_list(body.get("messages"), "messages")):
        if not isinstance(msg, dict):
            raise ValueError(f"messages[{i}] is not an object")
        role = CHAT_ROLES.get(msg.get("role"), "other")
        base: Path = ("messages", i)
        add_content(p, role, msg.get("content"), base + ("content",))
        p.add(role, base + ("name",), msg.get("name"))
        p.add("assistant", base + ("refusal",), msg.get("refusal"))
        for key in ("reasoning_content", "reasoning"):
            p.add("assistant", base + (key,), msg.get(key))
        for j, call in enumerate(get_list(msg, "tool_calls")):
            call_path = base + ("tool_calls", j)
            p.add("assistant", call_path + ("function", "arguments"), get_dict(call, "function").get("arguments"))
            p.add("assistant", call_path + ("custom", "input"), get_dict(call, "custom").get("input"))
        legacy_args = get_dict(msg, "function_call").get("arguments")
        p.add("assistant", base + ("function_call", "arguments"), legacy_args)
    add_tools(p, body.get("tools"), "tools")
    add_tools(p, body.get("functions"), "functions")
    schema = get_dict(get_dict(body, "response_format"), "json_schema")
    p.add("other", ("response_format", "json_schema", "description"), schema.get("description"))
    p.add_all("other", schema_descriptions(schema.get("schema"), ("response_format", "json_schema", "schema")))


def _add_text_list(p: Pieces, body: dict[str, Any], key: str) -> None:
    """`key` as a string or a list of strings (token-id lists are skipped), or of `{"type":"text"}` parts."""
    value = body.get(key)
    if isinstance(value, str):
        p.add("user", (key,), value)
    for k, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, str):
            p.add("user", (key, k), item)
        elif isinstance(item, dict):
            p.add("user", (key, k, "text"), item.get("text"))


class OpenAIFormat:
    name = "openai"

    def parse_request(self, path: str, body: Any) -> ParsedRequest:
        body = as_dict(body, "body")
        kind = endpoint(path, body)
        p = Pieces()
        if kind == "chat":
            parse_chat(body, p)
        elif kind == "responses":
            openai_responses.parse_responses(body, p)
        elif kind == "completions":
            _add_text_list(p, body, "prompt")
            p.add("user", ("suffix",), body.get("suffix"))
        elif kind in ("embeddings", "input"):
            _add_text_list(p, body, "input")
            p.add("system", ("instructions",), body.get("instructions"))
        elif kind == "prompt":
            p.add("user", ("prompt",), body.get("prompt"))
        model = model_of(body)
        if model is None and (m := _AZURE_DEPLOYMENT.search(split_path(path)[0])):
            model = m.group(1)
        return ParsedRequest(model=model, stream=body.get("stream") is True, pieces=p.items)

    def response_pieces(self, path: str, body: Any) -> list[TextPiece]:
        if not isinstance(body, dict):
            return []
        if "output" in body and "choices" not in body:
            return openai_responses.responses_reply_pieces(body)
        p = Pieces()
        for i, choice in enumerate(get_list(body, "choices")):
            base: Path = ("choices", i)
            msg = get_dict(choice, "message")
            add_content(p, "assistant", msg.get("content"), base + ("message", "content"))
            p.add("assistant", base + ("message", "refusal"), msg.get("refusal"))
            for key in ("reasoning_content", "reasoning"):
                p.add("assistant", base + ("message", key), msg.get(key))
            for j, call in enumerate(get_list(msg, "tool_calls")):
                path_ = base + ("message", "tool_calls", j, "function", "arguments")
                p.add("tool_call", path_, get_dict(call, "function").get("arguments"))
            legacy_args = get_dict(msg, "function_call").get("arguments")
            p.add("tool_call", base + ("message", "function_call", "arguments"), legacy_args)
            if isinstance(choice, dict):
                p.add("assistant", base + ("text",), choice.get("text"))
        return p.items

    def error_body(self, status: int, message: str, code: str) -> bytes:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return dumps_bytes({"error": {"message": message, "type": kind, "param": None, "code": code}})

    def stream_codec(self, path: str, content_type: str) -> StreamCodec | None:
        if "text/event-stream" not in content_type.lower():
            return None
        if "/responses" in split_path(path)[0] or endpoint(path) == "responses":
            return openai_responses.ResponsesCodec()
        return ChatCodec()


FORMAT = OpenAIFormat()


class ChatCodec:
    """Chat completions SSE (`data:` only, `[DONE]` at the end); also legacy completions (`choices[].text`).

    Channels: f"choice{i}" content, f"refusal{i}", f"reasoning{i}", f"reasoning_details{i}" (OpenRouter's
    copy of the reasoning), f"tool{i}:{index}" tool-call arguments (role tool_call). A choice's channels
    end at its finish_reason; any still open end at `[DONE]` (a Decoded with doc=None and no deltas).
    """

    framing = "sse"

    def __init__(self) -> None:
        self._open: dict[int, dict[Hashable, None]] = {}

    def is_final(self, event: Event) -> bool:
        return event.data is not None and event.data.strip() == "[DONE]"

    def decode(self, event: Event) -> Decoded | None:
        data = event.data
        if data is not None and data.strip() == "[DONE]":
            # Streams without finish_reason (OpenRouter/Novita, Snowflake) end their channels here.
            ends = [channel for chans in self._open.values() for channel in chans]
            self._open.clear()
            return Decoded(doc=None, ends_channels=ends) if ends else None
        if not data or ('"delta"' not in data and '"text"' not in data):
            return None  # also rejects usage-only and Azure prompt-filter chunks
        doc = loads(data)
        if not isinstance(doc, dict) or not isinstance(doc.get("choices"), list):
            return None
        dec = Decoded(doc=doc)
        for pos, choice in enumerate(doc["choices"]):
            if not isinstance(choice, dict):
                continue
            idx = choice.get("index")
            i = idx if isinstance(idx, int) else pos
            base: Path = ("choices", pos)
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._delta(dec, i, delta, base + ("delta",))
            text = choice.get("text")
            if text:  # legacy completions
                self._add(dec, i, f"choice{i}", text, base + ("text",))
            if choice.get("finish_reason"):
                dec.ends_channels.extend(self._open.pop(i, {}))
        if not dec.deltas and not dec.ends_channels:
            return None
        return dec

    def _delta(self, dec: Decoded, i: int, delta: dict[str, Any], base: Path) -> None:
        # Only the keys present are visited: a typical delta holds one ("content"), and this runs per event.
        for key, value in delta.items():
            if not value:
                continue
            if key == "content":
                if isinstance(value, list):  # Mistral: typed chunks, thinking nested
                    self._mistral(dec, i, value, base + ("content",))
                else:
                    self._add(dec, i, f"choice{i}", value, base + ("content",))
            elif key == "refusal":
                self._add(dec, i, f"refusal{i}", value, base + (key,))
            elif key in ("reasoning_content", "reasoning"):
                self._add(dec, i, f"reasoning{i}", value, base + (key,))
            elif key == "reasoning_details" and isinstance(value, list):
                for k, detail in enumerate(value):
                    if isinstance(detail, dict):
                        for sub in ("text", "summary"):
                            path = base + ("reasoning_details", k, sub)
                            self._add(dec, i, f"reasoning_details{i}", detail.get(sub), path)
            elif key == "tool_calls" and isinstance(value, list):
                for j, call in enumerate(value):
                    if not isinstance(call, dict):
                        continue
                    index = call.get("index")
                    channel = f"tool{i}:{index if isinstance(index, int) else j}"
                    args = get_dict(call, "function").get("arguments")
                    self._add(dec, i, channel, args, base + ("tool_calls", j, "function", "arguments"), "tool_call")

    def _mistral(self, dec: Decoded, i: int, chunks: list[Any], base: Path) -> None:
        for k, chunk in enumerate(chunks):
            if isinstance(chunk, str):
                self._add(dec, i, f"choice{i}", chunk, base + (k,))
            elif isinstance(chunk, dict) and chunk.get("type") == "thinking":
                thinking = chunk.get("thinking")
                if isinstance(thinking, str):
                    self._add(dec, i, f"reasoning{i}", thinking, base + (k, "thinking"))
                for m, sub in enumerate(thinking if isinstance(thinking, list) else []):
                    if isinstance(sub, dict):
                        self._add(dec, i, f"reasoning{i}", sub.get("text"), base + (k, "thinking", m, "text"))
            elif isinstance(chunk, dict):
                self._add(dec, i, f"choice{i}", chunk.get("text"), base + (k, "text"))

    def _add(self, dec: Decoded, i: int, channel: str, text: Any, path: Path, role: str = "assistant") -> None:
        if isinstance(text, str) and text:
            dec.deltas.append(Delta(channel, text, path, role))
            opened = self._open.get(i)
            if opened is None:
                opened = self._open[i] = {}
            opened[channel] = None

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        return reframe_sse(event.raw, dumps(decoded.doc))

    def error_event(self, message: str, code: str) -> bytes:
        error = {"message": message, "type": "llmwall_blocked", "param": None, "code": code}
        return b"data: " + dumps_bytes({"error": error}) + b"\n\n"
