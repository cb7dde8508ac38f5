"""WebSocket sessions to providers (OpenAI's Realtime API, Gemini's Live API), scanned message by message.

The hooks live here and are mixed into LLMWall, which owns the exchanges, the settings and `_end`. The
session's exchange is kept from the upgrade request until `websocket_end`.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from mitmproxy import ctx, http
from mitmproxy.websocket import WebSocketMessage

from llmwall_core.policy import UnreadableBody, Verdict, inspect_message, inspect_server_message, restore_message

from .exchange import Exchange, annotate

if TYPE_CHECKING:
    from .options import Settings

log = logging.getLogger("llmwall")


class WebSocketSessions:
    """Hooks for WebSocket flows whose exchange LLMWall opened (`exchange.websocket`)."""

    exchanges: dict[str, Exchange]
    settings: Settings | None

    if TYPE_CHECKING:
        def _end(self, flow: http.HTTPFlow, exchange: Exchange, how: str) -> None: ...  # LLMWall's

    def websocket_message(self, flow: http.HTTPFlow) -> None:
        """A client's message is scanned like a request before it goes on: dropped with an error event to the
        client when blocked, rewritten when redacted. The provider's events that complete a text or a tool call
        go through the output rules (deltas do not: see llmwall_core/realtime.py)."""
        exchange = self.exchanges.get(flow.id)
        if exchange is None or not exchange.websocket or flow.websocket is None or self.settings is None:
            return
        message = flow.websocket.messages[-1]
        if message.injected or not message.is_text:
            return
        if not message.from_client:
            self._scan_provider_message(flow, exchange, message)
            return
        try:
            verdict = inspect_message(exchange.rules, exchange.route.provider, message.content, exchange.vault,
                                      self.settings.enforce, exchange.client, self.settings.max_json_depth)
        except UnreadableBody as exc:
            if self.settings.fail_open or not self.settings.enforce:
                annotate(flow, exchange, note=f"message not scanned: {exc}")
                return
            self._refuse_message(flow, exchange, message, f"llmwall could not read this message: {exc}")
            return
        self._apply(flow, exchange, message, verdict, "llmwall blocked this message")

    def _scan_provider_message(self, flow: http.HTTPFlow, exchange: Exchange, message: WebSocketMessage) -> None:
        """An event that completes a text or a tool call goes through the output rules; any other gets this
        session's placeholders back."""
        assert self.settings is not None
        try:
            verdict = inspect_server_message(exchange.rules, message.content, exchange.vault, self.settings.enforce,
                                             self.settings.max_json_depth)
        except UnreadableBody:
            return  # not JSON: no event llmwall knows
        if verdict is None:
            if self.settings.enforce and (restored := restore_message(exchange.vault, message.text)) is not None:
                message.text = restored
            return
        self._apply(flow, exchange, message, verdict, "llmwall blocked the provider's message")

    def _apply(self, flow: http.HTTPFlow, exchange: Exchange, message: WebSocketMessage, verdict: Verdict,
               blocked: str) -> None:
        """Record a message's findings and carry out its verdict: drop it, rewrite it, or let it pass."""
        assert self.settings is not None
        if not verdict.findings and verdict.body is None:
            return
        exchange.findings.extend(verdict.findings)
        if verdict.blocked and self.settings.enforce:
            exchange.decision = "blocked"
            incident = f"; incident {verdict.incident}" if verdict.incident else ""
            self._refuse_message(flow, exchange, message, f"{blocked} (rules: {', '.join(verdict.blocked_by)}{incident})")
            return
        if verdict.body is not None:
            message.content = verdict.body
        if verdict.findings:
            if exchange.decision == "allowed":
                exchange.decision = verdict.decision
            annotate(flow, exchange)

    def _refuse_message(self, flow: http.HTTPFlow, exchange: Exchange, message: WebSocketMessage, reason: str) -> None:
        """Drop a message (the client's or the provider's) and tell the client why, as the provider's error event."""
        message.drop()
        event = json.loads(exchange.fmt.error_body(403, reason, "llmwall_blocked"))
        event["type"] = "error"
        try:
            ctx.master.commands.call("inject.websocket", flow, True, json.dumps(event).encode(), True)
        except Exception:  # noqa: BLE001 - no master in unit tests; the message is dropped all the same
            log.warning("llmwall: could not tell the client why a message was dropped")
        flow.marked = ":no_entry:"
        annotate(flow, exchange, note=reason)

    def websocket_end(self, flow: http.HTTPFlow) -> None:
        exchange = self.exchanges.pop(flow.id, None)
        if exchange is None:
            return
        annotate(flow, exchange, log_it=False)
        self._end(flow, exchange, "blocked" if exchange.decision == "blocked" else "complete")
