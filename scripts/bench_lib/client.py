"""A small asyncio HTTP/1.1 client that measures what the benchmark needs and little else.

One `Conn` is one keep-alive connection to the provider host: straight to the fake provider over TLS with
the provider's host name as SNI (target a), or through an HTTP proxy with CONNECT and TLS to the proxy's
certificate for that name, as SDK clients in regular proxy mode do (targets b and c). The same code and
the same parsing serve every target, so client overhead is identical across them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

from .payloads import CHAT_PATH, HOST

READ_LIMIT = 4 * 1024 * 1024
now_ns = time.perf_counter_ns


class BenchError(RuntimeError):
    pass


def tls_context(cafile: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@dataclass
class Endpoint:
    """Where a connection goes: `proxy_port` None = straight to the fake on `port`."""

    port: int
    ca: ssl.SSLContext
    proxy_port: int | None = None


@dataclass
class Result:
    status: int
    t_sent: int  # perf_counter_ns just before the request was written
    t_first: int = 0  # first body bytes received
    t_last: int = 0  # end of body
    nbytes: int = 0  # body bytes (de-chunked)
    events: int = 0  # SSE events
    lags: list[int] = field(default_factory=list)  # per stamped event: receive - send (ns)
    body: bytes = b""


class Conn:
    def __init__(self, ep: Endpoint, host: str = HOST) -> None:
        self.ep = ep
        self.host = host
        self.r: asyncio.StreamReader | None = None
        self.w: asyncio.StreamWriter | None = None

    async def open(self) -> Conn:
        ep = self.ep
        if ep.proxy_port is None:
            self.r, self.w = await asyncio.open_connection("127.0.0.1", ep.port, ssl=ep.ca, server_hostname=self.host,
                                                          limit=READ_LIMIT)
            return self
        r, w = await asyncio.open_connection("127.0.0.1", ep.proxy_port, limit=READ_LIMIT)
        w.write(f"CONNECT {self.host}:443 HTTP/1.1\r\nHost: {self.host}:443\r\n\r\n".encode())
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") and not head.startswith(b"HTTP/1.0 200"):
            w.close()
            raise BenchError(f"CONNECT refused: {head[:100]!r}")
        await w.start_tls(ep.ca, server_hostname=self.host)
        self.r, self.w = r, w
        return self

    def close(self) -> None:
        if self.w is not None:
            self.w.close()
            self.w = None

    async def post(self, body: bytes, *, sse: bool = False, keep: bool = False,
                   until_events: int | None = None, on_events: asyncio.Event | None = None,
                   resume: asyncio.Event | None = None, path: str = CHAT_PATH) -> Result:
        """POST a chat completion (or any JSON body, to `path`) and read the whole reply.

        sse          split the body into SSE events; stamped events (`: t=<ns>` comment) give lags
        keep         keep the body bytes in the result
        until_events with on_events/resume: after this many events set `on_events`, wait for `resume`
        """
        assert self.r is not None and self.w is not None
        r, w = self.r, self.w
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer sk-bench\r\nAccept: text/event-stream, application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        res = Result(0, now_ns())
        w.write(head + body)
        await w.drain()
        status_head = await r.readuntil(b"\r\n\r\n")
        lines = status_head.split(b"\r\n")
        res.status = int(lines[0].split(b" ", 2)[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            hdrs[k.strip().lower()] = v.strip().lower()
        buf = b""
        parts: list[bytes] = []
        lags = res.lags
        paused = until_events is None

        def take(data: bytes) -> None:
            nonlocal buf
            t = now_ns()
            if not res.t_first:
                res.t_first = t
            res.nbytes += len(data)
            if keep:
                parts.append(data)
            if not sse:
                return
            buf += data
            start = 0
            while True:
                i = buf.find(b"\n\n", start)
                if i < 0:
                    break
                if buf.startswith(b": t=", start):
                    nl = buf.index(b"\n", start)
                    lags.append(t - int(buf[start + 4:nl]))
                res.events += 1
                start = i + 2
            buf = buf[start:]

        if b"chunked" in hdrs.get(b"transfer-encoding", b""):
            while True:
                size_line = await r.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    await r.readuntil(b"\r\n")
                    break
                data = await r.readexactly(size + 2)
                take(data[:-2])
                if not paused and res.events >= until_events:  # type: ignore[operator]
                    paused = True
                    assert on_events is not None and resume is not None
                    on_events.set()
                    await resume.wait()
        elif b"content-length" in hdrs:
            n = int(hdrs[b"content-length"])
            if n:
                take(await r.readexactly(n))
        else:
            raise BenchError(f"reply without length: {status_head!r}")
        res.t_last = now_ns()
        if keep:
            res.body = b"".join(parts)
        if hdrs.get(b"connection") == b"close":
            self.close()
        return res


async def checked(conn: Conn, body: bytes, keep: bool = False, timeout: float = 120.0, **kw) -> Result:
    """POST and insist on a 200 (an llmwall block or a refused request would make every figure wrong)."""
    res = await asyncio.wait_for(conn.post(body, keep=True, **kw), timeout)
    if res.status != 200:
        raise BenchError(f"HTTP {res.status}: {res.body[:300]!r}")
    if not keep:
        res.body = b""
    return res
