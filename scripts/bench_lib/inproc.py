"""In-process measurements of llmwall's core: request scan per KB, rule-count growth, stream guard per
event, and (optionally) profiles of the two hot paths."""

from __future__ import annotations

import io
import math
import random
import string
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import payloads
from .stats import summary

REPO = Path(__file__).resolve().parents[2]


def _core() -> dict[str, Any]:
    from llmwall_core.framing import make_framer
    from llmwall_core.policy import inspect_request
    from llmwall_core.providers import get_format
    from llmwall_core.pseudonyms import PseudonymVault
    from llmwall_core.rules import load_rules
    from llmwall_core.stream_guard import StreamGuard

    return {"make_framer": make_framer, "inspect_request": inspect_request, "fmt": get_format("openai"),
            "Vault": PseudonymVault, "load_rules": load_rules, "StreamGuard": StreamGuard}


def _timed(make: Callable[[], Callable[[], Any]], runs: int, budget_s: float) -> tuple[list[float], Any]:
    """Run a fresh job from `make()` (prepared untimed) up to `runs` times, at least once, within about
    `budget_s`: (milliseconds, first result)."""
    out: list[float] = []
    first = None
    deadline = time.perf_counter() + budget_s
    while len(out) < runs:
        fn = make()
        t = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t) * 1000)
        if len(out) == 1:
            first = result
        if time.perf_counter() > deadline:
            break
    return out, first


def inspect_fn(core: dict[str, Any], ruleset: Any, body: bytes) -> Callable[[], Any]:
    fmt, Vault, inspect = core["fmt"], core["Vault"], core["inspect_request"]

    def run() -> Any:
        verdict = inspect(ruleset, fmt, "openai", payloads.CHAT_PATH, body, Vault(), True)
        return verdict

    return run


def rule_yaml(n: int) -> str:
    lines = ["rules:"]
    for i in range(n):
        lines += [f"  - id: bench-tok{i}",
                  f"    description: generated secret-like rule {i}",
                  "    applies_to: request",
                  f"    pattern: '\\b(tok{i}_[A-Za-z0-9]{{24}})\\b'",
                  "    secret_group: 1",
                  f"    keywords: ['tok{i}_']",
                  "    action: redact",
                  "    severity: high",
                  "    tags: [secret]"]
    return "\n".join(lines) + "\n"


def rules_prompt(kb: int) -> str:
    """A unique prompt of `kb` KB with three tokens of rules 1, 5 and 9 (present in every generated set)."""
    rng = random.Random(99)
    tokens = [f"tok{i}_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
              for i in (1, 5, 9)]
    text = payloads.fresh(payloads.prompt(kb * 1024 - 120, seed=3))
    third = len(text) // 3
    return (text[:third] + f" use {tokens[0]} here " + text[third:2 * third] + f" and {tokens[1]} "
            + text[2 * third:] + f" then {tokens[2]}.")


