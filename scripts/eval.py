#!/usr/bin/env python3
"""Measure llmwall's detection on the labelled evaluation corpora, through the proxy's own scan path.

Usage:

    .venv/bin/python scripts/eval.py                         # every corpus in ../shared/eval/dev
    .venv/bin/python scripts/eval.py --limit 50              # quick smoke run: 50 rows per corpus
    .venv/bin/python scripts/eval.py --corpus gitleaks_rule_testcases --misses 20
    .venv/bin/python scripts/eval.py --json /tmp/eval.json   # also write the figures as JSON

Every row goes through ``RuleSet.scan_pieces`` exactly as the addon calls it: CyberSecEval rows as a
system (``meta.system_prompt``) + user conversation, ``alpaca_eval_benign_responses`` through the
response phase (role assistant), BIPIA contexts as a tool result (role ``tool``, what a retrieved
document is), everything else as one user message. A row counts as *detected* when a finding's action
is block, redact or pseudonymize (``log`` findings are reported but do not count).

Reported: recall per corpus and label (injection, jailbreak, secret, pii); the false-positive rate of
benign text, split into ordinary negatives (alpaca_eval prompts, self_instruct, deepset benign rows),
hard negatives (notinject, cyberseceval_frr, awesome_chatgpt_prompts roleplay, BIPIA clean contexts,
gitleaks / detect-secrets / presidio lookalikes) and benign model answers (response phase); PII recall
per entity type (the types the PII rules cover are "in scope"); the slowest cases; the rules that fire
most on benign text; and the scan cost in ms per KB of text.

Beside the dev corpora, which hold no source code, 300 Python files of packages installed with llmwall
(mitmproxy, the openai and anthropic SDKs, httpx, hypothesis; first 8 KB each) are scanned as benign
*code*, what coding agents send all day (``--code N``; 0 turns it off), and the long descriptions (READMEs)
of the installed distributions are scanned as tool results, benign *docs* an agent fetches (``--docs N``).
Both are reported as their own kinds and kept out of the dev figures (cost, slowest cases, top benign rules).

The corpora are read from ``../shared/eval/dev`` beside the checkout (``--corpora DIR``) and never
copied into the repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addons"))

from llmwall_core.model import Action, Phase, TextPiece  # noqa: E402
from llmwall_core.rules import load_rules  # noqa: E402

DEFAULT_CORPORA = ROOT.parent / "shared" / "eval" / "dev"
DEFAULT_RULES = ROOT / "rules"

DETECTING = frozenset({Action.BLOCK, Action.REDACT, Action.PSEUDONYMIZE})
POSITIVE_LABELS = ("injection", "jailbreak", "secret", "pii")

# Benign rows by kind of negative. Anything benign not listed is reported as "hard" (a labelled
# corpus with benign rows is a lookalike set unless we know it is ordinary text).
ORDINARY_CORPORA = frozenset({"alpaca_eval_benign_prompts", "self_instruct_benign", "deepset_prompt_injections"})
RESPONSE_CORPORA = frozenset({"alpaca_eval_benign_responses"})
LOOKALIKE_CORPORA = frozenset({
    "gitleaks_rule_testcases", "detect_secrets_plugin_testcases",
    "presidio_recognizer_testcases", "presidio_research_synth_pii",
})

# Which rules speak for which label: a finding counts for a label's "own-rule" recall only when its rule
# carries one of these tags (a scorer rule counts for attacks). The plain recall counts any finding.
FAMILY_TAGS = {
    "attack": frozenset({"injection", "jailbreak"}),
    "secret": frozenset({"secret"}),
    "pii": frozenset({"pii"}),
}
LABEL_FAMILY = {"injection": "attack", "jailbreak": "attack", "secret": "secret", "pii": "pii"}

# PII entity types (presidio names) the shipped PII rules are meant to find, by rule family.
PII_IN_SCOPE = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "PHONE": "PHONE",
    "CREDIT_CARD": "CARD",
    "US_SSN": "SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
}


@dataclass(slots=True)
class Case:
    corpus: str
    index: int
    label: str
    text: str
    meta: dict[str, Any]
    group: str  # attack | secret | pii | ordinary | hard | response
    phase: Phase = Phase.REQUEST
    pieces: list[TextPiece] = field(default_factory=list)


@dataclass(slots=True)
class Result:
    detected: bool
    rules: list[str]  # detecting rule ids (deduplicated, in order)
    logged: list[str]  # log-only rule ids
    spans: list[tuple[int, int, int]]  # (piece, start, end) of detecting findings
    ms: float


def group_of(corpus: str, label: str) -> str:
    if label in ("injection", "jailbreak"):
        return "attack"
    if label in ("secret", "pii"):
        return label
    if corpus in EXTRA_KINDS:
        return EXTRA_KINDS[corpus]
    if corpus in RESPONSE_CORPORA:
        return "response"
    if corpus in ORDINARY_CORPORA:
        return "ordinary"
    return "hard"


def build_case(corpus: str, index: int, row: dict[str, Any]) -> Case:
    """The conversation the proxy would see for one corpus row."""
    text = row.get("text") or ""
    label = row.get("label", "benign")
    meta = row.get("meta") or {}
    case = Case(corpus, index, label, text, meta, group_of(corpus, label))
    if corpus in RESPONSE_CORPORA:
        case.phase = Phase.RESPONSE
        case.pieces = [TextPiece(role="assistant", path=("choices", 0, "message", "content"), text=text)]
    elif isinstance(meta.get("system_prompt"), str) and meta["system_prompt"]:
        case.pieces = [
            TextPiece(role="system", path=("messages", 0, "content"), text=meta["system_prompt"]),
            TextPiece(role="user", path=("messages", 1, "content"), text=text),
        ]
    elif corpus.startswith("bipia"):
        case.pieces = [
            TextPiece(role="user", path=("messages", 0, "content"), text="Answer using the document below."),
            TextPiece(role="tool", path=("messages", 1, "content"), text=text),
        ]
    elif corpus == DOCS_CORPUS:  # a README an agent fetched
        case.pieces = [
            TextPiece(role="user", path=("messages", 0, "content"), text="Summarize this README."),
            TextPiece(role="tool", path=("messages", 1, "content"), text=text),
        ]
    else:
        case.pieces = [TextPiece(role="user", path=("messages", 0, "content"), text=text)]
    return case


CODE_CORPUS = "installed_python_source"
DOCS_CORPUS = "installed_package_docs"
EXTRA_KINDS = {CODE_CORPUS: "code", DOCS_CORPUS: "docs"}  # beside the dev corpora, kept out of their figures
EXTRA_CORPORA = tuple(EXTRA_KINDS)
CODE_PACKAGES = ("mitmproxy", "openai", "anthropic", "httpx", "hypothesis")


def code_cases(count: int, chars: int = 8000) -> list[Case]:
    """Benign source code, which no dev corpus holds and coding agents send all day: the first `chars`
    of `count` Python files of packages installed beside llmwall (spread evenly over their sorted list).
    Not part of the targets; the figures depend on the installed versions."""
    if count <= 0:
        return []
    files: list[Path] = []
    for name in CODE_PACKAGES:
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            files += sorted(p for p in Path(folder).rglob("*.py") if p.stat().st_size >= 400)
    step = max(1, len(files) // count)
    cases = []
    for index, path in enumerate(files[::step][:count]):
        text = path.read_text(encoding="utf-8", errors="replace")[:chars]
        cases.append(build_case(CODE_CORPUS, index, {"text": text, "label": "benign", "meta": {"file": path.name}}))
    return cases




def docs_cases(count: int, chars: int = 8000) -> list[Case]:
    """Benign documentation an agent reads: the first `chars` of the long description (the README) of up to
    `count` distributions installed in this environment, in name order, as a tool result. Not part of the
    targets; the figures depend on what is installed. The scorer is never trained on these (train_scorer.py's
    optional --docs-chunks reads other documentation)."""
    from importlib.metadata import distributions

    seen: dict[str, str] = {}
    for dist in distributions():
        name = (dist.metadata.get("Name") or "").lower()
        body = dist.metadata.get_payload() if hasattr(dist.metadata, "get_payload") else None
        body = body or dist.metadata.get("Description") or ""
        if name and name not in seen and len(body) >= 200:
            seen[name] = body[:chars]
    return [build_case(DOCS_CORPUS, index, {"text": seen[name], "label": "benign", "meta": {"package": name}})
            for index, name in enumerate(sorted(seen)[:max(0, count)])]


def read_corpora(directory: Path, limit: int | None, only: list[str] | None) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.jsonl")):
        corpus = path.stem
        if only and corpus not in only:
            continue
        with path.open(encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if limit is not None and index >= limit:
                    break
                if line.strip():
                    cases.append(build_case(corpus, index, json.loads(line)))
    return cases


# -- scanning (the workers share the rule set loaded before the fork) ---------------------------------

_RULESET = None


def _scan(case: Case) -> Result:
    started = time.perf_counter()
    findings = _RULESET.scan_pieces(case.pieces, case.phase)
    elapsed = (time.perf_counter() - started) * 1000.0
    rules: list[str] = []
    logged: list[str] = []
    spans: list[tuple[int, int, int]] = []
    for f in findings:
        if f.action in DETECTING:
            if f.rule_id not in rules:
                rules.append(f.rule_id)
            spans.append((f.piece, f.start, f.end))
        elif f.rule_id not in logged:
            logged.append(f.rule_id)
    return Result(bool(rules), rules, logged, spans, elapsed)


def _scan_chunk(chunk: list[Case]) -> list[Result]:
    return [_scan(c) for c in chunk]


def scan_all(cases: list[Case], workers: int) -> list[Result]:
    if workers <= 1 or len(cases) < 200:
        return [_scan(c) for c in cases]
    import multiprocessing as mp

    # Interleave so every worker gets a share of each corpus (long texts cluster by corpus).
    chunks = [cases[i::workers * 8] for i in range(workers * 8)]
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        parts = pool.map(_scan_chunk, chunks)
    results: list[Result | None] = [None] * len(cases)
    for i, part in enumerate(parts):
        for j, res in enumerate(part):
            results[i + j * workers * 8] = res
    return results  # type: ignore[return-value]


# -- figures -------------------------------------------------------------------------------------------


def _rate(hit: int, n: int) -> float | None:
    return round(hit / n, 4) if n else None


def _span_overlaps(spans: list[tuple[int, int, int]], piece: int, start: int, end: int) -> bool:
    return any(p == piece and s < end and e > start for p, s, e in spans)


def rule_families(ruleset) -> dict[str, frozenset[str]]:
    """rule id -> the label families (attack, secret, pii) its tags make it speak for."""
    families: dict[str, frozenset[str]] = {}
    for rule in ruleset.rules:
        tags = set(rule.tags)
        fams = {fam for fam, wanted in FAMILY_TAGS.items() if tags & wanted}
        if rule.kind == "scorer":
            fams.add("attack")
        families[rule.id] = frozenset(fams)
    return families


def summarize(cases: list[Case], results: list[Result], top: int,
              families: dict[str, frozenset[str]] | None = None) -> dict[str, Any]:
    families = families or {}
    corpora: dict[str, dict[str, Any]] = {}
    own_recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fp_by_family: dict[str, Counter[str]] = defaultdict(Counter)
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fp: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    benign_rules: Counter[str] = Counter()
    benign_rules_by_group: dict[str, Counter[str]] = defaultdict(Counter)
    entities: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    entity_spans: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    lookalikes: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    # Some test suites label the very same text a secret in one test and a lookalike in another (their
    # detectors differ, or the file type decides); such a row cannot be both untouched and detected.
    positive_texts = {case.text for case in cases if case.label != "benign"}
    total_ms = 0.0
    total_chars = 0

    for case, res in zip(cases, results):
        entry = corpora.setdefault(case.corpus, {"n": 0, "labels": {}, "benign": None, "group": None})
        entry["n"] += 1
        dev = case.corpus not in EXTRA_CORPORA  # cost and top rules are dev figures
        if dev:
            total_ms += res.ms
            total_chars += sum(len(p.text) for p in case.pieces)
        if case.label == "benign":
            b = entry["benign"] or {"n": 0, "flagged": 0, "fp_rate": None, "kind": case.group}
            b["n"] += 1
            b["flagged"] += int(res.detected)
            entry["benign"] = b
            fp[case.group][0] += int(res.detected)
            fp[case.group][1] += 1
            if res.detected:
                fams = set().union(*(families.get(r, frozenset()) for r in res.rules)) or {"other"}
                for fam in fams:
                    fp_by_family[case.group][fam] += 1
            if case.corpus in LOOKALIKE_CORPORA:
                lookalikes[case.corpus][0] += int(not res.detected)
                lookalikes[case.corpus][1] += 1
                lookalikes[case.corpus][2] += int(res.detected and case.text in positive_texts)
            for rule in res.rules:
                if dev:
                    benign_rules[rule] += 1
                benign_rules_by_group[case.group][rule] += 1
            continue
        if case.label == "pii":
            ents = _entities(case)
            in_scope = [e for e in ents if e in PII_IN_SCOPE]
            for e in set(ents):
                entities[e][0] += int(res.detected)
                entities[e][1] += 1
            for span in case.meta.get("spans") or []:
                if span.get("type") in PII_IN_SCOPE:
                    piece = len(case.pieces) - 1
                    hit = _span_overlaps(res.spans, piece, span["start"], span["end"])
                    entity_spans[span["type"]][0] += int(hit)
                    entity_spans[span["type"]][1] += 1
            label_key = "pii" if in_scope else "pii_out_of_scope"
        else:
            label_key = case.label
        lab = entry["labels"].setdefault(
            label_key, {"n": 0, "detected": 0, "recall": None, "detected_own": 0, "recall_own": None}
        )
        family = LABEL_FAMILY.get(case.label)
        own = any(family in families.get(r, frozenset()) for r in res.rules) if family else False
        lab["n"] += 1
        lab["detected"] += int(res.detected)
        lab["detected_own"] += int(own)
        recall[label_key][0] += int(res.detected)
        recall[label_key][1] += 1
        own_recall[label_key][0] += int(own)
        own_recall[label_key][1] += 1

    for entry in corpora.values():
        for lab in entry["labels"].values():
            lab["recall"] = _rate(lab["detected"], lab["n"])
            lab["recall_own"] = _rate(lab["detected_own"], lab["n"])
        if entry["benign"]:
            entry["benign"]["fp_rate"] = _rate(entry["benign"]["flagged"], entry["benign"]["n"])
        kinds = list(entry["labels"]) + ([entry["benign"]["kind"]] if entry["benign"] else [])
        entry["group"] = ",".join(kinds)

    dev_cases = [i for i, case in enumerate(cases) if case.corpus not in EXTRA_CORPORA]
    slow = sorted(dev_cases, key=lambda i: results[i].ms, reverse=True)[:top]
    return {
        "corpora": corpora,
        "recall": {
            k: {"n": v[1], "detected": v[0], "recall": _rate(v[0], v[1]),
                "detected_own": own_recall[k][0], "recall_own": _rate(own_recall[k][0], v[1])}
            for k, v in sorted(recall.items())
        },
        "false_positives": {
            k: {"n": v[1], "flagged": v[0], "fp_rate": _rate(v[0], v[1]), "by_family": dict(fp_by_family[k])}
            for k, v in sorted(fp.items())
        },
        "lookalikes_untouched": {
            k: {"n": v[1], "untouched": v[0], "rate": _rate(v[0], v[1]), "flagged_also_labelled_positive": v[2]}
            for k, v in sorted(lookalikes.items())
        },
        "pii_entities": {
            k: {"n": v[1], "detected": v[0], "recall": _rate(v[0], v[1]), "in_scope": k in PII_IN_SCOPE}
            for k, v in sorted(entities.items())
        },
        "pii_entity_spans": {
            k: {"n": v[1], "found": v[0], "recall": _rate(v[0], v[1])} for k, v in sorted(entity_spans.items())
        },
        "slowest": [
            {
                "corpus": cases[i].corpus,
                "index": cases[i].index,
                "ms": round(results[i].ms, 3),
                "chars": sum(len(p.text) for p in cases[i].pieces),
                "rules": results[i].rules,
            }
            for i in slow
        ],
        "benign_rules": [{"rule": r, "rows": n} for r, n in benign_rules.most_common(top)],
        "benign_rules_by_group": {g: dict(c.most_common(top)) for g, c in sorted(benign_rules_by_group.items())},
        "cost": {
            "cases": len(dev_cases),
            "total_ms": round(total_ms, 1),
            "total_kb": round(total_chars / 1024, 1),
            "ms_per_kb": round(total_ms / (total_chars / 1024), 4) if total_chars else None,
            "mean_ms_per_case": round(total_ms / len(dev_cases), 4) if dev_cases else None,
        },
    }


def _entities(case: Case) -> list[str]:
    if isinstance(case.meta.get("entity"), str):
        return [case.meta["entity"]]
    return list(case.meta.get("entities") or [])


# -- report --------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def print_report(report: dict[str, Any], out=sys.stdout) -> None:
    w = out.write
    rs = report["ruleset"]
    w(f"rules: {rs['rules']} from {len(rs['files'])} file(s), version {rs['version']}; "
      f"{report['cost']['cases']} cases, wall {report['wall_seconds']:.1f}s\n\n")
    w(f"{'corpus':40} {'label':24} {'n':>5} {'hit':>5}  {'rate':>6}  {'own-rule':>8}\n")
    for name, entry in sorted(report["corpora"].items()):
        for label, lab in sorted(entry["labels"].items()):
            w(f"{name:40} {label + ' recall':24} {lab['n']:5d} {lab['detected']:5d}  {_pct(lab['recall'])}"
              f"  {_pct(lab['recall_own'])}\n")
        if entry["benign"]:
            b = entry["benign"]
            w(f"{name:40} {'benign FP (' + b['kind'] + ')':24} {b['n']:5d} {b['flagged']:5d}  {_pct(b['fp_rate'])}\n")
    w("\nrecall by label (any detecting finding; own-rule = a rule tagged for that label)\n")
    for label, v in report["recall"].items():
        w(f"  {label:22} {v['detected']:5d}/{v['n']:<5d} {_pct(v['recall'])}   own-rule {_pct(v['recall_own'])}\n")
    w("false positives by kind of benign text (rows flagged, by the family of the rules that fired)\n")
    for kind, v in report["false_positives"].items():
        fams = ", ".join(f"{k} {n}" for k, n in sorted(v["by_family"].items()))
        w(f"  {kind:22} {v['flagged']:5d}/{v['n']:<5d} {_pct(v['fp_rate'])}   {fams}\n")
    if report["lookalikes_untouched"]:
        w("lookalikes untouched\n")
        for name, v in report["lookalikes_untouched"].items():
            same = v["flagged_also_labelled_positive"]
            note = f"   ({same} flagged row(s) carry a text the corpus also labels positive)" if same else ""
            w(f"  {name:40} {v['untouched']:5d}/{v['n']:<5d} {_pct(v['rate'])}{note}\n")
    if report["pii_entities"]:
        w("PII recall by entity (rows; * = in scope)\n")
        for ent, v in report["pii_entities"].items():
            mark = "*" if v["in_scope"] else " "
            w(f"  {mark}{ent:28} {v['detected']:5d}/{v['n']:<5d} {_pct(v['recall'])}\n")
    if report["pii_entity_spans"]:
        w("PII span recall (presidio_research spans overlapped by a finding)\n")
        for ent, v in report["pii_entity_spans"].items():
            w(f"  {ent:29} {v['found']:5d}/{v['n']:<5d} {_pct(v['recall'])}\n")
    w("rules firing most on benign text (rows)\n")
    for item in report["benign_rules"]:
        w(f"  {item['rule']:40} {item['rows']:5d}\n")
    w("slowest cases\n")
    for item in report["slowest"]:
        w(f"  {item['ms']:9.2f} ms  {item['chars']:7d} chars  {item['corpus']}#{item['index']}\n")
    c = report["cost"]
    w(f"scan cost: {c['ms_per_kb']} ms/KB ({c['total_kb']} KB, {c['total_ms']} ms, "
      f"{c['mean_ms_per_case']} ms per case)\n")


def print_misses(cases: list[Case], results: list[Result], count: int, out=sys.stdout) -> None:
    """The first `count` missed positives and flagged benign rows per corpus, to tune rules with."""
    misses: dict[str, list[str]] = defaultdict(list)
    for case, res in zip(cases, results):
        key = None
        if case.label == "benign" and res.detected:
            key = f"{case.corpus} FP"
            what = ",".join(res.rules)
        elif case.label != "benign" and not res.detected:
            if case.label == "pii" and not any(e in PII_IN_SCOPE for e in _entities(case)):
                continue
            key = f"{case.corpus} MISS {case.label}"
            what = json.dumps({k: v for k, v in case.meta.items() if k in ("rule", "entity", "plugin", "entities")})
        if key and len(misses[key]) < count:
            misses[key].append(f"  #{case.index} {what}: {case.text[:160]!r}")
    for key in sorted(misses):
        out.write(f"{key}\n" + "\n".join(misses[key]) + "\n")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA, help="folder of *.jsonl corpora")
    parser.add_argument("--rules", type=Path, action="append", help="rule file or folder (default: rules/)")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--limit", type=int, help="at most N rows per corpus (smoke runs)")
    parser.add_argument("--corpus", action="append", help="only this corpus (file stem); repeatable")
    parser.add_argument("--top", type=int, default=10, help="how many slowest cases / benign rules to list")
    parser.add_argument("--misses", type=int, default=0, help="print up to N misses and false positives per corpus")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="scan processes")
    parser.add_argument("--quiet", action="store_true", help="no printed report")
    parser.add_argument("--holdout", action="store_true",
                        help="only the rows of train_scorer.py's hold-out (fold 0); pair with --rules holding a "
                             "model trained without them (train_scorer.py --no-final --out DIR/models/...)")
    parser.add_argument("--docs", type=int, default=300,
                        help="also scan up to this many installed packages' READMEs as benign docs "
                             "(0: none; not a target)")
    parser.add_argument("--code", type=int, default=300,
                        help="also scan this many installed Python files as benign code (0: none; not a target)")
    args = parser.parse_args(argv)

    if not args.corpora.is_dir():
        parser.error(f"no corpora folder at {args.corpora}")
    global _RULESET
    rule_paths = [str(p) for p in (args.rules or [DEFAULT_RULES])]
    _RULESET = load_rules(rule_paths)
    cases = read_corpora(args.corpora, args.limit, args.corpus)
    if args.holdout:
        from train_scorer import fold_of

        cases = [case for case in cases if fold_of(case.text) == 0]
    if not args.corpus:
        cases += code_cases(args.code if args.limit is None else min(args.code, args.limit))
        cases += docs_cases(args.docs if args.limit is None else min(args.docs, args.limit))
    started = time.perf_counter()
    results = scan_all(cases, args.workers)
    wall = time.perf_counter() - started

    report = summarize(cases, results, args.top, rule_families(_RULESET))
    report["ruleset"] = {"rules": len(_RULESET), "files": _RULESET.files, "version": _RULESET.version}
    report["wall_seconds"] = round(wall, 2)
    report["args"] = {"corpora": str(args.corpora), "limit": args.limit, "corpus": args.corpus, "rules": rule_paths}
    if not args.quiet:
        print_report(report)
        if args.misses:
            print()
            print_misses(cases, results, args.misses)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
