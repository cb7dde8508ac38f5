"""scripts/k8s/llmwall.yaml and scripts/k8s/Dockerfile agree with the addon: option names, ports, probes,
mounts, the site rules, and the allow_hosts regex against the provider route table.

The image itself is not built here (no container engine on these machines)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from llmwall_addon.options import OPTIONS
from llmwall_addon.reload import RuleWatcher, snapshot
from llmwall_core.providers.routes import KNOWN_HOSTS, match_route
from llmwall_core.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "scripts" / "k8s" / "llmwall.yaml"
DOCKERFILE = ROOT / "scripts" / "k8s" / "Dockerfile"
LLMWALL_OPTIONS = {name: default for name, _type, default, _help in OPTIONS}


def load_docs() -> dict[str, dict]:
    docs = [d for d in YAML(typ="safe").load_all(MANIFEST.read_text()) if d]
    by_kind: dict[str, dict] = {}
    for d in docs:
        assert d["kind"] not in by_kind, f"two {d['kind']} objects"
        by_kind[d["kind"]] = d
    return by_kind


DOCS = load_docs()
DEPLOYMENT = DOCS["Deployment"]
POD = DEPLOYMENT["spec"]["template"]["spec"]
CONTAINER = next(c for c in POD["containers"] if c["name"] == "llmwall")


def argv() -> list[str]:
    return [str(a) for a in CONTAINER.get("command", []) + CONTAINER.get("args", [])]


def sets() -> list[tuple[str, str]]:
    """Every `--set name=value` of the container, in order."""
    args, out = argv(), []
    for i, a in enumerate(args):
        if a == "--set":
            name, _, value = args[i + 1].partition("=")
            out.append((name, value))
        elif a.startswith("--set="):
            name, _, value = a[len("--set="):].partition("=")
            out.append((name, value))
    return out


def set_value(name: str) -> str:
    values = [v for n, v in sets() if n == name]
    assert len(values) == 1, f"--set {name}= given {len(values)} times"
    return values[0]


def flag(name: str) -> str:
    args = argv()
    return args[args.index(name) + 1]


def port_number(ref: int | str) -> int:
    if isinstance(ref, int):
        return ref
    return next(p["containerPort"] for p in CONTAINER["ports"] if p["name"] == ref)


def mitmproxy_option_names() -> set[str]:
    """Options of mitmdump with its default addons (core options and addon options such as flow_detail)."""
    from mitmproxy.options import Options
    from mitmproxy.tools.dump import DumpMaster

    async def collect() -> set[str]:
        master = DumpMaster(Options(), with_termlog=True, with_dumper=True)
        return set(master.options.keys())

    return asyncio.run(collect())


# ------------------------------------------------------------------------------------------------ options


def test_every_set_option_exists():
    known = mitmproxy_option_names()
    for name, _value in sets():
        if name.startswith("llmwall_"):
            assert name in LLMWALL_OPTIONS, f"--set {name}: llmwall has no such option ({sorted(LLMWALL_OPTIONS)})"
        else:
            assert name in known, f"--set {name}: mitmdump has no such option"


def test_runs_the_addon_in_the_image():
    args = argv()
    assert args[:3] == ["mitmdump", "-s", "/app/addons/llmwall.py"]
    dockerfile = DOCKERFILE.read_text()
    entry = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.M)
    assert entry and eval(entry.group(1)) == args[:3]  # noqa: S307 - a JSON list literal from our own file
    for src in re.findall(r"^COPY\s+(.+?)\s+\S+\s*$", dockerfile, re.M):
        for path in shlex.split(src):
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which is not in the repository"
    assert (ROOT / "addons" / "llmwall.py").is_file()


def test_metrics_reachable_and_probed():
    assert set_value("llmwall_metrics_host") == "0.0.0.0"
    metrics_port = int(set_value("llmwall_metrics_port"))
    assert metrics_port == LLMWALL_OPTIONS["llmwall_metrics_port"] == port_number("metrics")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = CONTAINER[probe]["httpGet"]
        assert get["path"] == "/healthz", probe
        assert port_number(get["port"]) == metrics_port, probe
    live, ready = CONTAINER["livenessProbe"], CONTAINER["readinessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] > ready["periodSeconds"] * ready["failureThreshold"]
    notes = DEPLOYMENT["spec"]["template"]["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert int(notes["prometheus.io/port"]) == metrics_port
    assert notes["prometheus.io/path"] == "/metrics"


def test_proxy_port_and_service():
    listen = int(flag("--listen-port"))
    assert flag("--listen-host") == "0.0.0.0"
    assert listen == port_number("proxy")
    service = DOCS["Service"]
    assert service["spec"]["selector"] == DEPLOYMENT["spec"]["selector"]["matchLabels"]
    targets = {p["name"]: port_number(p["targetPort"]) for p in service["spec"]["ports"]}
    assert targets == {"proxy": listen, "metrics": int(set_value("llmwall_metrics_port"))}
    pdb = DOCS["PodDisruptionBudget"]
    assert pdb["spec"]["selector"] == DEPLOYMENT["spec"]["selector"]
    assert pdb["spec"]["minAvailable"] < DEPLOYMENT["spec"]["replicas"]


def test_ca_secret_is_the_confdir():
    assert set_value("confdir") == "/ca"
    mounts = {m["name"]: m for m in CONTAINER["volumeMounts"]}
    volumes = {v["name"]: v for v in POD["volumes"]}
    ca = next(m for m in mounts.values() if m["mountPath"] == "/ca")
    assert ca.get("readOnly") is True
    secret = volumes[ca["name"]]["secret"]
    assert secret["secretName"] == "llmwall-ca"
    assert secret["defaultMode"] == 0o440
    assert CONTAINER["securityContext"]["readOnlyRootFilesystem"] is True
    # mitmproxy writes mitmproxy-dhparam.pem into the confdir unless it is there: the Secret must carry it
    header = MANIFEST.read_text().split("---", 1)[0]
    assert "mitmproxy-ca.pem" in header and "mitmproxy-dhparam.pem" in header


# ------------------------------------------------------------------------------------------------- rules


def rules_mount() -> tuple[str, dict]:
    mount = next(m for m in CONTAINER["volumeMounts"] if m["mountPath"] == "/rules")
    volume = next(v for v in POD["volumes"] if v["name"] == mount["name"])
    configmap = DOCS["ConfigMap"]
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    return mount["mountPath"], configmap


def test_rule_paths_are_the_image_packs_and_the_configmap_folder():
    base, configmap = rules_mount()
    paths = [v for n, v in sets() if n == "llmwall_rules"]
    assert paths == ["/app/rules", base]  # the default packs copied into the image, then the site rules
    assert all(key.endswith((".yaml", ".yml")) for key in configmap["data"])  # what a folder scan loads
    assert int(set_value("llmwall_reload_interval")) > 0  # hot reload on, for ConfigMap updates


def test_configmap_rules_load(tmp_path: Path):
    _, configmap = rules_mount()
    for key, text in configmap["data"].items():
        (tmp_path / key).write_text(text)
    rules = load_rules([str(ROOT / "rules"), *(str(tmp_path / k) for k in configmap["data"])])
    assert "internal-ticket-token" in {r.id for r in rules.rules}


def configmap_volume(root: Path, files: dict[str, str], version: int) -> None:
    """Lay out (or update) a folder as the kubelet does for a ConfigMap volume: the data in a hidden
    `..<timestamp>` folder, `..data` a symlink to it (swapped atomically on update), keys symlinked to
    `..data/<key>`."""
    stamp = root / f"..2025_01_01_00_00_0{version}.000000001"
    stamp.mkdir(parents=True)
    for key, text in files.items():
        (stamp / key).write_text(text)
    tmp_link = root / "..data_tmp"
    tmp_link.symlink_to(stamp.name)
    os.replace(tmp_link, root / "..data")
    for key in files:
        link = root / key
        if not link.is_symlink():
            link.symlink_to(f"..data/{key}")


@pytest.mark.parametrize("by", ["folder", "file"])
def test_configmap_update_is_hot_reloaded(tmp_path: Path, by: str):
    """The kubelet's ConfigMap layout (hidden ..<timestamp>/ copies, a ..data symlink swapped on update):
    loaded once, and an update is seen by the rule watcher, whether llmwall_rules names the folder (as the
    manifest does) or a file in it."""
    _, configmap = rules_mount()
    mount = tmp_path / "rules"
    configmap_volume(mount, configmap["data"], 1)
    paths = [str(mount)] if by == "folder" else [str(mount / key) for key in configmap["data"]]
    seen: list = []
    watcher = RuleWatcher(paths, 1, seen.append, lambda exc: pytest.fail(f"reload failed: {exc}"))
    assert len(load_rules(paths)) == len(configmap["data"]) == 1
    time.sleep(0.01)  # a distinct mtime for the new version
    updated = {k: v.replace("severity: high", "severity: critical") for k, v in configmap["data"].items()}
    configmap_volume(mount, updated, 2)
    shutil.rmtree(mount / "..2025_01_01_00_00_01.000000001")  # the kubelet removes the old version
    assert snapshot(paths) != watcher.state
    assert asyncio.run(watcher.check()) is True
    assert [r.severity for r in seen[0].rules] == ["critical"]


# ------------------------------------------------------------------------------------------- allow_hosts


def sample_hosts(pattern: str) -> list[str]:
    """Concrete host names for a route glob (`*.openai.azure.com`, `*-aiplatform.googleapis.com`)."""
    if "*" not in pattern:
        return [pattern]
    return [pattern.replace("*", s) for s in ("my-resource", "eu-west", "a.b")] if pattern.startswith("*.") else \
        [pattern.replace("*", s) for s in ("us-central1", "europe-west4")]


def test_allow_hosts_covers_exactly_the_provider_routes():
    regexes = [re.compile(set_value("allow_hosts"), re.IGNORECASE)]

    def decrypted(host: str, port: int) -> bool:  # what mitmproxy's next_layer does with allow_hosts
        return any(rx.search(f"{host}:{port}") for rx in regexes)

    for pattern, port, provider, _fmt in KNOWN_HOSTS:
        for host in sample_hosts(pattern):
            want_port = port or 443
            assert match_route(host, want_port) is not None
            assert decrypted(host, want_port), f"{provider}: {host}:{want_port} would not be decrypted"
    for host, port in [("github.com", 443), ("pypi.org", 443), ("api.openai.com.evil.example", 443),
                       ("evil-api.openai.com", 443), ("openai.azure.com.example.net", 443),
                       ("storage.googleapis.com", 443), ("localhost", 8080), ("example.com", 443)]:
        assert match_route(host, port) is None
        assert not decrypted(host, port), f"{host}:{port} is not a provider but would be decrypted"
