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

export interface AttemptEntry {
  backend: string;
  /** The backend's status; absent when it was not called or did not answer (timeout, connection error). */
  status?: number;
  ms?: number;
  /** ok, throttled, server_error, timeout, connect_error, client_error; cooling(<kind>) or reserve(<figure>) for a skip. */
  reason: string;
}

/** The request's attempts as access-log entries, in order. */
export function attemptEntries(this: void, records: AttemptRecord[]): AttemptEntry[] {
  const entries: AttemptEntry[] = [];
  for (const r of records) {
    let reason: string = r.kind;
    if (r.skipped === true) reason = r.reserve !== undefined ? `reserve(${r.reserve.below})` : `cooling(${r.kind})`;
    entries.push({ backend: r.backend, status: r.status, ms: r.ms, reason });
  }
  return entries;
}
