/** Chat completions: the Azure body, and the chunk stream (same id on every chunk, `finish_reason` on the choice). */
import type { DeploymentConf } from "../config.ts";
import { streamErrorPayload } from "../errors.ts";
import { DONE_FRAME, dataFrame } from "../sse.ts";
import { chatPromptTokens, generateWords } from "../tokens.ts";
import { CONTENT_FILTER_RESULTS, PROMPT_FILTER_RESULTS, chatUsage, completionLength, randomId } from "./common.ts";
import type { Generation, StreamErrorText } from "./types.ts";

export function generateChat(body: Record<string, unknown>, dep: DeploymentConf, nowSec: number, err: StreamErrorText = {}): Generation {
  const promptTokens = chatPromptTokens(body.messages);
  const { tokens, finishReason } = completionLength(body, dep, ["max_tokens", "max_completion_tokens"]);
  const words = generateWords(tokens, promptTokens);
  const id = randomId("chatcmpl-");
  const usage = chatUsage(promptTokens, tokens);
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    object: "chat.completion.chunk",
    created: nowSec,
    model: dep.model,
    system_fingerprint: null,
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  return {
    promptTokens,
    completionTokens: tokens,
    body: () => ({
      id,
      object: "chat.completion",
      created: nowSec,
      model: dep.model,
      system_fingerprint: null,
      prompt_filter_results: PROMPT_FILTER_RESULTS,
      choices: [
        {
          index: 0,
          finish_reason: finishReason,
          logprobs: null,
          message: { role: "assistant", content: words.join(""), refusal: null },
          content_filter_results: CONTENT_FILTER_RESULTS,
        },
      ],
      usage,
    }),
    stream: () => ({
      // Azure opens with the prompt-filter chunk (no choices), then the role chunk.
      preamble: [
        dataFrame(chunk([], { prompt_filter_results: PROMPT_FILTER_RESULTS })),
        dataFrame(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }])),
      ],
      contentCount: words.length,
      content: (i) =>
        dataFrame(
          chunk([{ index: 0, delta: { content: words[i] }, finish_reason: null, logprobs: null, content_filter_results: CONTENT_FILTER_RESULTS }]),
        ),
      trailer: () => [
        dataFrame(chunk([{ index: 0, delta: {}, finish_reason: finishReason, logprobs: null }])),
        ...(includeUsage ? [dataFrame(chunk([], { usage }))] : []),
        DONE_FRAME,
      ],
      errorFrames: () => [dataFrame({ error: { ...streamErrorPayload(err.code, err.message), param: null, type: "server_error" } })],
    }),
  };
}