def code_prompt(n_bytes: int) -> str:
    """`n_bytes` of llmwall's own Python source (real code: identifiers, numbers, strings, comments)."""
    text = ""
    for path in sorted((REPO / "addons").rglob("*.py")):
        text += path.read_text(encoding="utf-8")
        if len(text) >= n_bytes:
            break
    return (text * (1 + n_bytes // max(1, len(text))))[:n_bytes]


def guard_run(core: dict[str, Any], ruleset: Any, events: list[bytes]) -> tuple[float, bool, int]:
    """Feed `events` one per chunk through a fresh StreamGuard:
    (seconds, output byte-identical, events held back when they arrived)."""
    fmt = core["fmt"]
    codec = fmt.stream_codec(payloads.CHAT_PATH, "text/event-stream; charset=utf-8")
    guard = core["StreamGuard"](codec, core["make_framer"](codec.framing), ruleset, core["Vault"](), 512, True)
    out: list[bytes] = []
    held = 0
    t = time.perf_counter()
    for ev in events:
        now = guard.feed(ev)
        if not now or now[-1] != ev:
            held += 1
        out += now
    out += guard.finish()
    dt = time.perf_counter() - t
    return dt, b"".join(out) == b"".join(events), held


def run_scan(sizes: Any, reps: int, log: Callable[[str], None]) -> dict[str, Any]:
    core = _core()
    t = time.perf_counter()
    ruleset = core["load_rules"]([str(REPO / "rules")])
    load_s = time.perf_counter() - t
    res: dict[str, Any] = {"default_rules": len(ruleset), "default_rules_load_s": round(load_s, 3),
                           "prompt": {}, "rules": {}}
    inspect_fn(core, ruleset, payloads.chat_body(payloads.fresh(payloads.prompt(1024)), False))()  # warm-up
    for kb in sizes.scan_kb:
        def make(kb: int = kb) -> Callable[[], Any]:
            return inspect_fn(core, ruleset, payloads.chat_body(payloads.fresh(payloads.prompt(kb * 1024)), False))

        ms, verdict = _timed(make, max(reps, 3), sizes.scan_budget_s)
        s = summary(ms)
        s["ms_per_kb"] = s["median"] / kb
        s["decision"] = verdict.decision
        res["prompt"][f"{kb}KB"] = s
        log(f"scan {kb} KB: {s['median']:.2f} ms ({s['ms_per_kb']:.3f} ms/KB, n={s['n']}, {verdict.decision})")
    # the same text again: llmwall remembers findings per text (a chat resends its history every turn)
    kb = 128 if 128 in sizes.scan_kb else sizes.scan_kb[-1]
    body = payloads.chat_body(payloads.fresh(payloads.prompt(kb * 1024)), False)
    inspect_fn(core, ruleset, body)()
    ms, _ = _timed(lambda: inspect_fn(core, ruleset, body), max(reps, 5), sizes.scan_budget_s)
    res["repeated"] = {"size": f"{kb}KB", **summary(ms)}
    log(f"scan {kb} KB again (same text): {res['repeated']['median']:.2f} ms")

    # prose is the friendly case: source code repeats key/token/password and holds digits everywhere
    code = code_prompt(kb * 1024)
    ms, verdict = _timed(lambda: inspect_fn(core, ruleset, payloads.chat_body(payloads.fresh(code), False)),
                         max(reps, 3), sizes.scan_budget_s)
    res["code"] = {"size": f"{kb}KB", "decision": verdict.decision, **summary(ms)}
    log(f"scan {kb} KB of Python source: {res['code']['median']:.2f} ms ({verdict.decision})")

    with tempfile.TemporaryDirectory(prefix="llmwall-bench-rules-") as tmp:
        for n in sizes.rule_counts:
            path = Path(tmp) / f"rules-{n}.yaml"
            path.write_text(rule_yaml(n))
            t = time.perf_counter()
            rs = core["load_rules"]([str(path)])
            load = time.perf_counter() - t
            ms, verdict = _timed(
                lambda rs=rs: inspect_fn(core, rs, payloads.chat_body(rules_prompt(sizes.rules_prompt_kb), False)),
                max(reps, 5), sizes.scan_budget_s)
            s = summary(ms)
            s.update(load_s=round(load, 3), findings=len(verdict.findings))
            res["rules"][str(n)] = s
            log(f"{n} generated rules, {sizes.rules_prompt_kb} KB prompt: {s['median']:.2f} ms, "
                f"{len(verdict.findings)} findings, load {load:.2f} s")
    counts = list(sizes.rule_counts)
    first, last = res["rules"][str(counts[0])]["median"], res["rules"][str(counts[-1])]["median"]
    res["rules_growth_exponent"] = math.log(last / first) / math.log(counts[-1] / counts[0])
    res["rules_time_ratio"] = last / first

    events = payloads.openai_stream_events(sizes.stream_events)
    guard_run(core, ruleset, payloads.openai_stream_events(20))  # compiles the stream matcher
    runs = []
    identical = True
    deadline = time.perf_counter() + sizes.scan_budget_s
    held = 0
    for _ in range(max(reps, 3)):
        dt, same, held = guard_run(core, ruleset, events)
        identical &= same
        runs.append(dt / len(events) * 1e6)
        if time.perf_counter() > deadline:
            break
    g = summary(runs)
    g.update(events=len(events), byte_identical=identical, held_at_arrival=held)
    res["guard_us_per_event"] = g
    log(f"stream guard: {g['median']:.1f} us/event over {len(events)} events (byte-identical: {identical}, "
        f"{held} held back on arrival)")
    return res


def run_profiles(sizes: Any, log: Callable[[str], None]) -> dict[str, str]:
    """pyinstrument call trees and cProfile self-time tops for (i) the guard on a recorded-like stream,
    (ii) inspect_request on 128 KB. Needs `pip install pyinstrument` (cProfile alone otherwise)."""
    import cProfile
    import pstats

    core = _core()
    ruleset = core["load_rules"]([str(REPO / "rules")])
    events = payloads.openai_stream_events(sizes.stream_events)
    guard_run(core, ruleset, payloads.openai_stream_events(20))
    inspect_fn(core, ruleset, payloads.chat_body(payloads.prompt(1024), False))()
    jobs = {"stream_guard": lambda: lambda: guard_run(core, ruleset, events),
            "inspect_request_128KB": lambda: inspect_fn(
                core, ruleset, payloads.chat_body(payloads.fresh(payloads.prompt(128 * 1024)), False))}
    out: dict[str, str] = {}
    for name, make in jobs.items():
        text = ""
        fn = make()
        try:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005)
            prof.start()
            fn()
            prof.stop()
            text += prof.output_text(unicode=False, color=False, show_all=False)
        except ImportError:
            text += "(pyinstrument not installed: pip install pyinstrument)\n"
        fn = make()
        cp = cProfile.Profile()
        cp.enable()
        fn()
        cp.disable()
        buf = io.StringIO()
        pstats.Stats(cp, stream=buf).strip_dirs().sort_stats("tottime").print_stats(15)
        text += "\ncProfile, top 15 by self time:\n" + buf.getvalue()
        out[name] = text
        log(f"profile {name}: done")
    return out
