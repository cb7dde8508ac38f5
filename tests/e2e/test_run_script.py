"""The README's contract: `scripts/run` starts llmwall and listens; extra flags go to mitmdump."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scripts_run_listens(tmp_path):
    proc = subprocess.Popen(
        [str(ROOT / "scripts/run"), "--listen-host", "127.0.0.1", "--listen-port", "0",
         "--set", f"confdir={tmp_path}", "--set", "llmwall_metrics_port=0", "--set", "llmwall_mode=monitor"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        cwd=tmp_path,  # any working directory
    )
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
            if re.search(r"proxy listening at \S+:(\d+)", line):
                break
        assert re.search(r"proxy listening at \S+:(\d+)", seen), seen
        assert "rules loaded" in seen
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
