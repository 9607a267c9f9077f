/**
 * Low-priority headroom per backend and deployment, shared by every worker (the cooldown dict):
 *
 *   lo:<backend>:<deployment>  "<probe_at_ms> <tokens|requests> <value>"  a backend below its low reserve
 *   lp:<backend>:<deployment>  true, for PROBE_S                             a low probe is on its way
 *
 * A backend whose last answer left less than the reserve takes no low-priority request until `probe_at` (its reported
 * reset, at most PROBE_S away). Then one low request per node and PROBE_S goes through as a probe (the toolkit's
 * "allow one additional low-priority request"): its answer either lifts the block (headroom came back) or renews it.
 * Without probes a backend that only low traffic uses would never report headroom again; with a burst instead of one
 * probe, every low client would spend the quota the reserve is there to keep. High traffic never looks at any of it,
 * and every answer of either lane refreshes it.
 */
import type { ReserveShortfall } from "../lib/low-reserve";
import type { Cooling } from "./cooldown-store";
import { SHARED_DICT } from "./cooldown-store";

/** Longest wait before the next probe, and how long one probe holds off the next. */
export const PROBE_S = 1;
/** How long a block is remembered (it is renewed by each answer below the reserve and lifted by one above it). */
const MEMORY_S = 60;

const find = string.find;
const sub = string.sub;

function dict(this: void): NgxSharedDict | undefined {
  return ngx.shared[SHARED_DICT];
}

/** Why a backend takes no low-priority request now: a cooldown-like record the picker and the exhaustion answer use. */
export interface ReserveBlock extends Cooling {
  reserve: { below: "tokens" | "requests"; value: number };
}

/** "<probe_at_ms> <below> <value>" → its parts. */
function parse(this: void, value: string): ReserveBlock | undefined {
  const [first] = find(value, " ", 1, true);
  if (first === undefined) return undefined;
  const [second] = find(value, " ", first + 1, true);
  if (second === undefined) return undefined;
  const until = tonumber(sub(value, 1, first - 1));
  const amount = tonumber(sub(value, second + 1));
  const below = sub(value, first + 1, second - 1);
  if (until === undefined || amount === undefined || (below !== "tokens" && below !== "requests")) return undefined;
  return { until_ms: until, kind: "throttled", reserve: { below, value: amount } };
}

/** The stored form of a block (also what Redis carries to the other replicas). */
export function blockValue(this: void, probeAtMs: number, below: string, value: number): string {
  return `${string.format("%d", probeAtMs)} ${below} ${string.format("%d", value)}`;
}

/**
 * The block on `key` for a low-priority request now, or undefined when it may go (no block, or it is this node's
 * probe: the caller then sends it). `peek`: only look, do not take the probe (the backend counts as available).
 */
export function lowBlocked(this: void, key: string, nowMs: number, peek?: boolean): ReserveBlock | undefined {
  const shared = dict();
  if (shared === undefined) return undefined;
  const [value] = shared.get(`lo:${key}`);
  if (typeof value !== "string") return undefined;
  const block = parse(value);
  if (block === undefined) return undefined;
  if (block.until_ms > nowMs) return block;
  if (peek === true) return undefined;
  // Past probe time: the first low request on this node goes; the others wait for its answer, at most PROBE_S.
  const [probe] = shared.add(`lp:${key}`, true, PROBE_S);
  if (probe) return undefined;
  block.until_ms = nowMs + PROBE_S * 1000;
  return block;
}

/** Stores a block from a backend's answer; returns the stored value, for Redis. */
export function blockLow(this: void, key: string, shortfall: ReserveShortfall, nowMs: number): string | undefined {
  const shared = dict();
  if (shared === undefined) return undefined;
  let waitMs = shortfall.reset_ms ?? PROBE_S * 1000;
  if (waitMs > PROBE_S * 1000) waitMs = PROBE_S * 1000;
  const value = blockValue(nowMs + waitMs, shortfall.below, shortfall.value);
  shared.set(`lo:${key}`, value, MEMORY_S);
  return value;
}

/** A block another replica reported (through Redis): kept unless this node knows of a later one. */
export function adoptBlock(this: void, key: string, value: string, nowMs: number): void {
  const shared = dict();
  const block = parse(value);
  if (shared === undefined || block === undefined || block.until_ms <= nowMs) return;
  const [current] = shared.get(`lo:${key}`);
  const known = typeof current === "string" ? parse(current) : undefined;
  if (known !== undefined && known.until_ms >= block.until_ms) return;
  shared.set(`lo:${key}`, value, MEMORY_S);
}

/** The backend reported headroom again: low traffic may use it. True when there was a block to lift. */
export function liftLow(this: void, key: string): boolean {
  const shared = dict();
  if (shared === undefined) return false;
  const [value] = shared.get(`lo:${key}`);
  if (value === undefined) return false;
  shared.delete(`lo:${key}`);
  return true;
}
