/** Legacy completions (text_completion), streamed or not. */
import type { DeploymentConf } from "../config.ts";
import { streamErrorPayload } from "../errors.ts";
import { DONE_FRAME, dataFrame } from "../sse.ts";
import { generateWords, inputTokens } from "../tokens.ts";
import { CONTENT_FILTER_RESULTS, PROMPT_FILTER_RESULTS, completionLength, randomId } from "./common.ts";
import type { Generation, StreamErrorText } from "./types.ts";

export function generateCompletion(body: Record<string, unknown>, dep: DeploymentConf, nowSec: number, err: StreamErrorText = {}): Generation {
  const promptTokens = inputTokens(body.prompt);
  const { tokens, finishReason } = completionLength(body, dep, ["max_tokens"]);
  const words = generateWords(tokens, promptTokens);
  const id = randomId("cmpl-");
  const usage = { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens };
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    object: "text_completion",
    created: nowSec,
    model: dep.model,
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  return {
    promptTokens,
    completionTokens: tokens,
    body: () => ({
      id,
      object: "text_completion",
      created: nowSec,
      model: dep.model,
      prompt_filter_results: PROMPT_FILTER_RESULTS,
      choices: [{ text: words.join(""), index: 0, finish_reason: finishReason, logprobs: null, content_filter_results: CONTENT_FILTER_RESULTS }],
      usage,
    }),
    stream: () => ({
      preamble: [dataFrame(chunk([], { prompt_filter_results: PROMPT_FILTER_RESULTS }))],
      contentCount: words.length,
      content: (i) => dataFrame(chunk([{ text: words[i], index: 0, logprobs: null, finish_reason: null }])),
      trailer: () => [
        dataFrame(chunk([{ text: "", index: 0, logprobs: null, finish_reason: finishReason }])),
        ...(includeUsage ? [dataFrame(chunk([], { usage }))] : []),
        DONE_FRAME,
      ],
      errorFrames: () => [dataFrame({ error: { ...streamErrorPayload(err.code, err.message), param: null, type: "server_error" } })],
    }),
  };
}
