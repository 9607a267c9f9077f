/**
 * Typed checks of what we render for APISIX's own plugins and resources, written from the 3.18.0 schemas
 * (apisix/plugins/ai-proxy/schema.lua `ai_proxy_multi_schema`, schema_def.lua `health_checker_active`, `route`,
 * `consumer`). Stricter than APISIX on purpose: an unknown key is an error here, because APISIX would accept and
 * ignore it — the original accelerator's per-instance `timeout` and plugin-level `checks` were exactly that.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

class Checker {
  readonly errors: string[] = [];
  constructor(private readonly where: string) {}

  fail(path: string, message: string): void {
    this.errors.push(`${this.where}${path}: ${message}`);
  }

  keys(o: Obj, path: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(`${path}/${k}`, "is not a key APISIX 3.18 reads here");
  }

  int(o: Obj, key: string, path: string, opts: { min?: number; max?: number; required?: boolean } = {}): void {
    const v = o[key];
    if (v === undefined) {
      if (opts.required) this.fail(`${path}/${key}`, "is required");
      return;
    }
    if (!isInt(v)) return this.fail(`${path}/${key}`, "must be an integer");
    if (opts.min !== undefined && v < opts.min) this.fail(`${path}/${key}`, `must be >= ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail(`${path}/${key}`, `must be <= ${opts.max}`);
  }

  type(o: Obj, key: string, path: string, type: "string" | "boolean" | "number", required = false): void {
    const v = o[key];
    if (v === undefined) {
      if (required) this.fail(`${path}/${key}`, "is required");
      return;
    }
    if (typeof v !== type) this.fail(`${path}/${key}`, `must be a ${type}`);
  }

  oneOf(o: Obj, key: string, path: string, allowed: readonly string[]): void {
    const v = o[key];
    if (v !== undefined && (typeof v !== "string" || !allowed.includes(v))) this.fail(`${path}/${key}`, `must be one of ${allowed.join(", ")}`);
  }
}

/** ai-providers/schema.lua's built-in names plus the one our lua_module_hook appends. */
export function knownProviders(ours: string): string[] {
  return ["openai", "deepseek", "aimlapi", "anthropic", "openai-compatible", "azure-openai", "openrouter", "gemini", "vertex-ai", "bedrock", ours];
}

const STATUS_LIST = (c: Checker, o: Obj, path: string): void => {
  const v = o.http_statuses;
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => isInt(s) && s >= 200 && s <= 599) || new Set(v).size !== v.length) {
    c.fail(`${path}/http_statuses`, "must be a non-empty list of distinct status codes 200-599");
  }
};

function checkActive(c: Checker, active: unknown, path: string): void {
  if (!isObj(active)) return c.fail(path, "must be an object");
  c.keys(active, path, ["type", "timeout", "concurrency", "host", "port", "http_method", "http_path", "http_req_body", "https_verify_certificate", "healthy", "unhealthy", "req_headers"]);
  c.oneOf(active, "type", path, ["http", "https", "tcp"]);
  c.type(active, "timeout", path, "number");
  c.type(active, "host", path, "string");
  c.int(active, "port", path, { min: 1, max: 65535 });
  c.type(active, "http_path", path, "string");
  c.type(active, "https_verify_certificate", path, "boolean");
  for (const side of ["healthy", "unhealthy"] as const) {
    const s = active[side];
    if (s === undefined) continue;
    if (!isObj(s)) {
      c.fail(`${path}/${side}`, "must be an object");
      continue;
    }
    const counters = side === "healthy" ? ["successes"] : ["http_failures", "tcp_failures", "timeouts"];
    c.keys(s, `${path}/${side}`, ["interval", "http_statuses", ...counters]);
    c.int(s, "interval", `${path}/${side}`, { min: 1 });
    STATUS_LIST(c, s, `${path}/${side}`);
    for (const k of counters) c.int(s, k, `${path}/${side}`, { min: 1, max: 254 });
  }
}

