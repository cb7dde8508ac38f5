"""The llmwall addon: recognise LLM provider traffic, enforce the rules on requests and replies.

A thin adapter from mitmproxy hooks to llmwall_core. Non-provider flows return at the first guard of
every hook: no body is read, nothing is scanned.
"""

from __future__ import annotations

import asyncio
import logging
import time

from mitmproxy import ctx, exceptions, http
from mitmproxy.hooks import UpdateHook

from llmwall_core.decoding import TooLarge, decode_limited
from llmwall_core.policy import JsonTooDeep, UnreadableBody, Verdict, inspect_request, inspect_response
from llmwall_core.providers import get_format
from llmwall_core.ratelimit import RateLimiter
from llmwall_core.rules import RuleError, load_rules
from llmwall_core.scan import RuleSet
from llmwall_core.stream_guard import StreamGuard

from . import cutter
from .access import AccessControl, client_of
from .audit import AuditWriter, audit_record
from .bodies import LargeBodies
from .exchange import Exchange, annotate
from .options import OPTIONS, Settings, parse_settings
from .reload import RuleWatcher
from .routing import route_of
from .sessions import WebSocketSessions
from .streaming import GuardedStream, RefuseStream, make_decoder
from .telemetry import Telemetry

log = logging.getLogger("llmwall")

# Bodies larger than this are scanned in a thread so other flows' streams keep moving. Not lower: under the
# GIL the hand-off made a 128 KB scan ~50 % slower (29 -> 39 ms, first byte 34 -> 52 ms), and inline
# scans below this take up to ~60 ms.
THREAD_SCAN_BYTES = 256 * 1024
STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/jsonl", "application/json-seq")


async def scan_off_loop_if_large(scan, args: tuple, size: int, **kw) -> Verdict:
    """Large bodies are scanned in a thread so one big prompt cannot stall every other flow's stream."""
    if size > THREAD_SCAN_BYTES:
        return await asyncio.to_thread(scan, *args, **kw)
    return scan(*args, **kw)


