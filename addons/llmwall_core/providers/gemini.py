"""Google Gemini API and Vertex AI (`models/{model}:generateContent`, `:streamGenerateContent`, ...).

The REST API accepts both camelCase and snake_case field names (google-genai sends snake_case for some
parts), so every field is read under both spellings.
"""

from __future__ import annotations

import re
from typing import Any, Hashable

from ..framing import reframe_json_array, reframe_sse
from ..jsonpath import Path
from ..model import ParsedRequest, TextPiece
from .base import Decoded, Delta, Event, StreamCodec
from ._util import (
    Pieces,
    as_dict,
    as_list,
    dumps,
    dumps_bytes,
    get_dict,
    get_list,
    loads,
    schema_descriptions,
    split_path,
    walk_strings,
)

_MODEL = re.compile(r"/models/([^/:]+)(?::|$)")
_ROLES = {"user": "user", "model": "assistant", "function": "tool", "tool": "tool", "system": "system"}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _field(obj: Any, camel: str, snake: str) -> tuple[str, Any]:
    """(key, value) of a field under whichever spelling is present."""
    if isinstance(obj, dict):
        if camel in obj:
            return camel, obj[camel]
        if snake in obj:
            return snake, obj[snake]
    return camel, None


def _add_parts(p: Pieces, role: str, content: Any, path: Path) -> None:
    """One Content: parts[].text, functionCall.args, functionResponse.response, executable code."""
    for k, part in enumerate(get_list(content, "parts")):
        if not isinstance(part, dict):
            continue
        base = path + ("parts", k)
        p.add(role, base + ("text",), part.get("text"))
        key, _ = _field(part, "functionCall", "function_call")
        p.add_all("assistant", walk_strings(get_dict(part, key).get("args"), base + (key, "args")))
        key, _ = _field(part, "functionResponse", "function_response")
        p.add_all("tool", walk_strings(get_dict(part, key).get("response"), base + (key, "response")))
        key, _ = _field(part, "executableCode", "executable_code")
        p.add("assistant", base + (key, "code"), get_dict(part, key).get("code"))
        key, _ = _field(part, "codeExecutionResult", "code_execution_result")
        p.add("tool", base + (key, "output"), get_dict(part, key).get("output"))


def _parse_generate(body: dict[str, Any], p: Pieces, prefix: Path) -> None:
    for i, content in enumerate(as_list(body.get("contents", []), "contents")):
        if isinstance(content, str):  # the REST API also takes bare strings
            p.add("user", prefix + ("contents", i), content)
            continue
        if not isinstance(content, dict):
            raise ValueError(f"contents[{i}] is not an object")
        role = _ROLES.get(content.get("role", "user"), "other")
        _add_parts(p, role, content, prefix + ("contents", i))
    key, system = _field(body, "systemInstruction", "system_instruction")
    if isinstance(system, str):
        p.add("system", prefix + (key,), system)
    else:
        _add_parts(p, "system", system, prefix + (key,))
    for k, tool in enumerate(get_list(body, "tools")):
        key, decls = _field(tool, "functionDeclarations", "function_declarations")
        for j, decl in enumerate(decls if isinstance(decls, list) else []):
            if not isinstance(decl, dict):
                continue
            base = prefix + ("tools", k, key, j)
            p.add("tool_definition", base + ("description",), decl.get("description"))
            for skey in ("parameters", "parametersJsonSchema", "parameters_json_schema", "response"):
                p.add_all("tool_definition", schema_descriptions(decl.get(skey), base + (skey,)))


class GeminiFormat:
    name = "gemini"

    def parse_request(self, path: str, body: Any) -> ParsedRequest:
        body = as_dict(body, "body")
        url = split_path(path)[0]
        p = Pieces()
        method = url.rsplit(":", 1)[1] if ":" in url.rsplit("/", 1)[-1] else ""
        if method == "embedContent":
            _add_parts(p, "user", get_dict(body, "content"), ("content",))
        elif method == "batchEmbedContents":
            for k, req in enumerate(as_list(body.get("requests"), "requests")):
                _add_parts(p, "user", get_dict(req, "content"), ("requests", k, "content"))
        elif method == "predict":  # Vertex embeddings / Imagen: instances[].content or .prompt
            for k, inst in enumerate(as_list(body.get("instances"), "instances")):
                for key in ("content", "prompt", "text"):
                    if isinstance(inst, dict):
                        p.add("user", ("instances", k, key), inst.get(key))
        elif method == "countTokens" and "contents" not in body:
            key, inner = _field(body, "generateContentRequest", "generate_content_request")
            _parse_generate(as_dict(inner, key), p, (key,))
        else:
            _parse_generate(body, p, ())
        m = _MODEL.search(url)
        model = m.group(1) if m else (body["model"] if isinstance(body.get("model"), str) else None)
        return ParsedRequest(model=model, stream=":streamGenerateContent" in url, pieces=p.items)

    def response_pieces(self, path: str, body: Any) -> list[TextPiece]:
        p = Pieces()
        for c, cand in enumerate(get_list(body, "candidates")):
            content = get_dict(cand, "content")
            for k, part in enumerate(get_list(content, "parts")):
                if not isinstance(part, dict):
                    continue
                base: Path = ("candidates", c, "content", "parts", k)
                p.add("assistant", base + ("text",), part.get("text"))
                key, _ = _field(part, "functionCall", "function_call")
                p.add_all("tool_call", walk_strings(get_dict(part, key).get("args"), base + (key, "args")))
        return p.items

    def error_body(self, status: int, message: str, code: str) -> bytes:
        return dumps_bytes(_error(status, message, code))

    def stream_codec(self, path: str, content_type: str) -> StreamCodec | None:
        ct = content_type.lower()
        if "text/event-stream" in ct:
            return GeminiCodec("sse")
        if ":streamGenerateContent" in split_path(path)[0] and "json" in ct:
            return GeminiCodec("json-array")
        return None


