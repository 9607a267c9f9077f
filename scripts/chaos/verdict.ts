/**
 * What one client request ended with, judged from what the client saw (pure). A request ends well with a complete,
 * valid answer, a well-formed OpenAI/Azure-style JSON error with a status that fits the request, or — once a stream
 * has delivered content — an SSE `error` event. Anything else is a miss, with the reason:
 *
 *   html            an HTML page (nginx's own error pages)
 *   malformed-error an error status whose body is not {"error":{"message", "code" or "type"}} as application/json
 *   bad-status      a status that does not fit the request (e.g. 500 for a chat while backends are healthy)
 *   no-retry-after  a 429 without a usable Retry-After
 *   invalid-answer  a 200 that is not a valid chat completion / chunk stream (bad JSON, wrong length)
 *   spliced         a stream with more than one completion id or preamble: two backends' output in one answer
 *   wrong-backend   x-gw-backend names another backend than the simulator whose answer it is (x-sim-instance)
 *   sse-error-early an error event before any content (the gateway must fail over or answer an HTTP error then)
 *   cut             a stream that ended with neither [DONE] nor an error event
 *   no-answer       the connection ended without a response
 *   hang            no end within the deadline the configured timeouts allow
 */
import { takeEvents } from "../bench/stream-client.ts";

export type MissReason =
  | "html"
  | "malformed-error"
  | "bad-status"
  | "no-retry-after"
  | "invalid-answer"
  | "spliced"
  | "wrong-backend"
  | "sse-error-early"
  | "cut"
  | "no-answer"
  | "hang";

export type Verdict =
  | { kind: "answer"; backend?: string }
  /** On a 429: Retry-After (whole seconds), and retry-after-ms when the answer carries it. */
  | { kind: "error"; status: number; retryAfterS?: number; retryAfterMs?: number }
  | { kind: "sse-error"; backend?: string }
  /** The client gave up on purpose (a bad-input client); no answer is owed, a log line is. */
  | { kind: "abandoned" }
  | { kind: "miss"; reason: MissReason; detail: string; status?: number };

/** What a raw client saw of one response. Header names are lower-case. */
export interface Seen {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The transport ended badly (reset, aborted mid-body); undefined when the response ended normally. */
  transportError?: string;
  timedOut: boolean;
}

/** The statuses an answer to this request may have, besides 200 (good requests: what failover may leave). */
export const FAILOVER_STATUSES: readonly number[] = [429, 502, 503, 504];

function miss(reason: MissReason, detail: string, status?: number): Verdict {
  return { kind: "miss", reason, detail: detail.slice(0, 300), ...(status !== undefined ? { status } : {}) };
}

export function looksLikeHtml(contentType: string | undefined, body: string): boolean {
  return (contentType ?? "").includes("text/html") || /^\s*<(!doctype|html|head|body)/i.test(body);
}

type Json = Record<string, unknown>;

function parseObject(text: string): Json | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** {"error": {"message": string, and a code or a type}}: the shape OpenAI and Azure both answer errors with. */
export function isErrorShape(body: unknown): boolean {
  const error = (body as { error?: unknown } | undefined)?.error as Json | undefined;
  if (error === undefined || error === null || typeof error !== "object") return false;
  return typeof error.message === "string" && error.message !== "" && (typeof error.code === "string" || typeof error.type === "string");
}

