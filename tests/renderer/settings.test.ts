// Settings: every validation message (table-driven), booleans, defaults, warnings, and "all problems at once".
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isKnownVariable, isSecretVariable, KNOWN_VARIABLES, loadSettings } from "../../renderer/settings.ts";
import { ConfigError } from "../../lib/errors.ts";
import { repoRoot } from "../../scripts/lib/pins.ts";
import { FULL_ENV, MINIMAL_ENV } from "./fixtures.ts";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

const B0 = { AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com", AZURE_OPENAI_KEY_0: "backend-key-0" };
const C0 = { GATEWAY_CLIENT_NAME_0: "alice", GATEWAY_CLIENT_KEY_0: "alice-key-0123456789" };
const OK = { ...B0, ...C0 };

/** [case, env, exact problem line expected]. */
const CASES: [string, Record<string, string>, string][] = [
  ["no backend at all", { ...C0 }, "AZURE_OPENAI_ENDPOINT_0: no backend configured; set AZURE_OPENAI_ENDPOINT_0 and AZURE_OPENAI_KEY_0, or AZURE_OPENAI_AUTH_MODE_0=entra (more with _1, _2, …)"],
  ["backend index gap", { ...OK, AZURE_OPENAI_ENDPOINT_2: "https://c.openai.azure.com", AZURE_OPENAI_KEY_2: "k2" },
    "AZURE_OPENAI_*_1: missing, but backend 2 is set; backend indexes run 0, 1, 2, … without gaps — add backend 1 or renumber the ones after it"],
  ["index with a leading zero", { ...OK, AZURE_OPENAI_ENDPOINT_01: "https://b.openai.azure.com", AZURE_OPENAI_KEY_1: "k1" },
    "AZURE_OPENAI_ENDPOINT_01: write the index without leading zeros, as AZURE_OPENAI_ENDPOINT_1"],
  ["same index spelled twice", { ...OK, AZURE_OPENAI_KEY_00: "other" },
    "AZURE_OPENAI_KEY_00: duplicates AZURE_OPENAI_KEY_0 (both set KEY of backend 0); keep only AZURE_OPENAI_KEY_0"],
  ["missing endpoint", { ...C0, AZURE_OPENAI_KEY_0: "k" }, "AZURE_OPENAI_ENDPOINT_0: missing; set the backend's URL, e.g. https://<resource>.openai.azure.com"],
  ["api-key mode without a key", { ...C0, AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com", AZURE_OPENAI_AUTH_MODE_0: "api-key" },
    "AZURE_OPENAI_KEY_0: missing; AZURE_OPENAI_AUTH_MODE_0=api-key needs the backend's api-key (Azure portal → Keys and Endpoint)"],
  ["unknown auth mode (the original's aliases included)", { ...OK, AZURE_OPENAI_AUTH_MODE_0: "aad" }, "AZURE_OPENAI_AUTH_MODE_0: must be one of: api-key, entra"],
  ["Entra ID client id that is not a GUID", { ...C0, AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com", AZURE_OPENAI_MSI_CLIENT_ID_0: "gateway-identity" },
    "AZURE_OPENAI_MSI_CLIENT_ID_0: is not a client id; backend 0 uses Entra ID and needs the client id (a GUID, e.g. from `az identity show --query clientId`) of a user-assigned managed identity, or nothing for the system-assigned one"],
  ["shared Entra ID client id that is not a GUID", { ...C0, AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com", AZURE_OPENAI_MSI_CLIENT_ID: "x" },
    "AZURE_OPENAI_MSI_CLIENT_ID: is not a client id; backend 0 uses Entra ID and needs the client id (a GUID, e.g. from `az identity show --query clientId`) of a user-assigned managed identity, or nothing for the system-assigned one"],
  ["not a URL", { ...OK, AZURE_OPENAI_ENDPOINT_0: "contoso.openai.azure.com" }, "AZURE_OPENAI_ENDPOINT_0: is not a URL; write it as https://<resource>.openai.azure.com"],
  ["bad scheme", { ...OK, AZURE_OPENAI_ENDPOINT_0: "ftp://a.openai.azure.com" },
    'AZURE_OPENAI_ENDPOINT_0: uses the scheme "ftp"; only https (and http for a local simulator) are supported'],
  ["endpoint with a path", { ...OK, AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com/openai/v1" },
    'AZURE_OPENAI_ENDPOINT_0: has the path "/openai/v1"; give scheme and host only (the gateway forwards the client\'s path)'],
  ["endpoint with a query", { ...OK, AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com/?sig=SECRET-SAS" },
    "AZURE_OPENAI_ENDPOINT_0: has a query or fragment; give scheme and host only, e.g. https://<resource>.openai.azure.com"],
  ["endpoint with credentials", { ...OK, AZURE_OPENAI_ENDPOINT_0: "https://user:pw@a.openai.azure.com" },
    "AZURE_OPENAI_ENDPOINT_0: contains credentials; remove user:password@ from the URL and put the key in the matching AZURE_OPENAI_KEY_N"],
  ["plain http to a remote host", { ...OK, AZURE_OPENAI_ENDPOINT_0: "http://a.openai.azure.com" },
    "AZURE_OPENAI_ENDPOINT_0: uses http to a non-loopback host; use https, or set SPILLWAY_ALLOW_HTTP_BACKENDS=true for a test backend"],
  ["fractional weight", { ...OK, AZURE_OPENAI_WEIGHT_0: "1.5" }, "AZURE_OPENAI_WEIGHT_0: is not a whole number; write digits only, e.g. AZURE_OPENAI_WEIGHT_0=1"],
  ["negative weight", { ...OK, AZURE_OPENAI_WEIGHT_0: "-1" }, "AZURE_OPENAI_WEIGHT_0: must be at least 0"],
  ["word as priority", { ...OK, AZURE_OPENAI_PRIORITY_0: "high" }, "AZURE_OPENAI_PRIORITY_0: is not a whole number; write digits only, e.g. AZURE_OPENAI_PRIORITY_0=0"],
  ["duplicate backend names", { ...OK, AZURE_OPENAI_NAME_0: "eu", AZURE_OPENAI_ENDPOINT_1: "https://b.openai.azure.com", AZURE_OPENAI_KEY_1: "k1", AZURE_OPENAI_NAME_1: "eu" },
    'AZURE_OPENAI_NAME_1: repeats the backend name "eu" of AZURE_OPENAI_NAME_0; backend names must be unique'],
  ["backend name with spaces", { ...OK, AZURE_OPENAI_NAME_0: "east us" },
    "AZURE_OPENAI_NAME_0: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"],
  ["misspelled indexed field", { ...OK, AZURE_OPENAI_WIEGHT_0: "2" },
    "AZURE_OPENAI_WIEGHT_0: is not a Spillway setting; the backend settings are AZURE_OPENAI_ENDPOINT_N, AZURE_OPENAI_KEY_N, AZURE_OPENAI_NAME_N, AZURE_OPENAI_WEIGHT_N, AZURE_OPENAI_PRIORITY_N, AZURE_OPENAI_DEPLOYMENTS_N, AZURE_OPENAI_AUTH_MODE_N, AZURE_OPENAI_MSI_CLIENT_ID_N, AZURE_OPENAI_LANES_N"],
  ["token resource of the original", { ...OK, AZURE_OPENAI_TOKEN_RESOURCE_0: "https://cognitiveservices.azure.com/" },
    "AZURE_OPENAI_TOKEN_RESOURCE_0: is not a Spillway setting; Entra ID backends always get tokens for https://cognitiveservices.azure.com (Azure OpenAI and AI Foundry); remove it"],
  ["alias without '='", { ...OK, AZURE_OPENAI_DEPLOYMENTS_0: "gpt-4o" },
    'AZURE_OPENAI_DEPLOYMENTS_0: "gpt-4o" is not client-name=deployment; write e.g. gpt-4o=gpt-4o-eu,text-embedding-3-small=emb'],
  ["alias mapped twice", { ...OK, AZURE_OPENAI_DEPLOYMENTS_0: "a=b,a=c" }, 'AZURE_OPENAI_DEPLOYMENTS_0: maps "a" twice; keep one entry'],
  ["backend key with a space", { ...OK, AZURE_OPENAI_KEY_0: "abc def" },
    "AZURE_OPENAI_KEY_0: contains whitespace; keys travel in HTTP headers — copy the key again without spaces"],
  ["key with an APISIX env reference", { ...OK, AZURE_OPENAI_KEY_0: "abc${{HOME}}" },
    "AZURE_OPENAI_KEY_0: contains ${{, which APISIX would treat as an environment reference; use another key"],
  ["auth on, no clients", { ...B0 },
    "GATEWAY_CLIENT_KEY_0: auth is on (the default) but no client is configured; set GATEWAY_CLIENT_NAME_0 and GATEWAY_CLIENT_KEY_0, or set GATEWAY_REQUIRE_AUTH=false explicitly"],
  ["client without key", { ...B0, GATEWAY_CLIENT_NAME_0: "alice" }, "GATEWAY_CLIENT_KEY_0: missing; set the key this client sends, e.g. from `openssl rand -hex 24`"],
  ["client without name", { ...B0, GATEWAY_CLIENT_KEY_0: "alice-key-0123456789" },
    "GATEWAY_CLIENT_NAME_0: missing; set the client's name (letters, digits, '_' or '-'), used in logs and limits"],
  ["client key too short", { ...B0, GATEWAY_CLIENT_NAME_0: "alice", GATEWAY_CLIENT_KEY_0: "s3cr3t" },
    "GATEWAY_CLIENT_KEY_0: is shorter than 16 characters; generate a longer key, e.g. `openssl rand -hex 24`"],
  ["two clients share a key", { ...OK, GATEWAY_CLIENT_NAME_1: "bob", GATEWAY_CLIENT_KEY_1: "alice-key-0123456789" },
    "GATEWAY_CLIENT_KEY_1: has the same key as GATEWAY_CLIENT_KEY_0; every client needs its own key"],
  ["two clients share a name", { ...OK, GATEWAY_CLIENT_NAME_1: "alice", GATEWAY_CLIENT_KEY_1: "bob-key-0123456789ab" },
    'GATEWAY_CLIENT_NAME_1: repeats the client name "alice" of GATEWAY_CLIENT_NAME_0; client names must be unique'],
  ["client name with a dot", { ...OK, GATEWAY_CLIENT_NAME_0: "alice.smith" },
    "GATEWAY_CLIENT_NAME_0: must be 1-100 letters, digits, '_' or '-' (APISIX consumer name rule)"],
  ["client index gap", { ...OK, GATEWAY_CLIENT_NAME_2: "carol", GATEWAY_CLIENT_KEY_2: "carol-key-0123456789" },
    "GATEWAY_CLIENT_*_1: missing, but client 2 is set; client indexes run 0, 1, 2, … without gaps — add client 1 or renumber the ones after it"],
  ["boolean spelled 'maybe'", { ...OK, GATEWAY_REQUIRE_AUTH: "maybe" }, "GATEWAY_REQUIRE_AUTH: is not a boolean; use true or false (also accepted: 1/0, yes/no, any case)"],
  ["boolean spelled 'on'", { ...OK, GATEWAY_E2E_TEST_MODE: "on" }, "GATEWAY_E2E_TEST_MODE: is not a boolean; use true or false (also accepted: 1/0, yes/no, any case)"],
  ["old timeout variable", { ...OK, AI_PROXY_READ_TIMEOUT: "300" },
    "AI_PROXY_READ_TIMEOUT: is not read by Spillway; use SPILLWAY_FIRST_BYTE_TIMEOUT_MS and SPILLWAY_READ_TIMEOUT_MS (milliseconds)"],
  ["legacy single client key", { ...OK, GATEWAY_CLIENT_KEY: "x" }, "GATEWAY_CLIENT_KEY: is not read by Spillway; use GATEWAY_CLIENT_NAME_0 and GATEWAY_CLIENT_KEY_0"],
  ["unsupported guardrail turned on", { ...OK, ENABLE_CORS: "true" },
    "ENABLE_CORS: is not supported by Spillway's renderer (it would be silently ignored); remove it or set it to false"],
  ["failover value below the plugin schema minimum", { ...OK, SPILLWAY_COOLDOWN_ERROR_THRESHOLD: "0" }, "SPILLWAY_COOLDOWN_ERROR_THRESHOLD: must be at least 1"],
  ["redis settings without a host", { ...OK, SPILLWAY_REDIS_PORT: "6379" },
    "SPILLWAY_REDIS_HOST: missing, but SPILLWAY_REDIS_PORT is set; set the Redis host or remove those"],
  ["redis host with a scheme", { ...OK, SPILLWAY_REDIS_HOST: "redis://cache" }, "SPILLWAY_REDIS_HOST: must be a host name or IP address (no scheme, no port)"],
  ["rate limit without a limit", { ...OK, ENABLE_AI_RATE_LIMIT: "true" },
    "AI_RATE_LIMIT_HIGH_LIMIT: is required when ENABLE_AI_RATE_LIMIT=true; set the tokens (or requests) allowed per window, e.g. 100000"],
  ["expression strategy without expression", { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", AI_RATE_LIMIT_STRATEGY: "expression" },
    "AI_RATE_LIMIT_COST_EXPR: is required with AI_RATE_LIMIT_STRATEGY=expression, e.g. prompt_tokens + completion_tokens * 4"],
  ["unknown strategy", { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", AI_RATE_LIMIT_STRATEGY: "words" },
    "AI_RATE_LIMIT_STRATEGY: must be one of: total_tokens, prompt_tokens, completion_tokens, req, expression"],
  ["per-consumer limit with auth off", { ...B0, GATEWAY_REQUIRE_AUTH: "false", ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", AI_RATE_LIMIT_PER: "consumer" },
    "AI_RATE_LIMIT_PER: is consumer, but GATEWAY_REQUIRE_AUTH=false leaves no consumer to count; set AI_RATE_LIMIT_PER=gateway"],
  ["redis policy without redis", { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", AI_RATE_LIMIT_POLICY: "redis" },
    "AI_RATE_LIMIT_POLICY: is redis; set SPILLWAY_REDIS_HOST (and SPILLWAY_REDIS_PASSWORD)"],
  ["collector given as a URL path", { ...OK, OTEL_COLLECTOR_ENDPOINT: "http://collector/v1/traces" },
    "OTEL_COLLECTOR_ENDPOINT: must be host:port of the collector's OTLP/HTTP receiver, e.g. localhost:4318"],
  ["sample rate above 1", { ...OK, OTEL_COLLECTOR_ENDPOINT: "localhost:4318", OTEL_SAMPLE_RATE: "10" }, "OTEL_SAMPLE_RATE: must be a number from 0 to 1"],
  ["metrics port equal to the API port", { ...OK, SPILLWAY_METRICS_PORT: "9080" },
    "SPILLWAY_METRICS_PORT: uses port 9080, already taken by SPILLWAY_LISTEN_PORT; pick another port"],
  ["relative Lua path", { ...OK, SPILLWAY_LUA_PATH: "build/lua" },
    "SPILLWAY_LUA_PATH: must be an absolute directory path without ';', '?' or spaces (the directory that holds apisix/plugins/)"],
  ["unknown AI HTTP client", { ...OK, SPILLWAY_AI_HTTP_CLIENT: "curl" }, "SPILLWAY_AI_HTTP_CLIENT: must be one of: lua-resty-http, ngx_http_ffi_client"],
  ["chash on a header without a key", { ...OK, LB_ALG: "chash", LB_HASH_ON: "header" },
    "LB_HASH_KEY: is required when LB_HASH_ON=header; name the header to hash on"],
  ["health-check path without '/'", { ...OK, APISIX_ACTIVE_HEALTH_CHECKS: "true", APISIX_ACTIVE_HEALTH_CHECKS_PATH: "healthz" },
    "APISIX_ACTIVE_HEALTH_CHECKS_PATH: must start with '/', e.g. /openai/v1/models"],
  ["log mode", { ...OK, GATEWAY_LOG_MODE: "verbose" }, "GATEWAY_LOG_MODE: must be one of: prod, test, dev"],
  ["E2E prefix with a slash", { ...OK, GATEWAY_E2E_ROUTE_PREFIXES: "a/b" }, "GATEWAY_E2E_ROUTE_PREFIXES: \"a/b\" must be lower-case letters, digits and '-'"],
  ...["medium", "high,,low", "high,high", "high;low", "both"].map((value): [string, Record<string, string>, string] => [
    `backend lanes "${value}"`, { ...OK, AZURE_OPENAI_LANES_0: value }, "AZURE_OPENAI_LANES_0: must be high,low (both lanes, the default), high or low"]),
  ["no backend serving the low lane", { ...OK, AZURE_OPENAI_LANES_0: "high", AZURE_OPENAI_ENDPOINT_1: "https://b.openai.azure.com", AZURE_OPENAI_KEY_1: "k1", AZURE_OPENAI_LANES_1: "high" },
    "AZURE_OPENAI_LANES_0: no backend serves the low lane (every AZURE_OPENAI_LANES_N leaves it out); let at least one serve it, e.g. AZURE_OPENAI_LANES_0=high,low"],
  ["no backend serving the high lane", { ...OK, AZURE_OPENAI_LANES_0: "low" },
    "AZURE_OPENAI_LANES_0: no backend serves the high lane (every AZURE_OPENAI_LANES_N leaves it out); let at least one serve it, e.g. AZURE_OPENAI_LANES_0=high,low"],
  ...["many", "-5", "1.5", "150%", "30 %", "%", "1e3", "-1%"].flatMap((value): [string, Record<string, string>, string][] => [
    [`token reserve "${value}"`, { ...OK, LOW_PRIORITY_RESERVE_TOKENS: value },
      "LOW_PRIORITY_RESERVE_TOKENS: must be a whole number or a percentage of the backend's reported limit (0-100%), e.g. 20000 or 30%"],
    [`request reserve "${value}"`, { ...OK, LOW_PRIORITY_RESERVE_REQUESTS: value },
      "LOW_PRIORITY_RESERVE_REQUESTS: must be a whole number or a percentage of the backend's reported limit (0-100%), e.g. 50 or 30%"],
  ]),
  ...["TOKEN_LIMIT", "LOW_TOKEN_LIMIT"].flatMap((field): [string, Record<string, string>, string][] => [
    [`client ${field} without rate limiting`, { ...OK, [`GATEWAY_CLIENT_${field}_0`]: "5000" },
      `GATEWAY_CLIENT_${field}_0: sets a per-client token limit, but ENABLE_AI_RATE_LIMIT is not true; turn rate limiting on (ENABLE_AI_RATE_LIMIT=true) or remove it`],
    [`client ${field} with one gateway-wide bucket`, { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", AI_RATE_LIMIT_PER: "gateway", [`GATEWAY_CLIENT_${field}_0`]: "5000" },
      `GATEWAY_CLIENT_${field}_0: sets a per-client token limit, but AI_RATE_LIMIT_PER=gateway keeps one bucket for everyone; set AI_RATE_LIMIT_PER=consumer or remove it`],
    [`client ${field} of 0`, { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", [`GATEWAY_CLIENT_${field}_0`]: "0" }, `GATEWAY_CLIENT_${field}_0: must be at least 1`],
    [`client ${field} as a word`, { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", [`GATEWAY_CLIENT_${field}_0`]: "lots" },
      `GATEWAY_CLIENT_${field}_0: is not a whole number; write digits only, e.g. GATEWAY_CLIENT_${field}_0=1`],
  ]),
];

describe("settings validation messages", () => {
  it.each(CASES)("%s", (_name, env, expected) => {
    expect(problemsOf(env)).toContain(expected);
  });

  it("accepts the baseline the cases start from", () => {
    expect(problemsOf(OK)).toEqual([]);
  });

  it("reports every problem at once, in one ConfigError with a readable message", () => {
    const env = { AZURE_OPENAI_ENDPOINT_0: "ftp://x", AZURE_OPENAI_AUTH_MODE_0: "api-key", AZURE_OPENAI_WEIGHT_0: "x", GATEWAY_REQUIRE_AUTH: "perhaps", SPILLWAY_LISTEN_PORT: "0" };
    let caught: unknown;
    try {
      loadSettings(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.exitCode).toBe(3);
    expect(err.problems.map((p) => p.split(":")[0])).toEqual(
      expect.arrayContaining(["AZURE_OPENAI_KEY_0", "AZURE_OPENAI_ENDPOINT_0", "AZURE_OPENAI_WEIGHT_0", "GATEWAY_REQUIRE_AUTH", "SPILLWAY_LISTEN_PORT"]),
    );
    expect(err.message).toMatch(/^invalid configuration, nothing was written \(\d+ problems\):\n {2}- /);
  });

  it("never echoes a secret or a pasted SAS token in a message", () => {
    const secretValues = ["sig=SECRET-SAS", "s3cr3t", "abc def", "alice-key-0123456789"];
    const all = CASES.flatMap(([, env]) => problemsOf(env)).join("\n");
    for (const s of secretValues) expect(all).not.toContain(s);
  });
});

describe("settings values", () => {
  it.each([
    ["true", true], ["TRUE", true], ["1", true], ["yes", true], ["Yes", true],
    ["false", false], ["False", false], ["0", false], ["no", false], ["NO", false],
  ])("reads the boolean %s as %s", (raw, value) => {
    expect(loadSettings({ ...OK, GATEWAY_E2E_TEST_MODE: raw }).settings.e2e.enabled).toBe(value);
  });

  it("treats an empty or blank value as unset", () => {
    const { settings } = loadSettings({ ...OK, AZURE_OPENAI_WEIGHT_0: "", AZURE_OPENAI_NAME_0: "  ", GATEWAY_REQUIRE_AUTH: "" });
    expect(settings.backends[0]).toMatchObject({ weight: 1, name: "backend-0", priority: 0 });
    expect(settings.auth.required).toBe(true);
  });

  it("has auth on by default and needs an explicit false to turn it off, with a warning", () => {
    expect(loadSettings(OK).settings.auth.required).toBe(true);
    const off = loadSettings({ ...B0, GATEWAY_REQUIRE_AUTH: "false" });
    expect(off.settings.auth).toEqual({ required: false, clients: [] });
    expect(off.warnings.join("\n")).toMatch(/^GATEWAY_REQUIRE_AUTH: is false: the gateway accepts requests without a client key/);
  });

  it("warns that clients are ignored when auth is off", () => {
    expect(loadSettings({ ...OK, GATEWAY_REQUIRE_AUTH: "no" }).warnings).toContain(
      "GATEWAY_CLIENT_KEY_0: clients are configured but ignored because GATEWAY_REQUIRE_AUTH=false",
    );
  });

  it("warns about an unknown SPILLWAY_ variable instead of ignoring it silently", () => {
    expect(loadSettings({ ...OK, SPILLWAY_COOLDOWN_MS: "5" }).warnings).toContain(
      "SPILLWAY_COOLDOWN_MS: is not a Spillway setting and is ignored; check the spelling against docs/configuration.md",
    );
  });

  it("allows plain http to a loopback simulator, and elsewhere only when explicitly allowed", () => {
    expect(problemsOf({ ...OK, AZURE_OPENAI_ENDPOINT_0: "http://127.0.0.1:8000" })).toEqual([]);
    expect(problemsOf({ ...OK, AZURE_OPENAI_ENDPOINT_0: "http://sim:8000", SPILLWAY_ALLOW_HTTP_BACKENDS: "true" })).toEqual([]);
  });

  it("keeps secrets apart from settings: settings name the variable, secrets hold the value", () => {
    const { settings, secrets } = loadSettings(FULL_ENV);
    expect(JSON.stringify(settings)).not.toContain(FULL_ENV.AZURE_OPENAI_KEY_0);
    expect(JSON.stringify(settings)).not.toContain(FULL_ENV.SPILLWAY_REDIS_PASSWORD);
    expect(settings.backends.map((b) => b.keyRef)).toEqual(["AZURE_OPENAI_KEY_0", "AZURE_OPENAI_KEY_1", "AZURE_OPENAI_KEY_2"]);
    expect(Object.keys(secrets).sort()).toEqual([
      "AZURE_OPENAI_KEY_0", "AZURE_OPENAI_KEY_1", "AZURE_OPENAI_KEY_2", "GATEWAY_CLIENT_KEY_0", "GATEWAY_CLIENT_KEY_1", "SPILLWAY_REDIS_PASSWORD",
    ]);
  });

  it("maps AI_RATE_LIMIT_STRATEGY=req to a cost of one per request (APISIX has no request strategy)", () => {
    const { settings } = loadSettings({ ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "60", AI_RATE_LIMIT_STRATEGY: "req" });
    expect(settings.rateLimit).toMatchObject({ strategy: "expression", costExpr: "1", per: "consumer", rejectCode: 429, windowSeconds: 60 });
  });

  it("only keeps the failover values the operator set (the plugin schema owns the defaults)", () => {
    expect(loadSettings(MINIMAL_ENV).settings.failover).toEqual({});
    expect(loadSettings(FULL_ENV).settings.failover).toEqual({
      default_429_cooldown_ms: 15000, max_cooldown_ms: 60000, error_threshold: 3, first_byte_timeout_ms: 120000, max_wait_ms: 2000,
    });
  });

  it.each([
    [undefined, ["high", "low"]], ["high,low", ["high", "low"]], [" Low , HIGH ", ["high", "low"]], ["high", ["high"]], ["low", ["low"]],
  ])("reads AZURE_OPENAI_LANES_N=%s as the lanes %j", (value, lanes) => {
    const env = { ...OK, AZURE_OPENAI_ENDPOINT_1: "https://b.openai.azure.com", AZURE_OPENAI_KEY_1: "k1", ...(value !== undefined ? { AZURE_OPENAI_LANES_1: value } : {}) };
    expect(loadSettings(env).settings.backends.map((b) => b.lanes)).toEqual([["high", "low"], lanes]);
  });

  it.each([
    ["0", { tokens: 0 }], ["20000", { tokens: 20000 }], ["30%", { tokens_percent: 30 }], ["12.5%", { tokens_percent: 12.5 }], ["0%", { tokens_percent: 0 }], ["100%", { tokens_percent: 100 }],
  ])("reads LOW_PRIORITY_RESERVE_TOKENS=%s as %j", (value, reserve) => {
    expect(loadSettings({ ...OK, LOW_PRIORITY_RESERVE_TOKENS: value }).settings.lowReserve).toEqual(reserve);
  });

  it("reads LOW_PRIORITY_RESERVE_REQUESTS the same way, and no reserve when neither is set", () => {
    expect(loadSettings({ ...OK, LOW_PRIORITY_RESERVE_REQUESTS: "50" }).settings.lowReserve).toEqual({ requests: 50 });
    expect(loadSettings({ ...OK, LOW_PRIORITY_RESERVE_REQUESTS: "7.5%", LOW_PRIORITY_RESERVE_TOKENS: "1000" }).settings.lowReserve).toEqual({ tokens: 1000, requests_percent: 7.5 });
    expect(loadSettings(OK).settings.lowReserve).toBeUndefined();
  });

  it("reads a client's token limits when its bucket is per client", () => {
    const env = { ...OK, ENABLE_AI_RATE_LIMIT: "true", AI_RATE_LIMIT_HIGH_LIMIT: "10", GATEWAY_CLIENT_TOKEN_LIMIT_0: "700", GATEWAY_CLIENT_LOW_TOKEN_LIMIT_0: "300" };
    expect(loadSettings(env).settings.auth.clients[0]).toEqual({ index: 0, name: "alice", keyRef: "GATEWAY_CLIENT_KEY_0", tokenLimit: 700, lowTokenLimit: 300 });
  });

  it("warns about an unknown LOW_PRIORITY_ variable", () => {
    expect(loadSettings({ ...OK, LOW_PRIORITY_RESERVE: "5" }).warnings).toContain(
      "LOW_PRIORITY_RESERVE: is not a Spillway setting and is ignored; check the spelling against docs/configuration.md",
    );
  });

  it("reads the Responses affinity lifetime, and 0 turns it off", () => {
    expect(loadSettings({ ...MINIMAL_ENV, SPILLWAY_AFFINITY_TTL_S: "3600" }).settings.failover).toEqual({ affinity_ttl_s: 3600 });
    expect(loadSettings({ ...MINIMAL_ENV, SPILLWAY_AFFINITY_TTL_S: "0" }).settings.failover).toEqual({ affinity_ttl_s: 0 });
  });

  it("follows GATEWAY_LOG_MODE for log level, summaries and sampling unless overridden", () => {
    const dev = loadSettings({ ...OK, GATEWAY_LOG_MODE: "dev", OTEL_COLLECTOR_ENDPOINT: "localhost:4318" }).settings;
    expect([dev.logLevel, dev.proxy.logSummaries, dev.telemetry?.sampleRate, dev.telemetry?.debugExporter]).toEqual(["info", true, 1, true]);
    const prod = loadSettings({ ...OK, OTEL_COLLECTOR_ENDPOINT: "localhost:4318", APISIX_LOG_LEVEL: "error" }).settings;
    expect([prod.logLevel, prod.proxy.logSummaries, prod.telemetry?.sampleRate]).toEqual(["error", false, 0.1]);
  });
});

describe("Entra ID backends (AZURE_OPENAI_AUTH_MODE_N)", () => {
  const E0 = { ...C0, AZURE_OPENAI_ENDPOINT_0: "https://a.openai.azure.com" };
  const ID = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

  it("a backend with a key uses it (api-key), one without uses the gateway's managed identity (entra)", () => {
    const { settings, secrets } = loadSettings({ ...OK, AZURE_OPENAI_ENDPOINT_1: "https://b.openai.azure.com" });
    expect(settings.backends.map((b) => [b.auth, b.keyRef])).toEqual([["api-key", "AZURE_OPENAI_KEY_0"], ["entra", undefined]]);
    expect(Object.keys(secrets).filter((k) => k.startsWith("AZURE_OPENAI_"))).toEqual(["AZURE_OPENAI_KEY_0"]);
  });

  it("an explicit entra ignores a key that is still set, with a warning, and keeps it out of the secrets", () => {
    const { settings, secrets, warnings } = loadSettings({ ...OK, AZURE_OPENAI_AUTH_MODE_0: "Entra" });
    expect(settings.backends[0]).toMatchObject({ auth: "entra" });
    expect(settings.backends[0]!.keyRef).toBeUndefined();
    expect(secrets.AZURE_OPENAI_KEY_0).toBeUndefined();
    expect(warnings).toContain("AZURE_OPENAI_KEY_0: is ignored: AZURE_OPENAI_AUTH_MODE_0=entra, so the gateway sends its managed identity's token; remove the key (a keyless gateway holds none)");
  });

  it("picks the identity: AZURE_OPENAI_MSI_CLIENT_ID_N, then AZURE_OPENAI_MSI_CLIENT_ID, then AZURE_CLIENT_ID, else system-assigned", () => {
    const clientIdOf = (env: Record<string, string>) => loadSettings({ ...E0, ...env }).settings.backends[0]!.clientId;
    expect(clientIdOf({ AZURE_OPENAI_MSI_CLIENT_ID_0: ID(1), AZURE_OPENAI_MSI_CLIENT_ID: ID(2), AZURE_CLIENT_ID: ID(3) })).toBe(ID(1));
    expect(clientIdOf({ AZURE_OPENAI_MSI_CLIENT_ID: ID(2), AZURE_CLIENT_ID: ID(3) })).toBe(ID(2));
    expect(clientIdOf({ AZURE_CLIENT_ID: ID(3) })).toBe(ID(3));
    expect(clientIdOf({})).toBeUndefined();
  });

  it("ignores a client id on an api-key backend, with a warning", () => {
    const { settings, warnings } = loadSettings({ ...OK, AZURE_OPENAI_MSI_CLIENT_ID_0: ID(1) });
    expect(settings.backends[0]).toMatchObject({ auth: "api-key" });
    expect(settings.backends[0]!.clientId).toBeUndefined();
    expect(warnings).toContain("AZURE_OPENAI_MSI_CLIENT_ID_0: is ignored: backend 0 authenticates with its api-key (AZURE_OPENAI_KEY_0); remove it, or set AZURE_OPENAI_AUTH_MODE_0=entra");
  });

  it("reports a bad shared client id once, however many backends use it", () => {
    const env = { ...E0, AZURE_OPENAI_ENDPOINT_1: "https://b.openai.azure.com", AZURE_CLIENT_ID: "not-a-guid" };
    expect(problemsOf(env).filter((p) => p.startsWith("AZURE_CLIENT_ID:"))).toHaveLength(1);
  });
});

describe("the variable catalogue", () => {
  /** Records every name the settings module reads from the env record. */
  function readNames(env: Record<string, string>): Set<string> {
    const seen = new Set<string>();
    const proxy = new Proxy(env, {
      get(target, key) {
        if (typeof key === "string") seen.add(key);
        return target[key as string];
      },
    });
    loadSettings(proxy);
    return seen;
  }

  it("lists every variable the settings read in KNOWN_VARIABLES", () => {
    const enableAll = { ...FULL_ENV, LB_ALG: "chash", LB_HASH_ON: "header", LB_HASH_KEY: "x-user", AI_RATE_LIMIT_STRATEGY: "expression", AI_RATE_LIMIT_COST_EXPR: "1", AZURE_OPENAI_LANES_2: "low" };
    const unknown = [...readNames(enableAll)].filter((n) => !isKnownVariable(n) && !/^(ENABLE_(CORS|IP_RESTRICTION|RATE_LIMIT|QUOTA|OIDC|CACHE|RESPONSE_REWRITE)|AI_PROXY_|RESPONSES_AFFINITY_|GATEWAY_CLIENT_KEY$)/.test(n));
    expect(unknown).toEqual([]);
  });

  it("documents every variable in docs/configuration.md", () => {
    const doc = readFileSync(path.join(repoRoot, "docs/configuration.md"), "utf8");
    const missing = [...KNOWN_VARIABLES, "AZURE_OPENAI_ENDPOINT_N", "AZURE_OPENAI_KEY_N", "AZURE_OPENAI_NAME_N", "AZURE_OPENAI_WEIGHT_N", "AZURE_OPENAI_PRIORITY_N",
      "AZURE_OPENAI_DEPLOYMENTS_N", "AZURE_OPENAI_LANES_N", "GATEWAY_CLIENT_NAME_N", "GATEWAY_CLIENT_KEY_N", "GATEWAY_CLIENT_TOKEN_LIMIT_N", "GATEWAY_CLIENT_LOW_TOKEN_LIMIT_N",
      "KEY_VAULT_URI", "AZURE_CLIENT_ID", "SPILLWAY_ENV_OVERRIDES"]
      .filter((v) => !doc.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it("classifies secret variables", () => {
    expect(["AZURE_OPENAI_KEY_3", "GATEWAY_CLIENT_KEY_0", "SPILLWAY_REDIS_PASSWORD", "APPLICATIONINSIGHTS_CONNECTION_STRING"].every(isSecretVariable)).toBe(true);
    expect(["AZURE_OPENAI_ENDPOINT_0", "GATEWAY_CLIENT_NAME_0", "SPILLWAY_REDIS_HOST"].some(isSecretVariable)).toBe(false);
  });
});
