"""StreamGuard: the per-flow scanner behind `flow.response.stream`.

Transport chunks are framed into events; each event's text deltas are appended to their channel and
scanned incrementally. An event is forwarded (as its original bytes) as soon as all of its text is
decided; only events that carry an undecided tail wait. Redactions and pseudonym restores rewrite the
waiting events; a block ends the stream with the provider's own error event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

from .jsonpath import get_at, set_at
from .model import Finding
from .policy import hit_effect, rewrite_text
from .providers.base import Decoded, Event, StreamCodec
from .pseudonyms import PseudonymVault
from .scan import RuleSet
from .stream_matcher import ChannelScan, Hit

TRANSCRIPT_LIMIT = 65536  # characters of reassembled text kept per stream for mitmweb


@dataclass(slots=True)
class _Channel:
    scan: ChannelScan
    rewrites: list[tuple[int, int, str]] = field(default_factory=list)  # absolute spans -> replacement
    finished: bool = False


@dataclass(slots=True)
class _Queued:
    event: Event
    decoded: Decoded | None
    spans: list[tuple[int, Hashable, int, int]]  # (delta index, channel, start, end)


class StreamGuard:
    """Scans one streamed reply. `feed` and `finish` return the byte chunks to send on."""

    def __init__(
        self,
        codec: StreamCodec,
        framer,
        ruleset: RuleSet,
        vault: PseudonymVault | None = None,
        max_holdback: int = 512,
        enforce: bool = True,
    ) -> None:
        self.codec = codec
        self.framer = framer
        self.ruleset = ruleset
        self.vault = vault
        self.max_holdback = max_holdback
        self.enforce = enforce
        self.channels: dict[Hashable, _Channel] = {}
        self.queue: deque[_Queued] = deque()
        self.findings: list[Finding] = []
        self.blocked_by: str | None = None
        self.events = 0
        self.last_event: Event | None = None
        self.text_chars = 0
        self.max_held = 0
        self.restored = 0
        self.transcript: dict[Hashable, list[str]] = {}
        # json-array streams: the codec must know what was sent to shape a valid closing error
        self._note_sent = getattr(codec, "note_sent", None) if codec.framing == "json-array" else None
        self._transcript_chars = 0

    # -- public ---------------------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """Whether the reply's final event (`[DONE]`, `message_stop`, ...) has been sent on: a client that
        closes now has had the whole reply, even if the provider's last bytes have not come yet."""
        return self.last_event is not None and not self.queue and self.codec.is_final(self.last_event)

    def feed(self, chunk: bytes) -> list[bytes]:
        if self.blocked_by is not None:
            return []
        out: list[bytes] = []
        for event in self.framer.feed(chunk):
            self._on_event(event, out)
            if self.blocked_by is not None:
                break
        return out

    def finish(self) -> list[bytes]:
        """End of stream: decide every channel, release everything left."""
        if self.blocked_by is not None:
            return []
        out: list[bytes] = []
        for event in self.framer.close():
            self._on_event(event, out)
            if self.blocked_by is not None:
                return out
        for key, channel in self.channels.items():
            if not channel.finished:
                self._push(key, channel, "", final=True)
                if self.blocked_by is not None:
                    return self._block_now(out)
        self._release(out, force=True)
        return out

    def block(self, reason: str, code: str = "llmwall_blocked") -> list[bytes]:
        """End the stream now with the provider's error event (used for internal errors when fail-closed)."""
        self.blocked_by = code
        self.queue.clear()
        return [self.codec.error_event(reason, code)]

    # -- events ---------------------------------------------------------------------------------------

    def _on_event(self, event: Event, out: list[bytes]) -> None:
        self.events += 1
        self.last_event = event
        decoded = self.codec.decode(event) if event.data is not None else None
        if decoded is None or not (decoded.deltas or decoded.summaries or decoded.ends_channels):
            if self.queue:
                self.queue.append(_Queued(event, None, []))
            else:
                out.append(event.raw)
                if self._note_sent is not None:
                    self._note_sent(event.raw)
            return
        for summary in decoded.summaries:
            channel = self.channels.get(summary.channel)
            if channel is not None and not channel.finished:
                self._push(summary.channel, channel, "", final=True)
        spans: list[tuple[int, Hashable, int, int]] = []
        for index, delta in enumerate(decoded.deltas):
            channel = self.channels.get(delta.channel)
            if channel is None:
                matcher = self.ruleset.stream_matcher(delta.role)
                channel = self.channels[delta.channel] = _Channel(matcher.channel(self.max_holdback))
            start = channel.scan.end
            self._push(delta.channel, channel, delta.text)
            spans.append((index, delta.channel, start, start + len(delta.text)))
            if self.blocked_by is not None:
                self._block_now(out)
                return
        for key in decoded.ends_channels:
            channel = self.channels.get(key)
            if channel is not None and not channel.finished:
                self._push(key, channel, "", final=True)
                channel.finished = True
                if self.blocked_by is not None:
                    self._block_now(out)
                    return
        if not self.queue and not decoded.summaries and self._sendable_as_is(spans):
            for index, key, _start, _end in spans:  # the usual event: decided at once, nothing to rewrite
                self._keep_transcript(key, decoded.deltas[index].text)
            out.append(event.raw)
            if self._note_sent is not None:
                self._note_sent(event.raw)
            return
        self.queue.append(_Queued(event, decoded, spans))
        self._release(out)

    def _sendable_as_is(self, spans: list[tuple[int, Hashable, int, int]]) -> bool:
        """Decided, and no rewrite exists on its channels: `_release` would send the original bytes, so the
        queue can be skipped."""
        if not self._decided(spans):
            return False
        channels = self.channels
        for _index, key, _start, _end in spans:
            if channels[key].rewrites:
                return False
        return True

    def _decided(self, spans: list[tuple[int, Hashable, int, int]]) -> bool:
        """All of an event's text is decided (no span reaches into a channel's held tail)."""
        channels = self.channels
        for _index, key, _start, end in spans:
            if end > channels[key].scan.decided:
                return False
        return True

    def _push(self, key: Hashable, channel: _Channel, text: str, final: bool = False) -> None:
        self.text_chars += len(text)
        hits = channel.scan.push(text, final=final)
        held = channel.scan.end - channel.scan.decided
        if held > self.max_held:
            self.max_held = held
        for hit in hits:
            self._apply(key, channel, hit)
        if channel.scan.must_block and self.enforce:
            self.blocked_by = channel.scan.suppress_rule.id if channel.scan.suppress_rule else "holdback_limit"

    def _apply(self, key: Hashable, channel: _Channel, hit: Hit) -> None:
        finding, rewrite, blocker = hit_effect(hit, self.vault, self.enforce, str(key))
        if finding is not None:
            self.findings.append(finding)
        if rewrite is not None:
            if hit.rule is None:
                self.restored += 1
            channel.rewrites.append(rewrite)
        if blocker is not None:
            self.blocked_by = blocker

    def _block_now(self, out: list[bytes]) -> list[bytes]:
        self.queue.clear()
        out.append(self.codec.error_event(f"llmwall blocked this response (rule {self.blocked_by})",
                                          "llmwall_blocked"))
        return out

    # -- release ----------------------------------------------------------------------------------------

    def _release(self, out: list[bytes], force: bool = False) -> None:
        queue = self.queue
        while queue:
            head = queue[0]
            if not force and not self._decided(head.spans):
                return
            queue.popleft()
            data = self._render(head)
            out.append(data)
            if self._note_sent is not None:
                self._note_sent(data)

    def _render(self, item: _Queued) -> bytes:
        decoded = item.decoded
        if decoded is None:
            return item.event.raw
        changed = False
        for index, key, start, _end in item.spans:
            delta = decoded.deltas[index]
            rewrites = self.channels[key].rewrites
            new_text = rewrite_text(delta.text, start, rewrites) if rewrites else delta.text
            if new_text != delta.text:
                set_at(decoded.doc, delta.path, new_text)
                changed = True
            self._keep_transcript(key, new_text)  # what the client receives, after rewrites
        for summary in decoded.summaries:
            changed |= self._rewrite_summary(decoded, summary.channel, summary.path)
        return self.codec.encode(item.event, decoded) if changed else item.event.raw

    def _rewrite_summary(self, decoded: Decoded, key: Hashable, path) -> bool:
        try:
            text = get_at(decoded.doc, path)
        except (KeyError, IndexError, TypeError):
            return False
        if not isinstance(text, str):
            return False
        channel = self.channels.get(key)
        if channel is None:  # text we never saw streamed: scan it whole
            channel = _Channel(self.ruleset.stream_matcher().channel(len(text) + 1))
            for hit in channel.scan.push(text, final=True):
                self._apply(key, channel, hit)
        if not channel.rewrites:
            return False
        new_text = rewrite_text(text, 0, channel.rewrites)
        if new_text == text:
            return False
        set_at(decoded.doc, path, new_text)
        return True

    def _keep_transcript(self, key: Hashable, text: str) -> None:
        if self._transcript_chars < TRANSCRIPT_LIMIT:
            kept = self.transcript.get(key)
            if kept is None:
                kept = self.transcript[key] = []
            kept.append(text[: TRANSCRIPT_LIMIT - self._transcript_chars])
            self._transcript_chars += len(text)
