/**
 * The run's assertions (pure: outcomes, logs and captures in, findings out). Per phase: what the clients got, the
 * client-visible 429/5xx rate while a backend was healthy, Retry-After against the earliest recovery when all were
 * throttled. Over the run: every request answered and logged exactly once, no secret anywhere, client credentials
 * never at a backend, no Lua error in the error log, the workers alive throughout.
 */
import type { RecordedRequest } from "../simulator/types.ts";
import { isLabNoise } from "../start/apisix-instance.ts";
import type { Phase } from "./phases.ts";
import type { Outcome } from "./traffic.ts";
import type { MissReason } from "./verdict.ts";

/** The largest client-visible 429/5xx share of good requests while at least one backend is healthy. */
export const MAX_FAILOVER_RATE = 0.005;
/** Retry-After must promise recovery within this of the earliest real one (the gateway notes a 429 a little later than
 * the simulator sent it, more so on a loaded machine). */
export const RETRY_AFTER_SLACK_MS = 1000;

export interface MissSample {
  id: number;
  client: string;
  what: string;
  reason: MissReason;
  detail: string;
}

export interface PhaseSummary {
  name: string;
  healthy: boolean;
  sent: number;
  answers: number;
  errors: Record<string, number>;
  sseErrors: number;
  misses: Partial<Record<MissReason, number>>;
  samples: MissSample[];
  /** Good (not bad-input) requests, and those of them answered 429 or 5xx. */
  good: number;
  failed: number;
  /** The longest a good request took, send to last byte (ms). */
  slowestMs: number;
  /** Faults the simulators applied in the phase; `expectsFaults`: the phase sets some (a stopped backend is not one). */
  faultsInjected?: number;
  expectsFaults: boolean;
  /** All-throttled phase: 429s checked against the earliest recovery, and those off by more than the slack. */
  retryChecked?: number;
  retryOff?: { id: number; promisedMs: number; retryAfterS: number; earliestMs: number }[];
  notes: string[];
}

const SAMPLES_PER_PHASE = 4;

export function isGood(o: Outcome): boolean {
  return o.client !== "bad";
}

function failed(o: Outcome): boolean {
  const v = o.verdict;
  const status = v.kind === "error" ? v.status : v.kind === "miss" ? v.status : undefined;
  return status !== undefined && (status === 429 || status >= 500);
}

/** What the good clients (not the bad-input ones, reported per kind) got in one phase. */
export function summarizePhase(phase: Phase, outcomes: readonly Outcome[]): PhaseSummary {
  const good = outcomes.filter(isGood);
  const expectsFaults = phase.mixed === true || phase.backends.some((b) => b !== "stopped" && b.length > 0);
  const s: PhaseSummary = { name: phase.name, healthy: phase.healthy, expectsFaults, sent: good.length, answers: 0, errors: {}, sseErrors: 0, misses: {}, samples: [], good: good.length, failed: 0, slowestMs: 0, notes: [] };
  for (const o of good) {
    const v = o.verdict;
    if (failed(o)) s.failed++;
    s.slowestMs = Math.max(s.slowestMs, o.endedAt - o.sentAt);
    if (v.kind === "answer") s.answers++;
    else if (v.kind === "error") s.errors[v.status] = (s.errors[v.status] ?? 0) + 1;
    else if (v.kind === "sse-error") s.sseErrors++;
    else if (v.kind === "miss") {
      s.misses[v.reason] = (s.misses[v.reason] ?? 0) + 1;
      if (s.samples.length < SAMPLES_PER_PHASE && !s.samples.some((x) => x.reason === v.reason)) {
        s.samples.push({ id: o.id, client: o.client, what: o.what, reason: v.reason, detail: v.detail });
      }
    }
  }
  return s;
}

/**
 * Earliest recovery at time t when every backend answers 429: per backend, its last 429 at or before t plus its
 * retry-after; the earliest of them. A backend not yet called by t would be called (and throttle) at t.
 */
