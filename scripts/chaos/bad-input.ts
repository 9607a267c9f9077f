/**
 * Bad client input, sent while the faults run: each kind is a request the gateway must refuse with a well-formed
 * OpenAI-style JSON error and a fitting status (never an HTML page, never a hang), or — for the clients that leave on
 * purpose — must just log and forget. The stalled reader is the one bad client that is owed a complete answer.
 */
import { DEPLOYMENT } from "./backends.ts";
import type { RawRequest } from "./raw-client.ts";

export const BAD_KINDS = [
  "malformed-json",
  "over-limit",
  "wrong-content-type",
  "unknown-route",
  "missing-key",
  "wrong-key",
  "big-header",
  "disconnect-mid-body",
  "stop-reading",
] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** ai-proxy-multi's max_req_body_size, which the rendered route leaves at its default (3.18: 64 MiB). */
export const BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** A header line longer than nginx's large_client_header_buffers (4 × 8 KiB). */
const BIG_HEADER_BYTES = 16 * 1024;
/** The stalled reader's stream: long enough to fill the socket buffers while it does not read. */
export const STALL_TOKENS = 600;
export const STALL_PAUSE_MS = 6000;
/** A key-shaped value the wrong-key client presents: the gateway must not echo or log it either. */
export const WRONG_KEY = "not-a-client-key-0000000000";

export interface BadPlan {
  request: Omit<RawRequest, "url" | "deadlineMs" | "agent"> & { path: string };
  /** Statuses a refusal may have; empty for the kinds that are owed no answer (or, for stop-reading, a 200). */
  allowed: readonly number[];
  /** The client leaves on purpose: no answer is owed, an access-log line is. */
  abandons: boolean;
  /** A streamed chat with this many tokens is owed a complete answer (stop-reading). */
  streamTokens?: number;
}

const CHAT_PATH = "/openai/v1/chat/completions";

function chat(stream: boolean, maxTokens: number): string {
  return JSON.stringify({ model: DEPLOYMENT, messages: [{ role: "user", content: "Tell me something." }], max_tokens: maxTokens, ...(stream ? { stream: true } : {}) });
}

/** The request of one bad-input kind; `auth` is a valid client credential header, `chaosId` the request's id. */
export function badRequest(kind: BadKind, auth: Record<string, string>, chaosId: string): BadPlan {
  // x-chaos-id first: nginx parses headers in order, so even a request refused for its headers may log it.
  const base = { "x-chaos-id": chaosId, ...auth, "content-type": "application/json" };
  switch (kind) {
    case "malformed-json":
      return { request: { path: CHAT_PATH, headers: base, body: '{"model": "gpt-4o-mini", "messages": [' }, allowed: [400], abandons: false };
    case "over-limit":
      // Content-Length announces one byte over the limit; the first 64 KiB go out, the rest never does.
      return {
        request: { path: CHAT_PATH, headers: base, partial: { bytes: `{"model":"${DEPLOYMENT}","messages":[{"role":"user","content":"${"x".repeat(64 * 1024)}`, declaredLength: BODY_LIMIT_BYTES + 1 } },
        allowed: [413],
        abandons: false,
      };
    case "wrong-content-type":
      return { request: { path: CHAT_PATH, headers: { ...base, "content-type": "text/plain" }, body: chat(false, 4) }, allowed: [400, 415], abandons: false };
    case "unknown-route":
      return { request: { path: "/openai/v1/chat/completion", headers: base, body: chat(false, 4) }, allowed: [404], abandons: false };
    case "missing-key":
      return { request: { path: CHAT_PATH, headers: { "x-chaos-id": chaosId, "content-type": "application/json" }, body: chat(false, 4) }, allowed: [401], abandons: false };
    case "wrong-key":
      return { request: { path: CHAT_PATH, headers: { ...base, ...wrongKey(auth) }, body: chat(false, 4) }, allowed: [401, 403], abandons: false };
    case "big-header":
      return { request: { path: CHAT_PATH, headers: { ...base, "x-padding": "p".repeat(BIG_HEADER_BYTES) }, body: chat(false, 4) }, allowed: [400, 431], abandons: false };
    case "disconnect-mid-body":
      return { request: { path: CHAT_PATH, headers: base, partial: { bytes: '{"model":"gpt-4o-mini","messages":[{"role":', declaredLength: 2048, abandonAfterMs: 200 } }, allowed: [], abandons: true };
    case "stop-reading":
      return { request: { path: CHAT_PATH, headers: base, body: chat(true, STALL_TOKENS), pauseReadingMs: STALL_PAUSE_MS }, allowed: [429, 502, 503, 504], abandons: false, streamTokens: STALL_TOKENS };
  }
}

/** The same credential header with a key no client has. */
function wrongKey(auth: Record<string, string>): Record<string, string> {
  const [name] = Object.keys(auth);
  return name === "authorization" ? { authorization: `Bearer ${WRONG_KEY}` } : { [name ?? "api-key"]: WRONG_KEY };
}
