/**
 * TEST CODE. Scenarios for the azure-openai-auth plugin (plugins/azure-openai-auth): which headers carry a client key,
 * that credentials never reach the backend, the consumer identity that does, the 401 shape, and config validation.
 * Run on every host by tests/integration/scenarios.*.test.ts.
 */
import type { ScenarioSuite } from "./types.ts";

const ALICE_KEY = "sk-alice-0123456789abcdef";
const BOB_KEY = "sk-bob-0123456789abcdef";
const CAROL_KEY = "sk-carol-0123456789abcdef";

const echoUpstream = { nodes: { "{{upstream.echo.hostPort}}": 1 }, type: "roundrobin" };

/** No client credential may reach the backend (apisix-ai-contract.md §5.3: 3.18 forwards every client header). */
const NO_CREDENTIALS = { authorization: null, "api-key": null, "ocp-apim-subscription-key": null };

const UNAUTHORIZED_HEADERS = {
  "www-authenticate": 'Bearer realm="spillway"',
  "content-type": /^application\/json/,
};

export const authSuite: ScenarioSuite = {
  name: "azure-openai-auth",
  upstreams: { echo: { behaviour: "echo" } },
  apisixYaml: {
    routes: [
      { id: "auth-hidden", uri: "/openai/*", plugins: { "azure-openai-auth": {} }, upstream: echoUpstream },
      {
        id: "auth-kept",
        uri: "/kept/*",
        plugins: { "azure-openai-auth": { hide_credentials: false, realm: "kept" } },
        upstream: echoUpstream,
      },
    ],
    consumers: [
      { username: "alice", plugins: { "azure-openai-auth": { key: ALICE_KEY } } },
      { username: "bob", plugins: { "azure-openai-auth": { key: BOB_KEY } } },
      { username: "carol", plugins: { "azure-openai-auth": { key: CAROL_KEY } } },
    ],
  },
  cases: [
    {
      name: "a valid key in Authorization: Bearer reaches the upstream as that consumer, without credentials",
      request: { path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", headers: { authorization: `Bearer ${ALICE_KEY}` } },
      expect: { status: 200, json: { path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21" } },
      forwarded: { upstream: "echo", headers: { ...NO_CREDENTIALS, "x-consumer-username": "alice" } },
      upstreamCalls: { echo: 1 },
    },
    {
      name: "a valid key in api-key reaches the upstream as that consumer, without credentials",
      request: { path: "/openai/v1/models", headers: { "api-key": BOB_KEY } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { ...NO_CREDENTIALS, "x-consumer-username": "bob" } },
      upstreamCalls: { echo: 1 },
    },
    {
      name: "a valid key in ocp-apim-subscription-key reaches the upstream as that consumer, without credentials",
      request: { path: "/openai/v1/models", headers: { "ocp-apim-subscription-key": CAROL_KEY } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { ...NO_CREDENTIALS, "x-consumer-username": "carol" } },
      upstreamCalls: { echo: 1 },
    },
    {
      name: "every credential header is stripped, not only the one that authenticated",
      request: {
        path: "/openai/v1/chat/completions",
        method: "POST",
        headers: { authorization: `Bearer ${ALICE_KEY}`, "api-key": "sk-unused-0123456789abcdef", "ocp-apim-subscription-key": "sk-other-0123456789abcdef" },
        body: { messages: [{ role: "user", content: "hi" }] },
      },
      expect: { status: 200 },
      forwarded: { upstream: "echo", method: "POST", bodyEqualsClient: true, headers: { ...NO_CREDENTIALS, "x-consumer-username": "alice" } },
    },
    {
      name: "a client-sent X-Consumer-Username is replaced by the authenticated consumer",
      request: { path: "/openai/v1/models", headers: { "api-key": ALICE_KEY, "x-consumer-username": "mallory" } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { "x-consumer-username": "alice" } },
    },
    {
      name: "Bearer scheme is case-insensitive",
      request: { path: "/openai/v1/models", headers: { authorization: `bearer ${BOB_KEY}` } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { ...NO_CREDENTIALS, "x-consumer-username": "bob" } },
    },
    {
      name: "a missing key gets 401 with an OpenAI-style error body and WWW-Authenticate",
      request: { path: "/openai/v1/models" },
      expect: {
        status: 401,
        headers: UNAUTHORIZED_HEADERS,
        json: { error: { code: "missing_api_key", type: "invalid_request_error", param: null } },
        bodyIncludes: ["Missing API key"],
      },
      upstreamCalls: { echo: 0 },
    },
    {
      name: "an unknown key gets 401 invalid_api_key and is never forwarded",
      request: { path: "/openai/v1/models", headers: { authorization: "Bearer sk-nobody-0123456789abcdef" } },
      expect: { status: 401, headers: UNAUTHORIZED_HEADERS, json: { error: { code: "invalid_api_key", type: "invalid_request_error", param: null } } },
      upstreamCalls: { echo: 0 },
      errorLog: [/unknown key presented in header authorization/],
    },
    {
      name: "the key is never written to the error log",
      request: { path: "/openai/v1/models", headers: { "api-key": "sk-secret-never-logged-0123" } },
      expect: { status: 401 },
      errorLog: [/unknown key presented in header api-key/],
      errorLogExcludes: ["sk-secret-never-logged-0123"],
    },
    {
      name: "a wrong Bearer token wins over a valid api-key (the first present header decides)",
      request: { path: "/openai/v1/models", headers: { authorization: "Bearer sk-wrong-0123456789abcdef", "api-key": ALICE_KEY } },
      expect: { status: 401, json: { error: { code: "invalid_api_key" } } },
      upstreamCalls: { echo: 0 },
    },
    {
      name: "a wrong api-key wins over a valid ocp-apim-subscription-key",
      request: { path: "/openai/v1/models", headers: { "api-key": "sk-wrong-0123456789abcdef", "ocp-apim-subscription-key": BOB_KEY } },
      expect: { status: 401, json: { error: { code: "invalid_api_key" } } },
      upstreamCalls: { echo: 0 },
    },
    {
      name: "a non-Bearer Authorization falls through to a valid api-key",
      request: { path: "/openai/v1/models", headers: { authorization: "Basic dXNlcjpwYXNz", "api-key": BOB_KEY } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { ...NO_CREDENTIALS, "x-consumer-username": "bob" } },
    },
    {
      name: "hide_credentials: false forwards the credential headers",
      request: { path: "/kept/v1/models", headers: { "api-key": ALICE_KEY, authorization: "Basic dXNlcjpwYXNz" } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { "api-key": ALICE_KEY, authorization: "Basic dXNlcjpwYXNz", "x-consumer-username": "alice" } },
    },
    {
      name: "the route's realm is named in WWW-Authenticate",
      request: { path: "/kept/v1/models" },
      expect: { status: 401, headers: { "www-authenticate": 'Bearer realm="kept"' } },
    },
  ],
};

/** Invalid configuration: APISIX logs and skips the item; the rest still loads (apisix-runtime-notes.md §8). */
export const authConfigSuite: ScenarioSuite = {
  name: "azure-openai-auth configuration validation",
  upstreams: { echo: { behaviour: "echo" } },
  apisixYaml: {
    routes: [
      { id: "valid", uri: "/openai/*", plugins: { "azure-openai-auth": {} }, upstream: echoUpstream },
      { id: "bad-conf", uri: "/bad/*", plugins: { "azure-openai-auth": { hide_credentials: "yes" } }, upstream: echoUpstream },
    ],
    consumers: [
      { username: "shorty", plugins: { "azure-openai-auth": { key: "sk-too-short" } } },
      { username: "dave", plugins: { "azure-openai-auth": { key: "sk-dave-0123456789abcdef" } } },
    ],
  },
  startupErrors: [
    /failed to check item data of \[consumers\] err:.*azure-openai-auth.*"key" validation failed: string too short, expected at least 16, got 12/,
    /failed to check item data of \[routes\] err:.*azure-openai-auth.*"hide_credentials" validation failed: wrong type: expected boolean, got string/,
  ],
  cases: [
    {
      name: "a consumer whose key is shorter than 16 characters is not loaded",
      request: { path: "/openai/v1/models", headers: { "api-key": "sk-too-short" } },
      expect: { status: 401, json: { error: { code: "invalid_api_key" } } },
      upstreamCalls: { echo: 0 },
    },
    {
      name: "the valid consumer next to it still authenticates",
      request: { path: "/openai/v1/models", headers: { "api-key": "sk-dave-0123456789abcdef" } },
      expect: { status: 200 },
      forwarded: { upstream: "echo", headers: { "x-consumer-username": "dave" } },
    },
    {
      name: "a route with an invalid plugin conf is not loaded (404)",
      request: { path: "/bad/v1/models", headers: { "api-key": "sk-dave-0123456789abcdef" } },
      expect: { status: 404, json: { error_msg: "404 Route Not Found" } },
      upstreamCalls: { echo: 0 },
    },
  ],
};

export const AUTH_SUITES = [authSuite, authConfigSuite];
