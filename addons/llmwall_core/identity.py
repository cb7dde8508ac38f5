"""Who is calling: the proxy-auth user name, else the client address. Rules scope to clients by name or CIDR."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Client:
    """The identity attached to every decision, audit record and (bounded) metric label."""

    user: str | None
    address: str

    @property
    def id(self) -> str:
        return self.user if self.user else self.address


@dataclass(frozen=True, slots=True)
class ClientSelector:
    """A rule's `clients` entry: a user name, or a CIDR range of client addresses."""

    user: str | None = None
    network: Network | None = None

    def matches(self, client: Client) -> bool:
        if self.user is not None:
            return client.user == self.user
        assert self.network is not None
        try:
            return ipaddress.ip_address(client.address.split("%")[0]) in self.network
        except ValueError:
            return False


def parse_selector(text: str) -> ClientSelector:
    """`alice`, `10.0.0.0/8`, `192.168.1.7` or `::1`. Raises ValueError."""
    text = text.strip()
    if not text:
        raise ValueError("empty client entry")
    if any(ch.isdigit() for ch in text) and ("." in text or ":" in text):
        try:
            return ClientSelector(network=ipaddress.ip_network(text, strict=False))
        except ValueError:
            pass
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{text!r} is neither a user name nor an address range")
    return ClientSelector(user=text)


def any_matches(selectors: tuple[ClientSelector, ...], client: Client | None) -> bool:
    return client is not None and any(s.matches(client) for s in selectors)
