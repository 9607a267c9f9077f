/**
 * Pure: the figures of a run → medians, the tables and the ratios. Nothing here measures or prints.
 */
import type { Engine, StreamTarget, WrkTarget } from "./options.ts";

/** One wrk target in one round. */
export interface WrkRound {
  rps: number;
  /** Latency percentiles of the c=N run, microseconds. */
  p50Us?: number;
  p99Us?: number;
  c1P50Us: number;
  /** Gateway worker CPU per request, summed over its workers (gateway and raw nginx rows). */
  workerCpuUsPerReq?: number;
  /** CPU of the healthy simulator process per request. */
  simCpuUsPerReq?: number;
  /** Calls the throttled backend received during the c=N run, and the requests wrk completed in it. */
  throttledCalls?: number;
  requests: number;
  /** Requests of the c=1 run (they count for a row's error-log lines per request). */
  c1Requests?: number;
  /** Non-2xx answers and socket errors wrk saw (a valid run has none). */
  failures: number;
}

/** One streamed target in one round (milliseconds). */
export interface StreamRound {
  firstByteP50: number;
  firstContentP50: number;
  gapP99: number;
  streams: number;
  failures: number;
}

/** A gateway row's memory and error log over the whole run. */
export interface GatewayHealth {
  /** Summed VmRSS of its workers after warm-up and after the last round, KiB. */
  rssAfterWarmupKiB?: number;
  rssAfterRunKiB?: number;
  /** warn-or-worse error-log lines written during this row's measurements, and the requests those measurements sent. */
  logLines: number;
  requests: number;
  /** Lines only the apisix-lab build writes (proc.ts LAB_ONLY), not counted in logLines. */
  labOnlyLines?: number;
}

/** `--soak n`: n requests to Spillway's route after the rounds. */
export interface SoakResult {
  target: WrkTarget;
  requests: number;
  seconds: number;
  failures: number;
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  /** The largest summed RSS seen between the soak's wrk runs. */
  rssMaxKiB?: number;
  logLines: number;
  labOnlyLines?: number;
}

export interface BenchResults {
  wrk: Partial<Record<WrkTarget, WrkRound[]>>;
  stream: Partial<Record<StreamTarget, StreamRound[]>>;
  health?: Partial<Record<WrkTarget, GatewayHealth>>;
  soak?: SoakResult;
}

const COMMON_LABELS = { direct: "direct to the simulator", nginx: "raw nginx proxy_pass" } as const;

/** Row labels on real APISIX (docs/bench.md says what each row is). */
export const APISIX_LABELS: Record<WrkTarget, string> = {
  ...COMMON_LABELS,
  stock: "stock ai-proxy-multi, 2 instances",
  "stock-prom": "stock + prometheus",
  gateway: "Spillway chat route (rendered, + prometheus)",
  "gateway-noprom": "Spillway chat route, no prometheus",
  skip: "Spillway, 1st backend 429: cooled skip",
  "stock-hop": "stock + prometheus, 1st instance 429 (hop)",
  hop: "Spillway, 1st backend 429, max_cooldown_ms 0 (hop)",
};

/** Row labels on the stand-in (--standin), as the earlier reports printed them. */
export const STANDIN_LABELS: Record<WrkTarget, string> = {
  ...COMMON_LABELS,
  stock: "stock ai-proxy-multi + openai-compatible",
  "stock-prom": "stock + prometheus",
  gateway: "Spillway, one backend",
  "gateway-noprom": "Spillway, no prometheus",
  skip: "Spillway, primary cooling (skip)",
  "stock-hop": "stock, primary 429 every time",
  hop: "Spillway, primary 429, no cooldown (hop)",
};

export function labelsFor(engine: Engine): Record<WrkTarget, string> {
  return engine === "apisix" ? APISIX_LABELS : STANDIN_LABELS;
}

export function median(values: number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1]! + v[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * v.length);
  return v[Math.min(v.length - 1, Math.max(0, rank - 1))];
}

