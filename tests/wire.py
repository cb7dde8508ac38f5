"""The recorded wire transcripts in ../shared/wire (read in place, never copied into the repo).

Each body file has a sidecar `<name>.meta.json` with the recorded request, status and content type.
Tests that need the transcripts call `require_wire()` so they skip cleanly when the folder is absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

WIRE = Path(__file__).resolve().parents[1].parent / "shared" / "wire"

# Which WireFormat each fixture folder speaks (bedrock is binary eventstream: not ours).
FOLDER_FORMAT = {
    "openai-chat": "openai",
    "openai-responses": "openai",
    "azure-openai": "openai",
    "deepseek": "openai",
    "groq": "openai",
    "mistral": "openai",
    "openrouter": "openai",
    "other-openai-compatible": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
}
STREAM_FORMATS = {"sse": "sse", "ndjson": "ndjson", "json-array-stream": "json-array"}


@dataclass(frozen=True)
class Fixture:
    body_path: Path
    meta_path: Path

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.body_path.name}"

    @property
    def folder(self) -> str:
        return self.body_path.parent.name

    @cached_property
    def meta(self) -> dict[str, Any]:
        return json.loads(self.meta_path.read_text())

    @cached_property
    def body(self) -> bytes:
        return self.body_path.read_bytes()

    @property
    def format(self) -> str | None:
        return FOLDER_FORMAT.get(self.folder)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", ""))

    @property
    def analysis_format(self) -> str:
        return str((self.meta.get("analysis") or {}).get("format", ""))

    @property
    def framing(self) -> str | None:
        """sse / ndjson / json-array for stream transcripts, else None."""
        return STREAM_FORMATS.get(self.analysis_format)

    @property
    def payloads_only(self) -> bool:
        """An SSE stream whose recorder kept only the data payloads, one per line."""
        return "framing-stripped" in self.kind or "framing stripped" in self.content_type

    @property
    def request(self) -> dict[str, Any]:
        return self.meta.get("request") or {}

    @property
    def request_body(self) -> Any:
        return self.request.get("body")

    @property
    def endpoint(self) -> str:
        return str(self.meta.get("endpoint", ""))

    @property
    def content_type(self) -> str:
        return str((self.meta.get("response") or {}).get("content_type") or "")

    @property
    def url_path(self) -> str:
        """Path (with query) of the recorded request, or a plausible one for its endpoint."""
        uri = self.request.get("uri")
        if isinstance(uri, str) and "://" in uri:
            parts = urlsplit(uri)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return default_path(self)


def default_path(fx: Fixture) -> str:
    ep = fx.endpoint
    if fx.folder == "anthropic":
        return "/v1/messages"
    if fx.folder == "gemini":
        alt = "?alt=sse" if fx.framing in ("sse", "ndjson") else ""
        return f"/v1beta/models/gemini-x:streamGenerateContent{alt}"
    if fx.folder == "ollama":
        return "/api/generate" if "/api/generate" in ep else "/api/chat"
    if "responses" in ep or fx.folder == "openai-responses":
        return "/v1/responses"
    return "/v1/chat/completions"


def require_wire() -> None:
    if not WIRE.is_dir():
        pytest.skip(f"wire transcripts not found at {WIRE}")


def fixtures() -> list[Fixture]:
    """Every body file with a sidecar, sorted; empty when the folder is missing."""
    if not WIRE.is_dir():
        return []
    out = []
    for meta in sorted(WIRE.glob("*/*.meta.json")):
        stem = meta.name[: -len(".meta.json")]
        bodies = [p for p in meta.parent.glob(stem + ".*") if p != meta and not p.name.endswith(".meta.json")]
        for body in bodies:
            out.append(Fixture(body, meta))
    return out


def stream_fixtures() -> list[Fixture]:
    return [fx for fx in fixtures() if fx.framing is not None]


def params(items: list[Fixture]) -> list[Any]:
    """pytest params with readable ids; a single skip marker when the folder is missing."""
    if not items:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no wire transcripts at {WIRE}"))]
    return [pytest.param(fx, id=fx.id) for fx in items]
