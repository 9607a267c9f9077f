/** Pieces shared by the generators: ids, content-filter annotations, completion length, usage. */
import { randomBytes } from "node:crypto";
import type { DeploymentConf } from "../config.ts";

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
/** Ids are a prefix and 29 characters of a nanoid-like alphabet, as the upstream simulator and Azure use. */
const ID_LENGTH = 29;
/** Upper bound of generated text, so a huge max_tokens cannot exhaust memory. */
const MAX_GENERATED_TOKENS = 32_768;

export function randomId(prefix: string): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = prefix;
  for (const b of bytes) id += ID_ALPHABET[b & 63];
  return id;
}

const SAFE = { filtered: false, severity: "safe" };
export const CONTENT_FILTER_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
export const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: CONTENT_FILTER_RESULTS }];

function positive(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : undefined;
}

/** Completion tokens to generate, and the finish reason: "length" when a max was set, "stop" otherwise. */
export function completionLength(
  body: Record<string, unknown>,
  dep: DeploymentConf,
  keys: string[],
): { tokens: number; finishReason: "length" | "stop" } {
  for (const key of keys) {
    const max = positive(body[key]);
    if (max !== undefined) return { tokens: Math.min(max, MAX_GENERATED_TOKENS), finishReason: "length" };
  }
  return { tokens: dep.defaultMaxTokens, finishReason: "stop" };
}

export function chatUsage(prompt: number, completion: number): Record<string, unknown> {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

/** Embedding models take only the embeddings operation; every other model takes everything else. */
export function isEmbeddingModel(model: string): boolean {
  return model.toLowerCase().includes("embedding");
}
