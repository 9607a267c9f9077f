/**
 * What one attempt against a backend came to, and whether another backend should be tried.
 * Portable TS (Lua and JS alike).
 *
 * All of 500-599 is "server_error", including 501/505: APISIX's `http_5xx` fallback retries the whole range
 * anyway (apisix-ai-contract.md §2.3), and a classification that disagreed with the host would make our
 * cooldown and exhaustion answers describe a different request than the one that happened.
 * 408 and every other 4xx are "client_error": relayed as they are, never a failover (APISIX cannot retry them).
 */
export type OutcomeKind = "ok" | "throttled" | "server_error" | "timeout" | "connect_error" | "client_error";

/**
 * A transport error (lua-resty-http / ngx cosocket / APISIX handle_error text) → "timeout" when it mentions
 * "timeout" or "timed out" (the same test as APISIX's ai-transport/http.lua, so both call it a 504), else
 * "connect_error" (refused, reset, closed, no route to host, handshake failures, DNS...).
 */
export function classifyTransportError(this: void, err: string): "timeout" | "connect_error" {
  const lower = err.toLowerCase();
  if (lower.indexOf("timeout") >= 0 || lower.indexOf("timed out") >= 0) return "timeout";
  return "connect_error";
}

/** An HTTP status → kind. Statuses outside 100-599 (e.g. 0, "no response") count as connection errors. */
export function classifyStatus(this: void, status: number): OutcomeKind {
  if (status === 429) return "throttled";
  if (status >= 500 && status <= 599) return "server_error";
  if (status >= 400 && status <= 499) return "client_error";
  if (status >= 100 && status <= 399) return "ok";
  return "connect_error";
}

/**
 * One attempt → kind. A transport error wins over a status: a read that failed after the status line (e.g. a
 * stream cut before its first content event) is a network failure, not the status it started with.
 */
export function classifyOutcome(this: void, status: number | undefined, err: string | undefined): OutcomeKind {
  if (err !== undefined && err !== "") return classifyTransportError(err);
  if (status === undefined) return "connect_error";
  return classifyStatus(status);
}

const THROTTLE_CODES: { [code: string]: true | undefined } = {
  "429": true,
  rate_limit_exceeded: true,
  too_many_requests: true,
  TooManyRequests: true,
  RateLimitExceeded: true,
};

const SERVER_CODES: { [code: string]: true | undefined } = {
  "500": true, "502": true, "503": true, "504": true,
  server_error: true,
  internal_error: true,
  internal_server_error: true,
  service_unavailable: true,
  server_overloaded: true,
  timeout: true,
  InternalServerError: true,
  ServiceUnavailable: true,
};

/**
 * An error event seen in a stream before any content (sse-gate "fail"): its code/type → kind.
 * Throttle codes → "throttled" and server codes or type "server_error" → "server_error" (both fail over:
 * nothing reached the client yet). Anything else is the request's own fault (content filter, invalid prompt,
 * context length...): "client_error", relay it as the backend sent it.
 */
export function classifyStreamError(this: void, code: string | undefined, errorType: string | undefined): OutcomeKind {
  if (code !== undefined && THROTTLE_CODES[code] === true) return "throttled";
  if (code !== undefined && SERVER_CODES[code] === true) return "server_error";
  if (errorType === "rate_limit_exceeded") return "throttled";
  if (errorType === "server_error") return "server_error";
  return "client_error";
}

/** Whether another backend should be tried after this kind of outcome. */
export function shouldFailover(this: void, kind: OutcomeKind): boolean {
  return kind === "throttled" || kind === "server_error" || kind === "timeout" || kind === "connect_error";
}

/** Whether this kind counts toward a backend's consecutive-error threshold (a 429 does not: it is alive). */
export function isBackendFailure(this: void, kind: OutcomeKind): boolean {
  return kind === "server_error" || kind === "timeout" || kind === "connect_error";
}
