/**
 * The fields Spillway adds to the access-log line (one JSON line per request; renderer/config-yaml.ts names them):
 * what operation the client asked for, and every attempt with its backend, status, time and reason. Portable TS.
 * Nothing here carries a key, a body or a client-chosen string beyond the path's shape.
 */
import type { AttemptRecord } from "./exhaustion";

/** The client's operation, from the path (query excluded) and method: a small fixed set. */
export function operationOf(this: void, method: string, path: string): string {
  const queryAt = path.indexOf("?");
  const p = queryAt < 0 ? path : path.slice(0, queryAt);
  if (p.endsWith("/chat/completions")) return "chat";
  if (p.endsWith("/completions")) return "completions";
  if (p.endsWith("/embeddings")) return "embeddings";
  if (p.endsWith("/responses")) return "responses";
  if (p.endsWith("/responses/compact")) return "responses.compact";
  if (p.endsWith("/cancel")) return "responses.cancel";
  if (p.endsWith("/input_items")) return "responses.input_items";
  if (p.indexOf("/responses/") >= 0) return method === "DELETE" ? "responses.delete" : "responses.get";
  if (p.endsWith("/models") || p.indexOf("/models/") >= 0) return "models";
  return "other";
}

/** Whole numbers below this have their text made once (statuses, milliseconds, attempt counts). */
const SMALL_INTS = 4096;
const intTexts: (string | undefined)[] = [];

/**
 * `n` as text, for the whole numbers every request writes (a status, a few milliseconds, an attempt count):
 * LuaJIT formats each number it turns into a string with %.14g, which is slow for what is always a small integer.
 */
export function intText(this: void, n: number): string {
  if (n >= 0 && n < SMALL_INTS && Math.floor(n) === n) {
    let text = intTexts[n];
    if (text === undefined) {
      text = `${n}`;
      intTexts[n] = text;
    }
    return text;
  }
  return `${n}`;
}

const HEX = "0123456789abcdef";

/** A JSON string literal of `text` (quotes, backslashes and control characters escaped; other characters as they are). */
export function jsonQuoted(this: void, text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32 && c !== 34 && c !== 92) continue;
    out = out + text.slice(from, i);
    if (c === 34) out = out + "\\\"";
    else if (c === 92) out = out + "\\\\";
    else out = out + "\\u00" + HEX.charAt(Math.floor(c / 16)) + HEX.charAt(c % 16);
    from = i + 1;
  }
  return "\"" + out + text.slice(from) + "\"";
}

/** Backend names as JSON strings, made once per name (names come from the configuration: a handful). */
let quotedNames: { [name: string]: string | undefined } = {};
let quotedCount = 0;
const MAX_QUOTED = 256;

function quotedName(this: void, name: string): string {
  let quoted = quotedNames[name];
  if (quoted === undefined) {
    if (quotedCount >= MAX_QUOTED) {
      quotedNames = {};
      quotedCount = 0;
    }
    quoted = jsonQuoted(name);
    quotedNames[name] = quoted;
    quotedCount++;
  }
  return quoted;
}

const RESERVE_REASON: { [below: string]: string | undefined } = { tokens: "reserve(tokens)", requests: "reserve(requests)" };
/** cooling(<kind>) per outcome kind (a fixed set), made once. */
const COOLING_REASON: { [kind: string]: string | undefined } = {};

function coolingReason(this: void, kind: string): string {
  let reason = COOLING_REASON[kind];
  if (reason === undefined) {
    reason = `cooling(${kind})`;
    COOLING_REASON[kind] = reason;
  }
  return reason;
}

/**
 * The request's attempts, in order, as the access log's `attempts` field: a JSON array of
 * `{"backend", "status" (the backend's status; absent when it was not called or did not answer), "ms", "reason"}`,
 * reason one of ok, throttled, server_error, timeout, connect_error, client_error, or cooling(<kind>) /
 * reserve(<tokens|requests>) for a backend passed over. Written by concatenation: this runs for every request.
 */
export function attemptsField(this: void, records: AttemptRecord[]): string {
  const n = records.length;
  if (n === 0) return "[]";
  // One concatenation per entry, its opening and closing included.
  let out = "";
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    let reason: string = r.kind;
    if (r.skipped === true) reason = r.reserve !== undefined ? RESERVE_REASON[r.reserve.below]! : coolingReason(r.kind);
    const open = i === 0 ? "[{\"backend\":" : ",{\"backend\":";
    const close = i === n - 1 ? "\"}]" : "\"}";
    const name = quotedName(r.backend);
    // Nested to the right: TSTL keeps `a + b + c` left-nested, one intermediate string per `+` in Lua.
    if (r.status !== undefined && r.ms !== undefined) {
      out = out + (open + (name + (",\"status\":" + (intText(r.status) + (",\"ms\":" + (intText(r.ms) + (",\"reason\":\"" + (reason + close))))))));
    } else if (r.status !== undefined) {
      out = out + (open + (name + (",\"status\":" + (intText(r.status) + (",\"reason\":\"" + (reason + close))))));
    } else if (r.ms !== undefined) {
      out = out + (open + (name + (",\"ms\":" + (intText(r.ms) + (",\"reason\":\"" + (reason + close))))));
    } else {
      out = out + (open + (name + (",\"reason\":\"" + (reason + close))));
    }
  }
  return out;
}
