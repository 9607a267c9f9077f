/**
 * The last event of a stream that broke after it was committed (sse-gate.ts): the status and the first bytes
 * are already with the client, so the failure can only be told in-band, as a well-formed SSE event in the
 * shape the OpenAI/Azure SDKs raise on. Lua only (cjson escapes the strings).
 *
 *   chat:      data: {"error":{"message":…,"type":…,"param":null,"code":…}}\n\n
 *   responses: event: error\ndata: {"type":"error","code":…,"message":…,"param":null,"sequence_number":N}\n\n
 *
 * Key order is fixed (written by hand, not by cjson's table walk), so the bytes are reproducible.
 */
import * as cjson from "cjson.safe";

export type StreamProtocol = "chat" | "responses";

const encode = cjson.encode;

/** A JSON string literal; cjson never fails on a string, "" is only a guard. */
function quoted(this: void, s: string): string {
  const [json] = encode(s);
  return json !== undefined ? json : '""';
}

export function chatStreamError(this: void, message: string, errorType: string, code: string): string {
  return (
    'data: {"error":{"message":' + quoted(message) + ',"type":' + quoted(errorType) +
    ',"param":null,"code":' + quoted(code) + "}}\n\n"
  );
}

/** sequenceNumber: one more than the last event's, when the caller tracked it; omitted otherwise. */
export function responsesStreamError(this: void, message: string, code: string, sequenceNumber?: number): string {
  const seq = sequenceNumber !== undefined ? ',"sequence_number":' + string.format("%d", sequenceNumber) : "";
  return (
    'event: error\ndata: {"type":"error","code":' + quoted(code) + ',"message":' + quoted(message) +
    ',"param":null' + seq + "}\n\n"
  );
}

export function formatStreamError(
  this: void,
  protocol: StreamProtocol,
  message: string,
  errorType: string,
  code: string,
  sequenceNumber?: number,
): string {
  if (protocol === "responses") return responsesStreamError(message, code, sequenceNumber);
  return chatStreamError(message, errorType, code);
}
