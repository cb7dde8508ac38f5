"""parse_request / response_pieces / error_body of every wire format, on recorded and synthetic bodies."""

from __future__ import annotations

import json
from typing import Any, Callable

import anthropic
import httpx2
import openai
import pytest

from llmwall_core.jsonpath import get_at
from llmwall_core.model import ParsedRequest
from llmwall_core.providers import get_format
from tests.wire import Fixture, fixtures, params, require_wire

ROLES = {"system", "developer", "user", "assistant", "tool", "tool_definition", "tool_call", "other"}


def roles(req: ParsedRequest) -> set[str]:
    return {p.role for p in req.pieces}


def texts(req: ParsedRequest, role: str | None = None) -> list[str]:
    return [p.text for p in req.pieces if role is None or p.role == role]


def assert_paths(body: Any, req: ParsedRequest) -> None:
    """Every piece points at the JSON string it carries (so a rewrite can set it)."""
    for piece in req.pieces:
        assert piece.role in ROLES
        assert get_at(body, piece.path) == piece.text, piece


# --- recorded requests --------------------------------------------------------------------------------


def request_fixtures() -> list[Fixture]:
    seen: set[str] = set()
    out = []
    for fx in fixtures():
        if fx.format and isinstance(fx.request_body, dict) and str(fx.meta_path) not in seen:
            seen.add(str(fx.meta_path))
            out.append(fx)
    return out


# Keys whose string values a model reads; every such string in a recorded body must be extracted.
_TEXT_KEYS = {"content", "text", "prompt", "instructions", "system", "description", "arguments", "output", "thinking"}


def _must_cover(body: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, str) and value and key in _TEXT_KEYS:
                out.append(path + (key,))
            elif key not in ("safetySettings", "response_format", "text"):
                out += _must_cover(value, path + (key,))
    elif isinstance(body, list):
        for idx, value in enumerate(body):
            out += _must_cover(value, path + (idx,))
    return out


EXPECTED_ROLES = {
    "openai-chat/crewai_openai_stream_tool_call.sse": {"user", "tool_definition"},
    "openai-chat/llm_gpt4omini_text_after_tool_stream.sse": {"user", "assistant", "tool", "tool_definition"},
    "openai-chat/crewai_gpt41_stream_cached_tokens_usage.sse": {"system", "user"},
    "openai-responses/crewai_responses_text_stream.sse": {"system", "user"},
    "openai-responses/llm_responses_after_function_call_output_stream.sse": {"user", "assistant", "tool", "tool_definition"},
    "deepseek/pydantic_deepseek_responses_400_octet_stream.json": {"user", "assistant", "tool"},
    "anthropic/crewai_anthropic_cache_read_stream.sse": {"system", "user"},
    "anthropic/llm-anthropic_tools_turn2.sse": {"user", "assistant", "tool"},
    "anthropic/crewai_anthropic_text_then_tool_use_stream.sse": {"user", "tool_definition"},
    "anthropic/llm-anthropic_stop_sequence.sse": {"user", "assistant"},
    "gemini/crewai_gemini20_alt_sse_parallel_function_calls.sse": {"user", "tool_definition"},
    "gemini/crewai_gemini20exp_alt_sse_text.sse": {"user", "system"},
    "gemini/llm-gemini_stream_array_single_element.json": {"user", "tool"},
    "groq/pydantic_groq_gptoss_tool_call_x_groq_usage.sse": {"system", "user", "assistant", "tool"},
    "ollama/crewai_ollama_generate_nonstream_context.json": {"user"},
    "azure-openai/crewai_azure_gpt4omini_tool_call_stream.sse": {"user", "tool_definition"},
    "openrouter/pydantic_openrouter_responses_api_raw_cot.sse": {"user"},
    "openai-chat/crewai_openai_400_missing_param_2space_no_lf.json": {"system", "user"},
}


@pytest.mark.parametrize("fx", params(request_fixtures()))
def test_recorded_request_parses(fx: Fixture) -> None:
    require_wire()
    body = fx.request_body
    assert fx.format is not None
    req = get_format(fx.format).parse_request(fx.url_path, body)
    assert_paths(body, req)
    covered = {p.path for p in req.pieces}
    missing = [p for p in _must_cover(body) if p not in covered]
    assert not missing, missing
    # every message role with text shows up
    for msg in body.get("messages") or body.get("contents") or []:
        if isinstance(msg, dict) and isinstance(msg.get("content"), str) and msg["content"]:
            assert any(p.path[:2] == ("messages", body["messages"].index(msg)) for p in req.pieces)
    if fx.id in EXPECTED_ROLES:
        assert roles(req) == EXPECTED_ROLES[fx.id]
    if isinstance(body.get("model"), str):
        assert req.model == body["model"]
    if fx.format == "gemini":
        assert req.stream == (":streamGenerateContent" in fx.url_path)
        assert req.model and req.model in fx.url_path
    elif fx.format == "ollama":
        assert req.stream == body.get("stream", True)
    else:
        assert req.stream == (body.get("stream") is True)


