/**
 * Decides when an upstream SSE stream may be committed to the client (Lua only: hot path, per chunk).
 *
 * Azure opens streams with a preamble that carries no answer: a chat chunk with `prompt_filter_results` and
 * empty `choices`, a role-only delta with empty content, filter annotations; Responses sends
 * `response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`.
 * While only preamble has arrived nothing has reached the client, so a failure can still go to another
 * backend. The gate holds the raw bytes until the first event that carries content, then releases them
 * byte-for-byte (never re-encoded) and passes everything after that through without parsing.
 *
 *   feed(gate, chunk) →
 *     "hold"                      nothing to send yet
 *     "commit", bytes             send bytes (everything received so far, unchanged); the stream is committed
 *     "pass", chunk, error_seen   committed: send chunk; error_seen = it looks like it carries an error event
 *     "fail", StreamError         an error event arrived before any content: fail over (or release() and relay
 *                                 it when outcome.classifyStreamError says it is the request's fault); later
 *                                 feeds keep returning "fail" and keep the bytes for release()
 *   release(gate) → the held bytes, and the gate passes from then on (end of stream while holding; relaying).
 *
 * What commits: chat delta.content / refusal / reasoning_content non-empty, tool_calls or function_call, a
 * finish_reason, legacy choices[].text, a usage chunk, `[DONE]`; any Responses event not in HELD_TYPES; any
 * data that is not JSON or not a shape we know (never hold what we do not understand); and the cap: more
 * than `cap` bytes held commits whatever they are.
 * Framing: events end at an empty line; lines end at LF with an optional CR before it, so \n\n, \r\n\r\n and
 * mixes work at any chunk split. Lines starting with ":" are comments. A leading UTF-8 BOM is ignored.
 * Not supported: lines ended by a bare CR (no LF); such a stream commits by the cap.
 */
import * as cjson from "cjson.safe";

const find = string.find;
const sub = string.sub;
const byte = string.byte;
const decode = cjson.decode;

const LF = "\n";
const CR = 13;
const COLON = 58;
const BOM = "\u{FEFF}";

/** Held bytes before the gate commits anyway: far more than any preamble, small enough to sit in memory. */
export const DEFAULT_CAP = 256 * 1024;

/** Responses events that come before any output. */
const HELD_TYPES: { [type: string]: true | undefined } = {
  "response.created": true,
  "response.in_progress": true,
  "response.queued": true,
  "response.output_item.added": true,
  "response.content_part.added": true,
  "response.reasoning_summary_part.added": true,
};

export interface StreamError {
  /** "error" (chat `data: {"error":...}` or Responses `event: error`) or "response.failed". */
  event: string;
  code?: string;
  message?: string;
  type?: string;
  /** The event's data, as received. */
  data: string;
}

type GateState = "holding" | "committed" | "failed";

export interface SseGate {
  state: GateState;
  cap: number;
  /** Raw chunks held so far, in order. */
  parts: string[];
  held: number;
  /** Chunks since the last LF: the line being received. */
  pending: string[];
  /** Field state of the event being parsed. */
  event: string | undefined;
  data: string[];
  first_line: boolean;
  /** Why it committed: "content", "done", "unknown", "cap" or "released". */
  reason?: string;
  error?: StreamError;
}

type Verdict = "hold" | "commit" | "fail";

export function newGate(this: void, cap?: number): SseGate {
  return {
    state: "holding",
    cap: cap !== undefined && cap > 0 ? cap : DEFAULT_CAP,
    parts: [],
    held: 0,
    pending: [],
    event: undefined,
    data: [],
    first_line: true,
  };
}

function isTable(this: void, v: unknown): v is JsonObject {
  return type(v) === "table";
}

/** Same test as isTable: cjson gives arrays and objects alike as tables; the caller knows which it expects. */
function isList(this: void, v: unknown): v is JsonArray {
  return type(v) === "table";
}

function nonEmptyString(this: void, v: JsonValue | undefined): boolean {
  return typeof v === "string" && v !== "";
}

function asText(this: void, v: JsonValue | undefined): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number") return v === Math.floor(v) ? string.format("%d", v) : tostring(v);
  return undefined;
}

function choiceHasContent(this: void, choice: JsonValue | undefined): boolean {
  if (!isTable(choice)) return false;
  if (typeof choice.finish_reason === "string") return true;
  if (nonEmptyString(choice.text)) return true;
  const delta = choice.delta;
  if (!isTable(delta)) return false;
  if (nonEmptyString(delta.content) || nonEmptyString(delta.refusal) || nonEmptyString(delta.reasoning_content)) {
    return true;
  }
  const toolCalls = delta.tool_calls;
  if (isList(toolCalls) && toolCalls.length > 0) return true;
  return isTable(delta.function_call);
}

function streamError(this: void, name: string, data: string, obj: JsonObject | undefined): StreamError {
  const err: StreamError = { event: name, data };
  if (obj === undefined) return err;
  let source: JsonValue | undefined = obj.error;
  if (typeof source === "string") {
    err.message = source;
    return err;
  }
  if (!isTable(source)) {
    const response = obj.response;
    source = isTable(response) && isTable(response.error) ? response.error : obj;
  }
  if (isTable(source)) {
    err.code = asText(source.code);
    err.message = asText(source.message);
    err.type = asText(source.type) === "error" ? undefined : asText(source.type);
  }
  return err;
}

