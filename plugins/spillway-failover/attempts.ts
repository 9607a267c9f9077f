/**
 * Records what happened to each backend in this request and turns it into shared cooldown state.
 * Called by the transport wrapper (every attempt) and the provider (a stream that failed before commit).
 */
import { decideCooldown } from "../lib/cooldown-policy";
import type { HeaderTable } from "../lib/header-table";
import type { OutcomeKind } from "../lib/outcome";
import { cool, cooldownKey, errorCount, setErrorCount } from "./cooldown-store";
import type { Cooling } from "./cooldown-store";
import { shareCooldown } from "./redis-sync";
import type { RequestState } from "./state";

export interface AttemptTarget {
  backend: string;
  deployment?: string;
  /** The request's state, when the builder had it (saves the transport a look-up of ngx.ctx). */
  state?: RequestState;
}

function applyCooldown(
  this: void,
  state: RequestState,
  key: string,
  kind: OutcomeKind,
  headers: HeaderTable | undefined,
  nowMs: number,
  errors: number,
): number | undefined {
  const decision = decideCooldown(state.conf, kind, headers, nowMs, errors);
  // The common case (a success after a success) changes nothing: skip the shared-dict write and its lock.
  if (decision.errors !== errors) setErrorCount(key, decision.errors);
  if (decision.cool_until_ms !== undefined) {
    cool(key, decision.cool_until_ms, kind, nowMs);
    if (state.conf.redis !== undefined) shareCooldown(state.conf.redis, key, decision.cool_until_ms, kind);
  }
  return decision.cool_until_ms;
}

/** A backend answered (any status) or the transport failed (status undefined). */
export function recordAttempt(
  this: void,
  state: RequestState,
  target: AttemptTarget,
  kind: OutcomeKind,
  status: number | undefined,
  headers: HeaderTable | undefined,
  nowMs: number,
): void {
  const key = cooldownKey(target.backend, target.deployment);
  const errors = errorCount(key);
  const coolUntil = applyCooldown(state, key, kind, headers, nowMs, errors);
  state.called = state.called + 1;
  state.current_key = key;
  state.errors_before_last = errors;
  state.backend = target.backend;
  state.upstream_headers = headers;
  state.attempts.push({ backend: target.backend, kind, status, cool_until_ms: coolUntil });
}

/** A backend was not called because it is cooling. */
export function recordSkip(this: void, state: RequestState, target: AttemptTarget, cooling: Cooling): void {
  state.attempts.push({ backend: target.backend, kind: cooling.kind, cool_until_ms: cooling.until_ms, skipped: true });
}

/**
 * The last attempt's 200 turned out to be a failure (a stream that broke, ended or carried an error event before its
 * first content, a body that is not JSON): re-classify it and cool the backend accordingly. The count goes on from
 * where it stood before that 200 was recorded as a success (which cleared it): otherwise a backend that always
 * answers so would never reach error_threshold. Another request may have moved the count in between; one count
 * more or less is accepted.
 */
export function reviseLastAttempt(this: void, state: RequestState, kind: OutcomeKind, nowMs: number): void {
  const last = state.attempts[state.attempts.length - 1];
  const key = state.current_key;
  if (last === undefined || key === undefined) return;
  last.kind = kind;
  // The trail (attemptTrail) then names what happened, not the 200 it began with.
  last.status = undefined;
  last.cool_until_ms = applyCooldown(state, key, kind, undefined, nowMs, state.errors_before_last ?? errorCount(key));
}
