"""Which provider a flow goes to: by its destination, its Host header or its TLS server name.

The destination alone is not enough. In transparent, WireGuard and local mode mitmproxy's `request.host` is
the IP address the client connected to, and a client that connects to a provider's address (or asks the
proxy for `http://<ip>/...`) still names the provider in the Host header and in SNI, which is what the
provider routes on. A flow is provider traffic if any of the three names a provider.
"""

from __future__ import annotations

from mitmproxy import http
from mitmproxy.net.http.url import parse_authority

from llmwall_core.providers.routes import ExtraHost, Route, match_route


def route_of(flow: http.HTTPFlow, extra: tuple[ExtraHost, ...] = ()) -> Route | None:
    """The provider route of `flow`, or None when no name it carries is a provider's."""
    request = flow.request
    route = match_route(request.host, request.port, extra)
    if route is None and request.host_header:
        host, port = parse_authority(request.host_header, check=False)
        route = match_route(host, port or request.port, extra)
    if route is None and flow.client_conn.sni:
        route = match_route(flow.client_conn.sni, request.port, extra)
    return route
