/**
 * TEST CODE. Scenarios for APISIX 3.18's AI path as Spillway relies on it (ai-proxy-multi + ai-proxy/base.lua +
 * provider base + transport): picking, 429/5xx fallback, max_retries, slow failures, timeouts, request detection,
 * byte-for-byte pass-through, streaming timing, usage variables, and a provider registered from lua_module_hook.
 * Expected behaviour is apisix-ai-contract.md §1–§3; run on every host by tests/integration/scenarios.*.test.ts.
 * Stock providers reach the upstream at "<path>?" (a trailing "?"): provider base passes an empty query table and
 * lua-resty-http always prefixes a table query with "?" — observed on real APISIX 3.18.0, modelled by the stand-in.
 */
import type { ScenarioSuite } from "./types.ts";

const CHAT = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };
const STREAM_CHAT = { ...CHAT, stream: true };
const INTERVAL_MS = 100;

function instance(name: string, upstream: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    provider: "openai-compatible",
    weight: 1,
    auth: { header: { "api-key": `instance-key-${name}` } },
    override: { endpoint: `{{upstream.${upstream}.url}}` },
    ...extra,
  };
}

function aiRoute(id: string, uri: string, plugin: Record<string, unknown>): Record<string, unknown> {
  return { id, uri, plugins: { "ai-proxy-multi": plugin } };
}

const BOTH = ["http_429", "http_5xx"];

/** An upstream's error JSON as the fakes write it (tests/rig/upstreams.ts). */
const errorBody = (message: string, code: string) => JSON.stringify({ error: { message, type: "server_error", param: null, code } });

