/** POST chat/completions, completions and embeddings, on both the deployments and the v1 surface. */
import type { Exchange } from "../exchange.ts";
import { generateChat } from "../generators/chat.ts";
import { generateCompletion } from "../generators/completions.ts";
import { generateEmbeddings } from "../generators/embeddings.ts";
import type { Instance } from "../instance.ts";
import type { RouteMatch } from "../router.ts";
import { runStream } from "../sse.ts";
import { admit, applyFault, latencyFor, prepareInference, simulateGeneration } from "./pipeline.ts";

export async function handleInference(inst: Instance, ex: Exchange, route: RouteMatch, query: URLSearchParams, text: string): Promise<void> {
  const op = route.op!;
  const p = prepareInference(inst, ex, route, query, text);
  if (!p) return;
  const fault = await applyFault(inst, ex, op, p);
  if (fault.done) return;
  const headers = admit(inst, ex, op, p);
  if (!headers) return;
  const latency = latencyFor(inst, p.dep);
  const nowSec = Math.floor(inst.conf.clock.now() / 1000);

  if (op === "embeddings") {
    const gen = generateEmbeddings(p.body, p.dep);
    inst.stats.tokens(gen.promptTokens, 0);
    await simulateGeneration(inst, latency, op, 0);
    ex.json(200, gen.body, headers);
    return;
  }

  const err = fault.stream ?? {};
  const gen = op === "chat" ? generateChat(p.body, p.dep, nowSec, err) : generateCompletion(p.body, p.dep, nowSec, err);
  inst.stats.tokens(gen.promptTokens, gen.completionTokens);
  await simulateGeneration(inst, latency, op, gen.completionTokens);
  if (!p.stream) {
    ex.json(200, gen.body(), headers);
    return;
  }
  inst.stats.streamed();
  const s = fault.stream;
  await runStream(ex, {
    ...gen.stream(),
    intervalMs: latency.streamIntervalMs,
    headers,
    fault: s && (s.kind === "stream-cut" || s.kind === "stream-error") ? { kind: s.kind, afterChunks: s.afterChunks ?? 0 } : undefined,
  });
}