function checkInstance(c: Checker, inst: unknown, path: string, providers: readonly string[]): void {
  if (!isObj(inst)) return c.fail(path, "must be an object");
  c.keys(inst, path, ["name", "provider", "priority", "weight", "auth", "options", "override", "provider_conf", "checks"]);
  if (typeof inst.name !== "string" || inst.name.length < 1 || inst.name.length > 100) c.fail(`${path}/name`, "must be a string of 1-100 characters");
  if (typeof inst.provider !== "string" || !providers.includes(inst.provider)) c.fail(`${path}/provider`, `must be one of ${providers.join(", ")}`);
  c.int(inst, "priority", path);
  c.int(inst, "weight", path, { min: 0, required: true });
  const auth = inst.auth;
  if (!isObj(auth)) c.fail(`${path}/auth`, "is required and must be an object");
  else {
    c.keys(auth, `${path}/auth`, ["header", "query", "gcp", "aws"]);
    for (const part of ["header", "query"] as const) {
      const m = auth[part];
      if (m === undefined) continue;
      if (!isObj(m) || !Object.entries(m).every(([k, v]) => /^[a-zA-Z0-9._-]+$/.test(k) && typeof v === "string")) {
        c.fail(`${path}/auth/${part}`, "must map names of letters, digits, '.', '_' or '-' to strings");
      }
    }
  }
  const override = inst.override;
  if (override !== undefined) {
    if (!isObj(override)) c.fail(`${path}/override`, "must be an object");
    else {
      c.keys(override, `${path}/override`, ["endpoint", "llm_options", "request_body", "request_body_force_override"]);
      if (override.endpoint !== undefined && (typeof override.endpoint !== "string" || !/^(https?):\/\/([^/:]+|\[[^\]]+\])(:\d+)?$/.test(override.endpoint))) {
        c.fail(`${path}/override/endpoint`, "must be scheme://host[:port] with no path (a path would replace the client's)");
      }
    }
  }
  if (inst.provider_conf !== undefined && !isObj(inst.provider_conf)) c.fail(`${path}/provider_conf`, "must be an object");
  if (inst.checks !== undefined) {
    if (!isObj(inst.checks)) c.fail(`${path}/checks`, "must be an object");
    else {
      c.keys(inst.checks, `${path}/checks`, ["active"]);
      checkActive(c, inst.checks.active, `${path}/checks/active`);
    }
  }
}

/** Errors in a rendered ai-proxy-multi conf; empty when APISIX 3.18 accepts it and reads every key we set. */
export function checkAiProxyMulti(conf: unknown, where: string, ourProvider: string): string[] {
  const c = new Checker(where);
  if (!isObj(conf)) {
    c.fail("", "must be an object");
    return c.errors;
  }
  c.keys(conf, "", ["balancer", "instances", "logging", "fallback_strategy", "max_retries", "retry_on_failure_within_ms", "timeout", "max_req_body_size", "max_stream_duration_ms", "max_response_bytes", "keepalive", "keepalive_timeout", "keepalive_pool", "streaming_flush_interval_ms", "ssl_verify"]);
  const balancer = conf.balancer;
  if (balancer !== undefined) {
    if (!isObj(balancer)) c.fail("/balancer", "must be an object");
    else {
      c.keys(balancer, "/balancer", ["algorithm", "hash_on", "key"]);
      c.oneOf(balancer, "algorithm", "/balancer", ["chash", "roundrobin"]);
      c.oneOf(balancer, "hash_on", "/balancer", ["vars", "header", "cookie", "consumer", "vars_combinations"]);
      if (balancer.algorithm === "chash" && balancer.hash_on === undefined) c.fail("/balancer/hash_on", "is required with chash");
      if (balancer.algorithm === "chash" && balancer.hash_on !== "consumer" && balancer.key === undefined) c.fail("/balancer/key", "is required unless hash_on is consumer");
    }
  }
  const fs = conf.fallback_strategy;
  const strategies = ["rate_limiting", "http_429", "http_5xx"];
  if (fs !== undefined && !(typeof fs === "string" ? ["instance_health_and_rate_limiting", "http_429", "http_5xx"].includes(fs) : Array.isArray(fs) && fs.every((s) => strategies.includes(s as string)))) {
    c.fail("/fallback_strategy", "must be http_429, http_5xx, instance_health_and_rate_limiting or a list of rate_limiting/http_429/http_5xx");
  }
  c.int(conf, "timeout", "", { min: 1, max: 600000 });
  c.int(conf, "max_retries", "", { min: 0 });
  c.int(conf, "max_stream_duration_ms", "", { min: 1 });
  c.int(conf, "keepalive_timeout", "", { min: 1000 });
  c.int(conf, "keepalive_pool", "", { min: 1 });
  c.type(conf, "keepalive", "", "boolean");
  c.type(conf, "ssl_verify", "", "boolean");
  if (conf.logging !== undefined) {
    if (!isObj(conf.logging)) c.fail("/logging", "must be an object");
    else c.keys(conf.logging, "/logging", ["summaries", "payloads"]);
  }
  const instances = conf.instances;
  if (!Array.isArray(instances) || instances.length === 0) c.fail("/instances", "must be a non-empty list");
  else {
    const providers = knownProviders(ourProvider);
    instances.forEach((inst, i) => checkInstance(c, inst, `/instances/${i}`, providers));
    const names = instances.map((i) => (isObj(i) ? i.name : undefined));
    if (new Set(names).size !== names.length) c.fail("/instances", "instance names must be unique");
  }
  return c.errors;
}