export const fallbackSuite: ScenarioSuite = {
  name: "ai-proxy-multi fallback",
  upstreams: {
    a429: { behaviour: "fast-429", tag: "a" },
    e429: { behaviour: "fast-429", tag: "e" },
    b: { behaviour: "chat-ok", tag: "b" },
    c500: { behaviour: "fast-500", tag: "c" },
    slow: { behaviour: "slow-500", tag: "slow", delayMs: 300 },
    ok3: { behaviour: "chat-ok", tag: "ok3" },
    ok1: { behaviour: "chat-ok", tag: "ok1" },
    dead: { behaviour: "refused" },
    brk: { behaviour: "sse-break", events: 2, intervalMs: 50 },
  },
  apisixYaml: {
    routes: [
      aiRoute("on-429", "/fallback/429", {
        fallback_strategy: BOTH,
        instances: [instance("a", "a429", { priority: 10 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("all-fail", "/fallback/all-fail", {
        fallback_strategy: BOTH,
        instances: [instance("a", "a429", { priority: 10 }), instance("c", "c500", { priority: 0 })],
      }),
      aiRoute("max-retries", "/fallback/max-retries", {
        fallback_strategy: BOTH,
        max_retries: 1,
        instances: [instance("a", "a429", { priority: 10 }), instance("e", "e429", { priority: 5 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("no-strategy", "/fallback/none", {
        instances: [instance("a", "a429", { priority: 10 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("only-429", "/fallback/only-429", {
        fallback_strategy: ["http_429"],
        instances: [instance("c", "c500", { priority: 10 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("slow", "/fallback/slow", {
        fallback_strategy: BOTH,
        retry_on_failure_within_ms: 100,
        instances: [instance("slow", "slow", { priority: 10 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("refused", "/fallback/refused", {
        fallback_strategy: BOTH,
        instances: [instance("dead", "dead", { priority: 10 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("mid-stream", "/fallback/mid-stream", {
        fallback_strategy: BOTH,
        instances: [instance("brk", "brk", { priority: 10 }), instance("b", "b", { priority: 0 })],
      }),
      aiRoute("timeout", "/fallback/timeout", { timeout: 100, instances: [instance("slow", "slow")] }),
      aiRoute("weighted", "/weighted", {
        instances: [instance("ok3", "ok3", { weight: 3 }), instance("ok1", "ok1", { weight: 1 })],
      }),
    ],
  },
  cases: [
    {
      name: "a 429 on the higher-priority instance falls back to the next one",
      request: { path: "/fallback/429", body: CHAT },
      expect: { status: 200, headers: { "content-type": /^application\/json/ }, json: { choices: [{ message: { content: "hello from b" } }] }, bodyEqualsUpstream: "b" },
      upstreamCalls: { a429: 1, b: 1 },
      errorLog: [/ai instance a returned status 429, falling back to b/],
      accessLog: { status: "200", request_type: "ai_chat", request_llm_model: "gpt-4o-mini", llm_model: "gpt-4o-mini", llm_prompt_tokens: "11", llm_completion_tokens: "7", llm_total_tokens: "18", llm_stream: "false" },
    },
    {
      name: "every attempt goes to the instance's own endpoint with its own auth header",
      request: { path: "/fallback/429", body: CHAT },
      expect: { status: 200 },
      forwarded: { upstream: "b", method: "POST", path: "/v1/chat/completions?", headers: { "api-key": "instance-key-b", "content-type": "application/json" }, bodyEqualsClient: true },
    },
    {
      name: "when every instance fails the client gets 502 with the last upstream error body",
      request: { path: "/fallback/all-fail", body: CHAT },
      expect: { status: 502, headers: { "content-type": /^application\/json/ }, bodyEquals: errorBody("internal error from c", "internal_error") },
      upstreamCalls: { a429: 1, c500: 1 },
      errorLog: [/failed to pick new AI instance: all (upstream )?servers tried/],
    },
    {
      name: "max_retries stops the fallback and returns the last upstream code and body",
      request: { path: "/fallback/max-retries", body: CHAT },
      expect: { status: 429, headers: { "content-type": /^application\/json/ }, bodyEquals: errorBody("rate limited by e", "429") },
      upstreamCalls: { a429: 1, e429: 1, b: 0 },
      errorLog: [/reached max_retries 1, not retrying/],
    },
    {
      name: "without fallback_strategy an upstream 429 goes to the client with its body",
      request: { path: "/fallback/none", body: CHAT },
      expect: { status: 429, headers: { "content-type": /^application\/json/ }, bodyEquals: errorBody("rate limited by a", "429") },
      upstreamCalls: { a429: 1, b: 0 },
    },
    {
      name: "a 500 is not retried when fallback_strategy only names http_429",
      request: { path: "/fallback/only-429", body: CHAT },
      expect: { status: 500, bodyEquals: errorBody("internal error from c", "internal_error") },
      upstreamCalls: { c500: 1, b: 0 },
    },
    {
      name: "a failure slower than retry_on_failure_within_ms is returned instead of retried",
      request: { path: "/fallback/slow", body: CHAT },
      expect: { status: 500, bodyEquals: errorBody("slow internal error from slow", "internal_error") },
      upstreamCalls: { slow: 1, b: 0 },
      errorLog: [/exceeding retry_on_failure_within_ms 100, not retrying/],
    },
    {
      name: "a refused connection counts as a 5xx and falls back",
      request: { path: "/fallback/refused", body: CHAT },
      expect: { status: 200, json: { choices: [{ message: { content: "hello from b" } }] } },
      upstreamCalls: { b: 1 },
      errorLog: [/failed to send request to LLM server/, /ai instance dead returned status 50[04], falling back to b/],
    },
    {
      // contract §2.7: APISIX 3.18's own behaviour, kept here so that Spillway's provider fix has a baseline.
      name: "a stream that breaks after output is re-sent to the fallback and the client gets a truncated 200 (3.18 bug)",
      request: { path: "/fallback/mid-stream", body: STREAM_CHAT },
      expect: { status: 200, bodyIncludes: ['"content":"t0 "', '"content":"t1 "'], bodyExcludes: ["[DONE]", "hello from b"] },
      upstreamCalls: { brk: 1, b: 1 },
      errorLog: [/attempt to set status 500 via ngx.exit after sending out the response status 200/],
      allowErrors: [/headers have already been sent/, /attempt to set ngx.status after sending out response headers/],
    },
    {
      name: "an upstream slower than timeout gets 504",
      request: { path: "/fallback/timeout", body: CHAT },
      expect: { status: 504 },
      upstreamCalls: { slow: 1 },
    },
    {
      name: "equal-priority instances share requests by weight",
      request: { path: "/weighted", body: CHAT },
      repeat: 8,
      oneWorkerOnly: "each nginx worker keeps its own weighted round-robin position, so an exact 6:2 holds per worker only",
      expect: { status: 200 },
      upstreamCalls: { ok3: 6, ok1: 2 },
    },
    {
      name: "a GET (no body) is refused with 400 before any instance is tried",
      request: { path: "/fallback/429", method: "GET" },
      expect: { status: 400, json: { message: "could not get body: request body is empty" } },
      upstreamCalls: { a429: 0, b: 0 },
    },
    {
      name: "a non-JSON content type is refused with 400",
      request: { path: "/fallback/429", headers: { "content-type": "text/plain" }, body: "hello" },
      expect: { status: 400, bodyEquals: "unsupported content-type: text/plain, only application/json is supported" },
      upstreamCalls: { a429: 0, b: 0 },
    },
  ],
};

export const protocolSuite: ScenarioSuite = {
  name: "ai-proxy-multi protocols and pass-through",
  upstreams: { echo: { behaviour: "echo" }, drip: { behaviour: "sse-drip", events: 5, intervalMs: INTERVAL_MS } },
  apisixYaml: {
    routes: [
      aiRoute("echo", "/openai/*", { instances: [instance("echo", "echo")] }),
      aiRoute("stream", "/stream", { instances: [instance("drip", "drip")] }),
      aiRoute("small", "/small", { max_req_body_size: 16, instances: [instance("echo", "echo")] }),
      aiRoute("capped", "/stream-capped", { max_stream_duration_ms: 250, instances: [instance("drip", "drip")] }),
    ],
  },
  cases: [
    {
      name: "an untouched chat body goes out byte-for-byte, with every client header plus the instance auth",
      request: {
        path: "/openai/v1/chat/completions",
        headers: { authorization: "Bearer client-token", "x-ms-client-request-id": "req-1", "content-type": "application/json" },
        body: '{"model":"gpt-4o-mini",   "messages":[{"role":"user","content":"hi"}]}',
      },
      expect: { status: 200, json: { path: "/v1/chat/completions?" } },
      forwarded: {
        upstream: "echo",
        bodyEqualsClient: true,
        // 3.18 forwards all client headers (contract §5.3): Authorization reaches the backend unless an auth plugin strips it.
        headers: { "api-key": "instance-key-echo", authorization: "Bearer client-token", "x-ms-client-request-id": "req-1", "accept-encoding": null },
      },
      accessLog: { llm_prompt_tokens: "11", llm_total_tokens: "18" },
    },
    {
      name: "/v1/responses with input is openai-responses and goes to the responses path",
      request: { path: "/openai/v1/responses", body: { model: "gpt-4o-mini", input: "hi" } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", path: "/v1/responses?", bodyEqualsClient: true },
    },
    {
      name: "a body with input on any other path is openai-embeddings",
      request: { path: "/openai/deployments/emb/embeddings", body: { model: "text-embedding-3-small", input: "hi" } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", path: "/v1/embeddings?" },
    },
    {
      name: "a JSON body no protocol claims is passed through to the client's path, method and query",
      request: { path: "/openai/v1/completions?api-version=2024-10-21", method: "PUT", body: { model: "gpt-35", prompt: "hi" } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", method: "PUT", path: "/openai/v1/completions?api-version=2024-10-21", bodyEqualsClient: true },
    },
    {
      name: "a stream is relayed byte-for-byte, event by event, with its timing kept",
      request: { path: "/stream", body: STREAM_CHAT },
      expect: { status: 200, headers: { "content-type": /^text\/event-stream/ }, bodyIncludes: ["data: [DONE]"], bodyEqualsUpstream: "drip" },
      stream: { minChunks: 5, eventIntervalMs: INTERVAL_MS, toleranceMs: 30 },
      forwarded: { upstream: "drip", json: { stream: true, stream_options: { include_usage: true } } },
      accessLog: { status: "200", request_type: "ai_stream", llm_stream: "true", llm_prompt_tokens: "11", llm_completion_tokens: "7", llm_total_tokens: "18" },
    },
    {
      name: "a body larger than max_req_body_size is refused with 413",
      request: { path: "/small", body: CHAT },
      expect: { status: 413, bodyIncludes: ["is greater than the maximum size 16 allowed"] },
      upstreamCalls: { echo: 0 },
      errorLog: [/failed to read request body: .*greater than the maximum size 16 allowed/],
    },
    {
      name: "max_stream_duration_ms cuts a stream that already sent output, without a terminator",
      request: { path: "/stream-capped", body: STREAM_CHAT },
      expect: { status: 200, bodyIncludes: ['"content":"t0 "', '"content":"t1 "'], bodyExcludes: ["[DONE]", '"content":"t4 "'] },
      errorLog: [/aborting AI stream: max_stream_duration_ms exceeded/],
    },
  ],
};

export const hookSuite: ScenarioSuite = {
  name: "provider registered from lua_module_hook",
  upstreams: { echo: { behaviour: "echo" } },
  luaPaths: ["tests/host/fixtures/hook"],
  configYaml: { apisix: { lua_module_hook: "spillway_test_hook" } },
  apisixYaml: {
    routes: [aiRoute("hooked", "/hooked/*", { instances: [{ ...instance("alias", "echo"), provider: "standin-alias" }] })],
  },
  cases: [
    {
      name: "a provider name appended to the shared enum is accepted, and its ctx path callback runs",
      request: { path: "/hooked/chat", body: CHAT },
      expect: { status: 200 },
      forwarded: { upstream: "echo", path: "/alias/hooked/chat?" },
    },
  ],
};

const CLIENT_KEY = "sk-alice-0123456789abcdef";

/** azure-openai-auth in front of ai-proxy-multi: what reaches the LLM (contract §5.3: every client header is forwarded). */
export const authAiSuite: ScenarioSuite = {
  name: "azure-openai-auth in front of ai-proxy-multi",
  upstreams: { echo: { behaviour: "echo" } },
  apisixYaml: {
    routes: [{ id: "ai", uri: "/openai/*", plugins: { "azure-openai-auth": {}, "ai-proxy-multi": { instances: [instance("echo", "echo")] } } }],
    consumers: [{ username: "alice", plugins: { "azure-openai-auth": { key: CLIENT_KEY } } }],
  },
  cases: [
    {
      name: "the client's key never reaches the LLM; the instance key and the consumer name do",
      request: { path: "/openai/v1/chat/completions", headers: { authorization: `Bearer ${CLIENT_KEY}`, "api-key": CLIENT_KEY }, body: CHAT },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { authorization: null, "api-key": "instance-key-echo", "ocp-apim-subscription-key": null, "x-consumer-username": "alice" } },
    },
    {
      name: "an unauthenticated AI request is refused before any instance is tried",
      request: { path: "/openai/v1/chat/completions", body: CHAT },
      expect: { status: 401, json: { error: { code: "missing_api_key" } } },
      upstreamCalls: { echo: 0 },
    },
  ],
};

export const AI_PROXY_SUITES = [fallbackSuite, protocolSuite, hookSuite, authAiSuite];
