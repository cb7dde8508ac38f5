// Stream a chat completion through llmwall with the official `openai` npm package.
//
//   scripts/examples/run openai-ts "Say hello"
//
// Environment, as a user sets it:
//   OPENAI_API_KEY        the provider key (read by the SDK)
//   HTTPS_PROXY           http://llmwall-host:8080 (regular proxy mode); NO_PROXY is honoured
//   NODE_EXTRA_CA_CERTS   mitmproxy's CA (~/.mitmproxy/mitmproxy-ca-cert.pem), read by Node at start-up
//   OPENAI_BASE_URL       optional, reverse mode: http://llmwall-host:8080/v1 (read by the SDK; then no
//                         proxy and no CA)
//   OPENAI_MODEL          optional, default gpt-4o-mini
//
// The SDK (v5 and later) calls the built-in fetch, which on Node 20 and 22 ignores HTTPS_PROXY: hand it
// undici's EnvHttpProxyAgent as the dispatcher (fetchOptions.dispatcher). On Node >= 24,
// NODE_USE_ENV_PROXY=1 alone is enough and fetchOptions can go.
import OpenAI from "openai";
import { EnvHttpProxyAgent } from "undici";

const TEN_MINUTES = 10 * 60 * 1000;

async function main(): Promise<number> {
  const prompt = process.argv[2] ?? "Say hello in five words.";
  const client = new OpenAI({
    // Streams: no automatic retries (the SDK's default is 2; a retried stream starts over and is billed
    // again), and a timeout longer than the longest generation (the default is 10 minutes).
    maxRetries: 0,
    timeout: TEN_MINUTES,
    fetchOptions: {
      // undici's own timeouts: headersTimeout (the reply must start within it) and bodyTimeout (the
      // longest silence between two chunks), both 300 s by default.
      dispatcher: new EnvHttpProxyAgent({ headersTimeout: TEN_MINUTES, bodyTimeout: TEN_MINUTES }),
    },
  });
  const stream = await client.chat.completions.create({
    model: process.env.OPENAI_MODEL ?? "gpt-4o-mini",
    stream: true,
    messages: [{ role: "user", content: prompt }],
  });
  for await (const chunk of stream) {
    const text = chunk.choices[0]?.delta?.content;
    if (text) process.stdout.write(text);
  }
  process.stdout.write("\n");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    // a request llmwall blocks is an OpenAI.PermissionDeniedError (HTTP 403); a stream it stops mid-way
    // ends with an error event, raised as OpenAI.APIError
    process.stdout.write("\n");
    const name = err instanceof OpenAI.APIError ? `${err.constructor.name}: ` : "";
    console.error(`error: ${name}${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
