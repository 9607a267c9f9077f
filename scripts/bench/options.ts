/**
 * `spillway bench` options → the plan of one run. Pure: the CLI flags in, validated numbers out, so the budget of a
 * run (default under ~3 min, --quick under ~40 s) is visible and testable without timing anything.
 */
import { UsageError } from "../../lib/errors.ts";

export interface BenchFlags {
  duration?: string;
  connections?: string;
  rounds?: string;
  streams?: string;
  quick?: boolean;
  build?: boolean;
}

export interface BenchPlan {
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
  /** Run `npm run build` first (~20 s here, so off by default; a build/lua older than plugins/ is reported). */
  build: boolean;
}

const DEFAULTS = { durationS: 4, connections: 32, rounds: 3, streams: 4 };
const QUICK = { durationS: 1, rounds: 2 };
const LIMITS = { durationS: [1, 60], connections: [1, 1000], rounds: [1, 10], streams: [1, 64] } as const;

function integer(flag: string, text: string | undefined, fallback: number, [min, max]: readonly [number, number]): number {
  if (text === undefined) return fallback;
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

export function planFromFlags(flags: BenchFlags): BenchPlan {
  const quick = flags.quick === true;
  const durationS = integer("--duration", flags.duration, quick ? QUICK.durationS : DEFAULTS.durationS, LIMITS.durationS);
  return {
    durationS,
    connections: integer("--connections", flags.connections, DEFAULTS.connections, LIMITS.connections),
    c1DurationS: 1,
    rounds: integer("--rounds", flags.rounds, quick ? QUICK.rounds : DEFAULTS.rounds, LIMITS.rounds),
    streamConcurrency: integer("--streams", flags.streams, DEFAULTS.streams, LIMITS.streams),
    streamWindowMs: quick ? 700 : 2500,
    streamChunks: 20,
    streamIntervalMs: 20,
    warmupRequests: quick ? 100 : 400,
    quick,
    wrkTargets: quick ? QUICK_WRK_TARGETS : WRK_TARGETS,
    streamTargets: quick ? QUICK_STREAM_TARGETS : STREAM_TARGETS,
    build: flags.build === true,
  };
}

/**
 * Throughput targets (wrk). "stock" and "stock-hop" are the stand-in's own ai-proxy-multi with the
 * openai-compatible provider and no Spillway plugin: the reference the baseline's goals are phrased against.
 * --quick leaves them out to stay under ~40 s.
 */
export const WRK_TARGETS = ["direct", "nginx", "stock", "gateway", "skip", "stock-hop", "hop"] as const;
export type WrkTarget = (typeof WRK_TARGETS)[number];
const QUICK_WRK_TARGETS: readonly WrkTarget[] = ["direct", "nginx", "gateway", "skip", "hop"];

/** Streamed targets (our client). */
export const STREAM_TARGETS = ["direct", "nginx", "stock", "gateway"] as const;
export type StreamTarget = (typeof STREAM_TARGETS)[number];
const QUICK_STREAM_TARGETS: readonly StreamTarget[] = ["direct", "nginx", "gateway"];

/** A rough upper bound of the measuring time (no start-up, no build), printed before the run. */
export function estimatedSeconds(plan: BenchPlan): number {
  const perRound =
    plan.wrkTargets.length * (plan.durationS + plan.c1DurationS + 0.3) + plan.streamTargets.length * (plan.streamWindowMs / 1000 + 0.5);
  return Math.ceil(perRound * plan.rounds);
}
