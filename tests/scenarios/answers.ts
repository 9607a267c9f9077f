/**
 * TEST CODE. What the gateway answers when the input is bad, on either side (found by `spillway chaos`,
 * docs/reliability.md): a client body ai-proxy-multi would refuse with a text/plain body (malformed JSON, a wrong
 * Content-Type, a body over max_req_body_size: that one also logged an [error] line per request), and a backend
 * whose 200 is not an answer (a body that is not JSON, a plain body to a streamed request, a stream that ends before
 * its first content). The first are OpenAI-shaped JSON errors before any backend is called; the second fail over
 * like a 5xx. Every case also checks (the runner) that it added no [error] line: no "failed to read request body",
 * and no "failed to pick new AI instance" when every backend failed. Run on every host by
 * tests/integration/scenarios.*.test.ts.
 */
import { dynamicInstance, SIM_KEY } from "./provider.ts";
import type { ScenarioCase, ScenarioSuite } from "./types.ts";

const CONFIG_YAML = {
  apisix: { lua_module_hook: "spillway.hook" },
  nginx_config: { http: { custom_lua_shared_dict: { "spillway-cooldown": "1m" } } },
};
const V1_CHAT = "/openai/v1/chat/completions";
/** Small, so that an oversized body costs the test nothing; the rendered route keeps 3.18's 64 MiB default. */
const BODY_LIMIT = 2048;
/** Cooldowns are per backend and deployment: each behaviour has its own deployment (see provider.ts). */
const DEPLOYMENTS = Object.fromEntries(
  ["input", "badjson", "badjsonstream", "badjsonall", "badjsoncool", "exhaust"].map((d) => [d, { model: "gpt-4o", tpm: 100_000_000 }]),
);
const sim = { behaviour: "simulator" as const, apiKey: SIM_KEY, deployments: DEPLOYMENTS, latency: { baseMs: 0, perTokenMs: 0, streamIntervalMs: 5 } };
const chat = (deployment: string, stream = false) => ({ model: deployment, messages: [{ role: "user", content: "hi" }], max_tokens: 5, ...(stream ? { stream: true } : {}) });

function route(id: string, uris: string[], instances: Record<string, unknown>[], multi: Record<string, unknown> = {}) {
  return {
    id,
    uris,
    plugins: {
      "spillway-failover": { default_429_cooldown_ms: 2000 },
      "ai-proxy-multi": { fallback_strategy: ["http_429", "http_5xx"], timeout: 3000, streaming_flush_interval_ms: 0, instances, ...multi },
    },
  };
}

function backend(name: string, priority: number): Record<string, unknown> {
  return dynamicInstance(name, priority, `{{upstream.${name}.url}}`);
}

/** Every case starts from clean simulators unless it says otherwise. */
function fresh(c: ScenarioCase, names: string[] = ["primary", "secondary"]): ScenarioCase {
  return { resetSimulators: names, ...c, faults: { ...Object.fromEntries(names.map((n) => [n, []])), ...c.faults } };
}

const JSON_ERROR = { "content-type": /^application\/json/ };
const NO_CALLS = { primary: 0, secondary: 0 };

