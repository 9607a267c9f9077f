/**
 * The official `openai` SDK side of the load, with maxRetries 0 (a retry would hide what the gateway answered):
 * its OpenAI client on /openai/v1 and its AzureOpenAI client on the deployments path. The SDK parses for us, so its
 * verdicts rest on what it hands back: the completion or the chunks, or the APIError with its status, body and
 * headers. Raw clients (raw-client.ts) see every byte; these prove the SDK itself gets through every fault.
 */
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError, AzureOpenAI } from "openai";
import { DEPLOYMENT } from "./backends.ts";
import { addChunk, FAILOVER_STATUSES, isCompletion, judgeError, judgeStream, newStreamFacts, type Verdict } from "./verdict.ts";

export const API_VERSION = "2024-10-21";

export type SdkFlavour = "openai" | "azure";

export function sdkClient(flavour: SdkFlavour, gatewayUrl: string, key: string, timeoutMs: number): OpenAI {
  if (flavour === "openai") return new OpenAI({ baseURL: `${gatewayUrl}/openai/v1`, apiKey: key, maxRetries: 0, timeout: timeoutMs });
  return new AzureOpenAI({ endpoint: gatewayUrl, apiKey: key, apiVersion: API_VERSION, deployment: DEPLOYMENT, maxRetries: 0, timeout: timeoutMs });
}

export interface SdkOutcome {
  verdict: Verdict;
  /** Texts a secret must never appear in: headers, error bodies and messages. */
  exposed: string[];
  backend?: string;
  /** When the response (or its error) arrived. */
  answeredAt?: number;
  /** The answer's headers (none when the SDK threw before any). */
  headers?: Record<string, string>;
}

function headerRecord(h: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  h?.forEach((v, k) => (out[k] = v));
  return out;
}

function fromError(err: unknown): SdkOutcome {
  if (err instanceof APIConnectionTimeoutError || err instanceof APIUserAbortError) return { verdict: { kind: "miss", reason: "hang", detail: "the SDK timed out" }, exposed: [] };
  if (err instanceof APIError && err.status !== undefined) {
    const headers = headerRecord(err.headers);
    // The SDK keeps the JSON error object, or (body not JSON) the raw text in the message.
    const body = err.error !== undefined ? JSON.stringify({ error: err.error }) : err.message.replace(/^\d+ /, "");
    return { verdict: judgeError(err.status, headers["content-type"], body, headers, FAILOVER_STATUSES), exposed: [body, JSON.stringify(headers)] };
  }
  if (err instanceof APIError) {
    // Thrown from a stream's error event: handled by the caller, which knows whether content came first.
    return { verdict: { kind: "miss", reason: "no-answer", detail: err.message }, exposed: [err.message] };
  }
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const reason = /JSON|Unexpected token|SyntaxError/.test(text) ? "invalid-answer" : "no-answer";
  return { verdict: { kind: "miss", reason, detail: `SDK: ${text}` }, exposed: [text] };
}

/** The SDK's own timeout ends at the response headers; this signal bounds the whole exchange, body included. */
function options(chaosId: string, deadlineMs: number): { headers: Record<string, string>; signal: AbortSignal } {
  return { headers: { "x-chaos-id": chaosId }, signal: AbortSignal.timeout(deadlineMs) };
}

export async function sdkChat(client: OpenAI, maxTokens: number, chaosId: string, content: string, deadlineMs: number): Promise<SdkOutcome> {
  const body = { model: DEPLOYMENT, messages: [{ role: "user" as const, content }], max_tokens: maxTokens };
  try {
    const { data, response } = await client.chat.completions.create(body, options(chaosId, deadlineMs)).withResponse();
    const answeredAt = Date.now();
    const headers = headerRecord(response.headers);
    const backend = headers["x-gw-backend"];
    const exposed = [JSON.stringify(headers)];
    if (!isCompletion(data, maxTokens)) return { verdict: { kind: "miss", reason: "invalid-answer", detail: `SDK: ${JSON.stringify(data).slice(0, 200)}` }, exposed };
    return { verdict: { kind: "answer", ...(backend !== undefined ? { backend } : {}) }, exposed, answeredAt, headers, ...(backend !== undefined ? { backend } : {}) };
  } catch (err) {
    return { ...fromError(err), answeredAt: Date.now() };
  }
}

export async function sdkStream(client: OpenAI, maxTokens: number, chaosId: string, content: string, deadlineMs: number): Promise<SdkOutcome> {
  const body = { model: DEPLOYMENT, messages: [{ role: "user" as const, content }], max_tokens: maxTokens, stream: true as const };
  let headers: Record<string, string> = {};
  const facts = newStreamFacts();
  let transportError: string | undefined;
  let answeredAt: number | undefined;
  try {
    const { data: stream, response } = await client.chat.completions.create(body, options(chaosId, deadlineMs)).withResponse();
    headers = headerRecord(response.headers);
    answeredAt = Date.now();
    // The SDK reads any 200 body as SSE; one that is not an event stream yields nothing (and looks cut).
    if (!(headers["content-type"] ?? "").includes("text/event-stream")) facts.broken = `200 ${headers["content-type"] ?? "(no content-type)"} to a stream request`;
    for await (const chunk of stream) addChunk(facts, chunk);
    // The SDK swallows [DONE]; a stream it ended without error and with the finish chunk counts as done.
    facts.done = facts.finished;
  } catch (err) {
    if (err instanceof APIUserAbortError) {
      return { verdict: { kind: "miss", reason: "hang", detail: `stream still open at the deadline after ${facts.contentEvents} content events` }, exposed: [] };
    } else if (err instanceof APIError && err.status === undefined && err.error !== undefined) {
      addChunk(facts, { error: err.error });
    } else if (Object.keys(headers).length === 0) {
      return { ...fromError(err), answeredAt: Date.now() };
    } else if (err instanceof SyntaxError) {
      facts.broken ??= `SDK: ${err.message}`;
    } else {
      transportError = `SDK: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const backend = headers["x-gw-backend"];
  const exposed = [JSON.stringify(headers), ...(facts.error !== undefined ? [JSON.stringify(facts.error)] : [])];
  return { verdict: judgeStream(facts, maxTokens, backend, transportError), exposed, headers, ...(answeredAt !== undefined ? { answeredAt } : {}), ...(backend !== undefined ? { backend } : {}) };
}
