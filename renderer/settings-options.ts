/**
 * The non-indexed option groups of the settings: ai-proxy-multi transport options, active health checks, token
 * rate limiting, the low-priority reserve, Redis, telemetry and the runtime layout (ports, Lua path). Called only
 * from ./settings.ts.
 */
import type { FailoverConf } from "../plugins/spillway-failover/schema.ts";
import type { EnvReader } from "./env-values.ts";

export interface ProxyOptions {
  timeoutMs: number;
  maxRetries?: number;
  maxStreamDurationMs?: number;
  sslVerify: boolean;
  keepalive: boolean;
  keepaliveTimeoutMs: number;
  keepalivePool: number;
  balancer: { algorithm: "roundrobin" | "chash"; hashOn?: string; key?: string };
  logSummaries: boolean;
}

export interface HealthChecks {
  path: string;
  timeoutSeconds: number;
  healthyIntervalSeconds: number;
  unhealthyIntervalSeconds: number;
  verifyCert: boolean;
}

export interface RateLimit {
  strategy: "total_tokens" | "prompt_tokens" | "completion_tokens" | "expression";
  costExpr?: string;
  windowSeconds: number;
  highLimit: number;
  lowLimit?: number;
  rejectCode: number;
  rejectMessage?: string;
  per: "consumer" | "gateway";
  policy: "local" | "redis";
}

/** spillway-failover's `low_reserve`: what each backend keeps for high-priority traffic. */
export type LowReserve = NonNullable<FailoverConf["low_reserve"]>;

export interface RedisSettings {
  host: string;
  port?: number;
  passwordRef?: string;
  database?: number;
  timeoutMs?: number;
  ssl?: boolean;
  prefix?: string;
}

export interface Telemetry {
  /** host:port of the collector's OTLP/HTTP receiver. */
  collectorAddress: string;
  serviceName: string;
  sampleRate: number;
  appInsights: boolean;
  monitorWorkspaceEndpoint?: string;
  debugExporter: boolean;
}

export interface Runtime {
  listenHost: string;
  listenPort: number;
  metricsHost: string;
  metricsPort: number;
  statusHost: string;
  statusPort: number;
  /** Directory holding our Lua (apisix/plugins/..., spillway/hook.lua). */
  luaPath: string;
  aiHttpClient?: "lua-resty-http" | "ngx_http_ffi_client";
  cooldownDictSize: string;
  workerProcesses: string;
}

export interface Options {
  redis?: RedisSettings;
  proxy: ProxyOptions;
  healthChecks?: HealthChecks;
  rateLimit?: RateLimit;
  lowReserve?: LowReserve;
  logLevel: string;
  telemetry?: Telemetry;
  runtime: Runtime;
}

const SAMPLE_RATE_BY_MODE = { prod: 0.1, test: 0.5, dev: 1 } as const;
const HOST = /^[A-Za-z0-9.:[\]-]+$/;

function readProxy(r: EnvReader, logMode: keyof typeof SAMPLE_RATE_BY_MODE): ProxyOptions {
  const algorithm = r.oneOf("LB_ALG", ["roundrobin", "chash"] as const, "roundrobin");
  const balancer: ProxyOptions["balancer"] = { algorithm };
  if (algorithm === "chash") {
    balancer.hashOn = r.oneOf("LB_HASH_ON", ["consumer", "vars", "header", "cookie", "vars_combinations"] as const, "consumer");
    if (balancer.hashOn !== "consumer") {
      balancer.key = r.string("LB_HASH_KEY");
      if (balancer.key === undefined) r.problems.add("LB_HASH_KEY", `is required when LB_HASH_ON=${balancer.hashOn}; name the ${balancer.hashOn} to hash on`);
    }
  }
  const sslVerify = r.bool("SPILLWAY_SSL_VERIFY", true);
  if (!sslVerify) r.problems.warn("SPILLWAY_SSL_VERIFY", "is false: backend TLS certificates are not verified");
  return {
    timeoutMs: r.int("SPILLWAY_READ_TIMEOUT_MS", { fallback: 60000, min: 1, max: 600000 }),
    maxRetries: r.int("SPILLWAY_MAX_RETRIES", { min: 0 }),
    maxStreamDurationMs: r.int("SPILLWAY_MAX_STREAM_DURATION_MS", { min: 1 }),
    sslVerify,
    keepalive: r.bool("SPILLWAY_KEEPALIVE", true),
    keepaliveTimeoutMs: r.int("SPILLWAY_KEEPALIVE_TIMEOUT_MS", { fallback: 60000, min: 1000 }),
    keepalivePool: r.int("SPILLWAY_KEEPALIVE_POOL", { fallback: 30, min: 1 }),
    balancer,
    logSummaries: logMode !== "prod",
  };
}

