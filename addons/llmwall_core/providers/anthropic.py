"""Anthropic Messages API (`/v1/messages`, `?beta=true`, `/count_tokens`, `/batches`), legacy `/v1/complete`."""

from __future__ import annotations

from typing import Any, Hashable

from ..framing import reframe_sse
from ..jsonpath import Path
from ..model import ParsedRequest, TextPiece
from .base import Decoded, Delta, Event, StreamCodec
from ._util import (
    Pieces,
    as_dict,
    as_list,
    dumps,
    dumps_bytes,
    event_type,
    get_dict,
    get_list,
    loads,
    model_of,
    schema_descriptions,
    split_path,
    walk_strings,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
# content_block_delta delta type -> (field, role)
_DELTA_FIELDS = {
    "text_delta": ("text", "assistant"),
    "thinking_delta": ("thinking", "assistant"),
    "input_json_delta": ("partial_json", "tool_call"),
    "compaction_delta": ("content", "assistant"),
}
_EVENTS = frozenset(
    {"content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
)


def _add_blocks(p: Pieces, role: str, content: Any, path: Path) -> None:
    """Message content: a string or blocks (text, tool_use, tool_result, document, thinking, search_result)."""
    if isinstance(content, str):
        p.add(role, path, content)
        return
    for k, block in enumerate(content if isinstance(content, list) else []):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        base = path + (k,)
        if kind == "tool_result":
            _add_blocks(p, "tool", block.get("content"), base + ("content",))
        elif kind in ("tool_use", "server_tool_use"):
            p.add_all("assistant", walk_strings(block.get("input"), base + ("input",)))
        elif kind == "document":
            source = get_dict(block, "source")
            if source.get("type") == "text":
                p.add(role, base + ("source", "data"), source.get("data"))
            elif source.get("type") == "content":
                _add_blocks(p, role, source.get("content"), base + ("source", "content"))
            p.add(role, base + ("title",), block.get("title"))
            p.add(role, base + ("context",), block.get("context"))
        elif kind == "thinking":
            p.add("assistant", base + ("thinking",), block.get("thinking"))
        elif kind == "search_result":
            p.add(role, base + ("title",), block.get("title"))
            _add_blocks(p, role, block.get("content"), base + ("content",))
        else:  # text, and unknown blocks that carry text
            p.add(role, base + ("text",), block.get("text"))


def _parse_messages(body: dict[str, Any], p: Pieces, prefix: Path) -> None:
    system = body.get("system")
    if isinstance(system, str):
        p.add("system", prefix + ("system",), system)
    for k, block in enumerate(system if isinstance(system, list) else []):
        if isinstance(block, dict):
            p.add("system", prefix + ("system", k, "text"), block.get("text"))
    for i, msg in enumerate(as_list(body.get("messages"), "messages")):
        if not isinstance(msg, dict):
            raise ValueError(f"messages[{i}] is not an object")
        role = msg.get("role")
        role = role if role in ("user", "assistant") else "other"
        _add_blocks(p, role, msg.get("content"), prefix + ("messages", i, "content"))
    for k, tool in enumerate(get_list(body, "tools")):
        if isinstance(tool, dict):
            base = prefix + ("tools", k)
            p.add("tool_definition", base + ("description",), tool.get("description"))
            p.add_all("tool_definition", schema_descriptions(tool.get("input_schema"), base + ("input_schema",)))


class AnthropicFormat:
    name = "anthropic"

    def parse_request(self, path: str, body: Any) -> ParsedRequest:
        body = as_dict(body, "body")
        url = split_path(path)[0].rstrip("/")
        p = Pieces()
        model = model_of(body)
        stream = body.get("stream") is True
        if url.endswith("/complete"):
            p.add("user", ("prompt",), body.get("prompt"))
        elif url.endswith("/batches"):
            for k, req in enumerate(as_list(body.get("requests"), "requests")):
                _parse_messages(as_dict(get_dict(req, "params"), "params"), p, ("requests", k, "params"))
        elif url.endswith(("/messages", "/count_tokens")) or "messages" in body:
            _parse_messages(body, p, ())
        # other endpoints (models, files, batch cancel...) carry no prompt text
        return ParsedRequest(model=model, stream=stream, pieces=p.items)

    def response_pieces(self, path: str, body: Any) -> list[TextPiece]:
        p = Pieces()
        if not isinstance(body, dict):
            return p.items
        p.add("assistant", ("completion",), body.get("completion"))
        for k, block in enumerate(get_list(body, "content")):
            if not isinstance(block, dict):
                continue
            if block.get("type") in ("tool_use", "server_tool_use"):
                p.add_all("tool_call", walk_strings(block.get("input"), ("content", k, "input")))
            else:
                p.add("assistant", ("content", k, "text"), block.get("text"))
                p.add("assistant", ("content", k, "thinking"), block.get("thinking"))
        return p.items

    def error_body(self, status: int, message: str, code: str) -> bytes:
        kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return dumps_bytes({"type": "error", "error": {"type": kind, "message": message}})

    def stream_codec(self, path: str, content_type: str) -> StreamCodec | None:
        if "text/event-stream" not in content_type.lower():
            return None
        return AnthropicCodec()


FORMAT = AnthropicFormat()


class AnthropicCodec:
    """`event: X` + `data: {"type": "X", ...}`. Channel f"block{index}" per content block; a block ends at
    `content_block_stop`, and every open block at `message_delta`/`message_stop` (max_tokens can cut a
    tool input with no stop event)."""

    framing = "sse"

    def __init__(self) -> None:
        self._open: dict[Hashable, None] = {}

    def is_final(self, event: Event) -> bool:
        if event.name is not None:
            return event.name == "message_stop"
        return event_type(event.data) == "message_stop"

    def decode(self, event: Event) -> Decoded | None:
        data = event.data
        if not data:
            return None
        if event.name is not None and event.name not in _EVENTS:
            return None  # ping, message_start, error...
        if event.name is None and '"content_block_' not in data and '"message_' not in data:
            return None
        doc = loads(data)
        if not isinstance(doc, dict):
            return None
        kind = doc.get("type")
        dec = Decoded(doc=doc)
        index = doc.get("index")
        channel = f"block{index if isinstance(index, int) else 0}"
        if kind == "content_block_delta":
            delta = get_dict(doc, "delta")
            field_role = _DELTA_FIELDS.get(delta.get("type"))  # type: ignore[arg-type]
            if field_role is not None:
                self._add(dec, channel, delta.get(field_role[0]), ("delta", field_role[0]), field_role[1])
        elif kind == "content_block_start":
            block = get_dict(doc, "content_block")
            self._open[channel] = None
            if block.get("type") in ("tool_use", "server_tool_use"):
                for path, text in walk_strings(block.get("input"), ("content_block", "input")):
                    self._add(dec, channel, text, path, "tool_call")
            else:
                for key in ("text", "thinking", "content"):
                    self._add(dec, channel, block.get(key), ("content_block", key), "assistant")
        elif kind == "content_block_stop":
            self._open.pop(channel, None)
            dec.ends_channels.append(channel)
        elif kind in ("message_delta", "message_stop"):
            dec.ends_channels.extend(self._open)
            self._open.clear()
        if not dec.deltas and not dec.ends_channels:
            return None
        return dec

    def _add(self, dec: Decoded, channel: str, text: Any, path: Path, role: str) -> None:
        if isinstance(text, str) and text:
            dec.deltas.append(Delta(channel, text, path, role))
            self._open[channel] = None

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        return reframe_sse(event.raw, dumps(decoded.doc))

    def error_event(self, message: str, code: str) -> bytes:
        payload = {"type": "error", "error": {"type": "permission_error", "message": message}}
        return b"event: error\ndata: " + dumps_bytes(payload) + b"\n\n"
