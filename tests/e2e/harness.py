"""Run `mitmdump -s addons/llmwall.py` as users do, in front of the local fake provider.

    proxy = start_mitmdump(fake, workdir, llmwall=True, sets=["llmwall_mode=monitor"])
    proxy.use_env(monkeypatch)            # HTTPS_PROXY/HTTP_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, ...
    client = openai.OpenAI(api_key="sk-test", max_retries=0)   # no http_client: the SDK reads the env
    ...
    proxy.stop()

The mitmdump subprocess listens on 127.0.0.1 with an OS-chosen port (parsed from its log), keeps its CA in
a temporary confdir (clients trust `<confdir>/mitmproxy-ca-cert.pem`), trusts the fake provider's test CA
upstream, and loads tests/e2e/route_to_fake.py so provider hosts reach the fake with Host and SNI intact.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LLMWALL_SCRIPT = REPO / "addons" / "llmwall.py"
ROUTE_SCRIPT = Path(__file__).resolve().with_name("route_to_fake.py")
LISTEN_RE = re.compile(r"listening at (?:\[?[0-9a-fA-F.:*]+\]?|[\w.-]+):(\d+)")
READY_MARK = "route_to_fake: ready"
START_TIMEOUT = 30.0

# Variables a user sets to use the proxy; the `unset` ones would bypass or confuse it.
UNSET_VARS = ("NO_PROXY", "no_proxy", "http_proxy", "https_proxy", "all_proxy", "ALL_PROXY", "SSL_CERT_DIR")

_live: set[Mitmdump] = set()


def mitmdump_path() -> str:
    """mitmdump next to the running interpreter (the venv's), else the one on PATH."""
    exe = Path(sys.executable).parent / ("mitmdump.exe" if os.name == "nt" else "mitmdump")
    if exe.exists():
        return str(exe)
    found = shutil.which("mitmdump")
    if not found:
        raise RuntimeError("mitmdump not found next to sys.executable nor on PATH")
    return found


@dataclass(eq=False)
class Mitmdump:
    """A running mitmdump subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    confdir: Path
    workdir: Path
    log_path: Path
    flow_log_path: Path
    args: list[str]
    mode: str | None = None
    _log_lines: list[str] = field(default_factory=list, repr=False)
    _log_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT: the proxy URL (regular mode) or the base of the reverse proxy."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> Path:
        """The mitmproxy CA certificate clients must trust (regular mode)."""
        return self.confdir / "mitmproxy-ca-cert.pem"

    # -- client environment -----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The variables a user sets to send a client through this proxy."""
        ca = str(self.ca_path)
        return {
            "HTTPS_PROXY": self.url,
            "HTTP_PROXY": self.url,
            "SSL_CERT_FILE": ca,  # httpx / httpx2 (openai, anthropic SDKs), Python ssl users
            "REQUESTS_CA_BUNDLE": ca,  # requests
            "CURL_CA_BUNDLE": ca,  # curl (tests pass --cacert too)
            "NODE_EXTRA_CA_CERTS": ca,  # Node
        }

    def use_env(self, monkeypatch: Any) -> None:
        """Set env() in this test process (pytest monkeypatch) and unset NO_PROXY & co.
        Build SDK clients AFTER this call: httpx reads proxies and SSL_CERT_FILE when a client is made."""
        for name in UNSET_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env().items():
            monkeypatch.setenv(name, value)

    def subprocess_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A full environment for a client subprocess (curl, node, another python)."""
        env = dict(os.environ if base is None else base)
        for name in UNSET_VARS:
            env.pop(name, None)
        env.update(self.env())
        return env

    # -- inspection -------------------------------------------------------------------------------------
    @property
    def log(self) -> str:
        """Everything mitmdump printed so far (stdout and stderr interleaved)."""
        with self._log_lock:
            return "".join(self._log_lines)

    def flows(self, event: str | None = None) -> list[dict[str, Any]]:
        """Flow events written by route_to_fake (`request` at requestheaders, `response`, `error`)."""
        if not self.flow_log_path.exists():
            return []
        out = [json.loads(line) for line in self.flow_log_path.read_text().splitlines() if line.strip()]
        return [r for r in out if event is None or r["event"] == event]

    def addon_errors(self) -> list[str]:
        """Log lines that report a crashed addon hook or a traceback (mitmdump keeps running after them)."""
        lines = self.log.splitlines()
        return [ln for ln in lines if "Addon error" in ln or "Traceback (most recent call last)" in ln
                or "error in script" in ln]

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> re.Match[str]:
        """Block until mitmdump's output matches `pattern` (regex) or raise TimeoutError."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log)
            if m:
                return m
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump exited with {self.proc.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{pattern!r} not in mitmdump output:\n{self.log}")
            time.sleep(0.02)

    def alive(self) -> bool:
        return self.proc.poll() is None

    # -- lifecycle --------------------------------------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> int | None:
        """Stop mitmdump (SIGINT, then SIGTERM, then SIGKILL). Returns its exit code."""
        _live.discard(self)
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 2.0)):
                try:
                    self.proc.send_signal(sig)
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
            else:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def __enter__(self) -> Mitmdump:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def ephemeral_port_range() -> tuple[int, int]:
    """The local ports the kernel gives outgoing connections (and bind(0)): low, high."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that are free now, for servers a test starts and addresses by port.

    They are drawn below the kernel's ephemeral range: a port the kernel hands out for bind(0) can be handed
    out again as the local port of any outgoing connection before the server binds it (CI once lost the
    metrics port of a restarted mitmdump that way). The sockets stay open until all are chosen, so one call
    never returns the same port twice."""
    low, _high = ephemeral_port_range()
    floor = max(1024, min(20000, low - 2000))
    picker = random.Random()
    socks: list[socket.socket] = []
    try:
        for _attempt in range(1000):
            if len(socks) == count:
                break
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", picker.randrange(floor, low)))
            except OSError:
                sock.close()
                continue
            socks.append(sock)
        if len(socks) < count:
            raise RuntimeError(f"no {count} free ports in {floor}-{low - 1}")
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def free_port() -> int:
    """One TCP port that is free now."""
    return free_ports(1)[0]


