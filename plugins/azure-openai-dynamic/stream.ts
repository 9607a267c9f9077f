/**
 * Streaming around base.parse_streaming_response (apisix-ai-contract.md §1.4, §2.7, §7 "streaming preamble
 * holding"): hold Azure's preamble until the first content event, so that a stream that fails before it can
 * still fail over; and end a stream that breaks after commit with a well-formed SSE error event instead of
 * letting APISIX call another backend onto a started response.
 */
import { replayReader } from "../lib/replay-reader";
import * as core from "apisix.core";
import { classifyStreamError, classifyTransportError } from "../lib/outcome";
import type { OutcomeKind } from "../lib/outcome";
import { feed, newGate, release } from "../lib/sse-gate";
import type { StreamError } from "../lib/sse-gate";
import { formatStreamError } from "../lib/stream-error";
import { reviseLastAttempt } from "../spillway-failover/attempts";
import { dropPickerIfAllTried } from "../spillway-failover/picker-filter";
import type { RequestState } from "../spillway-failover/state";

const ngxNow = ngx.now;

/** The status that makes ai-proxy-multi fall back (http_429 / http_5xx) for a failure before commit. */
function fallbackStatus(this: void, kind: OutcomeKind): number {
  if (kind === "throttled") return 429;
  if (kind === "timeout") return 504;
  return 502;
}

function closeUpstream(this: void, res: AiHttpResponse): void {
  if (res._httpc !== undefined) {
    res._httpc.close();
    res._httpc = undefined;
  }
}


/**
 * The attempt's 200 failed before anything reached the client: count it against the backend, close it, and hand
 * ai-proxy-multi a status it falls back on. Also used for a 200 that is not the answer asked for (answer-check.ts).
 */
export function failBeforeCommit(
  this: void,
  ctx: ApisixCtx,
  state: RequestState | undefined,
  res: AiHttpResponse,
  kind: OutcomeKind,
  why: string,
): LuaMultiReturn<[number]> {
  core.log.warn("azure-openai-dynamic: ", ctx.picked_ai_instance_name, ": ", why, "; nothing reached the client, ",
    "failing over");
  if (state !== undefined) {
    reviseLastAttempt(state, kind, ngxNow() * 1000);
    dropPickerIfAllTried(ctx, state);
  }
  closeUpstream(res);
  return $multi(fallbackStatus(kind));
}

/**
 * Reads until the stream commits (first content event), fails, or ends. On commit res.body_reader is replaced
 * so that base.parse_streaming_response sees the exact bytes, held ones first. Returns a status only when the
 * attempt failed before anything reached the client; otherwise (nil, the held bytes).
 *
 * A stream that ends while still held fails over too: a complete answer always commits before its end ([DONE], a
 * finish_reason or usage chunk, response.completed), so one that ends without any of them was cut short. (Relaying
 * it also read the finished upstream reader again, whose error then appended an error event to the stream.)
 */
export function holdPreamble(
  this: void,
  ctx: ApisixCtx,
  state: RequestState | undefined,
  res: AiHttpResponse,
): LuaMultiReturn<[number] | [undefined, string]> {
  const upstream = res.body_reader;
  if (upstream === undefined) return $multi(undefined, "");
  const gate = newGate();
  while (true) {
    const [chunk, err] = upstream();
    if (err !== undefined) {
      return failBeforeCommit(ctx, state, res, classifyTransportError(err), `the stream failed before its first content: ${err}`);
    }
    if (chunk === undefined) return failBeforeCommit(ctx, state, res, "server_error", "the stream ended before its first content");
    const [verdict, detail] = feed(gate, chunk);
    if (verdict === "commit") {
      res.body_reader = replayReader(detail as string, upstream);
      return $multi(undefined, detail as string);
    }
    if (verdict === "fail") {
      const streamError = detail as StreamError;
      const kind = classifyStreamError(streamError.code, streamError.type);
      if (kind === "client_error") {
        // The request's own fault: another backend would say the same, so relay it.
        const held = release(gate);
        res.body_reader = replayReader(held, upstream);
        return $multi(undefined, held);
      }
      return failBeforeCommit(ctx, state, res, kind,
        `the stream carried ${streamError.event} ${streamError.code ?? ""} before its first content`);
    }
  }
}

/**
 * base.parse_streaming_response returned an error code after bytes went out (§2.7). End the stream with an
 * error event in the client's protocol, unless the client itself went away.
 */
export function streamBrokeAfterCommit(this: void, ctx: ApisixCtx, code: number): void {
  core.log.warn("azure-openai-dynamic: stream from ", ctx.picked_ai_instance_name, " broke after output was sent (",
    code, "); ending it with an error event, no failover");
  // base sets "read_error" or a cap name too; only a client that went away cannot be told anything.
  if (ctx.ai_stream_aborted === "client_disconnect") return;
  const protocol = ctx.ai_target_protocol === "openai-responses" ? "responses" : "chat";
  const event = formatStreamError(
    protocol,
    "The upstream stream ended unexpectedly. The response is incomplete; retry the request.",
    "server_error",
    code === 504 ? "upstream_timeout" : "upstream_stream_broken",
  );
  ngx.print(event);
  ngx.flush(true);
}