/** The median of one field over the rounds (undefined when no round has it). */
export function medianOf<T>(rounds: T[] | undefined, pick: (r: T) => number | undefined): number | undefined {
  return median((rounds ?? []).map(pick).filter((x): x is number => x !== undefined));
}

export const DASH = "–";
const MINUS = "−";

export function fmtRps(n: number | undefined): string {
  return n === undefined ? DASH : String(Math.round(n));
}

export function fmtRatio(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? DASH : `×${n.toFixed(2)}`;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return DASH;
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

export function fmtDeltaMs(ms: number | undefined): string {
  if (ms === undefined) return DASH;
  const text = Math.abs(ms) < 10 ? Math.abs(ms).toFixed(2) : Math.abs(ms).toFixed(1);
  if (Number(text) === 0) return "0.00 ms";
  return `${ms < 0 ? MINUS : "+"}${text} ms`;
}

export function fmtUs(us: number | undefined): string {
  return us === undefined ? DASH : us < 100 ? us.toFixed(1) : String(Math.round(us));
}

export function signedUs(d: number | undefined): string {
  return d === undefined ? DASH : `${d < 0 ? MINUS : "+"}${fmtUs(Math.abs(d))} µs/req`;
}

/** KiB → "48.2 MiB". */
export function fmtMiB(kib: number | undefined): string {
  return kib === undefined ? DASH : `${(kib / 1024).toFixed(1)} MiB`;
}

export function fmtDeltaMiB(after: number | undefined, before: number | undefined): string {
  const d = diff(after, before);
  if (d === undefined) return DASH;
  const text = (Math.abs(d) / 1024).toFixed(1);
  return Number(text) === 0 ? "0.0 MiB" : `${d < 0 ? MINUS : "+"}${text} MiB`;
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

/** Medians of every figure the tables and the ratios use. */
export interface Summary {
  rps: Partial<Record<WrkTarget, number>>;
  p50Ms: Partial<Record<WrkTarget, number>>;
  p99Ms: Partial<Record<WrkTarget, number>>;
  c1P50Ms: Partial<Record<WrkTarget, number>>;
  workerCpu: Partial<Record<WrkTarget, number>>;
  simCpu: Partial<Record<WrkTarget, number>>;
  /** Summed over the rounds: [calls to the throttled backend, client requests]. */
  throttledCalls: Partial<Record<WrkTarget, [number, number]>>;
  firstByteMs: Partial<Record<StreamTarget, number>>;
  firstContentMs: Partial<Record<StreamTarget, number>>;
  gapP99Ms: Partial<Record<StreamTarget, number>>;
  health: Partial<Record<WrkTarget, GatewayHealth>>;
  soak?: SoakResult;
}

const usToMs = (us: number | undefined): number | undefined => (us === undefined ? undefined : us / 1000);

export function summarize(results: BenchResults): Summary {
  const s: Summary = {
    rps: {}, p50Ms: {}, p99Ms: {}, c1P50Ms: {}, workerCpu: {}, simCpu: {}, throttledCalls: {},
    firstByteMs: {}, firstContentMs: {}, gapP99Ms: {}, health: results.health ?? {},
  };
  if (results.soak !== undefined) s.soak = results.soak;
  for (const [target, rounds] of Object.entries(results.wrk) as [WrkTarget, WrkRound[]][]) {
    s.rps[target] = medianOf(rounds, (r) => r.rps);
    s.p50Ms[target] = usToMs(medianOf(rounds, (r) => r.p50Us));
    s.p99Ms[target] = usToMs(medianOf(rounds, (r) => r.p99Us));
    s.c1P50Ms[target] = usToMs(medianOf(rounds, (r) => r.c1P50Us));
    s.workerCpu[target] = medianOf(rounds, (r) => r.workerCpuUsPerReq);
    s.simCpu[target] = medianOf(rounds, (r) => r.simCpuUsPerReq);
    if (rounds.some((r) => r.throttledCalls !== undefined)) {
      s.throttledCalls[target] = [rounds.reduce((n, r) => n + (r.throttledCalls ?? 0), 0), rounds.reduce((n, r) => n + r.requests, 0)];
    }
  }
  for (const [target, rounds] of Object.entries(results.stream) as [StreamTarget, StreamRound[]][]) {
    s.firstByteMs[target] = medianOf(rounds, (r) => r.firstByteP50);
    s.firstContentMs[target] = medianOf(rounds, (r) => r.firstContentP50);
    s.gapP99Ms[target] = medianOf(rounds, (r) => r.gapP99);
  }
  return s;
}

function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Throughput, latency and CPU: one row per wrk target. */
export function formatTable(s: Summary, connections: number, order: readonly WrkTarget[], labels: Record<WrkTarget, string>): string {
  const header = ["target", `req/s c=${connections}`, `p50 c=${connections}`, `p99 c=${connections}`, "c=1 p50", "worker CPU µs/req", "sim CPU µs/req"];
  const rows = order.map((t) => [
    labels[t],
    fmtRps(s.rps[t]),
    fmtMs(s.p50Ms[t]),
    fmtMs(s.p99Ms[t]),
    fmtMs(s.c1P50Ms[t]),
    fmtUs(s.workerCpu[t]),
    fmtUs(s.simCpu[t]),
  ]);
  return markdownTable(header, rows);
}

/** Streams: time to the response headers and to the first content event, and the gaps between content events. */
export function formatStreamTable(s: Summary, order: readonly StreamTarget[], labels: Record<WrkTarget, string>): string {
  const header = ["streamed target", "1st byte p50", "1st content p50", "gap p99", "gap p99 vs direct"];
  const rows = order.map((t) => [
    labels[t],
    fmtMs(s.firstByteMs[t]),
    fmtMs(s.firstContentMs[t]),
    fmtMs(s.gapP99Ms[t]),
    fmtDeltaMs(diff(s.gapP99Ms[t], s.gapP99Ms.direct)),
  ]);
  return markdownTable(header, rows);
}

/** Per gateway row: worker memory, error-log lines (warn and worse) and how often the throttled backend was called. */
export function formatHealthTable(s: Summary, order: readonly WrkTarget[], labels: Record<WrkTarget, string>, workers: number): string {
  const header = [
    "gateway target",
    `worker RSS after warm-up${workers > 1 ? ` (${workers} workers)` : ""}`,
    "after the rounds",
    "Δ",
    "error-log lines (warn+)",
    "per 1k req",
    "lab-only lines",
    "throttled backend calls/req",
  ];
  const rows = order
    .filter((t) => s.health[t] !== undefined)
    .map((t) => {
      const h = s.health[t]!;
      const calls = s.throttledCalls[t];
      return [
        labels[t],
        fmtMiB(h.rssAfterWarmupKiB),
        fmtMiB(h.rssAfterRunKiB),
        fmtDeltaMiB(h.rssAfterRunKiB, h.rssAfterWarmupKiB),
        String(h.logLines),
        h.requests > 0 ? ((h.logLines * 1000) / h.requests).toFixed(1) : DASH,
        h.labOnlyLines === undefined ? DASH : String(h.labOnlyLines),
        calls === undefined ? DASH : (calls[1] > 0 ? calls[0] / calls[1] : 0).toFixed(2),
      ];
    });
  return markdownTable(header, rows);
}

/** The soak line: requests, rate, worker RSS before → after (largest seen), error-log lines. */
export function formatSoak(soak: SoakResult, labels: Record<WrkTarget, string>): string {
  const rate = soak.seconds > 0 ? Math.round(soak.requests / soak.seconds) : 0;
  return [
    `soak: ${soak.requests} requests to "${labels[soak.target]}" in ${Math.round(soak.seconds)} s (${rate} req/s, ${soak.failures} failed)`,
    `worker RSS ${fmtMiB(soak.rssBeforeKiB)} → ${fmtMiB(soak.rssAfterKiB)} (${fmtDeltaMiB(soak.rssAfterKiB, soak.rssBeforeKiB)}; largest ${fmtMiB(soak.rssMaxKiB)})`,
    `error-log lines (warn+) ${soak.logLines}${soak.labOnlyLines ? ` (+${soak.labOnlyLines} lab-only)` : ""}`,
  ].join("; ");
}
