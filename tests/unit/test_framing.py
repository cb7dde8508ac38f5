"""Framers: exact byte reproduction for any chunking, WHATWG SSE parsing, NDJSON, streamed JSON arrays."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmwall_core.framing import (
    FramingError,
    JSONArrayFramer,
    NDJSONFramer,
    SSEFramer,
    make_framer,
    reframe_json_array,
    reframe_ndjson,
    reframe_sse,
)
from llmwall_core.providers.base import Event
from tests.wire import Fixture, params, require_wire, stream_fixtures


def frame(framing: str, chunks: list[bytes], **kw: int) -> list[Event]:
    f = make_framer(framing, **kw)
    out: list[Event] = []
    for chunk in chunks:
        out += f.feed(chunk)
    return out + f.close()


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(points)), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


# --- every recorded stream ------------------------------------------------------------------------


@pytest.mark.parametrize("fx", params(stream_fixtures()))
def test_fixture_one_chunk_and_bytewise(fx: Fixture) -> None:
    require_wire()
    assert fx.framing is not None
    whole = frame(fx.framing, [fx.body])
    assert b"".join(e.raw for e in whole) == fx.body
    assert frame(fx.framing, bytewise(fx.body)) == whole
    with_data = [e for e in whole if e.data is not None]
    expected = (fx.meta.get("analysis") or {}).get("json_array_elements")
    if fx.framing == "json-array":
        assert len(with_data) == expected
        assert [json.loads(e.data) for e in with_data] == json.loads(fx.body)  # type: ignore[arg-type]
    if fx.framing == "ndjson":
        assert len(with_data) == len([ln for ln in fx.body.splitlines() if ln.strip()])


@pytest.mark.parametrize("fx", params(stream_fixtures()))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fixture_random_chunkings(fx: Fixture, data: st.DataObject) -> None:
    require_wire()
    assert fx.framing is not None
    body = fx.body
    points = data.draw(st.lists(st.integers(0, len(body)), max_size=60))
    events = frame(fx.framing, cut(body, points))
    assert b"".join(e.raw for e in events) == body
    assert events == frame(fx.framing, [body])


@pytest.mark.parametrize("fx", params(stream_fixtures()))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fixture_event_aligned_chunkings(fx: Fixture, data: st.DataObject) -> None:
    """Chunks that end where events end (what providers send) take the SSE fast path: same events."""
    require_wire()
    assert fx.framing is not None
    whole = frame(fx.framing, [fx.body])
    ends, at = [], 0
    for event in whole:
        at += len(event.raw)
        ends.append(at)
    points = data.draw(st.lists(st.sampled_from(ends), max_size=len(ends))) if ends else []
    assert frame(fx.framing, cut(fx.body, points)) == whole


def test_sse_fast_path_only_for_plain_data_events() -> None:
    from llmwall_core.framing import _simple_events

    got = _simple_events(b'data: {"a":1}\n\ndata: [DONE]\n\n')
    assert [(e.raw, e.name, e.data) for e in got or []] == [
        (b'data: {"a":1}\n\n', None, '{"a":1}'), (b"data: [DONE]\n\n", None, "[DONE]")]
    for other in (b"data: a\r\n\r\n", b"event: x\ndata: a\n\n", b": ping\n\n", b"data: a\n\ndata: b",
                  b"data: a\ndata: b\n\n", b"data:a\n\n", b"\n\n"):
        assert _simple_events(other) is None, other


def test_sse_fast_path_waits_for_a_partial_event_and_the_first_line() -> None:
    f = SSEFramer()
    assert [e.data for e in f.feed(b"\xef\xbb\xbfdata: one\n\n")] == ["one"]  # BOM: general parser
    assert f.feed(b"data: tw") == []
    assert [e.data for e in f.feed(b"o\n\n")] == ["two"]  # the buffered half is not lost
    assert [e.data for e in f.feed(b"data: three\n\n")] == ["three"]


def test_sse_event_counts_match_recorder_analysis() -> None:
    require_wire()
    for fx in stream_fixtures():
        analysis = fx.meta.get("analysis") or {}
        if fx.framing == "sse" and analysis.get("comment_lines", 0) == 0 and "lines_not_sse_fields" in analysis:
            events = frame("sse", [fx.body])
            assert len([e for e in events if e.data is not None]) <= analysis["sse_events"], fx.id
            assert len(events) == analysis["sse_events"], fx.id


# --- SSE per WHATWG -------------------------------------------------------------------------------


def test_sse_fields_and_joined_data() -> None:
    data = b"event: ping\nid: 7\nretry: 10\ndata: a\ndata:  b\ndata\ndata:c\n\n"
    (ev,) = frame("sse", [data])
    assert ev == Event(raw=data, name="ping", data="a\n b\n\nc")


def test_sse_line_endings_crlf_and_lone_cr() -> None:
    data = b"data: one\r\n\r\ndata: two\r\rdata: three\n\n"
    events = frame("sse", [data])
    assert [e.data for e in events] == ["one", "two", "three"]
    assert [e.raw for e in events] == [b"data: one\r\n\r\n", b"data: two\r\r", b"data: three\n\n"]


def test_sse_cr_at_chunk_end_waits_for_lf() -> None:
    f = SSEFramer()
    assert f.feed(b"data: x\r") == []
    assert f.feed(b"\n\r") == []
    (ev,) = f.feed(b"\ndata: y\n")
    assert ev.raw == b"data: x\r\n\r\n" and ev.data == "x"
    (last,) = f.close()
    assert last.raw == b"data: y\n" and last.data == "y"


def test_sse_trailing_lone_cr_flushed_on_close() -> None:
    f = SSEFramer()
    assert f.feed(b"data: x\r\r") == []  # the second CR may still be the start of CRLF
    (ev,) = f.feed(b"\n")
    assert ev.raw == b"data: x\r\r\n"
    f1 = SSEFramer()
    f1.feed(b"data: x\r\r")
    assert f1.close() == [Event(raw=b"data: x\r\r", data="x")]
    f2 = SSEFramer()
    assert f2.feed(b"data: x\r") == []
    (ev2,) = f2.close()
    assert ev2 == Event(raw=b"data: x\r", data="x")


def test_sse_comments_and_stray_blank_lines() -> None:
    data = b": OPENROUTER PROCESSING\n\n\n\ndata: {}\n\n"
    events = frame("sse", [data])
    assert [e.raw for e in events] == [b": OPENROUTER PROCESSING\n\n", b"\n", b"\n", b"data: {}\n\n"]
    assert [e.data for e in events] == [None, None, None, "{}"]


def test_sse_only_one_space_is_stripped_and_field_without_colon() -> None:
    (ev,) = frame("sse", [b"data:   x\nevent\n\n"])
    assert ev.data == "  x" and ev.name == ""


def test_sse_utf8_split_across_chunks() -> None:
    data = "data: héllo 👋\n\n".encode()
    assert frame("sse", bytewise(data))[0].data == "héllo 👋"


def test_sse_invalid_utf8_is_replaced_not_raised() -> None:
    (ev,) = frame("sse", [b"data: \xff\xfe ok\n\n"])
    assert ev.data == "\ufffd\ufffd ok"


def test_sse_unterminated_last_event_flushed() -> None:
    events = frame("sse", [b"data: a\n\nevent: e\ndata: b"])
    assert events[-1] == Event(raw=b"event: e\ndata: b", name="e", data="b")


def test_sse_bom_is_ignored_for_parsing_but_kept() -> None:
    (ev,) = frame("sse", [b"\xef\xbb\xbfdata: x\n\n"])
    assert ev.data == "x" and ev.raw.startswith(b"\xef\xbb\xbf")


def test_sse_leading_space_field_is_not_data() -> None:
    (ev,) = frame("sse", [b" data: x\n\n"])  # WHATWG: the field name is " data"
    assert ev.data is None


def test_sse_max_event_bytes() -> None:
    f = SSEFramer(max_event_bytes=16)
    f.feed(b"data: 0123\n\n")  # complete events do not count
    with pytest.raises(FramingError):
        f.feed(b"data: " + b"x" * 20)


# --- synthetic SSE streams against a reference parser ---------------------------------------------

_EOLS = st.sampled_from([b"\n", b"\r\n", b"\r"])
_VALUE = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12)


@st.composite
def sse_streams(draw: st.DrawFn) -> bytes:
    out = b""
    for _ in range(draw(st.integers(0, 6))):
        for _ in range(draw(st.integers(0, 4))):
            field = draw(st.sampled_from([b"data", b"event", b"id", b"retry", b":", b"data"]))
            sep = draw(st.sampled_from([b": ", b":", b":  "]))
            out += field + sep + draw(_VALUE).encode() + draw(_EOLS)
        out += draw(_EOLS)
    return out


def reference_sse(text: str) -> list[tuple[str | None, str | None]]:
    """WHATWG dispatch on a complete stream (comment/empty blocks kept as (None, None))."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[tuple[str | None, str | None]] = []
    name: str | None = None
    data: list[str] = []
    for idx, line in enumerate(lines):
        if idx == len(lines) - 1:
            if line or data or name is not None:
                out.append((name, "\n".join(data) if data else None))
            break
        if not line:
            out.append((name, "\n".join(data) if data else None))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "data":
            data.append(value)
        elif key == "event":
            name = value
    return out


