"""OpenAI Responses API (`/v1/responses`): request items, reply items and the typed SSE stream.

The stream repeats text it already streamed as deltas (`*.done`, `output_item.done`, `response.completed`);
those repeats are reported as Summaries so the guard can make them match what the client was sent.
"""

from __future__ import annotations

from typing import Any, Hashable

from ..framing import reframe_sse
from ..jsonpath import Path
from ..model import TextPiece
from .base import Decoded, Delta, Event, Summary
from ._util import Pieces, as_list, dumps, dumps_bytes, event_type, get_dict, get_list, loads, schema_descriptions

ROLES = {"system": "system", "developer": "developer", "user": "user", "assistant": "assistant"}

# delta event type -> (channel kind, role)
_DELTAS: dict[str, tuple[str, str]] = {
    "response.output_text.delta": ("text", "assistant"),
    "response.refusal.delta": ("text", "assistant"),
    "response.reasoning_text.delta": ("text", "assistant"),
    "response.reasoning_summary_text.delta": ("summary", "assistant"),
    "response.function_call_arguments.delta": ("args", "tool_call"),
    "response.custom_tool_call_input.delta": ("args", "tool_call"),
    "response.mcp_call_arguments.delta": ("args", "tool_call"),
}
# done event type -> (channel kind, field repeating the channel's whole text)
_DONES: dict[str, tuple[str, str]] = {
    "response.output_text.done": ("text", "text"),
    "response.refusal.done": ("text", "refusal"),
    "response.reasoning_text.done": ("text", "text"),
    "response.reasoning_summary_text.done": ("summary", "text"),
    "response.function_call_arguments.done": ("args", "arguments"),
    "response.custom_tool_call_input.done": ("args", "input"),
    "response.mcp_call_arguments.done": ("args", "arguments"),
}
_PART_DONES = {"response.content_part.done": "text", "response.reasoning_summary_part.done": "summary"}
_FINAL = {"response.completed", "response.incomplete", "response.failed"}
_INTERESTING = frozenset(_DELTAS) | frozenset(_DONES) | frozenset(_PART_DONES) | _FINAL | {
    "response.output_item.done"
}
_QUOTED = tuple(f'"{kind}"' for kind in _INTERESTING)


def add_item(p: Pieces, item: Any, path: Path, call_role: str) -> None:
    """Texts of one Responses item (input or output): message content, tool calls/outputs, reasoning."""
    if not isinstance(item, dict):
        return
    kind = item.get("type")
    if kind in (None, "message"):
        role = ROLES.get(item.get("role"), "other") if "role" in item else "user"
        content = item.get("content")
        if isinstance(content, str):
            p.add(role, path + ("content",), content)
        for ci, part in enumerate(content if isinstance(content, list) else []):
            if isinstance(part, dict):
                p.add(role, path + ("content", ci, "text"), part.get("text"))
                p.add(role, path + ("content", ci, "refusal"), part.get("refusal"))
    elif kind in ("function_call", "mcp_call"):
        p.add(call_role, path + ("arguments",), item.get("arguments"))
        p.add("tool", path + ("output",), item.get("output"))
    elif kind == "custom_tool_call":
        p.add(call_role, path + ("input",), item.get("input"))
    elif kind in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        p.add("tool", path + ("output",), output)
        for k, part in enumerate(output if isinstance(output, list) else []):
            if isinstance(part, dict):
                p.add("tool", path + ("output", k, "text"), part.get("text"))
    elif kind == "reasoning":
        for key in ("summary", "content"):
            for k, part in enumerate(get_list(item, key)):
                if isinstance(part, dict):
                    p.add("assistant", path + (key, k, "text"), part.get("text"))


def parse_responses(body: dict[str, Any], p: Pieces) -> None:
    """A `/responses` request: instructions, input (string or items), tool descriptions, prompt variables."""
    instructions = body.get("instructions")
    p.add("system", ("instructions",), instructions)
    for k, item in enumerate(instructions if isinstance(instructions, list) else []):
        add_item(p, item, ("instructions", k), "assistant")
    inp = body.get("input")
    if isinstance(inp, str):
        p.add("user", ("input",), inp)
    elif inp is not None:
        for k, item in enumerate(as_list(inp, "input")):
            add_item(p, item, ("input", k), "assistant")
    for k, tool in enumerate(get_list(body, "tools")):
        if isinstance(tool, dict):
            p.add("tool_definition", ("tools", k, "description"), tool.get("description"))
            p.add_all("tool_definition", schema_descriptions(tool.get("parameters"), ("tools", k, "parameters")))
    for name, value in get_dict(get_dict(body, "prompt"), "variables").items():
        p.add("user", ("prompt", "variables", name), value)
    fmt = get_dict(get_dict(body, "text"), "format")
    p.add("other", ("text", "format", "description"), fmt.get("description"))
    p.add_all("other", schema_descriptions(fmt.get("schema"), ("text", "format", "schema")))


