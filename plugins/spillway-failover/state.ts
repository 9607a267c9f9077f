/**
 * Per-request failover state, kept on the APISIX ctx under one key (`ctx.spillway`). Written by the companion
 * plugin's access phase, the transport wrapper and the provider; read by the before_proxy wrapper.
 */
import type { AttemptRecord } from "../lib/exhaustion";
import type { HeaderTable } from "../lib/header-table";
import type { FailoverConf } from "./schema";

export interface RequestState {
  conf: FailoverConf;
  /** One record per backend tried or skipped, in order (exhaustion.ts). */
  attempts: AttemptRecord[];
  /** Backends actually called (skips not counted): x-gw-attempts. */
  called: number;
  /** Cooldown key (backend:deployment) of the last backend called. */
  current_key?: string;
  /** The backend whose answer the client gets: x-gw-backend. */
  backend?: string;
  /** Lower-cased headers of the last upstream response, relayed on the final error too. */
  upstream_headers?: HeaderTable;
  /** A byte of a response went to the client: no other backend may be called any more. */
  committed: boolean;
  /** Time spent waiting for a throttled backend (max_wait_ms). */
  waited_ms: number;
}

export function newRequestState(this: void, conf: FailoverConf): RequestState {
  return { conf, attempts: [], called: 0, committed: false, waited_ms: 0 };
}

export function requestState(this: void, ctx: ApisixCtx | undefined): RequestState | undefined {
  return ctx?.spillway as RequestState | undefined;
}
