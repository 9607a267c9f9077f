/**
 * Cooling backends are never picked (patch 4, see patches.ts): ai-proxy-multi's server picker (one object per
 * route version, cached by ai-proxy-multi, APISIX 3.18.0 ai-proxy-multi.lua pick_target) gets a `get` that passes
 * over instances whose cooldown is running, marking each as tried the way pick_target itself skips an unhealthy
 * instance. A skipped backend then costs one shared-dict read, not an attempt through the transport, a synthetic
 * 429 and ai-proxy-multi's retry path with its warn line.
 *
 * A picker is wrapped the first time the companion plugin's access phase sees it; that first request's pick is
 * checked and redone there (repickIfCooling). From then on every pick of the route, first or retry, is filtered.
 */
import { recordSkip, unavailable } from "./attempts";
import { clientPathAndQuery } from "./client-path";
import { cooldownKey } from "./cooldown-store";
import type { Cooling } from "./cooldown-store";
import { pathDeploymentCached } from "../lib/upstream-route";
import { preferredBackends } from "./preference";
import { requestState } from "./state";
import type { RequestState } from "./state";

type PickerGet = (this: void, ctx: ApisixCtx) => LuaMultiReturn<[string] | [undefined, string]>;

interface ServerPicker {
  get: PickerGet;
  after_balance?: (this: void, ctx: ApisixCtx, beforeRetry: boolean) => void;
}

const ngxNow = ngx.now;
/** No route has more instances than this; bounds the loop whatever a picker does. */
const MAX_PICKS = 256;

/** Pickers already wrapped (weak keys: a picker dropped from ai-proxy-multi's cache is not kept alive). */
const wrapped = setmetatable(new LuaTable<ServerPicker, true>(), { __mode: "k" });

/**
 * The deployment an attempt's cooldown is keyed by, as the provider keys it: the path's deployment segment, else
 * the body's model (set by ai-proxy-multi's request detection before it picks). Computed once per request.
 */
function deploymentOf(this: void, ctx: ApisixCtx, state: RequestState): string | undefined {
  if (state.deployment_known) return state.deployment;
  const [path] = clientPathAndQuery(ctx);
  let deployment = pathDeploymentCached(path);
  if (deployment === undefined) {
    const model = ctx.var["request_llm_model"];
    if (typeof model === "string") deployment = model;
  }
  state.deployment = deployment;
  state.deployment_known = true;
  return deployment;
}

/** Marks `name` tried for this request, as ai-proxy-multi does before it picks again. */
function markTried(this: void, picker: ServerPicker, ctx: ApisixCtx, name: string): void {
  (ctx as unknown as LuaTable<string, unknown>).set("balancer_server", name);
  picker.after_balance?.(ctx, true);
}

/**
 * The next instance that is not cooling. On the first pick of a request (nothing picked yet) when every instance
 * is cooling, the last one is returned and the state says so: the companion plugin answers 429 + Retry-After
 * itself instead of letting ai-proxy-multi fail the access phase with a 503. On a retry, "all tried" stands.
 */
function filteredGet(this: void, picker: ServerPicker, original: PickerGet, ctx: ApisixCtx): LuaMultiReturn<[string] | [undefined, string]> {
  const state = requestState(ctx);
  if (state === undefined) return original(ctx);
  state.picks_filtered = true;
  const deployment = deploymentOf(ctx, state);
  const now = ngxNow() * 1000;
  const preferred = preferredPick(ctx, state, deployment, now);
  if (preferred !== undefined) return $multi(preferred);
  let lastCooling: string | undefined = undefined;
  for (let i = 0; i < MAX_PICKS; i++) {
    const [name, err] = original(ctx);
    if (name === undefined) {
      if (lastCooling !== undefined && ctx.picked_ai_instance_name === undefined) {
        state.all_cooling = true;
        return $multi(lastCooling);
      }
      return $multi(undefined, err as string);
    }
    const key = cooldownKey(name, deployment);
    const cold = unavailable(state, key, now);
    if (cold === undefined) {
      state.vetted_key = key;
      return $multi(name);
    }
    // A preferred backend passed over above is already on record.
    if (!inRound(state, name)) recordSkip(state, { backend: name, deployment }, cold);
    lastCooling = name;
    markTried(picker, ctx, name);
  }
  return $multi(undefined, "too many picks");
}

/** Whether this request already called `name` (skips do not count). */
function called(this: void, state: RequestState, name: string): boolean {
  for (const a of state.attempts) {
    if (a.backend === name && a.skipped !== true) return true;
  }
  return false;
}

/**
 * With a preferred-backends order set (preference.ts): the first backend of it that is on this route, not yet
 * called by this request and available to it. Passed-over ones are recorded as skips. Undefined: pick as usual.
 */
function preferredPick(this: void, ctx: ApisixCtx, state: RequestState, deployment: string | undefined, now: number): string | undefined {
  const order = preferredBackends();
  if (order === undefined) return undefined;
  const instances = (multiConfOf(ctx) as { instances?: { name: string }[] } | undefined)?.instances;
  if (instances === undefined) return undefined;
  for (const name of order) {
    let onRoute = false;
    for (const instance of instances) {
      if (instance.name === name) onRoute = true;
    }
    if (!onRoute || called(state, name)) continue;
    const key = cooldownKey(name, deployment);
    const cold = unavailable(state, key, now);
    if (cold === undefined) {
      state.vetted_key = key;
      return name;
    }
    if (!inRound(state, name)) recordSkip(state, { backend: name, deployment }, cold);
  }
  return undefined;
}

