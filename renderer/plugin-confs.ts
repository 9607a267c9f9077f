/**
 * Plugin confs as APISIX sees them, built from settings. Secret values come from the `secrets` record (or its
 * redacted stand-in for --dry-run); nothing here reads the environment.
 */
import { PROVIDER_NAME, type BodylessBackend, type FailoverConf } from "../plugins/spillway-failover/schema.ts";
import type { EntraConf } from "../plugins/azure-openai-dynamic/entra-schema.ts";
import type { Backend, Client, Lane, RateLimit, Secrets, Settings } from "./settings.ts";

type Json = Record<string, unknown>;

export function secret(secrets: Secrets, ref: string): string {
  const value = secrets[ref];
  if (value === undefined) throw new Error(`renderer: no secret value for ${ref}`);
  return value;
}

/** An api-key backend's header; an Entra ID backend has none (identity.ts adds its token per attempt). */
function apiKeyHeader(secrets: Secrets, b: Backend): Record<string, string> {
  return b.auth === "api-key" && b.keyRef !== undefined ? { "api-key": secret(secrets, b.keyRef) } : {};
}

/** The `entra` object of an Entra ID backend (plugins/azure-openai-dynamic/entra-schema.ts). */
function entraConf(b: Backend): EntraConf {
  return b.clientId !== undefined ? { client_id: b.clientId } : {};
}

/**
 * Per instance, because ai-proxy-multi 3.18 reads `checks` only there (plugin level is ignored). Probes carry the
 * instance's `auth.header` only, so an Entra ID backend is probed without a credential: its 401 shows that it is up.
 */
function healthCheck(settings: Settings, b: Backend): Json | undefined {
  const hc = settings.healthChecks;
  if (!hc) return undefined;
  return {
    active: {
      type: b.endpoint.scheme,
      host: b.endpoint.host,
      port: b.endpoint.port,
      timeout: hc.timeoutSeconds,
      http_path: hc.path,
      https_verify_certificate: hc.verifyCert,
      healthy: { interval: hc.healthyIntervalSeconds, http_statuses: b.auth === "entra" ? [200, 401] : [200], successes: 1 },
      // 429 is left to the cooldown, which knows how long the backend asked to wait.
      unhealthy: { interval: hc.unhealthyIntervalSeconds, http_statuses: [500, 502, 503, 504], http_failures: 2, tcp_failures: 2, timeouts: 2 },
    },
  };
}

/** The instances of one lane's routes: the backends whose AZURE_OPENAI_LANES_N include it. */
export function aiProxyMulti(settings: Settings, secrets: Secrets, lane: Lane): Json {
  const p = settings.proxy;
  const balancer: Json = { algorithm: p.balancer.algorithm };
  if (p.balancer.hashOn !== undefined) balancer.hash_on = p.balancer.hashOn;
  if (p.balancer.key !== undefined) balancer.key = p.balancer.key;
  const conf: Json = {
    balancer,
    fallback_strategy: ["http_429", "http_5xx"],
    timeout: p.timeoutMs,
    keepalive: p.keepalive,
    keepalive_timeout: p.keepaliveTimeoutMs,
    keepalive_pool: p.keepalivePool,
    ssl_verify: p.sslVerify,
    // Flush every SSE chunk as it arrives: 3.18's default 10 ms flush tick adds ~11 ms to the first streamed byte
    // and up to 7 ms to gaps (performance-baseline.md).
    streaming_flush_interval_ms: 0,
  };
  if (p.maxRetries !== undefined) conf.max_retries = p.maxRetries;
  if (p.maxStreamDurationMs !== undefined) conf.max_stream_duration_ms = p.maxStreamDurationMs;
  if (p.logSummaries) conf.logging = { summaries: true, payloads: false };
  conf.instances = settings.backends.filter((b) => b.lanes.includes(lane)).map((b) => {
    const inst: Json = {
      name: b.name,
      provider: PROVIDER_NAME,
      priority: b.priority,
      weight: b.weight,
      // 3.18 requires `auth`; an Entra ID instance has nothing static in it (its token comes per attempt).
      auth: b.auth === "entra" ? {} : { header: apiKeyHeader(secrets, b) },
      override: { endpoint: b.endpoint.origin },
    };
    const providerConf: Json = {};
    if (b.deployments) providerConf.deployments = { ...b.deployments };
    if (b.auth === "entra") providerConf.entra = entraConf(b);
    if (Object.keys(providerConf).length > 0) inst.provider_conf = providerConf;
    const checks = healthCheck(settings, b);
    if (checks) inst.checks = checks;
    return inst;
  });
  return conf;
}