class LLMWall(WebSocketSessions):
    """Guards requests to LLM providers and their replies, streamed or not."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.rules: RuleSet | None = None
        self.exchanges: dict[str, Exchange] = {}
        self.telemetry = Telemetry()
        self.audit: AuditWriter | None = None
        self.watcher: RuleWatcher | None = None
        self.access = AccessControl(frozenset(), None)
        self.bodies = LargeBodies()
        self.streaming: dict[str, http.HTTPFlow] = {}  # flows whose guarded reply is streaming now
        self._tasks: set[asyncio.Task] = set()
        self._stall_watch: asyncio.Task | None = None

    # -- options ------------------------------------------------------------------------------------

    def load(self, loader) -> None:
        for name, typespec, default, help_text in OPTIONS:
            loader.add_option(name, typespec, default, help_text)

    def configure(self, updated: set[str]) -> None:
        self.bodies.configure(updated)
        if not any(name.startswith("llmwall_") for name in updated):
            return
        settings = parse_settings(ctx.options)
        if self.rules is None or "llmwall_rules" in updated:
            try:
                rules = load_rules(settings.rules)
            except RuleError as exc:
                raise exceptions.OptionsError(f"llmwall: rules not loaded: {exc}") from None
            except OSError as exc:
                raise exceptions.OptionsError(f"llmwall: cannot read rules: {exc}") from None
            self._use_rules(rules)
        old = self.settings
        if old is None or (old.metrics_host, old.metrics_port) != (settings.metrics_host, settings.metrics_port):
            try:
                self.telemetry.serve(settings.metrics_host, settings.metrics_port)
            except OSError as exc:
                raise exceptions.OptionsError(
                    f"llmwall: cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: {exc}"
                ) from None
        if old is None or old.audit_log != settings.audit_log:
            if self.audit is not None:
                self.audit.close()
            self.audit = AuditWriter(settings.audit_log) if settings.audit_log else None
        if old is None or (old.rate, old.approved_keys) != (settings.rate, settings.approved_keys):
            self.access = AccessControl(settings.approved_keys, RateLimiter(settings.rate) if settings.rate else None)
        self.settings = settings
        if old is None or "llmwall_rules" in updated or old.reload_interval != settings.reload_interval:
            if self.watcher is not None:
                self.watcher.stop()
            self.watcher = RuleWatcher(settings.rules, settings.reload_interval, self._use_rules, self._rules_failed)
            try:
                self.watcher.start()
            except RuntimeError:  # no running loop yet (unit tests): `running` starts it
                pass

    def running(self) -> None:
        if self.watcher is not None:
            self.watcher.start()
        if self._stall_watch is None:
            self._stall_watch = asyncio.get_running_loop().create_task(self._watch_stalls())

    def _use_rules(self, rules: RuleSet) -> None:
        """New rules apply to exchanges that start from now on; live ones keep theirs."""
        self.rules = rules
        self.telemetry.rules_loaded.set(len(rules))
        self.telemetry.health = {"status": "ok", "rules": len(rules), "rules_version": rules.version}
        log.info("llmwall: %d rules loaded from %d file(s), version %s", len(rules), len(rules.files), rules.version)

    def _rules_failed(self, error: Exception) -> None:
        self.telemetry.health = {
            "status": "degraded" if self.rules is not None else "failed",
            "rules": len(self.rules) if self.rules else 0,
            "rules_version": self.rules.version if self.rules else None,
            "reload_error": str(error),
        }

    def done(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self._stall_watch is not None:
            self._stall_watch.cancel()
        self.telemetry.stop()
        if self.audit is not None:
            self.audit.close()

    # -- requests -----------------------------------------------------------------------------------

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.settings is None or self.rules is None:
            return
        route = route_of(flow, self.settings.providers)
        if route is None:
            self.bodies.stream_if_large(flow, flow.request)
            return
        client = client_of(flow, self.settings.trusted_proxies)
        exchange = Exchange(route, get_format(route.format), self.rules, time.monotonic(), client)
        self.exchanges[flow.id] = exchange
        flow.request.anticomp()  # ask for identity so a reply can be rewritten without re-compressing
        refusal = self.access.check(flow, exchange.client)
        if refusal is not None:
            exchange.decision = "refused"
            self._respond_error(flow, exchange, refusal.status, refusal.message, refusal.code)
            assert flow.response is not None
            for name, value in refusal.headers:
                flow.response.headers[name] = value
            annotate(flow, exchange, note=refusal.message)

    async def request(self, flow: http.HTTPFlow) -> None:
        exchange = self.exchanges.get(flow.id)
        if exchange is None or flow.response or flow.error:
            return
        settings = self.settings
        assert settings is not None
        if flow.request.headers.get("upgrade", "").lower() == "websocket":
            exchange.websocket = True  # the Realtime and Live APIs: each message is scanned (websocket_message)
            return
        if flow.request.method in ("GET", "HEAD", "OPTIONS", "DELETE") and not flow.request.raw_content:
            return
        if flow.request.raw_content is None:
            self._unscannable(flow, exchange, 413, "request body was streamed (stream_large_bodies); it could not be scanned")
            return
        if len(flow.request.raw_content) > settings.max_body:
            self._unscannable(flow, exchange, 413, f"request body is larger than llmwall_max_body ({settings.max_body} bytes)")
            return
        try:  # bounded: a small compressed bomb cannot expand past llmwall_max_body
            body = decode_limited(flow.request.raw_content, flow.request.headers.get("content-encoding", ""),
                                  settings.max_body)
        except TooLarge:
            self._unscannable(flow, exchange, 413, f"decoded request body is larger than llmwall_max_body ({settings.max_body} bytes)")
            return
        except ValueError as exc:
            self._unscannable(flow, exchange, 400, f"request body could not be decoded ({exc})")
            return
        if not body:
            return
        args = (exchange.rules, exchange.fmt, exchange.route.provider, flow.request.path, body, exchange.vault,
                settings.enforce, exchange.client)
        started = time.perf_counter()
        try:
            verdict = await scan_off_loop_if_large(inspect_request, args, len(body), max_depth=settings.max_json_depth,
                                                   content_type=flow.request.headers.get("content-type", ""))
        except UnreadableBody as exc:
            self._unscannable(flow, exchange, 400, f"request could not be read: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - an internal error follows llmwall_fail
            log.exception("llmwall: scanning failed")
            self._unscannable(flow, exchange, 500, f"request could not be scanned ({type(exc).__name__})")
            return
        exchange.scan_seconds += time.perf_counter() - started
        self.telemetry.scan_seconds.labels("request").observe(time.perf_counter() - started)
        exchange.request_verdict = verdict
        exchange.findings.extend(verdict.findings)
        exchange.decision = verdict.decision
        if verdict.blocked and settings.enforce:
            message = (f"llmwall blocked this request (rules: {', '.join(verdict.blocked_by)}; "
                       f"incident {verdict.incident})")
            self._respond_error(flow, exchange, 403, message, "llmwall_blocked")
        elif verdict.body is not None:
            flow.request.content = verdict.body
        annotate(flow, exchange)

    def _unscannable(self, flow: http.HTTPFlow, exchange: Exchange, status: int, reason: str) -> None:
        assert self.settings is not None
        log.warning("llmwall: %s %s: %s (llmwall_fail=%s)", exchange.route.provider, flow.request.path[:80],
                    reason, "open" if self.settings.fail_open else "closed")
        if self.settings.fail_open or not self.settings.enforce:
            exchange.decision = "unscanned"
            annotate(flow, exchange, note=f"not scanned: {reason}")
            return
        exchange.decision = "refused"
        self._respond_error(flow, exchange, status, f"llmwall refused this request: {reason}", "llmwall_unscannable")
        annotate(flow, exchange, note=reason)

    def _respond_error(self, flow: http.HTTPFlow, exchange: Exchange, status: int, message: str, code: str) -> None:
        body = exchange.fmt.error_body(status, message, code)
        flow.response = http.Response.make(status, body, {"content-type": "application/json"})
        exchange.synthetic = True
        flow.marked = ":no_entry:"

    # -- responses ----------------------------------------------------------------------------------

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        exchange = self.exchanges.get(flow.id)
        if flow.response is None:
            return
        if exchange is None:
            self.bodies.stream_if_large(flow, flow.response)
            return
        if exchange.synthetic:
            return
        response = flow.response
        content_type = response.headers.get("content-type", "").lower()
        codec = None
        if response.status_code < 400 or any(t in content_type for t in STREAM_TYPES):
            codec = exchange.fmt.stream_codec(flow.request.path, content_type)
        if codec is None:
            if response.status_code >= 400 or "json" not in content_type:
                self.bodies.stream_if_large(flow, response)  # a reply `_scan_reply` does not read
            return  # otherwise buffered, and scanned whole in `response`
        assert self.settings is not None
        from llmwall_core.framing import make_framer

        try:
            decoder = make_decoder(response.headers.get("content-encoding", ""))
        except ValueError as exc:
            log.warning("llmwall: %s", exc)
            decoder = None
            if not self.settings.fail_open:
                codec_error = codec.error_event(f"llmwall cannot scan this stream: {exc}", "llmwall_unscannable")
                response.stream = RefuseStream(codec_error)
                return
        if decoder is not None:
            del response.headers["content-encoding"]  # we forward the decoded bytes (see README)
        if "content-length" in response.headers:
            del response.headers["content-length"]  # rewrites change the length
            if response.http_version == "HTTP/1.1":
                response.headers["transfer-encoding"] = "chunked"
        guard = StreamGuard(codec, make_framer(codec.framing), exchange.rules, exchange.vault,
                            self.settings.max_holdback, self.settings.enforce)
        exchange.stream = GuardedStream(guard, decoder, self.settings.fail_open, self._on_stream_chunk(flow, exchange),
                                        keep_limit=self.settings.stream_body_limit)
        response.stream = exchange.stream
        self.streaming[flow.id] = flow
        self.telemetry.active_streams.inc()

    def _on_stream_chunk(self, flow: http.HTTPFlow, exchange: Exchange):
        """Per-chunk bookkeeping: first-chunk time, chunk count, live findings for mitmweb."""
        chunks = self.telemetry.stream_chunks.labels(exchange.route.provider)

        def observe(stream: GuardedStream, out: list[bytes]) -> None:
            if out:
                chunks.inc()
                if exchange.first_chunk_at is None:
                    exchange.first_chunk_at = time.monotonic()
            if stream.guard.blocked_by is not None and not stream.finished:
                self._cut(flow, exchange)  # the error event is out: end the reply, stop the provider
            found = stream.guard.findings
            if len(found) > exchange.reported_findings and not stream.finished:
                exchange.reported_findings = len(found)
                live = Exchange(exchange.route, exchange.fmt, exchange.rules, exchange.started, exchange.client,
                                findings=exchange.findings + found,
                                decision="blocked" if stream.guard.blocked_by else "redacted")
                annotate(flow, live, log_it=False)
                try:
                    ctx.master.addons.trigger(UpdateHook([flow]))
                except Exception:  # noqa: BLE001 - no master in unit tests; mitmweb only needs a refresh
                    pass

        return observe

    def _cut(self, flow: http.HTTPFlow, exchange: Exchange) -> None:
        """Ask mitmproxy to end this streamed reply now (once); see cutter.py."""
        if exchange.cutting:
            return
        exchange.cutting = True
        try:
            task = asyncio.get_running_loop().create_task(cutter.cut(flow))
        except RuntimeError:  # no event loop (unit tests drive the callable directly)
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_stalls(self) -> None:
        """End streams whose provider has been silent longer than llmwall_stream_idle_timeout."""
        while True:
            limit = self.settings.stream_idle_timeout if self.settings else 0
            await asyncio.sleep(min(5.0, max(0.25, limit / 8)) if limit else 5.0)
            if limit:
                try:
                    self._cut_stalled(limit)
                except Exception:  # noqa: BLE001 - the watch must outlive any one bad flow
                    log.exception("llmwall: the stall watch failed on one pass")

    def _cut_stalled(self, limit: float) -> None:
        now = time.monotonic()
        for flow_id, flow in list(self.streaming.items()):
            exchange = self.exchanges.get(flow_id)
            stream = exchange.stream if exchange else None
            if exchange is None or stream is None or stream.finished or exchange.cutting:
                continue
            silent = now - stream.last_data_at
            if silent >= limit:
                stream.stalled_after = silent
                log.warning("llmwall: %s sent nothing for %.0f s; ending the stream with an error event",
                            exchange.route.provider, silent)
                self._cut(flow, exchange)

    async def response(self, flow: http.HTTPFlow) -> None:
        exchange = self.exchanges.get(flow.id)
        if exchange is None:
            return
        if exchange.websocket and flow.response is not None and flow.response.status_code == 101:
            return  # the session has just begun; it ends in websocket_end
        del self.exchanges[flow.id]
        if not exchange.synthetic and flow.response is not None:
            if flow.response.status_code >= 500:
                self.telemetry.upstream_errors.labels(exchange.route.provider).inc()
            if exchange.stream is not None:
                self._finish_stream(flow, exchange)
            else:
                await self._scan_reply(flow, exchange)
        self._end(flow, exchange, "blocked" if exchange.decision == "blocked" else "complete")

    async def _scan_reply(self, flow: http.HTTPFlow, exchange: Exchange) -> None:
        response = flow.response
        assert response is not None and self.settings is not None
        if response.status_code >= 400 or "json" not in response.headers.get("content-type", "").lower():
            return
        if response.raw_content is None or len(response.raw_content) > self.settings.max_body:
            self._reply_not_scanned(flow, exchange, f"it is larger than llmwall_max_body ({self.settings.max_body} bytes)")
            return
        try:
            body = decode_limited(response.raw_content, response.headers.get("content-encoding", ""),
                                  self.settings.max_body)
        except ValueError:  # TooLarge included
            self._reply_not_scanned(flow, exchange, "it could not be decoded within llmwall_max_body")
            return
        if not body:
            return
        args = (exchange.rules, exchange.fmt, flow.request.path, body, exchange.vault, self.settings.enforce)
        started = time.perf_counter()
        try:
            verdict = await scan_off_loop_if_large(inspect_response, args, len(body),
                                                   max_depth=self.settings.max_json_depth)
            self.telemetry.scan_seconds.labels("response").observe(time.perf_counter() - started)
        except JsonTooDeep as exc:  # readable only past a limit: the same policy as a reply that cannot be scanned
            self._reply_not_scanned(flow, exchange, str(exc))
            return
        except UnreadableBody:
            return  # not a reply shape we know (e.g. a list endpoint): nothing to scan
        except Exception:  # noqa: BLE001
            log.exception("llmwall: scanning the reply failed")
            if not self.settings.fail_open:
                self._replace_reply(flow, exchange, 502, "llmwall could not scan the reply")
            return
        exchange.findings.extend(verdict.findings)
        if verdict.blocked:
            self._replace_reply(flow, exchange, 403, f"llmwall blocked the reply (rules: {', '.join(verdict.blocked_by)})")
            exchange.decision = "blocked"
        elif verdict.body is not None:
            response.content = verdict.body
            if verdict.decision != "allowed" and exchange.decision == "allowed":
                exchange.decision = verdict.decision
        annotate(flow, exchange)

    def _reply_not_scanned(self, flow: http.HTTPFlow, exchange: Exchange, reason: str) -> None:
        """A reply llmwall cannot read follows llmwall_fail: replaced by an error (closed) or passed (open)."""
        assert self.settings is not None
        log.warning("llmwall: reply not scanned: %s (llmwall_fail=%s)", reason, "open" if self.settings.fail_open else "closed")
        if not self.settings.fail_open:
            self._replace_reply(flow, exchange, 502, f"llmwall could not scan the reply: {reason}")
        annotate(flow, exchange, note=f"reply not scanned: {reason}")

    def _replace_reply(self, flow: http.HTTPFlow, exchange: Exchange, status: int, message: str) -> None:
        assert flow.response is not None
        flow.response.status_code = status
        flow.response.headers["content-type"] = "application/json"
        flow.response.content = exchange.fmt.error_body(status, message, "llmwall_blocked")
        flow.marked = ":no_entry:"

    def _finish_stream(self, flow: http.HTTPFlow, exchange: Exchange) -> None:
        stream = exchange.stream
        assert stream is not None
        guard = stream.guard
        exchange.findings.extend(guard.findings)
        if flow.response is not None and flow.response.raw_content is None and stream.kept:
            flow.response.data.content = bytes(stream.kept)  # shown by mitmweb; already sent, not re-sent
        note = None
        if stream.stalled_after is not None:
            self.telemetry.upstream_errors.labels(exchange.route.provider).inc()
            note = f"provider silent for {stream.stalled_after:.0f} s: ended with an error event"
        elif guard.blocked_by is not None:
            exchange.decision = "blocked"
            flow.marked = ":no_entry:"
        elif guard.findings and exchange.decision == "allowed":
            exchange.decision = "redacted"
        annotate(flow, exchange, note=note)

    def error(self, flow: http.HTTPFlow) -> None:
        exchange = self.exchanges.pop(flow.id, None)
        if exchange is None:
            return
        message = flow.error.msg if flow.error else "unknown"
        client_gone = "client" in message.lower()
        stream = exchange.stream
        if client_gone and stream is not None and not stream.finished and stream.guard.complete:
            # the client closed after the reply's final event ([DONE], message_stop ...), before the provider's
            # last bytes: it had the whole reply
            self._finish_stream(flow, exchange)
            self._end(flow, exchange, "complete")
            return
        if stream is not None:
            exchange.findings.extend(stream.guard.findings)
        if client_gone and stream is not None and not stream.finished:
            # mitmproxy's tcp_timeout reports "Client disconnected" when it closes an idle stream; if the
            # provider has been silent that long, the stall is upstream's, not the client's
            silent = time.monotonic() - stream.last_data_at
            if silent >= 0.9 * ctx.options.tcp_timeout:
                client_gone = False
                message = f"provider silent for {silent:.0f} s (tcp_timeout): {message}"
        if not client_gone:
            self.telemetry.upstream_errors.labels(exchange.route.provider).inc()
        annotate(flow, exchange, note=f"connection error: {message[:200]}")
        self._end(flow, exchange, "client_disconnect" if client_gone else "upstream_error")

    def _end(self, flow: http.HTTPFlow, exchange: Exchange, how: str) -> None:
        """Once per exchange: metrics and the audit record."""
        if exchange.ended:
            return
        exchange.ended = True
        t = self.telemetry
        t.requests.labels(exchange.route.provider, exchange.decision).inc()
        assert self.settings is not None
        client_label = exchange.client.id if exchange.client.id in self.settings.clients else "other"
        t.client_requests.labels(client_label, exchange.decision).inc()
        for finding in exchange.findings:
            t.rule_matches.labels(finding.rule_id, finding.action.value, finding.phase.value).inc()
        stream = exchange.stream
        self.streaming.pop(flow.id, None)
        if stream is not None:
            t.active_streams.dec()
            t.holdback_chars.observe(stream.guard.max_held)
            if exchange.first_chunk_at is not None:
                t.first_chunk.labels(exchange.route.provider).observe(exchange.first_chunk_at - exchange.started)
            if stream.stalled_after is not None:
                how = "upstream_stall"
            elif stream.guard.blocked_by is not None:
                how = "holdback_limit" if stream.guard.blocked_by == "holdback_limit" else "blocked"
            if how != "complete":
                t.stream_aborts.labels(how).inc()
            elif stream.guard.text_chars == 0:
                t.empty_streams.inc()
        if self.audit is not None:
            self.audit.write(audit_record(flow, exchange, how))