/**
 * For a request picked before its route's picker was wrapped (the first one per route version): the preferred
 * backend instead of the weighted pick, when an order is set.
 */
export function repickForPreference(this: void, ctx: ApisixCtx, state: RequestState): void {
  if (state.picks_filtered || ctx.picked_ai_instance_name === undefined) return;
  const name = preferredPick(ctx, state, deploymentOf(ctx, state), ngxNow() * 1000);
  if (name !== undefined && name !== ctx.picked_ai_instance_name) usePicked(ctx, name);
}

/** Gives a picker the filtering `get`, once. */
export function filterPicker(this: void, picker: ServerPicker): void {
  if (wrapped.get(picker) === true) return;
  wrapped.set(picker, true);
  const original = picker.get;
  // One closure per picker object (per route version), not per request.
  picker.get = (ctx: ApisixCtx) => filteredGet(picker, original, ctx);
}

/** The route's ai-proxy-multi conf (the table APISIX hands the plugin: it carries `_meta.parent`). */
export function multiConfOf(this: void, ctx: ApisixCtx): LuaTable<string, unknown> | undefined {
  const route = (ctx as unknown as { matched_route?: { value?: { plugins?: LuaTable<string, unknown> } } }).matched_route;
  return route?.value?.plugins?.get("ai-proxy-multi") as LuaTable<string, unknown> | undefined;
}

/** Whether `name` already has a record (tried or skipped) in this round of picks. */
function inRound(this: void, state: RequestState, name: string): boolean {
  for (let i = state.round_start ?? 0; i < state.attempts.length; i++) {
    if (state.attempts[i]!.backend === name) return true;
  }
  return false;
}

/**
 * After a failed attempt or a skip, before ai-proxy-multi's retry_on_error runs: when no instance of the route is
 * left to try in this round (each was tried, or is cooling), record the cooling ones as skipped, as the picker filter
 * would have, and drop the request's picker. retry_on_error then gives the code back at once instead of asking the
 * picker for one more and logging `[error] failed to pick new AI instance: all upstream servers tried` for what is
 * an upstream condition (answered by the before_proxy wrapper: 429 + Retry-After or a JSON 5xx). An instance the
 * picker passes over for a reason of its own (an active health check) counts as left: then the picker is kept, and
 * APISIX logs its line as before. Only when the before_proxy wrapper gives the final answer (without it, 3.18's own
 * answer stays as it is).
 */
export function dropPickerIfAllTried(this: void, ctx: ApisixCtx, state: RequestState): void {
  if (state.answers_exhaustion !== true) return;
  const raw = ctx as unknown as LuaTable<string, unknown>;
  if (raw.get("server_picker") === undefined) return;
  const instances = (multiConfOf(ctx) as { instances?: { name: string }[] } | undefined)?.instances;
  if (instances === undefined) return;
  const deployment = deploymentOf(ctx, state);
  const now = ngxNow() * 1000;
  // Only on a failure, never on the happy path: a small table is fine here.
  const skipped: { backend: string; cold: Cooling }[] = [];
  for (const instance of instances) {
    if (inRound(state, instance.name)) continue;
    const cold = unavailable(state, cooldownKey(instance.name, deployment), now, true);
    if (cold === undefined) return;
    skipped.push({ backend: instance.name, cold });
  }
  for (const skip of skipped) recordSkip(state, { backend: skip.backend, deployment }, skip.cold);
  raw.set("server_picker", undefined);
}

/**
 * Makes `name` this request's instance, as ai-proxy-multi's access does after its pick. False when the route's
 * ai-proxy-multi has no instance of that name.
 */
export function usePicked(this: void, ctx: ApisixCtx, name: string): boolean {
  const multi = multiConfOf(ctx) as { instances?: { name: string }[] } | undefined;
  for (const instance of multi?.instances ?? []) {
    if (instance.name === name) {
      ctx.picked_ai_instance_name = name;
      ctx.picked_ai_instance = instance as unknown as LuaTable<string, unknown>;
      ctx.balancer_ip = name;
      (ctx as unknown as LuaTable<string, unknown>).set("balancer_server", name);
      return true;
    }
  }
  return false;
}

/**
 * For a request whose pick ran before its route's picker was wrapped (the first one per route version): if the
 * picked instance is cooling, mark it tried and pick again through the filter, which records the skip. Sets
 * state.all_cooling when no instance is left.
 */
export function repickIfCooling(this: void, ctx: ApisixCtx, state: RequestState, picker: ServerPicker): void {
  const picked = ctx.picked_ai_instance_name;
  if (picked === undefined || state.picks_filtered) return;
  const deployment = deploymentOf(ctx, state);
  const key = cooldownKey(picked, deployment);
  const cold = unavailable(state, key, ngxNow() * 1000);
  if (cold === undefined) {
    // The transport need not look again (a low-priority probe would not pass a second look).
    state.vetted_key = key;
    return;
  }
  recordSkip(state, { backend: picked, deployment }, cold);
  markTried(picker, ctx, picked);
  const [name] = picker.get(ctx);
  if (name === undefined || !usePicked(ctx, name)) state.all_cooling = true;
}
