"""The compiled rule set and its scanners.

Whole texts (request pieces, non-streamed replies) are scanned per rule behind a keyword prefilter, so
the cost follows the rules whose keywords occur, not the number of rules. Streams use `StreamMatcher`
(stream_matcher.py), built from the same rules.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from operator import itemgetter

from .identity import Client
from .jsonpath import render
from .model import Action, Finding, Phase, TextPiece
from .multimatch import WordFinder
from .normalize import LEET, View, fold_leet, lower_in_place, normalized
from .patterninfo import has_digit
from .rules import Rule, RuleError
from .unwrap import unwrap

SECRET_TAGS = frozenset({"secret", "pii", "canary"})
CACHE_ENTRIES = 4096  # scanned pieces remembered: a chat resends its whole history with every turn
_REWRITES = (Action.REDACT, Action.PSEUDONYMIZE)


def _any_rule(rule: Rule) -> bool:
    return True


def mask(value: str, rule: Rule) -> str:
    """A preview that never shows a secret: sensitive values keep 2 characters and their length;
    attack phrases (not secret) are shown shortened so an operator can judge the finding, normalized so
    that text hidden in invisible characters shows as what it says."""
    if SECRET_TAGS.intersection(rule.tags) or rule.action in _REWRITES:
        head = value[:2] if len(value) >= 8 else ""
        return f"{head}…[{len(value)} chars]"
    flat = " ".join(normalized(value).text.split())
    return flat if len(flat) <= 48 else flat[:45] + "…"


class _Views:
    """Lazily built views of one text: each costs nothing until a rule asks for it."""

    __slots__ = ("raw", "_normalized", "_deobfuscated", "_lowered", "_digits")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self._normalized: View | None = None
        self._deobfuscated: View | None = None
        self._lowered: str | None = None
        self._digits: dict[str, bool] = {}

    def has_digit(self, name: str) -> bool:
        """Whether view `name` holds a digit (rules whose every match needs one skip it otherwise)."""
        found = self._digits.get(name)
        if found is None:
            found = self._digits[name] = has_digit(self.get(name).text)
        return found

    def lowered(self) -> str:
        """The normalized text lower-cased, for the keyword prefilter."""
        if self._lowered is None:
            self._lowered = lower_in_place(self.get("normalized").text)  # offsets stay the normalized view's
        return self._lowered

    def get(self, name: str) -> View:
        if name == "raw":
            return View(self.raw, [])
        if self._normalized is None:
            self._normalized = normalized(self.raw)
        if name == "normalized":
            return self._normalized
        if self._deobfuscated is None:  # deobfuscated(), reusing the lower-cased text of the keyword pass
            self._deobfuscated = View(fold_leet(self.lowered()), self._normalized.breaks)
        return self._deobfuscated


class RuleSet:
    """All rules of one load, compiled per phase. Immutable once built: a live stream keeps its own."""

    def __init__(self, rules: Sequence[Rule], version: str = "", files: Sequence[str] = ()) -> None:
        self.rules = list(rules)
        self.version = version
        self.files = list(files)
        self.by_id = {rule.id: rule for rule in self.rules}
        self._pattern: dict[Phase, list[Rule]] = {}
        self._always: dict[Phase, list[Rule]] = {}
        # per phase and keyword group: the finder (its values: the rules each word wakes) and the words
        # that have an anchored rule
        self._finders: dict[Phase, dict[str, tuple[WordFinder, frozenset[int]]]] = {}
        self._cache: OrderedDict[tuple, tuple[Finding, ...]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_hits = 0
        self.scorers: dict[Phase, list[Rule]] = {}
        self.policies = [r for r in self.rules if r.kind in ("provider_allowlist", "model_allowlist", "max_prompt_chars")]
        for phase in Phase:
            pattern_rules = [r for r in self.rules if r.kind == "pattern" and phase in r.phases]
            self._pattern[phase] = pattern_rules
            self._always[phase] = [r for r in pattern_rules if not r.keywords]
            # keywords are looked up in the lower-cased normalized text ("plain"), or for deobfuscated
            # rules in the deobfuscated text, so "1gn0re" still finds the keyword "ignore"
            index: dict[str, dict[str, list[Rule]]] = {}
            for rule in pattern_rules:
                group = "deobfuscated" if rule.view == "deobfuscated" else "plain"
                for keyword in rule.keywords:
                    if group == "deobfuscated":
                        keyword = keyword.translate(LEET)  # the text it is looked up in is folded too
                    index.setdefault(group, {}).setdefault(keyword, []).append(rule)
            self._finders[phase] = {group: _keyword_finder(by_word) for group, by_word in index.items()}
            self.scorers[phase] = [r for r in self.rules if r.kind == "scorer" and phase in r.phases]
        self._stream_matchers: dict[str, object] = {}

    def __len__(self) -> int:
        return len(self.rules)

    def pattern_rules(self, phase: Phase) -> list[Rule]:
        return self._pattern[phase]

    # -- whole-text scanning -------------------------------------------------------------------------

    def scan_text(self, text: str, phase: Phase = Phase.REQUEST, role: str = "user") -> list[Finding]:
        """Scan one text as if it were a single piece with `role` (used by the eval and examples)."""
        return self.scan_pieces([TextPiece(role=role, path=(), text=text)], phase)

    def scan_pieces(
        self,
        pieces: Sequence[TextPiece],
        phase: Phase,
        provider: str | None = None,
        model: str | None = None,
        client: Client | None = None,
    ) -> list[Finding]:
        """Every finding in `pieces`, in piece order. Offsets point into each piece's original text."""
        findings: list[Finding] = []
        for index, piece in enumerate(pieces):
            if piece.text:
                findings.extend(self._scan_piece_cached(index, piece, phase, provider, model, client))
        if phase is Phase.REQUEST and self.policies:
            findings.extend(self._policy_findings(pieces, provider, model, client))
        return findings

    def _candidates(
        self, views: _Views, phase: Phase, keep: Callable[[Rule], bool] = _any_rule,
    ) -> list[tuple[Rule, list[int] | None]]:
        """Rules without keywords, plus those whose keyword occurs in the text: one Aho-Corasick pass
        per view, so the cost follows the text, not the number of rules. Only rules `keep` accepts are
        returned. Anchored rules come with the positions where their keywords start (their matches can only
        start there); positions are gathered only for the words of kept anchored rules, since common short
        keywords ("in", "our") occur thousands of times in a long prompt."""
        found: dict[int, tuple[Rule, list[int] | None]] = {id(r): (r, None) for r in self._always[phase] if keep(r)}
        dropped: set[int] = set()
        for view_name, (finder, anchored_words) in self._finders[phase].items():
            text = views.lowered() if view_name == "plain" else views.get("deobfuscated").text
            matches = finder.find(text)
            if not matches:
                continue
            can_anchor = len(text) == len(views.get("normalized").text)
            anchored_entries: dict[int, list[list[int]]] = {}
            for word in set(map(_WORD, matches)):
                for rule in finder.values[word]:
                    entry = found.get(id(rule))
                    if entry is None:
                        if id(rule) in dropped or not keep(rule):
                            dropped.add(id(rule))
                            continue
                        anchored = can_anchor and word in anchored_words and rule.anchored and rule.view != "raw"
                        entry = found[id(rule)] = (rule, [] if anchored else None)
                    if entry[1] is not None:
                        anchored_entries.setdefault(word, []).append(entry[1])
            if anchored_entries:
                positions: dict[int, list[int]] = {word: [] for word in anchored_entries}
                for word, start, _end in matches:
                    if word in positions:
                        positions[word].append(start)
                for word, lists in anchored_entries.items():
                    for starts in lists:
                        starts.extend(positions[word])
        return list(found.values())

    def _scan_piece_cached(
        self, index: int, piece: TextPiece, phase: Phase, provider: str | None, model: str | None,
        client: Client | None,
    ) -> list[Finding]:
        """Findings are remembered per text, role and scope: a conversation resends its history every
        turn, and only the new messages need scanning. Offsets and previews do not depend on location."""
        key = (phase, piece.role, provider, model, client, len(piece.text), hash(piece.text))
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
        if cached is None:
            cached = tuple(self._scan_piece(0, TextPiece(piece.role, (), piece.text), phase, provider, model, client))
            with self._cache_lock:
                self._cache[key] = cached
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        location = render(piece.path)
        return [replace(f, piece=index, location=location + f.location[1:]) for f in cached]

    def _runnable(
        self, views: _Views, phase: Phase, role: str, provider: str | None, model: str | None, client: Client | None,
    ) -> list[tuple[Rule, list[int] | None]]:
        """The candidate rules (see `_candidates`) in scope for this piece, without those that need a digit
        where the text has none."""
        def keep(rule: Rule) -> bool:
            if rule.needs_digit and not views.has_digit(rule.view):
                return False
            return rule.applies(role, provider, model, client)

        return self._candidates(views, phase, keep)

    def _scan_piece(
        self, index: int, piece: TextPiece, phase: Phase, provider: str | None, model: str | None,
        client: Client | None = None,
    ) -> list[Finding]:
        views = _Views(piece.text)
        location = render(piece.path)
        findings: list[Finding] = []
        for rule, starts in self._runnable(views, phase, piece.role, provider, model, client):
            findings.extend(self._rule_findings(rule, views, phase, piece.role, location, index, starts))
        findings.extend(self._unwrapped_findings(index, piece, views.lowered(), phase, provider, model, location,
                                                 client))
        for rule in self.scorers[phase]:
            if rule.applies(piece.role, provider, model, client):
                text = views.get("normalized").text
                if rule.boilerplate is not None:
                    text = rule.boilerplate(text)
                score = rule.scorer.score(text, rule.window, rule.stride)
                if score >= (rule.short_threshold if len(text) < rule.short_chars else rule.threshold):
                    findings.append(
                        Finding(rule.id, rule.action, rule.severity, phase, piece.role, location, 0,
                                len(piece.text), f"score {score:.2f}", score=round(score, 4), piece=index)
                    )
        return findings

    @staticmethod
    def _rule_findings(
        rule: Rule, views: _Views, phase: Phase, role: str, location: str, index: int,
        starts: list[int] | None = None,
    ) -> Iterable[Finding]:
        view = views.get(rule.view)
        assert rule.finder is not None
        if starts is None:
            matches: Iterable = rule.finder.finditer(view.text)
        else:  # anchored: try only where a keyword starts, instead of at every position
            matches = _anchored_matches(rule.finder, view.text, starts)
        seen_until = -1
        for match in matches:
            start, end = rule.value_span(match)
            if end <= start or end <= seen_until:
                continue
            value = view.text[start:end]
            if not rule.accepts(value):
                continue
            seen_until = end
            o_start, o_end = view.span_to_original(start, end)
            yield Finding(rule.id, rule.action, rule.severity, phase, role, location, o_start, o_end,
                          mask(value, rule), piece=index)

    def _unwrapped_findings(
        self, index: int, piece: TextPiece, lowered: str, phase: Phase, provider: str | None, model: str | None,
        location: str, client: Client | None = None,
    ) -> list[Finding]:
        """Scan the text hidden in base64, base32 or hex runs (a finding covers the whole run), and the
        rot13 reading of a text that names rot13. That reading covers the whole piece, so rules that redact
        or pseudonymize do not apply to it: rewriting a whole message for a phone number that rot13 leaves
        as it is would be wrong."""
        findings: list[Finding] = []
        for hidden in unwrap(piece.text, lowered):
            inner = _Views(hidden.text)
            for rule, starts in self._runnable(inner, phase, piece.role, provider, model, client):
                if rule.view == "raw" or (hidden.scheme == "rot13" and rule.action in _REWRITES):
                    continue
                for found in self._rule_findings(rule, inner, phase, piece.role, location, index, starts):
                    findings.append(Finding(found.rule_id, found.action, found.severity, phase, piece.role,
                                            f"{location} ({hidden.scheme})", hidden.start, hidden.end,
                                            f"{hidden.scheme}:{found.preview}", piece=index))
        return findings

    def _policy_findings(
        self, pieces: Sequence[TextPiece], provider: str | None, model: str | None, client: Client | None = None
    ) -> list[Finding]:
        findings = []
        total = sum(len(p.text) for p in pieces)
        for rule in self.policies:
            # an allow-list is scoped by client (and a model list by provider); it cannot scope by what it checks
            scope = {"provider_allowlist": (None, None), "model_allowlist": (provider, None)}.get(rule.kind, (provider, model))
            if not rule.applies(None, scope[0], scope[1], client):
                continue
            preview = ""
            if rule.kind == "provider_allowlist" and provider is not None:
                if not any(fnmatch.fnmatchcase(provider, g) for g in rule.allow_list):
                    preview = f"provider {provider}"
            elif rule.kind == "model_allowlist" and model is not None:
                if not any(fnmatch.fnmatchcase(model, g) for g in rule.allow_list):
                    preview = f"model {model[:64]}"
            elif rule.kind == "max_prompt_chars" and rule.limit is not None and total > rule.limit:
                preview = f"{total} chars > {rule.limit}"
            if preview:
                findings.append(Finding(rule.id, rule.action, rule.severity, Phase.REQUEST, "other", "request",
                                        0, 0, preview))
        return findings

    # -- streams ---------------------------------------------------------------------------------------

    def stream_matcher(self, role: str = "assistant"):
        """The incremental matcher for reply text of `role` (assistant or tool_call), compiled once."""
        matcher = self._stream_matchers.get(role)
        if matcher is None:
            from .stream_matcher import StreamMatcher

            rules = [r for r in self.pattern_rules(Phase.RESPONSE) if r.roles is None or role in r.roles]
            matcher = self._stream_matchers[role] = StreamMatcher(rules)
        return matcher

    # -- self-test ------------------------------------------------------------------------------------

    def check_examples(self) -> None:
        """Run every rule's examples; raise RuleError for the first that misbehaves."""
        for rule in self.rules:
            if not (rule.examples_match or rule.examples_no_match):
                continue
            alone = RuleSet([rule])
            phase = Phase.REQUEST if Phase.REQUEST in rule.phases else Phase.RESPONSE
            role = next(iter(sorted(rule.roles))) if rule.roles else "user"
            for text in rule.examples_match:
                if not any(f.rule_id == rule.id for f in alone.scan_text(text, phase, role)):
                    raise RuleError(rule.source, rule.line, rule.id, f"example should match but does not: {text[:60]!r}")
            for text in rule.examples_no_match:
                if any(f.rule_id == rule.id for f in alone.scan_text(text, phase, role)):
                    raise RuleError(rule.source, rule.line, rule.id, f"example should not match but does: {text[:60]!r}")


def _anchored_matches(finder, text: str, starts: list[int]) -> Iterable:
    """The matches `finditer` would give when every match starts at one of `starts`: tried in order,
    none starting inside the previous one."""
    after = 0
    for position in sorted(set(starts)):
        if position < after:
            continue
        match = finder.match(text, position)
        if match is not None:
            after = max(match.end(), position + 1)
            yield match


_WORD = itemgetter(0)


def _keyword_finder(by_word: dict[str, list[Rule]]) -> tuple[WordFinder, frozenset[int]]:
    """The keyword finder of one group (each word's value: the rules it wakes), and the words that have an
    anchored rule (only their positions are collected)."""
    finder = WordFinder(by_word, dfa=True)
    anchored = frozenset(i for i, rules in enumerate(finder.values) if any(r.anchored and r.view != "raw" for r in rules))
    return finder, anchored
