"""Tiny JSON path helpers: a path is a tuple of dict keys and list indexes into a decoded JSON body."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


def get_at(doc: Any, path: Path) -> Any:
    """The value at `path`; raises KeyError/IndexError/TypeError when it is not there."""
    for step in path:
        doc = doc[step]
    return doc


def set_at(doc: Any, path: Path, value: Any) -> None:
    """Replace the value at `path` in place (the path must exist)."""
    if not path:
        raise ValueError("cannot replace the document root")
    parent = get_at(doc, path[:-1])
    parent[path[-1]] = value


def render(path: Path) -> str:
    """A readable location such as `messages[2].content[0].text` for logs and flow comments."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + step
    return out or "$"
