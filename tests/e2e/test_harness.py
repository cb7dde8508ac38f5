"""The e2e harness itself, through a bare mitmdump (routing addon only, no llmwall).

These prove that clients configured as users configure them really go through mitmdump to the fake
provider with the provider's Host and SNI, that every wire format arrives intact, and that the ordering
(unbuffered streaming) check can fail: through a buffering proxy it times out and records the failure.
"""

from __future__ import annotations

import json
import socket

import httpx2
import openai
import pytest
import requests

from tests.e2e.harness import anthropic_client, curl, ephemeral_port_range, free_ports, openai_client
from tests.fakeprovider import WIRE_DIR, Reply, ToolCall, iter_acks


def _delta_text(chunk) -> str | None:
    return chunk.choices[0].delta.content if chunk.choices else None


# (a) -----------------------------------------------------------------------------------------------------
def test_openai_sdk_chat_completion_goes_through_proxy(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    fake.script(text=["Hi", " there"])
    client = openai_client()
    out = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    assert out.choices[0].message.content == "Hi there"

    req = fake.requests[-1]
    assert req.host == "api.openai.com"
    assert req.sni == "api.openai.com"
    assert req.tls and req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.json["messages"][0]["content"] == "hello"
    assert req.header("authorization") == "Bearer sk-test"
    # the proxy saw it (route_to_fake's flow log), and it went to the fake over loopback
    resp = [f for f in bare_proxy.flows("response") if f["path"] == "/v1/chat/completions"][-1]
    assert resp["host"] == "api.openai.com" and resp["status"] == 200
    assert resp["server_address"] == ["api.openai.com", 443]
    assert resp["peername"] == ["127.0.0.1", fake.tls_port]
    assert resp["sni"] == "api.openai.com"
    assert bare_proxy.addon_errors() == []


def test_openai_sdk_reuses_the_upstream_connection(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    client = openai_client()
    for _ in range(2):
        out = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        assert out.choices[0].message.content == "Hello from the fake provider."
    first, second = fake.requests[-2:]
    assert first.conn_id == second.conn_id


def test_openai_stream_echoes_placeholders_split_across_deltas(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    stream = openai_client().chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "mail <EMAIL_1> please"}]
    )
    deltas = [d for d in map(_delta_text, stream) if d]
    assert "".join(deltas) == "Hello from the fake provider. You said <EMAIL_1>."
    assert "<EMAIL_1>" not in deltas[-2] and "<EMAIL_1>" not in deltas[-1]


def test_openai_stream_tool_call_fragments(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    fake.script(text=[], tool_calls=[ToolCall("get_weather", ['{"ci', 'ty": "Pa', 'ris"}'])])
    stream = openai_client().chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "weather?"}]
    )
    args, name, finish = "", None, None
    for chunk in stream:
        if not chunk.choices:
            continue
        for tc in chunk.choices[0].delta.tool_calls or []:
            name = tc.function.name or name
            args += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert (name, json.loads(args), finish) == ("get_weather", {"city": "Paris"}, "tool_calls")


