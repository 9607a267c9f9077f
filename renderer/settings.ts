/**
 * The one module that reads Spillway's configuration from the environment. `loadSettings(env)` takes any env record
 * (process env, env files, Key Vault, merged by ./sources.ts), never mutates it, and either returns typed settings
 * plus the secret values kept apart, or throws one ConfigError listing every problem.
 * Every variable is documented in docs/configuration.md (a test checks that).
 */
import { schema as failoverSchema, type FailoverConf } from "../plugins/spillway-failover/schema.ts";
import { ConfigError } from "../lib/errors.ts";
import { EnvReader, Problems, type EnvRecord } from "./env-values.ts";
import { BACKEND_PREFIX, CLIENT_PREFIX, readBackends, readClients, type Backend, type Client } from "./settings-groups.ts";
import { readOptions } from "./settings-options.ts";
import type { HealthChecks, LowReserve, ProxyOptions, RateLimit, RedisSettings, Runtime, Telemetry } from "./settings-options.ts";

export type { Backend, Client, Lane } from "./settings-groups.ts";
export type { HealthChecks, LowReserve, ProxyOptions, RateLimit, RedisSettings, Runtime, Telemetry } from "./settings-options.ts";

export type LogMode = "prod" | "test" | "dev";
/** The operator-set numbers of the failover conf (redis and backends are built from other settings). */
type NumericKey = { [K in keyof FailoverConf]-?: FailoverConf[K] extends number ? K : never }[keyof FailoverConf];
export type FailoverOverrides = Partial<Pick<FailoverConf, NumericKey>>;

export interface Settings {
  backends: Backend[];
  auth: { required: boolean; clients: Client[] };
  /** Only what the operator set; the plugin schema holds the defaults. */
  failover: FailoverOverrides;
  redis?: RedisSettings;
  proxy: ProxyOptions;
  healthChecks?: HealthChecks;
  rateLimit?: RateLimit;
  /** On API routes only: body-less routes never carry low-priority work. */
  lowReserve?: LowReserve;
  logMode: LogMode;
  logLevel: string;
  e2e: { enabled: boolean; prefixes: string[] };
  telemetry?: Telemetry;
  runtime: Runtime;
}

/** Secret values by variable name; settings only hold the names (keyRef, passwordRef). */
export type Secrets = Record<string, string>;

export interface LoadedSettings {
  settings: Settings;
  secrets: Secrets;
  warnings: string[];
}

/** spillway-failover conf key ← variable. Minimums come from the plugin schema itself. */
export const FAILOVER_VARIABLES: ReadonlyArray<readonly [string, keyof FailoverOverrides]> = [
  ["SPILLWAY_COOLDOWN_429_MS", "default_429_cooldown_ms"],
  ["SPILLWAY_COOLDOWN_MAX_MS", "max_cooldown_ms"],
  ["SPILLWAY_COOLDOWN_ERROR_MS", "error_cooldown_ms"],
  ["SPILLWAY_COOLDOWN_ERROR_THRESHOLD", "error_threshold"],
  ["SPILLWAY_COOLDOWN_TOKENS_FLOOR", "remaining_tokens_floor"],
  ["SPILLWAY_CONNECT_TIMEOUT_MS", "connect_timeout_ms"],
  ["SPILLWAY_SEND_TIMEOUT_MS", "send_timeout_ms"],
  ["SPILLWAY_FIRST_BYTE_TIMEOUT_MS", "first_byte_timeout_ms"],
  ["SPILLWAY_MAX_WAIT_MS", "max_wait_ms"],
  ["SPILLWAY_AFFINITY_TTL_S", "affinity_ttl_s"],
];

/** Variables of the original accelerator whose meaning moved; reading them silently would hide a setting. */
const RENAMED: Record<string, string> = {
  AI_PROXY_CONNECT_TIMEOUT: "use SPILLWAY_CONNECT_TIMEOUT_MS (milliseconds)",
  AI_PROXY_SEND_TIMEOUT: "use SPILLWAY_SEND_TIMEOUT_MS (milliseconds)",
  AI_PROXY_READ_TIMEOUT: "use SPILLWAY_FIRST_BYTE_TIMEOUT_MS and SPILLWAY_READ_TIMEOUT_MS (milliseconds)",
  GATEWAY_CLIENT_KEY: "use GATEWAY_CLIENT_NAME_0 and GATEWAY_CLIENT_KEY_0",
  RESPONSES_AFFINITY_REDIS_HOST: "use SPILLWAY_REDIS_HOST",
  RESPONSES_AFFINITY_REDIS_PORT: "use SPILLWAY_REDIS_PORT",
  RESPONSES_AFFINITY_REDIS_PASSWORD: "use SPILLWAY_REDIS_PASSWORD",
};

