/**
 * Responses API objects and their event stream (reference aoai-simulator.md §2.13): created, in_progress,
 * output_item.added, content_part.added, N × output_text.delta, output_text.done, content_part.done,
 * output_item.done, completed. No [DONE].
 */
import type { DeploymentConf } from "../config.ts";
import { streamErrorPayload } from "../errors.ts";
import { eventFrame } from "../sse.ts";
import { chatPromptTokens, contentText, countTokens, generateWords } from "../tokens.ts";
import { completionLength, randomId } from "./common.ts";
import type { Generation, StreamErrorText } from "./types.ts";

/** Tokens of `input`: a string, or message items {role, content} counted like chat messages. */
export function responsesInputTokens(body: Record<string, unknown>): number {
  const instructions = typeof body.instructions === "string" ? countTokens(body.instructions) : 0;
  const input = body.input;
  if (typeof input === "string") return instructions + countTokens(input);
  if (Array.isArray(input)) {
    const messages = input.map((item: unknown) =>
      item && typeof item === "object" ? { role: (item as { role?: unknown }).role ?? "user", content: contentText((item as { content?: unknown }).content) } : {},
    );
    return instructions + chatPromptTokens(messages);
  }
  return instructions;
}

export interface ResponsesContext {
  /** Tokens carried over from `previous_response_id` (its input + output). */
  previousTokens: number;
  nowSec: number;
  err?: StreamErrorText;
}

export interface ResponsesGeneration extends Generation {
  id: string;
  /** The object in a given state (in_progress/queued: empty output, no usage; failed: with `error`). */
  snapshot(status: "queued" | "in_progress" | "completed" | "failed" | "cancelled"): Record<string, unknown>;
}

export function generateResponse(body: Record<string, unknown>, dep: DeploymentConf, ctx: ResponsesContext): ResponsesGeneration {
  const id = randomId("resp_");
  const itemId = randomId("msg_");
  const promptTokens = ctx.previousTokens + responsesInputTokens(body);
  const { tokens } = completionLength(body, dep, ["max_output_tokens"]);
  const words = generateWords(tokens, promptTokens);
  const text = words.join("");
  const err = streamErrorPayload(ctx.err?.code, ctx.err?.message);
  const usage = {
    input_tokens: promptTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: promptTokens + tokens,
  };
  const part = (t: string): Record<string, unknown> => ({ type: "output_text", text: t, annotations: [], logprobs: [] });
  const item = (status: string, content: unknown[]): Record<string, unknown> => ({ type: "message", id: itemId, status, role: "assistant", content });
  const snapshot: ResponsesGeneration["snapshot"] = (status) => {
    const done = status === "completed";
    return {
      id,
      object: "response",
      created_at: ctx.nowSec,
      status,
      background: body.background === true,
      error: status === "failed" ? err : null,
      incomplete_details: null,
      instructions: typeof body.instructions === "string" ? body.instructions : null,
      max_output_tokens: typeof body.max_output_tokens === "number" ? body.max_output_tokens : null,
      model: dep.model,
      output: done ? [item("completed", [part(text)])] : [],
      parallel_tool_calls: true,
      previous_response_id: typeof body.previous_response_id === "string" ? body.previous_response_id : null,
      store: body.store !== false,
      temperature: typeof body.temperature === "number" ? body.temperature : 1,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [],
      top_p: typeof body.top_p === "number" ? body.top_p : 1,
      truncation: "disabled",
      usage: done ? usage : null,
      metadata: body.metadata && typeof body.metadata === "object" ? body.metadata : {},
    };
  };
  const ev = (seq: number, type: string, payload: Record<string, unknown>): string => eventFrame(type, { type, sequence_number: seq, ...payload });
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  const preamble = 4;
  return {
    id,
    promptTokens,
    completionTokens: tokens,
    snapshot,
    body: () => snapshot("completed"),
    stream: () => ({
      preamble: [
        ev(0, "response.created", { response: snapshot("in_progress") }),
        ev(1, "response.in_progress", { response: snapshot("in_progress") }),
        ev(2, "response.output_item.added", { output_index: 0, item: item("in_progress", []) }),
        ev(3, "response.content_part.added", { ...at, part: part("") }),
      ],
      contentCount: words.length,
      content: (i) => ev(preamble + i, "response.output_text.delta", { ...at, delta: words[i], logprobs: [] }),
      trailer: () => {
        const n = preamble + words.length;
        return [
          ev(n, "response.output_text.done", { ...at, text, logprobs: [] }),
          ev(n + 1, "response.content_part.done", { ...at, part: part(text) }),
          ev(n + 2, "response.output_item.done", { output_index: 0, item: item("completed", [part(text)]) }),
          ev(n + 3, "response.completed", { response: snapshot("completed") }),
        ];
      },
      errorFrames: (sent) =>
        ctx.err?.event === "error"
          ? [ev(preamble + sent, "error", { code: err.code, message: err.message, param: null })]
          : [ev(preamble + sent, "response.failed", { response: snapshot("failed") })],
    }),
  };
}
