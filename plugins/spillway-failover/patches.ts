/**
 * The only monkey-patches in Spillway, installed once per worker by spillway-failover's init(). APISIX 3.18.0
 * has no public hook for these jobs (apisix-ai-contract.md §7, hook type M); they patch module fields that
 * APISIX looks up per call. Pinned to 3.18.0: tests/integration/patches.apisix.test.ts checks each on real APISIX
 * (with and without it), and they must be re-checked on every APISIX upgrade (or replaced by an upstream PR).
 *
 * 1. ai-transport/http.request: ai-proxy/base.lua discards every header of a 429/5xx except Content-Type and
 *    never honours Retry-After (§1.3, §2.3). The wrapper sees each attempt's outcome and headers, records them
 *    (cooldowns), and answers a synthetic 429 for a cooling backend without touching the network, which base.lua
 *    treats like any 429, so ai-proxy-multi moves on to the next instance.
 * 2. ai-proxy-multi.before_proxy: when every instance failed, 3.18 answers 502 with the last upstream body
 *    (§2.3). The wrapper turns that into 429 + Retry-After when the backends are throttled (or waits, within
 *    max_wait_ms), and into a JSON 502/503/504 otherwise.
 * 3. utils/http.new: the transport applies one `timeout` to connect, send and every read (§2.4). For our
 *    attempts, the client it creates next gets connect/send/first-byte timeouts instead; once the headers are in,
 *    the wrapper of (1) sets the route's `timeout` as the idle limit between body chunks.
 * 4. ai-proxy-multi's server picker (an object per route version, not a module field; picker-filter.ts): its
 *    `get` passes over cooling instances, so a cooling backend is skipped before ai-proxy-multi's retry machinery
 *    (no synthetic 429, no warn line per request). (1) still answers a synthetic 429 for the cases the picker
 *    does not see: a route with one instance, and a Responses follow-up pinned to its holder.
 * 5. ai-rate-limiting's access and log (budget-patch.ts): a budget rejection in Azure's 429 shape with Retry-After,
 *    and counting per node while its Redis is down.
 */
import * as core from "apisix.core";
import * as aiProxyMultiModule from "apisix.plugins.ai-proxy-multi";
import * as transportModule from "apisix.plugins.ai-transport.http";
import * as httpClientModule from "apisix.utils.http";
import { patchRateLimiting } from "./budget-patch";
import { finishAttemptSpan, startAttemptSpan } from "./attempt-span";
import { finalAnswer } from "./final-answer";
import { takeRetryTarget } from "./holder-retry";
import { classifyOutcome, shouldFailover } from "../lib/outcome";
import { recordAttempt, recordSkip, unavailable } from "./attempts";
import type { AttemptTarget } from "./attempts";
import { cooldownKey, cooling } from "./cooldown-store";
import { lowerHeaders } from "./headers";
import { dropPickerIfAllTried, multiConfOf } from "./picker-filter";
import { requestState } from "./state";
import type { RequestState } from "./state";
import type { FailoverConf } from "./schema";

type TransportRequest = (this: void, params: AiHttpParams, timeoutMs: number) =>
  LuaMultiReturn<[AiHttpResponse] | [undefined, string, LuaTable<string, unknown>?]>;
type BeforeProxy = (this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx) => LuaMultiReturn<[number?, unknown?]>;

interface PluginModule {
  before_proxy: BeforeProxy;
  access: (this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx) => LuaMultiReturn<[number?, unknown?]>;
}

const ngxNow = ngx.now;
const EMPTY_HEADERS = new LuaTable<string, string | string[]>();

function nowMs(this: void): number {
  return ngxNow() * 1000;
}

function currentCtx(this: void): ApisixCtx | undefined {
  return ngx.ctx["api_ctx"] as ApisixCtx | undefined;
}

/** base.lua calls res:read_body() on a 429; a skipped backend has nothing to say. */
function emptyBody(this: void): LuaMultiReturn<[string]> {
  return $multi("");
}

function skippedResponse(this: void, params: AiHttpParams): AiHttpResponse {
  const res: AiHttpResponse = { status: 429, headers: EMPTY_HEADERS, read_body: emptyBody };
  // Fills $upstream_addr like a real attempt would; nothing was sent to it.
  (res as unknown as LuaTable<string, unknown>).set("_upstream_addr", `${params.host}:${params.port}`);
  return res;
}

let originalRequest: TransportRequest | undefined = undefined;

/**
 * Timeouts for the client the transport is about to create. Set right before the transport runs and read by
 * newClient, which the transport calls before any I/O: no other request can run in between, so a module-level
 * slot is safe.
 */
