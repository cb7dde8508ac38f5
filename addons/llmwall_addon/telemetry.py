"""Prometheus metrics and the /metrics + /healthz endpoint, served from a thread off the event loop.

Labels are bounded: provider labels come from the route table, rule ids from the loaded rules, decisions
and abort reasons from fixed sets. No model name, client value or matched text is ever a label.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = logging.getLogger("llmwall")

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
HOLDBACK_BUCKETS = (0, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class Telemetry:
    """All llmwall metric families in one registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("llmwall_requests_total", "LLM exchanges by provider and decision",
                                ["provider", "decision"], registry=r)
        self.client_requests = Counter("llmwall_client_requests_total",
                                       "LLM exchanges by client identity (only identities listed in llmwall_clients; "
                                       "others are 'other') and decision", ["client", "decision"], registry=r)
        self.rule_matches = Counter("llmwall_rule_matches_total", "Rule matches", ["rule", "action", "phase"],
                                    registry=r)
        self.scan_seconds = Histogram("llmwall_scan_seconds", "Time spent scanning a whole body", ["phase"],
                                      buckets=LATENCY_BUCKETS, registry=r)
        self.first_chunk = Histogram("llmwall_stream_first_chunk_seconds",
                                     "From request start to the first streamed byte sent to the client",
                                     ["provider"], buckets=LATENCY_BUCKETS, registry=r)
        self.active_streams = Gauge("llmwall_active_streams", "Streams being guarded now", registry=r)
        self.stream_chunks = Counter("llmwall_stream_chunks_total", "Chunks sent to clients in guarded streams",
                                     ["provider"], registry=r)
        self.stream_aborts = Counter("llmwall_stream_aborts_total", "Streams that ended early, by reason",
                                     ["reason"], registry=r)
        self.upstream_errors = Counter("llmwall_upstream_errors_total", "Provider errors (HTTP >= 500, resets)",
                                       ["provider"], registry=r)
        self.holdback_chars = Histogram("llmwall_holdback_chars", "Most characters held back in one stream",
                                        buckets=HOLDBACK_BUCKETS, registry=r)
        self.rules_loaded = Gauge("llmwall_rules_loaded", "Rules in force", registry=r)
        self.empty_streams = Counter("llmwall_empty_streams_total", "Streams that ended with no content",
                                     registry=r)
        for reason in ("blocked", "client_disconnect", "upstream_error", "upstream_stall", "holdback_limit"):
            self.stream_aborts.labels(reason)
        self.health: dict[str, object] = {"status": "starting"}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- endpoint -------------------------------------------------------------------------------------

    def serve(self, host: str, port: int) -> None:
        """(Re)start the endpoint; port 0 disables it. Raises OSError if the port is taken."""
        self.stop()
        if port == 0:
            return
        telemetry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.split("?")[0] == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(telemetry.registry))
                elif self.path.split("?")[0] == "/healthz":
                    ok = telemetry.health.get("status") in ("ok", "degraded")  # degraded: last good rules serve
                    self._send(200 if ok else 503, "application/json", json.dumps(telemetry.health).encode())
                else:
                    self._send(404, "text/plain", b"not found: try /metrics or /healthz\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # keep scrapes out of mitmproxy's log
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="llmwall-metrics", daemon=True)
        self._thread.start()
        log.info("llmwall: metrics on http://%s:%d/metrics, health on /healthz", host, self.port)

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else 0

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
