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

/**
 * The key strings, remembered: every pick and every attempt needs them, and each concatenation makes and interns a
 * new string. Bounded, since deployments come from the client's path or body: emptied when full.
 */
const MAX_KEYS = 2048;
interface KeyStrings {
  key: string;
  /** The shared-dict keys of its cooldown and of its failure streak. */
  cd: string;
  er: string;
}
let keysByDeployment = new LuaTable<string, LuaTable<string, KeyStrings>>();
let byKey = new LuaTable<string, KeyStrings>();
let keyCount = 0;

function keyStringsOf(this: void, key: string): KeyStrings {
  let strings = byKey.get(key);
  if (strings === undefined) {
    if (keyCount >= MAX_KEYS) {
      keysByDeployment = new LuaTable();
      byKey = new LuaTable();
      keyCount = 0;
    }
    strings = { key, cd: `cd:${key}`, er: `er:${key}` };
    byKey.set(key, strings);
    keyCount++;
  }
  return strings;
}

export function cooldownKey(this: void, backend: string, deployment: string | undefined): string {
  const d = deployment ?? "*";
  let backends = keysByDeployment.get(d);
  if (backends === undefined) {
    backends = new LuaTable();
    keysByDeployment.set(d, backends);
  }
  let strings = backends.get(backend);
  if (strings === undefined) {
    strings = keyStringsOf(`${backend}:${d}`);
    backends.set(backend, strings);
  }
  return strings.key;
}

/**
 * The last cooldown value read per key and what it says, so that a backend skipped by every request while it cools
 * costs a shared-dict read and a string comparison (LuaJIT interns strings: the same value is the same string),
 * not a parse and a new table each time. Callers only read what they get.
 */
let lastRaw = new LuaTable<string, string>();
let lastParsed = new LuaTable<string, Cooling>();
let parsedCount = 0;

function parseCooling(this: void, key: string, value: string): Cooling | undefined {
  const [space] = find(value, " ", 1, true);
  if (space === undefined) return undefined;
  const until = tonumber(sub(value, 1, space - 1));
  if (until === undefined) return undefined;
  const parsed: Cooling = { until_ms: until, kind: sub(value, space + 1) as OutcomeKind };
  if (parsedCount >= MAX_KEYS) {
    lastRaw = new LuaTable();
    lastParsed = new LuaTable();
    parsedCount = 0;
  }
  if (lastRaw.get(key) === undefined) parsedCount++;
  lastRaw.set(key, value);
  lastParsed.set(key, parsed);
  return parsed;
}

/** The active cooldown of a backend, if any. */
export function cooling(this: void, key: string, nowMs: number): Cooling | undefined {
  const shared = dict();
  if (shared === undefined) return undefined;
  const [value] = shared.get(keyStringsOf(key).cd);
  if (typeof value !== "string") return undefined;
  const parsed = lastRaw.get(key) === value ? lastParsed.get(key) : parseCooling(key, value);
  if (parsed === undefined || parsed.until_ms <= nowMs) return undefined;
  return parsed;
}

/** Stores a cooldown, keeping the later one when another worker already stored a longer one. */
export function cool(this: void, key: string, untilMs: number, kind: OutcomeKind, nowMs: number): void {
  const shared = dict();
  if (shared === undefined) return;
  const current = cooling(key, nowMs);
  if (current !== undefined && current.until_ms >= untilMs) return;
  const ttl = (untilMs - nowMs) / 1000;
  if (ttl <= 0) return;
  shared.set(keyStringsOf(key).cd, `${string.format("%d", untilMs)} ${kind}`, ttl);
  // The backend's latest cooldown over all its deployments, for the cooldown gauge (metrics.ts); only on failures.
  const [space] = find(key, ":", 1, true);
  if (space === undefined) return;
  const backendKey = `cb:${sub(key, 1, space - 1)}`;
  const [latest] = shared.get(backendKey);
  if (typeof latest !== "number" || latest < untilMs) shared.set(backendKey, untilMs, ttl);
}

export function errorCount(this: void, key: string): number {
  const shared = dict();
  if (shared === undefined) return 0;
  const [value] = shared.get(keyStringsOf(key).er);
  return typeof value === "number" ? value : 0;
}

export function setErrorCount(this: void, key: string, errors: number): void {
  const shared = dict();
  if (shared === undefined) return;
  if (errors <= 0) {
    shared.delete(keyStringsOf(key).er);
    return;
  }
  shared.set(keyStringsOf(key).er, errors, ERROR_MEMORY_S);
}

/** Whether the shared dict is configured (the renderer declares it; without it nothing is shared). */
export function available(this: void): boolean {
  return dict() !== undefined;
}
