/** What a chat/completions/responses generator hands to the handler. */
import type { StreamPlan } from "../sse.ts";

export type StreamFrames = Pick<StreamPlan, "preamble" | "contentCount" | "content" | "trailer" | "errorFrames">;

export interface Generation {
  promptTokens: number;
  completionTokens: number;
  /** The non-streamed 200 body. */
  body(): unknown;
  /** The streamed frames. */
  stream(): StreamFrames;
}

/** Text of an injected in-stream error (FaultSpec code/message/event). */
export interface StreamErrorText {
  code?: string;
  message?: string;
  event?: "error" | "response.failed";
}
