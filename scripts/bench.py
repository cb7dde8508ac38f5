#!/usr/bin/env python3
"""llmwall benchmark: what llmwall costs compared with a bare mitmdump, end to end and in process.

    .venv/bin/python scripts/bench.py                    # everything, ~3-5 minutes on 2 cores
    .venv/bin/python scripts/bench.py --smoke            # tiny sizes, 1 repetition (< 40 s)
    .venv/bin/python scripts/bench.py --only ttft,latency --reps 3 --json /tmp/b.json
    .venv/bin/python scripts/bench.py --profile          # also profile the hot paths (pip install pyinstrument)
    .venv/bin/python scripts/bench.py --only ttft --set-c llmwall_rules=scripts/bench_lib/one-rule.yaml
                                                         # llmwall's hop without the default rules' scan

Targets, measured interleaved (a, b, c, a, b, c, ...) with the same client and payloads:
  a  no proxy: the client talks TLS straight to the fake provider (SNI api.openai.com)
  b  bare mitmdump with `--set stream_large_bodies=1` (bodies stream unbuffered)
  c  mitmdump with llmwall on the default rules
b and c run in regular proxy mode (CONNECT + TLS, as SDK clients with HTTPS_PROXY do), route provider hosts
to the fake provider with tests/e2e/route_to_fake.py, and both run with flow_detail=0 and no flow log.

Sections (--only):
  ttft        client-side time from writing a streamed chat request (1, 4, 32, 128 KB prompt) to its first chunk;
              also the next turn of a conversation whose 32 KB history llmwall has already seen (1 KB new)
  latency     lag per event of a paced stream: the fake stamps `: t=<perf_counter_ns>` into each SSE event as it
              writes it, the client subtracts that from the time it reads it. For c this includes events that
              llmwall holds back until a later event decides their tail
  throughput  events/s of a 3000-event stream sent at full speed (first to last event), and CPU seconds of the
              mitmdump process (/proc/<pid>/stat utime+stime) per MB streamed
  rps         small non-streamed requests, sequential on one connection and with 8 connections; then the same
              requests sequentially to a host that is not a provider (example.com), where llmwall must cost nothing
  memory      VmRSS of a fresh mitmdump with 1, 100, 500 live streams held open by the fake; per-stream cost
              (RSS(500) - RSS(1)) / 499 (once per target: RSS is steady, the 500 TLS handshakes are not cheap)
  scan        in process: inspect_request on 1 KB .. 1 MB prompts (default rules), on a 32 KB prompt with 10,
              100, 1000 generated rules, and StreamGuard per event on the same 3000-event stream
Writes JSON (--json, default bench-results.json, git-ignored) and prints Markdown tables plus a headline with
targets; a missed target is reported, never fatal. Timings are noisy on a shared 2-core machine: the ratios
c/b, measured interleaved, are the figures to read.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for p in (REPO / "addons", REPO, REPO / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_lib.e2e import log, run_e2e_sections  # noqa: E402
from bench_lib.report import headline, machine, markdown, summarize  # noqa: E402

E2E_SECTIONS = ("ttft", "latency", "throughput", "rps", "memory")
SECTIONS = (*E2E_SECTIONS, "scan")


@dataclass
class Sizes:
    ttft_kb: tuple[int, ...] = (1, 4, 32, 128)
    chat_history_kb: int = 32  # ttft also times a conversation turn: this much history (seen before) + 1 KB new
    ttft_samples: int = 3  # per size, per target, per repetition
    ttft_samples_small: int = 8  # the same for prompts <= 4 KB (cheap)
    latency_events: int = 150
    latency_delay: float = 0.003  # seconds between events: a paced stream, so lags are not queueing
    stream_events: int = 3000
    rps_seq: int = 60
    rps_conc: int = 8
    rps_per_conn: int = 10
    mem_levels: tuple[int, ...] = (1, 100, 500)
    mem_hold_after: int = 20  # events sent before a stream is held open
    mem_reps: int = 1
    mem_fresh: bool = True  # a fresh mitmdump per memory run (else the running b and c, after their work)
    scan_kb: tuple[int, ...] = (1, 16, 128, 1024)
    rule_counts: tuple[int, ...] = (10, 100, 1000)
    rules_prompt_kb: int = 32
    scan_budget_s: float = 3.0  # per in-process figure: repeat until this much time is spent


SMOKE = Sizes(ttft_samples=1, ttft_samples_small=1, latency_events=20, stream_events=300, rps_seq=10, rps_per_conn=2,
              mem_levels=(1, 5, 10), mem_hold_after=6, mem_fresh=False, scan_kb=(1, 16, 128), rule_counts=(10, 100),
              scan_budget_s=0.3, chat_history_kb=4)


# -------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 5; 1 with --smoke)")
    ap.add_argument("--only", action="append", default=[],
                    help=f"sections to run, comma-separated or repeated: {', '.join(SECTIONS)}")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repetition: checks that it all runs")
    ap.add_argument("--json", default=str(REPO / "bench-results.json"), help="where to write the results")
    ap.add_argument("--profile", action="store_true",
                    help="also profile the stream guard and inspect_request (pyinstrument, cProfile)")
    ap.add_argument("--set-c", action="append", default=[], metavar="NAME=VALUE",
                    help="another mitmproxy option for target c only, e.g. llmwall_rules=/path/one-rule.yaml")
    args = ap.parse_args(argv)
    only = [s.strip() for item in args.only for s in item.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    args.sections = [s for s in SECTIONS if not only or s in only]
    if args.reps is None:
        args.reps = 1 if args.smoke else 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes()
    started = time.perf_counter()
    command = shlex.join([".venv/bin/python", "scripts/bench.py", *(sys.argv[1:] if argv is None else argv)])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(sizes.mem_levels) * 4 + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    old_switch = sys.getswitchinterval()
    sys.setswitchinterval(0.001)  # the fake provider is a thread of this process: hand the GIL over fast
    raw: dict[str, Any] = {}
    e2e = [s for s in args.sections if s in E2E_SECTIONS]
    from bench_lib import e2e as e2e_lib

    e2e_lib.EXTRA_C_SETS[:] = args.set_c
    try:
        with tempfile.TemporaryDirectory(prefix="llmwall-bench-") as tmpname:
            tmp = Path(tmpname)
            if e2e:
                raw.update(run_e2e_sections(tmp, sizes, e2e, args.reps))
            if "scan" in args.sections:
                from bench_lib.inproc import run_scan

                raw["scan"] = run_scan(sizes, args.reps, log)
            profiles = None
            if args.profile:
                from bench_lib.inproc import run_profiles

                profiles = run_profiles(sizes, log)
    finally:
        sys.setswitchinterval(old_switch)
    res = summarize(raw, sizes)
    res["headline"] = headline(res)
    res["meta"] = {"machine": machine(), "command": command, "reps": args.reps, "smoke": args.smoke,
                   "sections": args.sections, "sizes": asdict(sizes), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                   "duration_s": time.perf_counter() - started}
    if profiles:
        res["profile"] = profiles
        for name, text in profiles.items():
            print(f"\n## profile: {name}\n\n```\n{text.rstrip()}\n```")
    Path(args.json).write_text(json.dumps(res, indent=2, default=str) + "\n")
    print()
    print(markdown(res))
    log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