def test_recorded_azure_model_from_deployment() -> None:
    require_wire()
    (fx,) = [f for f in request_fixtures() if f.id.endswith("crewai_azure_gpt4omini_text_stream.sse")]
    assert "model" not in fx.request_body
    assert get_format("openai").parse_request(fx.url_path, fx.request_body).model == "gpt-4o-mini"


# --- openai ------------------------------------------------------------------------------------------

OPENAI = get_format("openai")


def test_openai_chat_every_text_field() -> None:
    body = {
        "model": "gpt-4o",
        "stream": True,
        "messages": [
            {"role": "developer", "content": "dev rules"},
            {"role": "system", "content": [{"type": "text", "text": "sys part"}]},
            {"role": "user", "name": "alice", "content": [
                {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:..."}},
                {"type": "input_text", "text": "more"}]},
            {"role": "assistant", "content": None, "refusal": "no",
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"q\":\"x\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "result"},
            {"role": "function", "name": "f", "content": "legacy result"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "description": "finds things", "parameters": {
            "type": "object", "properties": {"q": {"type": "string", "description": "query"},
                                              "description": {"type": "object", "properties": {
                                                  "deep": {"type": "string", "description": "nested"}}}}}}}],
    }
    req = OPENAI.parse_request("/v1/chat/completions", body)
    assert_paths(body, req)
    assert req.model == "gpt-4o" and req.stream
    assert texts(req, "developer") == ["dev rules"]
    assert texts(req, "system") == ["sys part"]
    assert texts(req, "user") == ["hi", "more", "alice"]
    assert texts(req, "assistant") == ["no", '{"q":"x"}']
    assert texts(req, "tool") == ["result", "legacy result", "f"]
    assert texts(req, "tool_definition") == ["finds things", "query", "nested"]


@pytest.mark.parametrize("path", [
    "/v1/chat/completions",
    "/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
    "/openai/v1/chat/completions",
    "/api/v1/chat/completions",
    "/chat/completions",
])
def test_openai_chat_paths(path: str) -> None:
    req = OPENAI.parse_request(path, {"messages": [{"role": "user", "content": "x"}]})
    assert texts(req, "user") == ["x"]
    if "deployments" in path:
        assert req.model == "my-gpt"


def test_openai_responses_request() -> None:
    body = {
        "model": "gpt-5", "instructions": "be brief", "stream": True,
        "input": [
            {"role": "user", "content": "plain"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "part"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "earlier"}]},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{\"a\":1}"},
            {"type": "function_call_output", "call_id": "c", "output": "42"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thought"}]},
        ],
        "tools": [{"type": "function", "name": "f", "description": "adds", "parameters": {
            "properties": {"a": {"type": "integer", "description": "first"}}}}, {"type": "web_search"}],
    }
    req = OPENAI.parse_request("/v1/responses", body)
    assert_paths(body, req)
    assert req.stream and req.model == "gpt-5"
    assert texts(req, "system") == ["be brief"]
    assert texts(req, "user") == ["plain", "part"]
    assert texts(req, "assistant") == ["earlier", '{"a":1}', "thought"]
    assert texts(req, "tool") == ["42"]
    assert texts(req, "tool_definition") == ["adds", "first"]
    assert texts(OPENAI.parse_request("/v1/responses", {"input": "just text"}), "user") == ["just text"]


def test_openai_completions_embeddings_and_others() -> None:
    req = OPENAI.parse_request("/v1/completions", {"prompt": ["a", "b", [1, 2]], "model": "m"})
    assert texts(req, "user") == ["a", "b"]
    assert texts(OPENAI.parse_request("/v1/completions", {"prompt": "p"})) == ["p"]
    req = OPENAI.parse_request("/v1/embeddings", {"input": ["x", [1, 2, 3], "y"]})
    assert texts(req, "user") == ["x", "y"]
    assert texts(OPENAI.parse_request("/v1/embeddings", {"input": [1, 2, 3]})) == []
    assert texts(OPENAI.parse_request("/v1/moderations", {"input": "m"})) == ["m"]
    assert texts(OPENAI.parse_request("/v1/images/generations", {"prompt": "cat"})) == ["cat"]
    # unknown gateway path: judged by the body
    assert texts(OPENAI.parse_request("/gw/x", {"messages": [{"role": "user", "content": "q"}]})) == ["q"]


