"""Helpers shared by the wire formats: walking JSON for strings, and the JSON/SSE plumbing of codecs."""

from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from ..jsonpath import Path
from ..model import TextPiece


def dumps(doc: Any) -> str:
    """Compact JSON, the way every codec re-serialises a changed payload."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def dumps_bytes(doc: Any) -> bytes:
    return dumps(doc).encode("utf-8")


_scan_json = json.JSONDecoder().scan_once
_JSON_WS = " \t\n\r"


def loads(data: str | None) -> Any:
    """json.loads that never raises: None for missing or malformed payloads.

    It runs once per streamed event, so a payload that starts with its value goes straight to the C
    scanner (json.loads spends a third of its time around it); anything else takes json.loads."""
    if not data:
        return None
    try:
        doc, end = _scan_json(data, 0)
    except StopIteration:  # leading whitespace, or not JSON at all
        try:
            return json.loads(data)
        except ValueError:
            return None
    except ValueError:
        return None
    if end != len(data) and data[end:].strip(_JSON_WS):
        return None  # trailing data, as json.loads rejects it
    return doc


def event_type(data: str | None) -> str | None:
    """The `type` of a JSON event payload, or None."""
    doc = loads(data)
    kind = doc.get("type") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) else None


def split_path(path: str) -> tuple[str, dict[str, list[str]]]:
    """URL path without query, and the parsed query."""
    parts = urlsplit(path)
    return parts.path, parse_qs(parts.query)


def walk_strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string value (not keys) nested in `value`, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, path + (key,))
    elif isinstance(value, list):
        for idx, item in enumerate(value):
            yield from walk_strings(item, path + (idx,))


def schema_descriptions(schema: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every `description` string in a JSON schema, however deep (the model reads them all)."""
    if isinstance(schema, dict):
        for key, item in schema.items():
            if key == "description" and isinstance(item, str):
                yield path + (key,), item
            else:
                yield from schema_descriptions(item, path + (key,))
    elif isinstance(schema, list):
        for idx, item in enumerate(schema):
            yield from schema_descriptions(item, path + (idx,))


class Pieces:
    """Collects TextPieces; skips non-strings and empty strings so callers can add fields blindly."""

    def __init__(self) -> None:
        self.items: list[TextPiece] = []

    def add(self, role: str, path: Path, value: Any) -> None:
        if isinstance(value, str) and value:
            self.items.append(TextPiece(role=role, path=path, text=value))

    def add_all(self, role: str, found: Iterator[tuple[Path, str]]) -> None:
        for path, text in found:
            self.add(role, path, text)


def as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def get_dict(obj: Any, key: str) -> dict[str, Any]:
    """obj[key] when both are dicts, else an empty dict (for lenient reads of optional fields)."""
    if isinstance(obj, dict):
        value = obj.get(key)
        if isinstance(value, dict):
            return value
    return {}


def get_list(obj: Any, key: str) -> list[Any]:
    if isinstance(obj, dict):
        value = obj.get(key)
        if isinstance(value, list):
            return value
    return []


def model_of(body: dict[str, Any]) -> str | None:
    model = body.get("model")
    return model if isinstance(model, str) else None