export function earliestRecovery(t: number, throttledAt: readonly (readonly number[])[], retryAfterMs: readonly number[]): number {
  let best = Number.POSITIVE_INFINITY;
  throttledAt.forEach((times, b) => {
    let last: number | undefined;
    for (const x of times) if (x <= t && (last === undefined || x > last)) last = x;
    best = Math.min(best, (last ?? t) + retryAfterMs[b]!);
  });
  return best;
}

/**
 * Every 429 of the phase against the earliest recovery when the gateway decided, some time between the request's
 * send and its answer (it cannot know of a 429 another request meets after that): the moments tried are both ends
 * and every 429 a backend gave in between. The exact promise is retry-after-ms, which must come within the slack of
 * the earliest recovery at one of them; Retry-After must be the same promise in whole seconds, rounded up (rounding
 * down would send clients back before any backend is). Without retry-after-ms, Retry-After itself must be within.
 */
export function checkRetryAfter(s: PhaseSummary, outcomes: readonly Outcome[], throttledAt: readonly (readonly number[])[], retryAfterMs: readonly number[]): void {
  s.retryChecked = 0;
  s.retryOff = [];
  for (const o of outcomes) {
    const v = o.verdict;
    if (v.kind !== "error" || v.status !== 429 || v.retryAfterS === undefined) continue;
    s.retryChecked++;
    const promised = v.retryAfterMs ?? v.retryAfterS * 1000;
    const rounded = v.retryAfterMs === undefined || v.retryAfterS === Math.max(1, Math.ceil(v.retryAfterMs / 1000));
    const moments = [o.sentAt, o.answeredAt, ...throttledAt.flat().filter((t) => t > o.sentAt && t < o.answeredAt)];
    const waits = moments.map((t) => earliestRecovery(t, throttledAt, retryAfterMs) - t);
    if (!rounded || !waits.some((w) => Math.abs(promised - w) <= RETRY_AFTER_SLACK_MS)) {
      const nearest = waits.reduce((a, b) => (Math.abs(promised - b) < Math.abs(promised - a) ? b : a));
      s.retryOff.push({ id: o.id, promisedMs: promised, retryAfterS: v.retryAfterS, earliestMs: nearest });
    }
  }
}

/** x-chaos-id prefix of the warm-up requests, which belong to no phase. */
export const WARMUP_ID = "warmup-";

export interface AccessLog {
  /** chaos id → lines. */
  byId: Map<number, number>;
  /** Lines without a chaos id we sent (other than the start-up probes of /healthz). */
  unmatched: string[];
  pids: Set<string>;
  lines: number;
}

export function readAccessLog(text: string): AccessLog {
  const log: AccessLog = { byId: new Map(), unmatched: [], pids: new Set(), lines: 0 };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    log.lines++;
    let entry: { chaos_id?: string; pid?: string; uri?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      log.unmatched.push(line.slice(0, 200));
      continue;
    }
    if (entry.pid !== undefined) log.pids.add(entry.pid);
    const id = Number(entry.chaos_id);
    if (entry.chaos_id !== undefined && entry.chaos_id !== "" && Number.isInteger(id)) log.byId.set(id, (log.byId.get(id) ?? 0) + 1);
    else if (entry.uri !== "/healthz" && !(entry.chaos_id ?? "").startsWith(WARMUP_ID)) log.unmatched.push(line.slice(0, 300));
  }
  return log;
}

export interface Ledger {
  sent: number;
  /** Requests that got a response (a status), and those deliberately abandoned by their client. */
  answered: number;
  abandoned: number;
  logged: number;
  /** Sent requests without an access-log line, and with more than one. */
  notLogged: number[];
  loggedTwice: number[];
  unmatchedLines: string[];
}

