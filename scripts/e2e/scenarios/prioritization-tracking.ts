/**
 * prioritization-token-tracking (toolkit §1.8): one PTU with LOW_PRIORITY_RESERVE_TOKENS=30% (the toolkit's 30k of
 * 100k). High traffic alone meets no gateway 429 and sets the idle latency. Then low-priority traffic (x-priority:
 * low) saturates the PTU while high traffic runs: high keeps ≥ 90 % success and its p50 within 20 % of idle; low is
 * admitted about 70 % of the window: at most 0.7·TPM plus the low requests already on their way when the reserve
 * was reached plus one probe per second, at least 0.7·TPM less what high used and one low request.
 */
import { atLeast, atMost, between, check, equals, ms, pct } from "../checks.ts";
import type { GatewaySpec } from "../gateway-spec.ts";
import type { LoadKind, Scenario, Series } from "../model.ts";
import { countSeries, median, percentile } from "../stats.ts";
import { chatPath, type Sent } from "../traffic.ts";
import { at, binOf, chatBody, countWhere, fmtMs, prepareSimulators, statusSummary } from "./common.ts";

const DEPLOYMENT = "gpt-35-turbo-100k-token";
export const RESERVE_SHARE = 0.3;
/** High p50 under low load may be this much above idle. */
const P50_SLACK = 0.2;
const MIN_HIGH_SUCCESS = 0.9;
/** Spillway probes a backend below its reserve with one low request per second and node. */
const PROBES_PER_S = 1;
/** The token check covers the mixed phase's first minute at most: no token leaves the 60 s window before then. */
const WINDOW_S = 55;
const REFUSAL = "tokens-below-low-priority-threshold";
const MAX_BACKOFF_S = 60;

interface Load {
  idle: { users: number; requests?: number; durationMs?: number; thinkMs: number };
  mixedMs: number;
  high: { users: number; thinkMs: number; maxTokens: number };
  low: { users: number; thinkMs: number; maxTokens: number };
  /** Pause after a refused low request without a Retry-After. */
  lowBackoffMs: number;
}

/**
 * --short: the lanes suite's load (15 idle high requests; then 4 low users of 2000 tokens as fast as they are let
 * through, backing off for a refusal's Retry-After, next to a high request every 250 ms, 5 s). --long: 2 min of 2 high users, then 6 min with 6 low users of
 * 244 tokens (the toolkit's embeddings cost) at the toolkit's 1 s wait: 88k tokens a minute offered against the 70k
 * above the reserve, and 8 requests per second, under the deployment's 10.
 */
const LOADS: Record<LoadKind, Load> = {
  short: { idle: { users: 1, requests: 15, thinkMs: 0 }, mixedMs: 5000, high: { users: 1, thinkMs: 250, maxTokens: 50 }, low: { users: 4, thinkMs: 0, maxTokens: 2000 }, lowBackoffMs: 20 },
  long: { idle: { users: 2, durationMs: 120_000, thinkMs: 1000 }, mixedMs: 360_000, high: { users: 2, thinkMs: 1000, maxTokens: 50 }, low: { users: 6, thinkMs: 1000, maxTokens: 244 }, lowBackoffMs: 1000 },
};

/** Low tokens admitted within `windowS` of a fresh window: [min, max] (see the module comment). */
export function lowTokenBounds(tpm: number, windowS: number, lowUsers: number, lowCost: number, highTokens: number): [number, number] {
  const above = (1 - RESERVE_SHARE) * tpm;
  const probes = (Math.ceil(windowS) + 1) * PROBES_PER_S;
  return [above - highTokens - lowCost, above + (lowUsers - 1) * lowCost + probes * lowCost];
}

const ok = (s: Sent): boolean => s.status === 200 && s.error === undefined;

/**
 * As an SDK does after a 429: wait for the Retry-After the refusal names (the reserve's is the earliest recovery,
 * a second while a backend waits for its probe). Retrying every few ms would keep a 2-core machine busy enough to
 * move high traffic's latency, which is what is measured.
 */
export function backoffMs(s: Sent, fallbackMs: number): number {
  const seconds = Number(s.headers["retry-after"]);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, MAX_BACKOFF_S) * 1000 : fallbackMs;
}