def test_openai_responses_stream(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    fake.script(text=["Bon", "jour"])
    events = list(openai_client().responses.create(model="gpt-5", input="hi", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == ["Bon", "jour"]
    assert events[-1].response.output_text == "Bonjour"


# (b) -----------------------------------------------------------------------------------------------------
def test_anthropic_sdk_stream_yields_scripted_deltas(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    fake.script(text=["The ", "answer", " is 42."])
    client = anthropic_client()
    with client.messages.stream(model="claude-x", max_tokens=50,
                                messages=[{"role": "user", "content": "q"}]) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert texts == ["The ", "answer", " is 42."]
    assert final.stop_reason == "end_turn"
    req = fake.requests[-1]
    assert (req.host, req.sni, req.path) == ("api.anthropic.com", "api.anthropic.com", "/v1/messages")
    # anthropic SDK 2.x sends the key as `Authorization: Bearer`, older ones as `x-api-key`
    assert "sk-ant-test" in (req.header("x-api-key") or req.header("authorization") or "")


def test_anthropic_sdk_tool_use_stream(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    fake.script(text=["Let me check."], tool_calls=[ToolCall("lookup", ['{"q":', ' "x"}'])])
    with anthropic_client().messages.stream(model="c", max_tokens=50,
                                            messages=[{"role": "user", "content": "q"}]) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].text == "Let me check."
    assert (final.content[1].name, final.content[1].input) == ("lookup", {"q": "x"})


# (c) -----------------------------------------------------------------------------------------------------
def test_curl_gets_gemini_sse_stream(bare_proxy, fake):
    fake.script(text=["Par", "is"])
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    res = curl(bare_proxy, url, data={"contents": [{"parts": [{"text": "capital of France?"}]}]})
    assert res.returncode == 0, res.stderr
    events = [e for e in res.stdout.split(b"\r\n\r\n") if e]
    assert len(events) == 2 and all(e.startswith(b"data: ") for e in events)
    parsed = [json.loads(e[len(b"data: "):]) for e in events]
    assert [p["candidates"][0]["content"]["parts"][0]["text"] for p in parsed] == ["Par", "is"]
    assert parsed[-1]["candidates"][0]["finishReason"] == "STOP"
    req = fake.requests[-1]
    assert (req.host, req.sni) == ("generativelanguage.googleapis.com", "generativelanguage.googleapis.com")


def test_curl_gets_gemini_json_array_stream(bare_proxy, fake):
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    res = curl(bare_proxy, url, data={"contents": [{"parts": [{"text": "hi"}]}]})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b"[{") and b"\n,\r\n{" in res.stdout and res.stdout.endswith(b"\n]")
    texts = [c["candidates"][0]["content"]["parts"][0]["text"] for c in json.loads(res.stdout)]
    assert "".join(texts) == "Hello from the fake provider."


def test_requests_non_llm_host_and_ollama_over_plain_http(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    r = requests.get("https://example.com/some/page?x=1", timeout=30)
    assert r.json() == {"ok": True, "path": "/some/page?x=1", "host": "example.com", "method": "GET"}
    r = requests.post("http://localhost:11434/api/chat", json={"model": "llama3", "messages": []}, timeout=30)
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert "".join(x["message"]["content"] for x in lines) == "Hello from the fake provider."
    assert lines[-1]["done"] is True
    req = fake.requests[-1]
    assert (req.host, req.tls) == ("localhost:11434", False)


def test_unrouted_hosts_are_refused(bare_proxy, fake):
    res = curl(bare_proxy, "https://not-a-test-host.invalid/")
    assert res.returncode != 0
    assert fake.requests == []


def test_recorded_fixture_replays_through_proxy(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    if not WIRE_DIR.is_dir():
        pytest.skip(f"{WIRE_DIR} (recorded provider responses) is not available")
    fake.script(Reply.fixture("openai-chat/openaipy_gpt4o_parallel_tool_calls.sse"))
    stream = openai_client().chat.completions.create(
        model="gpt-4o", stream=True, messages=[{"role": "user", "content": "x"}]
    )
    names = {tc.function.name for ch in stream if ch.choices for tc in ch.choices[0].delta.tool_calls or []
             if tc.function and tc.function.name}
    assert names  # the recorded parallel tool calls arrive intact


def test_gzip_stream_is_decoded_by_the_client(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    fake.script(text=["zip", "ped"], content_encoding="gzip")
    stream = openai_client().chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "x"}]
    )
    assert "".join(d for d in map(_delta_text, stream) if d) == "zipped"


def test_disconnect_mid_stream_reaches_the_client(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    reply = fake.script(text=["a", "b", "c"], disconnect_after=2)
    seen: list[str] = []
    # a buffering proxy turns the broken upstream into a 502; a streaming one breaks the client's stream
    with pytest.raises((openai.APIError, httpx2.HTTPError)):
        stream = openai_client().chat.completions.create(
            model="m", stream=True, messages=[{"role": "user", "content": "x"}]
        )
        for chunk in stream:
            seen.append(_delta_text(chunk) or "")
    assert reply.served.wait(10)
    assert "c" not in seen


# (d) -----------------------------------------------------------------------------------------------------
def _gated_openai_stream(fake, texts, gate_timeout):
    reply = fake.script(text=texts, gated=True, gate_timeout=gate_timeout)
    stream = openai_client().chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": "x"}]
    )
    got = [d for d in map(_delta_text, iter_acks(fake, stream, lambda ch: bool(_delta_text(ch)))) if d]
    assert reply.served.wait(10)
    return reply, got


def test_gated_stream_passes_through_streaming_mitmdump(proxy_factory, fake, monkeypatch):
    streaming = proxy_factory(llmwall=False, sets=["stream_large_bodies=1"])
    streaming.use_env(monkeypatch)
    texts = ["one", " two", " three", " four"]
    reply, got = _gated_openai_stream(fake, texts, gate_timeout=10.0)
    assert got == texts
    assert reply.gate_timed_out is None and reply.gates_passed == len(texts)
    assert fake.take_failures() == []


def test_gated_stream_deadlocks_through_buffering_mitmdump(bare_proxy, fake, monkeypatch):
    bare_proxy.use_env(monkeypatch)
    texts = ["one", " two", " three"]
    reply, got = _gated_openai_stream(fake, texts, gate_timeout=1.0)
    assert got == texts  # everything arrives, but only after the server gave up waiting
    assert reply.gate_timed_out == 0 and reply.gates_passed == 0
    failures = fake.take_failures()
    assert len(failures) == 1 and failures[0].startswith("gate 0:")


# (e) -----------------------------------------------------------------------------------------------------
def test_reverse_mode_reaches_the_fake(proxy_factory, fake, monkeypatch):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    rev = proxy_factory(llmwall=False, mode="reverse:https://api.openai.com")
    fake.script(text=["rev", "erse"])
    client = openai_client(base_url=f"{rev.url}/v1")
    stream = client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "x"}])
    assert "".join(d for d in map(_delta_text, stream) if d) == "reverse"
    req = fake.requests[-1]
    assert (req.host, req.sni, req.path) == ("api.openai.com", "api.openai.com", "/v1/chat/completions")
    assert rev.flows("response")[-1]["peername"] == ["127.0.0.1", fake.tls_port]