def responses_reply_pieces(body: dict[str, Any]) -> list[TextPiece]:
    """A non-streamed Responses reply: every output item, plus the `output_text` convenience field."""
    p = Pieces()
    for k, item in enumerate(get_list(body, "output")):
        add_item(p, item, ("output", k), "tool_call")
    p.add("assistant", ("output_text",), body.get("output_text"))
    return p.items


def _item_summaries(item: Any, oi: int, base: Path) -> list[Summary]:
    """Summaries for a whole output item, on the channels its deltas used."""
    out: list[Summary] = []
    if not isinstance(item, dict):
        return out
    kind = item.get("type")
    if kind in ("message", "reasoning"):
        for ci, part in enumerate(get_list(item, "content")):
            if isinstance(part, dict):
                for key in ("text", "refusal"):
                    if isinstance(part.get(key), str):
                        out.append(Summary((oi, ci), base + ("content", ci, key)))
        for si, part in enumerate(get_list(item, "summary")):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(Summary((oi, "summary", si), base + ("summary", si, "text")))
    elif kind in ("function_call", "mcp_call", "custom_tool_call"):
        key = "input" if kind == "custom_tool_call" else "arguments"
        if isinstance(item.get(key), str):
            out.append(Summary((oi, "args"), base + (key,)))
    return out


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


class ResponsesCodec:
    """Typed Responses SSE (`event: X` + `data: {"type": "X"}`), also OpenRouter's variant without `event:`."""

    framing = "sse"

    def __init__(self) -> None:
        self._ended: set[Hashable] = set()  # each channel is reported ended once

    def is_final(self, event: Event) -> bool:
        if event.name is not None:
            return event.name in _FINAL
        if event.data is not None and event.data.strip() == "[DONE]":
            return True  # OpenRouter ends its Responses streams with the Chat API's marker too
        return event_type(event.data) in _FINAL

    def decode(self, event: Event) -> Decoded | None:
        data = event.data
        if not data:
            return None
        if event.name is not None and event.name not in _INTERESTING:
            return None
        if event.name is None and not any(quoted in data for quoted in _QUOTED):
            return None  # OpenRouter sends no `event:` lines: look for a wanted type in the payload
        doc = loads(data)
        if not isinstance(doc, dict):
            return None
        kind = doc.get("type")
        if not isinstance(kind, str) or kind not in _INTERESTING:
            return None
        dec = Decoded(doc=doc)
        oi = _int(doc.get("output_index"))
        if kind in _DELTAS:
            chan_kind, role = _DELTAS[kind]
            text = doc.get("delta")
            if isinstance(text, str) and text:
                dec.deltas.append(Delta(self._channel(doc, oi, chan_kind), text, ("delta",), role))
        elif kind in _DONES:
            chan_kind, field = _DONES[kind]
            channel = self._channel(doc, oi, chan_kind)
            if isinstance(doc.get(field), str):
                dec.summaries.append(Summary(channel, (field,)))
            dec.ends_channels.append(channel)
        elif kind in _PART_DONES:
            channel = self._channel(doc, oi, _PART_DONES[kind])
            part = get_dict(doc, "part")
            for key in ("text", "refusal"):
                if isinstance(part.get(key), str):
                    dec.summaries.append(Summary(channel, ("part", key)))
            dec.ends_channels.append(channel)
        elif kind == "response.output_item.done":
            dec.summaries.extend(_item_summaries(doc.get("item"), oi, ("item",)))
            dec.ends_channels.extend(s.channel for s in dec.summaries)
        else:
            self._final(doc, dec)
        ends = [c for c in dict.fromkeys(dec.ends_channels) if c not in self._ended]
        self._ended.update(ends)
        dec.ends_channels = ends
        if not (dec.deltas or dec.summaries or dec.ends_channels):
            return None
        return dec

    @staticmethod
    def _channel(doc: dict[str, Any], oi: int, chan_kind: str) -> Hashable:
        if chan_kind == "text":
            return (oi, _int(doc.get("content_index")))
        if chan_kind == "summary":
            return (oi, "summary", _int(doc.get("summary_index")))
        return (oi, "args")

    @staticmethod
    def _final(doc: dict[str, Any], dec: Decoded) -> None:
        response = get_dict(doc, "response")
        for oi, item in enumerate(get_list(response, "output")):
            dec.summaries.extend(_item_summaries(item, oi, ("response", "output", oi)))
        dec.ends_channels.extend(s.channel for s in dec.summaries)
        # `output_text` (OpenRouter) joins all message text; it maps to a channel only when there is one.
        if isinstance(response.get("output_text"), str) and response["output_text"]:
            output = get_list(response, "output")
            messages = {i for i, it in enumerate(output) if isinstance(it, dict) and it.get("type") == "message"}
            texts = [s.channel for s in dec.summaries if s.path[2] in messages]
            if len(texts) == 1:
                dec.summaries.append(Summary(texts[0], ("response", "output_text")))

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        return reframe_sse(event.raw, dumps(decoded.doc))

    def error_event(self, message: str, code: str) -> bytes:
        payload = {"type": "error", "code": code, "message": message, "param": None, "sequence_number": 0}
        return b"event: error\ndata: " + dumps_bytes(payload) + b"\n\n"