/** The reserve only on API routes: the body-less ones (models, responses get/delete/cancel) spend no tokens. */
export function failover(settings: Settings, secrets: Secrets, route: "api" | "bodyless"): Partial<FailoverConf> {
  const conf: Partial<FailoverConf> = { ...settings.failover };
  if (route === "api" && settings.lowReserve) conf.low_reserve = { ...settings.lowReserve };
  const r = settings.redis;
  if (r) {
    const redis: Json = { host: r.host };
    if (r.port !== undefined) redis.port = r.port;
    if (r.passwordRef !== undefined) redis.password = secret(secrets, r.passwordRef);
    if (r.database !== undefined) redis.database = r.database;
    if (r.timeoutMs !== undefined) redis.timeout_ms = r.timeoutMs;
    if (r.ssl !== undefined) redis.ssl = r.ssl;
    if (r.prefix !== undefined) redis.prefix = r.prefix;
    conf.redis = redis as FailoverConf["redis"];
  }
  return conf;
}

/** The backends spillway-failover calls itself on body-less routes: highest priority first, then by index. */
export function bodylessBackends(settings: Settings, secrets: Secrets): BodylessBackend[] {
  return [...settings.backends]
    .sort((a, b) => b.priority - a.priority || a.index - b.index)
    .map((b) => ({
      name: b.name,
      endpoint: b.endpoint.origin,
      priority: b.priority,
      auth: b.auth === "entra" ? { header: {}, entra: entraConf(b) } : { header: apiKeyHeader(secrets, b) },
    }));
}

/**
 * Request variables azure-openai-auth sets from the consumer's `budget` once the client is known: 3.18's limit-count
 * resolves a string `count` through ctx.var, so one rule serves every client with its own bucket size.
 */
const BUDGET_VARIABLE: Record<Lane, string> = { high: "$spillway_budget_high", low: "$spillway_budget_low" };

/** A client's bucket sizes per lane: its overrides, else the gateway's limits; the low lane defaults to the high. */
export function clientBudget(rl: RateLimit, client: Client): Record<Lane, number> {
  const high = client.tokenLimit ?? rl.highLimit;
  return { high, low: client.lowTokenLimit ?? rl.lowLimit ?? high };
}

/**
 * ai-rate-limiting 3.18: `limit`/`time_window` for one gateway-wide bucket, otherwise `rules` keyed by consumer whose
 * count is the consumer's budget variable for this lane.
 */
export function aiRateLimiting(settings: Settings, secrets: Secrets, rl: RateLimit, lane: Lane): Json {
  const conf: Json = {};
  if (rl.per === "consumer") {
    conf.rules = [{ count: BUDGET_VARIABLE[lane], time_window: rl.windowSeconds, key: "$consumer_name", header_prefix: lane === "low" ? "consumer-low" : "consumer" }];
  } else {
    conf.limit = lane === "low" ? rl.lowLimit ?? rl.highLimit : rl.highLimit;
    conf.time_window = rl.windowSeconds;
  }
  conf.limit_strategy = rl.strategy;
  if (rl.costExpr !== undefined) conf.cost_expr = rl.costExpr;
  conf.show_limit_quota_header = true;
  conf.rejected_code = rl.rejectCode;
  if (rl.rejectMessage !== undefined) conf.rejected_msg = rl.rejectMessage;
  conf.policy = rl.policy;
  const r = settings.redis;
  if (rl.policy === "redis" && r) {
    conf.redis_host = r.host;
    if (r.port !== undefined) conf.redis_port = r.port;
    if (r.passwordRef !== undefined) conf.redis_password = secret(secrets, r.passwordRef);
    if (r.database !== undefined) conf.redis_database = r.database;
    if (r.timeoutMs !== undefined) conf.redis_timeout = r.timeoutMs;
    if (r.ssl !== undefined) conf.redis_ssl = r.ssl;
  }
  return conf;
}

export function openTelemetry(settings: Settings): Json | undefined {
  const t = settings.telemetry;
  if (!t) return undefined;
  const root = t.sampleRate >= 1 ? { name: "always_on" } : t.sampleRate <= 0 ? { name: "always_off" } : { name: "trace_id_ratio", options: { fraction: t.sampleRate } };
  // parent_base: follow the caller's sampling decision when it sends traceparent, else sample at the configured rate.
  return { sampler: { name: "parent_base", options: { root } } };
}
