/**
 * A Responses follow-up that reached a backend without its conversation state: the backend answered 400/404
 * `previous_response_not_found` or `invalid_encrypted_content` (lib/previous-response.ts). That happens when the
 * holder was unknown at the pick (never seen by this replica, affinity expired, Redis unavailable or not yet written
 * by the replica that saw the response), or when affinity is wrong. Nothing reached the client yet, and the backend
 * did no work, so the request is asked once more elsewhere:
 *   - the holder, when it is known by now (the shared dict, or Redis) and was not asked yet: once;
 *   - otherwise the route's other backends, by priority, each at most once, cooling ones passed over (as body-less
 *     lookups of a response id do, bodyless.ts);
 *   - nobody left: the backend's answer goes to the client as it is.
 *
 * How (no cost on any other answer): the provider's parse_response calls notHeldAnswer for a 400/404 to a
 * Responses request before relaying it. When another backend should be asked, the answer is dropped as a failed
 * attempt (status 502) and ai-proxy-multi's picker is removed from ctx so that ai-proxy-multi itself does not pick
 * (it would pick by weight, and only when its fallback_strategy retries 5xx). The before_proxy wrapper (patches.ts,
 * patch 2) then runs the attempt on `state.retry_target` (takeRetryTarget).
 */
import { replayReader } from "../lib/replay-reader";
import * as core from "apisix.core";
import { notHeldHere } from "../lib/previous-response";
import { pathDeployment } from "../lib/upstream-route";
import { holderOf, previousResponseId } from "./affinity";
import { clientPathAndQuery } from "./client-path";
import { cooldownKey, cooling } from "./cooldown-store";
import { multiConfOf, usePicked } from "./picker-filter";
import type { RequestState } from "./state";

const concat = table.concat;

/** Error bodies are small; a larger answer is not one of these errors and is relayed untouched. */
const MAX_ERROR_BODY = 64 * 1024;

interface Instance {
  name: string;
  priority?: number;
}


function endOfBody(this: void): LuaMultiReturn<[undefined]> {
  return $multi(undefined);
}

/** lua-resty-http's read_body over whatever body_reader now is (the replay reader). */
function readBody(this: AiHttpResponse): LuaMultiReturn<[string] | [undefined, string]> {
  const reader = this.body_reader;
  if (reader === undefined) return $multi("");
  const parts: string[] = [];
  while (true) {
    const [chunk, err] = reader();
    if (err !== undefined) return $multi(undefined, err);
    if (chunk === undefined) return $multi(concat(parts));
    parts.push(chunk);
  }
}

/**
 * Reads the error body (up to MAX_ERROR_BODY) and gives base.parse_response the same bytes again. Returns the body,
 * or undefined when it is larger than the cap or could not be read (then it is relayed as it comes).
 */
function peekBody(this: void, res: AiHttpResponse): string | undefined {
  const upstream = res.body_reader;
  if (upstream === undefined) return undefined;
  const parts: string[] = [];
  let size = 0;
  let complete = false;
  let failed: string | undefined = undefined;
  while (size <= MAX_ERROR_BODY) {
    const [chunk, err] = upstream();
    if (err !== undefined) {
      failed = err;
      break;
    }
    if (chunk === undefined) {
      complete = true;
      break;
    }
    parts.push(chunk);
    size += chunk.length;
  }
  const held = concat(parts);
  // base reads through body_reader (with max_response_bytes) or read_body(); both see the held bytes first. After
  // the end (or a read error) lua-resty-http's reader must not be called again: its coroutine is dead.
  let rest = upstream;
  if (complete) rest = endOfBody;
  else if (failed !== undefined) rest = () => $multi(undefined, failed!);
  res.body_reader = replayReader(held, rest);
  res.read_body = readBody;
  return complete ? held : undefined;
}

function triedBackend(this: void, state: RequestState, name: string): boolean {
  for (const attempt of state.attempts) {
    if (attempt.backend === name && attempt.skipped !== true) return true;
  }
  return false;
}

function byPriority(this: void, a: Instance, b: Instance): boolean {
  return (a.priority ?? 0) > (b.priority ?? 0);
}

