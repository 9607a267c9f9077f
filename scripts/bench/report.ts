/**
 * Pure: the figures of a run → medians, the table and the ratios. Nothing here measures or prints.
 */
import type { StreamTarget, WrkTarget } from "./options.ts";

/** One wrk target in one round. */
export interface WrkRound {
  rps: number;
  c1P50Us: number;
  /** Gateway worker CPU per request (stand-in and raw nginx rows). */
  workerCpuUsPerReq?: number;
  /** CPU of the healthy simulator process per request. */
  simCpuUsPerReq?: number;
  /** Calls the throttled backend received during the c=N run, and the requests wrk completed in it. */
  throttledCalls?: number;
  requests: number;
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

export interface BenchResults {
  wrk: Partial<Record<WrkTarget, WrkRound[]>>;
  stream: Partial<Record<StreamTarget, StreamRound[]>>;
}

export const TARGET_LABELS: Record<WrkTarget, string> = {
  direct: "direct to the simulator",
  nginx: "raw nginx proxy_pass",
  stock: "stock ai-proxy-multi + openai-compatible",
  gateway: "Spillway, one backend",
  skip: "Spillway, primary cooling (skip)",
  "stock-hop": "stock, primary 429 every time",
  hop: "Spillway, primary 429, no cooldown (hop)",
};

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

const DASH = "–";
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

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

/** Medians of every figure the table and the ratios use. */
export interface Summary {
  rps: Partial<Record<WrkTarget, number>>;
  c1P50Ms: Partial<Record<WrkTarget, number>>;
  workerCpu: Partial<Record<WrkTarget, number>>;
  simCpu: Partial<Record<WrkTarget, number>>;
  /** Summed over the rounds: [calls to the throttled backend, client requests]. */
  throttledCalls: Partial<Record<WrkTarget, [number, number]>>;
  firstByteMs: Partial<Record<StreamTarget, number>>;
  firstContentMs: Partial<Record<StreamTarget, number>>;
  gapP99Ms: Partial<Record<StreamTarget, number>>;
}

export function summarize(results: BenchResults): Summary {
  const s: Summary = { rps: {}, c1P50Ms: {}, workerCpu: {}, simCpu: {}, throttledCalls: {}, firstByteMs: {}, firstContentMs: {}, gapP99Ms: {} };
  for (const [target, rounds] of Object.entries(results.wrk) as [WrkTarget, WrkRound[]][]) {
    s.rps[target] = medianOf(rounds, (r) => r.rps);
    const c1 = medianOf(rounds, (r) => r.c1P50Us);
    s.c1P50Ms[target] = c1 === undefined ? undefined : c1 / 1000;
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

export function formatTable(s: Summary, connections: number, order: readonly WrkTarget[], streamed: readonly StreamTarget[]): string {
  const header = [
    "target",
    `req/s c=${connections}`,
    "×raw nginx",
    "c=1 p50",
    "stream 1st byte p50",
    "stream 1st content p50",
    "gap p99 vs direct",
    "worker CPU µs/req",
    "sim CPU µs/req",
  ];
  const rows = order.map((t) => {
    const st = t as StreamTarget;
    const hasStream = (streamed as readonly string[]).includes(t);
    return [
      TARGET_LABELS[t],
      fmtRps(s.rps[t]),
      fmtRatio(ratio(s.rps[t], s.rps.nginx)),
      fmtMs(s.c1P50Ms[t]),
      hasStream ? fmtMs(s.firstByteMs[st]) : DASH,
      hasStream ? fmtMs(s.firstContentMs[st]) : DASH,
      hasStream ? fmtDeltaMs(diff(s.gapP99Ms[st], s.gapP99Ms.direct)) : DASH,
      fmtUs(s.workerCpu[t]),
      fmtUs(s.simCpu[t]),
    ];
  });
  return markdownTable(header, rows);
}

function cpuText(s: Summary, a: WrkTarget, b: WrkTarget): string {
  const d = diff(s.workerCpu[a], s.workerCpu[b]);
  const sign = d === undefined ? "" : d < 0 ? MINUS : "+";
  return `worker CPU ${fmtRatio(ratio(s.workerCpu[a], s.workerCpu[b]))} (${d === undefined ? DASH : `${sign}${fmtUs(Math.abs(d))} µs/req`})`;
}

/** The ratios issue 3 asks for, one per line, aligned. */
export function formatRatios(s: Summary): string {
  const calls = (t: WrkTarget): string => {
    const c = s.throttledCalls[t];
    if (c === undefined) return `throttled backend called ${DASH}`;
    return `throttled backend called ${c[0]}× for ${c[1]} requests (${(c[1] > 0 ? c[0] / c[1] : 0).toFixed(2)}/req)`;
  };
  const streamDelta = (t: StreamTarget): string =>
    `1st content p50 ${fmtDeltaMs(diff(s.firstContentMs[t], s.firstContentMs.direct))}   gap p99 ${fmtDeltaMs(diff(s.gapP99Ms[t], s.gapP99Ms.direct))}`;
  const lines: [string, string][] = [
    ["gateway / direct", `req/s ${fmtRatio(ratio(s.rps.gateway, s.rps.direct))}   c=1 p50 ${fmtDeltaMs(diff(s.c1P50Ms.gateway, s.c1P50Ms.direct))}`],
    ["gateway / raw nginx", `req/s ${fmtRatio(ratio(s.rps.gateway, s.rps.nginx))}   c=1 p50 ${fmtDeltaMs(diff(s.c1P50Ms.gateway, s.c1P50Ms.nginx))}   ${cpuText(s, "gateway", "nginx")}`],
    ["429 hop / no failover", `req/s ${fmtRatio(ratio(s.rps.hop, s.rps.gateway))}   c=1 p50 ${fmtDeltaMs(diff(s.c1P50Ms.hop, s.c1P50Ms.gateway))}   ${cpuText(s, "hop", "gateway")}   ${calls("hop")}`],
    ["cooled skip / no failover", `req/s ${fmtRatio(ratio(s.rps.skip, s.rps.gateway))}   c=1 p50 ${fmtDeltaMs(diff(s.c1P50Ms.skip, s.c1P50Ms.gateway))}   ${cpuText(s, "skip", "gateway")}   ${calls("skip")}`],
    ["skip / hop", `req/s ${fmtRatio(ratio(s.rps.skip, s.rps.hop))}   ${cpuText(s, "skip", "hop")}`],
    ["stream gateway − direct", streamDelta("gateway")],
  ];
  if (s.rps.stock !== undefined) {
    lines.push(
      ["gateway / stock", `req/s ${fmtRatio(ratio(s.rps.gateway, s.rps.stock))}   c=1 p50 ${fmtDeltaMs(diff(s.c1P50Ms.gateway, s.c1P50Ms.stock))}   ${cpuText(s, "gateway", "stock")}`],
      ["skip / stock-hop", `req/s ${fmtRatio(ratio(s.rps.skip, s.rps["stock-hop"]))}   ${cpuText(s, "skip", "stock-hop")}   ${calls("stock-hop")}`],
      ["hop / stock-hop", `req/s ${fmtRatio(ratio(s.rps.hop, s.rps["stock-hop"]))}   ${cpuText(s, "hop", "stock-hop")}`],
      ["stream stock − direct", streamDelta("stock")],
    );
  }
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}