/** One complete event → verdict; sets gate.reason or gate.error. */
function classify(this: void, gate: SseGate, name: string | undefined, data: string): Verdict {
  if (data === "[DONE]") {
    gate.reason = "done";
    return "commit";
  }
  let decoded: JsonValue | undefined;
  if (data !== "") [decoded] = decode(data);
  const obj = isTable(decoded) ? decoded : undefined;
  if (name === "error" || (obj !== undefined && obj.error !== undefined && obj.error !== cjson.jsonNull)) {
    gate.error = streamError("error", data, obj);
    return "fail";
  }
  if (obj === undefined) {
    if (data === "") return "hold";
    gate.reason = "unknown";
    return "commit";
  }
  // "message" is SSE's default event type: it says nothing about the payload.
  const eventType = name !== undefined && name !== "" && name !== "message" ? name : obj.type;
  if (typeof eventType === "string") {
    if (eventType === "error" || eventType === "response.failed") {
      gate.error = streamError(eventType, data, obj);
      return "fail";
    }
    if (HELD_TYPES[eventType] === true) return "hold";
    gate.reason = "content";
    return "commit";
  }
  const choices = obj.choices;
  if (isList(choices)) {
    for (const choice of choices) {
      if (choiceHasContent(choice)) {
        gate.reason = "content";
        return "commit";
      }
    }
  }
  if (isTable(obj.usage)) {
    gate.reason = "content";
    return "commit";
  }
  if (isList(choices) || obj.prompt_filter_results !== undefined) return "hold";
  gate.reason = "unknown";
  return "commit";
}

/** Parses the complete lines of text; keeps a trailing partial line in gate.pending. */
function scan(this: void, gate: SseGate, text: string): Verdict {
  let pos = 1;
  for (;;) {
    const [nl] = find(text, LF, pos, true);
    if (nl === undefined) {
      if (pos <= text.length) gate.pending.push(sub(text, pos));
      return "hold";
    }
    let line = sub(text, pos, nl - 1);
    pos = nl + 1;
    if (line !== "" && byte(line, -1) === CR) line = sub(line, 1, -2);
    if (gate.first_line) {
      gate.first_line = false;
      if (sub(line, 1, 3) === BOM) line = sub(line, 4);
    }
    if (line === "") {
      if (gate.data.length > 0 || gate.event !== undefined) {
        const data = gate.data.join(LF);
        const name = gate.event;
        gate.data = [];
        gate.event = undefined;
        const verdict = classify(gate, name, data);
        if (verdict !== "hold") return verdict;
      }
    } else if (byte(line, 1) !== COLON) {
      const [colon] = find(line, ":", 1, true);
      const field = colon === undefined ? line : sub(line, 1, colon - 1);
      let value = colon === undefined ? "" : sub(line, colon + 1);
      if (byte(value, 1) === 32) value = sub(value, 2);
      if (field === "data") gate.data.push(value);
      else if (field === "event") gate.event = value;
    }
  }
}

function commitHeld(this: void, gate: SseGate): string {
  const bytes = gate.parts.join("");
  gate.parts = [];
  gate.pending = [];
  gate.data = [];
  gate.state = "committed";
  return bytes;
}

/** Cheap, for logging only: a chunk after commit that looks like it carries an error event. */
function looksLikeError(this: void, chunk: string): boolean {
  // Destructure: comparing find()'s multi-return itself would compare a table, always "found".
  const [a] = find(chunk, "event: error", 1, true);
  if (a !== undefined) return true;
  const [b] = find(chunk, 'data: {"error"', 1, true);
  if (b !== undefined) return true;
  const [c] = find(chunk, '"type":"response.failed"', 1, true);
  return c !== undefined;
}

export function feed(
  this: void,
  gate: SseGate,
  chunk: string,
): LuaMultiReturn<["hold"] | ["commit", string] | ["pass", string, boolean] | ["fail", StreamError]> {
  if (gate.state === "committed") return $multi("pass", chunk, looksLikeError(chunk));
  gate.parts.push(chunk);
  // Failed: keep the bytes (release() may still relay them) but parse nothing more.
  if (gate.state === "failed") return $multi("fail", gate.error!);

  gate.held = gate.held + chunk.length;
  const [nl] = find(chunk, LF, 1, true);
  let verdict: Verdict = "hold";
  if (nl === undefined) {
    if (chunk !== "") gate.pending.push(chunk);
  } else {
    let text = chunk;
    if (gate.pending.length > 0) {
      gate.pending.push(chunk);
      text = gate.pending.join("");
      gate.pending = [];
    }
    verdict = scan(gate, text);
  }
  if (verdict === "fail") {
    gate.state = "failed";
    return $multi("fail", gate.error!);
  }
  if (verdict === "commit") return $multi("commit", commitHeld(gate));
  if (gate.held > gate.cap) {
    gate.reason = "cap";
    return $multi("commit", commitHeld(gate));
  }
  return $multi("hold");
}

/**
 * Hands over whatever is held and switches to pass-through: at a clean end of stream while still holding,
 * or to relay an in-stream error that is the request's own fault. Returns "" when nothing is held.
 */
export function release(this: void, gate: SseGate): string {
  if (gate.state === "committed") return "";
  gate.reason = "released";
  return commitHeld(gate);
}

/** Whether the gate has committed (the client has, or is about to get, bytes of this stream). */
export function isCommitted(this: void, gate: SseGate): boolean {
  return gate.state === "committed";
}
