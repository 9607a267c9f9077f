/**
 * Patch 5 (patches.ts): 3.18's ai-rate-limiting, for what it lacks as the client token budget (docs/configuration.md,
 * "Token budgets"). Counting, windows, keys and the X-AI-*-RateLimit-* headers stay APISIX's.
 *
 * - A rejection is Azure's 429 shape: OpenAI JSON body, Retry-After (seconds to the window's reset), x-ratelimit-*
 *   headers for the budget, x-gw-priority (lib/budget-rejection.ts). 3.18 answers `{"error_msg":...}` without
 *   Retry-After, which SDKs do not back off on.
 * - A request without usage (exhausted, or a stream cut before its usage) is not charged, as in 3.18, but without
 *   3.18's [error] line per such request.
 * - With `policy: redis` and Redis down, counting goes on per node (a copy of the conf with `policy: local`), and
 *   Redis trouble is logged once per interval (redis-sync.ts) instead of failing every request with a 500 (3.18
 *   without allow_degradation) or not counting at all and logging an error per request (with it).
 */
import * as core from "apisix.core";
import { budgetRejection, budgetUnit } from "../lib/budget-rejection";
import { openAiError } from "../lib/openai-error";
import { markRedisDownAt, redisDownAt } from "./redis-sync";
import { requestState } from "./state";

type Phase = (this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx) => LuaMultiReturn<[number?, unknown?]>;
type LogPhase = (this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx) => void;

const DEFAULT_REDIS_PORT = 6379;
/** ai-rate-limiting's answer when its Redis failed (limit-count: "failed to limit count"). */
const COUNT_FAILED = 500;

let originalAccess: Phase | undefined = undefined;
let originalLog: LogPhase | undefined = undefined;

/** Per conf table (weak keys: a replaced route conf takes its copy with it): the same limits, counted per node. */
const localConfs = setmetatable(new LuaTable<LuaTable<string, unknown>, LuaTable<string, unknown>>(), { __mode: "k" });

function localConf(this: void, conf: LuaTable<string, unknown>): LuaTable<string, unknown> {
  let copy = localConfs.get(conf);
  if (copy === undefined) {
    copy = new LuaTable();
    for (const [key, value] of pairs(conf)) copy.set(key, value);
    copy.set("policy", "local");
    localConfs.set(conf, copy);
  }
  return copy;
}

function redisAddress(this: void, conf: LuaTable<string, unknown>): LuaMultiReturn<[string, number] | []> {
  if (conf.get("policy") !== "redis") return $multi();
  const host = conf.get("redis_host");
  if (typeof host !== "string") return $multi();
  return $multi(host, (conf.get("redis_port") as number | undefined) ?? DEFAULT_REDIS_PORT);
}

/** The header ai-rate-limiting set for the refused rule (or instance), as a number. */
function headerNumber(this: void, name: string): number | undefined {
  const value = ngx.header[name];
  return typeof value === "string" || typeof value === "number" ? tonumber(value) : undefined;
}

/** Seconds to the window's reset and the budget, from the X-AI-*-RateLimit-* headers limit-count just set. */
function refusedWindow(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx): LuaMultiReturn<[number | undefined, number | undefined]> {
  const rules = conf.get("rules") as { header_prefix?: string }[] | undefined;
  if (rules !== undefined && rules.length > 0) {
    for (let i = 0; i < rules.length; i++) {
      // limit-count names a rule's headers by its header_prefix, else by its position (1-based).
      const prefix = rules[i]!.header_prefix ?? `${i + 1}`;
      if (headerNumber(`X-AI-${prefix}-RateLimit-Remaining`) === 0) {
        return $multi(headerNumber(`X-AI-${prefix}-RateLimit-Reset`), headerNumber(`X-AI-${prefix}-RateLimit-Limit`));
      }
    }
    return $multi(undefined, undefined);
  }
  const name = ctx.picked_ai_instance_name ?? "";
  return $multi(headerNumber(`X-AI-RateLimit-Reset-${name}`), headerNumber(`X-AI-RateLimit-Limit-${name}`));
}

function refuse(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx, status: number, body: unknown): LuaMultiReturn<[number, unknown]> {
  const [resetS, limit] = refusedWindow(conf, ctx);
  const configured = type(body) === "table" ? (body as LuaTable<string, unknown>).get("error_msg") : undefined;
  const unit = budgetUnit(conf.get("limit_strategy") as string | undefined, conf.get("cost_expr") as string | undefined);
  const answer = budgetRejection(status, unit, resetS, limit, typeof configured === "string" ? configured : undefined);
  for (const [name, value] of pairs(answer.headers as unknown as LuaTable<string, string>)) core.response.set_header(name, value);
  core.response.set_header("content-type", "application/json", "x-gw-priority", requestState(ctx)?.lane ?? "high");
  return $multi(status, openAiError(answer.message, answer.type, answer.code));
}

function access(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx): LuaMultiReturn<[number?, unknown?]> {
  const [host, port] = redisAddress(conf);
  const down = host !== undefined && redisDownAt(host, port!);
  let [code, body] = originalAccess!(down ? localConf(conf) : conf, ctx);
  if (code === COUNT_FAILED && host !== undefined && !down) {
    // Its Redis did not answer: count on this node until it does.
    markRedisDownAt(host, port!, "client budgets are counted per node", "budget");
    [code, body] = originalAccess!(localConf(conf), ctx);
  }
  if (code === undefined) return $multi();
  const state = requestState(ctx);
  if (state !== undefined) state.budget_rejected = true;
  return refuse(conf, ctx, code, body);
}

function log(this: void, conf: LuaTable<string, unknown>, ctx: ApisixCtx): void {
  // No usage to charge (no backend answered, or a stream ended before its usage): 3.18 would log an [error] line
  // ("failed to get token usage") per such request, and charge nothing either way.
  if (ctx.ai_token_usage === undefined) return;
  const [host, port] = redisAddress(conf);
  originalLog!(host !== undefined && redisDownAt(host, port!) ? localConf(conf) : conf, ctx);
}

/** Installs both wrappers once per worker (originalOf: around APISIX's own functions after a plugin reload). */
export function patchRateLimiting(this: void, originalOf: <T>(this: void, module: LuaTable<string, unknown>, field: string) => T): void {
  if (originalAccess !== undefined) return;
  // Not every host ships it (our nginx stand-in of APISIX does not); without it there is nothing to patch.
  const [loaded, found] = pcall(require, "apisix.plugins.ai-rate-limiting");
  if (!loaded || type(found) !== "table") return;
  const module = found as LuaTable<string, unknown>;
  originalAccess = originalOf<Phase>(module, "access");
  originalLog = originalOf<LogPhase>(module, "log");
  module.set("access", access);
  module.set("log", log);
}