@settings(max_examples=300, deadline=None)
@given(sse_streams(), st.data())
def test_sse_random_streams(stream: bytes, data: st.DataObject) -> None:
    points = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    events = frame("sse", cut(stream, points))
    assert b"".join(e.raw for e in events) == stream
    assert events == frame("sse", [stream])
    got = [(e.name, e.data) for e in events]
    assert [g for g in got if g != (None, None)] == [r for r in reference_sse(stream.decode()) if r != (None, None)]


# --- NDJSON -----------------------------------------------------------------------------------------


def test_ndjson_lines_blank_lines_crlf_and_unterminated_tail() -> None:
    data = b'{"a":1}\r\n\n{"b":2}\n{"c":3}'
    events = frame("ndjson", [data])
    assert [e.raw for e in events] == [b'{"a":1}\r\n', b"\n", b'{"b":2}\n', b'{"c":3}']
    assert [e.data for e in events] == ['{"a":1}', None, '{"b":2}', '{"c":3}']
    assert frame("ndjson", bytewise(data)) == events


def test_ndjson_max_event_bytes() -> None:
    f = NDJSONFramer(max_event_bytes=8)
    assert len(f.feed(b"1234567\n")) == 1
    with pytest.raises(FramingError):
        f.feed(b"123456789")


# --- streamed JSON array ------------------------------------------------------------------------------

