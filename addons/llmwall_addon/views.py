"""mitmweb / mitmproxy content views for LLM traffic: the conversation by role, and a streamed reply
reassembled per channel (as the client received it, redactions visible)."""

from __future__ import annotations

import json
from collections.abc import Hashable

from mitmproxy import contentviews, http
from mitmproxy.contentviews import Contentview, Metadata

from llmwall_core.framing import make_framer
from llmwall_core.providers import get_format

from .routing import route_of

MAX_RENDER = 200_000


def _format_of(metadata: Metadata) -> str | None:
    flow = metadata.flow
    if not isinstance(flow, http.HTTPFlow):
        return None
    info = flow.metadata.get("llmwall")
    if isinstance(info, dict) and info.get("format"):
        return info["format"]
    route = route_of(flow)
    return route.format if route else None


class LLMRequestContentview(Contentview):
    """A provider request as a conversation: system, user, assistant and tool turns, tools listed."""

    name = "LLM request"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        flow = metadata.flow
        if not data or not isinstance(flow, http.HTTPFlow) or metadata.http_message is not flow.request:
            return -1
        return 2 if _format_of(metadata) else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        fmt_name = _format_of(metadata)
        flow = metadata.flow
        assert fmt_name and isinstance(flow, http.HTTPFlow)
        parsed = get_format(fmt_name).parse_request(flow.request.path, json.loads(data))
        lines = [f"model: {parsed.model or '?'}    stream: {parsed.stream}    format: {fmt_name}", ""]
        tools = [p for p in parsed.pieces if p.role == "tool_definition"]
        for piece in parsed.pieces:
            if piece.role != "tool_definition":
                lines.append(f"[{piece.role}] {piece.text}")
        if tools:
            lines += ["", "tools:"] + [f"  - {p.text[:300]}" for p in tools]
        return "\n".join(lines)[:MAX_RENDER]


class LLMStreamContentview(Contentview):
    """A streamed reply (SSE, NDJSON, JSON array) reassembled into text per channel."""

    name = "LLM stream"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        flow = metadata.flow
        if not data or not isinstance(flow, http.HTTPFlow) or metadata.http_message is not flow.response:
            return -1
        fmt_name = _format_of(metadata)
        if fmt_name is None:
            return -1
        codec = get_format(fmt_name).stream_codec(flow.request.path, (metadata.content_type or "").lower())
        return 2 if codec is not None else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        fmt_name = _format_of(metadata)
        flow = metadata.flow
        assert fmt_name and isinstance(flow, http.HTTPFlow)
        codec = get_format(fmt_name).stream_codec(flow.request.path, (metadata.content_type or "").lower())
        assert codec is not None
        framer = make_framer(codec.framing)
        channels: dict[Hashable, list[str]] = {}
        events = 0
        for event in framer.feed(data) + framer.close():
            events += 1
            decoded = codec.decode(event) if event.data is not None else None
            for delta in decoded.deltas if decoded else ():
                channels.setdefault(delta.channel, []).append(delta.text)
        lines = [f"{events} events, {len(channels)} channel(s)"]
        for key, parts in channels.items():
            lines += ["", f"== {key} ==", "".join(parts)]
        return "\n".join(lines)[:MAX_RENDER]


VIEWS: tuple[Contentview, ...] = (LLMRequestContentview(), LLMStreamContentview())


class ContentViews:
    """Registers the views while the addon is loaded."""

    def load(self, loader) -> None:
        for view in VIEWS:
            contentviews.add(view)
