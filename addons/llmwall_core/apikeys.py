"""Provider API keys in requests: find them, fingerprint them, never show them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

KEY_HEADERS = ("x-api-key", "api-key", "x-goog-api-key")


def find_key(headers: Mapping[str, str], path: str) -> str | None:
    """The provider key a request carries (Authorization bearer, x-api-key, api-key, x-goog-api-key, ?key=)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    for name in KEY_HEADERS:
        value = headers.get(name)
        if value:
            return value.strip()
    query = urlsplit(path).query
    if "key=" in query:
        values = parse_qs(query).get("key")
        if values:
            return values[0]
    return None


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def preview(key: str) -> str:
    """What logs may show of a key: its first characters and its fingerprint's head."""
    return f"{key[:6]}… (sha256 {fingerprint(key)[:12]})"
