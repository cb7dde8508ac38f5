"""Access control for provider requests: who is calling, whether their provider key is approved, and
whether they are within their rate limit. Answers are refusals in the provider's own error shape."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mitmproxy import http

from llmwall_core.apikeys import find_key, fingerprint, preview
from llmwall_core.identity import Client, ClientSelector, any_matches
from llmwall_core.ratelimit import RateLimiter

log = logging.getLogger("llmwall")


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str
    code: str
    headers: tuple[tuple[str, str], ...] = ()


def client_of(flow: http.HTTPFlow, trusted: tuple[ClientSelector, ...] = ()) -> Client:
    """The proxy-auth user name (mitmproxy's proxyauth addon) when set, else the client address. Behind
    a trusted front (NGINX, a load balancer), the address is the right-most X-Forwarded-For entry that
    is not itself a trusted front."""
    auth = flow.metadata.get("proxyauth")
    user = auth[0] if isinstance(auth, tuple) and auth and isinstance(auth[0], str) and auth[0] else None
    peer = flow.client_conn.peername
    address = str(peer[0]) if peer else "unknown"
    if trusted and any_matches(trusted, Client(None, address)):
        forwarded = ",".join(flow.request.headers.get_all("x-forwarded-for"))
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            address = hop
            if not any_matches(trusted, Client(None, hop)):
                break
    return Client(user=user, address=address)


class AccessControl:
    """Approved provider keys (by SHA-256 fingerprint) and per-client token buckets."""

    def __init__(self, approved_fingerprints: frozenset[str], limiter: RateLimiter | None) -> None:
        self.approved = approved_fingerprints
        self.limiter = limiter

    def check(self, flow: http.HTTPFlow, client: Client) -> Refusal | None:
        if self.approved:
            key = find_key(flow.request.headers, flow.request.path)
            if key is None or fingerprint(key) not in self.approved:
                shown = preview(key) if key else "none"
                log.warning("llmwall: refused unapproved provider key %s from %s", shown, client.id)
                return Refusal(403, f"llmwall: this provider API key is not approved for use here (key {shown})",
                               "llmwall_key_not_approved")
        if self.limiter is not None:
            wait = self.limiter.take(client.id)
            if wait > 0:
                retry = RateLimiter.retry_after(wait)
                return Refusal(429, f"llmwall: rate limit for {client.id} exceeded; retry after {retry} s",
                               "llmwall_rate_limited", (("retry-after", retry),))
        return None
