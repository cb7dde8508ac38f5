"""scripts/doctor against real set-ups: healthy, behind a buffering proxy, with a short idle timeout, in
reverse mode, with the wrong CA and with nothing listening.

The probes reach the fake provider (tests/fakeprovider/probe.py answers the `x-llmwall-probe` header with a
stream of the requested shape) through real mitmdump + llmwall; the doctor runs as a user runs it,
`scripts/doctor --proxy ... --ca ... --metrics ...`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import UNSET_VARS, Mitmdump, free_port

ROOT = Path(__file__).resolve().parents[2]
DOCTOR = ROOT / "scripts" / "doctor"


METRICS_PORT = free_port()
PROXY_SETS = [f"llmwall_metrics_port={METRICS_PORT}"]


def doctor(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET_VARS and not k.upper().endswith("_PROXY")
           and k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "OPENAI_API_KEY")}
    env["NO_COLOR"] = "1"
    return subprocess.run([str(DOCTOR), *args], env=env, capture_output=True, text=True, timeout=timeout)


def via(proxy: Mitmdump, metrics_port: int = METRICS_PORT) -> list[str]:
    return ["--proxy", proxy.url, "--ca", str(proxy.ca_path), "--metrics", f"http://127.0.0.1:{metrics_port}"]


def line(out: str, name: str) -> str:
    """The result line of one check, e.g. `PASS  stream       unbuffered: ...`."""
    for ln in out.splitlines():
        parts = ln.split()
        if len(parts) >= 2 and parts[1] == name and parts[0] in ("PASS", "WARN", "FAIL", "SKIP", "INFO"):
            return ln.strip()
    raise AssertionError(f"no result for {name!r} in:\n{out}")


def test_healthy_setup_passes(proxy, fake):
    out = doctor(*via(proxy), "--pause", "1.5")
    text = out.stdout
    assert out.returncode == 0, text + out.stderr
    for name in ("proxy", "tls", "provider", "stream", "first-chunk", "metrics", "health", "idle"):
        assert line(text, name).startswith("PASS"), line(text, name)
    assert "unbuffered: 5 events" in line(text, "stream")
    assert "blocked" in line(text, "provider")
    assert "silence inside a stream survived" in line(text, "idle")
    assert "No problems found" in text
    # the probes really crossed llmwall: the injection probe was counted, the streams went to the fake
    assert any(r.header("x-llmwall-probe") for r in fake.llm_requests())


def test_buffering_front_is_named(proxy, proxy_factory, fake):
    # a plain mitmdump (no streaming) chained in front of llmwall buffers every reply whole
    front = proxy_factory(llmwall=False, route=False, mode=f"upstream:{proxy.url}", sets=["ssl_insecure=true"])
    out = doctor(*via(front), "--pause", "0")
    text = out.stdout
    assert out.returncode == 1, text + out.stderr
    stream = line(text, "stream")
    assert stream.startswith("FAIL") and "BUFFERED" in stream
    assert "between llmwall and the client" in stream
    assert "proxy_buffering off" in text
    assert line(text, "provider").startswith("PASS")  # the rest of the chain works
    assert "1 problem(s): stream: BUFFERED" in text


def test_short_idle_timeout_is_named(proxy_factory, fake):
    port = free_port()
    short = proxy_factory(sets=[f"llmwall_metrics_port={port}", "tcp_timeout=1"])
    out = doctor(*via(short, port), "--pause", "3")
    text = out.stdout
    assert out.returncode == 1, text + out.stderr
    idle = line(text, "idle")
    assert idle.startswith("FAIL") and "IDLE TIMEOUT" in idle
    assert line(text, "stream").startswith("PASS")  # 400 ms gaps are below the 1 s timeout
    assert "proxy_read_timeout" in text


def test_reverse_mode(proxy_factory, fake):
    port = free_port()
    rev = proxy_factory(mode="reverse:https://api.openai.com", sets=[f"llmwall_metrics_port={port}"])
    out = doctor("--base-url", f"{rev.url}/v1", "--metrics", f"http://127.0.0.1:{port}", "--pause", "0")
    text = out.stdout
    assert out.returncode == 0, text + out.stderr
    assert line(text, "tls").startswith("SKIP")
    assert line(text, "provider").startswith("PASS") and line(text, "stream").startswith("PASS")


def test_wrong_ca_and_nothing_listening(proxy, fake):
    wrong = doctor("--proxy", proxy.url, "--ca", str(fake.ca_path), "--metrics", "none", "--pause", "0")
    assert wrong.returncode == 1
    tls = line(wrong.stdout, "tls")
    assert tls.startswith("FAIL") and "does not trust" in tls
    assert "issued by: mitmproxy" in wrong.stdout and "SSL_CERT_FILE" in wrong.stdout

    dead = doctor("--proxy", f"http://127.0.0.1:{free_port()}", "--metrics", "none", "--pause", "0")
    assert dead.returncode == 1
    assert line(dead.stdout, "proxy").startswith("FAIL") and "connection refused" in dead.stdout


def load_doctor():
    import importlib.util

    spec = importlib.util.spec_from_file_location("llmwall_doctor", ROOT / "scripts" / "doctor.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_empty_and_broken_streams_are_named(proxy, fake):
    # the other stream shapes, through the same real proxy: the probe header asks the fake for them
    doc = load_doctor()
    args = doc.argparse.Namespace(base_url=None, endpoint=None, proxy=proxy.url, ca=str(proxy.ca_path),
                                  metrics=f"http://127.0.0.1:{METRICS_PORT}", audit_log=None, api_key=None,
                                  model="gpt-4o-mini", timeout=20)
    t = doc.build_target(args)

    def judged(probe: str):
        before = doc.read_metrics(t)
        run = doc.run_stream(t, probe, "doctor test", 20)
        delta = doc.read_metrics(t) - before
        return doc.judge_stream(t, run, 5, 0.1, delta)

    empty = judged("empty")
    assert empty.status == "FAIL" and "EMPTY STREAM" in empty.summary
    assert any("llmwall_empty_streams_total" in d for d in empty.detail)
    broken = judged("events=5; gap_ms=100; cut_after=2")
    assert broken.status == "FAIL" and "BROKEN STREAM" in broken.summary and "after 2 text events" in broken.summary
    slow = judged("events=5; gap_ms=100; first_ms=600")
    assert slow.status == "PASS"
