"""mitmproxy's `stream_large_bodies`, applied by llmwall so that prompts over the limit are still scanned.

mitmproxy decides to stream a body in its HTTP layer, before any addon sees the flow, and streams a request
body to the server as it arrives: the `request` hook fires only after the provider has the whole prompt. With
the option set, a prompt over the limit would reach the provider unscanned, and a JSON reply over it would
reach the client unscanned. So llmwall takes the option over: it keeps the limit, unsets mitmproxy's own, and
streams the large bodies of everything it does not read itself. Provider prompts and JSON replies stay
buffered up to `llmwall_max_body` (larger ones follow `llmwall_fail`); provider streams go through llmwall's
stream guard as always.

One difference from mitmproxy: the size of a body is known only from its headers here. A body of unknown
length (chunked, or a reply read until the connection closes) is streamed at once; an HTTP/2 request body
without Content-Length is buffered.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx, http
from mitmproxy.net.http.http1 import expected_http_body_size
from mitmproxy.utils import human

log = logging.getLogger("llmwall")


class LargeBodies:
    """Holds the operator's `stream_large_bodies` limit and applies it to the flows llmwall does not read."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self._unsetting = False

    def configure(self, updated: set[str]) -> None:
        """Take the option over whenever it is set (at start or later, from mitmweb or a script)."""
        if "stream_large_bodies" not in updated or self._unsetting:
            return
        value = ctx.options.stream_large_bodies
        self.limit = human.parse_size(value) if value else None
        if self.limit is None:
            return
        log.info("llmwall: applying stream_large_bodies=%s itself: other traffic streams above it, LLM prompts and "
                 "replies are still read whole for scanning (up to llmwall_max_body)", value)
        self._unsetting = True
        try:
            ctx.options.update(stream_large_bodies=None)
        finally:
            self._unsetting = False

    def stream_if_large(self, flow: http.HTTPFlow, message: http.Message) -> None:
        """Stream `message` (the flow's request or response) if it may exceed the limit."""
        if self.limit is None or message.stream:
            return
        try:
            if message is flow.request:
                size = expected_http_body_size(flow.request)
            else:
                size = expected_http_body_size(flow.request, flow.response)
        except ValueError:
            return  # malformed length headers: left to mitmproxy, which buffers
        if size is None or size < 0 or size > self.limit:
            message.stream = True
