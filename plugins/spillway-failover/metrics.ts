/**
 * Spillway's metrics in APISIX's own Prometheus registry (the prometheus plugin's exporter, served with APISIX's
 * metrics at /apisix/prometheus/metrics), from plugins/lib/metric-catalog.ts. Registered once per worker from a
 * zero-delay timer after init (the exporter creates its registry in the prometheus plugin's init, in an order we do
 * not control); without the prometheus plugin there are no metrics and nothing else changes.
 *
 * Everything per request is counted in the log phase, from the request's state: the client's answer is out by then.
 */
import * as core from "apisix.core";
import { METRICS, outcomeLabel } from "../lib/metric-catalog";
import type { MetricSpec } from "../lib/metric-catalog";
import { parseDecimal } from "../lib/retry-signals";
import { firstHeader } from "../lib/header-table";
import { SHARED_DICT } from "./cooldown-store";
import type { RequestState } from "./state";

interface PromMetric {
  inc(this: PromMetric, value: number, labels: string[]): void;
  set(this: PromMetric, value: number, labels: string[]): void;
  observe(this: PromMetric, value: number, labels: string[]): void;
}

interface PromRegistry {
  registry?: LuaTable<string, PromMetric>;
  counter(this: PromRegistry, name: string, help: string, labels: string[]): PromMetric | undefined;
  gauge(this: PromRegistry, name: string, help: string, labels: string[]): PromMetric | undefined;
  histogram(this: PromRegistry, name: string, help: string, labels: string[], buckets?: number[]): PromMetric | undefined;
}

interface Exporter {
  get_prometheus(this: void): PromRegistry | undefined;
}

/** How often this node publishes its cooldown gauges (the other gauges are set as answers come). */
const GAUGE_INTERVAL_S = 1;
/** Gauge names; the per-request ones are looked up once per request. */
let metrics: LuaTable<string, PromMetric> | undefined = undefined;
/** Backends seen by this worker, for the cooldown gauge (route configs name a handful). */
const knownBackends = new LuaTable<string, true>();
let knownCount = 0;
const MAX_BACKENDS = 256;

function registerOne(this: void, prom: PromRegistry, spec: MetricSpec): PromMetric | undefined {
  // After a plugin reload the registry still holds them: registering again would log "Duplicate metric".
  const existing = prom.registry?.get(spec.name);
  if (existing !== undefined) return existing;
  if (spec.type === "counter") return prom.counter(spec.name, spec.help, spec.labels);
  if (spec.type === "gauge") return prom.gauge(spec.name, spec.help, spec.labels);
  return prom.histogram(spec.name, spec.help, spec.labels, spec.buckets);
}

function register(this: void, premature: boolean): void {
  if (premature) return;
  const [loaded, mod] = pcall(require, "apisix.plugins.prometheus.exporter");
  const prom = loaded ? (mod as Exporter).get_prometheus() : undefined;
  if (prom === undefined) {
    core.log.info("spillway-failover: the prometheus plugin is not enabled; Spillway's metrics are not exported");
    return;
  }
  const table = new LuaTable<string, PromMetric>();
  for (const spec of METRICS) {
    const metric = registerOne(prom, spec);
    if (metric !== undefined) table.set(spec.name, metric);
  }
  metrics = table;
  const [ok, err] = ngx.timer.every(GAUGE_INTERVAL_S, publishCooldowns);
  if (ok === undefined) core.log.error("spillway-failover: failed to start the cooldown gauge timer: ", err);
}

/** Called from the plugin's init(): registration waits for the exporter's registry. */
export function initMetrics(this: void): void {
  const [ok, err] = ngx.timer.at(0, register);
  if (ok === undefined) core.log.error("spillway-failover: failed to schedule the metrics registration: ", err);
}

function metric(this: void, name: string): PromMetric | undefined {
  return metrics?.get(name);
}

/**
 * The last remaining tokens / requests each backend reported to this worker, as sent (parsed by the timer, not per
 * request), published by the timer.
 */
const lastTokens = new LuaTable<string, string>();
const lastRequests = new LuaTable<string, string>();

function publishFigures(this: void, gauge: PromMetric, figures: LuaTable<string, string>): void {
  for (const [backend, text] of pairs(figures)) {
    const value = parseDecimal(text);
    if (value !== undefined) gauge.set(value, [backend]);
  }
}

