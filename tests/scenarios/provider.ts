/**
 * TEST CODE. Scenarios for Spillway's Azure OpenAI provider (plugins/azure-openai-dynamic) with its companion
 * plugin (plugins/spillway-failover) and hook (plugins/hook), against Azure OpenAI simulators (scripts/simulator).
 * Issue 3's behaviours: paths, failover triggers, cooldowns that trust Azure's signals, the exhaustion answer,
 * headers, usage, streaming. Run on every host by tests/integration/scenarios.*.test.ts.
 */
import type { ScenarioCase, ScenarioSuite } from "./types.ts";

export const SIM_KEY = "sim-key-0123456789";
/**
 * Cooldowns live in the gateway's shared dict for the whole suite and are keyed per backend *and* deployment,
 * so each behaviour uses its own deployment name: cases stay independent without a way to flush the gateway.
 */
const CASE_DEPLOYMENTS = ["basic", "legacy", "legacy429", "legacy500", "legacyreset", "hop429", "hop500", "reset", "allthrottled", "all5xx", "stream", "streamfail", "embed", "slow", "wait", "weights"];
const DEPLOYMENTS = Object.fromEntries([
  ...CASE_DEPLOYMENTS.map((d) => [d, { model: "gpt-4o", tpm: 100_000_000 }]),
  // 1,000 TPM allows one request per 10 s: the first success reports x-ratelimit-remaining-requests: 0.
  ["tight", { model: "gpt-4o", tpm: 1000 }],
  ["text-embedding-3-small", { model: "text-embedding-3-small", tpm: 100_000_000 }],
]);
const FAST = { baseMs: 0, perTokenMs: 0, streamIntervalMs: 5 };

const chat = (deployment: string) => ({ model: deployment, messages: [{ role: "user", content: "hi" }], max_tokens: 5 });
const V1_CHAT = "/openai/v1/chat/completions";
const LEGACY_CHAT = "/openai/deployments/legacy/chat/completions?api-version=2024-10-21";
/** nginx logs a reset cosocket read at error level; that is the fault under test, not a gateway error. */
const RESET_LOG = /recv\(\) failed \(104: Connection reset by peer\)/;

/** Config every suite here needs: our hook registers the provider, the cooldown dict is shared by workers. */
const CONFIG_YAML = {
  apisix: { lua_module_hook: "spillway.hook" },
  nginx_config: { http: { custom_lua_shared_dict: { "spillway-cooldown": "1m" } } },
};

/** An ai-proxy-multi instance of our provider, with the simulators' key (shared with the patches suite). */
export function dynamicInstance(name: string, priority: number, endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    provider: "azure-openai-dynamic",
    priority,
    weight: 1,
    auth: { header: { "api-key": SIM_KEY } },
    override: { endpoint },
    ...extra,
  };
}

function backend(name: string, priority: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return dynamicInstance(name, priority, `{{upstream.${name}.url}}`, extra);
}

function route(id: string, uris: string[], instances: Record<string, unknown>[], failover: Record<string, unknown> = {}) {
  return {
    id,
    uris,
    plugins: {
      "spillway-failover": { default_429_cooldown_ms: 2000, ...failover },
      "ai-proxy-multi": {
        fallback_strategy: ["http_429", "http_5xx"],
        timeout: 3000,
        streaming_flush_interval_ms: 0,
        instances,
      },
    },
  };
}

const sim = { behaviour: "simulator" as const, apiKey: SIM_KEY, deployments: DEPLOYMENTS, latency: FAST };

/** Every case starts from clean simulators unless it says otherwise. */
function fresh(c: ScenarioCase, names: string[]): ScenarioCase {
  return { resetSimulators: names, ...c, faults: { ...Object.fromEntries(names.map((n) => [n, []])), ...c.faults } };
}

const PAIR = ["primary", "secondary"];

