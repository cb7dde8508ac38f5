"""scripts/demo runs offline, end to end, and reports every expected outcome."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.e2e.harness import UNSET_VARS

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_and_every_outcome_is_as_expected():
    env = {k: v for k, v in os.environ.items() if k not in UNSET_VARS and not k.upper().endswith("_PROXY")}
    env["NO_COLOR"] = "1"
    out = subprocess.run([str(ROOT / "scripts" / "demo")], cwd=str(ROOT), env=env, capture_output=True,
                         text=True, timeout=120)
    text = out.stdout
    assert out.returncode == 0, f"scripts/demo failed ({out.returncode}):\n{text}\n{out.stderr}"
    assert "All 7 scenarios behaved as expected" in text
    assert "NOT AS EXPECTED" not in text and "FAILED" not in text
    for heading in ("1. A benign chat", "2. A prompt injection", "3. A prompt with a secret",
                    "4. A prompt with an e-mail address", "5. A streamed reply that leaks a secret",
                    "6. A streamed reply that carries the pseudonym back", "7. A streamed dangerous tool call"):
        assert heading in text
    assert text.count("[as expected]") == 7
    # side by side: the redaction and the pseudonym are visible on the provider's side
    assert "[REDACTED:" in text and "<EMAIL_1>" in text
    assert "tool-pipe-to-shell" in text and "PermissionDeniedError 403" in text
    # metrics, audit log and the mitmweb hint
    metrics = re.search(r"Metrics: (http://127\.0\.0\.1:\d+/metrics)", text)
    assert metrics, text
    assert 'llmwall_requests_total{decision="blocked",provider="openai"} 2.0' in text
    audit = re.search(r"Audit log: (\S+)\s+\((\d+) records", text)
    assert audit and audit.group(2) == "7"
    assert Path(audit.group(1)).exists()
    assert "scripts/demo --web" in text
