"""Stream a chat completion through llmwall with requests (stream=True, iter_lines), parsing SSE by hand.

    scripts/examples/run requests-py "Say hello"

Environment, as a user sets it:
    OPENAI_API_KEY      the provider key (llmwall passes it through)
    HTTPS_PROXY         http://llmwall-host:8080 (regular proxy mode); requests reads it, and NO_PROXY
    REQUESTS_CA_BUNDLE  mitmproxy's CA (~/.mitmproxy/mitmproxy-ca-cert.pem); requests ignores SSL_CERT_FILE
    OPENAI_BASE_URL     optional, reverse mode: http://llmwall-host:8080/v1 (then no proxy and no CA)
    OPENAI_MODEL        optional, default gpt-4o-mini
"""

from __future__ import annotations

import json
import os
import sys

import requests

# (connect, read): the read timeout is the longest silence between two chunks of the stream, so it must be
# longer than the model's longest pause (a reasoning model can think for minutes before its first token).
TIMEOUT = (10, 600)


def main() -> int:
    prompt = sys.argv[1] if len(sys.argv) > 1 else "Say hello in five words."
    base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        print("set OPENAI_API_KEY", file=sys.stderr)
        return 2
    body = {"model": os.environ.get("OPENAI_MODEL", "gpt-4o-mini"), "stream": True,
            "messages": [{"role": "user", "content": prompt}]}
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    # requests has no retries unless you mount an HTTPAdapter with max_retries: keep it that way for streams
    with requests.post(f"{base}/chat/completions", json=body, headers=headers, stream=True,
                       timeout=TIMEOUT) as response:
        if response.status_code != 200:
            # llmwall's blocks come in the provider's own error shape: {"error": {"message": ...}}
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            print(f"HTTP {response.status_code}: {message}", file=sys.stderr)
            return 1
        done = False
        data: list[str] = []
        # bytes, not decode_unicode: requests would guess ISO-8859-1 for a text/* reply without a charset.
        # Every OpenAI event is one `data:` line followed by a blank line.
        for raw in response.iter_lines():
            line = raw.decode("utf-8")
            if line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
                continue
            if line or not data:
                continue  # `event:`/`id:` fields, comments (": keep-alive"), stray blank lines
            payload, data = "\n".join(data), []
            if payload == "[DONE]":
                done = True
                break
            obj = json.loads(payload)
            if obj.get("error"):
                # llmwall ends a stream it stops with one error event in the provider's shape
                print(file=sys.stdout, flush=True)
                print(f"error: {obj['error'].get('message', obj['error'])}", file=sys.stderr)
                return 1
            for choice in obj.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    sys.stdout.write(text)
                    sys.stdout.flush()
    print()
    if not done:
        print("the stream ended without [DONE]: it was cut short", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
