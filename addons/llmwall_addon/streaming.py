"""The `flow.response.stream` callable: decompress if needed, feed the StreamGuard, never raise."""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable

from llmwall_core.stream_guard import StreamGuard

log = logging.getLogger("llmwall")


def make_decoder(encoding: str) -> Callable[[bytes], bytes] | None:
    """An incremental decoder for a Content-Encoding, or None for identity. Raises ValueError if unknown."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47).decompress  # 47: gzip or zlib header, auto-detected
    if encoding == "br":
        import brotli

        return brotli.Decompressor().process
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


class GuardedStream:
    """Owned by one flow. Returns [] rather than b"" mid-stream: b"" would end a chunked reply early."""

    def __init__(
        self,
        guard: StreamGuard,
        decoder: Callable[[bytes], bytes] | None,
        fail_open: bool,
        on_chunk: Callable[[GuardedStream, list[bytes]], None] | None = None,
        max_decoded: int = 256 * 1024 * 1024,
        keep_limit: int = 65536,
    ) -> None:
        self.guard = guard
        self.decoder = decoder
        self.fail_open = fail_open
        self.on_chunk = on_chunk
        self.max_decoded = max_decoded
        self.decoded_bytes = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.chunks = 0
        self.passthrough = False  # after an internal error with fail-open: forward bytes untouched
        self.error: str | None = None
        self.finished = False
        self.keep_limit = keep_limit
        self.kept = bytearray()  # the first bytes sent to the client, for mitmweb (bounded)
        self.last_data_at = time.monotonic()  # when the provider last sent something
        self.stalled_after: float | None = None  # set when llmwall ends the stream for a silent provider

    def __call__(self, chunk: bytes) -> bytes | list[bytes]:
        end = chunk == b""
        self.bytes_in += len(chunk)
        if not end:
            self.last_data_at = time.monotonic()
        try:
            if self.passthrough:
                out = [chunk] if chunk else []
            elif end and self.stalled_after is not None:
                # the provider went silent: what is still held stays held (it may be half a secret)
                out = [] if self.guard.blocked_by else self.guard.block(
                    f"the provider sent nothing for {self.stalled_after:.0f} s; llmwall ended the stream",
                    "llmwall_upstream_timeout")
                self.finished = True
            elif end:
                out = self.guard.finish()
                self.finished = True
            else:
                data = self.decoder(chunk) if self.decoder else chunk
                self.decoded_bytes += len(data)
                if self.decoded_bytes > self.max_decoded:
                    raise ValueError("decompressed stream exceeds the size guard")
                out = self.guard.feed(data) if data else []
        except Exception as exc:  # noqa: BLE001 - the callable must never raise into mitmproxy
            out = self._fail(exc, chunk)
        if out:
            self.chunks += 1
            for part in out:
                self.bytes_out += len(part)
                if len(self.kept) < self.keep_limit:
                    self.kept += part[: self.keep_limit - len(self.kept)]
        if self.on_chunk is not None:
            try:
                self.on_chunk(self, out)
            except Exception:  # noqa: BLE001 - observers must not break the stream
                log.exception("llmwall: stream observer failed")
        if not out:
            return b"" if end else []
        return out[0] if len(out) == 1 else b"".join(out)

    def _fail(self, exc: Exception, chunk: bytes) -> list[bytes]:
        self.error = f"{type(exc).__name__}: {exc}"
        log.error("llmwall: stream scanning failed (%s); llmwall_fail=%s", self.error,
                  "open" if self.fail_open else "closed")
        if self.fail_open and self.decoder is None:
            self.passthrough = True
            return [chunk] if chunk else []
        if self.guard.blocked_by is None:
            return self.guard.block("llmwall could not scan this response stream", "llmwall_scan_error")
        return []


class RefuseStream:
    """A stream callable that replaces an unscannable stream with one error event."""

    def __init__(self, error_event: bytes) -> None:
        self.error_event = error_event
        self.sent = False

    def __call__(self, chunk: bytes) -> bytes | list[bytes]:
        if self.sent:
            return b"" if chunk == b"" else []
        self.sent = True
        return self.error_event
