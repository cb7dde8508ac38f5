"""Incremental matching of a growing text (one stream channel) against the response rules.

For the text seen so far it answers two questions at once: which matches are complete, and from where
the tail could still become a match (the `regex` module's partial matching). Everything before that
point is decided and may be released to the client at once; only the tail is held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex

from .model import Action
from .rules import Rule

PLACEHOLDER = r"<[A-Z][A-Z0-9]*_\d{1,6}>"
PLACEHOLDER_GROUP = "_ph"
_LEADING_FLAGS = regex.compile(r"^\(\?([aiLmsuxV01fbBeprw]+)\)")
CONTEXT_CHARS = 64  # kept before the decided point, for look-behinds and \b
MAX_SUPPRESSED_CHARS = 65536  # a match redacted at the cap that goes on longer than this blocks the stream


@dataclass(slots=True)
class Hit:
    """A decided match in a channel, in absolute channel offsets. `rule` is None for a placeholder."""

    start: int
    end: int
    rule: Rule | None
    value: str
    continued: bool = False  # more of a match already redacted at the holdback cap: remove, no marker


def _scoped(pattern: str) -> str:
    """Turn leading global inline flags `(?i)rest` into a scoped group `(?i:rest)` for combining."""
    found = _LEADING_FLAGS.match(pattern)
    if not found:
        return pattern
    return f"(?{found.group(1)}:{pattern[found.end():]})"


class StreamMatcher:
    """All response pattern rules (plus the pseudonym placeholder) compiled into one alternation."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [r for r in rules if r.pattern is not None]
        parts = [f"(?P<_r{i}>{_scoped(r.pattern.pattern)})" for i, r in enumerate(self.rules)]
        parts.append(f"(?P<{PLACEHOLDER_GROUP}>{PLACEHOLDER})")
        try:
            self.combined: regex.Pattern[str] = regex.compile("|".join(parts))
            self.separate: list[Rule] = []
        except regex.error:
            # A pattern that cannot be combined (e.g. numbered back-references): match it on its own.
            self.combined = regex.compile(f"(?P<{PLACEHOLDER_GROUP}>{PLACEHOLDER})")
            self.separate = list(self.rules)

    def rule_of(self, match: regex.Match[str]) -> Rule | None:
        name = match.lastgroup
        if name is None or not name.startswith("_r"):
            for key, value in match.groupdict().items():
                if value is not None and (key.startswith("_r") or key == PLACEHOLDER_GROUP):
                    name = key
                    break
        if name is None or name == PLACEHOLDER_GROUP:
            return None
        return self.rules[int(name[2:])]

    def channel(self, max_holdback: int) -> ChannelScan:
        return ChannelScan(self, max_holdback)


class ChannelScan:
    """The scanning state of one channel: the undecided tail plus a little context before it."""

    __slots__ = ("matcher", "max_holdback", "text", "base", "decided", "suppress_rule", "suppress_buf",
                 "suppress_start", "must_block")

    def __init__(self, matcher: StreamMatcher, max_holdback: int) -> None:
        self.matcher = matcher
        self.max_holdback = max_holdback
        self.text = ""  # channel text from absolute offset `base`
        self.base = 0
        self.decided = 0  # absolute offset: everything before it is decided
        self.suppress_rule: Rule | None = None  # a match being redacted after the holdback cap was hit
        self.suppress_buf = ""
        self.suppress_start = 0
        self.must_block = False  # a suppressed match grew past MAX_SUPPRESSED_CHARS

    @property
    def end(self) -> int:
        return self.base + len(self.text)

    def push(self, piece: str, final: bool = False) -> list[Hit]:
        """Append text; return the matches decided by it and advance `decided`."""
        hits: list[Hit] = []
        piece_start = self.end
        self.text += piece
        if self.suppress_rule is not None:
            self.decided = self._continue_suppress(piece, piece_start, final, hits)
            if self.suppress_rule is not None or self.decided >= self.end:
                self._trim()
                return hits
        pending = self._scan(hits, final)
        held = self.end - pending
        if held > self.max_holdback and not final:
            pending = self._overflow(pending, hits)
        self.decided = pending
        self._trim()
        return hits

    def _scan(self, hits: list[Hit], final: bool) -> int:
        """Collect complete matches after `decided`; return where the undecided tail starts."""
        text = self.text
        start = self.decided - self.base
        pending = len(text)
        for match in self.matcher.combined.finditer(text, start, partial=not final):
            if match.partial:
                if match.start() < len(text):
                    pending = min(pending, match.start())
                break
            if match.end() == len(text) and not final:
                pending = min(pending, match.start())  # a complete match at the end may still grow
                break
            hit = self._hit(match, self.matcher.rule_of(match))
            if hit is not None:
                hits.append(hit)
        for rule in self.matcher.separate:
            for match in rule.pattern.finditer(text, start, partial=not final):
                if match.partial or (match.end() == len(text) and not final):
                    if match.start() < len(text):
                        pending = min(pending, match.start())
                    break
                hit = self._hit(match, rule)
                if hit is not None:
                    hits.append(hit)
        if pending < len(text):
            hits[:] = [h for h in hits if h.end <= self.base + pending]
        hits.sort(key=lambda h: h.start)
        return self.base + pending

    def _hit(self, match: regex.Match[str], rule: Rule | None) -> Hit | None:
        if rule is None:
            return Hit(self.base + match.start(), self.base + match.end(), None, match.group())
        own = rule.pattern.match(self.text, match.start()) if rule.secret_group is not None else None
        start, end = rule.value_span(own) if own is not None else match.span()
        value = self.text[start:end]
        if end <= start or not rule.accepts(value):
            return None
        return Hit(self.base + start, self.base + end, rule, value)

    def _overflow(self, pending: int, hits: list[Hit]) -> int:
        """The held tail outgrew the cap. A pending block/redact rule fails safe: its text is redacted
        (the guard blocks for block rules); anything else is released."""
        rel = pending - self.base
        for rule in self.matcher.rules:
            if rule.action in (Action.BLOCK, Action.REDACT, Action.PSEUDONYMIZE):
                found = rule.pattern.match(self.text, rel, partial=True)
                if found is not None and found.end() > rel:
                    self.suppress_rule = rule
                    self.suppress_start = pending
                    self.suppress_buf = self.text[rel:]
                    hits.append(Hit(pending, self.end, rule, ""))
                    return self.end
        return self.end

    def _continue_suppress(self, piece: str, piece_start: int, final: bool, hits: list[Hit]) -> int:
        """Keep redacting a match that hit the cap until the rule's pattern completes (e.g. the END
        line of a private key); return the absolute offset up to which the channel is decided."""
        rule = self.suppress_rule
        assert rule is not None and rule.pattern is not None
        self.suppress_buf += piece
        found = rule.pattern.match(self.suppress_buf, partial=not final)
        if found is not None and found.partial:
            hits.append(Hit(piece_start, self.end, rule, "", continued=True))
            if len(self.suppress_buf) > MAX_SUPPRESSED_CHARS:
                self.must_block = True
            return self.end
        match_end = self.suppress_start + found.end() if found is not None else self.end
        match_end = max(match_end, piece_start)
        if match_end > piece_start:
            hits.append(Hit(piece_start, match_end, rule, "", continued=True))
        self.suppress_rule = None
        self.suppress_buf = ""
        return match_end

    def _trim(self) -> None:
        keep_from = self.decided - CONTEXT_CHARS - self.base
        if keep_from > CONTEXT_CHARS:
            self.text = self.text[keep_from:]
            self.base += keep_from
