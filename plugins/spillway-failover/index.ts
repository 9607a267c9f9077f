/**
 * spillway-failover: the companion plugin of the azure-openai-dynamic provider. Its access phase runs right
 * after ai-proxy-multi (priority 1041) picked an instance and before before_proxy (apisix-ai-contract.md §7,
 * hook type A). Its rewrite phase opens the request's failover state and refuses a body ai-proxy-multi would refuse
 * (as OpenAI-shaped JSON, before ai-proxy-multi's access reads it); its access phase makes the route's picker
 * skip cooling backends and answers at once when all of them cool. init() installs the patches in patches.ts.
 */
import * as core from "apisix.core";
import { available, SHARED_DICT } from "./cooldown-store";
import { installPatches } from "./patches";
import { PLUGIN_NAME, PRIORITY, schema as confSchema } from "./schema";
import type { FailoverConf } from "./schema";
import { pinFollowUp } from "./affinity";
import { proxyBodyless } from "./bodyless";
import { ensureSync } from "./redis-sync";
import { usageFromChunk } from "./usage";
import { finalAnswer } from "./final-answer";
import { newRequestState, requestState } from "./state";
import type { RequestState } from "./state";
import { filterPicker, multiConfOf, repickForPreference, repickIfCooling } from "./picker-filter";
import { preferenceEndpoint } from "./preference";
import { checkRequestBody } from "./request-check";
import { openAiError } from "../lib/openai-error";
import type { OpenAiErrorBody } from "../lib/openai-error";
import { laneOf } from "../lib/low-reserve";
import { answerOrWait } from "./patches";
import { countRequest, initMetrics } from "./metrics";
import { writeLogFields } from "./access-log";


export const version = 0.1;
export const priority = PRIORITY;
export const name = PLUGIN_NAME;
export const schema = confSchema;

export function check_schema(this: void, conf: unknown): LuaMultiReturn<[true] | [false, string]> {
  return core.schema.check(confSchema, conf);
}

export function init(this: void): void {
  if (!available()) {
    core.log.warn("spillway-failover: lua_shared_dict '", SHARED_DICT, "' is missing; cooldowns are not shared ",
      "and cooling backends are not skipped");
  }
  installPatches();
  initMetrics();
}

/**
 * 3.18 detects the client protocol from the URI suffix `/v1/responses` only, so the Azure SDK's
 * `/openai/responses?api-version=` and `/openai/deployments/{d}/responses` come out as embeddings (the body has
 * `input`), and usage would be read the embeddings way (apisix-ai-contract.md §3.1). Correct it after the pick.
 */
function fixResponsesProtocol(this: void, ctx: ApisixCtx): void {
  if (ctx.ai_client_protocol !== "openai-embeddings") return;
  const uri = ctx.var["uri"];
  if (typeof uri !== "string" || string.sub(uri, -10) !== "/responses") return;
  ctx.ai_client_protocol = "openai-responses";
  // Embeddings never stream, so 3.18 typed a streamed create `ai_chat` (access log llm_stream "false").
  const [body] = core.request.get_json_request_body_table();
  if (body !== undefined && body["stream"] === true) ctx.var["request_type"] = "ai_stream";
}

/** ai-proxy-multi's picker for this request (3.18.0 keeps it on ctx; absent for a single-instance route). */
function rawPicker(this: void, ctx: ApisixCtx): Parameters<typeof filterPicker>[0] | undefined {
  return (ctx as unknown as { server_picker?: Parameters<typeof filterPicker>[0] }).server_picker;
}

/**
 * `?priority=`, parsed only when the request target mentions it: APISIX's `arg_*` variables parse the whole query
 * into a table, and `http_*` ones run a regex substitution per look-up, for a lane almost every request leaves out.
 */
function priorityArg(this: void, ctx: ApisixCtx): string | undefined {
  const target = ctx.var["real_request_uri"] ?? ctx.var["request_uri"];
  if (typeof target !== "string" || string.find(target, "priority", 1, true)[0] === undefined) return undefined;
  const value = ctx.var["arg_priority"];
  return typeof value === "string" ? value : undefined;
}

