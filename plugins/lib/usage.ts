/**
 * Token usage of the OpenAI-style APIs that APISIX 3.18 handles as plain passthrough (legacy completions):
 * 3.18 extracts none for them (apisix-ai-contract.md §3.4), so ai-rate-limiting would charge nothing.
 * Portable TS (Lua and JS alike).
 */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function count(this: void, value: unknown): number | undefined {
  return typeof value === "number" && value >= 0 ? value : undefined;
}

/** `usage` of a completions body or stream chunk, or undefined when it carries none. */
export function completionsUsage(this: void, body: unknown): TokenUsage | undefined {
  if (typeof body !== "object" || body === undefined || body === null) return undefined;
  const usage = (body as { usage?: unknown }).usage;
  if (typeof usage !== "object" || usage === undefined || usage === null) return undefined;
  const u = usage as { prompt_tokens?: unknown; completion_tokens?: unknown; total_tokens?: unknown };
  const prompt = count(u.prompt_tokens);
  const completion = count(u.completion_tokens) ?? 0;
  if (prompt === undefined) return undefined;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: count(u.total_tokens) ?? prompt + completion };
}

/** Whether a passthrough request is a legacy completions call (…/completions, not …/chat/completions). */
export function isCompletionsPath(this: void, path: string): boolean {
  const n = path.length;
  return n >= 12 && path.slice(n - 12) === "/completions" && !(n >= 17 && path.slice(n - 17) === "/chat/completions");
}