function publishRemaining(this: void): void {
  const tokens = metric("spillway_backend_remaining_tokens");
  const requests = metric("spillway_backend_remaining_requests");
  if (tokens === undefined || requests === undefined) return;
  publishFigures(tokens, lastTokens);
  publishFigures(requests, lastRequests);
  // Published once: a worker that hears nothing new leaves the last figure to the others.
  for (const [backend] of pairs(lastTokens)) lastTokens.delete(backend);
  for (const [backend] of pairs(lastRequests)) lastRequests.delete(backend);
}

/**
 * Every second in every worker: its remaining-capacity figures, and the seconds each backend it knows still cools (its
 * latest cooldown over every deployment: cooldown-store.ts `cb:`).
 */
function publishCooldowns(this: void, premature: boolean): void {
  if (premature) return;
  publishRemaining();
  const gauge = metric("spillway_cooldown_remaining_seconds");
  const shared = ngx.shared[SHARED_DICT];
  if (gauge === undefined || shared === undefined) return;
  // Every worker, for the backends it has seen (a worker that never called a backend does not know its name); the
  // value comes from the shared dict, so the workers agree.
  const now = ngx.now() * 1000;
  for (const [backend] of pairs(knownBackends)) {
    const [until] = shared.get(`cb:${backend}`);
    const left = typeof until === "number" && until > now ? (until - now) / 1000 : 0;
    gauge.set(left, [backend]);
  }
}

function knowBackend(this: void, backend: string): void {
  if (knownBackends.get(backend) === true || knownCount >= MAX_BACKENDS) return;
  knownBackends.set(backend, true);
  knownCount++;
}

function routeId(this: void, ctx: ApisixCtx): string {
  const route = (ctx as unknown as { matched_route?: { value?: { id?: unknown } } }).matched_route;
  const id = route?.value?.id;
  return id === undefined ? "" : tostring(id);
}

interface PluginsHolder {
  value?: { plugins?: { prometheus?: unknown } };
}

/**
 * Whether the prometheus plugin runs for this request (on its route, service merged in, or a global rule): Spillway's
 * metrics are part of it, like APISIX's own per-request metrics. A route without it counts nothing.
 */
function prometheusOn(this: void, ctx: ApisixCtx): boolean {
  const route = (ctx as unknown as { matched_route?: PluginsHolder }).matched_route;
  if (route?.value?.plugins?.prometheus !== undefined) return true;
  const rules = (ctx as unknown as { global_rules?: { values?: PluginsHolder[] } }).global_rules?.values;
  if (rules === undefined) return false;
  for (const rule of rules) {
    if (rule.value?.plugins?.prometheus !== undefined) return true;
  }
  return false;
}

/**
 * Label arrays, one per label combination, made once: a table built per metric call is most of what counting costs
 * (allocation and GC), and the exporter only reads them. Nested by metric and label value; label values are bounded
 * (route ids, backend and client names, fixed sets), and the whole cache is dropped if that ever stops holding.
 */
const LABELS = true;
const MAX_LABEL_SETS = 4096;
let labelCache = new LuaTable<string, LuaTable<string | boolean, unknown>>();
let labelSets = 0;

function child(this: void, node: LuaTable<string | boolean, unknown>, key: string): LuaTable<string | boolean, unknown> {
  let next = node.get(key) as LuaTable<string | boolean, unknown> | undefined;
  if (next === undefined) {
    next = new LuaTable();
    node.set(key, next);
  }
  return next;
}

function labelsOf(this: void, name: string, a: string, b?: string, c?: string, d?: string, e?: string): string[] {
  let node = labelCache.get(name);
  if (node === undefined) {
    node = new LuaTable();
    labelCache.set(name, node);
  }
  node = child(node, a);
  if (b !== undefined) node = child(node, b);
  if (c !== undefined) node = child(node, c);
  if (d !== undefined) node = child(node, d);
  if (e !== undefined) node = child(node, e);
  let labels = node.get(LABELS) as string[] | undefined;
  if (labels === undefined) {
    if (labelSets >= MAX_LABEL_SETS) {
      labelCache = new LuaTable();
      labelSets = 0;
    }
    labels = [a];
    if (b !== undefined) labels.push(b);
    if (c !== undefined) labels.push(c);
    if (d !== undefined) labels.push(d);
    if (e !== undefined) labels.push(e);
    node.set(LABELS, labels);
    labelSets++;
  }
  return labels;
}

