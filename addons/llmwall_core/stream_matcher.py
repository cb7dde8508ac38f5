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
from .multimatch import WordFinder
from .normalize import read_tags
from .rules import Rule

PLACEHOLDER = r"<[A-Z][A-Z0-9]*_\d{1,6}>"
LOOKBACK_CHARS = 256  # searched again before the decided point: a match may begin before its keyword
CONTEXT_CHARS = LOOKBACK_CHARS + 64  # kept before the decided point (look-back plus look-behind context)
MAX_SUPPRESSED_CHARS = 65536  # a match redacted at the cap that goes on longer than this blocks the stream


@dataclass(slots=True)
class Hit:
    """A decided match in a channel, in absolute channel offsets. `rule` is None for a placeholder."""

    start: int
    end: int
    rule: Rule | None
    value: str
    continued: bool = False  # more of a match already redacted at the holdback cap: remove, no marker


class StreamMatcher:
    """The response rules of one role, gated by their keywords.

    Per event only the rules whose keyword occurs in the text not yet decided are run (over a look-back
    too, since a match may begin before its keyword), plus the few rules without keywords; so ordinary prose is not held back by every pattern
    whose first character could start a match. A rule whose keyword sits mid-pattern therefore starts
    to hold text only once its keyword is seen: what came before the keyword may already be out, and
    the redaction starts at the first character not yet released.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [r for r in rules if r.pattern is not None]
        self.always = [r for r in self.rules if not r.keywords]
        self.by_keyword: dict[str, list[Rule | None]] = {}
        for rule in self.rules:
            for keyword in rule.keywords:
                self.by_keyword.setdefault(keyword, []).append(rule)
        self.by_keyword.setdefault("<", []).append(None)  # None stands for the pseudonym placeholder
        self.finder = WordFinder(self.by_keyword, dfa=True)  # values: the rules each keyword wakes
        self.longest_keyword = max(map(len, self.by_keyword))
        self.placeholder = regex.compile(PLACEHOLDER)

    def candidates(self, window_lower: str, new_from: int) -> list[Rule | None]:
        """Keyword rules to run on a lower-cased window: those with a keyword occurrence ending at or after
        `new_from` (text not yet decided). A keyword seen only in decided text was evaluated when it
        arrived. A keyword split across events wakes its rule when its last character arrives; by then
        its first characters may be out, which leaks nothing secret: a keyword is a fixed prefix or a
        name before the value, and the redaction covers everything not yet released."""
        woken: dict[int, Rule | None] = {}
        for word, _start, end in self.finder.find(window_lower):
            if end > new_from:
                for rule in self.finder.values[word]:
                    woken.setdefault(id(rule), rule)
        return list(woken.values())

    def channel(self, max_holdback: int) -> ChannelScan:
        return ChannelScan(self, max_holdback)


class ChannelScan:
    """The scanning state of one channel: the undecided tail plus a little context before it."""

    __slots__ = ("matcher", "max_holdback", "text", "base", "end", "decided", "suppress_rule", "suppress_buf",
                 "suppress_start", "must_block")

    def __init__(self, matcher: StreamMatcher, max_holdback: int) -> None:
        self.matcher = matcher
        self.max_holdback = max_holdback
        self.text = ""  # channel text from absolute offset `base`
        self.base = 0
        self.end = 0  # absolute offset of the end of the text: base + len(text), kept as it is read per event
        self.decided = 0  # absolute offset: everything before it is decided
        self.suppress_rule: Rule | None = None  # a match being redacted after the holdback cap was hit
        self.suppress_buf = ""
        self.suppress_start = 0
        self.must_block = False  # a suppressed match grew past MAX_SUPPRESSED_CHARS

    def push(self, piece: str, final: bool = False) -> list[Hit]:
        """Append text; return the matches decided by it and advance `decided`."""
        hits: list[Hit] = []
        piece_start = self.end
        piece = read_tags(piece)  # a secret spelled in invisible tag characters is still the secret
        self.text += piece
        self.end += len(piece)
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
        """Collect complete matches not yet decided; return where the undecided tail starts.

        Rules without keywords search from the decided point; rules woken by a keyword search from a
        look-back before it, since their match may begin before the keyword."""
        text = self.text
        decided = self.decided - self.base
        start = max(0, decided - LOOKBACK_CHARS)
        pending = len(text)
        # only a keyword that ends in undecided text wakes a rule, so the automaton need not read the
        # whole look-back again on every event: from one keyword length before the decided point is enough
        kw_from = max(start, decided - self.matcher.longest_keyword + 1)
        woken = self.matcher.candidates(text[kw_from:].lower(), decided - kw_from)
        if not woken and not self.matcher.always:
            return self.end  # the usual event: no keyword, nothing to run, all of it decided
        runs = [(rule, decided) for rule in self.matcher.always] + [(rule, start) for rule in woken]
        for rule, search_from in runs:
            pattern = self.matcher.placeholder if rule is None else rule.pattern
            for match in pattern.finditer(text, search_from, partial=not final):
                if match.partial:
                    if match.start() < len(text):
                        pending = min(pending, max(match.start(), decided))
                    break
                value_start, value_end = match.span() if rule is None else rule.value_span(match)
                if value_end <= decided or value_end <= value_start:
                    continue  # decided by an earlier push
                if match.end() == len(text) and not final:
                    pending = min(pending, max(value_start, decided))  # a match at the end may still grow
                    break
                value = text[value_start:value_end]
                if rule is not None and not rule.accepts(value):
                    continue
                hits.append(Hit(self.base + max(value_start, decided), self.base + value_end, rule, value))
        if pending < len(text):
            hits[:] = [h for h in hits if h.end <= self.base + pending]
        hits.sort(key=lambda h: h.start)
        return self.base + pending

    def _overflow(self, pending: int, hits: list[Hit]) -> int:
        """The held tail outgrew the cap. A pending block/redact rule fails safe: its text is redacted
        (the guard blocks for block rules); anything else is released."""
        rel = pending - self.base
        for rule in self.matcher.rules:
            if rule.action not in (Action.BLOCK, Action.REDACT, Action.PSEUDONYMIZE):
                continue
            for found in rule.pattern.finditer(self.text, max(0, rel - LOOKBACK_CHARS), partial=True):
                if found.partial and found.start() <= rel < found.end():
                    self.suppress_rule = rule
                    self.suppress_start = self.base + found.start()
                    self.suppress_buf = self.text[found.start():]
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
