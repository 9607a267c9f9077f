/**
 * The fault schedule (pure): one kind at a time on one backend, then every backend throttled at once, the optional
 * Redis and reload phases, and last a mix where two backends draw a random fault every second. The single faults
 * alternate between the first two backends and the mix keeps one backend clean all phase long: a cooldown a fault
 * leaves (seconds, by design) can then never take every backend out at once, so "at least one backend healthy" holds
 * from the gateway's point of view too, not just the simulators'. Durations are shares of the run's length.
 */
import type { FaultSpec, RetryHeader } from "../simulator/types.ts";
import { COOLDOWNS, TIMEOUTS } from "./gateway.ts";

export const BACKEND_COUNT = 3;
/** The single faults go to backends 0 and 1 in turn; backend 2 stays clean in those phases. */
const FAULTED = 2;

/** What the phase does to one backend: a fault list, or its process stopped (connection refused). */
export type BackendState = FaultSpec[] | "stopped";

export interface Phase {
  name: string;
  /** Share of the run's length. */
  weight: number;
  /** Never shorter than this (ms). */
  minMs?: number;
  /** Per backend (index), what it does during the phase; absent = healthy. */
  backends: BackendState[];
  /** At least one backend answers normally all phase long: the client-visible 429/5xx rate must stay < 0.5 %. */
  healthy: boolean;
  /** Every backend throttled: answers are 429 with Retry-After at the earliest recovery (or, once one is back, 200). */
  allThrottled?: { retryAfterMs: number[] };
  /** Time after the faults are cleared that still belongs to this phase (cooldowns running out). */
  settleMs?: number;
  /** Redis is stopped at the start and started again half-way. */
  redisOutage?: boolean;
  /** The env file changes at the start; `spillway render --watch` rewrites apisix.yaml under load. */
  reload?: boolean;
  /** A new random fault per backend every second, one backend always clean. */
  mixed?: boolean;
}

/** The single 429 phases' retry-after: as short as the error cooldown (see COOLDOWNS). */
const RETRY_MS = COOLDOWNS.errorMs;
const RETRY_FORMS: [string, RetryHeader[]][] = [
  ["429 retry-after-ms", ["retry-after-ms"]],
  ["429 retry-after", ["retry-after"]],
  ["429 x-ratelimit-reset-requests", ["x-ratelimit-reset-requests"]],
  ["429 x-ratelimit-reset-tokens", ["x-ratelimit-reset-tokens"]],
  ["429 no retry header", []],
];

type Named = [name: string, state: BackendState];

const single = (name: string, ...faults: FaultSpec[]): Named => [name, faults];

/** The single-fault kinds, by phase name (also what the mixed phase draws from). */
export const SINGLE_FAULTS: readonly Named[] = [
  ...RETRY_FORMS.map(([name, retryHeaders]) => single(name, { kind: "status", status: 429, retryAfterMs: RETRY_MS, retryHeaders })),
  ...[500, 502, 503, 504].map((status) => single(String(status), { kind: "status", status })),
  ["connection refused", "stopped"],
  single("reset mid-headers", { kind: "reset-mid-headers" }),
  single("in-stream error before content", { kind: "stream-error", afterChunks: 0 }),
  single("stream cut after content", { kind: "stream-cut", afterChunks: 2 }),
  single("200 with invalid JSON", { kind: "invalid-json" }),
  // The two that end in a timeout come last: their requests keep failing for a first-byte timeout after the phase,
  // and "calm" (below) waits for that, where another fault on the same backend would find it still cooling.
  single("hang before headers", { kind: "hang" }),
  // Longer than the first-byte timeout: the gateway must give up on it and fail over, and drop the late answer.
  single("slow first byte", { kind: "slow-first-byte", delayMs: TIMEOUTS.firstByteMs + 1500 }),
];

/** Each backend's retry-after when all are throttled: distinct, so the earliest recovery is a real choice. */
export const ALL_THROTTLED_MS = [2000, 3000, 4000] as const;
/**
 * Redis stays down for half the phase, then up for the other half. The gateway notices each change at its next
 * probe (plugins/spillway-failover/redis-sync.ts pulls once per second, from a timer a loaded worker may run late):
 * each half lasts three probes, so a --short run (1.5 s phases) does not end the outage before anyone looked.
 */
const REDIS_OUTAGE_PHASE_MS = 2 * 3 * 1000;
/**
 * The reload phase keeps every backend clean long enough for the rewritten apisix.yaml to serve: `render --watch`
 * takes up to a second to rewrite it, APISIX reads it at its next once-a-second check (config_yaml.lua), and then
 * the renamed backend must still take its share of healthy traffic (in the mixed phase after it, it may draw a fault
 * at every tick).
 */
const RELOAD_PHASE_MS = 4000;

function only(index: number, state: BackendState): BackendState[] {
  return Array.from({ length: BACKEND_COUNT }, (_, i) => (i === index ? state : []));
}

export interface ScheduleOptions {
  redis: boolean;
  reload: boolean;
}

export function schedule(opts: ScheduleOptions): Phase[] {
  const phases: Phase[] = [{ name: "baseline", weight: 1, backends: only(0, []), healthy: true }];
  SINGLE_FAULTS.forEach(([name, state], i) => phases.push({ name, weight: 1, backends: only(i % FAULTED, state), healthy: true }));
  // Every timeout and cooldown the single faults left runs out, so that "all throttled" starts from throttling alone.
  phases.push({ name: "calm", weight: 1, backends: only(0, []), healthy: true, minMs: TIMEOUTS.firstByteMs + Math.max(COOLDOWNS.errorMs, COOLDOWNS.default429Ms) + 500 });
  phases.push({
    name: "all throttled",
    weight: 2,
    backends: ALL_THROTTLED_MS.map((ms) => [{ kind: "status", status: 429, retryAfterMs: ms, retryHeaders: ["retry-after-ms", "retry-after"] }]),
    healthy: false,
    allThrottled: { retryAfterMs: [...ALL_THROTTLED_MS] },
    settleMs: Math.min(...ALL_THROTTLED_MS) + 1000,
  });
  if (opts.redis) {
    phases.push({ name: "redis stopped and restarted", weight: 2, backends: only(1, [{ kind: "status", status: 429, retryAfterMs: RETRY_MS, retryHeaders: ["retry-after-ms"] }]), healthy: true, redisOutage: true, minMs: REDIS_OUTAGE_PHASE_MS });
  }
  if (opts.reload) phases.push({ name: "reload (render --watch)", weight: 2, backends: only(0, []), healthy: true, reload: true, minMs: RELOAD_PHASE_MS });
  phases.push({ name: "mixed at random", weight: 6, backends: only(0, []), healthy: true, mixed: true });
  return phases;
}

/** Milliseconds per phase for a run of `totalMs` (each at least `minMs`). */
export function phaseLengths(phases: readonly Phase[], totalMs: number, minMs: number): number[] {
  const units = phases.reduce((n, p) => n + p.weight, 0);
  return phases.map((p) => Math.max(minMs, p.minMs ?? 0, Math.round((totalMs * p.weight) / units)));
}

/** One draw of the mixed phase: a random fault (or none) per backend but `clean`, never "stopped". */
export function mixedDraw(clean: number, random: () => number = Math.random): BackendState[] {
  const kinds = SINGLE_FAULTS.filter(([, state]) => state !== "stopped").map(([, state]) => state);
  return Array.from({ length: BACKEND_COUNT }, (_, i) => {
    if (i === clean || random() < 0.25) return [];
    return kinds[Math.floor(random() * kinds.length)]!;
  });
}
