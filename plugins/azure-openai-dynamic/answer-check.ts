/**
 * A backend's 2xx that is not an answer, found before any of it reaches the client, so that it fails over like a 5xx
 * (stream.ts failBeforeCommit: the attempt counts as a server error, the connection is closed, ai-proxy-multi falls
 * back). 3.18's base.parse_response relays a body it cannot decode as it is (a warn line, the raw bytes as a 200),
 * and a streamed request whose backend answers a plain body gets that body instead of an event stream.
 *
 * Cheap: the body is read here once, in place of base's own read, and handed to base.parse_response as it was
 * (heldChunk/heldBody); base's decode stays the only one. The check is a look at the first and last non-blank
 * bytes: a JSON answer is an object, and a body cut short ends inside it. One that is broken yet still ends in `}`
 * (cut right after a closing brace) gets past this and is relayed by base; the provider then counts it as a failure.
 */
import * as core from "apisix.core";
import { classifyTransportError } from "../lib/outcome";
import type { RequestState } from "../spillway-failover/state";
import { failBeforeCommit } from "./stream";

const byte = string.byte;
const concat = table.concat;

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
/** JSON's whitespace: space, tab, LF, CR. */
const BLANK: { [b: number]: true | undefined } = { [32]: true, [9]: true, [10]: true, [13]: true };

/**
 * The body this module read, for base.parse_response to read again. Set right before base runs and taken by its
 * first read; base does no I/O in between (our readers do none either), so no other request can run on this worker
 * meanwhile and a module-level slot is safe (cleared again after base returns, whatever it did).
 */
let held: string | undefined = undefined;

function heldChunk(this: void): LuaMultiReturn<[string | undefined]> {
  const out = held;
  held = undefined;
  return $multi(out);
}

function heldBody(this: AiHttpResponse): LuaMultiReturn<[string]> {
  const out = held ?? "";
  held = undefined;
  return $multi(out);
}

export function forgetHeld(this: void): void {
  held = undefined;
}

/** First and last non-blank bytes are `{` and `}`. */
function objectShaped(this: void, body: string): boolean {
  let first = 1;
  let last = body.length;
  while (first <= last && BLANK[byte(body, first)] === true) first++;
  while (last > first && BLANK[byte(body, last)] === true) last--;
  return last > first && byte(body, first) === OPEN_BRACE && byte(body, last) === CLOSE_BRACE;
}

/** The whole body; undefined plus why when it could not be read, or when it is over `maxBytes` (base's cap). */
function readAll(this: void, reader: NonNullable<AiHttpResponse["body_reader"]>, maxBytes: number | undefined):
  LuaMultiReturn<[string] | [undefined, string, boolean]> {
  const parts: string[] = [];
  let size = 0;
  while (true) {
    const [chunk, err] = reader();
    if (err !== undefined) return $multi(undefined, err, false);
    // Most answers arrive in one chunk: no copy then.
    if (chunk === undefined) return $multi(parts.length === 1 ? parts[0]! : concat(parts));
    size += chunk.length;
    if (maxBytes !== undefined && size > maxBytes) return $multi(undefined, `body over max_response_bytes ${maxBytes}`, true);
    parts.push(chunk);
  }
}

/**
 * For a 2xx answer, before base.parse_response: a status to fail over with, or nothing, and then base reads the same
 * body from the slot above.
 */
export function unusableAnswer(
  this: void,
  ctx: ApisixCtx,
  state: RequestState | undefined,
  res: AiHttpResponse,
  conf: AiProxyConf,
): number | undefined {
  if (ctx.var["request_type"] === "ai_stream") {
    // base took it for a plain answer: its Content-Type is not an event stream, so no stream is coming.
    const [status] = failBeforeCommit(ctx, state, res, "server_error", "a streamed request was answered without an event stream");
    return status;
  }
  const reader = res.body_reader;
  if (reader === undefined) return undefined;
  const maxBytes = conf.max_response_bytes;
  const length = tonumber(res.headers.get("Content-Length") as string | undefined);
  // base refuses it from the header alone, without reading.
  if (maxBytes !== undefined && length !== undefined && length > maxBytes) return undefined;
  const [body, err, tooLarge] = readAll(reader, maxBytes);
  if (body === undefined) {
    if (tooLarge === true) {
      // What base does at its cap (a 502 that falls back), without counting it against the backend.
      core.log.warn("aborting AI response: ", err);
      res._httpc?.close();
      res._httpc = undefined;
      return 502;
    }
    const [status] = failBeforeCommit(ctx, state, res, classifyTransportError(err!), `reading the answer failed: ${err}`);
    return status;
  }
  if (!objectShaped(body)) {
    const [status] = failBeforeCommit(ctx, state, res, "server_error", "the 200 answer is not a JSON object");
    return status;
  }
  held = body;
  res.body_reader = heldChunk;
  res.read_body = heldBody;
  return undefined;
}
