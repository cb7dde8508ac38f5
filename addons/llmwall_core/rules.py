"""Load rule files (YAML), validate them, and compile them into a RuleSet.

A broken file is rejected whole with a RuleError naming the file, the line and the rule id; the caller
keeps its last good RuleSet. The schema is documented in the README ("Writing rules").
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import regex
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .identity import Client, ClientSelector, any_matches, parse_selector
from .model import Action, Phase
from .patterninfo import needs_digit
from .validators import shannon_entropy

ID_PATTERN = regex.compile(r"[a-z0-9][a-z0-9_.-]*")
KINDS = ("pattern", "scorer", "provider_allowlist", "model_allowlist", "max_prompt_chars")
SEVERITIES = ("low", "medium", "high", "critical")
VIEWS = ("normalized", "raw", "deobfuscated")
ROLES = ("system", "developer", "user", "assistant", "tool", "tool_definition", "tool_call", "other")
COMMON_KEYS = {
    "id", "description", "kind", "applies_to", "action", "severity", "roles", "providers", "models", "clients",
    "tags", "enabled", "examples",
}
KIND_KEYS = {
    "pattern": {"pattern", "keywords", "secret_group", "validator", "entropy", "allow", "view", "pseudonym", "anchor"},
    "scorer": {"model", "threshold", "window", "stride", "short_chars", "short_threshold", "boilerplate"},
    "provider_allowlist": {"allow"},
    "model_allowlist": {"allow"},
    "max_prompt_chars": {"limit"},
}


class RuleError(ValueError):
    """A rule file could not be used. The message names file, line and rule id."""

    def __init__(self, file: str, line: int | None, rule_id: str | None, message: str) -> None:
        self.file, self.line, self.rule_id = file, line, rule_id
        where = f"{file}:{line}" if line is not None else file
        who = f" rule {rule_id!r}:" if rule_id else ""
        super().__init__(f"{where}:{who} {message}")


@dataclass(slots=True)
class Rule:
    """One compiled rule. Pattern rules find spans; the others are evaluated by the scanner."""

    id: str
    description: str
    kind: str
    phases: frozenset[Phase]
    action: Action
    severity: str
    source: str
    line: int | None
    pattern: regex.Pattern[str] | None = None
    finder: re.Pattern[str] | regex.Pattern[str] | None = None  # what whole texts are scanned with (see _finder)
    needs_digit: bool = False  # every match holds a digit: texts without one are skipped (patterninfo.py)
    keywords: tuple[str, ...] = ()
    anchored: bool = False  # `anchor: keyword`: a match starts where one of the keywords occurs
    secret_group: int | str | None = None
    validator: Callable[[str], bool] | None = None
    entropy: float | None = None
    allow: tuple[regex.Pattern[str], ...] = ()
    allow_list: tuple[str, ...] = ()
    roles: frozenset[str] | None = None
    providers: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    clients: tuple[ClientSelector, ...] | None = None
    view: str = "normalized"
    pseudonym: str | None = None
    tags: tuple[str, ...] = ()
    limit: int | None = None
    scorer: Any = None
    threshold: float = 0.5
    window: int = 512
    stride: int | None = None
    short_chars: int = 0  # texts shorter than this need `short_threshold` (little evidence, more false alarms)
    short_threshold: float = 0.5
    boilerplate: Any = None  # scorer rules: removes fixed harness sentences from a text before it is scored
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()

    def applies(
        self, role: str | None, provider: str | None, model: str | None, client: Client | None = None
    ) -> bool:
        """Whether this rule is in scope for a piece with `role` sent by `client` to `provider`/`model`."""
        if self.clients is not None and not any_matches(self.clients, client):
            return False
        if self.roles is not None and role is not None and role not in self.roles:
            return False
        if self.providers is not None and provider is not None and provider not in self.providers:
            return False
        if self.models is not None and model is not None:
            if not any(fnmatch.fnmatchcase(model, glob) for glob in self.models):
                return False
        return True

    def accepts(self, value: str) -> bool:
        """Post-match checks on the sensitive value: allow-list, validator, entropy."""
        for allowed in self.allow:
            if allowed.search(value):
                return False
        if self.validator is not None and not self.validator(value):
            return False
        if self.entropy is not None and shannon_entropy(value) < self.entropy:
            return False
        return True

    def value_span(self, match: regex.Match[str]) -> tuple[int, int]:
        """The span of the sensitive value inside a match (the secret group, or the whole match)."""
        if self.secret_group is not None:
            try:
                start, end = match.span(self.secret_group)
            except IndexError:
                return match.span()
            if start >= 0:
                return start, end
        return match.span()


@dataclass(slots=True)
class LoadedFiles:
    """The rules read from disk, before compiling into a RuleSet."""

    rules: list[Rule] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    digest: str = ""


def rule_files(paths: Iterable[str]) -> list[Path]:
    """Every rule file under `paths` (files or folders, recursively), in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            # hidden entries are skipped: editors' swap files, and the kubelet's ..<timestamp>/ copy of a
            # mounted ConfigMap (which would load every rule twice)
            found.extend(sorted(
                p for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml") and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ))
        elif path.is_file():
            found.append(path)
        else:
            raise RuleError(str(path), None, None, "no such rule file or folder")
    return found


def read_rules(paths: Iterable[str]) -> LoadedFiles:
    """Read and validate every rule file. Raises RuleError on the first problem."""
    loaded = LoadedFiles()
    digest = hashlib.sha256()
    seen: dict[str, str] = {}
    for path in rule_files(paths):
        data = path.read_bytes()
        digest.update(str(path).encode() + b"\0" + data)
        loaded.files.append(str(path))
        for rule in _parse_file(path, data):
            if rule.id in seen:
                raise RuleError(str(path), rule.line, rule.id, f"duplicate id (first defined in {seen[rule.id]})")
            seen[rule.id] = f"{path}:{rule.line}"
            loaded.rules.append(rule)
    loaded.digest = digest.hexdigest()[:12]
    return loaded


def _parse_file(path: Path, data: bytes) -> list[Rule]:
    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(data.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        raise RuleError(str(path), line, None, f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleError(str(path), 1, None, "expected a mapping with a 'rules:' list")
    unknown_top = set(doc) - {"rules", "version", "description"}
    if unknown_top:
        raise RuleError(str(path), 1, None, f"unknown top-level key(s): {', '.join(sorted(unknown_top))}")
    rules = []
    for index, entry in enumerate(doc["rules"]):
        line = _line_of(doc["rules"], index)
        if not isinstance(entry, dict):
            raise RuleError(str(path), line, None, "each rule must be a mapping")
        rule = _build_rule(path, line, dict(entry))
        if rule is not None:
            rules.append(rule)
    return rules


def _line_of(seq: Any, index: int) -> int | None:
    try:
        return seq.lc.item(index)[0] + 1
    except Exception:  # noqa: BLE001 - line info is a nicety; plain lists have none
        return None


def _build_rule(path: Path, line: int | None, raw: dict[str, Any]) -> Rule | None:
    rule_id = raw.get("id")
    file = str(path)

    def fail(message: str) -> RuleError:
        return RuleError(file, line, rule_id if isinstance(rule_id, str) else None, message)

    if not isinstance(rule_id, str) or not ID_PATTERN.fullmatch(rule_id):
        raise fail("'id' must be lower-case letters, digits and dashes")
    kind = raw.get("kind", "pattern")
    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    unknown = set(raw) - COMMON_KEYS - KIND_KEYS[kind]
    if unknown:
        raise fail(f"unknown key(s) for kind {kind}: {', '.join(sorted(unknown))}")
    for key in ("description", "applies_to", "action", "severity"):
        if key not in raw:
            raise fail(f"missing required key {key!r}")
    if not raw.get("enabled", True):
        return None
    applies = raw["applies_to"]
    phases = {
        "request": frozenset({Phase.REQUEST}),
        "response": frozenset({Phase.RESPONSE}),
        "both": frozenset({Phase.REQUEST, Phase.RESPONSE}),
    }.get(applies)
    if phases is None:
        raise fail("'applies_to' must be request, response or both")
    try:
        action = Action(raw["action"])
    except ValueError:
        raise fail(f"unknown action {raw['action']!r} (block, redact, pseudonymize, log)") from None
    if raw["severity"] not in SEVERITIES:
        raise fail(f"'severity' must be one of {', '.join(SEVERITIES)}")
    rule = Rule(
        id=rule_id,
        description=str(raw["description"]),
        kind=kind,
        phases=phases,
        action=action,
        severity=raw["severity"],
        source=file,
        line=line,
        roles=_str_set(raw, "roles", fail, ROLES),
        providers=_str_tuple(raw, "providers", fail),
        models=_str_tuple(raw, "models", fail),
        tags=_str_tuple(raw, "tags", fail) or (),
    )
    client_entries = _str_tuple(raw, "clients", fail)
    if client_entries is not None:
        try:
            rule.clients = tuple(parse_selector(entry) for entry in client_entries)
        except ValueError as exc:
            raise fail(f"'clients': {exc}") from None
    if kind == "pattern":
        _build_pattern(rule, raw, fail)
    elif kind == "scorer":
        _build_scorer(rule, raw, path, fail)
    elif kind in ("provider_allowlist", "model_allowlist"):
        allowed = _str_tuple(raw, "allow", fail)
        if not allowed:
            raise fail("'allow' must list at least one entry")
        rule.allow_list = allowed
    elif kind == "max_prompt_chars":
        limit = raw.get("limit")
        if not isinstance(limit, int) or limit <= 0:
            raise fail("'limit' must be a positive whole number of characters")
        rule.limit = limit
    examples = raw.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"match", "no_match"}:
        raise fail("'examples' must be a mapping with 'match' and/or 'no_match' lists")
    rule.examples_match = _str_tuple(examples, "match", fail) or ()
    rule.examples_no_match = _str_tuple(examples, "no_match", fail) or ()
    return rule


def _build_pattern(rule: Rule, raw: dict[str, Any], fail: Callable[[str], RuleError]) -> None:
    from .validators import VALIDATORS

    pattern = raw.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise fail("'pattern' is required for pattern rules")
    try:
        rule.pattern = regex.compile(pattern)
    except regex.error as exc:
        raise fail(f"bad pattern: {exc}") from None
    rule.needs_digit = needs_digit(pattern)
    keywords = _str_tuple(raw, "keywords", fail) or ()
    rule.keywords = tuple(k.lower() for k in keywords)
    anchor = raw.get("anchor")
    if anchor is not None:
        if anchor != "keyword" or not rule.keywords:
            raise fail("'anchor' takes the value 'keyword' and needs 'keywords'")
        rule.anchored = True
    rule.finder = _finder(pattern, rule.pattern, rule.anchored)
    group = raw.get("secret_group")
    if group is not None:
        if not isinstance(group, (int, str)) or isinstance(group, bool):
            raise fail("'secret_group' must be a group number or name")
        if isinstance(group, int) and not 0 <= group <= rule.pattern.groups:
            raise fail(f"'secret_group' {group} does not exist in the pattern")
        if isinstance(group, str) and group not in rule.pattern.groupindex:
            raise fail(f"'secret_group' {group!r} does not exist in the pattern")
        rule.secret_group = group
    validator = raw.get("validator")
    if validator is not None:
        if validator not in VALIDATORS:
            raise fail(f"unknown validator {validator!r} (one of {', '.join(sorted(VALIDATORS))})")
        rule.validator = VALIDATORS[validator]
    entropy = raw.get("entropy")
    if entropy is not None:
        if not isinstance(entropy, (int, float)) or not 0 <= entropy <= 8:
            raise fail("'entropy' must be a number of bits per character between 0 and 8")
        rule.entropy = float(entropy)
    allowed = []
    for text in _str_tuple(raw, "allow", fail) or ():
        try:
            allowed.append(regex.compile(text))
        except regex.error as exc:
            raise fail(f"bad 'allow' pattern {text!r}: {exc}") from None
    rule.allow = tuple(allowed)
    view = raw.get("view", "normalized")
    if view not in VIEWS:
        raise fail(f"'view' must be one of {', '.join(VIEWS)}")
    rule.view = view
    pseudonym = raw.get("pseudonym")
    if rule.action is Action.PSEUDONYMIZE:
        if not isinstance(pseudonym, str) or not regex.fullmatch(r"[A-Z][A-Z0-9]*", pseudonym):
            raise fail("pseudonymize rules need 'pseudonym', an upper-case label such as EMAIL")
    rule.pseudonym = pseudonym


def _finder(pattern: str, compiled: regex.Pattern[str], anchored: bool) -> re.Pattern[str] | regex.Pattern[str]:
    """A search over a whole text runs in `regex`: it skips ahead on required literals and character
    classes, about 3x faster than `re` over the default rules (scripts/bench.py). An anchored rule only
    tries `match` at keyword positions, where `re`'s lower per-call cost wins, so it uses `re` when the
    pattern means the same there."""
    if not anchored:
        return compiled
    fallback = compiled
    try:
        fast = re.compile(pattern)
    except (re.error, ValueError, OverflowError):
        return fallback
    if fast.groups != fallback.groups or fast.groupindex != dict(fallback.groupindex):
        return fallback
    return fast


def _build_scorer(rule: Rule, raw: dict[str, Any], path: Path, fail: Callable[[str], RuleError]) -> None:
    from .scorer import Scorer

    model = raw.get("model")
    if not isinstance(model, str):
        raise fail("'model' (a path relative to the rule file) is required for scorer rules")
    model_path = (path.parent / model).resolve()
    try:
        rule.scorer = Scorer.load(os.fspath(model_path))
        rule.scorer.prepare()  # at load, not on the first request that needs it
    except Exception as exc:  # noqa: BLE001 - any load problem is a rule error
        raise fail(f"cannot load scorer model {model_path}: {exc}") from None
    threshold = raw.get("threshold", 0.5)
    if not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise fail("'threshold' must be a number between 0 and 1")
    rule.threshold = float(threshold)
    for key in ("window", "stride"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or value < 16):
            raise fail(f"'{key}' must be a whole number of characters >= 16")
    rule.window = raw.get("window", 512)
    rule.stride = raw.get("stride")
    short_chars = raw.get("short_chars", 0)
    short_threshold = raw.get("short_threshold", rule.threshold)
    if not isinstance(short_chars, int) or short_chars < 0:
        raise fail("'short_chars' must be a whole number of characters")
    if not isinstance(short_threshold, (int, float)) or not rule.threshold <= short_threshold < 1:
        raise fail("'short_threshold' must be between 'threshold' and 1")
    rule.short_chars, rule.short_threshold = short_chars, float(short_threshold)
    phrases = raw.get("boilerplate", [])
    if not isinstance(phrases, list) or not all(isinstance(p, str) and len(p.split()) >= 5 for p in phrases):
        raise fail("'boilerplate' must be a list of fixed sentences of at least five words")
    if phrases:
        from .scorer import BoilerplateRemover

        rule.boilerplate = BoilerplateRemover(phrases)


def _str_tuple(raw: dict[str, Any], key: str, fail: Callable[[str], RuleError]) -> tuple[str, ...] | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"'{key}' must be a list of strings")
    return tuple(value)


def _str_set(
    raw: dict[str, Any], key: str, fail: Callable[[str], RuleError], allowed: tuple[str, ...]
) -> frozenset[str] | None:
    values = _str_tuple(raw, key, fail)
    if values is None:
        return None
    bad = [v for v in values if v not in allowed]
    if bad:
        raise fail(f"unknown {key}: {', '.join(bad)} (one of {', '.join(allowed)})")
    return frozenset(values)


def load_rules(paths: Iterable[str], check_examples: bool = True):  # -> RuleSet (import cycle otherwise)
    """Read, validate and compile rule files into a RuleSet; with `check_examples`, every rule's
    examples must behave, or the whole load fails with a RuleError naming the rule."""
    from .scan import RuleSet

    loaded = read_rules(paths)
    ruleset = RuleSet(loaded.rules, version=loaded.digest, files=loaded.files)
    if check_examples:
        ruleset.check_examples()
    for role in ("assistant", "tool_call"):  # compile the stream matchers now, not on the first stream
        ruleset.stream_matcher(role)
    return ruleset
