"""Provider wire formats. `get_format(name)` returns the module-level WireFormat for a format name."""

from __future__ import annotations

from .base import WireFormat


def get_format(name: str) -> WireFormat:
    """The WireFormat implementation for `name` (openai, anthropic, gemini, ollama)."""
    from . import anthropic, gemini, ollama, openai

    formats: dict[str, WireFormat] = {
        "openai": openai.FORMAT,
        "anthropic": anthropic.FORMAT,
        "gemini": gemini.FORMAT,
        "ollama": ollama.FORMAT,
    }
    return formats[name]
