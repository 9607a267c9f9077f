/**
 * Records what happened to each backend in this request and turns it into shared cooldown state.
 * Called by the transport wrapper (every attempt) and the provider (a stream that failed before commit).
 */
import { decideCooldown } from "../lib/cooldown-policy";
import type { HeaderTable } from "../lib/header-table";
import type { OutcomeKind } from "../lib/outcome";
import { cool, cooldownKey, cooling, errorCount, setErrorCount } from "./cooldown-store";
import { reserveShortfall } from "../lib/low-reserve";
import { blockLow, liftLow, lowBlocked } from "./reserve-store";
import type { ReserveBlock } from "./reserve-store";
import type { Cooling } from "./cooldown-store";
import { shareCooldown, shareLowBlock } from "./redis-sync";
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

/**
 * What an answer says about the backend's headroom for low-priority traffic (reserve-store.ts): below the reserve
 * blocks the low lane until the backend's reset (or the next probe), at or above it lifts a block.
 */
function noteHeadroom(this: void, state: RequestState, key: string, headers: HeaderTable, nowMs: number): void {
  const reserve = state.conf.low_reserve;
  if (reserve === undefined) return;
  const shortfall = reserveShortfall(reserve, headers);
  if (shortfall === undefined) return;
  if (shortfall === false) {
    liftLow(key);
    return;
  }
  const value = blockLow(key, shortfall, nowMs);
  if (value !== undefined && state.conf.redis !== undefined) shareLowBlock(state.conf.redis, key, value);
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
  if (headers !== undefined) noteHeadroom(state, key, headers, nowMs);
  state.called = state.called + 1;
  state.current_key = key;
  state.errors_before_last = errors;
  state.backend = target.backend;
  state.upstream_headers = headers;
  const ms = state.attempt_started_ms === undefined ? undefined : Math.floor(nowMs - state.attempt_started_ms);
  state.attempts.push({ backend: target.backend, kind, status, cool_until_ms: coolUntil, ms });
}

/** A backend was not called because it is cooling, or (a low-priority request) below its low reserve. */
export function recordSkip(this: void, state: RequestState, target: AttemptTarget, cooling: Cooling | ReserveBlock): void {
  state.attempts.push({
    backend: target.backend,
    kind: cooling.kind,
    cool_until_ms: cooling.until_ms,
    skipped: true,
    reserve: (cooling as Partial<ReserveBlock>).reserve,
  });
}

/**
 * Why a backend is not to be called for this request now: its cooldown, or for a low-priority request its low
 * reserve. Undefined: call it. `peek`: a look that is not followed by a call (a low probe is not taken).
 */
export function unavailable(this: void, state: RequestState, key: string, nowMs: number, peek?: boolean): Cooling | ReserveBlock | undefined {
  const cold = cooling(key, nowMs);
  if (cold !== undefined || state.lane !== "low" || state.conf.low_reserve === undefined) return cold;
  return lowBlocked(key, nowMs, peek);
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
