"""From findings to decisions: block, rewrite (redact / pseudonymize / restore) or pass.

`inspect_request` and `inspect_response` are what the addon calls for whole bodies; streams use
StreamGuard, which shares `hit_effect` with `inspect_response` so both apply output rules alike.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .identity import Client
from .jsonpath import Path, render, set_at
from .model import Action, Finding, Phase, TextPiece
from .providers._util import walk_strings
from .providers.base import WireFormat
from .pseudonyms import PseudonymVault
from .realtime import reply_pieces as realtime_reply_pieces
from .scan import RuleSet, mask
from .stream_matcher import Hit
from .uploads import MultipartError, form_pieces, is_multipart, is_raw_upload, raw_piece, splice

ACTION_ORDER = {Action.BLOCK: 0, Action.PSEUDONYMIZE: 1, Action.REDACT: 2, Action.LOG: 3}


class UnreadableBody(ValueError):
    """The body is not what the provider's format expects (the fail policy decides what happens)."""


@dataclass(slots=True)
class Verdict:
    """What to do with one body. `decision` is a bounded label for metrics and logs."""

    decision: str  # allowed | blocked | redacted | pseudonymized | logged
    findings: list[Finding] = field(default_factory=list)
    body: bytes | None = None  # the rewritten body (enforce mode only), None when unchanged
    model: str | None = None
    stream: bool = False
    incident: str = ""
    blocked_by: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.decision == "blocked"


def new_incident_id() -> str:
    return secrets.token_hex(6)


class JsonTooDeep(UnreadableBody):
    """JSON nested past the limit: not a shape problem but a refusal, which follows llmwall_fail."""


MAX_JSON_DEPTH = 128  # real requests nest JSON schemas a few dozen levels deep at most


def decode_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The parsed body, refused whole when it is not JSON or nests deeper than `max_depth` (the walks
    that read it recurse, and a pathological document must get a clear error, not a crash)."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UnreadableBody(f"body is not JSON ({type(exc).__name__})") from None
    if json_depth(doc, max_depth) > max_depth:
        raise JsonTooDeep(f"JSON nests deeper than {max_depth} levels (llmwall_max_json_depth)")
    return doc


def json_depth(doc: Any, stop_after: int) -> int:
    """Nesting depth of `doc` (a scalar is 0), without recursion; stops counting past `stop_after`."""
    deepest = 0
    stack = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_after:
                    return deepest
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth) for item in items if isinstance(item, (dict, list)))
    return deepest


