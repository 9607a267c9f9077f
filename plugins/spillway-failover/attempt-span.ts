/**
 * One trace span per attempt (a client span under the request's span), through APISIX's own request-lifecycle
 * tracer (`apisix.tracer`, on when config.yaml has `apisix.tracing: true`, which the renderer sets with telemetry):
 * the opentelemetry plugin exports those spans as children of the request's span. With tracing off, start() hands
 * back APISIX's no-op span: a table lookup per attempt. Hosts without the tracer (the stand-in) get nothing.
 */
import type { OutcomeKind } from "../lib/outcome";

interface TraceSpan {
  set_attributes(this: TraceSpan, ...attributes: unknown[]): void;
  set_status(this: TraceSpan, code: number, message?: string): void;
  finish(this: TraceSpan, ctx: unknown): void;
}

interface Tracer {
  start(this: void, ngxCtx: unknown, name: string, kind: number): TraceSpan;
}

interface Attributes {
  string(this: void, key: string, value: string): unknown;
  int(this: void, key: string, value: number): unknown;
}

/** opentelemetry's span kind CLIENT and status ERROR (opentelemetry-lua trace/span_kind, api/trace/span_status). */
const KIND_CLIENT = 3;
const STATUS_ERROR = 2;

let tracer: Tracer | false | undefined = undefined;
let attributes: Attributes | undefined = undefined;

function load(this: void): Tracer | false {
  const [ok, mod] = pcall(require, "apisix.tracer");
  const [attrOk, attr] = pcall(require, "opentelemetry.attribute");
  if (!ok || !attrOk || type(mod) !== "table" || type(attr) !== "table") return false;
  attributes = attr as Attributes;
  return mod as Tracer;
}

export function startAttemptSpan(this: void, backend: string): TraceSpan | undefined {
  if (tracer === undefined) tracer = load();
  if (tracer === false) return undefined;
  return tracer.start(ngx.ctx, `spillway.attempt ${backend}`, KIND_CLIENT);
}

export function finishAttemptSpan(
  this: void,
  span: TraceSpan | undefined,
  backend: string,
  deployment: string | undefined,
  kind: OutcomeKind,
  status: number | undefined,
): void {
  if (span === undefined || attributes === undefined) return;
  span.set_attributes(
    attributes.string("spillway.backend", backend),
    attributes.string("spillway.deployment", deployment ?? ""),
    attributes.string("spillway.outcome", kind),
    attributes.int("http.response.status_code", status ?? 0),
  );
  if (kind !== "ok" && kind !== "client_error") span.set_status(STATUS_ERROR, kind);
  span.finish(ngx.ctx);
}
