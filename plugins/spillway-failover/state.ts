/**
 * Per-request failover state, kept on the APISIX ctx under one key (`ctx.spillway`). Written by the companion
 * plugin's rewrite phase (so that the picker filter has it when ai-proxy-multi picks in its access phase), the
 * transport wrapper and the provider; read by the before_proxy wrapper.
 */
import { newTable } from "./headers";
import type { AttemptRecord } from "../lib/exhaustion";
import type { HeaderTable } from "../lib/header-table";
import type { FailoverConf } from "./schema";
import type { Lane } from "../lib/low-reserve";

export interface RequestState {
  conf: FailoverConf;
  /** x-priority / ?priority= (lib/low-reserve.ts): a low request skips backends below their low reserve. */
  lane: Lane;
  /** One record per backend tried or skipped, in order (exhaustion.ts). */
  attempts: AttemptRecord[];
  /** Backends actually called (skips not counted): x-gw-attempts. */
  called: number;
  /** Cooldown key (backend:deployment) of the last backend called. */
  current_key?: string;
  /** That backend's consecutive-error count before its last attempt was recorded (reviseLastAttempt). */
  errors_before_last?: number;
  /** state.attempts.length when the current round of picks began (a wait starts a new one; picker-filter.ts). */
  round_start?: number;
  /** The final answer is Spillway's (patches.ts: the before_proxy wrapper, answerOrWait), not 3.18's own. */
  answers_exhaustion?: boolean;
  /** The backend whose answer the client gets: x-gw-backend. */
  backend?: string;
  /** Lower-cased headers of the last upstream response, relayed on the final error too. */
  upstream_headers?: HeaderTable;
  /** A byte of a response went to the client: no other backend may be called any more. */
  committed: boolean;
  /** Time spent waiting for a throttled backend (max_wait_ms). */
  waited_ms: number;
  /** The deployment cooldowns are keyed by (path segment or body model), once computed (picker-filter.ts). */
  deployment?: string;
  deployment_known?: boolean;
  /** This request's picks went through the cooling filter (picker-filter.ts). */
  picks_filtered?: boolean;
  /** Every instance was cooling when the request was first picked: answer 429 + Retry-After without an attempt. */
  all_cooling?: boolean;
  /** Cooldown key the picker filter found not cooling for the pick about to be attempted (read once). */
  vetted_key?: string;
  /** A Responses follow-up's backend did not hold its previous response: the instance to ask next (holder-retry.ts). */
  retry_target?: string;
  /** When the attempt under way was sent (ms), for its entry in the access log. */
  attempt_started_ms?: number;
  /** A backend's answer (state.backend's) went to the client. */
  answered?: boolean;
  /** That answer was an event stream (its time to first token is a metric). */
  streamed?: boolean;
  /** No backend could answer: the status the gateway answered instead (final-answer.ts). */
  exhausted_status?: number;
  /** That answer refused a low-priority request for the reserve: tokens or requests. */
  refused_below?: string;
  /** ai-rate-limiting refused the client's request: its budget is spent (budget-patch.ts). */
  budget_rejected?: boolean;
  /** A stream that ended early after output went out: APISIX's ctx.ai_stream_aborted. */
  stream_cut?: string;
  /** What Responses affinity did for this request: pinned, unknown, holder_retry. */
  affinity?: "pinned" | "unknown" | "holder_retry";
}


/** Entries a request's state usually ends up with (the fields set below, and those a request sets as it goes). */
const STATE_FIELDS = 18;

/**
 * Made with room for the fields a request sets as it goes: a table built from the six below would be grown (and
 * rehashed) twice while the request runs.
 */
export function newRequestState(this: void, conf: FailoverConf): RequestState {
  const state = newTable(0, STATE_FIELDS) as unknown as RequestState;
  state.conf = conf;
  state.lane = "high";
  state.attempts = [];
  state.called = 0;
  state.committed = false;
  state.waited_ms = 0;
  return state;
}

export function requestState(this: void, ctx: ApisixCtx | undefined): RequestState | undefined {
  return ctx?.spillway as RequestState | undefined;
}