let pendingTimeouts: FailoverConf | undefined = undefined;
let originalNewClient: ((this: void, name?: string) => LuaMultiReturn<[HttpClient] | [undefined, string]>) | undefined = undefined;

/** A client that cannot take per-phase timeouts keeps the transport's single one; said once per worker. */
function warnSingleTimeout(this: void): void {
  if (!warnedSingleTimeout) core.log.warn("spillway-failover: this HTTP client cannot take per-phase timeouts");
  warnedSingleTimeout = true;
}
let warnedSingleTimeout = false;

/** The transport's `httpc:set_timeout(t)` on this client sets connect/send/first-byte timeouts instead. */
function setPhaseTimeouts(this: HttpClient, ms: number): void {
  // One shot: later set_timeout calls (the idle limit for the body) reach the client's own method again.
  rawset(this as unknown as { set_timeout?: unknown }, "set_timeout", undefined);
  const conf = phaseTimeouts.get(this);
  phaseTimeouts.delete(this);
  if (conf === undefined) return;
  // A client without lua-resty-http's set_timeouts keeps the single `ms` (ngx_http_ffi_client's object is apisix-runtime's).
  if (typeof this.set_timeouts !== "function") {
    warnSingleTimeout();
    this.set_timeout(ms);
    return;
  }
  this.set_timeouts(conf.connect_timeout_ms, conf.send_timeout_ms, conf.first_byte_timeout_ms);
}
const phaseTimeouts = new LuaTable<HttpClient, FailoverConf>();

function newClient(this: void, name?: string) {
  const [httpc, err] = originalNewClient!(name);
  const conf = pendingTimeouts;
  pendingTimeouts = undefined;
  if (httpc === undefined || conf === undefined) return $multi(httpc, err);
  const [ok] = pcall(rawset, httpc as unknown as { set_timeout?: unknown }, "set_timeout", setPhaseTimeouts);
  // A client object that takes no fields (cdata, userdata): nothing to remember for it.
  if (ok) phaseTimeouts.set(httpc, conf);
  else warnSingleTimeout();
  return $multi(httpc);
}

function request(this: void, params: AiHttpParams, timeoutMs: number) {
  const raw = params as unknown as LuaTable<string, unknown>;
  const target = raw.get("spillway_attempt") as AttemptTarget | undefined;
  if (target === undefined) return originalRequest!(params, timeoutMs);
  const state = target.state ?? requestState(currentCtx());
  if (state === undefined) return originalRequest!(params, timeoutMs);
  raw.set("spillway_attempt", undefined);

  // The picker filter (patch 4) just read this backend's cooldown for this pick: no second shared-dict read.
  const key = cooldownKey(target.backend, target.deployment);
  const cold = state.vetted_key === key ? undefined : unavailable(state, key, nowMs());
  state.vetted_key = undefined;
  if (cold !== undefined) {
    recordSkip(state, target, cold);
    dropPickerWhenDone(state);
    return $multi(skippedResponse(params));
  }

  pendingTimeouts = state.conf;
  state.attempt_started_ms = nowMs();
  // Until the backend's headers (or its failure): the body is the request span's.
  const span = startAttemptSpan(target.backend);
  const [res, err, meta] = originalRequest!(params, timeoutMs);
  pendingTimeouts = undefined;
  if (res === undefined) {
    const failure = classifyOutcome(undefined, err as string);
    finishAttemptSpan(span, target.backend, target.deployment, failure, undefined);
    recordAttempt(state, target, failure, undefined, undefined, nowMs());
    dropPickerWhenDone(state);
    return $multi(undefined, err as string, meta);
  }
  // From here on, reads are body chunks: the route's timeout is the idle limit between them.
  res._httpc?.set_timeout(timeoutMs);
  const headers = lowerHeaders(res.headers);
  const kind = classifyOutcome(res.status, undefined);
  finishAttemptSpan(span, target.backend, target.deployment, kind, res.status);
  recordAttempt(state, target, kind, res.status, headers, nowMs());
  if (shouldFailover(kind)) dropPickerWhenDone(state);
  return $multi(res);
}

/** A failed attempt or a skip, before ai-proxy-multi's retry_on_error runs (picker-filter.ts dropPickerIfAllTried). */
function dropPickerWhenDone(this: void, state: RequestState): void {
  const ctx = currentCtx();
  if (ctx !== undefined) dropPickerIfAllTried(ctx, state);
}

