"""End-to-end sections of scripts/bench.py: the fake provider, the mitmdump targets and the measurements
through them (time to first chunk, lag per event, events/s with CPU, requests/s, memory per live stream)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import payloads
from .client import BenchError, Conn, Endpoint, checked, tls_context

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- processes


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@dataclass
class Target:
    key: str
    ep: Endpoint
    proxy: Any = None  # harness.Mitmdump

    @property
    def pid(self) -> int | None:
        return self.proxy.proc.pid if self.proxy else None


OTHER_HOST, OTHER_PATH = "example.com", "/bench/upload"  # not a provider: llmwall leaves it alone
COMMON_SETS = ["flow_detail=0", "route_flow_log="]
EXTRA_C_SETS: list[str] = []  # --set-c: more options for target c only (e.g. another rule set)


def start_proxy(fake: Any, workdir: Path, confdir: Path, key: str) -> Any:
    from tests.e2e.harness import start_mitmdump

    if key == "b":
        return start_mitmdump(fake, workdir, llmwall=False, confdir=confdir,
                              sets=["stream_large_bodies=1", *COMMON_SETS])
    return start_mitmdump(fake, workdir, llmwall=True, confdir=confdir, sets=COMMON_SETS + EXTRA_C_SETS)


# ---------------------------------------------------------------------------------------------- sections


class Bench:
    def __init__(self, fake: Any, targets: dict[str, Target], sizes: Any, tmp: Path, confdir: Path) -> None:
        self.fake = fake
        self.targets = targets
        self.sizes = sizes
        self.tmp = tmp
        self.confdir = confdir
        self.raw: dict[str, Any] = {}
        self.short = payloads.deltas(8)
        self.stream_events = payloads.openai_stream_events(sizes.stream_events)
        self.stream_bytes = b"".join(self.stream_events)

    def bucket(self, *keys: str) -> list[Any]:
        d = self.raw
        for k in keys[:-1]:
            d = d.setdefault(k, {})
        return d.setdefault(keys[-1], [])

    async def warm(self, t: Target) -> None:
        """First requests pay one-off costs (certificates, llmwall's stream matcher compile)."""
        from tests.fakeprovider import Reply

        self.fake.clear()
        conn = await Conn(t.ep).open()
        try:
            for i in range(3):
                self.fake.script(Reply(text=self.short))
                await checked(conn, payloads.chat_body(payloads.fresh(payloads.prompt(1024)), True), sse=True)
                await checked(conn, payloads.chat_body(payloads.fresh(payloads.prompt(300)), False))
        finally:
            conn.close()

    async def ttft(self, t: Target, rep: int) -> None:
        from tests.fakeprovider import Reply

        self.fake.clear()
        conn = await Conn(t.ep).open()
        try:
            for kb in self.sizes.ttft_kb:
                samples = self.sizes.ttft_samples_small if kb <= 4 else self.sizes.ttft_samples
                for s in range(samples):
                    body = payloads.chat_body(payloads.fresh(payloads.prompt(kb * 1024, seed=s % 4)), True)
                    self.fake.script(Reply(text=self.short))
                    res = await checked(conn, body, sse=True)
                    self.bucket("ttft", f"{kb}KB", t.key).append((res.t_first - res.t_sent) / 1e6)
            # a conversation resends its history every turn: what a chat user sees once llmwall has seen it
            history = payloads.chat_history(self.sizes.chat_history_kb * 1024)
            self.fake.script(Reply(text=self.short))
            await checked(conn, payloads.chat_turn_body(history, payloads.fresh(payloads.prompt(1024)), True), sse=True)
            for s in range(self.sizes.ttft_samples_small):
                body = payloads.chat_turn_body(history, payloads.fresh(payloads.prompt(1024, seed=s % 4)), True)
                self.fake.script(Reply(text=self.short))
                res = await checked(conn, body, sse=True)
                self.bucket("ttft", f"{self.sizes.chat_history_kb}KB chat + 1KB new", t.key).append(
                    (res.t_first - res.t_sent) / 1e6)
        finally:
            conn.close()

    async def latency(self, t: Target, rep: int) -> None:
        from tests.fakeprovider import Reply

        self.fake.clear()
        conn = await Conn(t.ep).open()
        try:
            self.fake.script(Reply(text=payloads.deltas(self.sizes.latency_events, seed=rep),
                                   delay=self.sizes.latency_delay, stamp=True))
            res = await checked(conn, payloads.chat_body(payloads.fresh(payloads.prompt(512)), True), sse=True)
            if len(res.lags) != res.events:
                raise BenchError(f"{len(res.lags)} stamped events of {res.events}")
            lags = self.bucket("latency", t.key)
            lags += [x / 1e6 for x in res.lags]
        finally:
            conn.close()

    async def throughput(self, t: Target, rep: int) -> None:
        from tests.fakeprovider import Reply

        self.fake.clear()
        conn = await Conn(t.ep).open()
        try:
            self.fake.script(Reply(raw_chunks=self.stream_events))
            cpu0 = proc_cpu_s(t.pid) if t.pid else 0.0
            res = await checked(conn, payloads.chat_body(payloads.fresh(payloads.prompt(512)), True), sse=True,
                                keep=True)
            cpu1 = proc_cpu_s(t.pid) if t.pid else 0.0
            if res.events != len(self.stream_events):
                raise BenchError(f"received {res.events} events of {len(self.stream_events)}")
            if res.body != self.stream_bytes:  # a clean stream must pass byte-identical
                self.bucket("not_identical", t.key).append(rep)
            secs = (res.t_last - res.t_first) / 1e9
            self.bucket("throughput", t.key).append((res.events - 1) / secs)
            if t.pid:
                self.bucket("cpu", t.key).append((cpu1 - cpu0, res.nbytes))
        finally:
            conn.close()

    async def rps(self, t: Target, rep: int) -> None:
        sz = self.sizes
        self.fake.clear()
        n = 1 + sz.rps_seq + sz.rps_conc * (1 + sz.rps_per_conn)
        bodies = iter([payloads.chat_body(payloads.fresh(payloads.prompt(300, seed=i % 16)), False) for i in range(n)])
        conn = await Conn(t.ep).open()
        try:
            await checked(conn, next(bodies))
            seq = [next(bodies) for _ in range(sz.rps_seq)]
            start = time.perf_counter()
            for body in seq:
                await checked(conn, body)
            self.bucket("rps", "sequential", t.key).append(sz.rps_seq / (time.perf_counter() - start))
        finally:
            conn.close()
        # the same bodies to a host that is not a provider: llmwall must cost nothing measurable there
        other = await Conn(t.ep, host=OTHER_HOST).open()
        try:
            await checked(other, seq[0], path=OTHER_PATH)
            start = time.perf_counter()
            for body in seq:
                await checked(other, body, path=OTHER_PATH)
            self.bucket("rps", "sequential_to_another_host", t.key).append(sz.rps_seq / (time.perf_counter() - start))
        finally:
            other.close()
        conns = [await Conn(t.ep).open() for _ in range(sz.rps_conc)]
        try:
            await asyncio.gather(*(checked(c, next(bodies)) for c in conns))
            work = [[next(bodies) for _ in range(sz.rps_per_conn)] for _ in conns]

            async def worker(c: Conn, mine: list[bytes]) -> None:
                for body in mine:
                    await checked(c, body)

            start = time.perf_counter()
            await asyncio.gather(*(worker(c, mine) for c, mine in zip(conns, work)))
            elapsed = time.perf_counter() - start
            self.bucket("rps", f"concurrent_{sz.rps_conc}", t.key).append(sz.rps_conc * sz.rps_per_conn / elapsed)
        finally:
            for c in conns:
                c.close()

    @staticmethod
    async def _all_live(readies: list[asyncio.Event], tasks: list[asyncio.Task[Any]], level: int) -> None:
        """Wait until every new stream got its first events; fail fast if a stream task ends."""
        waiting = {asyncio.create_task(r.wait()) for r in readies}
        deadline = time.monotonic() + 120
        try:
            while waiting:
                done, _ = await asyncio.wait(waiting | set(tasks), timeout=max(0.0, deadline - time.monotonic()),
                                             return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    raise BenchError(f"memory: streams not live after 120 s at level {level}")
                for x in done:
                    if x in waiting:
                        waiting.discard(x)
                    elif x.exception() is not None:
                        raise BenchError(f"memory: a stream failed: {x.exception()!r}")
                    else:
                        raise BenchError("memory: a stream ended before it was held open")
        finally:
            for w in waiting:
                w.cancel()

    async def memory(self, key: str, rep: int) -> None:
        """RSS of a fresh mitmdump with 1, 100, 500 live streams held open by the fake (cumulative)."""
        from tests.fakeprovider import Reply

        sz = self.sizes
        if sz.mem_fresh:
            proxy = await asyncio.to_thread(start_proxy, self.fake, self.tmp / f"mem-{key}-{rep}", self.confdir, key)
            t = Target(key, Endpoint(self.fake.tls_port, tls_context(proxy.ca_path), proxy.port), proxy)
        else:
            t = self.targets[key]
            proxy = t.proxy
        resume = asyncio.Event()
        tasks: list[asyncio.Task[Any]] = []
        conns: list[Conn] = []
        replies: list[Any] = []
        gate = asyncio.Semaphore(32)
        text = payloads.deltas(sz.mem_hold_after + 20)
        wait_events = max(1, sz.mem_hold_after // 2)  # llmwall may hold back the tail of what was sent

        async def one(ready: asyncio.Event) -> None:
            async with gate:
                conn = await Conn(t.ep).open()
            conns.append(conn)
            body = payloads.chat_body(payloads.fresh(payloads.prompt(1024)), True)
            await checked(conn, body, sse=True, until_events=wait_events, on_events=ready, resume=resume)

        try:
            await self.warm(t)
            self.fake.clear()
            rss: dict[str, int] = {"idle": proc_rss_kb(proxy.proc.pid)}
            for level in sz.mem_levels:
                readies = []
                for _ in range(level - len(tasks)):
                    replies.append(self.fake.script(Reply(text=text, hold_after=sz.mem_hold_after)))
                    ready = asyncio.Event()
                    readies.append(ready)
                    tasks.append(asyncio.create_task(one(ready)))
                await self._all_live(readies, tasks, level)
                await asyncio.sleep(0.5)
                rss[str(level)] = proc_rss_kb(proxy.proc.pid)
                log(f"memory {key}: {level} live streams, RSS {rss[str(level)] / 1024:.1f} MB")
            self.raw.setdefault("memory", {}).setdefault(key, []).append(rss)
        finally:
            for r in replies:
                r.release()
            resume.set()
            if tasks:
                await asyncio.wait(tasks, timeout=60)
            for c in conns:
                c.close()
            if sz.mem_fresh:
                await asyncio.to_thread(proxy.stop)
            self.fake.clear()


async def run_e2e(bench: Bench, sections: list[str], reps: int) -> None:
    for t in bench.targets.values():
        await bench.warm(t)
    for section in sections:
        if section == "memory":
            for rep in range(bench.sizes.mem_reps):
                for key in ("b", "c"):
                    await bench.memory(key, rep)
            continue
        started = time.perf_counter()
        for rep in range(reps):
            for t in bench.targets.values():
                await getattr(bench, section)(t, rep)
        log(f"{section}: {reps} repetition(s) in {time.perf_counter() - started:.1f} s")


def run_e2e_sections(tmp: Path, sizes: Any, sections: list[str], reps: int) -> dict[str, Any]:
    from tests.fakeprovider import FakeProvider

    fake = FakeProvider(tmp / "fake-certs").start()
    confdir = tmp / "confdir"
    targets: dict[str, Target] = {}
    try:
        fake_ca = tls_context(fake.ca_path)
        targets["a"] = Target("a", Endpoint(fake.tls_port, fake_ca))
        if any(s != "memory" for s in sections) or not sizes.mem_fresh:
            for key in ("b", "c"):
                proxy = start_proxy(fake, tmp / f"proxy-{key}", confdir, key)
                targets[key] = Target(key, Endpoint(fake.tls_port, tls_context(proxy.ca_path), proxy.port), proxy)
            log(f"fake provider on :{fake.tls_port}; b on :{targets['b'].proxy.port}; c on :{targets['c'].proxy.port}")
        bench = Bench(fake, targets, sizes, tmp, confdir)
        asyncio.run(run_e2e(bench, sections, reps))
        failures = fake.take_failures()
        if failures:
            raise BenchError("fake provider failures: " + "; ".join(failures[:5]))
        for key in ("b", "c"):
            t = targets.get(key)
            if t and t.proxy.addon_errors():
                log(f"warning: {key} logged addon errors: {t.proxy.addon_errors()[:3]}")
        return bench.raw
    finally:
        for t in targets.values():
            if t.proxy:
                t.proxy.stop()
        fake.stop()