@pytest.mark.parametrize("body", [[], "x", {"messages": "nope"}, {"messages": [1]}, {"input": 5, "instructions": "i"}])
def test_openai_bad_bodies(body: Any) -> None:
    path = "/v1/responses" if isinstance(body, dict) and "input" in body else "/v1/chat/completions"
    with pytest.raises(ValueError):
        OPENAI.parse_request(path, body)


# --- anthropic --------------------------------------------------------------------------------------

ANTHROPIC = get_format("anthropic")


def test_anthropic_every_text_field() -> None:
    body = {
        "model": "claude", "stream": True,
        "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "q"},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc body"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {"city": "Paris", "n": 1, "tags": ["a"]}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "cloudy"}]}]},
        ],
        "tools": [{"name": "f", "description": "weather", "input_schema": {
            "type": "object", "properties": {"city": {"type": "string", "description": "a city"}}}}],
    }
    req = ANTHROPIC.parse_request("/v1/messages?beta=true", body)
    assert_paths(body, req)
    assert req.stream and req.model == "claude"
    assert texts(req, "system") == ["sys"]
    assert texts(req, "user") == ["q", "doc body"]
    assert texts(req, "assistant") == ["hmm", "Paris", "a"]
    assert texts(req, "tool") == ["sunny", "cloudy"]
    assert texts(req, "tool_definition") == ["weather", "a city"]


def test_anthropic_other_endpoints() -> None:
    req = ANTHROPIC.parse_request("/v1/messages/count_tokens", {"system": "s", "messages": [{"role": "user", "content": "u"}]})
    assert texts(req) == ["s", "u"] and not req.stream
    assert texts(ANTHROPIC.parse_request("/v1/complete", {"prompt": "\n\nHuman: hi\n\nAssistant:"}), "user")
    batch = {"requests": [{"custom_id": "a", "params": {"messages": [{"role": "user", "content": "b1"}]}}]}
    req = ANTHROPIC.parse_request("/v1/messages/batches", batch)
    assert_paths(batch, req)
    assert texts(req) == ["b1"]
    with pytest.raises(ValueError):
        ANTHROPIC.parse_request("/v1/messages", {"messages": {}})


# --- gemini ---------------------------------------------------------------------------------------------

GEMINI = get_format("gemini")


def test_gemini_every_text_field() -> None:
    body = {
        "system_instruction": {"parts": [{"text": "sys"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "q"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"city": "Rome", "deep": {"x": ["y"]}}}}]},
            {"role": "function", "parts": [{"functionResponse": {"name": "f", "response": {"out": "warm"}}}]},
            {"role": "model", "parts": [{"text": "It is warm", "thoughtSignature": "sig"}]},
        ],
        "tools": [{"functionDeclarations": [{"name": "f", "description": "weather", "parameters": {
            "type": "OBJECT", "properties": {"city": {"type": "STRING", "description": "the city"}}}}]}],
    }
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    req = GEMINI.parse_request(path, body)
    assert_paths(body, req)
    assert req.model == "gemini-2.5-flash" and req.stream
    assert texts(req, "system") == ["sys"]
    assert texts(req, "user") == ["q"]
    assert texts(req, "assistant") == ["Rome", "y", "It is warm"]
    assert texts(req, "tool") == ["warm"]
    assert texts(req, "tool_definition") == ["weather", "the city"]


@pytest.mark.parametrize(("path", "model", "stream"), [
    ("/v1beta/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash", False),
    ("/v1/models/gemini-pro:streamGenerateContent", "gemini-pro", True),
    ("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
     "gemini-2.5-pro", True),
])
def test_gemini_model_and_stream_from_path(path: str, model: str, stream: bool) -> None:
    req = GEMINI.parse_request(path, {"contents": [{"parts": [{"text": "x"}]}], "systemInstruction": {"parts": [{"text": "s"}]}})
    assert (req.model, req.stream) == (model, stream)
    assert [(p.role, p.text) for p in req.pieces] == [("user", "x"), ("system", "s")]


def test_gemini_embed_and_bad_body() -> None:
    req = GEMINI.parse_request("/v1beta/models/text-embedding-004:embedContent", {"content": {"parts": [{"text": "e"}]}})
    assert texts(req, "user") == ["e"]
    with pytest.raises(ValueError):
        GEMINI.parse_request("/v1beta/models/x:generateContent", {"contents": {"parts": []}})


