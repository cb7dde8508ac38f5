"""Incremental stream framers: cut a streamed reply into events without ever losing or reordering a byte.

The guard forwards each event's `raw` bytes untouched unless it rewrites the text inside, so every framer
guarantees that the `raw` of all events from `feed()` and `close()`, joined, equals the input byte for
byte, whatever the chunking. Framers work on bytes and decode an event's payload only once it is complete,
so a UTF-8 sequence split across chunks is never mangled.
"""

from __future__ import annotations

import re
from typing import Protocol

from .providers.base import Event

DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024

_EOL = re.compile(rb"[\r\n]")
_STR_SPECIAL = re.compile(rb'["\\]')
_STRUCTURAL = re.compile(rb'[\[\]{}"]')
_SCALAR_END = re.compile(rb"[,\]}\s]")
_WS = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
_CR, _LF = 0x0D, 0x0A


class FramingError(Exception):
    """The stream cannot be framed safely (an event grew beyond the size bound)."""


class Framer(Protocol):
    def feed(self, chunk: bytes) -> list[Event]: ...

    def close(self) -> list[Event]: ...


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _simple_events(chunk: bytes) -> list[Event] | None:
    """The events of a chunk made only of whole `data: ...` events with LF endings (what providers send,
    one or a few per chunk), cut with a few C-level calls; None for anything else (the general parser)."""
    if not chunk.endswith(b"\n\n") or b"\r" in chunk:
        return None
    if chunk.find(b"\n") == len(chunk) - 2 and chunk.startswith(b"data: "):  # one event: the usual chunk
        return [Event(chunk, None, chunk[6:-2].decode("utf-8", errors="replace"))]
    parts = chunk.split(b"\n\n")
    if parts[-1]:
        return None
    events = []
    for part in parts[:-1]:
        if not part.startswith(b"data: ") or b"\n" in part:
            return None
        events.append(Event(raw=part + b"\n\n", name=None, data=_decode(part[6:])))
    return events


class SSEFramer:
    """Server-sent events per the WHATWG parsing rules (LF, CRLF and lone CR line endings).

    An event ends at a blank line. A blank line with nothing before it, or a block of comments, becomes an
    Event with data=None so its bytes still reach the client.
    """

    framing = "sse"

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._buf = bytearray()
        self._start = 0  # first byte of the event being built
        self._line = 0  # first byte of the current line
        self._scan = 0  # where the search for the next line end resumes
        self._data: list[bytes] = []
        self._name: bytes | None = None
        self._first_line = True

    def feed(self, chunk: bytes) -> list[Event]:
        if not self._buf and not self._first_line and len(chunk) <= self._max:
            simple = _simple_events(chunk)
            if simple is not None:
                return simple
        out: list[Event] = []
        if chunk:
            self._buf += chunk
            self._run(out, final=False)
            self._compact()
            if len(self._buf) > self._max:
                raise FramingError(f"SSE event larger than {self._max} bytes")
        return out

    def close(self) -> list[Event]:
        """Flush: a trailing lone CR ends its line; an unterminated last event is emitted as it is."""
        out: list[Event] = []
        self._run(out, final=True)
        if self._start < len(self._buf):
            if self._line < len(self._buf):
                self._field(bytes(self._buf[self._line :]))
            out.append(self._dispatch(bytes(self._buf[self._start :])))
        self._buf.clear()
        self._start = self._line = self._scan = 0
        return out

    def _run(self, out: list[Event], final: bool) -> None:
        buf = self._buf
        while True:
            m = _EOL.search(buf, self._scan)
            if m is None:
                self._scan = len(buf)
                return
            i = m.start()
            if buf[i] == _CR:
                if i + 1 == len(buf):
                    if not final:  # the LF of a CRLF may be in the next chunk
                        self._scan = i
                        return
                    end = i + 1
                else:
                    end = i + 2 if buf[i + 1] == _LF else i + 1
            else:
                end = i + 1
            line = bytes(buf[self._line : i])
            self._line = self._scan = end
            if line:
                self._field(line)
            else:
                out.append(self._dispatch(bytes(buf[self._start : end])))
                self._start = end

    def _field(self, line: bytes) -> None:
        if self._first_line:
            self._first_line = False
            if line.startswith(_BOM):
                line = line[len(_BOM) :]
        if line.startswith(b":"):
            return  # comment
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._name = value
        # id, retry and unknown fields carry nothing the guard needs; they stay in raw.

    def _dispatch(self, raw: bytes) -> Event:
        data = _decode(b"\n".join(self._data)) if self._data else None
        name = _decode(self._name) if self._name is not None else None
        self._data = []
        self._name = None
        return Event(raw=raw, name=name, data=data)

    def _compact(self) -> None:
        if self._start:
            del self._buf[: self._start]
            self._line -= self._start
            self._scan -= self._start
            self._start = 0


