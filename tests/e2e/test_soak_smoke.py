"""scripts/soak.py --smoke: 20 concurrent streams for 10 s through one mitmdump + llmwall (regular mode,
HTTPS), with client disconnects, injections and pseudonymized e-mail addresses mixed in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import REPO

SOAK = REPO / "scripts" / "soak.py"


def test_soak_smoke(tmp_path: Path):
    out = tmp_path / "smoke.json"
    proc = subprocess.run([sys.executable, str(SOAK), "--smoke", "--json", str(out)], cwd=str(REPO),
                          capture_output=True, text=True, timeout=90)
    assert out.exists(), f"soak.py wrote no report (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    report = json.loads(out.read_text())
    summary = proc.stdout[-4000:]
    assert report["errors"]["unintended"] == 0, summary
    assert report["llmwall_metrics"]["active_streams_end"] == 0, summary
    started = report["counts"]["started"]
    assert started.get("normal", 0) >= 20 and all(started.get(k, 0) >= 1 for k in ("disconnect", "block", "pii")), \
        summary
    assert report["llmwall_metrics"]["stream_aborts"]["client_disconnect"] == started["disconnect"], summary
    assert report["llmwall_metrics"]["requests_by_decision"].get("blocked") == started["block"], summary
    assert report["ok"] and proc.returncode == 0, summary