export const clientInputSuite: ScenarioSuite = {
  name: "bad client input: OpenAI-shaped JSON errors before any backend",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: { routes: [route("chat", [V1_CHAT], [backend("primary", 10), backend("secondary", 0)], { max_req_body_size: BODY_LIMIT })] },
  cases: [
    {
      name: "malformed JSON is a JSON 400 that says why",
      request: { path: V1_CHAT, body: '{"model": "input", "messages": [' },
      expect: { status: 400, headers: JSON_ERROR, json: { error: { type: "invalid_request_error", code: "400" } }, bodyIncludes: ["could not parse JSON request body"] },
      upstreamCalls: NO_CALLS,
    },
    {
      name: "a Content-Type other than application/json is a JSON 415",
      request: { path: V1_CHAT, headers: { "content-type": "text/plain" }, body: JSON.stringify(chat("input")) },
      expect: { status: 415, headers: JSON_ERROR, json: { error: { type: "invalid_request_error", code: "415" } } },
      upstreamCalls: NO_CALLS,
    },
    {
      name: "a body over max_req_body_size is a JSON 413, with no [error] line (it is the client's doing)",
      request: { path: V1_CHAT, body: { ...chat("input"), messages: [{ role: "user", content: "x".repeat(BODY_LIMIT) }] } },
      expect: { status: 413, headers: JSON_ERROR, json: { error: { type: "invalid_request_error", code: "413" } } },
      upstreamCalls: NO_CALLS,
      errorLogExcludes: ["failed to read request body"],
    },
    {
      // 3.18 indexed the decoded number in its access phase: a Lua error and nginx's 500.
      name: "a JSON body that is not an object is a JSON 400",
      request: { path: V1_CHAT, body: "1" },
      expect: { status: 400, headers: JSON_ERROR, json: { error: { type: "invalid_request_error", code: "400" } } },
      upstreamCalls: NO_CALLS,
    },
    {
      name: "an empty JSON object is a JSON 400",
      request: { path: V1_CHAT, body: "{}" },
      expect: { status: 400, headers: JSON_ERROR, json: { error: { code: "400" } } },
      upstreamCalls: NO_CALLS,
    },
    fresh({
      name: "a request within the limit, with Content-Type application/json; charset=utf-8, goes through",
      request: { path: V1_CHAT, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(chat("input")) },
      expect: { status: 200, headers: { "x-gw-backend": "primary" }, json: { object: "chat.completion" } },
      upstreamCalls: { primary: 1, secondary: 0 },
    }),
  ],
};

export const unusableAnswerSuite: ScenarioSuite = {
  name: "a backend's 200 that is not an answer fails over",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: { routes: [route("chat", [V1_CHAT], [backend("primary", 10), backend("secondary", 0)])] },
  cases: [
    fresh({
      name: "a 200 whose JSON body is cut short goes to the next backend; the client never sees it",
      faults: { primary: [{ kind: "invalid-json", times: 1 }] },
      request: { path: V1_CHAT, body: chat("badjson") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2", "x-sim-instance": "secondary" }, json: { object: "chat.completion" }, bodyExcludes: ["chatcmpl-invalid"] },
      upstreamCalls: { primary: 1, secondary: 1 },
      errorLog: [/primary: the 200 answer is not a JSON object; nothing reached the client, failing over/],
    }),
    fresh({
      name: "a plain 200 body to a streamed request goes to the next backend, and the client gets an event stream",
      faults: { primary: [{ kind: "invalid-json", times: 1 }] },
      request: { path: V1_CHAT, body: chat("badjsonstream", true) },
      expect: { status: 200, headers: { "content-type": /text\/event-stream/, "x-gw-backend": "secondary", "x-gw-attempts": "2" }, bodyIncludes: ["data: [DONE]"], bodyExcludes: ["chatcmpl-invalid"] },
      upstreamCalls: { primary: 1, secondary: 1 },
    }),
    fresh({
      name: "when every backend answers so, the client gets a JSON 502 (and no [error] line for the last pick)",
      faults: { primary: [{ kind: "invalid-json" }], secondary: [{ kind: "invalid-json" }] },
      request: { path: V1_CHAT, body: chat("badjsonall") },
      expect: { status: 502, headers: JSON_ERROR, json: { error: { type: "server_error", code: "502" } }, bodyExcludes: ["chatcmpl-invalid"] },
      upstreamCalls: { primary: 1, secondary: 1 },
      errorLogExcludes: ["failed to pick new AI instance"],
    }),
    fresh({
      name: "two such answers in a row count as consecutive errors (error_threshold 2)",
      faults: { primary: [{ kind: "invalid-json", deployment: "badjsoncool" }] },
      request: { path: V1_CHAT, body: chat("badjsoncool") },
      repeat: 2,
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "2" } },
      upstreamCalls: { primary: 2, secondary: 2 },
    }),
    {
      name: "and then the backend is cooled: the next request does not call it",
      request: { path: V1_CHAT, body: chat("badjsoncool") },
      expect: { status: 200, headers: { "x-gw-backend": "secondary", "x-gw-attempts": "1" } },
      upstreamCalls: { primary: 0, secondary: 1 },
    },
  ],
};

