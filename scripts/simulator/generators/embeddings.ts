/** Embeddings: one random unit vector per input, as floats or (the openai SDK's default) base64 float32. */
import type { DeploymentConf } from "../config.ts";
import { inputTokens } from "../tokens.ts";

function inputCount(input: unknown): number {
  if (!Array.isArray(input)) return 1;
  if (input.length > 0 && input.every((x) => typeof x === "number")) return 1;
  return input.length;
}

function unitVector(size: number): Float32Array {
  const v = new Float32Array(size);
  let norm = 0;
  for (let i = 0; i < size; i++) {
    const x = Math.random() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < size; i++) v[i]! *= scale;
  return v;
}

export function generateEmbeddings(body: Record<string, unknown>, dep: DeploymentConf): { promptTokens: number; body: unknown } {
  // Only text-embedding-3-* models honour `dimensions` (as the upstream catalogue).
  const dims = body.dimensions;
  const size = /text-embedding-3/.test(dep.model) && typeof dims === "number" && dims > 0 ? Math.floor(dims) : dep.embeddingSize;
  const base64 = body.encoding_format === "base64";
  const promptTokens = inputTokens(body.input);
  const data = [];
  for (let index = 0; index < inputCount(body.input); index++) {
    const v = unitVector(size);
    const embedding = base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v);
    data.push({ object: "embedding", index, embedding });
  }
  return {
    promptTokens,
    body: { object: "list", data, model: dep.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
  };
}
