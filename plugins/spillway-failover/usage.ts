/**
 * Usage for legacy completions, which APISIX 3.18 proxies as `passthrough` without reading usage (§3.4):
 * sets what base.lua sets for the protocols it knows (§1.5), so logs, metrics and ai-rate-limiting see it.
 */
import * as cjson from "cjson.safe";
import { completionsUsage } from "../lib/usage";
import type { TokenUsage } from "../lib/usage";

const find = string.find;
const sub = string.sub;

export function setUsage(this: void, ctx: ApisixCtx, usage: TokenUsage, raw: JsonObject): void {
  ctx.ai_token_usage = usage;
  ctx.llm_raw_usage = raw;
  ctx.var["llm_prompt_tokens"] = usage.prompt_tokens;
  ctx.var["llm_completion_tokens"] = usage.completion_tokens;
  ctx.var["llm_total_tokens"] = usage.total_tokens;
}

/** From a decoded non-streamed body (base.parse_response returns it: no second decode). */
export function usageFromBody(this: void, ctx: ApisixCtx, body: unknown): void {
  const usage = completionsUsage(body);
  if (usage !== undefined) setUsage(ctx, usage, (body as { usage: JsonObject }).usage);
}

/**
 * From a raw SSE chunk: only a chunk that mentions "usage" is looked at (a plain find), and only the `data:` line
 * that carries it is decoded — the final usage chunk of a stream with stream_options.include_usage.
 */
export function usageFromChunk(this: void, ctx: ApisixCtx, chunk: string): void {
  const [at] = find(chunk, '"usage":{', 1, true);
  if (at === undefined) return;
  let start = at;
  while (start > 1 && sub(chunk, start - 1, start - 1) !== "\n") start = start - 1;
  const [lineEnd] = find(chunk, "\n", at, true);
  const line = sub(chunk, start, lineEnd === undefined ? -1 : lineEnd - 1);
  if (sub(line, 1, 5) !== "data:") return;
  const [decoded] = cjson.decode(sub(line, 6));
  if (decoded !== undefined) usageFromBody(ctx, decoded);
}
