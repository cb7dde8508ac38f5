"""Stream a chat completion through llmwall with the official openai package.

    scripts/examples/run openai-py "Say hello"

Environment, as a user sets it (the SDK reads all of it; no code change for the proxy):
    OPENAI_API_KEY      the provider key
    HTTPS_PROXY         http://llmwall-host:8080 (regular proxy mode); NO_PROXY is honoured (httpx)
    SSL_CERT_FILE       mitmproxy's CA (~/.mitmproxy/mitmproxy-ca-cert.pem)
    OPENAI_BASE_URL     optional, reverse mode: http://llmwall-host:8080/v1 (then no proxy and no CA)
    OPENAI_MODEL        optional, default gpt-4o-mini
"""

from __future__ import annotations

import os
import sys

import openai


def main() -> int:
    prompt = sys.argv[1] if len(sys.argv) > 1 else "Say hello in five words."
    client = openai.OpenAI(
        # Streams: no automatic retries (the default is 2; a retried stream starts over and is billed again)
        max_retries=0,
        # read= is the longest silence between two chunks; keep it above the longest generation
        timeout=openai.Timeout(600.0, connect=10.0),
    )
    try:
        stream = client.chat.completions.create(
            model=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"), stream=True,
            messages=[{"role": "user", "content": prompt}])
        for chunk in stream:
            text = chunk.choices[0].delta.content if chunk.choices else None
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
    except openai.APIError as exc:
        # a request llmwall blocks raises openai.PermissionDeniedError (HTTP 403); a stream it stops mid-way
        # ends with an error event, raised as openai.APIError
        print(flush=True)
        print(f"error: {type(exc).__name__}: {exc.message}", file=sys.stderr)
        return 1
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
