"""Test-only mitmproxy addon: send provider traffic to the local fake provider, keeping Host and SNI.

    mitmdump -s addons/llmwall.py -s tests/e2e/route_to_fake.py \
        --set route_fake_port=8443 --set route_fake_plain_port=8080 \
        --set ssl_verify_upstream_trusted_ca=/path/to/fake/ca.pem

In `server_connect` the upstream address of a connection to a routed host (api.openai.com:443, ...) becomes
127.0.0.1:<route_fake_port> (port 443) or 127.0.0.1:<route_fake_plain_port> (any other port: plain HTTP,
e.g. Ollama on localhost:11434). The SNI stays the original host name, so mitmproxy verifies the fake's
certificate for that name against `ssl_verify_upstream_trusted_ca`; the Host header is not touched. Once
connected (`server_connected`) the connection's address is set back to the original host:port, so that
flows, logs and mitmproxy's connection reuse look exactly as with the real provider (peername shows where
the socket really goes). Works in regular and reverse mode (`--mode reverse:https://api.openai.com`).

Anything else is refused (`route_strict`), except loopback addresses, so a test can never reach the
internet. `route_flow_log=<file>` appends one JSON line per request/response/error seen by the proxy, which
tests use to prove that a client really went through mitmdump. When startup is complete (after mitmproxy's
own startup error check) the addon logs "route_to_fake: ready"; test harnesses wait for that line.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from mitmproxy import ctx, http
from mitmproxy.proxy import server_hooks

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # loaded by mitmdump -s: find tests/
from tests.fakeprovider.certs import PROVIDER_HOSTS  # noqa: E402

logger = logging.getLogger(__name__)

# The hosts the fake's certificate names, plus the local Ollama ports (plain HTTP, no certificate).
DEFAULT_ROUTES: tuple[str, ...] = tuple(h for h in PROVIDER_HOSTS if h != "localhost") + (
    "localhost:11434",
    "127.0.0.1:11434",
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RouteToFake:
    def __init__(self) -> None:
        self.original: dict[str, tuple[str, int]] = {}  # server connection id -> original address
        self._log_lock = threading.Lock()

    def load(self, loader) -> None:
        loader.add_option("route_fake_port", int, 0,
                          "Fake provider HTTPS port for routed hosts on port 443 (0: $ROUTE_FAKE_PORT).")
        loader.add_option("route_fake_plain_port", int, 0,
                          "Fake provider plain-HTTP port for routed hosts on other ports (0: $ROUTE_FAKE_PLAIN_PORT).")
        loader.add_option("route_fake_host", str, "127.0.0.1", "Where the fake provider listens.")
        loader.add_option("route_hosts", Sequence[str], list(DEFAULT_ROUTES),
                          "Host globs (optionally host:port) routed to the fake provider.")
        loader.add_option("route_strict", bool, True,
                          "Refuse connections to hosts that are neither routed nor loopback.")
        loader.add_option("route_flow_log", str, "", "Append one JSON line per flow event to this file.")

    # -- helpers ----------------------------------------------------------------------------------------
    def _ports(self) -> tuple[int, int]:
        tls = ctx.options.route_fake_port or int(os.environ.get("ROUTE_FAKE_PORT", "0") or 0)
        plain = ctx.options.route_fake_plain_port or int(os.environ.get("ROUTE_FAKE_PLAIN_PORT", "0") or 0)
        return tls, plain

    def _routed(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        for pattern in ctx.options.route_hosts:
            pat_host, sep, pat_port = pattern.lower().rpartition(":")
            if not sep or not pat_port.isdigit():
                pat_host, pat_port = pattern.lower(), ""
            if pat_port and int(pat_port) != port:
                continue
            if fnmatch.fnmatchcase(host, pat_host):
                return True
        return False

    def _log(self, record: dict) -> None:
        path = ctx.options.route_flow_log
        if not path:
            return
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._log_lock, open(path, "a", encoding="utf-8") as f:
            f.write(line)

    # -- hooks ------------------------------------------------------------------------------------------
    def running(self) -> None:
        async def announce() -> None:
            # mitmproxy runs its startup error check after the `running` hooks; wait until it is done
            # (ErrorCheck uninstalls its log handler then) so "ready" really means "will keep running".
            ec = ctx.master.addons.get("errorcheck")
            root = logging.getLogger()
            for _ in range(500):
                if ec is None or ec.logger not in root.handlers:
                    break
                await asyncio.sleep(0.01)
            tls, plain = self._ports()
            ps = ctx.master.addons.get("proxyserver")
            addrs = ps.listen_addrs() if ps else []
            logger.info(f"route_to_fake: ready tls_port={tls} plain_port={plain} listen={addrs}")

        self._announce_task = asyncio.get_running_loop().create_task(announce())

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        server = data.server
        if server.address is None:
            return
        host, port = str(server.address[0]), int(server.address[1])
        tls_port, plain_port = self._ports()
        if self._routed(host, port):
            target = tls_port if port == 443 else plain_port
            if not target:
                server.error = f"route_to_fake: no fake port configured for {host}:{port}"
                return
            if server.sni is None and not _is_loopback(host):
                try:
                    ipaddress.ip_address(host)
                except ValueError:
                    server.sni = host
            self.original[server.id] = (host, port)
            server.address = (ctx.options.route_fake_host, target)
            logger.info(f"route_to_fake: {host}:{port} -> {ctx.options.route_fake_host}:{target}")
        elif ctx.options.route_strict and not _is_loopback(host):
            server.error = f"route_to_fake: refusing to connect to {host}:{port} (not a routed test host)"

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        orig = self.original.pop(data.server.id, None)
        if orig is not None:
            # Server.__setattr__ refuses address changes on open connections; this one only restores the
            # name the connection was opened for, so flows and connection reuse see the provider's address.
            object.__setattr__(data.server, "address", orig)

    def server_connect_error(self, data: server_hooks.ServerConnectionHookData) -> None:
        self.original.pop(data.server.id, None)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._log({"event": "request", "id": flow.id, "method": flow.request.method,
                   "host": flow.request.host, "port": flow.request.port, "path": flow.request.path,
                   "host_header": flow.request.host_header, "scheme": flow.request.scheme,
                   "mode": str(flow.client_conn.proxy_mode.full_spec)})

    def response(self, flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        peer = flow.server_conn.peername
        self._log({"event": "response", "id": flow.id, "host": flow.request.host, "path": flow.request.path,
                   "status": flow.response.status_code, "streamed": bool(flow.response.stream),
                   "server_address": list(flow.server_conn.address) if flow.server_conn.address else None,
                   "peername": list(peer[:2]) if peer else None, "sni": flow.server_conn.sni})

    def error(self, flow: http.HTTPFlow) -> None:
        self._log({"event": "error", "id": flow.id, "host": flow.request.host, "path": flow.request.path,
                   "error": flow.error.msg if flow.error else None})


addons = [RouteToFake()]
