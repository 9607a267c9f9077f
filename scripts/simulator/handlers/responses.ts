/**
 * Responses API: create (plain, streamed, background), GET, DELETE, cancel and input_items of stored responses, and
 * `previous_response_id` (not held by this instance → 400 `previous_response_not_found`, as Azure answers). Objects
 * live in the instance's bounded store unless `store: false`: only the instance that created a response holds it, so
 * every other instance answers as another Azure resource would.
 */
import * as errors from "../errors.ts";
import type { Exchange } from "../exchange.ts";
import { generationDelayMs } from "../config.ts";
import { generateResponse } from "../generators/responses.ts";
import type { Instance } from "../instance.ts";
import type { RouteMatch } from "../router.ts";
import { randomId } from "../generators/common.ts";
import type { StoredResponse } from "../responses-store.ts";
import { runStream } from "../sse.ts";
import { admit, apiVersionOf, applyFault, latencyFor, prepareInference, simulateGeneration } from "./pipeline.ts";

function previousTokens(inst: Instance, ex: Exchange, body: Record<string, unknown>): number | undefined {
  const prev = body.previous_response_id;
  if (prev === undefined || prev === null) return 0;
  const stored = typeof prev === "string" ? inst.responses.get(prev) : undefined;
  if (!stored) {
    ex.error(errors.previousResponseNotFound(String(prev)));
    return undefined;
  }
  const usage = stored.body.usage as { total_tokens?: number } | null;
  return usage?.total_tokens ?? 0;
}

export async function createResponse(inst: Instance, ex: Exchange, route: RouteMatch, query: URLSearchParams, text: string): Promise<void> {
  const p = prepareInference(inst, ex, route, query, text);
  if (!p) return;
  // Faults first: an injected error (e.g. 400 invalid_encrypted_content) applies whatever the previous response.
  const fault = await applyFault(inst, ex, "responses", p);
  if (fault.done) return;
  const carried = previousTokens(inst, ex, p.body);
  if (carried === undefined) return;
  const headers = admit(inst, ex, "responses", p);
  if (!headers) return;
  const latency = latencyFor(inst, p.dep);
  const gen = generateResponse(p.body, p.dep, {
    previousTokens: carried,
    nowSec: Math.floor(inst.conf.clock.now() / 1000),
    err: fault.stream,
  });
  inst.stats.tokens(gen.promptTokens, gen.completionTokens);
  const store = p.body.store !== false;
  const inputItems = asInputItems(p.body.input);
  const save = (status: Parameters<typeof gen.snapshot>[0], background = false): void => {
    if (store) inst.responses.put(gen.id, { body: gen.snapshot(status), background, inputItems });
  };

  if (p.body.background === true && !p.stream) {
    save("in_progress", true);
    const stored = inst.responses.get(gen.id);
    if (stored) {
      stored.timer = setTimeout(() => {
        stored.timer = undefined;
        if (stored.body.status === "in_progress") stored.body = gen.snapshot("completed");
      }, generationDelayMs(latency, "responses", gen.completionTokens));
      stored.timer.unref();
    }
    ex.json(200, gen.snapshot("in_progress"), headers);
    return;
  }

  await simulateGeneration(inst, latency, "responses", gen.completionTokens);
  if (!p.stream) {
    save("completed");
    ex.json(200, gen.body(), headers);
    return;
  }
  inst.stats.streamed();
  save("in_progress");
  const s = fault.stream;
  const streamFault = s && (s.kind === "stream-cut" || s.kind === "stream-error") ? { kind: s.kind, afterChunks: s.afterChunks ?? 0 } : undefined;
  await runStream(ex, { ...gen.stream(), intervalMs: latency.streamIntervalMs, headers, fault: streamFault });
  save(streamFault ? "failed" : "completed");
}

/** The request's `input` as the items GET …/input_items lists: a string is one user message; items get ids. */
function asInputItems(input: unknown): Record<string, unknown>[] {
  if (typeof input === "string") {
    return [{ id: randomId("msg_"), type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: input }] }];
  }
  if (!Array.isArray(input)) return [];
  return input
    .filter((item): item is Record<string, unknown> => item !== null && typeof item === "object")
    .map((item) => ({ type: "message", ...item, id: typeof item.id === "string" ? item.id : randomId("msg_") }));
}

/** GET …/input_items: Azure's list shape, newest first unless `order=asc`; `limit` (default 20, 1–100). */
function inputItemsList(stored: StoredResponse, query: URLSearchParams): Record<string, unknown> {
  const items = [...(stored.inputItems ?? [])];
  if (query.get("order") !== "asc") items.reverse();
  const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 20) || 20));
  const data = items.slice(0, limit);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: items.length > data.length,
  };
}

/** GET, DELETE, cancel and input_items of a stored response. */
export function manageResponse(inst: Instance, ex: Exchange, route: RouteMatch, query: URLSearchParams): void {
  if (apiVersionOf(ex, route, query) === undefined) return;
  const id = route.responseId!;
  const stored = inst.responses.get(id);
  if (!stored) {
    ex.error(errors.responseNotFound(id));
    return;
  }
  if (route.kind === "responses.get") {
    ex.json(200, stored.body);
  } else if (route.kind === "responses.input_items") {
    ex.json(200, inputItemsList(stored, query));
  } else if (route.kind === "responses.delete") {
    inst.responses.delete(id);
    ex.json(200, { id, object: "response", deleted: true });
  } else if (!stored.background) {
    ex.error(errors.notCancellable());
  } else {
    if (stored.body.status === "in_progress" || stored.body.status === "queued") {
      if (stored.timer) clearTimeout(stored.timer);
      stored.timer = undefined;
      stored.body = { ...stored.body, status: "cancelled" };
    }
    ex.json(200, stored.body);
  }
}
