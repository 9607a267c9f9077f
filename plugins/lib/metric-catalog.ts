/**
 * Every Prometheus metric Spillway registers (in APISIX's prometheus exporter, which prefixes each name with its
 * `metric_prefix`, `apisix_` by default). One source: the plugin registers from this list, the dashboard, the alert
 * rules and `spillway status` are checked against it. Portable TS (data and small pure functions).
 *
 * Label values are bounded: route ids, backend and client names come from the configuration, lanes and outcomes
 * are the fixed sets below; no request id, response id, deployment or path is ever a label (a client picks those).
 */
import type { OutcomeKind } from "./outcome";

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricSpec {
  name: string;
  type: MetricType;
  help: string;
  labels: string[];
  buckets?: number[];
}

/** Seconds: from a fast cached answer to a slow long generation. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export const METRICS: MetricSpec[] = [
  { name: "spillway_attempts_total", type: "counter", labels: ["route", "backend", "outcome"],
    help: "Backends tried or passed over per request, by outcome: ok, 429, 5xx, timeout, connect, 4xx, cooled_skip (cooling, not called), reserve_skip (below its low-priority reserve, not called)." },
  { name: "spillway_failovers_total", type: "counter", labels: ["route", "backend", "reason"],
    help: "A request moved on from this backend to another after it failed (reason: 429, 5xx, timeout, connect)." },
  { name: "spillway_exhausted_total", type: "counter", labels: ["route", "status"],
    help: "Requests no backend could answer, by the status the gateway answered (429 with Retry-After, 502, 503, 504)." },
  { name: "spillway_low_priority_refusals_total", type: "counter", labels: ["route", "reason"],
    help: "Low-priority requests refused because every backend was below its reserve (reason: tokens or requests)." },
  { name: "spillway_budget_rejections_total", type: "counter", labels: ["route", "client", "lane"],
    help: "Requests refused because the client's token (or request) budget for the window was spent." },
  { name: "spillway_tokens_total", type: "counter", labels: ["route", "client", "lane", "backend", "kind"],
    help: "Tokens the backends reported, by client, lane, answering backend and kind (prompt, completion)." },
  { name: "spillway_stream_cuts_total", type: "counter", labels: ["route", "backend", "reason"],
    help: "Streams ended early after output had gone out (reason: read_error, max_stream_duration_ms, max_response_bytes, client_disconnect)." },
  { name: "spillway_affinity_total", type: "counter", labels: ["result"],
    help: "Responses API follow-ups: pinned (holder known), unknown (routed normally), holder_retry (asked the holder after another backend did not hold it)." },
  { name: "spillway_redis_errors_total", type: "counter", labels: ["operation"],
    help: "Redis calls that failed (operation: cooldown_push, cooldown_pull, affinity_push, affinity_read, budget); the gateway then works per node." },
  { name: "spillway_cooldown_remaining_seconds", type: "gauge", labels: ["backend"],
    help: "Seconds until the backend's longest running cooldown ends (0: not cooling), as this node sees it." },
  { name: "spillway_backend_remaining_tokens", type: "gauge", labels: ["backend"],
    help: "The backend's last reported x-ratelimit-remaining-tokens." },
  { name: "spillway_backend_remaining_requests", type: "gauge", labels: ["backend"],
    help: "The backend's last reported x-ratelimit-remaining-requests." },
  { name: "spillway_ttft_seconds", type: "histogram", labels: ["backend", "lane"], buckets: LATENCY_BUCKETS,
    help: "Streamed answers: time from the request to the first event the client got (first token). Non-streamed answers: see spillway_request_duration_seconds." },
  { name: "spillway_request_duration_seconds", type: "histogram", labels: ["backend", "lane"], buckets: LATENCY_BUCKETS,
    help: "Time from the request to the end of the answer, every attempt included (backend: the one that answered, or none)." },
];

/** The attempts_total outcome of one attempt record. */
export function outcomeLabel(this: void, kind: OutcomeKind, skipped: boolean | undefined, reserve: boolean): string {
  if (skipped === true) return reserve ? "reserve_skip" : "cooled_skip";
  if (kind === "ok") return "ok";
  if (kind === "throttled") return "429";
  if (kind === "server_error") return "5xx";
  if (kind === "timeout") return "timeout";
  if (kind === "connect_error") return "connect";
  return "4xx";
}
