"""Ending a live streamed reply from outside its data path.

A provider that has gone silent, or a stream llmwall has already blocked, should end now: the client gets
the provider's error event and a clean end of stream, and the provider stops generating (and billing).
mitmproxy 12 has no public API for that (the stream callable only runs when bytes arrive), so this reaches
into its proxy layers, the way `inject.websocket` does: it delivers a ResponseEndOfMessage to the flow's
HttpStream as an injected message. The stream callable then gets its final b"" call (where llmwall emits
the error event), the response hook runs, and the reply ends as if the provider had finished. The upstream
connection is then closed, unless it is HTTP/2 (shared with other streams, which must live on).

Everything here is best effort: any surprise in mitmproxy's internals makes `cut` return False and changes
nothing; mitmproxy's own `tcp_timeout` remains the last resort.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from mitmproxy import connection, ctx, http
from mitmproxy.proxy.events import MessageInjected
from mitmproxy.proxy.layers.http import HttpLayer, HttpStream
from mitmproxy.proxy.layers.http._events import ResponseEndOfMessage

log = logging.getLogger("llmwall")


class _EndNow(MessageInjected):
    """The injected message. It must not look like an HTTP event on its way down: a CONNECT tunnel's
    HttpStream turns a ResponseEndOfMessage into "server closed". `_Relay` turns it into one at the end."""

    def __init__(self, route: Any) -> None:
        self.flow = route
        self.message = None


class _Relay:
    """Stands in for the target HttpStream in its HttpLayer while the message is delivered: hands the
    stream a ResponseEndOfMessage for `_EndNow` and passes every other event through unchanged."""

    def __init__(self, stream: HttpStream) -> None:
        self.stream = stream
        self.delivered = False

    def handle_event(self, event: Any) -> Any:
        if isinstance(event, _EndNow):
            # Decided now, not when `cut` was called: the reply may have ended meanwhile, or the stream
            # may be waiting for a hook (it would queue the event and choke on it once done).
            state = getattr(self.stream.server_state, "__name__", "")
            if self.stream._paused or state != "state_stream_response_body":
                return iter(())
            self.delivered = True
            event = ResponseEndOfMessage(self.stream.stream_id)
        return self.stream.handle_event(event)


class _RouteKey:
    """Stands in for the flow on the injected message: its server_conn is a private routing key that
    HttpLayer looks up to find the stream (as it does for injected WebSocket messages)."""

    def __init__(self, flow: http.HTTPFlow) -> None:
        self.client_conn = flow.client_conn
        self.server_conn = connection.Server(address=None)


def _walk(layer: Any, path: list[tuple[HttpLayer, HttpStream]], flow: http.HTTPFlow,
          depth: int = 0) -> Iterator[list[tuple[HttpLayer, HttpStream]]]:
    """Paths of (HttpLayer, HttpStream) pairs from the top layer down to the stream that carries `flow`."""
    if layer is None or depth > 32:
        return
    if isinstance(layer, HttpLayer):
        for stream in list(layer.streams.values()):
            here = [*path, (layer, stream)]
            if stream.flow is flow:
                yield here
            else:
                yield from _walk(stream.child_layer, here, flow, depth + 1)
        return
    handler = getattr(layer, "_handle_event", None)  # some layers hand over to a child they do not keep
    delegate = getattr(handler, "__self__", None)
    for child in (getattr(layer, "layer", None), getattr(layer, "child_layer", None),
                  delegate if delegate is not layer else None):
        yield from _walk(child, path, flow, depth + 1)


async def cut(flow: http.HTTPFlow) -> bool:
    """End `flow`'s streamed reply now (the stream callable's final call decides what the client gets
    last) and close its upstream connection if that is not shared. True when the reply was ended."""
    try:
        proxyserver = ctx.master.addons.get("proxyserver")
        handler = proxyserver.connections.get(flow.client_conn.id) if proxyserver else None
        if handler is None or flow.response is None or not callable(flow.response.stream):
            return False
        path = next(_walk(handler.layer, [], flow), None)
        if path is None:
            return False
        key = _RouteKey(flow)
        owner, target = path[-1]
        relay = _Relay(target)
        for layer, stream in path:  # every HttpLayer on the way routes the key to the next stream down
            layer.connections[key.server_conn] = stream
        owner.streams[target.stream_id] = relay
        try:
            await handler.server_event(_EndNow(key))
        finally:
            for layer, _stream in path:
                layer.connections.pop(key.server_conn, None)
            if owner.streams.get(target.stream_id) is relay:  # still live: hand the stream back
                owner.streams[target.stream_id] = target
        if not relay.delivered:
            return False
        server = flow.server_conn
        if server.alpn != b"h2" and server in handler.transports:
            handler.close_connection(server)
        return True
    except Exception:  # noqa: BLE001 - internals moved: fall back to waiting for the provider
        log.warning("llmwall: could not end the stream early (mitmproxy internals differ)", exc_info=True)
        return False
