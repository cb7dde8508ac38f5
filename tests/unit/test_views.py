"""Content views render recorded provider flows."""

import json
from pathlib import Path

import pytest
from mitmproxy import contentviews
from mitmproxy.test import tflow, tutils

from llmwall_addon.views import VIEWS

WIRE = Path(__file__).resolve().parents[3] / "shared" / "wire"


@pytest.fixture(autouse=True)
def registered():
    from mitmproxy.test import taddons

    for view in VIEWS:
        contentviews.add(view)
    with taddons.context():  # contentviews read ctx.options
        yield


def provider_flow(host: str, path: str, request: dict, response: bytes, content_type: str):
    flow = tflow.tflow(resp=True)
    flow.request.host = host
    flow.request.path = path
    flow.request.method = "POST"
    flow.request.content = json.dumps(request).encode()
    flow.response = tutils.tresp(content=response)
    flow.response.headers["content-type"] = content_type
    return flow


def test_request_view_shows_conversation_by_role():
    flow = provider_flow(
        "api.openai.com", "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be terse."},
                                         {"role": "user", "content": "Hi there"}],
         "tools": [{"type": "function", "function": {"name": "f", "description": "Looks things up"}}]},
        b"{}", "application/json",
    )
    result = contentviews.prettify_message(flow.request, flow)
    assert result.view_name == "LLM request"
    assert "[system] Be terse." in result.text and "[user] Hi there" in result.text
    assert "Looks things up" in result.text and "model: gpt-4o" in result.text


def test_non_provider_flow_keeps_default_views():
    flow = provider_flow("example.com", "/x", {"a": 1}, b"{}", "application/json")
    assert contentviews.prettify_message(flow.request, flow).view_name != "LLM request"


@pytest.mark.skipif(not WIRE.exists(), reason="../shared/wire not present")
@pytest.mark.parametrize(
    "host, path, fixture, expected",
    [
        ("api.openai.com", "/v1/chat/completions", "openai-chat/openaipy_gpt4o_n3_multiple_choices.sse", "choice"),
        ("api.anthropic.com", "/v1/messages", "anthropic/llm-anthropic_text_haiku45.sse", None),
    ],
)
def test_stream_view_reassembles_recorded_streams(host, path, fixture, expected):
    body = (WIRE / fixture).read_bytes()
    flow = provider_flow(host, path, {"model": "m", "messages": [], "stream": True}, body, "text/event-stream")
    result = contentviews.prettify_message(flow.response, flow)
    assert result.view_name == "LLM stream"
    assert "channel(s)" in result.text and "==" in result.text
    if expected:
        assert expected in result.text
