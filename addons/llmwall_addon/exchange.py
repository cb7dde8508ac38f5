"""Per-flow state (`Exchange`) and what llmwall writes on a flow for mitmweb and the log."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mitmproxy import http

from llmwall_core.identity import Client
from llmwall_core.model import Finding
from llmwall_core.policy import Verdict
from llmwall_core.providers.base import WireFormat
from llmwall_core.providers.routes import Route
from llmwall_core.pseudonyms import PseudonymVault
from llmwall_core.scan import RuleSet

from .streaming import GuardedStream

log = logging.getLogger("llmwall")


@dataclass(slots=True)
class Exchange:
    """Per-flow state, kept from request headers until the flow ends."""

    route: Route
    fmt: WireFormat
    rules: RuleSet
    started: float
    client: Client
    vault: PseudonymVault = field(default_factory=PseudonymVault)
    request_verdict: Verdict | None = None
    synthetic: bool = False  # the response is llmwall's own (a block): do not scan it
    stream: GuardedStream | None = None
    findings: list[Finding] = field(default_factory=list)
    decision: str = "allowed"
    first_chunk_at: float | None = None
    scan_seconds: float = 0.0
    reported_findings: int = 0
    ended: bool = False
    cutting: bool = False  # llmwall has asked mitmproxy to end the streamed reply now (cutter.py)
    websocket: bool = False  # a WebSocket session (Realtime / Live API): its messages are scanned until it ends


def annotate(flow: http.HTTPFlow, exchange: Exchange, note: str | None = None, log_it: bool = True) -> None:
    """Findings on the flow for mitmweb (comment, marker) and in the log; never a raw value."""
    lines = [f"llmwall: {exchange.decision} ({exchange.route.provider}, client {exchange.client.id})"]
    seen: set[tuple[str, str, str]] = set()
    for finding in exchange.findings:
        key = (finding.rule_id, finding.location, finding.preview)
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"- {finding.phase.value} {finding.action.value} {finding.rule_id} at {finding.location}: "
                     f"{finding.preview}")
    if note:
        lines.append(f"- {note}")
    flow.comment = "\n".join(lines[:50])
    if exchange.findings and not flow.marked:
        flow.marked = ":warning:"
    flow.metadata["llmwall"] = {
        "provider": exchange.route.provider,
        "format": exchange.route.format,
        "decision": exchange.decision,
        "client": exchange.client.id,
        "rules": sorted({f.rule_id for f in exchange.findings}),
    }
    if log_it and (exchange.findings or note):
        log.info("llmwall: %s %s %s%s", exchange.decision, exchange.route.provider, flow.request.path[:80],
                 "".join(f" [{f.rule_id}: {f.preview}]" for f in exchange.findings[:10]))
