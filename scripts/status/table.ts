/**
 * `spillway status`, the pure part: one or two scrapes of a gateway's metrics → a row per backend (cooling or not,
 * what Azure says is left, per-minute rates over the interval) and a footer, as text or JSON. Names are the ones in
 * plugins/lib/metric-catalog.ts, behind the exporter's prefix (tests/status checks them against the catalog).
 */
import { byLabel, increase, sum, type LabelFilter, type Sample } from "../lib/prometheus-text.ts";

/** Catalog names (without the exporter's prefix) this command reads. */
export const METRIC = {
  attempts: "spillway_attempts_total",
  failovers: "spillway_failovers_total",
  exhausted: "spillway_exhausted_total",
  budgetRejections: "spillway_budget_rejections_total",
  lowPriorityRefusals: "spillway_low_priority_refusals_total",
  cooldown: "spillway_cooldown_remaining_seconds",
  remainingTokens: "spillway_backend_remaining_tokens",
  remainingRequests: "spillway_backend_remaining_requests",
} as const;

/** Backends are named by these (the duration histograms also carry backend="none", which is no backend). */
const BACKEND_METRICS = [METRIC.attempts, METRIC.failovers, METRIC.cooldown, METRIC.remainingTokens, METRIC.remainingRequests];
/** Passed over without a call (cooling, or below the low-priority reserve): not attempts. */
const CALLED: LabelFilter = { outcome: ["ok", "429", "5xx", "timeout", "connect", "4xx"] };
const FAILED = ["5xx", "timeout", "connect"];

export interface Scrape {
  samples: Sample[];
  /** When it was taken (ms since the epoch): rates are over the measured time between two scrapes. */
  at: number;
}

/** null: this metric has no sample for the backend (shown "-"), or no rates (one scrape). */
export interface BackendRow {
  backend: string;
  state: "ok" | "cooling";
  coolingForSeconds: number | null;
  remainingTokens: number | null;
  remainingRequests: number | null;
  attemptsPerMin: number | null;
  throttledPerMin: number | null;
  /** 5xx, timeouts and connect errors. */
  failedPerMin: number | null;
  failoversPerMin: number | null;
}

export interface Footer {
  /** By the status the gateway answered (429, 502, 503, 504). */
  exhaustedPerMin: Record<string, number> | null;
  budgetRejectionsPerMin: number | null;
  lowPriorityRefusalsPerMin: number | null;
}

export interface StatusReport {
  metricsUrl: string;
  scrapedAt: string;
  /** Seconds between the two scrapes; null for one scrape (no rates, no footer). */
  intervalSeconds: number | null;
  backends: BackendRow[];
  footer: Footer | null;
}

export function statusReport(metricsUrl: string, prefix: string, after: Scrape, before?: Scrape): StatusReport {
  const name = (metric: string): string => prefix + metric;
  const elapsed = before !== undefined ? (after.at - before.at) / 1000 : undefined;
  const perMin = (metric: string, filter?: LabelFilter): number | null => {
    if (before === undefined || elapsed === undefined || elapsed <= 0) return null;
    const grew = increase(before.samples, after.samples, name(metric), filter);
    return grew === undefined ? null : (grew * 60) / elapsed;
  };
  /** 0 rather than null when the backend has samples of the metric, just none of these outcomes. */
  const perMinOf = (metric: string, backend: string, filter: LabelFilter): number | null => {
    const all = perMin(metric, { backend });
    return all === null ? null : (perMin(metric, { backend, ...filter }) ?? 0);
  };
  const gauge = (metric: string, backend: string): number | null => sum(after.samples, name(metric), { backend }) ?? null;

  const backends = [...backendNames(after, before, prefix)].sort().map((backend): BackendRow => {
    const cooling = gauge(METRIC.cooldown, backend);
    return {
      backend,
      state: cooling !== null && cooling > 0 ? "cooling" : "ok",
      coolingForSeconds: cooling,
      remainingTokens: gauge(METRIC.remainingTokens, backend),
      remainingRequests: gauge(METRIC.remainingRequests, backend),
      attemptsPerMin: perMinOf(METRIC.attempts, backend, CALLED),
      throttledPerMin: perMinOf(METRIC.attempts, backend, { outcome: "429" }),
      failedPerMin: perMinOf(METRIC.attempts, backend, { outcome: FAILED }),
      failoversPerMin: perMin(METRIC.failovers, { backend }),
    };
  });
  return {
    metricsUrl,
    scrapedAt: new Date(after.at).toISOString(),
    intervalSeconds: elapsed ?? null,
    backends,
    footer: before === undefined ? null : footer(before, after, name, perMin),
  };
}

