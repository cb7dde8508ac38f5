"""A local fake LLM provider for end-to-end tests (see server.py)."""

from .certs import PROVIDER_HOSTS, CertPaths, make_certs
from .server import (
    ANTHROPIC,
    DEFAULT_TEXT,
    GEMINI,
    GENERIC,
    OLLAMA_CHAT,
    OLLAMA_GENERATE,
    OPENAI_CHAT,
    OPENAI_RESPONSES,
    WIRE_DIR,
    FakeProvider,
    RecordedRequest,
    Reply,
    ToolCall,
    default_deltas,
    endpoint_of,
    iter_acks,
    split_events,
)

__all__ = [
    "ANTHROPIC", "DEFAULT_TEXT", "GEMINI", "GENERIC", "OLLAMA_CHAT", "OLLAMA_GENERATE", "OPENAI_CHAT",
    "OPENAI_RESPONSES", "PROVIDER_HOSTS", "WIRE_DIR", "CertPaths", "FakeProvider", "RecordedRequest", "Reply",
    "ToolCall", "default_deltas", "endpoint_of", "iter_acks", "make_certs", "split_events",
]