/** Guardrails of the original that Spillway does not render: turning one on must not be silently ignored. */
const UNSUPPORTED_SWITCHES = ["ENABLE_CORS", "ENABLE_IP_RESTRICTION", "ENABLE_RATE_LIMIT", "ENABLE_QUOTA", "ENABLE_OIDC", "ENABLE_CACHE", "ENABLE_RESPONSE_REWRITE"];

/** Exact variable names this module reads (besides the indexed AZURE_OPENAI_*_N and GATEWAY_CLIENT_*_N). */
export const KNOWN_VARIABLES: readonly string[] = [
  "AZURE_OPENAI_MSI_CLIENT_ID", "GATEWAY_REQUIRE_AUTH", "GATEWAY_LOG_MODE", "APISIX_LOG_LEVEL", "GATEWAY_E2E_TEST_MODE", "GATEWAY_E2E_ROUTE_PREFIXES",
  ...FAILOVER_VARIABLES.map(([v]) => v),
  "SPILLWAY_REDIS_HOST", "SPILLWAY_REDIS_PORT", "SPILLWAY_REDIS_PASSWORD", "SPILLWAY_REDIS_DATABASE", "SPILLWAY_REDIS_TIMEOUT_MS",
  "SPILLWAY_REDIS_SSL", "SPILLWAY_REDIS_PREFIX",
  "SPILLWAY_READ_TIMEOUT_MS", "SPILLWAY_MAX_RETRIES", "SPILLWAY_MAX_STREAM_DURATION_MS", "SPILLWAY_SSL_VERIFY", "SPILLWAY_KEEPALIVE",
  "SPILLWAY_KEEPALIVE_TIMEOUT_MS", "SPILLWAY_KEEPALIVE_POOL", "SPILLWAY_ALLOW_HTTP_BACKENDS", "LB_ALG", "LB_HASH_ON", "LB_HASH_KEY",
  "APISIX_ACTIVE_HEALTH_CHECKS", "APISIX_ACTIVE_HEALTH_CHECKS_PATH", "APISIX_ACTIVE_HEALTH_CHECKS_TIMEOUT",
  "APISIX_ACTIVE_HEALTH_CHECKS_HEALTHY_INTERVAL", "APISIX_ACTIVE_HEALTH_CHECKS_UNHEALTHY_INTERVAL", "APISIX_ACTIVE_HEALTH_CHECKS_VERIFY_CERT",
  "ENABLE_AI_RATE_LIMIT", "AI_RATE_LIMIT_STRATEGY", "AI_RATE_LIMIT_COST_EXPR", "AI_RATE_LIMIT_WINDOW_SECONDS", "AI_RATE_LIMIT_HIGH_LIMIT",
  "AI_RATE_LIMIT_LOW_LIMIT", "AI_RATE_LIMIT_REJECT_CODE", "AI_RATE_LIMIT_REJECT_MESSAGE", "AI_RATE_LIMIT_PER", "AI_RATE_LIMIT_POLICY",
  "LOW_PRIORITY_RESERVE_TOKENS", "LOW_PRIORITY_RESERVE_REQUESTS",
  "OTEL_COLLECTOR_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_SAMPLE_RATE", "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "AZURE_MONITOR_WORKSPACE_ENDPOINT", "ENABLE_DEBUG_EXPORTER",
  "SPILLWAY_LISTEN_HOST", "SPILLWAY_LISTEN_PORT", "SPILLWAY_METRICS_HOST", "SPILLWAY_METRICS_PORT", "SPILLWAY_STATUS_HOST",
  "SPILLWAY_STATUS_PORT", "SPILLWAY_LUA_PATH", "SPILLWAY_AI_HTTP_CLIENT", "SPILLWAY_COOLDOWN_DICT_SIZE", "SPILLWAY_WORKER_PROCESSES",
];

/** Variables that configure access to Key Vault itself: read from the environment only, never from the vault. */
export const KEY_VAULT_LOCATORS = ["KEY_VAULT_URI", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "SPILLWAY_ENV_OVERRIDES"] as const;

/** Variables whose values are secrets: redacted in --dry-run, never echoed in messages. */
export function isSecretVariable(name: string): boolean {
  return /^(AZURE_OPENAI_KEY|GATEWAY_CLIENT_KEY)_\d+$/.test(name) || name === "SPILLWAY_REDIS_PASSWORD" || name === "APPLICATIONINSIGHTS_CONNECTION_STRING";
}

/** A name Spillway reads: Key Vault secrets mapped to anything else are skipped. */
export function isKnownVariable(name: string): boolean {
  return KNOWN_VARIABLES.includes(name) || new RegExp(`^(${BACKEND_PREFIX}|${CLIENT_PREFIX})[A-Z][A-Z_]*_\\d+$`).test(name);
}

/** The only place that touches process.env: a copy, so nothing downstream can mutate it. */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/** `problems` stay one per entry (tests, callers); the message is the readable list. */
export function configError(list: string[]): ConfigError {
  const err = new ConfigError(list);
  err.message = `invalid configuration, nothing was written (${list.length} problem${list.length === 1 ? "" : "s"}):\n${list.map((p) => `  - ${p}`).join("\n")}`;
  return err;
}