# --- ollama ----------------------------------------------------------------------------------------------

OLLAMA = get_format("ollama")


def test_ollama_chat_generate_and_default_stream() -> None:
    body = {"model": "llama3.2", "messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "u"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "content": "cold"}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "weather"}}]}
    req = OLLAMA.parse_request("/api/chat", body)
    assert_paths(body, req)
    assert req.stream and req.model == "llama3.2"
    assert [(p.role, p.text) for p in req.pieces] == [
        ("system", "s"), ("user", "u"), ("assistant", "Oslo"), ("tool", "cold"), ("tool_definition", "weather")]
    gen = OLLAMA.parse_request("/api/generate", {"model": "m", "prompt": "p", "system": "s", "stream": False})
    assert not gen.stream and [(p.role, p.text) for p in gen.pieces] == [("system", "s"), ("user", "p")]
    assert OLLAMA.parse_request("/api/generate", {"prompt": "p"}).stream
    assert not OLLAMA.parse_request("/api/embed", {"input": ["a"]}).stream


def test_ollama_openai_compatible_paths_delegate() -> None:
    req = OLLAMA.parse_request("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]})
    assert not req.stream and texts(req) == ["x"]
    assert type(OLLAMA.stream_codec("/v1/chat/completions", "text/event-stream")).__name__ == "ChatCodec"


# --- non-streamed replies --------------------------------------------------------------------------------

REPLY_CASES: dict[str, tuple[str, str, Callable[[Any], set[tuple[str, str]]]]] = {}


@pytest.mark.parametrize(("name", "fmt", "path", "want_roles"), [
    ("openai-chat/llm_nonstream_tool_call.json", "openai", "/v1/chat/completions", {"tool_call"}),
    ("azure-openai/crewai_azure_gpt4o_nonstream_content_filters.json", "openai", "/openai/deployments/x/chat/completions", {"assistant"}),
    ("openai-responses/llm_responses_nonstream.json", "openai", "/v1/responses", {"assistant"}),
    ("openai-responses/llm_responses_nonstream_encrypted_reasoning.json", "openai", "/v1/responses", None),
    ("azure-openai/crewai_azure_responses_nonstream_content_filters.json", "openai", "/openai/v1/responses", {"assistant"}),
    ("anthropic/crewai_anthropic_nonstream_message.json", "anthropic", "/v1/messages", {"assistant"}),
    ("gemini/crewai_gemini3pro_generate_nonstream.json", "gemini", "/v1beta/models/g:generateContent", {"assistant"}),
    ("gemini/pydantic_gemini25pro_max_tokens_no_parts_reserialized.json", "gemini", "/v1beta/models/g:generateContent", set()),
    ("gemini/pydantic_gemini_safety_block_reserialized.json", "gemini", "/v1beta/models/g:generateContent", set()),
    ("ollama/crewai_ollama_generate_nonstream_context.json", "ollama", "/api/generate", {"assistant"}),
])
def test_recorded_nonstream_replies(name: str, fmt: str, path: str, want_roles: set[str] | None) -> None:
    require_wire()
    from tests.wire import WIRE

    body = json.loads((WIRE / name).read_bytes())
    pieces = get_format(fmt).response_pieces(path, body)
    for piece in pieces:
        assert get_at(body, piece.path) == piece.text
    if want_roles is not None:
        assert {p.role for p in pieces} == want_roles
    if want_roles:
        assert all(p.text for p in pieces)


def test_reply_pieces_synthetic() -> None:
    chat = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": "nope",
                                                   "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}}]}
    assert [(p.role, p.text) for p in OPENAI.response_pieces("/v1/chat/completions", chat)] == [
        ("assistant", "hi"), ("assistant", "nope"), ("tool_call", "{}")]
    resp = {"output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]},
                       {"type": "function_call", "arguments": "{\"x\":1}"}], "output_text": "a"}
    assert [(p.role, p.text) for p in OPENAI.response_pieces("/v1/responses", resp)] == [
        ("assistant", "a"), ("tool_call", '{"x":1}'), ("assistant", "a")]
    msg = {"content": [{"type": "thinking", "thinking": "t"}, {"type": "text", "text": "x"},
                       {"type": "tool_use", "input": {"q": "v"}}]}
    assert [(p.role, p.text) for p in ANTHROPIC.response_pieces("/v1/messages", msg)] == [
        ("assistant", "t"), ("assistant", "x"), ("tool_call", "v")]
    gem = {"candidates": [{"content": {"parts": [{"text": "g"}, {"functionCall": {"name": "f", "args": {"a": "b"}}}]}}]}
    assert [(p.role, p.text) for p in GEMINI.response_pieces("/x:generateContent", gem)] == [
        ("assistant", "g"), ("tool_call", "b")]
    oll = {"message": {"content": "c", "thinking": "t", "tool_calls": [{"function": {"arguments": {"k": "v"}}}]}}
    assert [(p.role, p.text) for p in OLLAMA.response_pieces("/api/chat", oll)] == [
        ("assistant", "c"), ("assistant", "t"), ("tool_call", "v")]
    assert OPENAI.response_pieces("/v1/chat/completions", "not json") == []


# --- error bodies -----------------------------------------------------------------------------------------


def _mock_client(status: int, body: bytes) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers={"content-type": "application/json"})

    return httpx2.Client(transport=httpx2.MockTransport(handler))