def start_mitmdump(
    fake: Any,
    workdir: str | Path,
    *,
    llmwall: bool = True,
    sets: Iterable[str] | Mapping[str, Any] = (),
    mode: str | None = None,
    confdir: str | Path | None = None,
    scripts: Sequence[str | Path] = (),
    extra_args: Sequence[str] = (),
    route: bool = True,
    timeout: float = START_TIMEOUT,
) -> Mitmdump:
    """Start mitmdump and wait until it is listening and past its startup error check.

    fake        the FakeProvider (its ports and CA are passed to route_to_fake / mitmproxy)
    workdir     a directory for the log, the flow log and (if confdir is None) the mitmproxy confdir
    llmwall     load addons/llmwall.py (False: bare proxy with routing only)
    sets        extra options: ["llmwall_mode=monitor", ...] or {"llmwall_mode": "monitor"}
    mode        e.g. "reverse:https://api.openai.com" (default: regular)
    confdir     share a confdir (and so one CA) between proxies; default <workdir>/confdir
    scripts     more -s scripts, loaded after llmwall and before route_to_fake
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    confdir = Path(confdir) if confdir is not None else workdir / "confdir"
    confdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "mitmdump.log"
    flow_log = workdir / "flows.jsonl"
    flow_log.unlink(missing_ok=True)

    set_list = [f"{k}={_opt(v)}" for k, v in sets.items()] if isinstance(sets, Mapping) else list(sets)
    options = [
        f"confdir={confdir}",
        f"ssl_verify_upstream_trusted_ca={fake.ca_path}",
        "termlog_verbosity=info",
        "flow_detail=1",
    ]
    if llmwall and not any(s.startswith("llmwall_metrics_port=") for s in set_list):
        options.append("llmwall_metrics_port=0")  # parallel proxies must not fight over :9464
    if route:
        options += [f"route_fake_port={fake.tls_port}", f"route_fake_plain_port={fake.plain_port}",
                    f"route_flow_log={flow_log}"]
    # a user's --set replaces a default of the same name (mitmdump refuses two values for one scalar option)
    user_names = {s.split("=", 1)[0] for s in set_list}
    options = [o for o in options if o.split("=", 1)[0] not in user_names] + set_list

    args = [mitmdump_path(), "--listen-host", "127.0.0.1", "--listen-port", "0"]
    if mode:
        args += ["--mode", mode]
    if llmwall:
        args += ["-s", str(LLMWALL_SCRIPT)]
    for s in scripts:
        args += ["-s", str(s)]
    if route:
        args += ["-s", str(ROUTE_SCRIPT)]
    for opt in options:
        args += ["--set", opt]
    args += list(extra_args)

    env = {k: v for k, v in os.environ.items() if k not in UNSET_VARS and not k.upper().endswith("_PROXY")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        args, cwd=str(REPO), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    m = Mitmdump(proc=proc, port=0, confdir=confdir, workdir=workdir, log_path=log_path, flow_log_path=flow_log,
                 args=args, mode=mode)
    _live.add(m)
    threading.Thread(target=_pump, args=(m, log_path), daemon=True, name=f"mitmdump-log-{proc.pid}").start()
    try:
        listen = m.wait_for_log(LISTEN_RE, timeout)
        m.port = int(listen.group(1))
        if route:
            m.wait_for_log(re.escape(READY_MARK), timeout)
        if not m.ca_path.exists():
            raise RuntimeError(f"mitmdump did not create {m.ca_path}")
    except BaseException:
        m.stop()
        raise
    return m


def _opt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pump(m: Mitmdump, log_path: Path) -> None:
    assert m.proc.stdout is not None
    with open(log_path, "w", encoding="utf-8") as f:
        for raw in iter(m.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            with m._log_lock:
                m._log_lines.append(line)
            f.write(line)
            f.flush()


@atexit.register
def _kill_leftovers() -> None:
    for m in list(_live):
        try:
            m.stop(timeout=2.0)
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------------------------------ client helpers


def scrape(port: int, path: str = "/metrics") -> tuple[int, str]:
    """(status, body) of llmwall's metrics endpoint on 127.0.0.1, fetched directly, not through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # not through the proxy
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric_value(metrics: str, name: str, **labels: str) -> float:
    """The sum of the samples of metric `name` whose labels include `labels`, in a Prometheus text page."""
    total = 0.0
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def openai_client(**kw: Any) -> Any:
    """openai.OpenAI as a user makes it (reads HTTPS_PROXY / SSL_CERT_FILE from the env); no retries so
    that scripted errors reach the test once."""
    import openai

    kw.setdefault("api_key", "sk-test")
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30.0)
    return openai.OpenAI(**kw)