/** 400 for a priority that is neither high nor low: a typo must not put a batch job in the interactive lane. */
function refuseLane(this: void, which: "invalid-header" | "invalid-query"): LuaMultiReturn<[number, OpenAiErrorBody]> {
  const where = which === "invalid-header" ? "The x-priority header" : "The priority query parameter";
  core.response.set_header("Content-Type", "application/json");
  const param = which === "invalid-header" ? "x-priority" : "priority";
  return $multi(400, openAiError(`${where} must be "high" or "low".`, "invalid_request_error", "400", param));
}

/**
 * Opens the request's state before any access phase, so that ai-proxy-multi's pick can already skip cooling backends;
 * on its routes, refuses a body it would refuse, as an OpenAI-shaped JSON error (request-check.ts).
 */
// A LuaMultiReturn union, not `... | undefined`: TSTL would wrap the refusal in a table (see azure-openai-auth).
export function rewrite(this: void, conf: FailoverConf, ctx: ApisixCtx): LuaMultiReturn<[number, OpenAiErrorBody] | []> {
  const state = newRequestState(conf);
  ctx.spillway = state as unknown as LuaTable<string, unknown>;
  // ngx.var: one look at the request's headers. (APISIX's ctx.var runs a regex substitution per http_* name, and
  // core.request.header reads every header into a table when nginx is not APISIX's own build.)
  const header = ngx.var["http_x_priority"] as string | undefined;
  const lane = laneOf(header, header === undefined ? priorityArg(ctx) : undefined);
  if (lane === "invalid-header" || lane === "invalid-query") return refuseLane(lane);
  state.lane = lane;
  const multiConf = multiConfOf(ctx);
  if (multiConf === undefined) return $multi();
  return checkRequestBody(ctx, multiConf);
}

export function access(this: void, conf: FailoverConf, ctx: ApisixCtx): LuaMultiReturn<[number?, unknown?]> {
  fixResponsesProtocol(ctx);
  const state = requestState(ctx) ?? (newRequestState(conf) as RequestState);
  ctx.spillway = state as unknown as LuaTable<string, unknown>;
  if (conf.redis !== undefined) ensureSync(conf.redis);
  if (conf.helper === "set-preferred-backends") return preferenceEndpoint(conf, ctx);
  const picker = rawPicker(ctx);
  if (picker !== undefined) {
    filterPicker(picker);
    repickIfCooling(ctx, state, picker);
    repickForPreference(ctx, state);
  }
  pinFollowUp(conf, ctx);
  // A body-less route proxies in before_proxy, like ai-proxy-multi (APISIX skips its nginx upstream).
  if (conf.backends !== undefined) ctx.bypass_nginx_upstream = true;
  // A pinned follow-up has no picker any more: its holder's cooldown is answered by the transport (patch 1).
  // Every instance is cooling: 429 + Retry-After at once (or a wait within max_wait_ms), no attempt.
  if (state.all_cooling && rawPicker(ctx) !== undefined) return answerOrWait(ctx, state, 429, undefined);
  return $multi();
}

/**
 * After the answer went out: metrics and the access-log fields, from the request's state. A request refused before
 * any access phase (bad lane, bad body) has a state too, and is logged like any other.
 */
export function log(this: void, _conf: FailoverConf, ctx: ApisixCtx): void {
  const state = requestState(ctx);
  if (state === undefined) return;
  if (ctx.ai_stream_aborted !== undefined) state.stream_cut = ctx.ai_stream_aborted;
  const elapsedS = ngx.now() - ngx.req.start_time();
  countRequest(ctx, state, elapsedS);
  writeLogFields(ctx, state, elapsedS);
}

/** Runs for every piece of an AI response (plugin.lua_response_filter, §1.4): stream usage for completions. */
export function lua_body_filter(this: void, _conf: FailoverConf, ctx: ApisixCtx, _headers: unknown, body: string): void {
  if (ctx.ai_client_protocol === "passthrough" && ctx.var["request_type"] === "ai_stream" && body !== "") {
    usageFromChunk(ctx, body);
  }
}

export function before_proxy(this: void, conf: FailoverConf, ctx: ApisixCtx): LuaMultiReturn<[number?, unknown?]> {
  const state = requestState(ctx);
  if (conf.backends === undefined || state === undefined) return $multi();
  while (true) {
    const [code, body] = proxyBodyless(conf, ctx, state);
    const [waitMs, status, answer] = finalAnswer(state, code, body, ngx.now() * 1000);
    if (waitMs === undefined) return $multi(status, answer);
    ngx.sleep(waitMs / 1000);
    state.waited_ms = state.waited_ms + waitMs;
  }
}