def dump_json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def inspect_request(
    ruleset: RuleSet,
    fmt: WireFormat,
    provider: str,
    path: str,
    body: bytes,
    vault: PseudonymVault,
    enforce: bool = True,
    client: Client | None = None,
    max_depth: int = MAX_JSON_DEPTH,
    content_type: str = "",
) -> Verdict:
    """Scan a request body: JSON, a multipart form, or a file sent as it is (see uploads.py). Raises
    UnreadableBody when it cannot be read."""
    if is_multipart(content_type):
        try:
            parts, pieces = form_pieces(content_type, body)
        except MultipartError as exc:
            raise UnreadableBody(str(exc)) from None
        model = next((p.text.strip() for p in pieces if parts[p.path[1]].name == "model"), None)
        return _scan(ruleset, pieces, provider, model, client, vault, enforce,
                     lambda new: splice(body, parts, {pieces[i].path[1]: text for i, text in new.items()}))
    try:
        doc = decode_json(body, max_depth)
    except UnreadableBody as exc:
        if isinstance(exc, JsonTooDeep) or not is_raw_upload(content_type):
            raise  # declared JSON (or nothing) and not JSON: malformed
        piece = raw_piece(content_type, body)  # None: binary, passed unread
        return _scan(ruleset, [piece] if piece else [], provider, None, client, vault, enforce,
                     lambda new: new[0].encode("utf-8"))
    try:
        parsed = fmt.parse_request(path, doc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UnreadableBody(f"not a {fmt.name} request: {exc}") from None
    pieces = parsed.pieces or every_string(doc)

    def rewrite_json(new: dict[int, str]) -> bytes:
        root = doc
        for index, text in new.items():
            root = _replaced(root, pieces[index].path, text)
        return dump_json(root)

    verdict = _scan(ruleset, pieces, provider, parsed.model, client, vault, enforce, rewrite_json)
    verdict.stream = parsed.stream
    return verdict


def _scan(
    ruleset: RuleSet, pieces: Sequence[TextPiece], provider: str, model: str | None, client: Client | None,
    vault: PseudonymVault, enforce: bool, rewrite: Callable[[dict[int, str]], bytes],
) -> Verdict:
    """Judge `pieces`; in enforce mode, `rewrite` turns the new texts of redacted pieces into the new body."""
    verdict = _judge(ruleset, pieces, provider, model, client)
    if enforce and verdict.decision not in ("allowed", "blocked"):
        new_texts = _rewritten_texts(pieces, verdict.findings, ruleset, vault)
        if new_texts:
            verdict.body = rewrite(new_texts)
    return verdict


def _judge(
    ruleset: RuleSet, pieces: Sequence[TextPiece], provider: str, model: str | None, client: Client | None
) -> Verdict:
    """The findings in `pieces` and the decision they make (the body is rewritten by the caller)."""
    findings = ruleset.scan_pieces(pieces, Phase.REQUEST, provider, model, client)
    verdict = Verdict("allowed", findings, model=model, incident=new_incident_id())
    if not findings:
        return verdict
    blocking = sorted({f.rule_id for f in findings if f.action is Action.BLOCK})
    if blocking:
        verdict.decision = "blocked"
        verdict.blocked_by = blocking
        return verdict
    kinds = {f.action for f in findings}
    verdict.decision = (
        "pseudonymized" if Action.PSEUDONYMIZE in kinds else "redacted" if Action.REDACT in kinds else "logged"
    )
    return verdict


def every_string(doc: Any, skip_keys: frozenset[str] = frozenset()) -> list[TextPiece]:
    """Every string of a body whose shape the format does not know, as user text: an endpoint llmwall has no
    parser for (OpenAI's Assistants threads and runs, Conversations items, a gateway's own API) still carries
    text to the provider, and it is scanned rather than waved through. Data URLs (inline images) are left out,
    and so is everything under a key in `skip_keys`."""
    return [TextPiece("user", path, text) for path, text in walk_strings(doc, ())
            if text.strip() and not text.startswith("data:") and skip_keys.isdisjoint(path)]


MEDIA_KEYS = frozenset({"audio", "video", "data"})  # base64 media in realtime events: not text


def inspect_message(
    ruleset: RuleSet, provider: str, data: bytes, vault: PseudonymVault, enforce: bool = True,
    client: Client | None = None, max_depth: int = MAX_JSON_DEPTH,
) -> Verdict:
    """One message a client sends in a WebSocket session to a provider (OpenAI's Realtime API, Gemini's Live
    API): a JSON event whose strings are scanned as user text, its audio and video left out. Raises
    UnreadableBody when it is not JSON."""
    doc = decode_json(data, max_depth)
    pieces = every_string(doc, MEDIA_KEYS)

    def rewrite_json(new: dict[int, str]) -> bytes:
        root = doc
        for index, text in new.items():
            root = _replaced(root, pieces[index].path, text)
        return dump_json(root)

    return _scan(ruleset, pieces, provider, None, client, vault, enforce, rewrite_json)


def restore_message(vault: PseudonymVault, data: str) -> str | None:
    """A message the provider sends in a WebSocket session with this session's placeholders turned back into
    their values, or None when nothing changes (a placeholder split across two delta events stays as it is)."""
    if not vault or "<" not in data:
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    changed = False
    for path, text in list(walk_strings(doc, ())):
        restored = vault.restore_text(text)
        if restored != text:
            doc = _replaced(doc, path, restored)
            changed = True
    return dump_json(doc).decode("utf-8") if changed else None


def _replaced(doc: Any, path: Path, value: str) -> Any:
    """`doc` with the string at `path` replaced (in place; a document that is one string is replaced whole)."""
    if not path:
        return value
    set_at(doc, path, value)
    return doc


def _rewritten_texts(
    pieces: Sequence[TextPiece], findings: Sequence[Finding], ruleset: RuleSet, vault: PseudonymVault
) -> dict[int, str]:
    """The new text of each piece a redaction or pseudonym changes, by piece index."""
    by_piece: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.action in (Action.REDACT, Action.PSEUDONYMIZE) and finding.piece >= 0 and finding.end > finding.start:
            by_piece.setdefault(finding.piece, []).append(finding)
    new_texts: dict[int, str] = {}
    for index, found in by_piece.items():
        piece = pieces[index]
        found.sort(key=lambda f: (f.start, -(f.end - f.start), ACTION_ORDER[f.action]))
        parts: list[str] = []
        cursor = 0
        for finding in found:
            if finding.start < cursor:
                continue  # overlaps a span already replaced
            parts.append(piece.text[cursor : finding.start])
            value = piece.text[finding.start : finding.end]
            rule = ruleset.by_id.get(finding.rule_id)
            if finding.action is Action.PSEUDONYMIZE and rule is not None and rule.pseudonym:
                parts.append(vault.placeholder(rule.pseudonym, value))
            else:
                parts.append(f"[REDACTED:{finding.rule_id}]")
            cursor = finding.end
        parts.append(piece.text[cursor:])
        new_texts[index] = "".join(parts)
    return new_texts


def hit_effect(
    hit: Hit, vault: PseudonymVault | None, enforce: bool, location: str
) -> tuple[Finding | None, tuple[int, int, str] | None, str | None]:
    """What one output match means: (finding to record, rewrite to apply, id of a blocking rule)."""
    if hit.rule is None:  # a placeholder: restore it if this exchange issued it
        value = vault.restore(hit.value) if vault else None
        if value is None or not enforce:
            return None, None, None
        return None, (hit.start, hit.end, value), None
    rule = hit.rule
    finding = None
    if not hit.continued:
        preview = mask(hit.value, rule) if hit.value else "(held past the holdback cap)"
        finding = Finding(rule.id, rule.action, rule.severity, Phase.RESPONSE, "assistant", location,
                          hit.start, hit.end, preview)
    if not enforce or rule.action is Action.LOG:
        return finding, None, None
    if rule.action is Action.BLOCK:
        return finding, None, rule.id
    return finding, (hit.start, hit.end, "" if hit.continued else f"[REDACTED:{rule.id}]"), None


def inspect_response(
    ruleset: RuleSet,
    fmt: WireFormat,
    path: str,
    body: bytes,
    vault: PseudonymVault | None,
    enforce: bool = True,
    max_depth: int = MAX_JSON_DEPTH,
) -> Verdict:
    """Scan a whole (non-streamed) reply: output rules, and restore this exchange's pseudonyms."""
    doc = decode_json(body, max_depth)
    try:
        pieces = fmt.response_pieces(path, doc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UnreadableBody(f"not a {fmt.name} reply: {exc}") from None
    return _judge_reply(ruleset, doc, pieces, vault, enforce)


def inspect_server_message(
    ruleset: RuleSet, data: bytes, vault: PseudonymVault | None, enforce: bool = True, max_depth: int = MAX_JSON_DEPTH,
) -> Verdict | None:
    """A message the provider sends in a WebSocket session, by the output rules when it completes a text or a
    tool call (realtime.py), else None. Raises UnreadableBody when it is not JSON."""
    doc = decode_json(data, max_depth)
    pieces = realtime_reply_pieces(doc)
    return _judge_reply(ruleset, doc, pieces, vault, enforce) if pieces else None


def _judge_reply(
    ruleset: RuleSet, doc: Any, pieces: Sequence[TextPiece], vault: PseudonymVault | None, enforce: bool
) -> Verdict:
    """Output rules over the pieces of a reply document; rewrites go into `doc` and out as `verdict.body`."""
    verdict = Verdict("allowed")
    changed = False
    for piece in pieces:
        scan = ruleset.stream_matcher(piece.role).channel(len(piece.text) + 1)
        rewrites: list[tuple[int, int, str]] = []
        for hit in scan.push(piece.text, final=True):
            finding, rewrite, blocker = hit_effect(hit, vault, enforce, render(piece.path))
            if finding is not None:
                verdict.findings.append(finding)
            if rewrite is not None:
                rewrites.append(rewrite)
            if blocker is not None:
                verdict.blocked_by.append(blocker)
        if rewrites:
            doc = _replaced(doc, piece.path, rewrite_text(piece.text, 0, rewrites))
            changed = True
    if verdict.blocked_by:
        verdict.decision = "blocked"
    elif verdict.findings:
        kinds = {f.action for f in verdict.findings}
        verdict.decision = "redacted" if kinds & {Action.REDACT, Action.PSEUDONYMIZE} else "logged"
    if changed and not verdict.blocked:
        verdict.body = dump_json(doc)
    return verdict


def rewrite_text(text: str, offset: int, rewrites: list[tuple[int, int, str]]) -> str:
    """Apply channel rewrites to the slice of the channel [offset, offset+len(text)) that `text` holds.

    The replacement string lands in the piece holding the start of the span; the rest of the span is
    cut from whichever pieces hold it.
    """
    end = offset + len(text)
    parts: list[str] = []
    cursor = offset
    for start, stop, replacement in rewrites:
        if stop <= offset or start >= end:
            continue
        if start > cursor:
            parts.append(text[cursor - offset : start - offset])
        if start >= offset:
            parts.append(replacement)
        cursor = max(cursor, min(stop, end))
    parts.append(text[cursor - offset :])
    return "".join(parts)