function backendNames(after: Scrape, before: Scrape | undefined, prefix: string): Set<string> {
  const names = new Set<string>();
  for (const scrape of before !== undefined ? [before, after] : [after]) {
    for (const metric of BACKEND_METRICS) for (const backend of byLabel(scrape.samples, prefix + metric, "backend").keys()) names.add(backend);
  }
  return names;
}

function footer(before: Scrape, after: Scrape, name: (m: string) => string, perMin: (m: string, f?: LabelFilter) => number | null): Footer {
  const statuses = new Set([...byLabel(before.samples, name(METRIC.exhausted), "status").keys(), ...byLabel(after.samples, name(METRIC.exhausted), "status").keys()]);
  let exhausted: Record<string, number> | null = null;
  for (const status of [...statuses].sort()) {
    const rate = perMin(METRIC.exhausted, { status });
    if (rate !== null) (exhausted ??= {})[status] = rate;
  }
  return {
    exhaustedPerMin: exhausted,
    budgetRejectionsPerMin: perMin(METRIC.budgetRejections),
    lowPriorityRefusalsPerMin: perMin(METRIC.lowPriorityRefusals),
  };
}

const DASH = "-";
const rate = (n: number | null): string => (n === null ? DASH : n.toFixed(1));
const whole = (n: number | null): string => (n === null ? DASH : String(Math.round(n)));
/** Rounded up: a backend cooling for 0.3 s more is not shown cooling for 0. */
const seconds = (n: number | null): string => (n === null ? DASH : String(Math.ceil(n)));

const COLUMNS: ReadonlyArray<{ head: string; cell: (r: BackendRow) => string; rate?: true }> = [
  { head: "backend", cell: (r) => r.backend },
  { head: "state", cell: (r) => r.state },
  { head: "cooling for (s)", cell: (r) => seconds(r.coolingForSeconds) },
  { head: "tokens left", cell: (r) => whole(r.remainingTokens) },
  { head: "requests left", cell: (r) => whole(r.remainingRequests) },
  { head: "attempts/min", cell: (r) => rate(r.attemptsPerMin), rate: true },
  { head: "429/min", cell: (r) => rate(r.throttledPerMin), rate: true },
  { head: "5xx+timeout+connect/min", cell: (r) => rate(r.failedPerMin), rate: true },
  { head: "failovers/min", cell: (r) => rate(r.failoversPerMin), rate: true },
];

/** Text columns left-aligned, numbers right-aligned under their heads. */
function alignedTable(heads: string[], rows: string[][], leftColumns: number): string {
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(heads), ...rows.map(line)].join("\n");
}

export function formatFooter(f: Footer): string {
  const exhausted = f.exhaustedPerMin === null ? DASH : Object.entries(f.exhaustedPerMin).map(([s, n]) => `${s} ${rate(n)}`).join(", ");
  return `exhausted/min: ${exhausted} · budget rejections/min: ${rate(f.budgetRejectionsPerMin)} · low-priority refusals/min: ${rate(f.lowPriorityRefusalsPerMin)}`;
}

export function formatStatus(report: StatusReport, prefix: string): string {
  const when = `${report.scrapedAt.slice(11, 19)} UTC`;
  const over = report.intervalSeconds === null ? "one scrape, no rates" : `rates over ${report.intervalSeconds.toFixed(1)} s`;
  const head = `${report.metricsUrl} at ${when}, ${over}`;
  if (report.backends.length === 0) {
    return (
      `${head}\nno Spillway backend in these metrics (no ${prefix}${METRIC.attempts} or ${prefix}${METRIC.cooldown}): no request has ` +
      `reached a backend since the gateway started, or the exporter's metric prefix is not "${prefix}" (--metric-prefix)\n`
    );
  }
  const columns = report.intervalSeconds === null ? COLUMNS.filter((c) => c.rate !== true) : COLUMNS;
  const table = alignedTable(columns.map((c) => c.head), report.backends.map((r) => columns.map((c) => c.cell(r))), 2);
  return `${head}\n${table}\n${report.footer !== null ? `${formatFooter(report.footer)}\n` : ""}`;
}