# upstream TLS really is verified (test CA + original SNI) -----------------------------------------------
def test_upstream_tls_is_verified_against_the_test_ca(proxy_factory, fake, tmp_path):
    from tests.fakeprovider import make_certs

    other_ca = make_certs(tmp_path / "other").ca_cert
    untrusting = proxy_factory(llmwall=False, sets=[f"ssl_verify_upstream_trusted_ca={other_ca}"])
    res = curl(untrusting, "https://api.openai.com/v1/models")
    assert res.returncode != 0
    assert b"certificate verify failed" in res.stdout.lower()  # mitmproxy's 502 page names the TLS error
    assert fake.requests == []


def test_upstream_tls_checks_the_host_name(proxy_factory, fake):
    # nocert.example.net is routed to the fake, whose certificate does not name it
    p = proxy_factory(llmwall=False, sets=["route_hosts=api.openai.com", "route_hosts=nocert.example.net"])
    assert curl(p, "https://api.openai.com/v1/models").returncode == 0
    res = curl(p, "https://nocert.example.net/")
    assert res.returncode != 0 and b"certificate verify failed" in res.stdout.lower()
    assert [r.host for r in fake.requests] == ["api.openai.com"]


def test_free_ports_are_distinct_bindable_and_below_the_ephemeral_port_range():
    # below the range the kernel gives outgoing connections, a chosen port cannot be taken by one before the
    # server binds it (a CI run once lost a restarted mitmdump's metrics port that way)
    low, _high = ephemeral_port_range()
    ports = free_ports(8)
    assert len(set(ports)) == 8
    assert all(1024 <= port < low for port in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
