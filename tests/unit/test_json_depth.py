"""Pathologically deep JSON gets a clear refusal (fail closed) instead of a recursion crash in the walks."""

import json

import pytest

from llmwall_core.policy import UnreadableBody, decode_json, json_depth


def nested(depth: int) -> str:
    inner = '"leaf"'
    for _ in range(depth):
        inner = '{"description": "x", "a": [' + inner + "]}"
    return inner


def test_json_depth_counts_containers_without_recursion() -> None:
    assert json_depth("text", 10) == 0
    assert json_depth({"a": [1, {"b": {}}]}, 10) == 4
    assert json_depth(json.loads(nested(3000)), 10_000) == 6000  # far past Python's recursion limit


def test_a_body_nested_past_the_limit_is_refused_with_the_option_named() -> None:
    body = ('{"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "f", '
            '"parameters": ' + nested(100) + "}}]}").encode()
    with pytest.raises(UnreadableBody, match="llmwall_max_json_depth"):
        decode_json(body, max_depth=128)
    assert decode_json(body, max_depth=1000)["model"] == "m"


async def test_the_addon_refuses_a_deep_request_in_the_providers_error_shape(tmp_path) -> None:
    from mitmproxy.test import taddons

    from llmwall_addon.guard import LLMWall
    from tests.unit.test_addon import chat_flow, send

    addon = LLMWall()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llmwall_metrics_port=0, llmwall_reload_interval=0, llmwall_max_json_depth=16)
        flow = chat_flow("hello")
        doc = json.loads(flow.request.content)
        doc["tools"] = [{"type": "function", "function": {"name": "f", "parameters": json.loads(nested(20))}}]
        flow.request.content = json.dumps(doc).encode()
        await send(addon, flow)
        assert flow.response is not None and flow.response.status_code == 400
        error = json.loads(flow.response.content)["error"]
        assert "llmwall_max_json_depth" in error["message"] and error["code"] == "llmwall_unscannable"


@pytest.mark.parametrize("fail", ["closed", "open"])
async def test_a_deep_reply_follows_llmwall_fail(fail) -> None:
    from mitmproxy.test import taddons, tutils

    from llmwall_addon.guard import LLMWall
    from tests.unit.test_addon import chat_flow, send

    addon = LLMWall()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llmwall_metrics_port=0, llmwall_reload_interval=0, llmwall_max_json_depth=16,
                       llmwall_fail=fail)
        flow = await send(addon, chat_flow("hello"))
        reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
                 "extra": json.loads(nested(20))}
        flow.response = tutils.tresp(content=json.dumps(reply).encode())
        flow.response.headers["content-type"] = "application/json"
        addon.responseheaders(flow)
        await addon.response(flow)
        assert "reply not scanned" in flow.comment and "llmwall_max_json_depth" in flow.comment
        if fail == "closed":
            assert flow.response.status_code == 502
            assert "llmwall_max_json_depth" in json.loads(flow.response.content)["error"]["message"]
        else:
            assert flow.response.status_code == 200 and json.loads(flow.response.content) == reply
