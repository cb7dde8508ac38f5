"""The text a provider sends in a WebSocket session (OpenAI's Realtime API, Gemini's Live API) that output
rules read: the events that complete a text, a transcript or a tool call, the ones a client acts on.

Delta events are not read: each carries a few characters of a text still being written, and the client
shows them at once. A secret split across deltas is therefore not caught in the live text, only in the
completing event (`response.output_text.done`, `response.done`) that transcripts and tool runners use.
"""

from __future__ import annotations

from typing import Any

from .jsonpath import Path
from .model import TextPiece
from .providers._util import walk_strings

_TEXT_DONE = {  # OpenAI event type -> the field holding the whole text (GA names and the beta's)
    "response.output_text.done": "text",
    "response.text.done": "text",
    "response.output_audio_transcript.done": "transcript",
    "response.audio_transcript.done": "transcript",
}


def reply_pieces(doc: Any) -> list[TextPiece]:
    """The completed assistant text and tool-call arguments in one server event, with their paths."""
    if not isinstance(doc, dict):
        return []
    kind = doc.get("type")
    pieces: list[TextPiece] = []
    if kind in _TEXT_DONE:
        _add(pieces, "assistant", (_TEXT_DONE[kind],), doc.get(_TEXT_DONE[kind]))
    elif kind == "response.function_call_arguments.done":
        _add(pieces, "tool_call", ("arguments",), doc.get("arguments"))
    elif kind in ("response.output_item.done", "conversation.item.done", "conversation.item.created"):
        _item(pieces, doc.get("item"), ("item",))
    elif kind == "response.done" and isinstance(doc.get("response"), dict):
        for i, item in enumerate(doc["response"].get("output") or []):
            _item(pieces, item, ("response", "output", i))
    tool_call = doc.get("toolCall")  # Gemini Live: a whole function call, run by the client as it arrives
    if isinstance(tool_call, dict):
        for i, call in enumerate(tool_call.get("functionCalls") or []):
            if isinstance(call, dict):
                base: Path = ("toolCall", "functionCalls", i, "args")
                pieces += [TextPiece("tool_call", path, text) for path, text in walk_strings(call.get("args"), base)]
    return pieces


def _item(pieces: list[TextPiece], item: Any, base: Path) -> None:
    if not isinstance(item, dict):
        return
    if item.get("type") == "function_call":
        _add(pieces, "tool_call", base + ("arguments",), item.get("arguments"))
    elif item.get("type") == "message" and item.get("role") == "assistant":
        for k, part in enumerate(item.get("content") or []):
            if isinstance(part, dict):
                for field in ("text", "transcript"):
                    _add(pieces, "assistant", base + ("content", k, field), part.get(field))


def _add(pieces: list[TextPiece], role: str, path: Path, text: Any) -> None:
    if isinstance(text, str) and text:
        pieces.append(TextPiece(role, path, text))
