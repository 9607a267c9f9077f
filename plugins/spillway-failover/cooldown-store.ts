/**
 * Cooldown state shared by every worker (ngx.shared["spillway-cooldown"]). Keys are per backend *and*
 * deployment: Azure's quota is per deployment, so a throttled chat deployment says nothing about the
 * embeddings deployment on the same resource.
 *
 *   cd:<backend>:<deployment>  "<until_ms> <kind>"   expires with the cooldown
 *   er:<backend>:<deployment>  consecutive failures   expires after ERROR_MEMORY_S without news
 */
import type { OutcomeKind } from "../lib/outcome";

export const SHARED_DICT = "spillway-cooldown";

/** A failure streak older than this is forgotten: "consecutive" means within a minute of each other. */
const ERROR_MEMORY_S = 60;

const find = string.find;
const sub = string.sub;

export interface Cooling {
  until_ms: number;
  kind: OutcomeKind;
}

function dict(this: void): NgxSharedDict | undefined {
  return ngx.shared[SHARED_DICT];
}

export function cooldownKey(this: void, backend: string, deployment: string | undefined): string {
  return `${backend}:${deployment ?? "*"}`;
}

/** The active cooldown of a backend, if any. */
export function cooling(this: void, key: string, nowMs: number): Cooling | undefined {
  const shared = dict();
  if (shared === undefined) return undefined;
  const [value] = shared.get(`cd:${key}`);
  if (typeof value !== "string") return undefined;
  const [space] = find(value, " ", 1, true);
  if (space === undefined) return undefined;
  const until = tonumber(sub(value, 1, space - 1));
  if (until === undefined || until <= nowMs) return undefined;
  return { until_ms: until, kind: sub(value, space + 1) as OutcomeKind };
}

/** Stores a cooldown, keeping the later one when another worker already stored a longer one. */
export function cool(this: void, key: string, untilMs: number, kind: OutcomeKind, nowMs: number): void {
  const shared = dict();
  if (shared === undefined) return;
  const current = cooling(key, nowMs);
  if (current !== undefined && current.until_ms >= untilMs) return;
  const ttl = (untilMs - nowMs) / 1000;
  if (ttl <= 0) return;
  shared.set(`cd:${key}`, `${string.format("%d", untilMs)} ${kind}`, ttl);
}

export function errorCount(this: void, key: string): number {
  const shared = dict();
  if (shared === undefined) return 0;
  const [value] = shared.get(`er:${key}`);
  return typeof value === "number" ? value : 0;
}

export function setErrorCount(this: void, key: string, errors: number): void {
  const shared = dict();
  if (shared === undefined) return;
  if (errors <= 0) {
    shared.delete(`er:${key}`);
    return;
  }
  shared.set(`er:${key}`, errors, ERROR_MEMORY_S);
}

/** Whether the shared dict is configured (the renderer declares it; without it nothing is shared). */
export function available(this: void): boolean {
  return dict() !== undefined;
}
