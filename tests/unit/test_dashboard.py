"""The Grafana dashboard uses exactly the metric families the addon exports."""

import json
import re
from pathlib import Path

from llmwall_addon.telemetry import Telemetry

ROOT = Path(__file__).resolve().parents[2]


def test_dashboard_names_only_exported_families():
    exported = {metric.name for metric in Telemetry().registry.collect()}
    exprs = " ".join(t["expr"] for p in json.loads((ROOT / "scripts/grafana-dashboard.json").read_text())["panels"]
                     for t in p["targets"])
    used = {re.sub(r"_(bucket|total|count|sum)$", "", name) for name in re.findall(r"llmwall_[a-z_]+", exprs)}
    exported_base = {re.sub(r"_total$", "", n) for n in exported}
    assert used <= exported_base, used - exported_base
    assert exported_base <= used, f"families without a panel: {exported_base - used}"
