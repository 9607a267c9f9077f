/**
 * Steps every inference request goes through, in order: api-version, JSON body, deployment, model/operation fit,
 * faults, rate limit. Each step either returns its result or has already answered the client.
 */
import { generationDelayMs, mergeLatency, type DeploymentConf, type LatencyConf } from "../config.ts";
import * as errors from "../errors.ts";
import type { Exchange } from "../exchange.ts";
import { sleep } from "../clock.ts";
import { isEmbeddingModel } from "../generators/common.ts";
import type { Instance } from "../instance.ts";
import { rateLimitCost } from "../limiter.ts";
import type { RouteMatch } from "../router.ts";
import { DEFAULT_RETRY_HEADERS } from "../faults.ts";
import type { FaultSpec, Operation } from "../types.ts";

export interface Prepared {
  dep: DeploymentConf;
  body: Record<string, unknown>;
  stream: boolean;
  /** The request's api-version, or "v1" on the /openai/v1 surface without one. */
  apiVersion: string;
}

/** api-version is required everywhere except the /openai/v1 surface. */
export function apiVersionOf(ex: Exchange, route: RouteMatch, query: URLSearchParams): string | undefined {
  const v = query.get("api-version");
  if (v) return v;
  if (route.surface === "v1") return "v1";
  ex.error(errors.missingApiVersion());
  return undefined;
}

export function parseJsonObject(ex: Exchange, text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    ex.error(errors.badJson((err as Error).message));
    return undefined;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    ex.error(errors.badJson("the body must be a JSON object"));
    return undefined;
  }
  return parsed as Record<string, unknown>;
}

const REQUIRED_FIELD: Record<Operation, string> = { chat: "messages", completions: "prompt", embeddings: "input", responses: "input" };

export function prepareInference(inst: Instance, ex: Exchange, route: RouteMatch, query: URLSearchParams, text: string): Prepared | undefined {
  const op = route.op!;
  const apiVersion = apiVersionOf(ex, route, query);
  if (apiVersion === undefined) return undefined;
  const body = parseJsonObject(ex, text);
  if (!body) return undefined;
  const name = route.deployment ?? (typeof body.model === "string" ? body.model : undefined);
  if (name === undefined) {
    ex.error(errors.missingModel());
    return undefined;
  }
  const dep = inst.conf.deployments.get(name);
  if (!dep) {
    ex.error(errors.deploymentNotFound());
    return undefined;
  }
  inst.stats.deployment(name);
  if (isEmbeddingModel(dep.model) !== (op === "embeddings")) {
    ex.error(errors.operationNotSupported(op, name));
    return undefined;
  }
  if (body[REQUIRED_FIELD[op]] === undefined) {
    ex.error(errors.missingField(REQUIRED_FIELD[op]));
    return undefined;
  }
  return { dep, body, stream: op !== "embeddings" && body.stream === true, apiVersion };
}

/** The retry signals of a 429 fault: `retryAfterMs` (default 1 s) in each form `retryHeaders` asks for. */
export function retryHeaders(fault: FaultSpec): Record<string, string> {
  const ms = fault.retryAfterMs ?? 1000;
  const seconds = String(Math.ceil(ms / 1000));
  const out: Record<string, string> = {};
  for (const name of fault.retryHeaders ?? DEFAULT_RETRY_HEADERS) out[name] = name === "retry-after-ms" ? String(ms) : seconds;
  return out;
}

export type FaultOutcome = { done: true } | { done: false; stream?: FaultSpec };

/** Apply the first matching fault. Stream faults are returned for the stream writer to carry out. */
export async function applyFault(inst: Instance, ex: Exchange, op: Operation, p: Prepared): Promise<FaultOutcome> {
  const fault = inst.faults.take({ deployment: p.dep.name, op, stream: p.stream });
  if (!fault) return { done: false };
  inst.stats.fault();
  switch (fault.kind) {
    case "status": {
      const status = fault.status!;
      const headers: Record<string, string> = {};
      if (status === 429) Object.assign(headers, retryHeaders(fault));
      ex.error(errors.faultReply(status, fault.code, fault.message), headers);
      return { done: true };
    }
    case "reset":
      ex.reset();
      return { done: true };
    case "reset-mid-headers":
      ex.resetMidHeaders();
      return { done: true };
    case "invalid-json":
      ex.invalidJson();
      return { done: true };
    case "hang":
      ex.hang();
      return { done: true };
    case "slow-first-byte":
      await sleep(fault.delayMs ?? 0, inst.abort.signal);
      return ex.closed ? { done: true } : { done: false };
    default:
      return { done: false, stream: fault };
  }
}

/** Rate-limit admission; returns the x-ratelimit-remaining-* headers, or answers 429 and returns undefined. */
export function admit(inst: Instance, ex: Exchange, op: Operation, p: Prepared): Record<string, string> | undefined {
  const cost = rateLimitCost(op, p.body);
  const result = inst.limiters.check(p.dep.name, cost, inst.conf.clock.now());
  if (!result) return {};
  if (result.success) {
    return {
      "x-ratelimit-remaining-tokens": String(result.remainingTokens),
      "x-ratelimit-remaining-requests": String(result.remainingRequests),
      // As Azure sends them: what a gateway's percentage reserve is a share of.
      "x-ratelimit-limit-tokens": String(result.limitTokens),
      "x-ratelimit-limit-requests": String(result.limitRequests),
    };
  }
  const seconds = String(result.retryAfter);
  ex.error(errors.rateLimited(op, p.apiVersion, result.reason, result.retryAfter), {
    "retry-after": seconds,
    "retry-after-ms": String(result.retryAfter * 1000),
    [`x-ratelimit-reset-${result.reason}`]: seconds,
  });
  return undefined;
}

export function latencyFor(inst: Instance, dep: DeploymentConf): LatencyConf {
  return mergeLatency(inst.conf.latency, dep.latency);
}

/** Sleep for the simulated generation time (before the first byte, as upstream). */
export function simulateGeneration(inst: Instance, latency: LatencyConf, op: Operation, completionTokens: number): Promise<void> {
  return sleep(generationDelayMs(latency, op, completionTokens), inst.abort.signal);
}
