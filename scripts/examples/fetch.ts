// Stream a chat completion through llmwall with fetch, parsing the server-sent events by hand.
//
//   scripts/examples/run fetch-ts "Say hello"
//
// Environment, as a user sets it:
//   OPENAI_API_KEY        the provider key (llmwall passes it through)
//   HTTPS_PROXY           http://llmwall-host:8080 (regular proxy mode); NO_PROXY is honoured
//   NODE_EXTRA_CA_CERTS   mitmproxy's CA (~/.mitmproxy/mitmproxy-ca-cert.pem), read by Node at start-up
//   OPENAI_BASE_URL       optional, reverse mode: http://llmwall-host:8080/v1 (then no proxy and no CA)
//   OPENAI_MODEL          optional, default gpt-4o-mini
//
// Node 20 and 22: the built-in fetch ignores HTTPS_PROXY. Installing undici's EnvHttpProxyAgent (npm
// `undici`) as the global dispatcher makes the built-in fetch use HTTPS_PROXY / NO_PROXY (checked on Node
// 20 by tests/e2e/test_examples.py). If a Node release and the undici package ever disagree, import `fetch`
// from "undici" as well. Node >= 24 needs no package: `NODE_USE_ENV_PROXY=1` makes the built-in fetch
// honour HTTPS_PROXY by itself.
import { EnvHttpProxyAgent, setGlobalDispatcher } from "undici";

const TEN_MINUTES = 10 * 60 * 1000;

// headersTimeout: how long to wait for the reply to start; bodyTimeout: the longest silence between two
// chunks of a stream. Both default to 300 s in undici: keep them above your longest generation.
setGlobalDispatcher(new EnvHttpProxyAgent({ headersTimeout: TEN_MINUTES, bodyTimeout: TEN_MINUTES }));

async function main(): Promise<number> {
  const prompt = process.argv[2] ?? "Say hello in five words.";
  const base = (process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1").replace(/\/+$/, "");
  const key = process.env.OPENAI_API_KEY;
  if (!key) {
    console.error("set OPENAI_API_KEY");
    return 2;
  }
  const response = await fetch(`${base}/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({
      model: process.env.OPENAI_MODEL ?? "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: prompt }],
    }),
  });
  if (!response.ok || !response.body) {
    // llmwall's blocks come in the provider's own error shape: {"error": {"message": ...}}
    const text = await response.text();
    let message = text;
    try {
      message = JSON.parse(text).error?.message ?? text;
    } catch {
      // not JSON: print it as it is
    }
    console.error(`HTTP ${response.status}: ${message}`);
    return 1;
  }

  const decoder = new TextDecoder(); // stream: true below keeps a UTF-8 character split across chunks whole
  let buffer = "";
  let done = false;
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    // an event ends with a blank line (LF, CRLF or CR line ends)
    let cut: RegExpExecArray | null;
    while (!done && (cut = /\r\n\r\n|\n\n|\r\r/.exec(buffer)) !== null) {
      const event = buffer.slice(0, cut.index);
      buffer = buffer.slice(cut.index + cut[0].length);
      done = handleEvent(event);
    }
    if (done) break;
  }
  process.stdout.write("\n");
  if (!done) {
    console.error("the stream ended without [DONE]: it was cut short");
    return 1;
  }
  return 0;
}

/** Print the text of one event; true at the end of the stream. Throws on an error event. */
function handleEvent(event: string): boolean {
  const data = event
    .split(/\r\n|\r|\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).replace(/^ /, ""))
    .join("\n");
  if (!data) return false; // a comment (": keep-alive") or an event without data
  if (data === "[DONE]") return true;
  const obj = JSON.parse(data);
  if (obj.error) {
    // llmwall ends a stream it stops with one error event in the provider's shape
    throw new Error(obj.error.message ?? JSON.stringify(obj.error));
  }
  const text = obj.choices?.[0]?.delta?.content;
  if (text) process.stdout.write(text);
  return false;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stdout.write("\n");
    console.error(`error: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