/**
 * Forget which instances this request already tried, so that ai-proxy-multi can pick again after a wait (as a
 * first pick: the picker filter answers "all cooling" only then). These are 3.18.0's own ctx fields
 * (balancer/roundrobin.lua, balancer/priority.lua, ai-proxy-multi.lua).
 */
function resetPick(this: void, ctx: ApisixCtx): void {
  const raw = ctx as unknown as LuaTable<string, unknown>;
  raw.set("balancer_tried_servers", undefined);
  raw.set("balancer_tried_servers_count", 0);
  raw.set("priority_balancer_picker_idx", undefined);
  raw.set("balancer_server", undefined);
  raw.set("ai_retries", undefined);
  ctx.picked_ai_instance_name = undefined;
}

let originalBeforeProxy: BeforeProxy | undefined = undefined;
let aiProxyMulti: PluginModule | undefined = undefined;

/** One round of ai-proxy-multi's attempts, then one more per backend a Responses follow-up must still ask (holder-retry.ts). */
function proxyRound(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx, state: RequestState): LuaMultiReturn<[number?, unknown?]> {
  let [code, body] = originalBeforeProxy!(conf, ctx);
  while (state.retry_target !== undefined && takeRetryTarget(ctx, state)) [code, body] = originalBeforeProxy!(conf, ctx);
  return $multi(code, body);
}

/**
 * From the code a round of attempts ended with to the client's answer: 429 + Retry-After / JSON 5xx, or within
 * max_wait_ms a wait for the first cooling backend, a new pick and another round. `multiConf` undefined: the
 * route's own (the companion plugin's access phase, when every instance was cooling at the first pick).
 */
export function answerOrWait(
  this: void,
  ctx: ApisixCtx,
  state: RequestState,
  code: number | undefined,
  body: unknown,
  multiConf?: LuaTable<string, unknown>,
): LuaMultiReturn<[number?, unknown?]> {
  // The rounds below end here, in finalAnswer: the picker may be dropped once none is left (picker-filter.ts).
  state.answers_exhaustion = true;
  const conf = multiConf ?? multiConfOf(ctx);
  while (true) {
    const [waitMs, status, answer] = finalAnswer(state, code, body, nowMs());
    if (waitMs === undefined || conf === undefined) return $multi(status, answer);

    ngx.sleep(waitMs / 1000);
    state.waited_ms = state.waited_ms + waitMs;
    state.all_cooling = false;
    resetPick(ctx);
    state.round_start = state.attempts.length;
    const [pickCode, pickBody] = aiProxyMulti!.access(conf, ctx);
    if (pickCode !== undefined) return $multi(pickCode, pickBody);
    if (state.all_cooling) {
      [code, body] = [429, undefined];
    } else {
      [code, body] = proxyRound(conf, ctx, state);
    }
  }
}

function beforeProxy(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx) {
  const state = requestState(ctx);
  if (state === undefined) return originalBeforeProxy!(conf, ctx);
  state.answers_exhaustion = true;
  const [code, body] = proxyRound(conf, ctx, state);
  return answerOrWait(ctx, state, code, body, conf);
}

/**
 * APISIX's own function in `module[field]`, kept on the module the first time it is wrapped: a plugin reload runs
 * this bundle again (fresh module-level slots) while the transport and utils/http stay loaded, and without the mark
 * the new wrapper would go around the old one.
 */
function originalOf<T>(this: void, module: LuaTable<string, unknown>, field: string): T {
  const mark = `__spillway_original_${field}`;
  let original = module.get(mark) as T | undefined;
  if (original === undefined) {
    original = module.get(field) as T;
    module.set(mark, original);
  }
  return original;
}

/**
 * Installs the wrappers once per worker. After a plugin reload (this bundle required again) each is installed again
 * around APISIX's own function, not around the previous wrapper (docs/provider.md, "The patches").
 */
export function installPatches(this: void): void {
  const transport = transportModule as unknown as LuaTable<string, unknown>;
  if (originalRequest === undefined) {
    originalRequest = originalOf<TransportRequest>(transport, "request");
    transport.set("request", request);
  }
  const httpModule = httpClientModule as unknown as LuaTable<string, unknown>;
  if (originalNewClient === undefined) {
    originalNewClient = originalOf<NonNullable<typeof originalNewClient>>(httpModule, "new");
    httpModule.set("new", newClient);
  }
  const multi = aiProxyMultiModule as unknown as PluginModule & LuaTable<string, unknown>;
  if (originalBeforeProxy === undefined) {
    aiProxyMulti = multi;
    originalBeforeProxy = originalOf<BeforeProxy>(multi, "before_proxy");
    multi.before_proxy = beforeProxy;
  }
  patchRateLimiting(originalOf);
}
