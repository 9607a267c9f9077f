/**
 * `spillway bench` options → the plan of one run. Pure: the CLI flags in, validated numbers out, so the budget of a
 * run (default about 3 min, --quick about 1 min) is visible and testable without timing anything.
 */
import { UsageError } from "../../lib/errors.ts";

export interface BenchFlags {
  duration?: string;
  connections?: string;
  rounds?: string;
  streams?: string;
  workers?: string;
  soak?: string;
  quick?: boolean;
  build?: boolean;
  standin?: boolean;
  /** commander's --no-pin sets pin: false. */
  pin?: boolean;
}

/** Where the gateway rows run: real APISIX 3.18 (APISIX_HOME or the apisix-lab), or the nginx test stand-in. */
export type Engine = "apisix" | "standin";

export interface BenchPlan {
  engine: Engine;
  /** nginx worker_processes of every gateway and of raw nginx; CPU and RSS are summed over them. */
  workers: number;
  /** Seconds of each `wrk -cN` run (one per target per round); wrk takes whole seconds. */
  durationS: number;
  /** wrk connections for the throughput runs (the baseline's c=32). */
  connections: number;
  /** Seconds of each `wrk -c1 --latency` run (the c=1 p50). */
  c1DurationS: number;
  /** Rounds; targets are alternated within each round and the medians of the rounds are reported. */
  rounds: number;
  /** Concurrent streams (the baseline's 4). */
  streamConcurrency: number;
  /** Milliseconds each streamed round keeps starting streams. */
  streamWindowMs: number;
  /** Content chunks per stream and the simulator's gap before each (the baseline's 20 × 20 ms). */
  streamChunks: number;
  streamIntervalMs: number;
  /** Requests each target gets before round 1 (JIT, keep-alive pools, the cooldown that makes "skip" a skip). */
  warmupRequests: number;
  quick: boolean;
  /** Throughput targets, in the order round 1 visits them. */
  wrkTargets: readonly WrkTarget[];
  /** Streamed targets. */
  streamTargets: readonly StreamTarget[];
  /** Requests sent to Spillway's route after the rounds, with worker RSS before and after (0: no soak). */
  soakRequests: number;
  /** Pin gateway workers and the load to separate CPUs when the machine allows it (pin.ts). */
  pin: boolean;
  /** Run `npm run build` first (~20 s here, so off by default; a build/lua older than plugins/ is reported). */
  build: boolean;
}

const DEFAULTS = { durationS: 4, connections: 32, rounds: 3, streams: 4, workers: 1 };
const QUICK = { durationS: 1, rounds: 2 };
const LIMITS = { durationS: [1, 60], connections: [1, 1000], rounds: [1, 10], streams: [1, 64], workers: [1, 8], soak: [1000, 10_000_000] } as const;

function integer(flag: string, text: string | undefined, fallback: number, [min, max]: readonly [number, number]): number {
  if (text === undefined) return fallback;
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

/**
 * Every target a run can measure. On real APISIX each gateway target is its own APISIX instance (its own workers,
 * error log and cooldown dict), so CPU, RSS and log lines belong to one row:
 *   stock, stock-prom   stock ai-proxy-multi, 2 openai-compatible instances (the healthy one first), without and
 *                       with `prometheus` on the route; no Spillway code loaded in that APISIX at all
 *   gateway             Spillway's chat route as `spillway render` renders it for two backends (healthy first;
 *                       prometheus on, as rendered); gateway-noprom: the same route without prometheus
 *   stock-hop           stock + prometheus, the first instance answers every request with 429: a hop every request
 *   skip                Spillway, the first backend answers 429 with a 10-minute Retry-After: cooled, skipped
 *   hop                 Spillway with max_cooldown_ms 0: every request calls the 429 backend, then hops
 * On the stand-in (--standin) the rows are the older set: stock, gateway (one backend), skip, stock-hop, hop.
 */
export const ALL_TARGETS = ["direct", "nginx", "stock", "stock-prom", "gateway", "gateway-noprom", "skip", "stock-hop", "hop"] as const;
export type WrkTarget = (typeof ALL_TARGETS)[number];
export type GatewayTarget = Exclude<WrkTarget, "direct" | "nginx">;
export type StreamTarget = Extract<WrkTarget, "direct" | "nginx" | "stock" | "stock-prom" | "gateway">;

const APISIX_WRK: readonly WrkTarget[] = ["direct", "nginx", "stock", "stock-prom", "gateway", "gateway-noprom", "skip", "stock-hop", "hop"];
/** --quick leaves out only the raw nginx reference: the stock comparison is the point of the bench. */
const APISIX_WRK_QUICK: readonly WrkTarget[] = APISIX_WRK.filter((t) => t !== "nginx");
/** Streams: stock and Spillway both with prometheus (like for like). */
const APISIX_STREAM: readonly StreamTarget[] = ["direct", "stock-prom", "gateway"];

const STANDIN_WRK: readonly WrkTarget[] = ["direct", "nginx", "stock", "gateway", "skip", "stock-hop", "hop"];
const STANDIN_WRK_QUICK: readonly WrkTarget[] = ["direct", "nginx", "gateway", "skip", "hop"];
const STANDIN_STREAM: readonly StreamTarget[] = ["direct", "nginx", "stock", "gateway"];
const STANDIN_STREAM_QUICK: readonly StreamTarget[] = ["direct", "nginx", "gateway"];

export function planFromFlags(flags: BenchFlags): BenchPlan {
  const quick = flags.quick === true;
  const engine: Engine = flags.standin === true ? "standin" : "apisix";
  const apisix = engine === "apisix";
  const soak = flags.soak === undefined ? 0 : integer("--soak", flags.soak, 0, LIMITS.soak);
  return {
    engine,
    workers: integer("--workers", flags.workers, DEFAULTS.workers, LIMITS.workers),
    durationS: integer("--duration", flags.duration, quick ? QUICK.durationS : DEFAULTS.durationS, LIMITS.durationS),
    connections: integer("--connections", flags.connections, DEFAULTS.connections, LIMITS.connections),
    c1DurationS: 1,
    rounds: integer("--rounds", flags.rounds, quick ? QUICK.rounds : DEFAULTS.rounds, LIMITS.rounds),
    streamConcurrency: integer("--streams", flags.streams, DEFAULTS.streams, LIMITS.streams),
    streamWindowMs: quick ? 700 : 2500,
    streamChunks: 20,
    streamIntervalMs: 20,
    warmupRequests: quick ? 100 : 400,
    quick,
    wrkTargets: apisix ? (quick ? APISIX_WRK_QUICK : APISIX_WRK) : quick ? STANDIN_WRK_QUICK : STANDIN_WRK,
    streamTargets: apisix ? APISIX_STREAM : quick ? STANDIN_STREAM_QUICK : STANDIN_STREAM,
    soakRequests: soak,
    pin: flags.pin !== false,
    build: flags.build === true,
  };
}

/** The gateway targets of a plan (everything but direct and raw nginx), in plan order. */
export function gatewayTargets(plan: Pick<BenchPlan, "wrkTargets">): GatewayTarget[] {
  return plan.wrkTargets.filter((t): t is GatewayTarget => t !== "direct" && t !== "nginx");
}

/** A rough upper bound of the measuring time (no start-up, no build, no soak), printed before the run. */
export function estimatedSeconds(plan: BenchPlan): number {
  const perRound =
    plan.wrkTargets.length * (plan.durationS + plan.c1DurationS + 0.3) + plan.streamTargets.length * (plan.streamWindowMs / 1000 + 0.5);
  return Math.ceil(perRound * plan.rounds);
}
