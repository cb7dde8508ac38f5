"""Value types shared by the core: text pieces read from a body, findings, and decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .jsonpath import Path


class Action(StrEnum):
    """What a rule does when it matches. Order of severity: block > pseudonymize/redact > log."""

    BLOCK = "block"
    REDACT = "redact"
    PSEUDONYMIZE = "pseudonymize"
    LOG = "log"


class Phase(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"


@dataclass(frozen=True, slots=True)
class TextPiece:
    """One piece of text a model reads (request) or writes (response), and where it sits in the JSON body.

    `role` is one of: system, developer, user, assistant, tool (tool results / function outputs),
    tool_definition (tool and function descriptions), tool_call (arguments the model produced), other.
    `path` points at a JSON *string* in the decoded body, so a rewrite can replace exactly that field.
    """

    role: str
    path: Path
    text: str


@dataclass(slots=True)
class ParsedRequest:
    """What a wire format reads out of a request body."""

    model: str | None
    stream: bool
    pieces: list[TextPiece] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule (or the scorer) matched. `preview` is masked: never the raw value."""

    rule_id: str
    action: Action
    severity: str
    phase: Phase
    role: str
    location: str
    start: int
    end: int
    preview: str
    score: float | None = None
    piece: int = -1  # index of the TextPiece it was found in (request scans), -1 otherwise