class NDJSONFramer:
    """Newline-delimited JSON (Ollama): one event per LF-terminated line; CRLF tolerated."""

    framing = "ndjson"

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._buf = bytearray()
        self._scan = 0

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        if not chunk:
            return out
        self._buf += chunk
        start = 0
        buf = self._buf
        while True:
            i = buf.find(b"\n", max(self._scan, start))
            if i < 0:
                break
            out.append(self._event(bytes(buf[start : i + 1])))
            start = i + 1
        if start:
            del buf[:start]
        self._scan = len(buf)
        if len(buf) > self._max:
            raise FramingError(f"NDJSON line longer than {self._max} bytes")
        return out

    def close(self) -> list[Event]:
        """Flush a last line that has no newline."""
        out = [self._event(bytes(self._buf))] if self._buf else []
        self._buf.clear()
        self._scan = 0
        return out

    @staticmethod
    def _event(raw: bytes) -> Event:
        line = raw.rstrip(b"\r\n")
        return Event(raw=raw, data=_decode(line) if line.strip() else None)


class JSONArrayFramer:
    """One JSON array streamed element by element (Gemini streamGenerateContent without alt=sse).

    An element is emitted as soon as it closes; the bytes before it (`[`, `,`, whitespace) are its raw
    prefix. The closing `]` is emitted at once as an Event with data=None; anything after it is flushed by
    close(). A top-level object instead of an array (an error body) is emitted as a single element.
    """

    framing = "json-array"

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._reset()

    def _reset(self) -> None:
        self._buf = bytearray()
        self._start = 0  # first byte of the pending event (prefix included)
        self._i = 0  # next byte to look at
        self._state = "pre"  # pre: before `[`; in: inside the array; post: after `]`
        self._base = 0  # depth at which elements start and end
        self._depth = 0
        self._elem = -1  # first byte of the current element, -1 between elements
        self._in_str = False
        self._scalar = False

    def feed(self, chunk: bytes) -> list[Event]:
        out: list[Event] = []
        if chunk:
            self._buf += chunk
            self._run(out)
            if self._start:
                shift = self._start
                del self._buf[:shift]
                self._i -= shift
                if self._elem >= 0:
                    self._elem -= shift
                self._start = 0
            if len(self._buf) > self._max:
                raise FramingError(f"JSON array element larger than {self._max} bytes")
        return out

    def close(self) -> list[Event]:
        """Flush an unterminated scalar element or whatever bytes are left (data=None: not valid JSON)."""
        out: list[Event] = []
        if self._scalar and self._elem >= 0:
            self._emit(out, len(self._buf))
        if self._start < len(self._buf):
            out.append(Event(raw=bytes(self._buf[self._start :])))
        self._reset()
        return out

    def _emit(self, out: list[Event], end: int) -> None:
        raw = bytes(self._buf[self._start : end])
        data = _decode(bytes(self._buf[self._elem : end]))
        out.append(Event(raw=raw, data=data))
        self._start = end
        self._elem = -1
        self._scalar = False

    def _run(self, out: list[Event]) -> None:
        buf = self._buf
        n = len(buf)
        i = self._i
        while i < n:
            if self._state == "post":
                i = n
                break
            if self._in_str:
                m = _STR_SPECIAL.search(buf, i)
                if m is None:
                    i = n
                    break
                j = m.start()
                if buf[j] == 0x5C:  # backslash: skip the escaped byte
                    if j + 1 >= n:
                        i = j  # look at the escape again when more bytes arrive
                        break
                    i = j + 2
                    continue
                self._in_str = False
                i = j + 1
                if self._depth == self._base:  # a string element at top level
                    self._emit(out, i)
                continue
            if self._scalar:
                m = _SCALAR_END.search(buf, i)
                if m is None:
                    i = n
                    break
                i = m.start()
                self._emit(out, i)
                continue
            if self._elem < 0:
                b = buf[i]
                if b in _WS or b == 0x2C:  # whitespace or comma between elements
                    i += 1
                elif self._state == "pre" and b == 0x5B:  # `[` opens the stream array
                    self._state, self._base, self._depth = "in", 1, 1
                    i += 1
                elif self._state == "in" and b == 0x5D:  # `]` closes it
                    self._state, self._depth = "post", 0
                    i += 1
                    out.append(Event(raw=bytes(buf[self._start : i])))
                    self._start = i
                else:
                    self._elem = i
                    i += 1
                    if b in b"{[":
                        self._depth += 1
                    elif b == 0x22:
                        self._in_str = True
                    else:
                        self._scalar = True
                continue
            m = _STRUCTURAL.search(buf, i)
            if m is None:
                i = n
                break
            j = m.start()
            b = buf[j]
            i = j + 1
            if b == 0x22:
                self._in_str = True
            elif b in b"{[":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth <= self._base:
                    self._depth = self._base
                    self._emit(out, i)
        self._i = i


