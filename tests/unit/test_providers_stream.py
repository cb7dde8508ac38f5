"""Stream codecs: recorded streams decode to the right per-channel text, edits re-encode to valid framing,
error events are what the SDKs understand."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Hashable, Iterator

import anthropic
import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmwall_core.framing import make_framer
from llmwall_core.jsonpath import get_at, set_at
from llmwall_core.providers import get_format
from llmwall_core.providers.base import Decoded, Event, StreamCodec
from tests.wire import Fixture, params, require_wire, stream_fixtures

MARK = "«edited✓»"


def codec_for(fx: Fixture) -> StreamCodec:
    assert fx.format is not None and fx.framing is not None
    if fx.format == "ollama":
        ct = "application/x-ndjson"
    elif fx.framing == "json-array":
        ct = "application/json; charset=UTF-8"
    else:  # SSE, and SSE payloads whose framing the recorder stripped
        ct = "text/event-stream"
    codec = get_format(fx.format).stream_codec(fx.url_path, ct)
    assert codec is not None, fx.id
    return codec


def wire_events(fx: Fixture) -> list[Event]:
    """Events as the guard sees them; payload-only transcripts are re-wrapped as `data:` events."""
    if fx.payloads_only or (fx.framing == "ndjson" and fx.format != "ollama"):
        return [Event(raw=b"data: " + ln + b"\n\n", data=ln.decode()) for ln in fx.body.splitlines() if ln.strip()]
    assert fx.framing is not None
    framer = make_framer(fx.framing)
    return framer.feed(fx.body) + framer.close()


def codec_fixtures() -> list[Fixture]:
    return [fx for fx in stream_fixtures() if fx.format is not None]


# --- independent reading of the recorded payloads ---------------------------------------------------------


def naive_payloads(fx: Fixture) -> list[Any]:
    """The JSON payloads of a transcript, read without the framers."""
    if fx.framing == "json-array":
        return list(json.loads(fx.body))
    if fx.framing == "ndjson":
        return [json.loads(ln) for ln in fx.body.splitlines() if ln.strip()]
    out = []
    for block in fx.body.decode().replace("\r\n", "\n").split("\n\n"):
        data = [ln[5:].removeprefix(" ") for ln in block.split("\n") if ln.startswith("data:")]
        if data and data != ["[DONE]"]:
            try:
                out.append(json.loads("\n".join(data)))
            except ValueError:
                pass
    return out


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def expected_channels(fx: Fixture) -> dict[Hashable, str]:
    exp: dict[Hashable, str] = defaultdict(str)
    url = fx.url_path
    for doc in naive_payloads(fx):
        if not isinstance(doc, dict):
            continue
        if fx.format == "anthropic":
            if doc.get("type") == "content_block_delta":
                d = doc["delta"]
                field = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json",
                         "compaction_delta": "content"}.get(d["type"])
                if field:
                    exp[f"block{doc['index']}"] += d[field] or ""
        elif fx.format == "gemini":
            for n, cand in enumerate(doc.get("candidates", [])):
                c = cand.get("index", n)
                for part in cand.get("content", {}).get("parts", []):
                    if "text" in part:
                        exp[f"thought{c}" if part.get("thought") else f"cand{c}"] += part["text"]
                    call = part.get("functionCall", {})
                    exp[f"tool{c}"] += "".join(_strings(call.get("args", {})))
                    exp[f"tool{c}"] += "".join(pa.get("stringValue", "") for pa in call.get("partialArgs", []))
        elif fx.format == "ollama":
            msg = doc.get("message", {})
            exp["content"] += msg.get("content", "") + doc.get("response", "")
            exp["thinking"] += msg.get("thinking", "") + doc.get("thinking", "")
            for j, call in enumerate(msg.get("tool_calls", [])):
                exp[f"tool{j}"] += "".join(_strings(call["function"]["arguments"]))
        elif "/responses" in url:
            kind = doc.get("type", "")
            oi, ci = doc.get("output_index", 0), doc.get("content_index", 0)
            if kind in ("response.output_text.delta", "response.reasoning_text.delta", "response.refusal.delta"):
                exp[(oi, ci)] += doc["delta"]
            elif kind == "response.reasoning_summary_text.delta":
                exp[(oi, "summary", doc["summary_index"])] += doc["delta"]
            elif kind == "response.function_call_arguments.delta":
                exp[(oi, "args")] += doc["delta"]
        else:
            for choice in doc.get("choices") or []:
                i = choice.get("index", 0)
                delta = choice.get("delta") or {}
                content = delta.get("content")
                if isinstance(content, str):
                    exp[f"choice{i}"] += content
                for chunk in content if isinstance(content, list) else []:
                    if chunk.get("type") == "thinking":
                        exp[f"reasoning{i}"] += "".join(t["text"] for t in chunk["thinking"])
                    else:
                        exp[f"choice{i}"] += chunk.get("text", "")
                exp[f"refusal{i}"] += delta.get("refusal") or ""
                exp[f"reasoning{i}"] += (delta.get("reasoning_content") or "") + (delta.get("reasoning") or "")
                exp[f"reasoning_details{i}"] += "".join(d.get("text") or "" for d in delta.get("reasoning_details") or [])
                for n, call in enumerate(delta.get("tool_calls") or []):
                    exp[f"tool{i}:{call.get('index', n)}"] += (call.get("function") or {}).get("arguments") or ""
    return {k: v for k, v in exp.items() if v}


def decode_all(codec: StreamCodec, events: list[Event]) -> list[tuple[Event, Decoded | None]]:
    return [(ev, codec.decode(ev)) for ev in events]


# --- recorded streams ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fx", params(codec_fixtures()))
def test_recorded_stream_channels(fx: Fixture) -> None:
    require_wire()
    codec = codec_for(fx)
    got: dict[Hashable, str] = defaultdict(str)
    ended: list[Hashable] = []
    for ev, dec in decode_all(codec, wire_events(fx)):
        if dec is None:
            continue
        for delta in dec.deltas:
            assert get_at(dec.doc, delta.path) == delta.text
            assert delta.role in ("assistant", "tool_call")
            got[delta.channel] += delta.text
        for summary in dec.summaries:
            assert isinstance(get_at(dec.doc, summary.path), str)
        ended += dec.ends_channels
    assert dict(got) == expected_channels(fx)
    assert len(ended) == len(set(ended)), "a channel ends at most once"


@pytest.mark.parametrize("fx", params([fx for fx in codec_fixtures() if "/responses" in fx.url_path]))
def test_responses_summaries_repeat_the_streamed_text(fx: Fixture) -> None:
    """Every `.done` / `output_item.done` / `response.completed` text equals what the deltas streamed."""
    require_wire()
    codec = codec_for(fx)
    sent: dict[Hashable, str] = defaultdict(str)
    checked = 0
    resumed = "starting_after" in fx.url_path
    for _, dec in decode_all(codec, wire_events(fx)):
        if dec is None:
            continue
        for delta in dec.deltas:
            sent[delta.channel] += delta.text
        for summary in dec.summaries:
            if summary.channel in sent and not resumed:
                assert get_at(dec.doc, summary.path) == sent[summary.channel], summary
                checked += 1
    assert checked or resumed or not sent


def test_recorded_spot_checks() -> None:
    require_wire()
    by_id = {fx.id: fx for fx in codec_fixtures()}

    def channels(name: str) -> dict[Hashable, str]:
        fx = by_id[name]
        out: dict[Hashable, str] = defaultdict(str)
        for _, dec in decode_all(codec_for(fx), wire_events(fx)):
            for d in dec.deltas if dec else []:
                out[d.channel] += d.text
        return out

    n3 = channels("openai-chat/openaipy_gpt4o_n3_multiple_choices.sse")
    assert sorted(n3) == ["choice0", "choice1", "choice2"] and all(json.loads(v)["city"] for v in n3.values())
    tools = channels("openai-chat/openaipy_gpt4o_parallel_tool_calls.sse")
    assert [json.loads(tools[k]) for k in ("tool0:0", "tool0:1")][1] == {"ticker": "AAPL", "exchange": "NASDAQ"}
    assert channels("openai-chat/openaipy_gpt4o_refusal_structured_output.sse")["refusal0"].startswith("I'm sorry")
    assert json.loads(channels("anthropic/crewai_anthropic_text_then_tool_use_stream.sse")["block1"]) == {"city": "San Francisco"}
    assert channels("mistral/pydantic_magistral_thinking_content_array.sse")["reasoning0"].startswith("Okay")
    assert channels("gemini/vercel_vertex_gemini31_partial_args_payloads.jsonl")["tool0"] == "BostonSan Francisco"
    assert channels("ollama/ollama_docs_chat_stream_tool_call_compacted.ndjson")["tool0"] == "Tokyo"
    cot = channels("openrouter/pydantic_openrouter_responses_api_raw_cot.sse")
    assert cot[(1, 0)] == "4" and cot[(0, 0)].startswith("The user asks")


@pytest.mark.parametrize("fx", params(codec_fixtures()))
def test_encode_after_edit_reframes_exactly(fx: Fixture) -> None:
    """Change one delta per event; the re-encoded stream frames the same way and carries the change."""
    require_wire()
    codec = codec_for(fx)
    events = wire_events(fx)
    out: list[bytes] = []
    edited = 0
    for ev, dec in decode_all(codec, events):
        if dec is None or not dec.deltas or edited >= 5:
            out.append(ev.raw)
            continue
        delta = dec.deltas[0]
        set_at(dec.doc, delta.path, delta.text + MARK)
        new = codec.encode(ev, dec)
        re_ev = _frame_one(codec.framing, new)
        assert re_ev.name == ev.name and re_ev.data is not None
        assert json.loads(re_ev.data) == dec.doc
        assert get_at(json.loads(re_ev.data), delta.path) == delta.text + MARK
        assert (b"\r\n" in new) == (b"\r\n" in ev.raw)  # same line-ending style
        redec = type(codec)(*_codec_args(codec)).decode(re_ev)
        assert redec is not None and redec.deltas[0].text == delta.text + MARK
        out.append(new)
        edited += 1
    assert edited or not expected_channels(fx)
    stream = b"".join(out)
    reframed = make_framer(codec.framing)
    new_events = reframed.feed(stream) + reframed.close()
    assert b"".join(e.raw for e in new_events) == stream
    assert len([e for e in new_events if e.data]) == len([e for e in events if e.data])
    if fx.framing == "json-array":
        assert len(json.loads(stream)) == len(json.loads(fx.body))  # still one valid JSON array


def _frame_one(framing: str, raw: bytes) -> Event:
    framer = make_framer(framing)
    events = [e for e in framer.feed(raw) + framer.close() if e.data is not None]
    assert len(events) == 1, events
    return events[0]


def _codec_args(codec: StreamCodec) -> tuple[Any, ...]:
    return (codec.framing,) if type(codec).__name__ == "GeminiCodec" else ()


# --- fast rejects and robustness ------------------------------------------------------------------------------

ALL_CODECS = [
    ("openai", "/v1/chat/completions", "text/event-stream"),
    ("openai", "/v1/responses", "text/event-stream"),
    ("anthropic", "/v1/messages", "text/event-stream"),
    ("gemini", "/v1beta/models/g:streamGenerateContent?alt=sse", "text/event-stream"),
    ("gemini", "/v1beta/models/g:streamGenerateContent", "application/json"),
    ("ollama", "/api/chat", "application/x-ndjson"),
]


def _codec(spec: tuple[str, str, str]) -> StreamCodec:
    codec = get_format(spec[0]).stream_codec(spec[1], spec[2])
    assert codec is not None
    return codec


@pytest.mark.parametrize("spec", ALL_CODECS, ids=lambda s: f"{s[0]}:{s[1]}")
@settings(max_examples=200, deadline=None)
@given(data=st.one_of(st.none(), st.text(max_size=60),
                      st.sampled_from(['{"delta"', '{"choices":[{"delta":{"content":5}}]}', '{"candidates":"x"}',
                                       '{"type":"content_block_delta","delta":"x"}', "[DONE]", '"delta"', "[1,2]",
                                       '{"type":"response.output_text.delta","delta":7}', '{"message":[]}'])),
       name=st.one_of(st.none(), st.sampled_from(["content_block_delta", "response.output_text.delta", "ping"])))
def test_decode_never_raises(spec: tuple[str, str, str], data: str | None, name: str | None) -> None:
    codec = _codec(spec)
    dec = codec.decode(Event(raw=b"data: x\n\n", name=name, data=data))
    if dec is not None:
        assert all(isinstance(d.text, str) and d.text for d in dec.deltas)


def test_events_without_text_are_rejected() -> None:
    chat = _codec(ALL_CODECS[0])
    assert chat.decode(Event(raw=b"data: [DONE]\n\n", data="[DONE]")) is None
    assert chat.decode(Event(raw=b"", data='{"choices":[],"usage":{"total_tokens":3}}')) is None
    anth = _codec(ALL_CODECS[2])
    assert anth.decode(Event(raw=b"", name="ping", data='{"type": "ping"}')) is None
    assert anth.decode(Event(raw=b"", name="message_start", data='{"type":"message_start","message":{}}')) is None
    assert anth.decode(Event(raw=b"", name="content_block_delta", data='{"type":"content_block_delta",')) is None


def test_stream_codec_selection() -> None:
    oa = get_format("openai")
    assert type(oa.stream_codec("/v1/chat/completions", "text/event-stream; charset=utf-8")).__name__ == "ChatCodec"
    assert type(oa.stream_codec("/v1/responses/resp_1?stream=true", "text/event-stream")).__name__ == "ResponsesCodec"
    assert oa.stream_codec("/v1/chat/completions", "application/json") is None
    gem = get_format("gemini")
    assert gem.stream_codec("/v1beta/models/g:streamGenerateContent", "application/json").framing == "json-array"  # type: ignore[union-attr]
    assert gem.stream_codec("/v1beta/models/g:generateContent", "application/json") is None
    assert get_format("ollama").stream_codec("/api/chat", "application/json") is None


def test_anthropic_open_blocks_end_at_message_delta() -> None:
    """max_tokens mid tool input: no content_block_stop, the block still ends."""
    codec = _codec(ALL_CODECS[2])
    start = '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}'
    codec.decode(Event(raw=b"", name="content_block_start", data=start))
    delta = '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a"}}'
    dec = codec.decode(Event(raw=b"", name="content_block_delta", data=delta))
    assert dec is not None and dec.deltas[0].role == "tool_call" and dec.deltas[0].channel == "block1"
    end = codec.decode(Event(raw=b"", name="message_delta", data='{"type":"message_delta","delta":{}}'))
    assert end is not None and end.ends_channels == ["block1"]


def test_chat_channels_end_at_done_without_finish_reason() -> None:
    codec = _codec(ALL_CODECS[0])
    codec.decode(Event(raw=b"", data='{"choices":[{"index":0,"delta":{"content":"hi"}}]}'))
    dec = codec.decode(Event(raw=b"data: [DONE]\n\n", data="[DONE]"))
    assert dec is not None and dec.deltas == [] and dec.ends_channels == ["choice0"]


# --- error events ------------------------------------------------------------------------------------------------


def _sse_client_stream(body: bytes) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def test_openai_chat_error_event_raises_in_sdk() -> None:
    codec = _codec(ALL_CODECS[0])
    first = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n'
    body = first + codec.error_event("blocked by policy", "llmwall_blocked")
    client = openai.OpenAI(api_key="k", max_retries=0, http_client=_sse_client_stream(body))
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert info.value.message == "blocked by policy"
    assert (info.value.body or {})["code"] == "llmwall_blocked"  # type: ignore[index]


def test_openai_responses_error_event_is_a_typed_error_event() -> None:
    codec = _codec(ALL_CODECS[1])
    ev = _frame_one("sse", codec.error_event("blocked", "llmwall_blocked"))
    assert ev.name == "error"
    assert json.loads(ev.data or "") == {"type": "error", "code": "llmwall_blocked", "message": "blocked",
                                          "param": None, "sequence_number": 0}
    client = openai.OpenAI(api_key="k", max_retries=0, http_client=_sse_client_stream(ev.raw))
    events = list(client.responses.create(model="m", input="x", stream=True))
    assert events[0].type == "error" and events[0].message == "blocked"  # type: ignore[union-attr]


def test_anthropic_error_event_raises_in_sdk() -> None:
    codec = _codec(ALL_CODECS[2])
    start = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant",'
             b'"content":[],"model":"c","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n')
    client = anthropic.Anthropic(api_key="k", max_retries=0,
                                 http_client=_sse_client_stream(start + codec.error_event("blocked by policy", "x")))
    stream = client.messages.create(model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}], stream=True)
    with pytest.raises(anthropic.APIStatusError) as info:
        for _ in stream:
            pass
    assert "blocked by policy" in str(info.value)


def test_gemini_error_events() -> None:
    sse = _codec(ALL_CODECS[3])
    raw = sse.error_event("blocked", "llmwall_blocked")
    assert raw.endswith(b"\r\n\r\n")
    err = json.loads(_frame_one("sse", raw).data or "")["error"]
    assert (err["code"], err["status"], err["message"]) == (403, "PERMISSION_DENIED", "blocked")

    body = b'[{"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}\n,\r\n{"candidates": []}\n]'
    arr = _codec(ALL_CODECS[4])
    framer = make_framer("json-array")
    events = framer.feed(body[:-2])  # the guard stops before the closing bracket
    for ev in events:
        arr.decode(ev)
    whole = json.loads(b"".join(e.raw for e in events) + arr.error_event("blocked", "c"))
    assert whole[-1]["error"]["status"] == "PERMISSION_DENIED" and len(whole) == 3
    assert json.loads(_codec(ALL_CODECS[4]).error_event("blocked", "c"))[0]["error"]["code"] == 403
    closed = _codec(ALL_CODECS[4])
    for ev in make_framer("json-array").feed(body):
        closed.decode(ev)
    assert closed.error_event("blocked", "c") == b""  # nothing valid can follow `]`


def test_gemini_json_array_error_event_follows_what_was_sent() -> None:
    body = b'[{"candidates": [{"content": {"parts": [{"text": "A"}]}}]}\n,\r\n{"candidates": []}\n]'
    first, second, end = make_framer("json-array").feed(body)
    # blocked on the first element: the guard drops it, nothing was sent
    codec = _codec(ALL_CODECS[4])
    codec.decode(first)
    assert json.loads(codec.error_event("b", "c"))[0]["error"]["message"] == "b"
    # blocked on the second element: the first (with the `[`) went out
    codec.decode(second)
    assert len(json.loads(first.raw + codec.error_event("b", "c"))) == 2
    # told exactly what was forwarded
    exact = _codec(ALL_CODECS[4])
    for ev in (first, second):
        exact.decode(ev)
    exact.note_sent(b"[")  # type: ignore[attr-defined]
    assert json.loads(b"[" + exact.error_event("b", "c"))[0]["error"]["code"] == 403
    exact.note_sent(first.raw[1:])  # type: ignore[attr-defined]
    assert len(json.loads(first.raw + exact.error_event("b", "c"))) == 2
    exact.note_sent(second.raw)  # type: ignore[attr-defined]
    exact.note_sent(end.raw)  # type: ignore[attr-defined]
    assert exact.error_event("b", "c") == b""


def test_ollama_error_event() -> None:
    codec = _codec(ALL_CODECS[5])
    raw = codec.error_event("blocked", "c")
    assert raw == b'{"error":"blocked"}\n'
    assert json.loads(_frame_one("ndjson", raw).data or "") == {"error": "blocked"}


@pytest.mark.parametrize("spec", ALL_CODECS, ids=lambda s: f"{s[0]}:{s[1]}")
def test_error_events_frame_as_one_event(spec: tuple[str, str, str]) -> None:
    codec = _codec(spec)
    raw = codec.error_event('quote " and newline \n and ünïcode', "code")
    if codec.framing == "json-array":
        assert json.loads(raw)[0]["error"]["message"].startswith("quote")
    else:
        ev = _frame_one(codec.framing, raw)
        assert "quote" in json.dumps(json.loads(ev.data or ""), ensure_ascii=False)


# --- synthetic shapes the recordings do not cover ------------------------------------------------------------


def _sse(name: str | None, doc: Any) -> Event:
    data = json.dumps(doc)
    head = f"event: {name}\n" if name else ""
    return Event(raw=f"{head}data: {data}\n\n".encode(), name=name, data=data)


@pytest.mark.parametrize("named", [True, False], ids=["openai", "openrouter-no-event-lines"])
def test_responses_channels_and_summaries(named: bool) -> None:
    codec = _codec(ALL_CODECS[1])

    def dec(doc: dict[str, Any]) -> Decoded | None:
        return codec.decode(_sse(doc["type"] if named else None, doc))

    d = dec({"type": "response.reasoning_summary_text.delta", "output_index": 0, "summary_index": 1, "delta": "plan"})
    assert d is not None and (d.deltas[0].channel, d.deltas[0].path) == ((0, "summary", 1), ("delta",))
    d = dec({"type": "response.output_text.delta", "output_index": 1, "content_index": 0, "delta": "Hi"})
    assert d is not None and d.deltas[0].channel == (1, 0) and d.deltas[0].role == "assistant"
    d = dec({"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{}"})
    assert d is not None and d.deltas[0].channel == (2, "args") and d.deltas[0].role == "tool_call"
    d = dec({"type": "response.reasoning_summary_part.done", "output_index": 0, "summary_index": 1,
             "part": {"type": "summary_text", "text": "plan"}})
    assert d is not None and [(s.channel, s.path) for s in d.summaries] == [((0, "summary", 1), ("part", "text"))]
    d = dec({"type": "response.output_item.done", "output_index": 1, "item": {
        "type": "message", "content": [{"type": "output_text", "text": "Hi"}, {"type": "refusal", "refusal": "no"}]}})
    assert d is not None and [(s.channel, s.path) for s in d.summaries] == [
        ((1, 0), ("item", "content", 0, "text")), ((1, 1), ("item", "content", 1, "refusal"))]
    d = dec({"type": "response.completed", "response": {"output_text": "Hi", "output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "plan"}]},
        {"type": "message", "content": [{"type": "output_text", "text": "Hi"}]},
        {"type": "function_call", "arguments": "{}"}]}})
    assert d is not None
    assert [(s.channel, s.path) for s in d.summaries] == [
        ((0, "summary", 0), ("response", "output", 0, "summary", 0, "text")),
        ((0, "summary", 1), ("response", "output", 0, "summary", 1, "text")),
        ((1, 0), ("response", "output", 1, "content", 0, "text")),
        ((2, "args"), ("response", "output", 2, "arguments")),
        ((1, 0), ("response", "output_text")),
    ]
    assert (2, "args") in d.ends_channels and (1, 0) not in d.ends_channels  # (1, 0) already ended
    assert dec({"type": "response.created", "response": {}}) is None


def test_chat_legacy_completions_stream_and_encode() -> None:
    codec = _codec(ALL_CODECS[0])
    ev = _sse(None, {"choices": [{"index": 0, "text": "Once", "finish_reason": None}]})
    d = codec.decode(ev)
    assert d is not None and d.deltas[0].channel == "choice0" and d.deltas[0].path == ("choices", 0, "text")
    set_at(d.doc, d.deltas[0].path, "Twice")
    assert codec.encode(ev, d) == b'data: {"choices":[{"index":0,"text":"Twice","finish_reason":null}]}\n\n'


def test_anthropic_block_start_text_and_padded_json_encode() -> None:
    codec = _codec(ALL_CODECS[2])
    raw = b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Hi"}}   \n\n'
    ev = _frame_one("sse", raw)
    d = codec.decode(ev)
    assert d is not None and d.deltas[0].path == ("content_block", "text")
    set_at(d.doc, d.deltas[0].path, "Yo")
    assert codec.encode(ev, d) == (b'event: content_block_start\n'
                                   b'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":"Yo"}}\n\n')


def test_gemini_error_body_on_sse_url_passes_through() -> None:
    require_wire()
    from tests.wire import WIRE

    body = (WIRE / "gemini/crewai_gemini_stream_400_api_key_invalid_not_sse.json").read_bytes()
    codec = _codec(ALL_CODECS[3])
    framer = make_framer("sse")
    events = framer.feed(body) + framer.close()
    assert b"".join(e.raw for e in events) == body
    assert all(codec.decode(e) is None for e in events)
