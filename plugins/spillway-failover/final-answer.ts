/**
 * What the client gets when a request ends without a backend's answer: from ai-proxy-multi's before_proxy
 * (through the wrapper in patches.ts) or from the body-less proxy. 429 + Retry-After when the backends are
 * throttled, a JSON 502/503/504 otherwise (lib/exhaustion.ts), or a wait when max_wait_ms allows it.
 */
import * as core from "apisix.core";
import type { ExhaustionAnswer } from "../lib/exhaustion";
import { attemptTrail, decideExhaustion } from "../lib/exhaustion";
import { exhaustionResponse } from "../lib/exhaustion-response";
import { gatewayHeaders, relayResponseHeaders } from "../lib/header-policy";
import { openAiError } from "../lib/openai-error";
import type { RequestState } from "./state";

/** Headers of the last backend answer worth keeping on the final error (x-ratelimit-*, x-ms-region, ...). */
const REPLACED_BY_ANSWER: { [name: string]: true | undefined } = {
  "content-type": true,
  "retry-after": true,
  "retry-after-ms": true,
};

function answerExhaustion(this: void, state: RequestState, decision: ExhaustionAnswer): LuaMultiReturn<[number, unknown]> {
  core.log.warn("spillway: no backend could answer: ", attemptTrail(state.attempts));
  const [status, body, headers] = exhaustionResponse(decision);
  if (state.upstream_headers !== undefined) {
    const relayed = relayResponseHeaders(state.upstream_headers, true) as unknown as LuaTable<string, string>;
    for (const [name, value] of pairs(relayed)) {
      if (REPLACED_BY_ANSWER[name] !== true) core.response.set_header(name, value);
    }
  }
  for (const [name, value] of pairs(headers as unknown as LuaTable<string, string>)) core.response.set_header(name, value);
  core.response.set_header("content-type", "application/json");
  const gw = gatewayHeaders(state.backend ?? "none", state.called);
  core.response.set_header("x-gw-attempts", gw["x-gw-attempts"], "x-gw-priority", state.lane);
  state.exhausted_status = status;
  const reason = headers["x-gw-ratelimit-reason"];
  if (reason !== undefined) state.refused_below = reason === "requests-below-low-priority-threshold" ? "requests" : "tokens";
  return $multi(status, body);
}

/** APISIX's own errors come as {error_msg = "..."}; clients' SDKs parse {"error":{...}}. */
function openAiShape(this: void, code: number, body: unknown): unknown {
  if (type(body) !== "table") return body;
  const message = (body as LuaTable<string, unknown>).get("error_msg");
  if (typeof message !== "string") return body;
  return openAiError(message, "invalid_request_error", `${code}`);
}

/**
 * Given the code a proxy step ended with: [undefined, status, body] to answer now, or [wait_ms] to wait for a
 * throttled backend and try again.
 */
export function finalAnswer(
  this: void,
  state: RequestState,
  code: number | undefined,
  body: unknown,
  nowMs: number,
): LuaMultiReturn<[undefined, number | undefined, unknown] | [number]> {
  // Answered (code nil), or output already went out: nothing left to decide.
  if (code === undefined || state.committed) return $multi(undefined, code, body);
  // Not a backend failure (a 400 from build_request, a 413, ...): the client's answer, in the OpenAI shape.
  if (code !== 429 && (code < 500 || code > 599)) {
    const shaped = openAiShape(code, body);
    // APISIX encodes a table body as JSON but leaves nginx's default text/plain (seen on real 3.18.0).
    if (type(shaped) === "table") core.response.set_header("content-type", "application/json");
    return $multi(undefined, code, shaped);
  }
  const decision = decideExhaustion(state.attempts, {
    now_ms: nowMs,
    default_retry_ms: state.conf.default_429_cooldown_ms,
    max_wait_ms: state.conf.max_wait_ms,
    waited_ms: state.waited_ms,
  });
  if (decision.action === "none") return $multi(undefined, code, body);
  if (decision.action === "wait") return $multi(decision.wait_ms);
  const [status, answer] = answerExhaustion(state, decision);
  return $multi(undefined, status, answer);
}
