"""Uploads: multipart/form-data forms and raw file bodies.

OpenAI's `/v1/files` (batch and assistant files), `/v1/audio/transcriptions` (a `prompt` field beside the
audio) and `/v1/images/edits` send forms, not JSON; Gemini's and others' upload endpoints send the file itself
as the body. Their text is read as text pieces: form fields, and files that are text (a batch file is JSON
Lines of whole chat requests). Binary content (audio, images, video, PDF, anything not UTF-8) is not text
llmwall's rules can read and is passed as it is. A rewrite is spliced into the body in place, so the boundary
and every other byte stay as the client sent them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import TextPiece

_BOUNDARY = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)
_PARAM = re.compile(r'\b(name|filename)="((?:[^"\\]|\\.)*)"', re.IGNORECASE)
_BINARY_TYPES = ("audio/", "image/", "video/", "application/pdf", "application/zip", "application/gzip")


class MultipartError(ValueError):
    """The body is not the multipart form its Content-Type announces."""


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    start: int  # the part's value: body[start:end]
    end: int


def is_multipart(content_type: str) -> bool:
    return content_type.strip().lower().startswith("multipart/form-data")


def parse_parts(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body, with where each value sits. Raises MultipartError."""
    found = _BOUNDARY.search(content_type)
    if not found:
        raise MultipartError("multipart body without a boundary")
    delimiter = b"--" + found.group(1).strip().encode("latin-1")
    position = body.find(delimiter)
    if position < 0:
        raise MultipartError("multipart boundary not found in the body")
    parts: list[Part] = []
    while True:
        position += len(delimiter)
        if body.startswith(b"--", position):
            return parts  # the closing delimiter
        head_end = body.find(b"\r\n\r\n", position)
        next_delimiter = body.find(b"\r\n" + delimiter, position)
        if head_end < 0 or next_delimiter < 0 or head_end > next_delimiter:
            raise MultipartError("multipart part without headers or without an end")
        headers = body[position:head_end].decode("utf-8", "replace")
        params = {key.lower(): value for key, value in _PARAM.findall(headers)}
        declared = re.search(r"(?im)^content-type:\s*([^\r\n;]+)", headers)
        parts.append(Part(params.get("name", ""), params.get("filename"),
                          declared.group(1).strip().lower() if declared else "", head_end + 4, next_delimiter))
        position = next_delimiter + 2


def text_of(content_type: str, value: bytes) -> str | None:
    """`value` as text, or None when it is binary (declared audio, image..., or not UTF-8)."""
    if content_type.startswith(_BINARY_TYPES) or b"\x00" in value:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def form_pieces(content_type: str, body: bytes) -> tuple[list[Part], list[TextPiece]]:
    """The parts, and the text pieces to scan: one per text part, as user text at path ("form", part index).
    A JSON or JSON Lines file is read as it stands: a redaction or placeholder inside one of its strings keeps
    it valid JSON."""
    parts = parse_parts(content_type, body)
    pieces = []
    for index, part in enumerate(parts):
        text = text_of(part.content_type, body[part.start : part.end])
        if text is not None and text.strip():
            pieces.append(TextPiece("user", ("form", index), text))
    return parts, pieces


def splice(body: bytes, parts: list[Part], new_values: dict[int, str]) -> bytes:
    """`body` with the values of the parts in `new_values` (by index) replaced."""
    out = bytearray(body)
    for index in sorted(new_values, reverse=True):
        part = parts[index]
        out[part.start : part.end] = new_values[index].encode("utf-8")
    return bytes(out)


def is_raw_upload(content_type: str) -> bool:
    """A body declared as something other than JSON or a form: a file sent as it is (only a body that is not
    JSON is read this way; JSON under any Content-Type is read as JSON)."""
    media = media_type(content_type)
    return bool(media) and media != "application/json" and not media.endswith("+json") and not is_multipart(media)


def media_type(content_type: str) -> str:
    """The media type of a Content-Type value, lower-cased. A header sent twice reaches llmwall joined with
    ", " (curl -H twice); the first value counts."""
    return content_type.split(",", 1)[0].split(";", 1)[0].strip().lower()


def raw_piece(content_type: str, body: bytes) -> TextPiece | None:
    """The text of a raw upload as one user piece at path ("body",), or None when the file is binary."""
    text = text_of(media_type(content_type), body)
    return TextPiece("user", ("body",), text) if text is not None and text.strip() else None