def anthropic_client(**kw: Any) -> Any:
    import anthropic

    kw.setdefault("api_key", "sk-ant-test")
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30.0)
    return anthropic.Anthropic(**kw)


def curl(proxy: Mitmdump | None, url: str, *, data: Any = None, headers: Mapping[str, str] | None = None,
         method: str | None = None, extra: Sequence[str] = (), timeout: float = 30.0) -> subprocess.CompletedProcess[bytes]:
    """curl as a user runs it: `curl -sS -N --proxy http://127.0.0.1:PORT --cacert <mitmproxy CA> URL`.
    `data` (dict -> JSON) is POSTed. Returns the CompletedProcess (stdout = body, bytes)."""
    args = ["curl", "-sS", "-N", "--fail-with-body", "--max-time", str(int(timeout))]
    if proxy is not None:
        args += ["--proxy", proxy.url, "--cacert", str(proxy.ca_path)]
    if method:
        args += ["-X", method]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    if data is not None:
        body = data if isinstance(data, (str, bytes)) else json.dumps(data)
        args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    else:
        body = None
    args += list(extra) + [url]
    env = proxy.subprocess_env() if proxy is not None else None
    return subprocess.run(args, input=body.encode() if isinstance(body, str) else body, capture_output=True,
                          env=env, timeout=timeout + 5)
