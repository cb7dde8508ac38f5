"""scripts/bench.py --smoke runs end to end (fake provider, bare mitmdump, mitmdump + llmwall, in-process
scan) and writes JSON with every section filled with numbers. No assertion on time: this checks the
benchmark, not llmwall's speed."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("a", "b", "c")


def _load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("llmwall_bench", ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_bench_smoke_writes_every_section(tmp_path: Path) -> None:
    bench = _load_bench()
    out = tmp_path / "bench.json"
    started = time.monotonic()
    assert bench.main(["--smoke", "--json", str(out)]) == 0
    elapsed = time.monotonic() - started
    res = json.loads(out.read_text())

    for section in ("meta", "headline", "ttft", "latency", "throughput", "cpu", "rps", "memory", "scan"):
        assert section in res, section

    assert set(res["ttft"]) == {"1KB", "4KB", "32KB", "128KB", "4KB chat + 1KB new"}  # smoke: 4 KB of history
    for row in res["ttft"].values():
        for t in TARGETS:
            assert _number(row[t]["median"]) and _number(row[t]["p99"]) and row[t]["n"] >= 1
        assert _number(row["ratio_c_b"])

    for t in TARGETS:
        assert _number(res["latency"][t]["median"]) and _number(res["latency"][t]["p99"])
        assert _number(res["throughput"][t]["median"]) and res["throughput"][t]["median"] > 0
    assert _number(res["latency"]["diff_c_b_median_ms"]) and _number(res["latency"]["diff_c_b_p99_ms"])
    assert _number(res["throughput"]["ratio_c_b"])

    for t in ("b", "c"):
        assert _number(res["cpu"][t]["cpu_s_per_mb"]) and res["cpu"][t]["total_mb"] > 0
        assert _number(res["memory"][t]["per_stream_kb"])
        assert all(_number(v) and v > 0 for v in res["memory"][t]["rss_mb"].values())
    assert _number(res["cpu"]["ratio_c_b"]) and _number(res["memory"]["diff_per_stream_kb"])

    assert set(res["rps"]) == {"sequential", "concurrent_8", "sequential_to_another_host"}
    for row in res["rps"].values():
        assert all(_number(row[t]["median"]) and row[t]["median"] > 0 for t in TARGETS)
        assert _number(row["ratio_c_b"])

    scan = res["scan"]
    assert scan["prompt"] and all(_number(s["median"]) and _number(s["ms_per_kb"]) for s in scan["prompt"].values())
    assert len(scan["rules"]) >= 2 and all(_number(s["median"]) for s in scan["rules"].values())
    assert _number(scan["rules_growth_exponent"])
    assert _number(scan["guard_us_per_event"]["median"]) and scan["guard_us_per_event"]["byte_identical"] is True

    figures = {h["figure"] for h in res["headline"]}
    assert len(res["headline"]) == 8, figures
    assert "requests/s to a non-provider host, ratio c/b" in figures
    assert all(_number(h["value"]) and h["pass"] in (True, False) for h in res["headline"])

    meta = res["meta"]
    assert meta["smoke"] is True and meta["reps"] == 1 and "--smoke" in meta["command"]
    assert _number(meta["machine"]["nproc"]) and meta["machine"]["mitmproxy"]
    assert elapsed < 60, f"bench --smoke took {elapsed:.0f} s"