GEMINI_LIKE = b'[{\n  "a": "x]}\\"{["\n}\n,\r\n{\n  "b": [1, {"c": "\\\\"}]\n}\n]'


def test_json_array_elements_prefixes_and_closing_bracket() -> None:
    events = frame("json-array", [GEMINI_LIKE])
    assert b"".join(e.raw for e in events) == GEMINI_LIKE
    assert [e.raw[:3] for e in events] == [b"[{\n", b"\n,\r", b"\n]"]
    assert [json.loads(e.data) for e in events[:2]] == json.loads(GEMINI_LIKE)  # type: ignore[arg-type]
    assert events[2].data is None
    assert frame("json-array", bytewise(GEMINI_LIKE)) == events


def test_json_array_element_emitted_before_separator_arrives() -> None:
    f = JSONArrayFramer()
    (ev,) = f.feed(b'[{"a": 1}')
    assert ev.raw == b'[{"a": 1}' and ev.data == '{"a": 1}'
    (ev,) = f.feed(b'\n,\r\n{"b": 2}')
    assert ev.raw == b'\n,\r\n{"b": 2}'
    (end,) = f.feed(b"\n]")
    assert end == Event(raw=b"\n]")
    assert f.feed(b"\n") == []
    assert f.close() == [Event(raw=b"\n")]


def test_json_array_scalars_and_bare_object() -> None:
    events = frame("json-array", [b'[1, "s\\"]", true]'])
    assert [e.data for e in events] == ["1", '"s\\"]"', "true", None]
    (obj,) = frame("json-array", [b'{\n  "error": {"code": 400}\n}\n'])[:1]
    assert json.loads(obj.data) == {"error": {"code": 400}}  # type: ignore[arg-type]


def test_json_array_truncated_stream_flushed_without_data() -> None:
    events = frame("json-array", [b'[{"a": 1},{"b": '])
    assert events[-1] == Event(raw=b',{"b": ')


def test_json_array_max_event_bytes() -> None:
    f = JSONArrayFramer(max_event_bytes=32)
    f.feed(b'[{"a": "' + b"x" * 10 + b'"}')
    with pytest.raises(FramingError):
        f.feed(b',{"b": "' + b"y" * 40)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                          lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                          max_leaves=8).filter(lambda v: isinstance(v, (dict, list, str))), max_size=5),
    st.sampled_from([",", "\n,\r\n", " , "]),
    st.data(),
)
def test_json_array_random_documents(elements: list[object], sep: str, data: st.DataObject) -> None:
    body = ("[" + sep.join(json.dumps(e, indent=data.draw(st.sampled_from([None, 2]))) for e in elements) + "]").encode()
    points = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    events = frame("json-array", cut(body, points))
    assert b"".join(e.raw for e in events) == body
    assert [json.loads(e.data) for e in events if e.data is not None] == elements


def test_make_framer_unknown() -> None:
    with pytest.raises(ValueError):
        make_framer("xml")


# --- re-framing -----------------------------------------------------------------------------------------


def test_reframe_sse_keeps_event_line_comments_and_line_endings() -> None:
    raw = b"event: content_block_delta\r\n: note\r\ndata: {\"a\":1}      \r\ndata: more\r\n\r\n"
    new = reframe_sse(raw, '{"a":2}')
    assert new == b"event: content_block_delta\r\n: note\r\ndata: {\"a\":2}\r\n\r\n"
    (ev,) = frame("sse", [new])
    assert ev.name == "content_block_delta" and ev.data == '{"a":2}'


def test_reframe_sse_multiline_data_and_unterminated() -> None:
    assert reframe_sse(b"data: x", "a\nb") == b"data: a\ndata: b"
    assert reframe_sse(b"event: e\n\n", "{}") == b"event: e\ndata: {}\n\n"


def test_reframe_ndjson_and_json_array() -> None:
    assert reframe_ndjson(b'{"a":1}\r\n', '{"a":2}') == b'{"a":2}\r\n'
    assert reframe_ndjson(b'{"a":1}', '{"a":2}') == b'{"a":2}'
    assert reframe_json_array(b'[{\n "a": 1\n}', '{\n "a": 1\n}', '{"a":2}') == b'[{"a":2}'
    assert reframe_json_array(b'\n,\r\n{"a": 1}', '{"a": 1}', '{"a":2}') == b'\n,\r\n{"a":2}'
