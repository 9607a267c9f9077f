/**
 * `spillway chaos` options → the plan of one run (pure, so the budget of a run is visible and testable): the fault
 * phases' total length, the clients, and what the clients may wait given the timeouts the gateway is rendered with.
 */
import { UsageError } from "../../lib/errors.ts";
import { TIMEOUTS } from "./gateway.ts";
import { BACKEND_COUNT } from "./phases.ts";

export interface ChaosFlags {
  duration?: string;
  short?: boolean;
  clients?: string;
  build?: boolean;
  /** commander's --no-redis / --no-reload set these to false. */
  redis?: boolean;
  reload?: boolean;
  keepLogs?: boolean;
  dump?: string;
}

export interface ChaosPlan {
  /** Length of all fault phases together (start-up and the final checks come on top). */
  durationMs: number;
  /** No phase shorter than this. */
  minPhaseMs: number;
  short: boolean;
  clients: { raw: number; sdk: number; bad: number };
  /** Mean pause between a client's requests: 200 clients, without flooding a 2-core machine. */
  thinkMs: number;
  /** Tokens per chat: short answers, so a stream takes a handful of frames. */
  maxTokens: number;
  /** What a request may take at most under the rendered timeouts; longer is a hang. */
  deadlineMs: number;
  redis: boolean;
  reload: boolean;
  build: boolean;
  keepLogs: boolean;
  /** Write every request's outcome and each phase's timeline here as JSON (for investigating a miss). */
  dumpFile?: string;
}

const DEFAULT_DURATION_S = 60;
/** With the 1.5 s floor per phase, a --short run's phases take about 45 s. */
const SHORT_DURATION_S = 20;
const DEFAULT_CLIENTS = 200;
const LIMITS = { duration: [10, 3600], clients: [10, 1000] } as const;
/** Each attempt may spend connect + first byte, then the body may idle for the read timeout; plus scheduling slack. */
const DEADLINE_SLACK_MS = 5000;

function integer(flag: string, text: string | undefined, fallback: number, [min, max]: readonly [number, number]): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  return value;
}

/** The clients' split: 5 % bad input (at least 2), a quarter SDK, the rest raw node:http. */
export function splitClients(total: number): ChaosPlan["clients"] {
  const bad = Math.max(2, Math.round(total * 0.05));
  const sdk = Math.round(total * 0.25);
  return { raw: total - bad - sdk, sdk, bad };
}

export function requestDeadlineMs(): number {
  return BACKEND_COUNT * (TIMEOUTS.connectMs + TIMEOUTS.firstByteMs) + TIMEOUTS.readMs + DEADLINE_SLACK_MS;
}

export function planFromFlags(flags: ChaosFlags): ChaosPlan {
  const short = flags.short === true;
  const seconds = integer("--duration", flags.duration, short ? SHORT_DURATION_S : DEFAULT_DURATION_S, LIMITS.duration);
  return {
    durationMs: seconds * 1000,
    minPhaseMs: 1500,
    short,
    clients: splitClients(integer("--clients", flags.clients, DEFAULT_CLIENTS, LIMITS.clients)),
    thinkMs: 150,
    maxTokens: 8,
    deadlineMs: requestDeadlineMs(),
    redis: flags.redis !== false,
    reload: flags.reload !== false,
    build: flags.build === true,
    keepLogs: flags.keepLogs === true,
    ...(flags.dump !== undefined ? { dumpFile: flags.dump } : {}),
  };
}
