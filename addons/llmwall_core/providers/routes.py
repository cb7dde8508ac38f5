"""Which hosts are LLM providers, and which wire format each one speaks.

Recognition is by host (and port for local Ollama); the URL path then picks the endpoint inside the
format. Everything not listed here, or added by the operator, is not a provider and is left alone.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Route:
    provider: str  # bounded label for metrics and logs: "openai", "azure", "groq", ...
    format: str  # wire format module: "openai", "anthropic", "gemini", "ollama"


# (host glob, port or None for any, provider, format). Checked in order; first match wins.
KNOWN_HOSTS: tuple[tuple[str, int | None, str, str], ...] = (
    ("api.openai.com", None, "openai", "openai"),
    ("*.openai.azure.com", None, "azure", "openai"),
    ("*.services.ai.azure.com", None, "azure", "openai"),
    ("*.cognitiveservices.azure.com", None, "azure", "openai"),
    ("api.anthropic.com", None, "anthropic", "anthropic"),
    ("generativelanguage.googleapis.com", None, "gemini", "gemini"),
    ("*-aiplatform.googleapis.com", None, "vertex", "gemini"),
    ("aiplatform.googleapis.com", None, "vertex", "gemini"),
    ("api.mistral.ai", None, "mistral", "openai"),
    ("api.groq.com", None, "groq", "openai"),
    ("api.deepseek.com", None, "deepseek", "openai"),
    ("openrouter.ai", None, "openrouter", "openai"),
    ("api.together.xyz", None, "together", "openai"),
    ("api.together.ai", None, "together", "openai"),
    ("api.fireworks.ai", None, "fireworks", "openai"),
    ("api.x.ai", None, "xai", "openai"),
    ("localhost", 11434, "ollama", "ollama"),
    ("127.0.0.1", 11434, "ollama", "ollama"),
)

FORMATS = ("openai", "anthropic", "gemini", "ollama")


@dataclass(frozen=True, slots=True)
class ExtraHost:
    host: str
    port: int | None
    format: str


def parse_extra_host(spec: str) -> ExtraHost:
    """Parse an operator entry `host[:port]=format` (llmwall_providers). Raises ValueError."""
    target, sep, fmt = spec.partition("=")
    fmt = fmt.strip().lower()
    target = target.strip().lower()
    if not sep or not target or not fmt:
        raise ValueError(f"{spec!r}: expected host[:port]=format")
    if fmt not in FORMATS:
        raise ValueError(f"{spec!r}: unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    host, colon, port_text = target.rpartition(":") if target.count(":") == 1 else (target, "", "")
    if not colon:
        host, port = target, None
    else:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{spec!r}: bad port {port_text!r}")
        port = int(port_text)
    return ExtraHost(host=host, port=port, format=fmt)


def match_route(host: str, port: int, extra: tuple[ExtraHost, ...] = ()) -> Route | None:
    """The route for a request to host:port, or None when it is not LLM traffic."""
    host = host.lower().rstrip(".")
    for entry in extra:
        if (entry.port is None or entry.port == port) and fnmatch.fnmatchcase(host, entry.host):
            return Route(provider="custom", format=entry.format)
    for pattern, want_port, provider, fmt in KNOWN_HOSTS:
        if (want_port is None or want_port == port) and fnmatch.fnmatchcase(host, pattern):
            return Route(provider=provider, format=fmt)
    return None
