"""The audit log: one JSON object per finished LLM exchange, written by a background thread.

Records hold rule ids and masked previews only. Writes never block the event loop (a bounded queue;
when it is full a record is dropped and counted), and the file is reopened when it is rotated (its
inode changes) or on SIGHUP.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import IO, Any

log = logging.getLogger("llmwall")


class AuditWriter:
    """Appends JSON lines to a path, or to stdout for `-`."""

    def __init__(self, target: str, max_queue: int = 10000) -> None:
        self.target = target
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=max_queue)
        self.dropped = 0
        self._reopen = threading.Event()
        self._file: IO[str] | None = None
        self._inode: int | None = None
        self._thread = threading.Thread(target=self._run, name="llmwall-audit", daemon=True)
        self._thread.start()
        if target != "-" and threading.current_thread() is threading.main_thread():
            try:
                signal.signal(signal.SIGHUP, lambda *_: self._reopen.set())
            except (ValueError, OSError):  # not on this platform / not the main thread
                pass

    def write(self, record: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 2.0) -> None:
        self.queue.put(None)
        self._thread.join(timeout)

    def flush(self, timeout: float = 2.0) -> None:
        """Wait until every queued record is written (tests and shutdown)."""
        done = threading.Event()
        self.queue.put({"__flush__": done})
        done.wait(timeout)

    # -- writer thread ----------------------------------------------------------------------------------

    def _open(self) -> IO[str]:
        if self.target == "-":
            return sys.stdout
        handle = open(self.target, "a", encoding="utf-8")  # noqa: SIM115 - kept open between writes
        self._inode = os.fstat(handle.fileno()).st_ino
        return handle

    def _rotated(self) -> bool:
        if self.target == "-":
            return False
        if self._reopen.is_set():
            self._reopen.clear()
            return True
        try:
            return os.stat(self.target).st_ino != self._inode
        except FileNotFoundError:
            return True

    def _run(self) -> None:
        while True:
            record = self.queue.get()
            if record is None:
                break
            flush_done = record.get("__flush__") if isinstance(record, dict) else None
            if flush_done is not None:
                if self._file is not None:
                    self._file.flush()
                flush_done.set()
                continue
            try:
                if self._file is None or self._rotated():
                    if self._file is not None and self._file is not sys.stdout:
                        self._file.close()
                    self._file = self._open()
                self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                if self.queue.empty():
                    self._file.flush()
            except OSError as exc:
                log.error("llmwall: audit log write failed: %s", exc)
                self._file = None
        if self._file is not None and self._file is not sys.stdout:
            self._file.close()


def audit_record(flow, exchange, how: str) -> dict[str, Any]:
    """The record for one finished exchange: rule ids and masked previews, never a raw value."""
    now = time.monotonic()
    stream = exchange.stream
    verdict = exchange.request_verdict
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "flow_id": flow.id,
        "incident": verdict.incident if verdict else None,
        "client": {"user": exchange.client.user, "address": exchange.client.address},
        "provider": exchange.route.provider,
        "model": (verdict.model or "")[:128] if verdict else None,
        "path": flow.request.path.split("?")[0][:256],
        "stream": stream is not None,
        "decision": exchange.decision,
        "findings": [
            {"rule": f.rule_id, "action": f.action.value, "phase": f.phase.value, "location": f.location,
             "preview": f.preview, **({"score": f.score} if f.score is not None else {})}
            for f in exchange.findings[:100]
        ],
        "timings_ms": {
            "scan": round(exchange.scan_seconds * 1000, 3),
            "first_chunk": round((exchange.first_chunk_at - exchange.started) * 1000, 3)
            if exchange.first_chunk_at else None,
            "total": round((now - exchange.started) * 1000, 3),
        },
        "bytes": {
            "request": len(flow.request.raw_content or b""),
            "response": stream.bytes_out if stream else len(flow.response.raw_content or b"")
            if flow.response else 0,
        },
        "chunks": stream.chunks if stream else None,
        "end": how,
    }