function readHealthChecks(r: EnvReader): HealthChecks | undefined {
  if (!r.bool("APISIX_ACTIVE_HEALTH_CHECKS", false)) return undefined;
  const path = r.string("APISIX_ACTIVE_HEALTH_CHECKS_PATH", "/openai/v1/models");
  if (!path.startsWith("/")) r.problems.add("APISIX_ACTIVE_HEALTH_CHECKS_PATH", "must start with '/', e.g. /openai/v1/models");
  return {
    path,
    timeoutSeconds: r.number("APISIX_ACTIVE_HEALTH_CHECKS_TIMEOUT", { fallback: 1, min: 0.001, max: 60 }),
    healthyIntervalSeconds: r.int("APISIX_ACTIVE_HEALTH_CHECKS_HEALTHY_INTERVAL", { fallback: 10, min: 1 }),
    unhealthyIntervalSeconds: r.int("APISIX_ACTIVE_HEALTH_CHECKS_UNHEALTHY_INTERVAL", { fallback: 5, min: 1 }),
    verifyCert: r.bool("APISIX_ACTIVE_HEALTH_CHECKS_VERIFY_CERT", true),
  };
}

function readRedis(r: EnvReader, secrets: Record<string, string>): RedisSettings | undefined {
  const host = r.string("SPILLWAY_REDIS_HOST");
  const others = ["PORT", "PASSWORD", "DATABASE", "TIMEOUT_MS", "SSL", "PREFIX"].map((s) => `SPILLWAY_REDIS_${s}`).filter((v) => r.has(v));
  if (host === undefined) {
    if (others.length > 0) r.problems.add("SPILLWAY_REDIS_HOST", `missing, but ${others.join(", ")} is set; set the Redis host or remove those`);
    return undefined;
  }
  if (!HOST.test(host)) r.problems.add("SPILLWAY_REDIS_HOST", "must be a host name or IP address (no scheme, no port)");
  const redis: RedisSettings = { host };
  const port = r.int("SPILLWAY_REDIS_PORT", { min: 1, max: 65535 });
  if (port !== undefined) redis.port = port;
  const password = r.string("SPILLWAY_REDIS_PASSWORD");
  if (password !== undefined) {
    redis.passwordRef = "SPILLWAY_REDIS_PASSWORD";
    secrets.SPILLWAY_REDIS_PASSWORD = password;
  }
  const database = r.int("SPILLWAY_REDIS_DATABASE", { min: 0 });
  if (database !== undefined) redis.database = database;
  const timeoutMs = r.int("SPILLWAY_REDIS_TIMEOUT_MS", { min: 1 });
  if (timeoutMs !== undefined) redis.timeoutMs = timeoutMs;
  if (r.has("SPILLWAY_REDIS_SSL")) redis.ssl = r.bool("SPILLWAY_REDIS_SSL", false);
  const prefix = r.string("SPILLWAY_REDIS_PREFIX");
  if (prefix !== undefined) redis.prefix = prefix;
  return redis;
}