export const providerFailoverSuite: ScenarioSuite = {
  name: "azure-openai-dynamic failover",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: {
    routes: [
      route("chat", [V1_CHAT, "/openai/deployments/*"], [backend("primary", 10), backend("secondary", 0)]),
    ],
  },
  cases: [
    fresh({
      name: "forwards /openai/v1 chat to the highest-priority backend with its own key and says who answered",
      request: {
        path: V1_CHAT,
        body: chat("basic"),
        headers: { "x-gw-backend": "forged", authorization: "Bearer client-credential", "ocp-apim-subscription-key": "client-credential", "x-ms-client-request-id": "trace-1" },
      },
      expect: { status: 200, headers: { "x-gw-backend": "primary", "x-gw-attempts": "1", "x-sim-instance": "primary", "x-ratelimit-remaining-requests": /^\d+$/ } },
      forwarded: {
        upstream: "primary",
        method: "POST",
        path: V1_CHAT,
        // The backend's own key replaces whatever the client sent; tracing headers pass.
        headers: { "api-key": "[valid]", authorization: null, "ocp-apim-subscription-key": null, "x-gw-backend": null, "x-ms-client-request-id": "trace-1" },
      },
      upstreamCalls: { primary: 1, secondary: 0 },
    }, PAIR),
    fresh({
      name: "forwards the legacy deployments path with its api-version untouched",
      request: { path: LEGACY_CHAT, body: chat("legacy") },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, json: { object: "chat.completion" } },
      forwarded: { upstream: "primary", path: LEGACY_CHAT },
    }, PAIR),
    fresh({
      name: "fails over on 429 within the same request and relays the answering backend's headers",
      faults: { primary: [{ kind: "status", status: 429, retryAfterMs: 1500 }] },
      request: { path: V1_CHAT, body: chat("hop429") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2", "x-sim-instance": "secondary", "x-ms-region": /.+/ } },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    {
      name: "skips the cooling backend without a network round trip, whichever worker takes the request",
      request: { path: V1_CHAT, body: chat("hop429") },
      repeat: 12,
      acrossWorkers: true,
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "1" } },
      upstreamCalls: { primary: 0, secondary: 12 },
      // A skip is the plan working: no ai-proxy-multi fallback (and its warn line) per request (issue 9).
      errorLogExcludes: ["falling back to", "returned status 429"],
    },
    {
      name: "tries the backend again once Azure's retry-after-ms has passed",
      faults: { primary: [] },
      waitMs: 1600,
      request: { path: V1_CHAT, body: chat("hop429") },
      expect: { status: 200, headers: { "x-gw-backend": "primary", "x-gw-attempts": "1" } },
      upstreamCalls: { primary: 1, secondary: 0 },
    },
    // Regression (real APISIX 3.18 sets ctx.var.upstream_uri to the path it just sent after each attempt; the
    // provider read that as a proxy-rewrite target and the next backend lost ?api-version and answered 404).
    fresh({
      name: "fails over on 429 on a legacy deployments path, and the next backend gets the same api-version",
      faults: { primary: [{ kind: "status", status: 429, retryAfterMs: 1500, times: 1 }] },
      request: { path: "/openai/deployments/legacy429/chat/completions?api-version=2024-10-21", body: chat("legacy429") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" }, json: { object: "chat.completion" } },
      forwarded: { upstream: "secondary", path: "/openai/deployments/legacy429/chat/completions?api-version=2024-10-21" },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    fresh({
      name: "fails over on 500 on a legacy deployments path, and the next backend gets the same api-version",
      faults: { primary: [{ kind: "status", status: 500, times: 1 }] },
      request: { path: "/openai/deployments/legacy500/chat/completions?api-version=2024-10-21", body: chat("legacy500") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" }, json: { object: "chat.completion" } },
      forwarded: { upstream: "secondary", path: "/openai/deployments/legacy500/chat/completions?api-version=2024-10-21" },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    fresh({
      name: "fails over on a connection reset on a legacy deployments path, and the next backend gets the same api-version",
      faults: { primary: [{ kind: "reset", times: 1 }] },
      request: { path: "/openai/deployments/legacyreset/chat/completions?api-version=2024-10-21", body: chat("legacyreset") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary" } },
      forwarded: { upstream: "secondary", path: "/openai/deployments/legacyreset/chat/completions?api-version=2024-10-21" },
      allowErrors: [RESET_LOG],
    }, PAIR),
    fresh({
      name: "fails over on 500",
      faults: { primary: [{ kind: "status", status: 500, times: 1 }] },
      request: { path: V1_CHAT, body: chat("hop500") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" } },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    fresh({
      name: "fails over on a connection reset",
      faults: { primary: [{ kind: "reset", times: 1 }] },
      request: { path: V1_CHAT, body: chat("reset") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary" } },
      allowErrors: [RESET_LOG],
    }, PAIR),
    fresh({
      name: "answers 429 with Retry-After and retry-after-ms when every backend is throttled",
      faults: {
        primary: [{ kind: "status", status: 429, retryAfterMs: 3000 }],
        secondary: [{ kind: "status", status: 429, retryAfterMs: 5000 }],
      },
      request: { path: V1_CHAT, body: chat("allthrottled") },
      expect: {
        status: 429,
        // x-ms-region: the last backend's headers are relayed on the final error too.
        headers: { "retry-after": "3", "retry-after-ms": /^(29\d\d|3000)$/, "content-type": /application\/json/, "x-gw-attempts": "2", "x-ms-region": /.+/ },
        json: { error: { code: "429", type: "rate_limit_exceeded" } },
        bodyExcludes: [SIM_KEY, "127.0.0.1"],
      },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    {
      name: "answers 429 from cooldowns alone, calling no backend",
      request: { path: V1_CHAT, body: chat("allthrottled") },
      expect: { status: 429, headers: { "retry-after": /^[123]$/ }, json: { error: { code: "429" } } },
      upstreamCalls: { primary: 0, secondary: 0 },
    },
    fresh({
      name: "answers a JSON 502 when every backend fails with 5xx",
      faults: {
        primary: [{ kind: "status", status: 502 }],
        secondary: [{ kind: "status", status: 503 }],
      },
      request: { path: V1_CHAT, body: chat("all5xx") },
      expect: { status: 502, headers: { "content-type": /application\/json/ }, json: { error: { type: "server_error" } }, bodyExcludes: [SIM_KEY] },
    }, PAIR),
  ],
};

const STREAM_INTERVAL_MS = 40;
const slowStreamSim = { ...sim, latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: STREAM_INTERVAL_MS } };
const streamChat = (deployment: string, words = 6) => ({ ...chat(deployment), max_tokens: words, stream: true });

export const providerStreamingSuite: ScenarioSuite = {
  name: "azure-openai-dynamic streaming",
  configYaml: CONFIG_YAML,
  upstreams: { primary: slowStreamSim, secondary: slowStreamSim },
  apisixYaml: {
    routes: [route("chat", [V1_CHAT, "/openai/deployments/*"], [backend("primary", 10), backend("secondary", 0)])],
  },
  cases: [
    fresh({
      name: "streams chunks as they arrive, with the usage chunk and [DONE], from one backend",
      // 12 words: enough gaps for a median that one late timer on a busy machine does not move.
      request: { path: V1_CHAT, body: streamChat("stream", 12) },
      expect: {
        status: 200,
        headers: { "content-type": /text\/event-stream/, "x-gw-backend": "primary", "x-ratelimit-remaining-tokens": /^\d+$/ },
        bodyIncludes: ['"usage":', "data: [DONE]"],
      },
      forwarded: { upstream: "primary", json: { stream: true, stream_options: { include_usage: true } } },
      // The simulator's two preamble events (prompt_filter_results, role) are held and leave with the first content.
      stream: { minChunks: 4, eventIntervalMs: STREAM_INTERVAL_MS, toleranceMs: 25, skipFirstEvents: 2 },
      accessLog: { llm_prompt_tokens: /^[1-9]\d*$/, llm_completion_tokens: /^[1-9]\d*$/ },
      upstreamCalls: { primary: 1, secondary: 0 },
    }, PAIR),
    fresh({
      name: "fails over when the stream carries an error event before its first content",
      faults: { primary: [{ kind: "stream-error", afterChunks: 0, code: "server_error", times: 1 }] },
      request: { path: V1_CHAT, body: streamChat("streamfail") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" }, bodyIncludes: ["data: [DONE]"], bodyExcludes: ['"error"'] },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    fresh({
      name: "fails over when the connection drops before the first content",
      faults: { primary: [{ kind: "stream-cut", afterChunks: 0, times: 1 }] },
      request: { path: V1_CHAT, body: streamChat("streamfail") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary" }, bodyIncludes: ["data: [DONE]"] },
      upstreamCalls: { primary: 1, secondary: 1 },
      allowErrors: [RESET_LOG, /closed/],
    }, PAIR),
    fresh({
      name: "never calls a second backend after the first byte: a stream cut mid-way ends with an error event",
      faults: { primary: [{ kind: "stream-cut", afterChunks: 2, times: 1 }] },
      request: { path: V1_CHAT, body: streamChat("stream") },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, bodyIncludes: ['data: {"error":'], bodyExcludes: ["data: [DONE]"] },
      upstreamCalls: { primary: 1, secondary: 0 },
      errorLog: [/broke after output was sent/],
      allowErrors: [RESET_LOG, /closed/],
    }, PAIR),
  ],
};

const RESPONSES = "/openai/v1/responses";
const EMBEDDINGS = "/openai/v1/embeddings";

export const providerApisSuite: ScenarioSuite = {
  name: "azure-openai-dynamic APIs",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: {
    routes: [
      route("apis", [V1_CHAT, EMBEDDINGS, RESPONSES, "/openai/v1/completions", "/openai/deployments/*"], [
        backend("primary", 10, { provider_conf: { deployments: { "client-name": "basic" } } }),
        backend("secondary", 0),
      ]),
    ],
  },
  cases: [
    fresh({
      name: "embeddings go through and report usage",
      request: { path: EMBEDDINGS, body: { model: "text-embedding-3-small", input: "hello world" } },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, json: { object: "list" } },
      accessLog: { llm_prompt_tokens: /^[1-9]\d*$/ },
    }, PAIR),
    fresh({
      name: "legacy completions (passthrough protocol) keep path, query and body bytes",
      request: { path: "/openai/deployments/basic/completions?api-version=2024-10-21", body: '{"prompt":"Once upon a time","max_tokens":3}' },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, json: { object: "text_completion" } },
      forwarded: { upstream: "primary", path: "/openai/deployments/basic/completions?api-version=2024-10-21", json: { prompt: "Once upon a time", max_tokens: 3 } },
      accessLog: { llm_prompt_tokens: /^[1-9]\d*$/, llm_completion_tokens: /^[1-9]\d*$/ },
    }, PAIR),
    fresh({
      name: "streamed legacy completions ask for usage and report it",
      request: { path: "/openai/deployments/basic/completions?api-version=2024-10-21", body: { prompt: "Once upon a time", max_tokens: 3, stream: true } },
      expect: { status: 200, headers: { "content-type": /text\/event-stream/ }, bodyIncludes: ['"usage":'] },
      forwarded: { upstream: "primary", json: { stream: true, stream_options: { include_usage: true } } },
      accessLog: { llm_prompt_tokens: /^[1-9]\d*$/, llm_completion_tokens: /^[1-9]\d*$/ },
    }, PAIR),
    fresh({
      name: "a Responses create goes through and reports usage",
      request: { path: RESPONSES, body: { model: "basic", input: "hi", max_output_tokens: 4 } },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, json: { object: "response", status: "completed" } },
      accessLog: { llm_prompt_tokens: /^[1-9]\d*$/, llm_completion_tokens: /^[1-9]\d*$/ },
    }, PAIR),
    fresh({
      name: "a streamed Responses create fails over on 429 and streams the events untouched",
      faults: { primary: [{ kind: "status", status: 429, retryAfterMs: 500, times: 1 }] },
      request: { path: RESPONSES, body: { model: "stream", input: "hi", max_output_tokens: 4, stream: true } },
      expect: {
        status: 200,
        headers: { "x-gw-backend": "secondary", "content-type": /text\/event-stream/ },
        bodyIncludes: ["event: response.created", "event: response.output_text.delta", "event: response.completed"],
      },
      accessLog: { llm_completion_tokens: /^[1-9]\d*$/ },
    }, PAIR),
    fresh({
      name: "a streamed Responses create fails over on response.failed before any output",
      faults: { primary: [{ kind: "stream-error", event: "response.failed", afterChunks: 0, code: "server_error", times: 1 }] },
      request: { path: RESPONSES, body: { model: "streamfail", input: "hi", max_output_tokens: 4, stream: true } },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" }, bodyIncludes: ["event: response.completed"], bodyExcludes: ["response.failed"] },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    fresh({
      name: "a backend's deployment alias rewrites the v1 model for that backend only",
      request: { path: V1_CHAT, body: chat("client-name") },
      expect: { status: 200, headers: { "x-gw-backend": "primary" } },
      forwarded: { upstream: "primary", json: { model: "basic" } },
    }, PAIR),
    fresh({
      name: "a backend's deployment alias rewrites the legacy path segment",
      request: { path: "/openai/deployments/client-name/chat/completions?api-version=2024-10-21", body: chat("x") },
      expect: { status: 200, headers: { "x-gw-backend": "primary" } },
      forwarded: { upstream: "primary", path: "/openai/deployments/basic/chat/completions?api-version=2024-10-21" },
    }, PAIR),
    fresh({
      name: "a 400 from the backend is the client's answer, byte for byte, with no failover",
      request: { path: V1_CHAT, body: { model: "basic" } },
      expect: { status: 400, headers: { "x-gw-backend": "primary" } },
      upstreamCalls: { primary: 1, secondary: 0 },
    }, PAIR),
    fresh({
      name: "an encoded slash in the deployment is refused with a JSON 400 before any backend is called",
      request: { path: "/openai/deployments/a%2fb/chat/completions?api-version=2024-10-21", body: chat("basic") },
      expect: { status: 400, headers: { "content-type": /^application\/json/ }, json: { error: { type: "invalid_request_error" } } },
      upstreamCalls: { primary: 0, secondary: 0 },
    }, PAIR),
  ],
};

/** The companion plugin's own backends list, for routes ai-proxy-multi cannot serve (no JSON body). */
function bodylessRoute(id: string, uris: string[], methods: string[], names = ["primary", "secondary"]) {
  return {
    id,
    uris,
    methods,
    plugins: {
      "spillway-failover": {
        backends: names.map((name, i) => ({
          name,
          endpoint: `{{upstream.${name}.url}}`,
          priority: 10 - i * 10,
          auth: { header: { "api-key": SIM_KEY } },
        })),
      },
    },
  };
}

/** Creates a stored response directly on one simulator, the way a earlier request through the gateway would. */
async function responseOn(sims: Record<string, import("../../scripts/simulator/index.ts").SimulatorHandle>, name: string) {
  const res = await fetch(`${sims[name]!.url}/openai/v1/responses`, {
    method: "POST",
    headers: { "api-key": SIM_KEY, "content-type": "application/json" },
    body: JSON.stringify({ model: "basic", input: "hi", max_output_tokens: 3 }),
  });
  const body = (await res.json()) as { id: string };
  return { id: body.id };
}

export const providerBodylessSuite: ScenarioSuite = {
  name: "spillway-failover body-less calls",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: {
    routes: [
      bodylessRoute("models", ["/openai/v1/models"], ["GET"]),
      bodylessRoute("responses-by-id", ["/openai/v1/responses/*"], ["GET", "DELETE", "POST"]),
    ],
  },
  cases: [
    fresh({
      name: "GET /openai/v1/models is answered by the highest-priority backend",
      request: { path: "/openai/v1/models" },
      expect: { status: 200, headers: { "x-gw-backend": "primary", "x-gw-attempts": "1" }, json: { object: "list" } },
      forwarded: { upstream: "primary", method: "GET", headers: { "api-key": "[valid]" } },
    }, PAIR),
    fresh({
      name: "GET /responses/{id} finds the response on the backend that holds it",
      setup: (sims) => responseOn(sims, "secondary"),
      request: { path: "/openai/v1/responses/{{var.id}}" },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" }, json: { object: "response" } },
      upstreamCalls: { primary: 1, secondary: 1 },
    }, PAIR),
    fresh({
      name: "DELETE /responses/{id} reaches the backend that holds it",
      setup: (sims) => responseOn(sims, "primary"),
      request: { method: "DELETE", path: "/openai/v1/responses/{{var.id}}" },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, json: { deleted: true } },
    }, PAIR),
    fresh({
      name: "an unknown response id is a 404 after every backend was asked",
      request: { path: "/openai/v1/responses/resp_doesnotexist" },
      expect: { status: 404, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" } },
    }, PAIR),
  ],
};

export const providerBodylessFailoverSuite: ScenarioSuite = {
  name: "spillway-failover body-less failover",
  configYaml: CONFIG_YAML,
  upstreams: { dead: { behaviour: "refused" }, secondary: sim },
  apisixYaml: { routes: [bodylessRoute("models", ["/openai/v1/models"], ["GET"], ["dead", "secondary"])] },
  cases: [
    {
      name: "a body-less call fails over when the first backend refuses the connection",
      request: { path: "/openai/v1/models" },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" }, json: { object: "list" } },
      upstreamCalls: { secondary: 1 },
    },
  ],
};

export const providerPolicySuite: ScenarioSuite = {
  name: "azure-openai-dynamic timeouts, signals and balancing",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: {
    routes: [
      route("chat", [V1_CHAT], [backend("primary", 10), backend("secondary", 0)], {
        first_byte_timeout_ms: 400,
        max_wait_ms: 2000,
        default_429_cooldown_ms: 1500,
      }),
      route("checked", ["/openai/v1/embeddings"], [
        // Health-checked instances are resolved to an IP; the backend must still see its own host name.
        backend("primary", 10, { override: { endpoint: "http://localhost:{{upstream.primary.port}}" }, checks: { active: { http_path: "/healthz" } } }),
        backend("secondary", 0),
      ]),
      route("weighted", ["/openai/deployments/*"], [
        backend("primary", 0, { weight: 3 }),
        backend("secondary", 0, { weight: 1 }),
      ]),
    ],
  },
  cases: [
    fresh({
      name: "a backend slower to its first byte than first_byte_timeout_ms is abandoned for the next one",
      faults: { primary: [{ kind: "slow-first-byte", delayMs: 1500, times: 1 }] },
      request: { path: V1_CHAT, body: chat("slow") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" } },
      upstreamCalls: { primary: 1, secondary: 1 },
      allowErrors: [/timed out/],
    }, PAIR),
    fresh({
      name: "a success that reports no requests left cools that backend until its reset",
      request: { path: V1_CHAT, body: chat("tight") },
      expect: { status: 200, headers: { "x-gw-backend": "primary", "x-ratelimit-remaining-requests": "0" } },
    }, PAIR),
    {
      name: "the next request skips the exhausted backend without calling it",
      request: { path: V1_CHAT, body: chat("tight") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "1" } },
      upstreamCalls: { primary: 0, secondary: 1 },
    },
    fresh({
      name: "waits within max_wait_ms for a throttled backend instead of answering 429",
      faults: {
        primary: [{ kind: "status", status: 429, retryAfterMs: 400, times: 1 }],
        secondary: [{ kind: "status", status: 429, retryAfterMs: 600, times: 1 }],
      },
      request: { path: V1_CHAT, body: chat("wait") },
      expect: { status: 200, headers: { "x-gw-backend": "primary" } },
      upstreamCalls: { primary: 2, secondary: 1 },
    }, PAIR),
    fresh({
      name: "a health-checked instance is called on its resolved IP with its own name as Host",
      request: { path: "/openai/v1/embeddings", body: { model: "text-embedding-3-small", input: "hi" } },
      expect: { status: 200, headers: { "x-gw-backend": "primary" } },
      forwarded: { upstream: "primary", headers: { host: /^localhost:\d+$/ } },
    }, PAIR),
    fresh({
      name: "splits traffic by weight within a priority (3:1 over 8 requests)",
      request: { path: "/openai/deployments/weights/chat/completions?api-version=2024-10-21", body: chat("weights") },
      repeat: 8,
      oneWorkerOnly: "each nginx worker keeps its own weighted round-robin position, so an exact 6:2 holds per worker only",
      expect: { status: 200 },
      upstreamCalls: { primary: 6, secondary: 2 },
    }, PAIR),
  ],
};

/** A response created through the gateway lands on "secondary" (primary throttled for a moment). */
const RESPONSE_ID = /"id":"(resp_[^"]+)"/;

export const providerAffinitySuite: ScenarioSuite = {
  name: "Responses API affinity",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: {
    routes: [
      route("responses", [RESPONSES], [backend("primary", 10), backend("secondary", 0)], { default_429_cooldown_ms: 300 }),
      bodylessRoute("responses-by-id", ["/openai/v1/responses/*"], ["GET", "DELETE", "POST"]),
    ],
  },
  cases: [
    fresh({
      name: "a response created while the primary is throttled is served by the secondary",
      faults: { primary: [{ kind: "status", status: 429, retryAfterMs: 300, times: 1 }] },
      request: { path: RESPONSES, body: { model: "basic", input: "hi", max_output_tokens: 3 } },
      expect: { status: 200, headers: { "x-gw-backend": "secondary" } },
      capture: { plain: RESPONSE_ID },
    }, PAIR),
    {
      name: "a follow-up with previous_response_id goes to the backend that holds it, though the primary is healthy again",
      waitMs: 400,
      request: { path: RESPONSES, body: { model: "basic", input: "and then?", max_output_tokens: 3, previous_response_id: "{{var.plain}}" } },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "1" } },
      upstreamCalls: { primary: 0, secondary: 1 },
    },
    {
      name: "GET /responses/{id} asks the holder first, whichever worker takes the request",
      request: { path: "/openai/v1/responses/{{var.plain}}" },
      repeat: 12,
      acrossWorkers: true,
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "1" } },
      upstreamCalls: { primary: 0, secondary: 12 },
    },
    {
      // Not fresh(): a simulator reset would drop the stored response.
      name: "a follow-up whose holder is throttled gets a 429 with Retry-After, not another backend's 404",
      faults: { primary: [], secondary: [{ kind: "status", status: 429, retryAfterMs: 2000, times: 1 }] },
      request: { path: RESPONSES, body: { model: "basic", input: "again", max_output_tokens: 3, previous_response_id: "{{var.plain}}" } },
      expect: { status: 429, headers: { "retry-after": "2" } },
      upstreamCalls: { primary: 0, secondary: 1 },
    },
    fresh({
      name: "a streamed create is remembered from its response.created event",
      faults: { primary: [{ kind: "status", status: 429, retryAfterMs: 300, times: 1 }] },
      request: { path: RESPONSES, body: { model: "stream", input: "hi", max_output_tokens: 3, stream: true } },
      expect: { status: 200, headers: { "x-gw-backend": "secondary" } },
      capture: { streamed: RESPONSE_ID },
    }, PAIR),
    {
      name: "DELETE /responses/{id} of a streamed response reaches its holder directly",
      waitMs: 400,
      request: { method: "DELETE", path: "/openai/v1/responses/{{var.streamed}}" },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "1" }, json: { deleted: true } },
      upstreamCalls: { primary: 0, secondary: 1 },
    },
  ],
};

export const PROVIDER_SUITES = [
  providerAffinitySuite,
  providerPolicySuite,
  providerFailoverSuite,
  providerStreamingSuite,
  providerApisSuite,
  providerBodylessSuite,
  providerBodylessFailoverSuite,
];
