/**
 * Responses API affinity: a stored response (and so `previous_response_id`, GET/DELETE /responses/{id}, cancel,
 * input_items) exists only on the Azure resource that created it, so the gateway remembers which backend answered
 * each response id and sends follow-ups there (apisix-ai-contract.md §7, "Responses API affinity").
 * Kept in the shared dict (`af:<id>` → backend) for affinity_ttl_s, and in Redis when configured. A follow-up is
 * pinned to its holder with no fallback: another backend would answer that it does not know the id. A follow-up
 * whose holder is unknown (never seen, expired, Redis unavailable) is routed normally (holder-retry.ts then asks
 * the other backends if the one picked does not hold it).
 */
import * as core from "apisix.core";
import * as cjson from "cjson.safe";
import { SHARED_DICT } from "./cooldown-store";
import { fetchAffinity, shareAffinity } from "./redis-sync";
import type { FailoverConf } from "./schema";
import { usePicked } from "./picker-filter";
import { requestState } from "./state";

const find = string.find;
const sub = string.sub;

function dict(this: void): NgxSharedDict | undefined {
  return ngx.shared[SHARED_DICT];
}

/** Records that `backend` holds response `id`: in the shared dict at once, in Redis from a timer. */
export function rememberResponse(this: void, conf: FailoverConf, id: string, backend: string): void {
  if (conf.affinity_ttl_s <= 0 || id === "") return;
  dict()?.set(`af:${id}`, backend, conf.affinity_ttl_s);
  if (conf.redis !== undefined) shareAffinity(conf.redis, id, backend, conf.affinity_ttl_s);
}

/**
 * The backend holding response `id`, if known here or (with Redis) to another replica. Redis trouble of any kind
 * (redis-sync.ts fails open, and a Lua error in it is caught here) means "unknown": the request is routed normally.
 */
export function holderOf(this: void, conf: FailoverConf, id: string): string | undefined {
  if (conf.affinity_ttl_s <= 0) return undefined;
  const shared = dict();
  if (shared !== undefined) {
    const [local] = shared.get(`af:${id}`);
    if (typeof local === "string") return local;
  }
  if (conf.redis === undefined) return undefined;
  const [ok, remote] = pcall(fetchAffinity, conf.redis, id);
  if (!ok) {
    core.log.error("spillway-failover: response affinity lookup failed: ", remote);
    return undefined;
  }
  if (remote !== undefined) shared?.set(`af:${id}`, remote, conf.affinity_ttl_s);
  return remote;
}

/** `previous_response_id` of the request body (decoded once per request by ai-proxy-multi's access, cached). */
export function previousResponseId(this: void, ctx: ApisixCtx): string | undefined {
  const [body] = core.request.get_json_request_body_table();
  if (body === undefined) return undefined;
  const id = body["previous_response_id"];
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** The response id of a `response.created` event among a stream's held bytes. */
export function createdResponseId(this: void, held: string): string | undefined {
  const [at] = find(held, "response.created", 1, true);
  if (at === undefined) return undefined;
  const [dataAt] = find(held, "data:", at, true);
  if (dataAt === undefined) return undefined;
  const [lineEnd] = find(held, "\n", dataAt, true);
  const [event] = cjson.decode(sub(held, dataAt + 5, lineEnd === undefined ? -1 : lineEnd - 1));
  if (type(event) !== "table") return undefined;
  const response = (event as JsonObject)["response"];
  if (type(response) !== "table") return undefined;
  const id = (response as JsonObject)["id"];
  return typeof id === "string" ? id : undefined;
}

/**
 * Pins a follow-up (`previous_response_id`) to the backend holding that response, replacing ai-proxy-multi's
 * pick and removing its picker so that nothing falls back elsewhere (hook type A, contract §7).
 */
export function pinFollowUp(this: void, conf: FailoverConf, ctx: ApisixCtx): void {
  if (ctx.ai_client_protocol !== "openai-responses" || conf.affinity_ttl_s <= 0) return;
  const id = previousResponseId(ctx);
  if (id === undefined) return;
  const holder = holderOf(conf, id);
  const state = requestState(ctx);
  if (holder === undefined) {
    if (state !== undefined) state.affinity = "unknown";
    return;
  }
  if (holder === ctx.picked_ai_instance_name || usePicked(ctx, holder)) {
    if (state !== undefined) state.affinity = "pinned";
    // No picker: nothing may fall back to another backend (it would answer that it does not know this id).
    (ctx as unknown as LuaTable<string, unknown>).set("server_picker", undefined);
    return;
  }
  core.log.info("spillway-failover: the backend holding a previous response is not on this route any more");
}
