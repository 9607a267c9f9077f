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
/** What APISIX's no-op span answers set_attributes with: a span that records nothing gets no attributes built. */
let noopSetAttributes: unknown = undefined;

interface LocalConf {
  apisix?: { tracing?: unknown };
}

/**
 * The tracer only when config.yaml turns it on (the same test apisix/tracer.lua makes once): with tracing off this
 * costs one comparison per attempt, not ngx.ctx look-ups and eight attribute tables for a span that drops them.
 */
function load(this: void): Tracer | false {
  const [confOk, confModule] = pcall(require, "apisix.core.config_local");
  const localConf = confOk ? (confModule as { local_conf(this: void): LocalConf | undefined }).local_conf() : undefined;
  if (localConf?.apisix?.tracing !== true) return false;
  const [ok, mod] = pcall(require, "apisix.tracer");
  const [attrOk, attr] = pcall(require, "opentelemetry.attribute");
  if (!ok || !attrOk || type(mod) !== "table" || type(attr) !== "table") return false;
  const [noopOk, noop] = pcall(require, "apisix.utils.noop_span");
  if (noopOk && type(noop) === "table") noopSetAttributes = (noop as { set_attributes?: unknown }).set_attributes;
  attributes = attr as Attributes;
  return mod as Tracer;
}

export function startAttemptSpan(this: void, backend: string): TraceSpan | undefined {
  if (tracer === undefined) tracer = load();
  if (tracer === false) return undefined;
  const span = tracer.start(ngx.ctx, `spillway.attempt ${backend}`, KIND_CLIENT);
  // Sampled out (or the request's tracing skipped): APISIX hands back its shared no-op span.
  return span.set_attributes === noopSetAttributes ? undefined : span;
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
