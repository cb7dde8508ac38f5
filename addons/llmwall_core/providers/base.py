"""The contract every wire format implements. A provider is added by adding one module that fulfils it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Literal, Protocol

from ..jsonpath import Path
from ..model import ParsedRequest, TextPiece

Framing = Literal["sse", "ndjson", "json-array"]


@dataclass(slots=True)
class Event:
    """One framed stream event, exactly as it came off the wire.

    raw:  the event's bytes including its terminator (SSE: through the blank line; NDJSON: through the
          newline; json-array: the element plus the separator/bracket bytes that follow it up to the next
          element). Concatenating `raw` of every event (plus the framer's prologue) gives the stream back.
    name: the SSE `event:` field, or None.
    data: the payload text: SSE `data:` lines joined with "\\n"; an NDJSON line without its newline; a JSON
          array element. None for SSE comments / events without data.
    """

    raw: bytes
    name: str | None = None
    data: str | None = None


@dataclass(slots=True)
class Delta:
    """A piece of text carried by an event, appended to `channel` (e.g. "choice0", "block1", "tool:0:0").

    `path` locates the JSON string inside the event's decoded payload, so the guard can replace it.
    """

    channel: Hashable
    text: str
    path: Path
    role: str = "assistant"


@dataclass(slots=True)
class Summary:
    """An event field that repeats a channel's *whole* text (Responses `.done`, `response.completed`).

    The guard rewrites it to what the client was actually sent for that channel.
    """

    channel: Hashable
    path: Path


@dataclass(slots=True)
class Decoded:
    """An event's payload decoded once: the JSON document and the text it carries."""

    doc: Any
    deltas: list[Delta] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    ends_channels: list[Hashable] = field(default_factory=list)  # channels this event closes


class StreamCodec(Protocol):
    """Maps one provider's stream events to text deltas and back."""

    framing: Framing

    def decode(self, event: Event) -> Decoded | None:
        """Decode an event; None when it carries no text (it is then forwarded as its raw bytes)."""

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        """Bytes for `event` after the guard changed strings inside `decoded.doc` (same framing, same
        event name, same line endings as `event.raw`)."""

    def error_event(self, message: str, code: str) -> bytes:
        """A final event in the provider's own in-stream error shape, framed and terminated."""

    def is_final(self, event: Event) -> bool:
        """Whether `event` ends the reply (`[DONE]`, `message_stop`, ...): a client that has it has the whole
        reply. Asked only when a stream ends early, never per event."""


class WireFormat(Protocol):
    """One provider wire format (openai, anthropic, gemini, ollama)."""

    name: str

    def parse_request(self, path: str, body: Any) -> ParsedRequest:
        """Every piece of text a model will read, with role and JSON path. `path` is the URL path
        (with query). Raises ValueError with a short reason when the body is not this format."""

    def response_pieces(self, path: str, body: Any) -> list[TextPiece]:
        """Text pieces of a non-streamed reply (assistant text, refusals, tool-call arguments)."""

    def error_body(self, status: int, message: str, code: str) -> bytes:
        """A JSON error body in the provider's shape, so SDKs raise their usual error class."""

    def stream_codec(self, path: str, content_type: str) -> StreamCodec | None:
        """The codec for a streamed reply to `path`, or None if this reply is not a stream we understand."""