@pytest.mark.parametrize(("status", "cls"), [(403, openai.PermissionDeniedError), (429, openai.RateLimitError),
                                              (400, openai.BadRequestError)])
def test_openai_error_body_with_real_sdk(status: int, cls: type[openai.APIStatusError]) -> None:
    body = OPENAI.error_body(status, "blocked by policy", "llmwall_blocked")
    client = openai.OpenAI(api_key="k", base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=_mock_client(status, body))
    with pytest.raises(cls) as info:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert info.value.message.endswith("blocked by policy") or "blocked by policy" in info.value.message
    assert info.value.code == "llmwall_blocked"
    assert info.value.type == "invalid_request_error"


@pytest.mark.parametrize(("status", "cls", "kind"), [
    (403, anthropic.PermissionDeniedError, "permission_error"),
    (429, anthropic.RateLimitError, "rate_limit_error"),
    (400, anthropic.BadRequestError, "invalid_request_error"),
])
def test_anthropic_error_body_with_real_sdk(status: int, cls: type[anthropic.APIStatusError], kind: str) -> None:
    body = ANTHROPIC.error_body(status, "blocked by policy", "llmwall_blocked")
    assert json.loads(body) == {"type": "error", "error": {"type": kind, "message": "blocked by policy"}}
    client = anthropic.Anthropic(api_key="k", max_retries=0, http_client=_mock_client(status, body))
    with pytest.raises(cls) as info:
        client.messages.create(model="claude", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert "blocked by policy" in str(info.value)


def test_gemini_and_ollama_error_bodies() -> None:
    err = json.loads(GEMINI.error_body(403, "blocked", "llmwall_blocked"))["error"]
    assert (err["code"], err["message"], err["status"]) == (403, "blocked", "PERMISSION_DENIED")
    assert json.loads(GEMINI.error_body(429, "m", "c"))["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert json.loads(GEMINI.error_body(400, "m", "c"))["error"]["status"] == "INVALID_ARGUMENT"
    assert json.loads(OLLAMA.error_body(403, "blocked", "c")) == {"error": "blocked"}


def test_error_bodies_have_the_recorded_shapes() -> None:
    require_wire()
    from tests.wire import WIRE

    recorded = {
        "openai": WIRE / "openai-chat/crewai_openai_404_model_not_found_4space.json",
        "anthropic": WIRE / "anthropic/pydantic_anthropic_400_invalid_request_reserialized.json",
        "gemini": WIRE / "gemini/crewai_gemini_429_resource_exhausted.json",
        "ollama": WIRE / "ollama/ollama_docs_error_body.json",
    }

    def keys(doc: Any) -> Any:
        return {k: keys(v) if isinstance(v, dict) else None for k, v in doc.items()}

    for fmt, path in recorded.items():
        ours = keys(json.loads(get_format(fmt).error_body(403, "m", "c")))
        theirs = keys(json.loads(path.read_bytes()))
        theirs.pop("request_id", None)
        if fmt == "gemini":
            assert set(theirs["error"]) <= set(ours["error"])
        else:
            assert ours == theirs, fmt


def test_endpoints_without_prompt_text_parse_empty() -> None:
    assert get_format("ollama").parse_request("/api/pull", {"model": "llama3.2"}).pieces == []
    assert get_format("ollama").parse_request("/api/chat", {"model": "llama3.2"}).pieces == []
    assert ANTHROPIC.parse_request("/v1/messages/batches/b1/cancel", {}).pieces == []
    assert OPENAI.parse_request("/v1/files/f1", {"purpose": "x"}).pieces == []
