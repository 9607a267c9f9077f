/**
 * After each attempt: should this backend be skipped for a while, and what is its consecutive-error count now?
 * Pure: the caller loads the count, passes it in, and stores what comes back (shared dict and/or Redis).
 * Portable TS (Lua and JS alike).
 *
 *   throttled (429)             cool for the backend's retry signal (retry-signals.ts) or default_429_cooldown_ms;
 *                               the error count is left alone (a 429 proves the backend is up)
 *   server_error/timeout/       count + 1; a 5xx that names retry-after-ms/retry-after is cooled for that at once;
 *   connect_error               otherwise cool error_cooldown_ms once the count reaches error_threshold. The count
 *                               is not reset by the cooldown, so the first failure after it re-cools at once
 *                               (half-open); only a success clears it
 *   ok                          count → 0; but cool until the reported reset when remaining-requests is 0 or
 *                               remaining-tokens is below remaining_tokens_floor (reset header missing:
 *                               default_429_cooldown_ms), so the next request does not collect a 429 first
 *   client_error                nothing changes (the request's fault, not the backend's)
 * Every cooldown is capped by max_cooldown_ms. The caller keeps the later of a stored and a new cool_until_ms.
 */
import type { FailoverConf } from "../spillway-failover/schema";
import type { HeaderTable } from "./header-table";
import type { OutcomeKind } from "./outcome";
import { cooldownMs, explicitRetry, remaining, resetMsOf } from "./retry-signals";

export type CooldownConf = Pick<
  FailoverConf,
  "default_429_cooldown_ms" | "max_cooldown_ms" | "error_cooldown_ms" | "error_threshold" | "remaining_tokens_floor"
>;

export type CooldownReason =
  | "none"
  | "retry-after-ms"
  | "retry-after"
  | "x-ratelimit-reset"
  | "default"
  | "error-threshold"
  | "remaining-requests"
  | "remaining-tokens";

export interface CooldownDecision {
  /** Skip the backend until this time (epoch ms); absent when it need not be skipped. */
  cool_until_ms?: number;
  /** Length of that cooldown; 0 when none. */
  cooldown_ms: number;
  /** The consecutive error count to store. */
  errors: number;
  reason: CooldownReason;
}

function capped(this: void, conf: CooldownConf, ms: number): number {
  const cap = conf.max_cooldown_ms > 0 ? conf.max_cooldown_ms : 0;
  return ms < cap ? ms : cap;
}

function decision(this: void, nowMs: number, ms: number, errors: number, reason: CooldownReason): CooldownDecision {
  if (ms > 0) return { cool_until_ms: nowMs + ms, cooldown_ms: ms, errors, reason };
  return { cooldown_ms: 0, errors, reason };
}

/** A success that used up the backend's quota: cool until its reported reset. */
function afterSuccess(this: void, conf: CooldownConf, headers: HeaderTable | undefined, nowMs: number): CooldownDecision {
  const requestsLeft = remaining(headers, "requests");
  const tokensLeft = remaining(headers, "tokens");
  const outOfRequests = requestsLeft !== undefined && requestsLeft <= 0;
  const underFloor = tokensLeft !== undefined && tokensLeft < conf.remaining_tokens_floor;
  if (!outOfRequests && !underFloor) return { cooldown_ms: 0, errors: 0, reason: "none" };

  let ms = 0;
  if (outOfRequests) ms = resetMsOf(headers, "requests") ?? conf.default_429_cooldown_ms;
  if (underFloor) {
    const tokensMs = resetMsOf(headers, "tokens") ?? conf.default_429_cooldown_ms;
    if (tokensMs > ms) ms = tokensMs;
  }
  return decision(nowMs, capped(conf, Math.ceil(ms)), 0, outOfRequests ? "remaining-requests" : "remaining-tokens");
}

export function decideCooldown(
  this: void,
  conf: CooldownConf,
  kind: OutcomeKind,
  headers: HeaderTable | undefined,
  nowMs: number,
  errors: number,
): CooldownDecision {
  if (kind === "ok") return afterSuccess(conf, headers, nowMs);
  if (kind === "client_error") return { cooldown_ms: 0, errors, reason: "none" };
  if (kind === "throttled") {
    const cooldown = cooldownMs(headers, nowMs, conf.default_429_cooldown_ms, conf.max_cooldown_ms);
    return decision(nowMs, cooldown.ms, errors, cooldown.source);
  }

  const count = errors + 1;
  const explicit = explicitRetry(headers, nowMs);
  if (explicit !== undefined && explicit.ms > 0) return decision(nowMs, capped(conf, explicit.ms), count, explicit.source);
  if (count >= conf.error_threshold) {
    return decision(nowMs, capped(conf, conf.error_cooldown_ms), count, "error-threshold");
  }
  return { cooldown_ms: 0, errors: count, reason: "none" };
}
