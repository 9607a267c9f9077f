/**
 * What the client gets when no backend produced an answer for its request, and whether to wait for one first.
 * Portable TS (Lua and JS alike); exhaustion-response.ts turns the decision into the Lua (status, body, headers).
 *
 *   records (not ok, not client_error)         status  Retry-After / retry-after-ms
 *   none at all                                503     -
 *   a low-priority request that skipped a     429     time to the earliest recovery (or a wait), with
 *     backend below its low reserve                    x-gw-ratelimit-reason and x-gw-ratelimit-value, whatever
 *                                                      the other backends had
 *   all throttled (tried 429 or skipped while  429     time to the earliest recovery (or max_wait_ms: wait instead)
 *     cooling from a 429)
 *   throttled mixed with failures              503     time to the earliest recovery: some capacity comes back
 *                                                      then, but "rate limited" would misdescribe the failures
 *   only skips of error-cooled backends        503     time to the earliest recovery
 *   tried ones all timed out                   504     -
 *   otherwise (5xx, connection errors, mixes)  502     -
 * Retry-After is whole seconds rounded up (at least 1); retry-after-ms is the exact wait (at least 1).
 * Messages name no backend, host or URL: the caller logs the details (attemptTrail).
 */
import type { OutcomeKind } from "./outcome";

export interface AttemptRecord {
  /** Instance name (for logs only; never put in the client's answer). */
  backend: string;
  /** Outcome of the attempt, or for a skip the kind that caused the cooldown ("throttled" when unknown). */
  kind: OutcomeKind;
  status?: number;
  /** When the backend may be tried again (epoch ms), if it is cooling. */
  cool_until_ms?: number;
  /** True when the backend was not tried because it was cooling. */
  skipped?: boolean;
  /** Time to the backend's answer (or failure), ms: for the access log. */
  ms?: number;
  /** A low-priority request skipped it: below its low reserve (reported remaining tokens or requests). */
  reserve?: { below: "tokens" | "requests"; value: number };
}

export interface ExhaustionOptions {
  now_ms: number;
  /** Recovery assumed for a throttled record without cool_until_ms (default_429_cooldown_ms). */
  default_retry_ms: number;
  /** FailoverConf.max_wait_ms: wait up to this long for a throttled backend instead of answering 429. */
  max_wait_ms: number;
  /** Time already spent waiting in this request (waits add up against max_wait_ms). */
  waited_ms: number;
}

export interface ExhaustionAnswer {
  action: "answer";
  status: number;
  /** Present when the answer carries Retry-After and retry-after-ms. */
  retry_after_ms?: number;
  /** Response headers to add ("retry-after", "retry-after-ms"); empty when none. */
  headers: { [name: string]: string | undefined };
  /** The OpenAI-shape error fields (openai-error.ts). */
  message: string;
  type: string;
  code: string;
}

export type ExhaustionDecision = { action: "none" } | { action: "wait"; wait_ms: number } | ExhaustionAnswer;

function plural(this: void, n: number, word: string): string {
  return n === 1 ? `${n} ${word}` : `${n} ${word}s`;
}

function answer(this: void, status: number, message: string, retryMs: number | undefined): ExhaustionAnswer {
  const headers: { [name: string]: string | undefined } = {};
  let text = message;
  if (retryMs !== undefined) {
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    headers["retry-after"] = `${seconds}`;
    headers["retry-after-ms"] = `${retryMs}`;
    text = `${message} Please retry after ${plural(seconds, "second")}.`;
  }
  const type = status === 429 ? "rate_limit_exceeded" : "server_error";
  return { action: "answer", status, retry_after_ms: retryMs, headers, message: text, type, code: `${status}` };
}

export function decideExhaustion(this: void, records: AttemptRecord[], opts: ExhaustionOptions): ExhaustionDecision {
  const now = opts.now_ms;
  let throttled = 0;
  let failures = 0;
  let tried = 0;
  let timeouts = 0;
  let recovery: number | undefined;
  let reserveSkips = 0;
  let reserve: AttemptRecord | undefined;
  for (const r of records) {
    if (r.kind === "ok" || r.kind === "client_error") return { action: "none" };
    let until = r.cool_until_ms;
    if (r.kind === "throttled") {
      throttled++;
      if (until === undefined) until = now + opts.default_retry_ms;
    } else {
      failures++;
    }
    if (r.reserve !== undefined) {
      reserveSkips++;
      if (reserve === undefined || (until !== undefined && until < (reserve.cool_until_ms ?? until + 1))) reserve = r;
    }
    if (r.skipped !== true) {
      tried++;
      if (r.kind === "timeout") timeouts++;
    }
    if (until !== undefined && until > now && (recovery === undefined || until < recovery)) recovery = until;
  }
  const retryMs = recovery === undefined ? undefined : Math.max(1, Math.ceil(recovery - now));

  if (records.length === 0) return answer(503, "No backend is available for this request.", undefined);
  const budget = opts.max_wait_ms - opts.waited_ms;
  if (reserve !== undefined) {
    // A low-priority request that found no backend with room for it: refused by its lane, whatever else the other
    // backends had (the toolkit's headers, low-reserve.ts). Room comes back at the earliest recovery.
    if (retryMs !== undefined && retryMs <= budget) return { action: "wait", wait_ms: retryMs };
    const message = reserveSkips === records.length
      ? "Low-priority requests are paused: every backend is keeping its remaining capacity for high-priority traffic."
      : "No backend has room for low-priority requests now: the others are rate limited or failing.";
    const refusal = answer(429, message, retryMs ?? 1000);
    refusal.headers["x-gw-ratelimit-reason"] = `${reserve.reserve!.below}-below-low-priority-threshold`;
    refusal.headers["x-gw-ratelimit-value"] = `${Math.floor(reserve.reserve!.value)}`;
    return refusal;
  }
  if (failures === 0) {
    if (retryMs !== undefined && retryMs <= budget) return { action: "wait", wait_ms: retryMs };
    return answer(429, "All backends of this gateway are rate limited.", retryMs ?? 1000);
  }
  if (throttled > 0) {
    const detail = `${throttled} rate limited, ${failures} failing`;
    return answer(503, `No backend of this gateway can serve the request now (${detail}).`, retryMs);
  }
  if (tried === 0) {
    return answer(503, "All backends of this gateway are temporarily unavailable after repeated errors.", retryMs);
  }
  if (timeouts === tried) return answer(504, `All backends of this gateway timed out (${plural(tried, "attempt")}).`, undefined);
  return answer(502, `No backend of this gateway returned a usable response (${plural(tried, "attempt")} failed).`, undefined);
}

/** "ptu1=429 payg1=cooling(throttled) payg2=timeout": the attempts of one request, for the error log. */
export function attemptTrail(this: void, records: AttemptRecord[]): string {
  const parts: string[] = [];
  for (const r of records) {
    let what: string;
    if (r.skipped === true) what = `cooling(${r.kind})`;
    else if (r.status !== undefined) what = `${r.status}`;
    else what = r.kind;
    parts.push(`${r.backend}=${what}`);
  }
  return parts.join(" ");
}
