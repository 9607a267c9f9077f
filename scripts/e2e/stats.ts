/**
 * The arithmetic of the scenarios' tolerances (pure): percentiles, the binomial bound on a backend's share, time
 * bins for the charts, and the simulator's token window replayed over its own request log.
 */
import { TokensPerMinuteWindow, requestsPer10s } from "../simulator/limiter.ts";

/** The largest value (`empty` for none), without spreading: a --long run has ~10^5 values, past the call stack. */
export function maxOf(values: Iterable<number>, empty = 0): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max === -Infinity ? empty : max;
}

/** Nearest-rank percentile (p in 0–100); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

/**
 * How far a backend's observed share of n requests may be from its configured share p: three standard deviations
 * of a binomial draw, plus `workers`/n because APISIX's weighted round-robin runs once per nginx worker (each worker
 * has its own position in the cycle, so the split can be off by up to one request per worker even without chance).
 */
export function shareBound(p: number, n: number, workers: number): number {
  if (n <= 0) return 1;
  return 3 * Math.sqrt((p * (1 - p)) / n) + workers / n;
}

/**
 * The chart bin for a scenario of `spanS` seconds: a quarter second for the few seconds of --short, the toolkit's
 * 10 s bins for minutes, 30 s beyond 10 minutes.
 */
export function binFor(spanS: number): number {
  if (spanS <= 10) return 0.25;
  if (spanS <= 60) return 1;
  if (spanS <= 600) return 10;
  return 30;
}

/** Counts per bin of `binS` seconds: [bin start s, count]; every bin from 0 to the last one present. */
export function countSeries(times: readonly number[], binS: number): [number, number][] {
  if (times.length === 0) return [];
  const counts = new Map<number, number>();
  for (const t of times) {
    const bin = Math.floor(t / binS);
    counts.set(bin, (counts.get(bin) ?? 0) + 1);
  }
  const last = maxOf(counts.keys());
  return Array.from({ length: last + 1 }, (_, i) => [round(i * binS), (counts.get(i) ?? 0) / binS]);
}

/** Mean value per bin of `binS` seconds: [bin start s, mean], bins without points left out. */
export function meanSeries(points: readonly (readonly [number, number])[], binS: number): [number, number][] {
  const sums = new Map<number, { sum: number; n: number }>();
  for (const [t, v] of points) {
    const bin = Math.floor(t / binS);
    const s = sums.get(bin) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n++;
    sums.set(bin, s);
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([bin, s]) => [round(bin * binS), round(s.sum / s.n)]);
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** One request as the simulator logged it: when, what it cost the window, how it was answered. */
export interface WindowEntry {
  time: number;
  cost: number;
  status: number | undefined;
}

export interface ReplayedEntry extends WindowEntry {
  /** The window's verdict on replay: admitted, or refused with its Retry-After (s). */
  admitted: boolean;
  retryAfterS?: number;
}

/**
 * The simulator's own window (scripts/simulator/limiter.ts, the same code) replayed over the requests it logged, in
 * order: each request's admission and, for a refusal, the Retry-After it was sent. Only successes and 429s touch the
 * window; anything else (a fault, a 4xx) is left out, as the simulator leaves it out.
 */
export function replayWindow(tpm: number, entries: readonly WindowEntry[]): ReplayedEntry[] {
  const window = new TokensPerMinuteWindow(requestsPer10s(tpm), tpm);
  const out: ReplayedEntry[] = [];
  for (const e of [...entries].sort((a, b) => a.time - b.time)) {
    if (e.status !== 200 && e.status !== 429) continue;
    const r = window.add(e.cost, e.time);
    out.push(r.success ? { ...e, admitted: true } : { ...e, admitted: false, retryAfterS: r.retryAfter });
  }
  return out;
}

/** How many requests of `cost` tokens an empty window admits at once: the tokens or the 10 s request count. */
export function burstCapacity(tpm: number, cost: number): number {
  return Math.min(Math.floor(tpm / cost), requestsPer10s(tpm));
}