function readRateLimit(r: EnvReader, authRequired: boolean, redis: RedisSettings | undefined): RateLimit | undefined {
  if (!r.bool("ENABLE_AI_RATE_LIMIT", false)) return undefined;
  const named = r.oneOf("AI_RATE_LIMIT_STRATEGY", ["total_tokens", "prompt_tokens", "completion_tokens", "req", "expression"] as const, "total_tokens");
  let costExpr = r.string("AI_RATE_LIMIT_COST_EXPR");
  // APISIX has no request-count strategy; an expression that costs 1 per request is one (charged when usage is reported).
  if (named === "req") costExpr = "1";
  if (named === "expression" && costExpr === undefined) {
    r.problems.add("AI_RATE_LIMIT_COST_EXPR", "is required with AI_RATE_LIMIT_STRATEGY=expression, e.g. prompt_tokens + completion_tokens * 4");
  }
  const highLimit = r.int("AI_RATE_LIMIT_HIGH_LIMIT", { min: 1 });
  if (highLimit === undefined && !r.has("AI_RATE_LIMIT_HIGH_LIMIT")) {
    r.problems.add("AI_RATE_LIMIT_HIGH_LIMIT", "is required when ENABLE_AI_RATE_LIMIT=true; set the tokens (or requests) allowed per window, e.g. 100000");
  }
  const per = r.oneOf("AI_RATE_LIMIT_PER", ["consumer", "gateway"] as const, authRequired ? "consumer" : "gateway");
  if (per === "consumer" && !authRequired) {
    r.problems.add("AI_RATE_LIMIT_PER", "is consumer, but GATEWAY_REQUIRE_AUTH=false leaves no consumer to count; set AI_RATE_LIMIT_PER=gateway");
  }
  const policy = r.oneOf("AI_RATE_LIMIT_POLICY", ["local", "redis"] as const, "local");
  if (policy === "redis" && redis === undefined) r.problems.add("AI_RATE_LIMIT_POLICY", "is redis; set SPILLWAY_REDIS_HOST (and SPILLWAY_REDIS_PASSWORD)");
  const limit: RateLimit = {
    strategy: named === "req" ? "expression" : named,
    windowSeconds: r.int("AI_RATE_LIMIT_WINDOW_SECONDS", { fallback: 60, min: 1 }),
    highLimit: highLimit ?? 1,
    rejectCode: r.int("AI_RATE_LIMIT_REJECT_CODE", { fallback: 429, min: 200, max: 599 }),
    per,
    policy,
  };
  const lowLimit = r.int("AI_RATE_LIMIT_LOW_LIMIT", { min: 1 });
  if (lowLimit !== undefined) limit.lowLimit = lowLimit;
  if (costExpr !== undefined) limit.costExpr = costExpr;
  const message = r.string("AI_RATE_LIMIT_REJECT_MESSAGE");
  if (message !== undefined) limit.rejectMessage = message;
  return limit;
}

const WHOLE = /^\d+$/;
const PERCENT = /^(\d+(\.\d+)?|\.\d+)%$/;

/** One reserve figure: a whole number (absolute) or a percentage of the backend's reported limit. */
function readReserveFigure(r: EnvReader, name: string, example: number): { absolute?: number; percent?: number } {
  const value = r.raw(name);
  if (value === undefined) return {};
  const whole = WHOLE.test(value) ? Number(value) : undefined;
  if (whole !== undefined && Number.isSafeInteger(whole)) return { absolute: whole };
  const percent = PERCENT.exec(value);
  if (percent && Number(percent[1]) <= 100) return { percent: Number(percent[1]) };
  r.problems.add(name, `must be a whole number or a percentage of the backend's reported limit (0-100%), e.g. ${example} or 30%`);
  return {};
}

function readLowReserve(r: EnvReader): LowReserve | undefined {
  const tokens = readReserveFigure(r, "LOW_PRIORITY_RESERVE_TOKENS", 20000);
  const requests = readReserveFigure(r, "LOW_PRIORITY_RESERVE_REQUESTS", 50);
  const reserve: LowReserve = {};
  if (tokens.absolute !== undefined) reserve.tokens = tokens.absolute;
  if (tokens.percent !== undefined) reserve.tokens_percent = tokens.percent;
  if (requests.absolute !== undefined) reserve.requests = requests.absolute;
  if (requests.percent !== undefined) reserve.requests_percent = requests.percent;
  return Object.keys(reserve).length > 0 ? reserve : undefined;
}

function readTelemetry(r: EnvReader, logMode: keyof typeof SAMPLE_RATE_BY_MODE): Telemetry | undefined {
  const address = r.string("OTEL_COLLECTOR_ENDPOINT");
  if (address === undefined) return undefined;
  const collectorAddress = address.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(collectorAddress)) {
    r.problems.add("OTEL_COLLECTOR_ENDPOINT", "must be host:port of the collector's OTLP/HTTP receiver, e.g. localhost:4318");
  }
  const monitorWorkspaceEndpoint = r.string("AZURE_MONITOR_WORKSPACE_ENDPOINT");
  if (monitorWorkspaceEndpoint !== undefined && !/^https:\/\//.test(monitorWorkspaceEndpoint)) {
    r.problems.add("AZURE_MONITOR_WORKSPACE_ENDPOINT", "must be the https:// remote-write endpoint of the Azure Monitor workspace");
  }
  return {
    collectorAddress,
    serviceName: r.string("OTEL_SERVICE_NAME", "spillway"),
    sampleRate: r.number("OTEL_SAMPLE_RATE", { fallback: SAMPLE_RATE_BY_MODE[logMode], min: 0, max: 1 }),
    appInsights: r.has("APPLICATIONINSIGHTS_CONNECTION_STRING"),
    ...(monitorWorkspaceEndpoint !== undefined ? { monitorWorkspaceEndpoint } : {}),
    debugExporter: r.bool("ENABLE_DEBUG_EXPORTER", logMode === "dev"),
  };
}