/** The deployment the attempts' cooldowns are keyed by, as the provider keys them (picker-filter.ts deploymentOf). */
function deploymentOf(this: void, ctx: ApisixCtx, state: RequestState): string | undefined {
  if (state.deployment_known) return state.deployment;
  const [path] = clientPathAndQuery(ctx);
  const deployment = pathDeployment(path);
  if (deployment !== undefined) return deployment;
  const model = ctx.var["request_llm_model"];
  return typeof model === "string" ? model : undefined;
}

function routeInstances(this: void, ctx: ApisixCtx): Instance[] | undefined {
  return (multiConfOf(ctx) as { instances?: Instance[] } | undefined)?.instances;
}

function onRoute(this: void, instances: Instance[], name: string): boolean {
  for (const instance of instances) if (instance.name === name) return true;
  return false;
}

/** The untried, non-cooling instance of highest priority (config order within a priority), if any. */
function nextUntried(this: void, ctx: ApisixCtx, state: RequestState, instances: Instance[]): string | undefined {
  const ordered: Instance[] = [];
  for (const instance of instances) {
    if (!triedBackend(state, instance.name)) ordered.push(instance);
  }
  // Stable for equal priorities: table.sort is not, so insertion order is kept by a plain insertion sort.
  for (let i = 1; i < ordered.length; i++) {
    const item = ordered[i]!;
    let j = i - 1;
    while (j >= 0 && byPriority(item, ordered[j]!)) {
      ordered[j + 1] = ordered[j]!;
      j--;
    }
    ordered[j + 1] = item;
  }
  const deployment = deploymentOf(ctx, state);
  const now = ngx.now() * 1000;
  for (const instance of ordered) {
    if (cooling(cooldownKey(instance.name, deployment), now) === undefined) return instance.name;
  }
  return undefined;
}

/** Who to ask next for this follow-up, if anyone. */
function nextTarget(this: void, ctx: ApisixCtx, state: RequestState, previousId: string): string | undefined {
  const instances = routeInstances(ctx);
  if (instances === undefined) return undefined;
  const holder = holderOf(state.conf, previousId);
  if (holder !== undefined) {
    // The holder itself said so: the response is gone, asking the others would only repeat the answer.
    if (holder === ctx.picked_ai_instance_name) return undefined;
    // Known: the holder, once (its cooldown, if any, is answered by the transport: 429 + Retry-After, as when pinned).
    if (!triedBackend(state, holder) && onRoute(instances, holder)) return holder;
  }
  return nextUntried(ctx, state, instances);
}

/**
 * Called by the provider for a 400 or 404 answer to a Responses request, before any of it reaches the client.
 * True: drop this answer (the provider returns it as a failed attempt), `state.retry_target` is asked next. False:
 * relay it (its body is read again from the start by base.parse_response).
 */
export function notHeldAnswer(this: void, ctx: ApisixCtx, state: RequestState, res: AiHttpResponse): boolean {
  if (state.conf.affinity_ttl_s <= 0) return false;
  const previousId = previousResponseId(ctx);
  if (previousId === undefined) return false;
  const body = peekBody(res);
  if (body === undefined) return false;
  const code = notHeldHere(res.status, body);
  if (code === undefined) return false;
  const target = nextTarget(ctx, state, previousId);
  if (target === undefined) return false;
  core.log.info("spillway-failover: ", ctx.picked_ai_instance_name, " answered ", code, " for a previous response; asking ",
    target);
  state.retry_target = target;
  state.affinity = "holder_retry";
  // ai-proxy-multi must not pick the next instance itself (by weight, and only if its fallback_strategy retries 5xx).
  (ctx as unknown as LuaTable<string, unknown>).set("server_picker", undefined);
  return true;
}

/**
 * For the before_proxy wrapper (patches.ts), after a round of attempts: makes `state.retry_target` this request's
 * instance and says whether to run another round.
 */
export function takeRetryTarget(this: void, ctx: ApisixCtx, state: RequestState): boolean {
  const target = state.retry_target;
  if (target === undefined) return false;
  state.retry_target = undefined;
  return usePicked(ctx, target);
}