export const prioritizationTokenTracking: Scenario = {
  name: "prioritization-token-tracking",
  title: "Low priority yields to high by the PTU's remaining tokens",
  toolkit: "prioritization-token-tracking, §1.8",
  gateway: (): GatewaySpec => ({ backends: [{ role: "ptu1" }], clients: 1, settings: { LOW_PRIORITY_RESERVE_TOKENS: `${RESERVE_SHARE * 100}%` } }),
  async run(ctx) {
    const load = LOADS[ctx.load];
    // 40 ms per answer whatever its length: the latency compared is the gateway's and the backend's, not token count.
    await prepareSimulators(ctx, { ptu1: { baseMs: 40 } });
    const ptu = ctx.stack.simulators.ptu1;
    const tpm = (await ptu.deployments())[DEPLOYMENT] ?? 0;
    const path = chatPath(DEPLOYMENT);
    const t0 = Date.now();
    const idle = await ctx.traffic.users({
      users: load.idle.users,
      thinkMs: load.idle.thinkMs,
      ...(load.idle.requests !== undefined ? { requests: load.idle.requests } : {}),
      ...(load.idle.durationMs !== undefined ? { durationMs: load.idle.durationMs } : {}),
      make: () => ({ path, body: chatBody(load.high.maxTokens), client: 0, tag: "idle" }),
    });
    await ptu.reset(); // the mixed phase starts from an empty window, so its first minute is exact
    const mixedStart = Date.now();
    let highDone = false;
    const highRun = ctx.traffic
      .users({ users: load.high.users, durationMs: load.mixedMs, thinkMs: load.high.thinkMs, make: () => ({ path, body: chatBody(load.high.maxTokens), client: 0, tag: "mixed" }) })
      .finally(() => (highDone = true));
    const lowRun = ctx.traffic.users({
      users: load.low.users,
      durationMs: load.mixedMs,
      thinkMs: (s) => (s.status === 200 ? load.low.thinkMs : backoffMs(s, load.lowBackoffMs)),
      stop: () => highDone,
      make: () => ({ path, body: chatBody(load.low.maxTokens), client: 0, lane: "low", tag: "mixed" }),
    });
    const [high, low] = await Promise.all([highRun, lowRun]);
    const windowEnd = mixedStart + WINDOW_S * 1000;
    const inWindow = (s: Sent): boolean => s.sentAt < windowEnd;
    const windowS = Math.min(WINDOW_S, load.mixedMs / 1000);
    const lowTokens = low.filter((s) => ok(s) && inWindow(s)).reduce((a, s) => a + (s.cost ?? 0), 0);
    const highTokens = high.filter((s) => ok(s) && inWindow(s)).reduce((a, s) => a + (s.cost ?? 0), 0);
    const [lo, hi] = lowTokenBounds(tpm, windowS, load.low.users, load.low.maxTokens, highTokens);
    const idleP50 = median(idle.filter(ok).map((s) => s.totalMs));
    const busyP50 = median(high.filter(ok).map((s) => s.totalMs));
    const gatewayRefusals = (list: readonly Sent[]): number => countWhere(list, (s) => s.status === 429 && s.headers["x-gw-ratelimit-reason"] !== undefined);
    const lowRefused = low.filter((s) => s.status === 429);
    const row = (phase: string, lane: string, list: readonly Sent[]): (string | number)[] => [
      phase, lane, list.length, countWhere(list, ok), gatewayRefusals(list), countWhere(list, (s) => s.status === 429) - gatewayRefusals(list),
      fmtMs(median(list.filter(ok).map((s) => s.totalMs))), fmtMs(percentile(list.filter(ok).map((s) => s.totalMs), 95)),
    ];
    const bin = binOf([...idle, ...high, ...low], t0);
    const series = (name: string, list: readonly Sent[], pred: (s: Sent) => boolean): Series => ({ name, type: "line", data: countSeries(list.filter(pred).map((s) => at(s, t0)), bin) });
    return {
      load:
        `idle: high only, ${load.idle.requests !== undefined ? `${load.idle.requests} requests` : `${load.idle.durationMs! / 1000} s`} (users: ${load.idle.users}); then ${load.mixedMs / 1000} s of ` +
        `high (users: ${load.high.users}, ${load.high.maxTokens} tokens, ${load.high.thinkMs} ms pause) and low (users: ${load.low.users}, ${load.low.maxTokens} tokens); chat ${DEPLOYMENT} (TPM ${tpm}), 40 ms per answer`,
      table: {
        headers: ["phase", "lane", "sent", "200", "429 (reserve)", "429 (other)", "p50", "p95"],
        rows: [row("idle", "high", idle), row("mixed", "high", high), row("mixed", "low", low)],
      },
      checks: [
        equals("high traffic alone: gateway 429s", gatewayRefusals(idle), 0),
        equals("high traffic alone: other errors", countWhere(idle, (s) => !ok(s)), 0),
        atLeast("high success while low saturates", high.length > 0 ? countWhere(high, ok) / high.length : undefined, MIN_HIGH_SUCCESS, pct),
        atMost(`high p50 while low saturates (idle p50 ${fmtMs(idleP50)} + ${P50_SLACK * 100} %)`, busyP50, (idleP50 ?? 0) * (1 + P50_SLACK), ms),
        check("low traffic was refused at the reserve, with the toolkit's headers", lowRefused.length > 0 && lowRefused.every((s) => s.headers["x-gw-ratelimit-reason"] === REFUSAL && s.headers["x-gw-priority"] === "low"), `429s with x-gw-ratelimit-reason ${REFUSAL}`, `${lowRefused.length} refusals, ${countWhere(lowRefused, (s) => s.headers["x-gw-ratelimit-reason"] === REFUSAL)} with it`),
        between(`low tokens admitted in the first ${windowS} s (≈ 70 % of ${tpm}; high used ${highTokens})`, lowTokens, lo, hi),
      ],
      chart: {
        title: "Successful requests per second by lane; low refusals",
        xName: "s",
        yName: "requests/s",
        series: [series("high 200", [...idle, ...high], ok), series("low 200", low, ok), series("low 429 (reserve)", low, (s) => s.status === 429)],
      },
      notes: [`idle: ${statusSummary(idle)}; mixed high: ${statusSummary(high)}; mixed low: ${statusSummary(low)}`, `mixed phase started at ${((mixedStart - t0) / 1000).toFixed(1)} s`],
    };
  },
};