function readRuntime(r: EnvReader): Runtime {
  const host = (name: string, fallback: string): string => {
    const value = r.string(name, fallback);
    if (!HOST.test(value)) r.problems.add(name, "must be an IP address or host name, e.g. 0.0.0.0");
    return value;
  };
  const luaPath = r.string("SPILLWAY_LUA_PATH", "/opt/spillway/lua").replace(/\/+$/, "");
  if (!luaPath.startsWith("/") || /[;?\s]/.test(luaPath)) {
    r.problems.add("SPILLWAY_LUA_PATH", "must be an absolute directory path without ';', '?' or spaces (the directory that holds apisix/plugins/)");
  }
  const dictSize = r.string("SPILLWAY_COOLDOWN_DICT_SIZE", "10m");
  if (!/^\d+[km]$/.test(dictSize)) r.problems.add("SPILLWAY_COOLDOWN_DICT_SIZE", "must be a size such as 10m or 512k");
  const workers = r.string("SPILLWAY_WORKER_PROCESSES", "auto");
  if (!/^(auto|[1-9]\d{0,2})$/.test(workers)) r.problems.add("SPILLWAY_WORKER_PROCESSES", "must be auto or a number of worker processes");
  const runtime: Runtime = {
    listenHost: host("SPILLWAY_LISTEN_HOST", "0.0.0.0"),
    listenPort: r.int("SPILLWAY_LISTEN_PORT", { fallback: 9080, min: 1, max: 65535 }),
    metricsHost: host("SPILLWAY_METRICS_HOST", "0.0.0.0"),
    metricsPort: r.int("SPILLWAY_METRICS_PORT", { fallback: 9091, min: 1, max: 65535 }),
    statusHost: host("SPILLWAY_STATUS_HOST", "0.0.0.0"),
    statusPort: r.int("SPILLWAY_STATUS_PORT", { fallback: 7085, min: 1, max: 65535 }),
    luaPath,
    cooldownDictSize: dictSize,
    workerProcesses: workers,
  };
  const client = r.oneOf("SPILLWAY_AI_HTTP_CLIENT", ["lua-resty-http", "ngx_http_ffi_client"] as const);
  if (client !== undefined) runtime.aiHttpClient = client;
  const ports = [["SPILLWAY_LISTEN_PORT", runtime.listenPort], ["SPILLWAY_METRICS_PORT", runtime.metricsPort], ["SPILLWAY_STATUS_PORT", runtime.statusPort]] as const;
  for (const [name, port] of ports) {
    const clash = ports.find(([other, p]) => other !== name && p === port);
    if (clash && name > clash[0]) r.problems.add(name, `uses port ${port}, already taken by ${clash[0]}; pick another port`);
  }
  return runtime;
}

export function readOptions(r: EnvReader, ctx: { logMode: keyof typeof SAMPLE_RATE_BY_MODE; authRequired: boolean; secrets: Record<string, string> }): Options {
  const redis = readRedis(r, ctx.secrets);
  const options: Options = {
    proxy: readProxy(r, ctx.logMode),
    logLevel: r.oneOf("APISIX_LOG_LEVEL", ["debug", "info", "notice", "warn", "error", "crit"] as const, ctx.logMode === "dev" ? "info" : "warn"),
    runtime: readRuntime(r),
  };
  if (redis) options.redis = redis;
  const healthChecks = readHealthChecks(r);
  if (healthChecks) options.healthChecks = healthChecks;
  const rateLimit = readRateLimit(r, ctx.authRequired, redis);
  if (rateLimit) options.rateLimit = rateLimit;
  const lowReserve = readLowReserve(r);
  if (lowReserve) options.lowReserve = lowReserve;
  const telemetry = readTelemetry(r, ctx.logMode);
  if (telemetry) options.telemetry = telemetry;
  return options;
}