/** Per request, in the log phase; `elapsedS`: since the request came in. */
export function countRequest(this: void, ctx: ApisixCtx, state: RequestState, elapsedS: number): void {
  if (metrics === undefined || !prometheusOn(ctx)) return;
  const route = routeId(ctx);
  const attempts = metric("spillway_attempts_total")!;
  const last = state.attempts.length;
  for (let i = 0; i < last; i++) {
    const a = state.attempts[i]!;
    knowBackend(a.backend);
    const outcome = outcomeLabel(a.kind, a.skipped, a.reserve !== undefined);
    attempts.inc(1, labelsOf("spillway_attempts_total", route, a.backend, outcome));
    // Moved on from a backend that was called and failed: a failover (a skip is the plan, not a failover).
    if (i < last - 1 && a.skipped !== true && a.kind !== "ok" && a.kind !== "client_error") {
      metric("spillway_failovers_total")!.inc(1, labelsOf("spillway_failovers_total", route, a.backend, outcome));
    }
  }
  const lane = state.lane;
  const backend = state.answered ? state.backend ?? "none" : "none";
  if (state.exhausted_status !== undefined) {
    metric("spillway_exhausted_total")!.inc(1, labelsOf("spillway_exhausted_total", route, `${state.exhausted_status}`));
    if (state.refused_below !== undefined) {
      metric("spillway_low_priority_refusals_total")!.inc(1,
        labelsOf("spillway_low_priority_refusals_total", route, state.refused_below));
    }
  }
  const client = ctx.consumer_name ?? "";
  if (state.budget_rejected === true) {
    metric("spillway_budget_rejections_total")!.inc(1, labelsOf("spillway_budget_rejections_total", route, client, lane));
  }
  const usage = ctx.ai_token_usage;
  if (usage !== undefined && state.answered) {
    const tokens = metric("spillway_tokens_total")!;
    const prompt = usage.prompt_tokens ?? 0;
    const completion = usage.completion_tokens ?? 0;
    if (prompt > 0) tokens.inc(prompt, labelsOf("spillway_tokens_total", route, client, lane, backend, "prompt"));
    if (completion > 0) tokens.inc(completion, labelsOf("spillway_tokens_total", route, client, lane, backend, "completion"));
  }
  if (state.stream_cut !== undefined) {
    metric("spillway_stream_cuts_total")!.inc(1, labelsOf("spillway_stream_cuts_total", route, backend, state.stream_cut));
  }
  if (state.affinity !== undefined) metric("spillway_affinity_total")!.inc(1, labelsOf("spillway_affinity_total", state.affinity));
  if (state.answered && state.upstream_headers !== undefined) {
    // Kept per worker and published by the gauge timer: a gauge set is a shared-dict write, not for every request.
    const tokensLeft = firstHeader(state.upstream_headers, "x-ratelimit-remaining-tokens");
    if (tokensLeft !== undefined) lastTokens.set(backend, tokensLeft);
    const requestsLeft = firstHeader(state.upstream_headers, "x-ratelimit-remaining-requests");
    if (requestsLeft !== undefined) lastRequests.set(backend, requestsLeft);
  }
  const timing = labelsOf("spillway_request_duration_seconds", backend, lane);
  // Time to first token is a stream's figure: for a non-streamed answer it is the duration below.
  if (state.streamed === true && state.answered) {
    const ttftMs = tonumber(ctx.var["llm_time_to_first_token"]);
    if (ttftMs !== undefined && ttftMs > 0) metric("spillway_ttft_seconds")!.observe(ttftMs / 1000, timing);
  }
  metric("spillway_request_duration_seconds")!.observe(elapsedS, timing);
}

/** A failed Redis call (redis-sync.ts, budget-patch.ts), from a request or a timer. */
export function countRedisError(this: void, operation: string): void {
  metric("spillway_redis_errors_total")?.inc(1, [operation]);
}
