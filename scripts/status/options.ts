/**
 * `spillway status` flags (and the metrics address the renderer gives the gateway) → the plan of one run. Pure: the
 * environment is passed in.
 */
import { ConfigError, UsageError } from "../../lib/errors.ts";

export interface StatusFlags {
  metricsUrl?: string;
  interval?: string;
  once?: boolean;
  watch?: boolean;
  json?: boolean;
  metricPrefix?: string;
}

export interface StatusPlan {
  metricsUrl: string;
  intervalMs: number;
  once: boolean;
  watch: boolean;
  json: boolean;
  metricPrefix: string;
}

export const METRICS_PATH = "/apisix/prometheus/metrics";
/** The renderer's defaults (renderer/settings-options.ts): the exporter listens on 0.0.0.0:9091. */
const DEFAULT_METRICS_PORT = 9091;
const DEFAULT_INTERVAL_S = 10;
/** Below 0.1 s a counter has rarely moved; above an hour, use Prometheus itself. */
const INTERVAL_LIMITS = [0.1, 3600] as const;
export const DEFAULT_METRIC_PREFIX = "apisix_";
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function interval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_INTERVAL_S * 1000;
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  const [min, max] = INTERVAL_LIMITS;
  if (!(value >= min && value <= max)) throw new UsageError(`--interval must be a number of seconds from ${min} to ${max} (got "${text}")`);
  return Math.round(value * 1000);
}

function metricsUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--metrics-url must be an http:// or https:// URL, e.g. http://127.0.0.1:9091${METRICS_PATH} (got "${text}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--metrics-url must be an http:// or https:// URL (got "${text}")`);
  return url.href;
}

/** Where the renderer makes the gateway serve metrics: SPILLWAY_METRICS_HOST/_PORT, a listen-everywhere host read as this machine. */
export function defaultMetricsUrl(env: Record<string, string | undefined>): string {
  const hostVar = env.SPILLWAY_METRICS_HOST?.trim() || "0.0.0.0";
  const portVar = env.SPILLWAY_METRICS_PORT?.trim() || String(DEFAULT_METRICS_PORT);
  const port = /^\d+$/.test(portVar) ? Number(portVar) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new ConfigError([`SPILLWAY_METRICS_PORT must be a port number from 1 to 65535 (got "${portVar}"); fix it or pass --metrics-url`]);
  }
  const host = hostVar === "0.0.0.0" ? "127.0.0.1" : hostVar === "::" ? "::1" : hostVar;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}${METRICS_PATH}`;
  try {
    return new URL(url).href;
  } catch {
    throw new ConfigError([`SPILLWAY_METRICS_HOST must be an IP address or host name (got "${hostVar}"); fix it or pass --metrics-url`]);
  }
}

export function planFromFlags(flags: StatusFlags, env: Record<string, string | undefined>): StatusPlan {
  if (flags.once === true && flags.watch === true) throw new UsageError("--once and --watch exclude each other: --watch already prints a table every interval");
  const prefix = flags.metricPrefix ?? DEFAULT_METRIC_PREFIX;
  if (!METRIC_PREFIX.test(prefix)) throw new UsageError(`--metric-prefix must be the start of a Prometheus metric name, such as apisix_ (got "${prefix}")`);
  return {
    metricsUrl: flags.metricsUrl !== undefined ? metricsUrl(flags.metricsUrl) : defaultMetricsUrl(env),
    intervalMs: interval(flags.interval),
    once: flags.once === true,
    watch: flags.watch === true,
    json: flags.json === true,
    metricPrefix: prefix,
  };
}
