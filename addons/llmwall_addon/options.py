"""llmwall's mitmproxy options: declared once, parsed once in `configure` into a frozen Settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mitmproxy import exceptions

from llmwall_core.identity import ClientSelector, parse_selector
from llmwall_core.providers.routes import ExtraHost, parse_extra_host
from llmwall_core.ratelimit import Rate, parse_rate

DEFAULT_RULES = str(Path(__file__).resolve().parents[2] / "rules")

# (name, type, default, help)
OPTIONS: tuple[tuple[str, type, object, str], ...] = (
    ("llmwall_rules", Sequence[str], [DEFAULT_RULES], "Rule files or folders (YAML). Default: the repository's rules/."),
    ("llmwall_mode", str, "enforce", "enforce: block and rewrite; monitor: decide, log and annotate, change nothing."),
    ("llmwall_fail", str, "closed", "closed: refuse provider requests that cannot be parsed or scanned; open: let them through."),
    ("llmwall_providers", Sequence[str], [], "Extra provider hosts, host[:port]=format (openai, anthropic, gemini, ollama)."),
    ("llmwall_max_holdback", int, 512, "Most characters of a stream held back while a match is undecided."),
    ("llmwall_max_body", int, 8 * 1024 * 1024, "Largest request or reply body scanned, in bytes; larger ones follow llmwall_fail."),
    ("llmwall_stream_body_limit", int, 65536, "Bytes of each guarded stream kept on the flow for mitmweb; 0 keeps none."),
    ("llmwall_max_json_depth", int, 128, "Deepest JSON nesting accepted in a provider request or reply; deeper follows llmwall_fail."),
    ("llmwall_stream_idle_timeout", int, 300, "Longest silence (seconds) inside a guarded stream before llmwall ends it with the provider's error event; 0: never. Keep it below tcp_timeout."),
    ("llmwall_metrics_port", int, 9464, "Port for Prometheus /metrics and /healthz; 0 disables."),
    ("llmwall_metrics_host", str, "127.0.0.1", "Address the metrics endpoint binds to."),
    ("llmwall_reload_interval", int, 2, "Seconds between checks of the rule files for changes; 0 disables hot reload."),
    ("llmwall_clients", Sequence[str], [], "Client identities (proxy-auth user names or addresses) counted by name in metrics; others count as 'other'."),
    ("llmwall_trusted_proxies", Sequence[str], [], "Addresses or CIDR ranges of fronts (NGINX, load balancers) whose X-Forwarded-For names the real client."),
    ("llmwall_approved_keys", Sequence[str], [], "SHA-256 fingerprints (hex) of approved provider API keys; when set, any other key is refused."),
    ("llmwall_rate_limit", str, "", "Requests per client identity, e.g. 120/m or 10/s (token bucket, per instance); empty: no limit."),
    ("llmwall_audit_log", str, "", "Audit log: a file path, '-' for stdout, empty for none. One JSON object per exchange."),
)


@dataclass(frozen=True, slots=True)
class Settings:
    rules: tuple[str, ...]
    enforce: bool
    fail_open: bool
    providers: tuple[ExtraHost, ...]
    max_holdback: int
    max_body: int
    stream_body_limit: int
    metrics_port: int
    metrics_host: str
    audit_log: str
    reload_interval: int
    clients: frozenset[str]
    trusted_proxies: tuple[ClientSelector, ...]
    approved_keys: frozenset[str]
    rate: Rate | None
    stream_idle_timeout: int = 300
    max_json_depth: int = 128


def parse_settings(opts) -> Settings:
    """Validate the llmwall options; raise OptionsError with a message a user can act on."""
    mode = opts.llmwall_mode
    if mode not in ("enforce", "monitor"):
        raise exceptions.OptionsError(f"llmwall_mode must be 'enforce' or 'monitor', not {mode!r}")
    fail = opts.llmwall_fail
    if fail not in ("closed", "open"):
        raise exceptions.OptionsError(f"llmwall_fail must be 'closed' or 'open', not {fail!r}")
    try:
        providers = tuple(parse_extra_host(spec) for spec in opts.llmwall_providers)
    except ValueError as exc:
        raise exceptions.OptionsError(f"llmwall_providers: {exc}") from None
    if opts.llmwall_max_holdback < 16:
        raise exceptions.OptionsError("llmwall_max_holdback must be at least 16 characters")
    if opts.llmwall_max_body < 1024:
        raise exceptions.OptionsError("llmwall_max_body must be at least 1024 bytes")
    if not 0 <= opts.llmwall_metrics_port < 65536:
        raise exceptions.OptionsError("llmwall_metrics_port must be 0 (off) or a port number")
    if not 8 <= opts.llmwall_max_json_depth <= 10000:
        raise exceptions.OptionsError("llmwall_max_json_depth must be between 8 and 10000")
    if opts.llmwall_stream_idle_timeout < 0:
        raise exceptions.OptionsError("llmwall_stream_idle_timeout must be 0 (off) or a number of seconds")
    if opts.llmwall_reload_interval < 0:
        raise exceptions.OptionsError("llmwall_reload_interval must be 0 (off) or a number of seconds")
    try:
        trusted = tuple(parse_selector(entry) for entry in opts.llmwall_trusted_proxies)
    except ValueError as exc:
        raise exceptions.OptionsError(f"llmwall_trusted_proxies: {exc}") from None
    if any(selector.network is None for selector in trusted):
        raise exceptions.OptionsError("llmwall_trusted_proxies takes addresses or CIDR ranges, not names")
    keys = frozenset(k.strip().lower() for k in opts.llmwall_approved_keys)
    bad_keys = [k for k in keys if len(k) != 64 or any(c not in "0123456789abcdef" for c in k)]
    if bad_keys:
        raise exceptions.OptionsError(
            "llmwall_approved_keys takes SHA-256 fingerprints (64 hex characters), never the keys themselves: "
            "printf %s \"$KEY\" | sha256sum"
        )
    try:
        rate = parse_rate(opts.llmwall_rate_limit) if opts.llmwall_rate_limit.strip() else None
    except ValueError as exc:
        raise exceptions.OptionsError(f"llmwall_rate_limit: {exc}") from None
    if not opts.llmwall_rules:
        raise exceptions.OptionsError("llmwall_rules is empty: name at least one rule file or folder")
    return Settings(
        rules=tuple(opts.llmwall_rules),
        enforce=mode == "enforce",
        fail_open=fail == "open",
        providers=providers,
        max_holdback=opts.llmwall_max_holdback,
        max_body=opts.llmwall_max_body,
        stream_body_limit=max(0, opts.llmwall_stream_body_limit),
        metrics_port=opts.llmwall_metrics_port,
        metrics_host=opts.llmwall_metrics_host,
        audit_log=opts.llmwall_audit_log,
        reload_interval=opts.llmwall_reload_interval,
        clients=frozenset(opts.llmwall_clients),
        trusted_proxies=trusted,
        approved_keys=keys,
        rate=rate,
        stream_idle_timeout=opts.llmwall_stream_idle_timeout,
        max_json_depth=opts.llmwall_max_json_depth,
    )