def _error(status: int, message: str, code: str) -> dict[str, Any]:
    name = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": code, "domain": "llmwall"}
    return {"error": {"code": status, "message": message, "status": name, "details": [info]}}


FORMAT = GeminiFormat()


class GeminiCodec:
    """Gemini stream chunks, as SSE (alt=sse, CRLF) or as elements of one streamed JSON array.

    Every chunk carries a fresh `parts` list, so channels are per candidate, not per part: f"cand{c}" for
    text, f"thought{c}" for thought summaries (`"thought": true`), f"tool{c}" for function-call argument
    strings (also Vertex `partialArgs[].stringValue`), role tool_call. `finishReason` ends them.

    error_event for the JSON array is chosen so the body the client got stays ONE valid JSON array:
    after an element `,\\r\\n{"error": ...}\\n]`; after a bare `[` `{"error": ...}\\n]`; before anything
    `[{"error": ...}]`; after the closing `]` nothing valid can follow, so it is empty. Which case applies
    depends on what was forwarded: exact when the caller reports forwarded bytes with `note_sent()`,
    otherwise guessed from decode(): every element decoded before the latest one is taken as sent (the
    guard drops the event it blocks on, and the `[` rides on the first element).
    """

    def __init__(self, framing: str) -> None:
        self.framing = framing  # type: ignore[assignment]
        self._open: dict[Hashable, None] = {}
        self._decoded = 0  # json-array elements decoded
        self._closed = False  # decode() saw the closing `]`
        self._sent: list[bool] | None = None  # [opened, element sent, closed] from note_sent()

    def note_sent(self, raw: bytes) -> None:
        """Record bytes actually forwarded to the client (json-array): makes error_event exact."""
        sent = self._sent if self._sent is not None else [False, False, False]
        body = raw.strip(b" \t\r\n,")
        if body.startswith(b"["):
            sent[0] = True
            body = body[1:].strip(b" \t\r\n,")
        if body == b"]":
            sent[2] = True
        elif body:
            sent[1] = True
        self._sent = sent

    def is_final(self, event: Event) -> bool:
        if self.framing == "json-array" and event.data is None and b"]" in event.raw:
            return True
        doc = loads(event.data)
        candidates = get_list(doc, "candidates") if isinstance(doc, dict) else []
        return bool(candidates) and all(isinstance(c, dict) and (c.get("finishReason") or c.get("finish_reason"))
                                        for c in candidates)

    def decode(self, event: Event) -> Decoded | None:
        if self.framing == "json-array":
            if event.data is not None:
                self._decoded += 1
            elif self._decoded and b"]" in event.raw:
                self._closed = True
        data = event.data
        if not data or '"candidates"' not in data:
            return None
        doc = loads(data)
        if not isinstance(doc, dict):
            return None
        dec = Decoded(doc=doc)
        for pos, cand in enumerate(get_list(doc, "candidates")):
            if not isinstance(cand, dict):
                continue
            idx = cand.get("index")
            c = idx if isinstance(idx, int) else pos
            base: Path = ("candidates", pos, "content", "parts")
            for k, part in enumerate(get_list(get_dict(cand, "content"), "parts")):
                if isinstance(part, dict):
                    self._part(dec, c, part, base + (k,))
            for delta in dec.deltas:
                self._open[delta.channel] = None
            if cand.get("finishReason") or cand.get("finish_reason"):
                for channel in (f"cand{c}", f"thought{c}", f"tool{c}"):
                    if channel in self._open:
                        del self._open[channel]
                        dec.ends_channels.append(channel)
        if not dec.deltas and not dec.ends_channels:
            return None
        return dec

    @staticmethod
    def _part(dec: Decoded, c: int, part: dict[str, Any], path: Path) -> None:
        text = part.get("text")
        if isinstance(text, str) and text:
            channel: Hashable = f"thought{c}" if part.get("thought") is True else f"cand{c}"
            dec.deltas.append(Delta(channel, text, path + ("text",)))
        key, call = _field(part, "functionCall", "function_call")
        for spath, value in walk_strings(get_dict(part, key).get("args"), path + (key, "args")):
            if value:
                dec.deltas.append(Delta(f"tool{c}", value, spath, "tool_call"))
        for k, partial in enumerate(get_list(call, "partialArgs")):
            value = partial.get("stringValue") if isinstance(partial, dict) else None
            if isinstance(value, str) and value:
                spath = path + (key, "partialArgs", k, "stringValue")
                dec.deltas.append(Delta(f"tool{c}", value, spath, "tool_call"))
        key, _ = _field(part, "executableCode", "executable_code")
        value = get_dict(part, key).get("code")
        if isinstance(value, str) and value:
            dec.deltas.append(Delta(f"cand{c}", value, path + (key, "code")))

    def encode(self, event: Event, decoded: Decoded) -> bytes:
        if self.framing == "json-array":
            return reframe_json_array(event.raw, event.data or "", dumps(decoded.doc))
        return reframe_sse(event.raw, dumps(decoded.doc))

    def error_event(self, message: str, code: str) -> bytes:
        payload = dumps_bytes(_error(403, message, code))
        if self.framing == "sse":
            return b"data: " + payload + b"\r\n\r\n"
        if self._sent is not None:
            opened, element, closed = self._sent
        else:
            element = self._decoded > 1
            opened, closed = element, self._closed
        if closed:
            return b""
        if element:
            return b",\r\n" + payload + b"\n]"
        return payload + b"\n]" if opened else b"[" + payload + b"]"