def make_framer(framing: str, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> Framer:
    """The framer for a codec's `framing` ("sse", "ndjson" or "json-array")."""
    if framing == "sse":
        return SSEFramer(max_event_bytes)
    if framing == "ndjson":
        return NDJSONFramer(max_event_bytes)
    if framing == "json-array":
        return JSONArrayFramer(max_event_bytes)
    raise ValueError(f"unknown framing {framing!r}")


# --- re-framing: the bytes of an event after its payload changed -------------------------------------

_LINE = re.compile(rb"([^\r\n]*)(\r\n|\r|\n|$)")


def _lines(raw: bytes) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(raw):
        m = _LINE.match(raw, pos)
        assert m is not None  # the pattern matches at every position
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


def _is_data_line(line: bytes) -> bool:
    return line == b"data" or line.startswith(b"data:")


def reframe_sse(raw: bytes, data: str) -> bytes:
    """`raw` with its data lines replaced by `data`: other lines (event:, id:, comments), their order and
    every line ending stay as they were."""
    lines = _lines(raw)
    eol = next((e for _, e in lines if e), b"\n")
    new = [b"data: " + part.encode("utf-8") for part in data.split("\n")]
    out: list[bytes] = []
    written = False
    for idx, (line, end) in enumerate(lines):
        probe = line[len(_BOM) :] if idx == 0 and line.startswith(_BOM) else line
        if _is_data_line(probe):
            if not written:
                if probe is not line:
                    out.append(_BOM)
                out.extend(part + (end or eol) for part in new[:-1])
                out.append(new[-1] + end)
                written = True
            continue
        if not line and not written:  # no data line before the blank line: add it here
            out.extend(part + eol for part in new)
            written = True
        out.append(line + end)
    if not written:
        out.extend(part + eol for part in new)
    return b"".join(out)


def reframe_ndjson(raw: bytes, data: str) -> bytes:
    """A new NDJSON line with the original line ending."""
    body = raw.rstrip(b"\r\n")
    return data.encode("utf-8") + raw[len(body) :]


def reframe_json_array(raw: bytes, old_data: str, data: str) -> bytes:
    """`raw` with its element replaced: the `[` / `,` / whitespace around it are kept."""
    old = old_data.encode("utf-8")
    body = raw.lstrip(_WS + b",")
    if body.startswith(b"[") and not old.startswith(b"["):
        body = body[1:].lstrip(_WS + b",")
    start = len(raw) - len(body)
    if raw.startswith(old, start):
        end = start + len(old)
    else:  # payload was not valid UTF-8: cut the trailing separators instead
        end = len(raw.rstrip(_WS + b",]"))
    return raw[:start] + data.encode("utf-8") + raw[end:]