/** An error answer (status ≥ 400): shape, content type, fitting status, Retry-After on a 429. */
export function judgeError(status: number, contentType: string | undefined, body: string, headers: Record<string, string>, allowed: readonly number[]): Verdict {
  if (looksLikeHtml(contentType, body)) return miss("html", `${status} ${contentType ?? ""}: ${body}`, status);
  const parsed = parseObject(body);
  const jsonType = contentType === undefined || contentType.includes("application/json");
  if (!jsonType || !isErrorShape(parsed)) return miss("malformed-error", `${status} ${contentType ?? "(no content-type)"}: ${body}`, status);
  if (!allowed.includes(status)) return miss("bad-status", `${status}: ${body}`, status);
  if (status === 429) {
    // Whole seconds, at least 1 (an HTTP date would do for HTTP, but no OpenAI client reads one).
    const seconds = (headers["retry-after"] ?? "").trim();
    if (!/^\d+$/.test(seconds) || Number(seconds) < 1) return miss("no-retry-after", `429 with retry-after ${headers["retry-after"] ?? "absent"}: ${body}`, status);
    const ms = (headers["retry-after-ms"] ?? "").trim();
    return { kind: "error", status, retryAfterS: Number(seconds), ...(/^\d+(\.\d+)?$/.test(ms) ? { retryAfterMs: Number(ms) } : {}) };
  }
  return { kind: "error", status };
}

/** A chat completion body as the simulator writes it: one message with content, usage with the asked length. */
export function isCompletion(body: unknown, maxTokens: number): boolean {
  const b = body as { object?: unknown; id?: unknown; choices?: { message?: { content?: unknown } }[]; usage?: { completion_tokens?: unknown } } | undefined;
  const content = b?.choices?.[0]?.message?.content;
  return b?.object === "chat.completion" && typeof b.id === "string" && typeof content === "string" && content !== "" && b.usage?.completion_tokens === maxTokens;
}

export interface StreamFacts {
  ids: Set<string>;
  promptFilterChunks: number;
  roleChunks: number;
  contentEvents: number;
  finished: boolean;
  done: boolean;
  /** The payload of an error event ({"error": …} data, or an `error` event), if the stream carried one. */
  error?: unknown;
  /** Something after the error event, or data that is not JSON. */
  broken?: string;
}

export function newStreamFacts(): StreamFacts {
  return { ids: new Set(), promptFilterChunks: 0, roleChunks: 0, contentEvents: 0, finished: false, done: false };
}

/** Adds one parsed chunk (raw clients parse SSE data, the SDK hands over objects) to the facts. */
export function addChunk(f: StreamFacts, chunk: unknown): void {
  if (f.error !== undefined || f.done) {
    f.broken ??= "data after the end of the stream";
    return;
  }
  const c = chunk as { id?: unknown; error?: unknown; prompt_filter_results?: unknown; choices?: { delta?: { role?: unknown; content?: unknown }; finish_reason?: unknown }[] };
  if (c === null || typeof c !== "object") {
    f.broken ??= "a chunk that is not an object";
    return;
  }
  if (c.error !== undefined) {
    f.error = chunk;
    return;
  }
  if (typeof c.id === "string") f.ids.add(c.id);
  if (c.prompt_filter_results !== undefined) f.promptFilterChunks++;
  const choice = c.choices?.[0];
  if (choice?.delta?.role !== undefined) f.roleChunks++;
  if (typeof choice?.delta?.content === "string" && choice.delta.content !== "") f.contentEvents++;
  if (typeof choice?.finish_reason === "string") f.finished = true;
}

/** Parses a raw SSE body (chat chunks) into facts. */
export function streamFactsOf(body: string): StreamFacts {
  const f = newStreamFacts();
  const { data } = takeEvents(body.endsWith("\n\n") ? body : `${body}\n\n`);
  for (const d of data) {
    if (d === "[DONE]") {
      if (f.error !== undefined) f.broken ??= "[DONE] after an error event";
      f.done = true;
      continue;
    }
    const parsed = parseObject(d);
    if (parsed === undefined) {
      f.broken ??= `data that is not JSON: ${d.slice(0, 80)}`;
      continue;
    }
    addChunk(f, parsed);
  }
  return f;
}