/** lua-resty-expr (v1.lua, what 3.18 compiles route `vars` with): comparison operators and logical heads. */
const EXPR_OPS = ["==", "~=", ">", ">=", "<", "<=", "~~", "~*", "in", "has", "ipmatch"];
const LOGIC_OPS = ["AND", "OR", "!AND", "!OR"];

/**
 * One rule: a list of rules (ANDed), a logical operator followed by at least two rules, or `[var, op, value]` /
 * `[var, "!", op, value]`. Stricter than v1.lua: no two-element `[var, value]` shorthand and no nil value (v1.lua
 * reads a nil right side as that shorthand, or refuses it).
 */
function checkExpr(c: Checker, rule: unknown, path: string): void {
  if (!Array.isArray(rule) || rule.length === 0) return c.fail(path, "must be a non-empty list");
  const [head] = rule;
  if (Array.isArray(head)) return rule.forEach((r, i) => checkExpr(c, r, `${path}/${i}`));
  if (typeof head === "string" && LOGIC_OPS.includes(head.toUpperCase())) {
    if (rule.length < 3) return c.fail(path, `${head} needs at least two rules`);
    return rule.slice(1).forEach((r, i) => checkExpr(c, r, `${path}/${i + 1}`));
  }
  const negated = rule.length === 4;
  if (negated && rule[1] !== "!") return c.fail(path, 'a four-element expression must be [var, "!", op, value]');
  if (rule.length !== 3 && !negated) return c.fail(path, "must be [var, op, value] or [var, \"!\", op, value]");
  const [variable, op, value] = negated ? [rule[0], rule[2], rule[3]] : rule;
  if (typeof variable !== "string" || variable === "") c.fail(`${path}/0`, "must name a variable");
  if (typeof op !== "string" || !EXPR_OPS.includes(op.toLowerCase())) c.fail(path, `has no operator of lua-resty-expr (${EXPR_OPS.join(" ")})`);
  if (value === undefined || value === null) c.fail(path, "needs a value to compare with (nil is not one)");
}

/** Route-level checks (schema_def.lua `route`): id, uris, methods, priority, vars. */
export function checkRoute(route: Obj): string[] {
  const c = new Checker(`route ${String(route.id)}`);
  if (typeof route.id !== "string" || !/^[a-zA-Z0-9-_.]{1,64}$/.test(route.id)) c.fail("/id", "must be 1-64 of [a-zA-Z0-9-_.]");
  const uris = route.uris;
  if (!Array.isArray(uris) || uris.length === 0 || new Set(uris).size !== uris.length || !uris.every((u) => typeof u === "string" && u.startsWith("/"))) {
    c.fail("/uris", "must be a non-empty list of distinct paths");
  }
  const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE"];
  if (!Array.isArray(route.methods) || !route.methods.every((m) => methods.includes(m as string))) c.fail("/methods", "must list HTTP methods");
  c.int(route, "priority", "");
  if (route.vars !== undefined) {
    // v1.lua new(): the outer list holds rules, unless a logical operator comes first.
    const head = Array.isArray(route.vars) ? route.vars[0] : undefined;
    if (!Array.isArray(head) && !(typeof head === "string" && LOGIC_OPS.includes(head.toUpperCase()))) c.fail("/vars", "must be a list of rules");
    else checkExpr(c, route.vars, "/vars");
  }
  if (!isObj(route.plugins)) c.fail("/plugins", "must be an object");
  return c.errors;
}

/** schema_def.lua `consumer.username`. */
export function checkConsumerName(username: string): string[] {
  return /^[a-zA-Z0-9_-]+$/.test(username) && username.length <= 256 ? [] : [`consumer ${username}: username must match ^[a-zA-Z0-9_-]+$`];
}
