"""The provider's side of a WebSocket session: the events that complete a text or a tool call go through the
output rules; deltas do not."""

import json

import pytest

from llmwall_core.policy import inspect_server_message
from llmwall_core.pseudonyms import PseudonymVault
from llmwall_core.realtime import reply_pieces

SECRET = "ghp_" + "Zx9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz9Xc2"  # GitHub PAT shape, not a real token
DANGEROUS = json.dumps({"command": "rm -rf / --no-preserve-root"})


def server(rules, event, vault=None):
    return inspect_server_message(rules, json.dumps(event).encode(), vault or PseudonymVault())


@pytest.mark.parametrize("event, where", [
    ({"type": "response.output_text.done", "text": "hi"}, [("assistant", ("text",))]),
    ({"type": "response.audio_transcript.done", "transcript": "hi"}, [("assistant", ("transcript",))]),
    ({"type": "response.function_call_arguments.done", "arguments": "{}"}, [("tool_call", ("arguments",))]),
    ({"type": "response.done", "response": {"output": [
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]},
        {"type": "function_call", "name": "sh", "arguments": "{}"}]}},
     [("assistant", ("response", "output", 0, "content", 0, "text")), ("tool_call", ("response", "output", 1, "arguments"))]),
    ({"toolCall": {"functionCalls": [{"name": "sh", "args": {"command": "ls"}}]}},
     [("tool_call", ("toolCall", "functionCalls", 0, "args", "command"))]),
    ({"type": "response.output_text.delta", "delta": "hi"}, []),
])
def test_completing_events_and_their_pieces(event, where):
    assert [(p.role, p.path) for p in reply_pieces(event)] == where


def test_a_dangerous_tool_call_is_blocked(rules):
    verdict = server(rules, {"type": "response.function_call_arguments.done", "call_id": "c1", "arguments": DANGEROUS})
    assert verdict.blocked and "tool-rm-rf-root" in verdict.blocked_by


def test_a_dangerous_call_inside_response_done_is_blocked(rules):
    event = {"type": "response.done", "response": {"output": [{"type": "function_call", "arguments": DANGEROUS}]}}
    assert server(rules, event).blocked


def test_a_secret_in_a_completed_text_is_redacted_and_placeholders_restored(rules):
    vault = PseudonymVault()
    placeholder = vault.placeholder("EMAIL", "bob@example.org")
    verdict = server(rules, {"type": "response.output_text.done", "text": f"Sent {SECRET} to {placeholder}."}, vault)
    assert json.loads(verdict.body)["text"] == "Sent [REDACTED:github-token] to bob@example.org."


def test_deltas_and_other_events_are_not_judged(rules):
    assert server(rules, {"type": "response.output_text.delta", "delta": SECRET}) is None
    assert server(rules, {"type": "session.updated", "session": {"instructions": SECRET}}) is None
