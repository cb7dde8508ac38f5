"""Results of scripts/bench.py: summaries, the headline with targets, Markdown tables."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from .stats import summary

TARGETS = ("a", "b", "c")



def ratio(x: float | None, y: float | None) -> float | None:
    return x / y if x is not None and y else None


def summarize(raw: dict[str, Any], sizes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "ttft" in raw:
        out["ttft"] = {}
        for size, per in raw["ttft"].items():
            row: dict[str, Any] = {k: summary(v) for k, v in per.items()}
            row["ratio_c_b"] = ratio(row["c"]["median"], row["b"]["median"])
            row["ratio_c_b_p99"] = ratio(row["c"]["p99"], row["b"]["p99"])
            out["ttft"][size] = row
    if "latency" in raw:
        row = {k: summary(v) for k, v in raw["latency"].items()}
        row["diff_c_b_median_ms"] = row["c"]["median"] - row["b"]["median"]
        row["diff_c_b_p99_ms"] = row["c"]["p99"] - row["b"]["p99"]
        out["latency"] = row
    if "throughput" in raw:
        row = {k: summary(v) for k, v in raw["throughput"].items()}
        row["events"] = sizes.stream_events + 3
        row["ratio_c_b"] = ratio(row["c"]["median"], row["b"]["median"])
        row["not_byte_identical"] = {k: v for k, v in raw.get("not_identical", {}).items()}
        out["throughput"] = row
    if "cpu" in raw:
        row = {}
        for k, runs in raw["cpu"].items():
            per = [cpu / (n / 1e6) for cpu, n in runs]
            s = summary(per)
            s["total_cpu_s"] = sum(c for c, _ in runs)
            s["total_mb"] = sum(n for _, n in runs) / 1e6
            s["cpu_s_per_mb"] = s["total_cpu_s"] / s["total_mb"]
            row[k] = s
        row["ratio_c_b"] = ratio(row["c"]["cpu_s_per_mb"], row["b"]["cpu_s_per_mb"])
        out["cpu"] = row
    if "rps" in raw:
        out["rps"] = {}
        for mode, per in raw["rps"].items():
            row = {k: summary(v) for k, v in per.items()}
            row["ratio_c_b"] = ratio(row["c"]["median"], row["b"]["median"])
            out["rps"][mode] = row
    if "memory" in raw:
        levels = [str(n) for n in sizes.mem_levels]
        row = {}
        for k, runs in raw["memory"].items():
            rss = {lv: sorted(r[lv] for r in runs)[len(runs) // 2] / 1024 for lv in ["idle", *levels]}
            per_stream = [(r[levels[-1]] - r[levels[0]]) / (int(levels[-1]) - int(levels[0])) for r in runs]
            row[k] = {"rss_mb": rss, "per_stream_kb": summary(per_stream)["median"], "runs": runs}
        row["levels"] = [int(x) for x in levels]
        row["diff_per_stream_kb"] = row["c"]["per_stream_kb"] - row["b"]["per_stream_kb"]
        out["memory"] = row
    if "scan" in raw:
        out["scan"] = raw["scan"]
    return out


def headline(res: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(figure: str, value: float | None, target: str, ok: bool | None, unit: str = "") -> None:
        rows.append({"figure": figure, "value": value, "unit": unit, "target": target,
                     "pass": None if value is None else ok})

    ttft = res.get("ttft", {})
    for size, limit in (("4KB", 1.10), ("128KB", 1.30)):
        if size in ttft:
            v = ttft[size]["ratio_c_b"]
            add(f"TTFT ratio c/b, {size} prompt", v, f"<= {limit:.2f}", v is not None and v <= limit, "x")
    if "throughput" in res:
        v = res["throughput"]["ratio_c_b"]
        add("stream throughput ratio c/b", v, ">= 0.90", v is not None and v >= 0.90, "x")
    if "latency" in res:
        v = res["latency"]["diff_c_b_median_ms"]
        add("added median latency per event c-b", v, "<= 0.5 ms", v <= 0.5, "ms")
    if "memory" in res:
        v = res["memory"]["diff_per_stream_kb"]
        add("memory per live stream c-b", v, "< 64 KB", v < 64, "KB")
    elsewhere = res.get("rps", {}).get("sequential_to_another_host")
    if elsewhere:
        v = elsewhere["ratio_c_b"]
        add("requests/s to a non-provider host, ratio c/b", v, ">= 0.95 (nothing measurable)",
            v is not None and v >= 0.95, "x")
    scan = res.get("scan")
    if scan:
        if "128KB" in scan["prompt"]:
            v = scan["prompt"]["128KB"]["median"]
            add("in-process scan of 128 KB", v, "< 5 ms", v < 5, "ms")
        v = scan["rules_growth_exponent"]
        counts = list(scan["rules"])
        add(f"scan time growth with rules {counts[0]}->{counts[-1]} (exponent)", v, "< 1 (sublinear)", v < 1, "")
    return rows


# ------------------------------------------------------------------------------------------------ output


def fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}f}"
    return str(v)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import mitmproxy.version

        mitm = mitmproxy.version.VERSION
    except Exception:  # noqa: BLE001
        mitm = "unknown"
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "mitmproxy": mitm,
            "platform": platform.platform()}


def markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    m = meta["machine"]
    L: list[str] = []
    L.append(f"Machine: {m['nproc']} CPU(s), {m['cpu']}; Python {m['python']}; mitmproxy {m['mitmproxy']}.  ")
    L.append(f"Command: `{meta['command']}` ({meta['reps']} repetition(s){', smoke sizes' if meta['smoke'] else ''}"
             f", {meta['duration_s']:.0f} s).  ")
    L.append("Targets: a = no proxy, b = bare mitmdump (`stream_large_bodies=1`), c = mitmdump + llmwall "
             "(default rules); medians (p99 in brackets).")
    L.append("")
    if res["headline"]:
        L += ["| headline | value | target | result |", "|---|---|---|---|"]
        for h in res["headline"]:
            result = "n/a" if h["pass"] is None else ("PASS" if h["pass"] else "MISS")
            L.append(f"| {h['figure']} | {fmt(h['value'])} {h['unit']} | {h['target']} | {result} |")
        L.append("")
    if "ttft" in res:
        L += ["| time to first chunk (ms) | a | b | c | c/b |", "|---|---|---|---|---|"]
        for size, row in res["ttft"].items():
            cells = [f"{fmt(row[k]['median'])} ({fmt(row[k]['p99'])})" for k in TARGETS]
            L.append(f"| {size} prompt | {' | '.join(cells)} | {fmt(row['ratio_c_b'])} |")
        L.append("")
    other = ["| figure | a | b | c | c vs b |", "|---|---|---|---|---|"]
    if "latency" in res:
        r = res["latency"]
        cells = [f"{fmt(r[k]['median'], 3)} ({fmt(r[k]['p99'], 3)})" for k in TARGETS]
        other.append(f"| lag per streamed event, ms | {' | '.join(cells)} | "
                     f"{fmt(r['diff_c_b_median_ms'], 3)} ({fmt(r['diff_c_b_p99_ms'], 3)}) ms |")
    if "throughput" in res:
        r = res["throughput"]
        cells = [fmt(r[k]["median"], 0) for k in TARGETS]
        other.append(f"| events/s, {r['events']}-event stream | {' | '.join(cells)} | x{fmt(r['ratio_c_b'])} |")
        if r["not_byte_identical"]:
            other.append(f"| WARNING: clean stream not byte-identical (target: repetitions) | "
                         f"{r['not_byte_identical']} | | | |")
    if "cpu" in res:
        r = res["cpu"]
        other.append(f"| mitmdump CPU s per MB streamed | n/a | {fmt(r['b']['cpu_s_per_mb'], 3)} | "
                     f"{fmt(r['c']['cpu_s_per_mb'], 3)} | x{fmt(r['ratio_c_b'])} |")
    if "rps" in res:
        for mode, r in res["rps"].items():
            cells = [fmt(r[k]["median"], 0) for k in TARGETS]
            other.append(f"| requests/s, {mode.replace('_', ' ')} | {' | '.join(cells)} | x{fmt(r['ratio_c_b'])} |")
    if "memory" in res:
        r = res["memory"]
        for lv in ["idle", *[str(x) for x in r["levels"]]]:
            name = "idle (after warm-up)" if lv == "idle" else f"{lv} live stream(s)"
            other.append(f"| mitmdump RSS MB, {name} | n/a | {fmt(r['b']['rss_mb'][lv], 1)} | "
                         f"{fmt(r['c']['rss_mb'][lv], 1)} | "
                         f"{fmt(r['c']['rss_mb'][lv] - r['b']['rss_mb'][lv], 1)} MB |")
        other.append(f"| memory per live stream, KB | n/a | {fmt(r['b']['per_stream_kb'], 1)} | "
                     f"{fmt(r['c']['per_stream_kb'], 1)} | {fmt(r['diff_per_stream_kb'], 1)} KB |")
    if len(other) > 2:
        L += other + [""]
    scan = res.get("scan")
    if scan:
        L += [f"In process ({scan['default_rules']} default rules, loaded in {fmt(scan['default_rules_load_s'])} s; "
              "every prompt is unique unless said otherwise):",
              "", "| in-process figure | median ms | ms per KB | runs |", "|---|---|---|---|"]
        for size, s in scan["prompt"].items():
            L.append(f"| inspect_request, {size} prompt | {fmt(s['median'])} | {fmt(s['ms_per_kb'], 3)} | {s['n']} |")
        if "repeated" in scan:
            r = scan["repeated"]
            kb = int(r["size"].rstrip("KB"))
            L.append(f"| inspect_request, the same {r['size']} prompt again (findings cache) | {fmt(r['median'])} | "
                     f"{fmt(r['median'] / kb, 3)} | {r['n']} |")
        if "code" in scan:
            c = scan["code"]
            kb = int(c["size"].rstrip("KB"))
            L.append(f"| inspect_request, {c['size']} of Python source (llmwall's own) | {fmt(c['median'])} | "
                     f"{fmt(c['median'] / kb, 3)} | {c['n']} |")
        for n, s in scan["rules"].items():
            L.append(f"| inspect_request, {n} generated rules, 32 KB prompt (load {fmt(s['load_s'])} s) | "
                     f"{fmt(s['median'])} | {fmt(s['median'] / 32, 3)} | {s['n']} |")
        g = scan["guard_us_per_event"]
        L.append(f"| StreamGuard per event ({g['events']}-event stream), microseconds | {fmt(g['median'], 1)} | | "
                 f"{g['n']} |")
        L.append("")
        L.append(f"StreamGuard: {g['held_at_arrival']} of {g['events']} events held back when they arrived "
                 f"(released with a later event); output byte-identical: {g['byte_identical']}.  ")
        L.append(f"Rule-count growth exponent: {fmt(scan['rules_growth_exponent'])} "
                 f"(time x{fmt(scan['rules_time_ratio'])} for x{int(list(scan['rules'])[-1]) // int(list(scan['rules'])[0])} rules).")
    return "\n".join(L)