/** sent = answered (+ abandoned on purpose) = access-log lines, request by request. */
export function ledger(outcomes: readonly Outcome[], log: AccessLog): Ledger {
  const l: Ledger = { sent: outcomes.length, answered: 0, abandoned: 0, logged: 0, notLogged: [], loggedTwice: [], unmatchedLines: log.unmatched };
  for (const o of outcomes) {
    const v = o.verdict;
    if (v.kind === "abandoned") l.abandoned++;
    else if (!(v.kind === "miss" && (v.reason === "no-answer" || v.reason === "hang"))) l.answered++;
    const n = log.byId.get(o.id) ?? 0;
    if (n === 0) l.notLogged.push(o.id);
    else if (n > 1) l.loggedTwice.push(o.id);
    else l.logged++;
  }
  return l;
}

export interface CaptureFindings {
  captured: number;
  /** Requests a backend received with a client credential header, or any client secret anywhere. */
  leaks: string[];
  /** Requests that reached a backend without its own valid key. */
  wrongKey: number;
}

export function checkCaptures(byBackend: ReadonlyMap<string, readonly RecordedRequest[]>, clientSecrets: ReadonlyMap<string, string>): CaptureFindings {
  const f: CaptureFindings = { captured: 0, leaks: [], wrongKey: 0 };
  for (const [backend, requests] of byBackend) {
    for (const r of requests) {
      f.captured++;
      for (const h of ["authorization", "ocp-apim-subscription-key"]) {
        if (r.headers[h] !== undefined) f.leaks.push(`${backend} received a ${h} header (x-chaos-id ${r.headers["x-chaos-id"] ?? "?"})`);
      }
      if (r.headers["api-key"] !== "[valid]") f.wrongKey++;
      const text = `${JSON.stringify(r.headers)}${typeof r.body === "string" ? r.body : JSON.stringify(r.body)}${r.path}${JSON.stringify(r.query)}`;
      for (const [label, value] of clientSecrets) if (text.includes(value)) f.leaks.push(`${backend} received ${label} (x-chaos-id ${r.headers["x-chaos-id"] ?? "?"})`);
    }
  }
  return f;
}

/** Lines a Lua fault writes: a runtime error, a traceback, an aborted request thread, a bad call. */
const LUA_ERROR = /runtime error|stack traceback|lua entry thread aborted|attempt to (index|call|compare|perform|concatenate)|bad argument #|failed to run \w+_by_lua|PANIC/;
const SEVERE = /\[(error|crit|alert|emerg)\]/;
const WORSE_THAN_ERROR = /\[(crit|alert|emerg)\]/;

export interface ErrorLogFindings {
  luaErrors: string[];
  /** [crit]/[alert]/[emerg]: a worker crash shows here. */
  severe: string[];
  /** [error] lines by what they say (time, pids, connection and client details removed) → count. */
  errorKinds: Map<string, number>;
}

/** An [error] line without what varies per request: the "what" part, for counting. */
export function errorSignature(line: string): string {
  return line
    .replace(/^.*?\[(error|crit|alert|emerg)\] \d+#\d+: (\*\d+ )?/, "[$1] ")
    .replace(/, client: .*$/, "")
    .replace(/\d+(\.\d+)?/g, "N")
    .slice(0, 200);
}

export function checkErrorLog(text: string): ErrorLogFindings {
  const f: ErrorLogFindings = { luaErrors: [], severe: [], errorKinds: new Map() };
  for (const line of text.split("\n")) {
    if (!SEVERE.test(line) || isLabNoise(line)) continue;
    if (LUA_ERROR.test(line)) f.luaErrors.push(line.slice(0, 400));
    if (WORSE_THAN_ERROR.test(line)) f.severe.push(line.slice(0, 400));
    const sig = errorSignature(line);
    f.errorKinds.set(sig, (f.errorKinds.get(sig) ?? 0) + 1);
  }
  return f;
}

/** Which secrets (by label) appear in a text (log, watcher output). */
export function secretLabelsIn(text: string, secrets: ReadonlyMap<string, string>): string[] {
  return [...secrets].filter(([, v]) => text.includes(v)).map(([label]) => label);
}