/** A stream's verdict from its facts: complete, committed-then-error, or a miss. */
export function judgeStream(f: StreamFacts, maxTokens: number, backend: string | undefined, transportError: string | undefined): Verdict {
  if (f.ids.size > 1 || f.promptFilterChunks > 1 || f.roleChunks > 1) {
    return miss("spliced", `${f.ids.size} completion ids, ${f.promptFilterChunks} prompt-filter and ${f.roleChunks} role chunks in one stream`);
  }
  if (f.broken !== undefined) return miss("invalid-answer", `stream: ${f.broken}`);
  if (f.error !== undefined) {
    if (!isErrorShape(f.error)) return miss("malformed-error", `error event ${JSON.stringify(f.error)}`);
    if (f.contentEvents === 0) return miss("sse-error-early", `error event before any content: ${JSON.stringify(f.error)}`);
    return { kind: "sse-error", ...(backend !== undefined ? { backend } : {}) };
  }
  if (f.done && f.finished && f.contentEvents === maxTokens) return { kind: "answer", ...(backend !== undefined ? { backend } : {}) };
  if (f.done) return miss("invalid-answer", `stream done with ${f.contentEvents}/${maxTokens} content events${f.finished ? "" : ", no finish chunk"}`);
  return miss("cut", `stream ended after ${f.contentEvents} content events with neither [DONE] nor an error event${transportError ? ` (${transportError})` : ""}`);
}

/** A raw client's chat request (streamed or not), with the statuses its answer may have. */
export function judgeChat(seen: Seen, stream: boolean, maxTokens: number, allowed: readonly number[] = FAILOVER_STATUSES): Verdict {
  if (seen.timedOut) return miss("hang", `no end within the deadline (status ${seen.status || "none"})`, seen.status || undefined);
  if (seen.status === 0) return miss("no-answer", seen.transportError ?? "the connection closed without a response");
  const ct = seen.headers["content-type"];
  const backend = seen.headers["x-gw-backend"];
  if (seen.status >= 400) {
    if (seen.transportError !== undefined) return miss("cut", `${seen.status} body cut: ${seen.transportError}`, seen.status);
    return judgeError(seen.status, ct, seen.body, seen.headers, allowed);
  }
  if (seen.status !== 200) return miss("bad-status", `${seen.status}: ${seen.body}`, seen.status);
  if (looksLikeHtml(ct, seen.body)) return miss("html", `200 ${ct}: ${seen.body}`, 200);
  if (stream) {
    if (!(ct ?? "").includes("text/event-stream")) return miss("invalid-answer", `200 ${ct ?? "(no content-type)"} to a stream request: ${seen.body}`, 200);
    return judgeStream(streamFactsOf(seen.body), maxTokens, backend, seen.transportError);
  }
  if (seen.transportError !== undefined) return miss("cut", `200 body cut: ${seen.transportError}`, 200);
  if (!isCompletion(parseObject(seen.body), maxTokens)) return miss("invalid-answer", `200 ${ct ?? ""}: ${seen.body}`, 200);
  return { kind: "answer", ...(backend !== undefined ? { backend } : {}) };
}

/**
 * The simulator marks its output twice: the `x-sim-instance` header (relayed by the gateway) and one completion id
 * per answer (judgeStream). The gateway's `x-gw-backend` must name the same backend; `simulatorOf` maps a backend
 * name as configured to its simulator's name.
 */
export function checkBackendLabel(v: Verdict, headers: Record<string, string>, simulatorOf: (backend: string) => string | undefined): Verdict {
  if (v.kind !== "answer" && v.kind !== "sse-error") return v;
  const gw = headers["x-gw-backend"];
  const sim = headers["x-sim-instance"];
  if (gw === undefined || sim === undefined || simulatorOf(gw) === sim) return v;
  return miss("wrong-backend", `x-gw-backend ${gw} on an answer from simulator ${sim}`);
}

/** Where in `texts` any of `secrets` occurs (the secret itself is never returned: only which one, by label). */
export function secretsIn(texts: readonly string[], secrets: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [label, value] of secrets) if (texts.some((t) => t.includes(value))) found.push(label);
  return found;
}