export const earlyEndSuite: ScenarioSuite = {
  name: "a stream that ends before its first content",
  configYaml: CONFIG_YAML,
  upstreams: { early: { behaviour: "sse-preamble" }, drip: { behaviour: "sse-drip", events: 3, intervalMs: 10 } },
  apisixYaml: {
    routes: [
      route("pair", [V1_CHAT], [backend("early", 10), backend("drip", 0)]),
      route("alone", ["/openai/v1/completions"], [backend("early", 10)]),
    ],
  },
  cases: [
    {
      name: "fails over to the next backend, and the client gets that backend's stream alone, with no error event",
      request: { path: V1_CHAT, body: chat("early", true) },
      expect: { status: 200, headers: { "content-type": /text\/event-stream/, "x-gw-backend": "drip", "x-gw-attempts": "2" }, bodyEqualsUpstream: "drip" },
      upstreamCalls: { early: 1, drip: 1 },
      errorLogExcludes: ["broke after output was sent"],
    },
    {
      name: "with no other backend, the client gets a JSON 502 instead of the preamble and a stray error event",
      request: { path: "/openai/v1/completions", body: { prompt: "hi", max_tokens: 3, stream: true } },
      expect: { status: 502, headers: JSON_ERROR, json: { error: { type: "server_error" } }, bodyExcludes: ["data:"] },
      upstreamCalls: { early: 1 },
      errorLogExcludes: ["broke after output was sent"],
    },
  ],
};

/** APISIX's line when ai-proxy-multi finds no instance left to retry on (ai-proxy-multi.lua retry_on_error). */
const ALL_TRIED = "failed to pick new AI instance";

export const exhaustionLogSuite: ScenarioSuite = {
  name: "every backend failed: the answer without APISIX's [error] line",
  configYaml: CONFIG_YAML,
  upstreams: { primary: sim, secondary: sim },
  apisixYaml: { routes: [route("chat", [V1_CHAT], [backend("primary", 10), backend("secondary", 0)])] },
  cases: [
    fresh({
      name: "both backends throttled, both tried: 429 + Retry-After",
      faults: {
        primary: [{ kind: "status", status: 429, retryAfterMs: 300, deployment: "exhaust" }],
        secondary: [{ kind: "status", status: 429, retryAfterMs: 5000, deployment: "exhaust" }],
      },
      request: { path: V1_CHAT, body: chat("exhaust") },
      expect: { status: 429, headers: { "retry-after": "1", ...JSON_ERROR }, json: { error: { code: "429" } } },
      upstreamCalls: { primary: 1, secondary: 1 },
      errorLogExcludes: [ALL_TRIED],
    }),
    {
      // The retry would find only a cooling instance: the picker is dropped before it is asked.
      name: "the first backend fails again while the other still cools: 429 + Retry-After, the cooling one not called",
      waitMs: 400,
      request: { path: V1_CHAT, body: chat("exhaust") },
      expect: { status: 429, headers: { "retry-after": /^[1-5]$/, ...JSON_ERROR }, json: { error: { code: "429" } } },
      upstreamCalls: { primary: 1, secondary: 0 },
      errorLogExcludes: [ALL_TRIED],
    },
  ],
};

export const ANSWER_SUITES = [clientInputSuite, unusableAnswerSuite, earlyEndSuite, exhaustionLogSuite];