function readFailover(r: EnvReader): FailoverOverrides {
  const out: FailoverOverrides = {};
  const props = failoverSchema.properties as Record<string, { minimum?: number }>;
  for (const [variable, key] of FAILOVER_VARIABLES) {
    const value = r.int(variable, { min: props[key]?.minimum ?? 0 });
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function checkLegacy(r: EnvReader): void {
  for (const [variable, advice] of Object.entries(RENAMED)) {
    if (r.has(variable)) r.problems.add(variable, `is not read by Spillway; ${advice}`);
  }
  for (const variable of UNSUPPORTED_SWITCHES) {
    if (r.bool(variable, false)) r.problems.add(variable, "is not supported by Spillway's renderer (it would be silently ignored); remove it or set it to false");
  }
  for (const variable of Object.keys(r.env)) {
    if (/^(SPILLWAY|AI_RATE_LIMIT|LOW_PRIORITY)_/.test(variable) && r.has(variable) && !isKnownVariable(variable) && !KEY_VAULT_LOCATORS.includes(variable as never)) {
      r.problems.warn(variable, "is not a Spillway setting and is ignored; check the spelling against docs/configuration.md");
    }
  }
}

/** GATEWAY_CLIENT_(LOW_)TOKEN_LIMIT_N replace a per-client bucket's size, so they need per-client buckets. */
function checkClientLimits(r: EnvReader, clients: Client[], rateLimit: RateLimit | undefined): void {
  for (const c of clients) {
    for (const field of ["TOKEN_LIMIT", "LOW_TOKEN_LIMIT"]) {
      const variable = `${CLIENT_PREFIX}${field}_${c.index}`;
      if (!r.has(variable)) continue;
      if (rateLimit === undefined) {
        r.problems.add(variable, "sets a per-client token limit, but ENABLE_AI_RATE_LIMIT is not true; turn rate limiting on (ENABLE_AI_RATE_LIMIT=true) or remove it");
      } else if (rateLimit.per === "gateway") {
        r.problems.add(variable, "sets a per-client token limit, but AI_RATE_LIMIT_PER=gateway keeps one bucket for everyone; set AI_RATE_LIMIT_PER=consumer or remove it");
      }
    }
  }
}

export function loadSettings(env: EnvRecord): LoadedSettings {
  const problems = new Problems();
  const r = new EnvReader(env, problems);
  const secrets: Secrets = {};
  checkLegacy(r);

  const allowHttp = r.bool("SPILLWAY_ALLOW_HTTP_BACKENDS", false);
  const backends = readBackends(r, allowHttp, secrets);
  const required = r.bool("GATEWAY_REQUIRE_AUTH", true);
  const clients = readClients(r, secrets);
  if (required && clients.length === 0 && !problems.list.some((p) => p.startsWith(CLIENT_PREFIX))) {
    problems.add("GATEWAY_CLIENT_KEY_0", "auth is on (the default) but no client is configured; set GATEWAY_CLIENT_NAME_0 and GATEWAY_CLIENT_KEY_0, or set GATEWAY_REQUIRE_AUTH=false explicitly");
  }
  if (!required) {
    problems.warn("GATEWAY_REQUIRE_AUTH", "is false: the gateway accepts requests without a client key; anyone who can reach it can spend your Azure OpenAI quota");
    if (clients.length > 0) problems.warn("GATEWAY_CLIENT_KEY_0", "clients are configured but ignored because GATEWAY_REQUIRE_AUTH=false");
  }

  const logMode = r.oneOf("GATEWAY_LOG_MODE", ["prod", "test", "dev"] as const, "prod");
  const options = readOptions(r, { logMode, authRequired: required, secrets });
  checkClientLimits(r, clients, options.rateLimit);
  const e2eEnabled = r.bool("GATEWAY_E2E_TEST_MODE", false);
  const prefixes = (r.string("GATEWAY_E2E_ROUTE_PREFIXES") ?? "retry-with-payg,round-robin-simple,round-robin-weighted,usage-tracking")
    .split(",").map((p) => p.trim()).filter((p) => p !== "");
  for (const prefix of prefixes) {
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(prefix)) problems.add("GATEWAY_E2E_ROUTE_PREFIXES", `"${prefix}" must be lower-case letters, digits and '-'`);
  }
  if (e2eEnabled) problems.warn("GATEWAY_E2E_TEST_MODE", "is true: test-only routes are rendered; never use it in production");

  const settings: Settings = {
    backends,
    auth: { required, clients: required ? clients : [] },
    failover: readFailover(r),
    ...options,
    logMode,
    e2e: { enabled: e2eEnabled, prefixes },
  };
  if (problems.list.length > 0) throw configError(problems.list);
  return { settings, secrets, warnings: problems.warnings };
}
