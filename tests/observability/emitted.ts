/**
 * Every series name a Spillway gateway exposes, with its label names: the catalog's metrics behind APISIX's
 * `apisix_` prefix (histograms only as `_bucket` with `le`, `_sum`, `_count`, as nginx-lua-prometheus writes them),
 * plus the APISIX built-ins a query may use, and the labels Prometheus attaches to every scraped series.
 */
import { METRICS } from "../../plugins/lib/metric-catalog.ts";

export const PREFIX = "apisix_";

/** Attached by the scrape (Prometheus, or the OTel collector's prometheus receiver), not by the exporter. */
export const TARGET_LABELS = ["instance", "job"];

/**
 * APISIX 3.18's own series (apisix/plugins/prometheus/exporter.lua, metric_label_map and the metric definitions),
 * for queries that need gateway-wide figures. Counters carry no `_total`: nginx-lua-prometheus adds none.
 */
export const APISIX_BUILTINS: Readonly<Record<string, { type: "counter" | "gauge" | "histogram"; labels: string[] }>> = {
  http_status: { type: "counter", labels: ["code", "route", "matched_uri", "matched_host", "service", "consumer", "node", "request_type", "request_llm_model", "llm_model", "response_source"] },
  http_latency: { type: "histogram", labels: ["type", "route", "service", "consumer", "node", "request_type", "request_llm_model", "llm_model"] },
  bandwidth: { type: "counter", labels: ["type", "route", "service", "consumer", "node", "request_type", "request_llm_model", "llm_model"] },
  nginx_http_current_connections: { type: "gauge", labels: ["state"] },
  http_requests_total: { type: "gauge", labels: [] },
  llm_latency: { type: "histogram", labels: ["type", "route_id", "service_id", "consumer", "node", "request_type", "request_llm_model", "llm_model"] },
  llm_prompt_tokens: { type: "counter", labels: ["route_id", "service_id", "consumer", "node", "request_type", "request_llm_model", "llm_model"] },
  llm_completion_tokens: { type: "counter", labels: ["route_id", "service_id", "consumer", "node", "request_type", "request_llm_model", "llm_model"] },
};

export interface Emitted {
  /** Catalog or built-in name, without prefix or suffix. */
  source: string;
  labels: Set<string>;
}

function add(out: Map<string, Emitted>, name: string, type: string, labels: string[]): void {
  const base = `${PREFIX}${name}`;
  const all = [...labels, ...TARGET_LABELS];
  if (type === "histogram") {
    out.set(`${base}_bucket`, { source: name, labels: new Set([...all, "le"]) });
    out.set(`${base}_sum`, { source: name, labels: new Set(all) });
    out.set(`${base}_count`, { source: name, labels: new Set(all) });
  } else out.set(base, { source: name, labels: new Set(all) });
}

export function emittedSeries(): Map<string, Emitted> {
  const out = new Map<string, Emitted>();
  for (const m of METRICS) add(out, m.name, m.type, m.labels);
  for (const [name, m] of Object.entries(APISIX_BUILTINS)) add(out, name, m.type, m.labels);
  return out;
}
